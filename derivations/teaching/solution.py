"""The worked solution: the page's *solution* view, in the handout's order.

Setup, the forward step of every operation (:mod:`derivations.teaching.steps`), the backward values
(:mod:`derivations.teaching.backward`), the asked gradients along their paths (:mod:`derivations.teaching.paths`),
the table of every gradient and, given the theorems, the closing insight (:mod:`derivations.teaching.closing`):
a :class:`~derivations.teaching.page.Page` of :class:`~derivations.teaching.page.Section` s of
:class:`~derivations.teaching.page.Line` s, each a chain of sides joined by ``=`` or ``≈``, every side a SymPy
expression. The formulas come from the registry of :mod:`derivations.engine.ops` applied to symbols (the
general form) and to numbers (the substitution), so the two can never disagree; the numbers all come from
:class:`derivations.engine.values.Values`.

>>> from derivations import evaluate, load_problem
>>> sol = worked_solution(evaluate(load_problem()))
>>> print(sol.section("step1").lines[0].text())
H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15
"""

from __future__ import annotations

from ..engine.params import input_index
from ..engine.problem import weight_name
from ..engine.values import Values
from ..notation.printing import Words
from .backward import backward_section, used_values_section
from .closing import insight
from .numbers import DIGITS
from .page import SOLUTION, Context, Line, Page, Section, t
from .paths import default_params, gradient_section, input_section, zero_note
from .steps import step_section


def worked_solution(values: Values, digits: int = DIGITS, params: list | None = None, theorems: list | None = None,
                    detailed: bool = False) -> Page:
    """The handout's worked solution for ``values``' problem: setup, the forward steps, the backward values,
    the asked gradients as path sums (``params``, by default the handout's ``w_b11``, ``w_b21``, ``w_a11``,
    or their places in a deeper network), the table of every gradient and, with ``theorems``, the key insight
    (every proof step when ``detailed``).

    With ``params`` given, only those parameters' derivations: the values their paths use, their paths,
    the bracket form and the closed forms."""
    cx = Context(values, digits)
    d, p = values.derivation, values.problem
    if params is not None:
        names = [x if input_index(x) is not None else d.param(x).name(d.symbols.wide) for x in params]
        title = f"Backpropagation: {', '.join('∂ℒ/∂' + x for x in names)} ({p.describe()})"
        for name in params:
            j = input_index(name)
            if j is not None:  # an input's gradient: the sum over the first layer's units
                cx.blocks.append(input_section(cx, j))
                continue
            w = d.param(name)
            cx.blocks += [used_values_section(cx, w), gradient_section(cx, w, detail=True)]
    else:
        title = f"Backpropagation worked solution: {p.describe()}"
        cx.blocks.append(_setup(cx))
        cx.blocks += [step_section(op, cx, number) for number, op in enumerate(d.ops, 1)]
        cx.blocks.append(backward_section(cx))
        cx.blocks += [gradient_section(cx, d.param(name), role) for name, role in default_params(d)]
        cx.blocks.append(_table_section(cx))
    if theorems is not None:
        cx.blocks.append(insight(values, theorems, detailed))
    return Page(title, blocks=cx.blocks, view=SOLUTION)


def section(values: Values, key: str, digits: int = DIGITS) -> Section:
    """One section of the worked solution by its key (``setup``, ``step1`` ..., ``backward``, ``table``), built
    alone: a page that shows one step derives no other.

    >>> from derivations import evaluate, load_problem
    >>> print(section(evaluate(load_problem()), "step3").lines[0].text())
    O_1 = 0.1·0.15 + 0.1·0.15 + 0.1·0.15 + 0.1·0.15 = 0.06
    """
    cx = Context(values, digits)
    if key == "setup":
        return _setup(cx)
    if key == "backward":
        return backward_section(cx)
    if key == "table":
        return _table_section(cx)
    ops = values.derivation.ops
    if key.startswith("step") and key[4:].isdigit() and 1 <= int(key[4:]) <= len(ops):
        number = int(key[4:])
        return step_section(ops[number - 1], cx, number)
    raise KeyError(key)


def section_keys(values: Values) -> list:
    """The keys :func:`section` takes for this problem: ``setup``, ``step1`` ... ``stepN``, ``backward``, ``table``."""
    return ["setup"] + [f"step{k + 1}" for k in range(len(values.derivation.ops))] + ["backward", "table"]


def _setup(cx) -> Section:
    p, n = cx.p, cx.n
    sec = Section("setup", t("Setup", "Setup"))
    for s in cx.samples():
        sup = f"^[{s + 1}]" if p.n_samples > 1 else ""
        tsup = f"^{{[{s + 1}]}}" if p.n_samples > 1 else ""
        sec.lines.append(cx.line(Words(f"x{sup}", f"x{tsup}"), n.vector(p.xs[s])))
        sec.lines.append(cx.line(Words(f"y{sup}", f"y{tsup}"), n.vector(p.ys[s])))
    bias = ", no bias" if not p.bias else ""
    for name, m in p.params().items():
        letter = name[-1]
        tex_name = f"W_{{{letter}}}" if name.startswith("W") else f"b_{{{letter}}}"
        rows = "output" if name == weight_name(p.depth) else "hidden unit"
        if len(set(m)) == 1 and name.startswith("W"):
            c = n.num(m[0])
            shape = f"{m.rows}×{m.cols}"
            sec.lines.append(Line([Words(f"{name} ({shape}{bias}): all entries = {c.shown}",
                                         rf"W_{{{letter}}} \; ({m.rows} \times {m.cols}): \text{{all entries}} = {c.tex}")],
                                  prose=True, names=n.names))
        elif name.startswith("W"):
            sec.lines.append(cx.line(Words(f"{name} ({m.rows}×{m.cols}, one row per {rows})", tex_name), n.matrix(m)))
        else:
            sec.lines.append(cx.line(Words(name, tex_name), n.vector(list(m))))
    return sec


def _table_section(cx) -> Section:
    sec = Section("table", t("Every gradient", r"\text{Every gradient}"))
    for name, m in cx.v.gradients.items():
        tex_name = f"{name[0]}_{{{name[-1]}}}"
        lhs = Words(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {tex_name}}}")
        if cx.p.shared_bias and not name.startswith("W"):  # one number: the sum over the layer's units
            sec.lines.append(cx.line(lhs, value=m[0, 0], given=1))
            continue
        value = cx.n.matrix(m) if name.startswith("W") else cx.n.vector(list(m))
        sec.lines.append(cx.line(lhs, value, given=1))
    if cx.p.shared_bias:
        sec.lines.append(Line([Words("Each bias is shared by its layer's units: its gradient is the sum of the units' gradients.",
                                     r"\text{Each bias is shared by its layer's units: its gradient is the sum of the units' gradients.}")],
                              prose=True, names=cx.n.names))
    for name in cx.v.zeros:  # the table's 0, with the theorem that makes it so
        sec.lines.append(zero_note(cx, name, name, f"{name[0]}_{{{name[-1]}}}"))
    return sec
