r"""The closing question, for both views: with constant weights the key insight (is ``∂ℒ/∂W_a`` zero, and
why do the hidden units stay alike), with any other weights one step of gradient descent.

The students' page asks it (:func:`closing`: the question, and on the key its answer); the worked solution
answers it with the theorems that apply (:func:`insight`) and writes a descent step on request
(:func:`descent_section`).

>>> from sympy import Rational
>>> from derivations import evaluate, load_problem
>>> print(descent_section(evaluate(load_problem()), Rational(1, 2), ["w_b11"]).lines[0].text())
w^b_11 − η·∂ℒ/∂w^b_11 = 0.1 − 0.5·(−0.0375) = 0.11875 = 19/160
"""

from __future__ import annotations

from sympy import Add, Integer, Mul, Rational
from sympy.core.parameters import evaluate

from ..engine.problem import LETTERS, weight_name
from ..engine.theorems import GENERAL_ARGUMENT, MAX_TRAINING_WEIGHTS, last_rows_equal, layer_symmetric, symmetric
from ..notation.printing import Words
from ..notation.tree import LOSS, Aligned, Numeral, Operator, Paren, Row, Slot, Sym, grad_sym, partial, row, sym
from .numbers import DIGITS
from .page import Context, Display, Insight, Prose, Section, t


def insight_answer(values) -> list:
    """The key insight's answer on the page, derived from the values: is ∂ℒ/∂W_a zero, and are the hidden
    units alike?"""
    p, d = values.problem, values.derivation
    ga = values.gradients["W_a"]
    Wa, last = sym("W", "a"), LETTERS[len(p.weights) - 1]
    Wlast = p.weights[-1]
    zero = all(v == 0 for v in ga)
    parts = [("b", "Answer: ")]
    if zero:
        parts += [row(partial(LOSS, Wa), "=", Numeral("0")), f" exactly (all {len(ga)} entries). "]
        per_sample = [values.backward["dL_dO"]] if p.n_samples == 1 else values.backward["dL_dO"]
        if all(sum(g) == 0 for g in per_sample) and all(Wlast.row(i) == Wlast.row(0) for i in range(p.n_out)):
            L = d.symbols.keys[-3]  # the last hidden layer's output
            Lj = Sym(L[0], sym("j"), Paren(Numeral(L[1:])) if L[1:] else None)
            parts += ["The softmax gradients cancel, ",
                      row(*sum(([grad_sym(sym("O", k + 1)), "+"] for k in range(p.n_out)), [])[:-1], "=", Numeral("0")),
                      *([" (in every sample)"] if p.n_samples > 1 else []), ", and every row of ", sym("W", last),
                      " is the same, so every ",
                      row(grad_sym(Lj), "=", Sym("sum", sym("i")), grad_sym(sym("O", sym("i"))),
                          Sym("w", Row((sym("i"), sym("j"))), Sym(last)), "=", Numeral("0")), ". "]
    else:
        nonzero = sum(1 for v in ga if v != 0)
        parts += [partial(LOSS, Wa), f" is not zero ({nonzero} of {len(ga)} entries). "]
    if p.symmetric and p.depth == 1:
        parts += [f"All {p.n_hidden} hidden units start identical (equal rows of ", Wa, ", equal columns of ", sym("W", "b"),
                  "): they compute the same value and receive the same gradient, so every update keeps them identical "
                  "— the network learns like one with a single hidden unit. Constant initialization never breaks "
                  "the symmetry: initialize the weights randomly."]
    elif p.symmetric:
        parts += ["In every hidden layer the units start identical (equal incoming rows, equal outgoing columns): they "
                  "compute the same values and receive the same gradients, so every update keeps them identical — "
                  "each layer learns like a single unit. Constant initialization never breaks the symmetry: "
                  "initialize the weights randomly."]
    else:
        parts += ["The hidden units start different, so this initialization breaks the symmetry."]
    return parts


def closing(cx, asked: list):
    """The page's closing question: the key insight (its answer on the key only), or a descent step of each
    asked parameter (the change, then the new value)."""
    p = cx.p
    if p.symmetric:
        cx.add(Prose([("b", "Key Insight — Initialization Problem: "), "Based on your computation above, what is the "
                      "gradient of ", cx.matrix_sym(0), "? What does this tell you about weight initialization?"],
                     key="question"))
        cx.add(Prose(insight_answer(cx.v), key="answer", answer=True))
        return
    if not asked:  # only inputs' gradients asked (an input is no parameter: it takes no step)
        return
    lr = p.step_lr
    eta, w_ = Sym("eta"), Sym("w")
    cx.add(Prose([("b", "One gradient-descent step: "), "with learning rate ", row(eta, "=", cx.given(lr)),
                  ", what is each asked parameter after one step, ", row(w_, "-", eta, partial(LOSS, w_)),
                  "? First the change ", row(Operator("neg"), eta, partial(LOSS, w_)),
                  ", then the new value: the old one plus the change."], key="question"))
    rows = []
    after = cx.v.descent(lr, asked)  # {key: the parameter after the step}, exact
    for q in asked:
        w, key = cx.psym(q), q.key(cx.d.symbols.wide)
        change = cx.v.value(-lr * cx.d.gradient(q))  # through the layered decimals, as every value
        rows.append(row(w, "-", eta, partial(LOSS, w), "&=", cx.given(cx.pvalue(q)), "-", cx.given(lr), "·",
                        Paren(Slot(cx.nb.num(cx.v.grad(q)), key=f"grad.{key}")), "=", cx.given(cx.pvalue(q)),
                        "+", Paren(cx.ans(change, f"step.{key}")), "=", cx.ans(after[key], f"descent.{key}")))
    cx.add(Display("descent", Aligned(tuple(rows))))


