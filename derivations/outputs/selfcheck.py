"""The self-check page: the handout's page with every blank an input, checked in the browser as it is typed.

One self-contained HTML file (no network, no server: it works from ``file://``). It carries no table of the
answers: it carries the problem's given numbers (printed on the worksheet anyway), every quantity's local
formula and every catalogued mistake's changed formulas, printed from SymPy by its JavaScript code printer,
and computes the true values, the follow-through and the mistakes' values from them, as
:class:`derivations.teaching.check.Checker` does in Python.

Contract (for tests and other tools): each blank is ``<input data-key="KEY">`` (KEY as in the checker's
answers file; a blank the page repeats, as ``H_1`` in Steps 1 and 2, is ``KEY#2``, ``KEY#3``...), and its
feedback element ``[data-feedback-for="KEY"]`` gets the class ``correct``, ``follows`` or ``wrong`` and a
text naming the mistake when the input changes (Enter or leaving the field).

>>> from derivations import evaluate, load_problem
>>> html = page_html(evaluate(load_problem()))
>>> html.count('type="text"'), 'data-key="grad.w_b11"' in html, "0.0375" in html or "3/80" in html
(51, True, False)

In a Sphinx build, ``-t selfcheck`` (conf.py adds this module as an extension) writes ``selfcheck.html``
for the site's problem next to the pages; the handout page links to it.

The browser computes as the checker does (:mod:`derivations.outputs.exact_js`): a rational value exactly, so
that a sum that cancels to 0 is 0 and a kink (ReLU′, a tie of max) is decided on it; a value past an ``exp``,
``log`` or ``tanh`` in floating point, with the checker's tolerance for that blank (tighter than the gap to
every catalogued mistake).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from sympy import Function, Piecewise, Symbol, exp

from ..engine.expression import sigmoid
from ..engine.graph import Graph
from ..notation.tree import Slot
from ..notation.tree_printing import LatexMath
from ..teaching.check import Checker
from ..teaching.handout import PRECISION, layout
from ..teaching.marking import DIGITS, REL_TOL, SHORT_NOTE, TIE_NOTE, ZERO_NOTE, Marking
from ..teaching.mistakes import ONE_PATH
from .display_fit import SCRIPT as FIT_SCRIPT
from .display_fit import STATIC
from .circuit_figure import circuit_verdicts, figure_svg
from .exact_js import RUNTIME, exact_js
from .formula_check import SCRIPT as FORMULA_SCRIPT
from .formula_check import STYLE as FORMULA_STYLE
from .formula_check import formula_data, formula_input
from .figures import _node_id, columns
from .files import write_atomic
from .page import PageWriter

NOTICE = ("For practice only: this page checks your answers in your browser, from formulas it carries. A "
          "determined student can compute the answers from the page's code; graded work uses the printed "
          "worksheet.")


# -- formulas as JavaScript ------------------------------------------------------------------------------


def _unkink(expr):
    """ReLU-like functions (those with a ``settle``) as a Piecewise of their two branches, for the printer."""
    kinks = {f for f in expr.atoms(Function) if hasattr(type(f), "settle")}
    if not kinks:
        return expr
    return expr.xreplace({f: Piecewise((type(f).settle(_unkink(f.args[0]), True), _unkink(f.args[0]) > 0),
                                       (type(f).settle(_unkink(f.args[0]), False), True)) for f in kinks})


class _JS:
    """Every symbol of a marking as ``g(i)`` (its value, asked of the evaluator), and expressions in them as
    JavaScript source over the page's exact numbers (:mod:`derivations.outputs.exact_js`)."""

    def __init__(self, marking: Marking):
        self.order = list(marking.leaves) + [s for s in marking.defs if s not in marking.leaves]
        self.index = {s: i for i, s in enumerate(self.order)}
        self.names = {s: Symbol(f"g({i})") for s, i in self.index.items()}

    def __call__(self, expr) -> str:
        expr = expr.replace(sigmoid, lambda z: 1 / (1 + exp(-z)))  # a graph's σ, in the functions JavaScript has
        return exact_js(expr.xreplace(self.names))

    def deps(self, expr) -> list:
        return sorted(self.index[s] for s in expr.free_symbols if s in self.index)


