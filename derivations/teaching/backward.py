r"""The backward pass's values and local derivatives, each operation's own, for both views.

:data:`BACKWARD` gives the values an operation's step back computes: the loss its ``∇Y_k = ∂ℓ/∂Y_k``, the
output layer its ``∂Y_k/∂O_j`` and ``∇O_j``, an activation and a linear layer the ``∇`` of their input; the
worked solution writes each as its chain-rule sum, with the numbers, and its value, and the students' page
asks for those every path uses before the paths (the rest where a path needs them).
:data:`LOCAL` gives an operation's local derivatives in general, as the students' page's *Derivative formulas*
write them (``∂ℒ/∂Y_i = Y_i − y_i``, ``∂Y_i/∂O_j = Y_i(δ_ij − Y_j)``, ``∂O_i/∂w^b_ij = L_j``, ``∂L_i/∂H_i =
𝟏_{H_i > 0}``), each printed from the registry's SymPy rule.

>>> from derivations import evaluate, load_problem
>>> from derivations.teaching.page import Context
>>> values = evaluate(load_problem())
>>> cx = Context(values, 6)
>>> print(BACKWARD(values.derivation.ops[-1], cx, 0).lines()[0].text())
∇Y_1 = ∂ℒ/∂Y_1 = Y_1 − y_1 = 0.5 − 1 = −0.5 = −1/2
"""

from __future__ import annotations

from sympy import Add, Expr, Function, Mul, Pow, Symbol
from sympy.core.parameters import evaluate

from ..engine.derivation import ActivationStep, Aspect, LinearStep, LossStep, OutputStep
from ..engine.problem import LETTERS
from ..notation.printing import Num, Tagged, Words
from ..engine.derivation import Param
from ..notation.tree import LOSS, Call, Numeral, Operator, Paren, Row, Slot, Sym, Under, grad_sym, partial, row, sym
from ..notation.tree_printing import from_sympy
from .numbers import Notation
from .page import Prose, Section, t

#: The values an operation's step back computes on a sample, for both views: ``BACKWARD(op, context, sample)``,
#: a :class:`StepBack`.
BACKWARD = Aspect("the backward values")

#: An operation's local derivatives in general, as the page's trees: ``LOCAL(op, context)`` -> ``[tree]``.
LOCAL = Aspect("the local derivatives")


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


class Bracket(Function):
    """``[…]``: the handout's square bracket around a chain-rule sum."""

    nargs = 1

    def _sympystr(self, printer):
        return f"[{printer._print(self.args[0])}]"

    def _latex(self, printer):
        return rf"\left[{printer._print(self.args[0])}\right]"


def numbers(values, exprs) -> dict:
    """Each symbol of ``exprs`` mapped to its value as a :class:`Num` (for a substitution), at the solution's
    default digits."""
    n = Notation(values)
    out = {}
    for e in exprs:
        for s in e.free_symbols | {f for f in e.atoms(Function) if not isinstance(f, Bracket)}:
            if s not in out:
                out[s] = n.num(values.value(s))
    return out


def grad_lines(cx, s: int, key: str, only=None) -> list:
    """``∇O_j = ∂Y_1/∂O_j·∇Y_1 + ... = numbers = value`` for each unit of node ``key`` (its chain-rule sum)."""
    d, lines = cx.d, []
    for j, g in enumerate(d.symbols.grad(key, s)):
        if only is not None and j not in only:
            continue
        written = d.display[g]
        lines.append(cx.line(g, written, substitute(written, numbers(cx.v, [written])), value=cx.v.value(g), given=2))
    return lines


def _units(on, key: str):
    return None if on is None else sorted(k for name, k in on if name == key)


def _nodes(on):
    """The nodes of ``on``'s edges (``on`` None: all)."""
    return None if on is None else {node for edge in on for node in edge}


