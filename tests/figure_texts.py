"""Does every text of a page's network diagrams lie inside its diagram and clear of every other text? (Shared
by the browser tests of the built site and of the diagrams themselves.)"""

# For every derivations-network SVG on the page: each text's box as Chromium lays it out (its font's ascent and
# descent, its sub- and superscripts included), in the SVG's own units; the texts that reach past the viewBox
# and the pairs whose boxes overlap.
TEXTS = """() => {
    const out = [];
    for (const svg of document.querySelectorAll('svg.derivations-network')) {
        const vb = svg.viewBox.baseVal;
        const boxes = [...svg.querySelectorAll('text')].map(t => {
            const b = t.getBBox();
            return {text: t.textContent, x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height};
        });
        const clipped = boxes.filter(b => b.x0 < vb.x || b.y0 < vb.y || b.x1 > vb.x + vb.width || b.y1 > vb.y + vb.height)
            .map(b => `${b.text} [${b.x0.toFixed(1)}, ${b.y0.toFixed(1)}, ${b.x1.toFixed(1)}, ${b.y1.toFixed(1)}]`);
        const overlaps = [];
        for (let i = 0; i < boxes.length; i++)
            for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i], b = boxes[j];
                if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) overlaps.push(`${a.text} / ${b.text}`);
            }
        out.push({figure: svg.getAttribute('aria-label'), texts: boxes.length, clipped, overlaps});
    }
    return out;
}"""


def figure_texts(page) -> list:
    """The report of :data:`TEXTS` for the page open in ``page`` (fonts loaded first): one entry a diagram."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    return page.evaluate(TEXTS)


def defects(report: list) -> list:
    """The diagrams of ``report`` with a clipped or overlapping text."""
    return [fig for fig in report if fig["clipped"] or fig["overlaps"]]
