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

**What stays, what is drawn, and the rules** every draw obeys: :mod:`derivations.teaching.drawing`.

**Verified before written** (:func:`~derivations.teaching.oracle.verify`): each variant's exact values (every
sample's forward and backward values, the loss, every gradient) against an independent NumPy backprop of any
depth, biases, samples, activations and output layer (:func:`~derivations.teaching.oracle.numpy_backprop`,
written from the registry's NumPy functions, not from the derivation), and, where the init is symmetric, its
symmetry theorems proved again and checked on its numbers. ``keys.csv`` grades the page's blanks
(:func:`~derivations.teaching.graded.graded_keys`), keyed as the checker names them (``forward.H1[2]@2`` for
sample 2 of a deeper network).

The set is written by :mod:`derivations.cli.variant_set`; the roster is read by :mod:`derivations.cli.tables`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..engine import reading
from ..engine.errors import ProblemError
from ..outputs import targets
from ..outputs.files import write_atomic
from ..outputs.manifest import LOCK, MANIFEST, Folder
from ..outputs.selfcheck import write_mathjax
from ..teaching import handout
from ..teaching.circuit_page import TITLE as GRAPH_TITLE
from ..teaching.drawing import Base
from ..teaching.graph_variants import GraphBase, read_any_base
from ..teaching.oracle import VerificationError
from . import cli_io
from .moodle import write_quiz
from .tables import Roster, read_roster
from .variant_set import (FORMATS, MATHJAX, RESERVED, _UserError, check_page, file_names, first_draw, keys_csv, own_file,
                          standalone_mathjax_available, write_students)

PROG = "python -m derivations.variants"
# Before anything is written, the roster's first id is drawn with this time bound as well: a base no draw can
# satisfy is refused in well under a minute, naming the rule (a slow machine can only make it refuse, never
# change a variant: the draws themselves do not depend on time).
PROBE_SECONDS = 30
MAX_SEED = 128


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


def _title(problem) -> str:
    """The base's page title, as its page prints it (a graph's default is not the handout's)."""
    if problem.title or getattr(problem, "kind", "") != "graph":
        return problem.title
    return GRAPH_TITLE


def _fail(message: str) -> int:
    return cli_io.fail(PROG, message)


def _check_seed(seed: str, field: str = "--seed") -> str:
    if not seed.strip() or len(seed) > MAX_SEED or not seed.isprintable():
        # a seed file's line is not quoted: it is the course's secret (or another file given by mistake)
        got = reading.quote(seed) if field == "--seed" else f"a first line of {len(seed)} characters"
        raise ProblemError(field, f"expected a printable text of 1 to {MAX_SEED} characters, got {got}")
    return seed


def read_seed(args) -> str:
    """The course seed: ``--seed``, or the first line of ``--seed-file`` (a small regular UTF-8 file)."""
    if args.seed is not None:
        return _check_seed(args.seed)
    data = reading.read_bytes(args.seed_file, "--seed-file", "seed file", limit=4096)
    try:
        first = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise ProblemError("--seed-file", f"expected UTF-8 text in {reading.path_text(args.seed_file)}") from None
    return _check_seed(first[0] if first else "", "--seed-file")


@dataclass
class _Run:
    """What a run has checked before it writes: its inputs, the folder it holds the lock of, the files it
    will write and the staging folder they go to."""

    seed: str
    base: Base
    roster: Roster
    out: Path
    folder: Folder
    names: list
    staging: Path

    def release(self):  # the lock's file goes while the lock is still held (a run that opened it meanwhile gave up)
        (self.out / LOCK).unlink(missing_ok=True)
        self.folder.close()


def _prepare(args) -> _Run:
    """Read and check every input, draw the first student's variant (a base no draw satisfies, or whose page
    cannot be laid out, is refused now), take the folder's lock and check that nothing of the teacher's is in
    the way: everything before the first file is written. Raises :class:`ProblemError` or :class:`OSError`."""
    seed = read_seed(args)
    base = read_any_base(args.config)
    roster = read_roster(args.roster, RESERVED)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ProblemError("--out", f"{reading.path_text(out)} exists and is not a folder")
    if not isinstance(base, GraphBase):
        handout.check_fits(base.problem)  # a page too big is said as such, before any draw (whose rules it breaks)
    probe = first_draw(base, seed, roster.ids[0], PROBE_SECONDS)  # a base no draw satisfies: refused now
    check_page(base, probe)  # and one whose page cannot be laid out
    out.mkdir(parents=True, exist_ok=True)
    folder = Folder(out, force=args.force)
    try:
        folder.lock()
    except BaseException:
        folder.close()
        raise
    run = _Run(seed, base, roster, out, folder, [], out)
    try:
        run.names = ["keys.csv"] + (["moodle.xml"] if args.moodle else []) + \
            ([MATHJAX] if standalone_mathjax_available() else []) + \
            [f"{s}/{name}" for s in roster.ids for name in file_names(args.format)]
        _inputs_not_written(args, out, run.names)  # not even with --force: the seed file may be the only copy
        _not_in_another_set(out, run.names)
        folder.check(run.names)  # before anything is written: nothing of the teacher's is in the way
        run.staging = folder.stage()
    except BaseException:
        run.release()
        raise
    return run


@cli_io.guard(PROG)
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    start = time.perf_counter()
    try:
        run = _prepare(args)
    except ProblemError as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"--out: cannot create {reading.path_text(args.out)}: {err.strerror or err}")
    out, folder, staging = run.out, run.folder, run.staging
    if folder.interrupted:
        print(f"{PROG}: note: the last run into {reading.path_text(out)} was cut short while moving its files into "
              "place (no keys.csv); this run replaces its set", file=sys.stderr)
    jobs = min(args.jobs or os.cpu_count() or 1, len(run.roster.ids))
    progress = cli_io.Progress("variants")
    stopped = []  # the signal that stopped the run

    def stop(signum, _frame):
        stopped.append(signum)
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    # `kill` (SIGTERM) and a closed terminal (SIGHUP) clean up as Ctrl-C does: no answer key left staged
    held = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)} if main_thread else {}
    try:
        rows = write_students(run.base, run.seed, staging, run.roster, args.format, args.paper, jobs, progress)
        progress.end()
        write_atomic(staging / "keys.csv", keys_csv(run.roster, rows))
        if MATHJAX in run.names:
            write_mathjax(staging)
        if args.moodle:
            try:
                write_quiz(staging, [student for student, _, _ in rows], run.base.problem.source, _title(run.base.problem))
            except ProblemError as err:
                raise ProblemError("--moodle", f"moodle.xml not written (nothing changed): {err}") from None
        folder.commit(run.names, list(run.roster.ids), own=own_file)
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
        run.release()
        for sig, handler in held.items():
            signal.signal(sig, handler)
    if folder.overwritten:
        print(f"{PROG}: note: --force overwrote {len(folder.overwritten)} file(s) changed since the tool wrote them or not written by it, e.g. "
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


if __name__ == "__main__":
    sys.exit(main())
