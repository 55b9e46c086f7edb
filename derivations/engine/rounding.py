"""How far a computed value can be from the true one: a first-order bound on the rounding error of evaluating
an expression in floating point (Wilkinson's running error analysis), at any precision.

Each operation's result is the true result times ``(1 + δ)`` with ``|δ| ≤ u`` (the unit roundoff), plus, for
float64, an absolute error up to ``η`` where the result is below the smallest normal number (gradual
underflow); a library function (``exp``, ``log``, ``tanh``, ``logaddexp``) is within ``ulps`` units of ``u``
of its true value. The errors of the operands are carried through each operation's derivative. The values are
the true ones, computed by mpmath at ``dps`` digits, so the bound is that of the computation at those values.

It is used twice: :mod:`derivations.engine.values` certifies the decimals of saturated values (1 − Y for
Y = 1 − 10⁻⁸⁷) at 60 digits, and :mod:`derivations.outputs.export` tells which quantities of ``BackProp.py``
float64 cannot give to its self-check's tolerance (a difference of nearly equal numbers, a value beyond its
range), and by how much.

>>> from sympy import Rational, Symbol
>>> Y = Symbol("Y")
>>> near_one = Rational(1) - Rational(1, 10**20)  # Y as float64 holds it: to within u = 2⁻⁵³ of its size
>>> value, error = bound(1 - Y, {Y: (near_one, FLOAT64.u * near_one)}, FLOAT64)
>>> float(value), float(error) > float(value)  # 1 − Y in float64: not one digit is sure
(1e-20, True)
>>> value, error = bound(Y * (1 - Y), {Y: (Rational(1, 2), FLOAT64.u / 2)}, FLOAT64)
>>> float(value), float(error / value) < 5e-16  # at Y = 1/2 the same formula loses nothing
(0.25, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
from sympy import Abs, Add, Expr, Indexed, Max, Min, Mul, Number, Pow, Symbol, exp, log, tanh
from sympy.codegen.numpy_nodes import logaddexp


@dataclass(frozen=True)
class Arithmetic:
    """A floating-point arithmetic: its unit roundoff ``u``, the absolute error ``eta`` of one operation in the
    underflow range (0 where there is none), and the error of its library functions in units of ``u``."""

    u: mpmath.mpf
    eta: mpmath.mpf
    ulps: int


#: IEEE double precision, as NumPy computes: u = 2⁻⁵³, subnormals down to 2⁻¹⁰⁷⁴, and its vectorised
#: exp, log and tanh within 4 ulps (NumPy's documented bound for its SIMD implementations).
FLOAT64 = Arithmetic(mpmath.mpf(2) ** -53, mpmath.mpf(2) ** -1075, 4)


def arithmetic(dps: int) -> Arithmetic:
    """mpmath at ``dps`` digits: no underflow, functions within one ulp."""
    return Arithmetic(mpmath.mpf(2) ** (1 - mpmath.mpmathify(dps) * 3.3219280948873623), mpmath.mpf(0), 1)


def bound(expr: Expr, env: dict, arith: Arithmetic, dps: int = 60, memo: dict | None = None) -> tuple:
    """``(value, error)`` of ``expr``: its true value at ``env``'s values and a bound on the absolute error of
    computing it in ``arith`` from operands that carry their own errors. ``env`` maps each symbol (or indexed
    entry) to ``(value, error)``; values may be SymPy numbers or mpmath numbers. ``memo``, shared by calls
    with the same ``env``, evaluates their common subexpressions once (a softmax's sum, for every output).

    Raises ``TypeError`` for an operation it has no rule for (never a bound it did not derive)."""
    with mpmath.workdps(dps):
        return _walk(expr, env, arith, {} if memo is None else memo)


def _mpf(v):
    if isinstance(v, mpmath.mpf):
        return v
    if isinstance(v, (int, float)):
        return mpmath.mpf(v)
    if getattr(v, "is_Float", False):
        return mpmath.mpf(v._mpf_)
    if getattr(v, "is_Rational", False):
        return mpmath.mpf(int(v.p)) / int(v.q)
    raise TypeError(f"not a real number: {v!r}")


def _number(n: Number, arith: Arithmetic) -> tuple:
    """A constant of the code: exact when the arithmetic holds it exactly (a small integer, a dyadic fraction)."""
    v = _mpf(n)
    if n.is_Rational:
        p, q = abs(int(n.p)), int(n.q)
        if q & (q - 1) == 0 and p < 2**53:
            return v, mpmath.mpf(0)
    return v, arith.u * abs(v)


def _power_of_two(r) -> bool:
    p, q = int(r.p), int(r.q)
    return p > 0 and p & (p - 1) == 0 and q & (q - 1) == 0


def _walk(e, env: dict, arith: Arithmetic, memo: dict) -> tuple:
    key = e
    if key in memo:
        return memo[key]
    u, eta, f = arith.u, arith.eta, arith.ulps
    if e in env:
        value, error = env[e]
        out = _mpf(value), _mpf(error)
    elif isinstance(e, Number):
        out = _number(e, arith)
    elif isinstance(e, (Symbol, Indexed)):
        raise TypeError(f"no value for {e}")
    else:
        args = [_walk(a, env, arith, memo) for a in e.args]
        out = _rule(e, args, u, eta, f)
        if isinstance(e, Mul):  # a factor ±2^k (a negation, a half) scales exactly: one rounding fewer each
            scales = sum(1 for a in e.args if a.is_Rational and _power_of_two(abs(a)))
            if scales:
                value, error = out
                out = value, max(mpmath.mpf(0), error - min(scales, len(e.args) - 1) * (u * abs(value) + eta))
    memo[key] = out
    return out


def _rule(e, args, u, eta, f) -> tuple:
    """One operation: its value from the operands' values, its error from theirs plus its own rounding."""
    vals = [a[0] for a in args]
    errs = [a[1] for a in args]
    n = len(args)
    if isinstance(e, Add):
        value = mpmath.fsum(vals)
        # a sum of n terms, in any order: n − 1 roundings, each at most u times a partial sum: the last is the
        # sum itself, the others at most the sum of the terms' sizes
        partial = abs(value) + (n - 2) * mpmath.fsum(abs(v) for v in vals)
        return value, mpmath.fsum(errs) + u * partial + (n - 1) * eta
    if isinstance(e, Mul):
        value = mpmath.fprod(vals)
        carried = mpmath.fsum(errs[i] * mpmath.fprod(abs(vals[j]) for j in range(n) if j != i) for i in range(n))
        return value, carried + (n - 1) * (u * abs(value) + eta)
    if isinstance(e, Pow):
        b, k = vals
        eb = errs[0]
        exponent = e.args[1]
        if b == 0 and (not exponent.is_Number or exponent < 0):
            raise TypeError("a power of 0 with a negative exponent")
        value = b ** k
        slope = abs(k * b ** (k - 1)) if b != 0 else mpmath.mpf(0)
        if exponent.is_Integer:
            steps = 1 if abs(int(exponent)) <= 2 else abs(int(exponent)) - 1  # x**2 is one product, 1/x one division
        else:
            steps = f
        return value, slope * eb + errs[1] * abs(value * mpmath.log(abs(b)) if b != 0 else 0) + steps * (u * abs(value) + eta)
    if isinstance(e, exp):
        value = mpmath.exp(vals[0])
        return value, value * errs[0] + f * u * value + eta
    if isinstance(e, log):
        if vals[0] <= 0:
            raise TypeError("the logarithm of a number that is not positive")
        value = mpmath.log(vals[0])
        return value, errs[0] / vals[0] + f * u * abs(value) + eta
    name = type(e).__name__
    if name == "Log1p":
        value = mpmath.log1p(vals[0])
        return value, errs[0] / (1 + vals[0]) + f * u * abs(value) + eta
    if isinstance(e, tanh):
        value = mpmath.tanh(vals[0])
        return value, (1 - value**2) * errs[0] + f * u * abs(value) + eta
    if isinstance(e, logaddexp):
        a, b = vals
        value = max(a, b) + mpmath.log1p(mpmath.exp(-abs(a - b)))
        weight_a, weight_b = mpmath.exp(a - value), mpmath.exp(b - value)
        return value, weight_a * errs[0] + weight_b * errs[1] + f * u * abs(value) + eta
    if isinstance(e, Abs):
        return abs(vals[0]), errs[0]
    if isinstance(e, (Max, Min)):
        i = max(range(n), key=lambda k: vals[k]) if isinstance(e, Max) else min(range(n), key=lambda k: vals[k])
        return vals[i], max(errs)  # the chosen operand, exactly; near a tie, either one
    if name in ("ReLU", "LeakyReLU", "relu_step", "leaky_step"):  # a branch on the sign of h: sure unless h's
        h, eh = vals[0], errs[0]                                     # error could flip it
        sure = abs(h) > eh
        if name == "ReLU":
            return (h, eh) if h > 0 else (mpmath.mpf(0), mpmath.mpf(0) if sure else eh)
        if name == "LeakyReLU":
            return (h, eh) if h > 0 else (h / 100, (eh if sure else eh + abs(h)) / 100 + u * abs(h / 100) + eta)
        low = mpmath.mpf(0) if name == "relu_step" else mpmath.mpf(1) / 100
        value = mpmath.mpf(1) if h > 0 else low
        return value, (mpmath.mpf(0) if name == "relu_step" else u * value) if sure else 1 - low
    raise TypeError(f"no rounding rule for {name}")
