r"""One page model: the blocks every page of a problem is made of, and what building them shares.

A :class:`Page` is an ordered list of blocks. The worked solution (:mod:`derivations.teaching.solution`) and the
students' page (:mod:`derivations.teaching.handout`) are two views of one problem built from the same parts:
the forward step of each operation (:mod:`derivations.teaching.steps`), the values of the backward pass
(:mod:`derivations.teaching.backward`), the gradient of a parameter along its paths
(:mod:`derivations.teaching.paths`) and the closing question (:mod:`derivations.teaching.closing`), each part
computed once and written for the view that shows it:

- the *solution* view: :class:`Section` s of :class:`Line` s (``H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15``), every
  side a SymPy expression; it adds every gradient's paths, its closed forms, the table of every gradient and
  the theorems of the closing insight;
- the students' page, a :class:`Heading`, :class:`Prose`, :class:`Display` and :class:`Figure` at a time, in the
  paper handout's order, its math the page's tree (:mod:`derivations.notation.tree`) in which every number the
  student reads or writes is a slot: written as the *key* (every slot filled) or the *worksheet* (every
  answer slot a blank).

Every writer (:mod:`derivations.outputs.page`: text, Markdown, LaTeX; Typst, the front ends' nodes, the
self-check page, Moodle) is a visitor of a page, a method per block type, as Sphinx's translators visit a
doctree.

>>> from derivations import evaluate, load_problem
>>> from derivations.teaching.solution import worked_solution
>>> print(worked_solution(evaluate(load_problem())).section("step1").lines[0].text())
H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..engine.problem import LETTERS, load_problem
from ..notation.printing import Words
from ..notation.printing import tex as tex_of
from ..notation.printing import text as text_of
from ..notation.tree import LOSS, Numeral, Operator, Paren, Row, Slot, Sym, Vec, approx_equals, count_slots, idx, walk
from .numbers import Notation, PageNumbers

# The marking's precision rule (derivations.teaching.marking), stated on every page, key and Moodle question.
PRECISION = "Write each answer exactly (a decimal or a fraction) or to at least 4 significant digits."
BLANK = r"\underline{\hspace{2cm}}"
BLANK_TEXT = "____"
SOLUTION, KEY, WORKSHEET = "solution", "key", "worksheet"  # the views: the solution, and the students' page twice


# -- the solution's blocks: sections of lines ----------------------------------------------------------------


@dataclass(frozen=True)
class Tx:
    """A piece of prose, spelled as text and as LaTeX (section titles)."""

    text: str
    tex: str


def t(text: str, tex: str | None = None) -> Tx:
    return Tx(text, text if tex is None else tex)


@dataclass
class Line:
    """``a = b ≈ c``: one equation of the solution. ``sides`` are expressions, ``rels`` the relation before
    each side after the first (``"="`` or ``"≈"``); a worksheet shows the first ``given`` sides and a blank
    (``given = 0``: the whole line is given). ``prose``: a sentence, set inline."""

    sides: list
    rels: list = field(default_factory=list)
    given: int = 0
    label: str = ""
    prose: bool = False
    names: dict = field(default_factory=dict, repr=False)  # LaTeX of the symbols

    def __post_init__(self):
        self.rels = list(self.rels) + ["="] * (len(self.sides) - 1 - len(self.rels))

    def _pieces(self, worksheet: bool, printer, blank: str) -> tuple:
        sides = [printer(s) for s in self.sides]
        rels = list(self.rels)
        if worksheet and self.given and self.given < len(sides):
            sides, rels = sides[: self.given] + [blank], rels[: self.given - 1] + ["="]
        return sides, rels

    def text(self, worksheet: bool = False) -> str:
        sides, rels = self._pieces(worksheet, text_of, BLANK_TEXT)
        return _chain(sides, rels, {"=": " = ", "≈": " ≈ "})

    def tex(self, worksheet: bool = False) -> str:
        sides, rels = self._pieces(worksheet, self._tex, BLANK)
        return _chain(sides, rels, {"=": " = ", "≈": r" \approx "})

    def _tex(self, e) -> str:
        return tex_of(e, self.names)

    def tex_aligned(self, worksheet: bool = False) -> str:
        """Display math: one relation a row once the chain is long, as the handout sets its sums."""
        sides, rels = self._pieces(worksheet, self._tex, BLANK)
        flat = _chain(sides, rels, {"=": " = ", "≈": r" \approx "})
        if self.prose or len(sides) <= 2 or (len(sides) == 3 and len(flat) < 140):
            return flat
        ops = {"=": "&= ", "≈": r"&\approx "}
        if self.label == "path":  # a long path and its product: the numbers go below, indented
            rows = [sides[0]] + [ops[r].replace("&", r"&\qquad ") + s for r, s in zip(rels, sides[1:])]
            return r"\begin{aligned} & " + r" \\ ".join(rows) + r" \end{aligned}"
        if len(sides) >= 4 and rels[-1] == "=":  # "= −0.0375 = −3/80" on one row
            sides = sides[:-2] + [sides[-2] + " = " + sides[-1]]
            rels = rels[:-1]
        rows = [sides[0] + " " + ops[rels[0]] + sides[1]]
        rows += [ops[r] + s for r, s in zip(rels[1:], sides[2:])]
        return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def _chain(sides: list, rels: list, spell: dict) -> str:
    out = sides[0]
    for rel, side in zip(rels, sides[1:]):
        out += spell[rel] + side
    return out


@dataclass
class Section:
    """A titled group of the solution's lines: a step, the backward values, one gradient, the table."""

    key: str
    title: Tx
    lines: list = field(default_factory=list)
    intro: str = ""

    def heading(self, math: str, escape) -> str:
        r"""The title for a document with math: its prose escaped by ``escape``, its formula as math
        (``math`` wraps LaTeX: ``$…$``): ``Step 1: $H = W_{a} \cdot x$ (hidden pre-activation)``."""
        text = self.title.text
        note = text[text.rindex(" ("):] if text.endswith(")") and " (" in text else ""
        if self.key.startswith("step"):
            return f"{escape(text.split(':')[0])}: {math(self.title.tex)}{escape(note)}"
        if self.key.startswith("grad_"):
            return f"{math(self.title.tex)}{escape(note)}"
        return escape(text)


