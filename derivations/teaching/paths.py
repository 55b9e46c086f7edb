r"""A parameter's gradient along its paths, for both views.

The worked solution lists a parameter's paths (each a product of local derivatives), then the handout's
bracket with the numbers in (:func:`gradient_section`; with ``detail`` its closed forms too). The students' page
gives each asked parameter a block (:func:`path`): its title, its diagram, the local derivative of every
operation its paths cross (:data:`PATH`, a rule per kind of operation), the values a deeper path needs once
(:func:`ensure`), and the chain with its blanks.

>>> from derivations import evaluate, load_problem
>>> from derivations.teaching.page import Context
>>> values = evaluate(load_problem())
>>> w = values.derivation.param("w_b11")
>>> print(gradient_section(Context(values, 6), w).lines[-1].text())
∂ℒ/∂w^b_11 = [∂Y_1/∂O_1·∇Y_1 + ∂Y_2/∂O_1·∇Y_2]·L_1 = [0.25·(−0.5) + (−0.25)·0.5]·0.15 = (−0.25)·0.15 = −0.0375 = −3/80
"""

from __future__ import annotations

from dataclasses import replace

from sympy import Add, Expr, Integer, Mul, Rational
from sympy.core.parameters import evaluate

from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep, Param
from ..engine.problem import LETTERS
from ..notation.printing import Tagged, Words, applied
from ..notation.tree import (LOSS, Aligned, Call, Frac, Numeral, Operator, Paren, Row, Slot, Sym, Under, grad_sym, partial,
                             row, sym)
from .backward import (BACKWARD, Bracket, activation_local, hidden_bracket, jacobian, loss_local, numbers, output_bracket,
                       substitute)
from .page import Display, Figure, Line, Prose, Section, t

MAX_EXPANDED = 20000  # nodes of a closed form in the weights written out; past it, its size is given instead
MAX_LISTED_PATHS = 64  # a deep network's first-layer weight has thousands of paths: past this, none listed
PATH_COLOURS = ("red", "blue", "green", "orange", "purple", "grey")

#: The local derivative a parameter's paths pick up crossing an operation, as the page writes it:
#: ``PATH(op, context, param)`` -> a tree (``∂Y_k/∂O_1 = Y_k(δ_k1 − Y_1)``).
PATH = Aspect("the path factors")


# -- the solution: the paths, the bracket, the closed forms ------------------------------------------------


def default_params(d) -> list:
    """The gradients the handout asks for, with their roles: the worked example and the two practice
    paths (``w_b11``, ``w_b21``, ``w_a11`` in the handout; the last layer's and the first layer's in a deeper
    network). With one output unit the practice weight of the last layer is ``w_b12`` (from the second unit
    before it), and with one unit there too, there is none."""
    layers = d.problem.layers
    last = len(layers) - 2
    out = [(Param(last, "weight", 0, 0), "worked example, red path")]
    if layers[-1] > 1:
        out.append((Param(last, "weight", 1, 0), "practice, blue path"))
    elif layers[-2] > 1:
        out.append((Param(last, "weight", 0, 1), "practice, blue path"))
    out.append((Param(0, "weight", 0, 0), "practice, green path"))
    return [(w.key(d.symbols.wide), role) for w, role in out]


