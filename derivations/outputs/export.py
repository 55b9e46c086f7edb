"""``BackProp.py``: the derivation exported as a standalone NumPy script, in the handout's notation.

Every step of the script is one function named as the handout names the quantity (``H``, ``L``, ``O``,
``Y``, ``loss``, ``dL_dY``, ``dY_dO``, ``dL_dO``, ``dL_dW_b``, ``dL_dL``, ``dL_dH``, ``dL_dW_a``), with the
handout's formula as its comment. Its code is printed by SymPy's NumPy code printer from SymPy expressions:
the linear layers from ``MatrixSymbol`` products (``W_a*x + b_a`` prints ``W_a @ x + b_a``), the activations
and their local derivatives from the registry applied to an array named ``H``, and the softmax, the loss and
their local derivatives from the derivation's own definitions, one output unit per row (``Y[0]``). Arrays hold
one column per sample, so every step is vectorised over the batch.

The script embeds the problem's numbers and, in one table, the exact values the engine derived (rationals as
fractions, the others to 50 digits); run, it recomputes every step in floating point and checks it against
that table.

>>> from derivations import evaluate, load_problem
>>> script = to_python(evaluate(load_problem()))
>>> print(script[script.index("# Step 1"):].split("\\n\\n")[0])
# Step 1: H = W_a · x (hidden pre-activation)
def H(W_a, x):
    return W_a @ x
>>> "def dL_dW_a(dL_dH, x):" in script and "3, 80" in script
True
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Float, IndexedBase, Integer, MatrixSymbol, OneMatrix, Rational, Symbol

from .. import __version__
from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep
from ..engine.errors import ProblemError
from ..engine.problem import LETTERS, bias_name, weight_name
from ..engine.values import Values, backward_keys
from ..notation.numpy_code import code
from ..notation.printing import decimal_text, text
from ..teaching.paths import default_params
from ..teaching.solution import section
from . import float64

# The tolerance of the script's self-check (float64 against the exact values), as in the tests' NumPy oracle.
RTOL, ATOL = 1e-9, 1e-12

TABLE_BEGIN = "# -- expected values: BEGIN"
TABLE_END = "# -- expected values: END"


@dataclass
class Step:
    """One function of the script: ``name(*args)`` returns ``body`` (NumPy code); ``formula`` is its comment,
    ``note`` a second comment line saying how float64 computes it where that differs from the formula.

    ``model`` bounds its float64 rounding error (:mod:`.float64`); a step the gradients and the loss do not use
    (``needed`` False: ``∇Y`` where the loss is computed from the logits) may overflow, ``quiet``ly."""

    name: str
    args: tuple
    body: str
    formula: str
    samples: bool = False  # the body uses S, the number of samples
    model: object = None
    note: str = ""
    needed: bool = True
    quiet: bool = False

    def source(self) -> str:
        lines = [f"# {self.formula}"] + ([f"# {self.note}"] if self.note else [])
        lines.append(f"def {self.name}({', '.join(self.args)}):")
        if self.samples:
            lines.append(f"    S = {self.args[0]}.shape[1]  # samples: the gradient is the mean over them")
        if self.quiet:  # shown only: where Y_i is 0 or 1 in float64, ±inf or nan, which the self-check names
            return "\n".join(lines + ['    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):',
                                      f"        return {self.body}"])
        return "\n".join(lines + [f"    return {self.body}"])


def _array(items, like: str | None = None) -> str:
    """``np.array([...])`` of printed rows (nested lists for a matrix of rows); a constant entry (an elementwise
    output's zero off the diagonal) is broadcast to the shape of ``like`` (a batch's row), so rows stay equal."""
    def inner(v):
        if isinstance(v, list):
            return "[" + ", ".join(inner(e) for e in v) + "]"
        if like is not None and v.is_number:
            return f"np.full_like({like}, {code(v)}, dtype=float)"
        return code(v)
    return f"np.array({inner(items)})"


class _Script:
    """What every operation's lines of the script share: the derivation, the number of samples ``S``, each
    node's width and display name, and the derivation's definitions written with sample 1's symbols as rows of
    the script's arrays (``Y_2`` -> ``Y[1]``, ``∂Y_1/∂O_2`` -> ``dY_dO[0, 1]``, ``∇Y_1`` -> ``dL_dY[0]``)."""

    def __init__(self, values: Values):
        self.values, self.d, self.p = values, values.derivation, values.problem
        self.sy = self.d.symbols
        self.S = Symbol("S", integer=True, positive=True)
        O, Y, y, dY, J = (IndexedBase(n) for n in ("O", "Y", "y", "dL_dY", "dY_dO"))
        self.O, self.Y, self.y = ([base[k] for k in range(self.p.n_out)] for base in (O, Y, y))
        self.from_logits = self.d.output.from_logits(self.d.loss_fn)
        self.rows = {}
        for k in range(self.p.n_out):
            self.rows.update({self.sy.node("O")[k]: O[k], self.sy.node("Y")[k]: Y[k], self.sy.y[0][k]: y[k],
                              self.sy.grad("Y")[k]: dY[k]})
            self.rows.update({self.sy.dY_dO[0][k][j]: J[k, j] for j in range(self.p.n_out)})

    def residual(self, expr: Expr) -> Expr:
        """A loss's formula in ``Y − y`` with each difference from the logits where the output layer has such a
        form (a sigmoid's ``(1 − y)σ(O) − yσ(−O)``: no ``1 − Y`` to cancel at ``y = 1``); else as it is."""
        form = self.d.output.float64_residual
        if form is None or self.from_logits is not None:
            return expr
        return expr.xreplace({Y: y + form(O, y) for Y, O, y in zip(self.Y, self.O, self.y)})

    @property
    def residual_note(self) -> str:
        return "" if self.d.output.float64_residual is None or self.from_logits is not None else \
            "computed from the logits: Y_i − y_i = (1 − y_i)σ(O_i) − y_i σ(−O_i), with no 1 − Y_i to cancel"

    def shown(self, key: str) -> str:
        return "x" if key == "x" else self.d.node_names[key]

    def width(self, key: str) -> int:
        return self.p.n_in if key == "x" else len(self.sy.node(key))

    def of(self, sym) -> Expr:
        return self.d.definitions[sym].xreplace(self.rows)


