"""The worked solution in the handout's order, as a structure every front end renders.

A solution is a list of :class:`Section` s; each holds :class:`Line` s, and a line is a chain of equal
:class:`Tx` pieces (``H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15``), each spelled twice: as plain text and
as LaTeX. The numbers all come from :class:`derivations.values.Values`; this module only writes them out.

>>> from derivations import evaluate, load_problem
>>> sol = worked_solution(evaluate(load_problem()))
>>> print(sol.section("step1").lines[0].text())
H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Expr, Float, Integer, Rational, latex, sstr

from .backward import Weight
from .values import Values

DIGITS = 6
BLANK = r"\underline{\hspace{2cm}}"


@dataclass(frozen=True)
class Tx:
    """A piece of notation, spelled as text and as LaTeX."""

    text: str
    tex: str

    def __add__(self, other: "Tx") -> "Tx":
        return Tx(self.text + other.text, self.tex + other.tex)


def t(text: str, tex: str | None = None) -> Tx:
    return Tx(text, text if tex is None else tex)


def join(pieces, text_sep: str, tex_sep: str) -> Tx:
    pieces = list(pieces)
    return Tx(text_sep.join(p.text for p in pieces), tex_sep.join(p.tex for p in pieces))


@dataclass
class Line:
    """``a = b = c``: one equation of the solution (or a sentence, when ``sides`` has one piece and
    ``prose`` is set)."""

    sides: list
    prose: bool = False
    label: str = ""
    given: int = 0  # sides a worksheet shows before its blank; 0: the whole line is given

    def worksheet_tex(self) -> str:
        """The line with the derived part left blank for the student."""
        if not self.given or self.given >= len(self.sides):
            return self.tex()
        return _chain([s.tex for s in self.sides[: self.given]] + [BLANK], r"\approx")

    def tex_aligned(self, worksheet: bool = False) -> str:
        """Display math: one ``=`` a row once the chain is long, as the handout sets its sums."""
        sides = [s.tex for s in self.sides]
        if worksheet and self.given and self.given < len(sides):
            sides = sides[: self.given] + [BLANK]
        flat = _chain(sides, r"\approx")
        if self.prose or len(sides) <= 2 or (len(sides) == 3 and len(flat) < 140):
            return flat
        if self.label == "path":  # a long path and its product: the numbers go below, indented
            return r"\begin{aligned} & " + r" \\ &\qquad = ".join(sides) + r" \end{aligned}"
        if len(sides) >= 4 and not sides[-1].startswith(r"\approx"):  # "= −0.0375 = −3/80" on one row
            sides = sides[:-2] + [sides[-2] + " = " + sides[-1]]
        rows = [sides[0] + " &= " + sides[1]]
        for side in sides[2:]:
            rows.append(("& " if side.startswith(r"\approx") else "&= ") + side)
        return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"

    def text(self) -> str:
        return _chain([s.text for s in self.sides], "≈")

    def tex(self) -> str:
        return _chain([s.tex for s in self.sides], r"\approx")


def _chain(sides: list, approx: str) -> str:
    """Join with ``=``, except before a piece that starts with its own ``≈``."""
    out = sides[0]
    for side in sides[1:]:
        out += (" " if side.startswith(approx) else " = ") + side
    return out


@dataclass
class Section:
    key: str
    title: Tx
    lines: list = field(default_factory=list)
    intro: str = ""


@dataclass
class Solution:
    title: str
    sections: list

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


class Notation:
    """How numbers and symbols are written: decimals where exact, fractions and ``≈`` where not."""

    def __init__(self, values: Values, digits: int = DIGITS):
        self.values, self.digits = values, digits
        self.tex_names = values.derivation.symbols.tex

    # -- numbers ---------------------------------------------------------------------------------

    def decimal(self, v: Expr) -> str | None:
        """The exact decimal text of a rational with a terminating expansion (``0.15``), else ``None``."""
        if not isinstance(v, Rational):
            return None
        q, twos, fives = int(v.q), 0, 0
        while q % 2 == 0:
            q, twos = q // 2, twos + 1
        while q % 5 == 0:
            q, fives = q // 5, fives + 1
        if q != 1:
            return None
        places = max(twos, fives)
        scaled = int(v * 10**places)
        sign, digits = ("-" if scaled < 0 else ""), str(abs(scaled)).rjust(places + 1, "0")
        if places == 0:
            return sign + digits
        return f"{sign}{digits[:-places]}.{digits[-places:]}"

    def approx(self, v: Expr) -> str:
        """A decimal with ``digits`` significant digits, from exact arithmetic (no float overflow)."""
        import mpmath

        f = self.values.decimal(v)
        if not isinstance(f, Float):
            return sstr(f)
        with mpmath.workdps(self.digits + 5):
            return mpmath.nstr(mpmath.mpf(f), self.digits, min_fixed=-4, max_fixed=9)

    def num(self, v: Expr) -> Tx:
        """A number inside a substitution: exact decimal if it has one, else rounded."""
        d = self.decimal(v)
        if d is not None and len(d) <= 24:
            return t(d.replace("-", "−"), d)
        a = self.approx(v)
        return t(a.replace("-", "−"), a)

    def factor(self, v: Expr) -> Tx:
        """A number as a factor: negatives in parentheses, ``(−0.25)``."""
        n = self.num(v)
        return t(f"({n.text})", rf"\left({n.tex}\right)") if n.text.startswith("−") else n

    def result(self, v: Expr) -> list:
        """The right-hand end of a line: ``0.15``; ``−0.0375 = −3/80``; ``1/3 ≈ 0.333333``; ``≈ 0.475021``."""
        if isinstance(v, Integer):
            return [self.num(v)]
        approx = self.approx(v) if self.decimal(v) is None else None
        about = t(f"≈ {approx}".replace("-", "−"), rf"\approx {approx}")
        if isinstance(v, Rational):
            frac = t(sstr(v).replace("-", "−"), latex(v))
            return [self.num(v), frac] if approx is None else [frac, about]
        return [about]

    def prod(self, *vs) -> Tx:
        """``a·(−b)``: numbers multiplied, as the handout writes them."""
        return join([self.factor(v) for v in vs], "·", r" \cdot ")

    def vector(self, vs) -> Tx:
        pieces = [self.num(v) for v in vs]
        return Tx(
            "(" + ", ".join(p.text for p in pieces) + ")ᵀ",
            r"\begin{pmatrix} " + r" \\ ".join(p.tex for p in pieces) + r" \end{pmatrix}",
        )

    # -- symbols and formulas ----------------------------------------------------------------------

    def sym(self, s) -> Tx:
        return t(str(s), self.tex_names[s])

    def expr(self, e: Expr) -> Tx:
        text = sstr(e).replace("**", "^").replace("*", "·").replace("-", "−")
        return t(text, latex(e, symbol_names=self.tex_names))


def worked_solution(values: Values, digits: int = DIGITS, params: list | None = None) -> Solution:
    """The handout's worked solution for ``values``' problem: setup, Steps 1-5, the backward values,
    the asked gradients as path sums (``params``, by default ``w_b11``, ``w_b21``, ``w_a11``), and the
    table of every gradient."""
    n = Notation(values, digits)
    d, p, s = values.derivation, values.problem, values.derivation.symbols
    f = values.forward
    act = d.activation.text
    sections = [_setup(n, values)]

    # Step 1: H = W_a x
    sec = Section("step1", t("Step 1: H = W_a · x (hidden pre-activation)", r"H = W_a \cdot x"))
    for i in range(p.n_hidden):
        terms = [n.prod(p.W_a[i, j], p.x[j]) for j in range(p.n_in)]
        sec.lines.append(Line([n.sym(s.H[i]), join(terms, " + ", " + "), *n.result(f["H"][i])[:1]], given=2))
    sec.lines.append(Line([t("H"), n.vector(f["H"])], given=1))
    sections.append(sec)

    # Step 2: L = act(H)
    sec = Section("step2", t(f"Step 2: L = {act}(H)", rf"L = \operatorname{{{act}}}(H)"))
    for i in range(p.n_hidden):
        arg = n.num(f["H"][i])
        sec.lines.append(Line([n.sym(s.L[i]), t(f"{act}({arg.text})", rf"\operatorname{{{act}}}({arg.tex})"), *n.result(f["L"][i])[:1]], given=1))
    sec.lines.append(Line([t("L"), n.vector(f["L"])], given=1))
    sections.append(sec)

    # Step 3: O = W_b L
    sec = Section("step3", t("Step 3: O = W_b · L (output pre-activation)", r"O = W_b \cdot L"))
    for i in range(p.n_out):
        terms = [n.prod(p.W_b[i, j], f["L"][j]) for j in range(p.n_hidden)]
        sec.lines.append(Line([n.sym(s.O[i]), join(terms, " + ", " + "), *n.result(f["O"][i])[:1]], given=1))
    sec.lines.append(Line([t("O"), n.vector(f["O"])], given=1))
    sections.append(sec)

    # Step 4: Y = softmax(O)
    sec = Section("step4", t("Step 4: Y = softmax(O), Y_i = e^{O_i} / Σ_j e^{O_j}", r"Y = \operatorname{softmax}(O)"))
    for i in range(p.n_out):
        num_ = n.num(f["O"][i])
        den = [n.num(o) for o in f["O"]]
        sec.lines.append(
            Line(
                [
                    n.sym(s.Y[i]),
                    Tx(
                        f"e^{num_.text} / (" + " + ".join(f"e^{o.text}" for o in den) + ")",
                        rf"\frac{{e^{{{num_.tex}}}}}{{" + " + ".join(f"e^{{{o.tex}}}" for o in den) + "}",
                    ),
                    *n.result(f["Y"][i]),
                ],
                given=1,
            )
        )
    sec.lines.append(Line([t("Y"), n.vector(f["Y"])], given=1))
    sections.append(sec)

    # Step 5: the loss
    sections.append(_loss_section(n, values))
    sections.append(_backward_section(n, values))

    names = params or ["w_b11", "w_b21", "w_a11"]
    roles = {"w_b11": "worked example, red path", "w_b21": "practice, blue path", "w_a11": "practice, green path"}
    for name in names:
        w = d.weight(name)
        role = roles.get(w.key(), "") if params is None else ""
        sections.append(gradient_section(n, values, w, role, detail=params is not None))
    sections.append(_table_section(n, values))
    return Solution(f"Backpropagation worked solution: {p.describe()}", sections)


def _setup(n: Notation, values: Values) -> Section:
    p = values.problem
    sec = Section("setup", t("Setup", "Setup"))
    sec.lines.append(Line([t("x"), n.vector(p.x)]))
    sec.lines.append(Line([t("y"), n.vector(p.y)]))
    for name, m, rows in (("W_a", p.W_a, "hidden unit"), ("W_b", p.W_b, "output")):
        shape = f"{m.shape[0]}×{m.shape[1]}"
        if len(set(m)) == 1:
            c = n.num(m[0, 0])
            tex_shape = rf"{m.shape[0]} \times {m.shape[1]}"
            sec.lines.append(Line([t(f"{name} ({shape}, no bias): all entries = {c.text}",
                                     rf"W_{{{name[-1]}}} \; ({tex_shape}): \text{{all entries}} = {c.tex}")], prose=True))
        else:
            sec.lines.append(Line([t(f"{name} ({shape}, one row per {rows})", f"W_{{{name[-1]}}}"), matrix(n, m)]))
    return sec


def matrix(n: Notation, m) -> Tx:
    rows = [[n.num(v) for v in m.row(i)] for i in range(m.shape[0])]
    text = "[" + "; ".join(", ".join(v.text for v in r) for r in rows) + "]"
    tex = r"\begin{pmatrix} " + r" \\ ".join(" & ".join(v.tex for v in r) for r in rows) + r" \end{pmatrix}"
    return Tx(text, tex)


def _loss_section(n: Notation, values: Values) -> Section:
    p, f = values.problem, values.forward
    N = p.n_out
    if p.loss == "mse":
        title = t(f"Step 5: MSE loss, ℒ = 1/N Σ_i (y_i − Y_i)², N = {N}", rf"\mathcal{{L}} = \frac{{1}}{{N}} \sum_i (y_i - Y_i)^2,\ N = {N}")
        terms = [t(f"({n.num(y).text} − {n.num(Y).text})²", f"({n.num(y).tex} - {n.num(Y).tex})^2") for y, Y in zip(p.y, f["Y"])]
        body = t(f"1/{N} [", rf"\frac{{1}}{{{N}}} \left[") + join(terms, " + ", " + ") + t("]", r"\right]")
    else:
        title = t("Step 5: cross-entropy loss, ℒ = −Σ_i y_i ln Y_i", r"\mathcal{L} = -\sum_i y_i \ln Y_i")
        terms = [n.factor(y) + t("·ln ", r" \ln ") + n.factor(Y) for y, Y in zip(p.y, f["Y"])]
        body = t("−[", r"-\left[") + join(terms, " + ", " + ") + t("]", r"\right]")
    sec = Section("step5", title)
    sec.lines.append(Line([t("ℒ", r"\mathcal{L}"), body, *n.result(f["loss"])], given=1))
    return sec


def _backward_section(n: Notation, values: Values) -> Section:
    p, s = values.problem, values.derivation.symbols
    f, b = values.forward, values.backward
    N = p.n_out
    sec = Section("backward", t("Backward pass: values used by all paths", r"\text{Backward pass}"))
    for i in range(p.n_out):
        Y, y = n.num(f["Y"][i]), n.num(p.y[i])
        if p.loss == "mse":
            scale = t("", "") if N == 2 else t(f"2/{N}·", rf"\frac{{2}}{{{N}}}")
            form = t(f"(2/N)(Y_{i + 1} − y_{i + 1})", rf"\frac{{2}}{{N}}(Y_{{{i + 1}}} - y_{{{i + 1}}})")
            sub = scale + t(f"({Y.text} − {y.text})", f"({Y.tex} - {y.tex})")
        else:
            form = t(f"−y_{i + 1} / Y_{i + 1}", rf"-\frac{{y_{{{i + 1}}}}}{{Y_{{{i + 1}}}}}")
            sub = t(f"−{y.text} / {Y.text}", rf"-\frac{{{y.tex}}}{{{Y.tex}}}")
        lhs = n.sym(s.gY[i]) + t(f" = ∂ℒ/∂Y_{i + 1}", rf" = \frac{{\partial \mathcal{{L}}}}{{\partial Y_{{{i + 1}}}}}")
        sec.lines.append(Line([lhs, form, sub, *n.result(b["dL_dY"][i])], given=2))
    for j in range(p.n_out):  # grouped by the logit, as the gradient of O_j uses them
        for k in range(p.n_out):
            Yk, Yj = n.num(f["Y"][k]), n.num(f["Y"][j])
            if k == j:
                form = t(f"Y_{k + 1}(1 − Y_{k + 1})", rf"Y_{{{k + 1}}}(1 - Y_{{{k + 1}}})")
                sub = t(f"{Yk.text}·(1 − {Yk.text})", rf"{Yk.tex} \cdot (1 - {Yk.tex})")
            else:
                form = t(f"−Y_{k + 1} Y_{j + 1}", rf"-Y_{{{k + 1}}} Y_{{{j + 1}}}")
                sub = t(f"−{Yk.text}·{Yj.text}", rf"-{Yk.tex} \cdot {Yj.tex}")
            sec.lines.append(Line([n.sym(s.dY_dO[k][j]), form, sub, *n.result(b["dY_dO"][k][j])], given=2))
    for j in range(p.n_out):
        terms = [n.sym(s.dY_dO[k][j]) + t("·", " ") + n.sym(s.gY[k]) for k in range(p.n_out)]
        nums = [n.prod(b["dY_dO"][k][j], b["dL_dY"][k]) for k in range(p.n_out)]
        sec.lines.append(
            Line([n.sym(s.gO[j]), join(terms, " + ", " + "), join(nums, " + ", " + "), *n.result(b["dL_dO"][j])], given=2)
        )
    return sec


def gradient_section(n: Notation, values: Values, w: Weight, role: str = "", detail: bool = False) -> Section:
    """One weight's gradient: its paths, then the handout's bracket with the numbers filled in (and, with
    ``detail``, its closed forms with symbolic weights)."""
    d, p, s = values.derivation, values.problem, values.derivation.symbols
    b, f = values.backward, values.forward
    wide = s.wide
    name = w.name(wide)
    wt = n.sym(s.weight(w.layer, w.i, w.j))
    title_text = f"∂ℒ/∂{name}" + (f" ({role})" if role else "")
    sec = Section(f"grad_{w.key(wide)}", t(title_text, rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wt.tex}}}"))
    paths = d.paths(w)
    sec.intro = f"{len(paths)} path{'s' if len(paths) != 1 else ''} from ℒ to {name}, each a product of local derivatives:"
    for pa in paths:
        factors = [n.sym(f) if f.is_Symbol else n.expr(f) for f in pa.factors]
        sec.lines.append(Line([
            t(pa.text(wide) + ":  ", path_tex(pa, wt) + r":\quad ") + join(factors, "·", r" \cdot "),
            n.prod(*(values.value(f) for f in pa.factors)),
            *n.result(values.value(pa.product)),
        ], label="path", given=1))
    lhs = t(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wt.tex}}}")
    value = values.grad(w)
    if w.layer == "b":
        i, j = w.i, w.j
        terms = [n.sym(s.dY_dO[k][i]) + t("·", " ") + n.sym(s.gY[k]) for k in range(p.n_out)]
        nums = [n.prod(b["dY_dO"][k][i], b["dL_dY"][k]) for k in range(p.n_out)]
        tail_sym, tail_num = n.sym(s.L[j]), n.factor(f["L"][j])
        inner = b["dL_dO"][i]
        sides = [
            lhs,
            t("[", r"\left[") + join(terms, " + ", " + ") + t("] · ", r"\right] \cdot ") + tail_sym,
            t("[", r"\left[") + join(nums, " + ", " + ") + t("] · ", r"\right] \cdot ") + tail_num,
            n.prod(inner, f["L"][j]),
        ]
    else:
        i, j = w.i, w.j
        act = d.activation.text
        terms = [n.sym(s.gO[k]) + t("·", " ") + n.sym(s.W_b[k, i]) for k in range(p.n_out)]
        nums = [n.prod(b["dL_dO"][k], p.W_b[k, i]) for k in range(p.n_out)]
        local_sym = t(f"{act}'(H_{i + 1})", rf"\operatorname{{{act}}}'(H_{{{i + 1}}})")
        local = values.value(d.local_activation(i))
        sides = [
            lhs,
            t("[", r"\left[") + join(terms, " + ", " + ") + t("] · ", r"\right] \cdot ") + local_sym + t(" · ", r" \cdot ") + n.sym(s.x[j]),
            t("[", r"\left[") + join(nums, " + ", " + ") + t("] · ", r"\right] \cdot ") + n.factor(local) + t(" · ", r" \cdot ") + n.factor(p.x[j]),
            n.prod(b["dL_dL"][i], local, p.x[j]),
        ]
    sec.lines.append(Line(sides + n.result(value), label=w.key(wide), given=2))
    if detail:
        sec.lines.append(Line([t("closed form, in the layers' quantities: ", r"\text{closed form: }") + lhs, n.expr(d.gradient(w)), n.expr(d.formula(w))], label="formula"))
        sec.lines.append(Line([t("closed form, in the weights, x and y: ", r"\text{in the weights: }") + lhs, n.expr(d.expanded(w))], label="expanded"))
    return sec


def path_tex(path, weight: Tx) -> str:
    r"""``\mathcal{L} \to Y_{1} \to O_{2} \to w^{b}_{21}``."""
    names = [r"\mathcal{L}" if kind == "loss" else f"{kind}_{{{k + 1}}}" for kind, k in path.nodes]
    return r" \to ".join(names + [weight.tex])


def _table_section(n: Notation, values: Values) -> Section:
    sec = Section("table", t("Every gradient", r"\text{Every gradient}"))
    for name in ("W_a", "W_b"):
        sec.lines.append(Line([t(f"∂ℒ/∂{name}", rf"\frac{{\partial \mathcal{{L}}}}{{\partial W_{{{name[-1]}}}}}"), matrix(n, values.gradients[name])], given=1))
    return sec
