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


# -- the output layer's shared bias under a softmax: exactly 0, by the softmax lemma ---------------------------

SOFTMAX_SHARED = {
    "relu, mse, one sample": {
        "network": {"layers": [3, 4, 2], "activation": "relu", "output": "softmax", "loss": "mse", "bias": True,
                    "shared_bias": True},
        "data": {"x": [0.9, 0.5, 0.1], "y": [1, 0]},
        "init": {"W_a": 0.1, "W_b": [[0.1, 0.2, 0.3, 0.4], [0.5, 0.1, 0.2, 0.3]], "b_a": 0.1, "b_b": 0.2},
        "worksheet": {"ask": ["b_b"]}},
    "tanh, cross-entropy, two samples": {
        "network": {"layers": [2, 3, 2], "activation": "tanh", "loss": "cross_entropy", "bias": True, "shared_bias": True},
        "data": {"x": [[0.5, -0.2], [0.1, 0.3]], "y": [[1, 0], [0, 1]]},
        "init": {"W_a": [[0.1, 0.2], [-0.3, 0.4], [0.2, -0.1]], "W_b": [[0.3, -0.2, 0.1], [0.2, 0.1, -0.4]],
                 "b_a": 0.1, "b_b": -0.2},
        "worksheet": {"ask": ["b_b", "b_a"]}},
    "sigmoid, cross-entropy, three outputs": {  # its ∇O do not cancel in floats: 0 was marked wrong
        "network": {"layers": [2, 3, 3], "activation": "sigmoid", "loss": "cross_entropy", "bias": True,
                    "shared_bias": True},
        "data": {"x": [0.7, -0.3], "y": [0, 1, 0]},
        "init": {"W_a": [[0.1, 0.2], [-0.3, 0.4], [0.2, -0.1]], "W_b": [[0.3, -0.2, 0.1], [0.2, 0.1, -0.4], [0.5, 0.3, -0.7]],
                 "b_a": 0.1, "b_b": -0.2},
        "worksheet": {"ask": ["b_b", "w_b11"]}},
}


def _softmax_shared(case: str):
    return problem_from_dict(SOFTMAX_SHARED[case], f"{case}.toml")


def _write(tmp_path, case: str) -> str:
    """The case as a problem file, for the command lines."""
    doc = SOFTMAX_SHARED[case]
    lines = []
    for table, fields in doc.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    path = tmp_path / "softmax_shared.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("case", SOFTMAX_SHARED)
def test_the_softmax_output_shared_bias_gradient_is_exactly_zero_and_its_step_exact(case):
    """The value is the integer 0 (no 50-digit cancellation of exp(±1/40) terms), the lemma that makes it so is
    proved, and one descent step leaves b_b exactly where it was."""
    from derivations.engine.values import lemma_zeros

    p = _softmax_shared(case)
    v = evaluate(p)
    assert v.grad("b_b") == 0 and v.grad("b_b").is_Integer
    assert v.lookup("grad.b_b") == 0 and v.decimal(v.lookup("grad.b_b")).is_zero
    assert {name: th.verdict for name, th in v.zeros.items()} == {"b_b": "proved"}
    assert set(lemma_zeros(derive(p))) == {"b_b"}
    assert v.descent(p.step_lr, ["b_b"]) == {"b_b": Rational(p.biases[-1][0])}
    assert v.value(-p.step_lr * derive(p).gradient("b_b")) == 0
    assert not v.grad("b_a").is_zero  # the hidden layer's shared bias is not a softmax's: it learns
    # the units' gradients themselves are untouched: only their sum is 0
    gO = derive(p).symbols.grad("O")
    assert v.value(gO[0]) != 0 and v.value(gO[-1]) != 0