#: An operation's forward step of the script (``title`` its step's heading in the worked solution).
forward_step = Aspect("the NumPy script's forward step")
#: An operation's steps of the script's backward pass, in the order the reverse loop reaches them.
backward_steps = Aspect("the NumPy script's backward steps")


@forward_step.register(LinearStep)
def _linear_forward(op: LinearStep, sc: _Script, title: str) -> Step:
    W = MatrixSymbol(weight_name(op.layer), sc.width(op.out), sc.width(op.inp))
    expr = W * MatrixSymbol(op.inp, sc.width(op.inp), sc.S)
    args = (W.name, op.inp)
    bias = bias_name(op.layer) if sc.p.bias else None
    if bias:
        expr = expr + MatrixSymbol(bias, sc.width(op.out), 1)
        args += (bias,)
    n = sc.width(op.inp)
    model = float64.product(W.name, op.inp, (sc.width(op.out), None),
                            lambda at, S: [((at[0], j), (j, at[1])) for j in range(n)], bias=bias)
    return Step(op.out, args, code(expr), title, model=model)


@backward_steps.register(LinearStep)
def _linear_backward(op: LinearStep, sc: _Script) -> list:
    letter, shown, width, p = LETTERS[op.layer], sc.shown, sc.width, sc.p
    g = MatrixSymbol(f"dL_d{op.out}", width(op.out), sc.S)
    v = MatrixSymbol(op.inp, width(op.inp), sc.S)
    W = MatrixSymbol(weight_name(op.layer), width(op.out), width(op.inp))
    into = "x_j" if op.inp == "x" else f"{shown(op.inp)}_j"
    mean = ", the mean over the samples" if p.n_samples > 1 else ""
    per_sample = float64.product(g.name, op.inp, (width(op.out), width(op.inp)),
                                 lambda at, S: [((at[0], s), (at[1], s)) for s in range(S)], mean_over=True)
    out = [Step(f"dL_d{W.name}", (g.name, op.inp), code(g * v.T / sc.S),
                f"∂ℒ/∂w^{letter}_ij = ∇{shown(op.out)}_i {into}{mean}", samples=True, model=per_sample)]
    if p.shared_bias:  # one bias read by every unit (the script holds it once per unit): the sum over the units
        n = width(op.out)
        summed = float64.product(g.name, None, (1, 1), lambda at, S: [((i, s), None) for i in range(n) for s in range(S)],
                                 mean_over=True)
        out.append(Step(f"dL_d{bias_name(op.layer)}", (g.name,), code(OneMatrix(1, n) * g * OneMatrix(sc.S, 1) / sc.S),
                        f"∂ℒ/∂b^{letter} = Σ_i ∇{shown(op.out)}_i{mean} (shared by the layer's units)", samples=True,
                        model=summed))
    elif p.bias:
        summed = float64.product(g.name, None, (width(op.out), 1), lambda at, S: [((at[0], s), None) for s in range(S)],
                                 mean_over=True)
        out.append(Step(f"dL_d{bias_name(op.layer)}", (g.name,), code(g * OneMatrix(sc.S, 1) / sc.S),
                        f"∂ℒ/∂b^{letter}_i = ∇{shown(op.out)}_i{mean}", samples=True, model=summed))
    if op.inp != "x":
        rows = width(op.out)
        back = float64.product(W.name, g.name, (width(op.inp), None),
                               lambda at, S: [((i, at[0]), (i, at[1])) for i in range(rows)])
        out.append(Step(f"dL_d{op.inp}", (W.name, g.name), code(W.T * g),
                        f"∇{shown(op.inp)}_j = Σ_i ∇{shown(op.out)}_i w^{letter}_ij", model=back))
    return out


