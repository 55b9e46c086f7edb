r"""The forward step of each operation: what it computes on one sample, found once, written for both views.

:data:`FORWARD` is an :class:`~derivations.engine.derivation.Aspect`: a class per kind of operation, registered
by the operation's class, whose instance holds the step of one sample (its inputs, its outputs, the answer
key of each) and writes it as the worked solution's lines (:meth:`Step.lines`, a line per unit:
``H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15``) and as the students' page's blocks (:meth:`Step.blocks`, the
paper's display: ``H = W_a·x = (…) = (____, …)ᵀ``).

>>> from derivations import evaluate, load_problem
>>> from derivations.notation.tree_printing import to_text
>>> from derivations.teaching.page import Context
>>> values = evaluate(load_problem())
>>> step = FORWARD(values.derivation.ops[1], Context(values, 6), 0, 2)
>>> step.title().text, step.lines()[0].text()
('Step 2: L = ReLU(H)', 'L_1 = ReLU(0.15) = 0.15')
>>> print(to_text(step.blocks()[1].math, worksheet=True))
L = ReLU(____, ____, ____, ____)ᵀ = (____, ____, ____, ____)ᵀ
"""

from __future__ import annotations

from sympy import Add, Mul, Rational, Symbol
from sympy.core.parameters import evaluate

from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep
from ..engine.problem import bias_name, weight_name
from ..notation.printing import applied
from ..notation.tree import LOSS, Call, Frac, Mat, Numeral, Paren, Raw, Slot, Under, Vec, row, sym
from ..notation.tree_printing import from_sympy
from .page import Display, Heading, Prose, Section, t

PRODUCTS_UP_TO = 4  # a linear step writes out each row's products up to this many inputs (the handout's 3 and 4)

#: The forward step of each kind of operation, on one sample: ``FORWARD(op, context, sample, number)``.
FORWARD = Aspect("the forward step")


def step_section(op, cx, number: int) -> Section:
    """The worked solution's section of one operation's step: every sample's lines under one title."""
    steps = [FORWARD(op, cx, s, number) for s in cx.samples()]
    sec = Section(f"step{number}", steps[0].title())
    for step in steps:
        sec.lines += step.lines()
    return sec


class Step:
    """One operation's forward step on sample ``s``, number ``number`` of the handout's steps: what it
    computes (``ins`` to ``outs``, both exact), written for the solution (:meth:`title`, :meth:`lines`) and for
    the students' page (:meth:`blocks`)."""

    def __init__(self, op, cx, s: int, number: int):
        self.op, self.cx, self.s, self.number = op, cx, s, number
        self.outs = cx.v.sample("forward", op.out, s) if op.out != "loss" else None

    @property
    def key(self) -> str:
        """The page's key of the step's display: ``step3``, ``step3@2``."""
        return f"step{self.number}{self.cx.at(self.s)}"

    def title(self):
        raise NotImplementedError

    def lines(self) -> list:
        raise NotImplementedError

    def blocks(self) -> list:
        raise NotImplementedError

    def head(self, *parts) -> Prose:
        """The page's line above the step's display: ``Step 1: H = W_a·x (hidden pre-activation)``."""
        return Prose([("b", f"Step {self.number}: "), *parts])

    def vector_line(self):
        """The solution's ``H = (0.15, 0.15, 0.15, 0.15)ᵀ`` after a step's units."""
        cx = self.cx
        out, out_tex = cx.node_tex(self.op.out)
        return cx.line(cx.vector_name(out, out_tex, self.s), cx.n.vector(self.outs), given=1)


