"""The students' page asks for an input's gradient (issue 34): ``[worksheet] ask = ["x_1"]`` gives a block
``∂ℒ/∂x_1 = Σ_i ∇H_i·w^a_i1`` whose blank is ``backward.dL_dx[1]`` (every sample's ``backward.dL_dx[1]@2``), in
the worksheet (blank), the key (value), keys.csv, the checker, the variants and the self-check page."""

import tomllib
from pathlib import Path

import mpmath
import pytest

from derivations import evaluate
from derivations.engine.errors import ProblemError
from derivations.engine.problem import problem_from_dict
from derivations.outputs.page import render_text
from derivations.teaching import graded, handout as h
from derivations.teaching.check import Checker

ROOT = Path(__file__).resolve().parents[1]
MAZUR = ROOT / "derivations" / "problems" / "mazur.toml"
MINIBATCH = ROOT / "docs" / "problems" / "minibatch.toml"


def _with_ask(path: Path, ask: str, source: str = "mine.toml"):
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().splitlines()[-2] == "[worksheet]"  # the file's last table: ask joins it
    return problem_from_dict(tomllib.loads(text + f"ask = {ask}\n"), source)


@pytest.fixture(scope="module")
def mazur_x1():
    values = evaluate(_with_ask(MAZUR, '["w_b11", "x_1"]'))
    return values, h.layout(values)


def _mazur_loss(i1):
    """Mazur's E_total as a function of his input i1, written out independently (mpmath)."""
    sig = lambda t: 1 / (1 + mpmath.exp(-t))  # noqa: E731
    i2, b1, b2 = mpmath.mpf("0.10"), mpmath.mpf("0.35"), mpmath.mpf("0.60")
    w = [mpmath.mpf(t) for t in ("0.15", "0.20", "0.25", "0.30", "0.40", "0.45", "0.50", "0.55")]
    h1, h2 = sig(w[0] * i1 + w[1] * i2 + b1), sig(w[2] * i1 + w[3] * i2 + b1)
    o1, o2 = sig(w[4] * h1 + w[5] * h2 + b2), sig(w[6] * h1 + w[7] * h2 + b2)
    return (mpmath.mpf("0.01") - o1) ** 2 / 2 + (mpmath.mpf("0.99") - o2) ** 2 / 2


def test_the_page_asks_for_the_input_gradient_and_the_key_holds_it(mazur_x1):
    values, page = mazur_x1
    slots = [s for s in page.slots(given=False) if s.key == "backward.dL_dx[1]"]
    assert len(slots) == 1
    with mpmath.workdps(40):  # central difference in i1, step 1e-12: against the exact value to 1e-18
        h_ = mpmath.mpf("1e-12")
        numeric = (_mazur_loss(mpmath.mpf("0.05") + h_) - _mazur_loss(mpmath.mpf("0.05") - h_)) / (2 * h_)
        exact = mpmath.mpf(str(values.lookup("backward.dL_dx[1]").evalf(45)))
        assert abs(exact - numeric) <= mpmath.mpf("1e-18") * abs(numeric)
    key, sheet = render_text(page, False), render_text(page, True)
    assert "∂ℒ/∂x_1" in key and "0.003804" in key  # Mazur's ∂E/∂i₁ = 0.0038043, to the key's 4 digits
    assert "∂ℒ/∂x_1" in sheet and "0.003804" not in sheet and "0.0038" not in sheet
    assert "grad.w_b11" in {s.key for s in page.slots(given=False)}  # the parameter asked beside it keeps its block


def test_keys_csv_grades_it_and_the_checker_takes_the_key_back(mazur_x1):
    values, _ = mazur_x1
    rows = dict(graded.graded(values))
    assert "backward.dL_dx[1]" in rows and "backward.dL_dx[2]" not in rows
    written = graded.shown(values, rows["backward.dL_dx[1]"])
    p = values.problem
    marks = Checker(p).check({"backward.dL_dx[1]": written, "forward.H[1]": "0.3775"})
    assert marks["backward.dL_dx[1]"].verdict == "correct"
    wrong = Checker(p).check({"backward.dL_dx[1]": "0.0047405"})  # x_2's gradient given for x_1's
    assert wrong["backward.dL_dx[1]"].verdict == "wrong"


