"""Marks tested like numbers: a simulated class whose sheets come from an independent backprop with known
slips (``benchmarks/marking.py``, not the package's derivation), marked by ``check``, ``grade`` and the
self-check page; and the precision rule, the page order and the number reader on their own."""

from pathlib import Path

import pytest
from sympy import Rational

from derivations import load_problem
from derivations.engine.errors import ProblemError
from derivations.engine.reading import parse_answer
from derivations.teaching.check import Checker
from derivations.teaching.marking import SHORT, MATCH, classify
from conftest import load_benchmark

ROOT = Path(__file__).resolve().parents[1]


bench = load_benchmark("marking")


@pytest.fixture(scope="module")
def classes():
    return {name: bench.make_class(name, quick=True) for name in bench.BASES}


@pytest.mark.slow
def test_a_simulated_class_on_three_bases_is_marked_as_it_was_made(classes):
    """Right work at 4 digits, fractions, the Unicode minus and decimal commas is correct; 3 digits are too
    few; every slip is named where it enters (here at 4 digits: the benchmark adds 3), later steps follow and
    carry no name; check and grade agree on every blank."""
    figures = bench.evaluate_marks(classes, use_browser=False)
    confusion, stats = figures["confusion"], figures["stats"]
    assert sum(v for (e, g), v in confusion.items() if e == "correct" and g != "correct") == 0
    assert sum(v for (e, g), v in confusion.items() if not e.startswith("band") and e != "correct" and g == "correct") == 0
    assert stats["names on follows"] == 0 and stats["follows from a later blank"] == 0
    assert stats["slip blanks"] >= 100 and stats["named first"] >= 0.95 * stats["slip blanks"]
    assert figures["disagreements"] == []
    assert sum(v for (e, g), v in confusion.items() if not bench._agrees(e, g)) == 0, stats.get("mismatches")


@pytest.mark.slow
def test_the_self_check_page_marks_the_class_as_check_does(classes, browser):
    base = classes["mazur"]
    checked = bench.run_check(base)
    paged = bench.run_page(base, browser)
    for sid, marks in checked.items():
        for key, (verdict, names, short, *_) in marks.items():
            assert (paged[sid][key][0], sorted(paged[sid][key][1])) == (verdict, sorted(names)), (sid, key)


@pytest.mark.parametrize("text, target, expected", [
    ("0.1847", "0.18468", MATCH), ("0.185", "0.18468", SHORT), ("0.18", "0.18468", SHORT), ("0.2", "0.18468", None),
    ("-1", "-0.5", None), ("0", "-0.0222", None), ("0.3901", "0.390096", MATCH), ("0.390", "0.390096", SHORT),
    ("3/80", "0.0375", MATCH), ("1.000", "1", MATCH),
])
def test_one_precision_rule(text, target, expected):
    assert classify(text, parse_answer(text, "x"), Rational(target), Rational(target) / 2000 * 0) == expected


@pytest.mark.parametrize("typed", ["0,0375", "−0,0375", "3/80", "0.0375", ",0375"])
def test_decimal_commas_are_numbers(typed):
    assert abs(parse_answer(typed, "x")) == Rational(3, 80)


def test_a_comma_that_could_group_thousands_is_refused_in_one_line():
    with pytest.raises(ProblemError, match="1.234 .a point. or 1234"):
        parse_answer("1,234", "forward.O[1]")


def test_follow_through_only_from_blanks_before_it_on_the_page():
    """Mazur's page asks ∂ℒ/∂w^a_11 before ∂ℒ/∂b^a_1: both with sigmoid' dropped, the first is the slip, not
    a follow-through from the second (∂ℒ/∂b^a_1 = ∇H_1, which ∂ℒ/∂w^a_11 = ∇H_1·x_1 also uses)."""
    c = Checker(load_problem(ROOT / "derivations" / "problems" / "mazur.toml"))
    t = c.true
    dropped = t["grad.b_a1"] / t["local.dL1_dH1[1]"] if "local.dL1_dH1[1]" in t else t["grad.b_a1"] / t["local.dL_dH[1]"]
    got = c.check({"grad.w_a11": str(Rational(str(dropped.evalf(12))) * Rational("0.05")), "grad.b_a1": str(dropped.evalf(12))})
    assert got["grad.w_a11"].verdict == "wrong" and not got["grad.w_a11"].follows_from
    assert got["grad.b_a1"].verdict == "wrong"


