r"""Formula answers: a student writes a gradient in closed form, in the page's names, and it is judged by
equivalence, with the slip named where it is one.

The answer is read by :mod:`derivations.engine.expression` (a bounded recursive descent over a whitelist; never
``sympify``, ``parse_expr`` or ``eval``), with the page's names (``Y_1`` or ``Y1``, ``w_b11`` or ``w^b_11``),
implicit multiplication (``2(Y_1 − y_1)``, ``L_1 Y_1``) and the page's functions (``exp``, ``log``, ``σ``,
``ReLU'`` or the step ``1[H_1 > 0]``). Every page quantity in it is then a function of the leaves (inputs,
targets, weights, biases), so an answer in ``O``, in ``Y`` or in ``L`` alike is judged, and ``Y_2 = 1 − Y_1`` on
a two-output softmax page is known. The answer is, in this order:

1. **correct**: *proved* when ``expand`` of its difference from the derived form in the page's quantities is 0
   (tried only on small polynomials in them), else *checked numerically*: equal, to :data:`PREC` digits, at the
   :data:`POINTS` random points of the blank (leaves drawn inside each symbol's domain: weights, biases and
   inputs in [−1, 1], targets as the loss accepts them; some where the gradient is 0, some where it is not);
2. **wrong, with the slip named**: equal at every point to the gradient a slip of
   :mod:`derivations.teaching.mistakes` gives (the derivation with the slip's rule; one path or one term of a
   chain-rule sum; the transposed weight) or to the derived form with one of its factors dropped or its sign
   flipped; ties all named;
3. **right value, not the general form**: equal at this problem's numbers only;
4. **wrong**; and *a number, not a formula* for an answer without a name in it, *not a formula: …* (the
   position) for one that cannot be read.

>>> from derivations.engine.problem import load_problem
>>> j = Judge(load_problem(), "w_b11")
>>> j.judge("((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·L_1").line()
'correct (proved)'
>>> j.judge("(Y_1 − y_1)·Y_1(1 − Y_1)·L_1").line()
'wrong: softmax-cross-term-dropped, one-path-only'
>>> j.judge("-0.0375").line()
'a number, not a formula'
>>> j.judge("2(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1").line()
'wrong: right value, not the general form'
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from functools import cached_property

import mpmath
from sympy import Abs, Add, Eq, Integer, Max, Min, Mul, Piecewise, Pow, Rational, exp, expand, log, sqrt, sstr, tanh
from sympy.logic.boolalg import true as always

from ..engine.derivation import Derivation, Param, derive
from ..engine.errors import ProblemError
from ..engine.expression import MAX_LENGTH, parse, sigmoid
from ..engine.functions import LeakyReLU, ReLU, leaky_step, relu_step
from ..engine.ops import LOSSES
from ..engine.values import leaves_of
from ..notation.printing import text as page_text
from .marking import Mark
from .mistakes import ONE_PATH, TRANSPOSED, Mistake, catalogue

POINTS = 6  # random points where the gradient is not 0 (and up to ZERO_POINTS where it is)
ZERO_POINTS = 3
DRAWS = 60  # candidate points drawn at most
PREC = 50  # digits every value is computed with
AGREE = mpmath.mpf("1e-30")  # relative: two values agree to 30 of the 50 digits
MAX_SECONDS = 2  # an answer is judged within this (the parser's bounds keep it far below)
MAX_TERMS = 2000  # the symbolic proof is tried where expanding gives at most this many terms
MAX_MAGNITUDE = mpmath.mpf(10) ** 100  # a value beyond it (an exp of an exp) is no value: the answer diverges
MAX_WORLDS = 96  # slips' worlds kept per blank ("one path only" has one per term)

CORRECT, WRONG = "correct", "wrong"
NUMBER = "a number, not a formula"
NOT_GENERAL = "right value, not the general form"
UNREAD = "not a formula"

#: What a formula may call: the parser's functions and the page's spellings of them.
FUNCTIONS = {
    "exp": (1, exp), "log": (1, log), "ln": (1, log), "sqrt": (1, sqrt), "tanh": (1, tanh),
    "sigmoid": (1, sigmoid), "σ": (1, sigmoid), "relu": (1, ReLU), "ReLU": (1, ReLU),
    "relu'": (1, relu_step), "ReLU'": (1, relu_step), "LeakyReLU": (1, LeakyReLU), "LeakyReLU'": (1, leaky_step),
    "max": (2, Max), "min": (2, Min),
}

FACTOR_DROPPED = "factor-dropped"
WHOLE_SIGN = "formula-sign"
#: The slips a formula shows beyond the catalogue's (a dropped factor's title names the factor).
FACTOR = Mistake(FACTOR_DROPPED, "a factor of the chain rule's product dropped",
                 "Every factor of the chain rule's product stays: leaving one out changes the gradient.",
                 "Write the product of the local derivatives along the path, and count its factors.")
SIGN = Mistake(WHOLE_SIGN, "the sign of the whole gradient flipped",
               "The formula is the gradient with the opposite sign: it points to where the loss falls.",
               "Check the sign of each factor, the loss's derivative first.")
FORMULA_SLIPS = (FACTOR, SIGN)


def names(d: Derivation) -> dict:
    """The names a student may write, each with its symbol: every input, target, page quantity and parameter as
    the page prints it (``Y_1``, ``w^b_11``, ``H^(2)_1``), without its underscore (``Y1``), and a parameter by its
    key (``w_b11``, ``b_a1``); one sample only.

    >>> from derivations.engine.problem import load_problem
    >>> n = names(derive(load_problem()))
    >>> n["Y1"] is n["Y_1"], n["w_b11"] is n["w^b_11"], len(n)
    (True, True, 74)
    """
    sy, out = d.symbols, {}
    quantities = sy.x[0] + sy.y[0] + [v for key in sy.keys for v in sy.node(key)]
    for key in sy.keys:  # H2_1 for H^(2)_1
        if len(key) > 1:
            out.update({f"{key}_{k + 1}": v for k, v in enumerate(sy.node(key))})
    for v in quantities:
        out[str(v)] = v
        if "^" not in str(v) and "," not in str(v):
            out[str(v).replace("_", "")] = v
    for p in d.params():
        out[str(sy.param(p))] = out[p.key(sy.wide)] = sy.param(p)
    return out


def page_form(d: Derivation, name) -> object:
    """The derived closed form in the page's quantities (inputs, targets, forward values, weights): the
    gradient with every backward quantity and local derivative written out.

    >>> from derivations.engine.problem import load_problem
    >>> page_form(derive(load_problem()), "w_b11")
    L_1*(-Y_1*Y_2*(Y_2 - y_2) + Y_1*(1 - Y_1)*(Y_1 - y_1))
    """
    quantities = set(names(d).values())
    expr = d.formula(name)
    for _ in range(4 * (d.problem.depth + 3)):  # each pass writes out one layer of backward quantities
        inner = {s: d.definitions[s] for s in expr.free_symbols if s not in quantities and s in d.definitions}
        if not inner:
            return expr
        expr = expr.xreplace(inner)
    return expr


def typed_form(d: Derivation, name) -> str:
    """The derived form as a student would type it, which :class:`Judge` reads back (``keys.csv`` holds it).

    >>> from derivations.engine.problem import load_problem
    >>> typed_form(derive(load_problem()), "w_b11")
    'L_1*(-Y_1*Y_2*(Y_2 - y_2) + Y_1*(1 - Y_1)*(Y_1 - y_1))'
    """
    return sstr(page_form(d, name))


@dataclass
class FormulaMark(Mark):
    """A formula answer's judgement: a :class:`~derivations.teaching.marking.Mark` (``verdict`` correct or
    wrong, the slips named, ``note``) with what was read (``read``, the page's text) and how a correct answer was
    established (``how``: ``proved`` or ``checked numerically at N points``)."""

    read: str = ""
    how: str = ""
    kind: str = ""  # "", NUMBER, NOT_GENERAL or UNREAD

    def line(self) -> str:
        """One line: ``correct (proved)``, ``wrong: one-path-only``, ``not a formula: … at position 3``."""
        if self.verdict == CORRECT:
            return f"correct ({self.how})"
        if self.kind == NUMBER:
            return NUMBER
        if self.kind == UNREAD:
            return f"not a formula: {self.note}"
        if self.mistakes:
            return "wrong: " + ", ".join(m.name for m in self.mistakes)
        return f"wrong: {self.kind}" if self.kind else "wrong"


def _terms(e) -> int | None:
    """An upper bound of how many terms ``expand(e)`` has (None: not a polynomial in its atoms and calls)."""
    if not isinstance(e, (Add, Mul, Pow)):
        return 1
    if isinstance(e, Pow):
        b = _terms(e.base)
        if b is None or not e.exp.is_Integer or not 0 <= e.exp <= 64:
            return None if b != 1 else 1
        return b ** int(e.exp) if b < MAX_TERMS else None
    parts = [_terms(a) for a in e.args]
    if None in parts:
        return None
    out = 1 if isinstance(e, Mul) else 0
    for n in parts:
        out = out * n if isinstance(e, Mul) else out + n
        if out > MAX_TERMS:
            return None
    return out


def _agree(a, b) -> bool:
    if a is None or b is None:
        return False
    with mpmath.workdps(PREC):
        return bool(abs(a - b) <= AGREE * max(abs(a), abs(b), mpmath.mpf("1e-20")))


def _exact(v):
    """A rational as an mpmath number at the working precision."""
    with mpmath.workdps(PREC):
        return mpmath.mpf(v.p) / v.q


def _at(expr, values: dict):
    with mpmath.workdps(PREC):
        return evaluate(expr, values)


def walk(d: Derivation, leaves: dict, overrides: dict | None = None, before: dict | None = None) -> dict:
    """Every quantity of ``d`` at ``leaves`` (mpmath numbers), definition by definition in their order
    (``overrides`` replaces some; with ``before``, the values without them, only what they change is
    recomputed): :func:`evaluate` on each, so a slip's world costs a pass of arithmetic, not of SymPy."""
    values = dict(leaves)
    changed = set()
    with mpmath.workdps(PREC):
        for sym, definition in d.definitions.items():
            if overrides and sym in overrides:
                definition = overrides[sym]
                changed.add(sym)
            elif before is not None and not (changed & definition.free_symbols):
                values[sym] = before[sym]
                continue
            elif before is not None:
                changed.add(sym)
            values[sym] = evaluate(definition, values)
    return values


def _step(z, leak):
    return mpmath.mpf(1) if z > 0 else leak


# Each function a formula may hold, on mpmath numbers (None: outside its domain).
_CALLS = {
    exp: lambda z: mpmath.exp(z) if z < 230 else None,
    log: lambda z: mpmath.log(z) if z > 0 else None,
    tanh: mpmath.tanh,
    sigmoid: lambda z: 1 / (1 + mpmath.exp(-z)) if z > -230 else mpmath.mpf(0),
    ReLU: lambda z: max(z, mpmath.mpf(0)),
    relu_step: lambda z: _step(z, mpmath.mpf(0)),
    LeakyReLU: lambda z: z if z > 0 else z / 100,
    leaky_step: lambda z: _step(z, mpmath.mpf(1) / 100),
    Abs: abs,
}


def evaluate(expr, values: dict):
    """``expr`` at ``values`` (``{symbol: mpmath number}``), walked node by node with mpmath at the working
    precision: never SymPy's ``evalf`` (an ``exp`` of an ``exp`` of a student's formula would try to build a
    number of billions of digits); ``None`` for a value outside a function's domain or beyond
    :data:`MAX_MAGNITUDE`.

    >>> from sympy import Symbol
    >>> x = Symbol("x", real=True)
    >>> evaluate(exp(exp(exp(exp(x)))), {x: mpmath.mpf(2)}) is None, float(evaluate(1 - x / 4, {x: mpmath.mpf(2)}))
    (True, 0.5)
    """
    if expr.is_Symbol:
        return values.get(expr)
    if expr.is_Rational:
        return mpmath.mpf(expr.p) / expr.q
    if expr.is_Float:
        return mpmath.mpf(expr._mpf_)
    if expr.is_NumberSymbol:
        return mpmath.mpf(expr.evalf(PREC)._mpf_)
    if isinstance(expr, Piecewise):  # a slip's (ReLU'(0) taken as 1): conditions of equality only
        for value, cond in expr.args:
            if cond is always or (isinstance(cond, Eq) and evaluate(cond.lhs - cond.rhs, values) == 0):
                return evaluate(value, values)
        return None
    args = []
    for a in expr.args:
        v = evaluate(a, values)
        if v is None:
            return None
        args.append(v)
    if isinstance(expr, Add):
        out = mpmath.fsum(args)
    elif isinstance(expr, Mul):
        out = mpmath.fprod(args)
    elif isinstance(expr, Pow):
        b, n = args
        if expr.exp.is_Integer:
            out = None if b == 0 and n < 0 else b ** int(expr.exp)
        elif expr.exp == Rational(1, 2) or expr.exp == Rational(-1, 2):
            out = None if b < 0 or (b == 0 and n < 0) else b ** n
        else:
            return None
    elif expr.func in (Max, Min):
        out = (max if expr.func is Max else min)(args)
    elif expr.func in _CALLS and len(args) == 1:
        out = _CALLS[expr.func](args[0])
    else:
        return None
    if out is None or not mpmath.isfinite(out) or abs(out) > MAX_MAGNITUDE:
        return None
    return out


def _target_domain(problem, rng: random.Random) -> list:
    """Targets the problem's loss accepts: uniform in [0, 1], made a probability vector where it asks one."""
    loss = LOSSES[problem.loss]
    y = [Rational(rng.randint(0, 1000), 1000) for _ in range(problem.n_out)]
    if loss.check_target(y) is None:
        return y
    total = sum(y) or Integer(1)
    y = [v / total for v in y] if sum(y) else [Rational(1, len(y))] * len(y)
    return y if loss.check_target(y) is None else list(problem.ys[0])


class Judge:
    """How a formula for ``∂ℒ/∂name`` is judged on ``problem``: its names, points, the true values there and
    every slip's (computed once; each answer is then parsed and evaluated at the points)."""

    def __init__(self, problem, name: str):
        if problem.n_samples != 1:
            raise ProblemError("worksheet.closed", f"expected a problem of one sample for formula answers, got "
                                                   f"{problem.n_samples} samples")
        self.problem, self.d = problem, derive(problem)
        self.param: Param = self.d.param(name)
        self.key = self.param.key(self.d.symbols.wide)
        self.names = names(self.d)
        self.form = page_form(self.d, self.param)
        self.gradient = self.d.gradient(self.param)
        quantities = set(self.names.values())
        self.points, self.values, self.true = self._draw()
        self.page = [{q: vals[q] for q in quantities} for vals in self.values]  # the page's values, for answers
        here = walk(self.d, {s: _exact(v) for s, v in leaves_of(problem, self.d.symbols).items()})
        self.true_here = _at(self.gradient, here)
        self.page_here = {q: here[q] for q in quantities}

    def _draw(self) -> tuple:
        """Leaves at random (seeded by the parameter: the same points on every run), each symbol in its domain;
        :data:`POINTS` where the gradient is not 0, up to :data:`ZERO_POINTS` where it is."""
        rng = random.Random(f"formula {self.key}")
        sy = self.d.symbols
        free = [s for s in sy.leaves() if s not in sy.y[0]]
        points, values, true, zeros = [], [], [], 0
        for _ in range(DRAWS):
            leaves = {s: _exact(Rational(rng.randint(-1000, 1000), 1000)) for s in free}
            leaves.update((s, _exact(v)) for s, v in zip(sy.y[0], _target_domain(self.problem, rng)))
            vals = walk(self.d, leaves)
            t = _at(self.gradient, vals)
            if t is None:
                continue
            if t == 0:
                if zeros >= ZERO_POINTS:
                    continue
                zeros += 1
            points.append(leaves)
            values.append(vals)
            true.append(t)
            if len(points) - zeros >= POINTS:
                break
        if not points:  # (every draw left a value undefined: no point could tell a formula right)
            raise ProblemError(f"closed.{self.key}", "no point where the gradient has a value: not judged")
        return points, values, true

    # -- the slips at the points -----------------------------------------------------------------------

    @cached_property
    def slips(self) -> list:
        """``[(mistake, values at the points)]`` for every slip that changes this gradient somewhere."""
        out = []
        for m, values in self._worlds():
            if len(out) >= MAX_WORLDS:
                break
            if values is None or all(_agree(a, b) for a, b in zip(values, self.true)):
                continue  # no value there, or the slip changes nothing on this gradient
            if not any(n.name == m.name and all(_agree(a, b) for a, b in zip(values, v)) for n, v in out):
                out.append((m, values))
        return out

    def _worlds(self):
        d, p = self.d, self.param
        for m in catalogue(self.problem):
            if m.rules:
                dv = Derivation(self.problem, m.rules)
                yield m, self._at_points(lambda leaves, vals: _at(dv.gradient(p), walk(dv, leaves)))
            elif m.name == TRANSPOSED and p.kind == "weight" and p.i != p.j:
                W = d.symbols.W[p.layer]
                if p.j < W.rows and p.i < W.cols:
                    other = d.gradient(Param(p.layer, "weight", p.j, p.i))
                    yield m, self._at_points(lambda leaves, vals: _at(other, vals))
        for factor, rest in self._factors():
            m = Mistake(FACTOR_DROPPED, f"a factor dropped: {page_text(factor)} left out of the product",
                        FACTOR.explanation, FACTOR.hint)
            yield m, self._at_points(lambda leaves, vals, rest=rest: _at(rest, vals))
        with mpmath.workdps(PREC):  # (mpmath rounds even a negation to its working precision)
            flipped = [-t for t in self.true]
        yield SIGN, flipped
        one = next((m for m in catalogue(self.problem) if m.name == ONE_PATH), None)
        if one is not None:  # last: a deep gradient has many terms, and MAX_WORLDS keeps the first
            yield from ((one, v) for v in self._one_path())

    def _one_path(self):
        """One path of the gradient (of a few), or one term of a chain-rule sum it is computed from."""
        d = self.d
        if 1 < d.count_paths(self.param) <= 64:
            for path in d.paths(self.param):
                yield self._at_points(lambda leaves, vals, e=path.product: _at(e, vals))
        seen, stack = set(), sorted(self.gradient.free_symbols, key=str)  # (sorted: the same order in every process)
        while stack:
            s = stack.pop()
            if s in seen or s not in d.definitions:
                continue
            seen.add(s)
            e = d.definitions[s]
            stack.extend(sorted(e.free_symbols, key=str))
            if s in d.display and isinstance(e, Add) and len(e.args) > 1:
                for term in e.args:
                    yield self._at_points(lambda leaves, vals, s=s, t=term:
                                          _at(self.gradient, walk(d, leaves, {s: t}, vals)))

    def _factors(self):
        """``(factor, the derived form without it)`` for each factor of the handout's form of the gradient."""
        f = self.d.formula(self.param)
        if isinstance(f, Mul):
            for k, a in enumerate(f.args):
                if not a.is_Number:
                    yield a, Mul(*(f.args[:k] + f.args[k + 1:]))

    def _at_points(self, value) -> list | None:
        out = []
        for leaves, vals in zip(self.points, self.values):
            v = value(leaves, vals)
            if v is None:
                return None
            out.append(v)
        return out

    # -- judging ---------------------------------------------------------------------------------------

    def read(self, answer: str, used: set | None = None):
        """The answer as a SymPy expression in the page's symbols (a :class:`ProblemError` line otherwise);
        ``used`` gets the names it reads, as typed."""
        return parse(answer, self.names, field=f"closed.{self.key}", implicit=True, functions=FUNCTIONS,
                     step=relu_step, used=used)

    def judge(self, answer) -> FormulaMark:
        key = f"closed.{self.key}"
        if not isinstance(answer, str):
            answer = str(answer)
        if len(answer) > MAX_LENGTH:
            return FormulaMark(key, WRONG, kind=UNREAD,
                               note=f"expected at most {MAX_LENGTH} characters, got {len(answer)}")
        typed = set()  # the names as typed: 0·Y_1 names Y_1 (as the page reads it), though it simplifies to 0
        try:
            expr = self.read(answer, typed)
        except ProblemError as e:
            return FormulaMark(key, WRONG, kind=UNREAD, note=str(e).split(": ", 1)[-1])
        read = page_text(expr) if expr.is_finite is not False else answer.strip()
        if not typed:  # a number, whatever its value (1/0 too): the page says so alike
            return FormulaMark(key, WRONG, read=read, kind=NUMBER, note="write ∂ℒ/∂" + str(self.d.symbols.param(self.param))
                               + " as a formula in the page's quantities, not its value")
        if self._proved(expr):
            return FormulaMark(key, CORRECT, read=read, how="proved")
        started = time.monotonic()
        got = []
        with mpmath.workdps(PREC):
            for vals in self.page:
                got.append(evaluate(expr, vals))
                if time.monotonic() - started > MAX_SECONDS:
                    return FormulaMark(key, WRONG, read=read, note=f"not judged within {MAX_SECONDS} s")
            here = evaluate(expr, self.page_here)
        if all(_agree(a, b) for a, b in zip(got, self.true)):
            return FormulaMark(key, CORRECT, read=read, how=f"checked numerically at {len(got)} points")
        named = []
        for m, values in self.slips:
            if all(_agree(a, b) for a, b in zip(got, values)) and m.name not in {n.name for n in named}:
                named.append(m)
        if named:
            return FormulaMark(key, WRONG, mistakes=named, read=read,
                               note="these slips give the same formula" if len(named) > 1 else "")
        if _agree(here, self.true_here):
            return FormulaMark(key, WRONG, read=read, kind=NOT_GENERAL,
                               note="it agrees at this problem's numbers, but not for other weights and data")
        return FormulaMark(key, WRONG, read=read)

    def _proved(self, expr) -> bool:
        """``expand(answer − derived form) == 0``, tried only on small polynomials in the page's quantities."""
        diff = expr - self.form
        if _terms(diff) is None:
            return False
        return expand(diff) == 0


def judge(problem, name: str, answer: str) -> FormulaMark:
    """Judge one formula answer for ``∂ℒ/∂name`` on ``problem`` (:class:`Judge` keeps what every answer shares).

    >>> from derivations.engine.problem import load_problem
    >>> judge(load_problem(), "w_b11", "(Y_1 - y_1)·L_1").line()
    'wrong: softmax-derivative-identity, softmax-skipped-backward'
    """
    return Judge(problem, name).judge(answer)
