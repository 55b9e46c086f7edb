"""The work a command will do on a problem, estimated before it starts, and the one bound every command checks.

Every command derives the problem and evaluates it; then the worked solution, the theorems, the JSON, the
NumPy script or the checker add their own part. Each part grows with the problem's cost (samples ×
(parameters + units + outputs²), :attr:`Problem.cost`) and with the softmax Jacobian's entries (samples ×
outputs²), whose every entry is an exact value and, in the worked solution, a printed line. The rates below
are seconds of one core of the project's 2-core machine per 1000 units of each, fitted to the parts'
CPU times on the limit cases of `benchmarks/limits.py`, rounded up and given a margin (so an estimate errs
high). A command
whose estimate passes :data:`MAX_SECONDS` refuses the problem in one line before any work, naming the
estimate and the bound.

>>> from derivations.engine.problem import load_problem
>>> round(estimate(load_problem(), "text"), 2)
1.16
"""

from __future__ import annotations

from .errors import ProblemError

MAX_SECONDS = 10  # the bound: every command finishes within seconds on the worst problem it accepts
START = 1.0  # seconds to import SymPy and the package, whatever the problem
MARGIN = 1.25  # the fitted parts, times this: CPU times vary by a fifth from run to run on a shared machine

RATES = {  # (seconds per 1000 units of cost, per 1000 Jacobian entries), per part of a command
    "derive": (0.4, 0.25),  # the symbolic derivation
    "values": (1.75, 0.4),  # every exact value and its decimal
    "theorems": (0.8, 0.35),  # the symmetry theorems' proofs at the problem's structure
    "every": (0.8, 2.4),  # --theorems: the numerical checks (a training run, the random-init contrast)
    "solution": (0.6, 1.5),  # the worked solution, step by step
    "json": (0.4, 0.5),  # the JSON of every value
    "detailed": (0.42, 0.8),  # the JSON with --theorems: every proof step's expressions
    "python": (0.2, 0.6),  # the NumPy script
    "check": (1.35, 1.9),  # the checker: its own derivation, its decimals, the answers
    "page": (0.3, 0.3),  # the handout's page (PDF, worksheet)
    "proofs": (2.5, 1.0),  # a page's theorem boxes: every proof step's display (2686 steps at 16-32-16)
}
# seconds per 1000 units of cost and step of a training figure (two runs: the init and a random one); several
# samples run as NumPy arrays, one sample in Python floats
TRAINING = {"one": 0.045, "several": 0.012}
# and first, compiling one sample's formulas and every gradient entry: seconds per formula, more the more inputs
# each sums (1022-1-2: 25 ms a formula, 50 s in all; 16-32-16: 5 ms)
COMPILE = (0.005, 0.00002)  # (seconds per formula, and per formula and input)

TASKS = {  # what each command does
    "text": ("derive", "values", "theorems", "solution"),  # also markdown, latex and --param
    "json": ("derive", "values", "theorems", "json"),
    "python": ("derive", "values", "python"),
    "pdf": ("derive", "values", "page"),  # also --worksheet
    "check": ("check",),
    "site": ("derive", "values", "theorems", "solution", "proofs"),  # a page of the Sphinx or MyST site
}


def estimate(problem, task: str, every: bool = False) -> float:
    """Seconds of one core that ``task`` (a key of :data:`TASKS`) will take on ``problem``, estimated from its
    size alone; ``every`` adds the ``--theorems`` part."""
    parts = TASKS[task] + (("every", "detailed") if every and task == "json" else ("every",) if every else ())
    entries = problem.n_samples * problem.n_out**2
    return START + MARGIN * sum(RATES[part][0] * problem.cost + RATES[part][1] * entries for part in parts) / 1000


def check(problem, task: str, what: str, every: bool = False) -> None:
    """Refuse ``problem`` for ``task`` (shown to the user as ``what``) in one line when its estimate passes
    :data:`MAX_SECONDS`.

    >>> from derivations.engine.problem import make_problem
    >>> wide = make_problem([2, 14, 40], "relu", "mse", [1, 1], [1] + [0] * 39, [[[1] * 2] * 14, [[1] * 14] * 40])
    >>> check(wide, "check", "check")
    >>> check(wide, "text", "print --format text")
    Traceback (most recent call last):
    ...
    derivations.engine.errors.ProblemError: network.layers: expected at most 10 s of estimated work for print --format text, got about 16 s (cost 2244, 40 outputs); python -m derivations.check would take less
    """
    seconds = estimate(problem, task, every)
    if seconds > MAX_SECONDS:
        cheaper = [name for name, t in (("--format json", "json"), ("python -m derivations.check", "check"))
                   if t != task and estimate(problem, t) <= MAX_SECONDS]
        hint = f"; {' or '.join(cheaper)} would take less" if cheaper else ""
        raise ProblemError("network.layers", f"expected at most {MAX_SECONDS} s of estimated work for {what}, got about "
                                             f"{seconds:.0f} s (cost {problem.cost}, {problem.n_out} outputs){hint}")


def training_seconds(problem, steps: int) -> float:
    """Seconds a training figure (``deriv-training``: two runs of ``steps`` steps) takes, estimated.

    >>> from derivations.engine.problem import load_problem
    >>> round(training_seconds(load_problem(), 2000), 1)
    4.9
    """
    formulas = problem.n_weights + sum(problem.layers)
    compile_ = formulas * (COMPILE[0] + COMPILE[1] * problem.n_in)
    return START + MARGIN * (compile_ + problem.cost / 1000 * steps * _training_rate(problem))


def _training_rate(problem) -> float:
    return TRAINING["one" if problem.n_samples == 1 else "several"]


def check_training(problem, steps: int) -> None:
    """Refuse a training figure past :data:`MAX_SECONDS` of estimated work, in one line naming the steps that fit."""
    seconds = training_seconds(problem, steps)
    if seconds > MAX_SECONDS:
        fit = int((MAX_SECONDS - training_seconds(problem, 0)) * 1000 / (MARGIN * problem.cost * _training_rate(problem)))
        raise ProblemError("steps", f"expected at most {MAX_SECONDS} s of estimated work for the training figure, "
                                      f"got about {seconds:.0f} s ({steps} steps at cost {problem.cost}); "
                                      + (f"at most {fit} steps fit" if fit >= 1 else "a smaller network"))
