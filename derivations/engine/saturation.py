"""Saturated units without cancellation: the decimals of ``1 − Y``, ``ln Y``, ``ln(1 − Y)``, ``1 − tanh²`` and
``ln(1 + e^H)`` from forms that never subtract two numbers agreeing in their first 87 (or 568,926) digits.

A value defined as ``1/(1 + R)`` (a sigmoid, a softmax output) has the complement ``1 − s = R/(1 + R)``;
``tanh a`` has ``1 − tanh a = 2/(1 + e^{2a})`` and ``1 + tanh a = 2/(1 + e^{−2a})``. :func:`rewrite` replaces
in a definition each difference that would cancel by the complement, which is computed on its own, and each
``ln(1 + x)`` by ``log1p(x)``. The rewritten definition is the same number: only its evaluation changes.

>>> from sympy import Symbol, exp, log, tanh
>>> O, Y, C, D = (Symbol(n) for n in ("O", "Y", "C", "D"))
>>> complements(1 / (1 + exp(-O)))
(exp(-O)/(1 + exp(-O)), Y + 1)
>>> rewrite(Y * (1 - Y) - log(1 - Y), {Y: (C, D)}, lambda s: True)
C*Y - log(C)
"""

from __future__ import annotations

from sympy import Add, Expr, Integer, Mul, Pow, Symbol, exp, log, tanh

from .ops import Log1p


def complements(definition: Expr, symbol: Expr = Symbol("Y")) -> tuple | None:
    """``(1 − s, 1 + s)`` for a value ``s`` with this ``definition``, each in a form with no cancellation
    (``1 + s`` written with ``symbol`` where ``s`` is positive, so it cannot cancel); ``None`` for any other
    definition."""
    if isinstance(definition, tanh):
        a = definition.args[0]
        return 2 / (1 + exp(2 * a)), 2 / (1 + exp(-2 * a))
    if isinstance(definition, Mul) and definition.args[0] == -1 and isinstance(definition.args[1], tanh):
        one_minus, one_plus = complements(definition.args[1])  # −tanh a, as SymPy writes tanh(−a)
        return one_plus, one_minus
    if isinstance(definition, Pow) and definition.args[1] == -1 and isinstance(definition.args[0], Add):
        terms = definition.args[0].args
        if Integer(1) in terms:
            rest = Add(*(t for t in terms if t != 1))
            return rest / (1 + rest), 1 + symbol
    return None


def rewrite(expr: Expr, pairs: dict, near_one) -> Expr:
    """``expr`` with ``k·s − k`` written ``−k·C``, ``k·s + k`` as ``k·D``, ``k·s² − k`` as ``−k·C·D`` (``pairs``:
    ``{s: (C, D)}``, the symbols of ``1 − s`` and ``1 + s``), ``ln s`` as ``log1p(−C)`` where ``near_one(s)``
    (close to 1, where ``ln s`` is the small number ``−C``), and ``ln(1 + x)`` as ``log1p(x)``."""
    if not expr.args or not pairs and not expr.has(log):
        return expr
    args = [rewrite(a, pairs, near_one) for a in expr.args]
    if isinstance(expr, Add):
        return _sum(args, pairs)
    if isinstance(expr, log):
        arg = args[0]
        if arg in pairs and near_one(arg):
            return Log1p(-pairs[arg][0])
        if isinstance(arg, Add) and Integer(1) in arg.args:
            return Log1p(Add(*(t for t in arg.args if t != 1)))
        return log(arg)
    return expr.func(*args) if args != list(expr.args) else expr


def _sum(terms: list, pairs: dict) -> Expr:
    constant = next((t for t in terms if t.is_Number), None)
    if constant is not None and constant != 0:
        for t in terms:
            k, rest = t.as_coeff_Mul()
            if rest in pairs:
                C, D = pairs[rest]
                done = -k * C if k == -constant else k * D if k == constant else None
            elif isinstance(rest, Pow) and rest.args[1] == 2 and rest.args[0] in pairs and k == -constant:
                C, D = pairs[rest.args[0]]
                done = -k * C * D
            else:
                done = None
            if done is not None:
                return Add(*(u for u in terms if u is not t and u is not constant), done)
    return Add(*terms)
