"""Symbolic against numeric: the engine's exact gradients agree with (a) central finite differences at
50 digits (mpmath) and (b) an independent NumPy backprop in matrix form, on seeded random problems of every
depth from 1 to 3, every activation, with and without biases, one sample and several: the softmax output with
MSE and cross-entropy over every shape and activation, and every other output layer x loss combination
(softmax + quadratic; sigmoid + MSE, quadratic, binary cross-entropy; identity + MSE, quadratic), one output
unit and several, over the shapes with the activations in turn.

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
from derivations.engine.ops import ACTIVATIONS, LOSSES, OUTPUTS

from conftest import random_problem

SHAPES = [  # (layers, bias, samples)
    ((1, 1, 2), False, 1), ((3, 4, 2), False, 1), ((2, 3, 3), True, 1), ((3, 2, 3), False, 2),
    ((2, 3, 2, 2), True, 1), ((2, 2, 3, 2), False, 2), ((2, 2, 2, 2, 3), True, 2),
]
SOFTMAX_LOSSES = ("cross_entropy", "mse")
CASES = [(seed, shape, act, "softmax", loss) for seed, (shape, act, loss) in
         enumerate(itertools.product(SHAPES, sorted(ACTIVATIONS), SOFTMAX_LOSSES))]
# Every other output x loss pair the registry allows, on shapes with one output unit and several.
OUTPUT_SHAPES = [((2, 3, 1), False, 1), ((3, 4, 2), False, 1), ((2, 3, 3), True, 1), ((3, 2, 1), True, 2),
                 ((2, 3, 2, 2), True, 1), ((2, 2, 2, 2, 3), True, 2)]
PAIRS = [(o, l) for o in sorted(OUTPUTS) for l in sorted(LOSSES)
         if (not LOSSES[l].outputs or o in LOSSES[l].outputs) and (o, l) not in {("softmax", x) for x in SOFTMAX_LOSSES}]
ACTS = sorted(ACTIVATIONS)
CASES += [(100 + k, shape, ACTS[(k + k // len(PAIRS)) % len(ACTS)], o, l)  # each shape shifts the activations
          for k, (shape, (o, l)) in enumerate(itertools.product(OUTPUT_SHAPES, PAIRS))
          if shape[0][-1] >= OUTPUTS[o].min_outputs]


def _case_id(c):
    seed, (layers, bias, samples), act, output, loss = c
    return (f"{'-'.join(map(str, layers))}{'-bias' if bias else ''}{f'-x{samples}' if samples > 1 else ''}-{act}"
            f"{'' if output == 'softmax' else '-' + output}-{loss}")


# -- oracle 1: the loss straight from its definition, in mpmath ------------------------------------------

MP_ACT = {
    "relu": lambda h: h if h > 0 else mpmath.mpf(0),
    "leaky_relu": lambda h: h if h > 0 else h / 100,
    "sigmoid": lambda h: 1 / (1 + mpmath.exp(-h)),
    "tanh": mpmath.tanh,
    "softplus": lambda h: mpmath.log(1 + mpmath.exp(h)),
    "identity": lambda h: h,
}


def mp(v):
    return mpmath.mpf(int(Rational(v).p)) / int(Rational(v).q)


def mp_loss(p, params):
    """The mean loss over the samples, from the network's definition (no SymPy, no derivatives)."""
    total = 0
    for x, y in zip(p.xs, p.ys):
        v = [mp(e) for e in x]
        n_linear = len(p.layers) - 1
        for l in range(n_linear):
            W = params[f"W_{'abcd'[l]}"]
            h = [mpmath.fsum(W[i][j] * v[j] for j in range(len(v))) for i in range(len(W))]
            if p.bias:
                h = [hi + bi for hi, bi in zip(h, params[f"b_{'abcd'[l]}"])]
            v = [MP_ACT[p.activations[l]](e) for e in h] if l < n_linear - 1 else h
        if p.output == "softmax":
            m = max(v)
            e = [mpmath.exp(o - m) for o in v]
            Y = [u / mpmath.fsum(e) for u in e]
        elif p.output == "sigmoid":
            Y = [1 / (1 + mpmath.exp(-o)) for o in v]
        else:
            Y = list(v)
        t = [mp(e) for e in y]
        if p.loss == "mse":
            total += mpmath.fsum((a - b) ** 2 for a, b in zip(t, Y)) / len(Y)
        elif p.loss == "quadratic":
            total += mpmath.fsum((a - b) ** 2 for a, b in zip(t, Y)) / 2
        elif p.loss == "bce":
            total += -mpmath.fsum(a * mpmath.log(b) + (1 - a) * mpmath.log(1 - b) for a, b in zip(t, Y)) / len(Y)
        else:
            total += -mpmath.fsum(a * mpmath.log(b) for a, b in zip(t, Y) if a != 0)
    return total / p.n_samples


