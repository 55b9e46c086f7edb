r"""The handout's page as a layout: blocks in the paper handout's order, every number a slot.

A :class:`Layout` is an ordered list of blocks (:class:`Heading`, :class:`Prose`, :class:`Display`,
:class:`Figure`). The math inside is a small tree (:class:`Sym`, :class:`Num`, :class:`Row`,
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

from ..engine.errors import ProblemError

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
class Num:
    """A number as written: ``0.15``, ``-0.0375``; ``approx``: rounded (an ``=`` before it reads ``≈``)."""

    text: str
    approx: bool = False


@dataclass(frozen=True)
class Op:
    kind: str


@dataclass(frozen=True)
class Row:
    """Pieces side by side (operators are :class:`Op` pieces)."""

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

    def num(self, n):
        return _check_number(n.text)

    def op(self, n):
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

    def num(self, n):
        return _check_number(n.text)

    def op(self, n):
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
            out += f"_{sub}" if isinstance(n.sub, (Num, Sym)) and "_" not in sub else f"_({sub})"
        return out

    def raw(self, n):
        return n.text

    def word(self, n):
        return n.text if isinstance(n, Word) else n

    def num(self, n):
        return n.text.replace("-", "−")

    def op(self, n):
        return OPS[n.kind][2]

    def join(self, parts):
        return "".join(parts)

    def frac(self, n):
        return f"{self._atom(n.num)}/{self._atom(n.den)}"

    def _atom(self, node):
        text = self(node)
        simple = (isinstance(node, (Num, Sym, Slot)) or " " not in text) and not text.startswith("−")
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
    return Row(tuple(Op(i) if isinstance(i, str) and i in OPS else (Word(i) if isinstance(i, str) else i) for i in items))


def sym(base: str, sub=None, sup=None) -> Sym:
    def wrap(v):
        return Num(str(v)) if isinstance(v, int) else Sym(v) if isinstance(v, str) else v

    return Sym(base, wrap(sub), wrap(sup))


def idx(*ks) -> object:
    """A 1-based index from 0-based ones: ``11``, or ``2,11`` once a width passes 9."""
    ks = [k + 1 for k in ks]
    if all(k < 10 for k in ks):
        return Num("".join(map(str, ks)))
    return Row(tuple(sum(([Num(str(k)), Op(",")] for k in ks), [])[:-1]))


def d(top, bottom) -> Frac:
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
            return Num(str(e)) if e >= 0 else row("neg", Num(str(-e)))
        if isinstance(e, Rational):
            f = Frac(Num(str(abs(e.p))), Num(str(e.q)))
            return f if e > 0 else row("neg", f)
        if isinstance(e, relu_step):
            return Sym("one", row(go(e.args[0]), ">", Num("0")))
        if isinstance(e, ReLU):
            return Call("max", (Num("0"), go(e.args[0])))
        if isinstance(e, exp):
            return Pow_(Sym("e"), go(e.args[0]))
        if isinstance(e, log):
            return Call("ln", (go(e.args[0]),))
        if isinstance(e, Function) and len(e.args) == 1 and not isinstance(e, (Add, Mul, Pow)):
            return Call(_function_name(e), (go(e.args[0]),))
        if isinstance(e, Add) and not isinstance(factor_terms(e), Add):
            return go(factor_terms(e), parent)
        if isinstance(e, Add):
            terms = sorted(e.args, key=lambda a: (a.could_extract_minus_sign(), str(a)))
            items = []
            for k, a in enumerate(terms):
                if a.could_extract_minus_sign():
                    items += [Op("-" if k else "neg"), go(-a, Add)]
                else:
                    items += ([Op("+")] if k else []) + [go(a, Add)]
            out = Row(tuple(items))
            return Paren(out) if parent in (Mul, Pow) else out
        if isinstance(e, Mul):
            if e.could_extract_minus_sign():
                return Row((Op("neg"), go(-e, Mul)))
            coeff, rest = e.as_coeff_Mul()
            if coeff == 1:
                num, den = e.as_numer_denom()
                if den != 1:
                    return Frac(go(num), go(den))
            parts = ([go(coeff, Mul)] if coeff != 1 else []) + [go(a, Mul) for a in Mul.make_args(rest)]
            out = []
            for k, p in enumerate(parts):
                if k and isinstance(parts[k - 1], (Num, Frac)) or (k and isinstance(p, (Num, Frac))):
                    out.append(Op("·"))
                out.append(p)
            return Row(tuple(out))
        if isinstance(e, Pow):
            b, x = e.args
            if x == -1:
                return Frac(Num("1"), go(b))
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


def _check(problem) -> None:
    """The layout covers one hidden layer and one sample; anything else is refused in one line."""
    layers = getattr(problem, "layers", ())
    if len(layers) != 3:
        raise ProblemError("network.layers", f"the handout layout needs one hidden layer (three widths), got {len(layers)} widths")
    if getattr(problem, "n_samples", 1) != 1:
        raise ProblemError("data.x", f"the handout layout needs one sample, got {problem.n_samples}")
    if getattr(problem, "bias", False):
        raise ProblemError("network.bias", "the handout layout has no biases (as the handout); set bias = false")
    if getattr(problem, "output", "softmax") != "softmax":
        raise ProblemError("network.output", f"the handout layout has a softmax output (as the handout), got "
                                             f"{problem.output!r}; the worked solution (python -m derivations.print) "
                                             "covers every output layer")


def _local_formulas(problem):
    """The activation's and the loss's local derivatives, as the engine's layers define them."""
    from ..engine.ops import ACTIVATIONS, LOSSES

    return ACTIVATIONS[problem.activation], LOSSES[problem.loss]


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
            f = Frac(Num(str(abs(v.p))), Num(str(v.q)))
            return f if v > 0 else row("neg", f)
        return self._rounded(self.n.approx(v))

    def factor(self, v) -> object:
        out = self.num(v)
        return Paren(out) if v < 0 else out

    def _signed(self, text: str):
        text = text.replace("−", "-").strip()
        if "e" in text.lower():  # mpmath's 1.0e-5: write it as a decimal
            from mpmath import mpf, nstr

            text = nstr(mpf(text), 12, min_fixed=-400, max_fixed=400)
        return Num(text)

    def _rounded(self, text: str):
        return Num(self._signed(text).text, approx=True)


