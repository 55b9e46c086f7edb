"""The problem: a small MLP and its numbers, read from TOML, every number exact.

The network is ``x -> H = W_a x -> L = act(H) -> O = W_b L -> Y = softmax(O) -> loss(Y, y)``
with no biases. Numbers are parsed from their decimal text, so ``0.1`` is exactly ``1/10``:

>>> p = load_problem()
>>> p.layers, p.activation, p.loss
((3, 4, 2), 'relu', 'mse')
>>> p.x
(9/10, 1/2, 1/10)
>>> p.W_a[0, 0]
1/10
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sympy import ImmutableMatrix, Rational

from . import reading
from .errors import ProblemError

HANDOUT = Path(__file__).with_name("problems") / "handout.toml"

ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")
LOSSES = ("mse", "cross_entropy")

# Above this many weights the exact evaluation and printing of every gradient stops being a
# matter of seconds (see benchmarks/derive.py); refuse rather than hang.
MAX_WEIGHTS = 1024

_KEYS = {
    "network": ("layers", "activation", "loss"),
    "data": ("x", "y"),
    "init": ("W_a", "W_b"),
}


@dataclass(frozen=True)
class Problem:
    """A network and its numbers, all exact (SymPy ``Rational``)."""

    layers: tuple[int, int, int]
    activation: str
    loss: str
    x: tuple
    y: tuple
    W_a: ImmutableMatrix
    W_b: ImmutableMatrix
    source: str = "handout"

    @property
    def n_in(self) -> int:
        return self.layers[0]

    @property
    def n_hidden(self) -> int:
        return self.layers[1]

    @property
    def n_out(self) -> int:
        return self.layers[2]

    @property
    def n_weights(self) -> int:
        return self.n_hidden * (self.n_in + self.n_out)

    def describe(self) -> str:
        """One line: widths, activation and loss.

        >>> load_problem().describe()
        '3-4-2 network, ReLU hidden units, MSE loss'
        """
        act = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "identity": "identity"}
        loss = {"mse": "MSE", "cross_entropy": "cross-entropy"}
        widths = "-".join(map(str, self.layers))
        return f"{widths} network, {act[self.activation]} hidden units, {loss[self.loss]} loss"


def parse_number(value, field: str) -> Rational:
    """An exact number from a TOML value: an integer, a float (by its decimal text) or a string.

    Strings may be decimals (``"0.9"``, ``"-3"``, ``"1e-2"``) or fractions (``"9/10"``); nothing else
    is accepted, and nothing is ever evaluated. The rules and limits are :func:`derivations.reading.parse_number`'s.

    >>> parse_number(0.1, "x"), parse_number("9/10", "x"), parse_number("-3", "x")
    (1/10, 9/10, -3)
    """
    return reading.parse_number(value, field)


def _kind(value) -> str:
    return reading.kind(value)


def _vector(value, n: int, field: str, what: str) -> tuple:
    if not isinstance(value, list) or len(value) != n:
        got = f"{len(value)} entries" if isinstance(value, list) else _kind(value)
        raise ProblemError(field, f"expected a list of {n} numbers ({what}), got {got}")
    return tuple(parse_number(v, f"{field}[{k + 1}]") for k, v in enumerate(value))


def _matrix(value, rows: int, cols: int, field: str, what: str) -> ImmutableMatrix:
    if isinstance(value, Rational):  # a default, already exact
        return ImmutableMatrix(rows, cols, [value] * (rows * cols))
    if not isinstance(value, list):
        c = parse_number(value, field)
        return ImmutableMatrix(rows, cols, [c] * (rows * cols))
    shape = f"one number, or a {rows}x{cols} matrix ({rows} rows, one per {what}, of {cols} numbers)"
    if len(value) != rows or not all(isinstance(r, list) and len(r) == cols for r in value):
        raise ProblemError(field, f"expected {shape}")
    return ImmutableMatrix(
        [[parse_number(v, f"{field}[{i + 1},{j + 1}]") for j, v in enumerate(r)] for i, r in enumerate(value)]
    )


def problem_from_dict(data: dict, source: str = "problem") -> Problem:
    """Validate a parsed TOML document and build the exact :class:`Problem`."""
    try:
        return _problem_from_dict(data, source)
    except ProblemError as err:
        if err.source is None:
            raise ProblemError(err.field, err.expected, source) from None
        raise


def _problem_from_dict(data: dict, source: str) -> Problem:
    for section, value in data.items():
        if section not in _KEYS:
            raise ProblemError(reading.name(section), f"unknown section; expected one of {', '.join(_KEYS)}")
        if not isinstance(value, dict):
            raise ProblemError(section, f"expected a table [{section}], got {_kind(value)}")
        for key in value:
            if key not in _KEYS[section]:
                raise ProblemError(f"{section}.{reading.name(key)}", f"unknown key; expected one of {', '.join(_KEYS[section])}")
    network, d, init = (data.get(s, {}) for s in _KEYS)

    layers = network.get("layers", [3, 4, 2])
    if (
        not isinstance(layers, list)
        or len(layers) != 3
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in layers)
    ):
        raise ProblemError("network.layers", f"expected three positive integers [inputs, hidden, outputs], got {layers!r}")
    n_in, n_h, n_out = layers
    if n_out < 2:
        raise ProblemError("network.layers", f"expected at least 2 outputs (softmax over one output is constant), got {n_out}")
    n_weights = n_h * (n_in + n_out)
    if n_weights > MAX_WEIGHTS:
        raise ProblemError(
            "network.layers", f"expected at most {MAX_WEIGHTS} weights, got {n_weights} ({n_in}-{n_h}-{n_out})"
        )

    activation = network.get("activation", "relu")
    if activation not in ACTIVATIONS:
        raise ProblemError("network.activation", f"expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    loss = network.get("loss", "mse")
    if loss not in LOSSES:
        raise ProblemError("network.loss", f"expected one of {', '.join(LOSSES)}, got {loss!r}")

    for key in ("x", "y"):
        if key not in d:
            raise ProblemError(f"data.{key}", "missing; expected a list of numbers")
    x = _vector(d["x"], n_in, "data.x", "one per input")
    y = _vector(d["y"], n_out, "data.y", "one per output")
    if loss == "cross_entropy" and (any(v < 0 for v in y) or sum(y) != 1):
        raise ProblemError("data.y", "expected a probability vector for cross_entropy (entries >= 0 summing to 1)")

    W_a = _matrix(init.get("W_a", Rational(1, 10)), n_h, n_in, "init.W_a", "hidden unit")
    W_b = _matrix(init.get("W_b", Rational(1, 10)), n_out, n_h, "init.W_b", "output")
    return Problem((n_in, n_h, n_out), activation, loss, x, y, W_a, W_b, source)


def load_problem(path: str | Path | None = None) -> Problem:
    """Read a problem TOML file; with no path, the handout's problem.

    Raises :class:`ProblemError` with one clear line for anything unusable.
    """
    path = HANDOUT if path is None else Path(path)
    source = "handout" if path == HANDOUT else reading.path_text(path)
    return problem_from_dict(reading.read_toml(path), source)
