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
        assert c.check({"backward.dL_dO[1]": "1"})["backward.dL_dO[1]"].verdict == "correct"  # Y − y = 1 − e^−logit…
        assert c.check({"forward.loss": f"{logit}.0"})["forward.loss"].verdict == "correct"  # −ln(1 − Y) ≈ logit
