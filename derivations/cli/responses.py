"""Reading what a class hands in: the roster of a variants folder (``DIR/keys.csv``) and a responses CSV.

Bounded before any work: a file of at most :data:`MAX_BYTES` (4 MiB), at most :data:`MAX_ROWS` (400) rows
and :data:`MAX_COLUMNS` (500) columns. A spreadsheet's export is taken as it comes: UTF-8 (with or without a
byte-order mark), UTF-16 by its byte-order mark, else Windows-1252 (with a note); ``,``, ``;`` or tab as the
separator, read off the header (with ``;``, a decimal comma ``0,15`` reads as ``0.15``). A row that cannot be
graded (the wrong number of fields, an empty id) is a ``(line, text)`` problem, and the rest is read.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import reading
from ..engine.errors import ProblemError
from .variants import check_id

MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 400  # a class of 400 is graded in about a minute on 2 cores; split a larger one
MAX_COLUMNS = 500
MAX_KEYS_BYTES = 32 * 1024 * 1024  # keys.csv of the largest roster variants writes (5000 students) at the page's caps


# -- the roster: DIR/keys.csv ----------------------------------------------------------------------------------


@dataclass
class Roster:
    ids: list  # in keys.csv's order
    columns: list  # the roster's other columns
    rows: dict  # id -> {column: text}
    variant: dict  # id -> the variant id keys.csv gives
    keys: list  # the graded keys, in keys.csv's order
    folded: dict = field(default_factory=dict)  # casefolded id -> id


def read_roster(folder: Path) -> Roster:
    """``DIR/keys.csv`` as :mod:`derivations.cli.variants` writes it: ``id``, the roster's columns, ``variant``,
    the graded keys."""
    path = folder / "keys.csv"
    text = _read_text(path, "--variants", what="keys.csv", limit=MAX_KEYS_BYTES)[0]
    try:
        with whole_cells(MAX_KEYS_BYTES):
            rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        raise ProblemError("--variants", f"{reading.path_text(path)}: not valid CSV ({err})") from None
    if not rows or not rows[0] or rows[0][0] != "id" or "variant" not in rows[0]:
        raise ProblemError("--variants", f"{reading.path_text(path)}: expected the keys.csv that python -m "
                                         "derivations.cli.variants writes (a header id, ..., variant, keys)")
    header = rows[0]
    at = header.index("variant")
    roster = Roster([], header[1:at], {}, {}, header[at + 1:])

    for n, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise ProblemError("--variants", f"{reading.path_text(path)}: line {n}: {len(row)} fields, but the header has {len(header)}")
        student = check_id(row[0], f"{reading.path_text(path)}: line {n}: id")
        roster.ids.append(student)
        roster.rows[student] = dict(zip(roster.columns, row[1:at]))
        roster.variant[student] = row[at]
        roster.folded[student.casefold()] = student
    if not roster.ids:
        raise ProblemError("--variants", f"{reading.path_text(path)} lists no students")
    return roster


@contextlib.contextmanager
def whole_cells(limit: int):
    """The ``csv`` module's limit on one cell (128 KiB by default: a longer one is an error that would refuse the
    whole file) raised to the file's own bound while it is read; the file's size already bounds the work."""
    before = csv.field_size_limit(limit + 1)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_text(path: Path, field_name: str, what: str, limit: int | None = None) -> tuple:
    """``(text, encoding note or None)`` of a bounded regular file: UTF-8 (a BOM allowed), UTF-16 by its BOM,
    else Windows-1252 (Latin-1 for the bytes it leaves undefined), with a note saying so."""
    where = reading.path_text(path)
    limit = MAX_BYTES if limit is None else limit
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ProblemError(field_name, f"expected a {what} file, but {where} is not a regular file")
        if info.st_size > limit:
            raise ProblemError(field_name, f"expected a {what} file of at most {limit} bytes, but {where} has {info.st_size}")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise ProblemError(field_name, f"expected a {what} file, but {where} does not exist") from None
    except OSError as err:
        raise ProblemError(field_name, f"cannot read {where}: {err.strerror or err}") from None
    if len(data) > limit:
        raise ProblemError(field_name, f"expected a {what} file of at most {limit} bytes, but {where} is larger")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16 (by its byte-order mark)"
        except UnicodeDecodeError:
            raise ProblemError(field_name, f"{where} starts with a UTF-16 byte-order mark but is not UTF-16") from None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        first = err.start + 1
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # a byte Windows-1252 leaves undefined: Latin-1 maps every byte
        text = data.decode("latin-1")
    return text, f"not UTF-8 (byte {first}); read as Windows-1252: check the names, or save the file as CSV UTF-8"


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


def sniff(text: str) -> str:
    """The separator of a CSV text, read off its header line: the one of ``,``, ``;`` and tab under which the
    header has an ``id`` cell (the most cells, if several do), else ``,``.

    >>> sniff("id;H_1;backward.dY_dO[1,2]\\n"), sniff("id,H_1\\n"), sniff("id\\tH_1\\n")
    (';', ',', '\\t')
    """
    header = text.split("\n", 1)[0]
    best, cells = ",", 0
    for sep in (",", ";", "\t"):
        row = next(csv.reader([header], delimiter=sep), [])
        if any(c.strip().casefold() == "id" for c in row) and len(row) > cells:
            best, cells = sep, len(row)
    return best


def read_responses(path: Path, resolve) -> Responses:
    """Read and shape ``RESPONSES.csv``; ``resolve`` maps a header cell to a blank's key (or ``None``).
    Raises :class:`ProblemError` for unusable input."""
    text, note = _read_text(path, "RESPONSES", what="CSV")
    notes = [note] if note else []
    if "\x00" in text:
        raise ProblemError("RESPONSES", f"{reading.path_text(path)} contains a NUL byte: not a CSV text file")
    with whole_cells(MAX_BYTES):
        sep = sniff(text)
        if sep != ",":
            notes.append(f"separated by {'semicolons' if sep == ';' else 'tabs'}, not commas: read as such"
                         + ("; a decimal comma (0,15) reads as 0.15" if sep == ";" else ""))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
        return _shape(path, reader, resolve, notes, sep)


def _shape(path: Path, reader, resolve, notes: list, sep: str) -> Responses:
    """The rows of a responses file, read by ``reader`` (see :func:`read_responses`)."""
    try:
        header = next(reader, None)
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
        end = reader.line_num
        for line in reader:
            n, end = end + 1, reader.line_num  # the row's first line and its last (a quoted cell may span lines)
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
        raise ProblemError("RESPONSES", f"not valid CSV at line {reader.line_num}: {err}") from None
    if not rows and not problems:
        raise ProblemError("RESPONSES", f"{reading.path_text(path)} has a header but no rows; expected one row per student")
    return Responses(rows, columns, ignored, notes, problems, sep)


def _who(student: str) -> str:
    return f"id {reading.quote(student)}: " if student else ""