@forward_step.register(ActivationStep)
def _activation_forward(op: ActivationStep, sc: _Script, title: str) -> Step:
    act = sc.d.act(op.layer)
    expr = (act.float64 or act.forward)(Symbol(op.inp, real=True))
    return Step(op.out, (op.inp,), code(expr), f"{title}, {act.definition}",
                model=float64.elementwise(expr, (op.inp,), sc.width(op.out)), note=act.float64_notes[0])


@backward_steps.register(ActivationStep)
def _activation_backward(op: ActivationStep, sc: _Script) -> list:
    shown = sc.shown
    act, h, l = sc.d.act(op.layer), Symbol(op.inp, real=True), Symbol(op.out, real=True)
    local = (act.float64_local or act.local)(h, l)
    written = text(act.local(Symbol(f"{shown(op.inp)}_i", real=True), Symbol(f"{shown(op.out)}_i", real=True)))
    args = (f"dL_d{op.out}",) + tuple(sorted((str(s) for s in local.free_symbols), key=[op.inp, op.out].index))
    body = Symbol(f"dL_d{op.out}", real=True) * local
    return [Step(f"dL_d{op.inp}", args, code(body),
                 f"∇{shown(op.inp)}_i = ∇{shown(op.out)}_i · {act.text}'({shown(op.inp)}_i), "
                 f"{act.text}'({shown(op.inp)}_i) = {written}",
                 model=float64.elementwise(body, args, sc.width(op.inp)),
                 note=act.float64_notes[1])]


@forward_step.register(OutputStep)
def _output_forward(op: OutputStep, sc: _Script, title: str) -> Step:
    output = sc.d.output
    rows = output.float64(sc.O) if output.float64 else [sc.of(v) for v in sc.sy.node("Y")]
    return Step("Y", ("O",), output.float64_code or _array(rows), title,
                model=float64.rows({(k,): e for k, e in enumerate(rows)}), note=output.float64_notes[0])


