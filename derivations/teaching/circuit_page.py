r"""A computational graph's students' page: the circuit, its forward steps and its gradients, every number a slot.

The same page model as a network's (:class:`~derivations.teaching.page.Page` of headings, prose, displays and a
figure; every writer of :mod:`derivations.outputs` is a visitor of it), built from the graph's derivation
(:class:`~derivations.engine.graph.Graph`): the setup (the data, given, and the equations), the circuit drawn
(:func:`derivations.outputs.circuit_figure.circuit_svg`), a forward step per equation (the expression, its
inputs' values, its value: a blank keyed ``forward.NAME``), then backwards from the output in reverse order
each name's gradient (the local derivative on each edge it feeds, the chain-rule sum over its uses with their
numbers, its value: a blank keyed ``grad.NAME``), and a sentence where a value branches. The output's own local
derivative is written ``(∂f/∂b)_c`` where its equation also uses a name ``c`` that moves with ``b`` (else it would
read as the gradient ``∂f/∂b``), with a sentence saying what it holds fixed. The keys are those of
:class:`~derivations.teaching.circuit.GraphMarking`, in its order, so that ``check``, the self-check page and the
page agree.

>>> from derivations.engine.graph import Graph, graph_from_dict
>>> from derivations.notation.tree_printing import to_text
>>> g = Graph(graph_from_dict({"graph": {"q": "x + y", "f": "q * z"}, "data": {"x": -2, "y": 5, "z": -4}}))
>>> page = lay_out(g)
>>> page.blanks(), [s.key for s in page.slots(given=False)][:3]
(10, ['forward.q', 'forward.q', 'forward.f'])
>>> print(to_text(page.display("step2").math, worksheet=False))
f = q·z = (3)·(−4) = −12
>>> print(to_text(page.display("step2").math, worksheet=True))
f = q·z = (____)·(−4) = ____
>>> print(to_text(page.display("grad_x").math, worksheet=False))
∂f/∂x = ∂f/∂q·∂q/∂x = (−4)·(1) = −4
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sympy import Add, Mul, Pow

from ..notation.tree import Call, Held, Numeral, Operator, Paren, Row, Slot, Sym, Word, approx_equals, partial, row
from ..notation.tree_printing import TreePrinter
from .circuit import held, held_note
from .numbers import PageNumbers
from .page import KEY, PRECISION, Display, Figure, Heading, Page, Prose

TITLE = "A computational graph"  # the page's title, unless [worksheet] title gives one
FIGURE = "the circuit: each wire's forward value above it, its gradient below"
BRANCH = ("Gradients add where a value branches: {name} feeds {uses}, a change of {name} reaches the output along "
          "each of them, and the chain rule sums the contributions")


def problem_id(problem, data: bytes | None = None) -> str:
    """A short identifier of a graph problem: the hash of its file's bytes, else of its equations and data.

    >>> from derivations.engine.graph import graph_from_dict
    >>> problem_id(graph_from_dict({"graph": {"f": "x * x + x"}, "data": {"x": 3}}))
    '24957428'
    """
    if data is None:
        data = repr((problem.equations, [(n, str(v)) for n, v in problem.data], problem.title)).encode()
    return hashlib.sha256(data).hexdigest()[:8]


def describe(problem) -> str:
    """The page's header: ``computational graph: 2 equations over x, y, z; output f``."""
    n = len(problem.equations)
    names = ", ".join(n for n, _ in problem.data)
    return (f"computational graph: {n} equation{'s' if n != 1 else ''}" + (f" over {names}" if names else "")
            + f"; output {problem.output}")


_NAME = re.compile(r"([A-Za-z])_?([0-9]{1,4}|[A-Za-z])?", re.ASCII)


def name_tree(name: str):
    """A name as the page sets it: ``x``, ``w0`` as w₀, ``h_a`` as h_a; any longer name upright (``out``).

    >>> name_tree("w0"), name_tree("out")
    (Sym(base='w', sub=Numeral(text='0', approx=False), sup=None), Word(text='out'))
    """
    m = _NAME.fullmatch(name)
    if m is None:
        return Word(name)
    sub = m[2] and (Numeral(m[2]) if m[2].isdigit() else Sym(m[2]))
    return Sym(m[1], sub or None)


