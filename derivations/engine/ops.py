"""The registry: every operation of a network, its forward formula beside its local derivative.

This is the one module that names an activation or a loss. Each entry holds everything about it: the
forward formula, the local derivative, how the handout writes it (text and LaTeX), its NumPy
implementation, and what it requires of the targets ``y``. Adding an activation or a loss is one entry
here (and its tests); the forward pass, the backward loop, the theorems, the printers and the figures all
read it.

>>> from sympy import Rational
>>> ACTIVATIONS["relu"].forward(Rational(3, 20)), ACTIVATIONS["relu"].local(Rational(3, 20), None)
(3/20, 1)
>>> ACTIVATIONS["leaky_relu"].forward(Rational(-1, 2)), relu_step(0)
(-1/200, 0)
>>> LOSSES["mse"].local([Rational(1, 2)] * 2, [1, 0], 0)
-1/2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Add, Expr, Function, Integer, KroneckerDelta, Max, Rational, exp, log, tanh
from sympy.codegen.numpy_nodes import logaddexp

# -- elementwise functions SymPy does not have, with a derivative that is 0 (or the left slope) at 0 ------


class ReLU(Function):
    """``ReLU(h) = max(0, h)``; its derivative is :class:`relu_step`, never SymPy's ``Heaviside``."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:  # only numbers: asking the sign of a symbolic sum is slow, and never needed here
            return h if h >= 0 else Integer(0)

    def fdiff(self, argindex=1):
        return relu_step(self.args[0])

    @staticmethod
    def settle(h, positive: bool):
        return h if positive else Integer(0)

    def _latex(self, printer):
        return r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "ReLU(%s)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        return "%s(%s, 0)" % (printer._module_format(printer._module + ".maximum"), printer._print(self.args[0]))


class relu_step(Function):
    """``1 if h > 0 else 0``: ReLU's derivative, 0 at exactly 0 (as the handout and PyTorch)."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return Integer(1) if h > 0 else Integer(0)

    def fdiff(self, argindex=1):
        return Integer(0)  # almost everywhere

    @staticmethod
    def settle(h, positive: bool):
        return Integer(1) if positive else Integer(0)

    def _latex(self, printer):
        return r"\mathbf{1}_{%s > 0}" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "1[%s > 0]" % printer._print(self.args[0])

    def _numpycode(self, printer):
        return "%s(%s > 0, 1.0, 0.0)" % (printer._module_format(printer._module + ".where"), printer._print(self.args[0]))


LEAK = Rational(1, 100)


class LeakyReLU(Function):
    """``h`` for ``h >= 0``, ``h/100`` below: a ReLU whose negative side still passes a gradient."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return h if h >= 0 else LEAK * h

    def fdiff(self, argindex=1):
        return leaky_step(self.args[0])

    @staticmethod
    def settle(h, positive: bool):
        return h if positive else LEAK * h

    def _latex(self, printer):
        return r"\operatorname{LeakyReLU}\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "LeakyReLU(%s)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        h = printer._print(self.args[0])
        return "%s(%s > 0, %s, %s * %s)" % (printer._module_format(printer._module + ".where"), h, h, printer._print(LEAK), h)