class StepBack:
    """The values one operation's step back computes on sample ``s``: as the worked solution's lines
    (:meth:`lines`, all of them, or those on a parameter's paths ``on``, but for the node ``own`` the
    parameter feeds, whose sum its bracket writes) and as the students' page's blocks (:meth:`blocks`: what every
    path uses; the rest a path's block asks for where it needs it)."""

    def __init__(self, op, cx, s: int):
        self.op, self.cx, self.s = op, cx, s

    def lines(self, on=None, own: str = "") -> list:
        raise NotImplementedError

    def blocks(self) -> list:
        return []


@BACKWARD.register(LossStep)
class LossBack(StepBack):
    """``∇Y_k = ∂ℓ/∂Y_k``: the loss's own local derivative."""

    def lines(self, on=None, own=""):
        """``∇Y_k = ∂ℓ/∂Y_k = its formula = numbers = value``."""
        cx, s = self.cx, self.s
        p, sy, n, loss = cx.p, cx.d.symbols, cx.n, cx.d.loss_fn
        Y, y = cx.v.sample("forward", "Y", s), p.ys[s]
        lines = []
        for i in range(p.n_out) if on is None else _units(_nodes(on), "Y"):
            g = sy.grad("Y", s)[i]
            lhs = Words(f"{g} = ∂{sy.loss[s]}/∂{sy.node('Y', s)[i]}",
                        rf"{n.names[g]} = \frac{{\partial {n.names[sy.loss[s]]}}}{{\partial {n.names[sy.node('Y', s)[i]]}}}")
            with evaluate(False):
                form = loss.local(sy.node("Y", s), sy.y[s], i)
                sub = loss.local([n.num(v) for v in Y], [n.num(v) for v in y], i)
            lines.append(cx.line(lhs, form, sub, value=cx.v.sample("backward", "dL_dY", s)[i], given=2))
        return lines

    def blocks(self):
        """``∇Y_k = its formula = __`` for every output: the page's first values, every path uses them."""
        cx, s = self.cx, self.s
        n_out, at = cx.p.n_out, cx.at(s)
        Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
        yvec = [Symbol(f"y_{k}") for k in range(n_out)]
        ynames = {Yvec[k]: cx.ent("Y", k, s) for k in range(n_out)} | {yvec[k]: cx.ent("y", k, s) for k in range(n_out)}
        parts = [("b", "Values"), " (used by all paths below): " if cx.S == 1 else f" of sample {s + 1} (used by all paths below): "]
        for k in range(n_out):
            parts += ([",  "] if k else []) + [row(grad_sym(cx.ent("Y", k, s)), "=", from_sympy(cx.d.loss_fn.local(Yvec, yvec, k), ynames),
                                                 "=", cx.ans(cx.bwd("dL_dY", s)[k], f"backward.dL_dY[{k + 1}]{at}"))]
        return [Prose(parts, key="values_dY" + at)]


