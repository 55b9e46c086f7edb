"""Writing a variants set: each student's folder (problem file, worksheet, key, self-check page), drawn and
written by a pool of worker processes, and ``keys.csv``. :mod:`derivations.cli.variants` is the command line
around it."""

from __future__ import annotations

import csv
import io
from functools import partial
from pathlib import Path

from ..engine.errors import ProblemError
from ..engine.graph import Graph, evaluate_any
from ..engine.values import evaluate
from ..outputs.files import spreadsheet_cell, write_atomic
from ..outputs.manifest import MANIFEST
from ..outputs.page import render_markdown, render_text
from ..outputs.pdf import render_pdf
from ..outputs.selfcheck import MATHJAX, STANDALONE_MATHJAX, mathjax_dir, page_html  # MATHJAX: one copy for every student
from ..teaching import drawing, graph_variants, handout
from ..teaching.check import Checker
from ..teaching.drawing import Base, broken_rules, distinct, draw_attempt
from ..teaching.graded import graded, shown
from ..teaching.graph_oracle import disagreements
from ..teaching.graph_variants import GraphBase
from ..teaching.oracle import VerificationError, verify
from ..teaching.formula import typed_form
from ..teaching.variant_file import problem_from_toml, variant_id, variant_toml
from .tables import Roster

FORMATS = ("pdf", "md", "html")
RESERVED = ("keys.csv", "moodle.xml", MANIFEST, "_mathjax")  # the tool's own files in --out: never an id


class _UserError(Exception):
    """A :class:`ProblemError` raised in a worker process, carried back as its one line (a ProblemError does
    not survive pickling: its constructor takes three arguments)."""


# -- one student's folder ------------------------------------------------------------------------------------


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


def _draw(base: Base | GraphBase, seed: str, student: str, **kw) -> tuple:
    """``(problem, attempt)``: a student's draw, by the rules of the base's kind (a network's or a graph's)."""
    return (graph_variants.draw_attempt if isinstance(base, GraphBase) else draw_attempt)(base, seed, student, **kw)


def _file(base: Base | GraphBase, p) -> str:
    """A drawn variant's problem file, as the base's kind writes it."""
    return (graph_variants.variant_toml if isinstance(base, GraphBase) else variant_toml)(base, p)


def check_page(base: Base | GraphBase, p) -> None:
    """Lay out the page of one variant ``p`` (the roster's first), so that a base the students' page cannot
    show is refused in one line before anything is written (:class:`ProblemError`)."""
    handout.layout(evaluate_any(p), data=_file(base, p).encode("utf-8"))


def first_draw(base: Base | GraphBase, seed: str, student: str, seconds: float):
    """The first student's variant, drawn within ``seconds``: a base no draw satisfies is refused now."""
    return _draw(base, seed, student, seconds=seconds)[0]


_WORKER = {}


def _init_worker(base: Base, seed: str, out: str, fmt: str, paper: str, tuning: dict | None = None) -> None:
    _WORKER.update(base=base, seed=seed, out=Path(out), fmt=fmt, paper=paper)
    for name, value in (tuning or {}).items():  # the parent's drawing settings (a worker starts afresh)
        setattr(drawing, name, value)


