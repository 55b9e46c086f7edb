"""An output folder shared with its owner: the tool overwrites only what it wrote, one run at a time, and
replaces a set of files in one short step.

``python -m derivations.variants`` writes into a folder that may hold the teacher's own files. There:

- **A manifest of what the tool wrote**, ``manifest.sha256`` (``sha256sum`` format: ``cd DIR && sha256sum -c
  manifest.sha256`` checks it). A file the run would write that exists but is not in the manifest, or has
  changed since, is the teacher's: the run refuses before writing anything, naming it, unless ``force``.
- **A lock**, ``.variants.lock`` (``flock``, released when the process ends, however it ends): a second run
  into the same folder is refused at once.
- **Staging**: a run writes everything into a new folder ``.variants-staging-XXXXXXXX`` inside the folder
  (a name made by ``mkdtemp``, so never a folder that exists: a teacher's own ``.variants-staging-*`` is not
  the tool's; readable by its owner only, as it holds answer keys); nothing outside it changes until every
  file is written and verified. Its name is recorded in the lock file, so a run killed outright (``kill
  -9``) leaves it to the next run, which removes exactly that folder. Then :meth:`Folder.commit` moves the
  files into place (renames, a fraction of a second, with Ctrl-C held off): first it records the new
  manifest in ``.variants.pending`` and removes the old ``keys.csv``, last it writes the manifest and
  removes the record. A commit cut short (power loss, ``kill -9``) leaves no ``keys.csv`` and the
  ``.variants.pending`` record: the next run names it and replaces the set. A failure or Ctrl-C before the
  commit removes the staging folder: the folder is as it was.
- **The manifest never lies**: every line it records is the SHA-256 of the file on disk when it is written
  (after a cut-short commit, a file may match the old manifest or the record: the one it matches is kept),
  so ``sha256sum -c`` holds after any interruption. A file is removed only when the manifest lists it with
  its present content *and* its name is one the tool writes (``own``): a line a teacher adds for their own
  file never gets that file deleted.

>>> sha256_line("3b5d...", "ada/key.pdf")
'3b5d...  ada/key.pdf'
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

from ..engine import reading
from ..engine.errors import ProblemError
from .files import write_atomic

MANIFEST = "manifest.sha256"
LOCK = ".variants.lock"
PENDING = ".variants.pending"
STAGING = ".variants-staging-"
_LINE = re.compile(r"([0-9a-f]{64})  ([A-Za-z0-9_][A-Za-z0-9_.@+-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.@+-]*)*)")


def sha256_line(digest: str, name: str) -> str:
    """One manifest line, as ``sha256sum`` writes it."""
    return f"{digest}  {name}"


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_manifest(text: str, where: str) -> dict:
    """``{relative path: sha256}`` of a manifest's text; a line that is not ``HASH  PATH`` is one error."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = _LINE.fullmatch(line)
        if not m or ".." in m[2].split("/"):
            raise ProblemError("--out", f"{where} line {n} is not 'SHA256  PATH' (was it edited? --force rewrites it)")
        out[m[2]] = m[1]
    return out


def parse_lines(text: str) -> list:
    """The names of a manifest's well-formed lines, ignoring any other line (to recognise a set's files even
    in a damaged manifest)."""
    return [m[2] for m in map(_LINE.fullmatch, text.splitlines()) if m]


def manifest_text(entries: dict) -> str:
    return "".join(sha256_line(entries[name], name) + "\n" for name in sorted(entries))


