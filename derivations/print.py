"""``python -m derivations.print``: the worked solution, step by step, in the handout's notation.

Bad input gets one line on stderr naming the field and what was expected, and exit status 2. Output that
cannot be written is one line and exit 1; a reader that stops early (``| head``) ends it quietly, exit 0
(see :mod:`derivations.cli_io`).
"""

from __future__ import annotations

import argparse
import sys

from . import cli_io
from .problem import ProblemError

FORMATS = ("text", "markdown", "latex", "json")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _digits(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 50:
        raise argparse.ArgumentTypeError(f"--digits: expected a whole number from 1 to 50, got {text!r}")
    return n


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m derivations.print",
        description="Print the worked backpropagation solution of a problem (the handout's by default).",
        allow_abbrev=False,
    )
    p.add_argument("--config", metavar="FILE.toml", action=cli_io.Once, help="problem description (default: the handout)")
    p.add_argument("--param", metavar="NAME", action="append",
                   help="show only this parameter's derivation (the values its paths use, its paths, the bracket "
                        "and its closed forms), e.g. w_b21, w_a[1,1] or b_a1 (repeatable)")
    p.add_argument("--digits", type=_digits, default=6, metavar="N", help="significant digits of decimals (default 6)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--theorems", action="store_true", help="print every symmetry theorem with its proof steps")
    return p


@cli_io.guard("python -m derivations.print")
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .derive import derive
    from .problem import load_problem
    from .render import key_insight, to_json, to_latex, to_markdown, to_text
    from .solution import worked_solution
    from .theorems import theorems_for
    from .values import Values

    try:
        problem = load_problem(args.config)
        derivation = derive(problem)
        if args.param:
            args.param = [derivation.weight(name).key(derivation.symbols.wide) for name in args.param]
    except ProblemError as err:
        print(f"python -m derivations.print: error: {err}", file=sys.stderr)
        return 2
    values = Values(derivation)
    theorems = theorems_for(problem, every=args.theorems)
    if args.format == "json":
        cli_io.write(to_json(values, theorems) + "\n")
        return 0
    solution = worked_solution(values, args.digits, args.param)
    tail = key_insight(values, theorems, args.format, detailed=args.theorems)
    render = {"text": to_text, "markdown": to_markdown, "latex": to_latex}[args.format]
    cli_io.write(render(solution, tail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
