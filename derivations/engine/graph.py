r"""Computational graphs: the circuits a backprop lecture starts with, as problems of their own.

A graph problem file lists its equations in order under ``[graph]``, each a name and an expression over the
``[data]`` names and the equations before it (read by :mod:`derivations.engine.expression`, never
evaluated); the last equation is the output that is differentiated:

.. code-block:: toml

    [graph]
    q = "x + y"
    f = "q * z"

    [data]
    x = -2
    y = 5
    z = -4

Each equation is a node. Its forward value is exact; each edge carries the local derivative of the node with
respect to one of its inputs; the gradient of the output with respect to every name (the data and the
equations but the output) is accumulated backwards over every use of a value: a name used twice gets the sum
of both uses' contributions (gradients add at branches).

>>> g = Graph(graph_from_dict({"graph": {"q": "x + y", "f": "q * z"}, "data": {"x": -2, "y": 5, "z": -4}}))
>>> g.value["q"], g.value["f"], [g.gradient[n] for n in ("x", "y", "z", "q")]
(3, -12, [-4, -4, 3, -4])
>>> g2 = Graph(graph_from_dict({"graph": {"f": "x*x + x"}, "data": {"x": 3}}))
>>> g2.gradient["x"], g2.users["x"]
(7, ['f'])
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from sympy import Add, Expr, Float, Integer, Max, Min, S, Symbol
from sympy.core.parameters import evaluate as sympy_evaluate  # SymPy's switch; ``evaluate`` here is the values'

from . import reading
from .errors import ProblemError, located
from .expression import FUNCTIONS, parse
from .functions import ReLU, relu_step
from .problem import HANDOUT, problem_from_dict
from .values import evaluate

MAX_EQUATIONS = 64
MAX_DATA = 64
MAX_TITLE = 80
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}", re.ASCII)
_SECTIONS = {"graph": None, "data": None, "worksheet": ("title",), "variants": ("digits",)}
DIGITS = 50  # the decimals' digits, as a network's values (values.PRECISION)
GUARD = 10  # digits more, computed equation by equation, than the decimals keep
RESERVED = set(FUNCTIONS) | {"e", "pi", "E", "I"}  # a name that reads as a function or a constant


@dataclass(frozen=True)
class GraphProblem:
    """A computational graph: ``equations`` ``((name, expression text), ...)`` in order, ``data`` ``((name,
    exact value), ...)``; the last equation is the output."""

    equations: tuple
    data: tuple
    source: str = "graph"
    title: str = ""
    kind: str = field(default="graph", init=False)

    @property
    def output(self) -> str:
        return self.equations[-1][0]

    @property
    def names(self) -> list:
        return [n for n, _ in self.data] + [n for n, _ in self.equations]

    @property
    def cost(self) -> int:
        return len(self.equations) + len(self.data)


def is_graph(doc: dict) -> bool:
    """Whether a parsed problem file is a computational graph (it has a ``[graph]`` table)."""
    return isinstance(doc, dict) and "graph" in doc


def graph_from_dict(doc: dict, source: str = "graph") -> GraphProblem:
    """Validate a parsed graph problem file: one line naming the field for anything unusable."""
    with located(source):
        return _graph_from_dict(doc, source)


def _graph_from_dict(doc: dict, source: str) -> GraphProblem:
    reading.check_sections(doc, _SECTIONS, " of a graph problem")
    graph, data = doc.get("graph", {}), doc.get("data", {})
    if not graph:
        raise ProblemError("graph", 'expected at least one equation, like q = "x + y"')
    if len(graph) > MAX_EQUATIONS:
        raise ProblemError("graph", f"expected at most {MAX_EQUATIONS} equations, got {len(graph)}")
    if len(data) > MAX_DATA:
        raise ProblemError("data", f"expected at most {MAX_DATA} names, got {len(data)}")
    names: dict = {}
    values = []
    for name, v in data.items():
        _check_name(name, f"data.{reading.name(name)}", names)
        values.append((name, reading.parse_number(v, f"data.{name}")))
        names[name] = Symbol(name, real=True)
    equations = []
    for name, text in graph.items():
        where = f"graph.{reading.name(name)}"
        _check_name(name, where, names)
        parse(text, names, where)  # every equation reads: names before it only
        equations.append((name, text))
        names[name] = Symbol(name, real=True)
    title = doc.get("worksheet", {}).get("title", "")
    if not isinstance(title, str) or "\n" in title or len(title) > MAX_TITLE:
        raise ProblemError("worksheet.title", f"expected one line of at most {MAX_TITLE} characters, got {reading.quote(title)}")
    return GraphProblem(tuple(equations), tuple(values), source, title)


def _check_name(name: str, where: str, taken: dict) -> None:
    if not _NAME.fullmatch(name):
        raise ProblemError(where, "expected a name of ASCII letters, digits and _ (at most 16, a letter first), got "
                                  f"{reading.quote(name)}")
    if name in RESERVED:
        raise ProblemError(where, f"expected a name that is not a function or a constant ({', '.join(sorted(RESERVED))}), "
                                  f"got {name!r}")
    if name in taken:
        raise ProblemError(where, f"{name!r} is defined twice (each name once: data, then equations)")


def load_graph(path: str | Path) -> GraphProblem:
    """Read a graph problem file (bounded as every problem file: :func:`reading.read_toml`)."""
    return graph_from_dict(reading.read_toml(path), reading.path_text(path))


def problem_any_from_bytes(data: bytes, path: str | Path):
    """The problem of either kind in a file's bytes already read (``path`` names it in messages): a graph, or
    a network as :func:`~derivations.engine.problem.problem_from_bytes` reads it."""
    path = Path(path)
    doc = reading.parse_toml(data, reading.path_text(path), "problem")
    source = "handout" if path == HANDOUT else reading.path_text(path)
    return graph_from_dict(doc, source) if is_graph(doc) else problem_from_dict(doc, source)


def evaluate_any(problem):
    """The values of a problem of either kind: a graph's :class:`Graph`, a network's
    :func:`~derivations.engine.values.evaluate` (each page, PDF and self-check page takes either)."""
    return Graph(problem) if isinstance(problem, GraphProblem) else evaluate(problem)


def load_any(path: str | Path | None = None):
    """A problem file of either kind: a computational graph (``[graph]``) or a network (the handout's with no
    path)."""
    path = HANDOUT if path is None else Path(path)
    doc = reading.read_toml(path)
    source = "handout" if path == HANDOUT else reading.path_text(path)
    return graph_from_dict(doc, source) if is_graph(doc) else problem_from_dict(doc, source)


# -- the derivation --------------------------------------------------------------------------------------


class Graph:
    """The derivation of a graph: every equation's expression in the names' symbols, each edge's local
    derivative, the gradient of the output with respect to every name (as a formula in the gradients of the
    names that use it, and as a value), every value exact."""

    def __init__(self, problem: GraphProblem):
        self.problem = p = problem
        self.symbol = {n: Symbol(n, real=True) for n in p.names}
        self.data = dict(p.data)
        self.exprs = {}
        for name, text in p.equations:
            self.exprs[name] = parse(text, {n: self.symbol[n] for n in list(self.data) + list(self.exprs)}, f"graph.{name}")
        self.equations = [n for n, _ in p.equations]
        self.output = p.output
        self.users = {n: [u for u in self.equations if self.symbol[n] in self.exprs[u].free_symbols] for n in p.names}
        # ∂u/∂v for every edge v -> u, in the names' symbols
        self.local = {(u, v): self.exprs[u].diff(self.symbol[v]) for u in self.equations for v in p.names
                      if self.symbol[v] in self.exprs[u].free_symbols}
        self.grad_symbol = {n: Symbol(f"∂{self.output}/∂{n}", real=True) for n in p.names}
        # ∇v = Σ over the users u of ∇u · ∂u/∂v (the output's own: 1)
        self.grad_def = {self.output: Integer(1)}
        for v in reversed(p.names):
            if v != self.output:
                self.grad_def[v] = Add(*(self.grad_symbol[u] * self.local[(u, v)] for u in self.users[v]))
        self._defined()

    def _defined(self) -> None:
        """One line, before anything is printed, for a value or gradient the data leave undefined: ``x / y`` at
        y = 0, ``log(x)`` or ``sqrt(x)`` of a negative x, ``sqrt(x)``'s slope at 0 (read off the decimals,
        equation by equation: a deep graph's exact forms repeat each other, and a walk over one is exponential);
        and for a ``max`` or ``min`` whose arguments tie at the data: its slope is not one number there (the page
        would read 1_(x − y > 0) = 0 beside SymPy's ½; variants keep ties 0.1 apart)."""
        self.decimals  # noqa: B018 (computed here, so that a problem's mistake is found before any output)
        exact = {self.symbol[m]: self.value[m] for m in self.problem.names if self.value[m].is_Rational}
        for n in self.equations:
            for f in self.exprs[n].atoms(Max, Min):
                args = [a.xreplace(exact) for a in f.args]
                if any(a.is_Rational and a == b for k, a in enumerate(args) for b in args[k + 1:]):
                    raise ProblemError(f"graph.{n}", f"expected the arguments of {type(f).__name__.lower()} apart at the "
                                                     f"data, but they tie there ({' = '.join(map(str, f.args))} = {args[0]}): "
                                                     "its slope is not one number at a tie; change the data",
                                       self.problem.source)

    def _undefined_at(self, n: str, exact: Expr, decimal: Expr, gradient: bool = False) -> None:
        why = _undefined(decimal) or (_undefined(exact) if exact in _NOT_REAL else "")
        if not why:
            return
        if gradient:
            raise ProblemError(f"graph.{n}", f"expected a real gradient at the data, but ∂{self.output}/∂{n} is "
                                             f"{why} there", self.problem.source)
        raise ProblemError(f"graph.{n}", f"expected a real value at the data, but {dict(self.problem.equations)[n]} "
                                         f"is {why} there", self.problem.source)

    def at(self, data) -> "Graph":
        """The same graph at other data values ``((name, value), ...)``: the equations read and differentiated
        once, for every variant of a set."""
        g = copy.copy(self)
        g.problem = replace(self.problem, data=tuple(data))
        g.data = dict(data)
        for cached in ("value", "gradient", "decimals"):
            g.__dict__.pop(cached, None)
        return g

    @cached_property
    def value(self) -> dict:
        """Every name's value, exact (rational where it is; else its exact form)."""
        out = dict(self.data)
        env = {self.symbol[n]: v for n, v in self.data.items()}
        for n in self.equations:
            out[n] = env[self.symbol[n]] = _exact(self.exprs[n], env)
        return out

    @cached_property
    def gradient(self) -> dict:
        """The gradient of the output with respect to every name, exact, by the backward accumulation."""
        env = {self.symbol[n]: v for n, v in self.value.items()}
        out = {}
        for v in [self.output] + [n for n in reversed(self.problem.names) if n != self.output]:
            out[v] = _exact(self.grad_def[v], {**env, **{self.grad_symbol[u]: out[u] for u in self.users[v]}})
        return out

    def exact(self, expr: Expr) -> Expr:
        """``expr`` (in the names' symbols: a local derivative) at the graph's exact values (kept as written where
        an input's form is large, as :attr:`value`'s)."""
        return _exact(expr, {self.symbol[n]: v for n, v in self.value.items()})

    @cached_property
    def decimals(self) -> dict:
        """Every name's value and gradient as a decimal, ``{exact value: Float}``, computed equation by equation
        from the decimals before it at :data:`DIGITS` + :data:`GUARD` digits (an exact form of a deep graph
        repeats its inputs' forms: evaluated whole, its work doubles with each layer)."""
        work = DIGITS + GUARD
        env = {self.symbol[n]: Float(v, work) for n, v in self.data.items()}
        for n in self.equations:
            env[self.symbol[n]] = self.exprs[n].xreplace(env).evalf(work)
            self._undefined_at(n, self.value[n], env[self.symbol[n]])
        grads = {self.grad_symbol[self.output]: Float(1, work)}
        for v in [n for n in reversed(self.problem.names) if n != self.output]:
            grads[self.grad_symbol[v]] = self.grad_def[v].xreplace({**env, **grads}).evalf(work)
            self._undefined_at(v, self.gradient[v], grads[self.grad_symbol[v]], gradient=True)
        out = {self.value[n]: env[self.symbol[n]] for n in self.equations}
        out.update({self.gradient[v]: grads[self.grad_symbol[v]] for v in self.problem.names})
        return {k: Float(f, DIGITS) for k, f in out.items() if not k.is_Rational}

    def decimal(self, exact: Expr) -> Float:
        """A value of the graph to :data:`DIGITS` digits (as :meth:`Values.decimal
        <derivations.engine.values.Values.decimal>`: the page's numbers ask either), from :attr:`decimals`.

        >>> g = Graph(graph_from_dict({"graph": {"f": "sigmoid(x)"}, "data": {"x": 1}}))
        >>> str(g.decimal(g.value["f"]))[:8], g.decimal(g.gradient["x"]) > 0
        ('0.731058', True)
        """
        if exact.is_Rational:
            return Float(exact, DIGITS)
        found = self.decimals.get(exact)
        return found if found is not None else exact.evalf(DIGITS)

    def keys(self) -> list:
        """The answer keys: ``forward.NAME`` for every equation, then ``grad.NAME`` backwards (the equations from
        the last, but the output; then the data)."""
        return ([f"forward.{n}" for n in self.equations] + [f"grad.{n}" for n in reversed(self.equations) if n != self.output]
                + [f"grad.{n}" for n in self.data])

    def lookup(self, key: str) -> Expr:
        group, _, name = key.partition(".")
        if group == "forward" and name in self.exprs:
            return self.value[name]
        if group == "grad" and name in self.grad_def and name != self.output:
            return self.gradient[name]
        raise ProblemError("key", f"expected forward.NAME (an equation) or grad.NAME (a name but the output {self.output}), "
                                  f"got {reading.quote(key, 60)}")

    def branches(self) -> list:
        """The names used more than once (by several equations, or twice in one as it is typed: ``x*x + x``,
        not ``r^2``, a square's one input): their gradients add."""
        text = dict(self.problem.equations)
        out = []
        for v in self.problem.names:
            uses = sum(len(re.findall(rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])", text[u])) for u in self.users[v])
            if uses > 1:
                out.append(v)
        return out

    @cached_property
    def upstream(self) -> dict:
        """Every name's set of the names it depends on (its inputs, theirs, ...); a data name's is empty."""
        out = {n: set() for n in self.data}
        for n in self.equations:
            out[n] = set().union(*({w} | out[w] for w in self.problem.names if (n, w) in self.local))
        return out

    def held(self, u: str, v: str) -> list:
        """The other inputs of ``u``'s equation that depend on its input ``v``, in the names' order: its local
        derivative with respect to ``v`` holds them fixed though they move with ``v``, so it is not ``u``'s whole
        derivative with respect to ``v`` (none: the two are the same; none either where ``u`` does not use ``v``).

        >>> g = Graph(graph_from_dict({"graph": {"c": "exp(-b)", "f": "(b - z)^2/2 + log(c + 1)"},
        ...                            "data": {"b": 1, "z": 0}}))
        >>> g.held("f", "b"), g.held("f", "c"), g.held("f", "z"), g.held("c", "z")
        (['c'], [], [], [])
        """
        if (u, v) not in self.local:  # no edge, no local derivative
            return []
        return [w for w in self.problem.names if w != v and (u, w) in self.local and v in self.upstream[w]]


LARGE = 60  # nodes of an input's exact form past which a value's form is kept as written (not simplified)


_NOT_REAL = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity)  # an exact value found undefined (x / (y - y))


def _undefined(v: Expr) -> str:
    """Why the number ``v`` (a decimal, or an exact value of :data:`_NOT_REAL`) is no real number (``""``: it
    is one)."""
    if v.has(S.ComplexInfinity, S.Infinity, S.NegativeInfinity):
        return "infinite (a division by zero)"
    if v.has(S.NaN):
        return "undefined"
    if v.has(S.ImaginaryUnit):
        return "not a real number (a log or a square root of a negative number)"
    return ""


def _exact(expr: Expr, env: dict) -> Expr:
    """``expr`` at the exact values ``env``. Where an input's exact form is large (a deep graph of exp, σ, tanh:
    each layer repeats the forms before it), the form is kept as written: SymPy's automatic simplification
    asks the sign of every nested number, work that grows several-fold with each layer (18 s at six layers of
    ``σ(h)·tanh(h) + exp(h/4)``, 0.2 s kept as written); the decimals come from :attr:`Graph.decimals` either way."""
    inputs = [env[s] for s in expr.free_symbols if s in env]
    if any(nodes(v, LARGE) > LARGE for v in inputs):
        with sympy_evaluate(False):
            return _settled(expr.xreplace(env))
    return _settled(expr.xreplace(env))


def nodes(expr: Expr, limit: int) -> int:
    """Nodes of ``expr`` as printed (a shared part counted each time it appears), counted up to ``limit`` and a
    little past: enough to know it is large, without the work of printing it."""
    count, stack = 0, [expr]
    while stack and count <= limit:
        e = stack.pop()
        count += 1
        stack.extend(e.args)
    return count


def _settled(expr: Expr) -> Expr:
    """``expr`` with each kink (``relu`` and its step) of a constant argument settled by the argument's sign at
    50 digits: SymPy settles them at numbers only, and ``relu(sqrt(2) - 1)`` has an exact value too."""
    kinks, seen, stack = [], set(), [expr]  # each shared part once (``atoms`` walks the tree: 3ⁿ at n layers)
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (ReLU, relu_step)) and not e.args[0].free_symbols and not e.args[0].is_Number:
            kinks.append(e)
        stack.extend(e.args)
    settled = {}
    for f in kinks:
        arg = f.args[0].evalf(50)
        if arg.is_Number and arg != 0:
            settled[f] = type(f).settle(f.args[0], bool(arg > 0))
    return expr.xreplace(settled) if settled else expr
