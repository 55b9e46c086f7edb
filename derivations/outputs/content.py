"""What a page's roles and directives show, for any front end: one set of option checks, one set of messages.

The Sphinx extension (:mod:`derivations.sphinx.extension`) and the MyST-MD plugin (:mod:`derivations.cli.myst`) parse a
directive into a :class:`Request` (its name, argument and options as the page wrote them), call the functions
here, and only turn the result (LaTeX strings, table cells, an SVG, a theorem) into their own nodes. A page's
mistake is a :class:`DerivError`: one line naming the directive, the option and what was expected.

>>> from derivations import evaluate, load_problem
>>> values = evaluate(load_problem())
>>> print(role_tex(values, "grad.w_b21 | exact", worksheet=False))
\\frac{3}{80}
>>> print(gradient_tex(values, Request("deriv-gradient", ["w_b21"], {}), worksheet=False)[0].split("&= ")[-1])
0.0375 = \\frac{3}{80} \\end{aligned}
>>> Request("deriv-gradient", ["w_b21"], {"show": "most"}).choice("show", SHOW, "sum")
Traceback (most recent call last):
...
derivations.outputs.content.DerivError: deriv-gradient: :show: expected one of sum, paths, closed, expanded, all, got 'most'
"""

from __future__ import annotations

import re

from ..engine import theorems as T, work
from ..engine.derivation import count_nodes
from ..engine.errors import ProblemError
from ..engine.graph import Graph
from ..engine.problem import HANDOUT, parse_number
from ..engine.theorems import symmetric
from ..engine.training import MAX_STEPS, xor_problem
from ..notation.printing import decimal_text, tex
from ..notation.tree_printing import to_latex
from ..teaching.closing import descent_section
from ..teaching.handout import layout
from ..teaching.numbers import DIGITS
from ..teaching.page import BLANK, Context
from ..teaching.paths import gradient_section
from ..teaching.solution import section, section_keys
from .circuit_figure import figure_svg
from .figures import colour_value, network_svg, training_curves, training_svg
from .page import PageWriter
from .render import inline_tex

SHOW = ("sum", "paths", "closed", "expanded", "all")
PARTS = ("all", "statement", "proof")
GRADIENT_HEADER = ("parameter", "gradient", "written out", "value")
# Keys of the {deriv} role that are no derived value: shown on a worksheet too.
NOT_ANSWERS = ("problem.", "formula.", "closed.", "expanded.")
# :lr: a short decimal or fraction (2-digit exponent at most): read exactly, then bounded.
_PLAIN_NUMBER = re.compile(r"(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,2})?(?:/[1-9][0-9]{0,19})?")
# Bounds of the numeric options; deriv-training's :steps: bound is training.MAX_STEPS (2000).
MAX_DIGITS, MAX_LR, MAX_SEED = 12, 10, 10**6
MAX_PARAMS = 64  # deriv-descent's :params:, one display line each

# What a computational graph's page can have (beside deriv-problem and deriv-problem-source): its students' page,
# its circuit, its PDFs. A network's others (steps, paths, theorems, the role's values) are refused in one line.
GRAPH_DIRECTIVES = ("deriv-handout", "deriv-network", "deriv-pdfs")

SHIPPED = "derivations:"  # the prefix of a problem shipped with the package: derivations:mazur.toml


class DerivError(Exception):
    """A page's mistake: reported by the front end (a located warning, an error node), never a traceback."""

    def __init__(self, message: str, subtype: str):
        super().__init__(message)
        self.subtype = subtype


