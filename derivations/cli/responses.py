"""Reading what a class hands in: the roster of a variants folder (``DIR/keys.csv``) and a responses CSV, both
through the one table reader (:mod:`derivations.cli.tables`).

Bounded before any work: a file of at most :data:`MAX_BYTES` (4 MiB), at most :data:`MAX_ROWS` (400) rows
and :data:`MAX_COLUMNS` (500) columns. A spreadsheet's export is taken as it comes: UTF-8 (with or without a
byte-order mark), UTF-16 by its byte-order mark, else Windows-1252 (with a note); ``,``, ``;`` or tab as the
separator, read off the header (with ``;``, a decimal comma ``0,15`` reads as ``0.15``). A row that cannot be
graded (the wrong number of fields, an empty id) is a ``(line, text)`` problem, and the rest is read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..engine import reading
from ..engine.errors import ProblemError
from . import tables
from .tables import Records, read_text, sniff, whole_cells

MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 400  # a class of 400 is graded in about a minute on 2 cores; split a larger one
MAX_COLUMNS = 500
MAX_KEYS_BYTES = 32 * 1024 * 1024  # keys.csv of the largest roster variants writes (5000 students) at the page's caps


# -- the responses ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    id: str
    cells: dict  # key -> text, for every answer column


@dataclass
class Responses:
    rows: list
    columns: dict  # key -> the header's spelling
    ignored: list  # header cells that name no blank
    notes: list  # about the file as a whole
    problems: list  # (line, text): rows that cannot be graded
    separator: str


def read_responses(path: Path, resolve) -> Responses:
    """Read and shape ``RESPONSES.csv``; ``resolve`` maps a header cell to a blank's key (or ``None``).
    Raises :class:`ProblemError` for unusable input."""
    text, note = read_text(path, "RESPONSES", "CSV file", MAX_BYTES)
    notes = [note] if note else []
    with whole_cells(MAX_BYTES):
        sep = sniff(text)
        if sep != ",":
            notes.append(f"separated by {'semicolons' if sep == ';' else 'tabs'}, not commas: read as such"
                         + ("; a decimal comma (0,15) reads as 0.15" if sep == ";" else ""))
        return _shape(path, Records(text, sep), resolve, notes, sep)


def read_roster(folder: Path) -> tables.Roster:
    """``DIR/keys.csv`` as :mod:`derivations.cli.variants` writes it: ``id``, the roster's columns, ``variant``,
    the graded keys."""
    return tables.read_keys(folder, MAX_KEYS_BYTES)


def _shape(path: Path, records: Records, resolve, notes: list, sep: str) -> Responses:
    """The rows of a responses file, read as ``records`` (see :func:`read_responses`)."""
    try:
        header = next(records, None)
        if header is None or not any(h.strip() for h in header):
            raise ProblemError("RESPONSES", f"{reading.path_text(path)} is empty; expected a header with an id column")
        header = [h.strip() for h in header]
        if len(header) > MAX_COLUMNS:
            raise ProblemError("RESPONSES", f"expected at most {MAX_COLUMNS} columns, got {len(header)}")
        ids = [k for k, h in enumerate(header) if h.casefold() == "id"]
        if len(ids) != 1:
            raise ProblemError("RESPONSES", f"expected one id column in the header, got {len(ids)}: "
                                            f"{reading.quote(header, 60)}")
        col = ids[0]
        columns, where, ignored = {}, {}, []
        for k, h in enumerate(header):
            if k == col:
                continue
            key = resolve(h)
            if key is None:
                ignored.append(h)
            elif key in columns:
                raise ProblemError("RESPONSES", f"columns {reading.quote(columns[key])} and {reading.quote(h)} both name "
                                                f"{key}; keep one")
            else:
                columns[key], where[key] = h, k
        if not columns:
            raise ProblemError("RESPONSES", f"no column names a blank (expected keys such as forward.H[1], grad.w_b21 or "
                                            f"labels such as H_1), got {reading.quote(header, 60)}")
        rows, problems = [], []
        for line in records:
            n = records.first  # a quoted cell may span lines
            if not any(c.strip() for c in line):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise ProblemError("RESPONSES", f"expected at most {MAX_ROWS} rows (students)")
            student = line[col].strip() if col < len(line) else ""
            graded = [col, *where.values()] if len(line) == len(header) else range(len(line))
            last = max((n + line[k].rstrip("\r\n").count("\n") for k in graded if k < len(line)), default=n)
            if last > n:  # an answer over several lines: a quote left open swallows the rows after it
                student = student.split("\n")[0].strip()
                problems.append((n, f"{_who(student)}a cell runs on over lines {n} to {last} (a quote opened and "
                                    "never closed? the rows in it are not read): not graded"))
                continue
            if len(line) != len(header):
                problems.append((n, f"{_who(student)}{len(line)} fields, but the header has {len(header)}: not graded "
                                    "(a name with an unquoted comma? a row cut short?)"))
                continue
            if not student:
                problems.append((n, "empty id: not graded"))
                continue
            cells = {key: line[k] for key, k in where.items()}  # a decimal comma is the number reader's (parse_answer)
            rows.append(Row(n, student, cells))
    except csv.Error as err:
        raise ProblemError("RESPONSES", f"not valid CSV at line {records.last}: {err}") from None
    if not rows and not problems:
        raise ProblemError("RESPONSES", f"{reading.path_text(path)} has a header but no rows; expected one row per student")
    return Responses(rows, columns, ignored, notes, problems, sep)


def _who(student: str) -> str:
    return f"id {reading.quote(student)}: " if student else ""
