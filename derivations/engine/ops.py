"""The registry: every operation of a network, its forward formula beside its local derivative.

This is the one module that names an activation, an output layer or a loss. Each is a class holding
everything about it: the forward formula, the local derivative, how the handout writes it (text and LaTeX),
its NumPy implementation, its float64 forms, what it requires of the targets ``y`` and what sets it apart
(an activation that can die, an output layer whose Jacobian is diagonal, whose outputs sum to 1, or which
passes ``O`` through). Adding one is one class here (and its tests); the forward pass, the backward loop, the
theorems, the pages, the printers and the figures all ask it, never its name.

>>> from sympy import Rational
>>> ACTIVATIONS["relu"].forward(Rational(3, 20)), ACTIVATIONS["relu"].local(Rational(3, 20), None)
(3/20, 1)
>>> ACTIVATIONS["leaky_relu"].forward(Rational(-1, 2)), ACTIVATIONS["leaky_relu"].local(0, None)
(-1/200, 1/100)
>>> LOSSES["mse"].local([Rational(1, 2)] * 2, [1, 0], 0)
-1/2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

from sympy import Add, Expr, Function, Integer, KroneckerDelta, Max, Rational, Sum, Symbol, exp, log, tanh

from ..notation.tree import Call, row, sym
from ..notation.tree_printing import from_sympy, to_text
from .functions import LeakyReLU, ReLU, _sigmoid, _stable_sigmoid, _stable_sigmoid_slope, leaky_step, logaddexp, relu_step

_SIGMOID_NOTE = "computed as σ({0}_i) = e^(−logaddexp(0, −{0}_i)): no e^(−{0}_i) to overflow"

# -- activations ---------------------------------------------------------------------------------------------


def _numpy():
    """NumPy, imported when a NumPy form is first asked for (the derivation itself never needs it)."""
    import numpy

    return numpy


class Activation:
    """A hidden activation, ``L = act(H)`` unit by unit: its forward formula beside its local derivative
    ``dL/dH = local(H, L)`` (in the cheapest form), its names, its NumPy forms (the variants' independent check),
    its forward on one float (the quick checks of :func:`theorems.random_draw`) and, where the formula would
    overflow or cancel in float64, how ``BackProp.py`` computes it instead. A subclass per activation;
    :data:`ACTIVATIONS` holds one of each by name.

    >>> print(ACTIVATIONS["sigmoid"].definition)
    sigmoid(z) = 1/(1 + e^(−z))
    """

    name: ClassVar[str]  # the problem file's: "relu"
    text: ClassVar[str]  # how the handout writes it: "ReLU"
    tex: ClassVar[str]  # in LaTeX: r"\operatorname{ReLU}"
    rational: ClassVar[bool] = False  # exact rationals in, exact rationals out (ReLU, identity)
    can_die: ClassVar[bool] = False  # a unit whose pre-activation is negative for every sample passes no gradient
    shapes: ClassVar[bool] = True  # False for the identity: L = H, so leaving it out changes nothing
    # BackProp.py's float64 forms of h (and l), methods where the formulas above overflow or cancel (None: as
    # written), and the comment's words for each: ("computed as e^(−logaddexp(0, −H_i))", ...)
    float64 = None
    float64_local = None
    float64_notes: ClassVar[tuple] = ("", "")

    def forward(self, h: Expr) -> Expr:
        raise NotImplementedError

    def local(self, h: Expr, l: Expr) -> Expr:
        raise NotImplementedError

    def numpy(self, h):
        raise NotImplementedError

    def numpy_local(self, h, l):
        raise NotImplementedError

    def scalar(self, h: float) -> float:
        raise NotImplementedError

    def written(self, z: Expr) -> Expr:
        """The forward formula as the handout defines it: ``max(0, z)``; a function that would define itself
        (``tanh(z) = tanh(z)``) in exponentials."""
        out = self.forward(z)
        return out.rewrite(exp) if isinstance(out, Function) and out.args == (z,) else out

    @property
    def definition(self) -> str:
        """The one-line definition, printed from :meth:`written` as the students' page prints it."""
        z = Symbol("z")
        return to_text(row(Call(self.text, (sym("z"),)), "=", from_sympy(self.written(z), {z: sym("z")})), False)

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


class ReluUnit(Activation):
    name, text, tex = "relu", "ReLU", r"\operatorname{ReLU}"
    rational, can_die = True, True

    def forward(self, h):
        return ReLU(h)

    def local(self, h, l):
        return relu_step(h)

    def numpy(self, h):
        np = _numpy()
        return np.maximum(h, 0)

    def numpy_local(self, h, l):
        np = _numpy()
        return np.where(h > 0, 1.0, 0.0)

    def scalar(self, h):
        return max(h, 0.0)


class LeakyReluUnit(Activation):
    name, text, tex = "leaky_relu", "LeakyReLU", r"\operatorname{LeakyReLU}"
    rational = True

    def forward(self, h):
        return LeakyReLU(h)

    def local(self, h, l):
        return leaky_step(h)

    def numpy(self, h):
        np = _numpy()
        return np.where(h > 0, h, h / 100)

    def numpy_local(self, h, l):
        np = _numpy()
        return np.where(h > 0, 1.0, 0.01)

    def scalar(self, h):
        return h if h > 0 else h / 100


class SigmoidUnit(Activation):
    name, text, tex = "sigmoid", "sigmoid", r"\sigma"
    float64_notes = (_SIGMOID_NOTE.format("H"), "computed from H_i as σ(H_i)·σ(−H_i): no 1 − L_i to cancel")

    def forward(self, h):
        return _sigmoid(h)

    def local(self, h, l):
        return l * (1 - l)

    def float64(self, h):
        return _stable_sigmoid(h)

    def float64_local(self, h, l):
        return _stable_sigmoid_slope(h)

    def numpy(self, h):
        np = _numpy()
        return np.exp(-np.logaddexp(0, -h))

    def numpy_local(self, h, l):
        np = _numpy()
        return np.exp(-np.logaddexp(0, -h) - np.logaddexp(0, h))

    def scalar(self, h):
        import math

        return 1 / (1 + math.exp(-h)) if h > -700 else 0.0


class TanhUnit(Activation):
    name, text, tex = "tanh", "tanh", r"\tanh"
    float64_notes = ("", "computed from H_i as 4σ(2H_i)·σ(−2H_i): no 1 − L_i² to cancel")

    def forward(self, h):
        return tanh(h)

    def local(self, h, l):
        return 1 - l**2

    def float64_local(self, h, l):
        return 4 * _stable_sigmoid_slope(2 * h)

    def numpy(self, h):
        np = _numpy()
        return np.tanh(h)

    def numpy_local(self, h, l):
        np = _numpy()
        return 4 * np.exp(-np.logaddexp(0, -2 * h) - np.logaddexp(0, 2 * h))

    def scalar(self, h):
        import math

        return math.tanh(h)


class SoftplusUnit(Activation):
    name, text, tex = "softplus", "softplus", r"\operatorname{softplus}"
    float64_notes = ("computed as logaddexp(0, H_i) = ln(e^0 + e^(H_i)): no e^(H_i) to overflow, no 1 + e^(H_i) "
                     "to round to 1", _SIGMOID_NOTE.format("H"))

    def forward(self, h):
        return log(1 + exp(h))

    def local(self, h, l):
        return _sigmoid(h)

    def float64(self, h):
        return logaddexp(0, h)

    def float64_local(self, h, l):
        return _stable_sigmoid(h)

    def numpy(self, h):
        np = _numpy()
        return np.logaddexp(0, h)

    def numpy_local(self, h, l):
        np = _numpy()
        return np.exp(-np.logaddexp(0, -h))

    def scalar(self, h):
        import math

        return math.log1p(math.exp(h)) if h < 700 else h


class IdentityUnit(Activation):
    name, text, tex = "identity", "identity", r"\operatorname{id}"
    rational, shapes = True, False

    def forward(self, h):
        return h

    def local(self, h, l):
        return Integer(1)

    def numpy(self, h):
        return h

    def numpy_local(self, h, l):
        np = _numpy()
        return np.ones_like(h)

    def scalar(self, h):
        return h


ACTIVATIONS = {a.name: a for a in (ReluUnit(), LeakyReluUnit(), SigmoidUnit(), TanhUnit(), SoftplusUnit(), IdentityUnit())}


#: The schema's defaults, as the handout: a file that names no activation or loss gets these.
DEFAULT_ACTIVATION = "relu"

# -- the linear layer and the output layers -----------------------------------------------------------------


def linear(W, v, b=None) -> list:
    """``W v + b`` row by row: the pre-activation of each unit. Local derivatives:
    ``d(Wv+b)_i/dW_ij = v_j``, ``d(Wv+b)_i/dv_j = W_ij``, ``d(Wv+b)_i/db_i = 1``."""
    rows = [Add(*(W[i, j] * v[j] for j in range(W.shape[1]))) for i in range(W.shape[0])]
    return rows if b is None else [r + b[i] for i, r in enumerate(rows)]


def softmax(O) -> list:
    """``Y_i = e^{O_i} / sum_j e^{O_j}``, written ``1 / sum_j e^{O_j - O_i}`` so that equal logits give
    exactly ``1/n`` (SymPy does not cancel ``e^{O} / e^{O}`` by itself)."""
    return [1 / Add(*(exp(o - oi) for o in O)) for oi in O]


def softmax_local(Y, k: int, j: int) -> Expr:
    """``dY_k/dO_j = Y_k (delta_kj - Y_j)``."""
    return Y[k] * (KroneckerDelta(k, j) - Y[j])


def softmax_local_written(Y, k: int, j: int) -> Expr:
    """``dY_k/dO_j`` as the handout writes it, unevaluated: ``Y_k(1 − Y_k)`` on the diagonal, ``−Y_k Y_j``
    off it (the same rule as :func:`softmax_local`, with the Kronecker delta resolved)."""
    from sympy import Mul

    if k == j:
        return Mul(Y[k], Add(Integer(1), Mul(Integer(-1), Y[k], evaluate=False), evaluate=False), evaluate=False)
    return Mul(Integer(-1), Y[k], Y[j], evaluate=False)


@dataclass(frozen=True)
class FromLogits:
    """An output layer with its loss, computed together from the logits ``O`` in float64, as PyTorch's
    ``cross_entropy`` and ``BCEWithLogitsLoss`` compute them: the loss without the ``ln Y`` of an underflowed
    ``Y``, and ``∇O`` without ``∇Y`` (``−y_i/Y_i`` is beyond float64's range for ``Y_i = 10⁻³⁹⁴``) and without
    ``1 − Y``. The script still computes and shows ``∇Y`` and ``∂Y/∂O``; the gradients do not use them.

    ``loss(O, y)`` is one sample's loss (rows ``O[k]``, ``y[k]``), ``grad(Y, O, y, j)`` is ``∇O_j``, both SymPy;
    ``loss_code``, where given, is the vectorised NumPy the script prints for the loss instead."""

    loss_args: tuple
    loss: Callable
    loss_note: str
    grad_args: tuple
    grad: Callable
    grad_note: str
    loss_code: str | None = None


class Output:
    """The output layer: ``Y = forward(O)`` (the whole vector: softmax couples its units), its Jacobian
    ``local(Y, k, j) = dY_k/dO_j``, how the handout writes both, NumPy forms for the independent checks, the
    float64 forms of ``BackProp.py``, the losses it computes together with from the logits, and the slips
    made at it beyond those of every output layer. A subclass per output layer; :data:`OUTPUTS` holds one of
    each by name.

    ``elementwise`` outputs (sigmoid, identity) have a diagonal Jacobian: only ``dY_k/dO_k`` is a quantity of
    the derivation, and a path through ``Y_k`` comes from ``O_k`` alone.

    >>> OUTPUTS["softmax"].applied("O"), OUTPUTS["identity"].applied("O")
    ('softmax(O)', 'O')
    """

    name: ClassVar[str]  # the problem file's: "softmax"
    text: ClassVar[str]  # how the handout writes it: "softmax"
    tex: ClassVar[str]  # r"\operatorname{softmax}"
    title: ClassVar[str]  # the page's name for its derivative formula: "Softmax", "Sigmoid output"
    elementwise: ClassVar[bool]
    min_outputs: ClassVar[int] = 1  # a softmax over one output is the constant 1
    definition: ClassVar[str]  # "Y_i = e^{O_i} / Σ_j e^{O_j}"
    definition_tex: ClassVar[str]
    local_text: ClassVar[str]  # "Y_k(δ_kj − Y_j)"
    rational: ClassVar[bool] = False  # exact rationals in, exact rationals out
    passes_through: ClassVar[bool] = False  # Y = O: nothing to apply, nothing to skip
    sums_to_one: ClassVar[bool] = False  # Σ_k Y_k = 1 whatever O, so Σ_j ∇O_j = 0 (the softmax lemma)
    # BackProp.py's float64 forms where the formulas above overflow or cancel, methods (None: as written): each
    # output (O -> [Y_k], printed as float64_code where given), its Jacobian's entry (O, k, j) from the logits,
    # and Y_k − y_k from the logits for a loss written in Y − y ((O_k, y_k) -> the difference); the comment's words
    float64 = None
    float64_code: ClassVar[str | None] = None
    float64_jacobian = None
    float64_residual = None
    float64_notes: ClassVar[tuple] = ("", "")
    logits: ClassVar[dict] = {}  # loss name -> FromLogits: the losses BackProp.py computes with it from O

    def forward(self, O) -> list:
        raise NotImplementedError

    def local(self, Y, k: int, j: int) -> Expr:
        raise NotImplementedError

    def local_written(self, Y, k: int, j: int) -> Expr:
        """``dY_k/dO_j`` as the handout writes it, unevaluated."""
        raise NotImplementedError

    def written(self, O) -> list:
        """The outputs as the handout writes them, unevaluated: ``e^{O_1} / (e^{O_1} + e^{O_2})``."""
        raise NotImplementedError

    def general(self, Oi: Expr, Oj: Expr, j: Expr, n: int) -> Expr:
        """``Y_i`` in general, of its logit ``Oi`` (and of every logit ``Oj``, ``j`` from 1 to ``n``, where the
        layer couples its units): ``1/(1 + e^(−O_i))``, ``e^{O_i} / Σ_j e^{O_j}``."""
        return self.forward([Oi])[0]

    def numpy(self, O):
        raise NotImplementedError

    def numpy_jacobian(self, Y):
        """NumPy's Jacobian ``dY/dO`` (rows ``k``, columns ``j``), of ``Y``."""
        raise NotImplementedError

    def applied(self, arg: str) -> str:
        """The layer applied to ``arg`` in text: ``softmax(O)``; the identity's ``O``."""
        return arg if self.passes_through else f"{self.text}({arg})"

    def from_logits(self, loss) -> FromLogits | None:
        """How ``BackProp.py`` computes this layer with ``loss`` from the logits, or None."""
        return self.logits.get(loss.name)

    def forward_slips(self) -> list:
        """Slips in computing ``Y`` that only this layer invites, beyond those of every output layer, as
        ``(name, title, explanation, hint, rules)`` (the mistakes' catalogue makes them mistakes)."""
        return []

    def jacobian_slips(self) -> list:
        """Slips in its local derivatives ``∂Y_k/∂O_j`` that only this layer invites, as :meth:`forward_slips`."""
        return []

    def __repr__(self) -> str:
        return f"<output {self.name}>"


def _softmax_written(O) -> list:
    from sympy import Mul, Pow

    total = Add(*(exp(o, evaluate=False) for o in O), evaluate=False)
    return [Mul(exp(o, evaluate=False), Pow(total, -1, evaluate=False), evaluate=False) for o in O]


def _softmax_rows(O: list) -> list:
    """The softmax as ``BackProp.py`` computes it, shifted by the largest logit (its rounding model)."""
    top = Max(*O, evaluate=False)  # unevaluated: SymPy's Max compares every pair of its arguments
    total = Add(*(exp(o - top) for o in O))
    return [exp(o - top) / total for o in O]


def _log_softmax_loss(O, y):
    top = Max(*O, evaluate=False)  # unevaluated: SymPy's Max compares every pair of its arguments
    return -Add(*(y[i] * (O[i] - top - log(Add(*(exp(o - top) for o in O)))) for i in range(len(O))))


class Softmax(Output):
    name, text, tex, title = "softmax", "softmax", r"\operatorname{softmax}", "Softmax"
    elementwise, min_outputs, sums_to_one = False, 2, True
    definition, definition_tex = "Y_i = e^{O_i} / Σ_j e^{O_j}", r"Y_i = \frac{e^{O_i}}{\sum_j e^{O_j}}"
    local_text = "Y_k(δ_kj − Y_j)"
    # as the comment reads it, e^{O_i} / Σ_j e^{O_j} (shifted by the largest logit: no overflow), not SymPy's
    # rewriting of one output's formula (1/(1 + exp(-O[0] + O[1])) for two outputs)
    float64_code = "np.exp(O - O.max(axis=0)) / np.exp(O - O.max(axis=0)).sum(axis=0)"
    logits = {"cross_entropy": FromLogits(
        ("O", "y"), _log_softmax_loss,
        "computed from the logits: ln Y_i = O_i − max O − ln Σ_j e^(O_j − max O) (log-softmax: no ln 0)",
        ("Y", "y"), lambda Y, O, y, j: Add(*(Y[j] * y[k] - y[j] * Y[k] for k in range(len(Y)) if k != j)),
        "computed as Σ_k (Y_j y_k − y_j Y_k) = Y_j − y_j: neither ∇Y (−y_k/Y_k overflows where Y_k underflows) "
        "nor 1 − Y_j",
        loss_code="-np.sum(y * (O - O.max(axis=0) - np.log(np.exp(O - O.max(axis=0)).sum(axis=0))), axis=0)")}

    def forward(self, O):
        return softmax(O)

    def local(self, Y, k, j):
        return softmax_local(Y, k, j)

    def local_written(self, Y, k, j):
        return softmax_local_written(Y, k, j)

    def written(self, O):
        return _softmax_written(O)

    def general(self, Oi, Oj, j, n):
        return exp(Oi) / Sum(exp(Oj), (j, 1, n))

    def float64(self, O):
        return _softmax_rows(O)

    def numpy(self, O):
        np = _numpy()
        return np.exp(O - O.max()) / np.exp(O - O.max()).sum()

    def numpy_jacobian(self, Y):
        np = _numpy()
        return np.diag(Y) - np.outer(Y, Y)

    def forward_slips(self):
        return [("softmax-unnormalised", f"{self.text} not normalised (e^O_k without dividing by Σ_j e^O_j)",
                 f"{self.text}(O)_k = e^O_k / Σ_j e^O_j: the exponentials are divided by their sum, so that the Y_k "
                 "add up to 1.",
                 "Divide each e^O_k by the sum of all of them; check that your Y add up to 1.",
                 {"output.forward": lambda O: [exp(o) for o in O]})]

    def jacobian_slips(self):  # every Y_k depends on every O_j: the cross terms, and their sign
        return [("softmax-cross-term-dropped", f"the {self.text} cross term dropped (∂Y_k/∂O_j used only for k = j)",
                 "Each softmax output depends on every O_j: ∂Y_k/∂O_j = −Y_k Y_j for k ≠ j is not zero, and ∇O_j sums "
                 "over every Y_k.",
                 "∇O_j = Σ_k ∂Y_k/∂O_j ∇Y_k over all k, with ∂Y_k/∂O_j = Y_k(δ_kj − Y_j).",
                 {"output.local": lambda Y, k, j: self.local(Y, k, j) if k == j else Integer(0)}),
                ("softmax-cross-term-sign", f"the {self.text} cross term with its sign flipped (+Y_k Y_j)",
                 "Raising O_j lowers every other softmax output: ∂Y_k/∂O_j = −Y_k Y_j for k ≠ j (negative).",
                 "Write ∂Y_k/∂O_j = Y_k(δ_kj − Y_j): for k ≠ j the delta is 0 and the term is −Y_k Y_j.",
                 {"output.local": lambda Y, k, j: self.local(Y, k, j) if k == j else -self.local(Y, k, j)})]


def _sigmoid_written(O) -> list:
    from sympy import Mul, Pow

    return [Pow(Add(Integer(1), exp(Mul(Integer(-1), o, evaluate=False), evaluate=False), evaluate=False), -1, evaluate=False)
            for o in O]


def _bce_logits_loss(O, y):
    n = len(O)
    return Rational(1, n) * Add(*(y[i] * logaddexp(0, -O[i]) + (1 - y[i]) * logaddexp(0, O[i]) for i in range(n)))


class SigmoidOutput(Output):
    name, text, tex, title = "sigmoid", "sigmoid", r"\sigma", "Sigmoid output"
    elementwise = True
    definition, definition_tex = "Y_i = σ(O_i) = 1 / (1 + e^(−O_i))", r"Y_i = \sigma(O_i) = \frac{1}{1 + e^{-O_i}}"
    local_text = "Y_i(1 − Y_i)"
    float64_notes = (_SIGMOID_NOTE.format("O"), "computed from O_i as σ(O_i)·σ(−O_i): no 1 − Y_i to cancel")
    logits = {"bce": FromLogits(
        ("O", "y"), _bce_logits_loss,
        "computed from the logits: −ln Y_i = logaddexp(0, −O_i), −ln(1 − Y_i) = logaddexp(0, O_i) (no ln 0)",
        ("O", "y"), lambda Y, O, y, j: Rational(1, len(O)) * ((1 - y[j]) * _stable_sigmoid(O[j]) - y[j] * _stable_sigmoid(-O[j])),
        "computed from the logits as ((1 − y_i)σ(O_i) − y_i σ(−O_i))/N = (Y_i − y_i)/N: neither ∇Y nor 1 − Y_i")}

    def forward(self, O):
        return [_sigmoid(o) for o in O]

    def local(self, Y, k, j):
        return Y[k] * (1 - Y[k]) if k == j else Integer(0)

    def local_written(self, Y, k, j):
        """``Y_k(1 − Y_k)``, written as the softmax's diagonal entry (an elementwise output has no other)."""
        return softmax_local_written(Y, k, k)

    def written(self, O):
        return _sigmoid_written(O)

    def float64(self, O):
        return [_stable_sigmoid(o) for o in O]

    def float64_jacobian(self, O, k, j):
        return _stable_sigmoid_slope(O[k]) if k == j else Integer(0)

    def float64_residual(self, o, y):
        return (1 - y) * _stable_sigmoid(o) - y * _stable_sigmoid(-o)

    def numpy(self, O):
        np = _numpy()
        return np.exp(-np.logaddexp(0, -O))

    def numpy_jacobian(self, Y):
        np = _numpy()
        return np.diag(Y * (1 - Y))


class IdentityOutput(Output):
    name, text, tex, title = "identity", "identity", r"\operatorname{id}", "Identity output"
    elementwise, rational, passes_through = True, True, True
    definition, definition_tex, local_text = "Y_i = O_i", r"Y_i = O_i", "1"

    def forward(self, O):
        return list(O)

    def local(self, Y, k, j):
        return Integer(1 if k == j else 0)

    def local_written(self, Y, k, j):
        return Integer(1)

    def written(self, O):
        return list(O)

    def numpy(self, O):
        np = _numpy()
        return np.array(O, dtype=float)

    def numpy_jacobian(self, Y):
        np = _numpy()
        return np.eye(len(Y))


OUTPUTS = {o.name: o for o in (Softmax(), SigmoidOutput(), IdentityOutput())}

#: The handout's output layer.
DEFAULT_OUTPUT = "softmax"


# -- losses -----------------------------------------------------------------------------------------------------


def _squares_written(factor, Y, y):
    """``factor·[(y_1 − Y_1)² + …]`` as the handout writes a sum of squares, unevaluated: ``factor`` in front
    (1/N for MSE, ½ for the quadratic loss)."""
    from sympy import Mul, Pow

    terms = [Pow(Add(y[i], Mul(Integer(-1), Y[i], evaluate=False), evaluate=False), 2, evaluate=False)
             for i in range(len(Y))]
    return Mul(factor, Add(*terms, evaluate=False), evaluate=False)


class Loss:
    """A loss of the output ``Y`` against the target ``y``: ``forward(Y, y)``, its local derivative
    ``local(Y, y, i) = dloss/dY_i``, how the handout writes both, NumPy, and what it asks of ``y`` and of the
    output layer. A subclass per loss; :data:`LOSSES` holds one of each by name.

    >>> LOSSES["cross_entropy"].fits(OUTPUTS["sigmoid"]), LOSSES["mse"].fits(OUTPUTS["sigmoid"])
    (False, True)
    """

    name: ClassVar[str]  # the problem file's: "mse"
    text: ClassVar[str]  # "MSE"
    title: ClassVar[str]  # the handout's Step 5 heading: "MSE Loss"
    # The Step 5 definition, as the paper spells it in text, LaTeX and Typst math (its own shorthand: Σ_i in
    # text, the sum's bounds in the others)
    formula_text: ClassVar[str]
    formula_tex: ClassVar[str]
    formula_typst: ClassVar[str]
    local_text: ClassVar[str]  # the ∇Y line's general form, text ("(2/N)(Y_i − y_i)")
    factor_text: ClassVar[str] = ""  # the constant in front of the local derivative, as the handout writes it: "2/N"
    mean: ClassVar[bool] = False  # the forward averages over the N outputs (a 1/N in front)
    half: ClassVar[bool] = False  # a ½ in front that the square's 2 cancels (the quadratic loss): ∂ℒ/∂Y_i = Y_i − y_i
    residual: ClassVar[bool] = False  # ∂ℒ/∂Y_i is a constant times the residual Y_i − y_i (a square loss)
    outputs: ClassVar[tuple] = ()  # the output layers it is defined for, by name (empty: any)
    factor = None  # a method where the local derivative has a constant in front, of N: 2/N for MSE

    def forward(self, Y, y) -> Expr:
        raise NotImplementedError

    def local(self, Y, y, i: int) -> Expr:
        raise NotImplementedError

    def written(self, Y, y) -> Expr:
        """The loss as the handout writes it, unevaluated: ``½[(y_1 − Y_1)² + …]``."""
        raise NotImplementedError

    def numpy(self, Y, y):
        """NumPy's loss of arrays ``Y``, ``y`` (one sample)."""
        raise NotImplementedError

    def numpy_local(self, Y, y):
        raise NotImplementedError

    def check_target(self, y) -> str | None:
        """None if the target ``y`` is acceptable, else what was expected."""
        return None

    def fits(self, output: Output) -> bool:
        """Whether the loss is defined for ``output``."""
        return not self.outputs or output.name in self.outputs

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


class MSE(Loss):
    name, text, title = "mse", "MSE", "MSE Loss"
    formula_text = "ℒ = 1/N Σ_i (y_i − Y_i)²"
    formula_tex = r"\mathcal{L} = \frac{1}{N} \sum_{i=1}^{N} (y_i - Y_i)^2"
    formula_typst = "cal(L) = 1/N sum_(i=1)^N (y_i - Y_i)^2"
    local_text, factor_text, mean, residual = "(2/N)(Y_i − y_i)", "2/N", True, True

    def forward(self, Y, y):
        return Rational(1, len(Y)) * Add(*((y[i] - Y[i]) ** 2 for i in range(len(Y))))

    def local(self, Y, y, i):
        return Rational(2, len(Y)) * (Y[i] - y[i])  # 2/N (Y_i - y_i): exactly (Y_i - y_i) when N = 2

    def factor(self, n):
        return Rational(2, n)

    def written(self, Y, y):
        return _squares_written(Rational(1, len(Y)), Y, y)

    def numpy(self, Y, y):
        np = _numpy()
        return np.mean((y - Y) ** 2)

    def numpy_local(self, Y, y):
        return 2 / Y.size * (Y - y)


class CrossEntropy(Loss):
    name, text, title = "cross_entropy", "cross-entropy", "Cross-Entropy Loss"
    formula_text, formula_tex = "ℒ = −Σ_i y_i ln Y_i", r"\mathcal{L} = -\sum_{i} y_i \ln Y_i"
    formula_typst = "cal(L) = -sum_i y_i ln Y_i"
    local_text, outputs = "−y_i / Y_i", ("softmax",)

    def forward(self, Y, y):
        return -Add(*(y[i] * log(Y[i]) for i in range(len(Y))))

    def local(self, Y, y, i):
        return -y[i] / Y[i]

    def written(self, Y, y):
        from sympy import Mul

        terms = [Mul(y[i], log(Y[i], evaluate=False), evaluate=False) for i in range(len(Y))]
        return Mul(Integer(-1), Add(*terms, evaluate=False), evaluate=False)

    def numpy(self, Y, y):
        np = _numpy()
        return -np.sum(y * np.log(Y))

    def numpy_local(self, Y, y):
        return -y / Y

    def check_target(self, y):
        if any(v < 0 for v in y) or sum(y) != 1:
            return "expected a probability vector for cross_entropy (entries >= 0 summing to 1)"
        return None


class Quadratic(Loss):
    name, text, title = "quadratic", "quadratic", "Quadratic Loss"
    formula_text = "ℒ = ½ Σ_i (y_i − Y_i)²"
    formula_tex = r"\mathcal{L} = \frac{1}{2} \sum_{i} (y_i - Y_i)^2"
    formula_typst = "cal(L) = 1/2 sum_i (y_i - Y_i)^2"
    local_text, half, residual = "Y_i − y_i", True, True

    def forward(self, Y, y):
        return Rational(1, 2) * Add(*((y[i] - Y[i]) ** 2 for i in range(len(Y))))

    def local(self, Y, y, i):
        return Y[i] - y[i]  # ½ · 2 (Y_i − y_i)

    def written(self, Y, y):
        return _squares_written(Rational(1, 2), Y, y)

    def numpy(self, Y, y):
        np = _numpy()
        return 0.5 * np.sum((y - Y) ** 2)

    def numpy_local(self, Y, y):
        return Y - y


class BCE(Loss):
    name, text, title = "bce", "binary cross-entropy", "Binary Cross-Entropy Loss"
    formula_text = "ℒ = 1/N Σ_i −(y_i ln Y_i + (1 − y_i) ln(1 − Y_i))"
    formula_tex = r"\mathcal{L} = \frac{1}{N} \sum_{i=1}^{N} -\left(y_i \ln Y_i + (1 - y_i) \ln(1 - Y_i)\right)"
    formula_typst = "cal(L) = 1/N sum_(i=1)^N -(y_i ln Y_i + (1 - y_i) ln(1 - Y_i))"
    local_text, mean, outputs = "(1/N)(Y_i − y_i) / (Y_i(1 − Y_i))", True, ("sigmoid",)

    def forward(self, Y, y):
        n = len(Y)
        return Rational(1, n) * Add(*(-(y[i] * log(Y[i]) + (1 - y[i]) * log(1 - Y[i])) for i in range(n)))

    def local(self, Y, y, i):
        return Rational(1, len(Y)) * (Y[i] - y[i]) / (Y[i] * (1 - Y[i]))

    def written(self, Y, y):
        from sympy import Mul

        def one_minus(v):
            return Add(Integer(1), Mul(Integer(-1), v, evaluate=False), evaluate=False)

        def term(i):
            inner = Add(Mul(y[i], log(Y[i], evaluate=False), evaluate=False),
                        Mul(one_minus(y[i]), log(one_minus(Y[i]), evaluate=False), evaluate=False), evaluate=False)
            return Mul(Integer(-1), inner, evaluate=False)

        return Mul(Rational(1, len(Y)), Add(*(term(i) for i in range(len(Y))), evaluate=False), evaluate=False)

    def numpy(self, Y, y):
        np = _numpy()
        return np.mean(-(y * np.log(Y) + (1 - y) * np.log(1 - Y)))

    def numpy_local(self, Y, y):
        return (Y - y) / (Y * (1 - Y)) / Y.size

    def check_target(self, y):
        if any(v < 0 or v > 1 for v in y):
            return "expected targets between 0 and 1 for bce (each y_i is the probability of class 1)"
        return None


LOSSES = {l.name: l for l in (MSE(), CrossEntropy(), Quadratic(), BCE())}

DEFAULT_LOSS = "mse"
