r"""Grade a class: every student's collected answers checked against their own variant, step by step.

    python -m derivations.grade RESPONSES.csv --variants DIR [--out grades.csv] [--report grades-report.html]
                                [--class-page grades-class.html] [--follows CREDIT] [--weight KEY=W ...] [--jobs N]

``DIR`` is what ``python -m derivations.variants`` wrote: ``DIR/keys.csv`` (the roster: ids, the roster's
other columns, every graded key) and ``DIR/<id>/problem.toml``. ``RESPONSES.csv`` has one row per student:
an ``id`` column and one column per blank, named by its key (``forward.H[1]``, ``grad.w_b21``: the columns
of ``keys.csv``) or by the page's label (``H_1``, ``∇Y_1``, ``∂Y_1/∂O_2``, ``∂ℒ/∂w^b_21``, ``ℒ``, or in ASCII
``dL/dY_1``, ``dY_1/dO_2``, ``dL/dw^b_21``, ``loss``). Other columns (a name, a time stamp) are ignored, with a
note.

Each student's answers go to :class:`derivations.teaching.check.Checker` for their own ``problem.toml``, all at once,
so a step done right from the student's own wrong earlier answer *follows*. Each blank gets one verdict:
``correct``, ``follows``, ``wrong`` (the catalogued mistakes it matches are named), ``not answered`` (an
empty cell) or ``not a number`` (a formula such as ``=1+1``, a word: read by pattern, never evaluated).
A formula blank of the page (``[worksheet] closed``: a column ``closed.w_b11`` or ``∂ℒ/∂w^b_11 in closed form``)
is judged as a formula (:mod:`derivations.teaching.formula`): ``correct`` or ``wrong`` with its slip, or *a
number, not a formula*, *not a formula*, *right value, not the general form* in the mistakes column.

**Marks.** Each graded blank has a weight (default 1; ``--weight grad.w_a11=2``, ``--weight 'grad.*=2'``,
``--weight 'forward.*=0'`` to leave a group out); a correct answer earns its weight, a *follows* answer
``--follows`` times it (default 1, full credit; ``--follows 1/2`` for half), anything else 0. The graded
blanks are every key of ``keys.csv`` (every blank of the page, ``problem.*`` and ``local.*`` included) and
every other blank the responses have a column for, less those of weight 0.

**Output.** ``grades.csv`` (``--out``): ``id``, the roster's other columns, ``score``, ``maximum``,
``percent``, ``mistakes`` (``name (key, key); ...``; a wrong answer that is the right value rounded to too
few digits says so: :data:`ROUNDED`) and one verdict column per graded blank, ready for a gradebook import
that maps the ``id`` column. Every text cell is made formula-safe
(:func:`derivations.outputs.files.spreadsheet_cell`). Two pages (:mod:`derivations.cli.report`), each by default
next to ``--out`` and named for it: ``grades-report.html`` (``--report``), the instructor's, a row per student;
``grades-class.html`` (``--class-page``), the class's, the plots and the steps with no name or id, to show the
class. The three are written to temporary files, then renamed: all or none
(:func:`derivations.outputs.files.write_together`). None may be an input of the run or a file of a variants set
(:mod:`derivations.outputs.targets`); the responses file is only read.

**Bad input.** Each of these is one line on stderr and in the report, and the rest of the class is graded: an
id not on the roster, an empty id, a row with more or fewer fields than the header, an id on two rows with
different answers (neither is graded; two identical rows count once), a student whose ``problem.toml`` cannot
be read or is not the variant ``keys.csv`` names (changed after the sheets went out: not graded), a graded
blank with no column (counted as not answered), a cell that is not a number. A file that is not UTF-8 is read
as Windows-1252 (or UTF-16 by its byte-order mark), a ``;`` or tab separated file by its separator (with
``;``, a decimal comma ``0,15`` reads as ``0.15``), an id that lost its leading zeros (``1`` for ``001``) as
the roster's, each with a note. Exit status: 0 when every student of the roster and every graded blank's
column was graded, 1 when some could not be (a row, a column, a student with no row), 2 for unusable input (no
responses file, no ``id`` column, no answer column, no row, an unreadable ``keys.csv``, bad options, an output
that may not or cannot be written): one line, nothing changed.

**Limits** (refused before any work, :mod:`derivations.cli.responses`): a responses file of at most 4 MiB, at
most 400 rows and 500 columns. Each student costs one checker for their
variant (their derivation and the mistakes' derivations): 0.1 to 0.4 s of one core, measured on a shared
2-core machine (``benchmarks/grade.py``), and about 0.1 s more per formula blank (its slips' values, computed
once; ``benchmarks/formula.py``); from :data:`PARALLEL_FROM` students on, every core works
(``--jobs N``), so the largest class takes about a minute (grade a larger class in several files).

>>> marks = Marks(follows=Rational(1, 2))
>>> marks.credit("grad.w_b21", "correct"), marks.credit("grad.w_b21", "follows"), marks.credit("grad.w_b21", "wrong")
(1, 1/2, 0)
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import io
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sympy import Rational

from ..engine import reading
from ..engine.errors import ProblemError
from ..engine.graph import load_any
from ..outputs import targets
from ..outputs.files import spreadsheet_cell, write_together
from ..outputs.selfcheck import _label
from ..teaching.check import Checker
from ..teaching.closed import TYPING
from ..teaching.formula import FORMULA_SLIPS, NOT_GENERAL, NUMBER, UNREAD
from ..teaching.variant_file import variant_id
from . import cli_io, report
from .report import number
from .responses import Row, read_responses, read_roster
from .tables import Roster

PROG = "python -m derivations.grade"
MAX_WEIGHT = 1000
PARALLEL_FROM = 16  # students: below this, starting worker processes costs more than it saves


# -- marks -------------------------------------------------------------------------------------------------


@dataclass
class Marks:
    """What a verdict earns: a blank's weight (``weights``, default 1) times 1 when correct, ``follows`` when it
    follows, else 0."""

    follows: Rational = Rational(1)
    weights: dict = field(default_factory=dict)  # key -> Rational

    def weight(self, key: str) -> Rational:
        return self.weights.get(key, Rational(1))

    def credit(self, key: str, verdict: str) -> Rational:
        share = {"correct": Rational(1), "follows": self.follows}.get(verdict, Rational(0))
        return self.weight(key) * share


def parse_weights(specs: list, keys: list, resolve) -> dict:
    """``{key: weight}`` from ``KEY=W`` specs (a key, a label or a glob over keys such as ``grad.*``), later
    specs overriding earlier ones. ``resolve`` maps a label to its key (or ``None``)."""
    out = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ProblemError("--weight", f"expected KEY=WEIGHT (grad.w_a11=2, 'grad.*=0'), got {reading.quote(spec)}")
        w = reading.parse_number(text.strip(), f"--weight {name}")
        if not 0 <= w <= MAX_WEIGHT:
            raise ProblemError(f"--weight {name}", f"expected a weight from 0 to {MAX_WEIGHT}, got {reading.quote(text.strip())}")
        key = resolve(name)
        matched = [key] if key is not None else [k for k in keys if fnmatch.fnmatchcase(k, name)]
        if not matched:
            raise ProblemError("--weight", f"{reading.quote(name)} names no blank (expected a key such as grad.w_a11, a "
                                           f"label such as H_1, or a pattern such as 'grad.*')")
        for k in matched:
            out[k] = w
    return out


# -- the blanks' names -------------------------------------------------------------------------------------------


def labels(checker) -> dict:
    """``{key: label}``: each blank's name as the page writes it (``H_1``, ``∇Y_1``, ``∂ℒ/∂w^b_21``).

    >>> from derivations.teaching.check import Checker
    >>> from derivations.engine.problem import load_problem
    >>> names = labels(Checker(load_problem()))
    >>> names["forward.H[1]"], names["backward.dL_dY[2]"], names["grad.w_b21"], names["forward.loss"]
    ('H_1', '∇Y_2', '∂ℒ/∂w^b_21', 'ℒ')
    """
    out = {key: _label(key, expr, checker.d) for key, expr in checker.blanks.items()}
    for key in checker.closed:  # a formula blank: ∂ℒ/∂w^b_11 in closed form
        out[key] = f"∂ℒ/∂{checker.d.param(key[7:]).name(checker.d.symbols.wide)} in closed form"
    return out


def ascii_label(label: str) -> str:
    """A label in ASCII: ``∇Y_1`` is ``dL/dY_1``, ``∂ℒ/∂w^b_21`` is ``dL/dw^b_21``, ``ℒ`` is ``loss``.

    >>> ascii_label("∇Y_1"), ascii_label("∂ℒ/∂w^b_21"), ascii_label("∂Y_1/∂O_2"), ascii_label("ℒ")
    ('dL/dY_1', 'dL/dw^b_21', 'dY_1/dO_2', 'loss')
    >>> ascii_label("−η·∂ℒ/∂w^b_11")
    '-eta*dL/dw^b_11'
    """
    if label == "ℒ":
        return "loss"
    return label.replace("∇", "dL/d").replace("ℒ", "L").replace("∂", "d").replace("−η·", "-eta*")


def resolver(checker):
    """A function from a header cell (a key, a label, an ASCII label; spaces ignored) to the blank's key."""
    names = {}
    for key, label in labels(checker).items():
        for alias in (key, label, ascii_label(label)):
            names.setdefault(alias.replace(" ", ""), key)

    def resolve(text: str):
        t = text.strip().replace(" ", "")
        if t in names:
            return names[t]
        k = checker.canonical(t)
        return k if k in checker.blanks or k in checker.closed else None

    return resolve