def approx_equals(tree):
    """The tree with every ``=`` whose right-hand piece holds a rounded number turned into ``≈``."""
    import dataclasses

    if isinstance(tree, Row):
        items = [approx_equals(i) for i in tree.items]
        eq = ("=", "&=", "≈", "&≈", "quad", "⇒")
        for k, item in enumerate(items[:-1]):
            if isinstance(item, Op) and item.kind in ("=", "&="):
                stop = next((m for m in range(k + 1, len(items)) if isinstance(items[m], Op) and items[m].kind in eq),
                            len(items))
                if any(_rounded(i) for i in items[k + 1:stop]):
                    items[k] = Op("≈" if item.kind == "=" else "&≈")
        return Row(tuple(items))
    if isinstance(tree, Under):  # a label's "= 1" stays as printed
        return Under(approx_equals(tree.body), tree.label)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, (Num, Op, Word)):
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
    return any(isinstance(n, Num) and n.approx for n in walk(tree))


def problem_id(problem, data: bytes | None = None) -> str:
    """A short identifier of a problem: the hash of its file's bytes, or of the exact problem when there is
    no file (the default handout). Printed on worksheet and key so they are never mismatched.

    >>> from derivations import load_problem
    >>> len(problem_id(load_problem()))
    8
    """
    if data is None:
        p = problem
        data = repr((p.layers, p.activation, p.loss, [str(v) for v in p.x], [str(v) for v in p.y],
                     [str(v) for v in p.W_a], [str(v) for v in p.W_b])).encode()
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


