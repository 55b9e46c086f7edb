"""Where the tools write: one rule for every file they write (``print -o``, ``variants``, ``grade --out`` and
``--report``, the Sphinx extension's and the MyST plugin's files).

Symbolic links resolved (a link is written through, to its target), a target is refused in one line, before
anything is written, when it is

- **an input of the run**, by any name (a symbolic or a hard link included): the problem file, the roster, the
  seed file, the responses, the variants' ``keys.csv``;
- **a file of a variants set**: ``manifest.sha256``, any file it lists (or a cut-short commit's
  ``.variants.pending`` lists), the set's lock, record and staging folders. A set is found by looking for
  ``manifest.sha256`` in the target's folder and in every folder above it, so ``grade --out V/ada/key.pdf``,
  ``print -o V/keys.csv`` and a link to either are refused alike. Only ``variants`` itself writes into its
  own set (:mod:`derivations.outputs.manifest` guards that);
- **not a file that can be replaced**: a folder, a device or a pipe, or a name whose folder does not exist
  (through a dangling link, the link and its target are named).

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     _ = (Path(d) / MANIFEST).write_text("0" * 64 + "  ada/key.pdf\\n")
...     print(target(Path(d) / "notes.txt", "--out").name, set_file(Path(d).resolve() / "ada" / "key.pdf")[1])
notes.txt ada/key.pdf
"""

from __future__ import annotations

import os
from pathlib import Path

from ..engine import reading
from ..engine.errors import ProblemError
from .manifest import LOCK, MANIFEST, PENDING, STAGING, parse_lines

MAX_MANIFEST = 64 * 1024 * 1024  # a manifest of 5000 students is about 2 MB; past this, only its name protects


def target(path, field: str, inputs: dict | None = None) -> Path:
    """The file to write for ``path``: its real path (through symbolic links), once the rule above allows it;
    else :class:`ProblemError` naming ``field`` and the reason. ``inputs`` maps what a run reads to its path
    (``{"the responses file": path}``)."""
    text = os.fspath(path)
    if not str(text).strip():  # an unset shell variable: not the current folder's "Is a directory"
        raise ProblemError(field, "expected a file name, got ''")
    given = Path(path)
    real = Path(os.path.realpath(given))
    where = reading.path_text(given)
    if real != Path(os.path.abspath(given)):
        where += f" (a link to {reading.path_text(real)})"
    if real.is_dir():
        raise ProblemError(field, f"{where} is a folder; expected a file name")
    if real.exists() and not real.is_file():  # a device or a pipe: never renamed over
        raise ProblemError(field, f"{where} is not a regular file (a device or a pipe); expected a file name")
    if not real.parent.is_dir():
        raise ProblemError(field, f"the folder of {where} does not exist")
    for what, source in (inputs or {}).items():
        if source is not None and same_file(real, Path(source)):
            raise ProblemError(field, f"{where} is {what} this run reads; refusing to overwrite an input (choose "
                                      "another file)")
    found = set_file(real)
    if found:
        raise ProblemError(field, f"{where} is a file of the variants set in {reading.path_text(found[0])}; refusing "
                                  "to overwrite it (choose a file outside the set)")
    return real


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: by any name (a hard link), or the same real path."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return Path(os.path.realpath(a)) == Path(os.path.realpath(b))
    except OSError:
        return False


def set_file(real: Path, skip: Path | None = None, cache: dict | None = None):
    """``(set folder, name in it)`` when the real path ``real`` is a file of a variants set (see the module's
    rule) whose folder is not ``skip``, else None; ``cache`` keeps what each folder holds across calls."""
    cache = {} if cache is None else cache
    for folder in real.parents:
        if skip is not None and folder == skip:
            continue
        if folder not in cache:
            cache[folder] = set_files(folder)
        listed = cache[folder]
        if listed is None:
            continue
        name = real.relative_to(folder).as_posix()
        top = name.split("/")[0]
        if name in listed or top in (MANIFEST, PENDING, LOCK) or top.startswith(STAGING):
            return folder, name
    return None


def set_files(folder: Path):
    """The files a variants set in ``folder`` lists (its manifest's and a cut-short commit's record's names), or
    None when ``folder`` holds no set. A manifest that cannot be read still marks the set (its own names)."""
    manifest = folder / MANIFEST
    if not (manifest.is_file() or (folder / PENDING).is_file()):
        return None
    names = set()
    for name in (MANIFEST, PENDING):
        try:
            with open(folder / name, "rb") as fh:
                text = fh.read(MAX_MANIFEST).decode("utf-8", errors="replace")
        except OSError:
            continue
        names.update(parse_lines(text))
    return names


def holds_set_files(folder: Path):
    """``(set folder, a file it lists)`` when ``folder`` (a build's output folder, say) is, or lies inside, a
    variants set that lists a file inside ``folder``; else None. A build there would write over the set."""
    real = Path(os.path.realpath(folder))
    for top in (real, *real.parents):
        listed = set_files(top)
        if not listed:
            continue
        prefix = "" if top == real else real.relative_to(top).as_posix() + "/"
        inside = sorted(name for name in listed if name.startswith(prefix))
        if inside:
            return top, inside[0]
    return None