def finite_differences(p):
    mpmath.mp.dps = 50
    h = mpmath.mpf("1e-20")
    params = {}
    for name, m in p.params().items():
        params[name] = [[mp(v) for v in m.row(i)] for i in range(m.rows)] if name.startswith("W") else [mp(v) for v in m]
    grads = {}
    for name, M in params.items():
        rows = M if name.startswith("W") else [M]
        G = []
        for row in rows:
            G.append([])
            for j in range(len(row)):
                old = row[j]
                row[j] = old + h
                up = mp_loss(p, params)
                row[j] = old - h
                down = mp_loss(p, params)
                row[j] = old
                G[-1].append((up - down) / (2 * h))
        grads[name] = G if name.startswith("W") else [[g] for g in G[0]]
    return grads


# -- oracle 2: backprop in matrix form, NumPy, written independently of the engine -------------------------

NP_ACT = {
    "relu": (lambda h: np.maximum(h, 0), lambda h, l: (h > 0).astype(float)),
    "leaky_relu": (lambda h: np.where(h > 0, h, h / 100), lambda h, l: np.where(h > 0, 1.0, 0.01)),
    "sigmoid": (lambda h: 1 / (1 + np.exp(-h)), lambda h, l: l * (1 - l)),
    "tanh": (np.tanh, lambda h, l: 1 - l**2),
    "softplus": (lambda h: np.log1p(np.exp(h)), lambda h, l: 1 / (1 + np.exp(-h))),
    "identity": (lambda h: h, lambda h, l: np.ones_like(h)),
}


def numpy_backprop(p):
    Ws = [np.array(W.tolist(), dtype=float) for W in p.weights]
    bs = [np.array([float(v) for v in b]) for b in p.biases] if p.bias else [np.zeros(W.shape[0]) for W in Ws]
    gW = [np.zeros_like(W) for W in Ws]
    gb = [np.zeros_like(b) for b in bs]
    for x, y in zip(p.xs, p.ys):
        x = np.array([float(v) for v in x])
        y = np.array([float(v) for v in y])
        ins, Hs, Ls = [], [], []
        v = x
        for l, (W, b) in enumerate(zip(Ws, bs)):
            ins.append(v)
            h = W @ v + b
            if l < len(Ws) - 1:
                Hs.append(h)
                v = NP_ACT[p.activations[l]][0](h)
                Ls.append(v)
            else:
                O = h
        if p.output == "softmax":
            Y = np.exp(O - O.max())
            Y /= Y.sum()
            J = np.diag(Y) - np.outer(Y, Y)
        elif p.output == "sigmoid":
            Y = 1 / (1 + np.exp(-O))
            J = np.diag(Y * (1 - Y))
        else:
            Y, J = O, np.eye(len(O))
        dY = {"mse": lambda: 2 / len(Y) * (Y - y), "quadratic": lambda: Y - y, "cross_entropy": lambda: -y / Y,
              "bce": lambda: (Y - y) / (Y * (1 - Y)) / len(Y)}[p.loss]()
        delta = J.T @ dY  # ∇O
        for l in range(len(Ws) - 1, -1, -1):
            gW[l] += np.outer(delta, ins[l])
            gb[l] += delta
            if l > 0:
                dL = Ws[l].T @ delta
                delta = dL * NP_ACT[p.activations[l - 1]][1](Hs[l - 1], Ls[l - 1])
    S = p.n_samples
    out = {f"W_{'abcd'[l]}": g / S for l, g in enumerate(gW)}
    if p.bias:
        out.update({f"b_{'abcd'[l]}": (g / S)[:, None] for l, g in enumerate(gb)})
    return out


def problem_of(c):
    seed, (layers, bias, samples), act, output, loss = c
    return random_problem(seed, layers, act, loss, bias, samples, output)


@pytest.fixture(scope="module", params=CASES, ids=_case_id)
def case(request):
    p = problem_of(request.param)
    return p, evaluate(derive(p))


