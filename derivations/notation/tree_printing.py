r"""The page's math tree written out: as Typst math, LaTeX math and plain text.

Each printer walks a tree of :mod:`derivations.notation.tree`; on a worksheet an answer slot is a blank.

>>> from derivations.notation.tree import Slot, Numeral, row, sym
>>> print(to_latex(row(sym("Y", 1), "=", Slot(Numeral("0.5"))), worksheet=True))
Y_{1} = \underline{\hspace{2cm}}
"""

from __future__ import annotations

from sympy import Add, Basic, Integer, Mul, Pow, exp, factor_terms, fraction
from sympy.printing.printer import Printer

from .printing import TexPrinter, TextPrinter, text
from .tree import (NAMED, OPS, _LETTERS, _NUMBER, Call, Frac, Numeral, Operator, Paren, Pow_, Row, Slot, Sym, Vec, Word,
                   row)

# -- strings ----------------------------------------------------------------------------------------


def typst_string(text: str) -> str:
    """A Typst string literal: the only way a user's text reaches Typst source.

    >>> typst_string('a "b" \\\\ #c')
    '"a \\\\"b\\\\" \\\\\\\\ #c"'
    """
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def _check_number(text: str, times: str = "") -> str:
    """A numeral's text, checked; in scientific notation ``7.025e-522`` written ``7.025 <times> 10^{-522}``
    with ``times`` the target's ``×`` and power (a ``{}`` in it takes the exponent)."""
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    mantissa, e, exponent = text.partition("e")
    return mantissa + times.format(exponent) if e else text


class _Tree:
    """What every target's tree printer shares, mixed into a SymPy printer of that target: SymPy's dispatch
    (``_print_Row`` for a :class:`Row`, by the node's class name) walks the tree, a row's pieces are joined, a
    slot is filled or, on a worksheet, left blank."""

    def _print_str(self, text):
        return self._print_Word(Word(text))

    def _print_Row(self, n):
        return self.join([self._print(i) for i in n.items])

    def join(self, parts):
        return " ".join(p for p in parts if p)

    def _print_Slot(self, n):
        if n.given or not self._settings["worksheet"]:
            return self.filled(n, self._print(n.content))
        return self.blank(wide=isinstance(n.content, Row) and len(n.content.items) > 2)

    def filled(self, node, body):
        return body

    def _print_Formula(self, n):
        if not self._settings["worksheet"]:
            return self.filled(n, self._print(n.content))
        return self.box()

    def box(self):
        """Room for a formula: a blank as wide as a number's, twice (a target draws a box where it can)."""
        return self.blank(wide=True)

    @staticmethod
    def vector_argument(n):
        """The one column vector a call applies to (``ReLU`` of ``H``'s entries), or None: its brackets are the
        call's, so it is printed once (``ReLU(0.15, 0.15)ᵀ``, not ``ReLU((0.15, 0.15)ᵀ)``), a vector of one entry
        as that entry (``sigmoid(0.0683)``)."""
        return n.args[0] if len(n.args) == 1 and isinstance(n.args[0], Vec) else None

    def emptyPrinter(self, node):
        if isinstance(node, Basic):  # a SymPy expression: the target's SymPy printer, as in the worked solution
            return super().emptyPrinter(node)
        raise TypeError(f"{type(self).__name__} has no printing for a {type(node).__name__}")