class _Plugged(TreePrinter):
    """An equation or a local derivative with its names replaced by slots (``names``), a slot in a sum, a
    product or a power bracketed when it is a blank (so the worksheet never shows its sign) or negative
    (``wrap``); ``max`` and ``min`` as calls."""

    _default_settings = {"names": {}, "wrap": frozenset()}

    def _print(self, e, **kwargs):
        names = self._settings["names"]
        if e in names:
            inside = kwargs.get("parent") in (Add, Mul, Pow) and e in self._settings["wrap"]
            return Paren(names[e]) if inside else names[e]
        return super()._print(e, **kwargs)

    def _print_Add(self, e, parent=None):
        """A sum in the order its text prints (``w0·x0 + w1·x1 + w2``, not SymPy's ``w2 + w0·x0 + …``), a positive
        term first (``y − p``, as typed and as the worked solution prints it, not ``−p + y``)."""
        terms = sorted(e.as_ordered_terms(), key=lambda a: a.could_extract_minus_sign())
        return super()._print_Add(Add(*terms, evaluate=False) if tuple(terms) != e.args else e, parent=parent)

    def _print_Mul(self, e, parent=None):
        """A product with its dot between every two factors: ``q·z``, ``w_0·x_0`` (names of several letters)."""
        out = super()._print_Mul(e, parent=parent)
        if not isinstance(out, Row):
            return out
        items: list = []  # a dot wherever two factors meet (2·lam·w: the number's dot was there, lam w was not)
        for i in out.items:
            if items and not isinstance(items[-1], Operator) and not isinstance(i, Operator):
                items.append(Operator("·"))
            items.append(i)
        return Row(tuple(items))

    def _print_Heaviside(self, e, parent=None):
        """The local derivative of ``max`` and ``min``: ``𝟏[f − 2 > 0]``, as a ReLU's."""
        return Sym("one", row(self._print(e.args[0]), ">", Numeral("0")))

    def _print_Max(self, e, parent=None):
        return Call("max", tuple(self._print(a) for a in e.args))

    def _print_Min(self, e, parent=None):
        return Call("min", tuple(self._print(a) for a in e.args))


def _tree(expr, names: dict, wrap=frozenset()):
    return _Plugged({"names": names, "wrap": wrap}).doprint(expr)


class _Circuit:
    """What building a graph's page shares: its values, their spellings (the page's 4 digits), each name's
    symbol as the page writes it and as a slot, and the blocks."""

    def __init__(self, graph, digits: int):
        self.g, self.nb = graph, PageNumbers(graph, digits)
        self.blocks: list = []
        self.syms = {graph.symbol[n]: name_tree(n) for n in graph.problem.names}
        self.slots, wrap = {}, set()
        for n in graph.problem.names:
            s, v = graph.symbol[n], graph.value[n]
            if n in graph.data:  # given: printed on the worksheet, bracketed where negative
                self.slots[s] = Slot(self.nb.num(v), given=True)
                if self.nb.n.values.decimal(v) < 0:
                    wrap.add(s)
            else:  # an earlier answer, repeated: a blank keyed as its step's
                self.slots[s] = Slot(self.nb.num(v), key=f"forward.{n}")
                wrap.add(s)
        self.wrap = frozenset(wrap)

    def add(self, block) -> None:
        if isinstance(block, Display):
            block.math = approx_equals(block.math)
        elif isinstance(block, Prose):
            block.parts = [approx_equals(q) if not isinstance(q, (str, tuple)) else q for q in block.parts]
        self.blocks.append(block)

    def name(self, n: str):
        return self.syms[self.g.symbol[n]]

    def formula(self, expr):
        return _tree(expr, self.syms)

    def plugged(self, expr):
        return _tree(expr, self.slots, self.wrap)

    def answer(self, v, key: str) -> Slot:
        return Slot(self.nb.num(v), key=key)

    def local(self, u: str, v: str):
        """``∂c/∂b``; the output's ``(∂f/∂b)_c`` where it holds fixed a name that moves with ``b``, so that it
        never reads as the gradient ``∂f/∂b`` (:func:`~derivations.teaching.circuit.held`)."""
        d = partial(self.name(u), self.name(v))
        fixed = held(self.g, u, v)
        return Held(d, tuple(self.name(n) for n in fixed)) if fixed else d


