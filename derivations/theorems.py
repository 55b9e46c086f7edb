"""Machine-checked symmetry theorems: why constant initialization fails.

Each theorem is a :class:`Theorem` record: the statement, its assumptions, and the steps, each an
expression that SymPy simplified and what it came to. A step holds only if its expression simplifies to
exactly 0 (a numeric counterexample, or a simplification that gets stuck, leaves it *not proved*).

>>> th = dead_first_layer(3, 4, 2, "relu", "mse")
>>> th.holds, th.steps[-1].claim
(True, '∂ℒ/∂w^a_43 = 0')
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

import mpmath
from sympy import (Add, Expr, Function, ImmutableMatrix, Integer, KroneckerDelta, Mul, Rational, Symbol, count_ops, expand,
                   exp, simplify, together)

from .backward import Derivation
from .forward import pair
from .layers import LOSSES
from .problem import ACTIVATIONS, Problem

#: The width range the sweep covers (inputs, hidden, outputs).
SWEEP = {"inputs": range(1, 5), "hidden": range(1, 9), "outputs": range(2, 5)}

GENERAL_ARGUMENT = (
    "The loss is unchanged when the hidden units are permuted together with their weights (rows of W_a, "
    "columns of W_b). An initialization in which all rows of W_a are equal and all columns of W_b are equal "
    "is a fixed point of every such permutation, and the gradient of a permutation-invariant function at a "
    "fixed point is itself fixed (equivariance): its rows for W_a are equal and its columns for W_b are equal. "
    "A gradient step w - η∇ therefore stays in the fixed set, and by induction so does every step: the "
    "hidden units stay identical forever, and the network trains exactly like one with a single hidden unit."
)


@dataclass
class Step:
    """One checked claim: ``expression`` (what was simplified) came to ``result``."""

    claim: str
    expression: Expr
    result: Expr
    ok: bool
    method: str

    def as_dict(self) -> dict:
        from sympy import latex, sstr

        big = count_ops(self.expression) > 400
        return {
            "claim": self.claim,
            "expression": None if big else sstr(self.expression),
            "expression_latex": None if big else latex(self.expression),
            "result": sstr(self.result),
            "holds": self.ok,
            "method": self.method,
        }


@dataclass
class Theorem:
    key: str
    name: str
    statement: str
    assumptions: list
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    applies: bool | None = None  # does the current problem's init satisfy the assumptions?

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    @property
    def verdict(self) -> str:
        return "proved" if self.holds else "not proved"

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "key": self.key,
            "statement": self.statement,
            "assumptions": self.assumptions,
            "holds": self.holds,
            "applies": self.applies,
            "steps": [s.as_dict() for s in self.steps],
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


# -- the symmetric set -------------------------------------------------------------------------------------


def symmetric_leaves(d: Derivation) -> tuple[dict, list, list]:
    """Leaves for the symmetric set: ``W_a[i, j] = a_j`` (equal rows) and ``W_b[i, j] = b_i`` (equal
    columns); ``x`` and ``y`` stay symbolic."""
    s, p = d.symbols, d.problem
    a = [Symbol(f"a_{j + 1}", real=True) for j in range(p.n_in)]
    b = [Symbol(f"b_{i + 1}", real=True) for i in range(p.n_out)]
    leaves = {s.W_a[i, j]: a[j] for i in range(p.n_hidden) for j in range(p.n_in)}
    leaves.update({s.W_b[i, j]: b[i] for i in range(p.n_out) for j in range(p.n_hidden)})
    return leaves, a, b


_DERIVATIONS: dict = {}


def _symbolic(n_in: int, n_h: int, n_out: int, activation: str, loss: str) -> Derivation:
    """The derivation of a network of this shape; the theorems give it symbolic leaves. (A derivation's
    definitions do not depend on the problem's numbers, so any derivation of the shape serves.)"""
    key = (n_in, n_h, n_out, activation, loss)
    if key not in _DERIVATIONS:
        _DERIVATIONS[key] = Derivation(_symbolic_problem(*key))
    return _DERIVATIONS[key]


_SYMMETRIC_VALUES: dict = {}


def _symmetric_values(d: Derivation) -> dict:
    """Every quantity of ``d`` on the symmetric set (statements 1 and 3 share it)."""
    if id(d) not in _SYMMETRIC_VALUES:
        _SYMMETRIC_VALUES[id(d)] = (d, d.values(symmetric_leaves(d)[0]))
    return _SYMMETRIC_VALUES[id(d)][1]


def _symbolic_problem(n_in: int, n_h: int, n_out: int, activation: str, loss: str) -> Problem:
    """A problem of the given shape whose numbers the theorems never look at (they use symbols)."""
    y = [Integer(1)] + [Integer(0)] * (n_out - 1)
    return Problem((n_in, n_h, n_out), activation, loss, (Integer(1),) * n_in, tuple(y),
                   ImmutableMatrix(n_h, n_in, [0] * (n_h * n_in)), ImmutableMatrix(n_out, n_h, [0] * (n_out * n_h)))


def _general_loss(d: Derivation) -> dict:
    """Override ``∇Y_k`` by an undefined function of ``Y``: the gradient of an arbitrary loss."""
    s = d.symbols
    return {g: Function(f"∂ℓ/∂Y_{k + 1}")(*s.Y) for k, g in enumerate(s.gY)}


def hidden_symmetry(n_in, n_h, n_out, activation, loss) -> Theorem:
    """Statement 1: equal rows of ``W_a`` and equal columns of ``W_b`` make all hidden units equal."""
    th = Theorem(
        "symmetry", "Hidden-unit symmetry",
        "If every row of W_a is the same and every column of W_b is the same, all hidden units have equal "
        "pre-activations, equal activations, equal gradients ∂ℒ/∂w^a_ij across i for each j, and equal "
        "∂ℒ/∂w^b_ij across j for each i.",
        ["W_a[i,j] = a_j", "W_b[i,j] = b_i", "x, y, a, b symbolic",
         f"{n_in}-{n_h}-{n_out} network, {activation} hidden units, {loss} loss"],
    )
    d = _symbolic(n_in, n_h, n_out, activation, loss)
    s = d.symbols
    v = _symmetric_values(d)
    for i in range(1, n_h):
        for name, vec in (("H", s.H), ("L", s.L)):
            th.steps.append(check_difference(f"{name}_{i + 1} − {name}_1 = 0", v[vec[i]], v[vec[0]]))
    ga, gb = (d.gradients[k].xreplace(v) for k in ("W_a", "W_b"))
    th.steps += _same_across_hidden_units(ga, gb, "∂ℒ/∂w^a_{}", "∂ℒ/∂w^b_{}", s.wide)
    return th


def _same_across_hidden_units(A, B, name_a: str, name_b: str, wide: bool) -> list:
    """Steps: every hidden unit's entries of ``A`` (rows, shaped like ``W_a``) and ``B`` (columns, shaped
    like ``W_b``) minus the first unit's simplify to 0."""
    steps = []
    for i in range(1, A.rows):
        for j in range(A.cols):
            a, a1 = name_a.format(pair(i, j, wide)), name_a.format(pair(0, j, wide))
            steps.append(check_difference(f"{a} − {a1} = 0", A[i, j], A[0, j]))
        for k in range(B.rows):
            b, b1 = name_b.format(pair(k, i, wide)), name_b.format(pair(k, 0, wide))
            steps.append(check_difference(f"{b} − {b1} = 0", B[k, i], B[k, 0]))
    if A.rows == 1:
        steps.append(Step("one hidden unit: nothing to compare", Integer(0), Integer(0), True, "vacuous"))
    return steps


@lru_cache(maxsize=None)
def softmax_lemma(n_out: int, loss: str = "general") -> Theorem:
    """The components of ``∂ℒ/∂O`` sum to 0 for any loss of the softmax output: adding one constant to
    every logit leaves the softmax unchanged."""
    th = Theorem(
        "softmax_lemma", "Softmax lemma",
        "For any loss of the softmax output, the components of ∂ℒ/∂O sum to 0: Σ_j ∂ℒ/∂O_j = 0.",
        [f"{n_out} outputs", "logits O_j free symbols", "Y = softmax(O), so Y_n = 1 − Σ_{j<n} Y_j (step 1)",
         {"general": "loss ℓ(Y) an undefined function", "mse": "MSE loss", "cross_entropy": "cross-entropy loss"}[loss]],
    )
    # Step 1: the softmax outputs sum to 1, for free logits (textbook form e^{O_i} / sum_j e^{O_j}).
    o = [Symbol(f"O_{j + 1}") for j in range(n_out)]
    total = Add(*(exp(v) for v in o))
    th.steps.append(check_zero("Σ_j Y_j − 1 = 0", Add(*(exp(v) / total for v in o)) - 1))
    # Step 2: so Y lies on the simplex, Y_n = 1 − Σ_{j<n} Y_j, with the other Y_j free; on it, the
    # sum of ∂ℒ/∂O_j is a polynomial identity in Y and the loss's partials g_k = ∂ℓ/∂Y_k (for a general
    # loss, undefined functions of Y, which expand treats as atoms).
    Y = [Symbol(f"Y_{k + 1}") for k in range(n_out)]
    Y[-1] = 1 - Add(*Y[:-1])
    y = [Symbol(f"y_{k + 1}") for k in range(n_out)]
    if loss == "general":
        g = [Function(f"∂ℓ/∂Y_{k + 1}")(*Y) for k in range(n_out)]  # partials of an undefined ℓ(Y)
    else:
        g = [LOSSES[loss].local(Y, y, k) for k in range(n_out)]
    dO = [Add(*(g[k] * Y[k] * (KroneckerDelta(k, j) - Y[j]) for k in range(n_out))) for j in range(n_out)]
    th.steps.append(check_zero("Σ_j ∂ℒ/∂O_j = 0", Add(*dO)))
    return th


def dead_first_layer(n_in, n_h, n_out, activation, loss) -> Theorem:
    """Statement 2: equal rows of ``W_b`` make ``∂ℒ/∂W_a`` exactly 0, for any ``W_a``, ``x``, ``y``."""
    general = loss == "general"
    th = Theorem(
        "dead_first_layer", "The dead first layer",
        "If every row of W_b is the same (each column constant), then ∂ℒ/∂W_a = 0 exactly, for any W_a, x "
        "and y: the softmax lemma makes Σ_i ∂ℒ/∂O_i = 0, and ∂ℒ/∂L_j = Σ_i (∂ℒ/∂O_i) w^b_ij is that sum "
        "times the common weight c_j.",
        ["W_b[i,j] = c_j", "W_a, x, y symbolic",
         f"{n_in}-{n_h}-{n_out} network, {activation} hidden units, "
         + ("any loss ℓ(Y) (undefined function)" if general else f"{loss} loss")],
    )
    d = _symbolic(n_in, n_h, n_out, activation, "mse" if general else loss)
    s = d.symbols
    c = [Symbol(f"c_{j + 1}", real=True) for j in range(n_h)]
    leaves = {s.W_b[i, j]: c[j] for i in range(n_out) for j in range(n_h)}
    v = d.values(leaves, _general_loss(d) if general else None)
    for j in range(n_h):
        th.steps.append(check_zero(f"∇L_{j + 1} = 0", v[s.gL[j]]))
    ga = d.gradients["W_a"].xreplace(v)
    for i in range(n_h):
        for j in range(n_in):
            th.steps.append(check_zero(f"∂ℒ/∂w^a_{pair(i, j, s.wide)} = 0", ga[i, j]))
    return th


def permanence(n_in, n_h, n_out, activation, loss) -> Theorem:
    """Statement 3: one gradient step with a symbolic learning rate keeps the symmetric set."""
    th = Theorem(
        "permanence", "Symmetry is permanent",
        "One gradient-descent step W ← W − η ∂ℒ/∂W (η symbolic) maps the symmetric set (equal rows of W_a, "
        "equal columns of W_b) into itself; by induction every step does, so a constant-initialized network "
        "trains exactly like a network with one hidden unit, forever.",
        ["W_a[i,j] = a_j", "W_b[i,j] = b_i", "x, y, a, b, η symbolic",
         f"{n_in}-{n_h}-{n_out} network, {activation} hidden units, {loss} loss"],
    )
    d = _symbolic(n_in, n_h, n_out, activation, loss)
    s = d.symbols
    eta = Symbol("η", positive=True)
    v = _symmetric_values(d)
    new_a = (s.W_a - eta * d.gradients["W_a"]).xreplace(v)
    new_b = (s.W_b - eta * d.gradients["W_b"]).xreplace(v)
    th.steps += _same_across_hidden_units(new_a, new_b, "w^a'_{}", "w^b'_{}", s.wide)
    return th


# -- numbers: the theorems at work on a concrete problem ------------------------------------------------


def in_symmetric_set(problem: Problem) -> bool:
    """Are all rows of ``W_a`` equal and all columns of ``W_b`` equal (statement 1's assumption)?

    >>> from derivations import load_problem
    >>> in_symmetric_set(load_problem())
    True
    """
    Wa, Wb = problem.W_a, problem.W_b
    return all(Wa.row(i) == Wa.row(0) for i in range(Wa.rows)) and all(
        Wb.col(j) == Wb.col(0) for j in range(Wb.cols)
    )


def rows_of_W_b_equal(problem: Problem) -> bool:
    Wb = problem.W_b
    return all(Wb.row(i) == Wb.row(0) for i in range(Wb.rows))


def hidden_spread(W_a, W_b) -> tuple:
    """How far the hidden units' weights differ: the largest spread across hidden units of a column of
    ``W_a``'s entries (``w^a_ij`` over ``i``) and of a row of ``W_b``'s (``w^b_ij`` over ``j``)."""
    spread_a = max(max(col) - min(col) for col in zip(*W_a))
    spread_b = max(max(row) - min(row) for row in W_b)
    return spread_a, spread_b


def train(problem: Problem, steps: int = 300, lr=Rational(1, 2), module: str = "math", dps: int = 30) -> dict:
    """Plain gradient descent on the problem, with the engine's gradients (compiled once).

    Returns the per-step loss and weights; with ``module="mpmath"`` the arithmetic carries ``dps`` digits."""
    from .values import Numeric

    num = Numeric(Derivation(problem), module)
    precise = module == "mpmath"

    def conv(v):
        r = Rational(v)
        return mpmath.mpf(int(r.p)) / int(r.q) if precise else float(r)

    with mpmath.workdps(dps) if precise else contextlib.nullcontext():
        W_a = [[conv(v) for v in problem.W_a.row(i)] for i in range(problem.n_hidden)]
        W_b = [[conv(v) for v in problem.W_b.row(i)] for i in range(problem.n_out)]
        x, y = ([conv(v) for v in vec] for vec in (problem.x, problem.y))
        eta = conv(lr)
        history = {"loss": [], "W_a": [], "W_b": [], "lr": lr, "steps": steps}
        for _ in range(steps + 1):
            ga, gb, loss = num.gradients(W_a, W_b, x, y)
            history["loss"].append(loss)
            history["W_a"].append([row[:] for row in W_a])
            history["W_b"].append([row[:] for row in W_b])
            W_a = [[w - eta * g for w, g in zip(rw, rg)] for rw, rg in zip(W_a, ga)]
            W_b = [[w - eta * g for w, g in zip(rw, rg)] for rw, rg in zip(W_b, gb)]
    return history


def random_init(problem: Problem, seed: int = 1) -> Problem:
    """The problem with seeded random rational weights in [-0.5, 0.5] (hundredths): the first draw, from
    ``seed`` on, in which no ReLU unit is dead at the start (a dead unit's gradient is 0, which would
    blur the contrast with the constant init). Its ``source`` names the seed used."""
    return random_draw(problem, seed)[0]


def random_draw(problem: Problem, seed: int = 1) -> tuple:
    """:func:`random_init` and the seed it used."""
    from .values import Values

    for attempt in range(seed, seed + 100):
        rng = random.Random(attempt)

        def pick():
            return Rational(rng.randint(-50, 50) or 7, 100)

        Wa = ImmutableMatrix(problem.n_hidden, problem.n_in, lambda i, j: pick())
        Wb = ImmutableMatrix(problem.n_out, problem.n_hidden, lambda i, j: pick())
        p = replace(problem, W_a=Wa, W_b=Wb, source=f"{problem.source} with random init (seed {attempt})")
        if problem.activation != "relu" or all(h > 0 for h in Values(Derivation(p)).forward["H"]):
            return p, attempt
    return p, attempt


def permanence_in_numbers(problem: Problem, steps: int = 50, lr=Rational(1, 2)) -> Step:
    """Train from a symmetric init at 30 digits: the hidden units' spread stays exactly 0 while the loss moves."""
    h = train(problem, steps, lr, module="mpmath")
    spreads = [hidden_spread(a, b) for a, b in zip(h["W_a"], h["W_b"])]
    worst = max(max(sa, sb) for sa, sb in spreads)
    moved = h["loss"][0] - h["loss"][-1]
    claim = (f"after {steps} steps (η = {lr}, 30 digits): spread across hidden units = {worst}, "
             f"loss {float(h['loss'][0]):.6g} → {float(h['loss'][-1]):.6g}")
    return Step(claim, Integer(0), Rational(0) if worst == 0 else worst, worst == 0 and moved != 0, "numeric run")


def random_breaks(problem: Problem, seed: int = 1) -> Theorem:
    """Statement 4: a generic (seeded random) init gives hidden units unequal gradients."""
    from .values import Values

    p, used = random_draw(problem, seed)
    th = Theorem(
        "random_breaks", "Random initialization breaks the symmetry",
        "A generic initialization gives the hidden units unequal gradients, so they learn different features.",
        [f"seeded random rational weights in [-0.5, 0.5] (seed {used}, the first draw from seed {seed} with "
         "no dead ReLU unit)" if used != seed else f"seeded random rational weights in [-0.5, 0.5] (seed {used})",
         f"x, y of the {problem.source} problem"],
    )
    v = Values(Derivation(p))
    g = [v.gradients["W_a"][i, 0] for i in range(p.n_hidden)]
    for i, gi in enumerate(g):
        th.notes.append(f"∂ℒ/∂w^a_{i + 1}1 ≈ {float(gi.evalf(20)):.6g}")
    if p.n_hidden == 1:
        th.steps.append(Step("one hidden unit: nothing to break", Integer(0), Integer(0), True, "vacuous"))
        return th
    diffs = [(g[i] - g[0]).evalf(30) for i in range(1, p.n_hidden)]
    far = max(abs(x) for x in diffs)
    th.steps.append(Step("some ∂ℒ/∂w^a_i1 − ∂ℒ/∂w^a_11 ≠ 0", Integer(0), far, far > 1e-20, "exact values, 30 digits"))
    th.problem = p  # the init used, for the pages that show it
    return th


def theorems_for(problem: Problem, every: bool = False, derivation: Derivation | None = None) -> list:
    """The theorems at the problem's widths, with ``applies`` saying whether its init meets each one's
    assumptions; with ``every``, also the numeric run of statement 3 and the random-init contrast.
    ``derivation`` (the problem's own) saves deriving the same network again."""
    n_in, n_h, n_out = problem.layers
    act, loss = problem.activation, problem.loss
    if derivation is not None:
        _DERIVATIONS.setdefault((n_in, n_h, n_out, act, loss), derivation)
    sym, dead = in_symmetric_set(problem), rows_of_W_b_equal(problem)
    out = [hidden_symmetry(n_in, n_h, n_out, act, loss), softmax_lemma(n_out, "general"),
           dead_first_layer(n_in, n_h, n_out, act, loss), permanence(n_in, n_h, n_out, act, loss)]
    out[0].applies, out[1].applies, out[2].applies, out[3].applies = sym, True, dead, sym
    if every:
        if sym:
            out[3].steps.append(permanence_in_numbers(problem))
        out.append(random_breaks(problem))
        out[-1].applies = True
    return out


def sweep(activations=ACTIVATIONS, losses=("mse", "cross_entropy")) -> dict:
    """Statements 1-3 (and the lemma) for every width in :data:`SWEEP`, each activation and loss."""
    start = time.perf_counter()
    failed, count = [], 0
    for n_out in SWEEP["outputs"]:
        for loss in (*losses, "general"):
            count += 1
            if not softmax_lemma(n_out, loss).holds:
                failed.append(("softmax_lemma", n_out, loss))
    for n_in in SWEEP["inputs"]:
        for n_h in SWEEP["hidden"]:
            for n_out in SWEEP["outputs"]:
                for act in activations:
                    for loss in losses:
                        for f in (hidden_symmetry, dead_first_layer, permanence):
                            count += 1
                            if not f(n_in, n_h, n_out, act, loss).holds:
                                failed.append((f.__name__, n_in, n_h, n_out, act, loss))
                    count += 1
                    if not dead_first_layer(n_in, n_h, n_out, act, "general").holds:
                        failed.append(("dead_first_layer", n_in, n_h, n_out, act, "general"))
    return {"checked": count, "failed": failed, "seconds": time.perf_counter() - start}