class TypstMath(_Tree, Printer):
    """Typst math source of a tree (inside ``$ ... $``). Answers are wrapped in ``#ans[...]``; blanks are
    ``#blank``; words are string literals."""

    _default_settings = {"worksheet": False}

    def __init__(self, worksheet: bool = False):
        super().__init__({"worksheet": worksheet})

    def _print_Sym(self, n):
        base = NAMED[n.base][0] if n.base in NAMED else _letters(n.base)
        out = base
        if n.sub is not None:
            out += f"_({self._print(n.sub)})"
        if n.sup is not None:
            out += f"^({self._print(n.sup)})"
        return out

    def _print_Raw(self, n):
        return n.typst

    def _print_Word(self, n):
        return f"upright({typst_string(n.text)})"

    def _print_Numeral(self, n):
        return _check_number(n.text, " times 10^({})")

    def _print_Operator(self, n):
        return OPS[n.kind][0]

    def _print_Frac(self, n):
        return f"frac({self._print(n.num)}, {self._print(n.den)})"

    def _print_Pow_(self, n):
        return f"{self._print(n.base)}^({self._print(n.exp)})"

    def _print_Paren(self, n):
        if not _brackets(self, n):
            return self._print(n.body)
        left, right = ("[", "]") if n.kind == "[" else ("(", ")")
        return f"lr({left} {self._print(n.body)} {right})"

    def _print_Call(self, n):
        name = {"max": "max", "ln": "ln", "tanh": "tanh"}.get(n.name) or f"op({typst_string(n.name)})"
        if n.prime:
            name = f"op({typst_string(n.name + chr(0x2032))})"
        v = self.vector_argument(n)
        if v is not None and len(v.items) > 1:
            return f"{name} {self._print(v)}"
        args = " comma ".join(self._print(a) for a in (v.items if v is not None else n.args))
        return f"{name} lr(( {args} ))"

    def _print_Vec(self, n):
        return f'vec(delim: "(", {", ".join(self._print(i) for i in n.items)})'

    def _print_Mat(self, n):
        return 'mat(delim: "(", ' + "; ".join(", ".join(self._print(c) for c in r) for r in n.rows) + ")"

    def _print_Under(self, n):
        return f"underbrace({self._print(n.body)}, {self._print(n.label)})"

    def _print_Held(self, n):
        return f"lr(( {self._print(n.derivative)} ))_({' comma '.join(self._print(f) for f in n.fixed)})"

    def blank(self, wide=False):
        return "#blank(wide: true)" if wide else "#blank()"

    def box(self):
        return "#box(width: 9cm, height: 1.6em, stroke: 0.5pt)"

    def filled(self, node, body):
        return body if node.given else f"#ans($ {body} $)"

    def _print_Aligned(self, n):
        return r" \ ".join(self._print(r) for r in n.rows)


class LatexMath(_Tree, TexPrinter):
    """LaTeX math of a tree; blanks are ``\\underline{\\hspace{2cm}}``. The worked solution's LaTeX printer
    (:class:`~derivations.notation.printing.TexPrinter`) with the tree's nodes: it prints a SymPy expression as
    the solution does."""

    _default_settings = {**TexPrinter._default_settings, "worksheet": False}

    def __init__(self, worksheet: bool = False):
        super().__init__(worksheet=worksheet, order="none")

    def _print_Sym(self, n):
        base = NAMED[n.base][1] if n.base in NAMED else _letters(n.base)
        out = base
        if n.sup is not None:
            out += f"^{{{self._print(n.sup)}}}"
        if n.sub is not None:
            out += f"_{{{self._print(n.sub)}}}"
        return out

    def _print_Raw(self, n):
        return n.tex

    def _print_Word(self, n):
        if _LETTERS.fullmatch(n.text):
            return rf"\operatorname{{{n.text}}}"
        return r"\text{" + latex_escape(n.text) + "}"

    def _print_Numeral(self, n):
        return _check_number(n.text, r" \times 10^{{{}}}")

    def _print_Operator(self, n):
        return OPS[n.kind][1]

    def _print_Frac(self, n):
        return rf"\frac{{{self._print(n.num)}}}{{{self._print(n.den)}}}"

    def _print_Pow_(self, n):
        return f"{{{self._print(n.base)}}}^{{{self._print(n.exp)}}}"

    def _print_Paren(self, n):
        if not _brackets(self, n):
            return self._print(n.body)
        left, right = (r"\left[", r"\right]") if n.kind == "[" else (r"\left(", r"\right)")
        return f"{left}{self._print(n.body)}{right}"

    def _print_Call(self, n):
        name = {"max": r"\max", "ln": r"\ln", "tanh": r"\tanh"}.get(n.name) or rf"\operatorname{{{_letters(n.name)}}}"
        name += chr(39) if n.prime else ""
        v = self.vector_argument(n)
        if v is not None and len(v.items) > 1:
            return f"{name}{self._print(v)}"
        return rf"{name}\left({', '.join(self._print(a) for a in (v.items if v is not None else n.args))}\right)"

    def _print_Vec(self, n):
        return r"\begin{pmatrix} " + r" \\ ".join(self._print(i) for i in n.items) + r" \end{pmatrix}"

    def _print_Mat(self, n):
        return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(self._print(c) for c in r) for r in n.rows) + r" \end{pmatrix}"

    def _print_Under(self, n):
        return rf"\underbrace{{{self._print(n.body)}}}_{{{self._print(n.label)}}}"

    def _print_Held(self, n):
        return rf"\left({self._print(n.derivative)}\right)_{{{', '.join(self._print(f) for f in n.fixed)}}}"

    def blank(self, wide=False):
        return r"\underline{\hspace{%s}}" % ("4cm" if wide else "2cm")

    def box(self):
        return r"\boxed{\hspace{9cm}}"

    def _print_Aligned(self, n):
        return r"\begin{aligned} " + r" \\ ".join(self._print(r) for r in n.rows) + r" \end{aligned}"


