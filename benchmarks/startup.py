"""Start-up: ``python -m derivations.print`` (the handout's worked solution, printed) against ``python -c
"import sympy"``, the floor any command of the package stands on. Runs the two in turn (interleaved, so a
change in the machine's load falls on both alike) and prints each one's median wall time and their ratio.

    python benchmarks/startup.py [--runs 15]

Issue 33's bound: the ratio at most 1.2. ``--modules`` lists what the command imports beyond ``import sympy``
(``python -X importtime``, heaviest first, with what each imports).
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {"import sympy": [sys.executable, "-c", "import sympy"],
            "derivations.print": [sys.executable, "-m", "derivations.print"]}


def timed(command: list) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--modules", action="store_true", help="list the watched heavy modules the command imports")
    args = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache and the bytecode
        timed(command)
    times = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(timed(command))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:>18}: median {median * 1000:6.0f} ms of {args.runs} runs (min {min(times[name]) * 1000:.0f} ms)")
    print(f"{'ratio':>18}: {medians['derivations.print'] / medians['import sympy']:.2f} (issue 33: at most 1.2)")
    if args.modules:
        floor, loaded = (_imported([sys.executable, "-X", "importtime", *command[1:]])
                         for command in COMMANDS.values())
        extra = sorted(((t, name) for name, t in loaded.items() if name not in floor), reverse=True)
        print(f"imported beyond import sympy: {len(extra)} modules")
        for t, name in extra[:15]:
            print(f"  {t / 1000:6.1f} ms  {name}")


def _imported(command: list) -> dict:
    """``{module: microseconds with what it imports}`` from ``python -X importtime``."""
    err = subprocess.run(command, capture_output=True, text=True).stderr
    rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:")]
    return {row[2].strip(): int(row[1]) for row in rows if row[1].strip().isdigit()}


if __name__ == "__main__":
    main()