@backward_steps.register(OutputStep)
def _output_backward(op: OutputStep, sc: _Script) -> list:
    output, sy, n = sc.d.output, sc.sy, sc.p.n_out
    jacobian = "∂Y_k/∂O_j = " + output.local_text if not output.elementwise else \
        f"∂Y_i/∂O_i = {output.local_text}, 0 off the diagonal"
    if output.float64_jacobian:
        entries = [[output.float64_jacobian(sc.O, k, j) for j in range(n)] for k in range(n)]
        d_args, like, d_note = ("O",), "O[0]", output.float64_notes[1]
    else:
        entries = [[sc.of(e) for e in row] for row in sy.dY_dO[0]]
        d_args, like, d_note = ("Y",), "Y[0]", ""
    logits = sc.from_logits
    out = [Step("dY_dO", d_args, _array(entries, like=like), f"{jacobian} ({output.text})", note=d_note,
                model=float64.rows({(k, j): entries[k][j] for k in range(n) for j in range(n)}), needed=logits is None)]
    chain = "∇O_j = ∂Y_j/∂O_j ∇Y_j" if output.elementwise else "∇O_j = Σ_k ∂Y_k/∂O_j ∇Y_k"
    if logits is not None:
        rows = [logits.grad(sc.Y, sc.O, sc.y, j) for j in range(n)]
        out.append(Step("dL_dO", logits.grad_args, _array(rows), chain, note=logits.grad_note,
                        model=float64.rows({(j,): e for j, e in enumerate(rows)})))
    else:
        rows = [sc.of(g) for g in sy.grad("O")]
        out.append(Step("dL_dO", ("dL_dY", "dY_dO"), _array(rows), chain,
                        model=float64.rows({(j,): e for j, e in enumerate(rows)})))
    return out


@forward_step.register(LossStep)
def _loss_forward(op: LossStep, sc: _Script, title: str) -> Step:
    logits = sc.from_logits
    if logits is not None:
        expr = logits.loss(sc.O, sc.y)
        body = f"np.mean({logits.loss_code or code(expr)})"
        return Step("loss", logits.loss_args, body, title, model=float64.mean(expr), note=logits.loss_note)
    expr = sc.residual(sc.of(sc.sy.loss[0]))
    args = ("O", "y") if sc.d.output.float64_residual else ("Y", "y")
    return Step("loss", args, f"np.mean({code(expr)})", title, model=float64.mean(expr), note=sc.residual_note)


@backward_steps.register(LossStep)
def _loss_backward(op: LossStep, sc: _Script) -> list:
    loss, p = sc.d.loss_fn, sc.p
    note = f", N = {p.n_out}" if loss.mean else ""
    each = ("ℒ", "") if p.n_samples == 1 else ("ℓ", ", ℓ each sample's loss")
    shown_only = sc.from_logits is not None
    rows = [sc.of(g) if shown_only else sc.residual(sc.of(g)) for g in sc.sy.grad("Y")]
    args = ("O", "y") if sc.d.output.float64_residual and not shown_only else ("Y", "y")
    return [Step("dL_dY", args, _array(rows), f"∇Y_i = ∂{each[0]}/∂Y_i = {loss.local_text} ({loss.text}{note}){each[1]}",
                 model=float64.rows({(k,): e for k, e in enumerate(rows)}), needed=not shown_only, quiet=shown_only,
                 note="shown, not used: ∇O is computed from the logits" if shown_only else sc.residual_note)]


def steps(values: Values) -> list:
    """The script's steps in the handout's order: the forward pass, then the backward pass with each layer's
    gradients where the reverse loop reaches them."""
    sc, ops = _Script(values), values.derivation.ops
    out = [forward_step(op, sc, section(values, f"step{n}").title.text) for n, op in enumerate(ops, 1)]
    for op in reversed(ops):  # backward: the reverse loop, micrograd's
        out += backward_steps(op, sc)
    return out


# -- the script ------------------------------------------------------------------------------------------------


def _number(v) -> str:
    """A given number as exact text: its decimal if it has one (``"0.9"``), else its fraction."""
    return decimal_text(v) or str(v)


def _fraction(v, values: Values) -> str:
    """An exact value as a ``Fraction``: itself if rational, else its 50-digit decimal; beyond 10^±400 the
    decimal's text (``"1.6931940751144588258719771670396452279353106396400E-568926"``)."""
    if isinstance(v, Integer):
        return f"Fraction({v})"
    if isinstance(v, Rational):
        return f"Fraction({v.p}, {v.q})"
    dec = values.decimal(v)
    if not isinstance(dec, Float):  # never the expression itself: it may be megabytes
        raise ProblemError("format", "expected every value to have a 50-digit decimal; one has none")
    if not dec.is_zero and not Float("1e-400") < abs(dec) < Float("1e400"):  # a Fraction would need 10^|exponent|
        return f'"{dec}"'
    return f'Fraction("{dec}")'


