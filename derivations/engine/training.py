"""Numeric training runs with the engine's own gradients: the symmetry of constant initialization at work.

Everything here is *checked numerically* (a run, not a proof). The demonstration data set is a small XOR:
four points per class around the corners of a square, a third input fixed at 1 (the handout's network has
no bias). No single hidden unit can fit it (one ReLU unit splits the plane along one line), the full hidden
layer can, so a constant initialization, whose hidden units stay one unit forever, stalls where a random
one does not.

>>> p = xor_problem()
>>> p.n_samples, p.layers
(8, (3, 4, 2))
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import replace

import mpmath
from sympy import Rational

from .derivation import derive
from .problem import Problem, load_problem
from .values import Numeric, numeric_params

#: Refused above this many steps: each is a full forward and backward pass over every sample.
MAX_STEPS = 2000


def train(problem: Problem, steps: int = 300, lr=Rational(1, 2), module: str = "math", dps: int = 30) -> dict:
    """Plain gradient descent on the problem (every sample, the mean loss), with the engine's gradients
    compiled once. Returns the loss and the parameters at every step (``params[k]`` maps ``"W_a"``, ... to
    nested lists). With ``module="mpmath"`` the arithmetic carries ``dps`` digits; ``"numpy"`` runs every
    sample at once."""
    if steps > MAX_STEPS:
        raise ValueError(f"at most {MAX_STEPS} steps, got {steps}")
    num = Numeric(derive(problem), "mpmath" if module == "mpmath" else module)
    precise = module == "mpmath"

    def conv(v):
        r = Rational(v)
        return mpmath.mpf(int(r.p)) / int(r.q) if precise else float(r)

    with mpmath.workdps(dps) if precise else contextlib.nullcontext():
        params = numeric_params(problem, conv)
        xs = [[conv(v) for v in x] for x in problem.xs]
        ys = [[conv(v) for v in y] for y in problem.ys]
        eta = conv(lr)
        history = {"loss": [], "params": [], "lr": lr, "steps": steps}
        for _ in range(steps + 1):
            grads, loss = num.gradients(params, xs, ys)
            history["loss"].append(loss)
            history["params"].append({k: [r[:] if isinstance(r, list) else r for r in v] for k, v in params.items()})
            for name, g in grads.items():
                if name.startswith("W"):
                    params[name] = [[w - eta * d for w, d in zip(rw, rg)] for rw, rg in zip(params[name], g)]
                elif problem.shared_bias:  # one number, held once per unit: every copy takes the one step
                    params[name] = [w - eta * g[0][0] for w in params[name]]
                else:
                    params[name] = [w - eta * d[0] for w, d in zip(params[name], g)]
    return history


def hidden_spread(problem: Problem, params: dict) -> tuple:
    """How far the hidden units' parameters differ, over every hidden layer: the largest spread across the
    units of a column of the incoming matrix (``w_ij`` over ``i``), and of a row of the outgoing one (``w_ki``
    over ``i``); 0 means the units are identical."""
    spread_in = spread_out = 0
    names = list(params)
    weights = [n for n in names if n.startswith("W")]
    for l in range(problem.depth):
        Win, Wout = params[weights[l]], params[weights[l + 1]]
        spread_in = max(spread_in, max(max(col) - min(col) for col in zip(*Win)))
        spread_out = max(spread_out, max(max(row) - min(row) for row in Wout))
        bias = params.get(f"b_{weights[l][-1]}")
        if bias is not None:
            spread_in = max(spread_in, max(bias) - min(bias))
    return spread_in, spread_out


def xor_problem(seed: int = 7, per_class: int = 4, base: Problem | None = None) -> Problem:
    """The demonstration data set on the handout's network (3-4-2, ReLU, MSE, every weight 0.1): points
    near the corners of the square [-1, 1]², label 1 where the two coordinates have the same sign (XOR),
    the third input fixed at 1, drawn with a fixed seed, in tenths."""
    rng = random.Random(seed)
    base = base or load_problem()
    xs, ys = [], []
    corners = [(1, 1, 0), (-1, -1, 0), (1, -1, 1), (-1, 1, 1)]
    for k in range(2 * per_class):
        cx, cy, label = corners[k % 4]
        jitter = lambda: Rational(rng.randint(-3, 3), 10)  # noqa: E731
        xs.append((cx * Rational(7, 10) + jitter(), cy * Rational(7, 10) + jitter(), Rational(1)))
        ys.append((Rational(1 - label), Rational(label)))
    return replace(base, xs=tuple(xs), ys=tuple(ys), source="XOR demonstration data (seed %d)" % seed)
