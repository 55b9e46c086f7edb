"""The command line of :mod:`derivations.teaching.check`: ``python -m derivations.check``."""

from __future__ import annotations

import argparse
import json
import sys


from ..engine import work
from ..engine.errors import ProblemError, located
from ..engine.graph import load_any
from ..engine.reading import path_text, quote, read_toml
from ..notation.printing import text as text_of
from ..teaching.check import NOT_A_NUMBER, PROG, Checker, FormulaVerdict, _short_decimal
from ..teaching.formula import UNREAD
from . import cli_io

MAX_ANSWER = 16 * 1024  # characters of one answer read from an answers file


# -- the command line ------------------------------------------------------------------------------------



def parser() -> argparse.ArgumentParser:
    ap = cli_io.Parser(
        prog=PROG, description="Check a student's answers to the handout step by step: correct, follows from "
                               "their own earlier answers, or wrong with the mistake named.")
    ap.add_argument("answers", help="a TOML file with one table [answers]: \"forward.H[1]\" = 0.15, ...")
    ap.add_argument("--config", action=cli_io.Once, help="the problem (TOML); default: the handout's")
    ap.add_argument("--format", choices=("text", "json"), action=cli_io.Once, help="text (default) or json")
    ap.add_argument("--reveal", action="store_true", help="show the correct value of each answer")
    return ap



def read_answers(path) -> dict:
    """The ``[answers]`` table of a TOML file (anything else in the file is an error)."""
    # A long answer is judged, not refused: a formula of over 500 characters gets its verdict line (the file's
    # own bound, 256 KiB, keeps the reading short)
    doc = read_toml(path, field="answers", max_string=MAX_ANSWER)  # (its own errors name the file in their text)
    with located(path_text(path)):  # the table's mistakes name the file, as a problem file's do
        return _answers_table(doc)


def _answers_table(doc: dict) -> dict:
    """The table [answers] of a read file, checked: nothing beside it, at least one answer, no table or list."""
    extra = [k for k in doc if k != "answers"]
    if extra or not isinstance(doc.get("answers"), dict):
        raise ProblemError("answers", "expected one table [answers] of \"KEY\" = number"
                                      + (f", got also {', '.join(quote(k) for k in extra)}" if extra else ""))
    if not doc["answers"]:  # "0 of 0 correct" would pass as all correct
        raise ProblemError("answers", 'expected at least one answer in [answers], like "forward.H[1]" = 0.15; got none')
    for k, v in doc["answers"].items():
        if isinstance(v, (dict, list)):
            raise ProblemError("answers", f"{quote(k)}: expected a number or a string like \"-3/80\", got a "
                                          f"{'table' if isinstance(v, dict) else 'list'}")
    return doc["answers"]


def report_text(verdicts: dict, reveal: bool, note: str = "") -> str:
    """The verdicts as text, one answer a line (explanations and notes indented under it); an exact correct
    value is written ``= 3/20``, a decimal of a transcendental one ``≈ 0.5498``; ``note`` (the checker's)
    last."""
    lines = []
    for key, v in verdicts.items():
        if isinstance(v, FormulaVerdict):  # a formula answer is its text (no number behind it)
            lines.append(formula_text(v, f"{key} = {v.text or '(empty)'}: ", reveal))
            continue
        head = f"{key} = {v.text or ('(empty)' if v.answer is None else v.answer)}: "
        if v.answer is None:  # nothing read: the page's and grade's verdict, the rest of the sheet judged
            lines.append(head + (f"not a number ({v.note})" if v.verdict == NOT_A_NUMBER else "not answered"))
            continue
        if v.verdict == "correct":
            within = v.tolerance is not None and not v.note  # (a note: right from the student's own rounding)
            line = head + "correct" + (f" (within a relative {v.tolerance})" if within else "")
            if v.note:
                line += f" ({v.note})"
        elif v.verdict == "follows":
            mine = [f"{k} = {verdicts[k].text or verdicts[k].answer}" if k in verdicts else k for k in v.follows_from]
            line = head + f"follows from your {', '.join(mine)} (this step is right; look earlier)"
        elif v.mistakes:
            line = head + "wrong: " + " / ".join(m.title for m in v.mistakes)
            for m in v.mistakes:
                line += f"\n    {m.explanation}\n    Hint: {m.hint}"
        elif v.short:  # near the right value at too few digits (0.752 for 0.75137 is no rounding of it)
            line = head + "wrong (too few digits)"
        else:
            line = head + "wrong (no catalogued mistake gives this value)"
        if v.verdict != "correct" and v.note:
            line += f"\n    Note: {v.note}."
        if reveal and v.verdict != "correct":
            line += f"\n    the correct value {exact_text(v.correct)}"
        lines.append(line)
    n = sum(v.verdict == "correct" for v in verdicts.values())
    f = sum(v.verdict == "follows" for v in verdicts.values())
    lines.append(f"{n} of {len(verdicts)} correct" + (f", {f} follow" if f else ""))
    if note:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def formula_text(v, head: str, reveal: bool) -> str:
    """A formula answer's verdict: its line, what was read, each slip's explanation and hint, the note."""
    line = head + v.line
    if v.read:
        line += f"\n    we read: {v.read}"
    for m in v.mistakes:
        line += f"\n    {m.title}: {m.explanation}\n    Hint: {m.hint}"
    if v.note and v.kind != UNREAD:
        line += f"\n    Note: {v.note}."
    if reveal and v.verdict != "correct":
        line += f"\n    the derived form: {text_of(v.correct)}"
    return line


def exact_text(v) -> str:
    """``= 3/20`` for a rational value (``= 3/20 = 0.15`` where the decimal ends), ``≈ 0.549834`` else.

    >>> from sympy import Rational
    >>> exact_text(Rational(3, 20)), exact_text(Rational(1, 3))
    ('= 3/20 = 0.15', '= 1/3')
    """
    if v.is_Rational:
        q = v.q
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if v.is_Integer or q != 1:
            return f"= {v}"
        return f"= {v} = {_short_decimal(v)}"
    return f"≈ {_short_decimal(v)}"


@cli_io.guard(PROG)
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.format = args.format or "text"

    try:
        problem = load_any(args.config)
        if getattr(problem, "kind", "") != "graph":  # a graph is bounded by its size (64 equations of 500 characters)
            work.check(problem, "check", "check")
        answers = read_answers(args.answers)
        checker = Checker(problem)
        with located(path_text(args.answers)):
            verdicts = checker.check(answers)
    except ProblemError as err:
        return cli_io.fail(PROG, str(err))
    if args.format == "json":
        data = {"answers": {k: v.as_dict(args.reveal) for k, v in verdicts.items()},
                "correct": sum(v.verdict == "correct" for v in verdicts.values()), "total": len(verdicts)}
        if checker.note:
            data["note"] = checker.note
        cli_io.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        cli_io.write(report_text(verdicts, args.reveal, checker.note))
    return 0 if all(v.verdict == "correct" for v in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
