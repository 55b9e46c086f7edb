"""Students per minute of the variants tool, printed (not asserted): python benchmarks/variants.py [N] [--config BASE.toml]
[--bases-only]

Runs ``python -m derivations.variants N --out TMP --format pdf`` as an instructor would (a fresh process, every
core, N = 300 by default: problem file, worksheet and key PDFs, self-check page when installed, keys.csv),
timed from the command's start to its exit, and reports students per minute. The drawing phase (rules
checked, every variant verified) and the writing phase are also timed in-process with one core. Then, for
bases beyond the handout's shape (Mazur's, two hidden layers with biases, two samples), seconds per student
on one core: drawing (rules), verifying, the keys.csv row and the two PDFs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=300)
    ap.add_argument("--config", help="base problem (default: the handout's)")
    ap.add_argument("--bases-only", action="store_true", help="only the per-student times of the other bases")
    args = ap.parse_args()
    if not args.bases_only:
        handout(args)
    other_bases(min(args.n, 5))


BASES = {"Mazur's": ROOT / "derivations" / "problems" / "mazur.toml",
         "two hidden layers, biases": ROOT / "docs" / "problems" / "two-layers.toml",
         "two samples": ROOT / "docs" / "problems" / "minibatch.toml",
         "two samples, biases": ROOT / "tests" / "problems" / "two-samples.toml"}


def other_bases(k: int) -> None:
    from derivations import evaluate
    from derivations.cli.variant_set import render_pages
    from derivations.teaching.drawing import draw, read_base
    from derivations.teaching.graded import graded
    from derivations.teaching.oracle import verify
    from derivations.teaching.variant_file import variant_toml
    from derivations.engine.errors import ProblemError

    for name, path in BASES.items():
        base = read_base(path)
        t = time.perf_counter()
        drawn = [draw(base, "bench", f"s{i}") for i in range(k)]
        t_draw = (time.perf_counter() - t) / k
        t_verify = t_pages = 0.0
        pages = "and two PDFs "
        for p in drawn:
            t = time.perf_counter()
            v = evaluate(p)
            verify(v)
            text = variant_toml(base, p)
            graded(v, text.encode())
            t_verify += time.perf_counter() - t
            t = time.perf_counter()
            try:
                render_pages(v, text, "pdf")
            except ProblemError as err:  # the page cannot show this base (yet)
                pages = f"(no PDFs: {err}) "
            t_pages += time.perf_counter() - t
        print(f"{name} ({path.name}), one core, {k} students: {t_draw + (t_verify + t_pages) / k:.2f} s per student: "
              f"draw (rules) {t_draw:.2f} s, derive, verify and keys {t_verify / k:.2f} s, {pages}{t_pages / k:.2f} s")


def handout(args) -> None:
    extra = ["--config", args.config] if args.config else []
    with tempfile.TemporaryDirectory(prefix="variants-bench-") as tmp:
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "derivations.variants", str(args.n), "--out", tmp, "--seed", "bench",
                              *extra], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(f"variants failed: {run.stderr.strip()}")
        pdfs = sum(1 for _ in Path(tmp).rglob("*.pdf"))
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    print(f"{args.n} students, {os.cpu_count()} cores: {wall:.1f} s wall, {args.n / wall * 60:.0f} students per minute "
          f"({pdfs} PDFs, {size / 1e6:.1f} MB)")

    from derivations import evaluate
    from derivations.cli.variant_set import render_pages
    from derivations.teaching.drawing import draw, read_base
    from derivations.teaching.oracle import verify
    from derivations.teaching.variant_file import variant_toml

    base = read_base(args.config)
    k = min(args.n, 30)
    t = time.perf_counter()
    drawn = [draw(base, "bench", f"s{i}") for i in range(k)]
    t_draw = (time.perf_counter() - t) / k
    t = time.perf_counter()
    for p in drawn:
        v = evaluate(p)
        verify(v)
        render_pages(v, variant_toml(base, p), "pdf")
    t_write = (time.perf_counter() - t) / k
    print(f"one core, per student: draw (rules) {t_draw * 1000:.0f} ms, verify and two PDFs {t_write * 1000:.0f} ms")


if __name__ == "__main__":
    main()