@BACKWARD.register(OutputStep)
class OutputBack(StepBack):
    """The output layer's local derivatives ``∂Y_k/∂O_j``, then ``∇O_j = Σ_k ∂Y_k/∂O_j ∇Y_k``."""

    def lines(self, on=None, own=""):
        """``∂Y_k/∂O_j`` (grouped by the logit, as the gradient of ``O_j`` uses them), then ``∇O_j``."""
        cx, s = self.cx, self.s
        p, sy, n, out = cx.p, cx.d.symbols, cx.n, cx.d.output
        Y, J = cx.v.sample("forward", "Y", s), cx.v.sample("backward", "dY_dO", s)
        pairs = None if on is None else {(b[1], a[1]) for a, b in on if a[0] == "O" and b[0] == "Y"}
        lines = []
        for j in range(p.n_out):
            for k in range(p.n_out):
                if (pairs is not None and (k, j) not in pairs) or (out.elementwise and k != j):
                    continue
                form = out.local_written(sy.node("Y", s), k, j)
                sub = out.local_written([n.num(v) for v in Y], k, j)
                lines.append(cx.line(sy.dY_dO[s][k][j], form, sub, value=J[k][j], given=2))
        return lines + ([] if own == "O" else grad_lines(cx, s, "O", _units(_nodes(on), "O")))

    def blocks(self):
        """``∂Y_k/∂O_j = __`` (only ``k = j`` where the Jacobian is diagonal): every path uses them."""
        cx, s = self.cx, self.s
        n_out, at, parts = cx.p.n_out, cx.at(s), []
        J = cx.bwd("dY_dO", s)
        for j in range(n_out):
            for k in range(n_out):
                if k != j and cx.d.output.elementwise:
                    continue
                parts += ([",  "] if parts else []) + [row(partial(cx.ent("Y", k, s), cx.ent("O", j, s)), "=",
                                                          cx.ans(J[k][j], f"backward.dY_dO[{k + 1},{j + 1}]{at}"))]
        return [Prose(parts, key="values_dYdO" + at)]


    def rows(self, i: int, order: str = "dY first") -> list:
        """The page's ``∇O_i = [Σ_k ∂Y_k/∂O_i ∇Y_k] = [__] = __``, as a row of an aligned block."""
        cx, s = self.cx, self.s
        at = cx.at(s)
        ks = [i] if cx.d.output.elementwise else list(range(cx.p.n_out))
        terms, nums = output_bracket(cx, i, ks, s, order)
        return [row(grad_sym(cx.ent("O", i, s)), "&=", Paren(Row(tuple(terms)), "["), "=",
                    Paren(Slot(Row(tuple(nums)), key=f"backward.dL_dO[{i + 1}]{at}"), "["), "=",
                    cx.ans(cx.bwd("dL_dO", s)[i], f"backward.dL_dO[{i + 1}]{at}"))]


@BACKWARD.register(LinearStep)
class InputBack(StepBack):
    """``∇`` of the operation's input unit by unit (none for the data ``x``): a linear layer's ``∇L_j = Σ_i ∇Z_i
    w_ij``, which the page writes as the bracket of the activation's row before it (:meth:`ActivationBack.rows`)."""

    def lines(self, on=None, own=""):
        if self.op.inp == "x":
            return []
        return grad_lines(self.cx, self.s, self.op.inp, _units(_nodes(on), self.op.inp))


@BACKWARD.register(ActivationStep)
class ActivationBack(InputBack):
    """``∇H_i = ∇L_i · act'(H_i)``: on the page one row, ``∇L_i`` written as the next layer's sum."""

    def rows(self, i: int, order: str = "dY first") -> list:
        """``∇H_i = [Σ_k ∇Z'_k w'_ki]·act'(H_i) = [__]·__ = __`` (``Z'`` the next pre-activation)."""
        cx, s, l = self.cx, self.s, self.op.layer
        at, H, L = cx.at(s), self.op.inp, self.op.out
        lv = cx.v.value(cx.d.local_activation(l, i, s))
        terms, nums = hidden_bracket(cx, l, i, s)
        return [row(grad_sym(cx.ent(H, i, s)), "&=", Under(Paren(Row(tuple(terms)), "["), grad_sym(cx.ent(L, i, s))), "·",
                    Call(cx.d.act(l).text, (cx.ent(H, i, s),), prime=True)),
                row("&=", cx.bracket(nums, cx.bwd("dL_d" + L, s)[i], f"backward.dL_d{L}[{i + 1}]{at}"), "·",
                    Slot(cx.nb.factor(lv), key=f"local.d{L}_d{H}[{i + 1}]{at}"), "=",
                    cx.ans(cx.bwd("dL_d" + H, s)[i], f"backward.dL_d{H}[{i + 1}]{at}"))]


def output_bracket(cx, i: int, ks, s: int, order: str = "dY first"):
    """``∂Y_1/∂O_i ∇Y_1 + …`` and its numbers: what ``∇O_i`` sums."""
    nb, terms, nums = cx.nb, [], []
    J, G = cx.bwd("dY_dO", s), cx.bwd("dL_dY", s)
    for n, k in enumerate(ks):
        dy = partial(cx.ent("Y", k, s), cx.ent("O", i, s))
        pair = row(dy, grad_sym(cx.ent("Y", k, s))) if order == "dY first" else row(grad_sym(cx.ent("Y", k, s)), "·", dy)
        terms += ([Operator("+")] if n else []) + [pair]
        nv = (J[k][i], G[k]) if order == "dY first" else (G[k], J[k][i])
        nums += ([Operator("+")] if n else []) + [row(nb.factor(nv[0]), "·", nb.factor(nv[1]))]
    return terms, nums


