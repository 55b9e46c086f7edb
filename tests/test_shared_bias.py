"""Shared biases (issue 34): ``[network] shared_bias = true``, one bias per layer read by every unit of it,
as Mazur states his example (b1 for both hidden units, b2 for both outputs)."""

import json
from pathlib import Path

import mpmath
import pytest
from sympy import Rational, diff

from derivations.cli.check import main as check_main
from derivations.engine.derivation import derive
from derivations.engine.errors import ProblemError
from derivations.engine.problem import load_problem, problem_from_dict
from derivations.engine.values import evaluate

PROBLEMS = Path(__file__).parents[1] / "derivations" / "problems"
SHARED = PROBLEMS / "mazur_shared.toml"


def _answers(tmp_path, answers: dict) -> str:
    path = tmp_path / "answers.toml"
    path.write_text("[answers]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in answers.items()), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def shared():
    return load_problem(SHARED)


def test_mazurs_published_shared_bias_gradients_are_checked_correct(tmp_path, capsys):
    """Mazur's ∂E/∂b₁ = 0.018726 and ∂E/∂b₂ = 0.10040, to his digits: correct, exit 0."""
    answers = {"grad.b_a": "0.018726", "grad.b_b": "0.10040"}
    assert check_main([_answers(tmp_path, answers), "--config", str(SHARED)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 correct" in out


def _one_unit_slip() -> str:
    """The slip computed independently: the first hidden unit's share of ∂E/∂b₁ (a central difference of Mazur's
    E_total with b₁ moved in that unit only), to 5 significant digits."""
    with mpmath.workdps(40):
        b, h = mpmath.mpf("0.35"), mpmath.mpf("1e-12")
        share = (_mazur_loss((b + h, b), "0.60") - _mazur_loss((b - h, b), "0.60")) / (2 * h)
        return mpmath.nstr(share, 5)


def test_a_wrong_shared_bias_gradient_is_named(tmp_path, capsys):
    """One hidden unit's share given for ∂E/∂b₁ (0.0087714, from an independent mpmath pass): wrong, named as the
    one-unit slip."""
    assert _one_unit_slip() == "0.0087714"
    answers = {"grad.b_a": _one_unit_slip(), "grad.b_b": "0.10040"}
    assert check_main([_answers(tmp_path, answers), "--config", str(SHARED), "--format", "json"]) == 1
    marks = json.loads(capsys.readouterr().out)["answers"]
    assert marks["grad.b_a"]["verdict"] == "wrong"
    assert marks["grad.b_a"]["mistakes"] == ["shared-bias-one-unit"]
    assert marks["grad.b_b"]["verdict"] == "correct"


def test_a_per_unit_key_is_refused_on_a_shared_bias(shared):
    with pytest.raises(ProblemError, match="shared, one per layer.*write b_a"):
        evaluate(shared).lookup("grad.b_a1")
    with pytest.raises(ProblemError, match="write grad.b_a"):
        evaluate(shared).lookup("grad.b_a[1]")
    assert evaluate(shared).lookup("problem.b_a") == Rational("0.35")
    with pytest.raises(ProblemError, match="problem.b_b is one number .*: write problem.b_b"):
        evaluate(shared).lookup("problem.b_b[2]")


def test_the_shared_bias_is_one_symbol_and_its_gradient_the_sum_of_the_units(shared):
    d = derive(shared)
    assert [p.key() for p in d.params() if p.kind == "bias"] == ["b_a", "b_b"]
    H = d.symbols.grad("H")
    assert d.gradient("b_a") == H[0] + H[1]
    assert d.unit_shares("b_a") == [H[0], H[1]]
    # the chain rule's sum is SymPy's own derivative of the loss in the one symbol, at Mazur's numbers
    b = d.symbols.b[0][0]
    at = {s: v for s, v in evaluate(shared).of.items() if s in set(d.symbols.leaves())}
    gap = diff(d.substitute(d.symbols.total), b).xreplace(at) - evaluate(shared).lookup("grad.b_a")
    assert abs(gap.evalf(60)) < 1e-50


def test_mazur_shared_forward_values_are_mazur_per_unit(shared):
    """One bias of the same value per unit gives the same forward pass and weight gradients."""
    per_unit = evaluate(load_problem(PROBLEMS / "mazur.toml"))
    v = evaluate(shared)
    assert v.forward == per_unit.forward and v.gradients["W_a"] == per_unit.gradients["W_a"]
    assert v.lookup("grad.b_a") == per_unit.lookup("grad.b_a1") + per_unit.lookup("grad.b_a2")


def _mazur_loss(b1, b2):
    """Mazur's E_total written out independently (mpmath, his own formulas); ``b1`` one number, or one per
    hidden unit (for a unit's share of its gradient)."""
    sig = lambda t: 1 / (1 + mpmath.exp(-t))  # noqa: E731
    i1, i2, b2 = mpmath.mpf("0.05"), mpmath.mpf("0.10"), mpmath.mpf(b2)
    b_h1, b_h2 = b1 if isinstance(b1, tuple) else (b1, b1)
    w = [mpmath.mpf(t) for t in ("0.15", "0.20", "0.25", "0.30", "0.40", "0.45", "0.50", "0.55")]
    h1, h2 = sig(w[0] * i1 + w[1] * i2 + b_h1), sig(w[2] * i1 + w[3] * i2 + b_h2)
    o1, o2 = sig(w[4] * h1 + w[5] * h2 + b2), sig(w[6] * h1 + w[7] * h2 + b2)
    return (mpmath.mpf("0.01") - o1) ** 2 / 2 + (mpmath.mpf("0.99") - o2) ** 2 / 2


def test_exact_shared_bias_gradients_match_mpmath_central_differences(shared):
    """Central differences of E_total in b1 and b2 at 40 digits (step 1e-12: error about 1e-24) against the
    exact gradients, to a relative 1e-18."""
    v = evaluate(shared)
    with mpmath.workdps(40):
        b1, b2, h = mpmath.mpf("0.35"), mpmath.mpf("0.60"), mpmath.mpf("1e-12")
        numeric = {"b_a": (_mazur_loss(b1 + h, b2) - _mazur_loss(b1 - h, b2)) / (2 * h),
                   "b_b": (_mazur_loss(b1, b2 + h) - _mazur_loss(b1, b2 - h)) / (2 * h)}
        for name, want in numeric.items():
            exact = mpmath.mpf(str(v.lookup(f"grad.{name}").evalf(45)))
            assert abs(exact - want) <= mpmath.mpf("1e-18") * abs(want), (name, exact, want)
    assert round(float(v.lookup("grad.b_a")), 6) == 0.018726 and round(float(v.lookup("grad.b_b")), 5) == 0.10040


@pytest.mark.parametrize("network, message", [
    ({"bias": True, "shared_bias": "yes"}, "network.shared_bias: expected true or false"),
    ({"shared_bias": True}, "network.shared_bias: shared biases need biases: set bias = true"),
    ({"bias": False, "shared_bias": True}, "network.shared_bias: shared biases need biases"),
])
def test_shared_bias_is_validated_in_one_line(network, message):
    with pytest.raises(ProblemError) as err:
        problem_from_dict({"network": network, "data": {"x": [1, 2, 3], "y": [1, 0]}}, "p.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_shared_bias_given_per_unit_is_refused():
    doc = {"network": {"bias": True, "shared_bias": True}, "data": {"x": [1, 2, 3], "y": [1, 0]},
           "init": {"b_a": [1, 2, 3, 4]}}
    with pytest.raises(ProblemError, match=r"init.b_a: expected one number \(shared_bias = true"):
        problem_from_dict(doc, "p.toml")


def test_shared_bias_counts_one_parameter_per_layer(shared):
    assert shared.n_biases == 2 and shared.biases[0] == (Rational("0.35"),) * 2
    assert shared.describe().endswith("with shared biases")


def test_keys_csv_and_the_problem_file_of_a_variant_keep_the_shared_bias(shared):
    """A variant of the shared base is a shared-bias problem (its file says so) and its graded keys hold grad.b_a,
    whose value the independent NumPy oracle (the units' ∇H summed) confirms."""
    from derivations.teaching import drawing, graded, oracle
    from derivations.teaching.variant_file import problem_from_toml, variant_toml

    base = drawing.Base(shared)
    p = drawing.draw(base, "seed", "001")
    assert p.shared_bias and len(set(p.biases[0])) == 1
    text = variant_toml(base, p)
    assert "shared_bias = true" in text and problem_from_toml(text, "v").shared_bias
    values = evaluate(p)
    keys = dict(graded.graded(values))
    assert "grad.b_a" in keys and "grad.b_a1" not in keys and "descent.b_a" in keys
    ref = oracle.numpy_backprop(p)
    assert abs(float(keys["grad.b_a"]) - ref["grad"]["b_a"][0, 0]) <= 1e-12 * max(1, abs(ref["grad"]["b_a"][0, 0]))
    oracle.verify(values, graded.graded(values))  # raises on any disagreement


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["0.018726", _one_unit_slip(), "0.02"])
def test_the_self_check_page_marks_a_shared_bias_as_check_does(browser, tmp_path, shared, answer):
    from test_selfcheck_page import Page

    from derivations.outputs.selfcheck import write_page
    from derivations.teaching.check import Checker

    py = Checker(shared).check({"grad.b_a": answer})["grad.b_a"]
    page = Page(browser, write_page(evaluate(shared), tmp_path / "selfcheck.html"))
    classes, _, mistakes = page.type("grad.b_a", answer)
    assert classes == {py.verdict} and mistakes == {m.name for m in py.mistakes}
    assert page.errors == []
    page.page.close()


def test_the_theorems_hold_and_say_how_they_cover_shared_biases():
    """A symmetric init with shared biases: every theorem that applies holds (the training run included, whose
    step moves each shared bias as one number), and the symbolic ones say how they cover a shared bias."""
    from derivations.engine.theorems import SHARED_NOTE, theorems_for

    doc = {"network": {"layers": [2, 3, 2], "activation": "tanh", "bias": True, "shared_bias": True},
           "data": {"x": [0.5, -0.2], "y": [1, 0]}, "init": {"b_a": 0.1, "b_b": -0.2}}
    p = problem_from_dict(doc, "sym.toml")
    assert p.symmetric
    ths = theorems_for(p, every=True)
    assert all(th.holds for th in ths if th.applies)
    assert {th.key for th in ths if th.applies} >= {"symmetry", "permanence", "training_run"}
    assert all(SHARED_NOTE in th.notes for th in ths if th.key in ("symmetry", "permanence"))


def test_training_moves_every_copy_of_a_shared_bias_by_the_summed_gradient(shared):
    from derivations.engine.training import train

    h = train(shared, steps=1, lr=Rational(1, 2))
    g = float(evaluate(shared).lookup("grad.b_a"))
    assert h["params"][1]["b_a"] == [pytest.approx(0.35 - 0.5 * g, rel=1e-12)] * 2


def test_a_per_unit_answer_key_is_one_line_naming_the_shared_key(tmp_path, capsys):
    assert check_main([_answers(tmp_path, {"grad.b_a1": "0.0087714"}), "--config", str(SHARED)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'grad.b_a1'" in err and "grad.b_a" in err and err.count("\n") == 1


def test_the_pages_say_why_the_gradient_is_a_sum_and_the_worksheet_leaks_nothing(shared, capsys):
    from derivations.cli.print import main as print_main
    from derivations.outputs.page import render_text
    from derivations.teaching import handout as h

    sentence = "b^a is shared by the layer's units: its gradient is the sum of the units' gradients"
    page = h.layout(evaluate(shared))
    key, sheet = render_text(page, False), render_text(page, True)
    assert sentence in key and sentence in sheet
    assert "∂ℒ/∂b^a = ∇_(H_1) + ∇_(H_2)" in key and "0.01873" in key  # Mazur's 0.018726 to the key's 4 digits
    assert "0.01873" not in sheet and "0.0187" not in sheet
    assert {s.key for s in page.slots(given=False)} >= {"grad.b_a", "step.b_a", "descent.b_a"}
    assert print_main(["--config", str(SHARED), "--param", "b_a"]) == 0
    out = capsys.readouterr().out
    assert sentence in out and "∂ℒ/∂b^a = ∇H_1 + ∇H_2 = 0.00877135 + 0.00995425 ≈ 0.0187256" in out
    assert "∂ℒ/∂b^a = [" not in out  # never one unit's bracket for the shared bias
    assert print_main(["--config", str(SHARED), "--param", "b_a", "--format", "latex"]) == 0
    assert r"b^{a} \text{ is shared by the layer's units" in capsys.readouterr().out


def test_a_shared_output_bias_under_a_softmax_learns_nothing_and_the_variants_know_it():
    """Σ_i ∇O_i = 0 under a softmax (the softmax lemma), so the output layer's shared bias has gradient 0: the
    checker takes 0, and a variant asking for it is drawn (the lesson says 0) rather than refused."""
    from derivations.teaching import drawing
    from derivations.teaching.check import Checker

    doc = {"network": {"layers": [2, 3, 2], "activation": "tanh", "loss": "cross_entropy", "bias": True,
                       "shared_bias": True},
           "data": {"x": [[0.5, -0.2], [0.1, 0.3]], "y": [[1, 0], [0, 1]]},
           "init": {"W_a": [[0.1, 0.2], [-0.3, 0.4], [0.2, -0.1]], "W_b": [[0.3, -0.2, 0.1], [0.2, 0.1, -0.4]],
                    "b_a": 0.1, "b_b": -0.2},
           "worksheet": {"ask": ["b_b", "b_a"]}}
    p = problem_from_dict(doc, "softmax-shared.toml")
    v = evaluate(p)
    assert v.decimal(v.lookup("grad.b_b")).is_zero and not v.decimal(v.lookup("grad.b_a")).is_zero
    assert Checker(p).check({"grad.b_b": "0"})["grad.b_b"].verdict == "correct"
    base = drawing.Base(p)
    assert drawing.lesson_zero(base, p, "b_b") and not drawing.lesson_zero(base, p, "b_a")
    q = drawing.draw(base, "seed", "001")
    assert q.shared_bias and evaluate(q).decimal(evaluate(q).lookup("grad.b_b")).is_zero
