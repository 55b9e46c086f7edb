"""The worksheet build leaks no answer: every file it writes is searched for every derived value of the
handout, in each spelling; its handout page has at least the paper's 51 blanks; the solution build fills them.

The paper handout gives some numbers that are also derived (L in Step 3 equals H; x_1 = 0.9 and ReLU'(H_1) = 1
in the green path): those are allowed on the worksheet, as on the paper. Theme assets under ``_static`` are
not the problem's: they are checked to be byte-identical to the solution build's, so they can carry no answer.
The students' build includes the self-check page (``-t selfcheck``): its formulas' coefficients (``-1/2*v[23]``)
are code, not values, and are told apart by the ``*`` that follows them.
"""

import filecmp
import json
import re
from pathlib import Path

import pytest
from fitting import displays_report
from sympy import Rational, latex

from derivations import evaluate, load_problem
from derivations.notation.printing import decimal_text
from derivations.teaching.handout import layout

pytestmark = pytest.mark.slow  # the built sites, and a browser

ROOT = Path(__file__).resolve().parents[1]


OTHER_PAGES = ("mazur-sheet", "two-layers", "minibatch", "circuit-sheet", "neuron-sheet")  # the site's other worksheets


def spellings(v) -> set:
    """Every way a value can be written: exact decimal (both minus signs), fraction, LaTeX fraction."""
    v = Rational(v)
    out = set()
    d = decimal_text(v)
    if d is not None:
        out |= {d, d.replace("-", "−")}
    if v.q != 1:
        out |= {f"{v.p}/{v.q}", f"{v.p}/{v.q}".replace("-", "−"), latex(v), latex(v).replace(" ", "")}
    return out


def forbidden() -> set:
    """The derived values of the handout (every forward and backward quantity, every gradient, every path
    product of the three asked weights), minus what the paper handout itself gives (x, y, the weights, L in
    Step 3, ReLU'(H_1) = 1) and the trivial 0 and 1."""
    values = evaluate(load_problem())
    p = values.problem
    given = set(p.x) | set(p.y) | set(p.W_a) | set(p.W_b) | set(values.forward["L"]) | {Rational(0), Rational(1)}
    derived = set(values.forward["H"]) | set(values.forward["O"]) | set(values.forward["Y"]) | {values.forward["loss"]}
    for key, vec in values.backward.items():
        derived |= set(v for row in vec for v in (row if isinstance(row, list) else [row]))
    derived |= {v for m in values.gradients.values() for v in m}
    for name in ("w_b11", "w_b21", "w_a11"):
        derived |= {values.value(pa.product) for pa in values.derivation.paths(name)}
    return {sp for v in derived if v.is_Rational and v not in given for sp in spellings(v)}


def files(site: Path):
    for path in sorted(site.rglob("*")):
        if path.is_file() and "_static" not in path.parts and path.name != ".buildinfo":
            yield path


