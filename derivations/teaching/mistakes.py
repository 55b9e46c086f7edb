"""The mistake catalogue: the classic backpropagation slips, each the same derivation with one local rule
done differently (:class:`derivations.derive.Derivation` with ``rules``).

A :class:`Mistake` carries a stable ``name`` (what the checker's JSON and the self-check page report), a
short ``title``, a one-sentence ``explanation`` and a ``hint``. Most are a rule replacement; two are read off
the correct derivation itself: *one path only* (a gradient taken along one of its paths, or one term of a
chain-rule sum) and *the transposed weight* (the gradient of ``w_ji`` given for ``w_ij``). Two more are rules
that later steps follow from: *the transposed weight in ∇L* (a square ``W_b``'s row ``j`` used for ∇L_j, in
place of its column) and *the unnormalised softmax* (``Y_k = e^O_k``, a softmax output only).

>>> from sympy import ImmutableMatrix
>>> from derivations.engine.problem import make_problem
>>> square = make_problem((2, 2, 2), "relu", "mse", (1, 2), (1, 0), [ImmutableMatrix([[1, 2], [3, 4]])] * 2)
>>> [m.name for m in catalogue(square) if "transposed" in m.name]
['backward-weight-transposed', 'weight-transposed']

Nothing here names an activation or a loss: what a mistake needs to know comes from the registry
(``Loss.factor``, ``Loss.mean``, ``Activation.can_die``, ``Output.elementwise``).

>>> from derivations.engine.problem import load_problem
>>> [m.name for m in catalogue(load_problem())]  # doctest: +NORMALIZE_WHITESPACE
['loss-factor-1/N', 'loss-factor-1', 'loss-no-mean', 'gradient-sign', 'softmax-cross-term-dropped',
 'softmax-cross-term-sign', 'softmax-skipped', 'softmax-unnormalised', 'activation-derivative-one',
 'activation-derivative-at-zero', 'activation-skipped', 'weight-wrong-end', 'weight-transposed', 'one-path-only']
>>> from derivations.engine.values import Values
>>> Values(variant(load_problem(), "loss-factor-1/N")).lookup("backward.dL_dY[1]")
-1/4
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Eq, Integer, Piecewise, Rational, exp

from ..engine.derivation import Derivation, LinearStep, Symbols
from ..engine.ops import ACTIVATIONS, LOSSES, OUTPUTS
from ..engine.problem import Problem

ONE_PATH = "one-path-only"
TRANSPOSED = "weight-transposed"
BACKWARD_TRANSPOSED = "backward-weight-transposed"
UNNORMALISED = "softmax-unnormalised"


@dataclass(frozen=True)
class Mistake:
    """One catalogued mistake on one problem: ``rules`` for :class:`Derivation` (empty for the two mistakes
    read off the correct derivation, :data:`ONE_PATH` and :data:`TRANSPOSED`)."""

    name: str
    title: str
    explanation: str
    hint: str
    rules: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "explanation": self.explanation, "hint": self.hint}


def catalogue(problem: Problem) -> list:
    """Every mistake that can occur on ``problem`` (the loss's factor only for a loss with one, the
    activation's derivative only where an activation can die), in a fixed order."""
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
            "loss-no-mean", f"the {loss.text} loss without its 1/N",
            f"The {loss.text} loss is a mean over the N = {N} outputs: the sum of the per-output terms is divided by N.",
            "Divide the sum over the outputs by their number N.",
            {"loss.forward": lambda Y, y: loss.forward(Y, y) * N}))
    if loss.half:
        out.append(Mistake(
            "loss-half-dropped", f"the {loss.text} loss's ½ dropped: ∂ℒ/∂Y_i taken as 2(Y_i − y_i)",
            f"The {loss.text} loss has a ½ in front so that the square's 2 cancels: ∂ℒ/∂Y_i = Y_i − y_i.",
            "Differentiate ½ (y_i − Y_i)²: the exponent 2 comes down and cancels the ½.",
            {"loss.local": lambda Y, y, i: 2 * loss.local(Y, y, i)}))
    out.append(Mistake(
        "gradient-sign", "the sign of ∇Y flipped (y − Y in place of Y − y)",
        "The gradient points to where the loss grows: ∂ℒ/∂Y_i has the sign of Y_i − y_i, not y_i − Y_i.",
        "Differentiate with respect to Y_i: the minus sign inside (y_i − Y_i) comes out in front.",
        {"loss.local": lambda Y, y, i: -loss.local(Y, y, i)}))
    output = OUTPUTS[problem.output]
    if not output.elementwise:  # the cross terms exist only where every Y_k depends on every O_j
        out.append(Mistake(
            "softmax-cross-term-dropped", "the softmax cross term dropped (∂Y_k/∂O_j used only for k = j)",
            "Each softmax output depends on every O_j: ∂Y_k/∂O_j = −Y_k Y_j for k ≠ j is not zero, and ∇O_j sums over "
            "every Y_k.",
            "∇O_j = Σ_k ∂Y_k/∂O_j ∇Y_k over all k, with ∂Y_k/∂O_j = Y_k(δ_kj − Y_j).",
            {"output.local": lambda Y, k, j: output.local(Y, k, j) if k == j else Integer(0)}))
        out.append(Mistake(
            "softmax-cross-term-sign", "the softmax cross term with its sign flipped (+Y_k Y_j)",
            "Raising O_j lowers every other softmax output: ∂Y_k/∂O_j = −Y_k Y_j for k ≠ j (negative).",
            "Write ∂Y_k/∂O_j = Y_k(δ_kj − Y_j): for k ≠ j the delta is 0 and the term is −Y_k Y_j.",
            {"output.local": lambda Y, k, j: output.local(Y, k, j) if k == j else -output.local(Y, k, j)}))
    if output.name != "identity":  # skipping the identity changes nothing
        out.append(Mistake(
            f"{output.name}-skipped", f"{output.text} skipped (O used where Y belongs)",
            f"The loss compares the target with the outputs Y = {output.text}(O), not with O itself.",
            f"Apply the output layer to O first: {output.definition}.",
            {"output.forward": lambda O: list(O), "output.local": lambda Y, k, j: Integer(1 if k == j else 0)}))
    if output.name == "softmax":  # e^O_k without the division by Σ_j e^O_j; the rest done right from that Y
        out.append(Mistake(
            UNNORMALISED, "softmax not normalised (e^O_k without dividing by Σ_j e^O_j)",
            "softmax(O)_k = e^O_k / Σ_j e^O_j: the exponentials are divided by their sum, so that the Y_k add up to 1.",
            "Divide each e^O_k by the sum of all of them; check that your Y add up to 1.",
            {"output.forward": lambda O: [exp(o) for o in O]}))
    dying = [l for l, a in enumerate(problem.activations) if ACTIVATIONS[a].can_die]
    if dying:
        act = ACTIVATIONS[problem.activations[dying[0]]]

        def one(layer, h, l):
            a = ACTIVATIONS[problem.activations[layer]]
            return Integer(1) if a.can_die else a.local(h, l)

        def one_at_zero(layer, h, l):
            a = ACTIVATIONS[problem.activations[layer]]
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
    if dying:  # the activation skipped in the forward pass (L = H): shows where a ReLU-like unit is negative
        act = ACTIVATIONS[problem.activations[dying[0]]]
        out.append(Mistake(
            "activation-skipped", f"{act.text} skipped (H used where L = {act.text}(H) belongs)",
            f"L = {act.text}(H) unit by unit: {act.definition}; a negative H does not pass through unchanged.",
            f"Apply {act.text} to each H_i before the next layer: look at the sign of each H_i.",
            {"activation.forward": lambda layer, h: h if ACTIVATIONS[problem.activations[layer]].can_die
             else ACTIVATIONS[problem.activations[layer]].forward(h)}))
    if problem.n_samples > 1:  # ℒ and every gradient are means over the batch
        out.append(Mistake(
            "batch-summed", "the batch summed, not averaged (no 1/S)",
            f"ℒ is the mean of the {problem.n_samples} samples' losses, so each gradient is the mean of the samples' "
            "gradients: their sum divided by S.",
            f"Divide the sum over the samples by their number, S = {problem.n_samples}.",
            {"batch.scale": lambda n: Integer(1)}))
    smooth = [l for l, a in enumerate(problem.activations) if not ACTIVATIONS[a].can_die and a != "identity"]
    if smooth:  # a smooth activation's derivative left out of the chain (as if it were the identity)
        act = ACTIVATIONS[problem.activations[smooth[0]]]

        def dropped(layer, h, l):
            a = ACTIVATIONS[problem.activations[layer]]
            return Integer(1) if layer in smooth else a.local(h, l)

        out.append(Mistake(
            "activation-derivative-dropped", f"{act.text}'(H) taken as 1 (the activation's derivative left out)",
            f"Going back through L = {act.text}(H) multiplies by its derivative {act.text}'(H), which is not 1 "
            f"({act.definition}).",
            f"Multiply by ∂L_i/∂H_i = {act.text}'(H_i) at each unit, from its own H_i (or L_i).",
            {"activation.local": dropped}))
    if not problem.symmetric:  # the page's closing gradient-descent step (the symmetry lesson has none)
        out.append(Mistake(
            "descent-sign", "the descent step's sign flipped (w + η ∂ℒ/∂w)",
            "Gradient descent moves against the gradient, where the loss falls: w − η ∂ℒ/∂w.",
            "Subtract η times the gradient; adding it climbs the loss.",
            {"descent": lambda w, rate, g: w + rate * g}))
        out.append(Mistake(
            "descent-no-rate", "the learning rate left out of the step (w − ∂ℒ/∂w)",
            "One step moves by the learning rate times the gradient: w − η ∂ℒ/∂w.",
            "Multiply the gradient by η before subtracting it.",
            {"descent": lambda w, rate, g: w - g}))
    symbols = Symbols(problem)

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
    square = [l for l, W in enumerate(problem.weights) if l > 0 and W.rows == W.cols]
    if square:  # ∇L_j = Σ_i w_ij ∇O_i (column j); row j is w_ji (only a square matrix has both)
        def transposed_edges(op, s, i, default):
            if not isinstance(op, LinearStep) or op.layer not in square:
                return default
            W = symbols.W[op.layer]
            return [(j, W[j, i]) for j in range(W.cols)]

        inp, outp, letter = symbols.keys[2 * square[0] - 1], symbols.keys[2 * square[0]], "abcdefgh"[square[0]]
        out.append(Mistake(
            BACKWARD_TRANSPOSED, f"the transposed weight in ∇{inp}: W_{letter}'s row used for its column",
            f"∇{inp}_j = Σ_i w^{letter}_ij ∇{outp}_i sums down column j of W_{letter} (the weights leaving unit j), "
            "not along row j.",
            f"w^{letter}_ij connects unit j to unit i: going back, unit j collects through the weights whose second "
            "index is j.",
            {"edges": transposed_edges}))
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


def variant(problem: Problem, name: str) -> Derivation:
    """The derivation with mistake ``name`` built in (a rule mistake)."""
    m = next((m for m in catalogue(problem) if m.name == name), None)
    if m is None or not m.rules:
        raise KeyError(name)
    return Derivation(problem, m.rules)
