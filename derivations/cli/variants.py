"""``python -m derivations.variants``: every student a different, well-behaved problem, with worksheet, key
and self-check page.

    python -m derivations.variants ROSTER --out DIR (--seed COURSE_SEED | --seed-file FILE) [--config BASE.toml]
                                   [--format pdf|md|html] [--jobs N] [--paper a4|letter] [--moodle] [--force]

ROSTER is a CSV file with a header and an ``id`` column (other columns are kept in ``keys.csv``), or a
number N for N anonymous variants (ids ``001`` ... ``N``). For each student the tool writes
``DIR/<id>/problem.toml``, ``worksheet.pdf``, ``key.pdf`` and ``selfcheck.html``, and ``DIR/keys.csv``: one
row per student with every graded value, each one the checker accepts back. It overwrites only what it
wrote itself (``DIR/manifest.sha256``), one run at a time, and replaces the set in one short step
(:mod:`derivations.outputs.manifest`).

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

**Verified before written** (:func:`verify`): each variant's exact values (every sample's forward and backward
values, the loss, every gradient) against an independent NumPy backprop of any depth, biases, samples,
activations and output layer (:func:`numpy_backprop`, written from the registry's NumPy functions, not from
the derivation), and, where the init is symmetric, its symmetry theorems proved again and checked on its
numbers. ``keys.csv`` grades the page's blanks (:func:`graded_keys`), keyed as the checker names them
(``forward.H1[2]@2`` for sample 2 of a deeper network).

>>> base = read_base()
>>> p = draw(base, "course-2026", "ada")
>>> p == draw(base, "course-2026", "ada"), broken_rules(base, p)
(True, [])
>>> len({variant_toml(base, draw(base, "s", i)) for i in ("a", "b", "c")})
3
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import os
import re
import signal
import stat
import sys
import threading
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from sympy import Integer, Rational

from ..engine import reading
from ..engine.derivation import derive, parse_param
from ..engine.errors import ProblemError
from ..engine.ops import ACTIVATIONS, DEFAULT_OUTPUT, LOSSES, OUTPUTS, linear
from ..engine.problem import HANDOUT, Problem, bias_name, make_problem, problem_from_dict, weight_name
from ..engine.theorems import last_rows_equal, symmetric, theorems_for
from ..engine.values import evaluate
from ..notation.printing import decimal_text
from ..outputs import targets
from ..outputs.files import spreadsheet_cell, write_atomic
from ..outputs.manifest import LOCK, MANIFEST, Folder
from ..outputs.page import render_markdown, render_text
from ..outputs.pdf import render_pdf
from ..outputs.selfcheck import STANDALONE_MATHJAX, mathjax_dir, page_html, standalone_mathjax
from ..teaching import handout
from ..teaching.check import Checker, blanks
from ..teaching.handout import asked, problem_id
from . import cli_io
from .moodle import write_quiz

PROG = "python -m derivations.variants"

MARGIN = Fraction(1, 10)  # |H_i| at least this
LOGIT_GAP = Fraction(1, 100)  # |O_i - O_j| at least this (no ties, no near-ties)
MIN_GRADIENT = Fraction(1, 10**4)  # an asked gradient that is not 0 by the lesson is at least this in size
MAX_DENOMINATOR = 10**8  # exact rational values: denominators of at most 8 digits
MAX_ATTEMPTS = 2000  # draws per variant before the base is declared impossible
# Before anything is written, the roster's first id is drawn with this time bound as well: a base no draw can
# satisfy is refused in well under a minute, naming the rule (a slow machine can only make it refuse, never
# change a variant: the draws themselves do not depend on time).
PROBE_SECONDS = 30
RULES = {1: "hidden pre-activations at least 0.1 from 0, ReLU units alive (or dead as [variants] dead asks)",
         2: "no softmax ties (logits at least 0.01 apart)", 3: "exact values with denominators of at most 10^8",
         4: "asked gradients at least 0.0001 in size, or exactly 0 where the lesson says 0"}
MAX_ID = 64
MAX_ROWS = 5000
MAX_ROSTER_BYTES = 4 * 1024 * 1024
MAX_SEED = 128
FORMATS = ("pdf", "md", "html")
KEY_DIGITS = 4  # significant digits of a value that has no exact form (as on the key), at least
KEY_TOLERANCE = Fraction(1, 1000)  # the checker's relative tolerance where it has none of its own
MATHJAX = "_mathjax/tex-svg-full.js"  # MathJax for every student's self-check page, once (outputs.selfcheck)
RESERVED = ("keys.csv", "moodle.xml", MANIFEST, "_mathjax")  # the tool's own files in --out: never an id
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}", re.ASCII)


class VerificationError(RuntimeError):
    """A variant's derivation disagrees with the independent check: a bug of ours, never written out."""


class _UserError(Exception):
    """A :class:`ProblemError` raised in a worker process, carried back as its one line (a ProblemError does
    not survive pickling: its constructor takes three arguments)."""


# -- the base: what stays -----------------------------------------------------------------------------------


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
        if p.output == "sigmoid":
            return "unit"
        if p.output != "softmax":
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


def _pattern(W) -> str:
    if len(set(W)) == 1:
        return "constant"
    if W.rows > 1 and all(W.row(i) == W.row(0) for i in range(W.rows)):
        return "rows"
    if W.cols > 1 and all(W.col(j) == W.col(0) for j in range(W.cols)):
        return "columns"
    return "free"


def read_base(path=None) -> Base:
    """The base problem (the handout's without a path), any problem the engine accepts, and its
    ``[variants]`` table, validated.

    >>> b = read_base()
    >>> b.digits, b.dead, b.symmetric, b.patterns, b.target
    (2, (), True, ('constant', 'constant'), 'one-hot')
    """
    path = HANDOUT if path is None else Path(path)
    data = reading.read_toml(path, field="--config")
    source = "handout" if path == HANDOUT else reading.path_text(path)
    problem = problem_from_dict(data, source)
    settings = data.get("variants", {})
    digits = settings.get("digits", 2)
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 4:
        raise ProblemError("variants.digits", f"expected a whole number from 1 to 4 (significant digits of a drawn "
                                              f"number), got {reading.quote(digits)}", source)
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
    return replace(drawn, ask=p.ask, lr=p.lr, title=p.title)  # the base's page: its title, asked gradients and step