class TextMath(_Tree, TextPrinter):
    """Plain text of a tree; blanks are ``____``. The worked solution's text printer
    (:class:`~derivations.notation.printing.TextPrinter`) with the tree's nodes."""

    _default_settings = {**TextPrinter._default_settings, "worksheet": False}

    def __init__(self, worksheet: bool = False):
        super().__init__({"worksheet": worksheet, "order": "none"})

    def _print_Sym(self, n):
        base = NAMED[n.base][2] if n.base in NAMED else n.base
        out = base
        if n.sup is not None:
            out += f"^{self._print(n.sup)}"
        if n.sub is not None:
            sub = self._print(n.sub)
            out += f"_{sub}" if isinstance(n.sub, (Numeral, Sym)) and "_" not in sub else f"_({sub})"
        return out

    def _print_Raw(self, n):
        return n.text

    def _print_Word(self, n):
        return n.text

    def _print_Numeral(self, n):
        return n.text.replace("-", "−")

    def _print_Operator(self, n):
        return OPS[n.kind][2]

    def join(self, parts):
        return "".join(parts)

    def _print_Frac(self, n):
        return f"{self._atom(n.num)}/{self._atom(n.den)}"

    def _atom(self, node):
        text = self._print(node)
        simple = (isinstance(node, (Numeral, Sym, Slot)) or " " not in text) and not text.startswith("−")
        return text if simple or text.startswith("(") and text.endswith(")") else f"({text})"

    def _print_Pow_(self, n):
        return f"{self._atom(n.base)}^{self._atom(n.exp)}"

    def _print_Paren(self, n):
        if not _brackets(self, n):
            return self._print(n.body)
        left, right = ("[", "]") if n.kind == "[" else ("(", ")")
        return f"{left}{self._print(n.body)}{right}"

    def _print_Call(self, n):
        name = f"{n.name}{chr(39) if n.prime else ''}"
        v = self.vector_argument(n)
        if v is not None and len(v.items) > 1:
            return f"{name}{self._print(v)}"
        return f"{name}({', '.join(self._print(a) for a in (v.items if v is not None else n.args))})"

    def _print_Vec(self, n):
        return "(" + ", ".join(self._print(i) for i in n.items) + ")ᵀ"

    def _print_Mat(self, n):
        return "[" + "; ".join(" ".join(self._print(c) for c in r) for r in n.rows) + "]"

    def _print_Under(self, n):
        return self._print(n.body)

    def _print_Held(self, n):
        fixed = [self._print(f) for f in n.fixed]
        one = len(n.fixed) == 1 and isinstance(n.fixed[0], (Numeral, Sym)) and "_" not in fixed[0]
        return f"({self._print(n.derivative)})_" + (fixed[0] if one else f"({', '.join(fixed)})")

    def blank(self, wide=False):
        return "________" if wide else "____"

    def box(self):
        return "[" + " " * 40 + "]"

    def _print_Aligned(self, n):
        return "\n    ".join(self._print(r) for r in n.rows)


# -- SymPy into the tree ------------------------------------------------------------------------------


