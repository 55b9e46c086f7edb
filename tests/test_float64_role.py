"""``{deriv}`grad.NAME | float64```: a gradient as float64 computes it, the derivation's own formulas run in Python
floats, so that a page can contrast the exact value with a float's digits without typing either."""

import pytest
from sympy import Rational

from derivations import evaluate, load_problem
from derivations.engine.errors import ProblemError
from derivations.engine.problem import problem_from_dict
from derivations.outputs.content import BLANK, role_tex
from derivations.outputs.render import inline_tex


def test_the_handouts_float64_gradient_is_the_float_its_formulas_give():
    """−3/80 exactly; in floats, H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 is 0.15000000000000002, and the handout's bracket
    times it (written out here in floats, apart from the tool) gives the digits the role prints."""
    v = evaluate(load_problem())
    h1 = 0.1 * 0.9 + 0.1 * 0.5 + 0.1 * 0.1
    y1 = y2 = 0.5  # four equal logits each side: the softmax of equal numbers
    dY1, dY2 = y1 - 1, y2 - 0  # the MSE's ∇Y (1/N Σ (y − Y)², N = 2)
    by_hand = (y1 * (1 - y1) * dY1 + (-y2 * y1) * dY2) * max(h1, 0.0)
    assert inline_tex(v, "grad.w_b11", "float64") == repr(by_hand) == "-0.037500000000000006"
    assert v.grad("w_b11") == Rational(-3, 80)
    assert inline_tex(v, "grad.W_b[2,1]", "float64") == "0.037500000000000006"


@pytest.mark.parametrize("doc", [
    {"network": {"layers": [2, 3, 2], "activation": "tanh", "loss": "cross_entropy", "bias": True},
     "data": {"x": [[0.5, -0.2], [0.1, 0.3]], "y": [[1, 0], [0, 1]]},
     "init": {"W_a": [[0.1, 0.2], [-0.3, 0.4], [0.2, -0.1]], "W_b": [[0.3, -0.2, 0.1], [0.2, 0.1, -0.4]],
              "b_a": [0.1, -0.2, 0.3], "b_b": [0.05, -0.05]}},
    {"network": {"layers": [2, 2, 1], "activation": "sigmoid", "output": "sigmoid", "loss": "bce", "bias": True,
                 "shared_bias": True},
     "data": {"x": [0.7, -0.3], "y": [1]},
     "init": {"W_a": [[0.1, 0.2], [-0.3, 0.4]], "W_b": [[0.3, -0.2]], "b_a": 0.1, "b_b": -0.2}},
])
def test_every_float64_gradient_is_its_exact_value_to_float_precision(doc):
    """Each entry (weights, per-unit and shared biases, two samples) within 1e-13 of the exact value, relative:
    the right entry of the right matrix."""
    v = evaluate(problem_from_dict(doc, "p.toml"))
    d = v.derivation
    for w in d.params():
        key = f"grad.{w.key(d.symbols.wide)}"
        got, exact = float(inline_tex(v, key, "float64")), float(v.decimal(v.grad(w)))
        assert abs(got - exact) <= 1e-13 * abs(exact), (key, got, exact)


def test_float64_is_a_gradients_style_and_blank_on_a_worksheet():
    v = evaluate(load_problem())
    with pytest.raises(ProblemError, match=r"float64 is a gradient's style \(grad.w_b11 \| float64\), got 'forward.H\[1\]'"):
        inline_tex(v, "forward.H[1]", "float64")
    with pytest.raises(ProblemError, match="expected decimal, exact, both or float64"):
        inline_tex(v, "grad.w_b11", "float32")
    assert role_tex(v, "grad.w_b11 | float64", True) == BLANK
