r"""Check a student's answers step by step: each blank correct, following from the student's own earlier
answers, or wrong, with the catalogued mistake (:mod:`derivations.teaching.mistakes`) it matches named.

    python -m derivations.check ANSWERS.toml [--config PROBLEM.toml] [--format text|json] [--reveal]

The answers file has one table, keyed as the Sphinx roles: ``[answers]`` with ``"forward.H[1]" = 0.15``,
``"backward.dL_dY[1]" = "-1/2"``, ``"grad.w_b11" = "-3/80"``. Exit 0 when every answer is correct, 1 when some
are not, 2 for bad input.

>>> from derivations.engine.problem import load_problem
>>> c = Checker(load_problem())
>>> v = c.check({"backward.dL_dY[1]": "-0.25", "forward.H[1]": "0.2", "forward.L[1]": "1/5"})
>>> v["backward.dL_dY[1]"].verdict, [m.name for m in v["backward.dL_dY[1]"].mistakes]
('wrong', ['loss-factor-1/N'])
>>> v["forward.L[1]"].verdict, v["forward.L[1]"].follows_from
('follows', ['forward.H[1]'])

*Follows*: an answer that is not correct is judged from its blank's local formula at the student's own
earlier answers (those left empty take their formula's value). It follows when it is within a slack of that
value: :data:`REL_TOL` of it (the answer's own rounding) plus, for each input that is not the true value, what
changing that input by a relative :data:`REL_TOL` changes (that input's rounding, to first order), so that a
sheet written to 4 significant digits follows. A step that matches its formula at inputs that are all right to
their rounding is correct. A wrong earlier answer of 0 that makes the step's value 0 earns no follow-through
(``no_credit_from``, with a ``note``). Of the catalogued mistakes that give the answer, those the student's own
earlier answers contradict are dropped (``ruled_out``: an answered earlier blank that the mistake changes, not
at the mistake's value), the closest is named, and others only when they give the same number (``note``).
The closing step ``w − η·∂ℒ/∂w`` (``descent.*``) is judged so from the student's own gradient (``grad.*``).

>>> v = c.check({"backward.dL_dY[1]": "-1/2", "backward.dL_dY[2]": "1/2", "backward.dL_dO[1]": "-1/8"})
>>> [m.name for m in v["backward.dL_dO[1]"].mistakes], v["backward.dL_dO[1]"].ruled_out
(['softmax-cross-term-dropped', 'one-path-only'], ['loss-factor-1/N'])

Comparisons are exact where the true value is rational. Where it is transcendental an answer is accepted
within a relative tolerance (:data:`REL_TOL`, narrowed on a blank until it is tighter than the gap between
the correct value and every catalogued mistake there, but never below :data:`MIN_TOL`, so that the answer
key's 4 significant digits always pass). Answers are parsed by pattern
(:func:`derivations.engine.reading.parse_number`), never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sympy import Add, Expr, Float, Rational, Symbol

from ..engine.derivation import Derivation, derive
from ..engine.errors import ProblemError
from ..engine.reading import parse_number, quote
from ..engine.values import Values, backward_keys
from .mistakes import ONE_PATH, TRANSPOSED, Mistake, catalogue

REL_TOL = Rational(1, 1000)  # for transcendental values: answers rounded to 4 significant digits pass
MIN_TOL = Rational(1, 2000)  # the narrowest tolerance: 4 significant digits are within 1/2000 of any value
MAX_NAMED = 3  # problems of an answers file named in its one error line
MAX_PATHS = 64  # "one path only" is looked for in a gradient of at most this many paths
MAX_MISTAKE_COST = 600  # problem.cost up to which wrong answers are matched against the catalogued mistakes
PROG = "python -m derivations.check"


def _first(items: list, sep: str = ", ") -> str:
    """The first ``MAX_NAMED`` items, and how many more: a message stays one short line."""
    more = f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
    return sep.join(items[:MAX_NAMED]) + more


# -- the blanks ------------------------------------------------------------------------------------------


def blanks(d: Derivation) -> dict:
    """Every answer key of the derivation and the expression it names: a symbol (``forward.H[1]`` is
    ``H_1``), a gradient (``grad.w_b11`` is ``∇O_1 L_1``) or an activation's local derivative
    (``local.dL_dH[1]`` is ``1[H_1 > 0]``), each in the symbols of the neighbouring layer.

    >>> from derivations.engine.problem import load_problem
    >>> b = blanks(derive(load_problem()))
    >>> len(b), b["grad.w_b21"], b["local.dL_dH[1]"]
    (58, L_1*∇O_2, 1[H_1 > 0])
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
        for layer in range(p.depth):
            H, L = sy.keys[2 * layer], sy.keys[2 * layer + 1]
            for j in range(len(sy.node(H, s))):
                out[f"local.d{L}_d{H}[{j + 1}]{at}"] = d.local_activation(layer, j, s)
    out["forward.loss"] = sy.total
    lr = p.step_lr
    for param in d.params():
        out[f"grad.{param.key(sy.wide)}"] = d.gradient(param)
    step = d.rule("descent", lambda w, rate, g: w - rate * g)  # the page's closing step (a mistake may change it)
    for param in d.params() if not p.symmetric else ():  # (where the init is not the symmetry lesson)
        out[f"descent.{param.key(sy.wide)}"] = step(sy.param(param), lr, d.gradient(param))
    return out


