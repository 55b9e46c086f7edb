"""The worked solution in the handout's order, as a structure of SymPy expressions every front end renders.

A solution is a list of :class:`Section` s; each holds :class:`Line` s, and a line is a chain of sides joined
by ``=`` or ``≈`` (``H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15``). Every side is a SymPy expression, written
by the printers of :mod:`derivations.notation.printing` as text or LaTeX; the formulas come from the registry of
:mod:`derivations.engine.ops` applied to symbols (the general form) and to numbers (the substitution), so the two
can never disagree. The numbers all come from :class:`derivations.engine.values.Values`.

>>> from derivations import evaluate, load_problem
>>> sol = worked_solution(evaluate(load_problem()))
>>> print(sol.section("step1").lines[0].text())
H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Add, Expr, Float, Function, Integer, Mul, Pow, Rational, Symbol, latex
from sympy.core.parameters import evaluate

from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep, Param
from ..engine.ops import LOSSES
from ..engine.problem import bias_name, weight_name
from ..engine.values import Values
from ..notation.printing import Num, Tagged, Words, applied, decimal_text
from ..notation.printing import tex as tex_of
from ..notation.printing import text as text_of

DIGITS = 6
MAX_EXPANDED = 20000  # nodes of a closed form in the weights written out; past it, its size is given instead
MAX_LISTED_PATHS = 64  # a deep network's first-layer weight has thousands of paths: past this, none listed
BLANK = r"\underline{\hspace{2cm}}"
BLANK_TEXT = "____"


@dataclass(frozen=True)
class Tx:
    """A piece of prose, spelled as text and as LaTeX (section titles)."""

    text: str
    tex: str


def t(text: str, tex: str | None = None) -> Tx:
    return Tx(text, text if tex is None else tex)


@dataclass
class Line:
    """``a = b ≈ c``: one equation of the solution. ``sides`` are expressions, ``rels`` the relation before
    each side after the first (``"="`` or ``"≈"``); a worksheet shows the first ``given`` sides and a blank
    (``given = 0``: the whole line is given). ``prose``: a sentence, set inline."""

    sides: list
    rels: list = field(default_factory=list)
    given: int = 0
    label: str = ""
    prose: bool = False
    names: dict = field(default_factory=dict, repr=False)  # LaTeX of the symbols

    def __post_init__(self):
        self.rels = list(self.rels) + ["="] * (len(self.sides) - 1 - len(self.rels))

    def _pieces(self, worksheet: bool, printer, blank: str) -> tuple:
        sides = [printer(s) for s in self.sides]
        rels = list(self.rels)
        if worksheet and self.given and self.given < len(sides):
            sides, rels = sides[: self.given] + [blank], rels[: self.given - 1] + ["="]
        return sides, rels

    def text(self, worksheet: bool = False) -> str:
        sides, rels = self._pieces(worksheet, text_of, BLANK_TEXT)
        return _chain(sides, rels, {"=": " = ", "≈": " ≈ "})

    def tex(self, worksheet: bool = False) -> str:
        sides, rels = self._pieces(worksheet, self._tex, BLANK)
        return _chain(sides, rels, {"=": " = ", "≈": r" \approx "})

    def _tex(self, e) -> str:
        return tex_of(e, self.names)

    def tex_aligned(self, worksheet: bool = False) -> str:
        """Display math: one relation a row once the chain is long, as the handout sets its sums."""
        sides, rels = self._pieces(worksheet, self._tex, BLANK)
        flat = _chain(sides, rels, {"=": " = ", "≈": r" \approx "})
        if self.prose or len(sides) <= 2 or (len(sides) == 3 and len(flat) < 140):
            return flat
        ops = {"=": "&= ", "≈": r"&\approx "}
        if self.label == "path":  # a long path and its product: the numbers go below, indented
            rows = [sides[0]] + [ops[r].replace("&", r"&\qquad ") + s for r, s in zip(rels, sides[1:])]
            return r"\begin{aligned} & " + r" \\ ".join(rows) + r" \end{aligned}"
        if len(sides) >= 4 and rels[-1] == "=":  # "= −0.0375 = −3/80" on one row
            sides = sides[:-2] + [sides[-2] + " = " + sides[-1]]
            rels = rels[:-1]
        rows = [sides[0] + " " + ops[rels[0]] + sides[1]]
        rows += [ops[r] + s for r, s in zip(rels[1:], sides[2:])]
        return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def _chain(sides: list, rels: list, spell: dict) -> str:
    out = sides[0]
    for rel, side in zip(rels, sides[1:]):
        out += spell[rel] + side
    return out


@dataclass
class Section:
    key: str
    title: Tx
    lines: list = field(default_factory=list)
    intro: str = ""

    def heading(self, math: str, escape) -> str:
        r"""The title for a document with math: its prose escaped by ``escape``, its formula as math
        (``math`` wraps LaTeX: ``$…$``): ``Step 1: $H = W_{a} \cdot x$ (hidden pre-activation)``."""
        text = self.title.text
        note = text[text.rindex(" ("):] if text.endswith(")") and " (" in text else ""
        if self.key.startswith("step"):
            return f"{escape(text.split(':')[0])}: {math(self.title.tex)}{escape(note)}"
        if self.key.startswith("grad_"):
            return f"{math(self.title.tex)}{escape(note)}"
        return escape(text)


@dataclass
class Solution:
    title: str
    sections: list

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


def substitute(expr: Expr, numbers: dict) -> Expr:
    """``expr`` with its symbols (and local derivatives such as ``1[H_1 > 0]``) replaced by numbers, keeping
    the written order and shape (no evaluation)."""
    if expr in numbers:
        return numbers[expr]
    if isinstance(expr, Symbol):
        return expr
    if not expr.args or isinstance(expr, (Num, Words, Tagged)):
        return expr
    args = [substitute(a, numbers) for a in expr.args]
    if isinstance(expr, (Add, Mul, Pow)):
        return expr.func(*args, evaluate=False)
    with evaluate(False):
        return expr.func(*args)


class Notation:
    """How numbers are written: exact decimals where they exist, fractions and ``≈`` where not."""

    def __init__(self, values: Values, digits: int = DIGITS):
        self.values, self.digits = values, digits
        self.names = values.derivation.symbols.tex

    def decimal(self, v: Expr) -> str | None:
        """The exact decimal text of a rational with a terminating expansion (``0.15``), else ``None``."""
        return decimal_text(v) if isinstance(v, Rational) else None

    def approx(self, v: Expr) -> str:
        """A decimal with ``digits`` significant digits, from exact arithmetic (no float overflow or
        underflow: ``7.025e-522``); a large one without mpmath's trailing point (``-800000``, not ``-800000.``).
        """
        import mpmath

        f = self.values.decimal(v)
        if not isinstance(f, Float):
            return str(f)
        with mpmath.workdps(self.digits + 5):
            return mpmath.nstr(mpmath.mpf(f), self.digits, min_fixed=-4, max_fixed=9, strip_zeros=False).rstrip(".")

    def num(self, v: Expr) -> Num:
        """A number inside a substitution: its exact decimal if it has one, else rounded."""
        d = self.decimal(v)
        if d is not None and len(d) <= 24:
            return Num(v, d)
        return Num(v, self.approx(v), exact=False)

    def result(self, v: Expr) -> tuple:
        """The right-hand end of a line, as ``(rels, sides)``: ``= 0.15``; ``= −0.0375 = −3/80``;
        ``= 1/3 ≈ 0.333333``; ``≈ 0.475021``."""
        if isinstance(v, Integer):
            return ["="], [self.num(v)]
        if isinstance(v, Rational):
            frac = Num(v, str(v), latex(v))
            if self.decimal(v) is not None:
                return ["=", "="], [self.num(v), frac]
            return ["=", "≈"], [frac, Num(v, self.approx(v), exact=False)]
        return ["≈"], [Num(v, self.approx(v), exact=False)]

    def first(self, v: Expr) -> tuple:
        """Only the first piece of :meth:`result`, with its relation: ``= 0.15`` or ``≈ 0.537``."""
        rels, sides = self.result(v)
        return rels[:1], sides[:1]

    def vector(self, vs) -> Words:
        pieces = [self.num(v) for v in vs]
        return Words("(" + ", ".join(p.shown for p in pieces) + ")ᵀ",
                     r"\begin{pmatrix} " + r" \\ ".join(p.tex for p in pieces) + r" \end{pmatrix}")

    def matrix(self, m) -> Words:
        rows = [[self.num(v) for v in m.row(i)] for i in range(m.rows)]
        return Words("[" + "; ".join(", ".join(v.shown for v in r) for r in rows) + "]",
                     r"\begin{pmatrix} " + r" \\ ".join(" & ".join(v.tex for v in r) for r in rows) + r" \end{pmatrix}")

    def line(self, lhs, *middle, value=None, first_only=False, rels=(), **kw) -> Line:
        """``lhs = middle... = value`` (the value's pieces as :meth:`result` writes them)."""
        sides, all_rels = [lhs, *middle], list(rels) + ["="] * (len(middle) - len(rels))
        if value is not None:
            vr, vs = self.first(value) if first_only else self.result(value)
            sides += vs
            all_rels += vr
        return Line(sides, all_rels, names=self.names, **kw)


def worked_solution(values: Values, digits: int = DIGITS, params: list | None = None) -> Solution:
    """The handout's worked solution for ``values``' problem: setup, the forward steps, the backward values,
    the asked gradients as path sums (``params``, by default the handout's ``w_b11``, ``w_b21``, ``w_a11``,
    or their places in a deeper network), and the table of every gradient.

    With ``params`` given, only those parameters' derivations: the values their paths use, their paths,
    the bracket form and the closed forms."""
    n = Notation(values, digits)
    d, p = values.derivation, values.problem
    if params is not None:
        sections = []
        for name in params:
            w = d.param(name)
            sections += [_used_values_section(n, values, w), gradient_section(n, values, w, detail=True)]
        return Solution(f"Backpropagation: {', '.join('∂ℒ/∂' + d.param(x).name(d.symbols.wide) for x in params)} "
                        f"({p.describe()})", sections)
    sections = [_setup(n, values)]
    sections += [_step_section(op, n, values, step) for step, op in enumerate(d.ops, 1)]
    sections.append(_backward_section(n, values))
    for name, role in default_params(d):
        sections.append(gradient_section(n, values, d.param(name), role))
    sections.append(_table_section(n, values))
    return Solution(f"Backpropagation worked solution: {p.describe()}", sections)


def section(values: Values, key: str, digits: int = DIGITS) -> Section:
    """One section of the worked solution by its key (``setup``, ``step1`` ..., ``backward``, ``table``), built
    alone: a page that shows one step derives no other.

    >>> from derivations import evaluate, load_problem
    >>> print(section(evaluate(load_problem()), "step3").lines[0].text())
    O_1 = 0.1·0.15 + 0.1·0.15 + 0.1·0.15 + 0.1·0.15 = 0.06
    """
    n = Notation(values, digits)
    if key == "setup":
        return _setup(n, values)
    if key == "backward":
        return _backward_section(n, values)
    if key == "table":
        return _table_section(n, values)
    ops = values.derivation.ops
    if key.startswith("step") and key[4:].isdigit() and 1 <= int(key[4:]) <= len(ops):
        step = int(key[4:])
        return _step_section(ops[step - 1], n, values, step)
    raise KeyError(key)


#: The forward step of one operation as a section of the worked solution: a rule per kind of operation.
_step_section = Aspect("the worked solution's step")


def section_keys(values: Values) -> list:
    """The keys :func:`section` takes for this problem: ``setup``, ``step1`` ... ``stepN``, ``backward``, ``table``."""
    return ["setup"] + [f"step{k + 1}" for k in range(len(values.derivation.ops))] + ["backward", "table"]


def default_params(d) -> list:
    """The gradients the handout asks for, with their roles: the worked example and the two practice
    paths (``w_b11``, ``w_b21``, ``w_a11`` in the handout; the last layer's and the first layer's in a deeper
    network). With one output unit the practice weight of the last layer is ``w_b12`` (from the second unit
    before it), and with one unit there too, there is none."""
    layers = d.problem.layers
    last = len(layers) - 2
    out = [(Param(last, "weight", 0, 0), "worked example, red path")]
    if layers[-1] > 1:
        out.append((Param(last, "weight", 1, 0), "practice, blue path"))
    elif layers[-2] > 1:
        out.append((Param(last, "weight", 0, 1), "practice, blue path"))
    out.append((Param(0, "weight", 0, 0), "practice, green path"))
    return [(w.key(d.symbols.wide), role) for w, role in out]


def _samples(values):
    return range(values.problem.n_samples)


def _sample_note(n: Notation, values: Values, s: int) -> list:
    """With several samples, a prose line naming the sample before its lines."""
    p = values.problem
    if p.n_samples == 1:
        return []
    return [Line([Words(f"sample {s + 1}:", rf"\text{{sample {s + 1}:}}")], prose=True, names=n.names)]


def _vector_name(values: Values, text: str, tex: str, s: int) -> Words:
    """``H``, or ``H^[2]`` for sample 2 of several (``H^(1)[2]`` in a deeper network)."""
    if values.problem.n_samples == 1:
        return Words(text, tex)
    if "^(" in text:
        return Words(f"{text}[{s + 1}]", tex[:-1] + f"[{s + 1}]}}")
    return Words(f"{text}^[{s + 1}]", f"{tex}^{{[{s + 1}]}}")


def _setup(n: Notation, values: Values) -> Section:
    p = values.problem
    sec = Section("setup", t("Setup", "Setup"))
    for s in _samples(values):
        sup = f"^[{s + 1}]" if p.n_samples > 1 else ""
        tsup = f"^{{[{s + 1}]}}" if p.n_samples > 1 else ""
        sec.lines.append(n.line(Words(f"x{sup}", f"x{tsup}"), n.vector(p.xs[s])))
        sec.lines.append(n.line(Words(f"y{sup}", f"y{tsup}"), n.vector(p.ys[s])))
    bias = ", no bias" if not p.bias else ""
    for name, m in p.params().items():
        letter = name[-1]
        tex_name = f"W_{{{letter}}}" if name.startswith("W") else f"b_{{{letter}}}"
        rows = "output" if name == weight_name(p.depth) else "hidden unit"
        if len(set(m)) == 1 and name.startswith("W"):
            c = n.num(m[0])
            shape = f"{m.rows}×{m.cols}"
            sec.lines.append(Line([Words(f"{name} ({shape}{bias}): all entries = {c.shown}",
                                         rf"W_{{{letter}}} \; ({m.rows} \times {m.cols}): \text{{all entries}} = {c.tex}")],
                                  prose=True, names=n.names))
        elif name.startswith("W"):
            sec.lines.append(n.line(Words(f"{name} ({m.rows}×{m.cols}, one row per {rows})", tex_name), n.matrix(m)))
        else:
            sec.lines.append(n.line(Words(name, tex_name), n.vector(list(m))))
    return sec


def _node_tex(d, key: str) -> tuple:
    """``("H^(2)", "H^{(2)}")`` for a node key."""
    base, layer = key[0], key[1:]
    return (base + (f"^({layer})" if layer else ""), base + (f"^{{({layer})}}" if layer else ""))


@_step_section.register(LinearStep)
def _linear_section(op: LinearStep, n: Notation, values: Values, step: int) -> Section:
    d, p, sy = values.derivation, values.problem, values.derivation.symbols
    out, out_tex = _node_tex(d, op.out)
    inp, inp_tex = ("x", "x") if op.inp == "x" else _node_tex(d, op.inp)
    W = weight_name(op.layer)
    b = f" + {bias_name(op.layer)}" if p.bias else ""
    b_tex = rf" + b_{{{bias_name(op.layer)[-1]}}}" if p.bias else ""
    kind = "output" if op.out == "O" else "hidden"
    sec = Section(f"step{step}", t(f"Step {step}: {out} = {W} · {inp}{b} ({kind} pre-activation)",
                                  rf"{out_tex} = W_{{{W[-1]}}} \cdot {inp_tex}{b_tex}"))
    Wm = p.weights[op.layer]
    for s in _samples(values):
        sec.lines += _sample_note(n, values, s)
        ins = p.xs[s] if op.inp == "x" else values.sample("forward", op.inp, s)
        outs = values.sample("forward", op.out, s)
        for i in range(Wm.rows):
            with evaluate(False):
                terms = [Mul(n.num(Wm[i, j]), n.num(ins[j])) for j in range(Wm.cols)]
                if p.bias:
                    terms.append(n.num(p.biases[op.layer][i]))
                body = Add(*terms) if len(terms) > 1 else terms[0]
            sec.lines.append(n.line(sy.node(op.out, s)[i], body, value=outs[i], first_only=True,
                                    given=2 if op.inp == "x" else 1))
        sec.lines.append(n.line(_vector_name(values, out, out_tex, s), n.vector(outs), given=1))
    return sec


@_step_section.register(ActivationStep)
def _activation_section(op: ActivationStep, n: Notation, values: Values, step: int) -> Section:
    d, sy = values.derivation, values.derivation.symbols
    act = d.act(op.layer)
    out, out_tex = _node_tex(d, op.out)
    inp, inp_tex = _node_tex(d, op.inp)
    sec = Section(f"step{step}", t(f"Step {step}: {out} = {act.text}({inp})", rf"{out_tex} = {act.tex}({inp_tex})"))
    for s in _samples(values):
        sec.lines += _sample_note(n, values, s)
        H, L = values.sample("forward", op.inp, s), values.sample("forward", op.out, s)
        for i in range(len(H)):
            sec.lines.append(n.line(sy.node(op.out, s)[i], applied(act.text, act.tex, n.num(H[i])), value=L[i],
                                    first_only=True, given=1))
        sec.lines.append(n.line(_vector_name(values, out, out_tex, s), n.vector(L), given=1))
    return sec


@_step_section.register(OutputStep)
def _output_section(op: OutputStep, n: Notation, values: Values, step: int) -> Section:
    sy, out = values.derivation.symbols, values.derivation.output
    if out.passes_through:
        head = t(f"Step {step}: Y = O ({out.text} output)", rf"Y = O\ (\text{{{out.text} output}})")
    else:
        head = t(f"Step {step}: Y = {out.text}(O), {out.definition}", rf"Y = {out.tex}(O),\ {out.definition_tex}")
    sec = Section(f"step{step}", head)
    for s in _samples(values):
        sec.lines += _sample_note(n, values, s)
        O, Y = values.sample("forward", "O", s), values.sample("forward", "Y", s)
        written = out.written([n.num(o) for o in O])
        for i in range(len(O)):
            sec.lines.append(n.line(sy.node("Y", s)[i], written[i], value=Y[i], given=1))
        sec.lines.append(n.line(_vector_name(values, "Y", "Y", s), n.vector(Y), given=1))
    return sec


@_step_section.register(LossStep)
def _loss_section(op: LossStep, n: Notation, values: Values, step: int) -> Section:
    p, sy = values.problem, values.derivation.symbols
    loss = LOSSES[p.loss]
    N = p.n_out
    extra = f", N = {N}" if loss.mean else ""
    extra_tex = rf",\ N = {N}" if loss.mean else ""
    mean = f"; ℒ = mean over the {p.n_samples} samples" if p.n_samples > 1 else ""
    sec = Section(f"step{step}", t(f"Step {step}: {loss.text} loss, {loss.formula_text}{extra}{mean}",
                                  rf"\text{{{loss.text} loss: }}" + loss.formula_tex + extra_tex))
    for s in _samples(values):
        Y, y = values.sample("forward", "Y", s), p.ys[s]
        with evaluate(False):
            body = loss.forward([n.num(v) for v in Y], [n.num(v) for v in y])
        value = values.forward["loss"] if p.n_samples == 1 else values.forward["losses"][s]
        sec.lines.append(n.line(sy.loss[s], body, value=value, given=1))
    if p.n_samples > 1:
        with evaluate(False):
            mean_expr = Mul(Rational(1, p.n_samples), Add(*sy.loss))
        sec.lines.append(n.line(sy.total, mean_expr, value=values.forward["loss"], given=1))
    return sec


def _numbers(values: Values, exprs) -> dict:
    """Each symbol of ``exprs`` mapped to its value as a :class:`Num` (for a substitution)."""
    n = Notation(values)
    out = {}
    for e in exprs:
        for sym in e.free_symbols | {f for f in e.atoms(Function) if not isinstance(f, _Bracket)}:
            if sym not in out:
                out[sym] = n.num(values.value(sym))
    return out


def _backward_section(n: Notation, values: Values) -> Section:
    p, sy = values.problem, values.derivation.symbols
    loss = LOSSES[p.loss]
    sec = Section("backward", t("Backward pass: values used by all paths", r"\text{Backward pass}"))
    for s in _samples(values):
        sec.lines += _sample_note(n, values, s)
        sec.lines += _dL_dY_lines(n, values, s, loss)
        sec.lines += _dY_dO_lines(n, values, s)
        sec.lines += _grad_lines(n, values, s, "O")
        for key in reversed(sy.keys[2:-2]):  # hidden layers past the first: ∇L^(l), ∇H^(l)
            sec.lines += _grad_lines(n, values, s, key)
    return sec


def _dL_dY_lines(n, values, s, loss, only=None) -> list:
    p, sy = values.problem, values.derivation.symbols
    Y, y = values.sample("forward", "Y", s), p.ys[s]
    lines = []
    for i in range(p.n_out) if only is None else only:
        g = sy.grad("Y", s)[i]
        lhs = Words(f"{g} = ∂{sy.loss[s]}/∂{sy.node('Y', s)[i]}",
                    rf"{n.names[g]} = \frac{{\partial {n.names[sy.loss[s]]}}}{{\partial {n.names[sy.node('Y', s)[i]]}}}")
        with evaluate(False):
            form = loss.local(sy.node("Y", s), sy.y[s], i)
            sub = loss.local([n.num(v) for v in Y], [n.num(v) for v in y], i)
        lines.append(n.line(lhs, form, sub, value=values.sample("backward", "dL_dY", s)[i], given=2))
    return lines


def _dY_dO_lines(n, values, s, only=None) -> list:
    p, sy = values.problem, values.derivation.symbols
    Y = values.sample("forward", "Y", s)
    J = values.sample("backward", "dY_dO", s)
    out = values.derivation.output
    lines = []
    for j in range(p.n_out):  # grouped by the logit, as the gradient of O_j uses them
        for k in range(p.n_out):
            if (only is not None and (k, j) not in only) or (out.elementwise and k != j):
                continue
            form = out.local_written(sy.node("Y", s), k, j)
            sub = out.local_written([n.num(v) for v in Y], k, j)
            lines.append(n.line(sy.dY_dO[s][k][j], form, sub, value=J[k][j], given=2))
    return lines


def _grad_lines(n, values, s, key, only=None) -> list:
    """``∇O_j = ∂Y_1/∂O_j·∇Y_1 + ... = numbers = value`` for each unit of node ``key`` (its chain-rule sum)."""
    d, sy = values.derivation, values.derivation.symbols
    lines = []
    for j, g in enumerate(sy.grad(key, s)):
        if only is not None and j not in only:
            continue
        written = d.display[g]
        lines.append(n.line(g, written, substitute(written, _numbers(values, [written])),
                            value=values.value(g), given=2))
    return lines


def _used_values_section(n: Notation, values: Values, w: Param) -> Section:
    """The backward values one parameter's paths use: its ∇Y, ∂Y/∂O and ∇ sums, no others."""
    d, sy = values.derivation, values.derivation.symbols
    name = w.name(sy.wide)
    sec = Section(f"used_{w.key(sy.wide)}", t(f"Values the paths of {name} use", r"\text{Values the paths use}"))
    loss = LOSSES[values.problem.loss]
    for s in _samples(values):
        edges = d.path_edges(w, s)  # the paths' edges, never the (possibly thousands of) paths themselves
        nodes = {node for a, b, _ in edges for node in (a, b)}
        sec.lines += _sample_note(n, values, s)
        sec.lines += _dL_dY_lines(n, values, s, loss, only=sorted(k for key, k in nodes if key == "Y"))
        pairs = {(b[1], a[1]) for a, b, _ in edges if a[0] == "O" and b[0] == "Y"}
        sec.lines += _dY_dO_lines(n, values, s, only=pairs)
        for key in sy.keys[::-1]:
            if key in ("Y",) or not any(k == key for k, _ in nodes):
                continue
            units = sorted(i for k, i in nodes if k == key)
            if key == "O" or key.startswith("L"):
                last = key == d.op_of(w).out
                if not last:
                    sec.lines += _grad_lines(n, values, s, key, only=units)
    return sec


def gradient_section(n: Notation, values: Values, w: Param, role: str = "", detail: bool = False) -> Section:
    """One parameter's gradient: its paths, then the handout's bracket with the numbers filled in (and, with
    ``detail``, its closed forms with symbolic weights)."""
    d, p, sy = values.derivation, values.problem, values.derivation.symbols
    wide = sy.wide
    name = w.name(wide)
    wsym = sy.param(w)
    wtex = n.names[wsym]
    title_text = f"∂ℒ/∂{name}" + (f" ({role})" if role else "")
    sec = Section(f"grad_{w.key(wide)}", t(title_text, rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}"))
    count = d.count_paths(w) * p.n_samples
    paths = d.paths(w) if count <= MAX_LISTED_PATHS else []
    per = f" ({count // p.n_samples} per sample, each times 1/{p.n_samples})" if p.n_samples > 1 else ""
    sec.intro = f"{count} path{'s' if count != 1 else ''} from ℒ to {name}{per}, each a product of local derivatives" + (
        ":" if paths else f"; more than {MAX_LISTED_PATHS}, so not listed: the bracket below sums them layer by layer.")
    for pa in paths:
        factor_values = [n.num(values.value(f)) for f in pa.factors]
        with evaluate(False):
            product = Mul(*pa.factors) if len(pa.factors) > 1 else pa.factors[0]
            nums = Mul(*factor_values)
        label = pa.text(wide)
        label_tex = r" \to ".join(pa.tex_labels + [wtex])
        sec.lines.append(n.line(Tagged(label, label_tex, product), nums, value=values.value(Mul(*pa.factors)),
                                label="path", given=1))
    lhs = Words(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}")
    op = d.op_of(w)
    per_sample = []
    for s in _samples(values):
        written, numbers = _bracket(n, values, w, op, s)
        per_sample.append((written, numbers))
    value = values.grad(w)
    if p.n_samples == 1:
        written, numbers = per_sample[0]
        inner = _inner_value(values, w, op, 0)
        tail = [inner, *_tail_values(values, w, op, 0)]
        with evaluate(False):
            prod = Mul(*(n.num(v) for v in tail)) if len(tail) > 1 else n.num(tail[0])
        sec.lines.append(n.line(lhs, written, numbers, prod, value=value, label=w.key(wide), given=2))
    else:
        for s, (written, numbers) in enumerate(per_sample):
            g = Words(f"∂ℓ^[{s + 1}]/∂{name}", rf"\frac{{\partial \ell^{{[{s + 1}]}}}}{{\partial {wtex}}}")
            sample_value = values.value(_sample_gradient(d, w, op, s))
            sec.lines.append(n.line(g, written, numbers, value=sample_value, label=f"{w.key(wide)}@{s + 1}", given=2))
        terms = [n.num(values.value(_sample_gradient(d, w, op, s))) for s in _samples(values)]
        with evaluate(False):
            mean = Mul(Rational(1, p.n_samples), Add(*terms))
        sec.lines.append(n.line(lhs, mean, value=value, label=w.key(wide), given=1))
    if detail:
        sec.lines.append(n.line(Words(f"closed form, in the layers' quantities: ∂ℒ/∂{name}",
                                      rf"\text{{closed form: }}\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}"),
                                d.gradient(w), d.formula(w), label="formula"))
        size = d.expanded_size(w)
        if size <= MAX_EXPANDED:
            expanded = d.expanded(w)
        else:  # summarized: the layered forms above say the same in a few lines
            expanded = Words(f"about {size} nodes, not written out (past {MAX_EXPANDED}); the layered form above is the same",
                             rf"\text{{about {size} nodes, not written out}}")
        sec.lines.append(n.line(Words(f"closed form, in the weights, x and y: ∂ℒ/∂{name}",
                                      rf"\text{{in the weights: }}\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}"),
                                expanded, label="expanded"))
    return sec


def descent_section(values: Values, lr, params=None, digits: int = DIGITS) -> Section:
    """One gradient-descent step: ``w^b_11 − η·∂ℒ/∂w^b_11 = 0.4 − 0.5·0.082167 ≈ 0.358916`` for each parameter
    (by default every weight), every gradient at the current parameters.

    >>> from sympy import Rational
    >>> from derivations import evaluate, load_problem
    >>> print(descent_section(evaluate(load_problem()), Rational(1, 2), ["w_b11"]).lines[0].text())
    w^b_11 − η·∂ℒ/∂w^b_11 = 0.1 − 0.5·(−0.0375) = 0.11875 = 19/160
    """
    n = Notation(values, digits)
    d, sy = values.derivation, values.derivation.symbols
    new = values.descent(lr, params)
    sec = Section("descent", t(f"One gradient-descent step, η = {n.num(Rational(lr)).shown}",
                               rf"\text{{One gradient-descent step, }}\eta = {n.num(Rational(lr)).tex}"))
    for key, value in new.items():
        w = d.param(key)
        name, wtex = w.name(sy.wide), sy.tex[sy.param(w)]
        lhs = Words(f"{name} − η·∂ℒ/∂{name}", rf"{wtex} - \eta\,\frac{{\partial \mathcal{{L}}}}{{\partial {wtex}}}")
        with evaluate(False):
            numbers = Add(n.num(values.value(sy.param(w))), Mul(Integer(-1), Mul(n.num(Rational(lr)), n.num(values.grad(w)))))
        sec.lines.append(n.line(lhs, numbers, value=value, label=key, given=1))
    return sec


def _sample_gradient(d, w: Param, op, s: int) -> Expr:
    """One sample's gradient of the parameter: ``∇out_i · in_j``."""
    return d.symbols.grad(op.out, s)[w.i] * d.into(w, s)


def _inner_value(values, w, op, s):
    sy = values.derivation.symbols
    if op.out == "O":
        return values.value(sy.grad("O", s)[w.i])
    L = sy.keys[sy.keys.index(op.out) + 1]
    return values.value(sy.grad(L, s)[w.i])


def _tail_values(values, w, op, s) -> list:
    d = values.derivation
    out = []
    if op.out != "O":
        out.append(values.value(d.local_activation(w.layer, w.i, s)))
    if w.kind == "weight":
        out.append(values.value(d.into(w, s)))
    return out


def _bracket(n: Notation, values: Values, w: Param, op, s: int) -> tuple:
    """The handout's bracket for one sample, written and with numbers: ``[∂Y_1/∂O_1·∇Y_1 + …]·L_1``,
    ``[∇O_1·w^b_11 + ∇O_2·w^b_21]·ReLU'(H_1)·x_1``."""
    d, sy = values.derivation, values.derivation.symbols
    if op.out == "O":
        inner = d.display[sy.grad("O", s)[w.i]]
        tail_w, tail_n = [], []
    else:
        L = sy.keys[sy.keys.index(op.out) + 1]
        inner = d.display[sy.grad(L, s)[w.i]]
        act = d.act(w.layer)
        H = sy.node(op.out, s)[w.i]
        tail_w = [applied(f"{act.text}'", f"{act.tex}'", H)]
        tail_n = [n.num(values.value(d.local_activation(w.layer, w.i, s)))]
    if w.kind == "weight":
        into = d.into(w, s)
        tail_w.append(into)
        tail_n.append(n.num(values.value(into)))
    inner_numbers = substitute(inner, _numbers(values, [inner]))
    with evaluate(False):
        written = Mul(_Bracket(inner), *tail_w) if tail_w else _Bracket(inner)
        numbers = Mul(_Bracket(inner_numbers), *tail_n) if tail_n else _Bracket(inner_numbers)
    return written, numbers


class _Bracket(Function):
    """``[…]``: the handout's square bracket around a chain-rule sum."""

    nargs = 1

    def _sympystr(self, printer):
        return f"[{printer._print(self.args[0])}]"

    def _latex(self, printer):
        return rf"\left[{printer._print(self.args[0])}\right]"


def _table_section(n: Notation, values: Values) -> Section:
    sec = Section("table", t("Every gradient", r"\text{Every gradient}"))
    for name, m in values.gradients.items():
        tex_name = f"{name[0]}_{{{name[-1]}}}"
        value = n.matrix(m) if name.startswith("W") else n.vector(list(m))
        sec.lines.append(n.line(Words(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {tex_name}}}"), value, given=1))
    return sec

