"""How a page writes its numbers: exact decimals where they exist, fractions, and ``≈`` where neither will do.

:class:`Notation` spells a value for the worked solution (SymPy pieces, 6 significant digits by default);
:class:`PageNumbers` for the students' page (the page's math tree, 4 digits), through the same rules.

>>> from sympy import Rational
>>> from derivations import evaluate, load_problem
>>> values = evaluate(load_problem())
>>> [p.shown for p in Notation(values).result(Rational(-3, 80))[1]]
['−0.0375', '−3/80']
>>> PageNumbers(values, 4).num(Rational(1, 3))
Frac(num=Numeral(text='1', approx=False), den=Numeral(text='3', approx=False))
"""

from __future__ import annotations

from sympy import Expr, Float, Integer, Rational, latex

from ..engine.values import Values
from ..notation.printing import Num, Words, decimal_text
from ..notation.tree import Frac, Numeral, Paren, row

DIGITS = 6  # the worked solution's significant digits (the students' page: 4)
# The exponents a rounded number of the page is written out for (0.0000001234, 123400000000000); beyond, in
# scientific notation (1.234 × 10⁻⁸), as a saturated unit's 2.650 × 10⁻²⁶¹ must be.
FIXED = (-7, 15)


class Notation:
    """How numbers are written: exact decimals where they exist, fractions and ``≈`` where not."""

    def __init__(self, values: Values, digits: int = DIGITS):
        self.values, self.digits = values, digits

    @property
    def names(self) -> dict:
        """The LaTeX of the derivation's symbols (a network's; a graph's numbers need none)."""
        return self.values.derivation.symbols.tex

    def decimal(self, v: Expr) -> str | None:
        """The exact decimal text of a rational with a terminating expansion (``0.15``), else ``None``."""
        return decimal_text(v) if isinstance(v, Rational) else None

    def approx(self, v: Expr) -> str:
        """A decimal with ``digits`` significant digits, from exact arithmetic (no float overflow or
        underflow: ``7.025e-522``); a large one without mpmath's trailing point (``-800000``, not ``-800000.``).
        """
        import mpmath

        f = self.values.decimal(v)
        if not isinstance(f, Float):
            return str(f)
        with mpmath.workdps(self.digits + 5):
            return mpmath.nstr(mpmath.mpf(f), self.digits, min_fixed=-4, max_fixed=9, strip_zeros=False).rstrip(".")

    def num(self, v: Expr) -> Num:
        """A number inside a substitution: its exact decimal if it has one, else rounded."""
        d = self.decimal(v)
        if d is not None and len(d) <= 24:
            return Num(v, d)
        return Num(v, self.approx(v), exact=False)

    def result(self, v: Expr) -> tuple:
        """The right-hand end of a line, as ``(rels, sides)``: ``= 0.15``; ``= −0.0375 = −3/80``;
        ``= 1/3 ≈ 0.333333``; ``≈ 0.475021``."""
        if isinstance(v, Integer):
            return ["="], [self.num(v)]
        if isinstance(v, Rational):
            frac = Num(v, str(v), latex(v))
            if self.decimal(v) is not None:
                return ["=", "="], [self.num(v), frac]
            return ["=", "≈"], [frac, Num(v, self.approx(v), exact=False)]
        return ["≈"], [Num(v, self.approx(v), exact=False)]

    def first(self, v: Expr) -> tuple:
        """Only the first piece of :meth:`result`, with its relation: ``= 0.15`` or ``≈ 0.537``."""
        rels, sides = self.result(v)
        return rels[:1], sides[:1]

    def vector(self, vs) -> Words:
        pieces = [self.num(v) for v in vs]
        return Words("(" + ", ".join(p.shown for p in pieces) + ")ᵀ",
                     r"\begin{pmatrix} " + r" \\ ".join(p.tex for p in pieces) + r" \end{pmatrix}")

    def matrix(self, m) -> Words:
        rows = [[self.num(v) for v in m.row(i)] for i in range(m.rows)]
        return Words("[" + "; ".join(", ".join(v.shown for v in r) for r in rows) + "]",
                     r"\begin{pmatrix} " + r" \\ ".join(" & ".join(v.tex for v in r) for r in rows) + r" \end{pmatrix}")


class PageNumbers:
    """Number spelling of the students' page, through :class:`Notation`'s rules: an exact decimal, a
    fraction, or a rounded value (an ``=`` before it reads ``≈``), as the page's math tree."""

    def __init__(self, values, digits: int):
        self.n = Notation(values, digits)

    def num(self, v) -> object:
        """A value as a factor or entry: ``0.15``, ``-0.0375``, ``1/3`` (a fraction), ``0.333333`` (rounded)."""
        dec = self.n.decimal(v)
        if dec is not None and len(dec) <= 24:
            return self._signed(dec)
        if isinstance(v, Rational) and len(str(v)) <= 16:
            f = Frac(Numeral(str(abs(v.p))), Numeral(str(v.q)))
            return f if v > 0 else row("neg", f)
        return self._rounded(self.n.approx(v))

    def factor(self, v) -> object:
        out = self.num(v)  # the sign from the decimal: a relational on a large exact expression takes minutes
        negative = v < 0 if isinstance(v, Rational) else self.n.values.decimal(v) < 0
        return Paren(out) if negative else out

    def fraction(self, v):
        """A rational that is not whole as a fraction (``−3/80``), else None."""
        if isinstance(v, Rational) and v.q != 1:
            f = Frac(Numeral(str(abs(v.p))), Numeral(str(v.q)))
            return f if v > 0 else row("neg", f)
        return None

    def _signed(self, text: str):
        text = text.replace("−", "-").strip()
        mantissa, e, exponent = text.lower().partition("e")
        if e and FIXED[0] <= int(exponent) < FIXED[1]:  # mpmath's 1.0e-5: write it as a decimal
            from mpmath import mpf, nstr

            text = nstr(mpf(text), 12, min_fixed=-400, max_fixed=400)
        elif e:  # far beyond: 7.025e-522, written 7.025 × 10⁻⁵²² (never a float: its exponent may pass ±308)
            text = f"{mantissa}e{int(exponent)}"
        return Numeral(text)

    def _rounded(self, text: str):
        return Numeral(self._signed(text).text, approx=True)