def _lay_out(values, digits: int, data: bytes | None) -> Layout:
    p = values.problem
    _check(p)
    act, loss_fn = _local_formulas(p)
    nb = _Numbers(values, digits)
    f, b = values.forward, values.backward
    n_in, n_h, n_out = p.layers
    ans = lambda v, key="": Slot(nb.num(v), key=key)  # noqa: E731
    given = lambda v: Slot(nb.num(v), given=True)  # noqa: E731

    def answers(name):  # a vector of blanks, keyed forward.H[1], forward.H[2], ...
        return Vec(tuple(ans(v, f"{name}[{k + 1}]") for k, v in enumerate(f[name.split(".")[1]])))
    H, L, O, Y, x, y = (lambda k, base=base: sym(base, k + 1) for base in "HLOYxy")
    Hv, Lv, Ov, Yv = sym("H"), sym("L"), sym("O"), sym("Y")
    Wa, Wb = sym("W", "a"), sym("W", "b")
    wa = lambda i, j: Sym("w", idx(i, j), Sym("a"))  # noqa: E731
    wb = lambda i, j: Sym("w", idx(i, j), Sym("b"))  # noqa: E731

    out = Layout(
        title="Backpropagation Handout",
        problem_id=problem_id(p, data),
        description=p.describe(),
        source=Path(str(p.source)).name,  # the file's name, not the machine's path
    )

    def B(block):
        if isinstance(block, Display):
            block.math = approx_equals(block.math)
        elif isinstance(block, Prose):
            block.parts = [approx_equals(q) if not isinstance(q, (str, tuple)) else q for q in block.parts]
        out.blocks.append(block)

    B(Heading("Step-by-Step Feedforward & Backpropagation", 2))
    B(Prose([("b", "Your tasks. Forward: "), "compute all intermediate values ", row(Hv, ",", Lv, ",", Ov, ",", Yv, ",", LOSS),
             " (Steps 1–5). ", ("b", "Backward: "), "compute ", d(LOSS, wb(1, 0)), " and ", d(LOSS, wa(0, 0)), "."]))
    # Setup
    B(Prose([("b", "Setup."), " ", ("b", "Input: "), row(sym("x"), "=", Vec(tuple(given(v) for v in p.x))), "   ",
             ("b", "Target: "), row(sym("y"), "=", Vec(tuple(given(v) for v in p.y)))], key="setup"))
    setup = []
    for name, m, base in (("a", p.W_a, Wa), ("b", p.W_b, Wb)):
        shape = row(Num(str(m.shape[0])), "×", Num(str(m.shape[1])))
        if len(set(m)) == 1:
            setup += [row(base, ":"), " ", shape, ", no bias, all entries = ", row(given(m[0, 0])), ".   "]
        else:
            setup += [row(base, ":"), " ", shape, ", no bias (entries below).   "]
    B(Prose(setup, key="weights"))

    B(Heading("Forward Pass", 2))
    # Step 1
    B(Prose([("b", "Step 1: "), row(Hv, "=", Wa, "·", sym("x")), " (hidden pre-activation)"]))
    mat_a = Mat(tuple(tuple(given(p.W_a[i, j]) for j in range(n_in)) for i in range(n_h)))
    products = Vec(tuple(Slot(row(*_sum_of_products(nb, [(p.W_a[i, j], p.x[j]) for j in range(n_in)])), key=f"forward.H[{i + 1}]")
                         for i in range(n_h)))
    B(Display("step1", row(Hv, "=", Under(mat_a, Wa), "·", Under(Vec(tuple(given(v) for v in p.x)), sym("x")), "=",
                          products, "=", answers("forward.H"))))
    # Step 2
    z = Symbol("z")
    act_def = from_sympy(act.forward(z), {z: sym("z")})
    actname = act.text
    B(Prose([("b", "Step 2: "), row(Lv, "=", Call(actname, (Hv,))), "     ", row(Call(actname, (sym("z"),)), "=", act_def)]))
    B(Display("step2", row(Lv, "=", Call(actname, (answers("forward.H"),)), "=", answers("forward.L"))))
    # Step 3: L is given here, as on the paper
    B(Prose([("b", "Step 3: "), row(Ov, "=", Wb, "·", Lv), " (output pre-activation)"]))
    mat_b = Mat(tuple(tuple(given(p.W_b[i, j]) for j in range(n_h)) for i in range(n_out)))
    products = Vec(tuple(Slot(row(*_sum_of_products(nb, [(p.W_b[i, j], f["L"][j]) for j in range(n_h)])), key=f"forward.O[{i + 1}]")
                         for i in range(n_out)))
    B(Display("step3", row(Ov, "=", Under(mat_b, Wb), "·", Under(Vec(tuple(given(v) for v in f["L"])), Lv), "=",
                          products, "=", answers("forward.O"))))
    # Step 4
    j_ = sym("j")
    B(Prose([("b", "Step 4: "), row(Yv, "=", Call("softmax", (Ov,))), "     ",
             row(sym("Y", sym("i")), "=", Frac(Pow_(Sym("e"), sym("O", sym("i"))),
                                              row(Sym("sum", j_), Pow_(Sym("e"), sym("O", j_)))))]))
    exps = []
    for k in range(n_out):
        exps += ([Op("+")] if k else []) + [Pow_(Sym("e"), ans(f["O"][k], f"forward.O[{k + 1}]"))]
    step4 = [Y(0), "=", Frac(Pow_(Sym("e"), ans(f["O"][0], "forward.O[1]")), Row(tuple(exps))), "=", ans(f["Y"][0], "forward.Y[1]")]
    for k in range(1, n_out):
        step4 += ["quad", Y(k), "=", ans(f["Y"][k], f"forward.Y[{k + 1}]")]
    step4 += ["⇒", Yv, "=", answers("forward.Y")]
    B(Display("step4", row(*step4)))
    # Step 5
    N = Num(str(n_out))
    i_ = sym("i")
    # The loss as the registry writes it: its definition, and its formula with the blanks substituted.
    extra = (",", sym("N"), "=", N) if "N" in loss_fn.formula_text else ()
    definition = row(Raw(loss_fn.formula_text, loss_fn.formula_tex, loss_fn.formula_typst), *extra)
    Ys = [Symbol(f"Y_{k + 1}") for k in range(n_out)]
    ys = [Symbol(f"y_{k + 1}") for k in range(n_out)]
    slots = {**{Ys[k]: ans(f["Y"][k], f"forward.Y[{k + 1}]") for k in range(n_out)},
             **{ys[k]: ans(p.y[k], f"problem.y[{k + 1}]") for k in range(n_out)}}
    body = from_sympy(loss_fn.written(Ys, ys), slots)
    title = loss_fn.title
    B(Prose([("b", f"Step 5: {title}"), "     ", definition]))
    loss = f["loss"]
    ends = [ans(loss, "forward.loss")] + ([Slot(_fraction(loss), key="forward.loss")] if _fraction(loss) is not None and nb.n.decimal(loss) is not None else [])
    B(Display("step5", row(LOSS, "=", body, *sum((["=", e] for e in ends), []))))

    # Backward
    B(Heading("Backward Pass — Per-Parameter Gradient Paths", 2))
    B(Prose(["We trace the ", ("b", "gradient path"), " backward from ", LOSS, " to each parameter, multiplying local "
             "derivatives along the way (chain rule). At branches, we ", ("b", "sum"), " contributions from all paths."]))
    Hs, Ls = Symbol("H_i"), Symbol("L_i")
    Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
    yvec = [Symbol(f"y_{k}") for k in range(n_out)]
    names_i = {Yvec[0]: sym("Y", i_), yvec[0]: sym("y", i_), Hs: sym("H", i_), Ls: sym("L", i_)}
    dloss = from_sympy(loss_fn.local(Yvec, yvec, 0), names_i)
    dact = from_sympy(act.local(Hs, Ls), {Hs: sym("H", i_), Ls: sym("L", i_)})
    i_j = Row((i_, j_))
    B(Prose([("b", "Derivative formulas: "), f"{loss_fn.text}: ", row(d(LOSS, sym("Y", i_)), "=", dloss), ";   Softmax: ",
             row(d(sym("Y", i_), sym("O", j_)), "=", sym("Y", i_), Paren(row(Sym("delta", i_j), "-", sym("Y", j_)))),
             ";   Linear: ", row(d(sym("O", i_), Sym("w", i_j, Sym("b"))), "=", sym("L", j_)), ", ",
             row(d(sym("O", i_), sym("L", j_)), "=", Sym("w", i_j, Sym("b"))), ", ",
             row(d(sym("H", i_), Sym("w", i_j, Sym("a"))), "=", sym("x", j_)),
             f";   {act.text}: ", row(d(sym("L", i_), sym("H", i_)), "=", dact)], key="formulas"))

    # Values used by all paths
    def dYdO(k, j):
        return d(Y(k), O(j))

    ynames = {Yvec[k]: Y(k) for k in range(n_out)} | {yvec[k]: y(k) for k in range(n_out)}
    parts = [("b", "Values"), " (used by all paths below): "]
    for k in range(n_out):
        parts += ([",  "] if k else []) + [row(grad_sym(Y(k)), "=", from_sympy(loss_fn.local(Yvec, yvec, k), ynames), "=",
                                             ans(b["dL_dY"][k], f"backward.dL_dY[{k + 1}]"))]
    B(Prose(parts, key="values_dY"))
    parts = []
    for j in range(n_out):
        for k in range(n_out):
            parts += ([",  "] if parts else []) + [row(dYdO(k, j), "=", ans(b["dY_dO"][k][j], f"backward.dY_dO[{k + 1},{j + 1}]"))]
    B(Prose(parts, key="values_dYdO"))

    # Worked example: w^b_11, red
    def along(*pieces):
        parts = [("b", "Derivatives along path: ")]
        for k, piece in enumerate(pieces):
            parts += ([",  "] if k else []) + [piece]
        return Prose(parts)

    k_ = sym("k")
    B(Prose([("b", "Example: "), d(LOSS, wb(0, 0)), " (red path: ", wb(0, 0), " connects ", L(0), " to ", O(0), ")"]))
    B(Figure("w_b11", "red", "red path"))
    B(along(row(d(LOSS, sym("Y", k_)), "=", from_sympy(loss_fn.local(Yvec, yvec, 0), {Yvec[0]: sym("Y", k_), yvec[0]: sym("y", k_)})),
            row(d(sym("Y", k_), O(0)), "=", sym("Y", k_), Paren(row(Sym("delta", Row((k_, Num("1")))), "-", Y(0)))),
            row(d(O(0), wb(0, 0)), "=", L(0))))
    B(Display("grad_w_b11", _output_path(nb, values, 0, 0, wb, Y, O, L, order="dY first")))
    # Practice: w^b_21, blue
    B(Prose([("b", "Practice: "), d(LOSS, wb(1, 0)), " (blue path: ", wb(1, 0), " connects ", L(0), " to ", O(1), ")"]))
    B(Figure("w_b21", "blue", "blue path"))
    B(along(row(d(LOSS, sym("Y", k_)), "=", from_sympy(loss_fn.local(Yvec, yvec, 0), {Yvec[0]: sym("Y", k_), yvec[0]: sym("y", k_)})),
            row(d(sym("Y", k_), O(1)), "=", sym("Y", k_), Paren(row(Sym("delta", Row((k_, Num("2")))), "-", Y(1)))),
            row(d(O(1), wb(1, 0)), "=", L(0))))
    B(Display("grad_w_b21", _output_path(nb, values, 1, 0, wb, Y, O, L, order="grad first")))
    # Practice: w^a_11, green
    B(Prose([("b", "Practice: "), d(LOSS, wa(0, 0)), " (green path: ", wa(0, 0), " connects ", x(0), " to ", H(0),
             "; longer chain through the hidden layer)"]))
    B(Figure("w_a11", "green", "green path"))
    outs = Row(tuple(q for k in range(n_out) for q in ([Op(",")] if k else []) + [O(k)]))
    B(along(row(d(H(0), wa(0, 0)), "=", x(0)),
            row(d(L(0), H(0)), "=", Call(actname, (H(0),), prime=True), "=",
                from_sympy(act.local(Symbol("H_1"), Symbol("L_1")), {Symbol("H_1"): H(0), Symbol("L_1"): L(0)})),
            row(d(sym("O", i_), L(0)), "=", Sym("w", Row((i_, Num("1"))), Sym("b"))),
            ))
    out.blocks[-1].parts += ["  (", L(0), " feeds ", outs, " — sum their contributions)"]
    local = act.local(f["H"][0], f["L"][0])
    actp = Call(actname, (H(0),), prime=True)
    inner_sym = Row(tuple(q for k in range(n_out) for q in ([Op("+")] if k else []) + [row(grad_sym(O(k)), wb(k, 0))]))
    inner_num = Row(tuple(q for k in range(n_out) for q in ([Op("+")] if k else [])
                          + [row(nb.factor(b["dL_dO"][k]), "·", nb.factor(p.W_b[k, 0]))]))
    g = values.gradients["W_a"][0, 0]
    B(Display("grad_w_a11", Aligned((
        row(d(LOSS, wa(0, 0)), "&=", Under(Paren(inner_sym, "["), grad_sym(L(0))), "·",
            Under(actp, row("=", Slot(nb.num(local), given=True))), "·",
            Under(x(0), row("=", Slot(nb.num(p.x[0]), given=True)))),
        row("&=", Paren(Slot(inner_num, key="backward.dL_dL[1]"), "["), "·", Slot(nb.factor(local), key="local.dL_dH[1]"), "·",
            Slot(nb.factor(p.x[0]), key="problem.x[1]"), "=", ans(g, "grad.w_a11")),
    ))))
    # Key insight
    B(Prose([("b", "Key Insight — Initialization Problem: "), "Based on your computation above, what is the gradient of ",
             Wa, "? What does this tell you about weight initialization?"], key="question"))
    B(Prose(_insight(values, nb), key="answer", answer=True))
    return out


