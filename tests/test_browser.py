"""The built site in a real browser with no network: its math typesets from the MathJax the site carries.

The session's one build of the project's docs/ (conftest's ``sites``), copied out of the repository first
(so it also shows that the docs build from any directory), with the project's conf.py; then the pages opened
from ``file://`` in headless Chromium, every request other than ``file:`` aborted."""

import re
import shutil
from pathlib import Path

import pytest
from browser import open_page
from building import sphinx_build
from figure_texts import defects, figure_texts
from fitting import REPORT, open_fitted

pytestmark = pytest.mark.slow  # every test drives a browser over the built site

RAW_TEX = ("\\frac", "\\underline", "\\partial", "\\mathcal", "\\(", "\\[", "\\begin{")


@pytest.fixture(scope="session")
def site(sites):
    """The solution site, built once per session by conftest's ``sites`` from a copy of docs/ in a temporary
    directory: its output directory."""
    return sites[0]


def test_docs_build_from_a_copy(site):
    html = (site / "usage.html").read_text(encoding="utf-8")
    assert "highlight-toml" in html and "layers" in html and "W_a" in html  # the handout's TOML, shown


def test_no_page_loads_anything_from_another_host(site):
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)[^>]*?(?:src|href)="(?:https?:)?//[^"]*"', text)
        assert not remote, (html.name, remote)
        assert "cdn.jsdelivr" not in text and "mathjax@" not in text, html.name
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def _typeset(page, url: str):
    page.goto(url)
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000)
    page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready).then(() => true)")


@pytest.fixture(scope="module")
def opened(browser, site):
    """``opened(name, width=1280)``: the site's page ``name`` opened at ``width`` px once per module (its own
    context, nothing but ``file:`` reachable), typeset by MathJax with its fonts, the fitting script run; the
    tests below only read these pages, so each (page, width) is loaded once rather than once per test."""
    pages = {}

    def get(name: str, width: int = 1280):
        if (name, width) not in pages:
            pages[name, width] = page = open_page(browser, width)
            page.console = []  # what the page's scripts said, as (type, text)
            page.on("console", lambda message: page.console.append((message.type, message.text)))
            open_fitted(page, (site / f"{name}.html").as_uri(), width)
        return pages[name, width]

    yield get
    for page in pages.values():
        page.context.close()