def _label(key: str, expr, d) -> str:
    """A readable name of a blank: ``H_1``, ``∇O_2``, ``∂ℒ/∂w^b_11``, ``∂L_1/∂H_1``, ``x_1``; a graph's ``q``,
    ``∂f/∂x``."""
    if isinstance(d, Graph):
        return f"∂{d.output}/∂{key[5:]}" if key.startswith("grad.") else key.partition(".")[2]
    if key.startswith("grad."):
        return f"∂ℒ/∂{d.param(key[5:]).name(d.symbols.wide)}"
    if key.startswith("descent."):
        return f"{d.param(key[8:]).name(d.symbols.wide)} after one step"
    if key.startswith("backward.dL_dx["):  # an input's gradient: a sum, not a name of its own
        m = re.fullmatch(r"backward\.dL_dx\[(\d+)\](@\d+)?", key)
        return f"∂ℒ/∂x_{m[1]}" + (f" (sample {m[2][1:]})" if m[2] else "")
    if key.startswith("step."):  # the step's change, as the page asks for it first
        return f"−η·∂ℒ/∂{d.param(key[5:]).name(d.symbols.wide)}"
    if key.startswith("local."):
        m = re.fullmatch(r"local\.d(\w+)_d(\w+)\[(\d+)\](@\d+)?", key)
        sample = f" (sample {m[4][1:]})" if m[4] else ""
        return f"∂{_layer(m[1])}_{m[3]}/∂{_layer(m[2])}_{m[3]}{sample}"
    return str(expr)


def _layer(name: str) -> str:
    """``L2`` (a deeper network's node key) as the page writes it: ``L^(2)``."""
    return f"{name[0]}^({name[1:]})" if len(name) > 1 else name


def _pretty(label: str) -> str:
    """A blank's label as HTML, indices set as sub- and superscripts: ``∂ℒ/∂w^b_11`` → ``∂ℒ/∂w<sup>b</sup><sub>11</sub>``."""
    out = html.escape(label)
    out = re.sub(r"\^(\w|(?:\(\d+\))?(?:\[\d+\])?)", r"<sup>\1</sup>", out)  # w^b, H^(2), x^[1], H^(2)[1]
    return re.sub(r"_\(?([\w,]+)\)?", r"<sub>\1</sub>", out)


def _number(v):
    """A given number as the page reads it: a rational as its exact text ``"p/q"``, anything else a float."""
    return f"{v.p}/{v.q}" if v.is_Rational else float(v)


def page_data(checker: Checker) -> dict:
    """What the page's script needs: the marking (:class:`derivations.teaching.marking.Marking`) as data, each
    formula printed as JavaScript: the given numbers, every local formula, the blanks in the page's order with
    their tolerances, and each slip's worlds."""
    m = checker.marking
    d, js = checker.d, _JS(m)
    data = {
        "n": len(js.order),
        "leaves": [[js.index[s], _number(v)] for s, v in m.leaves.items()],
        "defs": [[js.index[s], js(e)] for s, e in m.defs.items()],
        "deps": [[js.index[s], [js.index[u] for u in m.deps[s]]] for s in m.defs],
        "order": m.order,
        "blanks": {},
        "mistakes": [mm.as_dict() for mm in m.slips],
        "worlds": [],
        "alternatives": [],
        "onePath": next((n for n, mm in enumerate(m.slips) if mm.name == ONE_PATH), None),
        "relTol": str(REL_TOL),
        "digits": DIGITS,
        "notes": {"short": SHORT_NOTE, "zero": ZERO_NOTE, "tie": TIE_NOTE},
    }
    for key in m.order:
        true = m.true[key]
        data["blanks"][key] = {
            "sym": js.index[m.sym[key]],
            "rank": m.rank[key],
            "tol": float(m.tolerance(key)),
            "label": _label(key, m.exprs[key], d),
            "trivial": _number(m.trivial[key]) if key in m.trivial else None,
            "defined": true is not None,
            "irrational": true is not None and not true.is_Rational,  # no decimal of a few digits is it
        }
    slip = {mm.name: n for n, mm in enumerate(m.slips)}
    for w in m.worlds:
        data["worlds"].append({"mistake": slip[w.mistake.name],
                               "over": [[js.index[s], js(e), js.deps(e)] for s, e in w.overrides.items()],
                               "affected": sorted(js.index[s] for s in w.affected)})
    if data["onePath"] is not None:
        for s in m.defs:
            alts = m.alternatives(s)
            if alts:
                data["alternatives"].append([js.index[s], [[js(t), js.deps(t)] for t in alts]])
    return data


