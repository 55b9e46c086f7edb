r"""The handout's page as a layout: blocks in the paper handout's order, every number a slot.

A :class:`Layout` is an ordered list of blocks (:class:`Heading`, :class:`Prose`, :class:`Display`,
:class:`Figure`). The math inside is the page's math tree (:mod:`derivations.notation.tree`), in which every
number the student reads or writes is a :class:`~derivations.notation.tree.Slot`: *given* (printed on the
worksheet, as on the paper) or an *answer* (a blank on the worksheet, filled on the key); the printers of
:mod:`derivations.notation.tree_printing` write it as Typst math, LaTeX math and plain text, and the writers of
:mod:`derivations.outputs.page` the whole page. Every number comes from :class:`derivations.engine.values.Values`.

>>> from derivations import evaluate, load_problem
>>> from derivations.notation.tree_printing import to_latex, to_text
>>> page = layout(evaluate(load_problem()))
>>> page.blanks()
51
>>> step4 = page.display("step4")
>>> print(to_text(step4.math, worksheet=True))
Y_1 = e^____/(e^____ + e^____) = ____   Y_2 = ____   ⇒   Y = (____, ____)ᵀ
>>> print(to_text(step4.math, worksheet=False))
Y_1 = e^0.06/(e^0.06 + e^0.06) = 0.5   Y_2 = 0.5   ⇒   Y = (0.5, 0.5)ᵀ
>>> print(to_latex(page.display("grad_w_b11").math.rows[-1], worksheet=True))
&= \left(\underline{\hspace{2cm}}\right) \left(\underline{\hspace{2cm}}\right) = \underline{\hspace{2cm}}
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sympy import Function, Rational, Symbol, exp

from ..engine.derivation import Param, parse_param
from ..engine.errors import ProblemError
from ..engine.ops import DEFAULT_OUTPUT
from ..engine.problem import LETTERS, MAX_ASKED as PAGE_ASKED
from ..notation.tree_printing import from_sympy
from ..notation.tree import (LOSS, Aligned, Call, Frac, Mat, Numeral, Operator, Paren, Pow_, Raw, Row, Slot, Sym, Under,
                             Vec, approx_equals, count_slots, grad_sym, idx, partial, row, sym, walk)
from .solution import Notation

# -- blocks ------------------------------------------------------------------------------------------


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Prose:
    """A paragraph: strings, ``("b", str)`` for bold, and math trees (inline)."""

    parts: list
    key: str = ""
    answer: bool = False  # only on the key (the key insight's answer)


@dataclass
class Display:
    key: str
    math: object


@dataclass
class Figure:
    """The network with ``weight``'s gradient paths in ``colour`` (drawn by :func:`figures.network_svg`)."""

    weight: str
    colour: str
    caption: str


@dataclass
class Layout:
    title: str
    problem_id: str
    description: str
    source: str
    blocks: list = field(default_factory=list)

    def display(self, key: str) -> Display:
        for b in self.blocks:
            if isinstance(b, Display) and b.key == key:
                return b
        raise KeyError(key)

    def blanks(self) -> int:
        """The number of answer slots: the blanks of the worksheet."""
        return sum(count_slots(b.math) for b in self.blocks if isinstance(b, Display)) + sum(
            count_slots(p) for b in self.blocks if isinstance(b, Prose) for p in b.parts if not isinstance(p, (str, tuple)))

    def slots(self, given: bool | None = None) -> list:
        out = []
        for b in self.blocks:
            trees = [b.math] if isinstance(b, Display) else [p for p in b.parts if not isinstance(p, (str, tuple))] \
                if isinstance(b, Prose) else []
            for tree in trees:
                out += [s for s in walk(tree) if isinstance(s, Slot) and (given is None or s.given == given)]
        return out


# -- the engine, in a few small functions --------------------------------------------------------------


# The exponents a rounded number of the page is written out for (0.0000001234, 123400000000000); beyond, in
# scientific notation (1.234 × 10⁻⁸), as a saturated unit's 2.650 × 10⁻²⁶¹ must be.
FIXED = (-7, 15)


class _Numbers:
    """Number spelling through :class:`solution.Notation`: exact decimal, fraction, or ``≈`` rounded."""

    def __init__(self, values, digits: int):
        self.n = Notation(values, digits)

    def num(self, v) -> object:
        """A value as a factor or entry: ``0.15``, ``-0.0375``, ``1/3`` (a fraction), ``0.333333`` (rounded)."""
        dec = self.n.decimal(v)
        if dec is not None and len(dec) <= 24:
            return self._signed(dec)
        if isinstance(v, Rational) and len(str(v)) <= 16:
            f = Frac(Numeral(str(abs(v.p))), Numeral(str(v.q)))
            return f if v > 0 else row("neg", f)
        return self._rounded(self.n.approx(v))

    def factor(self, v) -> object:
        out = self.num(v)  # the sign from the decimal: a relational on a large exact expression takes minutes
        negative = v < 0 if isinstance(v, Rational) else self.n.values.decimal(v) < 0
        return Paren(out) if negative else out

    def _signed(self, text: str):
        text = text.replace("−", "-").strip()
        mantissa, e, exponent = text.lower().partition("e")
        if e and FIXED[0] <= int(exponent) < FIXED[1]:  # mpmath's 1.0e-5: write it as a decimal
            from mpmath import mpf, nstr

            text = nstr(mpf(text), 12, min_fixed=-400, max_fixed=400)
        elif e:  # far beyond: 7.025e-522, written 7.025 × 10⁻⁵²² (never a float: its exponent may pass ±308)
            text = f"{mantissa}e{int(exponent)}"
        return Numeral(text)

    def _rounded(self, text: str):
        return Numeral(self._signed(text).text, approx=True)


def problem_id(problem, data: bytes | None = None) -> str:
    """A short identifier of a problem: the hash of its file's bytes, or of the exact problem when there is
    no file (the default handout). Printed on worksheet and key so they are never mismatched.

    >>> from derivations import load_problem
    >>> len(problem_id(load_problem()))
    8
    """
    if data is None:  # the whole problem; the handout's kind of problem keeps the fields it always hashed
        p = problem
        first = (p.layers, p.activation, p.loss, [str(v) for v in p.xs[0]], [str(v) for v in p.ys[0]],
                 *([str(v) for v in W] for W in p.weights[:2]))
        rest = (p.output if p.output != DEFAULT_OUTPUT else None, [[str(v) for v in W] for W in p.weights[2:]],
                p.biases and [[str(v) for v in b] for b in p.biases], [[str(v) for v in x] for x in p.xs[1:]],
                [[str(v) for v in y] for y in p.ys[1:]], list(p.ask), p.lr and str(p.lr), p.title)
        data = repr(first if not any(rest) else first + tuple(rest)).encode()
    return hashlib.sha256(data).hexdigest()[:8]


