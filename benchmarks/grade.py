"""Students per minute of the grading tool, and the Moodle export's cost, printed (not asserted):
python benchmarks/grade.py [N] [--config BASE.toml]

Writes N variants (Markdown pages, with ``--moodle``, timed), a responses CSV in which every student copies
their keys.csv row with a few answers changed (a wrong one, a blank, a word), then runs ``python -m
derivations.grade`` on it as an instructor would (a fresh process), timed from start to exit.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=100)
    ap.add_argument("--config", help="base problem (default: the handout's)")
    args = ap.parse_args()
    extra = ["--config", args.config] if args.config else []
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        out = Path(tmp) / "variants"
        for moodle in ([], ["--moodle"]):
            start = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "derivations.variants", str(args.n), "--out", str(out), "--seed",
                                  "bench", "--format", "md", *moodle, *extra], cwd=ROOT, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"variants failed: {run.stderr.strip()}")
            print(f"variants {args.n} (md){' --moodle' if moodle else ''}: {time.perf_counter() - start:.1f} s")
        size = (out / "moodle.xml").stat().st_size
        print(f"moodle.xml: {size / 1e6:.1f} MB, {size / args.n / 1e3:.0f} kB a question")
        with open(out / "keys.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        cols = [c for c in rows[0] if c.startswith(("forward.", "backward.", "grad."))]
        responses = Path(tmp) / "responses.csv"
        with open(responses, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", *cols])
            for k, r in enumerate(rows):
                answers = [r[c] for c in cols]
                answers[k % len(cols)] = "0.123" if k % 3 == 0 else "" if k % 3 == 1 else "word"
                w.writerow([r["id"], *answers])
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "derivations.grade", str(responses), "--variants", str(out), "--out",
                              str(Path(tmp) / "grades.csv")], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(f"grade failed ({run.returncode}): {run.stderr.strip()[:500]}")
        report = (Path(tmp) / "grades-report.html").stat().st_size
        klass = (Path(tmp) / "grades-class.html").stat().st_size
    print(f"grade {args.n} students: {wall:.1f} s wall, {args.n / wall * 60:.0f} students per minute, "
          f"{wall / args.n * 1000:.0f} ms a student; grades-report.html {report / 1e3:.0f} kB, "
          f"grades-class.html {klass / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