# -- the page --------------------------------------------------------------------------------------------


class _Boxes(LatexMath):
    """The handout's LaTeX printer with every answer slot a numbered box (``\boxed{3}``); the inputs, with the
    same numbers, sit under the formula, so that feedback never reflows it."""

    def __init__(self, start: int):
        super().__init__(worksheet=True)
        self.start, self.slots, self.formulas = start, [], []

    def _print_Slot(self, node: Slot):
        if node.given:
            return super()._print_Slot(node)
        self.slots.append(node)
        return rf"\boxed{{\scriptsize {self.start + len(self.slots)}}}"

    def _print_Formula(self, node):  # a formula blank: its input under the display (formula_check)
        self.formulas.append(node)
        return r"\boxed{\hspace{6em}}"


def _body(values, data: dict, source: bytes | None) -> tuple:
    page = layout(values, data=source)
    return _SelfCheckPage(values, data).write(page), page


def _gaps(text: str) -> str:
    """Text as HTML, the paper's wide gaps (between a step and its definition) kept: HTML collapses spaces."""
    return html.escape(text.replace("     ", "\u2003\u2003") if text.strip() == "" else text)


class _SelfCheckPage(PageWriter):
    """The worksheet page with every blank a numbered box in its formula and a labelled input under it (a
    blank the page repeats, as ``H_1`` in Steps 1 and 2, is keyed ``KEY#2``); the closing question as choices."""

    def __init__(self, values, data: dict):
        super().__init__(worksheet=True)
        self.values, self.data = values, data
        self.seen: dict = {}
        self.count = 0

    def finish(self, page):
        return "\n".join(self.out)

    def inputs(self, slots: list, where: str) -> str:
        rows = []
        for n, slot in enumerate(slots):
            key = slot.key
            self.seen[key] = self.seen.get(key, 0) + 1
            dkey = key if self.seen[key] == 1 else f"{key}#{self.seen[key]}"
            uid = f"b{self.count + n}"
            name = self.data["blanks"][key]["label"]
            again = " again" if self.seen[key] > 1 else ""
            rows.append(
                f'<span class="blank"><label for="{uid}"><span class="num">{self.count + n + 1}</span> '
                f'{_pretty(name)}<span class="sr-only"> ({html.escape(where)}{again})</span></label>'
                f'<input id="{uid}" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" '
                f'data-key="{html.escape(dkey)}" aria-describedby="{uid}-fb">'
                f'<span id="{uid}-fb" class="feedback" data-feedback-for="{html.escape(dkey)}" aria-live="polite">'
                f'</span></span>')
        self.count += len(slots)
        return f'<div class="blanks">{"".join(rows)}</div>' if rows else ""

    def visit_heading(self, b):
        self.out.append(f"<h{b.level + 1}>{html.escape(b.text)}</h{b.level + 1}>")

    def visit_prose(self, b):
        printer = _Boxes(self.count)
        text = self.prose(b, lambda t: f'<span class="math">\\({html.escape(printer.doprint(t))}\\)</span>',
                          lambda s: f"<strong>{s}</strong>", _gaps)
        self.out.append(f"<p>{text}</p>" + self.inputs(printer.slots, _where(b.key)))

    def answer_space(self, b):  # the closing question: two choices, checked from the page's own formulas
        self.out.append(_CLOSING)

    def visit_display(self, b):
        printer = _Boxes(self.count)
        tex = printer.doprint(b.math)
        where = _where(b.key)
        formulas = "".join(formula_input(f.key, _pretty(self.data["formula"]["blanks"][f.key]["label"]), f"f{self.count}-{n}")
                           for n, f in enumerate(printer.formulas))
        self.out.append(f'<div class="display" role="group" aria-label="{html.escape(where)}">'
                        f'<div class="math">\\[{html.escape(tex)}\\]</div>{self.inputs(printer.slots, where)}{formulas}</div>')

    def visit_figure(self, b):  # the worksheet's diagram, without values (its nodes are not the verdicts')
        svg = figure_svg(self.values, b, answers=False).replace("data-node=", "data-figure-node=").replace(
            ' xmlns="http://www.w3.org/2000/svg"', "")  # inline SVG needs no namespace
        self.out.append(f'<figure class="diagram">{svg}</figure>')


