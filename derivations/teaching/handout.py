r"""The handout's page as a layout: blocks in the paper handout's order, every number a slot.

A :class:`Layout` is an ordered list of blocks (:class:`Heading`, :class:`Prose`, :class:`Display`,
:class:`Figure`). The math inside is a small tree (:class:`Sym`, :class:`Numeral`, :class:`Row`,
:class:`Frac`, :class:`Vec`, :class:`Under`, ...) in which every number the student reads or writes is a
:class:`Slot`: *given* (printed on the worksheet, as on the paper) or an *answer* (a blank on the worksheet,
filled on the key). Three printers write the same tree as Typst math, LaTeX math and plain text; every
number comes from :class:`derivations.engine.values.Values`.

>>> from derivations import evaluate, load_problem
>>> page = layout(evaluate(load_problem()))
>>> page.blanks()
51
>>> step4 = page.display("step4")
>>> print(to_text(step4.math, worksheet=True))
Y_1 = e^____/(e^____ + e^____) = ____   Y_2 = ____   ⇒   Y = (____, ____)ᵀ
>>> print(to_text(step4.math, worksheet=False))
Y_1 = e^0.06/(e^0.06 + e^0.06) = 0.5   Y_2 = 0.5   ⇒   Y = (0.5, 0.5)ᵀ
>>> print(to_latex(page.display("grad_w_b11").math.rows[-1], worksheet=True))
&= \left(\underline{\hspace{2cm}}\right) \left(\underline{\hspace{2cm}}\right) = \underline{\hspace{2cm}}
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from sympy import Add, Function, Integer, KroneckerDelta, Mul, Pow, Rational, Symbol, exp, factor_terms, log

from ..engine.derivation import Param, parse_param
from ..engine.errors import ProblemError
from ..engine.problem import LETTERS, MAX_ASKED as PAGE_ASKED

# -- the math tree -----------------------------------------------------------------------------------

# Named symbols: (Typst, LaTeX, text).
NAMED = {
    "loss": ("cal(L)", r"\mathcal{L}", "ℒ"),
    "nabla": ("nabla", r"\nabla", "∇"),
    "partial": ("partial", r"\partial", "∂"),
    "delta": ("delta", r"\delta", "δ"),
    "one": ("bold(1)", r"\mathbf{1}", "1"),
    "sum": ("sum", r"\sum", "Σ"),
    "e": ("e", "e", "e"),
    "ell": ("ell", r"\ell", "ℓ"),
    "eta": ("eta", r"\eta", "η"),
}
# Operators between pieces of a row: (Typst, LaTeX, text).
OPS = {
    "=": ("=", "=", " = "),
    "+": ("+", "+", " + "),
    "-": ("-", "-", " − "),
    "·": ("dot", r"\cdot", "·"),
    ">": (">", ">", " > "),
    ",": ("comma", ",", ", "),
    "≈": ("approx", r"\approx", " ≈ "),
    "⇒": ("quad arrow.r.double quad", r"\quad \Rightarrow \quad", "   ⇒   "),
    "quad": ("quad", r"\quad", "   "),
    "neg": ("-", "-", "−"),
    "&=": ("&=", "&=", " = "),
    "&≈": ("&approx", r"&\approx", " ≈ "),
    ":": (":", ":", ": "),
    "×": ("times", r"\times", "×"),
}
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_LETTERS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Sym:
    """A symbol: a letter (``H``) or a named one (``loss``), with sub- and superscript."""

    base: str
    sub: object = None
    sup: object = None


@dataclass(frozen=True)
class Word:
    """An upright name: ``ReLU``, ``softmax``, ``ln``."""

    text: str


@dataclass(frozen=True)
class Numeral:
    """A number as written: ``0.15``, ``-0.0375``; ``approx``: rounded (an ``=`` before it reads ``≈``)."""

    text: str
    approx: bool = False


@dataclass(frozen=True)
class Operator:
    kind: str


@dataclass(frozen=True)
class Row:
    """Pieces side by side (operators are :class:`Operator` pieces)."""

    items: tuple


@dataclass(frozen=True)
class Frac:
    num: object
    den: object


@dataclass(frozen=True)
class Pow_:
    base: object
    exp: object


@dataclass(frozen=True)
class Paren:
    """``( body )`` or ``[ body ]``, sized to the body."""

    body: object
    kind: str = "("


@dataclass(frozen=True)
class Call:
    """``name(args...)``: ``ReLU(H)``, ``max(0, z)``; ``prime``: ``ReLU'(H_1)``."""

    name: str
    args: tuple
    prime: bool = False


@dataclass(frozen=True)
class Vec:
    """A column vector."""

    items: tuple


@dataclass(frozen=True)
class Mat:
    rows: tuple


@dataclass(frozen=True)
class Under:
    """``body`` with an under-brace labelled ``label``."""

    body: object
    label: object


@dataclass(frozen=True)
class Raw:
    """A formula the registry spells itself, in each target: text, LaTeX and Typst."""

    text: str
    tex: str
    typst: str


@dataclass(frozen=True)
class Slot:
    """A number on the page: ``given`` is printed on the worksheet; an answer is a blank there."""

    content: object
    given: bool = False
    key: str = ""  # the answer key it is a blank for (``forward.H[1]``), as the checker and the roles name it


@dataclass(frozen=True)
class Aligned:
    """Rows aligned at their ``&=``."""

    rows: tuple


# -- blocks ------------------------------------------------------------------------------------------


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Prose:
    """A paragraph: strings, ``("b", str)`` for bold, and math trees (inline)."""

    parts: list
    key: str = ""
    answer: bool = False  # only on the key (the key insight's answer)


@dataclass
class Display:
    key: str
    math: object


@dataclass
class Figure:
    """The network with ``weight``'s gradient paths in ``colour`` (drawn by :func:`figures.network_svg`)."""

    weight: str
    colour: str
    caption: str


@dataclass
class Layout:
    title: str
    problem_id: str
    description: str
    source: str
    blocks: list = field(default_factory=list)

    def display(self, key: str) -> Display:
        for b in self.blocks:
            if isinstance(b, Display) and b.key == key:
                return b
        raise KeyError(key)

    def blanks(self) -> int:
        """The number of answer slots: the blanks of the worksheet."""
        return sum(count_slots(b.math) for b in self.blocks if isinstance(b, Display)) + sum(
            count_slots(p) for b in self.blocks if isinstance(b, Prose) for p in b.parts if not isinstance(p, (str, tuple)))

    def slots(self, given: bool | None = None) -> list:
        out = []
        for b in self.blocks:
            trees = [b.math] if isinstance(b, Display) else [p for p in b.parts if not isinstance(p, (str, tuple))] \
                if isinstance(b, Prose) else []
            for tree in trees:
                out += [s for s in walk(tree) if isinstance(s, Slot) and (given is None or s.given == given)]
        return out


def walk(node):
    """Every node of a math tree, depth first (a slot's content included)."""
    yield node
    if isinstance(node, (Row, Vec, Aligned)):
        children = node.items if not isinstance(node, Aligned) else node.rows
    elif isinstance(node, Mat):
        children = [c for r in node.rows for c in r]
    elif isinstance(node, Call):
        children = node.args
    elif isinstance(node, (Frac,)):
        children = (node.num, node.den)
    elif isinstance(node, Pow_):
        children = (node.base, node.exp)
    elif isinstance(node, Paren):
        children = (node.body,)
    elif isinstance(node, Under):
        children = (node.body, node.label)
    elif isinstance(node, Slot):
        children = (node.content,)
    elif isinstance(node, Sym):
        children = [c for c in (node.sub, node.sup) if c is not None]
    else:
        children = ()
    for c in children:
        if not isinstance(c, str):
            yield from walk(c)


def count_slots(tree) -> int:
    return sum(1 for n in walk(tree) if isinstance(n, Slot) and not n.given)


# -- printers ----------------------------------------------------------------------------------------


def typst_string(text: str) -> str:
    """A Typst string literal: the only way a user's text reaches Typst source.

    >>> typst_string('a "b" \\\\ #c')
    '"a \\\\"b\\\\" \\\\\\\\ #c"'
    """
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def _check_number(text: str) -> str:
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    return text


class _Printer:
    """Shared walk; subclasses spell each node."""

    def __init__(self, worksheet: bool):
        self.worksheet = worksheet

    def __call__(self, node) -> str:
        if isinstance(node, str):
            return self.word(node)
        return getattr(self, type(node).__name__.rstrip("_").lower())(node)

    def row(self, node):
        return self.join([self(i) for i in node.items])

    def join(self, parts):
        return " ".join(p for p in parts if p)

    def slot(self, node):
        if node.given or not self.worksheet:
            return self.filled(node, self(node.content))
        return self.blank(wide=isinstance(node.content, Row) and len(node.content.items) > 2)

    def filled(self, node, body):
        return body


