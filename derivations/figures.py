"""Figures drawn from the derivation: the network with a weight's gradient paths, and training curves.

The network diagram is plain SVG written here (no external program): every weight an edge, and the edges
of a weight's paths (the same :meth:`Derivation.paths` the text shows) in colour, labelled with their
local derivatives at the problem's numbers.

>>> from derivations import evaluate, load_problem
>>> svg = network_svg(evaluate(load_problem()), "w_b21", colour="blue")
>>> svg.count('class="edge path"'), 'data-paths="2"' in svg
(5, True)
"""

from __future__ import annotations

import html
import io
import re

from .theorems import hidden_spread, random_draw, train
from .values import Values

COLOURS = {"red": "#d62728", "blue": "#1f77b4", "green": "#2ca02c", "orange": "#ff7f0e", "purple": "#9467bd"}
COLUMNS = ("x", "H", "L", "O", "Y", "loss")
_GREY = "#c8c8c8"


def _node_id(kind: str, k: int) -> str:
    return "loss" if kind == "loss" else f"{kind}{k + 1}"


def path_edges(values: Values, weight) -> dict:
    """The edges of every path from the loss to ``weight``, each with its local derivative (exact value)
    and the LaTeX-free text of its factor: ``{("Y1", "O2"): (value, "∂Y_1/∂O_2"), ...}``."""
    d = values.derivation
    w = d.weight(weight)
    edges = {}
    for path in d.paths(w):
        ids = [_node_id(kind, k) for kind, k in path.nodes]
        tail = f"x{w.j + 1}" if w.layer == "a" else f"L{w.j + 1}"
        pairs = list(zip(ids, ids[1:])) + [(ids[-1], tail)]
        for pair, factor in zip(pairs, path.factors):
            edges[pair] = (values.value(factor), str(factor))
    return edges