@FORWARD.register(LinearStep)
class LinearForward(Step):
    """``out = W·in (+ b)``: each unit's sum of products."""

    def __init__(self, op, cx, s, number):
        super().__init__(op, cx, s, number)
        p, l = cx.p, op.layer
        self.W = p.weights[l]
        self.ins = [cx.in_value(l, j, s) for j in range(self.W.cols)]
        self.bias = p.biases[l] if p.bias else None

    def what(self) -> str:
        """What the step computes: the output's pre-activation, or a hidden layer's."""
        if self.op.out == "O":
            return "output pre-activation"
        return "hidden pre-activation" if self.cx.p.depth == 1 else f"pre-activation of hidden layer {self.op.layer + 1}"

    def title(self):
        op, cx = self.op, self.cx
        out, out_tex = cx.node_tex(op.out)
        inp, inp_tex = ("x", "x") if op.inp == "x" else cx.node_tex(op.inp)
        W = weight_name(op.layer)
        b = f" + {bias_name(op.layer)}" if self.bias is not None else ""
        b_tex = rf" + b_{{{bias_name(op.layer)[-1]}}}" if self.bias is not None else ""
        return t(f"Step {self.number}: {out} = {W} · {inp}{b} ({self.what()})", rf"{out_tex} = W_{{{W[-1]}}} \cdot {inp_tex}{b_tex}")

    def lines(self):
        cx, op, n = self.cx, self.op, self.cx.n
        out = cx.sample_note(self.s)
        for i in range(self.W.rows):
            with evaluate(False):
                terms = [Mul(n.num(self.W[i, j]), n.num(self.ins[j])) for j in range(self.W.cols)]
                if self.bias is not None:
                    terms.append(n.num(self.bias[i]))
                body = Add(*terms) if len(terms) > 1 else terms[0]
            out.append(cx.line(cx.d.symbols.node(op.out, self.s)[i], body, value=self.outs[i], first_only=True,
                              given=2 if op.inp == "x" else 1))
        return out + [self.vector_line()]

    def blocks(self):
        cx, op, s, nb, W = self.cx, self.op, self.s, self.cx.nb, self.W
        l = op.layer
        Wsym, Zv, INv = cx.matrix_sym(l), cx.vec(op.out, s), cx.vec(cx.linear_in(l), s)
        bias = [] if self.bias is None else ["+", cx.matrix_sym(l, "b")]
        head = self.head(row(Zv, "=", Wsym, "·", INv, *bias), f" ({self.what()})")
        mat = Mat(tuple(tuple(cx.given(W[i, j]) for j in range(W.cols)) for i in range(W.rows)))
        items = []
        for i in range(W.rows):
            terms = []
            for k, (a, c) in enumerate((W[i, j], self.ins[j]) for j in range(W.cols)):
                terms += (["+"] if k else []) + [nb.factor(a), "·", nb.factor(c)]
            if self.bias is not None:
                terms += ["+", nb.factor(self.bias[i])]
            items.append(Slot(row(*terms), key=f"forward.{op.out}[{i + 1}]{cx.at(s)}"))
        # A hidden layer's values, the step before's answers, are its blanks again (the paper, the handout's own
        # page, prints them: no other page gives away what it grades).
        ins = [cx.given(v) if l == 0 or cx.paper else cx.ans(v, cx.in_key(l, j, s)) for j, v in enumerate(self.ins)]
        body = [Zv, "=", Under(mat, Wsym), "·", Under(Vec(tuple(ins)), INv)]
        if self.bias is not None:
            body += ["+", Under(Vec(tuple(cx.given(v) for v in self.bias)), cx.matrix_sym(l, "b"))]
        products = ["=", Vec(tuple(items))] if W.cols <= PRODUCTS_UP_TO else []  # wider rows would not fit a line
        return [head, Display(self.key, row(*body, *products, "=", cx.answers(op.out, s)))]


@FORWARD.register(ActivationStep)
class ActivationForward(Step):
    """``L = act(H)`` unit by unit."""

    def __init__(self, op, cx, s, number):
        super().__init__(op, cx, s, number)
        self.act = cx.d.act(op.layer)
        self.ins = cx.v.sample("forward", op.inp, s)

    def title(self):
        out, out_tex = self.cx.node_tex(self.op.out)
        inp, inp_tex = self.cx.node_tex(self.op.inp)
        return t(f"Step {self.number}: {out} = {self.act.text}({inp})", rf"{out_tex} = {self.act.tex}({inp_tex})")

    def lines(self):
        cx, act, n = self.cx, self.act, self.cx.n
        out = cx.sample_note(self.s)
        for i in range(len(self.ins)):
            out.append(cx.line(cx.d.symbols.node(self.op.out, self.s)[i], applied(act.text, act.tex, n.num(self.ins[i])),
                              value=self.outs[i], first_only=True, given=1))
        return out + [self.vector_line()]

    def blocks(self):
        cx, s, act = self.cx, self.s, self.act
        H, L = self.op.inp, self.op.out
        z = Symbol("z")
        definition = from_sympy(act.written(z), {z: sym("z")})
        head = self.head(row(cx.vec(L, s), "=", Call(act.text, (cx.vec(H, s),))), "     ",
                         row(Call(act.text, (sym("z"),)), "=", definition))
        return [head, Display(self.key, row(cx.vec(L, s), "=", Call(act.text, (cx.answers(H, s),)), "=", cx.answers(L, s)))]


