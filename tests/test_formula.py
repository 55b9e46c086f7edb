"""Formula answers judged by equivalence, with the slip named: the answers are written here by hand (the
rewritings and slips a student makes), never printed from the package's own closed forms."""

import builtins
import time

import pytest
import sympy

from derivations import load_problem
from derivations.engine.expression import MAX_LENGTH
from derivations.engine.problem import make_problem
from derivations.teaching.formula import CORRECT, NOT_GENERAL, NUMBER, ONE_PATH, Judge

from conftest import ROOT

MAZUR = ROOT / "derivations" / "problems" / "mazur.toml"


@pytest.fixture(scope="module")
def handout():
    return Judge(load_problem(), "w_b11")


@pytest.fixture(scope="module")
def mazur():
    return Judge(load_problem(MAZUR), "w_b11")


def two_hidden(loss="cross_entropy", y=(1, 0)):
    """Two hidden ReLU layers (2-3-2-2), softmax output: weights of both signs, so some units are dead."""
    W = [[[sympy.Rational(v, 10) for v in row] for row in M] for M in (
        [[3, -2], [1, 4], [-5, 2]], [[2, -1, 3], [4, 2, -3]], [[1, -2], [3, 1]])]
    return make_problem((2, 3, 2, 2), "relu", loss, (sympy.Rational(1, 2), sympy.Rational(-3, 10)), y, W)


@pytest.mark.parametrize("answer", [
    "((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·L_1",  # the form
    "L_1*(Y_1*(1 - Y_1)*(Y_1 - y_1) - Y_1*Y_2*(Y_2 - y_2))",  # reordered
    "((Y_1 - y_1)·Y_1·(1 - Y_1) - (1 - Y_1 - y_2)·(1 - Y_1)·Y_1)·L_1",  # Y_2 = 1 − Y_1 substituted
    "L1 Y1(1 − Y1)(Y1 − y1) − L1 Y1 Y2 (Y2 − y2)",  # implicit multiplication, the Unicode minus, no underscores
    "L_1 × Y_1 Y_2 (Y_1 − y_1 − Y_2 + y_2)",  # factored (Y_1 + Y_2 = 1 used)
    "L_1·σ(O_1 − O_2)·σ(O_2 − O_1)·(Y_1 − y_1 − Y_2 + y_2)",  # in the logits
])
def test_rewritings_of_the_handouts_gradient_are_correct(handout, answer):
    mark = handout.judge(answer)
    assert mark.verdict == CORRECT, (answer, mark.line())


def test_a_correct_answer_says_how_it_was_established(handout):
    assert handout.judge("((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·L_1").how == "proved"
    assert handout.judge("L_1 Y_1 Y_2 (Y_1 - y_1 - Y_2 + y_2)").how.startswith("checked numerically at ")


@pytest.mark.parametrize("answer, slip", [
    ("(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1", ONE_PATH),  # one path of the two
    ("(Y_1 - y_1)·L_1", "softmax-skipped-backward"),  # the Jacobian skipped
    ("((y_1 - Y_1)·Y_1·(1 - Y_1) - (y_2 - Y_2)·Y_2·Y_1)·L_1", "gradient-sign"),
    ("(Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1", "factor-dropped"),  # L_1 left out
    ("((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·H_1", "weight-gradient-pre-activation"),
    ("((Y_1 - y_1)·Y_1·(1 - Y_1) + (Y_2 - y_2)·Y_2·Y_1)·L_1", "softmax-cross-term-sign"),
    ("2((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·L_1", "loss-derivative-no-mean"),
])
def test_a_wrong_formula_names_its_slip(handout, answer, slip):
    mark = handout.judge(answer)
    assert mark.verdict == "wrong" and slip in [m.name for m in mark.mistakes], (answer, mark.line())


def test_one_path_names_its_twin_and_says_they_tie(handout):
    mark = handout.judge("(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1")
    assert [m.name for m in mark.mistakes] == ["softmax-cross-term-dropped", ONE_PATH]
    assert "same formula" in mark.note


@pytest.mark.parametrize("answer", ["-0.0375", "-3/80", "−0.0375", "0"])
def test_a_bare_number_is_not_a_formula(handout, answer):
    mark = handout.judge(answer)
    assert mark.verdict == "wrong" and mark.kind == NUMBER and mark.line() == NUMBER


def test_the_right_value_at_the_handouts_numbers_is_not_the_general_form(handout):
    # Both paths give −3/160 on the handout (every weight 0.1): twice one path is the value, not the formula.
    mark = handout.judge("2(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1")
    assert mark.verdict == "wrong" and mark.kind == NOT_GENERAL and not mark.mistakes


@pytest.mark.parametrize("answer, where", [
    ("(Y_1 - y_1) L_1 +", "position 18"),
    ("(Y_1 - y_1)(L_1", "position 16"),
    ("Y_3 L_1", "position 1"),
    ("foo(L_1)", "known function"),
    ("1[H_1 < 0]", "position 7"),
])
def test_an_unreadable_answer_is_not_a_formula_with_its_position(handout, answer, where):
    line = handout.judge(answer).line()
    assert line.startswith("not a formula: ") and where in line and "\n" not in line, line


HOSTILE = [
    "__import__('os').system('touch /tmp/formula-pwned')",
    "__import__(Y_1)",
    "(" * 3000 + "Y_1" + ")" * 3000,
    "(" * 240 + "Y_1" + ")" * 240,  # within the length: too deep
    "+".join(["Y_1·L_1"] * 1250),  # a 10,000-character sum
    "+".join(["Y_1"] * 125),  # within the length: judged
    "exp(" * 39 + "Y_1" + ")" * 39,  # a tower of exponentials: no value, never billions of digits
    "((((Y_1 + Y_2 + L_1 + L_2 + H_1 + H_2)^8)^8)^8)",  # no symbolic expansion of a 512th power
    "Y_1.__class__", "lambda: 1", "'Y_1'", "Y_1; import os", "1e999999 Y_1", "9" * 400 + " Y_1",
]


