"""Figures drawn from the derivation: the network with a parameter's gradient paths, and training curves.

The network diagram is plain SVG written here (no external program): every edge of the derivation's graph
(:meth:`Derivation.edges`), and the edges of a parameter's paths (the same :meth:`Derivation.paths` the text
shows) in colour, labelled with their local derivatives at the problem's numbers. A worksheet's diagram
(``answers=False``) carries no derived value at all: no labels and no tooltips.

>>> from derivations import evaluate, load_problem
>>> svg = network_svg(evaluate(load_problem()), "w_b21", colour="blue")
>>> svg.count('class="edge path"'), 'data-paths="2"' in svg
(5, True)
"""

from __future__ import annotations

import html
import io
import re

from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep
from ..engine.problem import Problem, weight_name
from ..engine.theorems import random_draw, symmetric
from ..engine.training import hidden_spread, train
from ..engine.values import Values
from ..notation.printing import text
from ..teaching.solution import Notation

#: The colours a page may name; anything else must be a strict ``#rgb`` / ``#rrggbb`` hex colour.
COLOURS = {"red": "#d62728", "blue": "#1f77b4", "green": "#2ca02c", "orange": "#ff7f0e", "purple": "#9467bd",
           "grey": "#7f7f7f", "gray": "#7f7f7f", "black": "#000000"}
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_GREY = "#c8c8c8"


def colour_value(colour: str) -> str:
    """The CSS colour for a name of :data:`COLOURS` or a strict hex colour; anything else is refused.

    >>> colour_value("red"), colour_value("#1F77B4")
    ('#d62728', '#1F77B4')
    """
    if colour in COLOURS:
        return COLOURS[colour]
    if isinstance(colour, str) and _HEX.fullmatch(colour):
        return colour
    shown = repr(colour) if len(str(colour)) <= 30 else repr(str(colour)[:29] + "…")
    raise ValueError(f"expected a colour: one of {', '.join(COLOURS)}, or #rgb / #rrggbb, got {shown}")


def _node_id(key: str, k: int) -> str:
    if key == "loss":
        return "loss"
    return f"{key}{k + 1}" if len(key) == 1 else f"{key}.{k + 1}"


def columns(values: Values) -> list:
    """The diagram's columns, left to right: ``x``, each hidden layer's ``H`` and ``L``, ``O``, ``Y``, the loss."""
    return ["x"] + values.derivation.symbols.keys + ["loss"]


def path_edges(values: Values, weight, sample: int = 0) -> dict:
    """The edges of every path from the loss to ``weight`` (one sample), each with its local derivative
    (exact value) and the text of its factor: ``{("Y1", "O2"): (value, "∂Y_1/∂O_2"), ...}``."""
    d = values.derivation
    w = d.param(weight)
    edges = {}
    for (a, j), (b, i), local in d.path_edges(w, sample):  # the loss side of each edge first, as the paths run
        edges[(_node_id(b, i), _node_id(a, j))] = (values.value(local), text(local))
    op = d.op_of(w)
    if w.kind == "weight":
        into = d.into(w, sample)
        edges[(_node_id(op.out, w.i), _node_id(op.inp, w.j))] = (values.value(into), text(into))
    return edges