def descent_section(values, lr, params=None, digits: int = DIGITS) -> Section:
    """One gradient-descent step: ``w^b_11 − η·∂ℒ/∂w^b_11 = 0.4 − 0.5·0.082167 ≈ 0.358916`` for each parameter
    (by default every weight), every gradient at the current parameters."""
    cx = Context(values, digits)
    n, d, sy = cx.n, cx.d, cx.d.symbols
    new = values.descent(lr, params)
    sec = Section("descent", t(f"One gradient-descent step, η = {n.num(Rational(lr)).shown}",
                               rf"\text{{One gradient-descent step, }}\eta = {n.num(Rational(lr)).tex}"))
    for key, value in new.items():
        w = d.param(key)
        name, wtex = w.name(sy.wide), sy.tex[sy.param(w)]
        lhs = Words(f"{name} − η·∂ℒ/∂{name}", rf"{wtex} - \eta\,\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}")
        with evaluate(False):
            nums = Add(n.num(values.value(sy.param(w))), Mul(Integer(-1), Mul(n.num(Rational(lr)), n.num(values.grad(w)))))
        sec.lines.append(cx.line(lhs, nums, value=value, label=key, given=1))
    return sec


def insight(values, theorems: list, detailed: bool = False) -> Insight:
    """The handout's last question answered for this problem: the gradient of ``W_a``, why, and the
    theorems that apply with their verdicts (every proof step when ``detailed``).

    >>> from derivations import evaluate, load_problem
    >>> insight(evaluate(load_problem()), []).lines[:2]
    ['Key insight: the gradient of W_a', '∂ℒ/∂W_a = 0: all 12 entries are exactly 0, so W_a does not move on this step.']
    """
    p = values.problem
    ga = values.gradients["W_a"]
    zero = all(v == 0 for v in ga)
    n = len(ga)
    last = weight_name(p.depth)
    lines = ["Key insight: the gradient of W_a"]
    if zero:
        lines.append(f"∂ℒ/∂W_a = 0: all {n} entries are exactly 0, so W_a does not move on this step.")
    else:
        nonzero = sum(1 for v in ga if v != 0)
        lines.append(f"∂ℒ/∂W_a ≠ 0: {nonzero} of its {n} entries are non-zero.")
    if last_rows_equal(p) and not values.derivation.output.sums_to_one:
        hidden = "L" if p.depth == 1 else f"L^({p.depth})"
        out = values.derivation.output.text
        lines.append(
            f"Why not 0: every row of {last} is the same, so ∇{hidden}_j = Σ_i ∇O_i w_ij = (common w_·j)·Σ_i ∇O_i; with a "
            f"softmax output Σ_i ∇O_i would be 0 (softmax lemma), but a {out} output has no such lemma."
        )
    elif last_rows_equal(p):
        hidden = "L" if p.depth == 1 else f"L^({p.depth})"
        earlier = "" if p.depth == 1 else " and so is every gradient before it"
        lines.append(
            f"Why: every row of {last} is the same, so every output logit O_i is the same function of {hidden}; the "
            f"components of ∇O sum to 0 (softmax lemma), and ∇{hidden}_j = Σ_i ∇O_i w_ij = (common w_·j)·Σ_i ∇O_i = 0"
            f"{earlier}."
        )
    if symmetric(p):
        units = f"all {p.n_hidden} hidden units" if p.depth == 1 else "in every hidden layer, all units"
        lines.append(
            f"The hidden units' incoming weights are equal and their outgoing weights are equal: {units} compute the "
            "same value and receive the same gradient, and a gradient step keeps it so; by induction they stay "
            "identical at every step. Constant initialization never breaks the symmetry: the network trains like "
            "one with a single hidden unit" + (" per layer" if p.depth > 1 else "") + ". Initialize the weights randomly."
        )
    else:
        broken = [str(l + 1) for l in range(p.depth) if not layer_symmetric(p, l)]
        which = "" if p.depth == 1 else f" in hidden layer{'s' if len(broken) > 1 else ''} {', '.join(broken)}"
        lines.append(f"The hidden units' incoming or outgoing weights differ{which}: this init breaks the hidden-unit symmetry.")
    lines.append(f"Theorems for this {'-'.join(map(str, p.layers))} network: proved = a symbolic identity "
                 "(x, y and constants symbolic); checked numerically = a seeded example or a training run:")
    for th in theorems:
        scope = "" if th.applies is None else (" (applies to this init)" if th.applies else
                                               " (for contrast: a seeded random init, not this one)"
                                               if th.key == "random_breaks" else " (its assumption fails for this init)")
        lines.append(f"  [{th.verdict}] {th.name}{scope}: {th.statement}")
        if detailed:
            lines += [f"      - assumption: {a}" for a in th.assumptions]
            lines += [f"      - {s.claim}: {s.status}" + (f", {float(s.result):.6g}" if s.counterexample else "")
                      + f" ({s.method})" for s in th.steps]
            lines += [f"      - {note}" for note in th.notes]
    if detailed:
        if symmetric(p) and p.n_weights > MAX_TRAINING_WEIGHTS:
            lines.append(f"  (The numeric training run is not done above {MAX_TRAINING_WEIGHTS} parameters, this network "
                         f"has {p.n_weights}; the proofs above hold for every size.)")
        lines += ["The general argument, for any width:", "  " + GENERAL_ARGUMENT]
    return Insight(lines)