class TypstMath(_Printer):
    """Typst math source of a tree (inside ``$ ... $``). Answers are wrapped in ``#ans[...]``; blanks are
    ``#blank``; words are string literals."""

    def sym(self, n):
        base = NAMED[n.base][0] if n.base in NAMED else _letters(n.base)
        out = base
        if n.sub is not None:
            out += f"_({self(n.sub)})"
        if n.sup is not None:
            out += f"^({self(n.sup)})"
        return out

    def raw(self, n):
        return n.typst

    def word(self, n):
        text = n.text if isinstance(n, Word) else n
        return f"upright({typst_string(text)})"

    def numeral(self, n):
        return _check_number(n.text)

    def operator(self, n):
        return OPS[n.kind][0]

    def frac(self, n):
        return f"frac({self(n.num)}, {self(n.den)})"

    def pow(self, n):
        return f"{self(n.base)}^({self(n.exp)})"

    def paren(self, n):
        left, right = ("(", ")") if n.kind == "(" else ("[", "]")
        return f"lr({left} {self(n.body)} {right})"

    def call(self, n):
        name = {"max": "max", "ln": "ln", "tanh": "tanh"}.get(n.name) or f"op({typst_string(n.name)})"
        if n.prime:
            name = f"op({typst_string(n.name + chr(0x2032))})"
        args = " comma ".join(self(a) for a in n.args)
        return f"{name} lr(( {args} ))"

    def vec(self, n):
        return f'vec(delim: "(", {", ".join(self(i) for i in n.items)})'

    def mat(self, n):
        return 'mat(delim: "(", ' + "; ".join(", ".join(self(c) for c in r) for r in n.rows) + ")"

    def under(self, n):
        return f"underbrace({self(n.body)}, {self(n.label)})"

    def blank(self, wide=False):
        return "#blank(wide: true)" if wide else "#blank()"

    def filled(self, node, body):
        return body if node.given else f"#ans($ {body} $)"

    def aligned(self, n):
        return r" \ ".join(self(r) for r in n.rows)


class LatexMath(_Printer):
    """LaTeX math of a tree; blanks are ``\\underline{\\hspace{2cm}}``."""

    def sym(self, n):
        base = NAMED[n.base][1] if n.base in NAMED else _letters(n.base)
        out = base
        if n.sup is not None:
            out += f"^{{{self(n.sup)}}}"
        if n.sub is not None:
            out += f"_{{{self(n.sub)}}}"
        return out

    def raw(self, n):
        return n.tex

    def word(self, n):
        text = n.text if isinstance(n, Word) else n
        if _LETTERS.fullmatch(text):
            return rf"\operatorname{{{text}}}"
        return r"\text{" + latex_escape(text) + "}"

    def numeral(self, n):
        return _check_number(n.text)

    def operator(self, n):
        return OPS[n.kind][1]

    def frac(self, n):
        return rf"\frac{{{self(n.num)}}}{{{self(n.den)}}}"

    def pow(self, n):
        return f"{{{self(n.base)}}}^{{{self(n.exp)}}}"

    def paren(self, n):
        left, right = (r"\left(", r"\right)") if n.kind == "(" else (r"\left[", r"\right]")
        return f"{left}{self(n.body)}{right}"

    def call(self, n):
        name = {"max": r"\max", "ln": r"\ln", "tanh": r"\tanh"}.get(n.name) or rf"\operatorname{{{_letters(n.name)}}}"
        return rf"{name}{chr(39) if n.prime else ''}\left({', '.join(self(a) for a in n.args)}\right)"

    def vec(self, n):
        return r"\begin{pmatrix} " + r" \\ ".join(self(i) for i in n.items) + r" \end{pmatrix}"

    def mat(self, n):
        return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(self(c) for c in r) for r in n.rows) + r" \end{pmatrix}"

    def under(self, n):
        return rf"\underbrace{{{self(n.body)}}}_{{{self(n.label)}}}"

    def blank(self, wide=False):
        return r"\underline{\hspace{%s}}" % ("4cm" if wide else "2cm")

    def aligned(self, n):
        return r"\begin{aligned} " + r" \\ ".join(self(r) for r in n.rows) + r" \end{aligned}"

    def row(self, node):
        parts = [self(i) for i in node.items]
        # LaTeX glues juxtaposed parentheses; keep the tree's spacing readable.
        return " ".join(p for p in parts if p)


class TextMath(_Printer):
    """Plain text of a tree; blanks are ``____``."""

    def sym(self, n):
        base = NAMED[n.base][2] if n.base in NAMED else n.base
        out = base
        if n.sup is not None:
            out += f"^{self(n.sup)}"
        if n.sub is not None:
            sub = self(n.sub)
            out += f"_{sub}" if isinstance(n.sub, (Numeral, Sym)) and "_" not in sub else f"_({sub})"
        return out

    def raw(self, n):
        return n.text

    def word(self, n):
        return n.text if isinstance(n, Word) else n

    def numeral(self, n):
        return n.text.replace("-", "−")

    def operator(self, n):
        return OPS[n.kind][2]

    def join(self, parts):
        return "".join(parts)

    def frac(self, n):
        return f"{self._atom(n.num)}/{self._atom(n.den)}"

    def _atom(self, node):
        text = self(node)
        simple = (isinstance(node, (Numeral, Sym, Slot)) or " " not in text) and not text.startswith("−")
        return text if simple or text.startswith("(") and text.endswith(")") else f"({text})"

    def pow(self, n):
        return f"{self._atom(n.base)}^{self._atom(n.exp)}"

    def paren(self, n):
        left, right = ("(", ")") if n.kind == "(" else ("[", "]")
        return f"{left}{self(n.body)}{right}"

    def call(self, n):
        return f"{n.name}{chr(39) if n.prime else ''}({', '.join(self(a) for a in n.args)})"

    def vec(self, n):
        return "(" + ", ".join(self(i) for i in n.items) + ")ᵀ"

    def mat(self, n):
        return "[" + "; ".join(" ".join(self(c) for c in r) for r in n.rows) + "]"

    def under(self, n):
        return self(n.body)

    def blank(self, wide=False):
        return "________" if wide else "____"

    def aligned(self, n):
        return "\n    ".join(self(r) for r in n.rows)


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
    return TypstMath(worksheet)(tree)


def to_latex(tree, worksheet: bool) -> str:
    return LatexMath(worksheet)(tree)


def to_text(tree, worksheet: bool) -> str:
    return TextMath(worksheet)(tree)


# -- building blocks ---------------------------------------------------------------------------------


def row(*items) -> Row:
    return Row(tuple(Operator(i) if isinstance(i, str) and i in OPS else (Word(i) if isinstance(i, str) else i) for i in items))


def sym(base: str, sub=None, sup=None) -> Sym:
    def wrap(v):
        return Numeral(str(v)) if isinstance(v, int) else Sym(v) if isinstance(v, str) else v

    return Sym(base, wrap(sub), wrap(sup))


def idx(*ks) -> object:
    """A 1-based index from 0-based ones: ``11``, or ``2,11`` once a width passes 9."""
    ks = [k + 1 for k in ks]
    if all(k < 10 for k in ks):
        return Numeral("".join(map(str, ks)))
    return Row(tuple(sum(([Numeral(str(k)), Operator(",")] for k in ks), [])[:-1]))


def partial(top, bottom) -> Frac:
    """``∂top/∂bottom``."""
    return Frac(Row((Sym("partial"), top)), Row((Sym("partial"), bottom)))


LOSS = Sym("loss")


def grad_sym(of) -> Sym:
    """``∇_{Y_1}``."""
    return Sym("nabla", of)