# -- the page ----------------------------------------------------------------------------------------

_LAID_OUT: dict = {}  # (id of the values, digits, data) -> (values, page), the newest few


def layout(values, digits: int = 4, data: bytes | None = None) -> Layout:
    """The handout's page for ``values``' problem, in the paper handout's order; laid out once per values
    object and settings, so the page, its PDFs and its self-check share one layout (no caller changes it).

    ``data`` is the problem file's bytes (for the identifier)."""
    key = (id(values), digits, data)
    if key in _LAID_OUT and _LAID_OUT[key][0] is values:
        return _LAID_OUT[key][1]
    page = _lay_out(values, digits, data)
    _LAID_OUT[key] = (values, page)
    while len(_LAID_OUT) > 8:
        del _LAID_OUT[next(iter(_LAID_OUT))]
    return page


def _sum_of_products(nb: _Numbers, pairs) -> list:
    items = []
    for k, (a, c) in enumerate(pairs):
        items += (["+"] if k else []) + [nb.factor(a), "·", nb.factor(c)]
    return items


def _fraction(v):
    if isinstance(v, Rational) and v.q != 1:
        f = Frac(Numeral(str(abs(v.p))), Numeral(str(v.q)))
        return f if v > 0 else row("neg", f)
    return None


def _insight(values, nb) -> list:
    """The key insight's answer, derived from the values: is ∂ℒ/∂W_a zero, and are the hidden units alike?"""
    p, d = values.problem, values.derivation
    ga = values.gradients["W_a"]
    Wa, last = sym("W", "a"), LETTERS[len(p.weights) - 1]
    Wlast = p.weights[-1]
    zero = all(v == 0 for v in ga)
    parts = [("b", "Answer: ")]
    if zero:
        parts += [row(partial(LOSS, Wa), "=", Numeral("0")), f" exactly (all {len(ga)} entries). "]
        per_sample = [values.backward["dL_dO"]] if p.n_samples == 1 else values.backward["dL_dO"]
        if all(sum(g) == 0 for g in per_sample) and all(Wlast.row(i) == Wlast.row(0) for i in range(p.n_out)):
            L = d.symbols.keys[-3]  # the last hidden layer's output
            Lj = Sym(L[0], sym("j"), Paren(Numeral(L[1:])) if L[1:] else None)
            parts += ["The softmax gradients cancel, ",
                      row(*sum(([grad_sym(sym("O", k + 1)), "+"] for k in range(p.n_out)), [])[:-1], "=", Numeral("0")),
                      *([" (in every sample)"] if p.n_samples > 1 else []), ", and every row of ", sym("W", last),
                      " is the same, so every ",
                      row(grad_sym(Lj), "=", Sym("sum", sym("i")), grad_sym(sym("O", sym("i"))),
                          Sym("w", Row((sym("i"), sym("j"))), Sym(last)), "=", Numeral("0")), ". "]
    else:
        nonzero = sum(1 for v in ga if v != 0)
        parts += [partial(LOSS, Wa), f" is not zero ({nonzero} of {len(ga)} entries). "]
    if p.symmetric and p.depth == 1:
        parts += [f"All {p.n_hidden} hidden units start identical (equal rows of ", Wa, ", equal columns of ", sym("W", "b"),
                  "): they compute the same value and receive the same gradient, so every update keeps them identical "
                  "— the network learns like one with a single hidden unit. Constant initialization never breaks "
                  "the symmetry: initialize the weights randomly."]
    elif p.symmetric:
        parts += ["In every hidden layer the units start identical (equal incoming rows, equal outgoing columns): they "
                  "compute the same values and receive the same gradients, so every update keeps them identical — "
                  "each layer learns like a single unit. Constant initialization never breaks the symmetry: "
                  "initialize the weights randomly."]
    else:
        parts += ["The hidden units start different, so this initialization breaks the symmetry."]
    return parts


# -- the page, generated from the derivation's operations -----------------------------------------------------

# The marking's precision rule (derivations.teaching.marking), stated on every page, key and Moodle question.
PRECISION = "Write each answer exactly (a decimal or a fraction) or to at least 4 significant digits."
TITLE = "Backpropagation Handout"  # the page's title, unless [worksheet] title gives one

# What one page shows: a network a student works by hand. Beyond these the page is refused in one line (the
# worked solution, python -m derivations.print, covers every network the engine accepts).
PAGE_WIDTH = 6  # units in a layer: a 6×6 matrix with its products still fits a printed line
PAGE_HIDDEN = 3  # hidden layers
PAGE_SAMPLES = 3  # samples, each with its own forward and backward blanks
PATH_COLOURS = ("red", "blue", "green", "orange", "purple", "grey")
PRODUCTS_UP_TO = 4  # a linear step writes out each row's products up to this many inputs (the handout's 3 and 4)
_ELSEWHERE = "; the worked solution (python -m derivations.print) covers every network"


def check_fits(problem) -> None:
    """A page a student can work by hand, or one line saying what is too big (from the problem's shape alone,
    before anything is derived)."""
    p = problem
    if max(p.layers) > PAGE_WIDTH:
        raise ProblemError("network.layers", f"the students' page shows layers of at most {PAGE_WIDTH} units, got "
                                             f"{'-'.join(map(str, p.layers))}{_ELSEWHERE}")
    if p.depth > PAGE_HIDDEN:
        raise ProblemError("network.layers", f"the students' page shows at most {PAGE_HIDDEN} hidden layers, got "
                                             f"{p.depth}{_ELSEWHERE}")
    if p.n_samples > PAGE_SAMPLES:
        raise ProblemError("data.x", f"the students' page shows at most {PAGE_SAMPLES} samples, got {p.n_samples}{_ELSEWHERE}")


