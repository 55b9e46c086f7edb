"""The mistake catalogue and the answer checker: every mistake changes some blank, is recognised from its own
values, the handout's classic slips are named, follow-through, and the CLI's contract (exit codes, JSON)."""

import json
import subprocess
import sys

import pytest
from sympy import Float, ImmutableMatrix, Rational

from derivations import load_problem, make_problem
from derivations.cli.check import main
from derivations.teaching.check import Checker, numeric
from derivations.teaching.mistakes import catalogue

from conftest import random_problem

CONFIGS = [
    ((3, 4, 2), "relu", "mse", False, 1),
    ((2, 3, 3), "relu", "mse", False, 1),
    ((2, 3, 3), "sigmoid", "cross_entropy", False, 1),
    ((3, 2, 2), "tanh", "mse", True, 1),
    ((2, 3, 2, 3), ("tanh", "relu"), "mse", False, 1),
    ((2, 2, 2), "relu", "mse", False, 2),
    ((2, 3, 2), "leaky_relu", "cross_entropy", False, 1),
]


def _kink_problem():
    """A problem with H_1 = 0 exactly (ReLU'(0) matters) and a unit with H < 0."""
    h = Rational(1, 10)
    return make_problem((2, 3, 3), "relu", "mse", (Rational(1), Rational(1, 2)), (Rational(1), 0, 0),
                        [ImmutableMatrix([[h, -2 * h], [h, h], [-h, -h]]),
                         ImmutableMatrix([[h, 2 * h, -h], [3 * h, -h, h], [h, h, 2 * h]])], source="kink")


def problems():
    yield "handout", load_problem()
    yield "kink", _kink_problem()
    for seed, (layers, act, loss, bias, samples) in enumerate(CONFIGS):
        yield f"random{seed}", random_problem(seed, layers, act, loss, bias=bias, samples=samples)


@pytest.fixture(scope="module")
def checkers():
    return {name: Checker(p) for name, p in problems()}


def _typed(v) -> str:
    """A value as a student would type it: exact when rational, else 30 significant digits."""
    return str(v) if v.is_Rational else str(v.evalf(30))


def test_catalogue_names_are_unique_and_documented():
    for _, p in problems():
        names = [m.name for m in catalogue(p)]
        assert len(names) == len(set(names))
        assert all(m.title and m.explanation and m.hint for m in catalogue(p))


@pytest.mark.slow
def test_every_mistake_changes_some_blank_of_some_problem(checkers):
    every = {m.name for _, p in problems() for m in catalogue(p)}
    seen = {m.name for c in checkers.values() for changes in c.full.values() for m, _ in changes}
    assert every - seen == set(), f"mistakes that change no blank of any test problem: {sorted(every - seen)}"


@pytest.mark.slow
@pytest.mark.parametrize("mistake", [m.name for m in catalogue(_kink_problem())])
def test_each_mistake_fed_its_own_values_is_named(checkers, mistake):
    """On every test problem and every blank where the mistake's value differs from the true one (where it is
    distinguishable), typing that value back is 'wrong' with the mistake among the names (mistakes that
    coincide there are named together)."""
    tried = 0
    for name, c in checkers.items():
        for key, changes in c.full.items():
            for m, v in changes:
                if m.name != mistake:
                    continue
                t = numeric(c.true[key])
                if abs(numeric(v) - t) <= c.tolerance[key] * abs(t):
                    continue  # within the blank's tolerance (at least the 4 significant digits of MIN_TOL): not
                    #           distinguishable from a rounded right answer
                got = c.check({key: _typed(v)})[key]
                assert got.verdict == "wrong", f"{name}: {key} = {v} ({m.name}) judged {got.verdict}"
                assert m in got.mistakes, f"{name}: {key} = {v} should name {m.name}, named {[x.name for x in got.mistakes]}"
                tried += 1
    assert tried >= 1, f"{mistake} changes no blank of any test problem"


