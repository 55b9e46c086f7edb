"""Speed of the whole CLI, printed (not asserted): python benchmarks/cli.py [--runs N]

For 8-16-4, 16-32-8 and [8, 16, 16, 4] (ReLU, MSE, seeded random weights): the median time of
`python -m derivations.print` in text, JSON, text with --theorems and JSON with --theorems, and each one's
ratio to the text output (the target: at most 2x). Then the handout's CLI against a bare
`python -c "import sympy"` (the floor; the target: at most 1.5x, aim 1.2x), and the growth of the text
output with the number of weights (the target: near linear, 4x the weights at most ~4.5x the time).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive import median_run  # noqa: E402 (the same timing as the derivation benchmark)

SHAPES = [(8, 16, 4), (16, 32, 8), (8, 16, 16, 4)]
MODES = {"text": [], "json": ["--format", "json"], "text --theorems": ["--theorems"],
         "json --theorems": ["--format", "json", "--theorems"]}


def problem_file(layers, folder: Path) -> Path:
    rng = random.Random(1)
    text = f'[network]\nlayers = {list(layers)}\nactivation = "relu"\nloss = "mse"\n[data]\n'
    text += f"x = {[round(rng.uniform(-1, 1), 1) for _ in range(layers[0])]}\ny = {[1] + [0] * (layers[-1] - 1)}\n[init]\n"
    for l in range(len(layers) - 1):
        rows = [[round(rng.uniform(-0.5, 0.5), 2) for _ in range(layers[l])] for _ in range(layers[l + 1])]
        text += f"W_{'abcd'[l]} = {rows}\n"
    path = folder / f"{'-'.join(map(str, layers))}.toml"
    path.write_text(text)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cli = [sys.executable, "-m", "derivations.print"]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'network':>12} {'weights':>8} " + " ".join(f"{m:>16}" for m in MODES))
        texts = {}
        for layers in SHAPES:
            path = problem_file(layers, Path(tmp))
            times = {m: median_run(cli + ["--config", str(path)] + extra, args.runs) for m, extra in MODES.items()}
            texts[layers] = times["text"]
            weights = sum(a * b for a, b in zip(layers[1:], layers))
            cells = [f"{times[m]:7.2f} s ({times[m] / times['text']:.1f}x)" for m in MODES]
            print(f"{'-'.join(map(str, layers)):>12} {weights:>8} " + " ".join(f"{c:>16}" for c in cells))
        a, b = SHAPES[0], SHAPES[1]
        wa = sum(x * y for x, y in zip(a[1:], a))
        wb = sum(x * y for x, y in zip(b[1:], b))
        print(f"\ngrowth: {wb / wa:.1f}x the weights ({'-'.join(map(str, a))} -> {'-'.join(map(str, b))}) took "
              f"{texts[b] / texts[a]:.1f}x the time (text output)")
    runs = max(args.runs, 7)
    handout = median_run(cli, runs)
    floor = median_run([sys.executable, "-c", "import sympy"], runs)
    print(f"\nhandout CLI: median {handout:.3f} s; python -c 'import sympy': {floor:.3f} s; ratio {handout / floor:.2f} "
          f"(target at most 1.5, aim 1.2), {runs} runs each")


if __name__ == "__main__":
    main()