class Request:
    """A directive as the page wrote it: ``name``, its ``arguments`` (a list of at most one string) and
    ``options`` (name to text; a flag's value is ignored). The methods check one part each."""

    def __init__(self, name: str, arguments, options: dict):
        self.name, self.arguments, self.options = name, list(arguments or []), dict(options or {})

    def argument(self, choices=None, what="argument") -> str:
        if not self.arguments:
            raise DerivError(f"{self.name}: missing {what}" + (f"; expected one of {', '.join(choices)}" if choices else ""), "option")
        arg = self.arguments[0].strip()
        if choices and arg not in choices:
            raise DerivError(f"{self.name}: unknown {what} {arg!r}; expected one of {', '.join(choices)}", "key")
        return arg

    def no_argument(self) -> None:
        if self.arguments:
            raise DerivError(f"{self.name}: takes no argument, got {self.arguments[0].strip()!r}", "option")

    def choice(self, name: str, choices, default: str) -> str:
        value = str(self.options.get(name, default)).strip()
        if value not in choices:
            raise DerivError(f"{self.name}: :{name}: expected one of {', '.join(choices)}, got {value!r}", "option")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.options.get(name)
        if text is None:
            return default
        text = str(text).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))) or not low <= int(text) <= high:
            raise DerivError(f"{self.name}: :{name}: expected a whole number from {low} to {high}, got {text[:40]!r}", "option")
        return int(text)

    def param(self, values, what="weight (like w_b21)"):
        """The argument as a parameter of the problem (``w_b21``, ``b_a1``)."""
        name = self.argument(what=what)
        try:
            return values.derivation.param(name)
        except ProblemError as err:
            raise DerivError(err.expected, "key") from None

    def colour(self) -> str:
        """``:colour:``, checked by :func:`figures.colour_value` (a palette name or a strict hex colour), so
        nothing else reaches the SVG."""
        text = str(self.options.get("colour", "red")).strip()
        try:
            colour_value(text)
        except ValueError as err:
            hint = " (a # starts a comment in MyST options: quote a hex colour, \"#1f77b4\")" if not text else ""
            raise DerivError(f"{self.name}: :colour: {err}{hint}", "option") from None
        return text

    def learning_rate(self, default: str = "0.5"):
        """``:lr:``, a learning rate: a short decimal or fraction, read exactly, above 0 and at most MAX_LR."""
        text = str(self.options.get("lr", default)).strip()
        try:
            lr = parse_number(text, ":lr:") if _PLAIN_NUMBER.fullmatch(text) else None  # short: cheap to read exactly
        except ProblemError:
            lr = None
        if lr is None or not 0 < lr <= MAX_LR:
            raise DerivError(f"{self.name}: :lr: expected a number above 0 and at most {MAX_LR}, got {text[:40]!r}", "option")
        return lr


def check_kind(values, name: str) -> None:
    """A role or directive that shows a network's quantities, on a computational graph's page: one line saying
    what a graph's page has."""
    if isinstance(values, Graph) and name not in GRAPH_DIRECTIVES:
        raise DerivError(f"{name}: the problem is a computational graph; its page has {', '.join(GRAPH_DIRECTIVES)} "
                         "(and deriv-problem, deriv-problem-source)", "problem")


def shipped_problem(name: str):
    """The path of ``derivations:NAME.toml``, a problem shipped with the package (``derivations:mazur.toml``,
    Mazur's worked example)."""
    shipped = sorted(p.name for p in HANDOUT.parent.glob("*.toml"))
    if name[len(SHIPPED):] not in shipped:
        raise DerivError(f"problem {name!r} is not shipped with the package; expected one of "
                         f"{', '.join(SHIPPED + n for n in shipped)}", "problem")
    return HANDOUT.parent / name[len(SHIPPED):]


def role_tex(values, text: str, worksheet: bool) -> str:
    """LaTeX for ``{deriv}`KEY``` / ``{deriv}`KEY | exact``` (``| both``); a blank on a worksheet unless
    the key is the problem's own data or a formula."""
    key, _, style = (part.strip() for part in text.partition("|"))
    try:
        tex = inline_tex(values, key, style or "decimal")
    except ProblemError as err:
        raise DerivError(str(err), "key") from None
    return BLANK if worksheet and not key.startswith(NOT_ANSWERS) else tex


def step_tex(values, request: Request, worksheet: bool) -> list:
    """``deriv-step STEP``: a section of the worked solution, one display formula per line (only that section
    is built)."""
    key = request.argument(section_keys(values), "step")
    return [line.tex_aligned(worksheet) for line in section(values, key).lines]


def gradient_tex(values, request: Request, worksheet: bool) -> list:
    """``deriv-gradient WEIGHT``: its path sum with numbers (``:show: sum``), its paths, its closed forms; one
    display formula per line."""
    w = request.param(values)
    show = request.choice("show", SHOW, "sum")
    section = gradient_section(Context(values, DIGITS), w, detail=show in ("closed", "expanded", "all"))
    key = w.key(values.derivation.symbols.wide)
    wanted = {"sum": {key}, "paths": {"path"}, "closed": {"formula"}, "expanded": {"expanded"}, "all": None}[show]
    lines = [ln for ln in section.lines
             if wanted is None or ln.label in wanted or (show == "sum" and ln.label.startswith(key + "@"))]
    return [line.tex_aligned(worksheet) for line in lines]