@pytest.mark.parametrize("name", [name for name, _ in problems()])
def test_true_values_are_correct(checkers, name):
    c = checkers[name]
    answers = {k: _typed(v) for k, v in c.true.items()}
    assert {v.verdict for v in c.check(answers).values()} == {"correct"}


@pytest.mark.parametrize("name", [name for name, _ in problems()])
def test_a_step_right_for_a_wrong_earlier_answer_follows(checkers, name):
    c = checkers[name]
    p = c.problem
    key_h = next(k for k in c.true if k.startswith("forward.H") and c.true[k] > 0)  # where L changes with H
    wrong_h = c.true[key_h]
    key_l = key_h.replace("forward.H", "forward.L")
    shifted = (wrong_h if wrong_h.is_Rational else Rational(str(Float(wrong_h, 20)))) + Rational(1, 7)
    from derivations.engine.ops import ACTIVATIONS

    act = ACTIVATIONS[p.activations[0]]
    l_value = act.forward(shifted)
    got = c.check({key_h: str(shifted), key_l: _typed(l_value)})
    assert got[key_h].verdict == "wrong"
    assert got[key_l].verdict == "follows" and got[key_l].follows_from == [key_h]


# -- the handout's named slips (the "done when") -------------------------------------------------------


@pytest.fixture(scope="module")
def handout_checker(checkers):
    return checkers["handout"]


@pytest.mark.parametrize("key, answer, names", [
    ("backward.dL_dY[1]", "-0.25", {"loss-factor-1/N"}),
    ("backward.dL_dO[1]", "-0.125", {"softmax-cross-term-dropped"}),
    ("grad.w_b11", "-0.01875", {"one-path-only", "softmax-cross-term-dropped"}),
    ("backward.dL_dY[1]", "0.5", {"gradient-sign"}),
    ("grad.w_b11", "-0.0375", set()),
])
def test_handout_slips_are_named(handout_checker, key, answer, names):
    got = handout_checker.check({key: answer})[key]
    if not names:
        assert got.verdict == "correct"
        return
    assert got.verdict == "wrong"
    assert names <= {m.name for m in got.mistakes}


@pytest.mark.parametrize("typed", ["0.15", ".15", "3/20", "1.5e-1", "15e-2"])
def test_answers_in_any_exact_spelling(handout_checker, typed):
    assert handout_checker.check({"forward.H[1]": typed})["forward.H[1]"].verdict == "correct"


@pytest.mark.parametrize("typed", ["−3/80", "-0.0375", "-375e-4"])
def test_negative_answers_with_unicode_minus(handout_checker, typed):
    assert handout_checker.check({"grad.w_b11": typed})["grad.w_b11"].verdict == "correct"


def test_l1_equal_to_a_wrong_h1_follows(handout_checker):
    got = handout_checker.check({"forward.H[1]": "0.25", "forward.L[1]": "0.25"})
    assert got["forward.H[1]"].verdict == "wrong"
    assert got["forward.L[1]"].verdict == "follows"


def test_transcendental_blank_tolerance_is_tighter_than_every_mistake(checkers):
    c = checkers["random2"]  # sigmoid, cross-entropy: irrational values
    some = [k for k in c.true if not c.true[k].is_Rational]
    assert some
    for key in some:
        t = c.true[key]
        for _, v in c.full[key]:
            assert abs(v - t) > c.tolerance[key] * abs(t)
        assert c.check({key: str(Float(t, 7))})[key].verdict == "correct"  # 7 significant digits


# -- follow-through that survives rounding; one diagnosis consistent with the sheet -----------------------


def _unequal_problem():
    """2-3-3 sigmoid, MSE, softmax: unequal weights, so every value is transcendental and W_b^T != W_b."""
    r = Rational
    return make_problem((2, 3, 3), "sigmoid", "mse", (r(1), r(1, 2)), (r(1), 0, 0),
                        [ImmutableMatrix([[r(3, 10), r(-1, 5)], [r(1, 10), r(2, 5)], [r(-1, 2), r(1, 5)]]),
                         ImmutableMatrix([[r(1, 5), r(7, 10), r(-3, 10)], [r(1, 2), r(-1, 10), r(2, 5)],
                                          [r(-2, 5), r(3, 10), r(1, 10)]])], source="unequal")