def from_sympy(expr, names: dict) -> object:
    """A small SymPy expression (the engine's local derivatives) as a tree; ``names`` maps symbols to trees.

    >>> from sympy import symbols
    >>> Y, y = symbols("Y y")
    >>> print(to_text(from_sympy(2 * (Y - y) / 3, {Y: sym("Y", 1), y: sym("y", 1)}), False))
    2/3·(Y_1 − y_1)
    """
    from ..engine.ops import ReLU, relu_step

    def go(e, parent=None):
        if e in names:
            return names[e]
        if isinstance(e, Integer) or (isinstance(e, Rational) and e.q == 1):
            return Numeral(str(e)) if e >= 0 else row("neg", Numeral(str(-e)))
        if isinstance(e, Rational):
            f = Frac(Numeral(str(abs(e.p))), Numeral(str(e.q)))
            return f if e > 0 else row("neg", f)
        if isinstance(e, relu_step):
            return Sym("one", row(go(e.args[0]), ">", Numeral("0")))
        if isinstance(e, ReLU):
            return Call("max", (Numeral("0"), go(e.args[0])))
        if isinstance(e, exp):
            return Pow_(Sym("e"), go(e.args[0]))
        if isinstance(e, log):
            return Call("ln", (go(e.args[0]),))
        if isinstance(e, Function) and len(e.args) == 1 and not isinstance(e, (Add, Mul, Pow)):
            name = _function_name(e)  # a derivative prints as LeakyReLU'(H): the name and a prime
            return Call(name.rstrip("'"), (go(e.args[0]),), prime=name.endswith("'"))
        if isinstance(e, Add) and not isinstance(factor_terms(e), Add):
            return go(factor_terms(e), parent)
        if isinstance(e, Add):
            terms = sorted(e.args, key=lambda a: (a.could_extract_minus_sign(), str(a)))
            items = []
            for k, a in enumerate(terms):
                if a.could_extract_minus_sign():
                    items += [Operator("-" if k else "neg"), go(-a, Add)]
                else:
                    items += ([Operator("+")] if k else []) + [go(a, Add)]
            out = Row(tuple(items))
            return Paren(out) if parent in (Mul, Pow) else out
        if isinstance(e, Mul):
            if e.could_extract_minus_sign():
                return Row((Operator("neg"), go(-e, Mul)))
            coeff, rest = e.as_coeff_Mul()
            if coeff == 1:
                num, den = e.as_numer_denom()
                if den != 1:
                    return Frac(go(num), go(den))
            parts = ([go(coeff, Mul)] if coeff != 1 else []) + [go(a, Mul) for a in Mul.make_args(rest)]
            out = []
            for k, p in enumerate(parts):
                if k and isinstance(parts[k - 1], (Numeral, Frac)) or (k and isinstance(p, (Numeral, Frac))):
                    out.append(Operator("·"))
                out.append(p)
            return Row(tuple(out))
        if isinstance(e, Pow):
            b, x = e.args
            if x == -1:
                return Frac(Numeral("1"), go(b))
            return Pow_(go(b, Pow), go(x))
        if isinstance(e, KroneckerDelta):
            return Sym("delta", Row((go(e.args[0]), go(e.args[1]))))
        raise ValueError(f"no printer for {e!r}")

    return go(Integer(expr) if isinstance(expr, int) else expr)


def _function_name(e) -> str:
    """How a one-argument function prints in text: ``tanh``, ``LeakyReLU'``."""
    from ..notation.printing import text

    shown = text(e)
    return shown[: shown.index("(")] if "(" in shown else type(e).__name__


# -- the engine, in a few small functions --------------------------------------------------------------


class _Numbers:
    """Number spelling through :class:`solution.Notation`: exact decimal, fraction, or ``≈`` rounded."""

    def __init__(self, values, digits: int):
        from .solution import Notation

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

    def _signed(self, text: str):
        text = text.replace("−", "-").strip()
        if "e" in text.lower():  # mpmath's 1.0e-5: write it as a decimal
            from mpmath import mpf, nstr

            text = nstr(mpf(text), 12, min_fixed=-400, max_fixed=400)
        return Numeral(text)

    def _rounded(self, text: str):
        return Numeral(self._signed(text).text, approx=True)


def approx_equals(tree):
    """The tree with every ``=`` whose right-hand piece holds a rounded number turned into ``≈``."""
    import dataclasses

    if isinstance(tree, Row):
        items = [approx_equals(i) for i in tree.items]
        eq = ("=", "&=", "≈", "&≈", "quad", "⇒")
        for k, item in enumerate(items[:-1]):
            if isinstance(item, Operator) and item.kind in ("=", "&="):
                stop = next((m for m in range(k + 1, len(items)) if isinstance(items[m], Operator) and items[m].kind in eq),
                            len(items))
                if any(_rounded(i) for i in items[k + 1:stop]):
                    items[k] = Operator("≈" if item.kind == "=" else "&≈")
        return Row(tuple(items))
    if isinstance(tree, Under):  # a label's "= 1" stays as printed
        return Under(approx_equals(tree.body), tree.label)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, (Numeral, Operator, Word)):
        changes = {}
        for f in dataclasses.fields(tree):
            v = getattr(tree, f.name)
            if isinstance(v, tuple):
                changes[f.name] = tuple(tuple(approx_equals(c) for c in r) if isinstance(r, tuple) else approx_equals(r)
                                        for r in v)
            elif dataclasses.is_dataclass(v):
                changes[f.name] = approx_equals(v)
        return dataclasses.replace(tree, **changes)
    return tree


def _rounded(tree) -> bool:
    if isinstance(tree, Under):  # an under-brace's label is an aside ("= 0.2359"), not the chain's value
        return _rounded(tree.body)
    if isinstance(tree, Row):
        return any(_rounded(i) for i in tree.items)
    return any(isinstance(n, Numeral) and n.approx for n in walk(tree))


def problem_id(problem, data: bytes | None = None) -> str:
    """A short identifier of a problem: the hash of its file's bytes, or of the exact problem when there is
    no file (the default handout). Printed on worksheet and key so they are never mismatched.

    >>> from derivations import load_problem
    >>> len(problem_id(load_problem()))
    8
    """
    if data is None:  # the whole problem; the handout's kind of problem keeps the fields it always hashed
        p = problem
        first = (p.layers, p.activation, p.loss, [str(v) for v in p.xs[0]], [str(v) for v in p.ys[0]],
                 *([str(v) for v in W] for W in p.weights[:2]))
        rest = (p.output if p.output != "softmax" else None, [[str(v) for v in W] for W in p.weights[2:]],
                p.biases and [[str(v) for v in b] for b in p.biases], [[str(v) for v in x] for x in p.xs[1:]],
                [[str(v) for v in y] for y in p.ys[1:]], list(p.ask), p.lr and str(p.lr))
        data = repr(first if not any(rest) else first + tuple(rest)).encode()
    return hashlib.sha256(data).hexdigest()[:8]


# -- the page ----------------------------------------------------------------------------------------

_LAID_OUT: dict = {}  # (id of the values, digits, data) -> (values, page), the newest few


def layout(values, digits: int = 4, data: bytes | None = None) -> Layout:
    """The handout's page for ``values``' problem, in the paper handout's order; laid out once per values
    object and settings, so the page, its PDFs and its self-check share one layout (no caller changes it).

    ``data`` is the problem file's bytes (for the identifier)."""
    key = (id(values), digits, data)
    if key in _LAID_OUT and _LAID_OUT[key][0] is values:
        return _LAID_OUT[key][1]
    page = _lay_out(values, digits, data)
    _LAID_OUT[key] = (values, page)
    while len(_LAID_OUT) > 8:
        del _LAID_OUT[next(iter(_LAID_OUT))]
    return page


def _sum_of_products(nb: _Numbers, pairs) -> list:
    items = []
    for k, (a, c) in enumerate(pairs):
        items += (["+"] if k else []) + [nb.factor(a), "·", nb.factor(c)]
    return items


def _fraction(v):
    if isinstance(v, Rational) and v.q != 1:
        f = Frac(Numeral(str(abs(v.p))), Numeral(str(v.q)))
        return f if v > 0 else row("neg", f)
    return None


def _insight(values, nb) -> list:
    """The key insight's answer, derived from the values: is ∂ℒ/∂W_a zero, and are the hidden units alike?"""
    p, d = values.problem, values.derivation
    ga = values.gradients["W_a"]
    Wa, last = sym("W", "a"), LETTERS[len(p.weights) - 1]
    Wlast = p.weights[-1]
    zero = all(v == 0 for v in ga)
    parts = [("b", "Answer: ")]
    if zero:
        parts += [row(partial(LOSS, Wa), "=", Numeral("0")), f" exactly (all {len(ga)} entries). "]
        per_sample = [values.backward["dL_dO"]] if p.n_samples == 1 else values.backward["dL_dO"]
        if all(sum(g) == 0 for g in per_sample) and all(Wlast.row(i) == Wlast.row(0) for i in range(p.n_out)):
            L = d.symbols.keys[-3]  # the last hidden layer's output
            Lj = Sym(L[0], sym("j"), Paren(Numeral(L[1:])) if L[1:] else None)
            parts += ["The softmax gradients cancel, ",
                      row(*sum(([grad_sym(sym("O", k + 1)), "+"] for k in range(p.n_out)), [])[:-1], "=", Numeral("0")),
                      *([" (in every sample)"] if p.n_samples > 1 else []), ", and every row of ", sym("W", last),
                      " is the same, so every ",
                      row(grad_sym(Lj), "=", Sym("sum", sym("i")), grad_sym(sym("O", sym("i"))),
                          Sym("w", Row((sym("i"), sym("j"))), Sym(last)), "=", Numeral("0")), ". "]
    else:
        nonzero = sum(1 for v in ga if v != 0)
        parts += [partial(LOSS, Wa), f" is not zero ({nonzero} of {len(ga)} entries). "]
    if p.symmetric and p.depth == 1:
        parts += [f"All {p.n_hidden} hidden units start identical (equal rows of ", Wa, ", equal columns of ", sym("W", "b"),
                  "): they compute the same value and receive the same gradient, so every update keeps them identical "
                  "— the network learns like one with a single hidden unit. Constant initialization never breaks "
                  "the symmetry: initialize the weights randomly."]
    elif p.symmetric:
        parts += ["In every hidden layer the units start identical (equal incoming rows, equal outgoing columns): they "
                  "compute the same values and receive the same gradients, so every update keeps them identical — "
                  "each layer learns like a single unit. Constant initialization never breaks the symmetry: "
                  "initialize the weights randomly."]
    else:
        parts += ["The hidden units start different, so this initialization breaks the symmetry."]
    return parts