def _sum_of_products(nb: _Numbers, pairs) -> list:
    items = []
    for k, (a, c) in enumerate(pairs):
        items += (["+"] if k else []) + [nb.factor(a), "·", nb.factor(c)]
    return items


def _fraction(v):
    if isinstance(v, Rational) and v.q != 1:
        f = Frac(Num(str(abs(v.p))), Num(str(v.q)))
        return f if v > 0 else row("neg", f)
    return None


def _output_path(nb, values, i, j, wb, Y, O, L, order):
    """``∂ℒ/∂w^b_ij = [Σ_k ∂Y_k/∂O_i ∇Y_k]·∂O_i/∂w^b_ij = [__]·__ (= (__)(__)) = __``."""
    p, b, f = values.problem, values.backward, values.forward
    n_out = p.n_out
    terms, nums = [], []
    for k in range(n_out):
        dy = d(Y(k), O(i))
        pair = row(dy, grad_sym(Y(k))) if order == "dY first" else row(grad_sym(Y(k)), "·", dy)
        terms += ([Op("+")] if k else []) + [pair]
        nv = (b["dY_dO"][k][i], b["dL_dY"][k]) if order == "dY first" else (b["dL_dY"][k], b["dY_dO"][k][i])
        nums += ([Op("+")] if k else []) + [row(nb.factor(nv[0]), "·", nb.factor(nv[1]))]
    head = row(d(Sym("loss"), wb(i, j)), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(O(i))), "·",
               Under(d(O(i), wb(i, j)), row("=", L(j))))
    g = values.gradients["W_b"][i, j]
    ans = lambda v, key: Slot(nb.num(v), key=key)  # noqa: E731
    dO, Lj, gk = f"backward.dL_dO[{i + 1}]", f"forward.L[{j + 1}]", f"grad.w_b{i + 1}{j + 1}"
    rows = [head]
    if order == "dY first":  # the worked example: one more line, the two factors
        rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", ans(f["L"][j], Lj)))
        rows.append(row("&=", Paren(Slot(nb.num(b["dL_dO"][i]), key=dO)), Paren(Slot(nb.num(f["L"][j]), key=Lj)), "=", ans(g, gk)))
    else:
        rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", ans(f["L"][j], Lj), "=", ans(g, gk)))
    return Aligned(tuple(rows))


