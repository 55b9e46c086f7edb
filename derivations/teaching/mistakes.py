"""The slips a student makes, generated from the operations of the problem: each operation kind brings the
single-step slips made at it (:data:`SLIPS`, an :class:`~derivations.engine.derivation.Aspect` registered by
class, so a new kind of operation gets its slips by construction and the tests name a kind that has none),
and each slip is the same derivation with one local rule done differently
(:class:`~derivations.engine.derivation.Derivation` with ``rules``).

A :class:`Mistake` carries a stable ``name`` (what the checker's JSON, ``grades.csv`` and the self-check page
report; the names of earlier versions are kept), a short ``title``, a one-sentence ``explanation`` (why it is
wrong) and a ``hint`` (the fix). Most are a rule replacement; a few are read off the correct derivation by the
marking (:mod:`derivations.teaching.marking`): *one path only* (one term of a chain-rule sum, or one path of a
gradient), *the transposed weight* (the gradient of ``w_ji`` given for ``w_ij``) and, with shared biases, *one
unit only* (one unit's share of a shared bias's gradient, not the sum).

>>> from sympy import ImmutableMatrix
>>> from derivations.engine.problem import make_problem
>>> square = make_problem((2, 2, 2), "relu", "mse", (1, 2), (1, 0), [ImmutableMatrix([[1, 2], [3, 4]])] * 2)
>>> [m.name for m in catalogue(square) if "transposed" in m.name]
['backward-weight-transposed', 'weight-transposed']

Nothing here names an activation, an output layer or a loss: what a slip needs to know comes from the
registry (``Loss.factor``, ``Loss.mean``, ``Activation.can_die``, ``Activation.shapes``,
``Output.passes_through``), a slip only one output layer invites is that layer's own
(``Output.forward_slips``, ``Output.jacobian_slips``: the softmax's normalisation and cross terms), and a slip
that changes nothing on a problem (the identity's derivative taken as 1) is left out by the marking.

>>> from derivations.engine.problem import load_problem
>>> [m.name for m in catalogue(load_problem())]  # doctest: +NORMALIZE_WHITESPACE
['weight-wrong-end', 'linear-input-pre-activation', 'weight-gradient-pre-activation', 'activation-skipped',
 'activation-derivative-one', 'activation-derivative-at-zero', 'softmax-skipped', 'softmax-unnormalised',
 'softmax-derivative-identity', 'softmax-skipped-backward', 'softmax-derivative-of-O',
 'softmax-cross-term-dropped', 'softmax-cross-term-sign', 'loss-factor-1/N', 'loss-factor-1',
 'loss-derivative-no-mean', 'loss-no-mean', 'gradient-sign', 'loss-target-dropped', 'gradient-final-sign',
 'weight-transposed', 'one-path-only']
>>> from derivations.engine.values import Values
>>> Values(variant(load_problem(), "loss-factor-1/N")).lookup("backward.dL_dY[1]")
-1/4
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Eq, Integer, Piecewise, Rational

from ..engine.derivation import (ActivationStep, Aspect, Derivation, LinearStep, LossStep, OutputStep, Symbols,
                                 operations)
from ..engine.ops import ACTIVATIONS, LOSSES, OUTPUTS
from ..engine.problem import Problem

ONE_PATH = "one-path-only"
TRANSPOSED = "weight-transposed"
BACKWARD_TRANSPOSED = "backward-weight-transposed"
ONE_UNIT = "shared-bias-one-unit"


@dataclass(frozen=True)
class Mistake:
    """One slip on one problem: ``rules`` for :class:`Derivation` (empty for those read off the correct
    derivation, :data:`ONE_PATH`, :data:`TRANSPOSED` and :data:`ONE_UNIT`)."""

    name: str
    title: str
    explanation: str
    hint: str
    rules: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "explanation": self.explanation, "hint": self.hint}


#: The slips made at each kind of operation: ``SLIPS(op, problem, symbols)`` -> ``[Mistake]``.
SLIPS = Aspect("slips")


@SLIPS.register(LinearStep)
def _linear_slips(op: LinearStep, problem: Problem, symbols: Symbols) -> list:
    out = []
    if op.layer == 0:  # the first linear step's slips cover every linear step (a rule sees its operation)
        def wrong_end(param, s, default):
            if param.kind != "weight":
                return default
            inp = symbols.x[s] if param.layer == 0 else symbols.node(symbols.keys[2 * param.layer - 1], s)
            return inp[param.i] if param.i < len(inp) else default

        out.append(Mistake(
            "weight-wrong-end", "the wrong end of a weight: ∂out_i/∂w_ij taken as in_i (not in_j)",
            "w_ij connects input j to output i, so ∂O_i/∂w_ij is the input it multiplies, L_j (or x_j).",
            "Read w_ij as 'to i, from j': the gradient is ∇(output i) times input j.",
            {"linear.input": wrong_end}))
        if problem.bias:
            out.append(Mistake(
                "bias-left-out", "the bias left out of a linear step (W·in without + b)",
                "Each unit adds its bias to the weighted sum: out = W·in + b.",
                "Add b_i to the i-th weighted sum before going on.",
                {"linear.bias": lambda op_, b: None}))
        if problem.depth >= 1:  # a hidden layer's pre-activation H read where its activation L belongs
            def pre(op_, s, v):
                if op_.inp == "x":
                    return v
                return symbols.node(symbols.keys[symbols.keys.index(op_.inp) - 1], s)

            def pre_input(param, s, default):
                if param.kind != "weight" or param.layer == 0:
                    return default
                return symbols.node(symbols.keys[2 * param.layer - 2], s)[param.j]

            out.append(Mistake(
                "linear-input-pre-activation", "the pre-activation H used where the activation L belongs (W·H)",
                "The next layer multiplies the activations L = act(H), not the pre-activations H.",
                "Apply the activation first: the next linear step takes L.",
                {"linear.source": pre}))
            out.append(Mistake(
                "weight-gradient-pre-activation", "∂O_i/∂w_ij taken as H_j (the pre-activation), not L_j",
                "A weight multiplies the activation L_j of the unit it comes from, so ∂O_i/∂w_ij = L_j.",
                "The gradient of a weight is ∇(output i) times the value it multiplies: L_j, not H_j.",
                {"linear.input": pre_input}))
    square = [l for l, W in enumerate(problem.weights) if l > 0 and W.rows == W.cols]
    if square and op.layer == square[0]:  # ∇L_j = Σ_i w_ij ∇O_i (column j); row j is w_ji
        def transposed_edges(op_, s, i, default):
            if not isinstance(op_, LinearStep) or op_.layer not in square:
                return default
            W = symbols.W[op_.layer]
            return [(j, W[j, i]) for j in range(W.cols)]

        inp, outp, letter = symbols.keys[2 * op.layer - 1], symbols.keys[2 * op.layer], "abcdefgh"[op.layer]
        out.append(Mistake(
            BACKWARD_TRANSPOSED, f"the transposed weight in ∇{inp}: W_{letter}'s row used for its column",
            f"∇{inp}_j = Σ_i w^{letter}_ij ∇{outp}_i sums down column j of W_{letter} (the weights leaving unit j), "
            "not along row j.",
            f"w^{letter}_ij connects unit j to unit i: going back, unit j collects through the weights whose second "
            "index is j.",
            {"edges": transposed_edges}))
    return out


@SLIPS.register(ActivationStep)
def _activation_slips(op: ActivationStep, problem: Problem, symbols: Symbols) -> list:
    if op.layer != 0:  # the first hidden layer's slips cover every hidden layer of the same behaviour
        return []
    acts = [ACTIVATIONS[a] for a in problem.activations]
    out = []
    shaped = [l for l, a in enumerate(acts) if a.shapes]  # skipping the identity changes nothing
    if shaped:
        act = acts[shaped[0]]
        names = list(dict.fromkeys(acts[l].text for l in shaped))
        if len(names) == 1:
            title, why, hint = (f"{act.text} skipped (H used where L = {act.text}(H) belongs)",
                                f"L = {act.text}(H) unit by unit: {act.definition}; H does not pass through unchanged.",
                                f"Apply {act.text} to each H_i before the next layer.")
        else:  # one slip for every layer: named for none of them (a sigmoid layer's was called 'ReLU skipped')
            title, why, hint = ("activation skipped (H used where L = act(H) belongs)",
                                f"L = act(H) unit by unit, with the layer's own activation ({', '.join(names)}); H does "
                                "not pass through unchanged.", "Apply the layer's activation to each H_i before the next layer.")
        out.append(Mistake("activation-skipped", title, why, hint,
                           {"activation.forward": lambda layer, h: h if acts[layer].shapes else acts[layer].forward(h)}))
    dying = [l for l, a in enumerate(acts) if a.can_die]
    if dying:
        act = acts[dying[0]]

        def one(layer, h, l):
            a = acts[layer]
            return Integer(1) if a.can_die else a.local(h, l)

        def one_at_zero(layer, h, l):
            a = acts[layer]
            return Piecewise((Integer(1), Eq(h, 0)), (a.local(h, l), True)) if a.can_die else a.local(h, l)

        out.append(Mistake(
            "activation-derivative-one", f"{act.text}'(H) taken as 1 where H ≤ 0",
            f"{act.text} is flat for H ≤ 0: its derivative there is 0, so no gradient flows back through that unit.",
            f"{act.text}'(H) = 1 only where H > 0; look at the sign of each H first.",
            {"activation.local": one}))
        out.append(Mistake(
            "activation-derivative-at-zero", f"{act.text}'(0) taken as 1",
            f"At exactly H = 0 this handout (as PyTorch) takes {act.text}'(0) = 0, the left slope.",
            f"{act.text}'(H) = 1 only for H > 0 strictly.",
            {"activation.local": one_at_zero}))
    smooth = [l for l, a in enumerate(acts) if not a.can_die and a.shapes]
    if smooth:  # a smooth activation's derivative left out, or taken at H where it is written in L
        act = acts[smooth[0]]

        def dropped(layer, h, l):
            return Integer(1) if layer in smooth else acts[layer].local(h, l)

        def of_h(layer, h, l):
            a = acts[layer]
            return a.local(h, h) if layer in smooth else a.local(h, l)

        out.append(Mistake(
            "activation-derivative-dropped", f"{act.text}'(H) taken as 1 (the activation's derivative left out)",
            f"Going back through L = {act.text}(H) multiplies by its derivative {act.text}'(H), which is not 1 "
            f"({act.definition}).",
            f"Multiply by ∂L_i/∂H_i = {act.text}'(H_i) at each unit, from its own H_i (or L_i).",
            {"activation.local": dropped}))
        out.append(Mistake(
            "activation-derivative-of-H", f"{act.text}'s derivative written in L but filled in with H",
            f"The derivative of {act.text} is written in terms of its output L (for the sigmoid L(1 − L)): "
            "the pre-activation H put in its place gives another number.",
            "Fill the derivative's formula with the activation L_i = act(H_i), not with H_i.",
            {"activation.local": of_h}))
    return out


@SLIPS.register(OutputStep)
def _output_slips(op: OutputStep, problem: Problem, symbols: Symbols) -> list:
    output = OUTPUTS[problem.output]
    out = []
    if output.passes_through:  # skipping the identity changes nothing
        return out
    o_of = {symbols.node("Y", s)[0]: symbols.node("O", s) for s in range(problem.n_samples)}
    out.append(Mistake(
        f"{output.name}-skipped", f"{output.text} skipped (O used where Y belongs)",
        f"The loss compares the target with the outputs Y = {output.text}(O), not with O itself.",
        f"Apply the output layer to O first: {output.definition}.",
        {"output.forward": lambda O: list(O), "output.local": lambda Y, k, j: Integer(1 if k == j else 0)}))
    out += [Mistake(*slip) for slip in output.forward_slips()]  # the layer's own (the softmax's normalisation)
    out.append(Mistake(
        f"{output.name}-derivative-identity", f"∂Y_k/∂O_j of {output.text} written as δ_kj (1 on the diagonal, 0 off it)",
        f"Y = {output.text}(O) is not the identity: its derivative is {output.local_text}, not 1.",
        f"Fill in ∂Y_k/∂O_j = {output.local_text} from your Y.",
        {"output.local": lambda Y, k, j: Integer(1 if k == j else 0)}))
    out.append(Mistake(
        f"{output.name}-skipped-backward", f"∇O taken as ∇Y (the {output.text} layer skipped going back)",
        f"Going back through Y = {output.text}(O) multiplies ∇Y by the derivatives ∂Y_k/∂O_j: ∇O_j = Σ_k ∂Y_k/∂O_j ∇Y_k.",
        "Use the ∂Y_k/∂O_j you computed: each ∇O_j collects ∇Y_k times them.",
        {"edges": lambda op_, s, i, default: [(i, Integer(1))] if isinstance(op_, OutputStep) else default}))
    out.append(Mistake(
        f"{output.name}-derivative-of-O", f"∂Y_k/∂O_j of {output.text} filled in with O where it is written in Y",
        f"The derivative {output.local_text} is written in terms of the outputs Y: O put in their place gives another number.",
        "Fill the derivative's formula with your Y, not with O.",
        {"output.local": lambda Y, k, j: output.local(o_of[Y[0]], k, j)}))
    return out + [Mistake(*slip) for slip in output.jacobian_slips()]  # its own (the softmax's cross terms)


@SLIPS.register(LossStep)
def _loss_slips(op: LossStep, problem: Problem, symbols: Symbols) -> list:
    loss = LOSSES[problem.loss]
    N = problem.n_out
    out = []
    if loss.factor is not None:
        f = loss.factor(N)
        out.append(Mistake(
            "loss-factor-1/N", f"the {loss.text} factor: 1/N in place of {loss.factor_text}",
            f"∂ℒ/∂Y_i of the {loss.text} loss (1/N) Σ (y_i − Y_i)² is {loss.factor_text}·(Y_i − y_i): the square "
            "brings down a 2 that stays next to the 1/N.",
            "Differentiate (y_i − Y_i)² with the chain rule: the exponent 2 comes down as a factor.",
            {"loss.local": lambda Y, y, i: loss.local(Y, y, i) * Rational(1, N) / f}))
        out.append(Mistake(
            "loss-factor-1", f"the {loss.text} factor: 1 in place of {loss.factor_text}",
            f"∂ℒ/∂Y_i keeps the constant {loss.factor_text} in front of (Y_i − y_i); it was left out.",
            f"Keep the constants of the loss: its derivative is {loss.factor_text}·(Y_i − y_i).",
            {"loss.local": lambda Y, y, i: loss.local(Y, y, i) / f}))
    if loss.mean:
        out.append(Mistake(
            "loss-derivative-no-mean", f"∂ℒ/∂Y_i of the {loss.text} loss without its 1/N (the loss summed)",
            f"The {loss.text} loss averages over the N = {N} outputs: its derivative keeps the 1/N.",
            "Differentiate the mean, not the sum: the 1/N stays in front.",
            {"loss.local": lambda Y, y, i: loss.local(Y, y, i) * N}))
        out.append(Mistake(
            "loss-no-mean", f"the {loss.text} loss without its 1/N",
            f"The {loss.text} loss is a mean over the N = {N} outputs: the sum of the per-output terms is divided by N.",
            "Divide the sum over the outputs by their number N.",
            {"loss.forward": lambda Y, y: loss.forward(Y, y) * N}))
    elif N > 1:
        out.append(Mistake(
            "loss-mean-for-sum", f"the {loss.text} loss divided by N (a mean where it is a sum)",
            f"The {loss.text} loss sums over the N = {N} outputs; it has no 1/N.",
            "Add the per-output terms; do not divide by their number.",
            {"loss.forward": lambda Y, y: loss.forward(Y, y) / N}))
    if loss.half:
        out.append(Mistake(
            "loss-half-dropped", f"the {loss.text} loss's ½ dropped: ∂ℒ/∂Y_i taken as 2(Y_i − y_i)",
            f"The {loss.text} loss has a ½ in front so that the square's 2 cancels: ∂ℒ/∂Y_i = Y_i − y_i.",
            "Differentiate ½ (y_i − Y_i)²: the exponent 2 comes down and cancels the ½.",
            {"loss.local": lambda Y, y, i: 2 * loss.local(Y, y, i)}))
        out.append(Mistake(
            "loss-value-half-dropped", f"the {loss.text} loss without its ½",
            f"The {loss.text} loss is ½ Σ (y_i − Y_i)²: the ½ stays in front of the sum.",
            "Multiply the sum of squares by ½.",
            {"loss.forward": lambda Y, y: 2 * loss.forward(Y, y)}))
    out.append(Mistake(
        "gradient-sign", "the sign of ∇Y flipped (y − Y in place of Y − y)",
        "The gradient points to where the loss grows: ∂ℒ/∂Y_i has the sign of Y_i − y_i, not y_i − Y_i.",
        "Differentiate with respect to Y_i: the minus sign inside (y_i − Y_i) comes out in front.",
        {"loss.local": lambda Y, y, i: -loss.local(Y, y, i)}))
    if loss.residual:  # ∂ℒ/∂Y_i = c·(Y_i − y_i): the target left out of it (listed after the sign's slip, named first in a tie)
        out.append(Mistake(
            "loss-target-dropped", f"the target left out of ∂ℒ/∂Y_i ({loss.factor_text + '·' if loss.factor_text else ''}Y_i"
                                   f" in place of {loss.local_text})",
            f"The {loss.text} loss measures Y against the target y: its derivative is {loss.local_text}, which is "
            "0 where Y_i = y_i; Y_i alone leaves the target out.",
            "Subtract the target y_i from Y_i before multiplying by the loss's constant.",
            {"loss.local": lambda Y, y, i: loss.local(Y, [Integer(0)] * len(y), i)}))
    return out


def _problem_slips(problem: Problem) -> list:
    """The slips of the whole problem: the batch's mean, the closing step, a gradient's last sign, and the two read off
    the paths."""
    out = []
    if problem.n_samples > 1:  # ℒ and every gradient are means over the batch
        out.append(Mistake(
            "batch-summed", "the batch summed, not averaged (no 1/S)",
            f"ℒ is the mean of the {problem.n_samples} samples' losses, so each gradient is the mean of the samples' "
            "gradients: their sum divided by S.",
            f"Divide the sum over the samples by their number, S = {problem.n_samples}.",
            {"batch.scale": lambda n: Integer(1)}))
    if not problem.symmetric:  # the page's closing gradient-descent step (the symmetry lesson has none)
        out.append(Mistake(
            "descent-sign", "the descent step's sign flipped (w + η ∂ℒ/∂w)",
            "Gradient descent moves against the gradient, where the loss falls: the change is −η ∂ℒ/∂w.",
            "Subtract η times the gradient; adding it climbs the loss.",
            {"descent.step": lambda rate, g: rate * g}))
        out.append(Mistake(
            "descent-no-rate", "the learning rate left out of the step (w − ∂ℒ/∂w)",
            "One step moves by the learning rate times the gradient: the change is −η ∂ℒ/∂w.",
            "Multiply the gradient by η before subtracting it.",
            {"descent.step": lambda rate, g: -g}))
        out.append(Mistake(
            "descent-no-step", "no step taken (the change written as 0)",
            "One step changes the parameter by −η ∂ℒ/∂w, which is not 0 where the gradient is not.",
            "Multiply the gradient by −η: that is the change.",
            {"descent.step": lambda rate, g: Integer(0)}))
        out.append(Mistake(
            "descent-change-subtracted", "the change subtracted from w (w − (−η ∂ℒ/∂w)): the minus sign taken twice",
            "The change −η ∂ℒ/∂w already carries gradient descent's minus sign: the new value is w plus the change.",
            "Add the change you computed to w: w + (−η ∂ℒ/∂w).",
            {"descent.update": lambda w, change: w - change}))
    if problem.shared_bias:  # read off the correct derivation by the marking: one unit's share of the sum
        out.append(Mistake(
            ONE_UNIT, "a shared bias's gradient: one unit's gradient only, not the sum over the layer's units",
            "A shared bias is one number added by every unit of its layer, so its gradient is the sum of the "
            "gradients of the units it feeds, Σ_i ∇(out_i); one unit's was taken.",
            "Add the gradients of every unit the bias feeds: ∂ℒ/∂b = Σ_i ∇(out_i)."))
    out.append(Mistake(  # the linear steps' rule (derivation.LinearStep.gradients), after ∇Y's sign in a tie
        "gradient-final-sign", "the gradient's sign flipped at its last step (−∇out_i·in_j for ∂ℒ/∂w_ij)",
        "∂ℒ/∂w_ij is ∇out_i times in_j, each with its own sign: no minus sign comes in at the last step (the minus "
        "of gradient descent belongs to the step w − η ∂ℒ/∂w, not to the gradient).",
        "Multiply ∇out_i by the input the weight multiplies, as they are; the minus sign comes only in the step.",
        {"linear.gradient": lambda g: -g}))
    out.append(Mistake(
        TRANSPOSED, "the transposed weight: the gradient of w_ji given for w_ij",
        "w_ij is row i, column j of its matrix: it connects input j to output i, not input i to output j.",
        "Check the indices: the first index is the unit the weight feeds, the second the unit it comes from."))
    out.append(Mistake(
        ONE_PATH, "one path only (no sum where the paths branch)",
        "Where a unit feeds several others, its gradient is the sum of the contributions of every path; only "
        "one was taken.",
        "List every path from ℒ to the quantity and add their products (the chain rule sums at branches)."))
    return out


def catalogue(problem: Problem) -> list:
    """Every slip that can be made on ``problem``, in the order of its operations, then the problem's own
    (the batch's mean, the closing step, one path only, the transposed weight); one of each name."""
    symbols = Symbols(problem)
    out, names = [], set()
    for op in operations(problem) + [None]:
        for m in SLIPS(op, problem, symbols) if op is not None else _problem_slips(problem):
            if m.name not in names:
                names.add(m.name)
                out.append(m)
    return out


def variant(problem: Problem, name: str) -> Derivation:
    """The derivation with mistake ``name`` built in (a rule mistake)."""
    m = next((m for m in catalogue(problem) if m.name == name), None)
    if m is None or not m.rules:
        raise KeyError(name)
    return Derivation(problem, m.rules)