# -- grading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a wrong answer is wrong when no catalogued mistake says so: named and explained as a mistake is."""

    name: str
    title: str
    explanation: str
    hint: str


FORMULA_REASONS = {
    NUMBER: Reason(NUMBER, "A number, not a formula", "the blank asks for the gradient as a formula in the page's "
                   "quantities; a number is its value on this problem only", "write the formula: " + TYPING),
    UNREAD: Reason(UNREAD, "Not a formula", "the answer cannot be read as a formula", "write the formula: " + TYPING),
    NOT_GENERAL: Reason(NOT_GENERAL, "Right value, not the general form", "the formula gives the right value with "
                        "this problem's numbers, but not with other weights and data", "derive it for any numbers: "
                        "follow every path and keep each local derivative as a formula"),
}
ROUNDED = "rounded to too few digits"
ROUNDING = Reason(ROUNDED, "Rounded to too few digits",
                  "the answer is near the right value (rounded to the 2 or 3 significant digits typed, or as close) but "
                  "not exactly it: the page asks for the exact value (a decimal or a fraction) or at least 4 "
                  "significant digits",
                  "write the exact value or at least 4 significant digits, in every step")
@dataclass
class Mark:
    """One blank of one student: the verdict, the mistakes named, the student's text (as typed, cut)."""

    verdict: str
    text: str = ""
    mistakes: list = field(default_factory=list)  # Mistake objects
    follows_from: list = field(default_factory=list)


