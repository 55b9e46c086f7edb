"""Do a built page's display equations stay inside its content column? (Shared by the browser tests of the
solution site and of the worksheet site.)"""

# For every display: the right edge of what is seen of it (itself, or the box that scrolls it sideways)
# against the content column's; and how many displays still need a scroll bar.
REPORT = """() => {
    const column = document.querySelector('article.bd-article') || document.body;
    const right = column.getBoundingClientRect().right + 1;
    const past = [];
    let scrolling = 0;
    const displays = document.querySelectorAll('mjx-container[display="true"]');
    for (const m of displays) {
        let e = m, box = null;
        while (e && e !== column) {
            const x = getComputedStyle(e).overflowX;
            if (x === 'auto' || x === 'scroll' || x === 'hidden') { box = e; break; }
            e = e.parentElement;
        }
        const seen = box ? box.getBoundingClientRect().right : m.getBoundingClientRect().left + m.scrollWidth;
        if (seen > right) past.push(m.textContent.slice(0, 40) + ' ends at ' + Math.round(seen) + ' > ' + Math.round(right));
        if (m.scrollWidth > m.clientWidth + 1) scrolling++;
    }
    return {past, scrolling, displays: displays.length, fitted: document.documentElement.dataset.derivationsFitted === '1'};
}"""


def open_fitted(page, url: str, width: int) -> None:
    """Open ``url`` at ``width`` px, wait for MathJax, its fonts and the site's fitting script."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url)
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000)
    page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready)")
    page.wait_for_function("() => document.documentElement.dataset.derivationsFitted === '1'", timeout=15000)


def displays_report(page, url: str, width: int) -> dict:
    """Open ``url`` at ``width`` px, wait for MathJax and the site's fitting script, report (see REPORT)."""
    open_fitted(page, url, width)
    return page.evaluate(REPORT)
