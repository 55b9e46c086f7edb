"""Drawing a student's variant: what stays of the base problem, what is drawn, and the rules every draw obeys.

**What stays, what is drawn.** The base problem (``--config``, default the handout's; any problem the engine
accepts) fixes the structure: widths and depth, the activation of each hidden layer, the output layer, the
loss, whether there are biases, the number of samples, the gradients the page asks for (the handout's
``w_b11``, ``w_b21``, ``w_a11``) and whether the lesson is the symmetric init (a base whose init is symmetric,
such as the handout's constant 0.1, gets variants whose init is symmetric in the same way, layer by layer: a
constant matrix stays constant, equal rows stay equal rows, equal columns stay equal columns, a bias given
as one number per layer stays one number, zero biases stay zero). A variant draws the numbers: each
sample's input ``x`` and target ``y`` (one-hot when the base's are; else a probability vector of tenths for
a softmax, short decimals in [0, 1] for a sigmoid output, short decimals for an identity output or MSE),
the weights and the biases, as short decimals of at most ``digits`` significant digits (2 unless the base's
``[variants]`` table says otherwise), of size 0.1 to 0.99, either sign.

**Stable and independent.** A variant depends only on (course seed, id, base): its numbers come from
SHA-256 of ``seed, id, attempt`` (no global random state, no dependence on Python's ``random``), so
re-running, adding or removing students changes nobody else's numbers. The one exception is a collision
(two ids drawing identical numbers: under one in a million for 300 students of the handout at 2 digits,
about one in a hundred at 1 digit): the id whose hash sorts later draws again.

**The rules** (:func:`broken_rules`; a draw that breaks one is redrawn, deterministically, with the next
attempt number):

1. every hidden pre-activation (every layer, every sample) is at least :data:`MARGIN` (0.1) away from 0, and a
   ReLU-like unit that can die is alive (``H_i >= 0.1``), unless the base's ``[variants] dead`` names it (a
   unit of the first hidden layer; then ``H_i <= -0.1``);
2. no softmax ties: each sample's logits differ pairwise by at least :data:`LOGIT_GAP` (0.01), unless the
   lesson is the symmetric init (whose equal logits are the point);
3. every exact rational value (forward, backward, every gradient) has a denominator of at most
   :data:`MAX_DENOMINATOR` (10⁸);
4. every gradient the page asks for is at least :data:`MIN_GRADIENT` (0.0001) in size, unless the lesson says
   it is 0 (the layers before the last under the symmetric init with a softmax output, a unit the base asks
   to be dead), and then it is exactly 0;
5. all variants of one roster are distinct (checked across the roster).

The variants tool (:mod:`derivations.cli.variants`) checks each variant again against an independent
backprop (:mod:`derivations.teaching.oracle`) before it writes anything.

>>> base = read_base()
>>> p = draw(base, "course-2026", "ada")
>>> p == draw(base, "course-2026", "ada"), broken_rules(base, p)
(True, [])
>>> len({variant_toml(base, draw(base, "s", i)) for i in ("a", "b", "c")})
3
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from sympy import Integer, Rational

from ..engine import reading
from ..engine.derivation import derive, input_index, parse_param
from ..engine.errors import ProblemError
from ..engine.ops import ACTIVATIONS, LOSSES, OUTPUTS, linear
from ..engine.problem import HANDOUT, Problem, make_problem, problem_from_dict
from ..engine.theorems import last_rows_equal, symmetric
from ..engine.values import evaluate
from .handout import asked, asked_inputs
from .oracle import flat, forward_keys, numpy_backprop
from .variant_file import variant_toml

MARGIN = Fraction(1, 10)  # |H_i| at least this
LOGIT_GAP = Fraction(1, 100)  # |O_i - O_j| at least this (no ties, no near-ties)
MIN_GRADIENT = Fraction(1, 10**4)  # an asked gradient that is not 0 by the lesson is at least this in size
MAX_DENOMINATOR = 10**8  # exact rational values: denominators of at most 8 digits
MAX_ATTEMPTS = 2000  # draws per variant before the base is declared impossible
RULES = {1: "hidden pre-activations at least 0.1 from 0, ReLU units alive (or dead as [variants] dead asks)",
         2: "no softmax ties (logits at least 0.01 apart)", 3: "exact values with denominators of at most 10^8",
         4: "asked gradients at least 0.0001 in size, or exactly 0 where the lesson says 0"}


@dataclass(frozen=True)
class Base:
    """The base problem and what its ``[variants]`` table says: ``digits`` (significant digits of a drawn
    number) and ``dead`` (0-based units of the first hidden layer the lesson wants dead)."""

    problem: Problem
    digits: int = 2
    dead: tuple = ()

    @cached_property
    def symmetric(self) -> bool:
        """Is the symmetric init part of the lesson (every hidden layer's init symmetric, with more than one
        unit somewhere: a single unit is trivially symmetric)?"""
        return any(n > 1 for n in self.problem.hidden) and symmetric(self.problem)

    @cached_property
    def patterns(self) -> tuple:
        """Per weight matrix, what the base's init keeps: ``constant``, ``rows`` (all rows equal),
        ``columns`` (all columns equal) or ``free``."""
        return tuple(_pattern(W) for W in self.problem.weights)

    @cached_property
    def bias_patterns(self) -> tuple:
        """Per bias vector: ``zero`` (every bias 0 stays 0), ``constant`` (one number per layer, as Mazur's
        ``b_a = 0.35``, and as the symmetric init needs) or ``free``; empty without biases."""
        return tuple("zero" if all(v == 0 for v in b) else "constant" if len(set(b)) == 1 else "free"
                     for b in self.problem.biases or ())

    @cached_property
    def target(self) -> str:
        """How targets are drawn: ``one-hot`` (when every one of the base's is), ``binary`` (one output unit,
        0 or 1), ``probability`` (tenths summing to 1: a softmax's, or a loss that needs them), ``unit``
        (short decimals in [0, 1]: a sigmoid output) or ``free`` (short decimals of either sign)."""
        p = self.problem
        if p.n_out == 1 and all(y[0] in (0, 1) for y in p.ys):
            return "binary"
        if all(sorted(y) == [0] * (len(y) - 1) + [1] for y in p.ys):
            return "one-hot"
        out = OUTPUTS[p.output]
        if out.elementwise and not out.passes_through:  # a squashing unit per output: Y in (0, 1)
            return "unit"
        if not out.sums_to_one:
            return "free"
        any_target = LOSSES[p.loss].check_target([Rational(1, 2), Rational(-1, 2)] + [Integer(0)] * (p.n_out - 2)) is None
        if not any_target or all(all(v >= 0 for v in y) and sum(y) == 1 for y in p.ys):
            return "probability"
        return "free"

    @cached_property
    def asked(self) -> tuple:
        """The keys of the gradients the page asks for (``w_b11``, ``w_b21``, ``w_a11`` for the handout, or the
        base's ``[worksheet] ask``): the same for every variant, as they depend on the structure only."""
        d = derive(self.problem)
        return tuple(param.key(d.symbols.wide) for param in asked(d))

    @cached_property
    def asked_inputs(self) -> tuple:
        """The inputs whose gradient the page asks for, as ``ask`` names them (``x_1``)."""
        return tuple(f"x_{j + 1}" for j in asked_inputs(self.problem))


def _pattern(W) -> str:
    if len(set(W)) == 1:
        return "constant"
    if W.rows > 1 and all(W.row(i) == W.row(0) for i in range(W.rows)):
        return "rows"
    if W.cols > 1 and all(W.col(j) == W.col(0) for j in range(W.cols)):
        return "columns"
    return "free"


def variants_digits(doc: dict, source: str) -> int:
    """``[variants] digits`` of a base problem file (2 where it is not given), validated."""
    digits = doc.get("variants", {}).get("digits", 2)
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 4:
        raise ProblemError("variants.digits", f"expected a whole number from 1 to 4 (significant digits of a drawn "
                                              f"number), got {reading.quote(digits)}", source)
    return digits


def read_base(path=None, doc: dict | None = None) -> Base:
    """The base problem (the handout's without a path), any problem the engine accepts, and its
    ``[variants]`` table, validated (``doc``: the file's parsed table, where the caller has read it).

    >>> b = read_base()
    >>> b.digits, b.dead, b.symmetric, b.patterns, b.target
    (2, (), True, ('constant', 'constant'), 'one-hot')
    """
    path = HANDOUT if path is None else Path(path)
    data = reading.read_toml(path, field="--config") if doc is None else doc  # ``doc``: the file, read already
    source = "handout" if path == HANDOUT else reading.path_text(path)
    problem = problem_from_dict(data, source)
    settings = data.get("variants", {})
    digits = variants_digits(data, source)
    dead = settings.get("dead", [])
    n_hidden = problem.layers[1]
    first = "" if problem.depth == 1 else " of the first hidden layer"
    if not isinstance(dead, list) or not all(isinstance(u, int) and not isinstance(u, bool) and 1 <= u <= n_hidden
                                             for u in dead) or len(set(dead)) != len(dead):
        raise ProblemError("variants.dead", f"expected a list of distinct hidden unit numbers{first} 1..{n_hidden}, got "
                                            f"{reading.quote(dead)}", source)
    if dead and not ACTIVATIONS[problem.activations[0]].can_die:
        raise ProblemError("variants.dead", f"a dead unit needs an activation that can die (a ReLU), not "
                                            f"{problem.activations[0]}", source)
    if len(dead) == n_hidden:
        raise ProblemError("variants.dead", "expected at least one live hidden unit", source)
    base = Base(problem, digits, tuple(sorted(u - 1 for u in dead)))
    if dead and base.patterns[0] in ("constant", "rows") and (not problem.bias or base.bias_patterns[0] != "free"):
        raise ProblemError("variants.dead", "the init's equal rows of W_a give every hidden unit the same H: one dead "
                                            "unit means all dead; give W_a unequal rows", source)
    return base


# -- drawing -------------------------------------------------------------------------------------------------


class Stream:
    """Whole numbers from SHA-256 of a key, the same on every machine and Python version.

    >>> a, b = Stream("seed", "ada", 0), Stream("seed", "ada", 0)
    >>> [a.below(10) for _ in range(8)] == [b.below(10) for _ in range(8)]
    True
    """

    def __init__(self, *key):
        self.key = hashlib.sha256("\x00".join(str(k) for k in key).encode("utf-8")).digest()
        self.counter = 0

    def below(self, n: int) -> int:
        """A whole number in ``0 .. n-1``, uniform (rejection sampling of 64-bit blocks)."""
        limit = (2**64 // n) * n
        while True:
            block = hashlib.sha256(self.key + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
            v = int.from_bytes(block[:8], "big")
            if v < limit:
                return v % n


def short(s: Stream, digits: int) -> Fraction:
    """A short decimal of at most ``digits`` significant digits, of size 0.1 to 0.99..., either sign."""
    low = 10 ** (digits - 1)
    m = low + s.below(9 * low)
    return Fraction(m if s.below(2) else -m, 10**digits)


def _matrix(s: Stream, rows: int, cols: int, pattern: str, digits: int) -> list:
    if pattern == "constant":
        c = short(s, digits)
        return [[c] * cols for _ in range(rows)]
    if pattern == "rows":
        row = [short(s, digits) for _ in range(cols)]
        return [list(row) for _ in range(rows)]
    if pattern == "columns":
        col = [short(s, digits) for _ in range(rows)]
        return [[col[i]] * cols for i in range(rows)]
    return [[short(s, digits) for _ in range(cols)] for _ in range(rows)]


def _bias(s: Stream, n: int, pattern: str, digits: int) -> list:
    if pattern == "zero":
        return [Fraction(0)] * n
    return [row[0] for row in _matrix(s, n, 1, pattern, digits)]


def _target(s: Stream, n: int, kind: str, digits: int) -> list:
    if kind == "one-hot":
        k = s.below(n)
        return [Fraction(1 if i == k else 0) for i in range(n)]
    if kind == "binary":
        return [Fraction(s.below(2))]
    if kind == "probability":  # tenths summing to 1: n - 1 cuts of 0..10
        cuts = sorted(s.below(11) for _ in range(n - 1))
        return [Fraction(b - a, 10) for a, b in zip([0] + cuts, cuts + [10])]
    if kind == "unit":  # 0, 0.01, ..., 1 at 2 digits
        return [Fraction(s.below(10**digits + 1), 10**digits) for _ in range(n)]
    return [short(s, digits) for _ in range(n)]


@dataclass(frozen=True)
class Numbers:
    """One attempt's numbers as Python fractions (quick to check): each sample's ``x`` and ``y``, every weight
    matrix (rows of fractions) and every bias vector (``None`` without biases)."""

    xs: list
    ys: list
    weights: list
    biases: list | None


def _numbers(base: Base, seed: str, student: str, attempt: int) -> Numbers:
    """One attempt's numbers, drawn in a fixed order: each sample's ``x`` then ``y``, the weights, the biases."""
    p = base.problem
    s = Stream(seed, student, attempt)
    xs, ys = [], []
    for _ in range(p.n_samples):
        xs.append([short(s, base.digits) for _ in range(p.n_in)])
        ys.append(_target(s, p.n_out, base.target, base.digits))
    weights = [_matrix(s, W.rows, W.cols, pattern, base.digits) for W, pattern in zip(p.weights, base.patterns)]
    biases = None
    if p.bias:
        biases = [_bias(s, len(b), pattern, base.digits) for b, pattern in zip(p.biases, base.bias_patterns)]
    return Numbers(xs, ys, weights, biases)


def _problem(base: Base, student: str, n: Numbers) -> Problem:
    R = lambda v: Rational(v.numerator, v.denominator)  # noqa: E731
    p = base.problem
    drawn = make_problem(p.layers, p.activations, p.loss, [[R(v) for v in x] for x in n.xs], [[R(v) for v in y] for y in n.ys],
                         [[[R(v) for v in row] for row in W] for W in n.weights],
                         None if n.biases is None else [[R(v) for v in b] for b in n.biases],
                         source=f"variant {student}", output=p.output)
    # the base's page (its title, asked gradients: numbers and closed forms, and step) and its shared biases
    # (drawn one number per layer)
    return replace(drawn, ask=p.ask, lr=p.lr, title=p.title, shared_bias=p.shared_bias, closed=p.closed)


def draw(base: Base, seed: str, student: str) -> Problem:
    """The student's variant: the first attempt (0, 1, ...) that obeys every rule."""
    return draw_attempt(base, seed, student)[0]


def draw_attempt(base: Base, seed: str, student: str, start: int = 0, avoid=frozenset(), seconds=None) -> tuple:
    """``(problem, attempt)``: the first attempt from ``start`` on that obeys every rule (and whose problem
    file is not in ``avoid``). Raises :class:`ProblemError` when no draw in :data:`MAX_ATTEMPTS` (or in
    ``seconds``) does, naming the rule no draw met. Each attempt is screened cheaply first (the first hidden
    layer exactly in fractions, then a NumPy pass that rejects only draws that clearly break a rule); only a
    draw that passes is derived and checked exactly (:func:`broken_rules`)."""

    def attempt(k: int):
        n = _numbers(base, seed, student, k)
        if _first_layer_rule(base, _first_layer(base.problem, n)):  # the cheap rule first, in Python fractions
            return None
        p = _problem(base, student, n)
        return p, _screen(base, p) or broken_rules(base, p)

    return first_draw(attempt, student, RULES, _rule_of, base.problem.source, "change the base (or [variants] "
                      "digits, dead)", start, avoid, lambda p: variant_toml(base, p), seconds)


def first_draw(attempt, student: str, rules: dict, rule_of, source, change: str, start: int = 0,
               avoid=frozenset(), file_of=None, seconds=None) -> tuple:
    """``(problem, k)``: the first ``attempt(k)`` from ``start`` on that broke no rule (``(problem, [])``) and
    whose file (``file_of``) is not in ``avoid``; ``attempt(k)`` is ``None`` for a draw the cheap first rule
    turned away. The one search of both kinds of base (:func:`draw_attempt`, a graph's in
    :mod:`derivations.teaching.graph_variants`): :class:`ProblemError` naming the rule every draw broke when
    none of :data:`MAX_ATTEMPTS` (or of ``seconds``) does."""
    broken, screened, always = [], 0, None  # always: the rules every draw past the cheap one broke
    began, k, repeated = time.monotonic(), start, max(rules) + 1
    for k in range(start, start + MAX_ATTEMPTS):
        if seconds is not None and time.monotonic() - began > seconds:
            break
        tried = attempt(k)
        if tried is None:
            continue
        p, broken = tried
        screened += 1
        found = {rule_of(b) for b in broken} if broken else {repeated}
        always = found if always is None else always & found
        if not broken and (not avoid or file_of(p) not in avoid):
            return p, k
    rule = 1 if not screened else min(always) if always else None
    why = (f"rule {rule} ({rules[rule]}) broke in every one" if rule in rules else
           "every one repeated a variant already drawn" if rule == repeated else
           f"each broke a rule, the last: {broken[0] if broken else 'distinctness'}")
    raise ProblemError("variants", f"no draw of {k - start + 1} for id {student!r} obeys the rules: {why}; {change}",
                       source)


def _rule_of(message: str) -> int:
    """The rule a message of :func:`broken_rules` reports."""
    if message.startswith("H"):
        return 1
    if "softmax" in message:
        return 2
    if "denominator" in message:
        return 3
    return 4


# -- the rules -----------------------------------------------------------------------------------------------


def _first_layer(p: Problem, n: Numbers | None = None) -> list:
    """Each sample's ``H = W_a x (+ b_a)``, exact (always rational: rational inputs, weights and biases), from
    the attempt's fractions ``n`` or from the problem."""
    if n is None:
        W, b = p.weights[0], p.biases[0] if p.bias else None
        return [[sum((W[i, j] * x[j] for j in range(W.cols)), Integer(0)) + (b[i] if b else 0) for i in range(W.rows)]
                for x in p.xs]
    W, b = n.weights[0], n.biases[0] if n.biases else None
    return [[sum((w * v for w, v in zip(row, x)), Fraction(0)) + (b[i] if b else 0) for i, row in enumerate(W)]
            for x in n.xs]


def _unit(p: Problem, layer: int, i: int, s: int) -> str:
    """A hidden pre-activation's name in a rule's message: ``H_1``, ``H^(2)_1``, ``H_1@2`` (sample 2)."""
    name = "H" if p.depth == 1 else f"H^({layer + 1})"
    return f"{name}_{i + 1}" + (f"@{s + 1}" if p.n_samples > 1 else "")


def _hidden_rule(base: Base, act, H, layer: int = 0, s: int = 0, value=float) -> list:
    """Rule 1 on one sample's pre-activations ``H`` of hidden layer ``layer`` (exact numbers, or decimals;
    ``value`` turns one into a number that compares)."""
    p = base.problem
    out = []
    for i, h in enumerate(H):
        h = value(h)
        name = _unit(p, layer, i, s)
        if act.can_die and layer == 0 and i in base.dead:
            if h > -MARGIN:
                out.append(f"{name} = {float(h):g}: the lesson's dead unit needs H <= -{float(MARGIN):g}")
        elif act.can_die and h < MARGIN:
            out.append(f"{name} = {float(h):g}: a dead or borderline {act.text} unit (needs H >= {float(MARGIN):g})")
        elif abs(h) < MARGIN:
            out.append(f"{name} = {float(h):g}: within {float(MARGIN):g} of 0")
    return out


def _first_layer_rule(base: Base, Hs) -> list:
    act = ACTIVATIONS[base.problem.activations[0]]
    return [m for s, H in enumerate(Hs) for m in _hidden_rule(base, act, H, 0, s, value=lambda h: h)]


def lesson_zero(base: Base, problem: Problem, key: str) -> bool:
    """Does the lesson say that the gradient of ``key`` (``w_a11``) is exactly 0? Every layer before the last
    under the symmetric init when the last layer's rows are equal and the output is a softmax (the key
    insight: the dead earlier layers), a weight or bias of a first-layer unit asked to be dead, or the output
    layer's shared bias under a softmax (its gradient is Σ_i ∇O_i, which the softmax lemma makes 0); an input's
    (``x_1``) where the first layer's gradients are all 0: under the dead-layers lesson, or every unit asked dead."""
    if input_index(key) is not None:
        every_dead = all(i in base.dead for i in range(problem.layers[1]))
        return every_dead or base.symmetric and OUTPUTS[problem.output].sums_to_one and last_rows_equal(problem)
    w = parse_param(key, problem)
    if w.shared and w.layer == problem.depth and OUTPUTS[problem.output].sums_to_one:
        return True
    fed = w.units(problem.layers[1]) if w.layer == 0 else ()  # a shared bias is 0 only if every unit it feeds is dead
    if fed and all(i in base.dead for i in fed) or w.layer == 1 and w.kind == "weight" and w.j in base.dead:
        return True
    return w.layer < problem.depth and base.symmetric and OUTPUTS[problem.output].sums_to_one and last_rows_equal(problem)


def _screen(base: Base, p: Problem) -> list:
    """The rules a draw clearly breaks, judged in NumPy floats (a margin of a millionth, relative, so that
    only a draw the exact check would also reject is rejected here): hidden layers after the first, softmax
    ties, asked gradients. Empty: the exact check decides."""
    import numpy as np


    slack = 1e-6
    out = _rational_screen(p)
    if out:
        return out
    try:
        with np.errstate(all="ignore"):
            ref = numpy_backprop(p)
    except (FloatingPointError, OverflowError, ZeroDivisionError):
        return []
    for layer in range(1, p.depth):
        act = ACTIVATIONS[p.activations[layer]]
        for s, H in enumerate(ref["forward"][forward_keys(p)[2 * layer]]):
            for i, h in enumerate(H):
                if (act.can_die and h < float(MARGIN) * (1 - slack)) or abs(h) < float(MARGIN) * (1 - slack):
                    out.append(f"{_unit(p, layer, i, s)} ≈ {h:g}: within {float(MARGIN):g} of 0 or a dead {act.text} unit")
    if OUTPUTS[p.output].sums_to_one and not base.symmetric:  # rule 2: no (near-)tie of a softmax's logits
        for O in ref["forward"]["O"]:
            if min((abs(a - b) for a, b in itertools.combinations(O, 2)), default=1) < float(LOGIT_GAP) * (1 - slack):
                out.append(f"logits ≈ {list(np.round(O, 6))}: a softmax (near-)tie")
    for key, g in _asked_floats(base, p, ref):
        if lesson_zero(base, p, key.split("@")[0]):
            if abs(g) > 1e-9:
                out.append(f"dL/d{key} ≈ {g:.6g}: the lesson says 0")
        elif abs(g) < float(MIN_GRADIENT) * (1 - slack):
            out.append(f"dL/d{key} ≈ {g:.3g}: an asked gradient below {float(MIN_GRADIENT):g}")
    return out


def _asked_floats(base: Base, p: Problem, ref: dict) -> list:
    """``[(name, float)]``: every gradient the page asks for, in the NumPy pass ``ref``: each asked parameter's, and
    each asked input's for every sample (``x_1@2``)."""
    out = []
    for key in base.asked:
        w = parse_param(key, p)
        out.append((key, ref["grad"][w.matrix][w.i, w.j if w.kind == "weight" else 0]))
    for key in base.asked_inputs:
        out += [(key + (f"@{s + 1}" if p.n_samples > 1 else ""), ref["dL_dx"][s][input_index(key)])
                for s in range(p.n_samples)]
    return out


def _rational_screen(p: Problem) -> list:
    """Rule 3 on the forward values of a network that is rational end to end (ReLU-like or identity hidden
    layers, an identity output: a squared loss's denominator is the square of the outputs'), computed
    exactly with the registry's forward formulas, without deriving anything."""
    if not OUTPUTS[p.output].rational or not all(ACTIVATIONS[a].rational for a in p.activations):
        return []
    for s, (x, y) in enumerate(zip(p.xs, p.ys)):
        v = list(x)
        for l, W in enumerate(p.weights):
            v = linear(W, v, p.biases[l] if p.bias else None)
            values = list(v)
            if l < p.depth:
                v = [ACTIVATIONS[p.activations[l]].forward(h) for h in v]
                values += v
            else:
                v = OUTPUTS[p.output].forward(v)
                values += list(v) + [LOSSES[p.loss].forward(v, y)]
            for e in values:
                if e.is_Rational and e.q > MAX_DENOMINATOR:
                    return [f"a forward value of sample {s + 1} = {e}: denominator above {MAX_DENOMINATOR:.0e}"]
    return []


def broken_rules(base: Base, problem: Problem, values=None) -> list:
    """The rules ``problem`` breaks, one line each (empty: a well-behaved variant). Cheap rules first: the
    derivation is evaluated only for a draw whose first layer's pre-activations pass."""
    out = _first_layer_rule(base, _first_layer(problem))
    if out:
        return out
    v = values if values is not None else evaluate(problem)
    S = range(problem.n_samples)
    keys = forward_keys(problem)
    for layer in range(1, problem.depth):  # rule 1 in the deeper layers, on exact values or their decimals
        act = ACTIVATIONS[problem.activations[layer]]
        for s in S:
            out += _hidden_rule(base, act, v.sample("forward", keys[2 * layer], s), layer, s,
                                value=lambda h: h if h.is_Rational else v.decimal(h))
    if out:
        return out
    if not base.symmetric and OUTPUTS[problem.output].sums_to_one:
        for s in S:
            O = [v.decimal(o) for o in v.sample("forward", "O", s)]
            at = f" (sample {s + 1})" if problem.n_samples > 1 else ""
            for i in range(len(O)):
                for j in range(i + 1, len(O)):
                    if abs(O[i] - O[j]) < LOGIT_GAP:
                        out.append(f"O_{i + 1} and O_{j + 1} within {float(LOGIT_GAP):g}{at}: a softmax (near-)tie")
    for name, value in _every_value(v):
        if isinstance(value, Rational) and value.q > MAX_DENOMINATOR:
            out.append(f"{name} = {value}: denominator above {MAX_DENOMINATOR:.0e}")
    asked_values = [(key, v.grad(key)) for key in base.asked] + [
        (key + (f"@{s + 1}" if problem.n_samples > 1 else ""), v.input_gradients[s][input_index(key)])
        for key in base.asked_inputs for s in S]
    for key, g in asked_values:
        if lesson_zero(base, problem, key.split("@")[0]):
            if g != 0 and not v.decimal(g).is_zero:  # (an exact 0 SymPy leaves unsimplified has the decimal 0)
                out.append(f"dL/d{key} = {v.decimal(g):.6g}: the lesson says 0")
        elif abs(v.decimal(g)) < MIN_GRADIENT:
            out.append(f"dL/d{key} ≈ {float(v.decimal(g)):.3g}: an asked gradient below {float(MIN_GRADIENT):g}")
    return out


def _every_value(v) -> list:
    """``[(name, exact value)]``: every forward and backward value of every sample, and every gradient."""
    out = []
    for group, table in (("forward", v.forward), ("backward", v.backward)):
        for key, item in table.items():
            out += [(f"{group}.{key}", e) for e in flat(item)]
    for name, m in v.gradients.items():
        out += [(f"grad.{name}", e) for e in m]
    return out



# -- distinct across a roster ------------------------------------------------------------------------------


def _order(seed: str, student: str) -> str:
    return hashlib.sha256(f"{seed}\x00{student}".encode("utf-8")).hexdigest()


def distinct(base: Base, seed: str, drawn: dict, redraw=None) -> dict:
    """``{id: problem file}`` from ``{id: (problem file, attempt)}``, every file distinct: within a group of
    equal files, the id whose hash sorts first keeps its draw; the others draw on from their next attempt
    (the only case in which one roster row affects another). ``redraw(student, start, avoid)`` gives such a
    draw's file (default: a network's, :func:`draw_attempt`)."""
    groups = {}
    for student, (text, _attempt) in drawn.items():
        groups.setdefault(text, []).append(student)
    taken = set(groups)
    out = {student: text for student, (text, _attempt) in drawn.items()}
    for text, students in list(groups.items()):
        for student in sorted(students, key=lambda s: _order(seed, s))[1:]:
            if redraw is not None:
                out[student] = redraw(student, drawn[student][1] + 1, frozenset(taken))
            else:
                p, _ = draw_attempt(base, seed, student, start=drawn[student][1] + 1, avoid=frozenset(taken))
                out[student] = variant_toml(base, p)
            taken.add(out[student])
    return out
