r"""The page's math tree: the small tree every formula of the students' page is built from.

A formula is a tree of nodes (:class:`Sym`, :class:`Numeral`, :class:`Row`, :class:`Frac`, :class:`Vec`,
:class:`Under`, ...) in which every number the student reads or writes is a :class:`Slot`: *given* (printed on
the worksheet, as on the paper) or an *answer* (a blank on the worksheet, filled on the key). The printers of
:mod:`derivations.notation.tree_printing` write one tree as Typst math, LaTeX math and plain text.

>>> from derivations.notation.tree_printing import to_text
>>> step2 = row(sym("L", 1), "=", Call("ReLU", (Slot(Numeral("0.15"), given=True),)), "=", Slot(Numeral("0.15")))
>>> print(to_text(step2, worksheet=True))
L_1 = ReLU(0.15) = ____
>>> print(to_text(step2, worksheet=False))
L_1 = ReLU(0.15) = 0.15
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

# -- the nodes -----------------------------------------------------------------------------------

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
    "≤": ("<=", r"\le", " ≤ "),
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
_NUMBER = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")  # 0.15, -0.0375, and 7.025e-522 (printed 7.025 × 10⁻⁵²²)
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
    """A number as written: ``0.15``, ``-0.0375``, ``7.025e-522`` (scientific, beyond what a page writes out);
    ``approx``: rounded (an ``=`` before it reads ``≈``)."""

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
class Held:
    """``(∂f/∂b)_c``: a partial derivative with the names ``fixed`` held fixed, as thermodynamics writes it (an
    equation's local derivative where it also uses ``c`` and ``c`` itself moves with ``b``)."""

    derivative: object
    fixed: tuple


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
class Formula(Slot):
    """A formula the student writes (a gradient in closed form): on the key its ``content``, the derived form;
    on the worksheet a box (never a blank the size of a number)."""


@dataclass(frozen=True)
class Aligned:
    """Rows aligned at their ``&=``."""

    rows: tuple


def walk(node):
    """Every node of a math tree, depth first (a slot's content included), in the order of each node's fields."""
    yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            for child in _nodes(getattr(node, f.name)):
                yield from walk(child)


def _nodes(value):
    """The nodes a field holds: itself, or those of a tuple (a row's items, a matrix's rows); not its text."""
    if isinstance(value, tuple):
        for v in value:
            yield from _nodes(v)
    elif dataclasses.is_dataclass(value):
        yield value


def count_slots(tree) -> int:
    return sum(1 for n in walk(tree) if isinstance(n, Slot) and not n.given)


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


# -- rounded values ------------------------------------------------------------------------------------


def approx_equals(tree):
    """The tree with every ``=`` whose right-hand piece holds a rounded number turned into ``≈``."""
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
