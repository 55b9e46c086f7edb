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

The browser computes in floating point: where the Python checker compares exactly (a rational value), the
page accepts a relative 1e-9; where the value is transcendental it uses the checker's tolerance for that
blank (tighter than the gap to every catalogued mistake).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from sympy import Function, Piecewise, Symbol
from sympy.printing.jscode import jscode

from ..engine import reading
from ..engine.errors import ProblemError
from ..engine.problem import HANDOUT, load_problem, problem_from_bytes
from ..engine.values import evaluate
from ..notation.tree import Slot
from ..notation.tree_printing import LatexMath
from ..teaching.check import REL_TOL, ROUNDED_NOTE, Checker, definition
from ..teaching.handout import layout
from ..teaching.mistakes import ONE_PATH, TRANSPOSED
from .display_fit import SCRIPT as FIT_SCRIPT
from .figures import _node_id, columns, network_svg
from .page import PageWriter

NOTICE = ("For practice only: this page checks your answers in your browser, from formulas it carries. A "
          "determined student can compute the answers from the page's code; graded work uses the printed "
          "worksheet.")
FLOAT_TOL = 1e-9  # the browser computes in floating point: a relative tolerance for exact values


# -- formulas as JavaScript ------------------------------------------------------------------------------


def _unkink(expr):
    """ReLU-like functions (those with a ``settle``) as a Piecewise of their two branches, for the printer."""
    kinks = {f for f in expr.atoms(Function) if hasattr(type(f), "settle")}
    if not kinks:
        return expr
    return expr.xreplace({f: Piecewise((type(f).settle(_unkink(f.args[0]), True), _unkink(f.args[0]) > 0),
                                       (type(f).settle(_unkink(f.args[0]), False), True)) for f in kinks})


class _JS:
    """Every symbol of a derivation as ``v[i]``, and expressions in them as JavaScript source."""

    def __init__(self, checker: Checker):
        d = checker.d
        leaves = [s for s in checker.values.of if s not in d.definitions]
        self.order = leaves + list(d.definitions)
        self.index = {s: i for i, s in enumerate(self.order)}
        self.names = {s: Symbol(f"v[{i}]") for s, i in self.index.items()}

    def __call__(self, expr) -> str:
        return re.sub(r"\s+", " ", jscode(_unkink(expr).xreplace(self.names))).strip()

    def deps(self, expr) -> list:
        return sorted(self.index[s] for s in expr.free_symbols if s in self.index)


def _label(key: str, expr, d) -> str:
    """A readable name of a blank: ``H_1``, ``∇O_2``, ``∂ℒ/∂w^b_11``, ``∂L_1/∂H_1``, ``x_1``."""
    if key.startswith("grad."):
        return f"∂ℒ/∂{d.param(key[5:]).name(d.symbols.wide)}"
    if key.startswith("descent."):
        return f"{d.param(key[8:]).name(d.symbols.wide)} after one step"
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