@dataclass
class Student:
    id: str
    line: int
    roster: dict
    marks: dict  # key -> Mark
    score: Rational
    maximum: Rational

    @property
    def percent(self) -> float:
        return float(100 * self.score / self.maximum) if self.maximum else 0.0

    def mistakes(self) -> dict:
        """``{mistake name: [keys]}`` in the order of the blanks."""
        out = {}
        for key, m in self.marks.items():
            for mistake in m.mistakes:
                out.setdefault(mistake.name, []).append(key)
        return out


@dataclass
class Result:
    """A graded class: the students graded, the lines about what could not be, and what the report needs."""

    keys: list  # the graded keys, in the page's order
    labels: dict  # key -> label
    roster: Roster
    students: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # (line or None, text): rows or columns not graded
    notes: list = field(default_factory=list)  # (line or None, text): graded, but worth a look
    absent: list = field(default_factory=list)  # roster ids without a row
    mistakes: dict = field(default_factory=dict)  # name -> Mistake (title, explanation, hint)
    marks: Marks = field(default_factory=Marks)
    rows: int = 0  # rows read

    @property
    def maximum(self) -> Rational:
        return sum((self.marks.weight(k) for k in self.keys), Rational(0))


def grade(responses_path, folder, follows=Rational(1), weight_specs=(), progress=None, workers: int | None = None) -> Result:
    """Grade ``responses_path`` against the variants in ``folder``, in ``workers`` processes (default: every
    core from :data:`PARALLEL_FROM` students on, else this one). Raises
    :class:`ProblemError` for unusable input; every row that cannot be graded is a line in
    :attr:`Result.problems`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProblemError("--variants", f"expected the folder python -m derivations.variants wrote, got {reading.path_text(folder)}")
    roster = read_roster(folder)
    first = None
    for student in roster.ids:  # the blanks' names come from one variant: every variant has the same page
        try:
            first = Checker(load_any(folder / student / "problem.toml"))
            break
        except ProblemError:
            continue
    if first is None:
        raise ProblemError("--variants", f"no student's problem.toml in {reading.path_text(folder)} can be read")
    names = labels(first)
    resolve = resolver(first)
    roster.keys = [k for k in roster.keys if k in first.blanks or k in first.closed]  # others are not graded
    if not roster.keys:
        raise ProblemError("--variants", f"{reading.path_text(folder / 'keys.csv')} names no blank of the variants' page")
    responses = read_responses(Path(responses_path), resolve)
    candidates = list(dict.fromkeys(roster.keys + list(responses.columns)))
    marks = Marks(follows, parse_weights(list(weight_specs), candidates, resolve))
    candidates += [k for k, w in marks.weights.items() if w and k not in candidates]  # a weight asks for it
    keys = _page_order(first, [k for k in candidates if marks.weight(k) != 0])
    if not keys:
        raise ProblemError("--weight", "every blank has weight 0: nothing to grade")
    result = Result(keys, names, roster, marks=marks, rows=len(responses.rows) + len(responses.problems))
    result.mistakes = {m.name: m for m in first.mistakes + list(FORMULA_SLIPS)} | {ROUNDED: ROUNDING} | FORMULA_REASONS
    result.notes += [(None, n) for n in responses.notes]
    if responses.ignored:
        result.notes.append((None, f"columns ignored (no blank of that name): {', '.join(reading.quote(h) for h in responses.ignored[:8])}"
                                   + (f" and {len(responses.ignored) - 8} more" if len(responses.ignored) > 8 else "")))
    missing = [k for k in keys if k not in responses.columns]
    if missing:
        shown = ", ".join(f"{k} ({names[k]})" for k in missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        result.problems.append((None, f"no column for {shown}: counted as not answered for everyone (--weight "
                                      f"'{missing[0]}=0' leaves a blank out)"))
    result.problems += responses.problems
    rows = _one_row_each(responses.rows, roster, result)
    jobs = [(str(folder / roster.folded[r.id.casefold()] / "problem.toml"), r.cells, keys) for r in rows]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(jobs) >= PARALLEL_FROM else 1
    for k, (row, judged) in enumerate(zip(rows, _map(judge, jobs, workers)), 1):
        student = roster.folded[row.id.casefold()]
        if "error" in judged:
            result.problems.append((row.line, f"id {reading.quote(student)}: its problem.toml cannot be read "
                                              f"({judged['error']}): not graded"))
            continue
        if roster.variant.get(student) and judged["variant"] != roster.variant[student]:
            # The student's sheet was made from the variant keys.csv names; another file would grade other numbers.
            result.problems.append((row.line, f"id {reading.quote(student)}: its problem.toml is variant {judged['variant']}, "
                                              f"but keys.csv says {reading.quote(roster.variant[student])} (the file changed "
                                              "after the sheets went out: edited, or folders swapped): not graded; restore "
                                              "the student's own problem.toml"))
            continue
        result.students.append(_student(student, row, judged, result))
        if progress:
            progress(k, len(rows))
    seen = {s.id for s in result.students} | {roster.folded.get(r.id.casefold()) for r in responses.rows}
    result.absent = [s for s in roster.ids if s not in seen]
    return result


def _one_row_each(rows: list, roster: Roster, result: Result) -> list:
    """The rows to grade: on the roster, one per id (identical repeats count once; differing ones not at all)."""
    by_id = {}
    for row in rows:
        student = roster.folded.get(row.id.casefold())
        if student is None:
            student = _without_zeros(row.id, roster)
            if student is None:
                result.problems.append((row.line, f"id {reading.quote(row.id)} is not on the roster (keys.csv): not graded"))
                continue
            result.notes.append((row.line, f"id {reading.quote(row.id)} is not on the roster: graded as {reading.quote(student)} "
                                           "(a spreadsheet drops the leading zeros of an id it reads as a number: keep the "
                                           "id column as text)"))
            row.id = student
        by_id.setdefault(student, []).append(row)
    out = []
    for student, group in by_id.items():
        if len(group) > 1:
            lines = ", ".join(str(r.line) for r in group[:5]) + (f" and {len(group) - 5} more" if len(group) > 5 else "")
            if all(r.cells == group[0].cells for r in group):
                result.notes.append((group[1].line, f"id {reading.quote(student)} repeats the same answers (lines {lines}): graded once"))
            else:
                for r in group:
                    result.problems.append((r.line, f"id {reading.quote(student)} is on lines {lines} with different answers: "
                                                    "not graded (keep one row)"))
                continue
        out.append(group[0])
    return sorted(out, key=lambda r: r.line)


def _without_zeros(text: str, roster: Roster):
    """The roster's one id that ``text`` is with its leading zeros lost (``1`` for ``001``), else None."""
    if not (text.isascii() and text.isdigit()):
        return None
    found = [s for s in roster.ids if s.isascii() and s.isdigit() and len(s) > len(text) and s.lstrip("0") == text.lstrip("0")]
    return found[0] if len(found) == 1 else None


