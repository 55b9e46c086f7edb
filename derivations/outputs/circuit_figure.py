r"""The circuit of a computational graph, drawn as the lectures draw it: gates left to right, each wire's forward
value above it and its gradient below.

Plain SVG written here, deterministic (the same graph gives the same bytes). Each data name is a wire's start,
each equation a gate (a circle with its operation: ``+``, ``−``, ``×``, ``σ``, … of names, ``⋯`` for a compound,
whose equation the page writes; its name under it); a name's wire
leaves its node with the name's value above and the output's gradient with respect to it below, then branches
to every gate that uses it. On a worksheet (``answers=False``) every derived number is an empty box: only the
data's values (given) and the output's own gradient, 1, are written. Every name is escaped.

>>> from derivations.engine.graph import Graph, graph_from_dict
>>> g = Graph(graph_from_dict({"graph": {"q": "x + y", "f": "q * z"}, "data": {"x": -2, "y": 5, "z": -4}}))
>>> svg = circuit_svg(g)
>>> svg.count('class="gate"'), svg.count('class="wire"'), ">−12<" in svg, ">−12<" in circuit_svg(g, answers=False)
(2, 5, True, False)
"""

from __future__ import annotations

import html
import math

from sympy import Add, Function, Max, Min, Mul, Pow, exp, log, tanh

from ..engine.expression import sigmoid
from ..engine.graph import Graph
from ..engine.ops import ReLU
from ..teaching.circuit import GraphMarking
from ..teaching.numbers import Notation
from .figures import network_svg, text_width

STEP = 190  # between two columns of gates
ROW = 72  # between two wires of a column
RADIUS = 18
STUB = 104  # a wire's labelled length, before it branches
BOX = (58, 17)  # a blank's box on the worksheet
VALUE, GRADIENT = "#1b7a2e", "#b3261e"  # the lectures' colours: forward green, backward red
_FONT = 13


def gate_symbol(expr) -> str:
    """The operation a gate draws: ``+`` for a sum of names, ``−`` for a difference of two, ``×`` for a product,
    ``σ``, ``exp``, … of a name; ``⋯`` for anything else, a compound (its equation is written on the page, step by
    step): ``r^2 + lam*w^2`` drawn as a ``+`` fed by r, w and lam would read as r + w + lam (not ``f``: often a
    name of the graph's own).

    >>> from sympy import Symbol
    >>> x, y = Symbol("x"), Symbol("y")
    >>> gate_symbol(x + y), gate_symbol(x * y), gate_symbol(sigmoid(x)), gate_symbol(y - x)
    ('+', '×', 'σ', '−')
    >>> gate_symbol(x ** 2 + y), gate_symbol(x * y + 3), gate_symbol(exp(-x))
    ('⋯', '⋯', '⋯')
    """
    def plain(a) -> bool:  # a name or a number: what a gate's wire carries
        return a.is_Symbol or a.is_Number

    if isinstance(expr, Add):
        if all(plain(a) for a in expr.args):
            return "+"
        negated = [a for a in expr.args if a.could_extract_minus_sign() and plain(-a)]
        return "−" if len(expr.args) == 2 and len(negated) == 1 and all(plain(a) or a in negated for a in expr.args) else "⋯"
    for kind, symbol in ((Mul, "×"), (sigmoid, "σ"), (exp, "exp"), (log, "ln"), (tanh, "tanh"), (ReLU, "relu"),
                         (Max, "max"), (Min, "min")):
        if isinstance(expr, kind):
            return symbol if all(plain(a) for a in expr.args) else "⋯"
    if isinstance(expr, Pow) and plain(expr.base) and expr.exp.is_Number:
        return "÷" if expr.exp == -1 else "√" if expr.exp == Pow(2, -1) else "^"
    return "⋯" if isinstance(expr, Function) or expr.free_symbols else "c"


def figure_svg(values, figure, answers: bool = True, labels: bool = True, digits: int = 3) -> str:
    """A page's :class:`~derivations.teaching.page.Figure` drawn, for every writer of a page: a graph's circuit
    (:func:`circuit_svg`), else the network with the figure's parameter's gradient paths
    (:func:`~derivations.outputs.figures.network_svg`); ``answers=False`` (a worksheet): no derived value in it."""
    if isinstance(values, Graph):
        return circuit_svg(values, answers=answers)
    return network_svg(values, figure.weight, figure.colour, labels, digits, answers=answers)