@pytest.fixture(scope="module")
def unequal_checker():
    return Checker(_unequal_problem())


def _four(v) -> Rational:
    from derivations.teaching.check import numeric

    n = numeric(v)
    return n if n == 0 else Rational(str(Float(n, 4)))


def _rounded_sheet(c: Checker, mistake: str) -> dict:
    """Every blank as a student with ``mistake`` writes it: each step from their own earlier answers (as
    written), to 4 significant digits."""
    from derivations.teaching.marking import marking_defs, blanks, settle
    from derivations.teaching.mistakes import variant

    dv = variant(c.problem, mistake)
    defs, sym = marking_defs(dv, blanks(dv))
    env = dict(c.marking.leaves)
    for s, e in defs.items():
        env[s] = _four(settle(e.xreplace(env)))
    return {k: str(Float(env[sym[k]], 4)) for k in c.blanks if not k.startswith("problem.")}


def test_rounded_sheet_with_the_transposed_weight_names_it_and_every_later_step_follows(unequal_checker):
    """The issue's done-when: one early mistake (W_b's row for its column in ∇L) on a sheet written to 4
    significant digits: the mistake is named where it enters, and every later step done right from it
    follows (it was 'wrong, no catalogued mistake' when follow-through was exact)."""
    c = unequal_checker
    got = c.check(_rounded_sheet(c, "backward-weight-transposed"))
    entered = [k for k in got if k.startswith("backward.dL_dL")]
    assert entered and all(got[k].verdict == "wrong" and [m.name for m in got[k].mistakes] == ["backward-weight-transposed"]
                           for k in entered)
    later = [k for k in got if k.startswith(("backward.dL_dH", "backward.dL_dx", "grad.w_a", "step.w_a", "descent.w_a"))]
    assert len(later) == 23 and {got[k].verdict for k in later} == {"follows"}  # (descent: the page's last step)
    before = [k for k in got if k not in entered and k not in later]
    assert {got[k].verdict for k in before} == {"correct"}, {k: got[k].verdict for k in before if got[k].verdict != "correct"}


def test_a_sheet_of_rounded_true_values_is_all_correct(unequal_checker):
    c = unequal_checker
    sheet = {k: str(Float(_four(v), 4)) for k, v in c.true.items() if not k.startswith("problem.")}
    assert {v.verdict for v in c.check(sheet).values()} == {"correct"}


def test_unnormalised_softmax_is_named_and_later_steps_follow_from_the_students_y(unequal_checker):
    c = unequal_checker
    got = c.check(_rounded_sheet(c, "softmax-unnormalised"))
    assert all("softmax-unnormalised" in [m.name for m in got[f"forward.Y[{k}]"].mistakes] for k in (1, 2, 3))
    later = [k for k in got if k.startswith(("backward.", "local.", "grad.")) or k == "forward.loss"]
    assert {got[k].verdict for k in later} <= {"follows", "correct"}
    assert sum(got[k].verdict == "follows" for k in later) >= 20


@pytest.mark.parametrize("name", ["handout", "unequal"])
def test_a_dropped_cross_term_with_a_right_dY_is_not_called_the_mse_factor(checkers, unequal_checker, name):
    c = checkers["handout"] if name == "handout" else unequal_checker
    sheet = {k: _typed(v) for k, v in c.true.items() if k.startswith("backward.dL_dY")}
    key, value = next((k, v) for k in c.full if k.startswith("backward.dL_dO")
                      for m, v in c.full[k] if m.name == "softmax-cross-term-dropped")
    sheet[key] = _typed(value)
    got = c.check(sheet)[key]
    names = [m.name for m in got.mistakes]
    assert got.verdict == "wrong" and "softmax-cross-term-dropped" in names and "loss-factor-1/N" not in names
    if any(m.name == "loss-factor-1/N" and v == value for m, v in c.full[key]):
        assert "loss-factor-1/N" in got.ruled_out