def judge(job: tuple) -> dict:
    """One student's row against their variant: ``job`` is ``(problem.toml path, {key: text}, graded keys)``.
    Returns plain data (it may come back from a worker process): ``variant`` (the file's variant id),
    ``marks`` (``{key: (verdict, text, [mistake names], [keys it follows from])}`` for the graded keys),
    ``unread`` (``{key: text}``: not numbers) and ``empty`` (graded keys left empty), or ``error``."""
    path, cells, keys = job
    try:
        checker = Checker(load_any(path))
        vid = variant_id(Path(path).read_text(encoding="utf-8"))
    except (ProblemError, OSError, UnicodeDecodeError) as err:
        return {"error": str(err)}
    given, unread = {}, {}
    for key, text in cells.items():  # every answer, graded or not: a later step may follow from it
        if not text.strip():
            continue
        if key in checker.closed:  # a formula: judged as one (any text is an answer)
            given[key] = text
            continue
        try:
            checker.parse({key: text})
        except ProblemError:
            unread[key] = text
            continue
        given[key] = text
    verdicts = checker.check(given) if given else {}
    marks = {}
    for key in keys:
        if key in verdicts:
            v = verdicts[key]
            names = [m.name for m in v.mistakes]
            if v.verdict == "wrong" and not names and v.short:  # the checker's precision rule says so
                names = [ROUNDED]
            if v.verdict == "wrong" and not names and getattr(v, "kind", ""):  # a formula: a number, not a formula ...
                names = [v.kind.split(":")[0]]
            marks[key] = (v.verdict, v.text, names, list(v.follows_from))
        elif key in unread:
            marks[key] = ("not a number", unread[key].strip()[:40], [], [])
        else:
            marks[key] = ("not answered", "", [], [])
    return {"variant": vid, "marks": marks, "unread": {k: t for k, t in unread.items() if k in marks},
            "empty": [k for k in keys if k in cells and not cells[k].strip()]}


