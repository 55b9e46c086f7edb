"""The MyST-MD plugin's disk cache, and what a call needs before it knows whether it is cached: the standard
library only (the package's ``__init__`` is light, so importing this module does not import SymPy), for the
entry point :mod:`derivations_myst`, which answers a cached call in about 50 ms, and for
:mod:`derivations.cli.myst`, which runs a call and stores its nodes.

The cache: ``_build/derivations/cache/KEY.json`` under the project root (the folder MyST runs in), where KEY
hashes the call as the page wrote it (role or directive, name, argument, options, body), the problem file's
bytes, the mode (``DERIVATIONS_WORKSHEET``) and the package's source files (name, size, modification time).

>>> key = cache_key("role", "deriv", {"body": "grad.w_b21"}, Path("."), worksheet=False)
>>> len(key), key == cache_key("role", "deriv", {"body": "grad.w_b21"}, Path("."), worksheet=True)
(64, False)
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

WORKSHEET_ENV, PROBLEM_ENV = "DERIVATIONS_WORKSHEET", "DERIVATIONS_PROBLEM"
SHIPPED = "derivations:"  # content.SHIPPED: a problem shipped with the package
MAX_INPUT = 1 << 20  # a node from MyST is a few KiB; refuse anything past 1 MiB
MAX_PROBLEM = 256 * 1024  # reading.MAX_FILE_BYTES: a problem file is read only up to this (the rest is refused)
MODE_FILE = "mode"  # _build/derivations/mode: "solution" or "worksheet", the mode of the build that wrote there


def package_dir() -> Path:
    """The ``derivations`` package's folder, found without importing it."""
    spec = importlib.util.find_spec("derivations")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("derivations-myst: the derivations package is not installed")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def handout_file() -> Path:
    return package_dir() / "problems" / "handout.toml"


def worksheet_mode() -> bool:
    """``DERIVATIONS_WORKSHEET`` set to anything but empty, ``0``, ``false`` or ``no``: a worksheet build."""
    return os.environ.get(WORKSHEET_ENV, "").strip().lower() not in ("", "0", "false", "no")


def problem_path(root: Path, name: str | None) -> tuple:
    """``(path, origin)``: the problem file a call names (``:problem:``, else ``DERIVATIONS_PROBLEM``),
    relative to the project root and confined to it, or ``derivations:NAME.toml`` shipped with the package;
    ``path`` None means the handout's. A path outside the root or not a file raises ``ValueError`` with the
    message for the page."""
    origin = ":problem:"
    if not name or not str(name).strip():
        name, origin = os.environ.get(PROBLEM_ENV, ""), PROBLEM_ENV
    name = str(name or "").strip()
    if not name:
        return None, origin
    if name.startswith(SHIPPED):  # a problem shipped with the package: derivations:mazur.toml
        path = package_dir() / "problems" / name[len(SHIPPED):]
        if path.parent != package_dir() / "problems" or not path.is_file():
            raise ValueError(f"problem {name!r} is not shipped with the package")  # content.shipped_problem says more
        return path, origin
    path = (root / name.lstrip("/")).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"{origin} {name!r} is outside the project root (paths are relative to it)")
    if not path.is_file():
        raise ValueError(f"{origin} problem file {name!r} not found (relative to the project root)")
    return path, origin


def problem_bytes(path: Path):
    """A problem file's bytes, or None past :data:`MAX_PROBLEM` (a 50 MB file is never read whole)."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_PROBLEM + 1)
    return data if len(data) <= MAX_PROBLEM else None


def usable(data) -> str | None:
    """What is wrong with the JSON a role or directive call received, or None: an object whose ``arg`` and
    ``body`` are texts (or numbers) and whose ``options`` map names to texts, numbers or flags.

    >>> usable({"arg": "w_b21", "options": {"show": "all", "labels": True}}), usable({"options": ["show"]})
    (None, 'options: expected a table of names and values, got a list')
    """
    kinds = {dict: "a table", list: "a list", type(None): "null"}
    if not isinstance(data, dict):
        return f"expected a JSON object, got {kinds.get(type(data), 'a ' + type(data).__name__)}"
    options = data.get("options")
    if options is not None:
        if not isinstance(options, dict):
            return f"options: expected a table of names and values, got {kinds.get(type(options), 'a ' + type(options).__name__)}"
        for key, value in options.items():
            if not isinstance(value, (str, bool, int, float)):
                return f"option {key[:40]!r}: expected a text, a number or a flag, got {kinds.get(type(value), 'a ' + type(value).__name__)}"
    for field in ("arg", "body"):
        value = data.get(field)
        if value is not None and not isinstance(value, (str, int, float)):
            return f"{field}: expected a text, got {kinds.get(type(value), 'a ' + type(value).__name__)}"
    return None


def mode_clash(root: Path, worksheet: bool) -> str | None:
    """Why this call may not build into ``root/_build`` (None: it may). ``_build/derivations/mode`` records the
    mode of the build that wrote there; a build of the other mode is refused (a worksheet beside a solution's
    cache, answer keys and exports would leak them), and so is a worksheet beside files whose mode is not
    recorded. Records the mode when there is none."""
    folder = root / "_build" / "derivations"
    mode = "worksheet" if worksheet else "solution"
    try:
        before = (folder / MODE_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        before = "unknown" if (folder / "solution").exists() or (folder / "cache").exists() else None
    except (OSError, UnicodeDecodeError):
        before = "unknown"
    if before == mode or before == "unknown" and mode == "solution":
        return None
    if before is not None:
        what = f"a {before} build's files" if before != "unknown" else "files of a build whose mode is not recorded"
        return (f"_build holds {what} (_build/derivations); a {mode} build beside them would mix the two"
                f"{' and keep the answers' if mode == 'worksheet' else ''}: delete _build first")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{MODE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(mode + "\n", encoding="utf-8")
        os.replace(tmp, folder / MODE_FILE)
    except OSError:
        pass  # an unwritable _build: MyST will say so
    return None


def source_stamp() -> str:
    """The package's source files by name, size and modification time: an edit to the engine, the printers
    or the plugin (this module, :mod:`derivations.cli.myst`) gives new cache keys."""
    package = package_dir()
    h = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml", ".typ") and "__pycache__" not in path.parts:
            st = path.stat()
            h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cache_key(kind: str, name: str, data: dict, root: Path, worksheet: bool) -> str:
    """The call's key (64 hex digits), or ``""`` for a call not to cache (a problem that cannot be read: its
    error is reported when the call runs; ``deriv-problem-source``: nothing to derive)."""
    options = data.get("options") or {}
    if name == "deriv-problem-source" or usable(data):
        return ""
    try:
        path, _ = problem_path(root, options.get("problem"))
        data_bytes = problem_bytes(path or handout_file())
    except (ValueError, OSError):
        return ""
    if data_bytes is None:  # too large: refused when the call runs
        return ""
    digest = hashlib.sha256(data_bytes).hexdigest()
    call = [kind, name, data.get("arg"), sorted(options.items(), key=str), data.get("body"), str(path), digest,
            worksheet, source_stamp()]
    return hashlib.sha256(json.dumps(call, sort_keys=True, default=str).encode()).hexdigest()


def cache_file(root: Path, key: str) -> Path:
    return root / "_build" / "derivations" / "cache" / f"{key}.json"


def cached(root: Path, key: str):
    """The stored nodes for ``key``, if every file they link is still there; else None."""
    if not key:
        return None
    try:
        entry = json.loads(cache_file(root, key).read_text(encoding="utf-8"))
        if all((root / rel).is_file() for rel in entry["files"]):
            return entry["nodes"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or damaged: build again
    return None