class leaky_step(Function):
    """LeakyReLU's derivative: 1 for ``h > 0``, 1/100 for ``h <= 0`` (at exactly 0 the left slope, as ReLU
    takes its left slope 0 there and as PyTorch does)."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return Integer(1) if h > 0 else LEAK

    def fdiff(self, argindex=1):
        return Integer(0)

    @staticmethod
    def settle(h, positive: bool):
        return Integer(1) if positive else LEAK

    def _latex(self, printer):
        return r"\operatorname{LeakyReLU}'\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "LeakyReLU'(%s)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        h = printer._print(self.args[0])
        return "%s(%s > 0, 1.0, %s)" % (printer._module_format(printer._module + ".where"), h, printer._print(LEAK))


class Log1p(Function):
    """``ln(1 + x)``, evaluated by mpmath's ``log1p`` (SymPy's ``log(1 + x)`` loses an ``x`` below 10⁻ᵈⁱᵍⁱᵗˢ)
    and printed as NumPy's ``np.log1p``.

    >>> from sympy import Float
    >>> Log1p(Float("1e-100", 30)).evalf(30)
    1.00000000000000000000000000000e-100
    """

    def _eval_evalf(self, prec):  # prec in bits, as SymPy passes it
        import mpmath
        from mpmath.libmp import prec_to_dps
        from sympy import Float

        arg = self.args[0].evalf(prec_to_dps(prec) + 5)
        if not arg.is_Float:
            return None
        with mpmath.workprec(prec + 10):
            return Float(mpmath.log1p(mpmath.mpf(arg._mpf_)), precision=prec)

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])

    def _numpycode(self, printer):
        return "%s(%s)" % (printer._module_format(printer._module + ".log1p"), printer._print(self.args[0]))

    def _sympystr(self, printer):
        return "log1p(%s)" % printer._print(self.args[0])


# -- activations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """A hidden activation: ``L = forward(H)``, ``dL/dH = local(H, L)`` (in the cheapest form)."""

    name: str
    text: str  # how the handout writes it: "ReLU"
    tex: str  # in LaTeX: r"\operatorname{ReLU}"
    forward: Callable[[Expr], Expr]
    local: Callable[[Expr, Expr], Expr]
    numpy: Callable  # the NumPy forward, of an array h (the variants' independent check)
    numpy_local: Callable  # the NumPy derivative, of h and l = forward(h)
    scalar: Callable[[float], float] = None  # the forward on one float (the quick checks of theorems.random_draw)
    definition: str = ""  # the handout's one-line definition, e.g. "ReLU(z) = max(0, z)"
    rational: bool = False  # exact rationals in, exact rationals out (ReLU, identity)
    can_die: bool = False  # a unit whose pre-activation is negative for every sample passes no gradient
    # How BackProp.py computes it in float64, where the formula above would overflow or cancel: SymPy forms
    # of h (and l) printed by the NumPy printer, and the comment's words for them; None: as written above.
    float64: Callable[[Expr], Expr] | None = None
    float64_local: Callable[[Expr, Expr], Expr] | None = None
    float64_notes: tuple = ("", "")  # the comment's words for each: ("computed as e^(−logaddexp(0, −H_i))", ...)


def _np(f):
    """A NumPy implementation, NumPy imported when it is first called (the derivation itself never needs it)."""

    def call(*args):
        import numpy

        return f(numpy, *args)

    return call


def _sigmoid(h):
    return 1 / (1 + exp(-h))


_SIGMOID_NOTE = "computed as σ({0}_i) = e^(−logaddexp(0, −{0}_i)): no e^(−{0}_i) to overflow"


def _stable_sigmoid(h):
    """σ(h) = e^(−ln(1 + e^(−h))): no e^(−h) to overflow at h = −800 (NumPy's logaddexp never overflows)."""
    return exp(-logaddexp(0, -h))


def _stable_sigmoid_slope(h):
    """σ(h)·σ(−h) = σ(h)(1 − σ(h)), with no 1 − σ(h) to cancel at h = 40."""
    return exp(-logaddexp(0, -h) - logaddexp(0, h))


def _float_sigmoid(h: float) -> float:
    import math

    return 1 / (1 + math.exp(-h)) if h > -700 else 0.0


def _float_tanh(h: float) -> float:
    import math

    return math.tanh(h)


def _float_softplus(h: float) -> float:
    import math

    return math.log1p(math.exp(h)) if h < 700 else h


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("relu", "ReLU", r"\operatorname{ReLU}", ReLU, lambda h, l: relu_step(h),
                   _np(lambda np, h: np.maximum(h, 0)), _np(lambda np, h, l: np.where(h > 0, 1.0, 0.0)), lambda h: max(h, 0.0), "ReLU(z) = max(0, z)",
                   rational=True, can_die=True),
        Activation("leaky_relu", "LeakyReLU", r"\operatorname{LeakyReLU}", LeakyReLU, lambda h, l: leaky_step(h),
                   _np(lambda np, h: np.where(h > 0, h, h / 100)), _np(lambda np, h, l: np.where(h > 0, 1.0, 0.01)), lambda h: h if h > 0 else h / 100,
                   "LeakyReLU(z) = max(z, z/100)", rational=True),
        Activation("sigmoid", "sigmoid", r"\sigma", _sigmoid, lambda h, l: l * (1 - l),
                   _np(lambda np, h: np.exp(-np.logaddexp(0, -h))),
                   _np(lambda np, h, l: np.exp(-np.logaddexp(0, -h) - np.logaddexp(0, h))), _float_sigmoid,
                   "σ(z) = 1 / (1 + e^(−z))", float64=_stable_sigmoid, float64_local=lambda h, l: _stable_sigmoid_slope(h),
                   float64_notes=(_SIGMOID_NOTE.format("H"), "computed from H_i as σ(H_i)·σ(−H_i): no 1 − L_i to cancel")),
        Activation("tanh", "tanh", r"\tanh", tanh, lambda h, l: 1 - l**2,
                   _np(lambda np, h: np.tanh(h)),
                   _np(lambda np, h, l: 4 * np.exp(-np.logaddexp(0, -2 * h) - np.logaddexp(0, 2 * h))), _float_tanh,
                   "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))", float64_local=lambda h, l: 4 * _stable_sigmoid_slope(2 * h),
                   float64_notes=("", "computed from H_i as 4σ(2H_i)·σ(−2H_i): no 1 − L_i² to cancel")),
        Activation("softplus", "softplus", r"\operatorname{softplus}", lambda h: log(1 + exp(h)), lambda h, l: _sigmoid(h),
                   _np(lambda np, h: np.logaddexp(0, h)), _np(lambda np, h, l: np.exp(-np.logaddexp(0, -h))), _float_softplus,
                   "softplus(z) = ln(1 + e^z)", float64=lambda h: logaddexp(0, h), float64_local=lambda h, l: _stable_sigmoid(h),
                   float64_notes=("computed as logaddexp(0, H_i) = ln(e^0 + e^(H_i)): no e^(H_i) to overflow, no 1 + e^(H_i) "
                                  "to round to 1", _SIGMOID_NOTE.format("H"))),
        Activation("identity", "identity", r"\operatorname{id}", lambda h: h, lambda h, l: Integer(1),
                   _np(lambda np, h: h), _np(lambda np, h, l: np.ones_like(h)), lambda h: h, "identity(z) = z", rational=True),
    )
}