def _init_pool_worker(*init) -> None:
    """A worker process: Ctrl-C at a terminal reaches the whole process group, and is the parent's to handle
    (it stops the pool, and the run says so in one line); a worker that took it would print a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(*init)


def _draw_one(student: str) -> tuple:
    base = _WORKER["base"]
    p, attempt = _draw(base, _WORKER["seed"], student)
    return student, (_file(base, p), attempt)


def _redraw(base: Base | GraphBase, seed: str, student: str, start: int, avoid: frozenset) -> str:
    """A variant drawn again from attempt ``start`` (two ids drew the same numbers)."""
    return _file(base, _draw(base, seed, student, start=start, avoid=avoid)[0])


def _verified(student: str, text: str) -> tuple:
    """``(values, graded values)`` of the variant's problem file read back (the file must be the problem that
    was checked), verified against the independent evaluation: a network's by a NumPy backprop
    (:mod:`~derivations.teaching.oracle`), a graph's by its equations evaluated again
    (:mod:`~derivations.teaching.graph_oracle`)."""
    base = _WORKER["base"]
    if isinstance(base, GraphBase):
        problem = graph_variants.read_variant(text, f"variant {student}")
        evaluation = graph_variants.evaluated(problem)  # once: for the rules, then against the derivation
        broken = graph_variants.broken_rules(base, problem, evaluation)
        values = Graph(problem)
        wrong = broken or disagreements(values, evaluation[:2])
        if wrong:
            raise VerificationError(f"variant {student}: {wrong[0]}")
        return values, [(key, values.lookup(key)) for key in values.keys()]
    problem = problem_from_toml(text, f"variant {student}")
    values = evaluate(problem)
    broken = broken_rules(base, problem, values)
    if broken:
        raise VerificationError(f"variant {student}: {broken[0]}")
    graded_values = graded(values, text.encode("utf-8"))
    verify(values, graded_values)
    return values, graded_values


def _write_one(job: tuple) -> tuple:
    """Read back the variant's problem file, derive it, verify it, then write its pages (into the run's
    staging folder); returns its row of ``keys.csv``, every value one the checker accepts back."""
    student, text, who = job
    out = _WORKER["out"]
    values, graded_values = _verified(student, text)
    problem = values.problem
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
    formulas = [(key, typed_form(values.derivation, key[len("closed."):])) for key in checker.closed]  # typed back
    return student, variant_id(text), [(col, shown(values, v, checker.tolerance.get(col))) for col, v in graded_values] \
        + formulas


def standalone_mathjax_available() -> bool:
    """MathJax's one-file component is installed (the docs extra): the self-check pages load one copy of it
    from ``DIR/_mathjax/``; without it their math stays TeX source."""
    folder = mathjax_dir()
    return folder is not None and (folder / STANDALONE_MATHJAX).is_file()


def render_pages_names(fmt: str) -> list:
    ext = {"pdf": "pdf", "md": "md", "html": "html"}[fmt]
    return [f"worksheet.{ext}", f"key.{ext}"]


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


# -- the set, by a pool of processes ----------------------------------------------------------------------------


def write_students(base: Base | GraphBase, seed: str, staging: Path, roster: Roster, fmt: str, paper: str, jobs: int,
                   progress) -> list:
    """Draw every student's variant (distinct across the roster), then write each one's folder into
    ``staging``, in ``jobs`` processes; the rows of ``keys.csv``, in the roster's order."""
    init = (base, seed, str(staging), fmt, paper, {"MARGIN": drawing.MARGIN, "MAX_ATTEMPTS": drawing.MAX_ATTEMPTS})
    pool = None
    try:
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # forkserver: workers are forked from a fresh single-threaded server, never from this process,
            # which may hold threads (a test's browser driver, say) whose locks a plain fork would copy.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])  # the server imports the package once, not each worker
            pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_pool_worker, initargs=init)
        else:
            _init_worker(*init)
        drawn = dict(_run(pool, _draw_task, roster.ids, progress, "drawing"))
        drawn = distinct(base, seed, drawn, partial(_redraw, base, seed))
        who = [next((v for c, v in roster.rows[s].items() if c.lower() == "name"), "") for s in roster.ids]
        return _run(pool, _write_task, [(s, drawn[s], n) for s, n in zip(roster.ids, who)], progress, "writing")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)  # every worker stopped before the staging folder goes


def _run(pool, fn, items, progress, what):
    out = []
    results = pool.map(fn, items) if pool else map(fn, items)
    for k, r in enumerate(results, 1):
        out.append(r)
        progress(f"{what} {k}/{len(items)}")
    return out


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
    for student, vid, values in rows:
        extra = roster.rows[student]
        w.writerow([spreadsheet_cell(student), *(spreadsheet_cell(extra.get(c, "")) for c in roster.columns),
                    spreadsheet_cell(vid), *(spreadsheet_cell(v, number=True) for _, v in values)])
    return buf.getvalue()
