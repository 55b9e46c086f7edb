"""The accepted-size limits at their worst, timed (printed, not asserted): python benchmarks/limits.py

Each case is a problem the tool accepts, as close to a limit as it gets (the most weights, the most outputs,
the most samples, the deepest, the biggest numbers), run through every command: print in every format (with
--theorems and --param), the NumPy script, the PDF, check with one answer, and a Sphinx page with every
directive. Beside each time, the work estimate the command checked before starting
(derivations.engine.work): a command whose estimate passes the bound refuses in one line (shown "refused"),
so every run must finish within seconds. Problems just past each limit are refused at once (the tests check
the one-line messages).
"""

from __future__ import annotations

import random
import resource
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
    "16-32-16 sigmoid x 3 samples (cost 4032)": ((16, 32, 16), "sigmoid", 3, False, 1),
    "1-1-14 tanh x 16 samples (cost 3632)": ((1, 1, 14), "tanh", 16, False, 1),
    "8-15-15-15-15-4 tanh, biases, 4 samples": ((8, 15, 15, 15, 15, 4), "tanh", 4, True, 1),
    # the largest that print accepts, by outputs and by samples (estimate just under the bound)
    "2-14-29 ReLU (cost 1320)": ((2, 14, 29), "relu", 1, False, 1),
    "8-16-4 tanh x 8 samples (cost 1888)": ((8, 16, 4), "tanh", 8, False, 1),
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args) -> tuple[float, str]:
    """``(CPU seconds, shown)``: the CPU time of the run (on a shared machine, wall time measures the load
    more than the tool; the wall time is shown beside it)."""
    start, cpu = time.perf_counter(), _cpu()
    try:
        done = subprocess.run([sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return TIMEOUT, f">{TIMEOUT}"
    seconds, wall = _cpu() - cpu, time.perf_counter() - start
    refused = done.returncode == 2 and "s of estimated work" in done.stderr
    note = "" if done.returncode in (0, 1) else " refused" if refused else f" (exit {done.returncode}: {done.stderr.strip()[-120:]})"
    return seconds, f"{seconds:.1f} (wall {wall:.1f}){note}"


# Every command on each case: (module and arguments, the work estimate's task, --theorems?)
COMMANDS = {
    "text": (["derivations.cli.print"], "text", False),
    "markdown": (["derivations.cli.print", "--format", "markdown"], "text", False),
    "latex": (["derivations.cli.print", "--format", "latex"], "text", False),
    "text --theorems": (["derivations.cli.print", "--theorems"], "text", True),
    "--param w_a11": (["derivations.cli.print", "--param", "w_a11"], "text", False),
    "json": (["derivations.cli.print", "--format", "json"], "json", False),
    "json --theorems": (["derivations.cli.print", "--format", "json", "--theorems"], "json", True),
    "python": (["derivations.cli.print", "--format", "python", "-o", "{tmp}/s.py"], "python", False),
    "pdf": (["derivations.cli.print", "--format", "pdf", "-o", "{tmp}/k.pdf"], "pdf", False),
    "check": (["derivations.cli.check", "{tmp}/answers.toml"], "check", False),
}

PAGE = """# Limits

```{{deriv-problem}} case.toml
```

```{{deriv-step}} step1
```

```{{deriv-gradient}} w_a11
```

```{{deriv-gradients}}
```

```{{deriv-theorem}} symmetry
```

```{{deriv-network}} w_a11
```

```{{deriv-training}}
:steps: {steps}
```
"""


def _site(path: Path, tmp: Path) -> tuple[float, str]:
    """A Sphinx page with the directives on the case (the handout's page only fits one hidden layer)."""
    import shutil

    from derivations.engine import work
    from derivations.engine.problem import load_problem

    src = tmp / "site"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n'
                                 'myst_enable_extensions = ["dollarmath"]\nsource_suffix = {".md": "markdown"}\n')
    shutil.copy(path, src / "case.toml")
    problem = load_problem(path)
    rate = work.TRAINING["one" if problem.n_samples == 1 else "several"]
    room = work.MAX_SECONDS - work.training_seconds(problem, 0)
    steps = max(1, min(300, int(room * 1000 / (problem.cost * rate))))  # at the bound (refused when none fit)
    (src / "index.md").write_text(PAGE.format(steps=steps))
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", str(src), str(tmp / "site-out")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
    seconds, wall = _cpu() - cpu, time.perf_counter() - start
    refused = "estimated work" in done.stderr
    return seconds, f"{seconds:.1f} s (wall {wall:.1f})" + (" refused" if refused else "")


def main():
    from derivations.engine import work
    from derivations.engine.problem import load_problem

    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "answers.toml").write_text('[answers]\n"grad.w_a11" = 0\n')
        cases = tmp / "cases"
        cases.mkdir()
        print("each run: the estimate checked before it, its CPU seconds and wall seconds ('refused': one line, exit 2)")
        for name, spec in CASES.items():
            path = write(cases, name, *spec)
            problem = load_problem(path)
            print(f"\n{name} (cost {problem.cost})", flush=True)
            for command, (args, task, every) in COMMANDS.items():
                argv = [a.format(tmp=tmp) for a in args] + ["--config", str(path)]
                seconds, shown = _timed(argv)
                worst = max(worst, seconds)
                estimate = work.estimate(problem, task, every)
                print(f"  {command:>18}: estimate {estimate:5.1f} s, CPU {shown}", flush=True)
            seconds, shown = _site(path, tmp)
            worst = max(worst, seconds)
            print(f"  {'Sphinx page':>18}: estimate {work.estimate(problem, 'site'):5.1f} s, CPU {shown} "
                  "(one page, every directive but the handout's)", flush=True)
        # variants on a base no draw can satisfy: refused, naming the rule
        base = tmp / "base.toml"
        base.write_text('[network]\nlayers = [3, 4, 2]\nactivation = "relu"\n[data]\nx = [0.9, 0.5, 0.1]\n'
                        'y = [1, 0]\n[init]\nW_a = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [0.2, 0.3, 0.1]]\n'
                        'W_b = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]\n[variants]\ndigits = 1\ndead = [1, 2, 3]\n')
        seconds, shown = _timed(["derivations.cli.variants", "2", "--out", str(tmp / "v"), "--config", str(base),
                                 "--format", "md", "--seed", "limits"])
        worst = max(worst, seconds)
        print(f"\nvariants, 3 of 4 units dead at 1 digit: {shown}")
    print(f"\nworst run: {worst:.1f} s of CPU")


if __name__ == "__main__":
    main()