@FORWARD.register(OutputStep)
class OutputForward(Step):
    """``Y = output(O)``: the registry's output layer, written as it writes itself."""

    def __init__(self, op, cx, s, number):
        super().__init__(op, cx, s, number)
        self.out = cx.d.output
        self.ins = cx.v.sample("forward", "O", s)

    def title(self):
        out = self.out
        if out.passes_through:
            return t(f"Step {self.number}: Y = O ({out.text} output)", rf"Y = O\ (\text{{{out.text} output}})")
        return t(f"Step {self.number}: Y = {out.text}(O), {out.definition}", rf"Y = {out.tex}(O),\ {out.definition_tex}")

    def lines(self):
        cx, n = self.cx, self.cx.n
        out = cx.sample_note(self.s)
        written = self.out.written([n.num(o) for o in self.ins])
        for i in range(len(self.ins)):
            out.append(cx.line(cx.d.symbols.node("Y", self.s)[i], written[i], value=self.outs[i], given=1))
        return out + [self.vector_line()]

    def blocks(self):
        """An elementwise layer applied to the logits' blanks; a coupled one (the softmax) with its first output
        written out (``e^{O_1}/(e^{O_1} + e^{O_2})``) and the others' values; the identity as ``Y = O``."""
        cx, s, out, n_out = self.cx, self.s, self.out, len(self.ins)
        at, O, Y = cx.at(s), self.ins, self.outs
        Yv, Ov = cx.vec("Y", s), cx.vec("O", s)
        i_ = sym("i")
        if out.passes_through:
            head = self.head(row(Yv, "=", Ov), f" ({out.text} output: ", row(cx.ent("Y", i_, s), "=", cx.ent("O", i_, s)), ")")
            return [head, Display(self.key, row(Yv, "=", Ov, "=", cx.answers("Y", s)))]
        oi, oj, j = Symbol("O_i"), Symbol("O_j"), Symbol("j")
        general = from_sympy(out.general(oi, oj, j, n_out), {oi: cx.ent("O", i_, s), oj: cx.ent("O", sym("j"), s), j: sym("j")})
        if out.elementwise:
            head = self.head(row(Yv, "=", Call(out.text, (Ov,))), "     ",
                             row(cx.ent("Y", i_, s), "=", Call(out.text, (cx.ent("O", i_, s),)), "=", general))
            return [head, Display(self.key, row(Yv, "=", Call(out.text, (cx.answers("O", s),)), "=", cx.answers("Y", s)))]
        head = self.head(row(Yv, "=", Call(out.text, (Ov,))), "     ", row(cx.ent("Y", i_, s), "=", general))
        os_ = [Symbol(f"o_{k + 1}") for k in range(n_out)]
        first = from_sympy(out.written(os_)[0], {os_[k]: cx.ans(O[k], f"forward.O[{k + 1}]{at}") for k in range(n_out)})
        step = [cx.ent("Y", 0, s), "=", first, "=", cx.ans(Y[0], f"forward.Y[1]{at}")]
        for k in range(1, n_out):
            step += ["quad", cx.ent("Y", k, s), "=", cx.ans(Y[k], f"forward.Y[{k + 1}]{at}")]
        step += ["⇒", Yv, "=", cx.answers("Y", s)]
        return [head, Display(self.key, row(*step))]


