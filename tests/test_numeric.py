"""Symbolic against numeric: the engine's exact gradients agree with (a) central finite differences at
50 digits (mpmath) and (b) an independent NumPy backprop in matrix form, on many random problems.

Tolerances: finite differences use h = 1e-20 at 50 digits, so their truncation error is about h² = 1e-40
relative; we require 1e-25 relative (1e-25 absolute for exact zeros). NumPy works in float64: 1e-9
relative, 1e-12 absolute.
"""

import itertools

import mpmath
import numpy as np
import pytest
from sympy import Rational, diff, expand

from derivations import derive, evaluate

from conftest import random_problem

WIDTHS = [(1, 1, 2), (2, 3, 2), (3, 4, 2), (3, 2, 3), (4, 5, 4)]
ACTIVATIONS = ["relu", "sigmoid", "tanh", "identity"]
LOSSES = ["mse", "cross_entropy"]
CASES = [(seed, w, a, l) for seed, (w, a, l) in enumerate(itertools.product(WIDTHS, ACTIVATIONS, LOSSES))]


def mp_loss(p, W_a, W_b):
    """The loss, straight from its definition, in mpmath (no SymPy, no derivatives)."""
    act = {
        "relu": lambda h: h if h > 0 else mpmath.mpf(0),
        "sigmoid": lambda h: 1 / (1 + mpmath.exp(-h)),
        "tanh": mpmath.tanh,
        "identity": lambda h: h,
    }[p.activation]
    x = [mpmath.mpf(str(v)) for v in p.x]
    y = [mpmath.mpf(str(v)) for v in p.y]
    H = [mpmath.fsum(W_a[i][j] * x[j] for j in range(p.n_in)) for i in range(p.n_hidden)]
    L = [act(h) for h in H]
    O = [mpmath.fsum(W_b[i][j] * L[j] for j in range(p.n_hidden)) for i in range(p.n_out)]
    m = max(O)
    e = [mpmath.exp(o - m) for o in O]
    Y = [v / mpmath.fsum(e) for v in e]
    if p.loss == "mse":
        return mpmath.fsum((a - b) ** 2 for a, b in zip(y, Y)) / p.n_out
    return -mpmath.fsum(a * mpmath.log(b) for a, b in zip(y, Y) if a != 0)


def finite_differences(p):
    mpmath.mp.dps = 50
    h = mpmath.mpf("1e-20")
    W = {"W_a": [[mpmath.mpf(str(v)) for v in p.W_a.row(i)] for i in range(p.n_hidden)],
         "W_b": [[mpmath.mpf(str(v)) for v in p.W_b.row(i)] for i in range(p.n_out)]}
    grads = {}
    for name, M in W.items():
        G = []
        for i, row in enumerate(M):
            G.append([])
            for j in range(len(row)):
                old = row[j]
                row[j] = old + h
                up = mp_loss(p, W["W_a"], W["W_b"])
                row[j] = old - h
                down = mp_loss(p, W["W_a"], W["W_b"])
                row[j] = old
                G[-1].append((up - down) / (2 * h))
        grads[name] = G
    return grads


def numpy_backprop(p):
    """Backprop in matrix form, written independently of the engine."""
    x = np.array([float(v) for v in p.x])
    y = np.array([float(v) for v in p.y])
    Wa = np.array(p.W_a.tolist(), dtype=float)
    Wb = np.array(p.W_b.tolist(), dtype=float)
    H = Wa @ x
    if p.activation == "relu":
        L, dact = np.maximum(H, 0), (H > 0).astype(float)
    elif p.activation == "sigmoid":
        L = 1 / (1 + np.exp(-H)); dact = L * (1 - L)
    elif p.activation == "tanh":
        L = np.tanh(H); dact = 1 - L**2
    else:
        L, dact = H, np.ones_like(H)
    O = Wb @ L
    Y = np.exp(O - O.max()); Y /= Y.sum()
    dY = 2 / len(Y) * (Y - y) if p.loss == "mse" else -y / Y
    J = np.diag(Y) - np.outer(Y, Y)
    dO = J.T @ dY
    dL = Wb.T @ dO
    dH = dL * dact
    return {"W_a": np.outer(dH, x), "W_b": np.outer(dO, L)}


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{'-'.join(map(str, c[1]))}-{c[2]}-{c[3]}")
def case(request):
    seed, widths, act, loss = request.param
    p = random_problem(seed, widths, act, loss)
    return p, evaluate(derive(p))


def test_gradients_match_finite_differences(case):
    p, values = case
    fd = finite_differences(p)
    mpmath.mp.dps = 50
    for name in ("W_a", "W_b"):
        for (i, j), exact in np.ndenumerate(np.array(values.gradients[name].tolist(), dtype=object)):
            got = mpmath.mpf(str(values.decimal(exact)))
            want = fd[name][i][j]
            tol = mpmath.mpf("1e-25") * max(1, abs(want))
            assert abs(got - want) <= tol, f"{name}[{i+1},{j+1}]: engine {got}, finite differences {want}"


def test_gradients_match_numpy_backprop(case):
    p, values = case
    ref = numpy_backprop(p)
    for name in ("W_a", "W_b"):
        got = np.array([[float(values.decimal(e)) for e in row] for row in values.gradients[name].tolist()])
        np.testing.assert_allclose(got, ref[name], rtol=1e-9, atol=1e-12, err_msg=name)


SMALL = [c for c in CASES if c[1][1] * (c[1][0] + c[1][2]) <= 12]