def _student(student: str, row: Row, judged: dict, result: Result) -> Student:
    marks = {k: Mark(v, text, [result.mistakes[n] for n in names], follows)
             for k, (v, text, names, follows) in judged["marks"].items()}
    unread = judged["unread"]
    if unread:
        cells = ", ".join(f"{k} = {reading.quote(t.strip(), 20)}" for k, t in list(unread.items())[:5])
        result.notes.append((row.line, f"id {reading.quote(student)}: not a number (expected a number like 0.15, -3/80 or "
                                       f"1e-2): {cells}{' and more' if len(unread) > 5 else ''}; no credit"))
    empty = judged["empty"]
    if empty:
        result.notes.append((row.line, f"id {reading.quote(student)}: {len(empty)} blank{'s' if len(empty) > 1 else ''} "
                                       f"left empty, counted as not answered"))
    score = sum((result.marks.credit(k, m.verdict) for k, m in marks.items()), Rational(0))
    return Student(student, row.line, result.roster.rows[student], marks, score, result.maximum)


def _map(fn, jobs: list, workers: int):
    """``fn`` over ``jobs`` in order: in this process, or in ``workers`` processes forked from a fresh
    forkserver (never from this process, which may hold threads)."""
    if workers <= 1 or len(jobs) < 2:
        yield from map(fn, jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # the server imports the package once, not each worker
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        yield from pool.map(fn, jobs, chunksize=4)


def _page_order(checker, keys: list) -> list:
    """``keys`` in the order the page first shows them, as the checker judges them (keys the page does not
    show: after, in the derivation's order)."""
    rank = checker.marking.rank
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), keys.index(k)))


