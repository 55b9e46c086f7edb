r"""Check a student's answers step by step: each blank correct, following from the student's own earlier
answers, or wrong, with the slip (:mod:`derivations.teaching.mistakes`) it matches named. How each blank is
judged is :mod:`derivations.teaching.marking`'s, in the page's order.

    python -m derivations.check ANSWERS.toml [--config PROBLEM.toml] [--format text|json] [--reveal]

The answers file has one table, keyed as the Sphinx roles: ``[answers]`` with ``"forward.H[1]" = 0.15``,
``"backward.dL_dY[1]" = "-1/2"``, ``"grad.w_b11" = "-3/80"`` (or ``"-0,0375"``: a decimal comma is read).
Exit 0 when every answer is correct, 1 when some are not, 2 for bad input.

>>> from derivations.engine.problem import load_problem
>>> c = Checker(load_problem())
>>> v = c.check({"forward.H[1]": "0.25", "forward.L[1]": "1/4", "backward.dL_dY[1]": "-0.25"})
>>> v["backward.dL_dY[1]"].verdict, [m.name for m in v["backward.dL_dY[1]"].mistakes]
('wrong', ['loss-factor-1/N'])
>>> v["forward.L[1]"].verdict, v["forward.L[1]"].follows_from
('follows', ['forward.H[1]'])

*One precision rule*: an answer is correct when it is the exact value (a decimal or a fraction), or a decimal
of at least 4 significant digits that is the value correctly rounded or within the blank's tolerance
(:data:`REL_TOL` relative, narrowed near a slip's value but never below :data:`MIN_TOL`). A decimal of fewer
digits is correct only when exact; near the value it is *wrong (too few digits)*, unless it is exactly what
follows from the student's earlier answers or exactly a slip's value; a later step may still follow from it.

>>> v = c.check({"forward.Y[1]": "0.5", "grad.w_b11": "-0.038", "grad.w_b21": "0,0375"})
>>> [(k, x.verdict, x.short) for k, x in v.items()]
[('forward.Y[1]', 'correct', False), ('grad.w_b11', 'wrong', True), ('grad.w_b21', 'correct', False)]

*Follows*: an answer that is not correct is judged from its blank's local formula at the student's own
answers *before it on the page* (those left empty, or later on the page, take their formula's value), within
a slack of :data:`REL_TOL` of that value plus what rounding each differing input by :data:`REL_TOL` changes.
A wrong earlier answer of 0 that makes the step trivial earns no follow-through (``no_credit_from``). A wrong
answer is matched against every slip's formulas from the student's own earlier answers; the closest is
named, several only when they give the same number (``note``); those that would give it from the true values
but that the sheet contradicts are listed in ``ruled_out``.

>>> v = c.check({"backward.dL_dY[1]": "-1/2", "backward.dL_dY[2]": "1/2", "backward.dL_dO[1]": "-1/8"})
>>> [m.name for m in v["backward.dL_dO[1]"].mistakes], v["backward.dL_dO[1]"].ruled_out
(['softmax-cross-term-dropped', 'one-path-only'], ['loss-factor-1/N'])

Answers are read by pattern (:func:`derivations.engine.reading.parse_answer`), never evaluated.

*Formula answers*: ``"closed.w_b11" = "(Y_1 - y_1)·L_1"`` is a gradient in closed form, judged by
:mod:`derivations.teaching.formula` (at most :data:`MAX_FORMULAS` a sheet, on a problem of one sample and of cost
up to :data:`MAX_MISTAKE_COST`), after the numbers.

>>> v = c.check({"closed.w_b11": "(Y_1 - y_1)·L_1", "closed.w^b_21": "L_1 Y_2 Y_1 (Y_2 - y_2 - Y_1 + y_1)"})
>>> [(k, x.verdict, [m.name for m in x.mistakes]) for k, x in v.items()]
[('closed.w_b11', 'wrong', ['softmax-derivative-identity', 'softmax-skipped-backward']), ('closed.w_b21', 'correct', [])]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Expr, Float, Rational

from ..engine.derivation import derive
from ..engine.graph import Graph
from ..engine.errors import ProblemError
from ..engine.reading import parse_answer, quote
from ..engine.values import Values
from .handout import layout
from .circuit import GraphMarking
from ..notation.printing import text as text_of
from .closed import closed_params
from .formula import Judge
from .marking import MIN_TOL, REL_TOL, Marking, Sheet, blanks
from .mistakes import catalogue

MAX_NAMED = 3  # problems of an answers file named in its one error line
MAX_MISTAKE_COST = 600  # problem.cost up to which wrong answers are matched against the slips
MAX_FORMULAS = 6  # formula answers (closed.w_b11) on one sheet: each parameter's slips are derived once
PROG = "python -m derivations.check"

__all__ = ["Checker", "Verdict", "blanks", "REL_TOL", "MIN_TOL", "numeric", "page_order"]


def _first(items: list, sep: str = ", ") -> str:
    """The first ``MAX_NAMED`` items, and how many more: a message stays one short line."""
    more = f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
    return sep.join(items[:MAX_NAMED]) + more


def page_order(values) -> list:
    """The keys of the students' page in the order it first shows them (none where the page cannot hold the
    problem: the checker then takes the blanks in the derivation's order)."""
    try:
        # A large problem's checker keeps no table of gradients (Values(exact=False)); the page needs one.
        page = layout(values if values.gradients else Values(values.derivation))
    except (ProblemError, ArithmeticError, TypeError, ValueError):  # no page: the order of the derivation
        return []
    return list(dict.fromkeys(s.key for s in page.slots(given=False) if s.key))


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


