r"""The students' page: the page's *key* and *worksheet* view, in the paper handout's order, every number a slot.

A :class:`~derivations.teaching.page.Page` of :class:`~derivations.teaching.page.Heading`,
:class:`~derivations.teaching.page.Prose`, :class:`~derivations.teaching.page.Display` and
:class:`~derivations.teaching.page.Figure` blocks, built from the parts the worked solution is built from (each
operation's forward step, the backward values, a block per asked parameter along its paths, the closing
question). The math inside is the page's math tree (:mod:`derivations.notation.tree`), in which every number the
student reads or writes is a :class:`~derivations.notation.tree.Slot`: *given* (printed on the worksheet, as on
the paper) or an *answer* (a blank on the worksheet, filled on the key); the printers of
:mod:`derivations.notation.tree_printing` write it as Typst math, LaTeX math and plain text, and the writers of
:mod:`derivations.outputs.page` the whole page. Every number comes from :class:`derivations.engine.values.Values`.

>>> from derivations import evaluate, load_problem
>>> from derivations.notation.tree_printing import to_latex, to_text
>>> page = layout(evaluate(load_problem()))
>>> page.blanks()
51
>>> step4 = page.display("step4")
>>> print(to_text(step4.math, worksheet=True))
Y_1 = e^____/(e^____ + e^____) = ____   Y_2 = ____   ⇒   Y = (____, ____)ᵀ
>>> print(to_text(step4.math, worksheet=False))
Y_1 = e^0.06/(e^0.06 + e^0.06) = 0.5   Y_2 = 0.5   ⇒   Y = (0.5, 0.5)ᵀ
>>> print(to_latex(page.display("grad_w_b11").math.rows[-1], worksheet=True))
&= \left(\underline{\hspace{2cm}}\right) \left(\underline{\hspace{2cm}}\right) = \underline{\hspace{2cm}}
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..engine.derivation import Param, input_index, parse_param
from ..engine.errors import ProblemError
from ..engine.graph import Graph
from ..engine.ops import DEFAULT_OUTPUT
from ..engine.problem import MAX_ASKED as PAGE_ASKED
from ..notation.tree import LOSS, Numeral, Vec, partial, row
from .backward import formulas, output_values
from .closed import closed_forms, closed_params
from .closing import closing
from .circuit_page import lay_out as circuit_page
from .page import PRECISION, Context, Heading, Page, Prose
from .paths import input_path, path
from .steps import FORWARD


def problem_id(problem, data: bytes | None = None) -> str:
    """A short identifier of a problem: the hash of its file's bytes, or of the exact problem when there is
    no file (the default handout). Printed on worksheet and key so they are never mismatched.

    >>> from derivations import load_problem
    >>> len(problem_id(load_problem()))
    8
    """
    if data is None:  # the whole problem; the handout's kind of problem keeps the fields it always hashed
        p = problem
        first = (p.layers, p.activation, p.loss, [str(v) for v in p.xs[0]], [str(v) for v in p.ys[0]],
                 *([str(v) for v in W] for W in p.weights[:2]))
        rest = (p.output if p.output != DEFAULT_OUTPUT else None, [[str(v) for v in W] for W in p.weights[2:]],
                p.biases and [[str(v) for v in b] for b in p.biases], [[str(v) for v in x] for x in p.xs[1:]],
                [[str(v) for v in y] for y in p.ys[1:]], list(p.ask), p.lr and str(p.lr), p.title)
        rest += ("shared_bias",) if p.shared_bias else ()  # (the fields before it hash as they always did)
        rest += (list(p.closed),) if getattr(p, "closed", ()) else ()  # (the ids of pages without it unchanged)
        data = repr(first if not any(rest) else first + tuple(rest)).encode()
    return hashlib.sha256(data).hexdigest()[:8]


# -- the page ----------------------------------------------------------------------------------------

_LAID_OUT: dict = {}  # (id of the values, digits, data) -> (values, page), the newest few


def layout(values, digits: int = 4, data: bytes | None = None) -> Page:
    """The handout's page for ``values``' problem, in the paper handout's order; laid out once per values
    object and settings, so the page, its PDFs and its self-check share one layout (no caller changes it).

    ``data`` is the problem file's bytes (for the identifier)."""
    key = (id(values), digits, data)
    if key in _LAID_OUT and _LAID_OUT[key][0] is values:
        return _LAID_OUT[key][1]
    page = _lay_out(values, digits, data)
    _LAID_OUT[key] = (values, page)
    while len(_LAID_OUT) > 8:
        del _LAID_OUT[next(iter(_LAID_OUT))]
    return page


# -- the page, generated from the derivation's operations -----------------------------------------------------

TITLE = "Backpropagation Handout"  # the page's title, unless [worksheet] title gives one

