"""The accepted-size limits at their worst, timed (printed, not asserted): python benchmarks/limits.py

Each case is a problem the tool accepts, as close to a limit as it gets (the most weights, the most outputs,
the most samples, the deepest, the biggest numbers), run through the whole CLI in text and JSON with
--theorems. The README states the worst figure; every one must stay well under 30 s on a 2-core machine.
Problems just past each limit are refused at once (the tests check the one-line messages).
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {  # name: (layers, activation, samples, bias, magnitude)
    "1022-1-2 ReLU (1024 weights)": ((1022, 1, 2), "relu", 1, False, 1),
    "16-32-16 sigmoid (1024 weights)": ((16, 32, 16), "sigmoid", 1, False, 1),
    "2-14-55 ReLU (55 outputs, cost 3894)": ((2, 14, 55), "relu", 1, False, 1),
    "8-16-4 tanh x 16 samples (cost 3776)": ((8, 16, 4), "tanh", 16, False, 1),
    "8-16-16-16-16-4 ReLU (4 hidden layers)": ((8, 16, 16, 16, 16, 4), "relu", 1, False, 1),
    "8-16-16-16-16-4 tanh (4 hidden layers)": ((8, 16, 16, 16, 16, 4), "tanh", 1, False, 1),
    "4-8-8-2 softplus, biases, 8 samples": ((4, 8, 8, 2), "softplus", 8, True, 1),
    "2-2-2 tanh, entries 1e6": ((2, 2, 2), "tanh", 1, False, 10**6),
    "3-4-2 sigmoid, x = 1e6, 60-digit weights": ((3, 4, 2), "sigmoid", 1, False, "digits"),
}


def write(folder: Path, name: str, layers, act, samples, bias, magnitude) -> Path:
    rng = random.Random(len(name))

    def num():
        if magnitude == "digits":
            return f'"0.{rng.randint(10**58, 10**59 - 1)}"'
        return str(round(rng.uniform(-1, 1), 2) * magnitude)

    text = f'[network]\nlayers = {list(layers)}\nactivation = "{act}"\nbias = {str(bias).lower()}\n[data]\n'
    xs = [[num() if magnitude != "digits" else "1000000" for _ in range(layers[0])] for _ in range(samples)]
    ys = [["1"] + ["0"] * (layers[-1] - 1) for _ in range(samples)]
    fmt = lambda rows: "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"  # noqa: E731
    text += f"x = {fmt(xs) if samples > 1 else '[' + ', '.join(xs[0]) + ']'}\n"
    text += f"y = {fmt(ys) if samples > 1 else '[' + ', '.join(ys[0]) + ']'}\n[init]\n"
    for l in range(len(layers) - 1):
        text += f"W_{'abcdefg'[l]} = {fmt([[num() for _ in range(layers[l])] for _ in range(layers[l + 1])])}\n"
    path = folder / f"case{len(list(folder.iterdir()))}.toml"
    path.write_text(text)
    return path


TIMEOUT = 120  # a run past this is reported, not waited for


def _timed(args) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return TIMEOUT, f">{TIMEOUT}"
    seconds = time.perf_counter() - start
    note = "" if done.returncode in (0, 1) else f" (exit {done.returncode}: {done.stderr.strip()[-50:]})"
    return seconds, f"{seconds:.1f}{note}"


# Every command on each case: print as text, JSON with --theorems and the NumPy script; check with one answer.
COMMANDS = {
    "text": lambda path, tmp: ["derivations.cli.print", "--config", str(path)],
    "json --theorems": lambda path, tmp: ["derivations.cli.print", "--config", str(path), "--format", "json", "--theorems"],
    "python": lambda path, tmp: ["derivations.cli.print", "--config", str(path), "--format", "python", "-o", str(tmp / "s.py")],
    "check": lambda path, tmp: ["derivations.teaching.check", str(tmp / "answers.toml"), "--config", str(path)],
}


def main():
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "answers.toml").write_text('[answers]\n"grad.w_a11" = 0\n')
        cases = tmp / "cases"
        cases.mkdir()
        print(f"{'case':>42} " + " ".join(f"{c:>16}" for c in COMMANDS), flush=True)
        for name, spec in CASES.items():
            path = write(cases, name, *spec)
            row = []
            for command in COMMANDS.values():
                seconds, shown = _timed(command(path, tmp))
                worst = max(worst, seconds)
                row.append(shown)
            print(f"{name:>42} " + " ".join(f"{c:>16}" for c in row), flush=True)
        # variants on a base no draw can satisfy: refused, naming the rule
        base = tmp / "base.toml"
        base.write_text('[network]\nlayers = [3, 4, 2]\nactivation = "relu"\n[data]\nx = [0.9, 0.5, 0.1]\n'
                        'y = [1, 0]\n[init]\nW_a = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [0.2, 0.3, 0.1]]\n'
                        'W_b = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]\n[variants]\ndigits = 1\ndead = [1, 2, 3]\n')
        seconds, shown = _timed(["derivations.cli.variants", "2", "--out", str(tmp / "v"), "--config", str(base), "--format", "md"])
        worst = max(worst, seconds)
        print(f"{'variants, 3 of 4 units dead at 1 digit':>42} {shown:>16}")
    print(f"\nworst accepted case: {worst:.1f} s")


if __name__ == "__main__":
    main()
