r"""The marking: one definition of how each blank of a problem is judged, in the page's order, for the
checker (:mod:`derivations.teaching.check`, and so ``grade``) and the self-check page alike.

Every blank is a symbol with a local formula in the symbols before it: a forward or backward quantity of the
derivation (``H_1``, ``∇O_1``), an activation's local derivative as the page asks for it (``∂L_1/∂H_1``, which
``∇H_1`` then uses), a gradient (``∇O_1·L_1``), the closing step's change ``−η·g`` from the student's own
gradient ``g``, and the new weight ``w + change``. Each slip of :mod:`derivations.teaching.mistakes` is a
*world*: the same formulas with some replaced (the derivation with the slip's rule, compared formula by
formula), or one term of a chain-rule sum (one path only), or the transposed weight's gradient.

A sheet is judged blank by blank in the page's order (:class:`Sheet`). A symbol's value *seen from* a blank
is the student's answer where they gave one earlier on the page, else its formula at those values: so a step
follows only from blanks before it. Each answer is then, in this order:

1. **correct**: the true value by :func:`classify`'s precision rule (exact, or a decimal of at least
   :data:`DIGITS` significant digits rounded correctly or within the blank's tolerance);
2. **follows**: the blank's formula at the student's earlier answers, exactly or (at :data:`DIGITS` digits or
   more) within a slack of :data:`REL_TOL` of it plus what the rounding of each differing input changes (half
   a unit in its last typed digit, or a right answer's gap to its value: :func:`rounding`) (a wrong 0 that makes the
   step trivial earns no credit), or *correct* where those inputs were all right to their rounding;
3. **wrong**, with each slip named whose world gives the answer from the student's earlier answers (not the
   value that follows, which is no slip), the closest; several only when they give the same number, the one
   named more often on the sheet first;
4. **wrong, too few digits**: a decimal of fewer than :data:`DIGITS` significant digits near the true value or
   the value that follows (their rounding to the digits typed, or within the tolerance) that is not exactly
   either, nor exactly a slip's value: an exact match wins over the count of digits.

>>> from derivations.engine.problem import load_problem
>>> m = Marking(load_problem())
>>> m.true["grad.w_b11"], m.sym["grad.w_b11"], m.defs[m.sym["grad.w_b11"]]
(-3/80, ⟦grad.w_b11⟧, L_1*∇O_1)
>>> classify("0.1847", Rational("0.1847"), Rational("0.18468"), Rational(0)), classify("0.185", Rational("0.185"), Rational("0.18468"), Rational(0))
('match', 'short')

The browser evaluates the same formulas, printed by SymPy's JavaScript printer, with the same steps
(:mod:`derivations.outputs.selfcheck`); ``tests/test_marking.py`` compares the two on every blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import mpmath

from sympy import Add, Expr, Float, Integer, Rational, Symbol

from ..engine.derivation import ActivationStep, Derivation, derive
from ..engine.values import Values, backward_keys, leaves_of, lemma_zeros
from .mistakes import ONE_PATH, ONE_UNIT, TRANSPOSED, Mistake

REL_TOL = Rational(1, 1000)  # a blank's tolerance, relative: 4 significant digits are within it
MIN_TOL = Rational(1, 2000)  # the narrowest: a value correctly rounded to 4 significant digits is within it
DIGITS = 4  # the significant digits every blank is satisfied with
PREC = 60  # digits a value that is not rational is carried with
MAX_PREC = 1920  # the most digits a true value is computed with (a sigmoid at O = 1000 needs about 440)
MAX_PATHS = 64  # "one path only" is looked for in a gradient of at most this many paths

MATCH, SHORT = "match", "short"
SHORT_NOTE = f"too few digits: type {DIGITS} significant digits (or the exact value)"
ZERO_NOTE = "this is what your {zeros} = 0 gives, but that 0 is wrong and makes this step trivial: no follow-through credit"
TIE_NOTE = "these mistakes give the same number here: your answers cannot tell them apart"


# -- the precision rule ----------------------------------------------------------------------------------

_TYPED = re.compile(r"\s*[+\-\u2212]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?\s*", re.ASCII)


def significant_digits(text: str) -> int | None:
    """The significant digits a typed decimal shows (from its first nonzero digit to its last digit; ``None``
    for a fraction). ``0.0375`` shows 3, ``0.03750`` 4, ``120`` 3, ``1.20e-3`` 3.

    >>> [significant_digits(t) for t in ("0.0375", "0.03750", "120", "1.20e-3", "-0,5", "3/80")]
    [3, 4, 3, 3, 1, None]
    """
    m = _TYPED.fullmatch(text.replace(",", "."))
    if m is None or not (m["int"] or m["frac"]):
        return None
    return len((m["int"] + (m["frac"] or "")).lstrip("0"))


def half_unit(text: str) -> Rational | None:
    """Half a unit in the last digit typed: how far the value may lie from a correctly rounded answer.

    >>> half_unit("0.0375"), half_unit("120"), half_unit("1.5e-3"), half_unit("3/80"), half_unit("1.600e-00003")
    (1/20000, 1/2, 1/20000, None, 1/2000000)
    """
    m = _TYPED.fullmatch(text.replace(",", "."))
    if m is None or not (m["int"] or m["frac"]):
        return None
    digits = m["exp"].lstrip("+-").lstrip("0") if m["exp"] else ""  # 1e-00003 is 1e-3 (parse_answer reads it so)
    exponent = (-1 if m["exp"].startswith("-") else 1) * int(digits) if digits and len(digits) <= 4 else 0
    scale = exponent - len(m["frac"] or "")
    return Rational(1, 2) * (Rational(10) ** scale)


def magnitude(v) -> int:
    """The exponent of ``v``'s leading digit: ``floor(log10 |v|)``, exactly (``v`` not 0).

    >>> magnitude(Rational("0.0375")), magnitude(Rational(1)), magnitude(Rational("999.9"))
    (-2, 0, 2)
    """
    v = abs(v)
    e = len(str(v.p)) - len(str(v.q)) if v.is_Rational else int(mpmath.floor(mpmath.log10(mpmath.mpf(Float(v, 30)._mpf_))))
    while Rational(10) ** e > v:
        e -= 1
    while Rational(10) ** (e + 1) <= v:
        e += 1
    return e


def classify(text: str, answer: Rational, target, slack, drift=0) -> str | None:
    """How a typed answer stands to a value: :data:`MATCH` or :data:`SHORT` or ``None``.

    - :data:`MATCH`: the value itself (a decimal or a fraction), or a decimal of at least :data:`DIGITS`
      significant digits that is the value correctly rounded or within ``slack`` of it;
    - :data:`SHORT`: a decimal of fewer digits, not the value itself, near it: the value correctly rounded to
      the 2 or 3 significant digits typed, or within ``slack`` (fewer than :data:`DIGITS` digits are never
      *correct* unless exact);
    - ``None`` otherwise: a fraction is the value exactly or not it.

    ``drift``: how far the value may move with the rounding of the earlier answers it is computed from (part
    of ``slack``). The self-check page's ``classify`` is this.

    >>> y = Rational("0.751365069552")
    >>> [classify(t, Rational(t), y, y / 1000) for t in ("0.7514", "0.7510", "0.751", "0.752", "0.75", "3/4")]
    ['match', 'match', 'short', 'short', 'short', None]
    """
    if target is None:
        return None
    if answer == target:
        return MATCH
    sig, unit = significant_digits(text), half_unit(text)
    if sig is None:  # a fraction: exact or not this value
        return None
    gap = abs(answer - target)
    if sig < DIGITS:  # too few digits: near the value, never it
        rounded = sig >= 2 and target != 0 and gap <= Rational(1, 2) * Rational(10) ** (magnitude(target) - sig + 1) + drift
        return SHORT if rounded or gap <= slack else None  # (one digit is no rounding: 1 for 0.5)
    if gap <= slack or gap <= unit:  # within the tolerance, or correctly rounded to DIGITS or more
        return MATCH
    return None


def rounding(value: Rational, text: str, true=None) -> Rational:
    """How far a typed answer may lie from the value the student computed: half a unit in its last digit (a
    fraction: 0); for an answer right within its tolerance (``true``: the blank's true value), up to its
    distance from it, the student having perhaps carried the true value. Not :data:`REL_TOL` of every answer:
    summed over a step's inputs, that let a step that cancels be 4/1000 off and still follow.

    >>> rounding(Rational("0.15"), "0.15"), rounding(Rational("0.5559"), "0.5559")
    (1/200, 1/20000)
    >>> rounding(Rational("0.5557"), "0.5557", Rational("0.55593"))  # within 1/1000 of it: its gap
    23/100000
    """
    unit = half_unit(text) or Integer(0)
    if true is None:
        return unit
    gap = abs(value - true)  # (a Float where the true value is the decimal of an irrational one)
    gap = Rational(gap) if gap.is_Float else gap
    return max(unit, gap) if gap <= max(abs(value) * REL_TOL, unit) else unit


def settle(v, prec: int = PREC):
    """A value carried forward: exact while rational, else a ``prec``-digit decimal; ``None`` where it is not
    a finite real number (a log of 0, a division by a student's 0)."""
    if v.is_Rational:
        return v
    try:
        f = v.evalf(prec)
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return None
    if f.is_Rational:
        return f
    if f.is_Float and f.is_finite:
        return f
    return None


def same(a, b) -> bool:
    """Two carried values equal: exactly when rational, to a relative 1e-12 else (as the browser's floats
    tell them apart)."""
    if a is None or b is None:
        return False
    if a.is_Rational and b.is_Rational:
        return a == b
    return bool(abs(a - b) <= Float("1e-12") * max(abs(a), abs(b)))


# -- the blanks ------------------------------------------------------------------------------------------


def blanks(d: Derivation) -> dict:
    """Every answer key of the derivation and the expression it names: a symbol (``forward.H[1]`` is ``H_1``),
    a gradient (``grad.w_b11`` is ``∇O_1 L_1``), an activation's local derivative (``local.dL_dH[1]`` is
    ``1[H_1 > 0]``), and, where the init is not the symmetry lesson, the closing step: its change
    (``step.w_b11``, ``−η·∂ℒ/∂w``) and the new weight (``descent.w_b11``).

    >>> from derivations.engine.problem import load_problem
    >>> b = blanks(derive(load_problem()))
    >>> len(b), b["grad.w_b21"], b["local.dL_dH[1]"]
    (61, L_1*∇O_2, 1[H_1 > 0])
    """
    p, sy = d.problem, d.symbols
    S = p.n_samples
    out = {}
    for s in range(S):
        at = f"@{s + 1}" if S > 1 else ""
        for name, vec in (("x", sy.x[s]), ("y", sy.y[s])):  # the data: blanks the handout asks to copy
            for i, v in enumerate(vec):
                out[f"problem.{name}[{i + 1}]{at}"] = v
        for key in sy.keys:
            for i, v in enumerate(sy.node(key, s)):
                out[f"forward.{key}[{i + 1}]{at}"] = v
        if S > 1:
            out[f"forward.loss{at}"] = sy.loss[s]
        for k, g in enumerate(sy.grad("Y", s)):
            out[f"backward.dL_dY[{k + 1}]{at}"] = g
        for k, row in enumerate(sy.dY_dO[s]):
            for j, e in enumerate(row):
                if j == k or not d.output.elementwise:  # an elementwise output's Jacobian is diagonal
                    out[f"backward.dY_dO[{k + 1},{j + 1}]{at}"] = e
        for key in backward_keys(d)[2:]:
            for i, g in enumerate(sy.grad(key[4:], s)):
                out[f"backward.{key}[{i + 1}]{at}"] = g
        for j in range(p.n_in):  # the gradient with respect to the inputs (not on the page unless asked)
            out[f"backward.dL_dx[{j + 1}]{at}"] = d.input_gradient(j, s)
        for layer in range(p.depth):
            H, L = sy.keys[2 * layer], sy.keys[2 * layer + 1]
            for j in range(len(sy.node(H, s))):
                out[f"local.d{L}_d{H}[{j + 1}]{at}"] = d.local_activation(layer, j, s)
    out["forward.loss"] = sy.total
    for param in d.params():
        out[f"grad.{param.key(sy.wide)}"] = d.gradient(param)
    for param in d.params() if not p.symmetric else ():  # the page's closing step (not the symmetry lesson)
        change = _change(d, d.gradient(param))
        out[f"step.{param.key(sy.wide)}"] = change
        out[f"descent.{param.key(sy.wide)}"] = _update(d, sy.param(param), change)
    return out


def _change(d: Derivation, g: Expr) -> Expr:
    """The closing step's change of a parameter whose gradient is ``g``: ``−η·g`` (a slip may change it)."""
    return d.rule("descent.step", lambda rate, g_: -rate * g_)(d.problem.step_lr, g)


def _update(d: Derivation, w: Expr, change: Expr) -> Expr:
    """The closing step's new value of parameter ``w``: ``w + change`` (a slip may change it)."""
    return d.rule("descent.update", lambda w_, change_: w_ + change_)(w, change)


def _blank_symbol(key: str) -> Symbol:
    return Symbol(f"⟦{key}⟧", real=True)


def marking_defs(d: Derivation, exprs: dict) -> tuple:
    """``(defs, sym)``: every symbol's local formula, in an order where each comes after what it uses, and the
    symbol of each blank. The derivation's definitions, with each activation's local derivative a symbol of its
    own (the page asks for it; ``∇H_1`` is ``∇L_1`` times it), and a symbol for each blank that is not one
    already (a gradient; a bias's gradient, which is ``∇H_1`` but sits elsewhere on the page; the closing step's
    change, from the student's own gradient; the new weight, from the student's own change). A gradient of
    :func:`~derivations.engine.values.lemma_zeros` is 0, as the lemma proves, not its sum's decimals."""
    sy = d.symbols
    act = {}  # ∇H_j -> (its local-derivative symbol, the local derivative, the edges) for each activation step
    S = d.problem.n_samples
    for op in d.ops:
        if isinstance(op, ActivationStep):
            for s in range(S):
                at = f"@{s + 1}" if S > 1 else ""
                for j, g in enumerate(sy.grad(op.inp, s)):
                    key = f"local.d{op.out}_d{op.inp}[{j + 1}]{at}"
                    act[g] = (_blank_symbol(key), exprs[key], op.edges(d, s, j), sy.grad(op.out, s))
    defs = {}
    for target, definition in d.definitions.items():
        if target in act:
            a, local, edges, outer = act[target]
            defs[a] = local
            definition = Add(*(outer[i] * (a if e == local else e) for i, e in edges))
        defs[target] = definition
    sym, claimed = {}, set()
    zeros = {f"grad.{name}" for name in lemma_zeros(d)}  # 0 by a proved lemma: exactly 0 here too, not ~1e-1900
    for key, expr in exprs.items():
        group, name = key.split(".", 1)
        if group == "local":
            sym[key] = _blank_symbol(key)  # the symbol ∇H_j's definition reads (made above)
        elif isinstance(expr, Symbol) and expr not in claimed and group not in ("grad", "step", "descent"):
            sym[key] = expr
        else:
            s = sym[key] = _blank_symbol(key)
            if group == "step":
                defs[s] = _change(d, sym["grad." + name])
            elif group == "descent":
                defs[s] = _update(d, sy.param(d.param(name)), sym["step." + name])
            else:
                defs[s] = Integer(0) if key in zeros else expr
        claimed.add(sym[key])
    return defs, sym


# -- the marking of one problem ----------------------------------------------------------------------------


@dataclass
class World:
    """A slip's formulas: ``overrides`` replace some local formulas; ``affected`` is every symbol whose value
    they change (computed by :meth:`Marking.world`)."""

    mistake: Mistake
    overrides: dict
    affected: frozenset = field(default=frozenset())


class Marking:
    """How every blank of ``problem`` is judged: the blanks' symbols and formulas (:func:`marking_defs`), their
    true values and tolerances, their order (``order``: the page's keys, first appearance first; other blanks
    after them), and the slips' worlds (``slips``: :func:`derivations.teaching.mistakes.catalogue`'s, or none)."""

    def __init__(self, problem, values: Values | None = None, order: list | None = None, slips: list | None = None):
        d = values.derivation if values is not None else derive(problem)
        exprs = blanks(d)
        defs, sym = marking_defs(d, exprs)
        leaves = leaves_of(problem, d.symbols)
        trivial = {k: leaves[d.symbols.param(d.param(k[8:]))] for k in exprs if k.startswith("descent.")}
        self._assemble(problem, d, exprs, defs, sym, leaves, order, slips or [], trivial)

    def _assemble(self, problem, d, exprs: dict, defs: dict, sym: dict, leaves: dict, order, slips: list,
                  trivial: dict) -> None:
        """What every marking derives from its blanks' expressions, formulas and symbols (a network's, a
        graph's): the dependencies both ways, the order (the page's keys first), the true values."""
        self.problem, self.d, self.exprs, self.defs, self.sym, self.leaves = problem, d, exprs, defs, sym, leaves
        self.key_of = {s: k for k, s in sym.items()}
        self.deps = {s: _deps(e, defs, leaves) for s, e in defs.items()}
        self.users: dict = {}
        for s, ds in self.deps.items():
            for u in ds:
                self.users.setdefault(u, []).append(s)
        page = [k for k in dict.fromkeys(order or ()) if k in exprs]
        self.order = page + [k for k in exprs if k not in set(page)]
        self.rank = {k: n for n, k in enumerate(self.order)}
        self.slips, self.trivial = list(slips), trivial
        # Values seen from before every answer (no answer reaches them): the same on every sheet, so kept across
        # sheets, by world (the worlds live as long as the marking), symbol and precision.
        self.plain: dict = {}
        self._tol: dict = {}
        self._carried: dict = {}
        self._path_worlds: dict = {}
        self.true = self._true_values()

    # -- true values --------------------------------------------------------------------------------------

    def _true_values(self) -> dict:
        """Every blank's true value: exact where rational; else a decimal computed until two precisions agree
        (from :data:`PREC` digits, doubling to :data:`MAX_PREC`: a saturated sigmoid's ``1 − Y`` cancels
        digits that a fixed precision would lose)."""
        prec, last = PREC, None
        while True:
            ev = _Evaluator(self, {}, prec)
            now = {k: ev.value(None, self.sym[k], 0) for k in self.order}
            if last is not None and all(_agree(last[k], now[k]) for k in now) and None not in now.values():
                return now
            if prec >= MAX_PREC:
                return now
            last, prec = now, prec * 2

    def tolerance(self, key: str) -> Rational:
        """The blank's relative tolerance: :data:`REL_TOL`, narrowed below a third of the relative gap to the
        nearest slip's value there (from the true values: a slip carried from the start), never below
        :data:`MIN_TOL` (4 significant digits always pass: a slip closer than that cannot be told apart)."""
        if key not in self._tol:
            t, tol = self.true[key], REL_TOL
            if t is not None and t != 0:
                for _, v in self.carried(key):
                    gap = abs(v - t) / abs(t)
                    if 0 < gap and gap / 3 < tol:
                        tol = Rational(str(Float(gap / 3, 3)))
            self._tol[key] = max(tol, MIN_TOL)
        return self._tol[key]

    def carried(self, key: str) -> list:
        """``[(mistake, value)]``: each slip's value of the blank from the true values (its world from the
        start), where it differs from the true value."""
        if key not in self._carried:
            ev, sym, out = self._start, self.sym[key], []
            for w in self.worlds + self.paths(sym, ev, 0, own_only=True):
                if sym in w.affected:
                    v = ev.value(w, sym, 0)
                    if v is not None and not same(v, self.true[key]):
                        out.append((w.mistake, v))
            self._carried[key] = out
        return self._carried[key]

    @cached_property
    def _start(self):
        return _Evaluator(self, {}, PREC)

    # -- the slips' worlds --------------------------------------------------------------------------------

    def world(self, mistake: Mistake, overrides: dict) -> World:
        """A slip's world, with every symbol its formulas change."""
        affected, stack = set(), list(overrides)
        while stack:
            s = stack.pop()
            if s not in affected:
                affected.add(s)
                stack.extend(self.users.get(s, ()))
        return World(mistake, overrides, frozenset(affected))

    @cached_property
    def worlds(self) -> list:
        """One world per rule slip (the derivation with its rule, compared formula by formula) and the
        transposed weight's; "one unit only" (a shared bias) has a world per unit, "one path only" a world per
        term (:meth:`paths`)."""
        out = []
        for m in self.slips:
            if m.rules:
                dv = Derivation(self.problem, m.rules)
                defs, _ = marking_defs(dv, blanks(dv))
                changed = {s: e for s, e in defs.items() if s in self.defs and self.defs[s] != e}
                if changed:
                    out.append(self.world(m, changed))
            elif m.name == TRANSPOSED:
                swap = {}
                for key, s in self.sym.items():
                    if key.startswith("grad."):
                        p = self.d.param(key[5:])
                        W = self.d.symbols.W[p.layer] if p.kind == "weight" else None
                        if W is not None and p.i != p.j and p.j < W.rows and p.i < W.cols:
                            swap[s] = self.d.gradient(type(p)(p.layer, "weight", p.j, p.i))
                if swap:
                    out.append(self.world(m, swap))
            elif m.name == ONE_UNIT:  # a world per unit: every shared bias's gradient taken as that unit's share
                shares = {s: self.d.unit_shares(key[5:]) for key, s in self.sym.items()
                          if key.startswith("grad.") and self.d.param(key[5:]).shared}
                for u in range(max((len(v) for v in shares.values()), default=0)):
                    out.append(self.world(m, {s: v[u] for s, v in shares.items() if u < len(v)}))
        return out

    @cached_property
    def _one_path(self) -> Mistake | None:
        return next((m for m in self.slips if m.name == ONE_PATH), None)

    def alternatives(self, s: Symbol) -> list:
        """"One path only" at symbol ``s``: the terms of a chain-rule sum, or the paths of a gradient of a few."""
        key = self.key_of.get(s, "")
        if key.startswith("grad."):
            name = key[5:]
            if 1 < self.d.count_paths(name) <= MAX_PATHS:
                return [p.product for p in self.d.paths(name)]
            return []
        e = self.defs.get(s)
        if s in self.d.display and isinstance(e, Add) and len(e.args) > 1:  # not ∇Y: the loss's own derivative
            return list(e.args)
        return []

    def paths(self, sym: Symbol, ev, c: int, own_only: bool = False) -> list:
        """"One path only"'s worlds that can change ``sym`` seen from answer ``c``: one per term of each
        chain-rule sum among the symbols it is computed from (or of ``sym`` itself, ``own_only``)."""
        if self._one_path is None:
            return []
        out = []
        for s in [sym] if own_only else ev.unwritten(sym, c):
            if s not in self._path_worlds:  # kept: an evaluator remembers values by world
                self._path_worlds[s] = [self.world(self._one_path, {s: t}) for t in self.alternatives(s)]
            out += self._path_worlds[s]
        return out


def _deps(expr: Expr, defs: dict, leaves: dict) -> tuple:
    return tuple(sorted((s for s in expr.free_symbols if s in defs or s in leaves), key=str))


def _agree(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a.is_Rational and b.is_Rational:
        return a == b
    return bool(abs(a - b) <= Float("1e-30") * abs(b))


# -- evaluating, seen from a blank -------------------------------------------------------------------------


class _Evaluator:
    """Symbols' values in a world, seen from the ``c``-th answered blank of a sheet (answers before it in the
    page's order are the student's; everything else its formula at them). ``answers``: ``{symbol: (index,
    value, rounding)}``, ``rounding`` how far the typed value may lie from what the student computed (a
    ``bump`` moves it so far)."""

    def __init__(self, marking: Marking, answers: dict, prec: int = PREC):
        self.m, self.answers, self.prec = marking, answers, prec
        self.memo: dict = {}
        # For each symbol, the answered indices among what it is computed from: its value, seen from c, is
        # the same for every c past the same answers (shared, not recomputed).
        self.seen: dict = {}
        if answers:
            for s in marking.defs:
                acc = set()
                for u in marking.deps[s]:
                    acc |= self.seen.get(u, frozenset())
                    if u in answers:
                        acc.add(answers[u][0])
                if s in answers:
                    acc.add(answers[s][0])
                self.seen[s] = frozenset(acc)

    def _cut(self, sym, c: int) -> int:
        seen = self.seen.get(sym)
        if not seen:
            return 0 if sym not in self.answers else min(c, self.answers[sym][0] + 1)
        below = [i for i in seen if i < c]
        return max(below) + 1 if below else 0

    def value(self, world, sym, c: int, bump=None):
        if sym in self.answers and self.answers[sym][0] < c:
            v = self.answers[sym][1]
            return v + self.answers[sym][2] if bump == sym else v
        if sym in self.m.leaves:
            return self.m.leaves[sym]
        if world is not None and sym not in world.affected:
            world = None
        if world is None:
            c = self._cut(sym, c)
            if bump is not None and (bump not in self.answers or self.answers[bump][0] not in self.seen.get(sym, ())):
                bump = None
        memo_key = (id(world) if world is not None else None, sym, c, bump)
        if memo_key in self.memo:
            return self.memo[memo_key]
        plain_key = (memo_key[0], sym, self.prec) if c == 0 else None  # at c = 0 no answer counts, nor a bump
        if plain_key in self.m.plain:
            self.memo[memo_key] = out = self.m.plain[plain_key]
            return out
        expr = world.overrides.get(sym, self.m.defs[sym]) if world is not None else self.m.defs[sym]
        deps = self.m.deps[sym] if world is None or sym not in world.overrides else _deps(expr, self.m.defs, self.m.leaves)
        vals = {}
        out = None
        for s in deps:
            v = self.value(world, s, c, bump)
            if v is None:
                break
            vals[s] = v
        else:
            out = settle(expr.xreplace(vals), self.prec)
        self.memo[memo_key] = out
        if plain_key is not None:
            self.m.plain[plain_key] = out
        return out

    def unwritten(self, sym, c: int) -> list:
        """``sym`` and the symbols it is computed from that the student has not given before answer ``c``."""
        out, stack, seen = [], [sym], set()
        while stack:
            s = stack.pop()
            if s in seen or s in self.m.leaves or (s in self.answers and self.answers[s][0] < c):
                continue
            seen.add(s)
            out.append(s)
            stack.extend(self.m.deps.get(s, ()))
        return out

    def frontier(self, sym, c: int, world: World | None = None) -> list:
        """The student's earlier answers that ``sym``'s formula reaches (through blanks not given), in
        ``world`` (a slip's formulas may read other symbols)."""
        out, stack, seen = [], list(self._deps(world, sym)), set()
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            if s in self.answers and self.answers[s][0] < c:
                out.append(s)
            elif s in self.m.defs:
                stack.extend(self._deps(world, s))
        return sorted(out, key=lambda s: self.answers[s][0])

    def _deps(self, world, s) -> tuple:
        if world is not None and s in world.overrides:
            return _deps(world.overrides[s], self.m.defs, self.m.leaves)
        return self.m.deps.get(s, ())


# -- judging a sheet ---------------------------------------------------------------------------------------


@dataclass
class Mark:
    """One answer's judgement: ``verdict`` (``correct``, ``follows``, ``wrong``), the slips named, the earlier
    blanks it follows from, ``short`` (agrees with the value at fewer digits than asked), and the rest."""

    key: str
    verdict: str
    mistakes: list = field(default_factory=list)
    follows_from: list = field(default_factory=list)
    short: bool = False
    no_credit_from: list = field(default_factory=list)
    ruled_out: list = field(default_factory=list)
    note: str = ""


class Sheet:
    """One student's answers (``{key: (value, text)}``) judged against a :class:`Marking`, in the page's
    order: :meth:`judge` gives a :class:`Mark` per answer."""

    def __init__(self, marking: Marking, answers: dict):
        self.m = marking
        self.keys = sorted(answers, key=lambda k: marking.rank[k])
        self.index = {k: n for n, k in enumerate(self.keys)}
        self.answers = answers
        self.ev = _Evaluator(marking, {marking.sym[k]: (self.index[k], answers[k][0], rounding(*answers[k], marking.true[k]))
                                       for k in self.keys})

    def _moved(self, s) -> bool:
        """The student's answer for symbol ``s`` is not its true value (a rounding moves it too)."""
        key = self.m.key_of[s]
        return not same(self.answers[key][0], self.m.true[key])

    def judge(self) -> dict:
        out: dict = {}
        named: dict = {}  # mistake name -> how often named so far on this sheet
        for k in self.keys:
            mark = self._judge(k, out, named)
            for mm in mark.mistakes:
                named[mm.name] = named.get(mm.name, 0) + 1
            out[k] = mark
        return out

    def _judge(self, k: str, done: dict, named: dict) -> Mark:
        m, ev = self.m, self.ev
        a, text = self.answers[k]
        c, sym, true = self.index[k], m.sym[k], m.true[k]
        tol = m.tolerance(k)
        verdict = classify(text, a, true, tol * abs(true) if true is not None else 0)
        if verdict == MATCH:
            return Mark(k, "correct")
        short = verdict == SHORT  # decided last: exactly what follows, or what a slip gives, comes first
        step = ev.value(None, sym, c)
        inputs = ev.frontier(sym, c)
        moved = [s for s in inputs if self._moved(s)]
        exclude = None
        mark = Mark(k, "wrong")
        if moved and step is not None:
            drift = 0
            for s in moved:
                bumped = ev.value(None, sym, c, bump=s)
                if bumped is not None:
                    drift += abs(bumped - step)
            follow = classify(text, a, step, REL_TOL * abs(step) + drift, drift)
            wrong = [m.key_of[s] for s in inputs if done[m.key_of[s]].verdict != "correct"]
            if follow == MATCH:
                if not wrong:
                    return Mark(k, "correct", note="right from your rounded earlier answers")
                zeros = [key for key in wrong if self.answers[key][0] == 0]
                trivial = step == 0 or (k in m.trivial and same(step, m.trivial[k]))
                if not (zeros and trivial and true != 0):
                    return Mark(k, "follows", follows_from=wrong)
                mark.no_credit_from = zeros
                mark.note = ZERO_NOTE.format(zeros=", ".join(zeros))
                exclude = step
            elif follow == SHORT:
                short = True
        self._diagnose(mark, k, a, text, c, sym, step if step is not None else true, exclude, tol, named, short)
        if short and not mark.mistakes and not mark.no_credit_from:
            return Mark(k, "wrong", short=True, note=SHORT_NOTE)
        return mark

    def _diagnose(self, mark: Mark, k, a, text, c, sym, base, exclude, tol, named, exact: bool = False) -> None:
        """Name the slips whose worlds give answer ``a`` from the student's earlier answers (``exact``: only
        those that give it exactly, the answer being too short to be near one)."""
        m, ev = self.m, self.ev
        found = {}  # mistake name -> (distance, mistake, value, how)
        for w in m.worlds + m.paths(sym, ev, c):
            if sym not in w.affected:
                continue
            v = ev.value(w, sym, c)
            if v is None or same(v, base) or (exclude is not None and same(v, exclude)):
                continue
            drift = 0  # as for a step that follows: what the rounding of each earlier answer changes
            for s in ev.frontier(sym, c, w):
                if self._moved(s):
                    bumped = ev.value(w, sym, c, bump=s)
                    if bumped is not None:
                        drift += abs(bumped - v)
            how = classify(text, a, v, tol * abs(v) + drift, drift)
            if how is not None and not (exact and how != MATCH):
                d = abs(a - v)
                if w.mistake.name not in found or d < found[w.mistake.name][0]:
                    found[w.mistake.name] = (d, w.mistake, v, how)
        names = set(found)
        for mistake, v in m.carried(k):  # would give the answer from the start, but the sheet says otherwise
            if mistake.name not in names and classify(text, a, v, tol * abs(v)) is not None:
                if mistake.name not in mark.ruled_out:
                    mark.ruled_out.append(mistake.name)
        if not found:
            return
        best = min(found.values(), key=lambda f: f[0])
        tied = [f for f in found.values() if abs(f[2] - best[2]) <= tol * abs(best[2]) or same(f[2], best[2])]
        most = max(named.get(f[1].name, 0) for f in tied)
        tied = [f for f in tied if named.get(f[1].name, 0) == most]  # a slip the sheet shows already comes first
        order = {mm.name: n for n, mm in enumerate(m.slips)}
        tied.sort(key=lambda f: (f[0], order.get(f[1].name, 0)))
        mark.mistakes = [f[1] for f in tied]
        notes = [mark.note] if mark.note else []
        if len(tied) > 1:
            notes.append(TIE_NOTE)
        if any(f[3] == SHORT for f in tied):
            notes.append(SHORT_NOTE)
        mark.note = "; ".join(notes)
