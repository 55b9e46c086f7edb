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

from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep, input_index
from ..engine.problem import Problem, bias_name, weight_name
from ..engine.theorems import random_draw, symmetric
from ..engine.training import hidden_spread, train
from ..engine.values import Values
from ..notation.printing import text
from ..teaching.numbers import Notation

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
    edges = {}
    for (a, j), (b, i), local in d.path_edges(weight, sample):  # the loss side of each edge first, as the paths run
        edges[(_node_id(b, i), _node_id(a, j))] = (values.value(local), text(local))
    if input_index(weight) is not None:  # an input's paths start at the input itself
        return edges
    w = d.param(weight)
    op = d.op_of(w)
    if w.kind == "weight":
        into = d.into(w, sample)
        edges[(_node_id(op.out, w.i), _node_id(op.inp, w.j))] = (values.value(into), text(into))
    return edges


def network_svg(values: Values, weight=None, colour: str = "red", labels: bool = True, digits: int = 3,
                answers: bool = True) -> str:
    """The problem's network, left to right, as an SVG document; ``weight``'s paths highlighted. With
    ``answers=False`` (a worksheet) no derived value appears: no edge labels, no tooltips.

    Every text lies inside the viewBox and overlaps no other, in any of the fonts that draw it (see
    :func:`text_width`): the captions take as many rows as they need, and an edge's label moves along its
    edge, away from the others and the nodes (tests/test_figures_browser.py and test_browser.py measure it in
    Chromium)."""
    d, p = values.derivation, values.problem
    stroke = colour_value(colour)
    cols = columns(values)
    sizes = {"x": p.n_in, "loss": 1}
    sizes.update({key: len(d.symbols.node(key)) for key in d.symbols.keys})
    tallest = max(sizes.values())
    gap = 52 if tallest <= 8 else 36
    radius = 17 if tallest <= 8 else 12
    step = 130 if len(cols) <= 6 else 110
    width, top = step * len(cols) + 40, radius + 4
    pos, node_col = {}, {}
    for c, key in enumerate(cols):
        n = sizes[key]
        x = 60 + step * c
        y0 = top + (tallest - n) * gap / 2
        for k in range(n):
            pos[_node_id(key, k)] = (x, y0 + k * gap)
            node_col[_node_id(key, k)] = c
    nodes_bottom = top + gap * (tallest - 1) + radius
    captions = [_runs(_head(d, key)) for key in cols]
    placed, rows = _caption_rows(captions, [60 + step * c for c in range(len(cols))], width)
    baselines, height = _baselines(captions, placed, rows, nodes_bottom + 4)
    edges = [(_node_id(a, j), _node_id(b, i)) for (a, j), (b, i) in d.edges()]

    lit, n_paths, title = {}, 0, "network"
    if weight is not None:
        j = input_index(weight)
        w = d.param(weight) if j is None else weight
        n_paths = d.count_paths(w)
        lit = {tuple(sorted(pair)): v for pair, v in path_edges(values, w).items()}
        name = w.name(d.symbols.wide) if j is None else f"x_{j + 1}"
        title = f"gradient paths of {name}" + (" (sample 1)" if p.n_samples > 1 else "")

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
    coloured, tips = [], {}
    for a, b in edges:
        key = tuple(sorted((a, b)))
        if key not in lit:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        value, factor = lit[key]
        shown = notation.num(value).shown
        tips[a, b] = f"<title>{html.escape(factor)} = {html.escape(shown)}</title>" if answers else ""
        out.append(f'<line class="edge path" data-edge="{a}-{b}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                   f'stroke="{html.escape(stroke)}" stroke-width="3">{tips[a, b]}</line>')
        coloured.append((a, b, shown))
    label_svg = []
    if answers and labels:
        circles = [(x, y, radius + 2) for x, y in pos.values()]
        for (a, b, shown), (mx, my, w_) in _place_labels(coloured, pos, node_col, circles, width, nodes_bottom).items():
            label_svg.append(
                f'<g class="label">{tips[a, b]}'
                f'<rect x="{mx - w_ / 2:.1f}" y="{my - 11:.1f}" width="{w_:.1f}" height="15" rx="3" fill="white" '
                f'fill-opacity="0.9" stroke="{html.escape(stroke)}" stroke-width="0.5"/>'
                f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" font-size="{LABEL_SIZE}" fill="{html.escape(stroke)}">'
                f"{html.escape(shown)}</text></g>"
            )
    for node, (x, y) in pos.items():
        on = any(node in pair for pair in lit)
        fill = "#ffffff" if not on else "#f4f4f4"
        edge = html.escape(stroke) if on else "#555555"
        out.append(f'<g class="node" data-node="{node}"><circle cx="{x}" cy="{y}" r="{radius}" fill="{fill}" '
                   f'stroke="{edge}" stroke-width="{2 if on else 1}"/>'
                   f'<text x="{x}" y="{y + 4.5}" text-anchor="middle">{_svg_runs(_runs(_node_name(node)), 13)}</text></g>')
    out += label_svg
    for runs, (x, row) in zip(captions, placed):
        out.append(f'<text class="caption" x="{x:g}" y="{baselines[row]:g}" text-anchor="middle" '
                   f'font-size="{CAPTION_SIZE}" fill="#555">{_svg_runs(runs, CAPTION_SIZE)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# The columns' captions: ≥ 7 pt where a page prints the diagram smallest (the worksheet's three, each 48% of an
# A4 text width of 18 cm: 0.3 pt a unit of an 820-unit-wide diagram).
CAPTION_SIZE = 24
LABEL_SIZE = 11


# Advance widths in em, each at least DejaVu Sans's (the widest of the faces that draw these figures: Debian's
# Chromium draws sans-serif with DejaVu Sans or Liberation Sans, Typst's PDFs with New Computer Modern), so a
# layout measured with them overlaps in none of those fonts.
_NARROW = set("fijlrt.,:;'|!()[]{} ·")
_WIDE = set("mwMW%@…")
_SYMBOL = set("=+−×<>~^#")


def text_width(text: str, size: float) -> float:
    """An upper bound of ``text``'s width at ``size`` px (DejaVu Sans draws ``0.25`` at 11 px 24.5 px wide).

    >>> round(text_width("0.25", 11), 1)
    27.7
    """
    return size * sum(0.42 if ch in _NARROW else 1.0 if ch in _WIDE else 0.84 if ch in _SYMBOL else 0.7 for ch in text)


# A variable in the text notation: one letter, a layer's superscript, a subscript (``H^(2)``, ``W_a``, ``x``).
_VARIABLE = re.compile(r"(?<![A-Za-z])([A-Za-z])(?:\^\(([^)]*)\))?(?:_([A-Za-z0-9]+))?(?![A-Za-z])")
SCRIPT = 2 / 3  # a sub- or superscript's size, of the text's
_SUP_RAISE, _SUB_DROP = 0.38, 0.22  # how far a superscript's baseline is raised, a subscript's lowered, in em


def _runs(text: str) -> list:
    """The text notation (``L^(2) = sigmoid(H^(2))``) as math runs ``(text, kind)``: a variable italic
    (``"i"``), its layer a superscript (``"sup"``) and its index a subscript (``"sub"``) set one above the other,
    words and function names upright (``""``), as the page typesets them."""
    runs, at = [], 0
    for m in _VARIABLE.finditer(text):
        if m.start() > at:
            runs.append((text[at:m.start()], ""))
        runs.append((m[1], "i"))
        if m[2]:
            runs.append((f"({m[2]})", "sup"))
        if m[3]:
            runs.append((m[3], "sub"))
        at = m.end()
    if at < len(text):
        runs.append((text[at:], ""))
    return runs


def _runs_width(runs: list, size: float) -> float:
    widths = [text_width(t, size * SCRIPT if kind in ("sup", "sub") else size) for t, kind in runs]
    # a subscript under a superscript takes the wider of the two, not both
    stacked = sum(min(widths[k - 1], widths[k]) for k in range(1, len(runs))
                  if runs[k][1] == "sub" and runs[k - 1][1] == "sup")
    return sum(widths) - stacked


def _svg_runs(runs: list, size: float) -> str:
    """The runs as SVG tspans. A script is raised or lowered by ``dy`` (and the text after it returned to the
    baseline), which every SVG renderer honours (Typst's drops ``baseline-shift``); a subscript after a
    superscript steps back under it."""
    small = round(size * SCRIPT)
    out, shift = [], 0.0  # the current offset from the baseline (down is positive)
    for k, (t, kind) in enumerate(runs):
        to = {"sup": -_SUP_RAISE * size, "sub": _SUB_DROP * size}.get(kind, 0.0)
        attrs = f' dy="{to - shift:g}"' if to != shift else ""
        shift = to
        if kind == "sub" and k and runs[k - 1][1] == "sup":
            attrs = f' dx="-{text_width(runs[k - 1][0], small) * 0.9:.1f}"' + attrs  # about the script's width
        if kind in ("sup", "sub"):
            attrs += f' font-size="{small}"'
        elif kind == "i":
            attrs += ' font-style="italic"'
        out.append(f"<tspan{attrs}>{html.escape(t)}</tspan>" if attrs else html.escape(t))
    return "".join(out)


def _node_name(node: str) -> str:
    """A node's name in the text notation: ``H1`` is ``H_1``, ``H2.3`` is ``H^(2)_3``, ``loss`` is ``ℒ``."""
    if node == "loss":
        return "ℒ"
    base, _, k = node.partition(".") if "." in node else (node[0], "", node[1:])
    return base[0] + (f"^({base[1:]})" if len(base) > 1 else "") + f"_{k}"


def _caption_rows(captions: list, xs: list, width: float, pad: float = 12) -> tuple:
    """Each caption's centre and row, and the number of rows: centred under its column (moved inwards at the
    diagram's edges), the columns taking turns over as few rows as keep every caption ``pad`` clear of its
    row's neighbours (one row, or two alternating as on the handout, or more)."""
    spans = []
    for runs, x in zip(captions, xs):
        half = _runs_width(runs, CAPTION_SIZE) / 2
        x = min(max(x, half + 4), width - half - 4)
        spans.append((x - half, x, x + half))
    for rows in range(1, len(spans) + 1):
        if all(spans[c + rows][0] >= spans[c][2] + pad for c in range(len(spans) - rows)):
            return [(x, c % rows) for c, (_, x, _) in enumerate(spans)], rows
    return [], 0  # no columns


# A line's extent above and below its baseline, in em: DejaVu Sans's ascent (0.93; a superscript's reaches
# 0.38 + 0.93 × 2/3) and descent (0.24; a subscript's 0.22 + 0.24 × 2/3), rounded up.
_ASCENT, _DESCENT, _SUB_DESCENT = 1.02, 0.25, 0.4


def _baselines(captions: list, placed: list, rows: int, top: float) -> tuple:
    """Each caption row's baseline, from ``top`` down, each row clear of the one above it (a row holding a
    subscript reaches lower), and the diagram's height below the last."""
    low = [any(kind == "sub" for runs, (_, r) in zip(captions, placed) if r == row for _, kind in runs)
           for row in range(rows)]
    baselines, y = [], top
    for row in range(rows):
        y += _ASCENT * CAPTION_SIZE
        baselines.append(round(y, 1))
        y += (_SUB_DESCENT if low[row] else _DESCENT) * CAPTION_SIZE + 1
    return baselines, round(y)


# Where a label may sit, in order of preference: along its edge (the middle first), then just above or below it
# (where two crossing edges leave no room for both labels on their lines).
_SPOTS = tuple((t, 0) for t in (0.5, 0.33, 0.67, 0.25, 0.75)) + tuple((t, dy) for t in (0.5, 0.33, 0.67) for dy in (-8, 8))


def _place_labels(coloured: list, pos: dict, node_col: dict, circles: list, width: float, bottom: float) -> dict:
    """Each coloured edge's label ``(a, b, shown) -> (x, y, box width)``: a place along its edge (or just
    beside it: :data:`_SPOTS`) where its box meets no node and no other label, chosen for all the labels
    between two columns together (a search, so that two crossing edges share their middle). Between two
    columns with more than six coloured edges, or none that fits, the labels are left out: hovering an edge
    shows its value."""
    by_gap: dict = {}
    for a, b, shown in coloured:
        by_gap.setdefault(min(node_col[a], node_col[b]), []).append((a, b, shown))
    placed: dict = {}
    boxes: list = []
    for g in sorted(by_gap):
        group = by_gap[g]
        if len(group) > 6:
            continue
        options = []
        for a, b, shown in group:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            w_ = text_width(shown, LABEL_SIZE) + 6
            spots = []
            for t, dy in _SPOTS:
                mx, my = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t - 4 + dy
                box = (mx - w_ / 2, my - 11, mx + w_ / 2, my + 4)
                if box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= bottom and \
                        not any(_meets_circle(box, c) for c in circles):
                    spots.append(((mx, my, w_), box))
            options.append(spots)
        chosen = _best_fit(options, boxes)
        if chosen is None:
            continue
        for (a, b, shown), (spot, box) in zip(group, chosen):
            placed[a, b, shown] = spot
            boxes.append(box)
    return placed


def _best_fit(options: list, fixed: list, budget: int = 20000):
    """The choice of one spot per label whose boxes overlap neither each other nor ``fixed``, and whose spots
    come earliest in the labels' orders of preference (the least sum of their ranks); ``None`` if there is
    none, or none found within ``budget`` tries (six labels of a dozen spots each could take millions)."""
    best, tries = [None, float("inf")], [budget]

    def search(chosen: tuple, cost: int):
        if cost >= best[1]:
            return
        if len(chosen) == len(options):
            best[:] = [list(chosen), cost]
            return
        for rank, (spot, box) in enumerate(options[len(chosen)]):
            tries[0] -= 1
            if tries[0] < 0:
                return
            if not any(_overlap(box, other) for other in fixed) and not any(_overlap(box, b) for _, b in chosen):
                search(chosen + ((spot, box),), cost + rank)

    search((), 0)
    return best[0]


def _overlap(a: tuple, b: tuple, pad: float = 1) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _meets_circle(box: tuple, circle: tuple) -> bool:
    x, y, r = circle
    nx, ny = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])  # the box's point nearest the centre
    return (nx - x) ** 2 + (ny - y) ** 2 < r * r


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
    bias = f" + {bias_name(op.layer)}" if d.problem.bias else ""  # as the step it draws: H = W_a x + b_a
    return f"{d.node_names[op.out]} = {weight_name(op.layer)} {inp}{bias}"


@caption.register(ActivationStep)
def _activation_caption(op: ActivationStep, d) -> str:
    return f"{d.node_names[op.out]} = {d.act(op.layer).text}({d.node_names[op.inp]})"


@caption.register(OutputStep)
def _output_caption(op: OutputStep, d) -> str:
    return f"Y = {d.output.applied('O')}"


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