class TreePrinter(Printer):
    """A small SymPy expression (the engine's local derivatives, a registry's formula) as a page tree: a SymPy
    printer whose output is a tree, not a string, dispatching on the expression's class by name (``ReLU``,
    ``relu_step``), so the notation needs no import of the engine's registry. ``names`` maps symbols to trees."""

    _default_settings = {"names": {}}

    def doprint(self, expr):
        return self._print(Integer(expr) if isinstance(expr, int) else expr)

    def _print(self, e, **kwargs):
        names = self._settings["names"]
        return names[e] if e in names else super()._print(e, **kwargs)

    def emptyPrinter(self, e):
        raise ValueError(f"no printer for {e!r}")

    def _print_Rational(self, e, parent=None):
        if e.q == 1:
            return Numeral(str(e)) if e >= 0 else row("neg", Numeral(str(-e)))
        f = Frac(Numeral(str(abs(e.p))), Numeral(str(e.q)))
        return f if e > 0 else row("neg", f)

    def _print_relu_step(self, e, parent=None):
        return Sym("one", row(self._print(e.args[0]), ">", Numeral("0")))

    def _print_leaky_step(self, e, parent=None):
        """Leaky ReLU's slope, as the page defines a ReLU's: ``1_(H > 0) + 0.01·1_(H ≤ 0)`` (it printed
        ``LeakyReLU'(H)``, defining the derivative by its own name)."""
        h = self._print(e.args[0])
        out = Row((Sym("one", row(h, ">", Numeral("0"))), Operator("+"), Numeral("0.01"), Operator("·"),
                   Sym("one", row(h, "≤", Numeral("0")))))
        return Paren(out) if parent in (Mul, Pow) else out

    def _print_ReLU(self, e, parent=None):
        return Call("max", (Numeral("0"), self._print(e.args[0])))

    def _print_LeakyReLU(self, e, parent=None):
        h = self._print(e.args[0])
        return Call("max", (h, Frac(h, Numeral("100"))))

    def _print_exp(self, e, parent=None):
        return Pow_(Sym("e"), self._print(e.args[0]))

    def _print_log(self, e, parent=None):
        return Call("ln", (self._print(e.args[0]),))

    def _print_Function(self, e, parent=None):
        if len(e.args) != 1:
            return self.emptyPrinter(e)
        name = _function_name(e)  # a derivative prints as LeakyReLU'(H): the name and a prime
        return Call(name.rstrip("'"), (self._print(e.args[0]),), prime=name.endswith("'"))

    def _print_Sum(self, e, parent=None):
        """``Σ_j e^{O_j}``: the sum's index below its sign (the page writes no bounds)."""
        return Row((Sym("sum", self._print(e.limits[0][0])), self._print(e.function, parent=Mul)))

    def _print_KroneckerDelta(self, e, parent=None):
        return Sym("delta", Row((self._print(e.args[0]), self._print(e.args[1]))))

    def _print_Add(self, e, parent=None):
        terms = e.args
        if Add(*terms).args == terms:  # an evaluated sum (a sum written unevaluated, as a loss, stays as written)
            factored = factor_terms(e)  # 2·(Y − y), Y·(1 − Y); but e^z − e^(−z), not (e^(2z) − 1)·e^(−z)
            if not isinstance(factored, Add) and not factored.has(exp) and factored.as_coeff_Mul()[0] > 0:
                return self._print(factored, parent=parent)  # (a −(…) − (…), as a loss's terms, is left as it is)
            terms = sorted(terms, key=lambda a: a.could_extract_minus_sign())  # positive first, else SymPy's order
        items = []
        for k, a in enumerate(terms):
            if a.could_extract_minus_sign():  # −x is −1·x: a written sum after it is bracketed, −(y ln Y + …)
                rest = self._print(-a, parent=Mul)
                items += [Operator("-" if k else "neg"), Paren(rest, SIGN) if _negative(rest) else rest]  # 1 − (−0.25)
            else:
                items += ([Operator("+")] if k else []) + [self._print(a, parent=Add)]
        out = Row(tuple(items))
        if parent not in (Mul, Pow):
            return out
        # a bracket round a sum that opens with one is square, as the paper writes ½[(y₁ − Y₁)² + …]: never ((
        first = items[0]
        opens = isinstance(first, Paren) or isinstance(first, Pow_) and isinstance(first.base, Paren)
        return Paren(out, "[" if opens else "(")

    def _print_Mul(self, e, parent=None):
        args = e.args
        if any(isinstance(a, Mul) for a in args) or any(a.is_Number for a in args[1:]) or args[0] == 1:
            # A product written unevaluated (a registry's loss, 1/N·(…) with N = 1, −1·(…)): its numbers as one
            # coefficient in front, its other factors as given (SymPy would distribute the number over a sum).
            coeff, factors = _flat(e)
            if not factors:
                return self._print(coeff, parent=parent)
            rest = factors[0] if len(factors) == 1 else Mul(*factors, evaluate=False)
            body = self._print(rest, parent=Mul if coeff < 0 else parent) if abs(coeff) == 1 else self._print(
                Mul(abs(coeff), *factors, evaluate=False), parent=parent)
            return Row((Operator("neg"), body)) if coeff < 0 else body
        if e.could_extract_minus_sign():
            return Row((Operator("neg"), self._print(-e, parent=Mul)))
        coeff, rest = e.as_coeff_Mul()
        if coeff == 1:
            num, den = fraction(e)  # as written: as_numer_denom would multiply e^(−z) through
            if den != 1:
                return Frac(self._print(num), self._print(den))
        factors = [a for a in Mul.make_args(rest) if a != 1] or [rest]  # an unevaluated 1·(…), as 1/N with N = 1
        parts = ([self._print(coeff, parent=Mul)] if coeff != 1 else []) + [self._print(a, parent=Mul) for a in factors]
        out = []
        number = (Numeral, Frac, Slot)  # a number beside anything takes a ·: 1·ln(0.5538), not 1ln(0.5538)
        for k, p in enumerate(parts):
            if k and isinstance(parts[k - 1], number) or (k and isinstance(p, number)):
                out.append(Operator("·"))
            out.append(p)
        return Row(tuple(out))

    def _print_Pow(self, e, parent=None):
        b, x = e.args
        if x == -1:
            return Frac(Numeral("1"), self._print(b))
        return Pow_(self._print(b, parent=Pow), self._print(x))