def candidate(base: Base, seed: str, student: str, attempt: int) -> Problem:
    """Draw ``attempt`` of a student's numbers (no rules checked)."""
    return _problem(base, student, _numbers(base, seed, student, attempt))


def draw(base: Base, seed: str, student: str) -> Problem:
    """The student's variant: the first attempt (0, 1, ...) that obeys every rule."""
    return draw_attempt(base, seed, student)[0]


def draw_attempt(base: Base, seed: str, student: str, start: int = 0, avoid=frozenset(), seconds=None) -> tuple:
    """``(problem, attempt)``: the first attempt from ``start`` on that obeys every rule (and whose problem
    file is not in ``avoid``). Raises :class:`ProblemError` when no draw in :data:`MAX_ATTEMPTS` (or in
    ``seconds``) does, naming the rule no draw met. Each attempt is screened cheaply first (the first hidden
    layer exactly in fractions, then a NumPy pass that rejects only draws that clearly break a rule); only a
    draw that passes is derived and checked exactly (:func:`broken_rules`)."""
    broken, passed_first, always = [], 0, None  # always: the rules every draw past rule 1 broke
    began = time.monotonic()
    attempt = start
    asked = base.asked
    for attempt in range(start, start + MAX_ATTEMPTS):
        if seconds is not None and time.monotonic() - began > seconds:
            break
        n = _numbers(base, seed, student, attempt)
        broken = _first_layer_rule(base, _first_layer(base.problem, n))  # the cheap rule first, in Python fractions
        if broken:
            continue
        p = _problem(base, student, n)
        broken = _screen(base, p, asked) or broken_rules(base, p)
        passed_first += 1
        rules = {_rule_of(b) for b in broken} if broken else {5}
        always = rules if always is None else always & rules
        if not broken and (not avoid or variant_toml(base, p) not in avoid):
            return p, attempt
    tried = attempt - start + 1
    rule = 1 if not passed_first else min(always) if always else None
    why = (f"rule {rule} ({RULES[rule]}) broke in every one" if rule in RULES else
           "every one repeated a variant already drawn" if rule == 5 else
           f"each broke a rule, the last: {broken[0] if broken else 'distinctness'}")
    raise ProblemError("variants", f"no draw of {tried} for id {student!r} obeys the rules: {why}; change the base "
                                   "(or [variants] digits, dead)", base.problem.source)


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
    insight: the dead earlier layers), or a weight or bias of a first-layer unit asked to be dead."""
    w = parse_param(key, problem)
    if w.layer == 0 and w.i in base.dead or w.layer == 1 and w.kind == "weight" and w.j in base.dead:
        return True
    return w.layer < problem.depth and base.symmetric and problem.output == "softmax" and last_rows_equal(problem)


def _screen(base: Base, p: Problem, asked) -> list:
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
        for s, H in enumerate(ref["forward"][_keys(p)[2 * layer]]):
            for i, h in enumerate(H):
                if (act.can_die and h < float(MARGIN) * (1 - slack)) or abs(h) < float(MARGIN) * (1 - slack):
                    out.append(f"{_unit(p, layer, i, s)} ≈ {h:g}: within {float(MARGIN):g} of 0 or a dead {act.text} unit")
    if p.output == "softmax" and not base.symmetric:
        for O in ref["forward"]["O"]:
            if min((abs(a - b) for a, b in itertools.combinations(O, 2)), default=1) < float(LOGIT_GAP) * (1 - slack):
                out.append(f"logits ≈ {list(np.round(O, 6))}: a softmax (near-)tie")
    for key in asked:
        w = parse_param(key, p)
        g = ref["grad"][w.matrix][w.i, w.j if w.kind == "weight" else 0]
        if lesson_zero(base, p, key):
            if abs(g) > 1e-9:
                out.append(f"dL/d{key} ≈ {g:.6g}: the lesson says 0")
        elif abs(g) < float(MIN_GRADIENT) * (1 - slack):
            out.append(f"dL/d{key} ≈ {g:.3g}: an asked gradient below {float(MIN_GRADIENT):g}")
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
    keys = _keys(problem)
    for layer in range(1, problem.depth):  # rule 1 in the deeper layers, on exact values or their decimals
        act = ACTIVATIONS[problem.activations[layer]]
        for s in S:
            out += _hidden_rule(base, act, v.sample("forward", keys[2 * layer], s), layer, s,
                                value=lambda h: h if h.is_Rational else v.decimal(h))
    if out:
        return out
    if not base.symmetric and problem.output == "softmax":
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
    for key in base.asked:
        g = v.grad(key)
        if lesson_zero(base, problem, key):
            if g != 0:
                out.append(f"dL/d{key} = {v.decimal(g):.6g}: the lesson says 0")
        elif abs(v.decimal(g)) < MIN_GRADIENT:
            out.append(f"dL/d{key} ≈ {float(v.decimal(g)):.3g}: an asked gradient below {float(MIN_GRADIENT):g}")
    return out


def _flat(item) -> list:
    return [e for sub in item for e in _flat(sub)] if isinstance(item, (list, tuple)) else [item]


def _every_value(v) -> list:
    """``[(name, exact value)]``: every forward and backward value of every sample, and every gradient."""
    out = []
    for group, table in (("forward", v.forward), ("backward", v.backward)):
        for key, item in table.items():
            out += [(f"{group}.{key}", e) for e in _flat(item)]
    for name, m in v.gradients.items():
        out += [(f"grad.{name}", e) for e in m]
    return out


# -- the problem file ----------------------------------------------------------------------------------------


def _number(v) -> str:
    text = decimal_text(v)
    return text if text is not None else f'"{v}"'


def _toml_matrix(W, indent: int) -> str:
    if len(set(W)) == 1:
        return _number(W[0, 0])
    rows = ["[" + ", ".join(_number(e) for e in W.row(i)) + "]" for i in range(W.rows)]
    return "[" + (",\n" + " " * indent).join(rows) + "]"


def _toml_vector(values) -> str:
    return "[" + ", ".join(_number(v) for v in values) + "]"


def _toml_samples(samples, indent: int) -> str:
    if len(samples) == 1:
        return _toml_vector(samples[0])
    return "[" + (",\n" + " " * indent).join(_toml_vector(v) for v in samples) + "]"


def variant_toml(base: Base, p: Problem) -> str:
    """The variant's problem file: structure from the base, the drawn numbers (no id, no seed: its hash is
    the variant id printed on the pages). A bias the base gives as one number per layer stays one number."""
    b = base.problem
    acts = p.activations
    activation = f'"{acts[0]}"' if len(set(acts)) == 1 else "[" + ", ".join(f'"{a}"' for a in acts) + "]"
    lines = [f"# A variant of the {Path(str(b.source)).name} problem, drawn by python -m derivations.variants.",
             "[network]",
             f"layers = [{', '.join(map(str, p.layers))}]",
             f"activation = {activation}"]
    if p.output != DEFAULT_OUTPUT:
        lines.append(f'output = "{p.output}"')
    lines.append(f'loss = "{p.loss}"')
    if p.bias:
        lines.append("bias = true")
    lines += ["",
              "[data]",
              f"x = {_toml_samples(p.xs, 5)}",
              f"y = {_toml_samples(p.ys, 5)}",
              "",
              "[init]"]
    for name, W in p.params().items():
        if name.startswith("b_"):
            lines.append(f"{name} = {_number(W[0]) if len(set(W)) == 1 else _toml_vector(W)}")
        else:
            lines.append(f"{name} = {_toml_matrix(W, len(name) + 4)}")
    if p.ask or p.lr is not None or p.title:  # the base's page: its title, asked gradients, gradient-descent step
        lines += ["", "[worksheet]"] + ([f"title = {json.dumps(p.title, ensure_ascii=False)}"] if p.title else []) \
            + (["ask = [" + ", ".join(f'"{a}"' for a in base.asked) + "]"] if p.ask else []) \
            + ([f"lr = {_number(p.lr)}"] if p.lr is not None else [])
    return "\n".join(lines) + "\n"


def variant_id(text: str) -> str:
    """The printed identifier: the hash of the problem file (as :func:`handout.problem_id` computes it)."""
    return problem_id(None, text.encode("utf-8"))


def problem_from_toml(text: str, source: str) -> Problem:
    import tomllib

    return problem_from_dict(tomllib.loads(text, parse_float=reading.TomlFloat), source)


# -- the independent check -----------------------------------------------------------------------------------


def _keys(p: Problem) -> list:
    """The forward quantities' names as :class:`Values` keys them: ``H, L, O, Y`` for one hidden layer,
    ``H1, L1, H2, L2, ..., O, Y`` for more."""
    hidden = [k for l in range(p.depth) for k in ((f"H{l + 1}", f"L{l + 1}") if p.depth > 1 else ("H", "L"))]
    return hidden + ["O", "Y"]


def numpy_backprop(p: Problem) -> dict:
    """Forward and backward pass in plain NumPy floats, for any depth, biases, samples, activation per layer,
    output layer and loss, from the registry's NumPy functions (each activation's, output layer's and loss's
    forward and local derivative): no SymPy, no derivation. ``{"forward": {key: [one array per sample]},
    "backward": {key: [...]}, "loss": mean, "losses": [per sample], "grad": {"W_a": array, "b_a": column,
    ...}}``, keyed as :class:`Values` names them (``H1``, ``dL_dH1``, ...); a sample's backward values are
    those of its own loss, and the gradients those of the mean loss."""
    import numpy as np


    keys = _keys(p)
    out_layer, loss = OUTPUTS[p.output], LOSSES[p.loss]
    acts = [ACTIVATIONS[a] for a in p.activations]
    Ws = [np.array(W.tolist(), dtype=float) for W in p.weights]
    bs = [np.array([float(v) for v in b]) for b in p.biases] if p.bias else [np.zeros(W.shape[0]) for W in Ws]
    forward = {k: [] for k in keys}
    backward = {k: [] for k in ["dL_dY", "dY_dO", "dL_dO"] + [f"dL_d{k}" for k in reversed(keys[:-2])]}
    grads = [np.zeros_like(W) for W in Ws]
    bgrads = [np.zeros_like(b) for b in bs]
    losses = []
    S = p.n_samples
    for xs, ys in zip(p.xs, p.ys):
        x, y = np.array([float(v) for v in xs]), np.array([float(v) for v in ys])
        inputs, v = [], x
        for l, act in enumerate(acts):  # forward: H = W v + b, L = act(H)
            inputs.append(v)
            H = Ws[l] @ v + bs[l]
            v = np.asarray(act.numpy(H), dtype=float) * np.ones_like(H)
            forward[keys[2 * l]].append(H)
            forward[keys[2 * l + 1]].append(v)
        inputs.append(v)
        O = Ws[-1] @ v + bs[-1]
        Y = np.asarray(out_layer.numpy(O), dtype=float)
        forward["O"].append(O)
        forward["Y"].append(Y)
        losses.append(float(loss.numpy(Y, y)))
        dY = np.asarray(loss.numpy_local(Y, y), dtype=float)
        J = np.asarray(out_layer.numpy_jacobian(Y), dtype=float)  # J[k, j] = dY_k/dO_j
        delta = J.T @ dY  # ∇O
        backward["dL_dY"].append(dY)
        backward["dY_dO"].append(J)
        backward["dL_dO"].append(delta)
        for l in range(len(Ws) - 1, -1, -1):  # backward: each layer's gradient, then ∇L, ∇H of the layer below
            grads[l] += np.outer(delta, inputs[l]) / S
            bgrads[l] += delta / S
            if l > 0:
                dL = Ws[l].T @ delta
                H, L = forward[keys[2 * (l - 1)]][-1], forward[keys[2 * (l - 1) + 1]][-1]
                delta = dL * np.asarray(acts[l - 1].numpy_local(H, L), dtype=float)
                backward[f"dL_d{keys[2 * (l - 1) + 1]}"].append(dL)
                backward[f"dL_d{keys[2 * (l - 1)]}"].append(delta)
    grad = {weight_name(l): g for l, g in enumerate(grads)}
    if p.bias:
        grad.update({bias_name(l): g[:, None] for l, g in enumerate(bgrads)})
    return {"forward": forward, "backward": backward, "loss": sum(losses) / S, "losses": losses, "grad": grad}


def verify(values, graded_values=()) -> None:
    """Check a variant before it is written: every exact value (every sample's forward and backward values,
    each sample's loss and the mean, every gradient) and every ``(key, value)`` of ``graded_values`` (the
    keys.csv row: a descent step too) against :func:`numpy_backprop` (relative 1e-9), and, for
    a symmetric init, every symmetry theorem proved for its structure and true of its numbers (equal gradient
    rows and columns in every hidden layer; zero earlier layers when the last layer's rows are equal and the
    output is a softmax). Raises :class:`VerificationError`."""
    import numpy as np

    p = values.problem
    ref = numpy_backprop(p)

    def close(name, exact, want):
        got = np.array([float(values.decimal(e)) for e in _flat(exact)], dtype=float)
        want = np.asarray(want, dtype=float).ravel()
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            raise VerificationError(f"{p.source}: {name}: derivation {got.tolist()} but NumPy {want.tolist()}")

    for group in ("forward", "backward"):
        for key, per_sample in ref[group].items():
            for s, want in enumerate(per_sample):
                at = f"@{s + 1}" if p.n_samples > 1 else ""
                close(f"{group}.{key}{at}", values.sample(group, key, s), want)
    close("forward.loss", values.forward["loss"], ref["loss"])
    if p.n_samples > 1:
        close("forward.losses", values.forward["losses"], ref["losses"])
    if set(values.gradients) != set(ref["grad"]):
        raise VerificationError(f"{p.source}: gradients of {sorted(values.gradients)} but NumPy has {sorted(ref['grad'])}")
    for name, m in values.gradients.items():
        close(f"grad.{name}", m.tolist(), ref["grad"][name])
    for key, value in graded_values:
        close(key, value, _reference(p, ref, key))

    if symmetric(p):
        for th in theorems_for(p):
            if not th.holds:
                raise VerificationError(f"{p.source}: theorem {th.key} is not proved")
            if th.key.startswith(("symmetry", "permanence")) and not th.applies:
                raise VerificationError(f"{p.source}: the init is symmetric but theorem {th.key} does not apply")
        for l in range(p.depth):
            Gin, Gout = values.gradients[weight_name(l)], values.gradients[weight_name(l + 1)]
            if any(Gin.row(i) != Gin.row(0) for i in range(Gin.rows)) or \
                    any(Gout.col(j) != Gout.col(0) for j in range(Gout.cols)):
                raise VerificationError(f"{p.source}: a symmetric init whose hidden units (layer {l + 1}) get unequal gradients")
        if p.output == "softmax" and last_rows_equal(p):
            earlier = [name for name in values.gradients if name[2] != weight_name(p.depth)[2]]
            if any(g != 0 for name in earlier for g in values.gradients[name]):
                raise VerificationError(f"{p.source}: equal rows of {weight_name(p.depth)} but a nonzero gradient before it")


_GRADED_KEY = re.compile(r"(forward|backward|grad|step|descent|problem|local)\.(\w+)(?:\[(\d+)(?:,(\d+))?\])?(?:@(\d+))?",
                         re.ASCII)


def _reference(p: Problem, ref: dict, key: str) -> float:
    """A graded key's value in :func:`numpy_backprop`'s results ``ref`` (the closing step: its change, the page's
    learning rate times the NumPy gradient, negated; the new value, the parameter plus it)."""
    group, name, i, j, at = _GRADED_KEY.fullmatch(key).groups()
    s = int(at or 1) - 1
    if group == "problem":  # a given the page asks to copy: x or y
        return float((p.xs if name == "x" else p.ys)[s][int(i) - 1])
    if group == "local":  # an activation's local derivative, dL_dH (dL1_dH1, ...): the registry's NumPy form
        import numpy as np

        hidden = name.split("_d")[1]
        layer = _keys(p).index(hidden) // 2
        H, L = ref["forward"][hidden][s], ref["forward"][_keys(p)[2 * layer + 1]][s]
        local = np.asarray(ACTIVATIONS[p.activations[layer]].numpy_local(H, L), dtype=float) * np.ones_like(H)
        return float(local[int(i) - 1])
    if group in ("forward", "backward"):
        if name == "loss":
            return ref["losses"][s] if at else ref["loss"]
        vector = ref[group][name][s]
        return vector[int(i) - 1] if j is None else vector[int(i) - 1, int(j) - 1]
    w = parse_param(name, p)
    column = w.j if w.kind == "weight" else 0
    g = ref["grad"][w.matrix][w.i, column]
    if group == "grad":
        return g
    if group == "step":  # the closing step's change, −η·g
        return -float(p.step_lr) * g
    start = p.params()[w.matrix][w.i, w.j] if w.kind == "weight" else p.params()[w.matrix][w.i]
    return float(start) - float(p.step_lr) * g


# -- the graded values ---------------------------------------------------------------------------------------

# Graded, in keys.csv's order: forward and backward values, the asked gradients, the closing step (its change,
# then the new value); then the blanks that copy a given (problem.x[1], problem.y[1]) or a local derivative
# (local.dL_dH[1] = ReLU'(H_1)), in the page's order: last, so that the columns before them keep their places.
_GROUPS = ("forward", "backward", "grad", "step", "descent", "problem", "local")


def graded_keys(values, data: bytes | None = None) -> list:
    """Every key the student's page grades, each blank of the page once
    (:func:`derivations.teaching.handout.layout`): forward and backward in the checker's order (each sample's
    forward values, the losses, each sample's backward values), then the asked gradients and the closing step
    (its change, then the new value) in the page's order, then the copied givens and local derivatives in the
    page's order."""
    order = {key: k for k, key in enumerate(blanks(values.derivation))}
    page = handout.layout(values, data=data)
    keys = list(dict.fromkeys(s.key for s in page.slots(given=False) if s.key.split(".")[0] in _GROUPS))
    rank = {"forward": 0, "backward": 1, "grad": 2, "step": 3, "descent": 3, "problem": 4, "local": 4}

    def position(key):
        group = key.split(".")[0]
        return rank[group], order[key] if group in ("forward", "backward") else keys.index(key)

    return sorted(keys, key=position)