@dataclass
class Insight:
    """The solution's closing: the key insight's lines (a title, then statements), the theorems that apply
    with their verdicts (``(verdict, text)`` lines) and, when detailed, each proof step."""

    lines: list


# -- the students' page's blocks -----------------------------------------------------------------------------


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
    """The network with ``weight``'s gradient paths in ``colour`` (drawn by :func:`figures.network_svg`), or, with
    no ``weight``, a graph's circuit (:func:`circuit_figure.circuit_svg`); both by :func:`circuit_figure.figure_svg`."""

    weight: str
    colour: str
    caption: str


# -- the page ----------------------------------------------------------------------------------------------


@dataclass
class Page:
    """A page of one problem, its blocks in order; ``view`` says which (:data:`SOLUTION`, or the students'
    page, written as :data:`KEY` or :data:`WORKSHEET`). The students' page carries its identifier
    (``problem_id``), the problem's description and its file's name for its header."""

    title: str
    problem_id: str = ""
    description: str = ""
    source: str = ""
    blocks: list = field(default_factory=list)
    view: str = KEY

    @property
    def sections(self) -> list:
        return [b for b in self.blocks if isinstance(b, Section)]

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

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


# -- what building a page shares --------------------------------------------------------------------------


def is_paper(problem) -> bool:
    """Is ``problem`` the handout's own (its numbers, wherever its file lies): its page is then the paper's, which
    prints L in Step 3. By content: a copy of handout.toml elsewhere had the other page under the same identifier.

    >>> from sympy import Rational
    >>> from derivations.engine.problem import load_problem
    >>> is_paper(load_problem()), is_paper(replace(load_problem(), source="copy.toml", lr=Rational(1, 10)))
    (True, False)
    """
    return problem.source == "handout" or replace(problem, source="handout") == _handout()


@lru_cache(maxsize=1)
def _handout():
    return load_problem()