SIGN = "±"  # a Paren's kind: round brackets round a negative number, which a worksheet's blank (no sign) goes without


def _brackets(printer, n) -> bool:
    """Are ``n``'s brackets printed: always, but round a negative number (:data:`SIGN`) that is a blank on the
    worksheet (``1 − (−0.25)`` on the key, ``____ − ____`` on the worksheet: the bracket would tell the sign)."""
    if n.kind != SIGN or not printer._settings.get("worksheet"):
        return True
    body = n.body
    return not (isinstance(body, Slot) and not body.given)


def _negative(t) -> bool:
    """A number of the page that prints with a minus sign: a slot or numeral ``−0.25`` (bracketed after a minus,
    never ``1 − −0.25``)."""
    while isinstance(t, Slot):
        t = t.content
    return isinstance(t, Numeral) and t.text.startswith(("-", "−"))


def _flat(e) -> tuple:
    """An unevaluated product's numbers multiplied into one coefficient, and its other factors in their order."""
    coeff, factors = Integer(1), []
    for a in e.args:
        if isinstance(a, Mul):
            c, f = _flat(a)
            coeff, factors = coeff * c, factors + f
        elif a.is_Number:
            coeff *= a
        else:
            factors.append(a)
    return coeff, factors


def from_sympy(expr, names: dict) -> object:
    """A small SymPy expression (the engine's local derivatives) as a tree; ``names`` maps symbols to trees.

    >>> from sympy import symbols
    >>> from derivations.notation.tree import sym
    >>> Y, y = symbols("Y y")
    >>> print(to_text(from_sympy(2 * (Y - y) / 3, {Y: sym("Y", 1), y: sym("y", 1)}), False))
    2/3·(Y_1 − y_1)
    """
    return TreePrinter({"names": names}).doprint(expr)


def _function_name(e) -> str:
    """How a one-argument function prints in text: ``tanh``, ``LeakyReLU'``."""
    shown = text(e)
    return shown[: shown.index("(")] if "(" in shown else type(e).__name__


def latex_escape(text: str) -> str:
    """Text for LaTeX: every special character escaped.

    >>> print(latex_escape("a_b & 50% {x} ~^#$"))
    a\\_b \\& 50\\% \\{x\\} \\textasciitilde{}\\textasciicircum{}\\#\\$
    """
    special = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
               "·": r"\textperiodcentered{}", "—": "---", "–": "--"}
    return "".join(special.get(c, "\\" + c if c in "&%$#_{}" else c) for c in text)


def _letters(text: str) -> str:
    if not _LETTERS.fullmatch(text):
        raise ValueError(f"not a name: {text!r}")
    return text


def to_typst(tree, worksheet: bool) -> str:
    return TypstMath(worksheet).doprint(tree)


def to_latex(tree, worksheet: bool) -> str:
    return LatexMath(worksheet).doprint(tree)


def to_text(tree, worksheet: bool) -> str:
    return TextMath(worksheet).doprint(tree)
