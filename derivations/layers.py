"""The network's operations, each forward formula beside its local derivative.

This is the one place to change a layer: the forward pass and the backward pass both read it.

>>> from sympy import Rational
>>> ReLU(Rational(3, 20)), relu_step(Rational(3, 20)), relu_step(0)
(3/20, 1, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Add, Expr, Function, Integer, KroneckerDelta, Rational, exp, log, tanh


class ReLU(Function):
    """``ReLU(h) = max(0, h)``; its derivative is :class:`relu_step`, never SymPy's ``Heaviside``."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:  # only numbers: asking the sign of a symbolic sum is slow, and never needed here
            return h if h >= 0 else Integer(0)

    def fdiff(self, argindex=1):
        return relu_step(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "ReLU(%s)" % printer._print(self.args[0])


class relu_step(Function):
    """``1 if h > 0 else 0``: ReLU's derivative, 0 at exactly 0 (as the handout and PyTorch)."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return Integer(1) if h > 0 else Integer(0)

    def fdiff(self, argindex=1):
        return Integer(0)  # almost everywhere

    def _latex(self, printer):
        return r"\mathbf{1}_{%s > 0}" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "1[%s > 0]" % printer._print(self.args[0])


@dataclass(frozen=True)
class Activation:
    """A hidden activation: ``L = forward(H)`` and ``dL/dH = local(H, L)``."""

    name: str
    text: str  # how the handout writes it
    forward: Callable[[Expr], Expr]
    local: Callable[[Expr, Expr], Expr]  # (H, L) -> dL/dH, in the cheapest form


ACTIVATIONS = {
    "relu": Activation("relu", "ReLU", ReLU, lambda h, l: relu_step(h)),
    "sigmoid": Activation("sigmoid", "sigmoid", lambda h: 1 / (1 + exp(-h)), lambda h, l: l * (1 - l)),
    "tanh": Activation("tanh", "tanh", tanh, lambda h, l: 1 - l**2),
    "identity": Activation("identity", "identity", lambda h: h, lambda h, l: Integer(1)),
}


def linear(W, v) -> list:
    """``W v`` row by row: the pre-activation of each unit. Local derivatives: ``d(Wv)_i/dW_ij = v_j``,
    ``d(Wv)_i/dv_j = W_ij``."""
    return [Add(*(W[i, j] * v[j] for j in range(W.shape[1]))) for i in range(W.shape[0])]


def softmax(O) -> list:
    """``Y_i = e^{O_i} / sum_j e^{O_j}``, written ``1 / sum_j e^{O_j - O_i}`` so that equal logits give
    exactly ``1/n`` (SymPy does not cancel ``e^{O} / e^{O}`` by itself)."""
    return [1 / Add(*(exp(o - oi) for o in O)) for oi in O]


def softmax_local(Y, k: int, j: int) -> Expr:
    """``dY_k/dO_j = Y_k (delta_kj - Y_j)``."""
    return Y[k] * (KroneckerDelta(k, j) - Y[j])


@dataclass(frozen=True)
class Loss:
    """A loss of the softmax output: ``forward(Y, y)`` and ``local(Y, y, i) = dloss/dY_i``."""

    name: str
    text: str
    forward: Callable
    local: Callable


def _mse(Y, y):
    return Rational(1, len(Y)) * Add(*((y[i] - Y[i]) ** 2 for i in range(len(Y))))


def _mse_local(Y, y, i):
    return Rational(2, len(Y)) * (Y[i] - y[i])  # 2/N (Y_i - y_i): exactly (Y_i - y_i) when N = 2


def _cross_entropy(Y, y):
    return -Add(*(y[i] * log(Y[i]) for i in range(len(Y))))


def _cross_entropy_local(Y, y, i):
    return -y[i] / Y[i]


LOSSES = {
    "mse": Loss("mse", "MSE", _mse, _mse_local),
    "cross_entropy": Loss("cross_entropy", "cross-entropy", _cross_entropy, _cross_entropy_local),
}
