"""The self-check page in a real browser (Debian's chromium through Playwright, from file://, no network):
a correct answer, the handout's named mistakes, a follow-through, keyboard use, and the browser's verdicts
against the Python checker's on random problems."""

import html
import re
from pathlib import Path

import pytest
from sympy import Float

from derivations import evaluate, load_problem
from derivations.outputs.selfcheck import NOTICE, page_html, write_page
from derivations.teaching.check import Checker

from conftest import random_problem

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


# -- the page as HTML (no browser) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def handout_html():
    return page_html(evaluate(load_problem()))


def test_every_blank_of_the_worksheet_is_a_labelled_input(handout_html):
    inputs = re.findall(r'<input [^>]*type="text"[^>]*>', handout_html)
    assert len(inputs) == 51  # the worksheet's blanks (handout.layout(...).blanks())
    assert len(re.findall(r'<input type="radio"', handout_html)) == 4  # and the closing question's choices
    for tag in inputs:
        uid = re.search(r'id="([^"]+)"', tag)[1]
        key = re.search(r'data-key="([^"]+)"', tag)[1]
        assert f'<label for="{uid}">' in handout_html
        assert f'data-feedback-for="{key}" aria-live="polite"' in handout_html
    keys = [re.search(r'data-key="([^"]+)"', t)[1] for t in inputs]
    assert len(set(keys)) == len(keys)


def test_math_is_typeset_source_with_numbered_boxes_and_inputs_outside_it(handout_html):
    """Every formula is TeX for MathJax; a blank is a numbered box in it, its input (same number) under it."""
    displays = re.findall(r'<div class="math">\\\[(.*?)\\\]</div>', handout_html, re.S)
    assert displays and not any("<input" in d for d in displays)
    boxes = re.findall(r"\\boxed\{\\scriptsize (\d+)\}", handout_html)
    assert sorted(map(int, boxes)) == list(range(1, 52))
    assert 'href="handout.html"' in handout_html and "data-score" in handout_html


def test_page_says_it_is_for_practice_and_carries_no_answers(handout_html):
    assert html.escape(NOTICE) in handout_html
    script = handout_html[handout_html.index("<script>"):]
    for answer in ("0.0375", "3/80", "0.01875", "0.03375", "0.25,", "0.2475"):
        assert answer not in script
    assert "http://" not in handout_html and "https://" not in handout_html


# -- the browser ---------------------------------------------------------------------------------------


# The browser is conftest's (tests/browser.py): one Chromium for the whole session, as two sync Playwright
# instances in one process clash.


