"""CSV tables as a class hands them in: one reader for the roster of ``python -m derivations.variants``, the
``keys.csv`` it writes (which ``python -m derivations.grade`` reads back) and a responses file
(:mod:`derivations.cli.responses`).

Every file goes through the one bounded reader (:func:`derivations.engine.reading.read_bytes`: a regular
file, at most a given size). A spreadsheet's export is taken as it comes: the separator (``,``, ``;`` or a
tab) is read off the header (:func:`sniff`); UTF-8 with or without a byte-order mark, and, where the file
allows it, UTF-16 by its byte-order mark or else Windows-1252 with a note. Each record comes with the lines
it spans (:class:`Records`), so that every message names its line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import reading
from ..engine.errors import ProblemError

MAX_ID = 64
MAX_ROWS = 5000  # students in a roster
MAX_ROSTER_BYTES = 4 * 1024 * 1024
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}", re.ASCII)
SEPARATORS = {",": "','", ";": "';'", "\t": "a tab"}


# -- reading a table ---------------------------------------------------------------------------------------------


def read_text(path, field_name: str, what: str, limit: int, any_encoding: bool = True) -> tuple:
    """``(text, encoding note or None)`` of a bounded regular file (``what`` names it in messages, ``limit`` its
    size): UTF-8 (a BOM allowed); with ``any_encoding``, UTF-16 by its BOM, else Windows-1252 (Latin-1 for the
    bytes it leaves undefined) with a note saying so; without, a file that is not UTF-8 is refused."""
    where = reading.path_text(path)
    data = reading.read_bytes(path, field_name, what, limit)
    text, note = _decode(data, where, field_name, any_encoding)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ProblemError(field_name, f"{where} contains a NUL byte (line {line}): not a CSV text file")
    return text, note


def _decode(data: bytes, where: str, field_name: str, any_encoding: bool) -> tuple:
    if any_encoding and data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16 (by its byte-order mark)"
        except UnicodeDecodeError:
            raise ProblemError(field_name, f"{where} starts with a UTF-16 byte-order mark but is not UTF-16") from None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        first = err.start + 1
    if not any_encoding:
        raise ProblemError(field_name, f"expected UTF-8 text, but byte {first} of {where} is not UTF-8 (a spreadsheet: "
                                       "save it as \"CSV UTF-8\")")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # a byte Windows-1252 leaves undefined: Latin-1 maps every byte
        text = data.decode("latin-1")
    return text, f"not UTF-8 (byte {first}); read as Windows-1252: check the names, or save the file as CSV UTF-8"


def sniff(text: str) -> str:
    """The separator of a CSV text, read off its header line: the one of ``,``, ``;`` and tab under which the
    header has an ``id`` cell (the most cells, if several do), else ``,``.

    >>> sniff("id;H_1;backward.dY_dO[1,2]\\n"), sniff("id,H_1\\n"), sniff("id\\tH_1\\n"), sniff("name;x\\n")
    (';', ',', '\\t', ',')
    """
    header = text.split("\n", 1)[0]
    best, cells = ",", 0
    for sep in SEPARATORS:
        row = next(csv.reader([header], delimiter=sep), [])
        if any(c.strip().casefold() == "id" for c in row) and len(row) > cells:
            best, cells = sep, len(row)
    return best


class Records:
    """The records of a CSV text, in order; while one is read, :attr:`first` is the line it starts on and
    :attr:`last` the line it ends on (a quoted cell may span lines), so a message can name them.

    >>> records = Records('id,name\\nada,"Ada\\nL."\\n', ",")
    >>> [(cells, records.first, records.last) for cells in records]
    [(['id', 'name'], 1, 1), (['ada', 'Ada\\nL.'], 2, 3)]
    """

    def __init__(self, text: str, sep: str, strict: bool = False):
        self.reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=strict)
        self.first = 1

    def __iter__(self):
        return self

    def __next__(self) -> list:
        self.first = self.reader.line_num + 1
        return next(self.reader)

    @property
    def last(self) -> int:
        return self.reader.line_num


@contextlib.contextmanager
def whole_cells(limit: int):
    """The ``csv`` module's limit on one cell (128 KiB by default: a longer one is an error that would refuse the
    whole file) raised to the file's own bound while it is read; the file's size already bounds the work."""
    before = csv.field_size_limit(limit + 1)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def other_separator(cells: list, sep: str) -> str:
    """A hint when a row holds another separator than the header's."""
    other = next((c for c in SEPARATORS if c != sep and any(c in cell for cell in cells)), None)
    return f" (the line holds {SEPARATORS[other]}, but the header is separated by {SEPARATORS[sep]})" if other else ""