FLOAT64_MAX = 1.7976931348623157e308


def _magnitude(dec) -> str:
    """``1e610``-style size of a decimal (never its digits)."""
    from mpmath import floor, log10, mpf

    return f"1e{int(floor(log10(abs(mpf(dec)))))}"


def rounding_table(script_steps: list, values: Values) -> dict:
    """``{step: {index: bound}}`` for the values float64 may not give to the self-check's tolerance (their
    rounding bound, :mod:`.float64`, passes ``RTOL`` of their size, or ``ATOL`` where the exact value is 0):
    the script names them and compares each within its bound. A value the gradients or the loss need that is
    beyond float64's range is refused (ProblemError, field ``format``), in one line."""
    out, bounds = {}, float64.bounds(script_steps, values, expected(values))
    for step in script_steps:
        for index, (exact, error) in bounds[step.name].items():
            if step.needed and abs(exact) > FLOAT64_MAX:
                where = f"{step.name}{[i + 1 for i in index]}" if index else step.name
                raise ProblemError("format", f"the NumPy script computes in float64, but {where} is about "
                                             f"{_magnitude(exact)}, beyond its range (about 1.8e308): use --format json")
            if 2 * error > (RTOL * abs(exact) if exact != 0 else ATOL):
                out.setdefault(step.name, {})[index] = error
    return out


def _bound_text(error) -> str:
    """A bound as the script's float, rounded up (to two digits, and never below the smallest subnormal)."""
    from decimal import ROUND_CEILING, Context

    import mpmath

    if not error < FLOAT64_MAX:
        return 'float("inf")'
    text = str(Context(prec=2, rounding=ROUND_CEILING).create_decimal(mpmath.nstr(error, 30, min_fixed=1, max_fixed=0)))
    return repr(max(float(text), 5e-324))


def _columns(per_sample: list) -> list:
    """Per-sample vectors -> rows of units, one column per sample (the script's layout)."""
    return [list(r) for r in zip(*per_sample)]


def expected(values: Values) -> dict:
    """Every value the script computes, exact, in its array layout: ``{"H": [[...]], ..., "dL_dW_a": ...}``."""
    d, p = values.derivation, values.problem
    one = p.n_samples == 1

    def samples(table, key):
        return [table[key]] if one else table[key]

    out = {}
    for key in d.symbols.keys:
        out[key] = _columns(samples(values.forward, key))
    out["loss"] = values.forward["loss"]
    for key in backward_keys(d):
        per = samples(values.backward, key)
        if key == "dY_dO":  # [k][j] per sample -> [k][j][s]
            out[key] = [[[per[s][k][j] for s in range(p.n_samples)] for j in range(p.n_out)] for k in range(p.n_out)]
        else:
            out[key] = _columns(per)
    for name, m in values.gradients.items():
        out[f"dL_d{name}"] = m.tolist()
    return out


def _nested(v, values) -> str:
    return "[" + ", ".join(_nested(e, values) for e in v) + "]" if isinstance(v, list) else _fraction(v, values)


def _safe(s: str) -> str:
    """One comment line: no line breaks, nothing the file's encoding cannot hold."""
    return " ".join(s.splitlines()).encode("utf-8", "backslashreplace").decode("utf-8")