def gradient_section(cx, w: Param, role: str = "", detail: bool = False) -> Section:
    """One parameter's gradient: its paths, then the handout's bracket with the numbers filled in (and, with
    ``detail``, its closed forms with symbolic weights)."""
    d, p, sy, n, values = cx.d, cx.p, cx.d.symbols, cx.n, cx.v
    wide = sy.wide
    name = w.name(wide)
    wtex = n.names[sy.param(w)]
    title_text = f"∂ℒ/∂{name}" + (f" ({role})" if role else "")
    sec = Section(f"grad_{w.key(wide)}", t(title_text, rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}"))
    count = d.count_paths(w) * p.n_samples
    paths = d.paths(w) if count <= MAX_LISTED_PATHS else []
    per = f" ({count // p.n_samples} per sample, each times 1/{p.n_samples})" if p.n_samples > 1 else ""
    sec.intro = f"{count} path{'s' if count != 1 else ''} from ℒ to {name}{per}, each a product of local derivatives" + (
        ":" if paths else f"; more than {MAX_LISTED_PATHS}, so not listed: the bracket below sums them layer by layer.")
    for pa in paths:
        factor_values = [n.num(values.value(f)) for f in pa.factors]
        with evaluate(False):
            product = Mul(*pa.factors) if len(pa.factors) > 1 else pa.factors[0]
            nums = Mul(*factor_values)
        label_tex = r" \to ".join(pa.tex_labels + [wtex])
        sec.lines.append(cx.line(Tagged(pa.text(wide), label_tex, product), nums, value=values.value(Mul(*pa.factors)),
                                 label="path", given=1))
    lhs = Words(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}")
    op = d.op_of(w)
    value = values.grad(w)
    if w.shared:
        sec.lines += _shared_lines(cx, w, op, lhs, value)
    elif p.n_samples == 1:
        written, nums = _bracket(cx, w, op, 0)
        tail = [_inner_value(cx, w, op, 0), *_tail_values(cx, w, op, 0)]
        with evaluate(False):
            prod = Mul(*(n.num(v) for v in tail)) if len(tail) > 1 else n.num(tail[0])
        sec.lines.append(cx.line(lhs, written, nums, prod, value=value, label=w.key(wide), given=2))
    else:
        for s in cx.samples():
            written, nums = _bracket(cx, w, op, s)
            g = Words(f"∂ℓ^[{s + 1}]/∂{name}", rf"\frac{{\partial \ell^{{[{s + 1}]}}}}{{\partial {wtex}}}")
            sample_value = values.value(_sample_gradient(d, w, op, s))
            sec.lines.append(cx.line(g, written, nums, value=sample_value, label=f"{w.key(wide)}@{s + 1}", given=2))
        terms = [n.num(values.value(_sample_gradient(d, w, op, s))) for s in cx.samples()]
        with evaluate(False):
            mean = Mul(Rational(1, p.n_samples), Add(*terms))
        sec.lines.append(cx.line(lhs, mean, value=value, label=w.key(wide), given=1))
    if detail:
        sec.lines += _closed_forms(cx, w, name, wtex)
    return sec


def _shared_lines(cx, w: Param, op, lhs, value) -> list:
    """A shared bias: the sentence saying why its gradient is a sum, each unit's ``∇Z_i`` with its bracket, then
    their sum (their mean over the samples)."""
    d, n, wide = cx.d, cx.n, cx.d.symbols.wide
    name, tex = w.name(wide), n.names[d.symbols.param(w)]
    out = [Line([Words(f"{name} is shared by the layer's units: its gradient is the sum of the units' gradients.",
                       rf"{tex} \text{{ is shared by the layer's units: its gradient is the sum of the units' gradients.}}")],
                prose=True, names=n.names)]
    for s in cx.samples():
        out += cx.sample_note(s)
        for i in w.units(len(d.symbols.node(op.out, s))):
            written, nums = _bracket(cx, replace(w, i=i, shared=False), op, s)
            g = d.symbols.grad(op.out, s)[i]
            out.append(cx.line(g, written, nums, value=cx.v.value(g), given=2))
    total = d.gradient(w)
    out.append(cx.line(lhs, total, substitute(total, numbers(cx.v, [total])), value=value, label=w.key(wide), given=2))
    if w.matrix in cx.v.zeros:  # 0 by a theorem, not by its decimals cancelling: say so, and how it was shown
        out.append(zero_note(cx, w.matrix, name, tex))
    return out


def zero_note(cx, matrix: str, name: str, tex: str) -> Line:
    """Why gradient ``matrix`` of :attr:`Values.zeros` is exactly 0 (the output layer's shared bias under a
    softmax), naming the theorem and how it was established; ``name`` and ``tex`` spell the parameter."""
    lemma = cx.v.zeros[matrix]
    each = " (each sample's)" if cx.S > 1 else ""
    return Line([Words(f"{lemma.name}, {lemma.verdict}: Σ_j ∇O_j = 0{each} for any loss of the softmax output, so ∂ℒ/∂{name} = 0 "
                       "exactly, whatever the numbers.",
                       rf"\text{{{lemma.name}, {lemma.verdict}: }}\sum_j \nabla_{{O_j}} = 0\text{{{each} for any loss of the "
                       rf"softmax output, so }}\frac{{\partial \mathcal{{L}}}}{{\partial {tex}}} = 0\text{{ exactly, whatever "
                       "the numbers.}")],
                prose=True, names=cx.n.names)


def _closed_forms(cx, w: Param, name: str, wtex: str) -> list:
    """The gradient in the layers' quantities (and the bracket's), then in the weights, ``x`` and ``y``."""
    d = cx.d
    out = [cx.line(Words(f"closed form, in the layers' quantities: ∂ℒ/∂{name}",
                         rf"\text{{closed form: }}\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}"),
                   d.gradient(w), d.formula(w), label="formula")]
    size = d.expanded_size(w)
    if w.matrix in cx.v.zeros:  # identically 0 (the theorem above): 0 is its closed form
        expanded = Integer(0)
    elif size <= MAX_EXPANDED:
        expanded = d.expanded(w)
    else:  # summarized: the layered forms above say the same in a few lines
        expanded = Words(f"about {size} nodes, not written out (past {MAX_EXPANDED}); the layered form above is the same",
                         rf"\text{{about {size} nodes, not written out}}")
    return out + [cx.line(Words(f"closed form, in the weights, x and y: ∂ℒ/∂{name}",
                                rf"\text{{in the weights: }}\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}"),
                          expanded, label="expanded")]


def _sample_gradient(d, w: Param, op, s: int) -> Expr:
    """One sample's gradient of the parameter: ``∇out_i · in_j``."""
    return d.symbols.grad(op.out, s)[w.i] * d.into(w, s)


def _inner_value(cx, w, op, s):
    sy = cx.d.symbols
    if op.out == "O":
        return cx.v.value(sy.grad("O", s)[w.i])
    L = sy.keys[sy.keys.index(op.out) + 1]
    return cx.v.value(sy.grad(L, s)[w.i])


def _tail_values(cx, w, op, s) -> list:
    d = cx.d
    out = []
    if op.out != "O":
        out.append(cx.v.value(d.local_activation(w.layer, w.i, s)))
    if w.kind == "weight":
        out.append(cx.v.value(d.into(w, s)))
    return out


def _bracket(cx, w: Param, op, s: int) -> tuple:
    """The handout's bracket for one sample, written and with numbers: ``[∂Y_1/∂O_1·∇Y_1 + …]·L_1``,
    ``[∇O_1·w^b_11 + ∇O_2·w^b_21]·ReLU'(H_1)·x_1``."""
    d, sy, n = cx.d, cx.d.symbols, cx.n
    if op.out == "O":
        inner = d.display[sy.grad("O", s)[w.i]]
        tail_w, tail_n = [], []
    else:
        L = sy.keys[sy.keys.index(op.out) + 1]
        inner = d.display[sy.grad(L, s)[w.i]]
        act = d.act(w.layer)
        H = sy.node(op.out, s)[w.i]
        tail_w = [applied(f"{act.text}'", f"{act.tex}'", H)]
        tail_n = [n.num(cx.v.value(d.local_activation(w.layer, w.i, s)))]
    if w.kind == "weight":
        into = d.into(w, s)
        tail_w.append(into)
        tail_n.append(n.num(cx.v.value(into)))
    inner_numbers = substitute(inner, numbers(cx.v, [inner]))
    with evaluate(False):
        written = Mul(Bracket(inner), *tail_w) if tail_w else Bracket(inner)
        nums = Mul(Bracket(inner_numbers), *tail_n) if tail_n else Bracket(inner_numbers)
    return written, nums


# -- the students' page: a block per asked parameter ---------------------------------------------------------


def _in(cx, q, s=None):
    """``∂Z_i/∂p``'s value-side: the input ``x_j`` / ``L_j`` it multiplies, or 1 for a bias."""
    return Numeral("1") if q.kind == "bias" else cx.ent(cx.linear_in(q.layer), q.j, s)


@PATH.register(LossStep)
def _loss_factor(op, cx, q):
    """``∂ℒ/∂Y_i`` at the unit an elementwise output's path passes, or ``∂ℒ/∂Y_k`` for every ``k``."""
    if cx.d.output.elementwise:  # the loss's rule over all the outputs (an MSE's 2/N), at the path's unit
        return row(partial(cx.loss_sym(), cx.ent("Y", q.i)), "=", loss_local(cx, q.i))
    return row(partial(cx.loss_sym(), sym("Y", sym("k"))), "=", loss_local(cx, sym("k")))


@PATH.register(OutputStep)
def _output_factor(op, cx, q):
    k = q.i if cx.d.output.elementwise else sym("k")
    return row(partial(cx.ent("Y", k), cx.ent("O", q.i)), "=", jacobian(cx, k, q.i))


@PATH.register(LinearStep)
def _linear_factor(op, cx, q):
    """``∂Z_i/∂w_ij = in_j`` in the parameter's own layer; in the next, ``∂Z'_i/∂L_j = w'_ij`` for its unit ``j``."""
    if op.holds(q):
        return row(partial(cx.ent(op.out, q.i), cx.psym(q)), "=", _in(cx, q))
    return row(partial(sym(op.out[0], sym("i"), cx.sup(op.out[1:], None)), cx.ent(op.inp, q.i)), "=",
               Sym("w", Row((sym("i"), Numeral(str(q.i + 1)))), Sym(LETTERS[op.layer])))


@PATH.register(ActivationStep)
def _activation_factor(op, cx, q):
    H, L, act = op.inp, op.out, cx.d.act(op.layer)
    return row(partial(cx.ent(L, q.i), cx.ent(H, q.i)), "=", Call(act.text, (cx.ent(H, q.i),), prime=True), "=",
               activation_local(cx, op.layer, q.i))


def along(*pieces) -> Prose:
    parts = [("b", "Derivatives along path: ")]
    for k, piece in enumerate(pieces):
        parts += ([",  "] if k else []) + [piece]
    return Prose(parts)


def path(cx, q, number: int):
    """One asked parameter: its title, its diagram, the local derivatives along its paths, and the chain."""
    colour = PATH_COLOURS[number % len(PATH_COLOURS)]
    last = q.layer == len(cx.p.weights) - 1
    if not last:
        ensure(cx, cx.linear_out(q.layer + 1))
    Z, IN = cx.linear_out(q.layer), cx.linear_in(q.layer)
    w = cx.psym(q)
    label = "Example: " if number == 0 else "Practice: "
    if q.shared:
        units = [x for k in range(len(cx.fwd(Z, 0))) for x in ([", "] if k else []) + [cx.ent(Z, k)]]
        link = [w, " feeds ", *units]
    elif q.kind == "bias":
        link = [w, " feeds ", cx.ent(Z, q.i)]
    else:
        link = [w, " connects ", cx.ent(IN, q.j), " to ", cx.ent(Z, q.i)]
    tail = []
    if not last:
        through = cx.p.depth - q.layer
        if cx.p.depth == 1:
            tail = ["; longer chain through the hidden layer"]
        else:
            tail = [f"; longer chain through hidden layer {q.layer + 1}" if through == 1
                    else f"; longer chain through {through} hidden layers"]
    if cx.S > 1:  # the diagram draws one sample's network (its values on the key)
        tail.append("; the diagram shows sample 1")
    cx.add(Prose([("b", label), partial(LOSS, w), f" ({colour} path: ", *link, "".join(tail) + ")"]))
    cx.add(Figure(q.key(cx.d.symbols.wide), colour, f"{colour} path"))
    if q.shared:
        shared_path(cx, q)
    elif last:
        output_path(cx, q, number == 0)
    else:
        hidden_path(cx, q)


def shared_path(cx, q):
    """A shared bias: every unit ``Z_i`` of its layer adds it (``∂Z_i/∂b = 1``), so ``∂ℒ/∂b = Σ_i ∇Z_i`` (the mean
    over the samples of that): the units' gradients once (:func:`ensure`), then their sum."""
    S, nb, wide = cx.S, cx.nb, cx.d.symbols.wide
    Z, w = cx.linear_out(q.layer), cx.psym(q)
    units = range(len(cx.fwd(Z, 0)))
    terms = [x for s in range(S) for i in units for x in (["+"] if s or i else []) + [grad_sym(cx.ent(Z, i, s))]]
    cx.add(Prose([("b", "Derivatives along path: "), partial(cx.ent(Z, sym("i")), w), " = 1 for every unit ",
                  sym("i"), ". ", w, " is shared by the layer's units: its gradient is the sum of the units' gradients"
                  + (", averaged over the samples." if S > 1 else ".")]))
    ensure(cx, Z)
    mean = [Frac(Numeral("1"), Numeral(str(S)))] if S > 1 else []
    nums = []
    for s in range(S):
        for i in units:
            value = Slot(nb.num(cx.bwd("dL_d" + Z, s)[i]), key=f"backward.dL_d{Z}[{i + 1}]{cx.at(s)}")
            nums += (["+"] if s or i else []) + [Paren(value)]
    g, gk = cx.v.grad(q), f"grad.{q.key(wide)}"
    body = (lambda parts: [*mean, Paren(row(*parts))] if S > 1 else parts)
    rows = (row(partial(LOSS, w), "&=", *body(terms)), row("&=", *body(nums), "=", cx.ans(g, gk)))
    cx.add(Display(f"grad_{q.key(wide)}", Aligned(rows)))


def input_path(cx, j: int, number: int):
    """An input's gradient (``[worksheet] ask = ["x_1"]``): ``∂ℒ/∂x_j = Σ_i ∇H_i·w^a_ij`` (every unit of the first
    layer reads ``x_j``), for each sample its own (``backward.dL_dx[j]@s``), from the ``∇H_i`` computed once."""
    S, nb = cx.S, cx.nb
    Z, W, letter = cx.linear_out(0), cx.p.weights[0], LETTERS[0]
    units = range(W.rows)
    x = cx.ent("x", j)
    fed = [piece for i in units for piece in ([", "] if i else []) + [cx.ent(Z, i)]]
    colour = PATH_COLOURS[number % len(PATH_COLOURS)]
    sample = "; the diagram shows sample 1" if S > 1 else ""
    cx.add(Prose([("b", "Example: " if number == 0 else "Practice: "), partial(LOSS, x), f" ({colour} path: the gradient "
                  "with respect to an input: ", x, " feeds ", *fed, sample + ")"]))
    cx.add(Figure(f"x_{j + 1}", colour, f"{colour} path"))
    cx.add(Prose([("b", "Derivatives along path: "), partial(cx.ent(Z, sym("i")), x), " = ",
                  Sym("w", Row((sym("i"), Numeral(str(j + 1)))), Sym(letter)),
                  f"; {'the units add' if len(units) > 1 else 'one unit'}: ", partial(LOSS, x), " = ",
                  Sym("sum", sym("i")), grad_sym(cx.ent(Z, sym("i"))), Sym("w", Row((sym("i"), Numeral(str(j + 1)))), Sym(letter))]
                 + ([" (for each sample its own: the gradient of that sample's loss)"] if S > 1 else [])))
    ensure(cx, Z)
    rows = []
    for s in range(S):
        lhs = partial(cx.loss_sym(s), cx.ent("x", j, s if S > 1 else None))
        terms, nums = [], []
        for i in units:
            terms += (["+"] if i else []) + [grad_sym(cx.ent(Z, i, s if S > 1 else None)), cx.psym(Param(0, "weight", i, j))]
            value = Slot(nb.num(cx.bwd("dL_d" + Z, s)[i]), key=f"backward.dL_d{Z}[{i + 1}]{cx.at(s)}")
            nums += (["+"] if i else []) + [Paren(value), "·", Slot(nb.factor(W[i, j]), given=True)]
        g = cx.v.input_gradients[s][j]
        rows += [row(lhs, "&=", *terms), row("&=", *nums, "=", cx.ans(g, f"backward.dL_dx[{j + 1}]{cx.at(s)}"))]
    cx.add(Display(f"grad_x{j + 1}", Aligned(tuple(rows))))


def output_path(cx, q, example: bool):
    """``∂ℒ/∂w^b_ij = [Σ_k ∂Y_k/∂O_i ∇Y_k]·∂O_i/∂w^b_ij = [__]·__ (= (__)(__)) = __``."""
    p, nb, out, ops = cx.p, cx.nb, cx.d.output, cx.d.ops
    i = q.i
    w = cx.psym(q)
    ks = [i] if out.elementwise else list(range(p.n_out))
    cx.add(along(PATH(ops[-1], cx, q), PATH(ops[-2], cx, q), PATH(cx.d.op_of(q), cx, q)))
    g = cx.v.grad(q)
    gk = f"grad.{q.key(cx.d.symbols.wide)}"
    order = "dY first" if example else "grad first"
    if cx.S > 1:
        cx.add(Display(f"grad_{q.key(cx.d.symbols.wide)}", batch_chain(cx, q, g, gk, order)))
        return
    terms, nums = output_bracket(cx, i, ks, 0, order)
    dO = f"backward.dL_dO[{i + 1}]"
    cx.introduced.add(("O", i, 0))
    head = row(partial(LOSS, w), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(cx.ent("O", i))), "·",
               Under(partial(cx.ent("O", i), w), row("=", _in(cx, q))))
    if q.kind == "bias":
        in_slot = Slot(Numeral("1"), given=True)
        in_factor = Slot(Numeral("1"), given=True)
    else:
        Lk = cx.in_key(q.layer, q.j, 0)
        v = cx.in_value(q.layer, q.j, 0)
        in_slot, in_factor = Slot(nb.factor(v), key=Lk), Slot(nb.num(v), key=Lk)  # after "·", a negative bracketed
    rows = [head]
    if example:  # the worked example: one more line, the two factors
        rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", in_slot))
        rows.append(row("&=", Paren(Slot(nb.num(cx.bwd("dL_dO", 0)[i]), key=dO)), Paren(in_factor), "=", cx.ans(g, gk)))
    else:
        rows.append(row("&=", cx.bracket(nums, cx.bwd("dL_dO", 0)[i], dO), "·", in_slot, "=", cx.ans(g, gk)))
    cx.add(Display(f"grad_{q.key(cx.d.symbols.wide)}", Aligned(tuple(rows))))