def hidden_bracket(cx, layer: int, i: int, s: int):
    """``∇Z'_1 w'_1i + …`` and its numbers: what ``∇L_i`` of hidden layer ``layer`` sums (``Z'`` the next
    pre-activation, ``w'`` the next layer's weights)."""
    nxt, W = cx.linear_out(layer + 1), cx.p.weights[layer + 1]
    key = "dL_d" + nxt
    terms, nums = [], []
    for k in range(W.rows):
        terms += ([Operator("+")] if k else []) + [row(grad_sym(cx.ent(nxt, k, s)), cx.psym(Param(layer + 1, "weight", k, i)))]
        nums += ([Operator("+")] if k else []) + [row(cx.nb.factor(cx.bwd(key, s)[k]), "·", cx.nb.factor(W[k, i]))]
    return terms, nums




def backward_section(cx) -> Section:
    """The values every path uses: ``∇Y``, ``∂Y/∂O``, ``∇O`` and the hidden layers' past the first (the
    first layer's are in each of its parameters' bracket), each operation's in reverse."""
    first = ("x", *cx.keys[:2])
    sec = Section("backward", t("Backward pass: values used by all paths", r"\text{Backward pass}"))
    for s in cx.samples():
        sec.lines += cx.sample_note(s)
        for op in reversed(cx.d.ops):
            if op.inp not in first:
                sec.lines += BACKWARD(op, cx, s).lines()
    return sec


def used_values_section(cx, w) -> Section:
    """The backward values one parameter's paths use, in reverse: its ``∇Y``, ``∂Y/∂O``, and the chain-rule sums
    its bracket reads (``∇O``, each ``∇L``; an activation's derivative is the bracket's own factor)."""
    d, sy = cx.d, cx.d.symbols
    name = w.name(sy.wide)
    own = d.op_of(w).out
    sec = Section(f"used_{w.key(sy.wide)}", t(f"Values the paths of {name} use", r"\text{Values the paths use}"))
    for s in cx.samples():
        edges = [(a, b) for a, b, _ in d.path_edges(w, s)]  # the paths' edges, never the (possibly thousands of) paths
        sec.lines += cx.sample_note(s)
        for op in reversed(d.ops):
            if not isinstance(op, ActivationStep):
                sec.lines += BACKWARD(op, cx, s).lines(edges, own)
    return sec


# -- the local derivatives in general, as the students' page writes them -----------------------------------


def loss_local(cx, k_, s=None):
    """``∂ℒ/∂Y_k = …`` (``∂ℓ/∂Y_k`` per sample), as the registry writes it, in index ``k_``."""
    n_out = cx.p.n_out
    Yvec = [Symbol(f"Y_{k}") for k in range(n_out)]
    yvec = [Symbol(f"y_{k}") for k in range(n_out)]
    return from_sympy(cx.d.loss_fn.local(Yvec, yvec, 0), {Yvec[0]: cx.ent("Y", k_, s), yvec[0]: cx.ent("y", k_, s)})


def jacobian(cx, k, j, s=None):
    """``∂Y_k/∂O_j`` as the output layer's Jacobian writes it, printed from its SymPy rule: ``Y_k(δ_kj − Y_j)``;
    ``k``, ``j`` 0-based units or index symbols (``j`` is ``k`` for an elementwise layer)."""
    a, b = Symbol("a"), Symbol("b")  # named in δ's canonical order (SymPy sorts a Kronecker delta's indices)
    Ys = {a: Symbol("Y_a"), b: Symbol("Y_b")}
    index = {u: Numeral(str(u + 1)) if isinstance(u, int) else u for u in (k, j)}
    expr = cx.d.output.local(Ys, a, a if cx.d.output.elementwise else b)
    return from_sympy(expr, {Ys[a]: cx.ent("Y", k, s), Ys[b]: cx.ent("Y", j, s), a: index[k], b: index[j]})


