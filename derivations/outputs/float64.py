"""What float64 makes of ``BackProp.py``: a bound on the rounding error of every value the script computes,
from the script's own formulas evaluated at the exact values (:mod:`derivations.engine.rounding`).

Its self-check compares each value with the exact one at a relative 1e-9; where this bound is larger (a
difference of nearly equal numbers, as ``1 − Y_1`` for ``Y_1 = 1 − 10⁻⁸⁷``, or a value below float64's normal
range) float64 cannot give the value to 1e-9 whatever the code, and the script says so, naming the value and
comparing it within its bound instead of failing or passing in silence.

Each step of the script has a *model*: a function of the environment (every array's entries, each a pair of its
exact value and the bound on its float64 error) that gives the bound on each entry of the step's result. The
script's inputs carry the error of their conversion to float64 (0 for 0.5, a half unit in the last place for
0.1).

>>> from derivations import evaluate, load_problem
>>> from derivations.outputs.export import expected, steps
>>> values = evaluate(load_problem())
>>> exact, error = bounds(steps(values), values, expected(values))["dL_dW_b"][(0, 0)]
>>> float(exact), float(error / abs(exact)) < 1e-14  # the handout's -3/80: good to 14 digits at the worst
(-0.0375, True)
"""

from __future__ import annotations

from typing import Callable

import mpmath
from sympy import Expr, Indexed, Symbol

from ..engine.rounding import FLOAT64, bound
from ..engine.values import Values

DPS = 60  # digits of the exact values the bounds are evaluated at

Model = Callable[[dict, int], dict]  # (environment, samples) -> {index: error bound}


def _entry(env: dict, name: str, index: tuple) -> tuple:
    return env[name][index]


def _bounded(expr: Expr, leaves: dict, memo: dict | None = None) -> tuple:
    """``(value, error bound)`` of ``expr``; the bound infinite where none can be derived (a division by a
    difference that is 0 at these digits: float64 cannot compute that value from this formula)."""
    try:
        value, error = bound(expr, leaves, FLOAT64, DPS, memo)
    except (TypeError, ZeroDivisionError, ValueError):
        return mpmath.mpf(0), mpmath.inf
    return value, error if mpmath.isfinite(error) else mpmath.inf


def _row_leaves(env: dict, expr: Expr, s: int) -> dict:
    """Sample ``s``'s entries for the rows ``expr`` names (``Y[0]`` is ``Y``'s entry ``(0, s)``)."""
    return {a: _entry(env, str(a.base), tuple(int(i) for i in a.indices) + (s,)) for a in expr.atoms(Indexed)}


def _sum(values: list, errors: list) -> tuple:
    """A sum of terms that carry their errors, in any order: n − 1 roundings, the last of the sum itself."""
    u, eta, n = FLOAT64.u, FLOAT64.eta, len(values)
    total = mpmath.fsum(values)
    error = mpmath.fsum(errors) + u * (abs(total) + max(n - 2, 0) * mpmath.fsum(abs(v) for v in values)) + (n - 1) * eta
    return total, error


def _divided(total, error, S: int) -> tuple:
    """``/ S``: exact for a power of two."""
    exact_division = S & (S - 1) == 0
    return total / S, error / S + (0 if exact_division else FLOAT64.u * abs(total / S) + FLOAT64.eta)


def _indexed(exprs) -> set:
    """The rows (``Y[0]``) the expressions use, each shared subexpression walked once (a softmax's sum is in
    every output's)."""
    seen, stack, out = set(), list(exprs), set()
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if isinstance(e, Indexed):
            out.add(e)
        else:
            stack.extend(e.args)
    return out


def rows(exprs: dict) -> Model:
    """A step written row by row (``Y[0]``, ``dY_dO[0, 1]``: one row per unit, each holding every sample):
    ``exprs`` maps an entry's index without the sample to its SymPy expression in such rows."""
    atoms = _indexed(exprs.values())

    def model(env: dict, S: int) -> dict:
        out = {}
        for s in range(S):
            leaves, memo = {a: _entry(env, str(a.base), tuple(int(i) for i in a.indices) + (s,)) for a in atoms}, {}
            out.update({index + (s,): _bounded(expr, leaves, memo)[1] for index, expr in exprs.items()})
        return out
    return model


