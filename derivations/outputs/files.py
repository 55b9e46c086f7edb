"""Files the tools write: atomically (one file, or several all or none), and spreadsheet cells that cannot run
as formulas.

Shared by every command that writes a file a person opens (``keys.csv``, grades, reports, PDFs).

>>> spreadsheet_cell("=HYPERLINK(1)"), spreadsheet_cell("Ada"), spreadsheet_cell("-3/80", number=True)
("'=HYPERLINK(1)", 'Ada', '-3/80')
"""

from __future__ import annotations

import os
import shutil
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


def write_together(files: dict) -> None:
    """Write ``{path: data}`` all or none: every file is written to a temporary file first (a full disk fails
    here, with nothing replaced), then each is renamed over its target; should a rename fail, the targets
    already replaced get their old content back (kept as a hard link, else a copy, until the end).
    """
    pid = os.getpid()
    temps, backups, done = {}, {}, []
    try:
        for path, data in files.items():
            path = Path(path)
            tmp = path.with_name(f".{path.name}.{pid}.tmp")
            temps[path] = tmp
            with open(tmp, "wb") as fh:
                fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        for path in temps:
            if path.exists():
                backup = path.with_name(f".{path.name}.{pid}.old")
                try:
                    os.link(path, backup)
                except OSError:  # a file system without hard links
                    shutil.copy2(path, backup)
                backups[path] = backup
        for path, tmp in temps.items():
            os.replace(tmp, path)
            done.append(path)
    except BaseException:
        for path in reversed(done):  # put back what was replaced
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                path.unlink(missing_ok=True)
        raise
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        for backup in backups.values():
            backup.unlink(missing_ok=True)