# -- grades.csv --------------------------------------------------------------------------------------------------


def grades_csv(result: Result) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    cell = spreadsheet_cell
    w.writerow([cell(h) for h in ["id", *result.roster.columns, "score", "maximum", "percent", "mistakes", *result.keys]])
    for s in result.students:
        mistakes = "; ".join(f"{name} ({', '.join(keys)})" for name, keys in s.mistakes().items())
        w.writerow([cell(s.id), *(cell(s.roster.get(c, "")) for c in result.roster.columns),
                    cell(number(s.score), number=True), cell(number(s.maximum), number=True),
                    cell(f"{s.percent:.1f}", number=True), cell(mistakes), *(cell(s.marks[k].verdict) for k in result.keys)])
    return buf.getvalue()


# -- the command line --------------------------------------------------------------------------------------------



def parser() -> argparse.ArgumentParser:
    p = cli_io.Parser(prog=PROG, allow_abbrev=False,
                description="Grade a class: each student's answers checked against their own variant (correct, follows "
                            "from their earlier answers, wrong with the mistake named), grades.csv and a class report.")
    p.add_argument("responses", metavar="RESPONSES.csv", help="one row per student: an id column and one column per blank")
    p.add_argument("--variants", metavar="DIR", required=True, action=cli_io.Once,
                   help="the folder python -m derivations.variants wrote (keys.csv and DIR/<id>/problem.toml)")
    p.add_argument("--out", metavar="grades.csv", action=cli_io.Once, help="the grades (default grades.csv)")
    p.add_argument("--report", metavar="report.html", action=cli_io.Once,
                   help="the instructor's page, a row per student (default next to --out, named for it: grades-report.html)")
    p.add_argument("--class-page", metavar="class.html", action=cli_io.Once,
                   help="the class page, plots and steps with no names or ids (default next to --out: grades-class.html)")
    p.add_argument("--follows", metavar="CREDIT", action=cli_io.Once,
                   help="the share of a blank's weight a follows answer earns, 0 to 1 (default 1)")
    p.add_argument("--jobs", type=cli_io.whole_number(1, 64), default=None, metavar="N",
                   help=f"processes (default: every core from {PARALLEL_FROM} students on)")
    p.add_argument("--weight", metavar="KEY=W", action="append", default=[],
                   help="a blank's weight (default 1): a key, a label or a pattern such as 'grad.*'; repeatable")
    return p



