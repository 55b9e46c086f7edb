"""Machine-checked symmetry theorems: why constant initialization fails, for any depth.

Each theorem is a :class:`Theorem` record (:mod:`.proof`): the statement, its assumptions, and the steps,
each an expression that SymPy simplified and what it came to. A step holds only if its expression simplifies
to exactly 0 (a numeric counterexample, or a simplification that gets stuck, leaves it *not proved*). Every
theorem says how it was established: ``proved`` (a symbolic identity) or ``checked numerically`` (a seeded
example, a training run), and never the one for the other.

The proofs are local, layer by layer, as the derivation itself is: a hidden layer's quantities are
substituted from their definitions, while the layers around it stay free symbols. A statement proved for
arbitrary neighbouring values holds for whatever the rest of the network computes, so the cost of a proof
does not grow with depth.

>>> th = dead_layers(Structure((3, 4, 2), ("relu",), "mse"))
>>> th.holds, th.verdict, th.steps[-1].claim
(True, 'proved', '∂ℒ/∂w^a_43 = 0')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

from sympy import Add, Float, Integer, Rational, Symbol, expand

from .derivation import Derivation, derive, pair
from .ops import ACTIVATIONS, DEFAULT_OUTPUT, OUTPUTS
from .problem import LETTERS, Problem, bias_name, weight_name
from .proof import (GENERAL, NUMERIC, PROVED, REFUTED, Step, Theorem, check_difference,  # noqa: F401 (imported from here too)
                    check_zero, softmax_lemma)
from .training import hidden_spread, train
from .values import leaves_of


#: The numeric training run compiles every formula of the network; above this many parameters it is not run
#: (the proofs cover every size), and the output says so.
MAX_TRAINING_WEIGHTS = 256

GENERAL_ARGUMENT = (
    "The loss is unchanged when the units of a hidden layer are permuted together with their weights (the "
    "rows of the layer's incoming matrix and bias, the columns of its outgoing matrix). An initialization in "
    "which those rows are equal, the bias is constant and those columns are equal is a fixed point of every "
    "such permutation, and the gradient of a permutation-invariant function at a fixed point is itself fixed "
    "(equivariance): its rows are equal and its columns are equal. A gradient step w − η∇ therefore stays in "
    "the fixed set, and by induction so does every step: the layer's units stay identical forever, and the "
    "network trains exactly like one with a single unit in that layer."
)


@dataclass(frozen=True)
class Structure:
    """What a theorem depends on: the widths, the activations, the loss, biases and the number of samples
    (never the numbers)."""

    layers: tuple
    activations: tuple
    loss: str
    bias: bool = False
    samples: int = 1
    output: str = DEFAULT_OUTPUT

    @classmethod
    def of(cls, p: Problem) -> "Structure":
        return cls(tuple(p.layers), tuple(p.activations), p.loss, p.bias, p.n_samples, p.output)

    @property
    def softmax(self) -> bool:
        """Is the output layer a softmax (whose logits' gradients sum to 0, the softmax lemma)?"""
        return OUTPUTS[self.output].sums_to_one

    @property
    def depth(self) -> int:
        return len(self.layers) - 2

    def describe(self) -> str:
        acts = "/".join(dict.fromkeys(self.activations))
        extra = (", with biases" if self.bias else "") + (f", {self.samples} samples" if self.samples > 1 else "")
        out = "" if self.softmax else f", {self.output} output"
        return f"{'-'.join(map(str, self.layers))} network, {acts} hidden units{out}, {self.loss} loss{extra}"


# -- the symbolic derivation of a structure ----------------------------------------------------------------


@lru_cache(maxsize=64)
def symbolic(structure: Structure) -> Derivation:
    """The derivation of a network of this structure; the theorems give its symbols their own values. (A
    derivation's definitions do not depend on the problem's numbers, so any problem of the structure serves.)"""
    from sympy import ImmutableMatrix

    L = structure.layers
    weights = tuple(ImmutableMatrix(L[l + 1], L[l], [0] * (L[l + 1] * L[l])) for l in range(len(L) - 1))
    biases = tuple((Integer(0),) * L[l + 1] for l in range(len(L) - 1)) if structure.bias else None
    y = (Integer(1),) + (Integer(0),) * (L[-1] - 1)
    p = Problem(tuple(L), tuple(structure.activations), structure.loss, ((Integer(1),) * L[0],) * structure.samples,
                (y,) * structure.samples, weights, biases, "symbolic", structure.output)
    return Derivation(p)


def _layer_symbols(d: Derivation, l: int) -> tuple:
    """Hidden layer ``l``'s (0-based) node keys and the keys around it."""
    keys = d.symbols.keys
    return keys[2 * l], keys[2 * l + 1]


def _local_values(d: Derivation, leaves: dict, symbols: set) -> dict:
    """The values of ``symbols`` (one layer's quantities) from their definitions, in order, with ``leaves``
    substituted; every other symbol stays free."""
    values = dict(leaves)
    for sym, definition in d.definitions.items():
        if sym in symbols:
            values[sym] = definition.xreplace(values)
    return values


# -- statement 1: hidden-unit symmetry, layer by layer -------------------------------------------------------


def symmetric_leaves(d: Derivation, l: int) -> dict:
    """Layer ``l``'s symmetric set: incoming rows equal (``W[i, j] = a_j``), bias constant (``b_i = β``),
    outgoing columns equal (``W'[k, i] = c_k``); every other parameter stays a free symbol."""
    sy, L = d.symbols, d.problem.layers
    a = [Symbol(f"a_{j + 1}", real=True) for j in range(L[l])]
    c = [Symbol(f"c_{k + 1}", real=True) for k in range(L[l + 2])]
    leaves = {sy.W[l][i, j]: a[j] for i in range(L[l + 1]) for j in range(L[l])}
    leaves.update({sy.W[l + 1][k, i]: c[k] for k in range(L[l + 2]) for i in range(L[l + 1])})
    if sy.b is not None:
        beta = Symbol("β", real=True)
        leaves.update({v: beta for v in sy.b[l]})
    return leaves


def _layer_values(d: Derivation, l: int, leaves: dict) -> dict:
    sy = d.symbols
    H, L = _layer_symbols(d, l)
    own = set()
    for s in range(sy.samples):
        own |= set(sy.node(H, s)) | set(sy.node(L, s)) | set(sy.grad(H, s)) | set(sy.grad(L, s))
    return _local_values(d, leaves, own)


def hidden_symmetry(structure: Structure, l: int = 0) -> Theorem:
    """Statement 1 for hidden layer ``l``: equal incoming rows, a constant bias and equal outgoing columns
    make all its units equal, forward and backward, whatever the rest of the network."""
    d = symbolic(structure)
    sy, Ls = d.symbols, structure.layers
    n = Ls[l + 1]
    H, L = _layer_symbols(d, l)
    Hn, Ln = d.node_names[H], d.node_names[L]
    inc, out = weight_name(l), weight_name(l + 1)
    bias = f", every entry of {bias_name(l)} the same" if structure.bias else ""
    layer = f" in hidden layer {l + 1}" if structure.depth > 1 else ""
    th = Theorem(
        "symmetry" if l == 0 else f"symmetry_{l + 1}", "Hidden-unit symmetry" + layer,
        f"If every row of {inc} is the same{bias} and every column of {out} is the same, all hidden units{layer} have "
        f"equal pre-activations, equal activations, equal gradients ∂ℒ/∂w^{LETTERS[l]}_ij across i for each j, and "
        f"equal ∂ℒ/∂w^{LETTERS[l + 1]}_ki across i for each k" + (f", and equal ∂ℒ/∂b^{LETTERS[l]}_i" if structure.bias else "")
        + ", whatever the other layers hold.",
        [f"{inc}[i,j] = a_j", f"{out}[k,i] = c_k"] + ([f"{bias_name(l)}[i] = β"] if structure.bias else [])
        + [f"x, y, a, c{', β' if structure.bias else ''} and every other parameter symbolic", structure.describe()],
    )
    v = _layer_values(d, l, symmetric_leaves(d, l))
    for s in range(structure.samples):
        tag = f" (sample {s + 1})" if structure.samples > 1 else ""
        for i in range(1, n):
            for key, name in ((H, Hn), (L, Ln)):
                th.steps.append(check_difference(f"{name}_{i + 1} − {name}_1 = 0{tag}", v[sy.node(key, s)[i]], v[sy.node(key, s)[0]]))
            for key, name in ((L, Ln), (H, Hn)):
                th.steps.append(check_difference(f"∇{name}_{i + 1} − ∇{name}_1 = 0{tag}", v[sy.grad(key, s)[i]], v[sy.grad(key, s)[0]]))
    ga, gb = (d.gradients[weight_name(k)].xreplace(v) for k in (l, l + 1))
    th.steps += _same_across_units(ga, gb, f"∂ℒ/∂w^{LETTERS[l]}_{{}}", f"∂ℒ/∂w^{LETTERS[l + 1]}_{{}}", sy.wide)
    if structure.bias:
        gbias = d.gradients[bias_name(l)].xreplace(v)
        for i in range(1, n):
            th.steps.append(check_difference(f"∂ℒ/∂b^{LETTERS[l]}_{i + 1} − ∂ℒ/∂b^{LETTERS[l]}_1 = 0", gbias[i, 0], gbias[0, 0]))
    if n == 1:
        th.steps.append(Step("one unit: nothing to compare", Integer(0), Integer(0), True, "vacuous"))
    return th


def _same_across_units(A, B, name_a: str, name_b: str, wide: bool) -> list:
    """Steps: every unit's entries of ``A`` (rows, shaped like the incoming matrix) and ``B`` (columns, shaped
    like the outgoing one) minus the first unit's simplify to 0."""
    steps = []
    for i in range(1, A.rows):
        for j in range(A.cols):
            a, a1 = name_a.format(pair(i, j, wide)), name_a.format(pair(0, j, wide))
            steps.append(check_difference(f"{a} − {a1} = 0", A[i, j], A[0, j]))
        for k in range(B.rows):
            b, b1 = name_b.format(pair(k, i, wide)), name_b.format(pair(k, 0, wide))
            steps.append(check_difference(f"{b} − {b1} = 0", B[k, i], B[k, 0]))
    return steps


# -- statement 2: every earlier layer dead when the last matrix has equal rows ---------------------------------


def dead_layers(structure: Structure) -> Theorem:
    """Statement 2: equal rows of the last weight matrix make every earlier weight and bias gradient exactly
    0, for any loss of the softmax output and any other parameters. Without a softmax output the statement
    is false, and :func:`no_dead_layers` shows a counterexample."""
    if not structure.softmax:
        return no_dead_layers(structure)
    d = symbolic(structure)
    sy, Ls, K = d.symbols, structure.layers, structure.depth
    last = weight_name(K)
    earlier = ", ".join(weight_name(l) for l in range(K)) + ("" if not structure.bias else ", " + ", ".join(bias_name(l) for l in range(K)))
    th = Theorem(
        "dead_first_layer", "The dead first layer" if K == 1 else "Dead earlier layers",
        f"If every row of {last} is the same (each column constant), then the gradient of {earlier} is exactly 0, "
        f"for any other parameters, any x and y and any loss of the softmax output: the softmax lemma makes "
        f"Σ_i ∂ℒ/∂O_i = 0, so ∇{d.node_names[sy.keys[-3]]}_j = Σ_i ∇O_i w_ij is that sum times the common weight c_j, "
        "and every gradient before it is a multiple of it.",
        [f"{last}[i,j] = c_j", "every other parameter, x, y symbolic", "∇O: any values with Σ_i ∇O_i = 0 (the softmax lemma)",
         structure.describe()],
    )
    c = [Symbol(f"c_{j + 1}", real=True) for j in range(Ls[-2])]
    leaves = {sy.W[K][i, j]: c[j] for i in range(Ls[-1]) for j in range(Ls[-2])}
    for s in range(structure.samples):  # the lemma, as a rewrite: ∇O_n = −Σ_{i<n} ∇O_i
        gO = sy.grad("O", s)
        leaves[gO[-1]] = -Add(*gO[:-1])
    v = dict(leaves)
    for sym, definition in d.definitions.items():  # every hidden ∇, from the last layer down
        if any(sym in sy.grad(key, s) for s in range(structure.samples) for key in sy.keys[:-2]):
            v[sym] = expand(definition.xreplace(v))
    for s in range(structure.samples):
        tag = f" (sample {s + 1})" if structure.samples > 1 else ""
        for key in reversed(sy.keys[:-2]):
            for j, g in enumerate(sy.grad(key, s)):
                th.steps.append(check_zero(f"∇{d.node_names[key]}_{j + 1} = 0{tag}", v[g]))
    for l in range(K):
        G = d.gradients[weight_name(l)].xreplace(v)
        for i in range(G.rows):
            for j in range(G.cols):
                th.steps.append(check_zero(f"∂ℒ/∂w^{LETTERS[l]}_{pair(i, j, sy.wide)} = 0", G[i, j]))
        if structure.bias:
            B = d.gradients[bias_name(l)].xreplace(v)
            for i in range(B.rows):
                th.steps.append(check_zero(f"∂ℒ/∂b^{LETTERS[l]}_{i + 1} = 0", B[i, 0]))
    return th


dead_first_layer = dead_layers


def no_dead_layers(structure: Structure, tries: int = 20) -> Theorem:
    """Statement 2 refuted for an output layer other than softmax: equal rows of the last weight matrix still
    give ``∇L_j = c_j Σ_i ∇O_i``, but nothing makes ``Σ_i ∇O_i`` vanish (there is no softmax lemma), so the first
    layer's gradient is not 0. The counterexample: a seeded exact point with those rows equal (every number
    positive, so no ReLU-like unit is off), evaluated to 30 digits through the derivation's own formulas."""
    d = symbolic(structure)
    sy, Ls, K = d.symbols, structure.layers, structure.depth
    last, first = weight_name(K), weight_name(0)
    out = structure.output
    th = Theorem(
        "dead_first_layer", "The dead first layer" if K == 1 else "Dead earlier layers",
        f"Claim: if every row of {last} is the same, the gradient of {first} is exactly 0. False with a {out} output: "
        f"equal rows still give ∇{d.node_names[sy.keys[-3]]}_j = Σ_i ∇O_i w_ij = c_j·Σ_i ∇O_i, but only a softmax output "
        f"makes Σ_i ∇O_i = 0 (the softmax lemma), and a {out} output does not, so the first layer learns (its hidden "
        "units still move together: see the symmetry theorems).",
        [f"{last}[i,j] = c_j", "every other parameter, x and y: a seeded exact point, all positive", structure.describe()],
    )
    rng = random.Random(0)

    def draw():
        return Rational(rng.randint(1, 9), 10)

    for _ in range(tries):
        leaves = {w: draw() for w in d.symbols.leaves()}
        c = [draw() for _ in range(Ls[-2])]
        leaves.update({sy.W[K][i, j]: c[j] for i in range(Ls[-1]) for j in range(Ls[-2])})
        at = {k: Float(v, 30) for k, v in leaves.items()}
        v = d.values(at)
        total = Add(*(v[g] for s in range(structure.samples) for g in sy.grad("O", s)))
        g11 = d.gradients[first][0, 0].xreplace(v)
        if abs(total) > 1e-20 and abs(g11) > 1e-20:
            how = "counterexample at a seeded exact point, evaluated to 30 digits"
            th.steps.append(Step("Σ_i ∇O_i = 0" + (" (summed over the samples)" if structure.samples > 1 else ""),
                                 Integer(0), Float(total, 15), False, how))
            th.steps.append(Step(f"∂ℒ/∂w^{LETTERS[0]}_{pair(0, 0, sy.wide)} = 0", Integer(0), Float(g11, 15), False, how))
            return th
    th.steps.append(Step("no counterexample found", Integer(0), Integer(0), False, "seeded search"))
    return th


# -- statement 3: permanence under gradient descent, by layer ----------------------------------------------------


def permanence(structure: Structure, l: int = 0) -> Theorem:
    """Statement 3 for hidden layer ``l``: one gradient step with a symbolic learning rate keeps the layer's
    symmetric set."""
    d = symbolic(structure)
    sy = d.symbols
    inc, out = weight_name(l), weight_name(l + 1)
    layer = f" (hidden layer {l + 1})" if structure.depth > 1 else ""
    bias = f", constant {bias_name(l)}" if structure.bias else ""
    th = Theorem(
        "permanence" if l == 0 else f"permanence_{l + 1}", "Symmetry is permanent" + layer,
        f"One gradient-descent step W ← W − η ∂ℒ/∂W (η symbolic) maps the symmetric set (equal rows of {inc}{bias}, "
        f"equal columns of {out}) into itself; by induction every step does, so a constant-initialized network "
        "trains exactly like a network with one hidden unit" + (" in that layer" if structure.depth > 1 else "") + ", forever.",
        [f"{inc}[i,j] = a_j", f"{out}[k,i] = c_k"] + ([f"{bias_name(l)}[i] = β"] if structure.bias else [])
        + ["x, y, a, c, η and every other parameter symbolic", structure.describe()],
    )
    eta = Symbol("η", positive=True)
    v = _layer_values(d, l, symmetric_leaves(d, l))
    new_a = (sy.W[l] - eta * d.gradients[inc]).xreplace(v)
    new_b = (sy.W[l + 1] - eta * d.gradients[out]).xreplace(v)
    th.steps += _same_across_units(new_a, new_b, f"w^{LETTERS[l]}'_{{}}", f"w^{LETTERS[l + 1]}'_{{}}", sy.wide)
    if structure.bias:
        from sympy import ImmutableMatrix

        new_bias = (ImmutableMatrix(sy.b[l]) - eta * d.gradients[bias_name(l)]).xreplace(v)
        for i in range(1, new_bias.rows):
            th.steps.append(check_difference(f"b^{LETTERS[l]}'_{i + 1} − b^{LETTERS[l]}'_1 = 0", new_bias[i, 0], new_bias[0, 0]))
    if sy.W[l].rows == 1:
        th.steps.append(Step("one unit: nothing to compare", Integer(0), Integer(0), True, "vacuous"))
    return th


# -- the problem's init against the assumptions -------------------------------------------------------------------


def layer_symmetric(problem: Problem, l: int) -> bool:
    """Does hidden layer ``l`` meet statement 1's assumption (equal incoming rows, constant bias, equal
    outgoing columns)?"""
    Win, Wout = problem.weights[l], problem.weights[l + 1]
    rows = all(Win.row(i) == Win.row(0) for i in range(Win.rows))
    cols = all(Wout.col(j) == Wout.col(0) for j in range(Wout.cols))
    bias = problem.biases is None or len(set(problem.biases[l])) == 1
    return rows and cols and bias


def symmetric(problem: Problem) -> bool:
    """Is every hidden layer symmetric (the JSON's ``symmetric``)?

    >>> from derivations import load_problem
    >>> symmetric(load_problem())
    True
    """
    return all(layer_symmetric(problem, l) for l in range(problem.depth))



def last_rows_equal(problem: Problem) -> bool:
    W = problem.weights[-1]
    return all(W.row(i) == W.row(0) for i in range(W.rows))



# -- checked numerically: a random init, a training run --------------------------------------------------------


def random_draw(problem: Problem, seed: int = 1, tries: int = 100) -> tuple:
    """Seeded random rational parameters in [-0.5, 0.5] (hundredths), from ``seed`` on: the first draw in
    which no ReLU-like unit is dead at the start, that is, off for every sample (a dead unit's gradient is 0,
    which would blur the contrast with the constant init). Returns ``(problem, seed used, found)``; ``found``
    is False when all ``tries`` draws had a dead unit (the last draw is returned, and no claim about it may
    say otherwise)."""
    from sympy import ImmutableMatrix

    kinked = any(ACTIVATIONS[a].can_die for a in problem.activations)
    for attempt in range(seed, seed + tries):
        rng = random.Random(attempt)
        # Draw integers (hundredths) first: the dead-unit check needs only floats, and exact matrices are
        # built once, for the draw that is kept.
        ints = [[[rng.randint(-50, 50) or 7 for _ in range(W.cols)] for _ in range(W.rows)] for W in problem.weights]
        bias_ints = None if problem.biases is None else [[rng.randint(-50, 50) or 7 for _ in b] for b in problem.biases]
        if problem.shared_bias:  # one number per layer, as the problem's
            bias_ints = [[b[0]] * len(b) for b in bias_ints]
        last = attempt == seed + tries - 1
        alive = not kinked or _all_alive(problem, ints, bias_ints)
        if alive or last:
            weights = tuple(ImmutableMatrix([[Rational(v, 100) for v in row] for row in m]) for m in ints)
            biases = None if bias_ints is None else tuple(tuple(Rational(v, 100) for v in b) for b in bias_ints)
            p = replace(problem, weights=weights, biases=biases, source=f"{problem.source} with random init (seed {attempt})")
            return p, attempt, alive


def _all_alive(p: Problem, ints, bias_ints) -> bool:
    """Is every hidden unit on (pre-activation clearly above 0) for at least one sample, with the weights
    ``ints``/100? A float forward pass: a unit within 1e-9 of its kink counts as off, so a True is never wrong."""
    alive = [[False] * n for n in p.hidden]
    for x in p.xs:
        v = [float(e) for e in x]
        for l in range(p.depth):
            W = ints[l]
            b = [0.0] * len(W) if bias_ints is None else [e / 100 for e in bias_ints[l]]
            h = [sum(W[i][j] / 100 * v[j] for j in range(len(v))) + b[i] for i in range(len(W))]
            alive[l] = [a or hi > 1e-9 for a, hi in zip(alive[l], h)]
            v = [ACTIVATIONS[p.activations[l]].scalar(hi) for hi in h]
    return all(all(layer) for layer in alive)


def random_init(problem: Problem, seed: int = 1) -> Problem:
    """:func:`random_draw`'s problem."""
    return random_draw(problem, seed)[0]


def random_breaks(problem: Problem, seed: int = 1) -> Theorem:
    """Statement 4, checked numerically: a seeded random init gives the first hidden layer's units unequal
    gradients."""
    p, used, found = random_draw(problem, seed)
    if found and used != seed:
        how = f"seed {used}, the first draw from seed {seed} with no dead unit"
    elif found:
        how = f"seed {used}"
    else:
        how = f"seed {used}; every draw from seed {seed} to {used} had a dead unit, this one too"
    th = Theorem(
        "random_breaks", "Random initialization breaks the symmetry",
        "A generic initialization gives the hidden units unequal gradients, so they learn different features.",
        [f"seeded random rational weights in [-0.5, 0.5] ({how})", f"x, y of the {problem.source} problem"],
        how=NUMERIC,
    )

    d = derive(p)
    # A numeric check: the engine's own formulas evaluated in 30-digit floats, layer by layer.
    floats = {k: Float(v, 30) for k, v in leaves_of(p, d.symbols).items()}
    G = d.gradients[weight_name(0)].xreplace(d.values(floats))
    g = [G[i, 0] for i in range(G.rows)]
    for i, gi in enumerate(g):
        th.notes.append(f"∂ℒ/∂w^a_{pair(i, 0, max(p.layers) > 9)} ≈ {float(gi):.6g}")
    th.problem = p  # the init used, for the pages that show it
    if len(g) == 1:
        th.steps.append(Step("one hidden unit: nothing to break", Integer(0), Integer(0), True, "vacuous"))
        return th
    far = max(abs(g[i] - g[0]) for i in range(1, len(g)))
    th.steps.append(Step("some ∂ℒ/∂w^a_i1 − ∂ℒ/∂w^a_11 ≠ 0", Integer(0), Float(far, 15), bool(far > Float("1e-20")),
                         "the engine's formulas in 30-digit floats"))
    return th


def _g6(v) -> str:
    """A 30-digit number to 6 digits, as ``{:.6g}`` writes a float, or from its decimal where a float would
    underflow or overflow (a loss of 7.0246e-522 is not 0)."""
    import math

    import mpmath

    f = float(v)
    if v == 0 or (math.isfinite(f) and abs(f) >= 2.2250738585072014e-308):
        return f"{f:.6g}"
    return mpmath.nstr(v, 6)


def permanence_in_numbers(problem: Problem, steps: int = 50, lr=Rational(1, 2)) -> Step:
    """Train from a symmetric init at 30 digits: the hidden units' spread stays at 0 (within 1e-25: the same
    arithmetic, in an order that may round differently in the 30th digit) while the loss moves."""
    h = train(problem, steps, lr, module="mpmath")
    worst = max(max(hidden_spread(problem, params)) for params in h["params"])
    moved = h["loss"][0] - h["loss"][-1]
    shown = "0" if worst == 0 else f"{float(worst):.1e}"
    loss = [_g6(h["loss"][k]) for k in (0, -1)]
    claim = (f"after {steps} steps (η = {lr}, 30 digits): spread across hidden units = {shown} (at most 1e-25 asked), "
             f"loss {loss[0]} → {loss[1]}")
    ok = bool(worst <= 1e-25) and moved != 0
    return Step(claim, Integer(0), Rational(0) if worst == 0 else Float(str(worst), 15), ok, "numeric run")


def training_run(problem: Problem, steps: int = 50) -> Theorem:
    """Statement 3 at work, checked numerically: a training run from the problem's symmetric init."""
    th = Theorem("training_run", "Symmetry in a training run",
                 "Gradient descent from this init keeps every symmetric hidden layer's units identical while the loss falls.",
                 [f"{steps} steps of gradient descent at 30 digits from the problem's init"], how=NUMERIC)
    th.steps.append(permanence_in_numbers(problem, steps))
    return th


# -- all of them for a problem ---------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _proofs(structure: Structure) -> tuple:
    """The symbolic theorems of a structure, proved once per structure and process."""
    out = [hidden_symmetry(structure, l) for l in range(structure.depth)]
    if structure.softmax:  # a lemma about the softmax: claimed for no other output layer
        out.append(softmax_lemma(structure.layers[-1], GENERAL))
    out.append(dead_layers(structure))
    out += [permanence(structure, l) for l in range(structure.depth)]
    return tuple(out)


# A shared bias is proved about as the per-unit biases it equals: the structure's biases with every b_i = β.
SHARED_NOTE = ("Shared biases (one per layer): the proof takes a bias per unit, and a shared bias is the case "
               "where every unit's is the same number (the symmetric set's own assumption); its gradient is the "
               "sum of theirs, so it is 0 where theirs are, and a step keeps it one number.")


def theorems_for(problem: Problem, every: bool = False, derivation: Derivation | None = None) -> list:
    """The theorems at the problem's structure, with ``applies`` saying whether its init meets each one's
    assumptions; with ``every``, also the numerical checks (a training run from a symmetric init, the
    random-init contrast). ``derivation`` is accepted for older callers and not needed."""
    structure = Structure.of(problem)
    out = [replace(th, steps=list(th.steps), notes=list(th.notes)) for th in _proofs(structure)]
    for th in out:
        if th.key.startswith(("symmetry", "permanence")):
            l = int(th.key.split("_")[1]) - 1 if "_" in th.key else 0
            th.applies = layer_symmetric(problem, l)
        elif th.key == "dead_first_layer":
            th.applies = last_rows_equal(problem)
        else:
            th.applies = True
        if problem.shared_bias and structure.bias and th.key.startswith(("symmetry", "permanence", "dead")):
            th.notes.append(SHARED_NOTE)
    if every:
        if symmetric(problem) and problem.n_weights <= MAX_TRAINING_WEIGHTS:
            run = training_run(problem)
            run.applies = True
            out.append(run)
        rnd = random_breaks(problem)
        rnd.applies = not symmetric(problem)  # a contrast under a symmetric init: its random init is not this one
        out.append(rnd)
    return out


#: The structures the sweep covers: every width in these ranges, 1 to 3 hidden layers, with and without biases,
#: for the softmax's losses; the other output layers (one output unit too) over one hidden layer.
SWEEP = {"inputs": range(1, 4), "hidden": range(1, 5), "outputs": range(2, 4), "depth": range(1, 4)}
SWEEP_OTHER = {"outputs": range(1, 4), "pairs": (("sigmoid", "bce"), ("sigmoid", "quadratic"), ("identity", "mse"))}


def sweep(activations=tuple(ACTIVATIONS), losses=("mse", "cross_entropy")) -> dict:
    """Statements 1-3 (and the lemma) for every structure in :data:`SWEEP`, every activation and the softmax's
    losses, with and without biases; and over :data:`SWEEP_OTHER`, the other output layers: symmetry and
    permanence proved, the dead first layer refuted (a counterexample), never the other way round."""
    import itertools
    import time

    start = time.perf_counter()
    failed, count = [], 0
    for n_out in SWEEP["outputs"]:
        for loss in (*losses, GENERAL):
            count += 1
            if not softmax_lemma(n_out, loss).holds:
                failed.append(("softmax_lemma", n_out, loss))
    structures = []
    for depth in SWEEP["depth"]:
        widths = SWEEP["hidden"] if depth == 1 else (1, 3)  # deeper: the extremes, so the sweep stays seconds
        for n_in, n_out in itertools.product(SWEEP["inputs"], SWEEP["outputs"]):
            for hidden in itertools.product(widths, repeat=depth):
                for act, loss, bias in itertools.product(activations, losses, (False, True)):
                    structures.append(Structure((n_in, *hidden, n_out), (act,) * depth, loss, bias))
    for n_in, n_out, hidden in itertools.product(SWEEP["inputs"], SWEEP_OTHER["outputs"], SWEEP["hidden"]):
        for act, (output, loss), bias in itertools.product(activations, SWEEP_OTHER["pairs"], (False, True)):
            structures.append(Structure((n_in, hidden, n_out), (act,), loss, bias, output=output))
    for s in structures:
        for th in _proofs(s):
            if th.key == "softmax_lemma":
                continue
            count += 1
            expected = REFUTED if th.key == "dead_first_layer" and not s.softmax else PROVED
            if th.verdict != expected:
                failed.append((th.key, s))
    return {"checked": count, "failed": failed, "seconds": time.perf_counter() - start}