def asked(derivation) -> list:
    """The parameters whose gradient the page asks for, last layer first: ``[worksheet] ask`` of the problem
    file, or the paper's choice generalized (an example and a practice weight of the last layer, a weight of each
    middle layer, a weight of the first layer, and a bias of the first layer where there are biases).

    >>> from derivations import derive, load_problem
    >>> [p.key() for p in asked(derive(load_problem()))]
    ['w_b11', 'w_b21', 'w_a11']
    """
    p = derivation.problem
    last = len(p.layers) - 2
    if getattr(p, "ask", ()):
        out = []
        for name in p.ask:
            try:
                param = parse_param(name, p)
            except ProblemError as err:
                raise ProblemError("worksheet.ask", err.expected, p.source) from None
            if param in out:
                raise ProblemError("worksheet.ask", f"{name!r} is asked twice", p.source)
            out.append(param)
    else:
        out = [Param(last, "weight", 0, 0)]
        if p.n_out >= 2:
            out.append(Param(last, "weight", 1, 0))
        elif p.layers[last] >= 2:
            out.append(Param(last, "weight", 0, 1))
        out += [Param(l, "weight", 0, 0) for l in range(last - 1, -1, -1)]
        if p.bias:
            out.append(Param(0, "bias", 0))
    if len(out) > PAGE_ASKED:
        raise ProblemError("worksheet.ask", f"expected at most {PAGE_ASKED} parameters (one path block and diagram "
                                            f"each), got {len(out)}", p.source)
    return sorted(out, key=lambda q: -q.layer)  # the values a deeper path needs come from the paths before it