@pytest.mark.parametrize("name", ["handout", "symmetry"])
def test_math_is_typeset_with_no_network(opened, name):
    page = opened(name)
    math = page.locator("span.math, div.math").count()
    typeset = page.locator("span.math mjx-container, div.math mjx-container").count()
    assert math > 20 and typeset == math, (math, typeset)
    text = page.inner_text("article")
    leaked = [tex for tex in RAW_TEX if tex in text]
    assert not leaked, leaked
    assert page.locator("mjx-merror").count() == 0  # no TeX error in any formula
    assert page.blocked == [], page.blocked  # nothing asked of another host
    assert page.failed == [], page.failed  # every MathJax file and font it asked for was there
    fonts = page.evaluate("() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any(f.startswith("MJXTEX") for f in fonts), fonts  # MathJax's own fonts, from file://


def test_theorems_and_proofs_are_set_apart(opened):
    page = opened("symmetry")
    titles = page.locator("div.admonition.theorem > .admonition-title").all_inner_texts()
    assert titles[0] == "Theorem 1 (Hidden-unit symmetry)" and len(titles) == 3, titles
    assert page.locator("div.admonition.lemma > .admonition-title").all_inner_texts() == ["Lemma 1 (Softmax lemma)"]
    proofs = page.locator("div.proof")
    assert proofs.count() == 4 and proofs.first.inner_text().startswith("Proof.")
    end = page.evaluate("() => getComputedStyle(document.querySelector('div.proof'), '::after').content")
    assert "∎" in end or "\\220E" in end, end  # the site's CSS (docs/_static) was found and applied


def test_the_harness_blocks_the_network(page):
    page.set_content('<img src="https://example.invalid/x.png"><script src="http://127.0.0.1:9/x.js"></script>')
    page.wait_for_timeout(200)
    assert any("example.invalid" in url for url in page.blocked), page.blocked
    assert any("127.0.0.1" in url for url in page.blocked), page.blocked


def test_worksheet_blanks_are_typeset(page, tmp_path):
    """A small worksheet build (the test root, with the offline MathJax): its blanks are math, not TeX."""
    src = tmp_path / "src"
    shutil.copytree(Path(__file__).parent / "roots" / "test-deriv", src)
    with open(src / "conf.py", "a") as conf:
        conf.write('\nextensions.append("derivations.sphinx.offline_math")\nderivations_worksheet = True\n')
    result = sphinx_build("-W", "--keep-going", "-q", src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "\\underline" in html  # the blanks are there, as TeX, for MathJax
    _typeset(page, (tmp_path / "out" / "index.html").as_uri())
    assert page.locator("mjx-container").count() == page.locator("span.math, div.math").count() > 5
    text = page.inner_text("body")
    assert not [tex for tex in RAW_TEX if tex in text]
    assert page.locator("mjx-merror").count() == 0
    assert page.blocked == [] and page.failed == [], (page.blocked, page.failed)


@pytest.mark.parametrize("name", ["handout", "solution", "symmetry", "gradients"])
def test_nothing_is_clipped_at_420_px(opened, name):
    """On a phone-sized screen every display equation fits or scrolls inside its own box, and the page
    itself never grows sideways."""
    report = opened(name, 420).evaluate("""() => {
        const bad = [];
        for (const m of document.querySelectorAll('mjx-container[display="true"]')) {
            if (m.scrollWidth <= m.clientWidth + 1) continue;  // it fits
            let e = m, scrolls = false;
            while (e && e !== document.body) {
                const s = getComputedStyle(e);
                if (s.overflowX === 'auto' || s.overflowX === 'scroll') { scrolls = true; break; }
                e = e.parentElement;
            }
            if (!scrolls) bad.push(m.textContent.slice(0, 40));
        }
        return {bad, page: document.documentElement.scrollWidth, displays: document.querySelectorAll('mjx-container[display="true"]').length};
    }""")
    assert report["displays"] > 0
    assert report["bad"] == [], report
    assert report["page"] <= 420, report


# The pages, and at 1280 px how many displays may still scroll: those past the smallest scale, at most (the
# gradients page's closed form in the weights, 7800 px wide at full size).
WIDE = {"handout": 0, "solution": 0, "symmetry": 0, "gradients": 1}


@pytest.mark.parametrize("width", [1280, 420])
@pytest.mark.parametrize("name", sorted(WIDE))
def test_no_display_runs_past_the_content_column(opened, name, width):
    """Every display equation stays inside the content column: scaled down to fit (at 1280 px, all but the
    widest fit whole), or scrolling inside its own box."""
    report = opened(name, width).evaluate(REPORT)
    assert report["displays"] > 0 and report["fitted"], report
    assert report["past"] == [], report
    if width == 1280:
        assert report["scrolling"] <= WIDE[name], report


def test_theorem_boxes_typeset_their_formulas(site):
    """A theorem's statement and assumptions name quantities as math (MathJax typesets them), not as the text
    notation's ASCII."""
    html = (site / "symmetry.html").read_text(encoding="utf-8")
    assert "∂ℒ/∂w^a_ij" not in html and "W_a[i,j]" not in html
    assert r'equal gradients <span class="math notranslate nohighlight">\(\frac{\partial\mathcal{L}}{\partial w^{a}_{ij}}\)' in html
    assert r'<span class="math notranslate nohighlight">\(W_{a}[i,j] = a_{j}\)</span>' in html


# The solution site's pages with network diagrams, and how many each has (so a page that lost its diagrams fails).
FIGURES = {"handout": 3, "solution": 4, "gradients": 2, "mazur": 2, "mazur-sheet": 4, "minibatch": 3, "two-layers": 5}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_figure_text_is_clipped_or_overlaps_another(opened, name):
    """Every caption, node name and edge label of every diagram lies inside the diagram's viewBox and clear of
    every other text, as Chromium lays them out with its own fonts."""
    report = figure_texts(opened(name))
    assert len(report) == FIGURES[name] and all(fig["texts"] > 15 for fig in report), report
    assert defects(report) == [], defects(report)


@pytest.mark.parametrize("name", ["handout", "solution", "symmetry"])
def test_no_script_reports_an_error_or_a_warning(opened, name):
    """The theme's, MathJax's and the site's own scripts run without a console error or warning (the theme once
    said "Got invalid theme mode" on every page: no default mode was set)."""
    page = opened(name)
    said = [(kind, text) for kind, text in page.console if kind in ("error", "warning")]
    assert said == [], said