@pytest.mark.parametrize("answer", HOSTILE)
def test_a_hostile_answer_is_one_verdict_line_within_two_seconds_and_runs_nothing(handout, monkeypatch, answer):
    def refuse(*args, **kwargs):
        raise AssertionError("evaluated")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse)
    monkeypatch.setattr(sympy, "sympify", refuse)
    monkeypatch.setattr(sympy, "parse_expr", refuse, raising=False)
    started = time.monotonic()
    mark = handout.judge(answer)
    assert time.monotonic() - started < 2
    line = mark.line()
    assert mark.verdict == "wrong" and "\n" not in line and len(line) < 300, line
    if len(answer) > MAX_LENGTH:
        assert line == f"not a formula: expected at most {MAX_LENGTH} characters, got {len(answer)}"


def test_mazurs_gradient_in_its_outputs_or_its_sigmoids(mazur):
    assert mazur.judge("(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1").verdict == CORRECT
    assert mazur.judge("(σ(O_1) - y_1) σ(O_1) (1 - σ(O_1)) σ(H_1)").verdict == CORRECT
    assert mazur.judge("(Y_1 - y_1)Y_1(1 - Y_1)σ(w^a_11 x_1 + w^a_12 x_2 + b^a_1)").verdict == CORRECT
    names = [m.name for m in mazur.judge("(Y_1 - y_1)·L_1").mistakes]
    assert "sigmoid-skipped-backward" in names, names
    assert "gradient-sign" in [m.name for m in mazur.judge("(y_1 - Y_1)·Y_1·(1 - Y_1)·L_1").mistakes]


def test_mazurs_bias_and_first_layer():
    p = load_problem(MAZUR)
    assert Judge(p, "b_b2").judge("(Y2 - y2) Y2 (1 - Y2)").verdict == CORRECT
    j = Judge(p, "w_a11")
    right = "((Y_1 - y_1)Y_1(1 - Y_1)w^b_11 + (Y_2 - y_2)Y_2(1 - Y_2)w^b_21) L_1(1 - L_1) x_1"
    assert j.judge(right).verdict == CORRECT
    one = j.judge("(Y_1 - y_1)Y_1(1 - Y_1)w^b_11 L_1(1 - L_1) x_1")
    assert ONE_PATH in [m.name for m in one.mistakes], one.line()
    dropped = j.judge("((Y_1 - y_1)Y_1(1 - Y_1)w^b_11 + (Y_2 - y_2)Y_2(1 - Y_2)w^b_21) x_1")
    assert "activation-derivative-dropped" in [m.name for m in dropped.mistakes], dropped.line()
    transposed = j.judge("((Y_1 - y_1)Y_1(1 - Y_1)w^b_12 + (Y_2 - y_2)Y_2(1 - Y_2)w^b_22) L_2(1 - L_2) x_1")
    assert transposed.verdict == "wrong"


def test_two_hidden_layers_with_the_step_and_the_layers_names():
    j = Judge(two_hidden(), "w_b11")
    # ∇O = Y − y for softmax with cross-entropy (the targets sum to 1: sampled so)
    right = "(((Y_1 - y_1) w^c_11 + (Y_2 - y_2) w^c_21) 1[H^(2)_1 > 0]) L^(1)_1"
    assert j.judge(right).verdict == CORRECT
    assert j.judge("((Y1 - y1) w_c11 + (Y2 - y2) w_c21) ReLU'(H2_1) L1_1").verdict == CORRECT
    skipped = j.judge("((Y_1 - y_1) w^c_11 + (Y_2 - y_2) w^c_21) L^(1)_1")
    assert "activation-derivative-one" in [m.name for m in skipped.mistakes], skipped.line()


def test_targets_are_drawn_as_the_loss_accepts_them():
    # Y_1 − y_1 is ∇O_1 only where the targets sum to 1, as cross-entropy asks: drawn so, it is correct.
    j = Judge(make_problem((2, 2), "relu", "cross_entropy", (1, 2), (1, 0), [[[1, 2], [3, 4]]]), "w_a11")
    assert j.judge("(Y_1 - y_1) x_1").verdict == CORRECT
    assert j.judge("-y_1 (1 - Y_1) x_1").verdict == "wrong"  # agrees only where y_2 = 0
    assert all(abs(sum(p[s] for s in j.d.symbols.y[0]) - 1) < 1e-40 for p in j.points)


def test_the_points_are_the_same_on_every_run_and_include_dead_units():
    a, b = Judge(two_hidden(), "w_a11"), Judge(two_hidden(), "w_a11")
    assert a.points == b.points and len(a.points) >= 6
    assert any(t == 0 for t in a.true) and sum(t != 0 for t in a.true) == 6


def test_several_samples_are_refused_in_one_line():
    from derivations.engine.errors import ProblemError

    p = load_problem(ROOT / "tests" / "problems" / "two-samples.toml")
    with pytest.raises(ProblemError, match="one sample"):
        Judge(p, "w_b11")


@pytest.mark.slow
def test_the_benchmarks_rewritings_are_correct_and_its_slips_named():
    """benchmarks/formula.py, two blanks of each base: its own chain rule writes the rewritings and slips."""
    from conftest import load_benchmark

    figures = load_benchmark("formula").run(quick=True)
    assert figures["rewritings"] >= 30 and figures["slips"] >= 40
    assert figures["correct"] >= 0.99 * figures["rewritings"], figures["misses"]
    assert figures["named"] >= 0.95 * figures["slips"], figures["misses"]
    assert figures["worst"] < 2