class Page:
    """One self-check page open from file://, with the checks a student does."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page()
        self.errors, self.requests = [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def type(self, key: str, value: str):
        el = self.page.locator(f'input[data-key="{key}"]')
        el.fill(value)
        el.press("Enter")
        return self.feedback(key)

    def feedback(self, key: str):
        fb = self.page.locator(f'[data-feedback-for="{key}"]')
        classes = set((fb.get_attribute("class") or "").split()) - {"feedback"}
        return classes, fb.text_content(), set((fb.get_attribute("data-mistakes") or "").split())

    def reload(self):
        self.page.goto(self.url)


@pytest.fixture(scope="module")
def handout_page(browser, tmp_path_factory):
    path = write_page(evaluate(load_problem()), tmp_path_factory.mktemp("sc") / "selfcheck.html")
    page = Page(browser, path)
    yield page
    assert page.errors == []
    assert all(u.startswith("file://") for u in page.requests), page.requests
    page.page.close()


def test_browser_typesets_no_math_an_author_or_a_roster_typed(browser, tmp_path):
    """A title (the page author's) and a student's name (the roster's) are text: escaped, and not read as
    math by MathJax (a title with \\(y\\) was typeset in the heading)."""
    from dataclasses import replace

    values = evaluate(replace(load_problem(), title="Week \\(y\\) <b>"))
    page = Page(browser, write_page(values, tmp_path / "selfcheck.html", student=("ada", "\\(x^2\\)"), mathjax="beside"))
    page.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000)
    page.page.evaluate("() => MathJax.startup.promise.then(() => true)")
    assert page.page.locator("main mjx-container").count() > 0  # the page's own math is typeset
    assert page.page.inner_text("h1").startswith("Week \\(y\\) <b>") and page.page.locator("h1 mjx-container").count() == 0
    assert "(\\(x^2\\))" in page.page.inner_text("p.typed") and page.page.locator("p.typed mjx-container").count() == 0
    assert page.errors == []
    page.page.close()


def test_browser_correct_answer(handout_page):
    handout_page.reload()
    assert handout_page.type("forward.H[1]", "0.15")[0] == {"correct"}
    assert handout_page.type("grad.w_b21", "3/80")[0] == {"correct"}
    assert handout_page.type("grad.w_a11", "0")[0] == {"correct"}


@pytest.mark.parametrize("key, answer, names, words", [
    ("backward.dL_dY[1]", "-0.25", {"loss-factor-1/N"}, "MSE factor"),
    ("backward.dL_dO[1]", "-0.125", {"softmax-cross-term-dropped"}, "cross term"),
    ("grad.w_b11", "-0.01875", {"one-path-only", "softmax-cross-term-dropped"}, "one path only"),
    ("backward.dL_dY[1]", "0.5", {"gradient-sign"}, "sign"),
])
def test_browser_names_the_handout_mistakes(handout_page, key, answer, names, words):
    handout_page.reload()
    classes, text, mistakes = handout_page.type(key, answer)
    assert classes == {"wrong"}
    assert names <= mistakes
    assert words in text


def test_browser_checks_the_closing_question(handout_page):
    """The handout's closing question has inputs too: W_a's gradient is zero and the units stay alike."""
    handout_page.reload()
    page = handout_page.page
    page.locator('input[name="closing-grad"][value="nonzero"]').check()
    classes, text, _ = handout_page.feedback("closing")
    assert classes == {"wrong"} and "gradient" in text
    page.locator('input[name="closing-grad"][value="zero"]').check()
    page.locator('input[name="closing-units"][value="alike"]').check()
    assert handout_page.feedback("closing")[:2] == ({"correct"}, "correct: both")
    assert page.locator("[data-score]").get_attribute("data-total") == "51"  # the choices are not blanks


def test_browser_follow_through(handout_page):
    handout_page.reload()
    assert handout_page.type("forward.H[1]", "0.2")[0] == {"wrong"}
    classes, text, _ = handout_page.type("forward.L[1]", "0.2")
    assert classes == {"follows"} and "H_1" in text
    # Correcting H_1 turns L_1 = 0.2 wrong: every blank is judged again.
    handout_page.type("forward.H[1]", "3/20")
    assert handout_page.feedback("forward.L[1]")[0] == {"wrong"}


def test_browser_keyboard_only(handout_page):
    handout_page.reload()
    page = handout_page.page
    page.locator('input[data-key="forward.H[1]"]').focus()
    page.keyboard.type(".15")
    page.keyboard.press("Tab")  # leaving the field checks it
    assert handout_page.feedback("forward.H[1]")[0] == {"correct"}
    focused = page.evaluate("document.activeElement.dataset.key")
    assert focused == "forward.H[2]"
    page.keyboard.type("−3/80")
    page.keyboard.press("Enter")
    assert handout_page.feedback("forward.H[2]")[0] == {"wrong"}
    page.keyboard.type("x")
    page.keyboard.press("Enter")
    assert handout_page.feedback("forward.H[2]")[0] == {"unreadable"}


@pytest.mark.parametrize("seed, layers, act, loss", [
    (3, (3, 4, 2), "relu", "mse"),
    (5, (2, 3, 3), "sigmoid", "cross_entropy"),
    (8, (2, 2, 3), "tanh", "mse"),
])
@pytest.mark.slow
def test_browser_agrees_with_the_python_checker(browser, tmp_path, seed, layers, act, loss):
    """Every catalogued mistake's value on every blank of the page: the browser names what Python names.

    Each value is judged alone (every other blank empty) by the page's own handler, run from one script: the
    value set, then the ``change`` event that Enter and leaving the field also fire (typing itself, key by key,
    is the tests above)."""
    problem = random_problem(seed, layers, act, loss)
    values = evaluate(problem)
    checker = Checker(problem)
    page = Page(browser, write_page(values, tmp_path / "selfcheck.html"))
    on_page = set(page.page.eval_on_selector_all("input[data-key]", "els => els.map(e => e.dataset.key)"))
    cases = []  # (key, typed, Python's verdict)
    for key in sorted(on_page):
        if "#" in key:
            continue
        for m, v in ([(None, checker.true[key])] + checker.full[key])[:6]:
            typed = str(v) if v.is_Rational else str(Float(v, 20))
            cases.append((key, typed, checker.check({key: typed})[key]))
    judged = page.page.evaluate("""(cases) => cases.map(([key, typed]) => {
        const el = document.querySelector(`input[data-key="${key}"]`);
        const fb = document.querySelector(`[data-feedback-for="${key}"]`);
        el.value = typed;
        el.dispatchEvent(new Event("change"));
        const out = [fb.className, fb.dataset.mistakes || ""];
        el.value = "";
        el.dispatchEvent(new Event("change"));
        return out;
    })""", [[key, typed] for key, typed, _ in cases])
    for (key, typed, py), (classes, mistakes) in zip(cases, judged, strict=True):
        classes, mistakes = set(classes.split()) - {"feedback"}, set(mistakes.split())
        assert classes == {py.verdict}, f"{key} = {typed}: browser {classes}, Python {py.verdict}"
        assert mistakes == {x.name for x in py.mistakes}, f"{key} = {typed}: browser {mistakes}, Python {py.mistakes}"
    assert len(cases) > 30
    assert page.errors == []
    page.page.close()


def test_browser_score_network_and_first_divergence(handout_page):
    """The score counts correct answers; the network's nodes take each quantity's verdict and the student's
    value; the first wrong one, forward then backward, is marked where the error entered."""
    handout_page.reload()
    page = handout_page.page
    score = page.locator("[data-score]")
    assert score.text_content() == "0 / 51 correct"
    handout_page.type("forward.H[1]", "0.15")
    handout_page.type("forward.H[2]", "0.2")  # wrong
    handout_page.type("forward.L[2]", "0.2")  # follows from it
    handout_page.type("backward.dL_dY[1]", "-0.25")  # wrong (MSE factor)
    assert score.text_content() == "1 / 51 correct, 1 follow"
    node = lambda n: page.locator(f'[data-node="{n}"]')  # noqa: E731
    assert node("H1").get_attribute("data-verdict") == "correct"
    assert node("H2").get_attribute("data-verdict") == "wrong"
    assert node("L2").get_attribute("data-verdict") == "follows"
    assert node("dY1").get_attribute("data-verdict") == "wrong"
    assert node("O1").get_attribute("data-verdict") is None
    assert node("H2").locator(".value").text_content() == "0.2"
    marked = page.eval_on_selector_all("[data-first-divergence]", "els => els.map(e => e.dataset.node)")
    assert marked == ["H2"]
    handout_page.type("forward.H[2]", "")
    handout_page.type("forward.L[2]", "")
    marked = page.eval_on_selector_all("[data-first-divergence]", "els => els.map(e => e.dataset.node)")
    assert marked == ["dY1"]
    handout_page.type("backward.dL_dY[1]", "-1/4")
    assert "MSE factor" in page.locator("#announce").text_content()  # the verdict just typed, for a screen reader


def test_browser_page_fits_420_px(browser, tmp_path):
    path = write_page(evaluate(load_problem()), tmp_path / "selfcheck.html")
    page = browser.new_page(viewport={"width": 420, "height": 800})
    page.goto(path.resolve().as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    page.close()


def test_browser_rounded_sheet_verdicts_equal_the_checkers(browser, tmp_path):
    """The issue's sheet (transposed weight in ∇L, 4 significant digits) typed into the page: every verdict
    and every name is the Python checker's."""
    from test_check import _rounded_sheet, _unequal_problem

    problem = _unequal_problem()
    checker = Checker(problem)
    sheet = _rounded_sheet(checker, "backward-weight-transposed")
    page = Page(browser, write_page(evaluate(problem), tmp_path / "selfcheck.html"))
    on_page = set(page.page.eval_on_selector_all("input[data-key]", "els => els.map(e => e.dataset.key)"))
    typed = {k: v for k, v in sheet.items() if k in on_page}
    assert len(typed) > 30
    py = checker.check(typed)
    for key, value in typed.items():
        page.page.locator(f'input[data-key="{key}"]').fill(value)
    page.page.locator('input[data-key="forward.H[1]"]').press("Enter")
    for key in typed:
        classes, _, mistakes = page.feedback(key)
        assert classes == {py[key].verdict}, f"{key}: browser {classes}, Python {py[key].verdict}"
        assert mistakes == {m.name for m in py[key].mistakes}, key
    assert any(py[k].verdict == "follows" for k in typed)
    assert page.page.locator('[data-node="dL1"]').get_attribute("data-first-divergence") == ""
    assert page.errors == []
    page.page.close()


@pytest.mark.parametrize("grad, change, new", [
    ("0.1", "-0.05", "0.35"),  # a wrong gradient, the step done right from it: follows
    ("0", "0", "0.4"),  # a wrong 0: the change is 0, the step copies w, no follow-through
    ("0.08217", "0.041085", "0.441085"),  # a right gradient, the change's sign flipped: only its own mistake
    ("0.1", "-0.1", "0.3"),  # η left out, on the student's own gradient
    ("0.08217", "0", "0.4"),  # no step
])
def test_browser_descent_step_is_judged_from_the_students_own_gradient(browser, tmp_path, grad, change, new):
    """Mazur's closing step w^b_11 − η·∂ℒ/∂w^b_11 (0.4, η = 1/2), its change a blank of its own: the page's
    verdicts and mistakes are the Python checker's, which takes the student's own gradient and change."""
    from derivations.engine.problem import HANDOUT

    problem = load_problem(HANDOUT.with_name("mazur.toml"))
    py = Checker(problem).check({"grad.w_b11": grad, "step.w_b11": change, "descent.w_b11": new})
    page = Page(browser, write_page(evaluate(problem), tmp_path / "selfcheck.html"))
    page.type("grad.w_b11", grad)
    page.type("step.w_b11", change)
    page.type("descent.w_b11", new)
    for key in ("step.w_b11", "descent.w_b11"):
        classes, _, mistakes = page.feedback(key)
        assert classes == {py[key].verdict} and mistakes == {m.name for m in py[key].mistakes}, key
    assert page.errors == []
    page.page.close()


@pytest.mark.parametrize("typed, verdict, said", [("0.1847", "correct", "correct"), ("0.185", "wrong", "too few digits"),
                                                  ("0,1847", "correct", "correct"), ("0.19", "wrong", "no classic mistake"),
                                                  ("0,1847\u00a0", "correct", "correct"), ("1847e-0004", "correct", "correct"),
                                                  ("0." + "1" * 61, "unreadable", "at most 60 digits")])
def test_browser_applies_the_precision_rule(browser, tmp_path, typed, verdict, said):
    """O_1 = 0.18468 exactly: 0.1847 (4 significant digits) is correct, as in Python; 0.185 has too few
    digits, and the page says so; a decimal comma is read (a no-break space after it too), an exponent with
    leading zeros is, and 61 digits are not a number, as in Python (``parse_answer``)."""
    from test_check import ROUNDED_TOML

    path = tmp_path / "p.toml"
    path.write_text(ROUNDED_TOML, encoding="utf-8")
    page = Page(browser, write_page(evaluate(load_problem(path)), tmp_path / "selfcheck.html"))
    classes, text, _ = page.type("forward.O[1]", typed)
    assert classes == {verdict} and said in text, text
    assert "at least 4 significant digits" in page.page.inner_text("main")
    assert page.errors == []
    page.page.close()


# -- the Sphinx build: -t selfcheck --------------------------------------------------------------------------


def _site(tmp_path, problem: str = ""):
    from building import sphinx_build

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n'
                                 'if tags.has("selfcheck"):\n    extensions.append("derivations.sphinx.selfcheck")\n'
                                 + (f"derivations_problem = {problem!r}\n" if problem else ""))
    (src / "index.md").write_text("# Handout\n\n{deriv}`forward.H[1]`\n")
    (src / "wide.toml").write_text('[network]\nlayers = [2, 8, 2]\nactivation = "relu"\nloss = "mse"\n'
                                   "[data]\nx = [1, 2]\ny = [1, 0]\n[init]\nW_a = 0.1\nW_b = 0.1\n")
    return sphinx_build("-q", "-t", "selfcheck", src, tmp_path / "out")


def test_sphinx_selfcheck_tag_writes_the_page(tmp_path):
    result = _site(tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "selfcheck.html").read_text(encoding="utf-8")
    assert page.count("type=\"text\"") == 51 and 'data-key="grad.w_a11"' in page


def test_sphinx_selfcheck_of_a_problem_the_layout_cannot_hold_is_a_warning(tmp_path):
    result = _site(tmp_path, "wide.toml")
    assert result.returncode == 0
    assert "selfcheck.html not written" in result.stderr and "at most 6 units" in result.stderr
    assert not (tmp_path / "out" / "selfcheck.html").exists()


def _page_labels(page, sheets: list) -> list:
    """The page's own verdicts (``window.derivationsMarking``) of each sheet, as test_marking's cases spell them."""
    from test_marking import verdict_label

    judged = page.page.evaluate("""(sheets) => sheets.map((cells) => {
        const M = window.derivationsMarking;
        const r = M.judgeSheet(cells.map(([key, text]) => [key, M.parse(text), text]));
        return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v.verdict, !!v.short, v.mistakes || []]]));
    })""", [list(sheet.items()) for sheet in sheets])
    return [{k: verdict_label(*v) for k, v in marks.items()} for marks in judged]


@pytest.mark.parametrize("name", ["handout", "mazur", "random-init"])
def test_browser_exact_matches_come_before_the_count_of_digits(browser, tmp_path, name):
    """test_marking's sheets on the precision rule (3 digits near the value: too few digits, never correct
    unless exact; exactly the step from the student's own answers: follows; exactly a slip's value: the slip)
    and on common slips, judged by the page as by the checker."""
    from test_marking import PRECISION_SHEETS, PROBLEMS, SLIP_SHEETS

    cases = [(sheet, want) for n, sheet, want in PRECISION_SHEETS + SLIP_SHEETS if n == name]
    page = Page(browser, write_page(evaluate(load_problem(PROBLEMS[name])), tmp_path / "selfcheck.html"))
    assert _page_labels(page, [sheet for sheet, _ in cases]) == [want for _, want in cases]
    assert page.errors == []
    page.page.close()


# W_a's first row cancels on x = (0.9, 0.5, 0.1): H_1 = 0.09 − 0.1 + 0.01 = 0 exactly (6.9e-18 in floats)
RELU_AT_ZERO = """[network]
layers = [3, 4, 2]
activation = "relu"
output = "softmax"
loss = "mse"
[data]
x = [0.9, 0.5, 0.1]
y = [1, 0]
[init]
W_a = [[0.1, -0.2, 0.1], [0.4, 0.1, -0.2], [-0.3, 0.1, 0.2], [0.3, 0.2, 0.1]]
W_b = [[0.3, -0.2, 0.1, 0.4], [-0.1, 0.2, 0.3, -0.3]]
"""
RELU_AT_ZERO_SHEETS = [{"forward.H[1]": "0"}, {"forward.L[1]": "0"}, {"local.dL_dH[1]": "0"}, {"local.dL_dH[1]": "1"},
                       {"backward.dL_dH[1]": "0"}, {"grad.w_a11": "0"}]


def test_browser_decides_a_kink_at_an_exact_zero_as_the_checker(browser, tmp_path):
    """Where a pre-activation is exactly 0 by cancellation, the page computes it exactly, as the checker does:
    ReLU′(0) = 0 (the handout's 1[H > 0]), so H_1 = 0, L_1 = 0, ∂L_1/∂H_1 = 0 and the gradients through it are
    correct, and ∂L_1/∂H_1 = 1 is the slip. In floats H_1 was 6.9e-18 and every one of these verdicts flipped.
    (A kink reached from the student's own rounded answers is covered by their rounding's allowance either way.)"""
    from test_marking import verdict_label

    path = tmp_path / "p.toml"
    path.write_text(RELU_AT_ZERO, encoding="utf-8")
    checker = Checker(load_problem(path))
    want = [{"forward.H[1]": "correct"}, {"forward.L[1]": "correct"}, {"local.dL_dH[1]": "correct"},
            {"local.dL_dH[1]": "activation-derivative-one"}, {"backward.dL_dH[1]": "correct"}, {"grad.w_a11": "correct"}]
    py = [{k: verdict_label(v.verdict, v.short, [m.name for m in v.mistakes]) for k, v in checker.check(s).items()}
          for s in RELU_AT_ZERO_SHEETS]
    assert py == want  # the checker, computing with rationals, is the reference
    page = Page(browser, write_page(evaluate(load_problem(path)), tmp_path / "selfcheck.html"))
    assert _page_labels(page, RELU_AT_ZERO_SHEETS) == want
    assert page.page.evaluate("window.derivationsMarking.truth['forward.H[1]']") == 0
    assert page.errors == []
    page.page.close()


@pytest.mark.parametrize("o1, verdict", [("0.0001000", "wrong"), ("-0.002400", "wrong"), ("-0.001100", "correct")])
def test_browser_allows_a_step_its_inputs_rounding_not_their_tolerance(browser, tmp_path, o1, verdict):
    """As the checker (test_marking's CANCEL): right 4-digit L's move O_1 = L_1 − L_2 by their rounding, not by
    1/1000 of each (which had 0.0001, of the wrong sign, correct); the step from the typed L's stays right."""
    import tomllib

    from derivations.engine.problem import problem_from_dict
    from test_marking import CANCEL

    problem = problem_from_dict(tomllib.loads(CANCEL))
    sheet = {"forward.L[1]": "0.6457", "forward.L[2]": "0.6468", "forward.O[1]": o1}
    py = Checker(problem).check(sheet)
    page = Page(browser, write_page(evaluate(problem), tmp_path / "selfcheck.html"))
    for key, text in sheet.items():
        page.type(key, text)
    classes, _, _ = page.feedback("forward.O[1]")
    assert py["forward.O[1]"].verdict == verdict and classes == {verdict}, (py["forward.O[1]"], classes)
    assert page.errors == []
    page.page.close()


def test_browser_takes_zero_times_the_log_of_a_negative_y_as_zero(browser, tmp_path):
    """A cross-entropy's zero target times the log of a student's negative Y is 0, as SymPy takes it in the
    checker (the page had NaN, and marked a loss that follows from the student's Y wrong)."""
    path = Path(__file__).parents[1] / "docs" / "problems" / "two-layers.toml"
    problem = load_problem(path)
    sheet = {"forward.Y[1]": "0.5000", "forward.Y[2]": "-0.5000", "forward.loss": "0.6931"}
    py = Checker(problem).check(sheet)
    page = Page(browser, write_page(evaluate(problem), tmp_path / "selfcheck.html"))
    for key, text in sheet.items():
        page.type(key, text)
    classes, _, _ = page.feedback("forward.loss")
    assert py["forward.loss"].verdict == "follows" and classes == {"follows"}, classes
    assert page.errors == []
    page.page.close()
