r"""The page's formula blanks: ``[worksheet] closed = ["w_b11"]`` asks for each gradient in closed form, in the
page's quantities (key ``closed.w_b11``); the key shows the derived form, the worksheet a box. Judged by
:mod:`derivations.teaching.formula`.

>>> from derivations import evaluate, load_problem
>>> from dataclasses import replace
>>> from derivations.notation.tree_printing import to_text
>>> from derivations.teaching.handout import layout
>>> page = layout(evaluate(replace(load_problem(), closed=("w_b11",))))
>>> print(to_text(page.display("closed_w_b11").math, worksheet=False))
∂ℒ/∂w^b_11 = L_1·Y_1·((1 − Y_1)·(Y_1 − y_1) − Y_2·(Y_2 − y_2))
>>> print(to_text(page.display("closed_w_b11").math, worksheet=True))
∂ℒ/∂w^b_11 = [                                        ]
"""

from __future__ import annotations

from ..engine.derivation import derive, parse_param
from ..engine.expression import MAX_LENGTH
from ..engine.errors import ProblemError
from ..notation.tree import LOSS, Formula, Operator, Row, partial, row
from ..notation.tree_printing import TreePrinter
from .formula import page_form, typed_form
from .page import Display, Heading, Prose

#: What the page tells a student about typing a formula (the self-check page and the checker read the same).
TYPING = ("Type the page's quantities (x_1, y_1, H_1, L_1, O_1, Y_1, the weights w^b_11 or w_b11, the biases "
          "b^a_1), numbers, + − * / ^ and parentheses, a product also as · or side by side (2(Y_1 − y_1), L_1 Y_1), "
          "and exp, log, tanh, σ, ReLU' or the step 1[H_1 > 0].")


def typing(problem) -> str:
    """:data:`TYPING` for this problem's page: the biases named only where the network has them."""
    return TYPING if problem.bias else TYPING.replace(", the biases b^a_1", "")


HEADING = "Closed Forms"


def without_formulas(page):
    """The page without its formula blanks (their heading, how to type them and their displays): for a writer
    that cannot take a formula (Moodle's cloze grades numbers only). A page without them is returned as it is."""
    from dataclasses import replace

    blocks = [b for b in page.blocks if not (isinstance(b, Display) and b.key.startswith("closed_"))
              and not (isinstance(b, Heading) and b.text == HEADING)
              and not (isinstance(b, Prose) and b.key == "closed")]
    return page if len(blocks) == len(page.blocks) else replace(page, blocks=blocks)


def closed_params(problem) -> list:
    """The parameters ``[worksheet] closed`` names, checked against the network (one line naming the field)."""
    out = []
    for name in getattr(problem, "closed", ()):
        try:
            param = parse_param(name, problem)
        except ProblemError as err:
            raise ProblemError("worksheet.closed", err.expected, problem.source) from None
        if param in out:
            raise ProblemError("worksheet.closed", f"{name!r} is asked twice", problem.source)
        out.append(param)
    if out and problem.n_samples != 1:
        raise ProblemError("worksheet.closed", f"expected a problem of one sample for formula answers, got "
                                               f"{problem.n_samples} samples", problem.source)
    d = derive(problem) if out else None
    for q in out:  # a form no student can type is no blank
        size = len(typed_form(d, q))
        if size > MAX_LENGTH:
            raise ProblemError("worksheet.closed", f"the closed form of ∂ℒ/∂{q.name(d.symbols.wide)} is {size} "
                                                   f"characters as typed, more than the {MAX_LENGTH} an answer may "
                                                   "have: ask for a parameter nearer the output", problem.source)
    return out


def trees(cx) -> dict:
    """Each of the page's quantities (symbol) as the page's tree: ``Y_1``, ``w^b_11``."""
    sy, out = cx.d.symbols, {}
    for key in sy.keys:
        out.update((v, cx.ent(key, k)) for k, v in enumerate(sy.node(key)))
    for key in ("x", "y"):
        out.update((v, cx.ent(key, k)) for k, v in enumerate(getattr(sy, key)[0]))
    for q in cx.d.params():
        out[sy.param(q)] = cx.psym(q)
    return out


class _Dotted(TreePrinter):
    """The page's tree of a formula with a ``·`` between every two factors (``L_1·Y_1``: side by side the text
    would read as one name, and a student copies the key's form)."""

    def _print_Mul(self, e, parent=None):
        out = super()._print_Mul(e, parent=parent)
        if not isinstance(out, Row):
            return out
        items = []
        for item in out.items:
            if items and not isinstance(items[-1], Operator) and not isinstance(item, Operator):
                items.append(Operator("·"))
            items.append(item)
        return Row(tuple(items))


def closed_form_tree(cx, q):
    """The derived closed form of parameter ``q``'s gradient as the page's tree."""
    return _Dotted({"names": trees(cx)}).doprint(page_form(cx.d, q))


def closed_forms(cx, params: list) -> None:
    """The page's formula blanks: a heading, how to type a formula, and a display per parameter."""
    if not params:
        return
    cx.add(Heading(HEADING, 2))
    cx.add(Prose([("b", "In closed form: "), "write each gradient below as a formula, not a number, in the page's "
                  "quantities. " + typing(cx.d.problem)], key="closed"))
    for q in params:
        key = q.key(cx.d.symbols.wide)
        form = closed_form_tree(cx, q)
        cx.add(Display(f"closed_{key}", row(partial(LOSS, cx.psym(q)), "=", Formula(form, key=f"closed.{key}"))))