#: The schema's defaults, as the handout: a file that names no activation or loss gets these.
DEFAULT_ACTIVATION = "relu"

#: How plain-Python evaluators (lambdify with math or mpmath) call the functions SymPy does not know.
SCALAR_FUNCTIONS = {
    "ReLU": lambda h: h if h > 0 else 0 * h,
    "relu_step": lambda h: 1 if h > 0 else 0,
    "LeakyReLU": lambda h: h if h > 0 else h / 100,
    "leaky_step": lambda h: 1 if h > 0 else 0.01,
    "Log1p": lambda x: _log1p(x),
}


def _log1p(x):
    import math

    import mpmath

    return mpmath.log1p(x) if isinstance(x, mpmath.mpf) else math.log1p(x)


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


def _sigmoid_local(Y, k: int, j: int) -> Expr:
    return Y[k] * (1 - Y[k]) if k == j else Integer(0)


def _sigmoid_local_written(Y, k: int, j: int) -> Expr:
    """``Y_k(1 − Y_k)``, written as the softmax's diagonal entry (an elementwise output has no other)."""
    return softmax_local_written(Y, k, k)


@dataclass(frozen=True)
class Output:
    """The output layer: ``Y = forward(O)`` (the whole vector: softmax couples its units), its Jacobian
    ``local(Y, k, j) = dY_k/dO_j``, how the handout writes both, and NumPy forms for the independent checks.

    ``elementwise`` outputs (sigmoid, identity) have a diagonal Jacobian: only ``dY_k/dO_k`` is a quantity of
    the derivation, and a path through ``Y_k`` comes from ``O_k`` alone."""

    name: str
    text: str  # "softmax"
    tex: str  # r"\operatorname{softmax}"
    forward: Callable[[list], list]
    local: Callable  # (Y, k, j) -> dY_k/dO_j, in terms of Y
    local_written: Callable  # (Y, k, j) -> the same, unevaluated, as the handout writes it
    numpy: Callable  # NumPy forward of a vector O
    numpy_jacobian: Callable  # NumPy Jacobian dY/dO (rows k, columns j) of Y
    elementwise: bool
    min_outputs: int  # a softmax over one output is the constant 1
    definition: str  # "Y_i = e^{O_i} / Σ_j e^{O_j}"
    definition_tex: str
    local_text: str  # "Y_k(δ_kj − Y_j)"
    local_tex: str
    written: Callable = None  # O -> the outputs as the handout writes them, unevaluated: e^{O_1} / (e^{O_1} + e^{O_2})
    rational: bool = False  # exact rationals in, exact rationals out
    # BackProp.py's float64 forms where the formulas above overflow or cancel: each output (O -> Y_k) and its
    # Jacobian's entry (O, k, j) from the logits; None: as written above (the softmax: shifted by its largest logit)
    float64: Callable | None = None
    float64_jacobian: Callable | None = None
    float64_notes: tuple = ("", "")  # the comment's words for each
    # Y_k − y_k from the logits, for a loss written in Y − y (MSE, quadratic): (O_k, y_k) -> the difference
    float64_residual: Callable | None = None