def test_saturated_sigmoid_values_are_numbers_and_right_answers_correct(tmp_path):
    for logit in (200, 500, 1000):
        path = tmp_path / f"sat{logit}.toml"
        path.write_text(f'[network]\nlayers = [1, 1, 1]\nactivation = "identity"\noutput = "sigmoid"\nloss = "bce"\n'
                        f'[data]\nx = [1]\ny = [0]\n[init]\nW_a = [[1]]\nW_b = [[{logit}]]\n', encoding="utf-8")
        c = Checker(load_problem(path))
        assert all(v is not None and v.is_finite for v in c.true.values())
        answers = {k: str(v.evalf(6)) if not v.is_Rational else str(v) for k, v in c.true.items()
                   if v == 0 or abs(v) < Rational(10) ** 400 and abs(v) > Rational(10) ** -400}  # typed numbers: |exponent| ≤ 400
        assert {v.verdict for v in c.check(answers).values()} == {"correct"}, logit
        assert c.check({"backward.dL_dO[1]": "1.000"})["backward.dL_dO[1]"].verdict == "correct"  # Y − y = 1 − e^−logit…
        assert c.check({"backward.dL_dO[1]": "1"})["backward.dL_dO[1]"].short  # 1 digit: too few (not exact)
        assert c.check({"forward.loss": f"{logit}.0"})["forward.loss"].verdict == "correct"  # −ln(1 − Y) ≈ logit


# -- the precision rule against exact matches: cases checked alike by check and by the page ----------------

PROBLEMS = {"handout": ROOT / "derivations" / "problems" / "handout.toml",
            "mazur": ROOT / "derivations" / "problems" / "mazur.toml",
            "random-init": ROOT / "docs" / "problems" / "random-init.toml"}

# (problem, sheet, the verdict of each blank): "short" is wrong (too few digits); a slip's name is wrong, named
PRECISION_SHEETS = [
    # fewer than 4 significant digits: never correct unless exact; near the value, too few digits
    ("mazur", {"forward.Y[1]": "0.752"}, {"forward.Y[1]": "short"}),  # Y_1 = 0.75136507: within 1/1000, not its rounding
    ("mazur", {"forward.Y[1]": "0.751"}, {"forward.Y[1]": "short"}),
    ("mazur", {"forward.Y[1]": "7.51e-1"}, {"forward.Y[1]": "short"}),
    ("mazur", {"forward.Y[1]": "0.75"}, {"forward.Y[1]": "short"}),
    ("mazur", {"forward.Y[1]": "0.7514"}, {"forward.Y[1]": "correct"}),
    ("mazur", {"forward.Y[1]": "0.7510"}, {"forward.Y[1]": "correct"}),  # 4 digits typed: within the tolerance
    ("mazur", {"forward.Y[1]": "7.514e-1"}, {"forward.Y[1]": "correct"}),
    ("mazur", {"forward.Y[1]": "751/1000"}, {"forward.Y[1]": "wrong"}),  # a fraction is exact or wrong
    ("mazur", {"forward.Y[1]": "3/4"}, {"forward.Y[1]": "wrong"}),
    ("mazur", {"backward.dL_dY[1]": "0.742"}, {"backward.dL_dY[1]": "short"}),
    ("mazur", {"backward.dL_dY[1]": "0.741"}, {"backward.dL_dY[1]": "short"}),
    ("random-init", {"backward.dL_dY[1]": "-0.469"}, {"backward.dL_dY[1]": "short"}),
    ("random-init", {"backward.dL_dY[1]": "−0,4685"}, {"backward.dL_dY[1]": "correct"}),
    # exact short values are correct: decimals, fractions, scientific notation, either sign
    ("handout", {"forward.H[1]": "0.15", "forward.Y[1]": "0.5", "grad.w_b21": "0.0375", "grad.w_b11": "-0.0375"},
     {"forward.H[1]": "correct", "forward.Y[1]": "correct", "grad.w_b21": "correct", "grad.w_b11": "correct"}),
    ("handout", {"grad.w_b21": "3.75e-2", "grad.w_b11": "-3/80"}, {"grad.w_b21": "correct", "grad.w_b11": "correct"}),
    ("handout", {"grad.w_b21": "3.8e-2"}, {"grad.w_b21": "short"}),
    # exactly the step from the student's own short answers: follows, whatever its digits
    ("mazur", {"grad.w_b11": "0.0822", "step.w_b11": "-0.0411"}, {"grad.w_b11": "short", "step.w_b11": "follows"}),
    ("random-init", {"grad.w_b11": "-0.0186", "step.w_b11": "0.0093"}, {"grad.w_b11": "wrong", "step.w_b11": "follows"}),
    ("random-init", {"step.w_b11": "0.01", "descent.w_b11": "0.31"}, {"step.w_b11": "wrong", "descent.w_b11": "follows"}),
    # exactly a slip's value: the slip, whatever its digits
    ("mazur", {"descent.w_a11": "0.15"}, {"descent.w_a11": "descent-no-step"}),
    ("mazur", {"descent.w_a11": "0.1500"}, {"descent.w_a11": "descent-no-step"}),
]