def page_data(checker: Checker) -> dict:
    """What the page's script needs: given numbers, formulas, tolerances and the mistakes' formulas."""
    d, js = checker.d, _JS(checker)
    data = {
        "n": len(js.order),
        "leaves": [[js.index[s], float(checker.values.of[s])] for s in js.order if s not in d.definitions],
        "defs": [[js.index[s], js(e)] for s, e in d.definitions.items()],
        "deps": {js.index[s]: js.deps(e) for s, e in d.definitions.items()},
        "blanks": {},
        "mistakes": [],
        "relTol": float(REL_TOL),
        "roundedNote": "not right: " + ROUNDED_NOTE,
    }
    for key, expr in checker.blanks.items():
        tol = checker.tolerance[key]
        data["blanks"][key] = {
            "sym": js.index.get(expr) if isinstance(expr, Symbol) else None,
            "expr": js(expr),
            "local": js(definition(d, expr)),
            "localDeps": js.deps(definition(d, expr)),
            "tol": max(FLOAT_TOL, float(tol)) if tol is not None else FLOAT_TOL,
            "exact": tol is None and checker.true[key].is_Rational,  # a rounded answer is wrong, and told so
            "label": _label(key, expr, d),
            "ancestors": checker.ancestors[key],
        }
        if key in checker.gradient_of:  # the closing step takes the student's own gradient (as the checker)
            lr = checker.problem.step_lr
            data["blanks"][key].update(grad=checker.gradient_of[key], w=float(checker.weight(key)), lr=float(lr))
    for m in checker.mistakes:
        entry = {**m.as_dict(), "rule": bool(m.rules), "defs": [], "blank": {}, "local": {}, "terms": {}, "transposed": {}}
        if m.rules and "descent" in m.rules:  # its step on the student's gradient: c0 + cw·w + cg·g
            w, g = Symbol("w"), Symbol("g")
            step = m.rules["descent"](w, checker.problem.step_lr, g)
            entry["descent"] = [float(step.subs({w: 0, g: 0})), float(step.diff(w)), float(step.diff(g))]
        if m.rules:
            dv, _, bl = checker.variants[m.name]
            entry["defs"] = [[js.index[s], js(e)] for s, e in dv.definitions.items() if d.definitions.get(s) != e]
            for key, expr in checker.blanks.items():
                if key in bl and bl[key] != expr:
                    entry["blank"][key] = js(bl[key])
                if key in bl and definition(dv, bl[key]) != definition(d, expr):
                    entry["local"][key] = js(definition(dv, bl[key]))
        elif m.name == ONE_PATH:
            for key, expr in checker.blanks.items():
                if key.startswith("grad.") and d.count_paths(key[5:]) > 1:
                    entry["terms"][key] = [js(p.product) for p in d.paths(key[5:])]
                elif key.startswith("backward.") and expr in d.display:  # a chain-rule sum, as the checker
                    local = definition(d, expr)
                    if local.is_Add and len(local.args) > 1:
                        entry["terms"][key] = [js(t) for t in local.args]
        elif m.name == TRANSPOSED:
            for key in checker.blanks:
                if key.startswith("grad."):
                    p = d.param(key[5:])
                    W = d.symbols.W[p.layer] if p.kind == "weight" else None
                    if W is not None and p.i != p.j and p.j < W.rows and p.i < W.cols:
                        other = "grad." + type(p)(p.layer, "weight", p.j, p.i).key(d.symbols.wide)
                        entry["transposed"][key] = other
        data["mistakes"].append(entry)
    return data


# -- the page --------------------------------------------------------------------------------------------


