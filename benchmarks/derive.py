"""Speed of the derivation, printed (not asserted): python benchmarks/derive.py [--quick]

For widths 3-4-2, 8-16-4 and 16-32-8:
- layered: the time to derive every gradient (definitions of every forward and backward quantity, one
  closed form per weight) and its size in operations, every common subexpression named once;
- naive: SymPy's diff of the fully composed loss for every weight (in a child process, stopped after
  a minute), and the operation count of what it returns;
then the handout's whole `python -m derivations.print` run beside a bare `python -c "import sympy"`
(medians of several runs; the import is the floor).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sympy import ImmutableMatrix, Integer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivations import Problem, derive, make_problem  # noqa: E402

WIDTHS = [(3, 4, 2), (8, 16, 4), (16, 32, 8), (8, 16, 16, 4)]
NAIVE_LIMIT = 60.0


def problem(layers) -> Problem:
    weights = [ImmutableMatrix(layers[l + 1], layers[l], [Integer(1)] * (layers[l + 1] * layers[l]))
               for l in range(len(layers) - 1)]
    return make_problem(layers, "relu", "mse", (Integer(1),) * layers[0], (Integer(1),) + (Integer(0),) * (layers[-1] - 1),
                        weights)


def layered(layers):
    start = time.perf_counter()
    d = derive(problem(layers))
    seconds = time.perf_counter() - start
    return d, seconds, d.operation_count()


def _naive(layers, queue):
    from sympy import count_ops, diff

    d = derive(problem(layers))
    start = time.perf_counter()
    composed = d.substitute(d.symbols.total)
    grads = [diff(composed, d.symbols.param(w)) for w in d.params()]
    seconds = time.perf_counter() - start
    queue.put((seconds, sum(count_ops(g) for g in grads)))


def naive(layers):
    queue = mp.Queue()
    proc = mp.Process(target=_naive, args=(layers, queue))
    proc.start()
    proc.join(NAIVE_LIMIT)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None
    return queue.get()


def median_run(cmd, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only 3-4-2 and 8-16-4, and 3 CLI runs")
    args = ap.parse_args()
    widths = WIDTHS[:2] if args.quick else WIDTHS
    print(f"{'widths':>8} {'weights':>8} {'layered s':>10} {'layered ops':>12} {'naive s':>10} {'naive ops':>12} {'speed-up':>9}")
    for layers in widths:
        d, seconds, ops = layered(layers)
        result = naive(layers)
        if result is None:
            naive_s, naive_ops, ratio = f"> {NAIVE_LIMIT:.0f}", "-", f"> {NAIVE_LIMIT / seconds:.0f}x"
        else:
            naive_s, naive_ops, ratio = f"{result[0]:.3f}", str(result[1]), f"{result[0] / seconds:.0f}x"
        name = "-".join(map(str, layers))
        print(f"{name:>8} {problem(layers).n_weights:>8} {seconds:>10.4f} {ops:>12} {naive_s:>10} {naive_ops:>12} {ratio:>9}")

    runs = 3 if args.quick else 7
    cli = median_run([sys.executable, "-m", "derivations.print"], runs)
    floor = median_run([sys.executable, "-c", "import sympy"], runs)
    print(f"\npython -m derivations.print (handout): median {cli:.3f} s over {runs} runs")
    print(f"python -c 'import sympy' (the floor):  median {floor:.3f} s over {runs} runs")
    print(f"ratio: {cli / floor:.2f} (target: at most 1.5)")


if __name__ == "__main__":
    main()