# common slips, named from right earlier answers: a gradient's sign flipped at its last step, Y for Y − y, the
# change subtracted from w
SLIP_SHEETS = [
    ("handout", {"forward.L[1]": "0.15", "backward.dL_dO[1]": "-1/4", "grad.w_b11": "0.0375"},
     {"forward.L[1]": "correct", "backward.dL_dO[1]": "correct", "grad.w_b11": "gradient-final-sign"}),
    ("random-init", {"backward.dL_dY[1]": "0.5315"}, {"backward.dL_dY[1]": "loss-target-dropped"}),
    ("random-init", {"step.w_b11": "0.009334", "descent.w_b11": "0.2907"},
     {"step.w_b11": "correct", "descent.w_b11": "descent-change-subtracted"}),
]


def verdict_label(verdict, short: bool, names: list) -> str:
    """One blank's verdict as the cases above spell it."""
    if verdict == "wrong" and names:
        return names[0]
    return "short" if verdict == "wrong" and short else verdict


def sheet_id(case) -> str:
    name, sheet, _ = case
    return name + ":" + ",".join(f"{k}={v}" for k, v in sheet.items())


@pytest.mark.parametrize("name, sheet, want", PRECISION_SHEETS, ids=[sheet_id(c) for c in PRECISION_SHEETS])
def test_exact_matches_come_before_the_count_of_digits(name, sheet, want):
    """An answer of fewer than 4 significant digits is correct only when exact, and too few digits near the
    value; exactly the step from the student's own earlier answers follows, exactly a slip's value names it."""
    got = Checker(load_problem(PROBLEMS[name])).check(sheet)
    assert {k: verdict_label(v.verdict, v.short, [m.name for m in v.mistakes]) for k, v in got.items()} == want


@pytest.mark.parametrize("name, sheet, want", SLIP_SHEETS, ids=[sheet_id(c) for c in SLIP_SHEETS])
def test_common_slips_are_named_from_right_earlier_answers(name, sheet, want):
    got = Checker(load_problem(PROBLEMS[name])).check(sheet)
    assert {k: verdict_label(v.verdict, v.short, [m.name for m in v.mistakes]) for k, v in got.items()} == want



CANCEL = ('[network]\nlayers = [2, 2, 2]\nactivation = "sigmoid"\noutput = "sigmoid"\nloss = "quadratic"\nbias = true\n'
          '[data]\nx = [0.5, 0.5]\ny = [0.2, 0.7]\n[init]\nW_a = [[0.3, 0.2], [0.2, 0.31]]\nW_b = [[1, -1], [0.5, 0.4]]\n'
          'b_a = 0.35\nb_b = 0\n')  # O_1 = L_1 − L_2 ≈ −0.0011431: a step that cancels


def test_a_step_from_right_rounded_answers_is_allowed_their_rounding_not_their_tolerance():
    """A step computed from right 4-digit answers may be off by what their rounding changes (half a unit in
    their last digit, or their own gap to the value), not by 1/1000 of each: summed over a step that cancels,
    that had O_1 = 0.0001 (the true −0.0011431, of the other sign) correct. −0.001100, exactly the step from
    the typed L's, stays right; an exponent typed with leading zeros counts its digits as 1e-3 does."""
    from derivations.engine.problem import problem_from_dict
    import tomllib

    checker = Checker(problem_from_dict(tomllib.loads(CANCEL)))
    L = {"forward.L[1]": "0.6457", "forward.L[2]": "0.6468"}
    assert checker.check({**L, "forward.O[1]": "0.0001000"})["forward.O[1]"].verdict == "wrong"
    assert checker.check({**L, "forward.O[1]": "-0.002400"})["forward.O[1]"].verdict == "wrong"
    right = checker.check({**L, "forward.O[1]": "-0.001100"})["forward.O[1]"]
    assert right.verdict == "correct" and right.note == "right from your rounded earlier answers"
    handout = Checker(load_problem())
    assert handout.check({"grad.w_b11": "-3.760e-00002"})["grad.w_b11"].verdict == "wrong"  # 2.7/1000 off
    assert handout.check({"grad.w_b11": "-3.750e-00002"})["grad.w_b11"].verdict == "correct"


def test_a_slip_of_every_layer_is_named_for_no_one_activation():
    """ReLU then sigmoid: one 'activation skipped' slip serves both layers, so its words name neither (a sigmoid
    layer's H typed for L was 'ReLU skipped … Apply ReLU'); a network of one activation keeps its name."""
    from derivations.teaching.mistakes import catalogue

    two = catalogue(load_problem(Path(__file__).parents[1] / "docs" / "problems" / "two-layers.toml"))
    slip = next(m for m in two if m.name == "activation-skipped")
    assert "ReLU" not in slip.title + slip.hint and "ReLU, sigmoid" in slip.explanation
    handout = next(m for m in catalogue(load_problem()) if m.name == "activation-skipped")
    assert handout.title.startswith("ReLU skipped")