def _say(line, text: str, kind: str = "") -> None:
    where = f"line {line}: " if line else ""
    print(f"{PROG}: {kind + ': ' if kind else ''}{where}{text}", file=sys.stderr)


def _link(page: Path, other: Path) -> str:
    """``other``'s address from ``page`` (a relative URL): the instructor's page links the class page."""
    from urllib.parse import quote as url

    return url(os.path.relpath(other.absolute(), page.absolute().parent).replace(os.sep, "/"))


@cli_io.guard(PROG)
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    start = time.perf_counter()
    out = Path(args.out or "grades.csv")
    # Named for --out, so that grading another section into another file in the folder keeps this one's report.
    report_path = Path(args.report) if args.report else out.with_name(out.stem + "-report.html")
    class_path = Path(args.class_page) if args.class_page else out.with_name(out.stem + "-class.html")
    responses = Path(args.responses)
    try:
        follows = Rational(1)
        if args.follows is not None:
            follows = reading.parse_number(args.follows, "--follows")
            if not 0 <= follows <= 1:
                raise ProblemError("--follows", f"expected a share from 0 to 1 (1/2 for half credit), got {reading.quote(args.follows)}")
        # The one rule for every file the tools write (outputs.targets): never an input, never a variants set's file.
        inputs = {"the responses file": responses, "the variants' keys.csv": Path(args.variants) / "keys.csv"}
        written = {"--out": targets.target(out, "--out", inputs), "--report": targets.target(report_path, "--report", inputs),
                   "--class-page": targets.target(class_path, "--class-page", inputs)}
        if written["--out"] == written["--report"]:
            raise ProblemError("--report", "expected a file other than --out")
        if written["--class-page"] in (written["--out"], written["--report"]):
            raise ProblemError("--class-page", "expected a file other than --out and --report")
        progress = cli_io.Progress("grade")
        result = grade(responses, args.variants, follows, args.weight, lambda done, total: progress(f"{done}/{total}"),
                       args.jobs)
        progress.end()
    except ProblemError as err:
        return cli_io.fail(PROG, str(err))
    for line, text in sorted(result.notes, key=lambda p: p[0] or 0):
        _say(line, text, "note")
    for line, text in sorted(result.problems, key=lambda p: p[0] or 0):
        _say(line, text)

    try:
        # All or none (a full disk changes nothing); through a symbolic link, its target is replaced.
        write_together({written["--out"]: grades_csv(result),
                        written["--report"]: report.instructor_html(result, responses.name, _link(report_path, class_path)),
                        written["--class-page"]: report.class_html(result, responses.name)})
    except OSError as err:
        return cli_io.fail(PROG, f"--out: cannot write the grades and the reports ({err.strerror or err}); nothing "
                                 "was changed")
    if result.absent:  # the exit status says so: named on stderr too
        shown = ", ".join(reading.quote(s) for s in result.absent[:8]) + (f" and {len(result.absent) - 8} more" if len(result.absent) > 8 else "")
        _say(None, f"{len(result.absent)} student{'s' if len(result.absent) > 1 else ''} of the roster (keys.csv) "
                   f"{'have' if len(result.absent) > 1 else 'has'} no row: {shown}")
    cli_io.write(report.summary_text(result) + f"wrote {reading.path_text(out)}, {reading.path_text(report_path)} and "
                 f"{reading.path_text(class_path)} ({time.perf_counter() - start:.1f} s)\n")
    return 1 if result.problems or result.absent else 0


if __name__ == "__main__":
    sys.exit(main())