def _where(key: str) -> str:
    """A block's name for a screen reader: ``Step 3``, ``Step 3, sample 2``, ``∂ℒ/∂w^b_11``, ``∇H^(2) values``.

    >>> _where("step1@2"), _where("grad_w_c21"), _where("values_dH2"), _where("values_dYdO@1")
    ('Step 1, sample 2', '∂ℒ/∂w^c_21', '∇H^(2) values', "the output layer's derivatives, sample 1")
    """
    key, _, sample = key.partition("@")
    tail = f", sample {sample}" if sample else ""
    m = re.fullmatch(r"step(\d+)", key)
    if m:
        return f"Step {m[1]}{tail}"
    m = re.fullmatch(r"grad_([wb])_([a-z])(.+)", key)
    if m:
        return f"∂ℒ/∂{m[1]}^{m[2]}_{m[3]}{tail}"
    if key == "values_dYdO":
        return f"the output layer's derivatives{tail}"
    if key.startswith("values_d"):
        return f"∇{_layer(key[8:])} values{tail}"
    return {"descent": "the gradient-descent step", "": "values"}.get(key, key) + tail


# The handout's closing question ("what is the gradient of W_a? what does it say about initialization?") as two
# choices; the page judges them as it judges a blank: the gradient from its formulas, the symmetry from the init.
_CLOSING = """<fieldset class="closing" data-closing>
<legend>Your answer to the closing question</legend>
<p>The gradient of the first weight matrix is
<label><input type="radio" name="closing-grad" value="zero"> exactly zero, every entry</label>
<label><input type="radio" name="closing-grad" value="nonzero"> not zero</label></p>
<p>From this initialization, gradient descent keeps the hidden units
<label><input type="radio" name="closing-units" value="alike"> identical, step after step</label>
<label><input type="radio" name="closing-units" value="different"> and lets them become different</label></p>
<p class="feedback" data-feedback-for="closing" aria-live="polite"></p>
</fieldset>"""


def network_html(values) -> str:
    """The network twice (forward values, then gradients), one node per quantity: ``data-node="H1"`` (and
    ``"dH1"`` for ∇H_1) with ``data-key`` the answer key; the page's script sets ``data-verdict`` and the
    student's value beside each node, and marks the first wrong one, forward then backward,
    ``data-first-divergence``. No derived value is in it."""
    d = values.derivation
    cols = columns(values)
    sizes = {"x": values.problem.n_in, "loss": 1, **{k: len(d.symbols.node(k)) for k in d.symbols.keys}}
    tallest = max(sizes.values())
    gap, step, top = 58, 104, 34

    def diagram(title: str, keys: list, node_of, key_of, label_of) -> str:
        width, height = step * len(keys) + 40, top * 2 + gap * (tallest - 1) + 30
        pos = {}
        for c, key in enumerate(keys):
            y0 = top + (tallest - sizes[key]) * gap / 2
            for k in range(sizes[key]):
                pos[(key, k)] = (50 + step * c, y0 + k * gap)
        out = [f'<svg class="verdicts" viewBox="0 0 {width} {height}" role="group" '
               f'aria-label="{html.escape(title)}" font-family="sans-serif" font-size="13">',
               f"<title>{html.escape(title)}</title>"]
        for (a, j), (b, i) in d.edges():
            if (a, j) in pos and (b, i) in pos:
                (x1, y1), (x2, y2) = pos[(a, j)], pos[(b, i)]
                out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#bbb" stroke-width="1"/>')
        for c, key in enumerate(keys):
            for k in range(sizes[key]):
                x, y = pos[(key, k)]
                out.append(f'<g class="qty" data-node="{node_of(key, k)}" data-key="{html.escape(key_of(key, k))}">'
                           f'<circle cx="{x}" cy="{y}" r="15"/><text x="{x}" y="{y + 4.5}" text-anchor="middle">'
                           f'{label_of(key, k)}</text>'
                           f'<text class="value" x="{x}" y="{y + 29}" text-anchor="middle" font-size="11"></text></g>')
        out.append("</svg>")
        return "\n".join(out)

    def sub(key, k):
        if key == "loss":
            return "ℒ"
        return f'{key}<tspan baseline-shift="sub" font-size="9">{k + 1}</tspan>'

    S = values.problem.n_samples
    back_keys = list(reversed(d.symbols.keys))  # Y, O, L, H: the order the gradients are computed
    nets = []
    for s in range(S):  # one pair per sample, its nodes and keys marked @s where there are several
        at = f"@{s + 1}" if S > 1 else ""
        of = f" (sample {s + 1})" if S > 1 else ""
        nets.append(diagram(f"your forward values{of}", cols, lambda key, k: _node_id(key, k) + at,
                            lambda key, k: ("forward.loss" if key == "loss" and S == 1 else f"forward.loss{at}" if key == "loss"
                                            else f"problem.x[{k + 1}]{at}" if key == "x" else f"forward.{key}[{k + 1}]{at}"), sub))
        nets.append(diagram(f"your gradients, from the loss back{of}", back_keys, lambda key, k: "d" + _node_id(key, k) + at,
                            lambda key, k: f"backward.dL_d{key}[{k + 1}]{at}", lambda key, k: "∇" + sub(key, k)))
    fwd, bwd = "".join(nets[0::2]), "".join(nets[1::2])
    return (f'<section class="network" aria-label="your values on the network"><h2>Your values on the network</h2>'
            f'<p>Each quantity you answer takes its verdict here: <span class="key correct">correct</span>, '
            f'<span class="key follows">follows</span>, <span class="key wrong">wrong</span>; the first wrong one '
            f'(forward, then backward) is circled twice: that is where your error entered.</p>'
            f'<div class="nets">{fwd}{bwd}</div></section>')