class Context:
    """One problem's values with their spellings (``n``: the solution's :class:`Notation`, ``nb``: the
    page's :class:`PageNumbers`, both at ``digits``), the names of its quantities in both views, and the
    blocks of the page being built (:meth:`add`)."""

    def __init__(self, values, digits: int):
        self.v, self.d = values, values.derivation
        self.p = p = values.problem
        self.S = p.n_samples
        self.keys = self.d.symbols.keys
        self.n = Notation(values, digits)
        self.nb = PageNumbers(values, digits)
        self.blocks: list = []
        self.introduced: set = set()  # backward quantities a block of the page has asked for: ("O", i, s)
        self.paper = is_paper(p)  # the handout's problem: its page is the paper's, to the letter

    def add(self, block):
        """A block of the students' page, its ``=`` before a rounded number turned into ``≈``."""
        if isinstance(block, Display):
            block.math = approx_equals(block.math)
        elif isinstance(block, Prose):
            block.parts = [approx_equals(q) if not isinstance(q, (str, tuple)) else q for q in block.parts]
        self.blocks.append(block)

    # -- values ---------------------------------------------------------------------------------------

    def fwd(self, key: str, s: int):
        f = self.v.forward
        return f[key] if self.S == 1 else f[key][s]

    def bwd(self, key: str, s: int):
        b = self.v.backward
        return b[key] if self.S == 1 else b[key][s]

    def pvalue(self, q):
        return self.p.weights[q.layer][q.i, q.j] if q.kind == "weight" else self.p.biases[q.layer][q.i]

    def linear_in(self, l: int) -> str:
        return "x" if l == 0 else self.keys[2 * l - 1]

    def linear_out(self, l: int) -> str:
        return self.keys[2 * l] if l < self.p.depth else "O"

    def in_value(self, l: int, j: int, s: int):
        return self.p.xs[s][j] if l == 0 else self.fwd(self.linear_in(l), s)[j]

    # -- the solution's lines and names --------------------------------------------------------------------

    def line(self, lhs, *middle, value=None, first_only=False, rels=(), **kw) -> Line:
        """``lhs = middle... = value`` (the value's pieces as :meth:`Notation.result` writes them)."""
        sides, all_rels = [lhs, *middle], list(rels) + ["="] * (len(middle) - len(rels))
        if value is not None:
            vr, vs = self.n.first(value) if first_only else self.n.result(value)
            sides += vs
            all_rels += vr
        return Line(sides, all_rels, names=self.n.names, **kw)

    def samples(self):
        return range(self.S)

    def sample_note(self, s: int) -> list:
        """With several samples, a prose line naming the sample before its lines."""
        if self.S == 1:
            return []
        return [Line([Words(f"sample {s + 1}:", rf"\text{{sample {s + 1}:}}")], prose=True, names=self.n.names)]

    def vector_name(self, text: str, tex: str, s: int) -> Words:
        """``H``, or ``H^[2]`` for sample 2 of several (``H^(1)[2]`` in a deeper network)."""
        if self.S == 1:
            return Words(text, tex)
        if "^(" in text:
            return Words(f"{text}[{s + 1}]", tex[:-1] + f"[{s + 1}]}}")
        return Words(f"{text}^[{s + 1}]", f"{tex}^{{[{s + 1}]}}")

    @staticmethod
    def node_tex(key: str) -> tuple:
        """``("H^(2)", "H^{(2)}")`` for a node key."""
        base, layer = key[0], key[1:]
        return (base + (f"^({layer})" if layer else ""), base + (f"^{{({layer})}}" if layer else ""))

    # -- the page's names -------------------------------------------------------------------------------

    def at(self, s) -> str:
        """An answer key's sample: ``@2`` (nothing with one sample)."""
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
        if q.shared:
            return Sym("b", None, Sym(LETTERS[q.layer]))
        if q.kind == "bias":
            return Sym("b", Numeral(str(q.i + 1)), Sym(LETTERS[q.layer]))
        return Sym("w", idx(q.i, q.j), Sym(LETTERS[q.layer]))

    def matrix_sym(self, l: int, kind: str = "W") -> Sym:
        return Sym(kind, Sym(LETTERS[l]))

    def in_key(self, l: int, j: int, s: int) -> str:
        return f"problem.x[{j + 1}]{self.at(s)}" if l == 0 else f"forward.{self.linear_in(l)}[{j + 1}]{self.at(s)}"

    def ans(self, v, key: str = "") -> Slot:
        return Slot(self.nb.num(v), key=key)

    def bracket(self, nums, v, key: str) -> Paren:
        """``[0.25·(−0.5) + (−0.25)·0.5 = −0.25]``: a sum the student writes in one blank, its value on the key
        (the value is the blank's answer: a key that showed only the sum left it to the marker)."""
        return Paren(Slot(Row((*nums, Operator("="), self.nb.num(v))), key=key), "[")

    def given(self, v) -> Slot:
        return Slot(self.nb.num(v), given=True)

    def answers(self, key: str, s: int) -> Vec:
        """A vector of blanks, keyed ``forward.H[1]``, ``forward.H[2]``, ... (``@s`` with several samples)."""
        return Vec(tuple(self.ans(v, f"forward.{key}[{k + 1}]{self.at(s)}") for k, v in enumerate(self.fwd(key, s))))
