"""``python -m derivations.print``: the worked solution, step by step, in the handout's notation.

Bad input gets one line on stderr naming the field and what was expected, and exit status 2. Output that
cannot be written is one line and exit 1; a reader that stops early (``| head``) ends it quietly, exit 0
(see :mod:`derivations.cli.cli_io`).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys

from ..engine import work
from ..engine.derivation import derive, input_index
from ..engine.graph import Graph, load_any
from ..engine.problem import HANDOUT, ProblemError
from ..engine.theorems import theorems_for
from ..engine.values import Values
from ..outputs.page import render
from ..outputs.render import to_json
from ..teaching.solution import worked_solution
from . import cli_io

PROG = "python -m derivations.print"
FORMATS = ("text", "markdown", "latex", "json", "pdf", "python")
PAPERS = ("a4", "letter")



def parser() -> argparse.ArgumentParser:
    p = cli_io.Parser(
        prog=PROG,
        description="Print the worked backpropagation solution of a problem (the handout's by default).",
        allow_abbrev=False,
    )
    p.add_argument("--config", metavar="FILE.toml", action=cli_io.Once, help="problem description (default: the handout)")
    p.add_argument("--param", metavar="NAME", action="append",
                   help="show only this parameter's derivation (the values its paths use, its paths, the bracket "
                        "and its closed forms), e.g. w_b21, w_a[1,1] or b_a1, or an input's gradient, x_1 (repeatable)")
    p.add_argument("--digits", type=cli_io.whole_number(1, 50), default=None, metavar="N", help="significant digits of decimals (default 6; the students' page: 4)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--theorems", action="store_true", help="print every symmetry theorem with its proof steps")
    page = p.add_mutually_exclusive_group()
    page.add_argument("--worksheet", action="store_true",
                      help="the students' page (the handout's for the handout) with every derived number blank, "
                           "instead of the worked solution; with --format text, markdown, latex or pdf")
    page.add_argument("--key", action="store_true",
                      help="the same page with every blank filled in: the answer key (--format pdf writes it "
                           "without --key too)")
    p.add_argument("--paper", choices=PAPERS, default=None, help="paper size of --format pdf (default a4)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output (required for pdf)")
    return p



def _write(path: str | None, data) -> int:
    """Write the output (text or PDF bytes) to ``path``, or to stdout; an unwritable path is one line, exit 2.

    A regular file is replaced in one step (through a symbolic link, its target): an interrupted run leaves the
    old file or the new one, never half of one."""
    if path is None:
        cli_io.write(data)
        return 0
    try:
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):  # /dev/stdout, a FIFO
            with open(path, "wb") as fh:
                fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        else:
            from ..outputs.files import write_atomic

            write_atomic(os.path.realpath(path), data)
    except BrokenPipeError:  # -o /dev/stdout into a reader that stopped early: a quiet end, as on stdout
        raise
    except OSError as err:
        return cli_io.fail(PROG, f"-o/--output: cannot write {path!r}: {err.strerror or err}")
    return 0


def _check_output(path: str, config: str | None) -> None:
    """The one rule for the files the tools write (:mod:`derivations.outputs.targets`): never the problem file
    this run reads (by any name), never a file of a variants set. A device or a pipe (``-o /dev/stdout``) is
    written to as a stream, not replaced."""
    if str(path).strip() and os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path):
        return
    from ..outputs import targets

    targets.target(path, "-o/--output", {"the problem file": config if config is not None else HANDOUT})


@cli_io.guard(PROG)
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.format == "pdf" and args.output in (None, "-"):
        return cli_io.fail(PROG, "--format pdf: expected -o FILE.pdf (a PDF is not written to standard output)")
    which = "--worksheet" if args.worksheet else "--key"
    if (args.worksheet or args.key) and args.format == "json":
        return cli_io.fail(PROG, f"{which}: expected --format text, markdown, latex or pdf, got json")
    if args.param and (args.worksheet or args.key or args.format == "pdf"):
        return cli_io.fail(PROG, "--param: the students' page (--worksheet, --key, --format pdf) shows the parameters "
                                 "its problem file asks for ([worksheet] ask); drop --param")
    if args.format == "python" and (args.worksheet or args.key or args.param or args.theorems):
        return cli_io.fail(PROG, "--format python: the script holds every step and gradient; drop --worksheet, --key, "
                                 "--param and --theorems")
    page = args.worksheet or args.key or args.format == "pdf"  # options it would ignore are refused, not dropped
    if page and args.theorems:
        return cli_io.fail(PROG, "--theorems: the students' page (--worksheet, --key, --format pdf) has no proofs (the "
                                 "worked solution prints them); drop --theorems")
    if page and args.digits is not None:
        return cli_io.fail(PROG, "--digits: the students' page (--worksheet, --key, --format pdf) shows 4 significant "
                                 "digits, as the handout; drop --digits")
    if args.paper is not None and args.format != "pdf":
        return cli_io.fail(PROG, f"--paper: only --format pdf has a paper size, got --format {args.format}; drop --paper")
    args.digits, args.paper = args.digits or 6, args.paper or "a4"
    if args.output == "-":
        args.output = None
    if args.output is not None:
        try:
            _check_output(args.output, args.config)
        except ProblemError as err:
            return cli_io.fail(PROG, str(err))

    try:
        problem = load_any(args.config)
        if getattr(problem, "kind", "") == "graph":
            return _graph(args, problem)
        _bound(problem, args)
        derivation = derive(problem)
        if getattr(problem, "ask", ()):  # the page's fields are the file's: refused here as on the page
            from ..teaching.handout import asked

            asked(derivation)
        if args.param:
            args.param = [_param_key(derivation, name) for name in args.param]
    except ProblemError as err:
        return cli_io.fail(PROG, str(err))
    try:
        values = Values(derivation)
        if args.format == "python":  # BackProp.py, the derivation as a NumPy script

            from ..outputs.export import to_python  # the writers a text solution does not need: imported when asked

            script = to_python(values)
    except ProblemError as err:
        return cli_io.fail(PROG, str(err))
    if args.format == "python":
        return _write(args.output, script)
    if args.format == "pdf" or args.worksheet or args.key:
        return _handout(args, values)
    theorems = theorems_for(problem, every=args.theorems)
    if args.format == "json":
        try:
            text = to_json(values, theorems, detailed=args.theorems) + "\n"
        except ProblemError as err:
            return cli_io.fail(PROG, str(err))
        return _write(args.output, text)
    solution = worked_solution(values, args.digits, args.param, theorems, detailed=args.theorems)
    return _write(args.output, render(solution, args.format))


def _graph(args, problem) -> int:
    """A computational graph's worked solution, gate by gate (text or Markdown), its values as JSON, or its
    students' page (``--worksheet``, ``--key``, ``--format pdf``) as a network's is written."""
    asked = [flag for flag, on in (("--param", args.param), ("--theorems", args.theorems)) if on]
    page = args.worksheet or args.key or args.format == "pdf"
    if asked or (not page and args.format not in ("text", "markdown", "json")):
        what = asked[0] if asked else f"--format {args.format}"
        return cli_io.fail(PROG, f"{what}: a computational graph is printed as its worked solution (--format text or "
                                 "markdown), its values (--format json) or its students' page (--worksheet or --key, "
                                 "--format text, markdown, latex or pdf)")
    graph = Graph(problem)
    if page:
        return _handout(args, graph)
    from ..teaching.circuit import graph_json, solution_text  # the marking's modules: not loaded for a network

    text = graph_json(graph) + "\n" if args.format == "json" else solution_text(graph, markdown=args.format == "markdown")
    return _write(args.output, text)


def _param_key(derivation, name: str) -> str:
    """A ``--param`` as the solution takes it: a parameter's key (``w_b21``), or an input's (``x_1``: its
    gradient, ``backward.dL_dx[1]``); one line naming what may be given otherwise."""
    j = input_index(name)
    if j is None:
        try:
            return derivation.param(name).key(derivation.symbols.wide)
        except ProblemError as err:
            head, got, tail = err.expected.rpartition(", got ")
            inputs = f", or an input x_1 … x_{derivation.problem.n_in}"
            raise ProblemError("param", f"{head}{inputs}{got}{tail}" if got else err.expected + inputs) from None
    if not 0 <= j < derivation.problem.n_in:
        raise ProblemError("param", f"expected an input x_1 … x_{derivation.problem.n_in}, got {name!r}")
    return f"x_{j + 1}"


def _bound(problem, args) -> None:
    """Refuse, before any work, a problem this format would take more than the work bound on
    (:mod:`derivations.engine.work`)."""
    task = ("pdf" if args.format == "pdf" or args.worksheet else
            {"json": "json", "python": "python"}.get(args.format, "text"))
    what = f"print --format {args.format}" + (" --worksheet" if args.worksheet else "") + (" --theorems" if args.theorems else "")
    work.check(problem, task, what, every=args.theorems)


def _handout(args, values) -> int:
    """The students' page (:mod:`derivations.teaching.handout`; a graph's, :mod:`derivations.teaching.circuit_page`):
    a worksheet or answer key, as PDF or text."""
    from pathlib import Path


    # The identifier hashes the file; the handout's own file (named or not) is identified by its problem.
    data = Path(args.config).read_bytes() if args.config and Path(args.config).resolve() != HANDOUT.resolve() else None
    try:
        if args.format == "pdf":
            from ..outputs.pdf import render_pdf

            return _write(args.output, render_pdf(values, args.worksheet, args.paper, data=data))
        from ..teaching import handout

        page = handout.layout(values, data=data)
    except ProblemError as err:
        return cli_io.fail(PROG, str(err))
    return _write(args.output, render(page, args.format, args.worksheet))


if __name__ == "__main__":
    sys.exit(main())
