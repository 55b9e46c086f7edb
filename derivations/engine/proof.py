"""Checked claims: a :class:`Step` (an expression SymPy simplified, and what it came to), a :class:`Theorem` (a
statement with its assumptions and steps), :func:`check_zero`, and the softmax lemma.

A step holds only if its expression simplifies to exactly 0 (a numeric counterexample, or a simplification
that gets stuck, leaves it *not proved*). Every theorem says how it was established: ``proved`` (a symbolic
identity) or ``checked numerically`` (a seeded example, a training run), and never the one for the other.
The symmetry theorems (:mod:`.theorems`) are built of these; the values (:mod:`.values`) use the softmax lemma
itself, for the gradients it makes exactly 0.

>>> th = softmax_lemma(2)
>>> th.holds, th.verdict, th.steps[-1].claim
(True, 'proved', 'Σ_j ∂ℒ/∂O_j = 0')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

from sympy import Add, Expr, Function, Integer, KroneckerDelta, Mul, Rational, Symbol, expand, exp, simplify, together

from .derivation import count_nodes
from .ops import LOSSES

PROVED, NUMERIC = "proved", "checked numerically"
REFUTED = "refuted"  # a proved theorem's claim fails at an exact point: a counterexample, shown


@dataclass
class Step:
    """One checked claim: ``expression`` (what was simplified) came to ``result``."""

    claim: str
    expression: Expr
    result: Expr
    ok: bool
    method: str

    @property
    def counterexample(self) -> bool:
        """A failed step whose claim was evaluated at an exact point and found false (not merely unproved)."""
        return not self.ok and self.method.startswith("counterexample")

    @property
    def status(self) -> str:
        """``holds``, ``FAILS`` (a counterexample) or ``NOT PROVED``: how a page or the CLI shows the step."""
        return "holds" if self.ok else ("FAILS" if self.counterexample else "NOT PROVED")

    def as_dict(self, detailed: bool = True) -> dict:
        """The step for the JSON; ``detailed`` adds what was simplified (as text and LaTeX, ``None`` past 400
        nodes), which costs a printing of every expression."""
        from sympy import latex, sstr

        out = {"claim": self.claim, "holds": bool(self.ok), "method": self.method,
               "result": sstr(self.result) if not isinstance(self.result, (bool, int, float)) else str(self.result)}
        if detailed:
            big = count_nodes(self.expression, 41) > 40  # printing is the cost: every step of every theorem
            out["expression"] = None if big else sstr(self.expression, order="none")
            out["expression_latex"] = None if big else latex(self.expression, order="none")
        return out


@dataclass
class Theorem:
    key: str
    name: str
    statement: str
    assumptions: list
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    applies: bool | None = None  # does the current problem's init satisfy the assumptions?
    how: str = PROVED  # proved (symbolic identity) or checked numerically

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    @property
    def refuted(self) -> bool:
        """Did a step fail at an exact point (a counterexample), rather than merely resist simplification?"""
        return any(s.counterexample for s in self.steps)

    @property
    def verdict(self) -> str:
        if self.how == PROVED:
            return PROVED if self.holds else (REFUTED if self.refuted else "not proved")
        return NUMERIC if self.holds else "failed the numerical check"

    def as_dict(self, detailed: bool = True) -> dict:
        return {
            "name": self.name,
            "key": self.key,
            "statement": self.statement,
            "assumptions": self.assumptions,
            "holds": self.holds,
            "method": self.how,
            "verdict": self.verdict,
            "applies": self.applies,
            "steps": [s.as_dict(detailed) for s in self.steps],
            "notes": self.notes,
        }


def check_zero(claim: str, expr: Expr) -> Step:
    """Does ``expr`` simplify to exactly 0? Automatic simplification first, then ``expand``, ``together``;
    a random exact point where it is not 0 ends the attempt (*not proved*), else ``simplify``."""
    if expr == 0:
        return Step(claim, expr, Integer(0), True, "identically 0")
    e = expand(expr)
    if e == 0:
        return Step(claim, expr, e, True, "expand")
    e = expand(together(e))
    if e == 0:
        return Step(claim, expr, e, True, "together, expand")
    witness = _witness(expr)
    if witness is not None:
        return Step(claim, expr, witness, False, "counterexample at a random exact point")
    e = simplify(expr)
    return Step(claim, expr, e, e == 0, "simplify")


def check_difference(claim: str, a: Expr, b: Expr) -> Step:
    """:func:`check_zero` of ``a - b``, recording the difference as written (``a - b`` unevaluated), so
    the record shows both sides even when SymPy cancels them on sight."""
    from sympy import Mul

    step = check_zero(claim, a - b)
    step.expression = Add(a, Mul(-1, b, evaluate=False), evaluate=False)
    return step


def _witness(expr: Expr):
    """The value of ``expr`` at a seeded random rational point, if it is clearly not 0."""
    rng = random.Random(0)
    point = {s: Rational(rng.randint(-9, 9) or 1, rng.randint(2, 11)) for s in expr.free_symbols}
    value = expr.xreplace(point).evalf(30)
    if value.is_number and abs(value) > 1e-20:
        return value
    return None


# -- the softmax lemma ---------------------------------------------------------------------------------------

GENERAL = "general"


@lru_cache(maxsize=None)
def softmax_lemma(n_out: int, loss: str = GENERAL) -> Theorem:
    """The components of ``∂ℒ/∂O`` sum to 0 for any loss of the softmax output: adding one constant to
    every logit leaves the softmax unchanged."""
    what = "loss ℓ(Y) an undefined function" if loss == GENERAL else f"{LOSSES[loss].text} loss"
    th = Theorem(
        "softmax_lemma", "Softmax lemma",
        "For any loss of the softmax output, the components of ∂ℒ/∂O sum to 0: Σ_j ∂ℒ/∂O_j = 0.",
        [f"{n_out} outputs", "logits O_j free symbols", "Y = softmax(O), so Y_n = 1 − Σ_{j<n} Y_j (step 1)", what],
    )
    # Step 1: the softmax outputs sum to 1, for free logits (textbook form e^{O_i} / sum_j e^{O_j}).
    o = [Symbol(f"O_{j + 1}") for j in range(n_out)]
    total = Add(*(exp(v) for v in o))
    th.steps.append(check_zero("Σ_j Y_j − 1 = 0", Add(*(exp(v) / total for v in o)) - 1))
    # Step 2: so Y lies on the simplex, Y_n = 1 − Σ_{j<n} Y_j, with the other Y_j free; on it, the sum of
    # ∂ℒ/∂O_j is a polynomial identity in Y and the loss's partials g_k = ∂ℓ/∂Y_k (for a general loss,
    # undefined functions of Y, which expand treats as atoms).
    Y = [Symbol(f"Y_{k + 1}") for k in range(n_out)]
    Y[-1] = 1 - Add(*Y[:-1])
    y = [Symbol(f"y_{k + 1}") for k in range(n_out)]
    if loss == GENERAL:
        g = [Function(f"∂ℓ/∂Y_{k + 1}")(*Y) for k in range(n_out)]  # partials of an undefined ℓ(Y)
    else:
        g = [LOSSES[loss].local(Y, y, k) for k in range(n_out)]
    # Σ_j ∂ℒ/∂O_j = Σ_j Σ_k g_k Y_k (δ_kj − Y_j), summed over j first (finite sums commute): each inner sum is
    # 1 − Σ_j Y_j, which is 0 on the simplex. n sums of n terms, where expanding the whole sum costs n³ terms
    # (24 s at 55 outputs). The record keeps the double sum as written.
    inner = [Add(*(KroneckerDelta(k, j) - Y[j] for j in range(n_out))) for k in range(n_out)]
    step = check_zero("Σ_j ∂ℒ/∂O_j = 0", Add(*(g[k] * Y[k] * inner[k] for k in range(n_out))))
    step.expression = Add(*(Mul(g[k], Y[k], Add(*(KroneckerDelta(k, j) - Y[j] for j in range(n_out)), evaluate=False),
                                evaluate=False) for k in range(n_out)), evaluate=False)
    if step.method == "identically 0":
        step.method = "summed over j first: every Σ_j (δ_kj − Y_j) is 1 − Σ_j Y_j = 0"
    th.steps.append(step)
    return th