# -- the page, generated from the derivation's operations -----------------------------------------------------

# What one page shows: a network a student works by hand. Beyond these the page is refused in one line (the
# worked solution, python -m derivations.print, covers every network the engine accepts).
PAGE_WIDTH = 6  # units in a layer: a 6×6 matrix with its products still fits a printed line
PAGE_HIDDEN = 3  # hidden layers
PAGE_SAMPLES = 3  # samples, each with its own forward and backward blanks
PATH_COLOURS = ("red", "blue", "green", "orange", "purple", "grey")
PRODUCTS_UP_TO = 4  # a linear step writes out each row's products up to this many inputs (the handout's 3 and 4)
_ELSEWHERE = "; the worked solution (python -m derivations.print) covers every network"


def _check(problem) -> None:
    """A page a student can work by hand, or one line saying what is too big."""
    p = problem
    if max(p.layers) > PAGE_WIDTH:
        raise ProblemError("network.layers", f"the students' page shows layers of at most {PAGE_WIDTH} units, got "
                                             f"{'-'.join(map(str, p.layers))}{_ELSEWHERE}")
    if p.depth > PAGE_HIDDEN:
        raise ProblemError("network.layers", f"the students' page shows at most {PAGE_HIDDEN} hidden layers, got "
                                             f"{p.depth}{_ELSEWHERE}")
    if p.n_samples > PAGE_SAMPLES:
        raise ProblemError("data.x", f"the students' page shows at most {PAGE_SAMPLES} samples, got {p.n_samples}{_ELSEWHERE}")


def asked(derivation) -> list:
    """The parameters whose gradient the page asks for, last layer first: ``[worksheet] ask`` of the problem
    file, or the paper's choice generalized (an example and a practice weight of the last layer, a weight of each
    middle layer, a weight of the first layer, and a bias of the first layer where there are biases).

    >>> from derivations import derive, load_problem
    >>> [p.key() for p in asked(derive(load_problem()))]
    ['w_b11', 'w_b21', 'w_a11']
    """
    p = derivation.problem
    last = len(p.layers) - 2
    if getattr(p, "ask", ()):
        out = []
        for name in p.ask:
            try:
                param = parse_param(name, p)
            except ProblemError as err:
                raise ProblemError("worksheet.ask", err.expected) from None
            if param in out:
                raise ProblemError("worksheet.ask", f"{name!r} is asked twice")
            out.append(param)
    else:
        out = [Param(last, "weight", 0, 0)]
        if p.n_out >= 2:
            out.append(Param(last, "weight", 1, 0))
        elif p.layers[last] >= 2:
            out.append(Param(last, "weight", 0, 1))
        out += [Param(l, "weight", 0, 0) for l in range(last - 1, -1, -1)]
        if p.bias:
            out.append(Param(0, "bias", 0))
    if len(out) > PAGE_ASKED:
        raise ProblemError("worksheet.ask", f"expected at most {PAGE_ASKED} parameters (one path block and diagram "
                                            f"each), got {len(out)}")
    return sorted(out, key=lambda q: -q.layer)  # the values a deeper path needs come from the paths before it