def definition(d: Derivation, expr: Expr) -> Expr:
    """A blank's local formula: a symbol's definition, or the expression itself."""
    return d.definitions[expr] if isinstance(expr, Symbol) and expr in d.definitions else expr


# -- comparing -------------------------------------------------------------------------------------------


def at_values(values: Values, expr: Expr):
    """``expr`` at a derivation's numbers: exact when rational, else its decimal computed over the layered
    50-digit decimals (never ``evalf`` of a deep exact expression)."""
    exact = expr.xreplace(values.of)
    if exact.is_Rational:
        return exact
    return _settle(expr.xreplace(values.decimals))


def numeric(v):
    """An exact value as it is (rational), or its 50-digit decimal; ``None`` if it is not a real number."""
    if v is None:
        return None
    if v.is_Rational:
        return v
    try:
        f = v.evalf(50)
    except (TypeError, ValueError, ArithmeticError):
        return None
    return f if f.is_Float or f.is_Rational else None


def same(answer: Rational, target, tol) -> bool:
    """``answer`` equals ``target``: exactly when the target is rational, within ``tol`` (relative) else."""
    t = numeric(target)
    if t is None:
        return False
    if t.is_Rational:
        return answer == t
    return bool(abs(answer - t) <= tol * abs(t)) if t != 0 else bool(abs(answer) <= Float("1e-40"))


ROUNDED_NOTE = "this value is exact and yours is it rounded: write all its digits (or the fraction), not a rounded value"
_DECIMAL = re.compile(r"\s*[-+−]?\d*\.?(\d*)\s*")


def rounded_exact(text: str, answer: Rational, target) -> bool:
    """Whether ``answer`` (typed as ``text``) is the exact, rational ``target`` rounded to the decimals typed,
    with at least 2 significant digits: wrong (exact values are compared exactly), but for a reason worth saying.

    >>> rounded_exact("0.1847", Rational("0.1847"), Rational("0.18468")), rounded_exact("0.2", Rational("0.2"), Rational("0.18468"))
    (True, False)
    """
    m = _DECIMAL.fullmatch(text)
    if m is None or not target.is_Rational or answer == target:
        return False
    scale = 10 ** len(m.group(1))
    return abs(answer - target) * 2 * scale <= 1 and abs(answer) * scale >= 10


