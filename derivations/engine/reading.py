"""Turning a user's bytes into data, bounded by design: every limit is checked before the work it guards.

A problem file is refused, with one line naming the field and what was expected, when it breaks one of:

- ``MAX_FILE_BYTES`` = 262144 (256 KiB): a problem file is a few hundred bytes; only a regular file is read
  (never a FIFO, a device such as ``/dev/zero``, a directory or a socket), and never more than the limit.
- ``MAX_DEPTH`` = 4 levels of tables and arrays, counting the document itself: the document, a section
  (``[data]``), a list, a list of lists (several samples, a matrix). Deeper nesting is refused.
- ``MAX_STRING`` = 256 characters in any key or string value.
- ``MAX_DIGITS`` = 60 digits in a number: an integer, a decimal's digits, a fraction's numerator or
  denominator.
- ``MAX_EXPONENT`` = 400: a decimal's exponent lies in -400 ... 400 (``1e-400`` is fine, ``1e401`` is not).

Numbers are exact, read from their text: a TOML float is kept as its decimal text (:class:`TomlFloat`) and
turned into a SymPy ``Rational`` by :func:`parse_number`, so ``1e-400`` is not 0 and
``0.10000000000000000001`` is not 1/10. Nothing the user writes is ever evaluated.

>>> parse_number(TomlFloat("0.1"), "x"), parse_number("-9/10", "x"), parse_number(".15", "x")
(1/10, -9/10, 3/20)
>>> print(quote("two\\nlines" + "x" * 100))
'two\\nlinesxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

from sympy import Rational

from .errors import ProblemError, located

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 4
MAX_STRING = 256
MAX_DIGITS = 60
MAX_EXPONENT = 400

_DECIMAL = re.compile(
    r"(?P<sign>[+-]?)(?:(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]*))?|\.(?P<frac2>[0-9]+))(?:[eE](?P<exp>[+-]?[0-9]+))?",
    re.ASCII,
)
_FRACTION = re.compile(r"(?P<sign>[+-]?)(?P<num>[0-9]+)/(?P<den>[0-9]+)", re.ASCII)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
_NOT_FINITE = {"inf", "nan", "infinity"}
_EXAMPLES = 'a number like 0.9, "9/10" or "-3"'


class TomlFloat(str):
    """A TOML float kept as its decimal text (underscores dropped), for :func:`parse_number` to read exactly.

    >>> TomlFloat("1_000.5"), TomlFloat("1e-400")
    (1000.5, 1e-400)
    """

    __slots__ = ()

    def __new__(cls, text: str):
        return super().__new__(cls, text.replace("_", ""))

    def __repr__(self) -> str:
        return str.__str__(self)


def quote(value, limit: int = 40) -> str:
    """How an error message shows user data: one line, about ``limit`` characters at most, cut with ``…``.

    Strings are shown as ``repr`` shows them (newlines and control characters escaped); a huge integer is
    described rather than printed; lists and tables show their first entries.

    >>> quote("relu"), quote(3), quote(TomlFloat("0.5")), quote(True), quote([1, "a", [2]])
    ("'relu'", '3', '0.5', 'true', "[1, 'a', [2]]")
    >>> quote("a\\nb"), quote("x" * 1_000_000, limit=5), quote(10**5000)
    ("'a\\\\nb'", "'xxxxx…'", 'an integer of over 3900 digits')
    """
    text = _short(value, limit)
    if len(text) <= limit + 2:
        return text
    if isinstance(value, str) and not isinstance(value, TomlFloat):
        return text[: limit + 1] + "…" + text[0]
    return text[:limit] + "…"


def _short(value, limit: int) -> str:
    if isinstance(value, TomlFloat):
        return str(value[: limit + 3])
    if isinstance(value, str):
        return repr(value[: limit + 3])
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value) if abs(value) < 10**limit else f"an integer of {_digits(value)} digits"
    if isinstance(value, (list, tuple, dict)):
        pairs = value.items() if isinstance(value, dict) else ((None, item) for item in value)
        parts, used = [], 0
        for key, item in pairs:
            if used > limit:
                parts.append("…")
                break
            head = "" if key is None else _short(key, max(limit - used, 1)) + ": "
            parts.append(head + _short(item, max(limit - used - len(head), 1)))
            used += len(parts[-1]) + 2
        inside = ", ".join(parts)
        return "{" + inside + "}" if isinstance(value, dict) else "[" + inside + "]"
    return repr(value)[: limit + 3]


def _digits(value: int) -> str:
    """The number of digits of a (possibly huge) integer, without Python's limit on int-to-text."""
    if abs(value).bit_length() < 13_000:  # under 3914 digits, well within the limit of 4300
        return str(len(str(abs(value))))
    return "over 3900"


