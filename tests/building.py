"""``sphinx_build(*args)``: ``python -m sphinx ARGS`` for the tests' small sites, as a completed process (exit
status, stdout, stderr), run in the test process.

A new interpreter costs each build about 2 s before Sphinx reads a page (importing Sphinx, MyST, SymPy and the
package); in the test process these are imported once. The build itself is Sphinx's own command line
(``sphinx.cmd.build.build_main``, which ``python -m sphinx`` runs once it has set the process's locale), with
stdout and stderr captured, so the exit status, the located warnings and ``-W`` behave as on the command line. Sphinx restores docutils' registries
after each build, and the extension keys its per-process cache on the problem file's content.

Builds with ``-j`` (Sphinx forks worker processes) and the tests whose point is the process itself (a fresh
interpreter, its environment: tests/test_sphinx.py's failing build, the site fixtures, the old extension
names, the canary in the environment) run ``python -m sphinx`` as a real process."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys


def sphinx_build(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m sphinx *args``: in this process, or in a child process if ``-j`` asks for workers."""
    args = [str(a) for a in args]
    if "-j" in args:
        return subprocess.run([sys.executable, "-m", "sphinx", *args], capture_output=True, text=True,
                              timeout=timeout)
    from sphinx.cmd.build import build_main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = build_main(args)
        except SystemExit as exit_:  # a refused build (the extension's output-folder guard) ends the process
            code = exit_.code
    return subprocess.CompletedProcess(["sphinx-build", *args], code, out.getvalue(), err.getvalue())
