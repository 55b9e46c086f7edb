"""The problem: a small MLP and its numbers, read from TOML, every number exact.

The network is ``x -> H = W_a x (+ b_a) -> L = act(H) -> ... -> O = W_z L (+ b_z) -> Y = out(O)
-> loss(Y, y)``: any number of hidden layers (at least one), an activation per hidden layer, an output
layer (softmax, sigmoid or identity), optional biases, and one sample or several (the loss is then the
mean of the per-sample losses). Numbers are
parsed from their decimal text, so ``0.1`` is exactly ``1/10``:

>>> p = load_problem()
>>> p.layers, p.activation, p.output, p.loss, p.bias
((3, 4, 2), 'relu', 'softmax', 'mse', False)
>>> p.x
(9/10, 1/2, 1/10)
>>> p.W_a[0, 0]
1/10

Defaults, documented on the site's *Using the tool* page: ``activation = "relu"``, ``output = "softmax"``,
``loss = "mse"``, ``bias = false``, every weight ``0.1`` and every bias ``0`` when ``[init]`` leaves them out, and the
handout's widths ``[3, 4, 2]`` when ``layers`` is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sympy import ImmutableMatrix, Integer, Rational

from ..notation.printing import decimal_text
from . import reading
from .errors import ProblemError, located
from .ops import ACTIVATIONS, DEFAULT_ACTIVATION, DEFAULT_LOSS, DEFAULT_OUTPUT, LOSSES, OUTPUTS

HANDOUT = Path(__file__).parents[1] / "problems" / "handout.toml"

LETTERS = "abcdefghijklmnopqrstuvwxyz"

# The limits, each refused with one line before any heavy work (measured in benchmarks/limits.py; the
# worst accepted problems finish in seconds, see docs/reference.md).
MAX_WEIGHTS = 1024  # weights and biases together
MAX_HIDDEN_LAYERS = 4
MAX_SAMPLES = 16
# The cost that really grows: every sample repeats the network, and the softmax Jacobian has outputs²
# entries per sample.
MAX_COST = 4096
MAX_MAGNITUDE = 10**6  # |every number|: exponentials of larger logits make SymPy's sign queries crawl

_KEYS = {
    "network": ("layers", "activation", "output", "loss", "bias", "shared_bias"),
    "data": ("x", "y"),
    "init": None,  # W_a, W_b, ... and b_a, b_b, ...: checked against the layers
    # Read by ``python -m derivations.variants`` only (what a variant may draw); ignored here.
    "variants": ("digits", "dead"),
    # The students' page: its title, the parameters it asks for, the closing gradient-descent step's learning rate.
    "worksheet": ("title", "ask", "lr", "closed"),
}
WORKSHEET_LR = Rational(1, 2)  # the students' page's gradient-descent step, unless [worksheet] lr gives one
MAX_ASKED = 6  # [worksheet] ask: one path block and diagram each (the page's cap)
MAX_TITLE = 80  # [worksheet] title: characters, one line (a PDF's heading, a browser tab)


def weight_name(layer: int) -> str:
    """``W_a`` for the first linear layer, ``W_b`` for the second, ..."""
    return f"W_{LETTERS[layer]}"


def bias_name(layer: int) -> str:
    return f"b_{LETTERS[layer]}"


@dataclass(frozen=True)
class Problem:
    """A network and its numbers, all exact (SymPy ``Rational``).

    ``layers`` are the widths (input, hidden..., output); ``weights[l]`` is the matrix of linear layer
    ``l`` (``W_a``, ``W_b``, ...), ``biases[l]`` its bias vector (``None`` without biases); ``xs`` and ``ys``
    hold one tuple per sample."""

    layers: tuple
    activations: tuple
    loss: str
    xs: tuple
    ys: tuple
    weights: tuple
    biases: tuple | None = None
    source: str = "handout"
    output: str = DEFAULT_OUTPUT
    ask: tuple = ()  # [worksheet] ask: parameter names (checked against the network by the page)
    lr: object = None  # [worksheet] lr: the page's gradient-descent step (None: the page's default)
    title: str = ""  # [worksheet] title: the students' page's title ("": the handout's)
    # [network] shared_bias: one bias per layer, used by every unit of it (Mazur's b1, b2); ``biases`` still
    # holds one entry per unit, all equal, so the forward pass reads them as it reads per-unit biases
    shared_bias: bool = False
    closed: tuple = ()  # [worksheet] closed: parameters whose gradient the page asks in closed form

    # -- shape ----------------------------------------------------------------------------------------

    @property
    def n_in(self) -> int:
        return self.layers[0]

    @property
    def n_out(self) -> int:
        return self.layers[-1]

    @property
    def hidden(self) -> tuple:
        return self.layers[1:-1]

    @property
    def depth(self) -> int:
        """The number of hidden layers."""
        return len(self.layers) - 2

    @property
    def n_hidden(self) -> int:
        """The width of the first hidden layer (the handout's only one)."""
        return self.layers[1]

    @property
    def n_samples(self) -> int:
        return len(self.xs)

    @property
    def bias(self) -> bool:
        return self.biases is not None

    @property
    def n_weights(self) -> int:
        """Weights and biases together."""
        return sum(a * b for a, b in zip(self.layers[1:], self.layers)) + self.n_biases

    @property
    def n_biases(self) -> int:
        """The bias parameters: one per unit, one per layer when shared, none without biases."""
        return 0 if not self.bias else len(self.layers) - 1 if self.shared_bias else sum(self.layers[1:])

    @property
    def cost(self) -> int:
        """What the derivation's size grows with: per sample, every parameter, every unit and the output
        Jacobian's outputs² entries (counted for every output layer: a bound, never a surprise)."""
        return self.n_samples * (self.n_weights + sum(self.layers) + self.n_out**2)

    @property
    def step_lr(self):
        """The learning rate of the students' page's gradient-descent step: ``[worksheet] lr``, else
        :data:`WORKSHEET_LR` (½)."""
        return self.lr if self.lr is not None else WORKSHEET_LR

    @property
    def symmetric(self) -> bool:
        """Every hidden layer's units start alike: equal incoming rows (and biases), equal outgoing columns, as
        the handout's constant 0.1. Such units stay alike forever (the theorems prove it): the lesson of the
        handout's closing question.

        >>> load_problem().symmetric
        True
        """
        for l in range(self.depth):
            W_in, W_out = self.weights[l], self.weights[l + 1]
            if any(W_in.row(i) != W_in.row(0) for i in range(W_in.rows)) or any(W_out.col(j) != W_out.col(0) for j in range(W_out.cols)):
                return False
            if self.bias and len(set(self.biases[l])) != 1:
                return False
        return True

    @property
    def activation(self) -> str:
        """The hidden activation, when every hidden layer has the same one (else ``"a/b/..."``)."""
        names = set(self.activations)
        return self.activations[0] if len(names) == 1 else "/".join(self.activations)

    # -- the handout's names -------------------------------------------------------------------------

    @property
    def x(self) -> tuple:
        """The input, for a problem of one sample."""
        return self._single(self.xs, "x")

    @property
    def y(self) -> tuple:
        return self._single(self.ys, "y")

    def _single(self, group, name):
        if len(group) != 1:
            raise ValueError(f"this problem has {len(group)} samples: use {name}s[k]")
        return group[0]

    def __getattr__(self, name: str):
        """``W_a``, ``W_b``, ... and ``b_a``, ``b_b``, ...: the parameters by their handout names."""
        if len(name) == 3 and name[1] == "_" and name[0] in "Wb" and name[2] in LETTERS:
            layer = LETTERS.index(name[2])
            group = self.weights if name[0] == "W" else self.biases
            if group is not None and layer < len(group):
                return group[layer]
        raise AttributeError(name)

    def params(self) -> dict:
        """``{"W_a": matrix, ..., "b_a": column, ...}`` in layer order, weights first (a shared bias's column holds
        its one number once per unit, as the forward pass adds it)."""
        out = {weight_name(l): W for l, W in enumerate(self.weights)}
        if self.biases is not None:
            out.update({bias_name(l): b for l, b in enumerate(self.biases)})
        return out

    def describe(self) -> str:
        """One line: widths, activation, output layer, loss, and what differs from the handout's kind of problem.

        >>> load_problem().describe()
        '3-4-2 network, ReLU hidden units, MSE loss'
        """
        acts = [ACTIVATIONS[a].text for a in self.activations]
        act = acts[0] if len(set(acts)) == 1 else ", ".join(acts)
        widths = "-".join(map(str, self.layers))
        extra = (", with shared biases" if self.shared_bias else ", with biases" if self.bias else "") + (f", {self.n_samples} samples" if self.n_samples > 1 else "")
        out = "" if self.output == DEFAULT_OUTPUT else f", {OUTPUTS[self.output].text} output"
        return f"{widths} network, {act} hidden units{out}, {LOSSES[self.loss].text} loss{extra}"


def make_problem(layers, activation, loss, x, y, weights, biases=None, source="problem",
                 output=DEFAULT_OUTPUT, shared_bias=False) -> Problem:
    """A :class:`Problem` from Python values (exact numbers), one sample or several; ``activation`` one
    name or one per hidden layer; with ``shared_bias``, each of ``biases`` one number per layer. Validated
    like a file."""
    layers = tuple(layers)
    acts = (activation,) * (len(layers) - 2) if isinstance(activation, str) else tuple(activation)
    batch = bool(x) and isinstance(x[0], (list, tuple))
    xs = tuple(tuple(Rational(v) for v in s) for s in (x if batch else [x]))
    ys = tuple(tuple(Rational(v) for v in s) for s in (y if batch else [y]))
    weights = tuple(ImmutableMatrix(W) for W in weights)
    if biases is not None:
        biases = tuple((Rational(b),) * n if shared_bias else tuple(Rational(v) for v in b)
                       for b, n in zip(biases, layers[1:]))
    p = Problem(layers, acts, loss, xs, ys, weights, biases, source, output, shared_bias=shared_bias)
    check(p)
    return p


def parse_number(value, field: str) -> Rational:
    """An exact number from a TOML value: an integer, a float (by its decimal text) or a string.

    Strings may be decimals (``"0.9"``, ``"-3"``, ``"1e-2"``) or fractions (``"9/10"``); nothing else
    is accepted, and nothing is ever evaluated. The rules and limits are :func:`derivations.engine.reading.parse_number`'s.

    >>> parse_number(0.1, "x"), parse_number("9/10", "x"), parse_number("-3", "x")
    (1/10, 9/10, -3)
    """
    return reading.parse_number(value, field)


def _kind(value) -> str:
    return reading.kind(value)


def _vector(value, n: int, field: str, what: str) -> tuple:
    if not isinstance(value, list) or len(value) != n:
        got = f"{len(value)} {'entry' if len(value) == 1 else 'entries'}" if isinstance(value, list) else _kind(value)
        raise ProblemError(field, f"expected a list of {n} numbers ({what}), got {got}")
    return tuple(parse_number(v, f"{field}[{k + 1}]") for k, v in enumerate(value))


def _samples(value, n: int, field: str, what: str) -> tuple:
    """One sample (a list of ``n`` numbers) or several (a list of such lists), as a tuple of tuples."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) > MAX_SAMPLES:
            raise ProblemError(field, f"expected at most {MAX_SAMPLES} samples, got {len(value)}")
        return tuple(_vector(v, n, f"{field}[{k + 1}]", what) for k, v in enumerate(value))
    if isinstance(value, list) and any(isinstance(v, list) for v in value):
        raise ProblemError(field, f"expected one sample (a list of {n} numbers) or a list of samples, not a mix")
    return (_vector(value, n, field, what),)


def _matrix(value, rows: int, cols: int, field: str, what: str) -> ImmutableMatrix:
    if not isinstance(value, list):
        c = parse_number(value, field)
        return ImmutableMatrix(rows, cols, [c] * (rows * cols))
    shape = f"one number, or a {rows}x{cols} matrix ({rows} rows, one per {what}, of {cols} numbers)"
    if len(value) != rows or not all(isinstance(r, list) and len(r) == cols for r in value):
        lengths = [len(r) if isinstance(r, list) else None for r in value]
        got = ("an empty list" if not value else f"{len(value)} numbers, not rows" if not any(n is not None for n in lengths) else
               f"a {len(value)}x{lengths[0]} matrix" if len(set(lengths)) == 1 else
               f"{len(value)} rows of {', '.join('a number' if n is None else str(n) for n in lengths[:6])}"
               f"{' …' if len(lengths) > 6 else ''} numbers")
        raise ProblemError(field, f"expected {shape}, got {got}")
    return ImmutableMatrix(
        [[parse_number(v, f"{field}[{i + 1},{j + 1}]") for j, v in enumerate(r)] for i, r in enumerate(value)]
    )


def _bias(value, n: int, field: str, shared: bool = False) -> tuple:
    if not isinstance(value, list):
        return (parse_number(value, field),) * n
    if shared:
        raise ProblemError(field, f"expected one number (shared_bias = true: one bias for the layer's {n} units), got a list")
    return _vector(value, n, field, "one per unit")


def problem_from_dict(data: dict, source: str = "problem") -> Problem:
    """Validate a parsed TOML document and build the exact :class:`Problem`."""
    with located(source):
        return _problem_from_dict(data, source)


def _is_int(n) -> bool:
    return isinstance(n, int) and not isinstance(n, bool)


def _problem_from_dict(data: dict, source: str) -> Problem:
    if "graph" in data:
        raise ProblemError("graph", "a computational graph: python -m derivations.print and python -m derivations.check "
                                    "take it; this command takes a network ([network], [data], [init])")
    reading.check_sections(data, _KEYS)
    network, d, init = (data.get(s, {}) for s in ("network", "data", "init"))

    layers = network.get("layers", [3, 4, 2])
    if not isinstance(layers, list) or len(layers) < 3 or not all(_is_int(n) and n >= 1 for n in layers):
        raise ProblemError("network.layers", "expected at least three positive integers [inputs, hidden..., outputs], "
                                             f"got {_short(layers)}")
    if len(layers) - 2 > MAX_HIDDEN_LAYERS:
        raise ProblemError("network.layers", f"expected at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(layers) - 2}")
    if any(n > MAX_WEIGHTS for n in layers):
        raise ProblemError("network.layers", f"expected widths of at most {MAX_WEIGHTS}, got {max(layers)}")
    depth = len(layers) - 2

    activation = network.get("activation", DEFAULT_ACTIVATION)
    acts = activation if isinstance(activation, list) else [activation] * depth
    if len(acts) != depth:
        raise ProblemError("network.activation", f"expected one name, or a list of {depth} (one per hidden layer), got {len(acts)}")
    for a in acts:
        if not isinstance(a, str) or a not in ACTIVATIONS:
            raise ProblemError("network.activation", f"expected one of {', '.join(ACTIVATIONS)}, got {_short(a)}")
    output = network.get("output", DEFAULT_OUTPUT)
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ProblemError("network.output", f"expected one of {', '.join(OUTPUTS)}, got {_short(output)}")
    loss = network.get("loss", DEFAULT_LOSS)
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ProblemError("network.loss", f"expected one of {', '.join(LOSSES)}, got {_short(loss)}")
    check_output(layers[-1], output, loss)
    bias = network.get("bias", False)
    if not isinstance(bias, bool):
        raise ProblemError("network.bias", f"expected true or false, got {_short(bias)}")
    shared = network.get("shared_bias", False)
    if not isinstance(shared, bool):
        raise ProblemError("network.shared_bias", f"expected true or false, got {_short(shared)}")
    if shared and not bias:
        raise ProblemError("network.shared_bias", "shared biases need biases: set bias = true under [network], "
                                                  "or drop shared_bias")
    n_params = sum(a * b for a, b in zip(layers[1:], layers)) + (sum(layers[1:]) if bias else 0)
    if n_params > MAX_WEIGHTS:  # before any number is read
        raise ProblemError("network.layers", f"expected at most {MAX_WEIGHTS} weights and biases, got {n_params} "
                                             f"({'-'.join(map(str, layers))})")

    for key in ("x", "y"):
        if key not in d:
            raise ProblemError(f"data.{key}", "missing; expected a list of numbers, or a list of samples")
    try:
        xs = _samples(d["x"], layers[0], "data.x", "one per input")
        ys = _samples(d["y"], layers[-1], "data.y", "one per output")
    except ProblemError as err:
        if "layers" in network or "numbers (one per" not in err.expected:
            raise
        raise ProblemError(err.field, f"{err.expected} (no network.layers: the handout's 3-4-2 is assumed)") from None
    if len(xs) != len(ys):
        raise ProblemError("data.y", f"expected one target per sample: {len(xs)} inputs, got {len(ys)} targets")

    n_linear = len(layers) - 1
    names = [weight_name(l) for l in range(n_linear)] + [bias_name(l) for l in range(n_linear)]
    for key in init:
        if key not in names:
            raise ProblemError(f"init.{_short(key, bare=True)}", f"unknown parameter; expected {', '.join(names[:n_linear])}"
                               + (f" and {', '.join(names[n_linear:])}" if bias else ""))
        if key.startswith("b_") and not bias:
            raise ProblemError(f"init.{key}", "a bias given, but the network has none: set bias = true under [network]")
    what = ["hidden unit"] * depth + ["output"]
    weights = tuple(
        _matrix(init[weight_name(l)], layers[l + 1], layers[l], f"init.{weight_name(l)}", what[l])
        if weight_name(l) in init else ImmutableMatrix(layers[l + 1], layers[l], [Rational(1, 10)] * (layers[l + 1] * layers[l]))
        for l in range(n_linear)
    )
    biases = None
    if bias:
        biases = tuple(_bias(init[bias_name(l)], layers[l + 1], f"init.{bias_name(l)}", shared) if bias_name(l) in init
                       else (Integer(0),) * layers[l + 1] for l in range(n_linear))
    ask, lr, title = _worksheet(data.get("worksheet", {}))
    closed = _names(data.get("worksheet", {}), "closed")
    p = Problem(tuple(layers), tuple(acts), loss, xs, ys, weights, biases, source, output, ask, lr, title, shared,
                closed)
    check(p)
    return p


def _xml_char(c: str) -> bool:
    """A character XML 1.0 allows in text (the title reaches Moodle's XML and MyST's JATS): not a surrogate, not
    U+FFFE or U+FFFF."""
    return not (0xD800 <= ord(c) <= 0xDFFF or c in "\ufffe\uffff")


def _worksheet(table: dict) -> tuple:
    """``[worksheet]``: ``title``, one line of at most :data:`MAX_TITLE` characters; ``ask``, a list of parameter
    names (``"w_b11"``, ``"b_a1"``); and ``lr``, a positive number of at most 10.

    >>> _worksheet({"title": "Mazur's example", "lr": 0.5})
    ((), 1/2, "Mazur's example")
    """
    title = table.get("title", "")
    if not isinstance(title, str) or not title.strip() and "title" in table or len(title) > MAX_TITLE \
            or any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" or not _xml_char(c) for c in title):
        raise ProblemError("worksheet.title", f"expected one line of text of 1 to {MAX_TITLE} characters, got "
                                              f"{_short(title)}")
    ask = table.get("ask", [])
    if not isinstance(ask, list) or not all(isinstance(a, str) and 0 < len(a) <= 20 for a in ask):
        raise ProblemError("worksheet.ask", f"expected a list of parameter names like [\"w_b11\", \"b_a1\"], got {_short(ask)}")
    if not 1 <= len(ask) <= MAX_ASKED and "ask" in table:
        raise ProblemError("worksheet.ask", f"expected 1 to {MAX_ASKED} parameter names, got {len(ask)}")
    lr = None
    if "lr" in table:
        lr = parse_number(table["lr"], "worksheet.lr")
        if not 0 < lr <= 10:
            raise ProblemError("worksheet.lr", f"expected a learning rate above 0 and at most 10, got {_short(table['lr'])}")
    return tuple(ask), lr, title.strip()


def _names(table: dict, field: str) -> tuple:
    """``[worksheet] closed``: 1 to :data:`MAX_ASKED` distinct parameter names (checked against the network by
    :func:`check`).

    >>> _names({"closed": ["w_b11"]}, "closed"), _names({}, "closed")
    (('w_b11',), ())
    """
    if field not in table:
        return ()
    names = table[field]
    if not isinstance(names, list) or not all(isinstance(a, str) and 0 < len(a) <= 20 for a in names) \
            or not 1 <= len(names) <= MAX_ASKED or len(set(names)) != len(names):
        raise ProblemError(f"worksheet.{field}", f"expected a list of 1 to {MAX_ASKED} distinct parameter names like "
                                                 f"[\"w_b11\", \"b_a1\"], got {_short(names)}")
    return tuple(names)


def check(p: Problem) -> None:
    """The rules every problem obeys, whoever built it: sizes within the limits, targets the loss accepts,
    numbers of bounded magnitude, an output layer the loss is defined for."""
    check_output(p.layers[-1], p.output, p.loss)
    if p.n_weights > MAX_WEIGHTS:
        raise ProblemError("network.layers", f"expected at most {MAX_WEIGHTS} weights and biases, got {p.n_weights} "
                                             f"({'-'.join(map(str, p.layers))})")
    if p.cost > MAX_COST:
        raise ProblemError("network.layers", f"expected a cost of at most {MAX_COST} (samples × (parameters + units + "
                                             f"outputs²)), got {p.cost}")
    for k, y in enumerate(p.ys):
        problem = LOSSES[p.loss].check_target(y)
        if problem:
            raise ProblemError("data.y" + (f"[{k + 1}]" if p.n_samples > 1 else ""), problem)
    groups = [("data.x", p.xs), ("data.y", p.ys)] + [(f"init.{n}", m) for n, m in p.params().items()]
    for field, values in groups:
        for v in (e for row in values for e in (row if isinstance(row, tuple) else [row])):
            if abs(v) > MAX_MAGNITUDE:
                raise ProblemError(field, f"expected numbers of at most {MAX_MAGNITUDE} in size, got {_size(v)}")


def _size(v: Rational) -> str:
    """A too-large number as a message shows it: itself when short (``1000001``, ``-2000000.5``), else its
    power of ten (``about 1e59``).

    >>> _size(Rational(1000001)), _size(Rational(-4000001, 2)), _size(Rational(10**59 + 1))
    ('1000001', '-2000000.5', 'about 1e59')
    """
    text = decimal_text(v) if v.q != 1 else str(v.p)
    if text and len(text) <= 24:
        return text
    return f"about 1e{len(str(abs(v.p) // v.q)) - 1}"


def check_output(n_out: int, output: str, loss: str) -> None:
    """An output layer of ``n_out`` units that the loss is defined on: softmax needs 2 units, cross-entropy a
    softmax, binary cross-entropy a sigmoid."""
    out = OUTPUTS[output]
    if n_out < out.min_outputs:
        raise ProblemError("network.layers", f"expected at least {out.min_outputs} outputs for a {out.text} output layer "
                                             f"({out.text} over one output is the constant 1; use output = \"sigmoid\" or "
                                             f"\"identity\" for one output unit), got {n_out}")
    wants = LOSSES[loss].outputs
    if not LOSSES[loss].fits(out):
        needed = " or ".join(f'output = "{w}"' for w in wants)
        raise ProblemError("network.loss", f"loss = \"{loss}\" needs {needed} under [network] (it is defined on "
                                           f"{' or '.join(wants)} outputs), got output = \"{output}\"")


def _short(value, bare: bool = False) -> str:
    """A user's value echoed in a message: one line, at most 40 characters."""
    return reading.name(value) if bare else reading.quote(value)


def problem_from_bytes(data: bytes, path: str | Path, field: str = "problem") -> Problem:
    """The problem in a file's bytes already read (``path`` names it in messages; the handout's own file is the
    source ``"handout"``): for callers that keep the bytes, whose hash identifies the problem."""
    path = Path(path)
    source = "handout" if path == HANDOUT else reading.path_text(path)
    return problem_from_dict(reading.parse_toml(data, reading.path_text(path), field), source)


def load_problem(path: str | Path | None = None) -> Problem:
    """Read a problem TOML file; with no path, the handout's problem.

    Raises :class:`ProblemError` with one clear line for anything unusable.
    """
    path = HANDOUT if path is None else Path(path)
    source = "handout" if path == HANDOUT else reading.path_text(path)
    return problem_from_dict(reading.read_toml(path), source)
