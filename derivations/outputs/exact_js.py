"""Formulas as JavaScript that computes as the Python checker does: exactly while a value is rational.

The self-check page judges answers from the marking's formulas (:mod:`derivations.outputs.selfcheck`). Printed
for JavaScript's floats, a sum that is exactly 0 by cancellation is not (the handout's ``H_1`` with
``W_a``'s first row ``[0.1, −0.2, 0.1]`` is ``6.9e-18``) and a ReLU's derivative there flips to 1, where the
checker, computing with SymPy's rationals, takes ``1[H_1 > 0] = 0``. :class:`ExactPrinter` prints each
operation as a call of the page's small arithmetic ``X`` (:data:`RUNTIME`, ``static/exact.js``): a rational
stays a rational (BigInt numerator and denominator), so zeros, ties and kinks are decided exactly; ``exp``,
``log`` and ``tanh`` give floats except at their exact points (``exp(0) = 1``), as SymPy keeps them.

>>> from sympy import Rational, Symbol, exp
>>> from derivations.engine.functions import relu_step
>>> h = Symbol("g(0)")
>>> print(exact_js(relu_step(h) * Rational(3, 80) + exp(-h)))
X.add(X.mul(X.q(3n, 80n), X.step(g(0))), X.exp(X.mul(X.q(-1n, 1n), g(0))))
"""

from __future__ import annotations

from sympy import Expr
from sympy.printing.jscode import JavascriptCodePrinter

from .display_fit import STATIC

RUNTIME = (STATIC / "exact.js").read_text(encoding="utf-8")

# a function of the formulas -> the runtime's name for it (a kink's branches decided on exact values)
_CALLS = {"exp": "exp", "log": "log", "Log1p": "log1p", "tanh": "tanh", "ReLU": "relu", "relu_step": "step",
          "LeakyReLU": "leaky", "leaky_step": "lstep", "Max": "max", "Min": "min", "Abs": "abs", "Heaviside": "heav"}
_RELATIONS = {"==": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


class ExactPrinter(JavascriptCodePrinter):
    """SymPy's JavaScript printer with every number, sum, product, power and function a call of ``X``."""

    def _call(self, name: str, args) -> str:
        return f"X.{name}(" + ", ".join(self._print(a) for a in args) + ")"

    def _print_Add(self, expr, order=None):
        return self._call("add", expr.args)

    def _print_Mul(self, expr):
        return self._call("mul", expr.args)

    def _print_Pow(self, expr, rational=False):
        return self._call("pow", expr.args)

    def _print_Rational(self, expr):
        return f"X.q({expr.p}n, {expr.q}n)"

    _print_Integer = _print_Zero = _print_One = _print_NegativeOne = _print_Half = _print_Rational

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Function(self, expr):
        name = _CALLS.get(type(expr).__name__)
        if name is None:
            raise TypeError(f"no exact JavaScript for {type(expr).__name__}")
        return self._call(name, expr.args)

    _print_Heaviside = _print_Max = _print_Min = _print_Abs = _print_exp = _print_log = _print_tanh = _print_Function

    def _print_Relational(self, expr):
        return self._call(_RELATIONS[expr.rel_op], (expr.lhs, expr.rhs))

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"

    def _print_And(self, expr):
        return "(" + " && ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " || ".join(self._print(a) for a in expr.args) + ")"

    def _print_Piecewise(self, expr):
        out = "NaN"  # no branch holds: not a number (SymPy's undefined Piecewise)
        for e, c in reversed(expr.args):
            out = self._print(e) if c == True else f"({self._print(c)} ? {self._print(e)} : {out})"  # noqa: E712
        return out


def exact_js(expr: Expr) -> str:
    """``expr`` as JavaScript over the page's ``X`` (:data:`RUNTIME`), its symbols as SymPy names them.

    >>> from sympy import Eq, Piecewise, Symbol
    >>> h = Symbol("g(1)")
    >>> print(exact_js(Piecewise((1, Eq(h, 0)), (h / 2, True))))
    (X.eq(g(1), X.q(0n, 1n)) ? X.q(1n, 1n) : X.mul(X.q(1n, 2n), g(1)))
    """
    return ExactPrinter().doprint(expr)