class _Page:
    """Builds one :class:`Layout`: setup, a step per operation (per sample), the backward values, a path block
    per asked parameter, and the closing question."""

    def __init__(self, values, digits: int, data: bytes | None):
        self.v, self.d = values, values.derivation
        self.p = p = values.problem
        self.S = p.n_samples
        self.keys = self.d.symbols.keys
        self.nb = _Numbers(values, digits)
        self.introduced: set = set()  # backward quantities a block has already asked for: ("dL_dO", i, s)
        self.out = Layout(title="Backpropagation Handout", problem_id=problem_id(p, data), description=p.describe(),
                          source=Path(str(p.source)).name)  # the file's name, not the machine's path
        self.asked = asked(self.d)

    # -- values and names -------------------------------------------------------------------------------

    def fwd(self, key: str, s: int):
        f = self.v.forward
        return f[key] if self.S == 1 else f[key][s]

    def bwd(self, key: str, s: int):
        b = self.v.backward
        return b[key] if self.S == 1 else b[key][s]

    def at(self, s) -> str:
        return f"@{s + 1}" if self.S > 1 and s is not None else ""

    def sup(self, layer: str, s):
        parts = ([Paren(Numeral(layer))] if layer else []) + ([Paren(Numeral(str(s + 1)), "[")] if self.S > 1 and s is not None else [])
        return None if not parts else parts[0] if len(parts) == 1 else Row(tuple(parts))

    def vec(self, key: str, s=None) -> Sym:
        """``H``, ``H^(2)``, ``H^[1]``: a layer's vector (of sample ``s``)."""
        return Sym(key[0], None, self.sup(key[1:], s))

    def ent(self, key: str, k, s=None) -> Sym:
        """``H_1``, ``L^(2)_3``, ``x^[2]_1``; ``k`` a 0-based unit or an index symbol."""
        return Sym(key[0], Numeral(str(k + 1)) if isinstance(k, int) else k, self.sup(key[1:], s))

    def loss_sym(self, s=None) -> Sym:
        """``ℒ``, or with several samples ``ℓ^[s]``, sample ``s``'s loss."""
        return LOSS if self.S == 1 else Sym("ell", None, self.sup("", s))

    def psym(self, q) -> Sym:
        if q.kind == "bias":
            return Sym("b", Numeral(str(q.i + 1)), Sym(LETTERS[q.layer]))
        return Sym("w", idx(q.i, q.j), Sym(LETTERS[q.layer]))

    def pvalue(self, q):
        return self.p.weights[q.layer][q.i, q.j] if q.kind == "weight" else self.p.biases[q.layer][q.i]

    def linear_in(self, l: int) -> str:
        return "x" if l == 0 else self.keys[2 * l - 1]

    def linear_out(self, l: int) -> str:
        return self.keys[2 * l] if l < self.p.depth else "O"

    def matrix_sym(self, l: int, kind: str = "W") -> Sym:
        return Sym(kind, Sym(LETTERS[l]))

    def in_value(self, l: int, j: int, s: int):
        return self.p.xs[s][j] if l == 0 else self.fwd(self.linear_in(l), s)[j]

    def in_key(self, l: int, j: int, s: int) -> str:
        return f"problem.x[{j + 1}]{self.at(s)}" if l == 0 else f"forward.{self.linear_in(l)}[{j + 1}]{self.at(s)}"

    def ans(self, v, key: str = "") -> Slot:
        return Slot(self.nb.num(v), key=key)

    def given(self, v) -> Slot:
        return Slot(self.nb.num(v), given=True)

    def answers(self, key: str, s: int) -> Vec:
        """A vector of blanks, keyed ``forward.H[1]``, ``forward.H[2]``, ... (``@s`` with several samples)."""
        return Vec(tuple(self.ans(v, f"forward.{key}[{k + 1}]{self.at(s)}") for k, v in enumerate(self.fwd(key, s))))

    def B(self, block):
        if isinstance(block, Display):
            block.math = approx_equals(block.math)
        elif isinstance(block, Prose):
            block.parts = [approx_equals(q) if not isinstance(q, (str, tuple)) else q for q in block.parts]
        self.out.blocks.append(block)

    # -- the page ---------------------------------------------------------------------------------------

    def build(self) -> Layout:
        self.B(Heading("Step-by-Step Feedforward & Backpropagation", 2))
        self.intro()
        self.setup()
        self.B(Heading("Forward Pass", 2))
        n = 1
        for s in range(self.S):
            n = self.forward(s)
        if self.S > 1:
            self.mean_loss(n)
        self.B(Heading("Backward Pass — Per-Parameter Gradient Paths", 2))
        self.B(Prose(["We trace the ", ("b", "gradient path"), " backward from ", LOSS, " to each parameter, multiplying local "
                      "derivatives along the way (chain rule). At branches, we ", ("b", "sum"), " contributions from all paths."]
                     + ([" With several samples, ", LOSS, " is the mean of the samples' losses, so each gradient is the "
                         "mean of the samples' gradients."] if self.S > 1 else [])))
        self.formulas()
        for s in range(self.S):
            self.output_values(s)
        for k, q in enumerate(self.asked):
            self.path(q, k)
        self.closing()
        return self.out

    def steps_per_sample(self) -> int:
        return 2 * self.p.depth + 3

    def intro(self):
        names = [self.vec(key) for key in self.keys] + [LOSS]
        items = []
        for k, name in enumerate(names):
            items += ([","] if k else []) + [name]
        n = self.steps_per_sample()
        steps = f" (Steps 1–{n}). " if self.S == 1 else f" (Steps 1–{n} for each of the {self.S} samples, then Step {n + 1}). "
        practice = self.asked[1:] or self.asked[:1]
        grads = []
        for k, q in enumerate(practice):
            grads += ([" and " if k == len(practice) - 1 else ", "] if k else []) + [partial(LOSS, self.psym(q))]
        self.B(Prose([("b", "Your tasks. Forward: "), "compute all intermediate values ", row(*items), steps,
                      ("b", "Backward: "), "compute ", *grads, "."]))

    def setup(self):
        p = self.p
        parts = [("b", "Setup."), " "]
        for label, key, group in (("Input", "x", p.xs), ("Target", "y", p.ys)):
            parts += [("b", f"{label}{'s' if self.S > 1 else ''}: ")]
            for s in range(self.S):
                parts += ([",  "] if s else []) + [row(self.vec(key, s), "=", Vec(tuple(self.given(v) for v in group[s])))]
            parts += ["   "] if key == "x" else []
        self.B(Prose(parts, key="setup"))
        setup = []
        for l, m in enumerate(p.weights):
            base = self.matrix_sym(l)
            shape = row(Numeral(str(m.shape[0])), "×", Numeral(str(m.shape[1])))
            if not p.bias:
                if len(set(m)) == 1:
                    setup += [row(base, ":"), " ", shape, ", no bias, all entries = ", row(self.given(m[0, 0])), ".   "]
                else:
                    setup += [row(base, ":"), " ", shape, ", no bias (entries below).   "]
                continue
            bias, b = self.matrix_sym(l, "b"), p.biases[l]
            setup += [row(base, ":"), " ", shape] + ([", all entries = ", row(self.given(m[0, 0]))] if len(set(m)) == 1
                                                      else [" (entries below)"])
            setup += [", bias ", bias] + ([": all entries = ", row(self.given(b[0])), ".   "] if len(set(b)) == 1
                                          else [" (entries below).   "])
        self.B(Prose(setup, key="weights"))

    # -- forward ----------------------------------------------------------------------------------------

    def forward(self, s: int) -> int:
        """One sample's forward steps; returns the next step's number."""
        p, at = self.p, self.at(s)
        if self.S > 1:
            self.B(Heading(f"Sample {s + 1}", 3))
        n = 1
        for l in range(len(p.weights)):
            self.linear_step(l, s, n)
            n += 1
            if l < p.depth:
                self.activation_step(l, s, n)
                n += 1
        self.output_step(s, n, at)
        self.loss_step(s, n + 1, at)
        return n + 2

    def step_key(self, n: int, s: int) -> str:
        return f"step{n}{self.at(s)}"

    def linear_step(self, l: int, s: int, n: int):
        p, nb = self.p, self.nb
        W, inp, out = p.weights[l], self.linear_in(l), self.linear_out(l)
        Wsym, Zv, INv = self.matrix_sym(l), self.vec(out, s), self.vec(inp, s)
        if out == "O":
            what = "output pre-activation"
        elif p.depth == 1:
            what = "hidden pre-activation"
        else:
            what = f"pre-activation of hidden layer {l + 1}"
        bias = [] if not p.bias else ["+", self.matrix_sym(l, "b")]
        self.B(Prose([("b", f"Step {n}: "), row(Zv, "=", Wsym, "·", INv, *bias), f" ({what})"]))
        mat = Mat(tuple(tuple(self.given(W[i, j]) for j in range(W.cols)) for i in range(W.rows)))
        ins = [self.in_value(l, j, s) for j in range(W.cols)]
        items = []
        for i in range(W.rows):
            terms = _sum_of_products(nb, [(W[i, j], ins[j]) for j in range(W.cols)])
            if p.bias:
                terms += ["+", nb.factor(p.biases[l][i])]
            items.append(Slot(row(*terms), key=f"forward.{out}[{i + 1}]{self.at(s)}"))
        body = [Zv, "=", Under(mat, Wsym), "·", Under(Vec(tuple(self.given(v) for v in ins)), INv)]
        if p.bias:
            body += ["+", Under(Vec(tuple(self.given(v) for v in p.biases[l])), self.matrix_sym(l, "b"))]
        products = ["=", Vec(tuple(items))] if W.cols <= PRODUCTS_UP_TO else []  # wider rows would not fit a line
        self.B(Display(self.step_key(n, s), row(*body, *products, "=", self.answers(out, s))))

    def activation_step(self, l: int, s: int, n: int):
        act = self.d.act(l)
        H, L = self.keys[2 * l], self.keys[2 * l + 1]
        z = Symbol("z")
        act_def = from_sympy(act.forward(z), {z: sym("z")})
        self.B(Prose([("b", f"Step {n}: "), row(self.vec(L, s), "=", Call(act.text, (self.vec(H, s),))), "     ",
                      row(Call(act.text, (sym("z"),)), "=", act_def)]))
        self.B(Display(self.step_key(n, s), row(self.vec(L, s), "=", Call(act.text, (self.answers(H, s),)), "=",
                                                self.answers(L, s))))

    def output_step(self, s: int, n: int, at: str):
        out, n_out = self.d.output, self.p.n_out
        Y, O = self.fwd("Y", s), self.fwd("O", s)
        Yv, Ov = self.vec("Y", s), self.vec("O", s)
        if out.name == "softmax":
            j_ = sym("j")
            self.B(Prose([("b", f"Step {n}: "), row(Yv, "=", Call("softmax", (Ov,))), "     ",
                          row(self.ent("Y", sym("i"), s), "=", Frac(Pow_(Sym("e"), self.ent("O", sym("i"), s)),
                                                                     row(Sym("sum", j_), Pow_(Sym("e"), self.ent("O", j_, s)))))]))
            exps = []
            for k in range(n_out):
                exps += ([Operator("+")] if k else []) + [Pow_(Sym("e"), self.ans(O[k], f"forward.O[{k + 1}]{at}"))]
            step = [self.ent("Y", 0, s), "=", Frac(Pow_(Sym("e"), self.ans(O[0], f"forward.O[1]{at}")), Row(tuple(exps))), "=",
                    self.ans(Y[0], f"forward.Y[1]{at}")]
            for k in range(1, n_out):
                step += ["quad", self.ent("Y", k, s), "=", self.ans(Y[k], f"forward.Y[{k + 1}]{at}")]
            step += ["⇒", Yv, "=", self.answers("Y", s)]
            self.B(Display(self.step_key(n, s), row(*step)))
            return
        o = Symbol("o")
        i_ = sym("i")
        definition = from_sympy(out.forward([o])[0], {o: self.ent("O", i_, s)})
        if out.name == "identity":
            self.B(Prose([("b", f"Step {n}: "), row(Yv, "=", Ov), " (identity output: ", row(self.ent("Y", i_, s), "=",
                                                                                            self.ent("O", i_, s)), ")"]))
            self.B(Display(self.step_key(n, s), row(Yv, "=", Ov, "=", self.answers("Y", s))))
            return
        self.B(Prose([("b", f"Step {n}: "), row(Yv, "=", Call(out.text, (Ov,))), "     ",
                      row(self.ent("Y", i_, s), "=", Call(out.text, (self.ent("O", i_, s),)), "=", definition)]))
        self.B(Display(self.step_key(n, s), row(Yv, "=", Call(out.text, (self.answers("O", s),)), "=", self.answers("Y", s))))

    def loss_step(self, s: int, n: int, at: str):
        p, loss_fn, n_out = self.p, self.d.loss_fn, self.p.n_out
        # The loss as the registry writes it: its definition, and its formula with the blanks substituted.
        extra = (",", sym("N"), "=", Numeral(str(n_out))) if "N" in loss_fn.formula_text else ()
        raw = Raw(loss_fn.formula_text, loss_fn.formula_tex, loss_fn.formula_typst)
        if self.S > 1:  # a sample's loss is ℓ; ℒ is the mean over the samples (the last step)
            raw = Raw(raw.text.replace("ℒ", "ℓ"), raw.tex.replace(r"\mathcal{L}", r"\ell"), raw.typst.replace("cal(L)", "ell"))
            extra += ((" outputs",) if extra else ())
        definition = row(raw, *extra)
        Ys = [Symbol(f"Y_{k + 1}") for k in range(n_out)]
        ys = [Symbol(f"y_{k + 1}") for k in range(n_out)]
        Y = self.fwd("Y", s)
        slots = {**{Ys[k]: self.ans(Y[k], f"forward.Y[{k + 1}]{at}") for k in range(n_out)},
                 **{ys[k]: self.ans(p.ys[s][k], f"problem.y[{k + 1}]{at}") for k in range(n_out)}}
        body = from_sympy(loss_fn.written(Ys, ys), slots)
        head = [("b", f"Step {n}: {loss_fn.title}"), "     ", definition]
        if self.S > 1:
            head += [" (sample ", Numeral(str(s + 1)), "'s loss)"]
        self.B(Prose(head))
        loss = self.v.forward["loss"] if self.S == 1 else self.v.forward["losses"][s]
        key = "forward.loss" + at
        ends = [self.ans(loss, key)] + ([Slot(_fraction(loss), key=key)]
                                        if _fraction(loss) is not None and self.nb.n.decimal(loss) is not None else [])
        self.B(Display(self.step_key(n, s), row(self.loss_sym(s) if self.S > 1 else LOSS, "=", body,
                                                *sum((["=", e] for e in ends), []))))

    def mean_loss(self, n: int):
        S = self.S
        mean = Frac(Numeral("1"), Numeral(str(S)))
        terms, nums = [], []
        for s in range(S):
            terms += (["+"] if s else []) + [self.loss_sym(s)]
            nums += (["+"] if s else []) + [self.ans(self.v.forward["losses"][s], f"forward.loss@{s + 1}")]
        self.B(Heading("The mean loss", 3))
        self.B(Prose([("b", f"Step {n}: "), row(LOSS, "=", mean, Paren(row(*terms))), " (the mean over the samples)"]))
        self.B(Display(f"step{n}", row(LOSS, "=", mean, Paren(row(*nums)), "=", self.ans(self.v.forward["loss"], "forward.loss"))))

    # -- backward ---------------------------------------------------------------------------------------

    def loss_local(self, k_, s=None):
        """``∂ℒ/∂Y_k = …`` (``∂ℓ/∂Y_k`` per sample), as the registry writes it, in index ``k_``."""
        n_out = self.p.n_out
        Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
        yvec = [Symbol(f"y_{k}") for k in range(n_out)]
        return from_sympy(self.d.loss_fn.local(Yvec, yvec, 0), {Yvec[0]: self.ent("Y", k_, s), yvec[0]: self.ent("y", k_, s)})

    def formulas(self):
        p, d_, out = self.p, self.d, self.d.output
        i_, j_ = sym("i"), sym("j")
        Li, Lsym = self.loss_local(i_), (LOSS if self.S == 1 else Sym("ell"))
        parts = [("b", "Derivative formulas: "), f"{d_.loss_fn.text}: ", row(partial(Lsym, sym("Y", i_)), "=", Li)]
        if out.name == "softmax":
            parts += [";   Softmax: ", row(partial(sym("Y", i_), sym("O", j_)), "=", sym("Y", i_),
                                         Paren(row(Sym("delta", Row((i_, j_))), "-", sym("Y", j_))))]
        else:
            Ysyms = [Symbol("Y_i")]
            local = from_sympy(out.local(Ysyms, 0, 0), {Ysyms[0]: sym("Y", i_)})
            parts += [f";   {out.text[0].upper() + out.text[1:]} output: ", row(partial(sym("Y", i_), sym("O", i_)), "=", local)]
        parts += [";   Linear: "]
        first = True
        for l in range(len(p.weights) - 1, -1, -1):
            Z, IN = self.linear_out(l), self.linear_in(l)
            w = self.psym_general(l)
            pieces = [row(partial(self.ent(Z, i_), w), "=", self.ent(IN, j_))]
            if p.bias:
                pieces.append(row(partial(self.ent(Z, i_), self.bias_general(l)), "=", Numeral("1")))
            if l > 0:
                pieces.append(row(partial(self.ent(Z, i_), self.ent(IN, j_)), "=", w))
            for piece in pieces:
                parts += ([] if first else [", "]) + [piece]
                first = False
        seen = []
        for l in range(p.depth):
            act = d_.act(l)
            H, L = self.keys[2 * l], self.keys[2 * l + 1]
            hs, ls = Symbol("H_i"), Symbol("L_i")
            formula = row(partial(self.ent(L, i_), self.ent(H, i_)), "=", from_sympy(act.local(hs, ls), {hs: self.ent(H, i_), ls: self.ent(L, i_)}))
            if act.name in seen:
                parts += [", ", formula]
            else:
                seen.append(act.name)
                parts += [f";   {act.text}: ", formula]
        self.B(Prose(parts, key="formulas"))

    def psym_general(self, l: int) -> Sym:
        return Sym("w", Row((sym("i"), sym("j"))), Sym(LETTERS[l]))

    def bias_general(self, l: int) -> Sym:
        return Sym("b", sym("i"), Sym(LETTERS[l]))

    def output_values(self, s: int):
        """``∇Y_k`` and the output layer's local derivatives ``∂Y_k/∂O_j``: the values every path uses."""
        n_out, at = self.p.n_out, self.at(s)
        Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
        yvec = [Symbol(f"y_{k}") for k in range(n_out)]
        ynames = {Yvec[k]: self.ent("Y", k, s) for k in range(n_out)} | {yvec[k]: self.ent("y", k, s) for k in range(n_out)}
        parts = [("b", "Values"), " (used by all paths below): " if self.S == 1 else f" of sample {s + 1} (used by all paths below): "]
        for k in range(n_out):
            parts += ([",  "] if k else []) + [row(grad_sym(self.ent("Y", k, s)), "=", from_sympy(self.d.loss_fn.local(Yvec, yvec, k), ynames),
                                                 "=", self.ans(self.bwd("dL_dY", s)[k], f"backward.dL_dY[{k + 1}]{at}"))]
        self.B(Prose(parts, key="values_dY" + at))
        parts = []
        J = self.bwd("dY_dO", s)
        for j in range(n_out):
            for k in range(n_out):
                if k != j and self.d.output.elementwise:
                    continue
                parts += ([",  "] if parts else []) + [row(partial(self.ent("Y", k, s), self.ent("O", j, s)), "=",
                                                          self.ans(J[k][j], f"backward.dY_dO[{k + 1},{j + 1}]{at}"))]
        self.B(Prose(parts, key="values_dYdO" + at))

    def along(self, *pieces) -> Prose:
        parts = [("b", "Derivatives along path: ")]
        for k, piece in enumerate(pieces):
            parts += ([",  "] if k else []) + [piece]
        return Prose(parts)

    def path(self, q, number: int):
        """One asked parameter: its title, its diagram, the local derivatives along its paths, and the chain."""
        colour = PATH_COLOURS[number % len(PATH_COLOURS)]
        last = q.layer == len(self.p.weights) - 1
        if not last:
            self.ensure(self.linear_out(q.layer + 1))
        Z, IN = self.linear_out(q.layer), self.linear_in(q.layer)
        w = self.psym(q)
        label = "Example: " if number == 0 else "Practice: "
        if q.kind == "bias":
            link = [w, " feeds ", self.ent(Z, q.i)]
        else:
            link = [w, " connects ", self.ent(IN, q.j), " to ", self.ent(Z, q.i)]
        tail = []
        if not last:
            through = self.p.depth - q.layer
            if self.p.depth == 1:
                tail = ["; longer chain through the hidden layer"]
            else:
                tail = [f"; longer chain through hidden layer {q.layer + 1}" if through == 1
                        else f"; longer chain through {through} hidden layers"]
        if self.S > 1:  # the diagram draws one sample's network (its values on the key)
            tail.append("; the diagram shows sample 1")
        self.B(Prose([("b", label), partial(LOSS, w), f" ({colour} path: ", *link, "".join(tail) + ")"]))
        self.B(Figure(q.key(self.d.symbols.wide), colour, f"{colour} path"))
        if last:
            self.output_path(q, number == 0)
        else:
            self.hidden_path(q)

    def _dp(self, q, Z: str, s=None):
        """``∂Z_i/∂p``'s value-side: the input ``x_j`` / ``L_j`` it multiplies, or 1 for a bias."""
        return Numeral("1") if q.kind == "bias" else self.ent(self.linear_in(q.layer), q.j, s)

    def output_path(self, q, example: bool):
        """``∂ℒ/∂w^b_ij = [Σ_k ∂Y_k/∂O_i ∇Y_k]·∂O_i/∂w^b_ij = [__]·__ (= (__)(__)) = __``."""
        p, nb, out = self.p, self.nb, self.d.output
        i, k_ = q.i, sym("k")
        w = self.psym(q)
        ks = [i] if out.elementwise else list(range(p.n_out))
        if out.elementwise:
            Yk, yk = [Symbol("Y_i")], [Symbol("y_i")]
            along = [row(partial(self.loss_sym(), self.ent("Y", i)), "=", from_sympy(self.d.loss_fn.local(Yk, yk, 0),
                                                                     {Yk[0]: self.ent("Y", i), yk[0]: self.ent("y", i)})),
                     row(partial(self.ent("Y", i), self.ent("O", i)), "=", from_sympy(out.local(Yk, 0, 0), {Yk[0]: self.ent("Y", i)}))]
        else:
            along = [row(partial(self.loss_sym(), sym("Y", k_)), "=", self.loss_local(k_)),
                     row(partial(sym("Y", k_), self.ent("O", i)), "=", sym("Y", k_),
                         Paren(row(Sym("delta", Row((k_, Numeral(str(i + 1))))), "-", self.ent("Y", i))))]
        along.append(row(partial(self.ent("O", i), w), "=", self._dp(q, "O")))
        self.B(self.along(*along))
        g = self.v.grad(q)
        gk = f"grad.{q.key(self.d.symbols.wide)}"
        order = "dY first" if example else "grad first"
        if self.S > 1:
            self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", self.batch_chain(q, g, gk, order)))
            return
        terms, nums = self.output_bracket(i, ks, 0, order)
        dO = f"backward.dL_dO[{i + 1}]"
        self.introduced.add(("O", i, 0))
        in_label = row("=", self._dp(q, "O"))
        head = row(partial(LOSS, w), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(self.ent("O", i))), "·",
                   Under(partial(self.ent("O", i), w), in_label))
        if q.kind == "bias":
            in_slot = Slot(Numeral("1"), given=True)
            in_factor = Slot(Numeral("1"), given=True)
        else:
            Lk = self.in_key(q.layer, q.j, 0)
            v = self.in_value(q.layer, q.j, 0)
            in_slot, in_factor = self.ans(v, Lk), Slot(nb.num(v), key=Lk)
        rows = [head]
        if example:  # the worked example: one more line, the two factors
            rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", in_slot))
            rows.append(row("&=", Paren(Slot(nb.num(self.bwd("dL_dO", 0)[i]), key=dO)), Paren(in_factor), "=", self.ans(g, gk)))
        else:
            rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", in_slot, "=", self.ans(g, gk)))
        self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", Aligned(tuple(rows))))

    def output_bracket(self, i: int, ks, s: int, order: str = "dY first"):
        """``∂Y_1/∂O_i ∇Y_1 + …`` and its numbers: what ``∇O_i`` sums."""
        nb, terms, nums = self.nb, [], []
        J, G = self.bwd("dY_dO", s), self.bwd("dL_dY", s)
        for n, k in enumerate(ks):
            dy = partial(self.ent("Y", k, s), self.ent("O", i, s))
            pair = row(dy, grad_sym(self.ent("Y", k, s))) if order == "dY first" else row(grad_sym(self.ent("Y", k, s)), "·", dy)
            terms += ([Operator("+")] if n else []) + [pair]
            nv = (J[k][i], G[k]) if order == "dY first" else (G[k], J[k][i])
            nums += ([Operator("+")] if n else []) + [row(nb.factor(nv[0]), "·", nb.factor(nv[1]))]
        return terms, nums

    def hidden_bracket(self, layer: int, i: int, s: int):
        """``∇Z'_1 w'_1i + …`` and its numbers: what ``∇L_i`` of hidden layer ``layer`` sums (``Z'`` the next
        pre-activation, ``w'`` the next layer's weights)."""
        nxt, W = self.linear_out(layer + 1), self.p.weights[layer + 1]
        key = "dL_d" + nxt
        terms, nums = [], []
        for k in range(W.rows):
            terms += ([Operator("+")] if k else []) + [row(grad_sym(self.ent(nxt, k, s)), self.psym(Param(layer + 1, "weight", k, i)))]
            nums += ([Operator("+")] if k else []) + [row(self.nb.factor(self.bwd(key, s)[k]), "·", self.nb.factor(W[k, i]))]
        return terms, nums

    def hidden_path(self, q):
        p, nb = self.p, self.nb
        l, i = q.layer, q.i
        H, L, nxt = self.keys[2 * l], self.keys[2 * l + 1], self.linear_out(l + 1)
        act = self.d.act(l)
        w = self.psym(q)
        hs, ls = Symbol("H_1"), Symbol("L_1")
        pieces = [row(partial(self.ent(H, i), w), "=", self._dp(q, H)),
                  row(partial(self.ent(L, i), self.ent(H, i)), "=", Call(act.text, (self.ent(H, i),), prime=True), "=",
                      from_sympy(act.local(hs, ls), {hs: self.ent(H, i), ls: self.ent(L, i)})),
                  row(partial(sym(nxt[0], sym("i"), self.sup(nxt[1:], None)), self.ent(L, i)), "=",
                      Sym("w", Row((sym("i"), Numeral(str(i + 1)))), Sym(LETTERS[l + 1])))]
        block = self.along(*pieces)
        n_next = p.weights[l + 1].rows
        outs = Row(tuple(x for k in range(n_next) for x in ([Operator(",")] if k else []) + [self.ent(nxt, k)]))
        block.parts += ["  (", self.ent(L, i), " feeds ", outs, " — sum their contributions)"]
        self.B(block)
        g = self.v.grad(q)
        gk = f"grad.{q.key(self.d.symbols.wide)}"
        if self.S > 1:
            self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", self.batch_chain(q, g, gk, "grad first")))
            return
        lv = self.v.value(self.d.local_activation(l, i, 0))  # exact, its decimal known (tanh's 1 − L²)
        actp = Call(act.text, (self.ent(H, i),), prime=True)
        terms, nums = self.hidden_bracket(l, i, 0)
        if act.rational:  # the paper gives ReLU'(H_1) = 1 (read off H_1's sign)
            told = row("=", Slot(nb.num(lv), given=True))
        else:  # a sigmoid's derivative is a number the student computes (the blank below): give its formula
            hs, ls = Symbol("H_1"), Symbol("L_1")
            told = row("=", from_sympy(act.local(hs, ls), {hs: self.ent(H, i), ls: self.ent(L, i)}))
        first = [partial(LOSS, w), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(self.ent(L, i))), "·",
                 Under(actp, told)]
        second = ["&=", Paren(Slot(Row(tuple(nums)), key=f"backward.dL_d{L}[{i + 1}]"), "["), "·",
                  Slot(nb.factor(lv), key=f"local.d{L}_d{H}[{i + 1}]")]
        if q.kind == "weight":
            v = self.in_value(l, q.j, 0)
            first += ["·", Under(self.ent(self.linear_in(l), q.j), row("=", Slot(nb.num(v), given=True)))]
            second += ["·", Slot(nb.factor(v), key=self.in_key(l, q.j, 0))]
        self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", Aligned((row(*first), row(*second, "=", self.ans(g, gk))))))

    def node_rows(self, key: str, i: int, s: int, order: str = "dY first") -> list:
        """``∇Z_i = [...] (·act'(H_i)) = [__] (·__) = __``: one backward value, as rows of an aligned block."""
        nb, at = self.nb, self.at(s)
        self.introduced.add((key, i, s))
        if key == "O":
            ks = [i] if self.d.output.elementwise else list(range(self.p.n_out))
            terms, nums = self.output_bracket(i, ks, s, order)
            return [row(grad_sym(self.ent("O", i, s)), "&=", Paren(Row(tuple(terms)), "["), "=",
                        Paren(Slot(Row(tuple(nums)), key=f"backward.dL_dO[{i + 1}]{at}"), "["), "=",
                        self.ans(self.bwd("dL_dO", s)[i], f"backward.dL_dO[{i + 1}]{at}"))]
        l = self.keys.index(key) // 2
        L = self.keys[2 * l + 1]
        act = self.d.act(l)
        lv = self.v.value(self.d.local_activation(l, i, s))
        terms, nums = self.hidden_bracket(l, i, s)
        return [row(grad_sym(self.ent(key, i, s)), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(self.ent(L, i, s))), "·",
                    Call(act.text, (self.ent(key, i, s),), prime=True)),
                row("&=", Paren(Slot(Row(tuple(nums)), key=f"backward.dL_d{L}[{i + 1}]{at}"), "["), "·",
                    Slot(nb.factor(lv), key=f"local.d{L}_d{key}[{i + 1}]{at}"), "=",
                    self.ans(self.bwd("dL_d" + key, s)[i], f"backward.dL_d{key}[{i + 1}]{at}"))]

    def ensure(self, key: str):
        """Every ``∇key`` a deeper path needs, computed once: a values block for those no path has asked yet."""
        if key != "O":
            self.ensure(self.linear_out(self.keys.index(key) // 2 + 1))
        width = len(self.fwd(key, 0))
        missing = [(i, s) for s in range(self.S) for i in range(width) if (key, i, s) not in self.introduced]
        if not missing:
            return
        self.B(Prose([("b", "Values"), " (used by the paths below): ", row(grad_sym(self.ent(key, sym("i"))), "=",
                                                                         *self.general_node(key))], key=f"values_d{key}"))
        rows = []
        for i, s in missing:
            rows += self.node_rows(key, i, s)
        self.B(Display(f"values_d{key}", Aligned(tuple(rows))))

    def general_node(self, key: str) -> list:
        """``∇Z_i`` in general: ``Σ_k ∂Y_k/∂O_i ∇Y_k``, or ``(Σ_k ∇Z'_k w'_ki)·act'(H_i)``."""
        i_, k_ = sym("i"), sym("k")
        if key == "O":
            if self.d.output.elementwise:
                return [partial(sym("Y", i_), sym("O", i_)), grad_sym(sym("Y", i_))]
            return [Sym("sum", k_), partial(sym("Y", k_), sym("O", i_)), grad_sym(sym("Y", k_))]
        l = self.keys.index(key) // 2
        nxt = self.linear_out(l + 1)
        return [Paren(row(Sym("sum", k_), grad_sym(self.ent(nxt, k_)), Sym("w", Row((k_, i_)), Sym(LETTERS[l + 1])))), "·",
                Call(self.d.act(l).text, (self.ent(key, i_),), prime=True)]

    def batch_chain(self, q, g, gk: str, order: str):
        """Several samples: ``∂ℒ/∂p = 1/S Σ_s ∇Z^[s]_i in^[s]_j``, each sample's ``∇Z^[s]_i``, then the mean."""
        S, nb, l, i = self.S, self.nb, q.layer, q.i
        Z = self.linear_out(l)
        mean = Frac(Numeral("1"), Numeral(str(S)))
        w = self.psym(q)

        def factor(s):
            return [] if q.kind == "bias" else [self.ent(self.linear_in(l), q.j, s)]
        terms = []
        for s in range(S):
            terms += (["+"] if s else []) + [row(grad_sym(self.ent(Z, i, s)), *factor(s))]
        rows = [row(partial(LOSS, w), "&=", mean, Paren(row(*terms)))]
        for s in range(S):
            if (Z, i, s) not in self.introduced:
                rows += self.node_rows(Z, i, s, order)
        nums = []
        for s in range(S):
            val = Paren(Slot(nb.num(self.bwd("dL_d" + Z, s)[i]), key=f"backward.dL_d{Z}[{i + 1}]{self.at(s)}"))
            if q.kind == "weight":
                v = self.in_value(l, q.j, s)
                nums += (["+"] if s else []) + [row(val, Paren(Slot(nb.num(v), key=self.in_key(l, q.j, s))))]
            else:
                nums += (["+"] if s else []) + [val]
        rows.append(row("&=", mean, Paren(row(*nums)), "=", self.ans(g, gk)))
        return Aligned(tuple(rows))

    # -- the closing question ---------------------------------------------------------------------------

    def closing(self):
        p = self.p
        if p.symmetric:
            self.B(Prose([("b", "Key Insight — Initialization Problem: "), "Based on your computation above, what is the "
                          "gradient of ", self.matrix_sym(0), "? What does this tell you about weight initialization?"],
                         key="question"))
            self.B(Prose(_insight(self.v, self.nb), key="answer", answer=True))
            return
        lr = p.step_lr
        eta = Sym("eta")
        self.B(Prose([("b", "One gradient-descent step: "), "with learning rate ", row(eta, "=", self.given(lr)),
                      ", what is each asked parameter after one step, ", row(Sym("w"), "-", eta, partial(LOSS, Sym("w"))), "?"],
                     key="question"))
        rows = []
        after = self.v.descent(lr, self.asked)  # {key: the parameter after the step}, exact
        for q in self.asked:
            w, key = self.psym(q), q.key(self.d.symbols.wide)
            rows.append(row(w, "-", eta, partial(LOSS, w), "&=", self.given(self.pvalue(q)), "-", self.given(lr), "·",
                            Paren(Slot(self.nb.num(self.v.grad(q)), key=f"grad.{key}")), "=",
                            self.ans(after[key], f"descent.{key}")))
        self.B(Display("descent", Aligned(tuple(rows))))


def _lay_out(values, digits: int, data: bytes | None) -> Layout:
    _check(values.problem)
    return _Page(values, digits, data).build()


# -- writing a page: one visitor, a subclass per output --------------------------------------------------


class PageWriter:
    """One output of a page, block by block, as Sphinx's translators visit a doctree: :meth:`write` calls a
    method per block type in the page's order (``heading``, ``prose``, ``display``, ``figure``) and
    :meth:`answer` for the key insight's answer (on a worksheet, :meth:`answer_space`: room to write). The
    subclasses are the page's outputs: text, Markdown and LaTeX here, Typst (:mod:`derivations.outputs.pdf`), the
    front ends' blocks (:mod:`derivations.outputs.content`), the self-check page
    (:mod:`derivations.outputs.selfcheck`) and the Moodle question (:mod:`derivations.cli.moodle`).

    >>> from derivations import evaluate, load_problem
    >>> print(TextPage(worksheet=True).write(layout(evaluate(load_problem()))).splitlines()[2])
    Worksheet · problem d75c80fe · 3-4-2 network, ReLU hidden units, MSE loss · handout
    """

    def __init__(self, worksheet: bool):
        self.worksheet = worksheet
        self.out: list = []

    def write(self, page: Layout):
        self.page = page
        self.start(page)
        for block in page.blocks:
            if isinstance(block, Prose) and block.answer:
                (self.answer_space if self.worksheet else self.answer)(block)
            else:
                getattr(self, "visit_" + type(block).__name__.lower())(block)
        return self.finish(page)

    def start(self, page: Layout) -> None:
        pass

    def finish(self, page: Layout):
        return self.out

    def visit_heading(self, block: Heading) -> None:
        pass

    def visit_prose(self, block: Prose) -> None:
        pass

    def visit_display(self, block: Display) -> None:
        pass

    def visit_figure(self, block: Figure) -> None:
        pass

    def answer(self, block: Prose) -> None:
        self.visit_prose(block)

    def answer_space(self, block: Prose) -> None:
        pass

    def kind(self) -> str:
        return "Worksheet" if self.worksheet else "Answer key"

    def header(self, page: Layout) -> str:
        return f"{self.kind()} · problem {page.problem_id} · {page.description} · {page.source}"

    def prose(self, block: Prose, math, bold, text) -> str:
        """A paragraph's parts joined: text through ``text``, bold through ``bold``, math trees through ``math``."""
        out = []
        for part in block.parts:
            if isinstance(part, str):
                out.append(text(part))
            elif isinstance(part, tuple):
                out.append(bold(text(part[1])))
            else:
                out.append(math(part))
        return "".join(out)


class TextPage(PageWriter):
    """The page as plain text; blanks are ``____``."""

    def start(self, page):
        self.out += [page.title, "=" * len(page.title), self.header(page), ""]

    def finish(self, page):
        return "\n".join(self.out).rstrip() + "\n"

    def visit_heading(self, b):
        self.out += [b.text, "-" * len(b.text)]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: to_text(t, self.worksheet), lambda s: s, lambda s: s), ""]

    def answer_space(self, b):
        self.out += ["Answer: " + "_" * 60, ""]

    def visit_display(self, b):
        self.out += ["    " + to_text(b.math, self.worksheet), ""]

    def visit_figure(self, b):
        self.out += [f"[figure: the network with the {b.caption} of {b.weight}]", ""]


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#+!|$~])", r"\\\1", text)