def to_python(values: Values) -> str:
    """The standalone script ``BackProp.py`` for ``values``' problem (its text)."""
    d, p = values.derivation, values.problem
    wide = d.symbols.wide
    parts = [_HEADER.format(describe=_safe(p.describe()), source=_safe(p.source), version=__version__)]
    ss = steps(values)
    parts.append("\n\n\n".join(s.source() for s in ss))

    params = list(p.params())
    calls = ['    v = {"x": columns(x), "y": columns(y)}']
    calls += [f'    v["{n}"] = np.asarray(params["{n}"], dtype=float)' + (".reshape(-1, 1)" if n.startswith("b") else "")
              for n in params]
    calls += [f'    v["{s.name}"] = {s.name}({", ".join(f"v[{a!r}]" for a in s.args)})' for s in ss]
    parts.append(_PASS.format(params=repr(tuple(params)), calls="\n".join(calls).replace("'", '"')))

    problem = {"x": [[_number(v) for v in x] for x in p.xs], "y": [[_number(v) for v in y] for y in p.ys]}
    for name, m in p.params().items():
        problem[name] = [[_number(v) for v in m.row(i)] for i in range(m.rows)] if name.startswith("W") else [_number(v) for v in m]
    lines = ["PROBLEM = {  # the numbers it was generated from, exact: samples as rows of x and y"]
    lines += [f'    "{k}": {v!r},'.replace("'", '"') for k, v in problem.items()]
    parts.append("\n".join(lines + ["}"]))

    table = [TABLE_BEGIN + " (the exact values the derivation gives for PROBLEM, in the arrays' layout:",
             "# one row per unit, one column per sample; rationals exact, the others to 50 digits)",
             "EXPECTED = {"]
    table += [f'    "{k}": {_nested(v, values)},' for k, v in expected(values).items()]
    table.append("}")
    rounding = rounding_table(ss, values)
    head = ("ROUNDING = {  # the values float64 may not give to RTOL, each with the most its rounding error can be (a bound "
            "carried through the formulas above): checked within it")
    if not rounding:
        table.append(head.replace("{  #", "{}  #", 1))
    else:
        table.append(head)
        table += [f'    "{k}": {{{", ".join(f"{i!r}: {_bound_text(e)}" for i, e in entries.items())}}},'
                  for k, entries in rounding.items()]
        table.append("}")
    table.append(TABLE_END)
    parts.append("\n".join(table))

    names = {k: d.node_names[k] for k in d.symbols.keys}
    titles = [(s.name, s.formula) for s in ss[:len(d.ops)]]
    asked = []
    for key, role in default_params(d):
        w = d.param(key)
        asked.append((w.name(wide), f"dL_d{w.matrix}", w.i, w.j, role))
    parts.append(_MAIN.format(title=repr(f"BackProp.py: {_safe(p.describe())}, from {_safe(p.source)}"), names=repr(names), titles=_tuple_lines(titles), asked=_tuple_lines(asked),
                              rtol=RTOL, atol=ATOL, n_out=p.n_out))
    return "\n\n\n".join(parts) + "\n"


def _tuple_lines(items) -> str:
    return "(\n" + "".join(f"    {item!r},\n" for item in items) + ")"


_HEADER = '''#!/usr/bin/env python3
# BackProp.py: {describe}, from {source}.
# Generated by `python -m derivations.print --format python` (derivations {version}): the code of every step
# is printed by SymPy's NumPy code printer from the derivation's expressions. Change the problem, not this file.
"""Backpropagation, step by step, in the handout's notation; needs only NumPy.

    python BackProp.py                     the problem's steps and gradients, checked against the exact values
    python BackProp.py --train N --lr ETA  N steps of gradient descent: the loss and the hidden units' spread

Imported, ``gradients(x, y, params)`` gives every gradient for other numbers (``x``, ``y``: one sample, or a
2-D array with one row per sample; ``params``: ``"W_a"``, ... and any biases ``"b_a"``, ...). Inside, every
array holds one column per sample.
"""

import argparse
import os
import sys
from fractions import Fraction

import numpy as np

# -- the steps: forward, then backward (each parameter's gradient where the reverse pass reaches it) ---------'''

_PASS = '''# -- the whole pass --------------------------------------------------------------------------------------------

PARAMS = {params}


def columns(a):
    """One sample (a vector) or a batch (one row per sample) as an array with one column per sample."""
    a = np.asarray(a, dtype=float)
    return a.reshape(-1, 1) if a.ndim == 1 else a.T


def values(x, y, params):
    """Every step's value, in the handout's order, by its name."""
{calls}
    return v


def gradients(x, y, params):
    """Every parameter's gradient (the keys of ``params``, the same shapes) and ``"loss"``."""
    v = values(x, y, params)
    out = {{name: v["dL_d" + name].reshape(np.shape(params[name])) for name in PARAMS}}
    out["loss"] = float(v["loss"])
    return out'''