def graded(values, data: bytes | None = None) -> list:
    """``[(column, exact value)]``: every value the page grades, by its :meth:`Values.lookup` key (for the
    handout: the forward steps, ∇Y, the softmax Jacobian, ∇O, the green path's ∇L_1, the asked gradients, and
    the green path's copies of y, x_1 and ReLU′(H_1); with several samples, ``forward.H[1]@2``; where the init
    is not the symmetry lesson, the page's gradient-descent step, ``descent.w_b11``).

    >>> from derivations import evaluate, load_problem
    >>> [key for key, _ in graded(evaluate(load_problem()))][-8:]
    ['backward.dL_dL[1]', 'grad.w_b11', 'grad.w_b21', 'grad.w_a11', 'problem.y[1]', 'problem.y[2]', 'local.dL_dH[1]', 'problem.x[1]']
    """
    out = []
    formulas = None
    for key in graded_keys(values, data):
        if key.startswith("descent."):
            name = key.split(".", 1)[1]
            out.append((key, values.descent(values.problem.step_lr, [name])[name]))
        elif key.startswith(("local.", "problem.", "step.")):  # the checker's formula for it, at the numbers
            formulas = formulas or blanks(values.derivation)
            out.append((key, values.value(formulas[key])))
        else:
            out.append((key, values.lookup(key)))
    return out