def _insight(values, nb) -> list:
    """The key insight's answer, derived from the values: is ∂ℒ/∂W_a zero, and are the hidden units alike?"""
    p, b = values.problem, values.backward
    ga = values.gradients["W_a"]
    Wa = sym("W", "a")
    zero = all(v == 0 for v in ga)
    alike_in = all(p.W_a.row(i) == p.W_a.row(0) for i in range(p.n_hidden))
    alike_out = all(p.W_b.col(j) == p.W_b.col(0) for j in range(p.n_hidden))
    parts = [("b", "Answer: ")]
    if zero:
        parts += [row(d(LOSS, Wa), "=", Num("0")), f" exactly (all {len(ga)} entries). "]
        sum_o = sum(b["dL_dO"])
        if sum_o == 0 and all(p.W_b.row(i) == p.W_b.row(0) for i in range(p.n_out)):
            parts += ["The softmax gradients cancel, ",
                      row(*sum(([grad_sym(sym("O", k + 1)), "+"] for k in range(p.n_out)), [])[:-1], "=", Num("0")),
                      ", and every row of ", sym("W", "b"), " is the same, so every ",
                      row(grad_sym(sym("L", sym("j"))), "=", Sym("sum", sym("i")), grad_sym(sym("O", sym("i"))),
                          Sym("w", Row((sym("i"), sym("j"))), Sym("b")), "=", Num("0")), ". "]
    else:
        nonzero = sum(1 for v in ga if v != 0)
        parts += [d(LOSS, Wa), f" is not zero ({nonzero} of {len(ga)} entries). "]
    if alike_in and alike_out:
        parts += [f"All {p.n_hidden} hidden units start identical (equal rows of ", Wa, ", equal columns of ", sym("W", "b"),
                  "): they compute the same value and receive the same gradient, so every update keeps them identical "
                  "— the network learns like one with a single hidden unit. Constant initialization never breaks "
                  "the symmetry: initialize the weights randomly."]
    else:
        parts += ["The hidden units start different, so this initialization breaks the symmetry."]
    return parts