def text_of(path: Path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return path.read_bytes().decode("utf-8", errors="replace")


def test_handout_layout_has_the_papers_blanks():
    assert layout(evaluate(load_problem())).blanks() >= 51


def test_worksheet_build_contains_no_derived_value(sites):
    solution, worksheet = sites
    bad = forbidden()
    assert {"0.0375", "3/80", r"\frac{3}{80}", "0.25", "0.06", "−0.5"} <= bad  # the search can find something
    leaks = []
    handout_pdfs = f"_pdf/{layout(evaluate(load_problem())).problem_id}"
    for path in files(worksheet):
        if path.stem.split(".")[0] in OTHER_PAGES or ("_pdf" in path.parts and handout_pdfs not in path.as_posix()):
            continue  # another problem's page and PDFs: tests/test_pages.py searches them for their own values
        text = text_of(path)
        for spelling in bad:
            for m in re.finditer(re.escape(spelling), text):
                before, after = text[m.start() - 1: m.start()], text[m.end(): m.end() + 1]
                if after == "*":  # a coefficient in the self-check page's formulas (-1/2*v[23]): code, not a value
                    continue
                if not (before.isdigit() or before == ".") and not (after.isdigit()):
                    leaks.append(f"{path.relative_to(worksheet)}: {spelling!r} in …{text[max(0, m.start() - 40): m.end() + 20]!r}")
    assert not leaks, "\n".join(leaks[:20])


def test_the_search_finds_the_values_in_the_solution_build(sites):
    """The same search on the solution build finds the answers: the check above can fail."""
    solution, _ = sites
    page = text_of(solution / "handout.html")
    assert "0.0375" in page and "0.06" in page


def test_worksheet_static_files_are_the_themes(sites):
    solution, worksheet = sites
    static_w, static_s = worksheet / "_static", solution / "_static"
    names = sorted(p.relative_to(static_w) for p in static_w.rglob("*") if p.is_file())
    assert names
    for name in names:
        assert (static_s / name).is_file() and filecmp.cmp(static_w / name, static_s / name, shallow=False), name


def test_worksheet_has_blanks_where_the_solution_has_numbers(sites):
    solution, worksheet = sites
    sheet = (worksheet / "handout.html").read_text(encoding="utf-8")
    key = (solution / "handout.html").read_text(encoding="utf-8")
    blank = r"\underline"
    assert sheet.count(blank) >= 51 and key.count(blank) == 0
    assert "0.9" in sheet and "0.1" in sheet  # the givens stay
    assert "answer key (PDF)" in key and "answer key (PDF)" not in sheet and "worksheet (PDF)" in sheet


def test_each_site_build_derives_each_problem_it_shows_once(sites):
    """Counted in the builds themselves (serial, as ``-j 1``): the page, its PDFs, its training figures and
    its self-check page share one derivation per problem."""
    for site in sites:
        counts = json.loads((site.parent / f"{site.name}-derivations.json").read_text(encoding="utf-8"))
        assert any(key.startswith("handout (3, 4, 2)") for key in counts), counts
        assert max(counts.values()) == 1, counts


def test_mazur_page_shows_his_network_every_number_derived(sites):
    """The course site's page of Mazur's example: his outputs, error, both gradients and an updated weight,
    each as the derivation writes it; the page is not part of the students' worksheet build."""
    from sympy import Rational

    from derivations.engine.problem import HANDOUT
    from derivations.teaching.numbers import Notation

    solution, worksheet = sites
    html = (solution / "mazur.html").read_text(encoding="utf-8")
    values = evaluate(load_problem(HANDOUT.with_name("mazur.toml")))
    n = Notation(values)
    shown = [values.forward["Y"][0], values.forward["Y"][1], values.forward["loss"], values.grad("w_b11"),
             values.descent(Rational(1, 2))["w_b11"]]
    for v in shown:
        assert n.approx(v) in html, n.approx(v)
    assert r"4.38568 \times 10^{-4}" in html  # ∂E/∂w_1, in LaTeX's notation
    assert "refuted" in html and "softmax lemma" in html
    assert not (worksheet / "mazur.html").exists()


def test_worksheet_self_check_page_typesets_scores_and_draws_verdicts(sites, page):
    """The issue's done-when, in headless Chromium from file:// with no network: the worksheet build's
    self-check page has typeset math, an input per blank of the worksheet page, a score that counts the correct
    answers, and a network whose nodes take data-verdict as answers are typed, the first wrong one marked."""
    _, worksheet = sites
    sheet = (worksheet / "handout.html").read_text(encoding="utf-8")
    page.goto((worksheet / "selfcheck.html").resolve().as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000)
    page.evaluate("() => MathJax.startup.promise")
    assert page.locator(".display .math mjx-container").count() >= 5  # typeset, not TeX source
    assert page.blocked == [] and page.failed == []
    assert page.locator("input[data-key]").count() == sheet.count(r"\underline") >= 51
    href = page.locator("a", has_text="back to the worksheet").get_attribute("href")
    assert (worksheet / href).is_file()

    def answer(key, value):
        el = page.locator(f'input[data-key="{key}"]')
        el.fill(value)
        el.press("Enter")

    answer("forward.H[1]", "3/20")
    answer("forward.O[1]", "0.5")  # wrong
    assert page.locator("[data-score]").text_content().startswith("1 / ")
    assert page.locator('[data-node="H1"]').get_attribute("data-verdict") == "correct"
    assert page.locator('[data-node="O1"]').get_attribute("data-verdict") == "wrong"
    assert page.locator("[data-first-divergence]").get_attribute("data-node") == "O1"


@pytest.mark.parametrize("width", [1280, 420])
def test_worksheet_displays_stay_in_the_content_column(page, sites, width):
    """The worksheet's blanks (Step 4's Y, Step 5's last blank) are displays too: each fits the column at
    1280 px, and at 420 px fits or scrolls inside its own box."""
    report = displays_report(page, (sites[1] / "handout.html").as_uri(), width)
    assert report["displays"] > 0 and report["fitted"], report
    assert report["past"] == [], report
    if width == 1280:
        assert report["scrolling"] == 0, report


# At a phone's width: the page's own width, each input's horizontal extent, each display's (fitted, or scrolling
# in its own box: see fitting.REPORT), the closing question's radio buttons' widths.
PHONE = """() => {
    const inputs = [...document.querySelectorAll('input')].map(e => [e.dataset.key || e.name, e.getBoundingClientRect()]);
    return {page: document.documentElement.scrollWidth,
            outside: inputs.filter(([, r]) => r.left < 0 || r.right > window.innerWidth).map(([k]) => k),
            inputs: inputs.length,
            radios: [...document.querySelectorAll('input[type="radio"]')].map(e => e.getBoundingClientRect().width)};
}"""


def test_worksheet_self_check_page_on_a_phone(page, sites):
    """At 420 px the self-check page does not scroll sideways, every input lies on the screen, each display is
    scaled to fit as on the site (or scrolls in its own box), and the radio buttons are of a normal size."""
    report = displays_report(page, (sites[1] / "selfcheck.html").as_uri(), 420)
    assert report["fitted"] and report["displays"] >= 8 and report["past"] == [], report
    assert page.locator("mjx-container.derivations-scaled").count() >= 1  # Step 1's display, scaled like the site's
    phone = page.evaluate(PHONE)
    assert phone["page"] <= 420 and phone["outside"] == [] and phone["inputs"] >= 55, phone
    assert len(phone["radios"]) == 4 and all(0 < w <= 32 for w in phone["radios"]), phone["radios"]
    step1 = page.locator(".display mjx-container").first
    assert step1.evaluate("m => m.scrollWidth <= m.clientWidth + 1")  # blanks 5-8 on the screen, not past its edge
    page.check('input[name="closing-grad"][value="nonzero"]')  # a wrong answer: its feedback, too, needs no key
    text = page.inner_text("main")
    assert "not right: the gradient" in text and "answer key" not in text and "solution" not in text, text[-400:]