def _softmax_written(O) -> list:
    from sympy import Mul, Pow

    total = Add(*(exp(o, evaluate=False) for o in O), evaluate=False)
    return [Mul(exp(o, evaluate=False), Pow(total, -1, evaluate=False), evaluate=False) for o in O]


def _sigmoid_written(O) -> list:
    from sympy import Mul, Pow

    return [Pow(Add(Integer(1), exp(Mul(Integer(-1), o, evaluate=False), evaluate=False), evaluate=False), -1, evaluate=False)
            for o in O]


OUTPUTS = {
    o.name: o
    for o in (
        Output("softmax", "softmax", r"\operatorname{softmax}", softmax, softmax_local, softmax_local_written,
               _np(lambda np, O: np.exp(O - O.max()) / np.exp(O - O.max()).sum()),
               _np(lambda np, Y: np.diag(Y) - np.outer(Y, Y)), elementwise=False, min_outputs=2,
               definition="Y_i = e^{O_i} / Σ_j e^{O_j}", definition_tex=r"Y_i = \frac{e^{O_i}}{\sum_j e^{O_j}}",
               local_text="Y_k(δ_kj − Y_j)", local_tex=r"Y_k(\delta_{kj} - Y_j)", written=_softmax_written),
        Output("sigmoid", "sigmoid", r"\sigma", lambda O: [_sigmoid(o) for o in O], _sigmoid_local, _sigmoid_local_written,
               _np(lambda np, O: np.exp(-np.logaddexp(0, -O))), _np(lambda np, Y: np.diag(Y * (1 - Y))), elementwise=True,
               min_outputs=1, definition="Y_i = σ(O_i) = 1 / (1 + e^(−O_i))",
               definition_tex=r"Y_i = \sigma(O_i) = \frac{1}{1 + e^{-O_i}}", local_text="Y_i(1 − Y_i)",
               local_tex=r"Y_i(1 - Y_i)", written=_sigmoid_written, float64=lambda O: [_stable_sigmoid(o) for o in O],
               float64_jacobian=lambda O, k, j: _stable_sigmoid_slope(O[k]) if k == j else Integer(0),
               float64_notes=(_SIGMOID_NOTE.format("O"), "computed from O_i as σ(O_i)·σ(−O_i): no 1 − Y_i to cancel"),
               float64_residual=lambda o, y: (1 - y) * _stable_sigmoid(o) - y * _stable_sigmoid(-o)),
        Output("identity", "identity", r"\operatorname{id}", lambda O: list(O),
               lambda Y, k, j: Integer(1 if k == j else 0), lambda Y, k, j: Integer(1),
               _np(lambda np, O: np.array(O, dtype=float)), _np(lambda np, Y: np.eye(len(Y))), elementwise=True,
               min_outputs=1, definition="Y_i = O_i", definition_tex=r"Y_i = O_i", local_text="1", local_tex="1",
               written=lambda O: list(O), rational=True),
    )
}

#: The handout's output layer.
DEFAULT_OUTPUT = "softmax"