# -- the page in text, Markdown and LaTeX (the worksheet to paste into one's own material) ---------------


def _prose_with(block: Prose, worksheet: bool, math, bold, text) -> str:
    out = []
    for part in block.parts:
        if isinstance(part, str):
            out.append(text(part))
        elif isinstance(part, tuple):
            out.append(bold(text(part[1])))
        else:
            out.append(math(part, worksheet))
    return "".join(out)


def _header(page: Layout, worksheet: bool) -> tuple[str, str]:
    kind = "Worksheet" if worksheet else "Answer key"
    return kind, f"{kind} · problem {page.problem_id} · {page.description} · {page.source}"


def render_text(page: Layout, worksheet: bool) -> str:
    """The page as plain text; blanks are ``____``."""
    kind, line = _header(page, worksheet)
    out = [page.title, "=" * len(page.title), line, ""]
    for b in page.blocks:
        if isinstance(b, Heading):
            out += [b.text, "-" * len(b.text)]
        elif isinstance(b, Prose):
            if b.answer and worksheet:
                out += ["Answer: " + "_" * 60, ""]
                continue
            out += [_prose_with(b, worksheet, to_text, lambda s: s, lambda s: s), ""]
        elif isinstance(b, Display):
            out += ["    " + to_text(b.math, worksheet), ""]
        elif isinstance(b, Figure):
            out += [f"[figure: the network with the {b.caption} of {b.weight}]", ""]
    return "\n".join(out).rstrip() + "\n"


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#+!|$~])", r"\\\1", text)