def test_a_mistake_that_changes_the_softmax_is_not_given_the_lemma():
    """A slip's derivation with the output's Jacobian replaced (the identity's) is no softmax: its Σ ∇O is not 0
    and no zero is claimed; a slip elsewhere (the loss's local derivative doubled) keeps the lemma."""
    from derivations.engine.derivation import Derivation
    from derivations.engine.values import lemma_zeros

    p = _softmax_shared("relu, mse, one sample")
    identity = Derivation(p, {"output.local": lambda Y, k, j: Rational(1 if k == j else 0)})
    assert lemma_zeros(identity) == {}
    assert evaluate(identity).value(identity.gradient("b_b")) != 0
    doubled = Derivation(p, {"loss.local": lambda Y, y, i: 2 * derive(p).loss_fn.local(Y, y, i)})
    assert set(lemma_zeros(doubled)) == {"b_b"}


def test_the_worked_solution_says_0_and_why(tmp_path, capsys):
    from derivations.cli.print import main as print_main

    config = _write(tmp_path, "relu, mse, one sample")
    assert print_main(["--config", config, "--param", "b_b"]) == 0
    out = capsys.readouterr().out
    assert "  ∂ℒ/∂b^b = ∇O_1 + ∇O_2 = −0.253085 + 0.253085 = 0\n" in out
    assert ("  Softmax lemma, proved: Σ_j ∇O_j = 0 for any loss of the softmax output, so ∂ℒ/∂b^b = 0 exactly, "
            "whatever the numbers.\n") in out
    assert "  closed form, in the weights, x and y: ∂ℒ/∂b^b = 0\n" in out
    assert "≈ 0.0" not in out and "exp" not in out and "e^(" not in out
    assert print_main(["--config", config]) == 0  # the table of every gradient, with the same reason
    out = capsys.readouterr().out
    assert "  ∂ℒ/∂b_b = 0\n" in out and "so ∂ℒ/∂b_b = 0 exactly" in out


def test_the_json_gives_the_integer_0_with_no_underflow(tmp_path, capsys):
    from derivations.cli.print import main as print_main

    assert print_main(["--config", _write(tmp_path, "relu, mse, one sample"), "--format", "json"]) == 0
    b_b = json.loads(capsys.readouterr().out)["gradients"]["b_b"]
    assert b_b == {"exact": "0", "latex": "0", "value": 0.0, "decimal": "0.0"}  # no "float64": "underflow"


@pytest.mark.parametrize("case", SOFTMAX_SHARED)
def test_the_checker_and_the_key_take_0(case):
    """The checker marks 0 (however written) correct and a small nonzero number wrong, and the students' page's
    key prints 0, its step 0 and the bias unchanged, exactly."""
    from derivations.outputs.page import render_text
    from derivations.teaching import handout as h
    from derivations.teaching.check import Checker

    p = _softmax_shared(case)
    checker = Checker(p)
    assert checker.marking.true["grad.b_b"] == 0 and checker.marking.true["step.b_b"] == 0
    for answer in ("0", "0.0", "-0", "0/3"):
        assert checker.check({"grad.b_b": answer})["grad.b_b"].verdict == "correct", answer
    for answer in ("0.0001", "-1e-9"):
        assert checker.check({"grad.b_b": answer})["grad.b_b"].verdict == "wrong", answer
    key = render_text(h.layout(evaluate(p)), False)
    b = p.biases[-1][0]
    shown = f"{float(b):g}".replace("-", "−")  # the page's minus sign
    assert f"b^b − η∂ℒ/∂b^b = {shown} − 0.5·(0) = {shown} + (0) = {shown}\n" in key
    assert "(0.0)" not in key


@pytest.mark.slow
@pytest.mark.parametrize("answer, verdict", [("0", "correct"), ("0.0001", "wrong")])
def test_the_self_check_page_takes_0_for_the_softmax_shared_bias(browser, tmp_path, answer, verdict):
    """Three outputs, whose ∇O do not add to 0 in floats: the page's key is 0 as the checker's is."""
    from test_selfcheck_page import Page

    from derivations.outputs.selfcheck import write_page
    from derivations.teaching.check import Checker

    p = _softmax_shared("sigmoid, cross-entropy, three outputs")
    assert Checker(p).check({"grad.b_b": answer})["grad.b_b"].verdict == verdict
    page = Page(browser, write_page(evaluate(p), tmp_path / "selfcheck.html"))
    classes, _, _ = page.type("grad.b_b", answer)
    assert classes == {verdict} and page.errors == []
    page.page.close()