# -- the verdicts ----------------------------------------------------------------------------------------


NOT_A_NUMBER, UNANSWERED = "not a number", "not answered"  # the verdicts of what was typed and read as nothing


@dataclass
class Verdict:
    key: str
    answer: Rational | None  # None: nothing read (not a number, or empty)
    verdict: str  # "correct" | "follows" | "wrong" | NOT_A_NUMBER | UNANSWERED
    correct: Expr  # the true value (shown only with --reveal)
    mistakes: list = field(default_factory=list)  # the Mistakes it matches, when wrong
    follows_from: list = field(default_factory=list)  # the student's keys it follows from
    tolerance: Rational | None = None  # the blank's relative tolerance (None where the value is rational)
    text: str = ""  # the answer as the student wrote it
    ruled_out: list = field(default_factory=list)  # slips that would give this value from the true values but
    #                                                that the student's own earlier answers contradict (names)
    no_credit_from: list = field(default_factory=list)  # wrong earlier answers of 0 that would make this step
    #                                                     trivial: no follow-through credit from them
    note: str = ""  # why, in a sentence, when the verdict needs one (tied mistakes, no credit, too few digits)
    short: bool = False  # the value, or what follows, at fewer significant digits than asked

    @property
    def tied(self) -> bool:
        """Several mistakes named: they give the same number here and the sheet cannot tell them apart."""
        return len(self.mistakes) > 1

    def as_dict(self, reveal: bool) -> dict:
        answer = self.text if self.answer is None else self.text or str(self.answer)
        out = {"verdict": self.verdict, "answer": answer, "mistakes": [m.name for m in self.mistakes]}
        if self.short:
            out["too_few_digits"] = True
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