def shown(values, v, tolerance=None) -> str:
    """A graded value as ``keys.csv`` writes it, a value :mod:`derivations.teaching.check` and the self-check page
    accept back: a rational exactly (its decimal when short, else the fraction, as the key shows ``1/3``);
    any other value to :data:`KEY_DIGITS` significant digits, trailing zeros kept (the precision rule counts
    them), or more where the checker's ``tolerance`` on that blank (relative; narrowed near a slip) needs more.

    >>> from derivations import evaluate, load_problem
    >>> v = evaluate(load_problem())
    >>> shown(v, v.grad("w_b21")), shown(v, Rational(1, 3)), shown(v, v.forward["Y"][0])
    ('0.0375', '1/3', '0.5')
    """
    from decimal import Decimal, localcontext

    from sympy import Float


    if isinstance(v, Rational):
        text = decimal_text(v)
        return text if text is not None and len(text.lstrip("-").replace(".", "").lstrip("0")) <= 12 else str(v)
    exact = Decimal(str(Float(values.decimal(v), 40)))
    tol = Fraction(str(tolerance if tolerance is not None else KEY_TOLERANCE))
    limit = abs(exact) * Decimal(tol.numerator) / Decimal(tol.denominator) / 2  # half the tolerance: a margin
    for digits in range(KEY_DIGITS, 31):
        with localcontext() as ctx:
            ctx.prec = digits
            rounded = +exact
        if abs(rounded - exact) <= limit:
            break
    return format(rounded, "f")  # its trailing zeros kept: 1.200 shows 4 significant digits, as the rule asks