def elementwise(expr: Expr, arguments: tuple, width: int) -> Model:
    """A step applied to each entry of its arguments' arrays (an activation, its derivative): ``expr`` in
    the symbols named as the arguments."""
    symbols = [Symbol(a, real=True) for a in arguments]

    def model(env: dict, S: int) -> dict:
        return {(i, s): _bounded(expr, {sym: _entry(env, a, (i, s)) for sym, a in zip(symbols, arguments)})[1]
                for i in range(width) for s in range(S)}
    return model


def mean(expr: Expr) -> Model:
    """``np.mean`` over the samples of one sample's value ``expr`` (in rows): the loss."""
    def model(env: dict, S: int) -> dict:
        each = [_bounded(expr, _row_leaves(env, expr, s)) for s in range(S)]
        total, error = _sum([v for v, _ in each], [e for _, e in each])
        return {(): _divided(total, error, S)[1]}
    return model


def product(left: str, right: str, shape: tuple, pairs: Callable, mean_over: bool = False,
            bias: str | None = None) -> Model:
    """A matrix product (``W_a @ x``, ``W_b.T @ dL_dO``, ``dL_dH @ x.T / S``, ``dL_dH @ 1 / S``): the entry at
    ``index`` is the sum over ``pairs(index, S)`` of ``left[a] · right[b]`` (``b`` None: ``left[a]`` alone),
    plus ``bias[i]``, divided by the number of samples for a gradient (``mean_over``). ``shape`` holds
    ``None`` for the samples' axis."""
    u, eta = FLOAT64.u, FLOAT64.eta

    def model(env: dict, S: int) -> dict:
        out = {}
        for index in _indices(shape, S):
            terms, errors = [], []
            for a, b in pairs(index, S):
                x, ex = _entry(env, left, a)
                if b is None:
                    terms.append(x)
                    errors.append(ex)
                    continue
                y, ey = _entry(env, right, b)
                terms.append(x * y)
                errors.append(abs(x) * ey + abs(y) * ex + u * abs(x * y) + eta)
            if bias is not None:
                b, eb = _entry(env, bias, (index[0], 0))
                terms.append(b)
                errors.append(eb)
            total, error = _sum(terms, errors)
            out[index] = _divided(total, error, S)[1] if mean_over else error
        return out
    return model


def _indices(shape: tuple, S: int):
    full = tuple(S if n is None else n for n in shape)
    out = [()]
    for n in full:
        out = [i + (k,) for i in out for k in range(n)]
    return out


def leaves(values: Values) -> dict:
    """The script's inputs, as it holds them: each entry's exact value and the error of its float64."""
    p = values.problem

    def held(v) -> tuple:
        exact = mpmath.mpf(int(v.p)) / int(v.q)
        return exact, abs(mpmath.mpf(int(v.p) / int(v.q)) - exact)  # int / int: the correctly rounded float

    env = {"x": {}, "y": {}}
    for s in range(p.n_samples):
        for j, v in enumerate(p.xs[s]):
            env["x"][(j, s)] = held(v)
        for k, v in enumerate(p.ys[s]):
            env["y"][(k, s)] = held(v)
    for name, m in p.params().items():
        env[name] = {(i, j): held(m[i, j]) for i in range(m.rows) for j in range(m.cols)} if name.startswith("W") \
            else {(i, 0): held(v) for i, v in enumerate(m)}
    return env


def exact_entries(table, values: Values) -> dict:
    """``{index: exact value}`` (mpmath numbers at :data:`DPS` digits) of one nested table of exact values."""
    out = {}

    def walk(v, index):
        if isinstance(v, list):
            for k, e in enumerate(v):
                walk(e, index + (k,))
        else:
            out[index] = mpmath.mpf(int(v.p)) / int(v.q) if v.is_Rational else mpmath.mpf(values.decimal(v)._mpf_)
    with mpmath.workdps(DPS):
        walk(table, ())
    return out


def bounds(script_steps: list, values: Values, table: dict) -> dict:
    """``{step name: {index: (exact value, error bound)}}`` for every step of the script, in its arrays' layout
    (the loss's index is ``()``): each step's model at the exact values (``table``, by step name), its inputs
    carrying their own bounds."""
    env = leaves(values)
    S = values.problem.n_samples
    out = {}
    with mpmath.workdps(DPS):
        for step in script_steps:
            errors = step.model(env, S)
            exact = exact_entries(table[step.name], values)
            env[step.name] = out[step.name] = {index: (exact[index], errors[index]) for index in exact}
    return out