def near(answer, target, slack, rel=None) -> bool:
    """``answer`` within ``slack`` of ``target`` (or within ``rel`` relative of it): how a step is judged
    from the student's own earlier answers, which are rounded."""
    if target is None:
        return False
    if slack is None:
        slack = rel * abs(target)
    return bool(abs(answer - target) <= slack) or answer == target


# -- the verdicts ----------------------------------------------------------------------------------------


@dataclass
class Verdict:
    key: str
    answer: Rational
    verdict: str  # "correct" | "follows" | "wrong"
    correct: Expr  # the true value (shown only with --reveal)
    mistakes: list = field(default_factory=list)  # the Mistakes it matches, when wrong
    follows_from: list = field(default_factory=list)  # the student's keys it follows from
    tolerance: Rational | None = None  # None: compared exactly
    text: str = ""  # the answer as the student wrote it
    ruled_out: list = field(default_factory=list)  # mistakes that give this value but the student's own
    #                                                earlier answers contradict (names, for the record)
    no_credit_from: list = field(default_factory=list)  # wrong earlier answers of 0 that would make this step
    #                                                     trivial: no follow-through credit from them
    note: str = ""  # why, in a sentence, when the verdict needs one (tied mistakes, no credit, rounding)

    @property
    def tied(self) -> bool:
        """Several mistakes named: they give the same number here and the sheet cannot tell them apart."""
        return len(self.mistakes) > 1

    def as_dict(self, reveal: bool) -> dict:
        out = {"verdict": self.verdict, "answer": self.text or str(self.answer), "mistakes": [m.name for m in self.mistakes]}
        if self.follows_from:
            out["follows_from"] = self.follows_from
        if self.mistakes:
            out["explanations"] = [m.as_dict() for m in self.mistakes]
        if self.ruled_out:
            out["ruled_out"] = self.ruled_out
        if self.no_credit_from:
            out["no_credit_from"] = self.no_credit_from
        if self.note:
            out["note"] = self.note
        if self.tolerance is not None:
            out["tolerance"] = str(self.tolerance)
        if reveal:
            out["correct"] = str(self.correct) if self.correct.is_Rational else None  # None: not rational
            out["correct_decimal"] = _short_decimal(self.correct)
        return out


class _OnDemand(dict):
    """A dict whose entries are computed by ``make(key)`` when first asked for; iterating it computes every
    entry of ``every()`` (a caller that walks them all gets them all)."""

    def __init__(self, make, every):
        super().__init__()
        self._make, self._every = make, every

    def __missing__(self, key):
        self[key] = value = self._make(key)
        return value

    def _fill(self):
        for key in self._every():
            if not dict.__contains__(self, key):
                self[key]
        return self

    def __iter__(self):
        return dict.__iter__(self._fill())

    def __len__(self):
        return dict.__len__(self._fill())

    def keys(self):
        return dict.keys(self._fill())

    def values(self):
        return dict.values(self._fill())

    def items(self):
        return dict.items(self._fill())