def hidden_path(cx, q):
    """``∂ℒ/∂w^a_ij = [Σ_k ∇Z'_k w'_ki]·act'(H_i)·in_j = [__]·__·__ = __``."""
    p, nb = cx.p, cx.nb
    l, i = q.layer, q.i
    H, L, nxt = cx.keys[2 * l], cx.keys[2 * l + 1], cx.linear_out(l + 1)
    act = cx.d.act(l)
    w = cx.psym(q)
    own = cx.d.ops.index(cx.d.op_of(q))
    block = along(*(PATH(op, cx, q) for op in cx.d.ops[own:own + 3]))  # its layer, its activation, the next layer
    n_next = p.weights[l + 1].rows
    outs = Row(tuple(x for k in range(n_next) for x in ([Operator(",")] if k else []) + [cx.ent(nxt, k)]))
    # several units fed: their contributions add up; one: a single path on
    block.parts += ["  (", cx.ent(L, i), " feeds ", outs, " — sum their contributions)" if n_next > 1 else " only)"]
    cx.add(block)
    g = cx.v.grad(q)
    gk = f"grad.{q.key(cx.d.symbols.wide)}"
    if cx.S > 1:
        cx.add(Display(f"grad_{q.key(cx.d.symbols.wide)}", batch_chain(cx, q, g, gk, "grad first")))
        return
    lv = cx.v.value(cx.d.local_activation(l, i, 0))  # exact, its decimal known (tanh's 1 − L²)
    actp = Call(act.text, (cx.ent(H, i),), prime=True)
    terms, nums = hidden_bracket(cx, l, i, 0)
    if act.rational and cx.paper:  # the paper gives ReLU'(H_1) = 1 (read off H_1's sign); other pages grade it
        told = row("=", Slot(nb.num(lv), given=True))
    else:  # a sigmoid's derivative is a number the student computes (the blank below): give its formula
        told = row("=", activation_local(cx, l, i))
    first = [partial(LOSS, w), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(cx.ent(L, i))), "·", Under(actp, told)]
    second = ["&=", cx.bracket(nums, cx.bwd("dL_d" + L, 0)[i], f"backward.dL_d{L}[{i + 1}]"), "·",
              Slot(nb.factor(lv), key=f"local.d{L}_d{H}[{i + 1}]")]
    if q.kind == "weight":
        v = cx.in_value(l, q.j, 0)
        into = cx.ent(cx.linear_in(l), q.j)  # its value told where it is data (x_j), or on the paper's own page
        first += ["·", Under(into, row("=", Slot(nb.num(v), given=True))) if l == 0 or cx.paper else into]
        second += ["·", Slot(nb.factor(v), key=cx.in_key(l, q.j, 0))]
    cx.add(Display(f"grad_{q.key(cx.d.symbols.wide)}", Aligned((row(*first), row(*second, "=", cx.ans(g, gk))))))


