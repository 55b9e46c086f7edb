"""NumPy code of a SymPy expression, as the exported ``BackProp.py`` writes it (SymPy's NumPy printer, with the
script's conventions)."""

from __future__ import annotations

from sympy import Expr, fraction
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import precedence


class CodePrinter(NumPyPrinter):
    """SymPy's NumPy printer with the script's conventions: ``np.`` for NumPy, ``@`` for matrix products,
    ``1/x`` for a reciprocal, a mean over the samples written ``/ S``.

    >>> from sympy import MatrixSymbol, Symbol, exp
    >>> S = Symbol("S")
    >>> code(MatrixSymbol("dL_dH", 4, S) * MatrixSymbol("x", 3, S).T / S), code(1 / (1 + exp(-Symbol("H"))))
    ('dL_dH @ x.T / S', '1/(1 + np.exp(-H))')
    """

    def _module_format(self, fqn, register=True):
        return "np." + fqn[len("numpy."):] if fqn.startswith("numpy.") else fqn

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_mmul()
        body = " @ ".join(self.parenthesize(m, precedence(expr)) for m in mats.args)
        num, den = fraction(coeff)
        if num != 1:
            body = f"{self._print(num)} * {body}"
        return body if den == 1 else f"{body} / {self.parenthesize(den, precedence(expr) + 1)}"

    def _print_Pow(self, expr, rational=False):
        return self._hprint_Pow(expr, rational=rational, sqrt="np.sqrt")


def code(expr: Expr) -> str:
    """One expression as NumPy code."""
    return CodePrinter({"order": "none"}).doprint(expr)