class Folder:
    """The output folder ``path`` for one run: :meth:`lock`, :meth:`check`, :meth:`stage`, :meth:`commit`,
    :meth:`close`."""

    def __init__(self, path, force: bool = False):
        self.path = Path(path)
        self.force = force
        self.where = reading.path_text(self.path)
        self._lock = None
        self.staging = None
        self.overwritten = []  # files not the tool's that --force let it replace
        self.interrupted = False  # a previous commit was cut short

    # -- one run at a time ----------------------------------------------------------------------------

    def lock(self) -> None:
        """Take the folder's lock, or refuse (one line) when another run holds it."""
        import fcntl

        lock = self.path / LOCK
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise ProblemError("--out", f"cannot create the lock file {reading.path_text(lock)}: {err.strerror or err}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ProblemError("--out", f"another run is writing into {self.where} (it holds {LOCK}); wait for it to "
                                        "finish") from None
        self._lock = fd
        self._remove_recorded_staging()

    def _remove_recorded_staging(self) -> None:
        """Remove the staging folder a killed run recorded in the lock file (only that one: a teacher's folder
        of a similar name was never recorded), and clear the record."""
        try:
            recorded = os.pread(self._lock, 4096, 0).decode("utf-8", errors="replace").strip()
        except OSError:
            recorded = ""
        if recorded.startswith(STAGING) and "/" not in recorded and recorded not in (".", ".."):
            leftover = self.path / recorded
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
        self._record("")

    def _record(self, name: str) -> None:
        """Write ``name`` (this run's staging folder, or nothing) into the lock file."""
        os.ftruncate(self._lock, 0)
        if name:
            os.pwrite(self._lock, (name + "\n").encode("utf-8"), 0)

    def close(self) -> None:
        """Remove the staging folder (if a run stopped before its commit) and release the lock."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        if self._lock is not None:
            try:
                self._record("")
            except OSError:
                pass
            os.close(self._lock)  # releases the flock
            self._lock = None

    # -- what is ours ---------------------------------------------------------------------------------

    def manifest(self) -> dict:
        """What the tool wrote here before: the manifest's entries, and a cut-short commit's."""
        out = {}
        for name in (MANIFEST, PENDING):
            path = self.path / name
            if path.is_symlink() or (path.exists() and not path.is_file()):
                raise ProblemError("--out", f"{reading.path_text(path)} is not a regular file")
            if not path.exists():
                continue
            if name == PENDING:
                self.interrupted = True
            try:
                entries = parse_manifest(path.read_text(encoding="utf-8"), reading.path_text(path))
            except (ProblemError, UnicodeDecodeError) as err:
                if self.force:
                    continue
                if isinstance(err, ProblemError):
                    raise
                raise ProblemError("--out", f"{reading.path_text(path)} is not UTF-8 text (--force rewrites it)") from None
            for key, digest in entries.items():
                out.setdefault(key, set()).add(digest)
        return out

    def check(self, names: list) -> dict:
        """Refuse (one line naming the file) to write any of ``names`` (paths relative to the folder) over a
        file the tool did not write or that changed since, unless ``force``; never through a symbolic link.
        Returns the manifest read."""
        ours = self.manifest()
        self.overwritten = []
        for name in names:
            path = self.path / name
            parent = path.parent
            if parent != self.path and (parent.is_symlink() or (parent.exists() and not parent.is_dir())):
                raise ProblemError("--out", f"{reading.path_text(parent)} is {'a symbolic link' if parent.is_symlink() else 'not a folder'}; "
                                            "refusing to write through it")
            if path.is_symlink() or (path.exists() and not path.is_file()):
                raise ProblemError("--out", f"{reading.path_text(path)} is not a regular file; refusing to replace it")
            if not path.exists():
                continue
            if file_hash(path) in ours.get(name, ()):
                continue
            if not self.force:
                why = "changed since the tool wrote it" if name in ours else "not written by this tool"
                raise ProblemError("--out", f"{reading.path_text(path)} is {why} ({MANIFEST} says so); refusing to "
                                            "overwrite it (move it away, or --force)")
            self.overwritten.append(name)
        return ours

    # -- staging and commit ---------------------------------------------------------------------------

    def stage(self) -> Path:
        """A new staging folder inside the output folder (same file system: the commit only renames), named by
        ``mkdtemp`` (never an existing folder), its name recorded in the lock file."""
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.path))
        self._record(self.staging.name)
        return self.staging

    def commit(self, names: list, folders: list, own=lambda name: True) -> None:
        """Move the staged ``names`` into place, replacing the set. ``folders`` are the student folders this
        run rewrote: the tool's own files there that this run did not write (another format's pages, say)
        are removed, so no folder mixes two runs; ``own(name)`` says whether a name is one the tool writes
        (no other file is ever removed, whatever the manifest lists). Ctrl-C waits until the commit is done."""
        ours = self.check(names)  # again, under the lock: nothing of the teacher's appeared meanwhile
        new = {name: file_hash(self.staging / name) for name in names}
        stale, kept = [], {}
        wanted = set(names)
        for name, digests in ours.items():
            path = self.path / name
            if name in wanted or not path.is_file() or path.is_symlink() or not own(name):
                continue
            digest = file_hash(path)
            if digest not in digests:
                continue  # changed since: not the tool's any more, and not listed
            if name.split("/")[0] in folders:
                stale.append(name)
            else:
                kept[name] = digest  # the file on disk, whichever record it matched
        entries = {**kept, **new}
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        try:
            write_atomic(self.path / PENDING, manifest_text(entries))
            try:
                (self.path / "keys.csv").unlink(missing_ok=True)  # a set without keys.csv is visibly incomplete
                for name in sorted(names, key=lambda n: n == "keys.csv"):  # keys.csv last
                    target = self.path / name
                    target.parent.mkdir(exist_ok=True)
                    os.replace(self.staging / name, target)
                for name in stale:
                    (self.path / name).unlink(missing_ok=True)
                write_atomic(self.path / MANIFEST, manifest_text(entries))
                (self.path / PENDING).unlink()
            except OSError as err:
                raise ProblemError("--out", f"moving the files into {self.where} failed ({err.strerror or err}): the set is "
                                            f"partly replaced, without keys.csv ({PENDING} records it); run again") from None
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
