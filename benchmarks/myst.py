"""Speed of the MyST-MD plugin, printed (not asserted): python benchmarks/myst.py [--runs N]

1. One plugin call as MyST makes it (a new process, the node on stdin), median of N: the {deriv} role,
   deriv-gradient and deriv-handout, with an empty cache (the derivation and the page's content built) and
   with the call already cached under _build (answered without importing SymPy), against a bare
   ``python -c pass`` and ``python -c "import derivations"``.
2. The example project (docs-myst/: the handout page and the worked-solution page, 18 roles and directives)
   built by ``myst build --md`` from a fresh copy (cold: empty cache) and again (warm), with the number of
   plugin processes MyST started; skipped without the ``myst`` command (.ci/node or PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CALLS = {
    "{deriv}`grad.w_b21 | exact`": ("--role", "deriv", {"body": "grad.w_b21 | exact"}),
    "deriv-gradient w_b21": ("--directive", "deriv-gradient", {"arg": "w_b21", "options": {}}),
    "deriv-handout": ("--directive", "deriv-handout", {"options": {}}),
}


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def timed(cmd, cwd, stdin="", environ=None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, env=environ or env(), check=True)
    return time.perf_counter() - start


def calls(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        floor = statistics.median(timed([sys.executable, "-c", "pass"], tmp) for _ in range(runs))
        package = statistics.median(timed([sys.executable, "-c", "import derivations"], tmp) for _ in range(runs))
        print(f"python -c pass: {floor:.3f} s; python -c 'import derivations' (SymPy): {package:.3f} s")
        print(f"{'call':32} {'cold (no cache)':>16} {'cached':>10}")
        for label, (flag, name, data) in CALLS.items():
            cmd = [sys.executable, "-m", "derivations_myst", flag, name]
            cold = []
            for _ in range(runs):
                shutil.rmtree(Path(tmp) / "_build", ignore_errors=True)
                cold.append(timed(cmd, tmp, json.dumps(data)))
            warm = statistics.median(timed(cmd, tmp, json.dumps(data)) for _ in range(runs))
            print(f"{label:32} {statistics.median(cold):>14.3f} s {warm:>8.3f} s")


def myst_command() -> str | None:
    local = REPO / ".ci" / "node" / "node_modules" / ".bin" / "myst"
    return shutil.which("myst") or (str(local) if local.exists() else None)


def book(worksheet: bool) -> None:
    myst = myst_command()
    if myst is None:
        print("example project: skipped (no myst command; npm install --prefix .ci/node mystmd@1)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "book"
        shutil.copytree(REPO / "docs-myst", project, ignore=shutil.ignore_patterns("_build"))
        log = Path(tmp) / "calls.log"
        counting = Path(tmp) / "python"  # counts the plugin's processes, then runs the real interpreter
        counting.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {sys.executable} "$@"\n')
        counting.chmod(0o755)
        environ = {**env(), "DERIVATIONS_PYTHON": str(counting), "DERIVATIONS_WORKSHEET": "1" if worksheet else ""}
        mode = "worksheet" if worksheet else "solution"
        for state in ("cold", "warm"):
            log.write_text("")
            seconds = timed([myst, "build", "--md"], project, environ=environ)
            n = len(log.read_text().splitlines())
            print(f"myst build --md, docs-myst ({mode}, {state} cache): {seconds:.1f} s, {n} plugin processes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    calls(args.runs)
    book(worksheet=False)
    book(worksheet=True)


if __name__ == "__main__":
    main()