def _md_bold(text: str) -> str:
    """``**text**`` with any trailing space outside, where CommonMark needs it."""
    stripped = text.rstrip()
    return f"**{stripped}**{text[len(stripped):]}" if stripped else text


def render_markdown(page: Layout, worksheet: bool) -> str:
    """The page as Markdown with ``$...$`` math (MyST / MathJax)."""
    kind, line = _header(page, worksheet)
    out = [f"# {_md_escape(page.title)}", "", f"*{_md_escape(line)}*", ""]
    for b in page.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * (b.level + 1)} {_md_escape(b.text)}", ""]
        elif isinstance(b, Prose):
            if b.answer and worksheet:
                out += ["**Answer:** " + r"\_" * 40, ""]
                continue
            out += [_prose_with(b, worksheet, lambda t, w: f"${to_latex(t, w)}$", _md_bold, _md_escape), ""]
        elif isinstance(b, Display):
            out += ["$$", to_latex(b.math, worksheet), "$$", ""]
        elif isinstance(b, Figure):
            out += [f"*(figure: the {_md_escape(b.caption)} of {_md_escape(b.weight)})*", ""]
    return "\n".join(out).rstrip() + "\n"


def render_latex(page: Layout, worksheet: bool) -> str:
    """The page as a LaTeX document (amsmath); blanks are ``\\underline{\\hspace{2cm}}``."""
    kind, line = _header(page, worksheet)
    out = [r"\documentclass[10pt]{article}", r"\usepackage[margin=1.5cm]{geometry}", r"\usepackage{amsmath,amssymb}",
           r"\usepackage[utf8]{inputenc}", r"\setlength{\parindent}{0pt}",
           r"\begin{document}", rf"\section*{{{latex_escape(page.title)}}}", rf"\textit{{{latex_escape(line)}}}", ""]
    for b in page.blocks:
        if isinstance(b, Heading):
            out += [rf"\subsection*{{{latex_escape(b.text)}}}"]
        elif isinstance(b, Prose):
            if b.answer and worksheet:
                out += [r"\textbf{Answer:} \hrulefill", ""]
                continue
            out += [_prose_with(b, worksheet, lambda t, w: f"${to_latex(t, w)}$", lambda s: rf"\textbf{{{s}}}",
                                latex_escape), ""]
        elif isinstance(b, Display):
            out += [r"\[", to_latex(b.math, worksheet), r"\]"]
        elif isinstance(b, Figure):
            out += [rf"\emph{{(figure: the {latex_escape(b.caption)} of {latex_escape(b.weight)})}}", ""]
    out += [r"\end{document}"]
    return "\n".join(out) + "\n"