def page_html(values, data: bytes | None = None, student: tuple | None = None, back: str | None = "handout.html",
              mathjax: str | None = None, checker: Checker | None = None) -> str:
    """The self-check page for ``values``' problem (a network's :class:`~derivations.engine.values.Values`, or a
    computational graph's :class:`~derivations.engine.graph.Graph`, judged by its
    :class:`~derivations.teaching.circuit.GraphMarking` as ``check`` judges it).
    ``data``: the problem file's bytes, so that the page shows the same identifier as the PDFs and keys.csv;
    ``student``: ``(id, name)`` from a roster, shown escaped; ``back``: the worksheet's address (a link);
    ``mathjax``: the address of MathJax's ``tex-chtml.js`` on the site (none: the math stays as TeX source);
    ``checker``: the problem's :class:`Checker`, if the caller has one already."""
    graph = isinstance(values, Graph)  # a computational graph: its own marking, no closing question
    checker = checker if checker is not None else Checker(values.problem, None if graph else values)
    info = page_data(checker)
    info["symmetric"] = not graph and values.problem.symmetric  # the init's units alike: they stay alike (proved)
    info["formula"] = formula_data(checker, _JS(checker.marking), _unkink)  # the formula blanks, if any
    body, page = _body(values, info, data)
    script = (RUNTIME + _SCRIPT + FORMULA_SCRIPT).replace("/*DATA*/", json.dumps(info, ensure_ascii=True).replace("</", "<\\/"))
    who = ""
    if student is not None:
        sid, name = student
        who = f" · student {html.escape(str(sid))}" + (f" ({html.escape(str(name))})" if name else "")
    total = body.count('type="text"')  # the score counts blanks, as the paper has them
    link = f'<p class="back"><a href="{html.escape(back)}">← back to the worksheet</a></p>' if back else ""
    # no MathJax menu: a formula then takes no Tab stop, and Tab goes from blank to blank
    # nor math read in what an author or a roster typed (a title "\\(y\\)" stays text): class "typed"
    mj = (f'<script>window.MathJax = {{options: {{ignoreHtmlClass: "blanks|verdicts|typed", enableMenu: false}}}};</script>'
          f'<script defer src="{html.escape(mathjax)}"></script>') if mathjax else ""
    return _TEMPLATE.format(title=html.escape(page.title + " — self-check"), notice=html.escape(NOTICE),
                            precision=html.escape(PRECISION),
                            header=html.escape(f"problem {page.problem_id} · {page.description}") + who,
                            body=body, style=_STYLE + FORMULA_STYLE, script=script, link=link, mathjax=mj, total=total,
                            network=circuit_verdicts(values) if graph else network_html(values),
                            problem_id=html.escape(page.problem_id))


