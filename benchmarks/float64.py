"""BackProp.py at the edges of float64, measured (printed, not asserted): python benchmarks/float64.py

For each problem of tests/test_float64_edges.py (saturated sigmoids and softmaxes, far-left activations, logits
907 apart, every output layer and loss): the time to write the script (its values already evaluated), the largest relative error of its
``gradients(x, y, params)`` and its loss against the tests' independent mpmath backprop (at enough digits that
nothing cancels), how many values its self-check names as ones float64 may not give to 1e-9, and the
self-check's verdict. A value below float64's normal range (2.2e-308) is left out of the largest error (float64
cannot hold it; the count says how many).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mpmath
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from derivations import evaluate, load_problem  # noqa: E402
from derivations.outputs.export import to_python  # noqa: E402
from test_float64_edges import CASES, reference  # noqa: E402

TINY = mpmath.mpf("2.2250738585072014e-308")


def measure(name: str, folder: Path) -> str:
    path = folder / "problem.toml"
    path.write_text(CASES[name])
    p = load_problem(path)
    values = evaluate(p)
    start = time.process_time()
    script = folder / "BackProp.py"
    script.write_text(to_python(values), encoding="utf-8")
    seconds = time.process_time() - start
    spec = importlib.util.spec_from_file_location(f"bp{abs(hash(name))}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ref = reference(p)
    x, y, params = module.problem()
    one = p.n_samples == 1
    got = module.gradients(x[0] if one else x, y[0] if one else y, params)
    worst, below = mpmath.mpf(0), 0
    for matrix in values.gradients:
        g = np.reshape(got[matrix], (len(ref[matrix]), -1))
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                want = ref[matrix][i][j] if matrix.startswith("W") else ref[matrix][i]
                if abs(want) < TINY:
                    below += 1
                    continue
                worst = max(worst, abs(mpmath.mpf(float(g[i, j])) - want) / abs(want))
    loss = abs(mpmath.mpf(got["loss"]) - ref["loss"]) / ref["loss"] if ref["loss"] >= TINY else None
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, encoding="utf-8", timeout=120)
    verdict = "passed" if "Self-check passed" in run.stdout else f"FAILED (exit {run.returncode})"
    named = sum(len(v) for v in module.ROUNDING.values())
    return (f"{name:48} export {seconds:5.2f} s   gradients {mpmath.nstr(worst, 2):>8}"
            f"{f' (+{below} below 2.2e-308)' if below else '':22}   loss {mpmath.nstr(loss, 2) if loss is not None else 'below':>8}"
            f"   named {named:3}   self-check {verdict}")


def main() -> None:
    print("largest relative error of BackProp.py against an mpmath backprop, per problem:")
    with tempfile.TemporaryDirectory() as tmp:
        for k, name in enumerate(CASES):
            folder = Path(tmp) / str(k)
            folder.mkdir()
            print(measure(name, folder), flush=True)


if __name__ == "__main__":
    main()
