"""Deep computational graphs: the time of each command on a chain of ``n`` layers of
``h_i = σ(h_{i−1})·tanh(h_{i−1}) + exp(h_{i−1}/4)``, whose exact forms repeat the forms before them three times
a layer (3ⁿ nodes written out). Every number comes from the names' decimals, equation by equation, so the work
grows with n, not 3ⁿ (before: 22 s at 4 layers for --format json, a RecursionError at 8 of another chain).

    python benchmarks/graph_depth.py [--layers 8 16 32 64]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {"print (text)": [], "print --format json": ["--format", "json"], "print --key --format pdf": ["--key", "--format", "pdf"]}


def graph(n: int) -> str:
    eqs = ['h1 = "sigmoid(x) + tanh(x)"'] + [f'h{i} = "sigmoid(h{i - 1}) * tanh(h{i - 1}) + exp(h{i - 1}/4)"' for i in range(2, n + 1)]
    return "[graph]\n" + "\n".join(eqs) + "\n\n[data]\nx = 0.5\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[8, 16, 32, 64])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    for n in args.layers:
        path = folder / f"deep{n}.toml"
        path.write_text(graph(n), encoding="utf-8")
        row = []
        for name, extra in COMMANDS.items():
            out = ["-o", str(folder / "out.pdf")] if "pdf" in extra else []
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "derivations.print", "--config", str(path), *extra, *out],
                           check=True, stdout=subprocess.DEVNULL)
            row.append(f"{name} {time.perf_counter() - start:.2f} s")
        print(f"{n:3d} layers: " + ", ".join(row))


if __name__ == "__main__":
    main()