# -- rosters -----------------------------------------------------------------------------------------------------


@dataclass
class Roster:
    """Students in a file's order: their ids, the roster's other columns and each student's cells; read from
    ``keys.csv``, also each student's variant id and the graded keys."""

    ids: list
    columns: list  # the roster's other columns, in order
    rows: dict  # id -> {column: text}
    variant: dict = field(default_factory=dict)  # id -> the variant id keys.csv gives
    keys: list = field(default_factory=list)  # the graded keys, in keys.csv's order
    folded: dict = field(default_factory=dict)  # casefolded id -> id

    def add(self, student: str, cells: dict) -> None:
        self.ids.append(student)
        self.rows[student] = cells
        self.folded[student.casefold()] = student


def check_id(student: str, where: str) -> str:
    """An id becomes a folder name: 1 to 64 letters, digits or ``. _ - @ +``, not starting with ``.``, ``-``,
    ``+`` or ``@``. Anything else (``../x``, ``a/b``, NUL, spaces) is refused with one line."""
    if not isinstance(student, str) or not _ID.fullmatch(student):
        got = reading.quote(student, 70)
        raise ProblemError(where, f"expected an id of 1 to {MAX_ID} letters, digits or . _ - @ + (starting with a letter, "
                                  f"digit or _; an id names a folder), got {got}")
    return student


def numbered(n: int) -> Roster:
    """``n`` anonymous students, ``001`` ... ``n``."""
    width = max(3, len(str(n)))
    ids = [f"{k:0{width}d}" for k in range(1, n + 1)]
    return Roster(ids, [], {s: {} for s in ids}, folded={s.casefold(): s for s in ids})


def read_roster(arg: str, reserved=()) -> Roster:
    """The class roster: a number N (ids ``001`` ... ``N``), or a CSV file with a header and an ``id`` column,
    read strictly: every row has the header's fields, a cell is one line (an unclosed quote would swallow the
    rows after it), an id is none of the ``reserved`` names (the tool's own files); else one line naming the
    line number."""
    path = Path(arg)
    if arg.isdigit() and not path.exists():
        n = int(arg)
        if not 1 <= n <= MAX_ROWS:
            raise ProblemError("ROSTER", f"expected a number of variants from 1 to {MAX_ROWS}, got {arg}")
        return numbered(n)
    where = reading.path_text(arg)
    text = read_text(path, "ROSTER", "CSV file (or a number of variants)", MAX_ROSTER_BYTES, any_encoding=False)[0]
    sep = sniff(text)
    records = Records(text, sep, strict=True)
    try:
        header = _one_line(records, where)
        if header is None:
            raise ProblemError("ROSTER", f"{where} is empty; expected a header line with an id column")
        header = [h.strip() for h in header]
        col = _id_column(header, where)
        roster, seen = Roster([], [h for k, h in enumerate(header) if k != col], {}), {}  # seen: folded id -> line
        while (line := _one_line(records, where)) is not None:
            if any(cell.strip() for cell in line):
                student = _roster_id(line, header, col, sep, records.first, where, seen, reserved)
                roster.add(student, {h: line[k] for k, h in enumerate(header) if k != col})
                seen[student.casefold()] = records.first
                if len(roster.ids) > MAX_ROWS:
                    raise ProblemError("ROSTER", f"{where}: expected at most {MAX_ROWS} students")
    except csv.Error as err:
        why = ("an unclosed quote runs to the end of the file" if "end of data" in str(err)
               else f"not valid CSV ({err}; a quote inside a cell is written twice, \"\")")
        raise ProblemError("ROSTER", f"{where}: line {records.first}: {why}") from None
    if not roster.ids:
        raise ProblemError("ROSTER", f"{where} has a header but no students")
    return roster


