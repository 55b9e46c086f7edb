"""The backward pass: reverse mode, layer by layer, as the handout draws it.

Each gradient is the product of local derivatives (from :mod:`derivations.layers`) along the paths from the
loss to the weight, summed where paths branch. The result is a closed form for every weight with symbolic
weights:

>>> from derivations.problem import load_problem
>>> d = derive(load_problem())
>>> d.gradient("w_b21")
L_1*∇O_2
>>> d.formula("w_b21")
L_1*(∂Y_1/∂O_2*∇Y_1 + ∂Y_2/∂O_2*∇Y_2)
>>> len(d.paths("w_a11"))
4
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy import Add, Expr, ImmutableMatrix, Mul

from .forward import Symbols, forward_definitions, pair
from .layers import ACTIVATIONS, LOSSES, softmax_local
from .problem import Problem, ProblemError

_WEIGHT = re.compile(r"\s*[wW]\^?_?\{?([ab])\}?_?(?:\[(\d+)\s*,\s*(\d+)\]|\{?(\d+)\s*,\s*(\d+)\}?|\{?(\d)(\d)\}?)\s*")


@dataclass(frozen=True)
class Weight:
    """One weight: ``layer`` is ``"a"`` or ``"b"``; ``i`` (row: the unit it feeds), ``j`` (column: the unit it
    comes from), both 0-based."""

    layer: str
    i: int
    j: int

    def name(self, wide: bool = False) -> str:
        """The handout's name, 1-based: ``w^b_21``."""
        return f"w^{self.layer}_{pair(self.i, self.j, wide)}"

    def key(self, wide: bool = False) -> str:
        """The name the CLI takes: ``w_b21`` (``w_b2,11`` once a width passes 9)."""
        return f"w_{self.layer}{pair(self.i, self.j, wide)}"


def parse_weight(name: str, problem: Problem) -> Weight:
    """A weight from its name: ``w_b21``, ``w^b_21``, ``w_b[2,1]`` or ``W_b[2,1]`` (1-based).

    >>> from derivations.problem import load_problem
    >>> parse_weight("w_a11", load_problem())
    Weight(layer='a', i=0, j=0)
    """
    shapes = {"a": (problem.n_hidden, problem.n_in), "b": (problem.n_out, problem.n_hidden)}
    expected = (
        f"expected a weight name like w_a11, w_b21 or w_b[2,1] (W_a is {shapes['a'][0]}x{shapes['a'][1]}, "
        f"W_b is {shapes['b'][0]}x{shapes['b'][1]}), got {name!r}"
    )
    m = _WEIGHT.fullmatch(name) if isinstance(name, str) else None
    if not m:
        raise ProblemError("param", expected)
    layer = m.group(1)
    i, j = (int(g) for g in m.groups()[1:] if g is not None)
    rows, cols = shapes[layer]
    if not (1 <= i <= rows and 1 <= j <= cols):
        raise ProblemError("param", f"{name!r} is outside W_{layer}, which is {rows}x{cols} (indices start at 1)")
    return Weight(layer, i - 1, j - 1)


@dataclass(frozen=True)
class Path:
    """One path from the loss back to a weight: the nodes it passes and the local derivative of each step.

    ``nodes`` are ``(kind, index)`` pairs, 0-based: ``("loss", 0), ("Y", k), ("O", m), ...``; the path ends at
    the node the weight feeds, and ``weight`` is the last edge.
    """

    nodes: tuple
    factors: tuple
    weight: Weight

    @property
    def product(self) -> Expr:
        return Mul(*self.factors)

    def text(self, wide: bool = False) -> str:
        """``ℒ → Y_1 → O_2 → L_1 → H_1 → w^a_11``."""
        names = ["ℒ" if kind == "loss" else f"{kind}_{k + 1}" for kind, k in self.nodes]
        return " → ".join(names + [self.weight.name(wide)])