def network_svg(values: Values, weight=None, colour: str = "red", labels: bool = True, digits: int = 3,
                answers: bool = True) -> str:
    """The problem's network, left to right, as an SVG document; ``weight``'s paths highlighted. With
    ``answers=False`` (a worksheet) no derived value appears: no edge labels, no tooltips."""
    d, p = values.derivation, values.problem
    stroke = colour_value(colour)
    cols = columns(values)
    sizes = {"x": p.n_in, "loss": 1}
    sizes.update({key: len(d.symbols.node(key)) for key in d.symbols.keys})
    tallest = max(sizes.values())
    gap = 56 if tallest <= 8 else 36
    radius = 17 if tallest <= 8 else 12
    step = 130 if len(cols) <= 6 else 110
    # the nodes at the top, the captions' two rows below them, in the height the diagram always had
    width, top = step * len(cols) + 40, radius + 4
    height = top + gap * (tallest - 1) + radius + 2 * CAPTION_SIZE + 14
    pos, node_col = {}, {}
    for c, key in enumerate(cols):
        n = sizes[key]
        x = 60 + step * c
        y0 = top + (tallest - n) * gap / 2
        for k in range(n):
            pos[_node_id(key, k)] = (x, y0 + k * gap)
            node_col[_node_id(key, k)] = c
    edges = [(_node_id(a, j), _node_id(b, i)) for (a, j), (b, i) in d.edges()]

    lit, n_paths, title = {}, 0, "network"
    if weight is not None:
        w = d.param(weight)
        n_paths = d.count_paths(w)
        lit = {tuple(sorted(pair)): v for pair, v in path_edges(values, w).items()}
        title = f"gradient paths of {w.name(d.symbols.wide)}" + (" (sample 1)" if p.n_samples > 1 else "")

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
    per_gap: dict = {}
    for a, b in lit:
        g = min(node_col[a], node_col[b])
        per_gap[g] = per_gap.get(g, 0) + 1
    label_svg = []
    for a, b in edges:
        key = tuple(sorted((a, b)))
        if key not in lit:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        value, factor = lit[key]
        shown = notation.num(value).shown
        tip = f"<title>{html.escape(factor)} = {html.escape(shown)}</title>" if answers else ""
        out.append(f'<line class="edge path" data-edge="{a}-{b}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                   f'stroke="{html.escape(stroke)}" stroke-width="3">{tip}</line>')
        # Beyond six coloured edges between two columns their labels would pile up: hover shows them.
        if answers and labels and per_gap[min(node_col[a], node_col[b])] <= 6:
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4
            w_ = 7.2 * len(shown) + 6
            label_svg.append(
                f'<g class="label">{tip}'
                f'<rect x="{mx - w_ / 2:.1f}" y="{my - 11:.1f}" width="{w_:.1f}" height="15" rx="3" fill="white" '
                f'fill-opacity="0.9" stroke="{html.escape(stroke)}" stroke-width="0.5"/>'
                f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" font-size="11" fill="{html.escape(stroke)}">'
                f"{html.escape(shown)}</text></g>"
            )
    for node, (x, y) in pos.items():
        on = any(node in pair for pair in lit)
        fill = "#ffffff" if not on else "#f4f4f4"
        edge = html.escape(stroke) if on else "#555555"
        if node == "loss":
            text = "ℒ"
        else:
            base, _, k = node.partition(".") if "." in node else (node[0], "", node[1:])
            sup = f'<tspan baseline-shift="super" font-size="8">({base[1:]})</tspan>' if len(base) > 1 else ""
            text = f'{base[0]}{sup}<tspan baseline-shift="sub" font-size="9">{k}</tspan>'
        out.append(f'<g class="node" data-node="{node}"><circle cx="{x}" cy="{y}" r="{radius}" fill="{fill}" '
                   f'stroke="{edge}" stroke-width="{2 if on else 1}"/>'
                   f'<text x="{x}" y="{y + 4.5}" text-anchor="middle">{text}</text></g>')
    out += label_svg
    for c, key in enumerate(cols):  # two rows, alternating: a caption may be twice a column wide
        y = height - 6 - (CAPTION_SIZE + 4) * (1 - c % 2)
        out.append(f'<text class="caption" x="{60 + step * c}" y="{y}" text-anchor="middle" '
                   f'font-size="{CAPTION_SIZE}" fill="#555">{_math_svg(_head(d, key))}</text>')
    out.append("</svg>")
    return "\n".join(out)


# The columns' captions: ≥ 7 pt where a page prints the diagram smallest (the worksheet's three, each 48% of an
# A4 text width of 18 cm: 0.3 pt a unit of an 820-unit-wide diagram).
CAPTION_SIZE = 24


def _math_svg(text: str) -> str:
    """A caption in the text notation (``H = W_a x``) typeset as math in SVG: a variable in italics, a
    subscript lowered and smaller; words and function names upright."""
    def word(w: str) -> str:
        m = re.fullmatch(r"([A-Za-z])_([A-Za-z0-9]+)", w)
        if m:
            return (f'<tspan font-style="italic">{m.group(1)}</tspan>'
                    f'<tspan baseline-shift="sub" font-size="{CAPTION_SIZE * 2 // 3}">{m.group(2)}</tspan>')
        m = re.fullmatch(r"([A-Za-z]+)\(([A-Za-z])\)", w)
        if m:
            return f'{m.group(1)}(<tspan font-style="italic">{m.group(2)}</tspan>)'
        if len(w) == 1 and w.isalpha():
            return f'<tspan font-style="italic">{w}</tspan>'
        return html.escape(w)

    return " ".join(word(w) for w in text.split(" "))


def _head(d, key: str) -> str:
    """The caption under a column: ``H = W_a x``, ``L = ReLU(H)``, ``Y = softmax(O)``, ``Y = O``."""
    if key == "x":
        return "input x"
    return caption(next(o for o in d.ops if o.out == key), d)


#: The caption under the column of an operation's output.
caption = Aspect("the diagram's caption")


@caption.register(LinearStep)
def _linear_caption(op: LinearStep, d) -> str:
    inp = "x" if op.inp == "x" else d.node_names[op.inp]
    return f"{d.node_names[op.out]} = {weight_name(op.layer)} {inp}"


@caption.register(ActivationStep)
def _activation_caption(op: ActivationStep, d) -> str:
    return f"{d.node_names[op.out]} = {d.act(op.layer).text}({d.node_names[op.inp]})"


@caption.register(OutputStep)
def _output_caption(op: OutputStep, d) -> str:
    return "Y = O" if d.output.name == "identity" else f"Y = {d.output.text}(O)"


@caption.register(LossStep)
def _loss_caption(op: LossStep, d) -> str:
    return "loss"


def training_curves(problem: Problem, steps: int = 300, lr=0.5, seed: int = 1) -> dict:
    """Gradient descent from the problem's init and from a seeded random init, with the engine's gradients:
    per step, the loss, each first-layer hidden unit's first incoming weight ``w^a_i1``, and the spread across
    hidden units (0 means the units are identical). ``random_found`` says whether the random draw has no dead
    unit (see :func:`derivations.engine.theorems.random_draw`)."""
    rnd, used, found = random_draw(problem, seed)
    out = {"steps": steps, "lr": lr, "seed": used, "random_found": found, "symmetric": symmetric(problem)}
    for name, p in (("constant", problem), ("random", rnd)):
        h = train(p, steps, lr, module="numpy" if p.n_samples > 1 else "math")
        out[name] = {
            "loss": [float(v) for v in h["loss"]],
            "hidden": [[float(ps["W_a"][i][0]) for ps in h["params"]] for i in range(problem.n_hidden)],
            "spread": [float(max(hidden_spread(p, ps))) for ps in h["params"]],
        }
    return out


def training_svg(curves: dict, constant_title: str | None = None) -> str:
    """The constant-vs-random figure: hidden units' weights (top) and the loss (bottom), as SVG. The left
    panel is titled for what the problem's init is (``constant_title``)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "derivations"  # stable ids: the same figure, the same file
    import matplotlib.pyplot as plt

    left = constant_title or ("constant init (the problem's)" if curves.get("symmetric") else "the problem's init")
    # 9 inches wide, printed at a text width of 6.5: every caption ≥ 12 × 6.5/9 ≈ 8.7 pt, the legend ≥ 7.2 pt
    with matplotlib.rc_context({"font.size": 12}):
        fig, axes = plt.subplots(2, 2, figsize=(9, 5.4), sharex=True, sharey="row", constrained_layout=True)
        for col, (name, title) in enumerate((("constant", left), ("random", f"random init (seed {curves['seed']})"))):
            data = curves[name]
            steps = range(len(data["loss"]))
            for i, series in enumerate(data["hidden"]):
                axes[0, col].plot(steps, series, lw=2.2 - 0.35 * i, label=f"$w^a_{{{i + 1}1}}$")
            axes[0, col].set_title(title)
            axes[1, col].plot(steps, data["loss"], color="black")
            axes[1, col].set_xlabel("gradient-descent step")
        axes[0, 0].set_ylabel("weight from $x_1$ into hidden unit $i$")
        axes[1, 0].set_ylabel("loss (mean over the samples)")
        axes[0, 1].legend(loc="best", fontsize=10)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # Scale with the page: keep the viewBox, drop the fixed size.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 style="width: 100%; height: auto"', text, count=1)