def name(key: str) -> str:
    """A key as it appears in a field name: bare when it is a plain key, else quoted.

    >>> name("W_a"), name("a b\\n")
    ('W_a', "'a b\\\\n'")
    """
    return key if _PLAIN_KEY.fullmatch(key) else quote(key)


def parse_number(value, field: str) -> Rational:
    """An exact number from a TOML value: an integer, a float (by its text) or a string.

    Strings may be decimals (``"0.9"``, ``".15"``, ``"-3"``, ``"1e-2"``, with ``−`` as a minus sign too) or
    fractions (``"9/10"``), with ASCII digits only; nothing else is accepted, and nothing is ever evaluated.
    At most ``MAX_DIGITS`` digits, exponents within ``±MAX_EXPONENT``.

    >>> parse_number(TomlFloat("0.1"), "x"), parse_number("9/10", "x"), parse_number("−3", "x")
    (1/10, 9/10, -3)
    >>> parse_number(TomlFloat("1e-400"), "x") > 0
    True
    >>> parse_number("1/0", "data.x[1]")
    Traceback (most recent call last):
    ...
    derivations.engine.errors.ProblemError: data.x[1]: expected a number, got '1/0' (division by zero)
    """
    if isinstance(value, bool):
        raise ProblemError(field, f"expected a number, got {str(value).lower()}")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_DIGITS:
            raise ProblemError(field, f"expected a number of at most {MAX_DIGITS} digits, got {quote(value)}")
        return Rational(value)
    if isinstance(value, float):  # a Python float handed in by a caller (TOML floats arrive as TomlFloat)
        if value != value or value in (float("inf"), float("-inf")):
            raise ProblemError(field, f"expected a finite number, got {value}")
        text = repr(value)  # the shortest text that reads back as this float: 0.1 -> '0.1'
    elif isinstance(value, str):
        text = value.strip().replace("\u2212", "-")
    else:
        raise ProblemError(field, f"expected a number, got {kind(value)}")
    if text.lstrip("+-").lower() in _NOT_FINITE:
        raise ProblemError(field, f"expected a finite number, got {quote(value)}")
    fraction = _FRACTION.fullmatch(text)
    if fraction:
        num, den = fraction["num"], fraction["den"]
        _check_digits(len(num), len(den), value=value, field=field)
        if int(den) == 0:
            raise ProblemError(field, f"expected a number, got {quote(value)} (division by zero)")
        return Rational(int(fraction["sign"] + num), int(den))
    match = _DECIMAL.fullmatch(text)
    if not match:
        raise ProblemError(field, f"expected {_EXAMPLES}, got {quote(value)}")
    whole, frac = match["int"] or "", match["frac"] or match["frac2"] or ""
    _check_digits(len(whole + frac), value=value, field=field)
    exponent = 0
    if match["exp"]:
        digits = match["exp"].lstrip("+-").lstrip("0")
        exponent = 0 if not digits or len(digits) > len(str(MAX_EXPONENT)) else int(digits)
        if len(digits) > len(str(MAX_EXPONENT)) or exponent > MAX_EXPONENT:
            raise ProblemError(
                field, f"expected an exponent from -{MAX_EXPONENT} to {MAX_EXPONENT}, got {quote(value)}"
            )
        exponent = -exponent if match["exp"].startswith("-") else exponent
    mantissa = int(match["sign"] + (whole + frac or "0"))
    scale = exponent - len(frac)
    return Rational(mantissa * 10**scale) if scale >= 0 else Rational(mantissa, 10**-scale)