def descent_tex(values, request: Request, worksheet: bool) -> list:
    """``deriv-descent``: one gradient-descent step, ``w − η ∂ℒ/∂w`` for each parameter (``:params:`` keys
    separated by spaces, default every weight, at most MAX_PARAMS), ``:lr:`` the learning rate (default 0.5);
    one display formula per line, blank on a worksheet."""
    request.no_argument()
    lr = request.learning_rate()
    names = str(request.options.get("params", "")).split() or None
    if names is not None and len(names) > MAX_PARAMS:
        raise DerivError(f"{request.name}: :params: expected at most {MAX_PARAMS} parameters, got {len(names)}", "option")
    try:
        section = descent_section(values, lr, names)
    except ProblemError as err:
        raise DerivError(f"{request.name}: :params: {err.expected}", "key") from None
    return [line.tex_aligned(worksheet) for line in section.lines]


def gradient_rows(values, request: Request, worksheet: bool) -> list:
    """``deriv-gradients``: one row of LaTeX cells per parameter under :data:`GRADIENT_HEADER`: the gradient,
    its closed form in the layers' quantities, the handout's bracket, and the value (blank on a worksheet)."""
    request.no_argument()
    d = values.derivation
    tex_names = d.symbols.tex
    rows = []
    for w in d.params():
        weight_tex = tex_names[d.symbols.param(w)]
        index = f"[{w.i + 1},{w.j + 1}]" if w.kind == "weight" else "" if w.shared else f"[{w.i + 1}]"
        rows.append([
            rf"\frac{{\partial \mathcal{{L}}}}{{\partial {weight_tex}}}",
            tex(d.gradient(w), tex_names),
            tex(d.formula(w), tex_names),
            BLANK if worksheet else inline_tex(values, f"grad.{w.matrix}{index}", "both"),
        ])
    return rows


def theorem(values, request: Request):
    """``deriv-theorem NAME``: the theorem and which part to show (``:part: all | statement | proof``)."""
    p = values.problem
    proved = {t.key: t for t in T.theorems_for(p)}
    key = request.argument(list(proved) + ["random_breaks", "training_run"], "theorem")
    if key == "random_breaks":
        th = T.random_breaks(p)
    elif key == "training_run":
        th = T.training_run(p)
    else:
        th = proved[key]
    return th, request.choice("part", PARTS, "all")


def step_display(step) -> str | None:
    """A proof step's display LaTeX: a counterexample's value, else its expression and result; None when the
    expression is 0 or too long to show."""
    from sympy import latex, sstr


    if step.counterexample:  # the value the claim said was 0
        return rf"\text{{there: }} \approx {float(step.result):.6g}"
    # Its length measured unsorted (sorting a sum's terms to print it took 47 ms a step: a 16-32-16 network's
    # 2686 steps, most of a page's minute), and past 600 nodes, when the text is longer anyway, not printed
    if step.expression == 0 or count_nodes(step.expression, 601) > 600 or len(sstr(step.expression, order="none")) >= 300:
        return None
    return rf"{latex(step.expression)} \;\longrightarrow\; {latex(step.result)}"


def verdict_text(th) -> str:
    """How the theorem was established, in words: proved (symbolic) or checked numerically."""
    return {T.PROVED: "proved by SymPy (a symbolic identity)",
            T.NUMERIC: "checked numerically (not a proof)",
            T.REFUTED: "refuted: a counterexample at an exact point shows the claim false"}.get(th.verdict, th.verdict)


def handout(values, request: Request, data: bytes | None = None):
    """``deriv-handout``: the paper handout's page (:func:`derivations.teaching.handout.layout`; ``data`` the problem
    file's bytes, for its identifier), which each front end writes with its own :class:`HandoutNodes`."""
    request.no_argument()
    return layout(values, data=data)


class HandoutNodes(PageWriter):
    """The students' page as a front end's nodes (Sphinx's docutils nodes, MyST-MD's AST), a subclass per front
    end giving :meth:`text`, :meth:`strong`, :meth:`math`, :meth:`paragraph`, :meth:`answer_box`, :meth:`heading`,
    :meth:`display` and :meth:`figure`. On a worksheet every blank of the paper and no derived value (the diagrams
    without labels or tooltips, the key insight's answer left out); on the solution that answer in a dropdown."""

    def __init__(self, values, worksheet: bool):
        super().__init__(worksheet)
        self.values = values

    def inline(self, b) -> list:
        """A paragraph's parts as inline nodes; the paper's wide gaps as em spaces (HTML collapses spaces)."""
        out = []
        for part in b.parts:
            if isinstance(part, str):
                out.append(self.text(part.replace("     ", "\u2003\u2003") if part.strip() == "" else part))
            elif isinstance(part, tuple):
                out += self.strong(part[1])
            else:
                out.append(self.math(to_latex(part, self.worksheet)))
        return out

    def visit_heading(self, b):
        self.out.append(self.heading(b.text))

    def visit_prose(self, b):
        self.out.append(self.paragraph(self.inline(b)))

    def answer(self, b):
        self.out.append(self.answer_box(self.paragraph(self.inline(b))))

    def visit_display(self, b):
        self.out.append(self.display(to_latex(b.math, self.worksheet)))

    def visit_figure(self, b):
        self.out.append(self.figure(figure_svg(self.values, b, answers=not self.worksheet), b.caption))