# 50-digit central differences are slow: they run on a third of the softmax cases (every shape, activation and
# loss still meets them somewhere) and on every case of the other output layers; the NumPy backprop checks
# every case.
FD_CASES = [c for c in CASES if c[0] >= 100 or c[0] % 3 == (c[0] // 12) % 3]  # rotating over the activations


@pytest.mark.parametrize("fd_case", FD_CASES, ids=_case_id)
def test_gradients_match_finite_differences(fd_case):
    p = problem_of(fd_case)
    values = evaluate(derive(p))
    fd = finite_differences(p)
    mpmath.mp.dps = 50
    assert set(fd) == set(values.gradients)
    for name, m in values.gradients.items():
        for (i, j), exact in np.ndenumerate(np.array(m.tolist(), dtype=object)):
            got = mpmath.mpf(str(values.decimal(exact)))
            want = fd[name][i][j]
            tol = mpmath.mpf("1e-25") * max(1, abs(want))
            assert abs(got - want) <= tol, f"{name}[{i+1},{j+1}]: engine {got}, finite differences {want}"


def test_gradients_match_numpy_backprop(case):
    p, values = case
    ref = numpy_backprop(p)
    assert set(ref) == set(values.gradients)
    for name, m in values.gradients.items():
        got = np.array([[float(values.decimal(e)) for e in row] for row in m.tolist()])
        np.testing.assert_allclose(got, ref[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_loss_matches_its_definition(case):
    p, values = case
    mpmath.mp.dps = 50
    params = {name: ([[mp(v) for v in m.row(i)] for i in range(m.rows)] if name.startswith("W") else [mp(v) for v in m])
              for name, m in p.params().items()}
    want = mp_loss(p, params)
    got = mpmath.mpf(str(values.decimal(values.forward["loss"])))
    assert abs(got - want) <= mpmath.mpf("1e-40") * max(1, abs(want)), f"loss: engine {got}, definition {want}"


SMALL = [c for c in CASES if sum(a * b for a, b in zip(c[1][0][1:], c[1][0])) * c[1][2] <= 12 and len(c[1][0]) == 3]


@pytest.mark.parametrize("case_", SMALL, ids=_case_id)
def test_exact_values_evaluate_to_the_layered_decimals(case_):
    """The exact expressions themselves (evalf at 50 digits) agree with the layer-by-layer decimals that
    the two tests above check, so those checks speak for the exact values too (small widths only: evalf
    of a deep exact expression is slow)."""
    values = evaluate(derive(problem_of(case_)))
    for m in values.gradients.values():
        for exact in m:
            assert abs(exact.evalf(50) - values.decimal(exact)) < 1e-40


def test_cli_json_matches_numpy_on_a_deep_biased_batched_problem(tmp_path, capsys):
    """The JSON contract's values, from the CLI, against the independent NumPy backprop."""
    import json

    from derivations.cli.print import main

    p = random_problem(21, (3, 4, 3, 2), "sigmoid", "cross_entropy", bias=True, samples=2)
    vec = lambda v: "[" + ", ".join(f'"{e}"' for e in v) + "]"  # noqa: E731
    rows = lambda m: "[" + ", ".join(vec(m.row(i)) for i in range(m.rows)) + "]"  # noqa: E731
    text = (f'[network]\nlayers = [3, 4, 3, 2]\nactivation = "sigmoid"\nloss = "cross_entropy"\nbias = true\n'
            f"[data]\nx = [{', '.join(vec(x) for x in p.xs)}]\ny = [{', '.join(vec(y) for y in p.ys)}]\n[init]\n")
    text += "".join(f"{n} = {rows(m) if n.startswith('W') else vec(m)}\n" for n, m in p.params().items())
    (tmp_path / "p.toml").write_text(text)
    assert main(["--config", str(tmp_path / "p.toml"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ref = numpy_backprop(p)
    for name in ref:
        got = np.array(data["gradients"][name] if name.startswith("W") else [[v] for v in data["gradients"][name]])
        got = np.array([[v["value"] for v in row] for row in got])
        np.testing.assert_allclose(got, ref[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert data["symmetric"] is False
    assert len(data["forward"]["H1"]) == 2 and len(data["forward"]["losses"]) == 2


def test_relu_cases_cover_both_sides_of_zero():
    """The random ReLU problems must have hidden units on both sides of 0, or the step is untested."""
    signs = set()
    for c in CASES:
        seed, (layers, bias, samples), act, output, loss = c
        if act == "relu":
            v = evaluate(derive(problem_of(c)))
            for key in v.derivation.symbols.keys[:-2:2]:
                for s in range(samples):
                    signs |= {h.evalf() > 0 for h in v.sample("forward", key, s)}
    assert signs == {True, False}


@pytest.mark.parametrize("widths,act,loss,bias", [((1, 1, 2), "relu", "mse", False), ((2, 2, 2), "tanh", "cross_entropy", True),
                                                  ((2, 2, 3), "sigmoid", "mse", False), ((1, 2, 2), "identity", "mse", True),
                                                  ((1, 1, 2, 2), "softplus", "mse", False)])
def test_layered_gradient_equals_diff_of_composed_loss(widths, act, loss, bias):
    """Reverse mode, layer by layer, against SymPy's diff of the fully composed loss, at an exact random
    point (50 digits; both sides are the same exact number, so the tolerance is 1e-40). Two hidden layers:
    1-1-2-2 gives each first-layer weight four paths, as 1-2-2-2 does, in a tenth of the time (its closed
    forms at 50 digits took 10 s); wider deep networks are the oracles' CASES above."""
    from derivations.engine.values import leaves_of

    p = random_problem(7, widths, act, loss, bias)
    d = derive(p)
    composed = d.substitute(d.symbols.total)
    point = leaves_of(p, d.symbols)
    for w in d.params():
        sym = d.symbols.param(w)
        by_diff = diff(composed, sym).xreplace(point).evalf(50)
        layered = d.expanded(w).xreplace(point).evalf(50)
        assert abs(by_diff - layered) < 1e-40, f"{w.name()}: diff {by_diff}, layered {layered}"


def test_identity_network_gradient_equals_diff_symbolically():
    """With no kink and MSE, the two closed forms are equal as expressions in symbolic weights, x and y."""
    from sympy import simplify

    p = random_problem(3, (1, 1, 2), "identity", "mse")
    d = derive(p)
    composed = d.substitute(d.symbols.total)
    for w in d.params():
        assert simplify(diff(composed, d.symbols.param(w)) - d.expanded(w)) == 0, w.name()


@pytest.mark.parametrize("name", ["w_a11", "w_a23", "w_b21", "w_b14"])
def test_paths_sum_to_the_gradient(handout, name):
    """The sum of a parameter's path products is its gradient: as an identity in the layers' symbols, and
    in numbers for random problems (one of them deep, biased and batched)."""
    d = derive(handout)
    sy = d.symbols
    backward_sums = {g: d.definitions[g] for key in sy.keys[:-1] for g in sy.grad(key)}
    total = sum(path.product for path in d.paths(name))
    gradient = d.gradient(name)
    for _ in range(3):  # ∇H -> ∇L -> ∇O, one layer at a time
        gradient = gradient.xreplace(backward_sums)
    assert expand(total - gradient) == 0
    for p in (random_problem(11, (3, 4, 2), "tanh", "mse"), random_problem(12, (3, 4, 3, 2), "sigmoid", "mse", True, 2)):
        v = evaluate(derive(p))
        for pname in (name, "b_a2") if p.bias else (name,):
            if pname.startswith("w_b") and p.depth > 1:
                pname = "w_c" + pname[3:] if int(pname[3]) <= 2 and int(pname[4]) <= 3 else pname
            paths = v.derivation.paths(pname)
            total = sum(v.decimal(v.value(pa.product)) for pa in paths)  # 50-digit decimals, layer by layer
            assert abs(total - v.decimal(v.grad(pname))) < 1e-35


def test_path_counts(handout):
    d = derive(handout)
    assert len(d.paths("w_a11")) == 4 and len(d.paths("w_b21")) == 2
    assert [pa.text() for pa in d.paths("w_b21")] == ["ℒ → Y_1 → O_2 → w^b_21", "ℒ → Y_2 → O_2 → w^b_21"]
    deep = derive(random_problem(1, (2, 3, 4, 2), "relu", "mse"))
    assert deep.count_paths("w_a11") == len(deep.paths("w_a11")) == 2 * 2 * 4  # Y, O, then every unit of layer 2


def test_relu_derivative_is_zero_at_zero():
    """ReLU'(0) is 0 (as the handout and PyTorch), not SymPy's Heaviside(0) = 1/2; LeakyReLU'(0) is its left
    slope 1/100 (PyTorch's convention)."""
    from sympy import Symbol

    from derivations.engine.ops import LeakyReLU, ReLU, leaky_step, relu_step

    h = Symbol("h", real=True)
    assert relu_step(0) == 0 and relu_step(Rational(1, 10)) == 1 and relu_step(Rational(-1, 10)) == 0
    assert diff(ReLU(h), h) == relu_step(h)
    assert leaky_step(0) == Rational(1, 100) and leaky_step(Rational(1, 10)) == 1
    assert diff(LeakyReLU(h), h) == leaky_step(h) and LeakyReLU(Rational(-1)) == Rational(-1, 100)
