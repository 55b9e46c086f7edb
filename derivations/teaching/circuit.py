r"""A computational graph taught: its worked solution gate by gate, its marking and its slips.

>>> from derivations.engine.graph import Graph, graph_from_dict
>>> g = Graph(graph_from_dict({"graph": {"q": "x + y", "f": "q * z"}, "data": {"x": -2, "y": 5, "z": -4}}))
>>> print(solution_text(g).splitlines()[3])
  q = x + y = −2 + 5 = 3
>>> m = GraphMarking(g)
>>> m.order
['forward.q', 'forward.f', 'grad.q', 'grad.x', 'grad.y', 'grad.z']
>>> [m.true[k] for k in m.order]
[3, -12, -4, -4, -4, 3]

The slips made at gates (each a *world* of the marking, :mod:`derivations.teaching.marking`): a branch's
gradients not added (one path only), a subtraction's second input without its minus sign, a product's local
derivative taken as the factor itself instead of the other factor, and a gate's local derivative left out.
"""

from __future__ import annotations

import json
from functools import cached_property

from sympy import Add, Expr, Integer, Mul, Rational, Symbol

from ..engine.graph import Graph, nodes
from sympy.core.parameters import evaluate

from ..notation.printing import Num, decimal_text, tex, text
from .marking import Marking, World
from .mistakes import ONE_PATH, Mistake

DIGITS = 6


# -- the slips at gates -------------------------------------------------------------------------------------------

SUBTRACTION = Mistake(
    "subtraction-sign", "a subtraction's second input without its minus sign (∂(a − b)/∂b taken as +1)",
    "For u = a − b, raising b lowers u: ∂u/∂b = −1, so the gradient that reaches b is −∇u.",
    "Write the local derivative of each input before multiplying: the one after a minus is −1.")
PRODUCT = Mistake(
    "product-local-own", "a product's local derivative taken as the factor itself (∂(a·b)/∂a as a, not b)",
    "For u = a·b, ∂u/∂a is the other factor b: a change of a is multiplied by b.",
    "Each input of a product gets the upstream gradient times the other input.")
DROPPED = Mistake(
    "local-derivative-dropped", "a gate's local derivative left out (the upstream gradient passed on unchanged)",
    "Going back through a gate multiplies the upstream gradient by the gate's own local derivative.",
    "For each gate: upstream gradient × local derivative (exp: e^x, σ: σ(1 − σ), a product: the other factor).")
BRANCH = Mistake(
    ONE_PATH, "a branch's gradients not added (one use of the value only)",
    "A value used in several places receives a gradient from each use: they add (the multivariable chain rule).",
    "List every use of the value and add the gradients that come back along each.")


def graph_slips(graph: Graph) -> list:
    return [SUBTRACTION, PRODUCT, DROPPED, BRANCH]


# -- the marking ---------------------------------------------------------------------------------------------------


class GraphMarking(Marking):
    """The marking of a graph: ``forward.NAME`` is the equation, ``grad.NAME`` the sum over the name's users of
    their gradient times the edge's local derivative; the blanks forward in the equations' order, then backward."""

    def __init__(self, graph: Graph, slips: list | None = None, order: list | None = None):
        self.graph = g = graph
        sym, defs = {}, {}
        for n in g.equations:
            sym[f"forward.{n}"] = g.symbol[n]
            defs[g.symbol[n]] = g.exprs[n]
        defs[g.grad_symbol[g.output]] = Integer(1)
        for key in g.keys():
            if key.startswith("grad."):
                sym[key] = g.grad_symbol[key[5:]]
                defs[sym[key]] = g.grad_def[key[5:]]
        leaves = {g.symbol[n]: v for n, v in g.data.items()}
        self._assemble(g.problem, g, dict(sym), defs, sym, leaves, order,
                       graph_slips(g) if slips is None else slips, {})

    def _edge_worlds(self, mistake: Mistake, change) -> World | None:
        """A world where each edge's local derivative that ``change(u, v, local)`` rewrites (not None) is so."""
        g, over = self.graph, {}
        for v in g.problem.names:
            if v == g.output or v not in g.grad_def:
                continue
            terms, changed = [], False
            for u in g.users[v]:
                local = g.local[(u, v)]
                new = change(u, v, local)
                changed |= new is not None and new != local
                terms.append(g.grad_symbol[u] * (local if new is None else new))
            if changed:
                over[g.grad_symbol[v]] = Add(*terms)
        return self.world(mistake, over) if over else None

    @cached_property
    def worlds(self) -> list:
        """One world per gate slip that changes some edge of this graph."""
        g, out = self.graph, []
        for m in self.slips:
            w = None
            if m is SUBTRACTION:
                w = self._edge_worlds(m, lambda u, v, local: -local if local.is_Number and local < 0 else None)
            elif m is PRODUCT:
                def own(u, v, local):
                    e = g.exprs[u]
                    if isinstance(e, Mul) and g.symbol[v] in e.args and len(e.args) == 2:
                        return g.symbol[v]
                    return None
                w = self._edge_worlds(m, own)
            elif m is DROPPED:
                w = self._edge_worlds(m, lambda u, v, local: Integer(1) if not local.is_Number else None)
            if w is not None:
                out.append(w)
        return out

    def alternatives(self, s: Symbol) -> list:
        """One use only: a term of a gradient's sum over the name's uses."""
        e = self.defs.get(s)
        key = self.key_of.get(s, "")
        if not key.startswith("grad."):
            return []
        if isinstance(e, Add) and len(e.args) > 1:  # several users
            return list(e.args)
        v = key[5:]
        uses = self.graph.users.get(v, [])
        if len(uses) == 1:  # one user, the value used there more than once: a term of the local derivative
            local = self.graph.local[(uses[0], v)]
            if isinstance(local, Add) and len(local.args) > 1:
                return [self.graph.grad_symbol[uses[0]] * t for t in local.args]
        return []


