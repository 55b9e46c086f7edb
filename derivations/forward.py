"""The forward pass with symbolic weights, in the handout's notation.

Every quantity of the handout is a SymPy symbol (``H_1``, ``w^a_11``, ``∇O_2``) whose definition refers
only to the layer before it. Keeping the intermediate symbols, instead of composing one big expression,
is what makes the derivation grow linearly with the number of weights.

>>> from derivations.problem import load_problem
>>> s = Symbols.for_problem(load_problem())
>>> defs = forward_definitions(s, "relu", "mse")
>>> defs[s.H[0]]
w^a_11*x_1 + w^a_12*x_2 + w^a_13*x_3
>>> defs[s.O[1]]
L_1*w^b_21 + L_2*w^b_22 + L_3*w^b_23 + L_4*w^b_24
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import ImmutableMatrix, Symbol

from .layers import ACTIVATIONS, LOSSES, linear, softmax


def pair(i: int, j: int, wide: bool) -> str:
    """The subscript of a matrix entry, 1-based: ``11``, or ``1,11`` once some width passes 9."""
    return f"{i + 1},{j + 1}" if wide else f"{i + 1}{j + 1}"


@dataclass
class Symbols:
    """Every symbol of one network's derivation, with its LaTeX spelling."""

    n_in: int
    n_hidden: int
    n_out: int
    tex: dict = field(default_factory=dict)

    def __post_init__(self):
        wide = max(self.n_in, self.n_hidden, self.n_out) > 9
        self.wide = wide

        def vec(text, tex, n):
            return [self._sym(f"{text}_{k + 1}", f"{tex}_{{{k + 1}}}") for k in range(n)]

        def mat(letter, rows, cols):
            return ImmutableMatrix(
                rows, cols,
                lambda i, j: self._sym(f"w^{letter}_{pair(i, j, wide)}", f"w^{{{letter}}}_{{{pair(i, j, wide)}}}"),
            )

        self.x = vec("x", "x", self.n_in)
        self.y = vec("y", "y", self.n_out)
        self.W_a = mat("a", self.n_hidden, self.n_in)
        self.W_b = mat("b", self.n_out, self.n_hidden)
        self.H = vec("H", "H", self.n_hidden)
        self.L = vec("L", "L", self.n_hidden)
        self.O = vec("O", "O", self.n_out)
        self.Y = vec("Y", "Y", self.n_out)
        self.loss = self._sym("ℒ", r"\mathcal{L}")
        # Backward quantities: the gradient of the loss with respect to each node, and the softmax Jacobian.
        self.gY = vec("∇Y", r"\nabla_{Y", self.n_out)
        self.gO = vec("∇O", r"\nabla_{O", self.n_out)
        self.gL = vec("∇L", r"\nabla_{L", self.n_hidden)
        self.gH = vec("∇H", r"\nabla_{H", self.n_hidden)
        for group in (self.gY, self.gO, self.gL, self.gH):  # close the \nabla_{Y subscript: \nabla_{Y_{1}}
            for s in group:
                self.tex[s] += "}"
        self.dY_dO = [
            [
                self._sym(f"∂Y_{k + 1}/∂O_{j + 1}", rf"\frac{{\partial Y_{{{k + 1}}}}}{{\partial O_{{{j + 1}}}}}")
                for j in range(self.n_out)
            ]
            for k in range(self.n_out)
        ]

    def _sym(self, name: str, tex: str) -> Symbol:
        s = Symbol(name, real=True)  # real (so finite): assumption queries end at once
        self.tex[s] = tex
        return s

    @classmethod
    def for_problem(cls, problem) -> "Symbols":
        return cls(*problem.layers)

    def weight(self, layer: str, i: int, j: int) -> Symbol:
        return (self.W_a if layer == "a" else self.W_b)[i, j]


def forward_definitions(s: Symbols, activation: str, loss: str) -> dict:
    """Steps 1-5 of the handout: each symbol defined from the layer before it, in order."""
    act, lo = ACTIVATIONS[activation], LOSSES[loss]
    defs = {}
    defs.update(zip(s.H, linear(s.W_a, s.x)))  # Step 1: H = W_a x
    defs.update((l, act.forward(h)) for h, l in zip(s.H, s.L))  # Step 2: L = act(H)
    defs.update(zip(s.O, linear(s.W_b, s.L)))  # Step 3: O = W_b L
    defs.update(zip(s.Y, softmax(s.O)))  # Step 4: Y = softmax(O)
    defs[s.loss] = lo.forward(s.Y, s.y)  # Step 5: the loss
    return defs