def test_every_sample_has_its_own_input_gradient_blank():
    values = evaluate(_with_ask(MINIBATCH, '["x_2"]'))
    page = h.layout(values)
    keys = {s.key for s in page.slots(given=False)}
    assert {"backward.dL_dx[2]@1", "backward.dL_dx[2]@2"} <= keys
    assert not any(k.startswith(("grad.", "step.", "descent.")) for k in keys)  # an input takes no descent step
    from derivations.teaching.oracle import numpy_backprop

    ref = numpy_backprop(values.problem)["dL_dx"]  # the independent NumPy pass: W_aᵀ ∇H of each sample's loss
    for s in (1, 2):
        assert float(values.lookup(f"backward.dL_dx[2]@{s}")) == pytest.approx(ref[s - 1][1], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("ask, message", [
    ('["y_1"]', "worksheet.ask: expected one of w_a11 … w_a22, w_b11 … w_b22, b_a1 … b_a2, b_b1 … b_b2, "
                "or an input x_1 … x_2, got 'y_1'"),
    ('["x_3"]', "worksheet.ask: 'x_3': the network has 2 inputs, x_1 to x_2"),
    ('["x_1", "x[1]"]', "worksheet.ask: 'x[1]' is asked twice"),
])
def test_an_unknown_or_repeated_name_is_one_line_listing_what_may_be_asked(ask, message):
    with pytest.raises(ProblemError) as err:
        h.layout(evaluate(_with_ask(MAZUR, ask)))
    assert str(err.value) == f"mine.toml: {message}"


def test_a_variant_keeps_the_asked_input():
    from derivations.teaching import drawing
    from derivations.teaching.variant_file import problem_from_toml, variant_toml

    base = drawing.Base(_with_ask(MAZUR, '["x_1"]'))
    p = drawing.draw(base, "seed", "001")
    text = variant_toml(base, p)
    assert 'ask = ["x_1"]' in text
    values = evaluate(problem_from_toml(text, "v"))
    assert "backward.dL_dx[1]" in dict(graded.graded(values))


@pytest.mark.slow
def test_the_self_check_page_marks_the_input_gradient_as_check_does(browser, tmp_path, mazur_x1):
    from test_selfcheck_page import Page

    from derivations.outputs.selfcheck import write_page

    values, _ = mazur_x1
    page = Page(browser, write_page(values, tmp_path / "selfcheck.html"))
    for answer in ("0.0038043", "0.0047405"):
        py = Checker(values.problem).check({"backward.dL_dx[1]": answer})["backward.dL_dx[1]"]
        classes, _, mistakes = page.type("backward.dL_dx[1]", answer)
        assert classes == {py.verdict} and mistakes == {m.name for m in py.mistakes}, answer
    assert page.errors == []
    page.page.close()


def test_the_input_block_draws_its_paths_and_the_worksheet_figure_has_no_values(mazur_x1):
    """The diagram of x_1's gradient lights every path from ℒ to x_1: 2 hidden units × 2 outputs = 4 in Mazur's
    network, through all of its edges but x_2's; the worksheet's figure has no value on an edge."""
    from derivations.outputs.figures import network_svg
    from derivations.teaching.page import Figure

    values, page = mazur_x1
    assert "x_1" in [b.weight for b in page.blocks if isinstance(b, Figure)]
    assert values.derivation.count_paths("x_1") == 4
    edges = values.derivation.path_edges("x_1")
    assert {(a, b) for a, b, _ in edges} >= {(("x", 0), ("H", 0)), (("x", 0), ("H", 1))}
    assert not any(a == ("x", 1) for a, _, _ in edges)
    key, sheet = network_svg(values, "x_1", "blue"), network_svg(values, "x_1", "blue", answers=False)
    assert 'data-paths="4"' in key and "gradient paths of x_1" in key
    assert "0.15" in key and "0.741" in key and "0.741" not in sheet


def test_the_variants_hold_an_asked_input_gradient_to_the_asked_gradients_rule():
    """Rule 4 for an asked input: at least 0.0001 in size (Mazur's base), or exactly 0 where the lesson says so
    (the handout's symmetric init: every ∇H_i is 0, so ∂ℒ/∂x_1 is too)."""
    from derivations.engine.problem import HANDOUT
    from derivations.teaching import drawing

    text = HANDOUT.read_text(encoding="utf-8") + '\n[worksheet]\nask = ["w_a11", "x_1"]\n'
    lesson = problem_from_dict(tomllib.loads(text), "h.toml")
    base = drawing.Base(lesson)
    assert base.asked_inputs == ("x_1",) and drawing.lesson_zero(base, lesson, "x_1")
    assert evaluate(drawing.draw(base, "seed", "001")).lookup("backward.dL_dx[1]") == 0
    base = drawing.Base(_with_ask(MAZUR, '["x_2"]'))
    assert not drawing.lesson_zero(base, base.problem, "x_2")
    for student in ("001", "002"):
        v = evaluate(drawing.draw(base, "seed", student))
        assert abs(v.decimal(v.lookup("backward.dL_dx[2]"))) >= drawing.MIN_GRADIENT


def test_the_worked_solution_shows_an_inputs_gradient_with_param(capsys):
    """``print --param x_1``: the sum over the first layer's units, with the numbers, to the value a central
    difference of Mazur's loss gives; a name that is neither a parameter nor an input is one line."""
    from derivations.cli.print import main

    assert main(["--config", str(MAZUR), "--param", "x_1", "--digits", "8"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.strip().startswith("∂ℒ/∂x_1 = "))
    assert "w^a_11·∇H_1 + w^a_21·∇H_2" in line
    with mpmath.workdps(40):
        h_ = mpmath.mpf("1e-12")
        numeric = (_mazur_loss(mpmath.mpf("0.05") + h_) - _mazur_loss(mpmath.mpf("0.05") - h_)) / (2 * h_)
    shown = line.split("≈")[-1].strip()  # 8 significant digits: within half a unit of the last
    assert len(shown.replace("0.", "", 1).lstrip("0")) == 8 and abs(mpmath.mpf(shown) - numeric) <= mpmath.mpf("5e-11")
    assert main(["--config", str(MAZUR), "--param", "x_3"]) == 2
    assert main(["--config", str(MAZUR), "--param", "y_1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["python -m derivations.print: error: param: expected an input x_1 … x_2, got 'x_3'",
                   "python -m derivations.print: error: param: expected a parameter name like w_a11, w_b21 or w_b[2,1], "
                   "b_a1 (W_a is 2x2, W_b is 2x2), or an input x_1 … x_2, got 'y_1'"]