def _columns(graph) -> dict:
    """Each name's column: the data at 0, an equation one past the furthest of its inputs."""
    col = {n: 0 for n in graph.data}
    for n in graph.equations:
        ins = [v for v in graph.problem.names if (n, v) in graph.local]
        col[n] = 1 + max((col[v] for v in ins), default=0)
    return col


def _positions(g, col: dict, inputs: dict) -> dict:
    """Each name's node: its column's x; the data one under the other, a gate level with the middle of its
    inputs, pushed down until it is a row clear of the node above it."""
    pos = {}
    for c in range(max(col.values()) + 1):
        names = [n for n in g.problem.names if col[n] == c]
        wanted = [(44 + ROW * k if n in g.data else sum(pos[v][1] for v in inputs[n]) / max(len(inputs[n]), 1) or 44, k)
                  for k, n in enumerate(names)]
        last = None
        for y, k in sorted(wanted):
            y = max(y, 44) if last is None else max(y, last + ROW)
            pos[names[k]] = (70 + STEP * c, round(y, 1))
            last = y
    return pos


def _number(notation, v) -> str:
    return notation.num(v).shown


def circuit_svg(graph, answers: bool = True, digits: int = 4) -> str:
    """The graph's circuit as an SVG document; ``answers=False`` (a worksheet): every derived number an empty
    box."""
    g, n = graph, Notation(graph, digits)
    col = _columns(g)
    inputs = {u: [v for v in g.problem.names if (u, v) in g.local] for u in g.equations}
    pos = _positions(g, col, inputs)
    width = 70 + STEP * max(col.values()) + RADIUS + STUB + 20
    height = max(y for _, y in pos.values()) + 50 + (ROW // 2 if any(col[u] > col[v] + 1 for u, v in g.local) else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="derivations-circuit" viewBox="0 0 {width} {height}" '
           f'width="{width}" style="max-width: 100%; height: auto" role="img" '
           f'aria-label="{html.escape(_title(g))}" font-family="sans-serif" font-size="{_FONT}">',
           f"<title>{html.escape(_title(g))}</title>"]
    for v in g.problem.names:  # each wire: its stub, labelled, then a branch to every gate that uses it
        x, y = pos[v]
        start = x + (RADIUS if v in g.exprs else 10)
        end = start + STUB
        out.append(f'<g class="wire" data-name="{html.escape(v)}">')
        out.append(f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" stroke="#333" stroke-width="1.5"/>')
        for u in g.users[v]:
            ux, uy = pos[u]
            k, m = inputs[u].index(v), len(inputs[u])
            turn = math.radians((k - (m - 1) / 2) * min(30, 120 / max(m - 1, 1)))  # a gate's inputs side by side
            tx, ty = ux - RADIUS * math.cos(turn), uy + RADIUS * math.sin(turn)
            if col[u] > col[v] + 1:  # past the gates between: along a lane under both rows
                lane = max(y, uy) + 44 + 5 * k
                route = (f"C {end + 30} {y} {end + 30} {lane:g} {end + 60} {lane:g} L {tx - 60:.1f} {lane:g} "
                         f"C {tx - 30:.1f} {lane:g} {tx - 30:.1f} {ty:.1f} {tx:.1f} {ty:.1f}")
            else:
                route = f"C {end + 30} {y} {tx - 30:.1f} {ty:.1f} {tx:.1f} {ty:.1f}"
            out.append(f'<path d="M {end} {y} {route}" fill="none" stroke="#333" stroke-width="1.5"/>')
        mid = (start + end) / 2
        given = v in g.data
        out.append(_label(mid, y - 7, _number(n, g.value[v]), VALUE, answers or given, "wire-value"))
        out.append(_label(mid, y + 19, _number(n, g.gradient[v]), GRADIENT, answers or v == g.output, "wire-gradient"))
        out.append("</g>")
    for v in g.problem.names:
        x, y = pos[v]
        if v in g.exprs:
            out.append(f'<g class="gate" data-name="{html.escape(v)}"><circle cx="{x}" cy="{y}" r="{RADIUS}" '
                       f'fill="#fff" stroke="#333" stroke-width="1.5"/>'
                       f'<text x="{x}" y="{y + 4.5}" text-anchor="middle">{html.escape(gate_symbol(g.exprs[v]))}</text>'
                       f'<text x="{x}" y="{y + RADIUS + 15}" text-anchor="middle" font-style="italic">'
                       f'{html.escape(v)}</text></g>')
        else:
            out.append(f'<text class="input" x="{x + 4}" y="{y + 4.5}" text-anchor="end" font-style="italic">'
                       f'{html.escape(v)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _title(g) -> str:
    return f"the circuit of {g.output}: forward values above each wire, gradients below"


def _label(x: float, y: float, shown: str, colour: str, filled: bool, kind: str) -> str:
    """A wire's number, or on a worksheet an empty box where the student writes it."""
    if filled:
        w = text_width(shown, 12)
        return (f'<text class="{kind}" x="{x:g}" y="{y:g}" text-anchor="middle" font-size="12" fill="{colour}"'
                f' textLength="{w:.1f}" lengthAdjust="spacingAndGlyphs">{html.escape(shown)}</text>'
                if w > STUB - 6 else
                f'<text class="{kind}" x="{x:g}" y="{y:g}" text-anchor="middle" font-size="12" fill="{colour}">'
                f'{html.escape(shown)}</text>')
    bw, bh = BOX
    return (f'<rect class="{kind} empty" x="{x - bw / 2:g}" y="{y - bh + 4:g}" width="{bw}" height="{bh}" rx="2" '
            f'fill="#fff" stroke="{colour}" stroke-width="1"/>')


def circuit_verdicts(graph) -> str:
    """The self-check page's circuit: a node per blank, each equation's value on its gate (``data-key="forward.q"``)
    and each name's gradient on its wire (``data-key="grad.x"``), in the marking's order, as
    :func:`~derivations.outputs.selfcheck.network_html` draws a network's (the page's script sets
    ``data-verdict``, the student's value and the first wrong one). No derived value is in it."""
    g = graph
    col = _columns(g)
    inputs = {u: [v for v in g.problem.names if (u, v) in g.local] for u in g.equations}
    pos = _positions(g, col, inputs)
    width = 70 + STEP * max(col.values()) + RADIUS + STUB + 20
    height = max(y for _, y in pos.values()) + 56
    title = f"your values on the circuit of {g.output}"
    out = [f'<svg class="verdicts" viewBox="0 0 {width} {height}" role="group" aria-label="{html.escape(title)}" '
           f'font-family="sans-serif" font-size="12">', f"<title>{html.escape(title)}</title>"]
    for v in g.problem.names:
        x, y = pos[v]
        end = x + (RADIUS if v in g.exprs else 10) + STUB
        out.append(f'<line x1="{x}" y1="{y}" x2="{end}" y2="{y}" stroke="#bbb"/>')
        out += [f'<line x1="{end}" y1="{y}" x2="{pos[u][0]}" y2="{pos[u][1]}" stroke="#bbb"/>' for u in g.users[v]]
        if v not in g.exprs:
            out.append(f'<text x="{x + 4}" y="{y + 4.5}" text-anchor="end" font-style="italic">{html.escape(v)}</text>')

    def node(key: str, x: float, y: float, label: str) -> str:
        return (f'<g class="qty" data-node="{html.escape(key)}" data-key="{html.escape(key)}"><circle cx="{x:g}" cy="{y:g}" '
                f'r="15"/><text x="{x:g}" y="{y + 4:g}" text-anchor="middle">{html.escape(label)}</text>'
                f'<text class="value" x="{x:g}" y="{y + 29:g}" text-anchor="middle" font-size="11"></text></g>')

    for key in GraphMarking(g).order:
        group, _, v = key.partition(".")
        x, y = pos[v]
        if group == "forward":
            out.append(node(key, x, y, v))
        else:
            out.append(node(key, x + (RADIUS if v in g.exprs else 10) + STUB / 2, y, f"∇{v}"))
    out.append("</svg>")
    return (f'<section class="network" aria-label="your values on the circuit"><h2>Your values on the circuit</h2>'
            f'<p>Each value you answer takes its verdict here, on its gate (forward) or its wire (∇, the gradient): '
            f'<span class="key correct">correct</span>, <span class="key follows">follows</span>, '
            f'<span class="key wrong">wrong</span>; the first wrong one (forward, then backward) is circled twice: that '
            f'is where your error entered.</p><div class="nets">{"".join(out)}</div></section>')