def activation_local(cx, layer: int, i):
    """``act'`` of hidden layer ``layer`` at unit ``i``, as the registry writes it: ``𝟏_{H_i > 0}``, ``L_i(1 − L_i)``."""
    H, L = cx.keys[2 * layer], cx.keys[2 * layer + 1]
    hs, ls = Symbol("H_1"), Symbol("L_1")
    return from_sympy(cx.d.act(layer).local(hs, ls), {hs: cx.ent(H, i), ls: cx.ent(L, i)})


def general_weight(l: int) -> Sym:
    return Sym("w", Row((sym("i"), sym("j"))), Sym(LETTERS[l]))


@LOCAL.register(LossStep)
def _loss_local(op, cx) -> list:
    Lsym = LOSS if cx.S == 1 else Sym("ell")
    return [row(partial(Lsym, sym("Y", sym("i"))), "=", loss_local(cx, sym("i")))]


@LOCAL.register(OutputStep)
def _output_local(op, cx) -> list:
    i_, j_ = sym("i"), sym("j")
    j_out = i_ if cx.d.output.elementwise else j_  # ∂Y_i/∂O_i alone where the Jacobian is diagonal
    return [row(partial(sym("Y", i_), sym("O", j_out)), "=", jacobian(cx, i_, j_out))]


@LOCAL.register(LinearStep)
def _linear_local(op, cx) -> list:
    """``∂Z_i/∂w_ij = in_j`` (``∂Z_i/∂b_i = 1``), and past the first layer ``∂Z_i/∂in_j = w_ij``."""
    i_, j_, l = sym("i"), sym("j"), op.layer
    Z, IN, w = op.out, cx.linear_in(l), general_weight(l)
    out = [row(partial(cx.ent(Z, i_), w), "=", cx.ent(IN, j_))]
    if cx.p.bias:  # a shared bias, b^a, is read by every unit
        out.append(row(partial(cx.ent(Z, i_), Sym("b", None if cx.p.shared_bias else i_, Sym(LETTERS[l]))), "=", Numeral("1")))
    if l > 0:
        out.append(row(partial(cx.ent(Z, i_), cx.ent(IN, j_)), "=", w))
    return out


@LOCAL.register(ActivationStep)
def _activation_local(op, cx) -> list:
    i_ = sym("i")
    act, hs, ls = cx.d.act(op.layer), Symbol("H_i"), Symbol("L_i")
    return [row(partial(cx.ent(op.out, i_), cx.ent(op.inp, i_)), "=",
                from_sympy(act.local(hs, ls), {hs: cx.ent(op.inp, i_), ls: cx.ent(op.out, i_)}))]


def formulas(cx) -> Prose:
    """The page's *Derivative formulas*: the loss's and the output layer's, every linear layer's (from the last),
    then each activation's (those of one activation under its name once)."""
    ops = cx.d.ops
    linears = [op for op in reversed(ops) if isinstance(op, LinearStep)]
    activations = [op for op in ops if isinstance(op, ActivationStep)]
    parts = [("b", "Derivative formulas: "), f"{cx.d.loss_fn.text}: ", *LOCAL(ops[-1], cx),
             f";   {cx.d.output.title}: ", *LOCAL(ops[-2], cx), ";   Linear: "]
    for k, piece in enumerate(piece for op in linears for piece in LOCAL(op, cx)):
        parts += ([", "] if k else []) + [piece]
    seen = []
    for op in activations:
        act = cx.d.act(op.layer)
        parts += [", " if act in seen else f";   {act.text}: ", *LOCAL(op, cx)]
        seen.append(act)
    return Prose(parts, key="formulas")


def output_values(cx, s: int) -> list:
    """The values every path uses, each operation's in reverse (the loss's ``∇Y``, the output layer's
    ``∂Y_k/∂O_j``), as the students' page asks them before the paths."""
    return [block for op in reversed(cx.d.ops) for block in BACKWARD(op, cx, s).blocks()]