_MAIN = '''TITLE = {title}
NAMES = {names}
STEPS = {titles}
ASKED = {asked}
RTOL, ATOL = {rtol!r}, {atol!r}  # the self-check's tolerance: relative, and absolute only where the exact value is 0
MAX_STEPS = 1_000_000


def problem():
    """PROBLEM as floats: ``(x, y, params)``."""
    def f(a):
        return np.array([[float(Fraction(v)) for v in row] for row in a]) if isinstance(a[0], list) \\
            else np.array([float(Fraction(v)) for v in a])
    return f(PROBLEM["x"]), f(PROBLEM["y"]), {{name: f(PROBLEM[name]) for name in PARAMS}}


def number(v):
    return f"{{v + 0.0:.6g}}"  # + 0.0: no "-0"


def vector(a):
    return "(" + ", ".join(number(e) for e in a) + ")ᵀ"


def matrix(a):
    return "[" + "; ".join(", ".join(number(e) for e in row) for row in a) + "]"


def show(name, a):
    """A quantity as the handout writes it: one vector per sample."""
    if a.shape[1] == 1:
        print(f"  {{name}} = {{vector(a[:, 0])}}")
    else:
        for s in range(a.shape[1]):
            print(f"  {{name}}[{{s + 1}}] = {{vector(a[:, s])}}")


def report(v):
    """The steps, the asked gradients and every gradient, as the handout shows them."""
    print(TITLE)
    for name, title in STEPS:
        print(title)
        if name == "loss":
            print(f"  ℒ = {{number(v['loss'])}}")
        else:
            show(NAMES[name], v[name])
    print("Backward pass")
    show("∇Y", v["dL_dY"])
    for k in range({n_out}):
        show(f"∂Y_{{k + 1}}/∂O", v["dY_dO"][k])
    for key in [k for k in v if k.startswith("dL_d") and k[4:] in NAMES and k != "dL_dY"]:
        show("∇" + NAMES[key[4:]], v[key])
    print("Gradients")
    for label, key, i, j, role in ASKED:
        print(f"  ∂ℒ/∂{{label}} = {{number(v[key][i, j])}} ({{role}})")
    for name in PARAMS:
        print(f"  ∂ℒ/∂{{name}} = {{matrix(v['dL_d' + name])}}")


def exact(entry):
    """An EXPECTED entry (a Fraction, or the text of a decimal beyond 10^±400) as a Decimal, in check's context
    of 60 digits and any exponent: float64 would overflow or underflow, a Fraction of 1e-568926 would need
    the integer 10^568926."""
    from decimal import Decimal

    return Decimal(entry) + 0 if isinstance(entry, str) else Decimal(entry.numerator) / Decimal(entry.denominator)


def check(v):
    """Every computed value against EXPECTED (as 60-digit decimals): ``(mismatches, notes, largest)``: the
    values outside their tolerance; the values float64 cannot give to RTOL (beyond its range, or ill-conditioned
    and compared within their ROUNDING bound), one line each; and the largest relative error of the others."""
    from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext

    with localcontext(Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)):
        return _check(v, Decimal)


def _check(v, Decimal):
    bad, notes, largest = [], [], (0.0, "")
    for key, table in EXPECTED.items():
        want = np.array(table, dtype=object)
        got = np.asarray(v[key], dtype=float)
        if got.shape != want.shape:
            bad.append(f"{{key}}: shape {{got.shape}}, expected {{want.shape}}")
            continue
        for index in np.ndindex(want.shape):
            e, g = exact(want[index]), float(got[index])
            name = key + (str([int(i) + 1 for i in index]) if index else "")
            bound = ROUNDING.get(key, {{}}).get(index)
            if abs(e) > Decimal(sys.float_info.max):
                notes.append(f"{{name}} = {{e:.6g}}: beyond float64's range (float64 gives {{g!r}}); the gradients "
                             "do not use it")
                continue
            if not np.isfinite(g):
                unsure = bound is not None and Decimal(bound) >= abs(e)  # not one digit sure: shown only
                (notes if unsure else bad).append(f"{{name}} = {{e:.6g}}: float64 gives {{g!r}}")
                continue
            error = abs(Decimal(g) - e)
            tolerance = Decimal(RTOL) * abs(e) if e else Decimal(ATOL)
            if bound is not None:
                size = (lambda a: f"{{float(a / abs(e)):.1e}} of its size") if e else (lambda a: f"{{float(a):.1e}}")
                within = "within" if error <= 2 * Decimal(bound) else "beyond"
                if 0 < abs(e) < Decimal(sys.float_info.min):
                    notes.append(f"{{name}} = {{e:.6g}}: below float64's normal range (2.2e-308): float64 gives {{g!r}}, "
                                 f"{{within}} its rounding bound {{bound:.1e}}")
                else:
                    notes.append(f"{{name}} = {{e:.6g}}: float64 gives {{g!r}}, an error of {{size(error)}}, {{within}} its "
                                 f"rounding bound {{size(Decimal(bound))}}")
                tolerance = max(tolerance, 2 * Decimal(bound))
            elif e and error / abs(e) > largest[0]:
                largest = (float(error / abs(e)), name)
            if error > tolerance:
                bad.append(f"{{name}}: got {{g!r}}, expected {{e:.6g}}")
    return bad, notes, largest


def spread(W_a):
    """How far the hidden units differ: the largest spread (max - min over the units) of a column of W_a."""
    return float(np.max(np.ptp(W_a, axis=0)))


def train(steps, lr):
    """Gradient descent on PROBLEM from its init: the loss and the hidden units' spread as it goes."""
    x, y, params = problem()
    shown = set(range(0, steps + 1, max(1, steps // 10))) | {{steps}}
    for step in range(steps + 1):
        g = gradients(x, y, params)
        if step in shown:
            print(f"step {{step:>7}}  loss {{number(g['loss'])}}  spread {{number(spread(params['W_a']))}}")
        if step < steps:
            params = {{name: params[name] - lr * g[name] for name in PARAMS}}
    s = spread(params["W_a"])
    verdict = ("the hidden units are still identical: this init never breaks their symmetry" if s == 0
               else "the hidden units differ")
    print(f"after {{steps}} steps, spread {{number(s)}}: {{verdict}}")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        self.exit(2, f"{{self.prog}}: error: {{message}} (see --help)\\n")


def whole(text):
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 1 <= n <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps from 1 to {{MAX_STEPS}}, got {{text[:40]!r}}")
    return n


def rate(text):
    try:
        lr = float(text)
    except ValueError:
        lr = float("nan")
    if not 0 < lr < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {{text[:40]!r}}")
    return lr


def main(argv=None):
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    parser = Parser(prog="BackProp.py", description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--train", type=whole, metavar="N", help="run N steps of gradient descent instead")
    parser.add_argument("--lr", type=rate, metavar="ETA", help="the learning rate of --train (default 0.5)")
    args = parser.parse_args(argv)
    if args.lr is not None and args.train is None:
        parser.error("argument --lr: only with --train N")
    if args.train is not None:
        train(args.train, 0.5 if args.lr is None else args.lr)
        return 0
    x, y, params = problem()
    v = values(x, y, params)
    report(v)
    bad, notes, largest = check(v)
    if notes:
        print(f"{{len(notes)}} value(s) may be further than rtol {{RTOL}} from the exact ones in float64 (ill-conditioned: "
              "a difference of nearly equal numbers, such as 1 − Y for Y near 1; or outside float64's range):")
        for line in notes[:20] + ([f"... and {{len(notes) - 20}} more"] if len(notes) > 20 else []):
            print("  " + line)
    if bad:
        print(f"Self-check FAILED: {{len(bad)}} value(s) differ from the exact derivation (rtol {{RTOL}}, atol {{ATOL}}):")
        for line in bad[:20]:
            print("  " + line)
        return 1
    print(f"Self-check passed: {{len(EXPECTED)}} quantities agree with the exact derivation (rtol {{RTOL}}, atol {{ATOL}}"
          f"{{', the values above within their rounding bounds' if notes else ''}}); the largest relative error"
          f"{{' of the others' if notes else ''}} is {{largest[0]:.1e}}" + (f" ({{largest[1]}})." if largest[1] else "."))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # a reader that stopped early (| head): not an error
        sys.stdout = open(os.devnull, "w")
        sys.exit(0)'''