# -- the roster ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    ids: tuple
    columns: tuple  # the roster's other columns, in order
    rows: tuple  # one dict per id: column -> text


def check_id(student: str, where: str) -> str:
    """An id becomes a folder name: 1 to 64 letters, digits or ``. _ - @ +``, not starting with ``.``, ``-``,
    ``+`` or ``@``. Anything else (``../x``, ``a/b``, NUL, spaces) is refused with one line."""
    if not isinstance(student, str) or not _ID.fullmatch(student):
        got = reading.quote(student, 70)
        raise ProblemError(where, f"expected an id of 1 to {MAX_ID} letters, digits or . _ - @ + (starting with a letter, "
                                  f"digit or _; an id names a folder), got {got}")
    return student


SEPARATORS = {",": "','", ";": "';'", "\t": "a tab"}


def separator(header: str) -> str:
    """The roster's separator, from its header line: a comma, else a semicolon or a tab (as spreadsheets in
    many locales save CSV), else a comma (a one-column header).

    >>> separator("id,name"), separator("id;name"), separator("id")
    (',', ';', ',')
    >>> separator("id" + chr(9) + "name") == chr(9)
    True
    """
    return next((c for c in SEPARATORS if c in header), ",")


def _other_separator(cells: list, sep: str) -> str:
    """A hint when a row holds another separator than the header's."""
    other = next((c for c in SEPARATORS if c != sep and any(c in cell for cell in cells)), None)
    return f" (the line holds {SEPARATORS[other]}, but the header is separated by {SEPARATORS[sep]})" if other else ""