# What one page shows: a network a student works by hand. Beyond these the page is refused in one line (the
# worked solution, python -m derivations.print, covers every network the engine accepts).
PAGE_WIDTH = 6  # units in a layer: a 6×6 matrix with its products still fits a printed line
PAGE_HIDDEN = 3  # hidden layers
PAGE_SAMPLES = 3  # samples, each with its own forward and backward blanks
_ELSEWHERE = "; the worked solution (python -m derivations.print) covers every network"


def check_fits(problem) -> None:
    """A page a student can work by hand, or one line saying what is too big (from the problem's shape alone,
    before anything is derived)."""
    p = problem
    if max(p.layers) > PAGE_WIDTH:
        raise ProblemError("network.layers", f"the students' page shows layers of at most {PAGE_WIDTH} units, got "
                                             f"{'-'.join(map(str, p.layers))}{_ELSEWHERE}")
    if p.depth > PAGE_HIDDEN:
        raise ProblemError("network.layers", f"the students' page shows at most {PAGE_HIDDEN} hidden layers, got "
                                             f"{p.depth}{_ELSEWHERE}")
    if p.n_samples > PAGE_SAMPLES:
        raise ProblemError("data.x", f"the students' page shows at most {PAGE_SAMPLES} samples, got {p.n_samples}{_ELSEWHERE}")


def asked_inputs(problem) -> list:
    """The inputs whose gradient ``∂ℒ/∂x_j`` the page asks for (``[worksheet] ask = ["x_1"]``), 0-based.

    >>> from dataclasses import replace
    >>> from derivations import load_problem
    >>> asked_inputs(replace(load_problem(), ask=("w_b11", "x_2", "x[3]")))
    [1, 2]
    """
    out = []
    for name in getattr(problem, "ask", ()):
        index = input_index(name)
        if index is None:
            continue
        j = index + 1
        if not 1 <= j <= problem.n_in:
            raise ProblemError("worksheet.ask", f"{name!r}: the network has {problem.n_in} inputs, x_1 to x_{problem.n_in}",
                               problem.source)
        if j - 1 in out:
            raise ProblemError("worksheet.ask", f"{name!r} is asked twice", problem.source)
        out.append(j - 1)
    return out


def askable(problem) -> str:
    """What ``[worksheet] ask`` may name, in a message: ``w_a11 … w_a43, w_b11 … w_b24, or an input x_1 … x_3``."""
    shapes = [f"w_{chr(97 + l)}11 … w_{chr(97 + l)}{problem.layers[l + 1]}{problem.layers[l]}"
              for l in range(len(problem.layers) - 1)]
    if problem.shared_bias:
        shapes += [f"b_{chr(97 + l)}" for l in range(len(problem.layers) - 1)]
    elif problem.bias:
        shapes += [f"b_{chr(97 + l)}1 … b_{chr(97 + l)}{problem.layers[l + 1]}" for l in range(len(problem.layers) - 1)]
    return f"{', '.join(shapes)}, or an input x_1 … x_{problem.n_in}"


def asked(derivation) -> list:
    """The parameters whose gradient the page asks for, last layer first: ``[worksheet] ask`` of the problem
    file (its inputs, ``x_1``, are :func:`asked_inputs`'), or the paper's choice generalized (an example and a
    practice weight of the last layer, a weight of each middle layer, a weight of the first layer, and a bias of
    the first layer where there are biases: the layer's one with shared biases).

    >>> from derivations import derive, load_problem
    >>> [p.key() for p in asked(derive(load_problem()))]
    ['w_b11', 'w_b21', 'w_a11']
    """
    p = derivation.problem
    last = len(p.layers) - 2
    if getattr(p, "ask", ()):
        out = []
        for name in p.ask:
            if input_index(name) is not None:  # an input's gradient: asked_inputs
                continue
            try:
                param = parse_param(name, p)
            except ProblemError as err:
                unknown = err.expected.startswith("expected a parameter name")  # (not a name at all)
                raise ProblemError("worksheet.ask", f"expected one of {askable(p)}, got {name[:40]!r}"
                                   if unknown else err.expected, p.source) from None
            if param in out:
                raise ProblemError("worksheet.ask", f"{name!r} is asked twice", p.source)
            out.append(param)
    else:
        out = [Param(last, "weight", 0, 0)]
        if p.n_out >= 2:
            out.append(Param(last, "weight", 1, 0))
        elif p.layers[last] >= 2:
            out.append(Param(last, "weight", 0, 1))
        out += [Param(l, "weight", 0, 0) for l in range(last - 1, -1, -1)]
        if p.bias:
            out.append(Param(0, "bias", 0, shared=p.shared_bias))
    if len(out) + len(asked_inputs(p)) > PAGE_ASKED:
        raise ProblemError("worksheet.ask", f"expected at most {PAGE_ASKED} parameters (one path block and diagram "
                                            f"each), got {len(out)}", p.source)
    return sorted(out, key=lambda q: -q.layer)  # the values a deeper path needs come from the paths before it


