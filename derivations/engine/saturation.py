"""Saturated units without cancellation: the decimals of ``1 − Y``, ``ln Y``, ``ln(1 − Y)``, ``1 − tanh²`` and
``ln(1 + e^H)`` from forms that never subtract two numbers agreeing in their first 87 (or 568,926) digits.

A value defined as ``1/(1 + R)`` (a sigmoid, a softmax output) has the complement ``1 − s = R/(1 + R)`` and
the logarithm ``ln s = −log1p(R)``; ``tanh a`` has ``1 − tanh a = 2/(1 + e^{2a})`` and ``1 + tanh a =
2/(1 + e^{−2a})``. :func:`rewrite` replaces in a definition each difference that would cancel by the
complement, which is computed on its own, ``ln s`` by its logarithm, and each ``ln(1 + x)`` by ``log1p(x)``.
The rewritten definition is the same number: only its evaluation changes.

>>> from sympy import Symbol, exp, log, tanh
>>> O, Y, C, D = (Symbol(n) for n in ("O", "Y", "C", "D"))
>>> complements(1 / (1 + exp(-O)))
(exp(-O)/(1 + exp(-O)), Y + 1, -log1p(exp(-O)))
>>> rewrite(Y * (1 - Y) - log(1 - Y) + log(Y), {Y: (C, D, -Log1p(exp(-O)))})
C*Y - log1p(exp(-O)) - log(C)
"""

from __future__ import annotations

from sympy import Add, Expr, Integer, Mul, Pow, Symbol, exp, log, tanh

from .functions import Log1p


def complements(definition: Expr, symbol: Expr = Symbol("Y")) -> tuple | None:
    """``(1 − s, 1 + s, ln s)`` for a value ``s`` with this ``definition``, each in a form with no cancellation
    (``1 + s`` written with ``symbol`` where ``s`` is positive, so it cannot cancel; ``ln s`` None where there is
    no such form); ``None`` for any other definition."""
    if isinstance(definition, tanh):
        a = definition.args[0]
        return 2 / (1 + exp(2 * a)), 2 / (1 + exp(-2 * a)), None
    if isinstance(definition, Mul) and definition.args[0] == -1 and isinstance(definition.args[1], tanh):
        one_minus, one_plus, _ = complements(definition.args[1])  # −tanh a, as SymPy writes tanh(−a)
        return one_plus, one_minus, None
    if isinstance(definition, Pow) and definition.args[1] == -1 and isinstance(definition.args[0], Add):
        terms = definition.args[0].args
        if Integer(1) in terms:
            rest = Add(*(t for t in terms if t != 1))
            return rest / (1 + rest), 1 + symbol, -Log1p(rest)
    return None


def rewrite(expr: Expr, pairs: dict) -> Expr:
    """``expr`` with ``k·s − k`` written ``−k·C``, ``k·s + k`` as ``k·D``, ``k·s² − k`` as ``−k·C·D`` and ``ln s``
    as ``L`` (``pairs``: ``{s: (C, D, L)}``, the symbols of ``1 − s`` and ``1 + s`` and the form of ``ln s``, or
    None), and ``ln(1 + x)`` as ``log1p(x)``."""
    if not expr.args or not pairs and not expr.has(log):
        return expr
    args = [rewrite(a, pairs) for a in expr.args]
    if isinstance(expr, Add):
        return _sum(args, pairs)
    if isinstance(expr, log):
        arg = args[0]
        if arg in pairs and pairs[arg][2] is not None:
            return pairs[arg][2]
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
                C, D = pairs[rest][:2]
                done = -k * C if k == -constant else k * D if k == constant else None
            elif isinstance(rest, Pow) and rest.args[1] == 2 and rest.args[0] in pairs and k == -constant:
                C, D = pairs[rest.args[0]][:2]
                done = -k * C * D
            else:
                done = None
            if done is not None:
                return Add(*(u for u in terms if u is not t and u is not constant), done)
    return Add(*terms)


def without_cancellation(definitions: dict, keep) -> dict:
    """The definitions (symbol -> expression, in order) with every difference that would cancel at a saturated
    unit written with complements, each complement defined right after its value: for an evaluator that runs
    the same formulas at many numbers (:class:`~derivations.engine.values.Numeric`), so symbolically.
    ``keep(symbol)``: which definitions to use."""
    from sympy import Dummy

    out, pairs = {}, {}
    for sym, definition in definitions.items():
        if not keep(sym):
            continue
        used = {a: pairs[a] for a in definition.free_symbols if a in pairs}
        out[sym] = rewrite(definition, used) if used or definition.has(log) else definition
        forms = complements(definition, sym)
        if forms is not None:
            pairs[sym] = (Dummy(f"one_minus[{sym}]"), Dummy(f"one_plus[{sym}]"), forms[2])
            out.update(zip(pairs[sym][:2], forms[:2]))
    return out