class Derivation:
    """The symbolic derivation of one problem's network: definitions of every forward and backward
    quantity, each in terms of the layer next to it, and the gradient of every weight."""

    def __init__(self, problem: Problem):
        self.problem = problem
        s = self.symbols = Symbols.for_problem(problem)
        self.activation = ACTIVATIONS[problem.activation]
        self.loss_fn = LOSSES[problem.loss]
        defs = forward_definitions(s, problem.activation, problem.loss)
        n_out, n_h = problem.n_out, problem.n_hidden

        # dL/dY_i: the loss's local derivative.
        for i in range(n_out):
            defs[s.gY[i]] = self.loss_fn.local(s.Y, s.y, i)
        # dY_k/dO_j: the softmax Jacobian.
        for k in range(n_out):
            for j in range(n_out):
                defs[s.dY_dO[k][j]] = softmax_local(s.Y, k, j)
        # dL/dO_j = sum_k dY_k/dO_j dL/dY_k  (every Y depends on every O: sum the branches).
        for j in range(n_out):
            defs[s.gO[j]] = Add(*(s.dY_dO[k][j] * s.gY[k] for k in range(n_out)))
        # dL/dL_j = sum_i dL/dO_i w^b_ij  (L_j feeds every output).
        for j in range(n_h):
            defs[s.gL[j]] = Add(*(s.gO[i] * s.W_b[i, j] for i in range(n_out)))
        # dL/dH_j = dL/dL_j act'(H_j).
        for j in range(n_h):
            defs[s.gH[j]] = s.gL[j] * self.local_activation(j)
        self.definitions = defs
        self._symbolic = None  # the definitions substituted down to the leaves, on first use

        # The gradients: dL/dw^b_ij = ∇O_i L_j, dL/dw^a_ij = ∇H_i x_j.
        self.gradients = {
            "W_a": ImmutableMatrix(n_h, problem.n_in, lambda i, j: s.gH[i] * s.x[j]),
            "W_b": ImmutableMatrix(n_out, n_h, lambda i, j: s.gO[i] * s.L[j]),
        }

    # -- weights ---------------------------------------------------------------------------------

    def weight(self, name) -> Weight:
        return name if isinstance(name, Weight) else parse_weight(name, self.problem)

    def weights(self) -> list[Weight]:
        """Every weight, ``W_a`` then ``W_b``, in row order."""
        p = self.problem
        return [Weight("a", i, j) for i in range(p.n_hidden) for j in range(p.n_in)] + [
            Weight("b", i, j) for i in range(p.n_out) for j in range(p.n_hidden)
        ]

    def local_activation(self, j: int) -> Expr:
        """``dL_j/dH_j``: ``1_{H_j > 0}`` for ReLU, ``L_j (1 - L_j)`` for the sigmoid, ..."""
        return self.activation.local(self.symbols.H[j], self.symbols.L[j])

    # -- the three views of a gradient ---------------------------------------------------------

    def gradient(self, name) -> Expr:
        """The gradient in terms of the nearest backward quantity: ``∇O_i L_j`` or ``∇H_i x_j``."""
        w = self.weight(name)
        return self.gradients["W_a" if w.layer == "a" else "W_b"][w.i, w.j]

    def formula(self, name) -> Expr:
        """The handout's form: the gradient with its bracket written out,
        ``[∂Y_1/∂O_1 ∇Y_1 + ∂Y_2/∂O_1 ∇Y_2] L_1`` or ``[∇O_1 w^b_11 + ∇O_2 w^b_21] ReLU'(H_1) x_1``."""
        w, s = self.weight(name), self.symbols
        if w.layer == "b":
            return self.definitions[s.gO[w.i]] * s.L[w.j]
        return self.definitions[s.gL[w.i]] * self.local_activation(w.i) * s.x[w.j]

    def expanded(self, name) -> Expr:
        """The closed form in terms of the weights, ``x`` and ``y`` alone."""
        return self.substitute(self.gradient(name))

    def substitute(self, expr: Expr, leaves: dict | None = None) -> Expr:
        """Replace every intermediate symbol in ``expr`` by its definition, all the way down to the leaves
        (weights, ``x``, ``y``), which ``leaves`` may in turn replace (by numbers, or by other symbols)."""
        if leaves:
            return expr.xreplace(self.values(leaves))
        if self._symbolic is None:  # every closed form shares one substitution pass
            self._symbolic = self.values({})
        return expr.xreplace(self._symbolic)

    def values(self, leaves: dict, overrides: dict | None = None) -> dict:
        """Every intermediate symbol's value, layer by layer, given values for the leaves.

        One pass in the order of the definitions: each is substituted once, so shared subexpressions stay
        shared (this is the common-subexpression structure that keeps the cost linear). ``overrides``
        replaces some definitions (the theorems use it for a general loss)."""
        values = dict(leaves)
        overrides = overrides or {}
        for sym, definition in self.definitions.items():
            values[sym] = overrides.get(sym, definition).xreplace(values)
        return values

    # -- paths -------------------------------------------------------------------------------------

    def paths(self, name) -> list[Path]:
        """Every path from the loss to the weight, each a product of local derivatives; they sum to the
        gradient."""
        w, s, p = self.weight(name), self.symbols, self.problem
        out = []
        for k in range(p.n_out):  # the loss reaches every Y_k
            if w.layer == "b":
                out.append(
                    Path((("loss", 0), ("Y", k), ("O", w.i)), (s.gY[k], s.dY_dO[k][w.i], s.L[w.j]), w)
                )
                continue
            for m in range(p.n_out):  # every Y_k depends on every O_m, and every O_m on L_i
                out.append(
                    Path(
                        (("loss", 0), ("Y", k), ("O", m), ("L", w.i), ("H", w.i)),
                        (s.gY[k], s.dY_dO[k][m], s.W_b[m, w.i], self.local_activation(w.i), s.x[w.j]),
                        w,
                    )
                )
        return out

    # -- size ----------------------------------------------------------------------------------------

    def operation_count(self) -> int:
        """Operations in all definitions and gradients: the size of the derivation with every common
        subexpression named once."""
        from sympy import count_ops

        total = sum(count_ops(e) for e in self.definitions.values())
        return total + sum(count_ops(e) for m in self.gradients.values() for e in m)


def derive(problem: Problem) -> Derivation:
    """Derive every forward quantity and the gradient of every weight, symbolically."""
    return Derivation(problem)