def _one_line(records: Records, where: str):
    """The next record, which must stand on one line; ``None`` at the end."""
    line = next(records, None)
    if line is not None and records.last != records.first:
        raise ProblemError("ROSTER", f"{where}: line {records.first}: a quoted field runs over lines {records.first} "
                                     f"to {records.last} (an unclosed quote?); a roster cell is one line")
    return line


def _id_column(header: list, where: str) -> int:
    id_columns = [k for k, h in enumerate(header) if h.casefold() == "id"]  # a spreadsheet's ID or Id too
    if len(id_columns) != 1:
        raise ProblemError("ROSTER", f"{where}: expected a header with one id column, got {reading.quote(header, 60)}")
    if len(set(header)) != len(header):
        raise ProblemError("ROSTER", f"{where}: the header repeats a column name: {reading.quote(header, 60)}")
    for h in header:
        if h in ("variant", "selfcheck") or h.startswith(("forward.", "backward.", "grad.")):
            raise ProblemError("ROSTER", f"{where}: column {reading.quote(h)} clashes with a keys.csv column; rename it")
    return id_columns[0]


def _roster_id(line: list, header: list, col: int, sep: str, n: int, where: str, seen: dict, reserved) -> str:
    """The id of roster line ``n``, checked: the header's fields, a valid id, not reserved, not repeated."""
    if len(line) != len(header):
        raise ProblemError("ROSTER", f"{where}: line {n}: {len(line)} field{'s' if len(line) != 1 else ''}, but "
                                     f"the header has {len(header)}{other_separator(line, sep)}")
    student = line[col].strip()
    if other_separator([student], sep) and not _ID.fullmatch(student):
        raise ProblemError("ROSTER", f"{where}: line {n}: id {reading.quote(student, 40)} is not an id"
                                     f"{other_separator([student], sep)}")
    student = check_id(student, f"{where}: line {n}: id")
    if student.casefold() in (r.casefold() for r in reserved):
        raise ProblemError("ROSTER", f"{where}: line {n}: id {student!r} is the name of a file the tool writes "
                                     f"in --out ({', '.join(reserved)}); choose another id")
    if student.casefold() in seen:
        raise ProblemError("ROSTER", f"{where}: line {n}: id {student!r} repeats line {seen[student.casefold()]}'s "
                                     "(ids are folder names, compared ignoring case)")
    return student


def read_keys(folder: Path, limit: int) -> Roster:
    """``DIR/keys.csv`` as :mod:`derivations.cli.variants` writes it (comma-separated: ``id``, the roster's
    columns, ``variant``, the graded keys), at most ``limit`` bytes."""
    path = folder / "keys.csv"
    where = reading.path_text(path)
    text = read_text(path, "--variants", "keys.csv file", limit)[0]
    try:
        with whole_cells(limit):
            records = Records(text, ",")
            rows = [(records.first, cells) for cells in records]
    except csv.Error as err:
        raise ProblemError("--variants", f"{where}: not valid CSV ({err})") from None
    if not rows or not rows[0][1] or rows[0][1][0] != "id" or "variant" not in rows[0][1]:
        raise ProblemError("--variants", f"{where}: expected the keys.csv that python -m derivations.cli.variants "
                                         "writes (a header id, ..., variant, keys)")
    header = rows[0][1]
    at = header.index("variant")
    roster = Roster([], header[1:at], {}, keys=header[at + 1:])
    for n, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise ProblemError("--variants", f"{where}: line {n}: {len(row)} fields, but the header has {len(header)}")
        student = check_id(row[0], f"{where}: line {n}: id")
        roster.add(student, dict(zip(roster.columns, row[1:at])))
        roster.variant[student] = row[at]
    if not roster.ids:
        raise ProblemError("--variants", f"{where} lists no students")
    return roster