def test_a_sign_error_in_dY_is_not_also_one_path(handout_checker):
    got = handout_checker.check({"backward.dL_dY[1]": "0.5"})["backward.dL_dY[1]"]
    names = [m.name for m in got.mistakes]  # (Y_1 = 1/2: the target left out gives 0.5 too, named after it)
    assert names[0] == "gradient-sign" and "one-path-only" not in names


def test_mistakes_named_together_only_when_they_give_the_same_number(handout_checker):
    got = handout_checker.check({"grad.w_b11": "-0.01875"})["grad.w_b11"]
    assert len(got.mistakes) > 1 and "cannot tell them apart" in got.note
    c = handout_checker
    for m in got.mistakes:
        assert Rational("-0.01875") in [v for mm, v in c.full["grad.w_b11"] if mm is m]


def test_a_wrong_zero_earns_no_follow_through_for_what_it_makes_trivial(handout_checker):
    got = handout_checker.check({"forward.H[1]": "0", "forward.L[1]": "0"})
    assert got["forward.L[1]"].verdict == "wrong"
    assert got["forward.L[1]"].no_credit_from == ["forward.H[1]"] and "trivial" in got["forward.L[1]"].note
    got = handout_checker.check({"forward.H[1]": "-0.1", "forward.L[1]": "0"})  # a ReLU of a negative: real work
    assert got["forward.L[1]"].verdict == "follows"


def test_follow_through_tolerance_is_relative_and_documented(unequal_checker):
    """A step right from a wrong earlier answer follows within REL_TOL of the step's own value; 1% off does not."""
    from derivations.teaching.check import REL_TOL
    from derivations.teaching.marking import settle

    c = unequal_checker
    h = c.true["forward.H[1]"] + Rational(1, 7)
    L = c.marking.defs[c.marking.sym["forward.L[1]"]]
    target = settle(L.xreplace({c.marking.sym["forward.H[1]"]: h}))
    ok = str(Float(target * (1 + REL_TOL / 2), 20))  # 20 significant digits: a decimal (a fraction is exact or wrong)
    off = str(Float(target * Rational(101, 100), 20))
    assert c.check({"forward.H[1]": str(h), "forward.L[1]": ok})["forward.L[1]"].verdict == "follows"
    assert c.check({"forward.H[1]": str(h), "forward.L[1]": off})["forward.L[1]"].verdict == "wrong"


# -- the command line --------------------------------------------------------------------------------


def _answers(tmp_path, body: str):
    path = tmp_path / "answers.toml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_names_the_handout_slips(tmp_path, capsys):
    """One slip (the MSE factor in ∇Y_1) named where it enters and again where the sheet carries it into ∇O_1
    (∇Y_2 left empty: the same slip gives it); the gradient done right from ∇O_1 follows from it."""
    path = _answers(tmp_path, '[answers]\n"backward.dL_dY[1]" = -0.25\n"backward.dL_dO[1]" = -0.125\n'
                              '"grad.w_b11" = -0.01875\n"forward.H[1]" = 0.25\n"forward.L[1]" = 0.25\n')
    code, out, _ = _run(capsys, path)
    assert code == 1
    lines = out.splitlines()
    assert any(l.startswith("backward.dL_dY[1] = -0.25: wrong: the MSE factor: 1/N in place of 2/N") for l in lines)
    assert any(l.startswith("backward.dL_dO[1] = -0.125: wrong: the MSE factor") for l in lines)
    assert any(l.startswith("forward.L[1] = 0.25: follows from your forward.H[1] = 0.25") for l in lines)
    assert "correct value" not in out
    path = _answers(tmp_path, '[answers]\n"backward.dL_dO[1]" = -0.125\n"grad.w_b11" = -0.01875\n')
    code, out, _ = _run(capsys, path)
    assert "grad.w_b11 = -0.01875: follows from your backward.dL_dO[1] = -0.125" in out