def read_roster(arg: str) -> Roster:
    """The roster: a number N (ids ``001`` ... ``N``), or a CSV file with a header and an ``id`` column,
    read strictly: every row has the header's fields, a cell is one line (an unclosed quote would swallow the
    rows after it), an id is not the name of one of the tool's own files (:data:`RESERVED`); else one line
    naming the line number."""
    path = Path(arg)
    if arg.isdigit() and not path.exists():
        n = int(arg)
        if not 1 <= n <= MAX_ROWS:
            raise ProblemError("ROSTER", f"expected a number of variants from 1 to {MAX_ROWS}, got {arg}")
        width = max(3, len(str(n)))
        ids = tuple(f"{k:0{width}d}" for k in range(1, n + 1))
        return Roster(ids, (), tuple({} for _ in ids))
    where = reading.path_text(arg)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ProblemError("ROSTER", f"expected a CSV file or a number, but {where} is not a regular file")
        if info.st_size > MAX_ROSTER_BYTES:
            raise ProblemError("ROSTER", f"expected a CSV file of at most {MAX_ROSTER_BYTES} bytes, but {where} has {info.st_size}")
        with open(path, "rb") as fh:
            data = fh.read(MAX_ROSTER_BYTES + 1)
    except FileNotFoundError:
        raise ProblemError("ROSTER", f"expected a CSV file or a number, but {where} does not exist") from None
    except OSError as err:
        raise ProblemError("ROSTER", f"cannot read {where}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ProblemError("ROSTER", f"expected UTF-8 text, but byte {err.start + 1} of {where} is not UTF-8 (a spreadsheet: save it as \"CSV UTF-8\")") from None
    if "\x00" in text:
        raise ProblemError("ROSTER", f"{where} contains a NUL byte (line {text.count(chr(10), 0, text.index(chr(0))) + 1})")
    sep = separator(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    start = 1  # the line a row starts on (a quoted field may run over several)

    def row():
        nonlocal start
        start = reader.line_num + 1
        line = next(reader, None)
        if line is not None and reader.line_num != start:
            raise ProblemError("ROSTER", f"{where}: line {start}: a quoted field runs over lines {start} to "
                                         f"{reader.line_num} (an unclosed quote?); a roster cell is one line")
        return line

    try:
        header = row()
        if header is None:
            raise ProblemError("ROSTER", f"{where} is empty; expected a header line with an id column")
        header = [h.strip() for h in header]
        id_columns = [k for k, h in enumerate(header) if h.casefold() == "id"]  # a spreadsheet's ID or Id too
        if len(id_columns) != 1:
            raise ProblemError("ROSTER", f"{where}: expected a header with one id column, got {reading.quote(header, 60)}")
        if len(set(header)) != len(header):
            raise ProblemError("ROSTER", f"{where}: the header repeats a column name: {reading.quote(header, 60)}")
        for h in header:
            if h in ("variant", "selfcheck") or h.startswith(("forward.", "backward.", "grad.")):
                raise ProblemError("ROSTER", f"{where}: column {reading.quote(h)} clashes with a keys.csv column; rename it")
        col = id_columns[0]
        ids, rows, seen = [], [], {}
        while (line := row()) is not None:
            if not any(cell.strip() for cell in line):
                continue
            n = start
            if len(line) != len(header):
                raise ProblemError("ROSTER", f"{where}: line {n}: {len(line)} field{'s' if len(line) != 1 else ''}, but "
                                             f"the header has {len(header)}{_other_separator(line, sep)}")
            student = line[col].strip()
            if _other_separator([student], sep) and not _ID.fullmatch(student):
                raise ProblemError("ROSTER", f"{where}: line {n}: id {reading.quote(student, 40)} is not an id"
                                             f"{_other_separator([student], sep)}")
            student = check_id(student, f"{where}: line {n}: id")
            if student.casefold() in (r.casefold() for r in RESERVED):
                raise ProblemError("ROSTER", f"{where}: line {n}: id {student!r} is the name of a file the tool writes "
                                             f"in --out ({', '.join(RESERVED)}); choose another id")
            folded = student.casefold()
            if folded in seen:
                raise ProblemError("ROSTER", f"{where}: line {n}: id {student!r} repeats line {seen[folded]}'s "
                                             "(ids are folder names, compared ignoring case)")
            seen[folded] = n
            if len(ids) >= MAX_ROWS:
                raise ProblemError("ROSTER", f"{where}: expected at most {MAX_ROWS} students")
            ids.append(student)
            rows.append({h: line[k] for k, h in enumerate(header) if k != col})
    except csv.Error as err:
        why = ("an unclosed quote runs to the end of the file" if "end of data" in str(err)
               else f"not valid CSV ({err}; a quote inside a cell is written twice, \"\")")
        raise ProblemError("ROSTER", f"{where}: line {start}: {why}") from None
    if not ids:
        raise ProblemError("ROSTER", f"{where} has a header but no students")
    return Roster(tuple(ids), tuple(h for k, h in enumerate(header) if k != col), tuple(rows))


# -- writing a variant ---------------------------------------------------------------------------------------


def _html_page(text: str, title: str) -> str:
    import html

    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>body{font-family:serif;max-width:60em;margin:2em auto}pre{white-space:pre-wrap;font-size:11pt}"
            f"</style></head><body><pre>{html.escape(text)}</pre></body></html>\n")


def render_pages(values, text: str, fmt: str, paper: str = "a4") -> dict:
    """``{file name: bytes or str}``: the worksheet and the key of a variant in ``fmt``, identified by the
    hash of its problem file ``text``."""
    data = text.encode("utf-8")
    if fmt == "pdf":
        return {"worksheet.pdf": render_pdf(values, True, paper, data=data),
                "key.pdf": render_pdf(values, False, paper, data=data)}

    page = handout.layout(values, data=data)
    if fmt == "md":
        return {"worksheet.md": render_markdown(page, True), "key.md": render_markdown(page, False)}
    return {"worksheet.html": _html_page(render_text(page, True), f"Worksheet {page.problem_id}"),
            "key.html": _html_page(render_text(page, False), f"Answer key {page.problem_id}")}


def check_page(base: Base, p: Problem) -> None:
    """Lay out the page of one variant ``p`` (the roster's first), so that a base the students' page cannot
    show is refused in one line before anything is written (:class:`ProblemError`)."""
    handout.layout(evaluate(p), data=variant_toml(base, p).encode("utf-8"))


_WORKER = {}


def _init_worker(base: Base, seed: str, out: str, fmt: str, paper: str, tuning: dict | None = None) -> None:
    _WORKER.update(base=base, seed=seed, out=Path(out), fmt=fmt, paper=paper)
    globals().update(tuning or {})  # the parent's settings (a worker starts from a fresh forkserver)


def _draw_one(student: str) -> tuple:
    p, attempt = draw_attempt(_WORKER["base"], _WORKER["seed"], student)
    return student, (variant_toml(_WORKER["base"], p), attempt)


def _write_one(job: tuple) -> tuple:
    """Read back the variant's problem file, derive it, verify it, then write its pages (into the run's
    staging folder); returns its row of ``keys.csv``, every value one the checker accepts back."""
    student, text, who = job
    base, out = _WORKER["base"], _WORKER["out"]
    problem = problem_from_toml(text, f"variant {student}")
    values = evaluate(problem)
    broken = broken_rules(base, problem, values)
    if broken:  # the file read back must be the problem that was checked
        raise VerificationError(f"variant {student}: {broken[0]}")
    graded_values = graded(values, text.encode("utf-8"))
    verify(values, graded_values)
    folder = out / student
    folder.mkdir()
    write_atomic(folder / "problem.toml", text)
    for name, data in render_pages(values, text, _WORKER["fmt"], _WORKER["paper"]).items():
        write_atomic(folder / name, data)
    checker = Checker(problem)
    mathjax = f"../{MATHJAX}" if standalone_mathjax_available() else None  # typeset offline, one copy for all
    write_atomic(folder / "selfcheck.html", page_html(values, data=text.encode("utf-8"), student=(student, who),
                                                      back=render_pages_names(_WORKER["fmt"])[0], checker=checker,
                                                      mathjax=mathjax))
    return student, variant_id(text), [(col, shown(values, v, checker.tolerance.get(col))) for col, v in graded_values]


def standalone_mathjax_available() -> bool:
    """MathJax's one-file component is installed (the docs extra): the self-check pages load one copy of it
    from ``DIR/_mathjax/``; without it their math stays TeX source."""
    folder = mathjax_dir()
    return folder is not None and (folder / STANDALONE_MATHJAX).is_file()


def file_names(fmt: str) -> list:
    """The files of one student's folder."""
    return ["problem.toml", *render_pages_names(fmt), "selfcheck.html"]


def _draw_task(student: str) -> tuple:
    try:
        return _draw_one(student)
    except ProblemError as err:  # a user's error, as one picklable line
        raise _UserError(str(err)) from None


def _write_task(job: tuple) -> tuple:
    try:
        return _write_one(job)
    except ProblemError as err:
        raise _UserError(str(err)) from None


# -- the command line ----------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = cli_io.Parser(prog=PROG, allow_abbrev=False,
                description="Per-student variants of the handout: a problem file, worksheet, answer key and self-check "
                            "page per student, and keys.csv with every graded value.")
    p.add_argument("roster", metavar="ROSTER", help="a CSV file with a header and an id column, or a number N")
    p.add_argument("--out", metavar="DIR", required=True, action=cli_io.Once, help="output folder (created)")
    p.add_argument("--config", metavar="BASE.toml", action=cli_io.Once,
                   help="the base problem: its structure stays, the numbers are drawn (default: the handout's)")
    seed = p.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed", metavar="COURSE_SEED", action=cli_io.Once,
                      help="the course seed (required; keep it private: with it and an id anyone can rebuild a key)")
    seed.add_argument("--seed-file", metavar="FILE", action=cli_io.Once,
                      help="read the course seed from FILE's first line (keeps it out of the shell's history)")
    p.add_argument("--force", action="store_true",
                   help=f"overwrite files in --out that the tool did not write (not in {MANIFEST}) or that changed since")
    p.add_argument("--format", choices=FORMATS, default="pdf", help="worksheet and key format (default pdf)")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="paper size of the PDFs (default a4)")
    p.add_argument("--jobs", type=cli_io.whole_number(1, 64), default=None, metavar="N", help="processes (default: the number of cores)")
    p.add_argument("--moodle", action="store_true",
                   help="also write DIR/moodle.xml: one Moodle cloze question per variant (derivations.cli.moodle)")
    return p