MATHJAX_PACKAGE = "sphinx-mathjax-offline"  # MathJax 3.2.2's files on PyPI (the docs extra); found, never imported
STANDALONE_MATHJAX = "tex-svg-full.js"  # one file: every TeX extension, SVG output, no fonts to load (2.2 MB)
MATHJAX = f"_mathjax/{STANDALONE_MATHJAX}"  # where a page outside a site finds it, beside the page (or its folder)


def mathjax_dir() -> Path | None:
    """The packaged MathJax directory (``.../sphinx-mathjax-offline/static/mathjax``), or ``None`` when the
    package is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return path if path.is_dir() else None


def write_mathjax(folder) -> str | None:
    """Write MathJax's one-file component to ``folder/`` :data:`MATHJAX` (self-check pages outside a site: one copy
    for a page, or for a variants set's every student); its address from ``folder``, or ``None`` without the
    docs extra."""
    script = standalone_mathjax()
    if script is None:
        return None
    target = Path(folder) / MATHJAX
    target.parent.mkdir(exist_ok=True)
    write_atomic(target, script)
    return MATHJAX


def standalone_mathjax() -> bytes | None:
    """MathJax as one self-contained file (:data:`STANDALONE_MATHJAX`), for self-check pages outside a site
    (the variants tool writes it once, beside the students' folders); ``None`` without the package."""
    folder = mathjax_dir()
    path = folder / STANDALONE_MATHJAX if folder is not None else None
    return path.read_bytes() if path is not None and path.is_file() else None


def write_page(values, path, data: bytes | None = None, student: tuple | None = None,
               back: str | None = None, mathjax: str | None = None) -> Path:
    """Write the self-check page for ``values``' problem to ``path``: one self-contained HTML file. ``data``:
    the problem file's bytes (the page then prints the identifier its PDFs print); ``back``: the worksheet's
    address (none: no link); ``mathjax``: MathJax's address, or ``"beside"`` to copy MathJax's one-file
    component (the docs extra's) to ``_mathjax/`` beside the page, so that its math is typeset offline (none:
    the math stays TeX source)."""
    path = Path(path)
    if mathjax == "beside":
        mathjax = write_mathjax(path.parent)
    path.write_text(page_html(values, data, student, back, mathjax), encoding="utf-8")
    return path


_STYLE = (STATIC / "selfcheck.css").read_text(encoding="utf-8")  # the page's look, one file (inline: the page is one file)

# The site's fitting of wide displays (outputs/static/derivations.js), inline: the page is one file
_FIT = FIT_SCRIPT.replace("{", "{{").replace("}", "}}")

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
{mathjax}
</head>
<body>
<main data-problem="{problem_id}">
{link}
<h1 class="typed">{title}</h1>
<p class="notice" role="note"><strong>Practice.</strong> {notice}</p>
<p class="typed">{header}.</p>
<p>Type a number in any blank (<code>0.9</code>, <code>.9</code>, <code>9/10</code>, <code>−7/40</code>,
<code>1e-2</code>, or with a decimal comma, <code>0,9</code>) and press Enter or Tab. Each numbered box in a formula
has the input of the same number under it. {precision} An answer is <em>correct</em> when it is the exact value
or that value rounded to at least 4 significant digits; the right value with fewer digits, not exact, is <em>too
few digits</em>. It <em>follows</em> when it is a step done right from your own wrong answers before it on the page
(exactly, or within a relative 1/1000 of that step's value, since your numbers are rounded; a wrong 0 that makes a step
trivial earns none); otherwise it is <em>wrong</em>, with the classic mistake named where one gives your number
from your earlier answers.</p>
<p class="score" data-score data-total="{total}" role="status" aria-live="polite">0 / {total} correct</p>
<p id="announce" class="sr-only" aria-live="assertive"></p>
{network}
{body}
</main>
<script>
{script}
</script>
<script>
""" + _FIT + """
</script>
</body>
</html>
"""

# The page's marking (derivations.teaching.marking, run on the formulas it printed), one file: inline
_SCRIPT = (STATIC / "selfcheck.js").read_text(encoding="utf-8")