class Checker:
    """The correct derivation and every mistake's, evaluated once for a problem; :meth:`check` judges a
    set of answers against them."""

    def __init__(self, problem, values: Values | None = None):
        self.problem = problem
        self.d = values.derivation if values is not None else derive(problem)  # handed down, or derived once
        # A large problem's own values as decimals where not rational (compared so; exact forms would take
        # as long as printing it); a small one's exact, as the pages made from them (grade's) need them.
        self.values = values if values is not None else Values(self.d, exact=problem.cost <= MAX_MISTAKE_COST)
        self.blanks = blanks(self.d)
        # Each mistake is a derivation of its own: past MAX_MISTAKE_COST they would take minutes, so a larger
        # problem's answers are judged correct, following or wrong, without naming the mistake.
        self.mistakes = catalogue(problem) if problem.cost <= MAX_MISTAKE_COST else []
        self.note = ("" if self.mistakes or problem.cost <= MAX_MISTAKE_COST else
                     f"mistakes are named for problems of cost up to {MAX_MISTAKE_COST}; this one's is {problem.cost}")
        # Computed on demand, for the blanks an answers file asks about (a large problem's every blank, every
        # mistake's whole derivation, would take minutes): name -> (Derivation, Values, blanks), and per key.
        rules = {m.name: m.rules for m in self.mistakes if m.rules}
        self.variants = _OnDemand(lambda name: self._variant(name, rules[name]), lambda: rules)
        self.true = _OnDemand(lambda key: at_values(self.values, self.blanks[key]), lambda: self.blanks)
        self.full = _OnDemand(self._full, lambda: self.blanks)
        self.tolerance = _OnDemand(self._tolerance, lambda: self.blanks)
        self.key_of = {e: k for k, e in self.blanks.items() if isinstance(e, Symbol)}
        self.true_env = self._env({})  # every symbol's true value as the judging carries it
        self.inputs = {key: sorted((s for s in definition(self.d, e).free_symbols if s in self.d.definitions), key=str)
                       for key, e in self.blanks.items()}
        closure: dict = {}
        self.ancestors = {key: sorted(self.key_of[s] for s in self._closure(definition(self.d, e), closure)
                                      if s in self.key_of and s != e) for key, e in self.blanks.items()}
        # The closing step w − η·∂ℒ/∂w takes the student's own gradient (the page prints it so), a sum, not a
        # symbol: its grad.* blank is an input of the descent.* blank, as a symbol's blank is of later steps.
        self.gradient_of = {key: "grad." + key[8:] for key in self.blanks
                            if key.startswith("descent.") and "grad." + key[8:] in self.blanks}
        for key, g in self.gradient_of.items():
            self.ancestors[key] = sorted(set(self.ancestors[key]) | {g} | set(self.ancestors[g]))
        self._carried_cache: dict = {}

    def _closure(self, expr: Expr, memo: dict) -> set:
        """Every defined symbol ``expr`` depends on, through the definitions."""
        out = set()
        for s in expr.free_symbols:
            if s not in self.d.definitions:
                continue
            if s not in memo:
                memo[s] = {s} | self._closure(self.d.definitions[s], memo)
            out |= memo[s]
        return out

    def carried(self, m: Mistake, key: str):
        """Mistake ``m``'s value of blank ``key`` carried through the whole derivation (the true value where
        the mistake does not change it)."""
        if (m.name, key) not in self._carried_cache:
            v = self.true[key]
            if m.rules:
                _, vals, bl = self.variants[m.name]
                if key in bl:
                    v = at_values(vals, bl[key])
            self._carried_cache[(m.name, key)] = v
        return self._carried_cache[(m.name, key)]

    def _variant(self, name: str, rules) -> tuple:
        dv = Derivation(self.problem, rules)
        return dv, Values(dv, exact=False), blanks(dv)  # compared numerically: decimals suffice

    # -- what each mistake gives, with the problem's own numbers -------------------------------------

    def _full(self, key: str) -> list:
        """``[(mistake, value)]``: each mistake's value of the blank, carried through the whole derivation,
        where it differs from the true value."""
        out, true = [], self.true[key]
        for m in self.mistakes:
            for v in self._candidates(m, key, None):
                t = numeric(v)
                if t is not None and not _equal(t, numeric(true)):
                    out.append((m, v))
        return out

    def _candidates(self, m: Mistake, key: str, env: dict | None) -> list:
        """Mistake ``m``'s values of blank ``key``: carried through from the leaves (``env`` None), or its
        local step applied to the student's values ``env`` (only where the mistake changes that step)."""
        d, expr = self.d, self.blanks[key]
        if m.rules:
            dv, vals, bl = self.variants[m.name]
            if key not in bl:
                return []
            if env is None:
                return [at_values(vals, bl[key])]
            local = definition(dv, bl[key])
            if local == definition(d, expr):
                return []
            return [local.xreplace(env)]
        at = (lambda e: at_values(self.values, e)) if env is None else (lambda e: _settle(e.xreplace(env)))
        if m.name == ONE_PATH:
            if key.startswith("grad."):  # one path of a few: a parameter of thousands has no such mistake
                return [at(path.product) for path in d.paths(key[5:])] if 1 < d.count_paths(key[5:]) <= MAX_PATHS else []
            local = definition(d, expr)
            if key.startswith("backward.") and expr in d.display and isinstance(local, Add) and len(local.args) > 1:
                return [at(t) for t in local.args]  # a chain-rule sum (not ∇Y, the loss's own derivative)
            return []
        if m.name == TRANSPOSED and key.startswith("grad.") and env is None:
            p = d.param(key[5:])
            if p.kind == "weight" and p.i != p.j:
                W = d.symbols.W[p.layer]
                if p.j < W.rows and p.i < W.cols:
                    return [at_values(self.values, d.gradient(type(p)(p.layer, "weight", p.j, p.i)))]
        return []

    def _tolerance(self, key: str):
        """``None`` (exact) for a rational value; else :data:`REL_TOL`, narrowed below a third of the
        relative gap to the nearest mistake on this blank, but never below :data:`MIN_TOL`: the answer key's own
        4 significant digits always pass (a mistake closer than that cannot be told from a rounded answer)."""
        t = numeric(self.true[key])
        if t is None or t.is_Rational:
            return None
        tol = REL_TOL
        for _, v in self.full[key]:
            gap = abs(numeric(v) - t) / abs(t) if t != 0 else None
            if gap is not None and gap > 0 and gap / 3 < tol:
                tol = Rational(str(Float(gap / 3, 3)))
        return max(tol, MIN_TOL)

    # -- judging ------------------------------------------------------------------------------------

    def check(self, answers: dict) -> dict:
        """``{key: Verdict}`` for ``{key: value}`` (values as :func:`parse_number` takes them). Raises
        :class:`ProblemError` naming the first unknown key or unparseable value (see :meth:`parse`)."""
        given = self.parse(answers)
        mine = {self.blanks[k]: v for k, v in given.items() if isinstance(self.blanks[k], Symbol)}
        env = self._env(mine)
        out = {key: self._judge(key, a, mine, env, given) for key, a in given.items()}
        for key, value in answers.items():
            v = out[self.canonical(key)]
            v.text = str(value).strip()[:40]
            if v.verdict == "wrong" and not v.mistakes and not v.note and rounded_exact(v.text, v.answer, v.correct):
                v.note = ROUNDED_NOTE
        return out

    def parse(self, answers: dict) -> dict:
        """The answers as exact numbers; the unknown keys and unparseable values named in one error line
        (the first ``MAX_NAMED`` of each kind, the rest counted)."""
        out, unknown, problems = {}, [], []
        for key, value in answers.items():
            k = self.canonical(key)
            if k in out:
                problems.append(f"{k} given twice (as {quote(key)})")
                continue
            if k not in self.blanks:
                unknown.append(quote(key))
                continue
            try:
                out[k] = parse_number(value, k)
            except ProblemError as err:
                problems.append(f"{k}: {err.expected}")
        if unknown:
            problems.insert(0, f"unknown key{'s' if len(unknown) > 1 else ''} {_first(unknown)} (expected keys like "
                               "forward.H[1], backward.dL_dY[1], grad.w_b11)")
        if problems:
            raise ProblemError("answers", _first(problems, "; "))
        return out

    def canonical(self, key) -> str:
        """The answer key as :func:`blanks` spells it: ``grad.W_b[2,1]`` and ``grad.w^b_21`` are ``grad.w_b21``.

        >>> from derivations.engine.problem import load_problem
        >>> Checker(load_problem()).canonical(" grad.W_b[2,1] ")
        'grad.w_b21'
        """
        k = key.strip() if isinstance(key, str) else key
        if isinstance(k, str) and k.startswith("grad.") and k not in self.blanks and len(k) <= 60:
            try:
                return "grad." + self.d.param(k[5:]).key(self.d.symbols.wide)
            except ProblemError:
                return k
        return k

    def _env(self, mine: dict) -> dict:
        """Every symbol's value with the student's answers in place of the true ones, carried forward
        (a blank left empty takes its formula's value at the student's earlier answers)."""
        env = {}
        for sym, v in self.values.of.items():
            if sym not in self.d.definitions:
                env[sym] = v  # the leaves
        for sym, d in self.d.definitions.items():
            env[sym] = mine[sym] if sym in mine else _settle(d.xreplace(env))
        return env

    def _upstream(self, expr: Expr, mine: dict, seen=None) -> list:
        """The student's answers that ``expr`` depends on (through blanks left empty) and that are wrong."""
        seen = set() if seen is None else seen
        out = []
        for s in sorted(expr.free_symbols, key=str):
            if s in seen:
                continue
            seen.add(s)
            if s in mine:
                key = self.key_of[s]
                if not same(mine[s], self.true[key], self.tolerance[key] or REL_TOL):  # judged wrong
                    out.append(s)
            elif s in self.d.definitions:
                out += self._upstream(self.d.definitions[s], mine, seen)
        return out

    def _judge(self, key: str, a: Rational, mine: dict, env: dict, given: dict) -> Verdict:
        tol = self.tolerance[key]
        t = tol if tol is not None else REL_TOL
        v = Verdict(key, a, "wrong", self.true[key], tolerance=tol)
        if same(a, self.true[key], t):
            v.verdict = "correct"
            return v
        local = definition(self.d, self.blanks[key])
        grad = self.gradient_of.get(key)
        if grad in given:  # the descent step from the student's own gradient
            wrong_inputs = [] if same(given[grad], self.true[grad], self.tolerance[grad] or REL_TOL) else [grad]
            step = self._descent(key, given[grad], self.problem.step_lr)
        else:
            wrong_inputs = self._upstream(local, mine)
            step = self._step(key, local, env)
        if step is not None and near(a, *step):
            if not wrong_inputs:  # right from earlier answers that are right to their rounding
                v.verdict, v.note = "correct", "right from your rounded earlier answers"
                return v
            names = [self.key_of.get(s, str(s)) for s in wrong_inputs]
            zeros = [k for s, k in zip(wrong_inputs, names) if (s in mine and mine[s] == 0) or given.get(s) == 0]
            trivial = step[0] == 0 or grad is not None  # a step that is 0, or w itself (w − η·0)
            if not (zeros and trivial and numeric(self.true[key]) != 0):
                v.verdict, v.follows_from = "follows", names
                return v
            v.no_credit_from = zeros  # a wrong 0 that makes this step 0: no credit for copying it on
            v.note = (f"this is what your {', '.join(zeros)} = 0 gives, but that 0 is wrong and makes this step "
                      "trivial: no follow-through credit")
        self._diagnose(v, key, a, t, wrong_inputs, env, given)
        return v

    def _step(self, key: str, local: Expr, env: dict):
        """``(value, slack)``: the blank's local formula at the student's values, and how far an answer may
        be from it and still follow (:func:`near`): ``None`` where every input is the true one (then the step's
        value is the true value, judged already). The slack is :data:`REL_TOL` of the value (the answer's own
        rounding) plus, for each input that differs from its true value, what changing that input by a
        relative :data:`REL_TOL` changes (the input's rounding, carried through the step to first order)."""
        moved = [s for s in self.inputs[key] if env[s] != self.true_env[s]]
        if not moved:
            return None
        target = numeric(_settle(local.xreplace(env)))
        if target is None:
            return None
        slack = REL_TOL * abs(target)
        for s in moved:
            bumped = numeric(_settle(local.xreplace({**env, s: env[s] * (1 + REL_TOL)})))
            if bumped is not None:
                slack += abs(bumped - target)
        return target, slack

    def weight(self, key: str):
        """The parameter's value before the step of blank ``key`` (``descent.w_b11``): the true step plus η times
        the true gradient."""
        return numeric(self.true[key]) + self.problem.step_lr * numeric(self.true[self.gradient_of[key]])

    def _descent(self, key: str, g, lr):
        """``(value, slack)`` of the step ``w − η·g`` at the student's gradient ``g``: :data:`REL_TOL` of the
        value plus what rounding ``g`` by a relative :data:`REL_TOL` changes (as :meth:`_step`)."""
        target = self.weight(key) - lr * g
        return target, REL_TOL * abs(target) + abs(lr * g) * REL_TOL

    def _diagnose(self, v: Verdict, key: str, a, t, wrong_inputs: list, env: dict, given: dict) -> None:
        """The mistakes that give ``a`` here and that the student's own earlier answers do not rule out, the
        closest first; several only when they give the same number (they cannot be told apart)."""
        found = []  # (distance, mistake, value)
        exact = self.tolerance[key] is None

        def near(x, c) -> bool:  # as the page does: relative t where the value is not exact, whatever c is
            c = numeric(c)
            if c is None:
                return False
            if exact:
                return x == c if c.is_Rational else bool(abs(x - c) <= Float("1e-9") * abs(c))
            return bool(abs(x - c) <= t * abs(c)) if c != 0 else bool(abs(x) <= Float("1e-40"))

        grad = self.gradient_of.get(key)
        for m in self.mistakes:
            full = [c for mm, c in self.full[key] if mm is m]
            if grad in given:  # the step's own mistake on the student's gradient (its w and η given)
                rule = m.rules.get("descent") if m.rules else None
                here = [rule(self.weight(key), self.problem.step_lr, given[grad])] if rule else []
            else:
                here = self._candidates(m, key, env) if wrong_inputs else []
            hits = [numeric(c) for c in here if near(a, c)]
            carried = [numeric(c) for c in full if near(a, c)]
            if carried and not hits and self._ruled_out(m, key, given):
                v.ruled_out.append(m.name)
                continue
            hits += carried
            if hits:
                c = min(hits, key=lambda c: abs(a - c))
                found.append((abs(a - c), m, c))
        if not found:
            return
        found.sort(key=lambda f: f[0])  # stable: the catalogue's order among equals
        best = found[0][2]
        v.mistakes = [m for _, m, c in found if near(c, best)]  # others that give the same number here
        if len(v.mistakes) > 1:
            v.note = "these mistakes give the same number here: your answers cannot tell them apart"

    def _ruled_out(self, m: Mistake, key: str, given: dict) -> bool:
        """Whether the student's own answers before ``key`` contradict mistake ``m`` carried through: an
        answered earlier blank that ``m`` changes and that is not what ``m`` gives there (a right ∇Y rules out
        the MSE factor; a wrong answer ``m`` does not change is another slip, and rules out nothing)."""
        for k in self.ancestors[key]:
            if k in given and not _equal(numeric(self.carried(m, k)), numeric(self.true[k])):
                if not near(given[k], numeric(self.carried(m, k)), None, REL_TOL):
                    return True
        return False


def _settle(v):
    """A value carried forward: kept exact while rational, else a 50-digit decimal (so that a ReLU of it
    settles)."""
    if v.is_Rational:
        return v
    n = numeric(v)
    return n if n is not None else v


def _equal(a, b) -> bool:
    if a is None or b is None:
        return False
    if a.is_Rational and b.is_Rational:
        return a == b
    return bool(abs(a - b) <= Float("1e-40") * max(abs(a), abs(b), 1))


def _short_decimal(v) -> str:
    n = numeric(v)
    if n is None:
        return str(v)
    from mpmath import mpf, nstr

    return nstr(mpf(str(Float(n, 30))), 12)