def _fail(message: str) -> int:
    return cli_io.fail(PROG, message)


def _run(pool, fn, items, progress, what):
    out = []
    results = pool.map(fn, items) if pool else map(fn, items)
    for k, r in enumerate(results, 1):
        out.append(r)
        progress(f"{what} {k}/{len(items)}")
    return out


def _order(seed: str, student: str) -> str:
    return hashlib.sha256(f"{seed}\x00{student}".encode("utf-8")).hexdigest()


def distinct(base: Base, seed: str, drawn: dict) -> dict:
    """``{id: problem file}`` from ``{id: (problem file, attempt)}``, every file distinct: within a group of
    equal files, the id whose hash sorts first keeps its draw; the others draw on from their next attempt
    (the only case in which one roster row affects another)."""
    groups = {}
    for student, (text, _attempt) in drawn.items():
        groups.setdefault(text, []).append(student)
    taken = set(groups)
    out = {student: text for student, (text, _attempt) in drawn.items()}
    for text, students in list(groups.items()):
        for student in sorted(students, key=lambda s: _order(seed, s))[1:]:
            p, _ = draw_attempt(base, seed, student, start=drawn[student][1] + 1, avoid=frozenset(taken))
            out[student] = variant_toml(base, p)
            taken.add(out[student])
    return out


def _check_seed(seed: str, field: str = "--seed") -> str:
    if not seed.strip() or len(seed) > MAX_SEED or not seed.isprintable():
        raise ProblemError(field, f"expected a printable text of 1 to {MAX_SEED} characters, got {reading.quote(seed)}")
    return seed


def read_seed(args) -> str:
    """The course seed: ``--seed``, or the first line of ``--seed-file`` (a small regular UTF-8 file)."""
    if args.seed is not None:
        return _check_seed(args.seed)
    path, where = Path(args.seed_file), reading.path_text(args.seed_file)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 4096:
            raise ProblemError("--seed-file", f"expected a regular file of at most 4096 bytes, got {where}")
        first = path.read_bytes().decode("utf-8-sig").splitlines()
    except FileNotFoundError:
        raise ProblemError("--seed-file", f"{where} does not exist") from None
    except UnicodeDecodeError:
        raise ProblemError("--seed-file", f"expected UTF-8 text in {where}") from None
    except OSError as err:
        raise ProblemError("--seed-file", f"cannot read {where}: {err.strerror or err}") from None
    return _check_seed(first[0] if first else "", "--seed-file")


