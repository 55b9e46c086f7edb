"""Files the tools write: atomically, and spreadsheet cells that cannot run as formulas.

Shared by every command that writes a file a person opens (``keys.csv``, grades, reports, PDFs).

>>> spreadsheet_cell("=HYPERLINK(1)"), spreadsheet_cell("Ada"), spreadsheet_cell("-3/80", number=True)
("'=HYPERLINK(1)", 'Ada', '-3/80')
"""

from __future__ import annotations

import os
from pathlib import Path

# OWASP's CSV-injection advice: a text cell starting with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str, number: bool = False) -> str:
    """``text`` safe for a spreadsheet: a leading ``'`` before a formula start; numbers stay numbers."""
    if not number and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def write_atomic(path, data) -> None:
    """Write ``data`` (text or bytes) to ``path`` through a temporary file renamed over it.

    The temporary file is removed if the write fails, so no ``.NAME.PID.tmp`` survives an error.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