_COMMA = re.compile(r"\s*[+\-\u2212]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)
_AMBIGUOUS = re.compile(r"\s*[+\-\u2212]?[1-9][0-9]{0,2},[0-9]{3}\s*", re.ASCII)


def answer_text(value, field: str) -> str:
    """A typed answer as the decimal text :func:`parse_number` reads: a decimal comma (``0,0375``, as typed in
    much of Europe) becomes a point; a comma that could as well group thousands (``1,234``) is refused in one
    line rather than read either way. Not text: returned as it is.

    >>> answer_text("−0,0375", "grad.w_b11"), answer_text("3/80", "grad.w_b11"), answer_text("12,5", "x")
    ('−0.0375', '3/80', '12.5')
    >>> answer_text("-0,0375\u00a0", "x")
    '-0.0375'
    >>> answer_text("1,234", "forward.O[1]")
    Traceback (most recent call last):
    ...
    derivations.engine.errors.ProblemError: forward.O[1]: expected one decimal mark, got '1,234', which could be 1.234 or 1234: write 1.234 (a point) or 1234
    """
    if not isinstance(value, str) or "," not in value:
        return value
    value = value.strip()  # any space around it, a no-break space too, as parse_number and the page strip it
    if _AMBIGUOUS.fullmatch(value):
        t = value.strip()
        raise ProblemError(field, f"expected one decimal mark, got {quote(value)}, which could be {t.replace(',', '.')} "
                                  f"or {t.replace(',', '')}: write {t.replace(',', '.')} (a point) or {t.replace(',', '')}")
    if _COMMA.fullmatch(value):
        return value.replace(",", ".")
    return value


def parse_answer(value, field: str) -> Rational:
    """A student's typed answer, exactly: :func:`parse_number`'s grammar, and a decimal comma
    (:func:`answer_text`). The checker, ``grade`` and the self-check page read answers so.

    >>> parse_answer("0,0375", "x"), parse_answer("-3/80", "x"), parse_answer("−0,5", "x")
    (3/80, -3/80, -1/2)
    """
    return parse_number(answer_text(value, field), field)


def _check_digits(*counts: int, value, field: str) -> None:
    if max(counts) > MAX_DIGITS:
        raise ProblemError(field, f"expected a number of at most {MAX_DIGITS} digits, got {quote(value)}")


def check_sections(doc: dict, allowed: dict, what: str = "") -> None:
    """A problem file's tables and keys against ``allowed`` (``{section: (keys...)}``, or ``None`` where the
    section's keys are checked later): one line for an unknown section, a value that is not a table, an unknown
    key. ``what`` names the kind of file in the message (`` of a graph problem``)."""
    for section, value in doc.items():
        if section not in allowed:
            raise ProblemError(name(section), f"unknown section{what}; expected one of {', '.join(allowed)}")
        if not isinstance(value, dict):
            raise ProblemError(section, f"expected a table [{section}], got {kind(value)}")
        if allowed[section] is not None:
            for key in value:
                if key not in allowed[section]:
                    raise ProblemError(f"{section}.{name(key)}", f"unknown key; expected one of {', '.join(allowed[section])}")


def kind(value) -> str:
    """What a TOML value is, in words, for messages.

    >>> kind([1]), kind({}), kind("a"), kind(TomlFloat("1.5"))
    ('a list', 'a table', 'a string', 'a number')
    """
    if isinstance(value, TomlFloat) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return "a number"
    return {list: "a list", dict: "a table", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)


def read_toml(path: str | Path, field: str = "config", max_string: int = MAX_STRING) -> dict:
    """Read a TOML file within the limits above (strings of at most ``max_string`` characters: an answers
    file's formulas may be longer); floats stay text (:class:`TomlFloat`).

    >>> from derivations.engine.problem import HANDOUT
    >>> read_toml(HANDOUT)["data"]["x"]
    [0.9, 0.5, 0.1]
    >>> read_toml("/dev/null")
    Traceback (most recent call last):
    ...
    derivations.engine.errors.ProblemError: config: expected a regular TOML file, but /dev/null is a device
    """
    return parse_toml(read_bytes(path, field), path_text(path), field, max_string)


def read_bytes(path: str | Path, field: str = "config", what: str = "TOML file", limit: int | None = None) -> bytes:
    """A regular file's bytes, at most ``limit`` (``MAX_FILE_BYTES``) of them, never a FIFO, device or
    directory: the one bounded reader of every input file (a problem, a roster, keys.csv, responses, a seed),
    ``what`` naming it in the messages.

    >>> from derivations.engine.problem import HANDOUT
    >>> len(read_bytes(HANDOUT)) < 1000
    True
    >>> read_bytes(HANDOUT, "ROSTER", "CSV file", limit=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derivations.engine.errors.ProblemError: ROSTER: expected a CSV file of at most 10 bytes, but ...handout.toml has ...
    """
    where = path_text(path)
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ProblemError(field, f"expected a readable {what}, but {where} does not exist") from None
    except (OSError, ValueError) as err:
        raise ProblemError(field, f"expected a readable {what}, cannot read {where}: {_reason(err)}") from None
    _check_file(info, where, field, what, limit)
    try:  # O_NONBLOCK: should the path have become a FIFO since the stat, opening it must not block
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            _check_file(os.fstat(fd), where, field, what, limit)
            with os.fdopen(fd, "rb", closefd=False) as stream:
                data = stream.read(limit + 1)
        finally:
            os.close(fd)
    except OSError as err:
        raise ProblemError(field, f"expected a readable {what}, cannot read {where}: {_reason(err)}") from None
    if len(data) > limit:
        raise ProblemError(field, f"expected a {what} of at most {limit} bytes, but {where} is larger")
    return data


def parse_toml(data: bytes, where: str, field: str = "config", max_string: int = MAX_STRING) -> dict:
    """A TOML document from a file's bytes (as :func:`read_bytes` returns them), within the limits above."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProblemError(field, f"expected UTF-8 text, but byte {err.start + 1} of {where} is not UTF-8") from None
    text = text.removeprefix("\ufeff")
    try:
        document = tomllib.loads(text, parse_float=TomlFloat)
    except tomllib.TOMLDecodeError as err:
        raise ProblemError(field, f"expected valid TOML in {where}: {_one_line(str(err))}") from None
    except ValueError:  # Python's limit on the digits of an integer, reached inside tomllib
        line = _long_number_line(text)
        raise ProblemError(
            field, f"expected numbers of at most {MAX_DIGITS} digits, but line {line} of {where} has a far longer one"
        ) from None
    except RecursionError:
        raise ProblemError(
            field, f"expected at most {MAX_DEPTH} levels of nested tables and arrays in {where}, got far more"
        ) from None
    with located(where):  # a field deep in the file names the file, as every later check's does
        _check_tree(document, "", 1, max_string)
    return document


def _check_file(info: os.stat_result, where: str, field: str, what: str, limit: int) -> None:
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
        raise ProblemError(field, f"expected a regular {what}, but {where} is {kind}")
    if info.st_size > limit:
        raise ProblemError(field, f"expected a {what} of at most {limit} bytes, but {where} has {info.st_size}")


def _check_tree(node, where: str, depth: int, max_string: int = MAX_STRING) -> None:
    """Refuse nesting deeper than MAX_DEPTH, long keys and strings, integers of more than MAX_DIGITS digits."""
    if isinstance(node, (dict, list)):
        if depth > MAX_DEPTH:
            raise ProblemError(where, f"expected at most {MAX_DEPTH} levels of nested tables and arrays, got more")
        if isinstance(node, dict):
            for key, value in node.items():
                field = f"{where}.{name(key)}" if where else name(key)
                if len(key) > MAX_STRING:
                    raise ProblemError(field, f"expected a key of at most {MAX_STRING} characters, got {len(key)}")
                _check_tree(value, field, depth + 1, max_string)
        else:
            for k, value in enumerate(node):
                _check_tree(value, f"{where}[{k + 1}]", depth + 1, max_string)
    elif isinstance(node, TomlFloat):
        if len(node) > MAX_STRING:
            raise ProblemError(where, f"expected a number of at most {MAX_DIGITS} digits, got {len(node)} characters")
    elif isinstance(node, str):
        if len(node) > max_string:
            raise ProblemError(where, f"expected a string of at most {max_string} characters, got {len(node)}")
    elif isinstance(node, int) and not isinstance(node, bool) and abs(node) >= 10**MAX_DIGITS:
        raise ProblemError(where, f"expected a number of at most {MAX_DIGITS} digits, got {quote(node)}")


def path_text(path) -> str:
    """A path as messages show it: as is when printable and short, else quoted.

    >>> path_text("p.toml"), path_text("evil\\n.toml")
    ('p.toml', "'evil\\\\n.toml'")
    """
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    text = text.decode("utf-8", "backslashreplace") if isinstance(text, bytes) else text
    return text if text.isprintable() and len(text) <= 200 else quote(text, 200)


def _one_line(text: str, limit: int = 200) -> str:
    return text if text.isprintable() and len(text) <= limit else quote(text, limit)[1:-1]


def _reason(err: Exception) -> str:
    return _one_line(getattr(err, "strerror", None) or str(err))


def _long_number_line(text: str) -> int:
    match = re.search(r"[0-9_]{4000,}", text)
    return text.count("\n", 0, match.start()) + 1 if match else 1