# -- the local derivatives' symbols --------------------------------------------------------------------------------


def held(graph: Graph, u: str, v: str) -> list:
    """The names ``u``'s local derivative with respect to ``v`` is written holding fixed: the output's only (its
    ``∂f/∂v`` is the gradient's symbol too), and only those that move with ``v`` (:meth:`Graph.held`); none
    where nothing moves, the local derivative and the gradient then being one thing, under one symbol.

    >>> from derivations.engine.graph import graph_from_dict
    >>> g = Graph(graph_from_dict({"graph": {"a": "x*y", "b": "a + x", "c": "exp(-b)",
    ...                                      "f": "(b - z)^2/2 + log(c + 1)"}, "data": {"x": 1, "y": 2, "z": 3}}))
    >>> held(g, "f", "b"), held(g, "f", "c"), held(g, "b", "x")
    (['c'], [], [])
    >>> local_symbol(g, "f", "b"), local_symbol(g, "f", "z"), local_symbol(g, "c", "b")
    ('(∂f/∂b)_c', '∂f/∂z', '∂c/∂b')
    """
    return graph.held(u, v) if u == graph.output else []


def local_symbol(graph: Graph, u: str, v: str) -> str:
    """``∂c/∂b``; the output's ``(∂f/∂b)_c`` where it holds fixed a name that moves with ``b`` (:func:`held`)."""
    fixed = held(graph, u, v)
    if not fixed:
        return f"∂{u}/∂{v}"
    return f"(∂{u}/∂{v})_" + (fixed[0] if len(fixed) == 1 and "_" not in fixed[0] else f"({', '.join(fixed)})")


def held_note(graph: Graph, v: str, local, gradient, name) -> list:
    """The sentence that tells the output's local derivative with respect to ``v`` from the gradient, as parts
    (``local``, ``gradient``: the two symbols; ``name(n)``: a name), for the solution's text and the page's math:
    ``(∂f/∂b)_c is the local derivative of f's equation with c held fixed; the gradient ∂f/∂b also counts b's effect
    through c.``"""
    fixed, both = held(graph, graph.output, v), []
    for k, n in enumerate(fixed):  # c; b and c; a, b and c
        both += ([" and " if k == len(fixed) - 1 else ", "] if k else []) + [name(n)]
    return [local, " is the local derivative of ", name(graph.output), "'s equation with ", *both, " held fixed; the "
            "gradient ", gradient, " also counts ", name(v), "'s effect through ", *both, "."]


# -- the worked solution -------------------------------------------------------------------------------------------


def number(v, digits: int = DIGITS) -> str:
    """A value as the solution writes it: its exact decimal, its fraction, or ``≈`` a decimal (``v`` a rational
    or a decimal: :func:`_at` gives either)."""
    v = Rational(v) if isinstance(v, int) else v
    if v.is_Rational:
        d = decimal_text(v)
        return (d if d is not None else str(v)).replace("-", "−")
    return "≈ " + f"{float(v):.{digits}g}".replace("-", "−")


def _at(g: Graph, expr: Expr):
    """``expr`` (in the names' symbols, or a value of the graph) at the graph's values: exact where it is
    rational, else a decimal from each name's decimal (:meth:`Graph.decimal`): an exact form of a deep graph
    repeats its inputs' forms, and evaluating it whole takes work that doubles with each layer."""
    if expr.is_Rational:
        return expr
    if expr in g.decimals:  # a value of the graph (its exact form may be large: never walked)
        return g.decimals[expr]
    inputs = {s: g.value[n] for n, s in g.symbol.items() if s in expr.free_symbols}
    if all(v.is_Rational for v in inputs.values()):
        return expr.xreplace(inputs)  # rational arithmetic: exact, and cheap
    return expr.xreplace({s: g.decimal(g.value[n]) for n, s in g.symbol.items() if s in expr.free_symbols}).evalf(DIGITS + 5)