def node_rows(cx, key: str, i: int, s: int, order: str = "dY first") -> list:
    """``∇Z_i = [...] (·act'(H_i)) = [__] (·__) = __``: one backward value, as rows of an aligned block, from the
    operation that reads ``Z`` (whose step back computes ``∇Z``); noted as asked, so no later block asks again."""
    cx.introduced.add((key, i, s))
    return BACKWARD(cx.d.consumer(key), cx, s).rows(i, order)


def ensure(cx, key: str):
    """Every ``∇key`` a deeper path needs, computed once: a values block for those no path has asked yet."""
    if key != "O":
        ensure(cx, cx.linear_out(cx.keys.index(key) // 2 + 1))
    width = len(cx.fwd(key, 0))
    missing = [(i, s) for s in range(cx.S) for i in range(width) if (key, i, s) not in cx.introduced]
    if not missing:
        return
    cx.add(Prose([("b", "Values"), " (used by the paths below): ", row(grad_sym(cx.ent(key, sym("i"))), "=",
                                                                     *general_node(cx, key))], key=f"values_d{key}"))
    rows = []
    for i, s in missing:
        rows += node_rows(cx, key, i, s)
    cx.add(Display(f"values_d{key}", Aligned(tuple(rows))))


def general_node(cx, key: str) -> list:
    """``∇Z_i`` in general: ``Σ_k ∂Y_k/∂O_i ∇Y_k``, or ``(Σ_k ∇Z'_k w'_ki)·act'(H_i)``."""
    i_, k_ = sym("i"), sym("k")
    if key == "O":
        if cx.d.output.elementwise:
            return [partial(sym("Y", i_), sym("O", i_)), grad_sym(sym("Y", i_))]
        return [Sym("sum", k_), partial(sym("Y", k_), sym("O", i_)), grad_sym(sym("Y", k_))]
    l = cx.keys.index(key) // 2
    nxt = cx.linear_out(l + 1)
    return [Paren(row(Sym("sum", k_), grad_sym(cx.ent(nxt, k_)), Sym("w", Row((k_, i_)), Sym(LETTERS[l + 1])))), "·",
            Call(cx.d.act(l).text, (cx.ent(key, i_),), prime=True)]


def batch_chain(cx, q, g, gk: str, order: str):
    """Several samples: ``∂ℒ/∂p = 1/S Σ_s ∇Z^[s]_i in^[s]_j``, each sample's ``∇Z^[s]_i``, then the mean."""
    S, nb, l, i = cx.S, cx.nb, q.layer, q.i
    Z = cx.linear_out(l)
    mean = Frac(Numeral("1"), Numeral(str(S)))
    w = cx.psym(q)

    def factor(s):
        return [] if q.kind == "bias" else [cx.ent(cx.linear_in(l), q.j, s)]
    terms = []
    for s in range(S):
        terms += (["+"] if s else []) + [row(grad_sym(cx.ent(Z, i, s)), *factor(s))]
    rows = [row(partial(LOSS, w), "&=", mean, Paren(row(*terms)))]
    for s in range(S):
        if (Z, i, s) not in cx.introduced:
            rows += node_rows(cx, Z, i, s, order)
    nums = []
    for s in range(S):
        val = Paren(Slot(nb.num(cx.bwd("dL_d" + Z, s)[i]), key=f"backward.dL_d{Z}[{i + 1}]{cx.at(s)}"))
        if q.kind == "weight":
            v = cx.in_value(l, q.j, s)
            nums += (["+"] if s else []) + [row(val, Paren(Slot(nb.num(v), key=cx.in_key(l, q.j, s))))]
        else:
            nums += (["+"] if s else []) + [val]
    rows.append(row("&=", mean, Paren(row(*nums)), "=", cx.ans(g, gk)))
    return Aligned(tuple(rows))


def input_section(cx, j: int) -> Section:
    """An input's gradient in the worked solution (``--param x_1``): ``x_j`` feeds every unit of the first layer,
    so ``∂ℒ/∂x_j = Σ_i ∇H_i·w^a_ij``, with the numbers; with several samples, each sample's own (the gradient
    of that sample's loss, as ``backward.dL_dx[j]@s``).

    >>> from derivations import evaluate, load_problem
    >>> from derivations.teaching.page import Context
    >>> print(input_section(Context(evaluate(load_problem()), 6), 0).lines[-1].text())
    ∂ℒ/∂x_1 = w^a_11·∇H_1 + w^a_21·∇H_2 + w^a_31·∇H_3 + w^a_41·∇H_4 = 0.1·0 + 0.1·0 + 0.1·0 + 0.1·0 = 0
    """
    d = cx.d
    name, tex = f"x_{j + 1}", f"x_{{{j + 1}}}"
    sec = Section(f"grad_x{j + 1}", t(f"∂ℒ/∂{name} (an input)", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {tex}}}"))
    sec.intro = (f"{name} feeds every unit of the first layer: its gradient is the sum, over those units, of each "
                 "unit's gradient times the weight on its edge from " + name
                 + (" (each sample its own: the gradient of that sample's loss)" if cx.S > 1 else ""))
    for s in cx.samples():
        sec.lines += cx.sample_note(s)
        g = d.input_gradient(j, s)
        lhs = (Words(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {tex}}}") if cx.S == 1 else
               Words(f"∂ℓ^[{s + 1}]/∂{name}", rf"\frac{{\partial \ell^{{[{s + 1}]}}}}{{\partial {tex}}}"))
        sec.lines.append(cx.line(lhs, g, substitute(g, numbers(cx.v, [g])), value=cx.v.input_gradients[s][j],
                                 label=f"x_{j + 1}" + (f"@{s + 1}" if cx.S > 1 else ""), given=2))
    return sec