def test_cli_all_correct_exits_0_and_reveal_shows_values(tmp_path, capsys):
    path = _answers(tmp_path, '[answers]\n"forward.H[1]" = 0.15\n"grad.w_b21" = "3/80"\n"grad.w_a11" = 0\n')
    code, out, _ = _run(capsys, path)
    assert code == 0 and out.endswith("3 of 3 correct\n")
    path = _answers(tmp_path, '[answers]\n"grad.w_b21" = "-3/80"\n')
    code, out, _ = _run(capsys, path, "--reveal")
    assert code == 1 and "the correct value = 3/80 = 0.0375" in out and "≈" not in out


def test_cli_json(tmp_path, capsys):
    path = _answers(tmp_path, '[answers]\n"backward.dL_dY[1]" = "-1/4"\n"forward.H[1]" = ".15"\n')
    code, out, _ = _run(capsys, path, "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["answers"]["backward.dL_dY[1]"]["verdict"] == "wrong"
    assert data["answers"]["backward.dL_dY[1]"]["mistakes"] == ["loss-factor-1/N"]
    assert data["answers"]["forward.H[1]"] == {"verdict": "correct", "answer": ".15", "mistakes": []}
    assert "correct" not in data["answers"]["backward.dL_dY[1]"]
    code, out, _ = _run(capsys, path, "--format", "json", "--reveal")
    assert json.loads(out)["answers"]["backward.dL_dY[1]"]["correct"] == "-1/2"


@pytest.mark.parametrize("body, says", [
    ('[answers]\n"forward.Q[1]" = 1\n"grad.w_z11" = 2\n', ["forward.Q[1]", "grad.w_z11"]),
    ('[answers]\n"forward.H[1]" = [1]\n', ["forward.H[1]"]),
    ('"forward.H[1]" = 1\n', ["[answers]"]),
    ('[answers\n', ["TOML"]),
    ('[answers]\n', ["at least one answer"]),  # "0 of 0 correct" is not all correct
])
def test_cli_bad_input_exits_2_naming_it(tmp_path, capsys, body, says):
    code, out, err = _run(capsys, _answers(tmp_path, body))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    for s in says:
        assert s in err


def test_cli_on_a_random_problem(tmp_path, capsys):
    p = random_problem(3, (3, 4, 2), "relu", "mse")
    c = Checker(p)
    config = tmp_path / "p.toml"
    rows = lambda M: "[" + ", ".join("[" + ", ".join(f'"{v}"' for v in M.row(i)) + "]" for i in range(M.rows)) + "]"  # noqa: E731
    config.write_text(
        f'[network]\nlayers = [3, 4, 2]\nactivation = "relu"\nloss = "mse"\n'
        f'[data]\nx = [{", ".join(chr(34) + str(v) + chr(34) for v in p.x)}]\ny = [{", ".join(chr(34) + str(v) + chr(34) for v in p.y)}]\n'
        f'[init]\nW_a = {rows(p.weights[0])}\nW_b = {rows(p.weights[1])}\n', encoding="utf-8")
    m, wrong = next((m, v) for m, v in c.full["grad.w_b11"] if m.name == "gradient-sign")
    path = _answers(tmp_path, f'[answers]\n"grad.w_b11" = "{Float(wrong, 20)}"\n"grad.w_b12" = "{Float(c.true["grad.w_b12"], 20)}"\n')
    code, out, err = _run(capsys, path, "--config", str(config), "--format", "json")
    assert code == 1, err
    data = json.loads(out)["answers"]
    assert "gradient-sign" in data["grad.w_b11"]["mistakes"]
    assert data["grad.w_b12"]["verdict"] == "correct"


def test_cli_as_a_module(tmp_path):
    path = _answers(tmp_path, '[answers]\n"forward.H[1]" = 0.15\n')
    run = subprocess.run([sys.executable, "-m", "derivations.check", path], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "forward.H[1] = 0.15: correct\n1 of 1 correct\n"


def test_grad_keys_in_any_role_spelling(handout_checker):
    got = handout_checker.check({"grad.W_b[2,1]": "3/80", "grad.w^a_11": "0"})
    assert {k: v.verdict for k, v in got.items()} == {"grad.w_b21": "correct", "grad.w_a11": "correct"}
    with pytest.raises(Exception, match="given twice"):
        handout_checker.check({"grad.W_b[2,1]": "3/80", "grad.w_b21": "3/80"})


@pytest.fixture(scope="module")
def mazur_checker():
    from derivations.engine.problem import HANDOUT

    return Checker(load_problem(HANDOUT.with_name("mazur.toml")))


def _descent_sheet(grad: str, change: str, new: str | None = None) -> dict:
    out = {"grad.w_b11": grad, "step.w_b11": change}
    if new is not None:
        out["descent.w_b11"] = new
    return out


def test_descent_step_done_right_from_a_wrong_gradient_follows_from_it(mazur_checker):
    """w^b_11 = 0.4, η = 1/2: a wrong gradient 0.1, the change −0.05 and the step 0.35 done right from it."""
    got = mazur_checker.check(_descent_sheet("0.1", "-0.05", "0.35"))
    assert got["grad.w_b11"].verdict == "wrong"
    assert got["step.w_b11"].verdict == "follows" and got["step.w_b11"].follows_from == ["grad.w_b11"]
    assert got["descent.w_b11"].verdict == "follows" and got["descent.w_b11"].follows_from == ["step.w_b11"]


def test_descent_step_from_a_rounded_right_gradient_is_correct(mazur_checker):
    got = mazur_checker.check(_descent_sheet("0.08217", "-0.041085", "0.358915"))  # 0.4 − 0.5·0.08217
    assert got["step.w_b11"].verdict == "correct" and got["descent.w_b11"].verdict == "correct"


def test_descent_step_from_a_wrong_zero_gradient_earns_no_follow_through(mazur_checker):
    got = mazur_checker.check(_descent_sheet("0", "0", "0.4"))
    assert got["step.w_b11"].verdict == "wrong" and got["step.w_b11"].no_credit_from == ["grad.w_b11"]
    assert got["descent.w_b11"].verdict == "wrong" and got["descent.w_b11"].no_credit_from == ["step.w_b11"]


@pytest.mark.parametrize("grad, change, mistake", [
    ("0.08217", "0.041085", "descent-sign"),  # +0.5·0.08217: the right gradient rules out ∇Y's sign
    ("0.1", "0.05", "descent-sign"),  # the sign flipped on the student's own (wrong) gradient
    ("0.1", "-0.1", "descent-no-rate"),  # −0.1: η left out, on the student's own gradient
    ("0.08217", "0", "descent-no-step"),
])
def test_descent_step_mistake_is_named_from_the_students_own_gradient(mazur_checker, grad, change, mistake):
    got = mazur_checker.check(_descent_sheet(grad, change))["step.w_b11"]
    assert got.verdict == "wrong" and [m.name for m in got.mistakes] == [mistake]


@pytest.mark.parametrize("change, new", [("0.0002193", "0.1502"), ("0", "0.15"), ("-0.0004386", "0.1496")])
def test_a_tiny_step_is_judged_on_the_change_not_on_the_rounded_weight(mazur_checker, change, new):
    """w^a_11 = 0.15 moves by −0.0002193: a sign flipped, no step or the rate left out are wrong at the change,
    however the new weight rounds."""
    g = mazur_checker.true["grad.w_a11"]
    got = mazur_checker.check({"grad.w_a11": str(Float(g, 6)), "step.w_a11": change, "descent.w_a11": new})
    assert got["step.w_a11"].verdict == "wrong" and got["step.w_a11"].mistakes


ROUNDED_TOML = """[network]
layers = [3, 4, 2]
activation = "relu"
loss = "mse"
[data]
x = [0.88, -0.48, -0.7]
y = [0, 1]
[init]
W_a = -0.57
W_b = 0.27
"""


@pytest.mark.parametrize("typed, verdict", [("0.1847", "correct"), ("0.18468", "correct"), ("0.185", "short"),
                                            ("0.18", "short"), ("0.19", "wrong"), ("0,1847", "correct")])
def test_an_exact_value_rounded_to_4_digits_is_correct_and_fewer_digits_are_too_few(tmp_path, typed, verdict):
    """O_1 = 0.27·4·0.171 = 0.18468 exactly: 0.1847 (4 significant digits) is correct, as any value's; 0.185
    and 0.18 agree with it at fewer digits: wrong, too few digits; 0.19 is simply wrong."""
    path = tmp_path / "p.toml"
    path.write_text(ROUNDED_TOML, encoding="utf-8")
    got = Checker(load_problem(path)).check({"forward.O[1]": typed})["forward.O[1]"]
    assert got.verdict == ("correct" if verdict == "correct" else "wrong")
    assert got.short == (verdict == "short") and (("too few digits" in got.note) == (verdict == "short"))


def test_an_answer_that_is_not_a_number_is_its_blanks_verdict_the_rest_judged(tmp_path, capsys):
    """As on the page and in grade: an unreadable answer (1/0, 2*3, 3.75%, an ambiguous 1,234) is that blank's
    "not a number", an empty one "not answered", and the sheet's other answers are judged (the checker refused
    the whole sheet over one cell); a decimal comma with a no-break space after it, and an exponent written
    with leading zeros, are read as the page reads them."""
    body = ('[answers]\n"forward.H[1]" = "1/0"\n"forward.H[2]" = "2*3"\n"forward.H[3]" = "3.75%"\n'
            '"forward.L[1]" = "1,234"\n"forward.L[2]" = ""\n"grad.w_b11" = "-0,0375\u00a0"\n'
            '"grad.w_b21" = "3.75e-0002"\n')
    code, out, err = _run(capsys, _answers(tmp_path, body))
    assert code == 1 and err == ""
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert lines["forward.H[1] = 1/0"].startswith("not a number (") and "division by zero" in lines["forward.H[1] = 1/0"]
    assert lines["forward.H[2] = 2*3"].startswith("not a number (")
    assert lines["forward.H[3] = 3.75%"].startswith("not a number (")
    assert "could be 1.234 or 1234" in lines["forward.L[1] = 1,234"]
    assert lines["forward.L[2] = (empty)"] == "not answered"
    assert lines["grad.w_b11 = -0,0375"] == "correct" and lines["grad.w_b21 = 3.75e-0002"] == "correct"
    assert out.splitlines()[-1] == "2 of 7 correct"


def test_a_mistake_in_the_answers_file_names_the_file(tmp_path, capsys):
    """As a problem file's mistakes name it: the answers file's unknown key, first in the line."""
    path = _answers(tmp_path, '[answers]\n"forward.Q[1]" = 1\n')
    code, out, err = _run(capsys, path)
    assert code == 2 and err.startswith(f"python -m derivations.check: error: {path}: answers: unknown key 'forward.Q[1]'"), err


def test_the_report_is_in_the_pages_order_whatever_the_files(tmp_path, capsys):
    """The verdicts come in the page's order (the marking's), not the file's nor the blanks table's: the loss
    before the path blocks, ReLU'(H_1) inside the w^a_11 block, an unreadable answer in its place."""
    body = ('[answers]\n"grad.w_a11" = "0"\n"local.dL_dH[1]" = "1"\n"grad.w_b11" = "-0.0375"\n'
            '"forward.loss" = "0.25"\n"forward.H[2]" = "x"\n"forward.H[1]" = "0.15"\n')
    code, out, err = _run(capsys, _answers(tmp_path, body))
    keys = [line.split(" = ")[0] for line in out.splitlines() if " = " in line and not line.startswith(" ")]
    order = Checker(load_problem()).marking.order
    assert keys == sorted(keys, key=order.index) and keys[0] == "forward.H[1]" and keys[1] == "forward.H[2]", keys