def _plugged(g: Graph, expr: Expr) -> str:
    """The expression with each name replaced by its value, as the handout writes a step: ``−2 + 5``."""
    with evaluate(False):
        shown = expr.xreplace({s: Num(v, number(_at(g, v)).lstrip("≈ "), exact=v.is_Rational)
                               for s, v in ((g.symbol[n], v) for n, v in g.value.items()) if s in expr.free_symbols})
    return text(shown)


def _eq(line: str) -> str:
    """``= ≈ 0.73`` reads ``≈ 0.73``."""
    return line.replace("= ≈", "≈")


def solution_text(graph: Graph, markdown: bool = False) -> str:
    """The worked solution, gate by gate: forward, then backward from the output, local derivatives written
    out (the output's as :func:`local_symbol` writes it, told from the gradient), a branch's gradients added with
    a sentence saying why."""
    g = graph
    val = g.value
    lines = []
    title = g.problem.title or "Computational graph"
    lines.append(f"# {title}" if markdown else title)
    lines.append("")
    data = ", ".join(f"{n} = {number(v)}" for n, v in g.data.items())  # read exactly: rational
    lines.append(("**Forward**" if markdown else "Forward") + f" (data: {data}):")
    for n in g.equations:
        e = g.exprs[n]
        step, shown = _plugged(g, e), number(_at(g, val[n]))
        lines.append(_eq(f"  {n} = {text(e)}" + (f" = {step}" if step not in (text(e), shown) else "") + f" = {shown}"))
    lines.append("")
    out = g.output
    lines.append(("**Backward**" if markdown else "Backward") + f" (from {out}, in reverse order; ∂{out}/∂{out} = 1):")
    grads = g.gradient
    branches = set(g.branches())

    def shown_local(u, v):  # Markdown: (∂f/∂b)\_c, its _ never an emphasis that a later (∂f/∂x)_(a, b) closes
        shown = local_symbol(g, u, v)
        return shown.replace(")_", ")\\_") if markdown else shown

    for key in g.keys():
        if not key.startswith("grad."):
            continue
        v = key[5:]
        terms = []
        for u in g.users[v]:
            local = g.local[(u, v)]
            terms.append((u, local))
        formula = " + ".join(f"∂{out}/∂{u}·{shown_local(u, v)}" for u, _ in terms)
        locals_ = ", ".join(f"{shown_local(u, v)} = {text(local)}"
                            + (f" = {number(_at(g, local))}" if local.free_symbols else "") for u, local in terms)
        numbers = " + ".join(f"({number(_at(g, grads[u]))})·({number(_at(g, local))})" for u, local in terms)
        lines.append(_eq(f"  ∂{out}/∂{v} = {formula} = {numbers} = {number(_at(g, grads[v]))}"))
        lines.append(_eq(f"      local: {locals_}"))
        if held(g, out, v):
            lines.append("      " + "".join(held_note(g, v, shown_local(out, v), f"∂{out}/∂{v}", str)))
        if v in branches:
            uses = ", ".join(g.users[v])
            lines.append(f"      {v} is used more than once (in {uses}): the gradients of its uses add (the chain rule "
                         "sums at branches).")
    return "\n".join(lines) + "\n"


LATEX_NODES = 200  # an exact form of more nodes than this has no LaTeX in the JSON


def graph_json(graph: Graph) -> str:
    """The graph's values as JSON: ``forward``, ``grad`` and ``local`` (each edge), exact and decimal."""
    g = graph

    def entry(v, expr=None, decimal=None):
        v = Rational(v) if isinstance(v, int) else v
        small = nodes(v, LATEX_NODES) <= LATEX_NODES  # a deep graph's exact form is left out, as a network's
        decimal = _at(g, v) if decimal is None else decimal
        out = {"exact": str(v) if v.is_Rational else None, "decimal": f"{float(decimal):.17g}",
               "latex": tex(v) if small else None}
        if expr is not None:
            out["formula"] = text(expr)
        return out

    def local_entry(local):  # its decimal from the names' decimals, never from its exact form
        v = _at(g, local)
        return entry(v if v.is_Rational else g.exact(local), local, v)

    data = {
        "kind": "graph",
        "output": g.output,
        "data": {n: entry(v) for n, v in g.data.items()},
        "forward": {n: entry(g.value[n], g.exprs[n]) for n in g.equations},
        "grad": {k[5:]: entry(g.gradient[k[5:]], g.grad_def[k[5:]]) for k in g.keys() if k.startswith("grad.")},
        "local": {f"d{u}_d{v}": local_entry(local) for (u, v), local in g.local.items()},
        "branches": g.branches(),
    }
    return json.dumps(data, indent=2, ensure_ascii=False)