def _md_bold(text: str) -> str:
    """``**text**`` with any trailing space outside, where CommonMark needs it."""
    stripped = text.rstrip()
    return f"**{stripped}**{text[len(stripped):]}" if stripped else text


class MarkdownPage(PageWriter):
    """The page as Markdown with ``$...$`` math (MyST / MathJax)."""

    def start(self, page):
        self.out += [f"# {_md_escape(page.title)}", "", f"*{_md_escape(self.header(page))}*", ""]

    def finish(self, page):
        return "\n".join(self.out).rstrip() + "\n"

    def visit_heading(self, b):
        self.out += [f"{'#' * (b.level + 1)} {_md_escape(b.text)}", ""]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: f"${to_latex(t, self.worksheet)}$", _md_bold, _md_escape), ""]

    def answer_space(self, b):
        self.out += ["**Answer:** " + r"\_" * 40, ""]

    def visit_display(self, b):
        self.out += ["$$", to_latex(b.math, self.worksheet), "$$", ""]

    def visit_figure(self, b):
        self.out += [f"*(figure: the {_md_escape(b.caption)} of {_md_escape(b.weight)})*", ""]


class LatexPage(PageWriter):
    """The page as a LaTeX document (amsmath); blanks are ``\\underline{\\hspace{2cm}}``."""

    def start(self, page):
        self.out += [r"\documentclass[10pt]{article}", r"\usepackage[margin=1.5cm]{geometry}", r"\usepackage{amsmath,amssymb}",
                     r"\usepackage[utf8]{inputenc}", r"\setlength{\parindent}{0pt}",
                     r"\begin{document}", rf"\section*{{{latex_escape(page.title)}}}", rf"\textit{{{latex_escape(self.header(page))}}}", ""]

    def finish(self, page):
        return "\n".join(self.out + [r"\end{document}"]) + "\n"

    def visit_heading(self, b):
        self.out += [rf"\subsection*{{{latex_escape(b.text)}}}"]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: f"${to_latex(t, self.worksheet)}$", lambda s: rf"\textbf{{{s}}}", latex_escape), ""]

    def answer_space(self, b):
        self.out += [r"\textbf{Answer:} \hrulefill", ""]

    def visit_display(self, b):
        self.out += [r"\[", to_latex(b.math, self.worksheet), r"\]"]

    def visit_figure(self, b):
        self.out += [rf"\emph{{(figure: the {latex_escape(b.caption)} of {latex_escape(b.weight)})}}", ""]


def render_text(page: Layout, worksheet: bool) -> str:
    """The page as plain text; blanks are ``____``."""
    return TextPage(worksheet).write(page)


def render_markdown(page: Layout, worksheet: bool) -> str:
    """The page as Markdown with ``$...$`` math (MyST / MathJax)."""
    return MarkdownPage(worksheet).write(page)


def render_latex(page: Layout, worksheet: bool) -> str:
    """The page as a LaTeX document (amsmath); blanks are ``\\underline{\\hspace{2cm}}``."""
    return LatexPage(worksheet).write(page)