@FORWARD.register(LossStep)
class LossForward(Step):
    """The loss of ``Y`` against ``y`` (a sample's ``ℓ`` with several, the last followed by their mean ``ℒ``)."""

    def __init__(self, op, cx, s, number):
        super().__init__(op, cx, s, number)
        self.loss = cx.d.loss_fn
        self.ins = cx.v.sample("forward", "Y", s)
        self.value = cx.v.forward["loss"] if cx.S == 1 else cx.v.forward["losses"][s]
        self.last = s == cx.S - 1

    def title(self):
        cx, loss = self.cx, self.loss
        N = cx.p.n_out
        extra = f", N = {N}" if loss.mean else ""
        extra_tex = rf",\ N = {N}" if loss.mean else ""
        mean = f"; ℒ = mean over the {cx.S} samples" if cx.S > 1 else ""
        return t(f"Step {self.number}: {loss.text} loss, {loss.formula_text}{extra}{mean}",
                 rf"\text{{{loss.text} loss: }}" + loss.formula_tex + extra_tex)

    def lines(self):
        cx, n, sy = self.cx, self.cx.n, self.cx.d.symbols
        with evaluate(False):
            body = self.loss.forward([n.num(v) for v in self.ins], [n.num(v) for v in cx.p.ys[self.s]])
        out = [cx.line(sy.loss[self.s], body, value=self.value, given=1)]
        if cx.S > 1 and self.last:  # ℒ, the mean of the samples' losses
            with evaluate(False):
                mean_expr = Mul(Rational(1, cx.S), Add(*sy.loss))
            out.append(cx.line(sy.total, mean_expr, value=cx.v.forward["loss"], given=1))
        return out

    def blocks(self):
        cx, s, loss_fn, n_out = self.cx, self.s, self.loss, len(self.ins)
        at = cx.at(s)
        # The loss as the registry writes it: its definition, and its formula with the blanks substituted.
        extra = (",", sym("N"), "=", Numeral(str(n_out))) if loss_fn.mean else ()
        raw = Raw(loss_fn.formula_text, loss_fn.formula_tex, loss_fn.formula_typst)
        if cx.S > 1:  # a sample's loss is ℓ; ℒ is the mean over the samples (the last step)
            raw = Raw(raw.text.replace("ℒ", "ℓ"), raw.tex.replace(r"\mathcal{L}", r"\ell"), raw.typst.replace("cal(L)", "ell"))
            extra += ((" outputs",) if extra else ())
        Ys = [Symbol(f"Y_{k + 1}") for k in range(n_out)]
        ys = [Symbol(f"y_{k + 1}") for k in range(n_out)]
        slots = {**{Ys[k]: cx.ans(self.ins[k], f"forward.Y[{k + 1}]{at}") for k in range(n_out)},
                 **{ys[k]: cx.ans(cx.p.ys[s][k], f"problem.y[{k + 1}]{at}") for k in range(n_out)}}
        body = from_sympy(loss_fn.written(Ys, ys), slots)
        head = [("b", f"Step {self.number}: {loss_fn.title}"), "     ", row(raw, *extra)]
        if cx.S > 1:
            head += [" (sample ", Numeral(str(s + 1)), "'s loss)"]
        key = "forward.loss" + at
        fraction = cx.nb.fraction(self.value)
        ends = [cx.ans(self.value, key)] + ([Slot(fraction, key=key)] if fraction is not None and cx.n.decimal(self.value) is not None else [])
        out = [Prose(head), Display(self.key, row(cx.loss_sym(s) if cx.S > 1 else LOSS, "=", body,
                                                  *sum((["=", e] for e in ends), [])))]
        return out + (self.mean_blocks() if cx.S > 1 and self.last else [])

    def mean_blocks(self) -> list:
        """The page's last forward step with several samples: ``ℒ = 1/S (ℓ^[1] + …)``."""
        cx, S = self.cx, self.cx.S
        mean = Frac(Numeral("1"), Numeral(str(S)))
        terms, nums = [], []
        for s in range(S):
            terms += (["+"] if s else []) + [cx.loss_sym(s)]
            nums += (["+"] if s else []) + [cx.ans(cx.v.forward["losses"][s], f"forward.loss@{s + 1}")]
        n = self.number + 1
        return [Heading("The mean loss", 3),
                Prose([("b", f"Step {n}: "), row(LOSS, "=", mean, Paren(row(*terms))), " (the mean over the samples)"]),
                Display(f"step{n}", row(LOSS, "=", mean, Paren(row(*nums)), "=", cx.ans(cx.v.forward["loss"], "forward.loss")))]