def network(values, request: Request, worksheet: bool) -> str:
    """``deriv-network [PARAMETER]``: the network as an SVG document, the parameter's gradient paths in
    ``:colour:`` (no derived value on a worksheet: no labels, no tooltips); for a computational graph, its
    circuit (no argument; on a worksheet every derived number an empty box)."""
    if isinstance(values, Graph):
        request.no_argument()
        return figure_svg(values, None, answers=not worksheet)
    weight = request.param(values) if request.arguments and request.arguments[0].strip() else None
    colour = request.colour()
    digits = request.integer("digits", 3, 1, MAX_DIGITS)
    return network_svg(values, weight, colour, "no-labels" not in request.options, digits, answers=not worksheet)


def training(values, request: Request):
    """``deriv-training``: ``(svg, caption, problem)``: the problem's initialization against a seeded random
    one, trained with the engine's gradients; the caption states both final losses (checked numerically, not
    proved); ``problem`` is the one trained (its samples are shown below the figure when there are several)."""
    problem, steps, lr, seed = training_options(values, request)
    curves = training_curves(problem, steps, float(lr), seed)
    constant = symmetric(problem)
    left = "constant init" if constant else "the problem's init (not constant)"
    svg = training_svg(curves, left)
    spread_c, spread_r = max(curves["constant"]["spread"]), curves["random"]["spread"][-1]
    final_c, final_r = curves["constant"]["loss"][-1], curves["random"]["loss"][-1]
    data = f"the {problem.n_samples} samples below" if problem.n_samples > 1 else "the problem's one sample"
    first = (f"Constant init (left): the hidden units' weights stay on one curve (largest spread across units: "
             f"{spread_c:g}) and the loss stalls at {final_c:.4g}." if constant else
             f"The problem's init (left): largest spread across hidden units {spread_c:.3g}, final loss {final_c:.4g}.")
    random_note = "" if curves["random_found"] else " (every draw tried had a dead unit)"
    caption = (f"{steps} gradient-descent steps, learning rate {float(lr):g}, on {data} (a numeric run, not a proof). "
               f"{first} Random init (right, seed {curves['seed']}{random_note}): they separate (spread after the last "
               f"step: {spread_r:.3g}) and the loss falls to {final_r:.4g}.")
    return svg, caption, problem


def training_options(values, request: Request) -> tuple:
    """``deriv-training``'s options, checked before any training: ``(problem, steps, lr, seed)``, the problem
    being the page's or the xor data set (``:data: xor``)."""
    request.no_argument()
    lr = request.learning_rate()
    steps = request.integer("steps", 300, 1, MAX_STEPS)
    seed = request.integer("seed", 1, 0, MAX_SEED)
    data = request.choice("data", ("problem", "xor"), "problem")
    data_seed = request.integer("data-seed", 7, 0, MAX_SEED)
    problem = values.problem
    if data == "xor":
        if problem.n_in != 3 or problem.n_out != 2:
            raise DerivError(f"{request.name}: :data: the xor data set needs 3 inputs and 2 outputs", "option")
        problem = xor_problem(data_seed, base=problem)
    try:
        work.check_training(problem, steps)
    except ProblemError as err:
        raise DerivError(f"{request.name}: {err}", "option") from None
    return problem, steps, lr, seed


def data_rows(problem) -> tuple:
    """The problem's samples as a table: ``(header, rows)`` of text cells."""
    header = ["sample"] + [f"x_{j + 1}" for j in range(problem.n_in)] + [f"y_{i + 1}" for i in range(problem.n_out)]
    rows = [[str(k + 1)] + [decimal_text(v) or str(v) for v in (*x, *y)] for k, (x, y) in enumerate(zip(problem.xs, problem.ys))]
    return header, rows