@dataclass
class FormulaVerdict(Verdict):
    """A formula answer's verdict (``closed.w_b11``): ``read``, the answer as it was read; ``how`` a correct one
    was established (proved, or checked numerically); ``kind``: a number, not a formula; not a formula; right
    value, not the general form; ``line``, the verdict in one line; ``correct`` is the derived form."""

    read: str = ""
    how: str = ""
    kind: str = ""
    line: str = ""

    def as_dict(self, reveal: bool) -> dict:
        out = {"verdict": self.verdict, "answer": self.text, "read": self.read,
               "mistakes": [m.name for m in self.mistakes], "line": self.line}
        if self.mistakes:
            out["explanations"] = [m.as_dict() for m in self.mistakes]
        for name in ("how", "kind", "note"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if reveal:
            out["correct"] = text_of(self.correct)
        return out


class Checker:
    """A problem's :class:`~derivations.teaching.marking.Marking` (its slips up to :data:`MAX_MISTAKE_COST`),
    made once; :meth:`check` judges a set of answers against it."""

    def __init__(self, problem, values: Values | None = None, order: list | None = None):
        self.problem = problem
        if getattr(problem, "kind", "") == "graph":  # a computational graph: its own marking, the same judging
            self.d, self.values, self.note = Graph(problem), None, ""
            self.marking = GraphMarking(self.d, order=order)
            self.mistakes = self.marking.slips
        else:
            self.d = values.derivation if values is not None else derive(problem)  # handed down, or derived once
            # A large problem's own values as decimals where not rational (exact forms would take as long as
            # printing it); a small one's exact, as the pages made from them (grade's) need them.
            self.values = values if values is not None else Values(self.d, exact=problem.cost <= MAX_MISTAKE_COST)
            # Each slip is a derivation of its own: past MAX_MISTAKE_COST they would take minutes, so a larger
            # problem's answers are judged correct, following or wrong, without naming the slip.
            self.mistakes = catalogue(problem) if problem.cost <= MAX_MISTAKE_COST else []
            self.note = ("" if self.mistakes or problem.cost <= MAX_MISTAKE_COST else
                         f"mistakes are named for problems of cost up to {MAX_MISTAKE_COST}; this one's is {problem.cost}")
            order = page_order(self.values) if order is None else order
            self.marking = Marking(problem, self.values, order, self.mistakes)
        self.blanks = self.marking.exprs
        self.true = self.marking.true
        self._judges: dict = {}  # parameter key -> its formula Judge (made at the first formula answer)
        # the page's formula blanks ([worksheet] closed), checked against the network
        self.closed = [] if isinstance(self.d, Graph) else [f"closed.{q.key(self.d.symbols.wide)}"
                                                            for q in closed_params(problem)]
        self.tolerance = _PerBlank(self.marking, self.marking.tolerance)  # relative, by blank
        self.full = _PerBlank(self.marking, self.marking.carried)  # [(mistake, value)] from the true values

    def check(self, answers: dict) -> dict:
        """``{key: Verdict}`` for ``{key: value}`` (values as :func:`parse_answer` takes them), in the page's
        order, then the formula answers (``closed.…``, :meth:`formulas`). Raises :class:`ProblemError` naming the
        first unknown keys or unreadable values (:meth:`parse`)."""
        closed = {k: v for k, v in answers.items() if isinstance(k, str) and k.strip().startswith("closed.")}
        formulas = self.formulas(closed) if closed else {}
        answers = {k: v for k, v in answers.items() if k not in closed}
        if not answers:
            return formulas
        out = self._numbers(answers)
        out.update(formulas)
        return out

    def formulas(self, answers: dict) -> dict:
        """``{closed.KEY: FormulaVerdict}`` for formula answers ``{"closed.w_b11": text}`` (one line for a key
        that names no parameter, or more than :data:`MAX_FORMULAS`)."""
        if isinstance(self.d, Graph):
            raise ProblemError("answers", f"unknown key {quote(next(iter(answers)))} (a graph's answers are numbers)")
        if len(answers) > MAX_FORMULAS:
            raise ProblemError("answers", f"expected at most {MAX_FORMULAS} formula answers (closed.…), got {len(answers)}")
        if self.problem.cost > MAX_MISTAKE_COST:
            raise ProblemError("answers", f"formula answers are judged on problems of cost up to {MAX_MISTAKE_COST}; "
                                          f"this one's is {self.problem.cost}")
        out = {}
        for key, value in answers.items():
            try:
                param = self.d.param(key.strip()[len("closed."):])
            except ProblemError as err:
                raise ProblemError("answers", f"{quote(key)}: {err.expected}") from None
            name = param.key(self.d.symbols.wide)
            k = f"closed.{name}"
            if k in out:
                raise ProblemError("answers", f"{k} given twice (as {quote(key)})")
            if name not in self._judges:
                self._judges[name] = Judge(self.problem, name)
            text = value if isinstance(value, str) else str(value)
            mark = self._judges[name].judge(text)
            out[k] = FormulaVerdict(k, None, mark.verdict, self._judges[name].form, mark.mistakes, text=text[:80],
                                    note=mark.note, read=mark.read, how=mark.how, kind=mark.kind, line=mark.line())
        return out

    def _numbers(self, answers: dict) -> dict:
        unread: dict = {}
        given = self.parse(answers, unread)
        texts = {self.canonical(k): str(v).strip() for k, v in answers.items()}
        sheet = Sheet(self.marking, {k: (a, texts[k]) for k, a in given.items()})
        out = {}
        for key, mark in sheet.judge().items():
            true = self.true[key]
            out[key] = Verdict(key, given[key], mark.verdict, true, mark.mistakes, mark.follows_from,
                               None if true is None or true.is_Rational else self.marking.tolerance(key),
                               texts[key][:40], mark.ruled_out, mark.no_credit_from, mark.note, mark.short)
        for key, why in unread.items():  # judged as nothing given: no credit, nothing follows from it
            out[key] = Verdict(key, None, UNANSWERED if not why else NOT_A_NUMBER, self.true[key], text=texts[key][:40],
                               note=why)
        rank = self.marking.rank  # the page's order, as the sheet judges it
        return {k: out[k] for k in sorted(out, key=lambda k: rank.get(k, len(rank)))}

    def parse(self, answers: dict, unread: dict | None = None) -> dict:
        """The answers as exact numbers; the unknown keys and keys given twice named in one error line (the
        first ``MAX_NAMED`` of each kind, the rest counted). An answer that is not a number is, as on the page
        and in ``grade``, that blank's verdict, not the sheet's: ``unread`` gets ``{key: why}`` (``""`` for an
        empty answer); without it, it is an error too."""
        out, unknown, problems, seen = {}, [], [], set()
        for key, value in answers.items():
            k = self.canonical(key)
            if k in seen:
                problems.append(f"{k} given twice (as {quote(key)})")
                continue
            seen.add(k)
            if k not in self.blanks:
                unknown.append(quote(key))
                continue
            try:
                out[k] = parse_answer(value, k)
            except ProblemError as err:
                if unread is None:
                    problems.append(f"{k}: {err.expected}")
                else:
                    unread[k] = "" if isinstance(value, str) and not value.strip() else err.expected
        if unknown:
            like = ", ".join(self.marking.order[:3]) if isinstance(self.d, Graph) else "forward.H[1], backward.dL_dY[1], grad.w_b11"
            if getattr(self.d.problem, "shared_bias", False):
                like += "; a shared bias's grad.b_a"
            problems.insert(0, f"unknown key{'s' if len(unknown) > 1 else ''} {_first(unknown)} (expected keys like {like})")
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
        if isinstance(self.d, Graph):
            return k
        for group in ("grad.", "step.", "descent."):
            if isinstance(k, str) and k.startswith(group) and k not in self.blanks and len(k) <= 60:
                try:
                    return group + self.d.param(k[len(group):]).key(self.d.symbols.wide)
                except ProblemError:
                    return k
        return k


class _PerBlank:
    """``checker.tolerance[key]``, ``checker.full[key]``: one of the marking's per-blank methods, read as a
    mapping over the blanks (each computed when first asked for)."""

    def __init__(self, marking: Marking, method):
        self.marking, self.method = marking, method

    def __getitem__(self, key: str):
        return self.method(key)

    def get(self, key: str, default=None):
        return self.method(key) if key in self.marking.exprs else default

    def __iter__(self):
        return iter(self.marking.order)

    def keys(self):
        return list(self.marking.order)

    def items(self):
        return [(k, self.method(k)) for k in self.marking.order]

    def values(self):
        return [self.method(k) for k in self.marking.order]


def _short_decimal(v) -> str:
    n = numeric(v)
    if n is None:
        return str(v)
    from mpmath import mpf, nstr

    return nstr(mpf(str(Float(n, 30))), 12)