@pytest.mark.parametrize("seed,widths,act,loss", SMALL, ids=lambda v: str(v))
def test_exact_values_evaluate_to_the_layered_decimals(seed, widths, act, loss):
    """The exact expressions themselves (evalf at 50 digits) agree with the layer-by-layer decimals that
    the two tests above check, so those checks speak for the exact values too (small widths only: evalf
    of a deep exact expression is slow)."""
    values = evaluate(derive(random_problem(seed, widths, act, loss)))
    for name in ("W_a", "W_b"):
        for exact in values.gradients[name]:
            assert abs(exact.evalf(50) - values.decimal(exact)) < 1e-40


def test_cli_json_matches_numpy_on_a_random_problem(tmp_path, capsys):
    """The JSON contract's values, from the CLI, against the independent NumPy backprop."""
    import json

    from derivations.print import main

    p = random_problem(21, (3, 5, 3), "sigmoid", "cross_entropy")
    rows = lambda m: "[" + ", ".join("[" + ", ".join(f'"{v}"' for v in m.row(i)) + "]" for i in range(m.rows)) + "]"
    vec = lambda v: "[" + ", ".join(f'"{e}"' for e in v) + "]"
    (tmp_path / "p.toml").write_text(
        f'[network]\nlayers = [3, 5, 3]\nactivation = "sigmoid"\nloss = "cross_entropy"\n'
        f"[data]\nx = {vec(p.x)}\ny = {vec(p.y)}\n[init]\nW_a = {rows(p.W_a)}\nW_b = {rows(p.W_b)}\n"
    )
    assert main(["--config", str(tmp_path / "p.toml"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ref = numpy_backprop(p)
    for name in ("W_a", "W_b"):
        got = np.array([[v["value"] for v in row] for row in data["gradients"][name]])
        np.testing.assert_allclose(got, ref[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert data["symmetric"] is False


def test_relu_cases_cover_both_sides_of_zero():
    """The random ReLU problems must have hidden units on both sides of 0, or the step is untested."""
    signs = set()
    for seed, widths, act, loss in CASES:
        if act == "relu":
            p = random_problem(seed, widths, act, loss)
            signs |= {v > 0 for v in evaluate(derive(p)).forward["H"]}
    assert signs == {True, False}


@pytest.mark.parametrize("widths,act,loss", [((1, 1, 2), "relu", "mse"), ((2, 2, 2), "tanh", "cross_entropy"),
                                             ((2, 2, 3), "sigmoid", "mse"), ((1, 2, 2), "identity", "mse")])
def test_layered_gradient_equals_diff_of_composed_loss(widths, act, loss):
    """Reverse mode, layer by layer, against SymPy's diff of the fully composed loss, at an exact random
    point (50 digits; both sides are the same exact number, so the tolerance is 1e-40)."""
    p = random_problem(7, widths, act, loss)
    d = derive(p)
    s = d.symbols
    composed = d.substitute(s.loss)
    point = {**dict(zip(s.x, p.x)), **dict(zip(s.y, p.y))}
    point.update(zip(list(s.W_a), list(p.W_a)))
    point.update(zip(list(s.W_b), list(p.W_b)))
    for w in d.weights():
        sym = s.weight(w.layer, w.i, w.j)
        by_diff = diff(composed, sym).xreplace(point).evalf(50)
        layered = d.expanded(w).xreplace(point).evalf(50)
        assert abs(by_diff - layered) < 1e-40, f"{w.name()}: diff {by_diff}, layered {layered}"


def test_identity_network_gradient_equals_diff_symbolically():
    """With no kink and MSE, the two closed forms are equal as expressions in symbolic weights, x and y."""
    from sympy import simplify

    p = random_problem(3, (1, 1, 2), "identity", "mse")
    d = derive(p)
    composed = d.substitute(d.symbols.loss)
    for w in d.weights():
        sym = d.symbols.weight(w.layer, w.i, w.j)
        assert simplify(diff(composed, sym) - d.expanded(w)) == 0, w.name()


@pytest.mark.parametrize("name", ["w_a11", "w_a23", "w_b21", "w_b14"])
def test_paths_sum_to_the_gradient(handout, name):
    """The sum of a weight's path products is its gradient: as an identity in the layers' symbols, and
    in numbers for a random problem."""
    d = derive(handout)
    s = d.symbols
    backward_sums = {g: d.definitions[g] for g in (*s.gO, *s.gL, *s.gH)}
    total = sum(path.product for path in d.paths(name))
    gradient = d.gradient(name)
    for _ in range(3):  # ∇H -> ∇L -> ∇O, one layer at a time
        gradient = gradient.xreplace(backward_sums)
    assert expand(total - gradient) == 0
    p = random_problem(11, (3, 4, 2), "tanh", "mse")
    v = evaluate(derive(p))
    paths = v.derivation.paths(name)
    assert abs((sum(v.value(pa.product) for pa in paths) - v.grad(name)).evalf(40)) < 1e-35


def test_path_counts(handout):
    d = derive(handout)
    assert len(d.paths("w_a11")) == 4 and len(d.paths("w_b21")) == 2
    assert [pa.text() for pa in d.paths("w_b21")] == ["ℒ → Y_1 → O_2 → w^b_21", "ℒ → Y_2 → O_2 → w^b_21"]


def test_relu_derivative_is_zero_at_zero():
    """ReLU'(0) is 0 (as the handout and PyTorch), not SymPy's Heaviside(0) = 1/2."""
    from derivations.layers import ReLU, relu_step
    from sympy import Symbol

    h = Symbol("h", real=True)
    assert relu_step(0) == 0 and relu_step(Rational(1, 10)) == 1 and relu_step(Rational(-1, 10)) == 0
    assert diff(ReLU(h), h) == relu_step(h)