# -- losses -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """A loss of the softmax output ``Y`` against the target ``y``: ``forward(Y, y)``, its local derivative
    ``local(Y, y, i) = dloss/dY_i``, how the handout writes both, NumPy, and what it asks of ``y``."""

    name: str
    text: str  # "MSE"
    forward: Callable
    local: Callable
    numpy: Callable  # NumPy loss of arrays Y, y (one sample)
    numpy_local: Callable  # NumPy dloss/dY
    formula_text: str  # the Step 5 definition, text
    formula_tex: str  # and LaTeX
    local_text: str  # the ∇Y line's general form, text ("(2/N)(Y_i − y_i)")
    local_tex: str
    check_target: Callable[[list], str | None]  # None if y is acceptable, else what was expected
    title: str = ""  # the handout's Step 5 heading: "MSE Loss"
    formula_typst: str = ""  # the Step 5 definition in Typst math
    written: Callable = None  # (Y, y) -> the loss as the handout writes it, unevaluated: ½[(y_1 − Y_1)² + …]
    factor: Callable[[int], Expr] | None = None  # the constant in front of the local derivative, of N: 2/N for MSE
    factor_text: str = ""  # how the handout writes it: "2/N"
    mean: bool = False  # the forward averages over the N outputs (a 1/N in front)
    half: bool = False  # a ½ in front that the square's 2 cancels (the quadratic loss): ∂ℒ/∂Y_i = Y_i − y_i
    outputs: tuple = ()  # the output layers it is defined for (empty: any)
    local_typst: str = ""  # the ∇Y line's general form in Typst math


def _mse(Y, y):
    return Rational(1, len(Y)) * Add(*((y[i] - Y[i]) ** 2 for i in range(len(Y))))


def _mse_local(Y, y, i):
    return Rational(2, len(Y)) * (Y[i] - y[i])  # 2/N (Y_i - y_i): exactly (Y_i - y_i) when N = 2


def _squares_written(factor) -> Callable:
    """``factor·[(y_1 − Y_1)² + …]`` as the handout writes a sum of squares, unevaluated: ``factor(N)`` in front
    (1/N for MSE, ½ for the quadratic loss)."""
    def written(Y, y):
        from sympy import Mul, Pow

        terms = [Pow(Add(y[i], Mul(Integer(-1), Y[i], evaluate=False), evaluate=False), 2, evaluate=False)
                 for i in range(len(Y))]
        return Mul(factor(len(Y)), Add(*terms, evaluate=False), evaluate=False)

    return written


def _cross_entropy_written(Y, y):
    from sympy import Mul

    terms = [Mul(y[i], log(Y[i], evaluate=False), evaluate=False) for i in range(len(Y))]
    return Mul(Integer(-1), Add(*terms, evaluate=False), evaluate=False)


def _cross_entropy(Y, y):
    return -Add(*(y[i] * log(Y[i]) for i in range(len(Y))))


def _cross_entropy_local(Y, y, i):
    return -y[i] / Y[i]


def _quadratic(Y, y):
    return Rational(1, 2) * Add(*((y[i] - Y[i]) ** 2 for i in range(len(Y))))


def _quadratic_local(Y, y, i):
    return Y[i] - y[i]  # ½ · 2 (Y_i − y_i)


def _bce(Y, y):
    n = len(Y)
    return Rational(1, n) * Add(*(-(y[i] * log(Y[i]) + (1 - y[i]) * log(1 - Y[i])) for i in range(n)))


def _bce_local(Y, y, i):
    return Rational(1, len(Y)) * (Y[i] - y[i]) / (Y[i] * (1 - Y[i]))


def _bce_written(Y, y):
    from sympy import Mul

    def term(i):
        one_minus = lambda v: Add(Integer(1), Mul(Integer(-1), v, evaluate=False), evaluate=False)  # noqa: E731
        inner = Add(Mul(y[i], log(Y[i], evaluate=False), evaluate=False),
                    Mul(one_minus(y[i]), log(one_minus(Y[i]), evaluate=False), evaluate=False), evaluate=False)
        return Mul(Integer(-1), inner, evaluate=False)

    return Mul(Rational(1, len(Y)), Add(*(term(i) for i in range(len(Y))), evaluate=False), evaluate=False)


def _bce_numpy(np, Y, y):
    return np.mean(-(y * np.log(Y) + (1 - y) * np.log(1 - Y)))


DEFAULT_LOSS = "mse"


def _any_target(y):
    return None


def _unit_interval(y):
    if any(v < 0 or v > 1 for v in y):
        return "expected targets between 0 and 1 for bce (each y_i is the probability of class 1)"
    return None


def _probability_vector(y):
    if any(v < 0 for v in y) or sum(y) != 1:
        return "expected a probability vector for cross_entropy (entries >= 0 summing to 1)"
    return None


LOSSES = {
    l.name: l
    for l in (
        Loss("mse", "MSE", _mse, _mse_local,
             _np(lambda np, Y, y: np.mean((y - Y) ** 2)), _np(lambda np, Y, y: 2 / Y.size * (Y - y)),
             "ℒ = 1/N Σ_i (y_i − Y_i)²", r"\mathcal{L} = \frac{1}{N} \sum_{i=1}^{N} (y_i - Y_i)^2",
             "(2/N)(Y_i − y_i)", r"\frac{2}{N}(Y_i - y_i)", _any_target,
             "MSE Loss", "cal(L) = 1/N sum_(i=1)^N (y_i - Y_i)^2", _squares_written(lambda n: Rational(1, n)),
             factor=lambda n: Rational(2, n), factor_text="2/N", mean=True, local_typst="2/N (Y_i - y_i)"),
        Loss("cross_entropy", "cross-entropy", _cross_entropy, _cross_entropy_local,
             _np(lambda np, Y, y: -np.sum(y * np.log(Y))), _np(lambda np, Y, y: -y / Y),
             "ℒ = −Σ_i y_i ln Y_i", r"\mathcal{L} = -\sum_{i} y_i \ln Y_i",
             "−y_i / Y_i", r"-\frac{y_i}{Y_i}", _probability_vector,
             "Cross-Entropy Loss", "cal(L) = -sum_i y_i ln Y_i", _cross_entropy_written, outputs=("softmax",),
             local_typst="-y_i / Y_i"),
        Loss("quadratic", "quadratic", _quadratic, _quadratic_local,
             _np(lambda np, Y, y: 0.5 * np.sum((y - Y) ** 2)), _np(lambda np, Y, y: Y - y),
             "ℒ = ½ Σ_i (y_i − Y_i)²", r"\mathcal{L} = \frac{1}{2} \sum_{i} (y_i - Y_i)^2",
             "Y_i − y_i", r"Y_i - y_i", _any_target,
             "Quadratic Loss", "cal(L) = 1/2 sum_i (y_i - Y_i)^2", _squares_written(lambda n: Rational(1, 2)), local_typst="Y_i - y_i",
             half=True),
        Loss("bce", "binary cross-entropy", _bce, _bce_local,
             _np(_bce_numpy), _np(lambda np, Y, y: (Y - y) / (Y * (1 - Y)) / Y.size),
             "ℒ = 1/N Σ_i −(y_i ln Y_i + (1 − y_i) ln(1 − Y_i))",
             r"\mathcal{L} = \frac{1}{N} \sum_{i=1}^{N} -\left(y_i \ln Y_i + (1 - y_i) \ln(1 - Y_i)\right)",
             "(1/N)(Y_i − y_i) / (Y_i(1 − Y_i))", r"\frac{1}{N}\,\frac{Y_i - y_i}{Y_i(1 - Y_i)}", _unit_interval,
             "Binary Cross-Entropy Loss", "cal(L) = 1/N sum_(i=1)^N -(y_i ln Y_i + (1 - y_i) ln(1 - Y_i))", _bce_written,
             mean=True, outputs=("sigmoid",), local_typst="1/N (Y_i - y_i) / (Y_i (1 - Y_i))"),
    )
}



# -- an output layer and its loss together, from the logits (BackProp.py's float64) ------------------------------


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


def _log_softmax_loss(O, y):
    top = Max(*O, evaluate=False)  # unevaluated: SymPy's Max compares every pair of its arguments
    return -Add(*(y[i] * (O[i] - top - log(Add(*(exp(o - top) for o in O)))) for i in range(len(O))))


def _bce_logits_loss(O, y):
    n = len(O)
    return Rational(1, n) * Add(*(y[i] * logaddexp(0, -O[i]) + (1 - y[i]) * logaddexp(0, O[i]) for i in range(n)))


FROM_LOGITS = {
    ("softmax", "cross_entropy"): FromLogits(
        ("O", "y"), _log_softmax_loss,
        "computed from the logits: ln Y_i = O_i − max O − ln Σ_j e^(O_j − max O) (log-softmax: no ln 0)",
        ("Y", "y"), lambda Y, O, y, j: Add(*(Y[j] * y[k] - y[j] * Y[k] for k in range(len(Y)) if k != j)),
        "computed as Σ_k (Y_j y_k − y_j Y_k) = Y_j − y_j: neither ∇Y (−y_k/Y_k overflows where Y_k underflows) "
        "nor 1 − Y_j",
        loss_code="-np.sum(y * (O - O.max(axis=0) - np.log(np.exp(O - O.max(axis=0)).sum(axis=0))), axis=0)"),
    ("sigmoid", "bce"): FromLogits(
        ("O", "y"), _bce_logits_loss,
        "computed from the logits: −ln Y_i = logaddexp(0, −O_i), −ln(1 − Y_i) = logaddexp(0, O_i) (no ln 0)",
        ("O", "y"), lambda Y, O, y, j: Rational(1, len(O)) * ((1 - y[j]) * _stable_sigmoid(O[j]) - y[j] * _stable_sigmoid(-O[j])),
        "computed from the logits as ((1 − y_i)σ(O_i) − y_i σ(−O_i))/N = (Y_i − y_i)/N: neither ∇Y nor 1 − Y_i"),
}