class _Boxes(LatexMath):
    """The handout's LaTeX printer with every answer slot a numbered box (``\boxed{3}``); the inputs, with the
    same numbers, sit under the formula, so that feedback never reflows it."""

    def __init__(self, start: int):
        super().__init__(worksheet=True)
        self.start, self.slots = start, []

    def _print_Slot(self, node: Slot):
        if node.given:
            return super()._print_Slot(node)
        self.slots.append(node)
        return rf"\boxed{{\scriptsize {self.start + len(self.slots)}}}"


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
        self.out.append(f'<div class="display" role="group" aria-label="{html.escape(where)}">'
                        f'<div class="math">\\[{html.escape(tex)}\\]</div>{self.inputs(printer.slots, where)}</div>')

    def visit_figure(self, b):  # the worksheet's diagram, without values (its nodes are not the verdicts')
        svg = network_svg(self.values, b.weight, b.colour, True, 3, answers=False).replace("data-node=", "data-figure-node=").replace(
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
    """The self-check page for ``values``' problem (one hidden layer, one sample: the handout's layout).
    ``data``: the problem file's bytes, so that the page shows the same identifier as the PDFs and keys.csv;
    ``student``: ``(id, name)`` from a roster, shown escaped; ``back``: the worksheet's address (a link);
    ``mathjax``: the address of MathJax's ``tex-chtml.js`` on the site (none: the math stays as TeX source);
    ``checker``: the problem's :class:`Checker`, if the caller has one already."""
    checker = checker if checker is not None else Checker(values.problem, values)
    info = page_data(checker)
    info["symmetric"] = values.problem.symmetric  # the init's units alike: they stay alike (proved)
    body, page = _body(values, info, data)
    script = _SCRIPT.replace("/*DATA*/", json.dumps(info, ensure_ascii=True).replace("</", "<\\/"))
    who = ""
    if student is not None:
        sid, name = student
        who = f" · student {html.escape(str(sid))}" + (f" ({html.escape(str(name))})" if name else "")
    total = body.count('type="text"')  # the score counts blanks, as the paper has them
    link = f'<p class="back"><a href="{html.escape(back)}">← back to the worksheet</a></p>' if back else ""
    mj = (f'<script>window.MathJax = {{options: {{ignoreHtmlClass: "blanks|verdicts"}}}};</script>'
          f'<script defer src="{html.escape(mathjax)}"></script>') if mathjax else ""
    return _TEMPLATE.format(title=html.escape(page.title + " — self-check"), notice=html.escape(NOTICE),
                            header=html.escape(f"problem {page.problem_id} · {page.description}") + who,
                            body=body, style=_STYLE, script=script, link=link, mathjax=mj, total=total,
                            network=network_html(values), problem_id=html.escape(page.problem_id))


MATHJAX_PACKAGE = "sphinx-mathjax-offline"  # MathJax 3.2.2's files on PyPI (the docs extra); found, never imported
STANDALONE_MATHJAX = "tex-svg-full.js"  # one file: every TeX extension, SVG output, no fonts to load (2.2 MB)


def mathjax_dir() -> Path | None:
    """The packaged MathJax directory (``.../sphinx-mathjax-offline/static/mathjax``), or ``None`` when the
    package is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return path if path.is_dir() else None


def standalone_mathjax() -> bytes | None:
    """MathJax as one self-contained file (:data:`STANDALONE_MATHJAX`), for self-check pages outside a site
    (the variants tool writes it once, beside the students' folders); ``None`` without the package."""
    folder = mathjax_dir()
    path = folder / STANDALONE_MATHJAX if folder is not None else None
    return path.read_bytes() if path is not None and path.is_file() else None


def write_page(values, path, data: bytes | None = None, student: tuple | None = None,
               back: str | None = "handout.html", mathjax: str | None = None) -> Path:
    """Write the self-check page for ``values``' problem to ``path`` (one self-contained HTML file; with
    ``mathjax``, the site's MathJax beside it)."""
    path = Path(path)
    path.write_text(page_html(values, data, student, back, mathjax), encoding="utf-8")
    return path


# -- Sphinx: -t selfcheck --------------------------------------------------------------------------------


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return

    from sphinx.util import logging


    name = app.config.derivations_problem
    mathjax = "_static/mathjax/tex-chtml.js" if "derivations.sphinx.offline_math" in app.extensions else None
    try:
        path = Path(app.srcdir) / name if name else None
        problem = load_problem(path)
        write_page(evaluate(problem), Path(app.outdir) / "selfcheck.html", data=path.read_bytes() if path else None,
                   back=app.builder.get_target_uri(app.config.root_doc), mathjax=mathjax)
    except ProblemError as err:  # a problem the handout's layout cannot hold: a warning, not a traceback
        logging.getLogger(__name__).warning(f"selfcheck.html not written: {err}", type="derivations", subtype="selfcheck")
    _beside_pdfs(app, mathjax)


def _beside_pdfs(app, mathjax: str | None) -> None:
    """A self-check page beside each page's PDFs (``_pdf/ID/selfcheck.html``, linked by ``deriv-pdfs``): every
    worksheet page of the site gets its own, whatever its problem."""
    from sphinx.util import logging
    from sphinx.util.osutil import relative_uri


    pages = getattr(app, "_derivations_pdf_pages", {})
    for folder, (path, _, location) in sorted(getattr(app, "_derivations_pdfs", {}).items()):
        path = Path(path)
        target = f"{folder}/selfcheck.html"
        try:
            data = reading.read_bytes(path, "problem")
            problem = problem_from_bytes(data, path)
            back = relative_uri(target, pages[folder]) if folder in pages else None
            (Path(app.outdir) / folder).mkdir(parents=True, exist_ok=True)
            write_page(evaluate(problem), Path(app.outdir) / target, data=None if path == HANDOUT else data, back=back,
                       mathjax=mathjax and relative_uri(target, mathjax))
        except ProblemError as err:  # deriv-pdfs has said so at its directive already
            logging.getLogger(__name__).info(f"{target} not written: {err}", location=location)


def setup(app):
    """A Sphinx extension (added by conf.py with ``-t selfcheck``): ``selfcheck.html`` in the HTML output."""
    app.setup_extension("derivations.sphinx.extension")
    app.connect("build-finished", _build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 1rem auto; padding: 0 .8rem; line-height: 1.55; }
.notice { border: 2px solid #b58900; background: #fdf6e3; padding: .5rem 1rem; border-radius: 4px; }
.score { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ccc; padding: .3rem 0; margin: 0;
         font-weight: 600; z-index: 1; }
.display { margin: .8rem 0; }
.display .math, p .math { overflow-x: auto; overflow-y: hidden; max-width: 100%; }
.display .math { display: block; }
/* as on the site: a wide display is scaled to fit (the script below); one still too wide scrolls in its own
   box, with a scroll bar that shows and a shadow at the edge it continues past */
mjx-container[display="true"] { max-width: 100%; overflow-x: auto; overflow-y: hidden;
  background: linear-gradient(to left, #fff 30%, rgba(255, 255, 255, 0)) right / 2rem 100% no-repeat local,
              linear-gradient(to left, rgba(0, 0, 0, .2), rgba(0, 0, 0, 0)) right / .8rem 100% no-repeat scroll; }
mjx-container[display="true"]::-webkit-scrollbar { height: 6px; }
mjx-container[display="true"]::-webkit-scrollbar-thumb { background: rgba(0, 0, 0, .3); border-radius: 3px; }
.blanks { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: .3rem 0 1rem; }
.blank { display: flex; flex-direction: column; width: 11rem; max-width: 100%; }
.blank label { font-size: .9em; }
.num { display: inline-block; min-width: 1.4em; border: 1px solid #333; border-radius: 3px; text-align: center;
       font-size: .8em; }
.blank input { font: inherit; width: 9em; max-width: 100%; border: 1px solid #666; border-radius: 3px;
               padding: .1em .3em; }
input:focus { outline: 3px solid #268bd2; outline-offset: 1px; }
.closing label { display: inline-block; margin: 0 1rem .2rem 0; }
.closing input[type="radio"] { width: 1.1em; height: 1.1em; margin: 0 .3em 0 0; vertical-align: -.15em; }
input.correct { border-color: #2e7d32; background: #e8f5e9; }
input.follows { border-color: #8a6d00; background: #fff8e1; }
input.wrong, input.unreadable { border-color: #c62828; background: #ffebee; }
.feedback { font-size: .85em; max-width: 24rem; }
.feedback.correct { color: #1b5e20; } .feedback.follows { color: #6d5200; }
.feedback.wrong, .feedback.unreadable { color: #b71c1c; }
figure.diagram { margin: .5rem 0; } figure.diagram svg { max-width: 100%; height: auto; }
.nets { display: flex; flex-wrap: wrap; gap: 1rem; }
svg.verdicts { width: 100%; max-width: 40rem; height: auto; }
.qty circle { fill: #fff; stroke: #555; stroke-width: 1.2; }
.qty[data-verdict="correct"] circle { fill: #e8f5e9; stroke: #2e7d32; stroke-width: 2.5; }
.qty[data-verdict="follows"] circle { fill: #fff8e1; stroke: #8a6d00; stroke-width: 2.5; }
.qty[data-verdict="wrong"] circle { fill: #ffebee; stroke: #c62828; stroke-width: 2.5; }
.qty[data-first-divergence] circle { stroke-width: 5; stroke-dasharray: 3 2; }
.key { padding: 0 .3em; border-radius: 3px; } .key.correct { background: #e8f5e9; }
.key.follows { background: #fff8e1; } .key.wrong { background: #ffebee; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
"""

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
<h1>{title}</h1>
<p class="notice" role="note"><strong>Practice.</strong> {notice}</p>
<p>{header}.</p>
<p>Type a number in any blank (<code>0.9</code>, <code>.9</code>, <code>9/10</code>, <code>−7/40</code>,
<code>1e-2</code>) and press Enter or Tab. Each numbered box in a formula has the input of the same number
under it. An answer is <em>correct</em>, <em>follows</em> (a step done right from your own wrong earlier
answer, within a relative 1/1000 of that step's value, since your numbers are rounded; a wrong 0 that makes a
step trivial earns none), or <em>wrong</em>, with the classic mistake named where one gives your number. A value
that comes out exact (a short decimal or a fraction) is typed in full; any other to 4 significant digits.</p>
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

_SCRIPT = r"""
"use strict";
const D = /*DATA*/;
const compile = (src) => new Function("v", "return (" + src + ");");  // SymPy's printed formulas, not user text
const defs = D.defs.map(([i, src]) => [i, compile(src)]);
const blanks = {};
for (const [key, b] of Object.entries(D.blanks)) {
  blanks[key] = {...b, exprF: compile(b.expr), localF: compile(b.local)};
}
function run(overrides, answered) {
  const v = new Array(D.n);
  for (const [i, x] of D.leaves) v[i] = x;
  for (const [i, f] of defs) {
    v[i] = (answered && answered[i] !== undefined) ? answered[i] : (overrides[i] || f)(v);
  }
  return v;
}
const trueEnv = run({}, null);
const truth = {};
for (const [key, b] of Object.entries(blanks)) truth[key] = b.exprF(trueEnv);
function close(a, t, tol) {
  if (!Number.isFinite(t)) return false;
  return Math.abs(a - t) <= tol * Math.abs(t) || Math.abs(a - t) <= 1e-15;
}
const mistakes = D.mistakes.map((m) => {
  const overrides = {};
  for (const [i, src] of m.defs) overrides[i] = compile(src);
  const env = m.rule ? run(overrides, null) : null;
  const full = {};
  const local = {};
  const terms = {};
  const carried = {};
  for (const key of Object.keys(blanks)) {
    const vals = [];
    if (env) vals.push((m.blank[key] ? compile(m.blank[key]) : blanks[key].exprF)(env));
    if (m.terms[key]) {
      terms[key] = m.terms[key].map(compile);
      for (const f of terms[key]) vals.push(f(trueEnv));
    }
    if (m.transposed[key]) vals.push(truth[m.transposed[key]]);
    full[key] = vals.filter((x) => Number.isFinite(x) && !close(x, truth[key], 1e-12));
    if (m.local[key]) local[key] = compile(m.local[key]);
    carried[key] = env ? (m.blank[key] ? compile(m.blank[key]) : blanks[key].exprF)(env) : truth[key];
  }
  return {...m, full, localF: local, termsF: terms, carried};
});

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$/;
const FRACTION = /^[+-]?\d+\/\d+$/;
function parse(text) {  // by pattern, never evaluated
  const t = text.trim().replace(/\u2212/g, "-");
  if (t.length > 80) return null;
  if (NUMBER.test(t)) return Number(t);
  if (FRACTION.test(t)) {
    const [p, q] = t.split("/");
    return Number(q) === 0 ? null : Number(p) / Number(q);
  }
  return null;
}
const inputs = Array.from(document.querySelectorAll("input[data-key]"));
const baseKey = (k) => k.replace(/#\d+$/, "");
const shown = {};  // each answer as typed (for "follows from your H_1 = 0.2")
function answers() {
  const out = {};
  for (const el of inputs) {
    const key = baseKey(el.dataset.key);
    const a = parse(el.value);
    if (el.value.trim() !== "" && a !== null && !(key in out)) { out[key] = a; shown[key] = el.value.trim(); }
  }
  return out;
}
function carried(m, key) {  // the mistake's value of a blank carried through (the true one where unchanged)
  return m.carried[key];
}
function step(key, env) {  // as Checker._step: the local formula at your values, and its slack
  const b = blanks[key];
  const moved = b.localDeps.filter((j) => !close(env[j], trueEnv[j], 1e-12));
  if (!moved.length) return null;
  const target = b.localF(env);
  if (!Number.isFinite(target)) return null;
  let slack = D.relTol * Math.abs(target);
  for (const j of moved) {
    const w = env.slice();
    w[j] = env[j] * (1 + D.relTol);
    const bumped = b.localF(w);
    if (Number.isFinite(bumped)) slack += Math.abs(bumped - target);
  }
  return [target, slack];
}
function ruledOut(m, key, given) {  // as Checker._ruled_out
  for (const k of blanks[key].ancestors) {
    if (!(k in given)) continue;
    const c = carried(m, k);
    if (!close(c, truth[k], 1e-12) && !close(given[k], c, D.relTol)) return true;
  }
  return false;
}
function roundedExact(text, a, t) {  // as check.rounded_exact: the exact value rounded to the decimals typed
  const m = /^\s*[-+\u2212]?\d*\.?(\d*)\s*$/.exec(text);
  if (!m || a === t) return false;
  const scale = Math.pow(10, m[1].length);
  return Math.abs(a - t) * 2 * scale <= 1 + 1e-9 && Math.abs(a) * scale >= 10 - 1e-9;
}
function judge(key, a, mine, env, bySym, text) {
  const b = blanks[key];
  if (close(a, truth[key], b.tol)) return {verdict: "correct", text: "correct"};
  const wrong = [];
  const seen = new Set();
  const g = b.grad && mine[b.grad] !== undefined ? mine[b.grad] : null;  // the step from your own gradient
  if (g !== null) {
    if (!close(g, truth[b.grad], blanks[b.grad].tol)) wrong.push(b.grad);
  } else (function up(deps) {
    for (const j of deps) {
      if (seen.has(j)) continue;
      seen.add(j);
      if (bySym[j] !== undefined) {
        const k = bySym[j].key;
        if (!close(bySym[j].value, truth[k], blanks[k].tol)) wrong.push(k);  // judged wrong
      } else if (D.deps[j]) up(D.deps[j]);
    }
  })(b.localDeps);
  const st = g !== null ? [b.w - b.lr * g, D.relTol * (Math.abs(b.w - b.lr * g) + Math.abs(b.lr * g))] : step(key, env);
  let note = "";
  if (st && (Math.abs(a - st[0]) <= st[1] + 1e-15)) {
    if (!wrong.length) return {verdict: "correct", text: "correct (right from your rounded earlier answers)"};
    const zeros = wrong.filter((k) => mine[k] === 0);
    const names = wrong.map((k) => blanks[k].label + " = " + shown[k]).join(", ");
    if (!(zeros.length && (st[0] === 0 || b.grad) && truth[key] !== 0)) {
      return {verdict: "follows", text: "follows from your " + names + " (this step is right; look earlier)"};
    }
    note = " This is what your " + zeros.map((k) => blanks[k].label).join(", ") +
           " = 0 gives, but that 0 is wrong and makes this step trivial: no follow-through credit.";
  }
  const found = [];
  for (const m of mistakes) {
    const here = [];
    if (g !== null) {
      if (m.descent) here.push(m.descent[0] + m.descent[1] * b.w + m.descent[2] * g);
    } else if (wrong.length) {
      if (m.localF[key]) here.push(m.localF[key](env));
      if (m.termsF[key]) for (const f of m.termsF[key]) here.push(f(env));
    }
    const hits = here.filter((c) => close(a, c, b.tol));
    const full = m.full[key].filter((c) => close(a, c, b.tol));
    if (full.length && !hits.length && ruledOut(m, key, mine)) continue;
    const all = hits.concat(full);
    if (all.length) {
      const c = all.reduce((x, y) => (Math.abs(a - y) < Math.abs(a - x) ? y : x));
      found.push({d: Math.abs(a - c), m, c});
    }
  }
  if (!found.length && !note && b.exact && roundedExact(text, a, truth[key])) return {verdict: "wrong", text: D.roundedNote + "."};
  if (!found.length) return {verdict: "wrong", text: "not right (no catalogued mistake gives this value)." + note};
  found.sort((x, y) => x.d - y.d);
  const best = found[0].c;
  const named = found.filter((f) => close(f.c, best, b.tol)).map((f) => f.m);
  const tie = named.length > 1 ? " These give the same number here: your answers cannot tell them apart." : "";
  return {verdict: "wrong", mistakes: named.map((m) => m.name),
          text: named.map((m) => m.title + ". " + m.hint).join(" / ") + tie + note};
}
const scoreEl = document.querySelector("[data-score]");
const announce = document.getElementById("announce");
const nodes = Array.from(document.querySelectorAll("[data-node]"));
let last = null;  // the input typed in last: its verdict is announced
function update(ev) {
  if (ev && ev.target) last = ev.target;
  const mine = answers();
  const bySym = {};
  const answered = {};
  for (const [key, a] of Object.entries(mine)) {
    const s = blanks[key].sym;
    if (s !== null && s !== undefined) { bySym[s] = {key, value: a}; answered[s] = a; }
  }
  const env = run({}, answered);
  const verdictOf = {};
  let nc = 0, nf = 0;
  for (const el of inputs) {
    const fb = document.querySelector('[data-feedback-for="' + el.dataset.key + '"]');
    const key = baseKey(el.dataset.key);
    let r = null;
    if (el.value.trim() !== "") {
      const a = parse(el.value);
      r = a === null ? {verdict: "unreadable", text: "not a number: write it as 0.9, .9, 9/10, -7/40 or 1e-2"}
                     : judge(key, a, mine, env, bySym, el.value);
    }
    const cls = r ? r.verdict : "";
    const text = r ? r.text : "";
    if (r && !(key in verdictOf) && r.verdict !== "unreadable") verdictOf[key] = r.verdict;
    if (cls === "correct") nc += 1;
    if (cls === "follows") nf += 1;
    el.classList.remove("correct", "follows", "wrong", "unreadable");
    fb.classList.remove("correct", "follows", "wrong", "unreadable");
    if (cls) { el.classList.add(cls); fb.classList.add(cls); }
    el.setAttribute("aria-invalid", cls === "wrong" || cls === "unreadable" ? "true" : "false");
    fb.dataset.mistakes = r && r.mistakes ? r.mistakes.join(" ") : "";
    if (fb.textContent !== text) fb.textContent = text;  // only changes are announced
    if (el === last) announce.textContent = text ? blanks[key].label + ": " + text : "";
  }
  let first = true;
  for (const g of nodes) {
    const v = verdictOf[g.dataset.key];
    if (v) g.dataset.verdict = v; else delete g.dataset.verdict;
    g.querySelector(".value").textContent = v ? shown[g.dataset.key] : "";
    if (v === "wrong" && first) { g.dataset.firstDivergence = ""; first = false; }
    else delete g.dataset.firstDivergence;
  }
  scoreEl.textContent = nc + " / " + scoreEl.dataset.total + " correct" + (nf ? ", " + nf + " follow" : "");
  scoreEl.dataset.correct = nc;
  scoreEl.dataset.follows = nf;
}
for (const el of inputs) {
  el.addEventListener("change", update);
  el.addEventListener("keydown", (e) => { if (e.key === "Enter") update(e); });
}
const closing = document.querySelector("[data-closing]");
if (closing) {  // the closing question: the gradient of W_a from the page's formulas, the symmetry from the init
  const firstLayer = Object.keys(truth).filter((k) => k.startsWith("grad.w_a"));
  const zero = firstLayer.every((k) => Math.abs(truth[k]) <= 1e-12);
  const fb = closing.querySelector('[data-feedback-for="closing"]');
  closing.addEventListener("change", () => {
    const grad = closing.querySelector('input[name="closing-grad"]:checked');
    const units = closing.querySelector('input[name="closing-units"]:checked');
    const right = [];
    const wrong = [];
    if (grad) (grad.value === (zero ? "zero" : "nonzero") ? right : wrong).push("the gradient");
    if (units) (units.value === (D.symmetric ? "alike" : "different") ? right : wrong).push("the hidden units");
    const cls = wrong.length ? "wrong" : (right.length ? "correct" : "");
    fb.classList.remove("correct", "wrong");
    if (cls) fb.classList.add(cls);
    fb.textContent = wrong.length ? "not right: " + wrong.join(" and ") + " (look again at your gradients of the first layer above: what does a step of gradient descent do with them?)"
                                  : (right.length === 2 ? "correct: both" : (right.length ? "correct so far" : ""));
  });
}
"""