@cli_io.guard(PROG)
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    start = time.perf_counter()
    folder, locked = None, False

    def release():  # the lock's file goes while the lock is still held (a run that opened it meanwhile gave up)
        if locked:
            (out / LOCK).unlink(missing_ok=True)
        folder.close()

    try:
        seed = read_seed(args)
        base = read_base(args.config)
        roster = read_roster(args.roster)
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ProblemError("--out", f"{reading.path_text(out)} exists and is not a folder")
        handout.check_fits(base.problem)  # a page too big is said as such, before any draw (whose rules it breaks)
        probe, _ = draw_attempt(base, seed, roster.ids[0], seconds=PROBE_SECONDS)  # a base no draw satisfies: refused now
        check_page(base, probe)  # and one whose page cannot be laid out
        out.mkdir(parents=True, exist_ok=True)
        folder = Folder(out, force=args.force)
        folder.lock()
        locked = True
        names = ["keys.csv"] + (["moodle.xml"] if args.moodle else []) + \
            ([MATHJAX] if standalone_mathjax_available() else []) + \
            [f"{s}/{name}" for s in roster.ids for name in file_names(args.format)]
        _inputs_not_written(args, out, names)  # not even with --force: the seed file may be the only copy
        _not_in_another_set(out, names)
        folder.check(names)  # before anything is written: nothing of the teacher's is in the way
        staging = folder.stage()
    except ProblemError as err:
        if folder is not None:
            release()
        return _fail(str(err))
    except OSError as err:
        if folder is not None:
            release()
        return _fail(f"--out: cannot create {reading.path_text(args.out)}: {err.strerror or err}")
    if folder.interrupted:
        print(f"{PROG}: note: the last run into {reading.path_text(out)} was cut short while moving its files into "
              "place (no keys.csv); this run replaces its set", file=sys.stderr)
    jobs = min(args.jobs or os.cpu_count() or 1, len(roster.ids))
    progress = cli_io.Progress("variants")
    init = (base, seed, str(staging), args.format, args.paper, {"MARGIN": MARGIN, "MAX_ATTEMPTS": MAX_ATTEMPTS})
    pool = None
    stopped = []  # the signal that stopped the run

    def stop(signum, _frame):  # `kill` (SIGTERM) cleans up as Ctrl-C does
        stopped.append(signum)
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    # `kill` (SIGTERM) and a closed terminal (SIGHUP) clean up as Ctrl-C does: no answer key left staged
    held = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)} if main_thread else {}
    try:
        try:
            if jobs > 1:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # forkserver: workers are forked from a fresh single-threaded server, never from this process,
                # which may hold threads (a test's browser driver, say) whose locks a plain fork would copy.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])  # the server imports the package once, not each worker
                pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=init)
            else:
                _init_worker(*init)
            drawn = dict(_run(pool, _draw_task, roster.ids, progress, "drawing"))
            drawn = distinct(base, seed, drawn)
            who = [next((v for c, v in extra.items() if c.lower() == "name"), "") for extra in roster.rows]
            rows = _run(pool, _write_task, [(s, drawn[s], n) for s, n in zip(roster.ids, who)], progress, "writing")
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)  # every worker stopped before the staging folder goes
        progress.end()
        write_atomic(staging / "keys.csv", keys_csv(roster, rows))
        if MATHJAX in names:
            (staging / MATHJAX).parent.mkdir(exist_ok=True)
            write_atomic(staging / MATHJAX, standalone_mathjax())
        if args.moodle:
            try:
                write_quiz(staging, [student for student, _, _ in rows], base.problem.source, base.problem.title)
            except ProblemError as err:
                raise ProblemError("--moodle", f"moodle.xml not written (nothing changed): {err}") from None
        folder.commit(names, list(roster.ids), own=own_file)
    except (ProblemError, _UserError) as err:
        progress.end()
        return _fail(str(err))
    except OSError as err:
        progress.end()
        return _fail(f"--out: cannot write in {reading.path_text(out)}: {err.strerror or err}; nothing changed")
    except VerificationError as err:
        progress.end()
        print(f"{PROG}: error: verification failed (nothing written): {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.end()
        if folder.staging is None:  # the commit was done when the signal was let through
            print(f"{PROG}: interrupted after the set was written", file=sys.stderr)
        else:
            print(f"{PROG}: interrupted; nothing in {reading.path_text(out)} changed", file=sys.stderr)
        return 128 + (stopped[0] if stopped else signal.SIGINT)
    finally:
        release()
        for sig, handler in held.items():
            signal.signal(sig, handler)
    if folder.overwritten:
        print(f"{PROG}: note: --force overwrote {len(folder.overwritten)} file(s) the tool had not written, e.g. "
              f"{folder.overwritten[0]}", file=sys.stderr)
    cli_io.write(f"{len(rows)} variants in {reading.path_text(out)}: {', '.join(file_names(args.format))} each, "
                 f"keys.csv {'and moodle.xml ' if args.moodle else ''}and {MANIFEST} ({time.perf_counter() - start:.1f} s, {jobs} process{'es' if jobs > 1 else ''})\n")
    return 0


def _inputs_not_written(args, out: Path, names: list) -> None:
    """Refuse a run that would write over a file it reads (the roster, the seed file, the base problem), by any
    name (a link included), whatever ``--force`` says."""
    inputs = [("ROSTER", args.roster), ("--seed-file", args.seed_file), ("--config", args.config)]
    for option, given in inputs:
        if not given or not Path(given).is_file():
            continue  # a roster given as a count; an option not used
        for name in names:
            target = out / name
            try:
                same = target.exists() and os.path.samefile(given, target)
            except OSError:
                same = False
            if same:
                raise ProblemError(option, f"{reading.path_text(given)} is {name} of --out {reading.path_text(out)}, "
                                           "which this run writes; an input is never written (move it out of --out)")


def _not_in_another_set(out: Path, names: list) -> None:
    """The one rule for the files the tools write (:mod:`derivations.outputs.targets`), for a set inside another
    set's folder: none of ``names`` may be a file the outer set lists."""
    real, cache = Path(os.path.realpath(out)), {}
    for name in names:
        found = targets.set_file(real / name, skip=real, cache=cache)
        if found:
            raise ProblemError("--out", f"{reading.path_text(out / name)} is {found[1]} of the variants set in "
                                        f"{reading.path_text(found[0])}; choose an --out folder outside that set")


def own_file(name: str) -> bool:
    """Whether ``name`` (relative to --out) is a file this tool writes, in any format: only such a file is ever
    removed from the folder (:meth:`Folder.commit`), whatever the manifest lists."""
    parts = name.split("/")
    if len(parts) == 1:
        return name in ("keys.csv", "moodle.xml")
    return name == MATHJAX or len(parts) == 2 and parts[1] in {n for fmt in FORMATS for n in file_names(fmt)}


def keys_csv(roster: Roster, rows: list) -> str:
    """``keys.csv``: one row per student; every text cell spreadsheet-safe (no formula runs), numbers as they are."""
    columns = [c for c, _ in rows[0][2]]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([spreadsheet_cell(c) for c in ["id", *roster.columns, "variant", *columns]])
    for (student, vid, values), extra in zip(rows, roster.rows):
        w.writerow([spreadsheet_cell(student), *(spreadsheet_cell(extra.get(c, "")) for c in roster.columns),
                    spreadsheet_cell(vid), *(spreadsheet_cell(v, number=True) for _, v in values)])
    return buf.getvalue()


def render_pages_names(fmt: str) -> list:
    ext = {"pdf": "pdf", "md": "md", "html": "html"}[fmt]
    return [f"worksheet.{ext}", f"key.{ext}"]


if __name__ == "__main__":
    sys.exit(main())
