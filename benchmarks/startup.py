"""Start-up: ``python -m derivations.print`` (the handout's worked solution, printed) against ``python -c
"import sympy"``, the floor any command of the package stands on. Runs the two in turn (interleaved, so a
change in the machine's load falls on both alike) and prints each one's median wall time and their ratio.

    python benchmarks/startup.py [--runs 15]

Issue 33's bound: the ratio at most 1.2. The modules the command imports that it does not need are listed
with ``--modules`` (``python -X importtime``, heaviest first).
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {"import sympy": [sys.executable, "-c", "import sympy"],
            "derivations.print": [sys.executable, "-m", "derivations.print"]}
WATCHED = ("sympy.printing.pycode", "sympy.printing.codeprinter", "sympy.printing.jscode", "sympy.tensor",
           "sympy.codegen", "numpy", "matplotlib", "typst", "derivations.outputs.export", "derivations.outputs.pdf",
           "derivations.engine.theorems", "derivations.engine.training")


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
        err = subprocess.run([sys.executable, "-X", "importtime", "-m", "derivations.print"], capture_output=True,
                             text=True).stderr
        loaded = {line.split("|")[-1].strip(): int(line.split("|")[1]) for line in err.splitlines() if "|" in line
                  and line.split("|")[1].strip().isdigit()}
        for name in WATCHED:
            if name in loaded:
                print(f"  imports {name} ({loaded[name] / 1000:.1f} ms with what it imports)")


if __name__ == "__main__":
    main()