class _Page:
    """Builds one :class:`Layout`: setup, a step per operation (per sample), the backward values, a path block
    per asked parameter, and the closing question."""

    def __init__(self, values, digits: int, data: bytes | None):
        self.v, self.d = values, values.derivation
        self.p = p = values.problem
        self.S = p.n_samples
        self.keys = self.d.symbols.keys
        self.nb = _Numbers(values, digits)
        self.introduced: set = set()  # backward quantities a block has already asked for: ("dL_dO", i, s)
        self.out = Layout(title=p.title or TITLE, problem_id=problem_id(p, data), description=p.describe(),
                          source=Path(str(p.source)).name)  # the file's name, not the machine's path
        self.asked = asked(self.d)

    # -- values and names -------------------------------------------------------------------------------

    def fwd(self, key: str, s: int):
        f = self.v.forward
        return f[key] if self.S == 1 else f[key][s]

    def bwd(self, key: str, s: int):
        b = self.v.backward
        return b[key] if self.S == 1 else b[key][s]

    def at(self, s) -> str:
        return f"@{s + 1}" if self.S > 1 and s is not None else ""

    def sup(self, layer: str, s):
        parts = ([Paren(Numeral(layer))] if layer else []) + ([Paren(Numeral(str(s + 1)), "[")] if self.S > 1 and s is not None else [])
        return None if not parts else parts[0] if len(parts) == 1 else Row(tuple(parts))

    def vec(self, key: str, s=None) -> Sym:
        """``H``, ``H^(2)``, ``H^[1]``: a layer's vector (of sample ``s``)."""
        return Sym(key[0], None, self.sup(key[1:], s))

    def ent(self, key: str, k, s=None) -> Sym:
        """``H_1``, ``L^(2)_3``, ``x^[2]_1``; ``k`` a 0-based unit or an index symbol."""
        return Sym(key[0], Numeral(str(k + 1)) if isinstance(k, int) else k, self.sup(key[1:], s))

    def loss_sym(self, s=None) -> Sym:
        """``ℒ``, or with several samples ``ℓ^[s]``, sample ``s``'s loss."""
        return LOSS if self.S == 1 else Sym("ell", None, self.sup("", s))

    def psym(self, q) -> Sym:
        if q.kind == "bias":
            return Sym("b", Numeral(str(q.i + 1)), Sym(LETTERS[q.layer]))
        return Sym("w", idx(q.i, q.j), Sym(LETTERS[q.layer]))

    def pvalue(self, q):
        return self.p.weights[q.layer][q.i, q.j] if q.kind == "weight" else self.p.biases[q.layer][q.i]

    def linear_in(self, l: int) -> str:
        return "x" if l == 0 else self.keys[2 * l - 1]

    def linear_out(self, l: int) -> str:
        return self.keys[2 * l] if l < self.p.depth else "O"

    def matrix_sym(self, l: int, kind: str = "W") -> Sym:
        return Sym(kind, Sym(LETTERS[l]))

    def in_value(self, l: int, j: int, s: int):
        return self.p.xs[s][j] if l == 0 else self.fwd(self.linear_in(l), s)[j]

    def in_key(self, l: int, j: int, s: int) -> str:
        return f"problem.x[{j + 1}]{self.at(s)}" if l == 0 else f"forward.{self.linear_in(l)}[{j + 1}]{self.at(s)}"

    def ans(self, v, key: str = "") -> Slot:
        return Slot(self.nb.num(v), key=key)

    def given(self, v) -> Slot:
        return Slot(self.nb.num(v), given=True)

    def answers(self, key: str, s: int) -> Vec:
        """A vector of blanks, keyed ``forward.H[1]``, ``forward.H[2]``, ... (``@s`` with several samples)."""
        return Vec(tuple(self.ans(v, f"forward.{key}[{k + 1}]{self.at(s)}") for k, v in enumerate(self.fwd(key, s))))

    def B(self, block):
        if isinstance(block, Display):
            block.math = approx_equals(block.math)
        elif isinstance(block, Prose):
            block.parts = [approx_equals(q) if not isinstance(q, (str, tuple)) else q for q in block.parts]
        self.out.blocks.append(block)

    # -- the page ---------------------------------------------------------------------------------------

    def build(self) -> Layout:
        self.B(Heading("Step-by-Step Feedforward & Backpropagation", 2))
        self.intro()
        self.setup()
        self.B(Heading("Forward Pass", 2))
        n = 1
        for s in range(self.S):
            n = self.forward(s)
        if self.S > 1:
            self.mean_loss(n)
        self.B(Heading("Backward Pass — Per-Parameter Gradient Paths", 2))
        self.B(Prose(["We trace the ", ("b", "gradient path"), " backward from ", LOSS, " to each parameter, multiplying local "
                      "derivatives along the way (chain rule). At branches, we ", ("b", "sum"), " contributions from all paths."]
                     + ([" With several samples, ", LOSS, " is the mean of the samples' losses, so each gradient is the "
                         "mean of the samples' gradients."] if self.S > 1 else [])))
        self.formulas()
        for s in range(self.S):
            self.output_values(s)
        for k, q in enumerate(self.asked):
            self.path(q, k)
        self.closing()
        return self.out

    def steps_per_sample(self) -> int:
        return 2 * self.p.depth + 3

    def intro(self):
        names = [self.vec(key) for key in self.keys] + [LOSS]
        items = []
        for k, name in enumerate(names):
            items += ([","] if k else []) + [name]
        n = self.steps_per_sample()
        steps = f" (Steps 1–{n}). " if self.S == 1 else f" (Steps 1–{n} for each of the {self.S} samples, then Step {n + 1}). "
        practice = self.asked[1:] or self.asked[:1]
        grads = []
        for k, q in enumerate(practice):
            grads += ([" and " if k == len(practice) - 1 else ", "] if k else []) + [partial(LOSS, self.psym(q))]
        self.B(Prose([("b", "Your tasks. Forward: "), "compute all intermediate values ", row(*items), steps,
                      ("b", "Backward: "), "compute ", *grads, ". ", PRECISION]))

    def setup(self):
        p = self.p
        parts = [("b", "Setup."), " "]
        for label, key, group in (("Input", "x", p.xs), ("Target", "y", p.ys)):
            parts += [("b", f"{label}{'s' if self.S > 1 else ''}: ")]
            for s in range(self.S):
                parts += ([",  "] if s else []) + [row(self.vec(key, s), "=", Vec(tuple(self.given(v) for v in group[s])))]
            parts += ["   "] if key == "x" else []
        self.B(Prose(parts, key="setup"))
        setup = []
        for l, m in enumerate(p.weights):
            base = self.matrix_sym(l)
            shape = row(Numeral(str(m.shape[0])), "×", Numeral(str(m.shape[1])))
            if not p.bias:
                if len(set(m)) == 1:
                    setup += [row(base, ":"), " ", shape, ", no bias, all entries = ", row(self.given(m[0, 0])), ".   "]
                else:
                    setup += [row(base, ":"), " ", shape, ", no bias (entries below).   "]
                continue
            bias, b = self.matrix_sym(l, "b"), p.biases[l]
            setup += [row(base, ":"), " ", shape] + ([", all entries = ", row(self.given(m[0, 0]))] if len(set(m)) == 1
                                                      else [" (entries below)"])
            if len(b) == 1:  # one unit: its one bias, not "all entries"
                setup += [", bias ", row(bias, "=", self.given(b[0])), ".   "]
            else:
                setup += [", bias ", bias] + ([": all entries = ", row(self.given(b[0])), ".   "] if len(set(b)) == 1
                                              else [" (entries below).   "])
        self.B(Prose(setup, key="weights"))

    # -- forward ----------------------------------------------------------------------------------------

    def forward(self, s: int) -> int:
        """One sample's forward steps; returns the next step's number."""
        p, at = self.p, self.at(s)
        if self.S > 1:
            self.B(Heading(f"Sample {s + 1}", 3))
        n = 1
        for l in range(len(p.weights)):
            self.linear_step(l, s, n)
            n += 1
            if l < p.depth:
                self.activation_step(l, s, n)
                n += 1
        self.output_step(s, n, at)
        self.loss_step(s, n + 1, at)
        return n + 2

    def step_key(self, n: int, s: int) -> str:
        return f"step{n}{self.at(s)}"

    def linear_step(self, l: int, s: int, n: int):
        p, nb = self.p, self.nb
        W, inp, out = p.weights[l], self.linear_in(l), self.linear_out(l)
        Wsym, Zv, INv = self.matrix_sym(l), self.vec(out, s), self.vec(inp, s)
        if out == "O":
            what = "output pre-activation"
        elif p.depth == 1:
            what = "hidden pre-activation"
        else:
            what = f"pre-activation of hidden layer {l + 1}"
        bias = [] if not p.bias else ["+", self.matrix_sym(l, "b")]
        self.B(Prose([("b", f"Step {n}: "), row(Zv, "=", Wsym, "·", INv, *bias), f" ({what})"]))
        mat = Mat(tuple(tuple(self.given(W[i, j]) for j in range(W.cols)) for i in range(W.rows)))
        ins = [self.in_value(l, j, s) for j in range(W.cols)]
        items = []
        for i in range(W.rows):
            terms = _sum_of_products(nb, [(W[i, j], ins[j]) for j in range(W.cols)])
            if p.bias:
                terms += ["+", nb.factor(p.biases[l][i])]
            items.append(Slot(row(*terms), key=f"forward.{out}[{i + 1}]{self.at(s)}"))
        body = [Zv, "=", Under(mat, Wsym), "·", Under(Vec(tuple(self.given(v) for v in ins)), INv)]
        if p.bias:
            body += ["+", Under(Vec(tuple(self.given(v) for v in p.biases[l])), self.matrix_sym(l, "b"))]
        products = ["=", Vec(tuple(items))] if W.cols <= PRODUCTS_UP_TO else []  # wider rows would not fit a line
        self.B(Display(self.step_key(n, s), row(*body, *products, "=", self.answers(out, s))))

    def activation_step(self, l: int, s: int, n: int):
        act = self.d.act(l)
        H, L = self.keys[2 * l], self.keys[2 * l + 1]
        z = Symbol("z")
        written = act.forward(z)
        if isinstance(written, Function) and written.args == (z,):  # tanh(z) = tanh(z) says nothing: its exp form
            written = written.rewrite(exp)
        act_def = from_sympy(written, {z: sym("z")})
        self.B(Prose([("b", f"Step {n}: "), row(self.vec(L, s), "=", Call(act.text, (self.vec(H, s),))), "     ",
                      row(Call(act.text, (sym("z"),)), "=", act_def)]))
        self.B(Display(self.step_key(n, s), row(self.vec(L, s), "=", Call(act.text, (self.answers(H, s),)), "=",
                                                self.answers(L, s))))

    def output_step(self, s: int, n: int, at: str):
        """``Y = output(O)``: an elementwise layer applied to the logits' blanks; a coupled one (the softmax) with
        its first output written out (``e^{O_1}/(e^{O_1} + e^{O_2})``) and the others' values; the identity as
        ``Y = O``."""
        out, n_out = self.d.output, self.p.n_out
        Y, O = self.fwd("Y", s), self.fwd("O", s)
        Yv, Ov = self.vec("Y", s), self.vec("O", s)
        i_ = sym("i")
        if out.passes_through:
            self.B(Prose([("b", f"Step {n}: "), row(Yv, "=", Ov), f" ({out.text} output: ", row(self.ent("Y", i_, s), "=",
                                                                                              self.ent("O", i_, s)), ")"]))
            self.B(Display(self.step_key(n, s), row(Yv, "=", Ov, "=", self.answers("Y", s))))
            return
        oi, oj, j = Symbol("O_i"), Symbol("O_j"), Symbol("j")
        general = from_sympy(out.general(oi, oj, j, n_out), {oi: self.ent("O", i_, s), oj: self.ent("O", sym("j"), s), j: sym("j")})
        if out.elementwise:
            self.B(Prose([("b", f"Step {n}: "), row(Yv, "=", Call(out.text, (Ov,))), "     ",
                          row(self.ent("Y", i_, s), "=", Call(out.text, (self.ent("O", i_, s),)), "=", general)]))
            self.B(Display(self.step_key(n, s), row(Yv, "=", Call(out.text, (self.answers("O", s),)), "=",
                                                    self.answers("Y", s))))
            return
        self.B(Prose([("b", f"Step {n}: "), row(Yv, "=", Call(out.text, (Ov,))), "     ", row(self.ent("Y", i_, s), "=", general)]))
        os_ = [Symbol(f"o_{k + 1}") for k in range(n_out)]
        first = from_sympy(out.written(os_)[0], {os_[k]: self.ans(O[k], f"forward.O[{k + 1}]{at}") for k in range(n_out)})
        step = [self.ent("Y", 0, s), "=", first, "=", self.ans(Y[0], f"forward.Y[1]{at}")]
        for k in range(1, n_out):
            step += ["quad", self.ent("Y", k, s), "=", self.ans(Y[k], f"forward.Y[{k + 1}]{at}")]
        step += ["⇒", Yv, "=", self.answers("Y", s)]
        self.B(Display(self.step_key(n, s), row(*step)))

    def loss_step(self, s: int, n: int, at: str):
        p, loss_fn, n_out = self.p, self.d.loss_fn, self.p.n_out
        # The loss as the registry writes it: its definition, and its formula with the blanks substituted.
        extra = (",", sym("N"), "=", Numeral(str(n_out))) if "N" in loss_fn.formula_text else ()
        raw = Raw(loss_fn.formula_text, loss_fn.formula_tex, loss_fn.formula_typst)
        if self.S > 1:  # a sample's loss is ℓ; ℒ is the mean over the samples (the last step)
            raw = Raw(raw.text.replace("ℒ", "ℓ"), raw.tex.replace(r"\mathcal{L}", r"\ell"), raw.typst.replace("cal(L)", "ell"))
            extra += ((" outputs",) if extra else ())
        definition = row(raw, *extra)
        Ys = [Symbol(f"Y_{k + 1}") for k in range(n_out)]
        ys = [Symbol(f"y_{k + 1}") for k in range(n_out)]
        Y = self.fwd("Y", s)
        slots = {**{Ys[k]: self.ans(Y[k], f"forward.Y[{k + 1}]{at}") for k in range(n_out)},
                 **{ys[k]: self.ans(p.ys[s][k], f"problem.y[{k + 1}]{at}") for k in range(n_out)}}
        body = from_sympy(loss_fn.written(Ys, ys), slots)
        head = [("b", f"Step {n}: {loss_fn.title}"), "     ", definition]
        if self.S > 1:
            head += [" (sample ", Numeral(str(s + 1)), "'s loss)"]
        self.B(Prose(head))
        loss = self.v.forward["loss"] if self.S == 1 else self.v.forward["losses"][s]
        key = "forward.loss" + at
        ends = [self.ans(loss, key)] + ([Slot(_fraction(loss), key=key)]
                                        if _fraction(loss) is not None and self.nb.n.decimal(loss) is not None else [])
        self.B(Display(self.step_key(n, s), row(self.loss_sym(s) if self.S > 1 else LOSS, "=", body,
                                                *sum((["=", e] for e in ends), []))))

    def mean_loss(self, n: int):
        S = self.S
        mean = Frac(Numeral("1"), Numeral(str(S)))
        terms, nums = [], []
        for s in range(S):
            terms += (["+"] if s else []) + [self.loss_sym(s)]
            nums += (["+"] if s else []) + [self.ans(self.v.forward["losses"][s], f"forward.loss@{s + 1}")]
        self.B(Heading("The mean loss", 3))
        self.B(Prose([("b", f"Step {n}: "), row(LOSS, "=", mean, Paren(row(*terms))), " (the mean over the samples)"]))
        self.B(Display(f"step{n}", row(LOSS, "=", mean, Paren(row(*nums)), "=", self.ans(self.v.forward["loss"], "forward.loss"))))

    # -- backward ---------------------------------------------------------------------------------------

    def loss_local(self, k_, s=None):
        """``∂ℒ/∂Y_k = …`` (``∂ℓ/∂Y_k`` per sample), as the registry writes it, in index ``k_``."""
        n_out = self.p.n_out
        Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
        yvec = [Symbol(f"y_{k}") for k in range(n_out)]
        return from_sympy(self.d.loss_fn.local(Yvec, yvec, 0), {Yvec[0]: self.ent("Y", k_, s), yvec[0]: self.ent("y", k_, s)})

    def formulas(self):
        p, d_, out = self.p, self.d, self.d.output
        i_, j_ = sym("i"), sym("j")
        Li, Lsym = self.loss_local(i_), (LOSS if self.S == 1 else Sym("ell"))
        parts = [("b", "Derivative formulas: "), f"{d_.loss_fn.text}: ", row(partial(Lsym, sym("Y", i_)), "=", Li)]
        j_out = i_ if out.elementwise else j_  # ∂Y_i/∂O_i alone where the Jacobian is diagonal
        parts += [f";   {out.title}: ", row(partial(sym("Y", i_), sym("O", j_out)), "=", self.jacobian(i_, j_out))]
        parts += [";   Linear: "]
        first = True
        for l in range(len(p.weights) - 1, -1, -1):
            Z, IN = self.linear_out(l), self.linear_in(l)
            w = self.psym_general(l)
            pieces = [row(partial(self.ent(Z, i_), w), "=", self.ent(IN, j_))]
            if p.bias:
                pieces.append(row(partial(self.ent(Z, i_), self.bias_general(l)), "=", Numeral("1")))
            if l > 0:
                pieces.append(row(partial(self.ent(Z, i_), self.ent(IN, j_)), "=", w))
            for piece in pieces:
                parts += ([] if first else [", "]) + [piece]
                first = False
        seen = []
        for l in range(p.depth):
            act = d_.act(l)
            H, L = self.keys[2 * l], self.keys[2 * l + 1]
            hs, ls = Symbol("H_i"), Symbol("L_i")
            formula = row(partial(self.ent(L, i_), self.ent(H, i_)), "=", from_sympy(act.local(hs, ls), {hs: self.ent(H, i_), ls: self.ent(L, i_)}))
            if act.name in seen:
                parts += [", ", formula]
            else:
                seen.append(act.name)
                parts += [f";   {act.text}: ", formula]
        self.B(Prose(parts, key="formulas"))

    def jacobian(self, k, j, s=None):
        """``∂Y_k/∂O_j`` as the output layer's Jacobian writes it, printed from its SymPy rule: ``Y_k(δ_kj − Y_j)``;
        ``k``, ``j`` 0-based units or index symbols (``j`` is ``k`` for an elementwise layer)."""
        a, b = Symbol("a"), Symbol("b")  # named in δ's canonical order (SymPy sorts a Kronecker delta's indices)
        Ys = {a: Symbol("Y_a"), b: Symbol("Y_b")}
        index = {u: Numeral(str(u + 1)) if isinstance(u, int) else u for u in (k, j)}
        expr = self.d.output.local(Ys, a, a if self.d.output.elementwise else b)
        return from_sympy(expr, {Ys[a]: self.ent("Y", k, s), Ys[b]: self.ent("Y", j, s), a: index[k], b: index[j]})

    def psym_general(self, l: int) -> Sym:
        return Sym("w", Row((sym("i"), sym("j"))), Sym(LETTERS[l]))

    def bias_general(self, l: int) -> Sym:
        return Sym("b", sym("i"), Sym(LETTERS[l]))

    def output_values(self, s: int):
        """``∇Y_k`` and the output layer's local derivatives ``∂Y_k/∂O_j``: the values every path uses."""
        n_out, at = self.p.n_out, self.at(s)
        Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
        yvec = [Symbol(f"y_{k}") for k in range(n_out)]
        ynames = {Yvec[k]: self.ent("Y", k, s) for k in range(n_out)} | {yvec[k]: self.ent("y", k, s) for k in range(n_out)}
        parts = [("b", "Values"), " (used by all paths below): " if self.S == 1 else f" of sample {s + 1} (used by all paths below): "]
        for k in range(n_out):
            parts += ([",  "] if k else []) + [row(grad_sym(self.ent("Y", k, s)), "=", from_sympy(self.d.loss_fn.local(Yvec, yvec, k), ynames),
                                                 "=", self.ans(self.bwd("dL_dY", s)[k], f"backward.dL_dY[{k + 1}]{at}"))]
        self.B(Prose(parts, key="values_dY" + at))
        parts = []
        J = self.bwd("dY_dO", s)
        for j in range(n_out):
            for k in range(n_out):
                if k != j and self.d.output.elementwise:
                    continue
                parts += ([",  "] if parts else []) + [row(partial(self.ent("Y", k, s), self.ent("O", j, s)), "=",
                                                          self.ans(J[k][j], f"backward.dY_dO[{k + 1},{j + 1}]{at}"))]
        self.B(Prose(parts, key="values_dYdO" + at))

    def along(self, *pieces) -> Prose:
        parts = [("b", "Derivatives along path: ")]
        for k, piece in enumerate(pieces):
            parts += ([",  "] if k else []) + [piece]
        return Prose(parts)

    def path(self, q, number: int):
        """One asked parameter: its title, its diagram, the local derivatives along its paths, and the chain."""
        colour = PATH_COLOURS[number % len(PATH_COLOURS)]
        last = q.layer == len(self.p.weights) - 1
        if not last:
            self.ensure(self.linear_out(q.layer + 1))
        Z, IN = self.linear_out(q.layer), self.linear_in(q.layer)
        w = self.psym(q)
        label = "Example: " if number == 0 else "Practice: "
        if q.kind == "bias":
            link = [w, " feeds ", self.ent(Z, q.i)]
        else:
            link = [w, " connects ", self.ent(IN, q.j), " to ", self.ent(Z, q.i)]
        tail = []
        if not last:
            through = self.p.depth - q.layer
            if self.p.depth == 1:
                tail = ["; longer chain through the hidden layer"]
            else:
                tail = [f"; longer chain through hidden layer {q.layer + 1}" if through == 1
                        else f"; longer chain through {through} hidden layers"]
        if self.S > 1:  # the diagram draws one sample's network (its values on the key)
            tail.append("; the diagram shows sample 1")
        self.B(Prose([("b", label), partial(LOSS, w), f" ({colour} path: ", *link, "".join(tail) + ")"]))
        self.B(Figure(q.key(self.d.symbols.wide), colour, f"{colour} path"))
        if last:
            self.output_path(q, number == 0)
        else:
            self.hidden_path(q)

    def _dp(self, q, Z: str, s=None):
        """``∂Z_i/∂p``'s value-side: the input ``x_j`` / ``L_j`` it multiplies, or 1 for a bias."""
        return Numeral("1") if q.kind == "bias" else self.ent(self.linear_in(q.layer), q.j, s)

    def output_path(self, q, example: bool):
        """``∂ℒ/∂w^b_ij = [Σ_k ∂Y_k/∂O_i ∇Y_k]·∂O_i/∂w^b_ij = [__]·__ (= (__)(__)) = __``."""
        p, nb, out = self.p, self.nb, self.d.output
        i, k_ = q.i, sym("k")
        w = self.psym(q)
        ks = [i] if out.elementwise else list(range(p.n_out))
        if out.elementwise:
            Yk, yk = [Symbol("Y_i")], [Symbol("y_i")]
            along = [row(partial(self.loss_sym(), self.ent("Y", i)), "=", from_sympy(self.d.loss_fn.local(Yk, yk, 0),
                                                                     {Yk[0]: self.ent("Y", i), yk[0]: self.ent("y", i)})),
                     row(partial(self.ent("Y", i), self.ent("O", i)), "=", self.jacobian(i, i))]
        else:
            along = [row(partial(self.loss_sym(), sym("Y", k_)), "=", self.loss_local(k_)),
                     row(partial(sym("Y", k_), self.ent("O", i)), "=", self.jacobian(k_, i))]
        along.append(row(partial(self.ent("O", i), w), "=", self._dp(q, "O")))
        self.B(self.along(*along))
        g = self.v.grad(q)
        gk = f"grad.{q.key(self.d.symbols.wide)}"
        order = "dY first" if example else "grad first"
        if self.S > 1:
            self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", self.batch_chain(q, g, gk, order)))
            return
        terms, nums = self.output_bracket(i, ks, 0, order)
        dO = f"backward.dL_dO[{i + 1}]"
        self.introduced.add(("O", i, 0))
        in_label = row("=", self._dp(q, "O"))
        head = row(partial(LOSS, w), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(self.ent("O", i))), "·",
                   Under(partial(self.ent("O", i), w), in_label))
        if q.kind == "bias":
            in_slot = Slot(Numeral("1"), given=True)
            in_factor = Slot(Numeral("1"), given=True)
        else:
            Lk = self.in_key(q.layer, q.j, 0)
            v = self.in_value(q.layer, q.j, 0)
            in_slot, in_factor = Slot(nb.factor(v), key=Lk), Slot(nb.num(v), key=Lk)  # after "·", a negative bracketed
        rows = [head]
        if example:  # the worked example: one more line, the two factors
            rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", in_slot))
            rows.append(row("&=", Paren(Slot(nb.num(self.bwd("dL_dO", 0)[i]), key=dO)), Paren(in_factor), "=", self.ans(g, gk)))
        else:
            rows.append(row("&=", Paren(Slot(Row(tuple(nums)), key=dO), "["), "·", in_slot, "=", self.ans(g, gk)))
        self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", Aligned(tuple(rows))))

    def output_bracket(self, i: int, ks, s: int, order: str = "dY first"):
        """``∂Y_1/∂O_i ∇Y_1 + …`` and its numbers: what ``∇O_i`` sums."""
        nb, terms, nums = self.nb, [], []
        J, G = self.bwd("dY_dO", s), self.bwd("dL_dY", s)
        for n, k in enumerate(ks):
            dy = partial(self.ent("Y", k, s), self.ent("O", i, s))
            pair = row(dy, grad_sym(self.ent("Y", k, s))) if order == "dY first" else row(grad_sym(self.ent("Y", k, s)), "·", dy)
            terms += ([Operator("+")] if n else []) + [pair]
            nv = (J[k][i], G[k]) if order == "dY first" else (G[k], J[k][i])
            nums += ([Operator("+")] if n else []) + [row(nb.factor(nv[0]), "·", nb.factor(nv[1]))]
        return terms, nums

    def hidden_bracket(self, layer: int, i: int, s: int):
        """``∇Z'_1 w'_1i + …`` and its numbers: what ``∇L_i`` of hidden layer ``layer`` sums (``Z'`` the next
        pre-activation, ``w'`` the next layer's weights)."""
        nxt, W = self.linear_out(layer + 1), self.p.weights[layer + 1]
        key = "dL_d" + nxt
        terms, nums = [], []
        for k in range(W.rows):
            terms += ([Operator("+")] if k else []) + [row(grad_sym(self.ent(nxt, k, s)), self.psym(Param(layer + 1, "weight", k, i)))]
            nums += ([Operator("+")] if k else []) + [row(self.nb.factor(self.bwd(key, s)[k]), "·", self.nb.factor(W[k, i]))]
        return terms, nums

    def hidden_path(self, q):
        p, nb = self.p, self.nb
        l, i = q.layer, q.i
        H, L, nxt = self.keys[2 * l], self.keys[2 * l + 1], self.linear_out(l + 1)
        act = self.d.act(l)
        w = self.psym(q)
        hs, ls = Symbol("H_1"), Symbol("L_1")
        pieces = [row(partial(self.ent(H, i), w), "=", self._dp(q, H)),
                  row(partial(self.ent(L, i), self.ent(H, i)), "=", Call(act.text, (self.ent(H, i),), prime=True), "=",
                      from_sympy(act.local(hs, ls), {hs: self.ent(H, i), ls: self.ent(L, i)})),
                  row(partial(sym(nxt[0], sym("i"), self.sup(nxt[1:], None)), self.ent(L, i)), "=",
                      Sym("w", Row((sym("i"), Numeral(str(i + 1)))), Sym(LETTERS[l + 1])))]
        block = self.along(*pieces)
        n_next = p.weights[l + 1].rows
        outs = Row(tuple(x for k in range(n_next) for x in ([Operator(",")] if k else []) + [self.ent(nxt, k)]))
        # several units fed: their contributions add up; one: a single path on
        block.parts += ["  (", self.ent(L, i), " feeds ", outs, " — sum their contributions)" if n_next > 1 else " only)"]
        self.B(block)
        g = self.v.grad(q)
        gk = f"grad.{q.key(self.d.symbols.wide)}"
        if self.S > 1:
            self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", self.batch_chain(q, g, gk, "grad first")))
            return
        lv = self.v.value(self.d.local_activation(l, i, 0))  # exact, its decimal known (tanh's 1 − L²)
        actp = Call(act.text, (self.ent(H, i),), prime=True)
        terms, nums = self.hidden_bracket(l, i, 0)
        if act.rational:  # the paper gives ReLU'(H_1) = 1 (read off H_1's sign)
            told = row("=", Slot(nb.num(lv), given=True))
        else:  # a sigmoid's derivative is a number the student computes (the blank below): give its formula
            hs, ls = Symbol("H_1"), Symbol("L_1")
            told = row("=", from_sympy(act.local(hs, ls), {hs: self.ent(H, i), ls: self.ent(L, i)}))
        first = [partial(LOSS, w), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(self.ent(L, i))), "·",
                 Under(actp, told)]
        second = ["&=", Paren(Slot(Row(tuple(nums)), key=f"backward.dL_d{L}[{i + 1}]"), "["), "·",
                  Slot(nb.factor(lv), key=f"local.d{L}_d{H}[{i + 1}]")]
        if q.kind == "weight":
            v = self.in_value(l, q.j, 0)
            first += ["·", Under(self.ent(self.linear_in(l), q.j), row("=", Slot(nb.num(v), given=True)))]
            second += ["·", Slot(nb.factor(v), key=self.in_key(l, q.j, 0))]
        self.B(Display(f"grad_{q.key(self.d.symbols.wide)}", Aligned((row(*first), row(*second, "=", self.ans(g, gk))))))

    def node_rows(self, key: str, i: int, s: int, order: str = "dY first") -> list:
        """``∇Z_i = [...] (·act'(H_i)) = [__] (·__) = __``: one backward value, as rows of an aligned block."""
        nb, at = self.nb, self.at(s)
        self.introduced.add((key, i, s))
        if key == "O":
            ks = [i] if self.d.output.elementwise else list(range(self.p.n_out))
            terms, nums = self.output_bracket(i, ks, s, order)
            return [row(grad_sym(self.ent("O", i, s)), "&=", Paren(Row(tuple(terms)), "["), "=",
                        Paren(Slot(Row(tuple(nums)), key=f"backward.dL_dO[{i + 1}]{at}"), "["), "=",
                        self.ans(self.bwd("dL_dO", s)[i], f"backward.dL_dO[{i + 1}]{at}"))]
        l = self.keys.index(key) // 2
        L = self.keys[2 * l + 1]
        act = self.d.act(l)
        lv = self.v.value(self.d.local_activation(l, i, s))
        terms, nums = self.hidden_bracket(l, i, s)
        return [row(grad_sym(self.ent(key, i, s)), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(self.ent(L, i, s))), "·",
                    Call(act.text, (self.ent(key, i, s),), prime=True)),
                row("&=", Paren(Slot(Row(tuple(nums)), key=f"backward.dL_d{L}[{i + 1}]{at}"), "["), "·",
                    Slot(nb.factor(lv), key=f"local.d{L}_d{key}[{i + 1}]{at}"), "=",
                    self.ans(self.bwd("dL_d" + key, s)[i], f"backward.dL_d{key}[{i + 1}]{at}"))]

    def ensure(self, key: str):
        """Every ``∇key`` a deeper path needs, computed once: a values block for those no path has asked yet."""
        if key != "O":
            self.ensure(self.linear_out(self.keys.index(key) // 2 + 1))
        width = len(self.fwd(key, 0))
        missing = [(i, s) for s in range(self.S) for i in range(width) if (key, i, s) not in self.introduced]
        if not missing:
            return
        self.B(Prose([("b", "Values"), " (used by the paths below): ", row(grad_sym(self.ent(key, sym("i"))), "=",
                                                                         *self.general_node(key))], key=f"values_d{key}"))
        rows = []
        for i, s in missing:
            rows += self.node_rows(key, i, s)
        self.B(Display(f"values_d{key}", Aligned(tuple(rows))))

    def general_node(self, key: str) -> list:
        """``∇Z_i`` in general: ``Σ_k ∂Y_k/∂O_i ∇Y_k``, or ``(Σ_k ∇Z'_k w'_ki)·act'(H_i)``."""
        i_, k_ = sym("i"), sym("k")
        if key == "O":
            if self.d.output.elementwise:
                return [partial(sym("Y", i_), sym("O", i_)), grad_sym(sym("Y", i_))]
            return [Sym("sum", k_), partial(sym("Y", k_), sym("O", i_)), grad_sym(sym("Y", k_))]
        l = self.keys.index(key) // 2
        nxt = self.linear_out(l + 1)
        return [Paren(row(Sym("sum", k_), grad_sym(self.ent(nxt, k_)), Sym("w", Row((k_, i_)), Sym(LETTERS[l + 1])))), "·",
                Call(self.d.act(l).text, (self.ent(key, i_),), prime=True)]

    def batch_chain(self, q, g, gk: str, order: str):
        """Several samples: ``∂ℒ/∂p = 1/S Σ_s ∇Z^[s]_i in^[s]_j``, each sample's ``∇Z^[s]_i``, then the mean."""
        S, nb, l, i = self.S, self.nb, q.layer, q.i
        Z = self.linear_out(l)
        mean = Frac(Numeral("1"), Numeral(str(S)))
        w = self.psym(q)

        def factor(s):
            return [] if q.kind == "bias" else [self.ent(self.linear_in(l), q.j, s)]
        terms = []
        for s in range(S):
            terms += (["+"] if s else []) + [row(grad_sym(self.ent(Z, i, s)), *factor(s))]
        rows = [row(partial(LOSS, w), "&=", mean, Paren(row(*terms)))]
        for s in range(S):
            if (Z, i, s) not in self.introduced:
                rows += self.node_rows(Z, i, s, order)
        nums = []
        for s in range(S):
            val = Paren(Slot(nb.num(self.bwd("dL_d" + Z, s)[i]), key=f"backward.dL_d{Z}[{i + 1}]{self.at(s)}"))
            if q.kind == "weight":
                v = self.in_value(l, q.j, s)
                nums += (["+"] if s else []) + [row(val, Paren(Slot(nb.num(v), key=self.in_key(l, q.j, s))))]
            else:
                nums += (["+"] if s else []) + [val]
        rows.append(row("&=", mean, Paren(row(*nums)), "=", self.ans(g, gk)))
        return Aligned(tuple(rows))

    # -- the closing question ---------------------------------------------------------------------------

    def closing(self):
        p = self.p
        if p.symmetric:
            self.B(Prose([("b", "Key Insight — Initialization Problem: "), "Based on your computation above, what is the "
                          "gradient of ", self.matrix_sym(0), "? What does this tell you about weight initialization?"],
                         key="question"))
            self.B(Prose(_insight(self.v, self.nb), key="answer", answer=True))
            return
        lr = p.step_lr
        eta, w_ = Sym("eta"), Sym("w")
        self.B(Prose([("b", "One gradient-descent step: "), "with learning rate ", row(eta, "=", self.given(lr)),
                      ", what is each asked parameter after one step, ", row(w_, "-", eta, partial(LOSS, w_)),
                      "? First the change ", row(Operator("neg"), eta, partial(LOSS, w_)),
                      ", then the new value: the old one plus the change."], key="question"))
        rows = []
        after = self.v.descent(lr, self.asked)  # {key: the parameter after the step}, exact
        for q in self.asked:
            w, key = self.psym(q), q.key(self.d.symbols.wide)
            change = self.v.value(-lr * self.d.gradient(q))  # through the layered decimals, as every value
            rows.append(row(w, "-", eta, partial(LOSS, w), "&=", self.given(self.pvalue(q)), "-", self.given(lr), "·",
                            Paren(Slot(self.nb.num(self.v.grad(q)), key=f"grad.{key}")), "=", self.given(self.pvalue(q)),
                            "+", Paren(self.ans(change, f"step.{key}")), "=", self.ans(after[key], f"descent.{key}")))
        self.B(Display("descent", Aligned(tuple(rows))))


def _lay_out(values, digits: int, data: bytes | None) -> Layout:
    check_fits(values.problem)
    return _Page(values, digits, data).build()