def network_svg(values: Values, weight=None, colour: str = "red", labels: bool = True, digits: int = 3,
                answers: bool = True) -> str:
    """The problem's network, left to right, as an SVG document; ``weight``'s paths highlighted.
    ``answers=False`` (a worksheet): no edge labels and no value tooltips."""
    from .solution import Notation

    p = values.problem
    sizes = {"x": p.n_in, "H": p.n_hidden, "L": p.n_hidden, "O": p.n_out, "Y": p.n_out, "loss": 1}
    tallest = max(sizes.values())
    gap = 56 if tallest <= 8 else 36
    radius = 17 if tallest <= 8 else 12
    width, top = 130 * len(COLUMNS) + 40, 40
    height = top * 2 + gap * (tallest - 1) + 20
    pos = {}
    for c, kind in enumerate(COLUMNS):
        n = sizes[kind]
        x = 60 + 130 * c
        y0 = top + (tallest - n) * gap / 2
        for k in range(n):
            pos[_node_id(kind, k)] = (x, y0 + k * gap)

    edges = [(f"x{j + 1}", f"H{i + 1}") for i in range(p.n_hidden) for j in range(p.n_in)]
    edges += [(f"H{i + 1}", f"L{i + 1}") for i in range(p.n_hidden)]
    edges += [(f"L{j + 1}", f"O{i + 1}") for i in range(p.n_out) for j in range(p.n_hidden)]
    edges += [(f"O{m + 1}", f"Y{k + 1}") for k in range(p.n_out) for m in range(p.n_out)]
    edges += [(f"Y{k + 1}", "loss") for k in range(p.n_out)]

    lit, n_paths, title = {}, 0, "network"
    if weight is not None:
        w = values.derivation.weight(weight)
        n_paths = len(values.derivation.paths(w))
        lit = {tuple(sorted(pair)): v for pair, v in path_edges(values, w).items()}
        title = f"gradient paths of {w.name(values.derivation.symbols.wide)}"
    stroke = COLOURS.get(colour, colour)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="derivations-network" viewBox="0 0 {width} {height}" '
        f'width="{width}" style="max-width: 100%; height: auto" role="img" aria-label="{html.escape(title)}" '
        f'data-paths="{n_paths}" '
        'font-family="sans-serif" font-size="13">',
        f"<title>{html.escape(title)}</title>",
    ]
    for a, b in edges:  # grey first, so the coloured paths lie on top
        if tuple(sorted((a, b))) not in lit:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            out.append(f'<line class="edge" data-edge="{a}-{b}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                       f'stroke="{_GREY}" stroke-width="1"/>')
    notation = Notation(values, digits)
    column = {node: c for node, (x, _) in pos.items() for c in [int((x - 60) // 130)]}
    per_gap: dict = {}
    for a, b in lit:
        gap = min(column[a], column[b])
        per_gap[gap] = per_gap.get(gap, 0) + 1
    label_svg = []
    for a, b in edges:
        key = tuple(sorted((a, b)))
        if key not in lit:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        value, factor = lit[key]
        text = notation.num(value).text
        tip = f"<title>{html.escape(factor)} = {html.escape(text)}</title>" if answers else ""
        out.append(f'<line class="edge path" data-edge="{a}-{b}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                   f'stroke="{stroke}" stroke-width="3">{tip}</line>')
        # Beyond six coloured edges between two columns their labels would pile up: hover shows them.
        if labels and answers and per_gap[min(column[a], column[b])] <= 6:
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4
            w_ = 7.2 * len(text) + 6
            label_svg.append(
                f'<g class="label">{tip}'
                f'<rect x="{mx - w_ / 2:.1f}" y="{my - 11:.1f}" width="{w_:.1f}" height="15" rx="3" fill="white" '
                f'fill-opacity="0.9" stroke="{stroke}" stroke-width="0.5"/>'
                f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" font-size="11" fill="{stroke}">'
                f"{html.escape(text)}</text></g>"
            )
    for node, (x, y) in pos.items():
        kind, k = (node, "") if node == "loss" else (node[0], node[1:])
        on = any(node in pair for pair in lit)
        fill = "#ffffff" if not on else "#f4f4f4"
        edge = stroke if on else "#555555"
        text = "ℒ" if node == "loss" else f'{kind}<tspan baseline-shift="sub" font-size="9">{k}</tspan>'
        out.append(f'<g class="node" data-node="{node}"><circle cx="{x}" cy="{y}" r="{radius}" fill="{fill}" '
                   f'stroke="{edge}" stroke-width="{2 if on else 1}"/>'
                   f'<text x="{x}" y="{y + 4.5}" text-anchor="middle">{text}</text></g>')
    out += label_svg
    heads = {"x": "input x", "H": "H = W_a x", "L": "L = act(H)", "O": "O = W_b L", "Y": "Y = softmax(O)", "loss": "loss"}
    for c, kind in enumerate(COLUMNS):
        out.append(f'<text x="{60 + 130 * c}" y="{height - 8}" text-anchor="middle" font-size="11" '
                   f'fill="#666">{html.escape(heads[kind])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def training_curves(problem, steps: int = 300, lr=0.5, seed: int = 1) -> dict:
    """Gradient descent from the problem's init and from a seeded random init, with the engine's
    gradients: per step, the loss, each hidden unit's first incoming weight ``w^a_i1``, and the spread
    across hidden units (0 means the units are identical)."""
    rnd, used = random_draw(problem, seed)
    out = {"steps": steps, "lr": lr, "seed": used}
    for name, p in (("constant", problem), ("random", rnd)):
        h = train(p, steps, lr)
        out[name] = {
            "loss": [float(v) for v in h["loss"]],
            "hidden": [[float(W[i][0]) for W in h["W_a"]] for i in range(problem.n_hidden)],
            "spread": [max(hidden_spread(a, b)) for a, b in zip(h["W_a"], h["W_b"])],
        }
    return out


def training_svg(curves: dict) -> str:
    """The constant-vs-random figure: hidden units' weights (top) and the loss (bottom), as SVG."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "derivations"  # stable ids: the same figure, the same file
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 5.4), sharex=True, sharey="row", constrained_layout=True)
    for col, (name, title) in enumerate((("constant", "constant init (the handout)"),
                                         ("random", f"random init (seed {curves['seed']})"))):
        data = curves[name]
        steps = range(len(data["loss"]))
        for i, series in enumerate(data["hidden"]):
            axes[0, col].plot(steps, series, lw=2.2 - 0.35 * i, label=f"$w^a_{{{i + 1}1}}$")
        axes[0, col].set_title(title)
        axes[1, col].plot(steps, data["loss"], color="black")
        axes[1, col].set_xlabel("gradient-descent step")
    axes[0, 0].set_ylabel("weight from $x_1$ into hidden unit $i$")
    axes[1, 0].set_ylabel("loss")
    axes[0, 1].legend(loc="best", fontsize=8)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # Scale with the page: keep the viewBox, drop the fixed size.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 style="width: 100%; height: auto"', text, count=1)