def _lay_out(values, digits: int, data: bytes | None) -> Page:
    """The students' page in the paper's order: setup, every operation's forward step (a sample at a time), the
    derivative formulas and the values every path uses, a block per asked parameter, the closing question. A
    computational graph's values (a :class:`~derivations.engine.graph.Graph`) get the circuit's page
    (:mod:`derivations.teaching.circuit_page`), on the same model."""
    if isinstance(values, Graph):
        return circuit_page(values, digits, data)
    check_fits(values.problem)
    cx, p = Context(values, digits), values.problem
    page = Page(title=p.title or TITLE, problem_id=problem_id(p, data), description=p.describe(),
                source=Path(str(p.source)).name, blocks=cx.blocks)  # the file's name, not the machine's path
    params, inputs = asked(cx.d), asked_inputs(p)
    cx.add(Heading("Step-by-Step Feedforward & Backpropagation", 2))
    cx.add(_tasks(cx, params, inputs))
    _setup(cx)
    cx.add(Heading("Forward Pass", 2))
    for s in range(cx.S):
        if cx.S > 1:
            cx.add(Heading(f"Sample {s + 1}", 3))
        for number, op in enumerate(cx.d.ops, 1):  # (the last sample's loss is followed by the mean)
            for block in FORWARD(op, cx, s, number).blocks():
                cx.add(block)
    cx.add(Heading("Backward Pass — Per-Parameter Gradient Paths", 2))
    cx.add(Prose(["We trace the ", ("b", "gradient path"), " backward from ", LOSS, " to each parameter, multiplying local "
                  "derivatives along the way (chain rule). At branches, we ", ("b", "sum"), " contributions from all paths."]
                 + ([" With several samples, ", LOSS, " is the mean of the samples' losses, so each gradient is the "
                     "mean of the samples' gradients."] if cx.S > 1 else [])))
    cx.add(formulas(cx))
    for s in range(cx.S):
        for block in output_values(cx, s):
            cx.add(block)
    for number, q in enumerate(params):
        path(cx, q, number)
    for number, j in enumerate(inputs, len(params)):
        input_path(cx, j, number)
    closed_forms(cx, closed_params(p))
    closing(cx, params)
    return page


def _tasks(cx, params: list, inputs: list = ()) -> Prose:
    """What the student computes: every forward quantity (its steps' numbers) and the practice gradients (and
    the asked inputs' gradients)."""
    names = [cx.vec(key) for key in cx.keys] + [LOSS]
    items = []
    for k, name in enumerate(names):
        items += ([","] if k else []) + [name]
    n = len(cx.d.ops)
    steps = f" (Steps 1–{n}). " if cx.S == 1 else f" (Steps 1–{n} for each of the {cx.S} samples, then Step {n + 1}). "
    practice = [partial(LOSS, cx.psym(q)) for q in params[1:] or params[:1]] + [partial(LOSS, cx.ent("x", j)) for j in inputs]
    grads = []
    for k, g in enumerate(practice):
        grads += ([" and " if k == len(practice) - 1 else ", "] if k else []) + [g]
    return Prose([("b", "Your tasks. Forward: "), "compute all intermediate values ", row(*items), steps,
                  ("b", "Backward: "), "compute ", *grads, ". ", PRECISION])


def _setup(cx):
    """The given numbers: ``x``, ``y`` and every weight (and bias), as the paper states them."""
    p = cx.p
    parts = [("b", "Setup."), " "]
    for label, key, group in (("Input", "x", p.xs), ("Target", "y", p.ys)):
        parts += [("b", f"{label}{'s' if cx.S > 1 else ''}: ")]
        for s in range(cx.S):
            parts += ([",  "] if s else []) + [row(cx.vec(key, s), "=", Vec(tuple(cx.given(v) for v in group[s])))]
        parts += ["   "] if key == "x" else []
    cx.add(Prose(parts, key="setup"))
    setup = []
    for l, m in enumerate(p.weights):
        base = cx.matrix_sym(l)
        shape = row(Numeral(str(m.shape[0])), "×", Numeral(str(m.shape[1])))
        if not p.bias:
            if len(set(m)) == 1:
                setup += [row(base, ":"), " ", shape, ", no bias, all entries = ", row(cx.given(m[0, 0])), ".   "]
            else:
                setup += [row(base, ":"), " ", shape, ", no bias (entries below).   "]
            continue
        bias, b = cx.matrix_sym(l, "b"), p.biases[l]
        setup += [row(base, ":"), " ", shape] + ([", all entries = ", row(cx.given(m[0, 0]))] if len(set(m)) == 1
                                                  else [" (entries below)"])
        if len(b) == 1:  # one unit: its one bias, not "all entries"
            setup += [", bias ", row(bias, "=", cx.given(b[0])), ".   "]
        else:
            setup += [", bias ", bias] + ([": all entries = ", row(cx.given(b[0])), ".   "] if len(set(b)) == 1
                                          else [" (entries below).   "])
    cx.add(Prose(setup, key="weights"))