def lay_out(graph, digits: int = 4, data: bytes | None = None) -> Page:
    """The students' page of a computational graph (``data``: the problem file's bytes, for the identifier),
    in the keys' order: forward in the equations' order, then the gradients from the output back."""
    p = graph.problem
    cx = _Circuit(graph, digits)
    page = Page(title=p.title or TITLE, problem_id=problem_id(p, data), description=describe(p),
                source=Path(str(p.source)).name, blocks=cx.blocks, view=KEY)
    cx.add(Heading("Forward and Backward Through the Circuit", 2))
    cx.add(_tasks(cx))
    cx.add(_setup(cx))
    cx.add(Figure("", "", FIGURE))
    cx.add(Heading("Forward Pass", 2))
    for number, n in enumerate(graph.equations, 1):
        _forward(cx, n, number)
    cx.add(Heading("Backward Pass", 2))
    out = cx.name(graph.output)
    cx.add(Prose(["We start at the output, ", row(partial(out, out), "=", Numeral("1")), ", and go back through the "
                  "equations in reverse order: the gradient of each name is, over every equation that uses it, that "
                  "equation's gradient times its ", ("b", "local derivative"), " (chain rule). Where a value is used "
                  "more than once, the contributions ", ("b", "add"), "."]))
    branches = set(graph.branches())
    for key in graph.keys():
        if key.startswith("grad."):
            _backward(cx, key[5:], key[5:] in branches)
    return page


def _tasks(cx) -> Prose:
    g = cx.g
    out = cx.name(g.output)
    fwd, back = [], []
    for k, n in enumerate(g.equations):
        fwd += ([", "] if k else []) + [cx.name(n)]
    grads = [k[5:] for k in g.keys() if k.startswith("grad.")]
    for k, n in enumerate(grads):
        back += ([", "] if k else []) + [partial(out, cx.name(n))]
    return Prose([("b", "Your tasks. Forward: "), "compute ", *fwd, f" (Steps 1–{len(g.equations)}). ",
                  ("b", "Backward: "), "compute ", *back, ". ", PRECISION])


def _setup(cx) -> Prose:
    """The given numbers and the equations, as the problem file states them."""
    g = cx.g
    parts = [("b", "Setup. "), "Data: "]
    for k, n in enumerate(g.data):
        parts += ([", "] if k else []) + [row(cx.name(n), "=", cx.slots[g.symbol[n]])]
    parts += [".   ", ("b", "Equations: ")]
    for k, n in enumerate(g.equations):
        parts += (["; "] if k else []) + [row(cx.name(n), "=", cx.formula(g.exprs[n]))]
    return Prose(parts + ["."], key="setup")


def _forward(cx, n: str, number: int) -> None:
    """``q = x + y = −2 + 5 = ____``: the equation, its inputs' values (an earlier step's a blank), its value."""
    g = cx.g
    expr = g.exprs[n]
    cx.add(Prose([("b", f"Step {number}: "), row(cx.name(n), "=", cx.formula(expr))]))
    sides = [cx.name(n), "=", cx.formula(expr)]
    if expr.free_symbols:
        sides += ["=", cx.plugged(expr)]
    sides += ["=", cx.answer(g.value[n], f"forward.{n}")]
    cx.add(Display(f"step{number}", row(*sides)))


def _backward(cx, v: str, branches: bool) -> None:
    """The local derivative of each edge out of ``v``, then ``∂f/∂v`` as the sum over its uses with numbers."""
    g = cx.g
    out, name = cx.name(g.output), cx.name(v)
    local, chain, numbers = [], [], []
    for k, u in enumerate(g.users[v]):
        d = g.local[(u, v)]
        local += ([", "] if k else []) + [row(cx.local(u, v), "=", cx.formula(d))]
        chain += (["+"] if k else []) + [partial(out, cx.name(u)), "·", cx.local(u, v)]
        upstream = Numeral("1") if u == g.output else Paren(cx.answer(g.gradient[u], f"grad.{u}"))
        numbers += (["+"] if k else []) + [upstream, "·", Paren(cx.plugged(d))]
    cx.add(Prose([("b", "Local derivative" + ("s: " if len(local) > 1 else ": ")), *local]))
    if held(g, g.output, v):
        cx.add(Prose(held_note(g, v, cx.local(g.output, v), partial(out, name), cx.name), key=f"held_{v}"))
    cx.add(Display(f"grad_{v}", row(partial(out, name), "=", *chain, "=", *numbers, "=",
                                    cx.answer(g.gradient[v], f"grad.{v}"))))
    if branches:
        uses = g.users[v]
        where = " and ".join(uses) if len(uses) > 1 else f"{uses[0]} more than once"
        cx.add(Prose([BRANCH.format(name=v, uses=where) + "."], key=f"branch_{v}"))
