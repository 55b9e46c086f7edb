"""The derivation: a network as a list of operations, and one reverse loop over them.

Every quantity of the handout is a SymPy symbol (``H_1``, ``w^a_11``, ``∇O_2``) whose definition refers only
to its neighbouring layer, so the derivation grows linearly with the network. The forward pass applies each
operation of :mod:`derivations.engine.ops` in order; the backward pass walks the same list in reverse once,
multiplying each operation's local derivatives into the gradient of its input (micrograd's loop):

>>> from derivations.engine.problem import load_problem
>>> d = derive(load_problem())
>>> d.definitions[d.symbols.node("H")[0]]
w^a_11*x_1 + w^a_12*x_2 + w^a_13*x_3
>>> d.gradient("w_b21")
L_1*∇O_2
>>> d.formula("w_b21")
L_1*(∂Y_1/∂O_2*∇Y_1 + ∂Y_2/∂O_2*∇Y_2)
>>> len(d.paths("w_a11"))
4

Names (the same in the CLI, the JSON, the roles and the site): with one hidden layer the handout's
``H, L, O, Y``; with several, ``H^(1), L^(1), H^(2), L^(2), ..., O, Y`` (keys ``H1, L1, H2, ...``).
Weight matrices are lettered in layer order, ``W_a, W_b, W_c, ...`` (entries ``w^c_12``, keys ``w_c12``),
biases ``b_a, b_b, ...`` (entries ``b^a_3``, keys ``b_a3``; with ``shared_bias`` one per layer, ``b^a``, key
``b_a``). With several samples every per-sample quantity
carries the sample in square brackets, ``H^[2]_1`` (``forward.H[1]@2`` in a role), each sample's loss is
``ℓ^[s]`` and ``ℒ`` is their mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from sympy import Add, Expr, ImmutableMatrix, Integer, Mul, Rational, Symbol

from .errors import ProblemError
from .ops import ACTIVATIONS, LOSSES, OUTPUTS, linear
from .params import Param, input_index, pair, parse_param  # noqa: F401 (the parameters' names, imported from here too)
from .problem import LETTERS, Problem, bias_name, weight_name


def count_nodes(expr, limit: int | None = None) -> int:
    """Nodes of an expression walked as a tree (a shared subexpression counted at each use), stopping at
    ``limit``: meant for small expressions, such as a definition, or for a bounded look at a big one."""
    count, stack = 0, [expr]
    while stack and (limit is None or count < limit):
        e = stack.pop()
        count += 1
        stack.extend(getattr(e, "args", ()))
    return count


# -- the symbols, with their spellings ----------------------------------------------------------------------


class Symbols:
    """Every symbol of one network's derivation, with its text name (the symbol's own name) and its LaTeX.

    ``node(key, s)`` is the vector of a forward quantity (``"H"``, ``"L1"``, ``"O"``, ``"Y"``) for sample
    ``s``; ``grad(key, s)`` the gradient of the loss with respect to it (``∇O``); ``dY_dO[s][k][j]`` the
    output layer's Jacobian (diagonal for an elementwise output); ``loss[s]`` each sample's loss and ``total`` the loss ``ℒ``."""

    def __init__(self, problem: Problem):
        self.tex: dict = {}
        p = problem
        self.depth, self.samples = p.depth, p.n_samples
        self.wide = max(p.layers) > 9
        self.keys = self.node_keys(p.depth)
        S = range(p.n_samples)
        self.x = [self._vec("x", "", s, p.n_in) for s in S]
        self.y = [self._vec("y", "", s, p.n_out) for s in S]
        self.W = [self._matrix(l, p.layers[l + 1], p.layers[l]) for l in range(len(p.layers) - 1)]
        self.b = None
        if p.shared_bias:  # one symbol, read by every unit of the layer: its derivative sums over them
            self.b = [[self._sym(f"b^{LETTERS[l]}", f"b^{{{LETTERS[l]}}}")] * p.layers[l + 1] for l in range(len(p.layers) - 1)]
        elif p.bias:
            self.b = [[self._sym(f"b^{LETTERS[l]}_{i + 1}", f"b^{{{LETTERS[l]}}}_{{{i + 1}}}") for i in range(p.layers[l + 1])]
                      for l in range(len(p.layers) - 1)]
        self.nodes, self.grads = {}, {}
        widths = dict(zip(self.keys, [w for w in p.hidden for _ in (0, 1)] + [p.n_out, p.n_out]))
        for key in self.keys:
            base, layer = self.split(key)
            self.nodes[key] = [self._vec(base, layer, s, widths[key]) for s in S]
            self.grads[key] = [self._grad(base, layer, s, widths[key]) for s in S]
        self.dY_dO = [
            [[self._sym(f"∂Y{self._sup('', s)}_{k + 1}/∂O{self._sup('', s)}_{j + 1}",
                        rf"\frac{{\partial Y{self._tsup('', s)}_{{{k + 1}}}}}{{\partial O{self._tsup('', s)}_{{{j + 1}}}}}")
              for j in range(p.n_out)] for k in range(p.n_out)]
            for s in S
        ]
        if p.n_samples == 1:
            self.loss = [self._sym("ℒ", r"\mathcal{L}")]
        else:
            self.loss = [self._sym(f"ℓ^[{s + 1}]", rf"\ell^{{[{s + 1}]}}") for s in S]
        self.total = self.loss[0] if p.n_samples == 1 else self._sym("ℒ", r"\mathcal{L}")

    @staticmethod
    def node_keys(depth: int) -> list:
        """``["H", "L", "O", "Y"]``, or ``["H1", "L1", "H2", "L2", ..., "O", "Y"]`` with several hidden layers."""
        hidden = ["H", "L"] if depth == 1 else [f"{n}{l + 1}" for l in range(depth) for n in "HL"]
        return hidden + ["O", "Y"]

    @staticmethod
    def split(key: str) -> tuple:
        """``"H2"`` -> ``("H", "2")``; ``"H"`` -> ``("H", "")``."""
        return key[0], key[1:]

    def _sup(self, layer: str, s: int) -> str:
        sup = (f"({layer})" if layer else "") + (f"[{s + 1}]" if self.samples > 1 else "")
        return f"^{sup}" if sup else ""

    def _tsup(self, layer: str, s: int) -> str:
        sup = (f"({layer})" if layer else "") + (f"[{s + 1}]" if self.samples > 1 else "")
        return f"^{{{sup}}}" if sup else ""

    def spell(self, base: str, layer: str, s: int, k: int) -> tuple:
        """The text and LaTeX of one entry: ``("H^(2)_1", "H^{(2)}_{1}")``."""
        return f"{base}{self._sup(layer, s)}_{k + 1}", f"{base}{self._tsup(layer, s)}_{{{k + 1}}}"

    def _vec(self, base, layer, s, n):
        return [self._sym(*self.spell(base, layer, s, k)) for k in range(n)]

    def _grad(self, base, layer, s, n):
        out = []
        for k in range(n):
            text, tex = self.spell(base, layer, s, k)
            out.append(self._sym(f"∇{text}", rf"\nabla_{{{tex}}}"))
        return out

    def _matrix(self, l, rows, cols):
        letter = LETTERS[l]
        return ImmutableMatrix(rows, cols, lambda i, j: self._sym(f"w^{letter}_{pair(i, j, self.wide)}",
                                                                   f"w^{{{letter}}}_{{{pair(i, j, self.wide)}}}"))

    def _sym(self, name: str, tex: str) -> Symbol:
        s = Symbol(name, real=True)  # real (so finite): assumption queries end at once
        self.tex[s] = tex
        return s

    def node(self, key: str, s: int = 0) -> list:
        return self.nodes[key][s]

    def grad(self, key: str, s: int = 0) -> list:
        return self.grads[key][s]

    def param(self, p: Param) -> Symbol:
        return self.W[p.layer][p.i, p.j] if p.kind == "weight" else self.b[p.layer][p.i]

    def weight(self, layer, i: int, j: int) -> Symbol:
        """A weight symbol; ``layer`` as a letter (``"a"``) or an index."""
        return self.W[LETTERS.index(layer) if isinstance(layer, str) else layer][i, j]

    def leaves(self) -> list:
        """The symbols the problem gives numbers to: every parameter, then ``x`` and ``y`` of each sample."""
        out = [w for W in self.W for w in W]
        if self.b is not None:
            out += list(dict.fromkeys(v for b in self.b for v in b))  # a shared bias once
        for s in range(self.samples):
            out += self.x[s] + self.y[s]
        return out


# -- the operations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One operation of the network, ``out = f(inp)`` unit by unit: a subclass per kind carries its forward
    formula beside its local derivatives (micrograd's ``_backward``); the engine's loops never ask which kind
    an operation is, so a new kind is one class here, plus its rule in each :class:`Aspect` of the layers
    above (``tests/test_operations.py`` names any it lacks).

    ``forward(d, s)`` gives the definitions of ``out`` for sample ``s``; ``edges(d, s, i)`` lists
    ``(j, ∂out_i/∂inp_j)`` for the nonzero ones: the backward loop multiplies them into ``∇inp_j``, the paths
    follow them, the diagrams draw them; ``term(g, local)`` writes one chain-rule term in the handout's order;
    ``backward`` defines ``∇inp`` from ``∇out``; ``gradients`` those of the parameters it holds. What the
    layers above make of a kind (its step of the worked solution, its lines of the NumPy script, its caption
    in the diagram) is registered there by class, in an :class:`Aspect`.

    >>> from derivations.engine.problem import load_problem
    >>> [type(op).__name__ for op in derive(load_problem()).ops]
    ['LinearStep', 'ActivationStep', 'LinearStep', 'OutputStep', 'LossStep']
    """

    inp: str  # node key ("x" for the data)
    out: str  # node key ("loss" for the loss)
    layer: int = 0  # the linear layer (0 is W_a) or the hidden layer it belongs to
    kind: ClassVar[str] = ""  # "linear", "activation", "output", "loss": a name for messages, read-only

    def forward(self, d: Derivation, s: int) -> list:
        """The definitions of ``out``'s units for sample ``s``, in terms of ``inp``."""
        raise NotImplementedError

    def targets(self, d: Derivation, s: int) -> list:
        """The symbols :meth:`forward` defines."""
        return d.symbols.node(self.out, s)

    def edges(self, d: Derivation, s: int, i: int) -> list:
        """``(j, ∂out_i/∂inp_j)`` for every ``inp_j`` that ``out_i`` depends on (the ``"edges"`` rule may
        replace them)."""
        return d.rule("edges", lambda op, s_, i_, default: default)(self, s, i, self.local_edges(d, s, i))

    def local_edges(self, d: Derivation, s: int, i: int) -> list:
        raise NotImplementedError

    def term(self, g: Expr, local: Expr) -> Expr:
        """One chain-rule term, unevaluated, as the handout writes it: ``∇O_1·w^b_11`` for a linear layer,
        ``∇L_1·ReLU'(H_1)`` for an activation (the gradient first)."""
        return Mul(g, local, evaluate=False)

    def backward(self, d: Derivation, s: int, defs: dict, display: dict) -> None:
        """Define ``∇inp_j = Σ_i ∇out_i ∂out_i/∂inp_j`` for sample ``s`` (none for the data ``x``), and each as
        the handout writes it, term by term, in ``display``."""
        if self.inp == "x":
            return
        sy = d.symbols
        terms: dict = {}
        for i, g in enumerate(sy.grad(self.out, s)):
            for j, local in self.edges(d, s, i):
                terms.setdefault(j, []).append((g, local))
        for j, ts in sorted(terms.items()):
            target = sy.grad(self.inp, s)[j]
            defs[target] = Add(*(g * local for g, local in ts))
            display[target] = Add(*(self.term(g, local) for g, local in ts), evaluate=False)

    def holds(self, p: Param) -> bool:
        """Whether parameter ``p`` belongs to this operation."""
        return False

    def gradients(self, d: Derivation) -> dict:
        """The gradients of the parameters it holds, by matrix name: ``{"W_b": ..., "b_b": ...}``."""
        return {}


@dataclass(frozen=True)
class LinearStep(Operation):
    """``out = W inp (+ b)``: ``∂out_i/∂inp_j = w_ij``, ``∂out_i/∂w_ij = inp_j``, ``∂out_i/∂b_i = 1``."""

    kind: ClassVar[str] = "linear"

    def forward(self, d, s):
        sy = d.symbols
        v = sy.x[s] if self.inp == "x" else sy.node(self.inp, s)
        v = d.rule("linear.source", lambda op, s_, v_: v_)(self, s, v)
        b = None if sy.b is None else d.rule("linear.bias", lambda op, b_: b_)(self, sy.b[self.layer])
        return linear(sy.W[self.layer], v, b)

    def local_edges(self, d, s, i):
        W = d.symbols.W[self.layer]
        return [(j, W[i, j]) for j in range(W.shape[1])]

    def holds(self, p):
        return p.layer == self.layer

    def gradients(self, d):
        """``∂ℒ/∂w_ij`` = the mean over the samples of ``∇out_i inp_j``; ``∂ℒ/∂b_i`` that of ``∇out_i``."""
        sy, S, l = d.symbols, d.problem.n_samples, self.layer
        scale, W = d.rule("batch.scale", lambda n: Rational(1, n))(S), sy.W[l]
        last = d.rule("linear.gradient", lambda g: g)  # the gradient as the last step writes it
        out = {weight_name(l): ImmutableMatrix(
            W.rows, W.cols, lambda i, j: last(scale * Add(*(sy.grad(self.out, s)[i] * d.into(Param(l, "weight", i, j), s)
                                                            for s in range(S)))))}
        if sy.b is not None and d.problem.shared_bias:  # ∂out_i/∂b = 1 for every unit i: the sum of their ∇out_i
            out[bias_name(l)] = ImmutableMatrix([[last(scale * Add(*(g for s in range(S) for g in sy.grad(self.out, s))))]])
        elif sy.b is not None:
            out[bias_name(l)] = ImmutableMatrix(W.rows, 1, lambda i, _: last(scale * Add(*(sy.grad(self.out, s)[i] for s in range(S)))))
        return out


@dataclass(frozen=True)
class ActivationStep(Operation):
    """``out = act(inp)`` unit by unit, with the hidden layer's activation: ``∂out_i/∂inp_i = act'``."""

    kind: ClassVar[str] = "activation"

    def forward(self, d, s):
        forward = d.rule("activation.forward", lambda layer, h: d.act(layer).forward(h))
        return [forward(self.layer, h) for h in d.symbols.node(self.inp, s)]

    def local_edges(self, d, s, i):
        return [(i, d.local_activation(self.layer, i, s))]


@dataclass(frozen=True)
class OutputStep(Operation):
    """``Y = output(O)``: its local derivatives are named quantities ``∂Y_k/∂O_j``; ``Y_i`` depends on every
    ``O_j`` (softmax), or on ``O_i`` alone (an elementwise output)."""

    kind: ClassVar[str] = "output"

    def forward(self, d, s):
        return d.rule("output.forward", d.output.forward)(d.symbols.node(self.inp, s))

    def local_edges(self, d, s, i):
        sy = d.symbols
        if d.output.elementwise:
            return [(i, sy.dY_dO[s][i][i])]
        return [(j, sy.dY_dO[s][i][j]) for j in range(d.problem.n_out)]

    def term(self, g, local):
        """``∂Y_1/∂O_1·∇Y_1``: the local derivative first, as the handout writes the output layer."""
        return Mul(local, g, evaluate=False)

    def backward(self, d, s, defs, display):
        sy, n = d.symbols, d.problem.n_out
        for k in range(n):  # ∂Y_k/∂O_j first (0 off the diagonal of an elementwise output)
            for j in range(n):
                defs[sy.dY_dO[s][k][j]] = d.rule("output.local", d.output.local)(sy.node(self.out, s), k, j)
        super().backward(d, s, defs, display)


@dataclass(frozen=True)
class LossStep(Operation):
    """The loss of ``Y`` against the target ``y``; its local derivatives ``∂ℓ/∂Y_k`` are ``∇Y_k`` itself."""

    kind: ClassVar[str] = "loss"

    def forward(self, d, s):
        sy = d.symbols
        return [d.rule("loss.forward", d.loss_fn.forward)(sy.node(self.inp, s), sy.y[s])]

    def targets(self, d, s):
        return [d.symbols.loss[s]]

    def local_edges(self, d, s, i):
        return [(k, d.symbols.grad(self.inp, s)[k]) for k in range(d.problem.n_out)]

    def backward(self, d, s, defs, display):
        """``∇Y_j = ∂ℓ/∂Y_j``: the loss's own local derivative."""
        sy = d.symbols
        for j in sorted(j for j, _ in self.edges(d, s, 0)):
            defs[sy.grad(self.inp, s)[j]] = d.rule("loss.local", d.loss_fn.local)(sy.node(self.inp, s), sy.y[s], j)


#: Every kind of operation; each has a rule in every :class:`Aspect`.
KINDS = (LinearStep, ActivationStep, OutputStep, LossStep)


class Aspect:
    """What a layer above the engine makes of each kind of operation (its step of the worked solution, its
    NumPy lines, its caption in the diagram), registered there by class, as JAX registers each aspect of a
    primitive: ``@aspect.register(LinearStep)``. Calling it with an operation runs the rule of its class; a kind
    without one is a :class:`NotImplementedError` naming both, and the tests check that every kind has every
    aspect."""

    every: ClassVar[list] = []  # every aspect made, for the tests

    def __init__(self, name: str):
        self.name, self.rules = name, {}
        Aspect.every.append(self)

    def register(self, kind: type):
        def add(rule):
            self.rules[kind] = rule
            return rule
        return add

    def rule(self, kind: type):
        """The rule for operations of class ``kind`` (or of the nearest class it derives from), or None."""
        return next((self.rules[c] for c in kind.__mro__ if c in self.rules), None)

    def __call__(self, op: Operation, *args, **kwargs):
        rule = self.rule(type(op))
        if rule is None:
            raise NotImplementedError(f"{self.name}: no rule for the {type(op).__name__} operation")
        return rule(op, *args, **kwargs)

    def __repr__(self) -> str:
        return f"Aspect({self.name!r})"


def operations(problem: Problem) -> list:
    """The network of ``problem`` as its list of operations, in forward order."""
    keys = Symbols.node_keys(problem.depth)
    ops, inp = [], "x"
    for l in range(problem.depth):
        H, L = keys[2 * l], keys[2 * l + 1]
        ops += [LinearStep(inp, H, l), ActivationStep(H, L, l)]
        inp = L
    return ops + [LinearStep(inp, "O", problem.depth), OutputStep("O", "Y"), LossStep("Y", "loss")]


class Path:
    """One path from the loss back to a parameter: the nodes it passes and the local derivative of each step.

    ``nodes`` are ``(key, index)`` pairs, 0-based: ``("loss", 0), ("Y", k), ("O", m), ("L", i), ("H", i)``; the
    path ends at the node the parameter feeds, and the parameter is the last edge, whose factor is the input
    it multiplies (``x_j``, ``L_j``) or 1 for a bias. ``scale`` is ``1/S`` for a batch of ``S`` samples;
    ``labels`` are the nodes' names as text and as LaTeX."""

    def __init__(self, nodes, factors, param: Param, sample: int, scale, labels: list, tex_labels: list, wide: bool):
        self.nodes, self.factors, self.param, self.sample, self.scale = tuple(nodes), tuple(factors), param, sample, scale
        self.labels, self.tex_labels, self._wide = labels, tex_labels, wide

    @property
    def product(self) -> Expr:
        return self.scale * Mul(*self.factors)

    def text(self, wide: bool | None = None) -> str:
        """``ℒ → Y_1 → O_2 → L_1 → H_1 → w^a_11``."""
        wide = self._wide if wide is None else wide
        return " → ".join(self.labels + [self.param.name(wide)])


# -- the derivation -------------------------------------------------------------------------------------------


class Derivation:
    """The symbolic derivation of one problem's network: the definition of every forward and backward
    quantity, each in terms of the layer next to it, and the gradient of every parameter."""

    def __init__(self, problem: Problem, rules: dict | None = None):
        self.problem = p = problem
        self.rules = dict(rules or {})
        self.symbols = sy = Symbols(problem)
        self.loss_fn = LOSSES[p.loss]
        self.output = OUTPUTS[p.output]
        self.ops = self._ops()
        defs: dict = {}
        S = p.n_samples
        for s in range(S):  # forward: every operation in order
            for op in self.ops:
                defs.update(zip(op.targets(self, s), op.forward(self, s)))
        if S > 1:
            defs[sy.total] = self.rule("batch.scale", lambda n: Rational(1, n))(S) * Add(*sy.loss)
        self.display: dict = {}  # each ∇ as a sum of chain-rule terms in the handout's order (unevaluated)
        for s in range(S):  # backward: the same operations in reverse, once
            for op in reversed(self.ops):
                op.backward(self, s, defs, self.display)
        self.definitions = defs
        self._symbolic = None  # the definitions substituted down to the leaves, on first use

        # The gradients: dℒ/dW_ij = mean over samples of ∇out_i in_j, dℒ/db_i = mean of ∇out_i.
        self.gradients = {}
        for op in self.ops:
            self.gradients.update(op.gradients(self))

    def rule(self, name: str, default):
        """The local rule ``name`` of this derivation: the registry's (``default``), unless ``rules`` replaces it.

        A derivation with a rule replaced is the same engine with one local step done differently: the
        mistake catalogue uses it to compute what a classic slip gives. The rules: ``"loss.forward"``,
        ``"loss.local"`` (``(Y, y, i)``), ``"output.forward"``, ``"output.local"`` (``(Y, k, j)``),
        ``"activation.forward"`` (``(layer, h)``), ``"activation.local"`` (``(layer, h, l)``), ``"linear.input"``
        (``(param, s, default)``: what ``∂out_i/∂w_ij`` is), ``"linear.source"`` (``(op, s, default)``: the vector a
        linear step multiplies), ``"linear.bias"`` (``(op, default)``: its bias vector, or None), ``"edges"``
        (``(op, s, i, default)``: an operation's local derivatives), ``"linear.gradient"`` (``(g)``: a parameter's
        gradient as its last step writes it) and ``"batch.scale"`` (``(S)``: the mean's ``1/S`` over a batch of
        ``S`` samples). The marking adds ``"descent.step"`` (``(lr, g)``: the change of the page's
        gradient-descent step, ``−η·g``) and ``"descent.update"`` (``(w, change)``: the new value, ``w + change``)."""
        return self.rules.get(name, default)

    def _ops(self) -> list:
        return operations(self.problem)

    # -- parameters --------------------------------------------------------------------------------------

    def act(self, layer: int):
        return ACTIVATIONS[self.problem.activations[layer]]

    @property
    def activation(self):
        """The first hidden layer's activation (the handout's only one)."""
        return self.act(0)

    def param(self, name) -> Param:
        """A parameter, a weight or a bias, by its name (``"w_b21"``, ``"b_a1"``) or itself."""
        return name if isinstance(name, Param) else parse_param(name, self.problem)

    def params(self) -> list:
        """Every parameter: the weights of ``W_a``, ``W_b``, ... in row order, then the biases."""
        p, out = self.problem, []
        for l in range(len(p.layers) - 1):
            out += [Param(l, "weight", i, j) for i in range(p.layers[l + 1]) for j in range(p.layers[l])]
        if p.bias:
            for l in range(len(p.layers) - 1):
                out += [Param(l, "bias", 0, shared=True)] if p.shared_bias else [Param(l, "bias", i) for i in range(p.layers[l + 1])]
        return out

    def local_activation(self, layer: int, j: int, s: int = 0) -> Expr:
        """``dL_j/dH_j`` of hidden layer ``layer``: ``1_{H_j > 0}`` for ReLU, ``L_j (1 - L_j)`` for the
        sigmoid, ..."""
        H, L = self.symbols.keys[2 * layer], self.symbols.keys[2 * layer + 1]
        h, l = self.symbols.node(H, s)[j], self.symbols.node(L, s)[j]
        if "activation.local" in self.rules:
            return self.rules["activation.local"](layer, h, l)
        return self.act(layer).local(h, l)

    def op_of(self, p: Param) -> Operation:
        """The operation that holds parameter ``p`` (its linear layer)."""
        return next(op for op in self.ops if op.holds(p))

    def into(self, p: Param, s: int = 0) -> Expr:
        """What the parameter multiplies: ``x_j``, ``L_j`` (or 1 for a bias)."""
        if p.kind == "bias":
            return Integer(1)
        op = self.op_of(p)
        default = (self.symbols.x[s] if op.inp == "x" else self.symbols.node(op.inp, s))[p.j]
        return self.rule("linear.input", lambda p_, s_, d_: d_)(p, s, default)

    # -- the three views of a gradient -----------------------------------------------------------------

    def input_gradient(self, j: int, s: int = 0) -> Expr:
        """``∂ℒ/∂x_j`` of sample ``s`` (before the batch's mean): ``Σ_i w^a_ij ∇H_i``, the gradient with respect to
        the inputs (CS231n asks for it; the network's own pass stops at ``∇H``).

        >>> from derivations.engine.problem import load_problem
        >>> derive(load_problem()).input_gradient(0)
        w^a_11*∇H_1 + w^a_21*∇H_2 + w^a_31*∇H_3 + w^a_41*∇H_4
        """
        first = self.ops[0]
        return Add(*(self.symbols.grad(first.out, s)[i] * local for i in range(len(self.symbols.node(first.out, s)))
                     for jj, local in first.edges(self, s, i) if jj == j))

    def gradient(self, name) -> Expr:
        """The gradient in terms of the nearest backward quantity: ``∇O_i L_j``, ``∇H_i x_j``, ``∇H_i``."""
        w = self.param(name)
        m = self.gradients[w.matrix]
        return m[w.i, w.j] if w.kind == "weight" else m[w.i, 0]

    def unit_shares(self, name) -> list:
        """The gradient's share from each unit the parameter feeds: one for a weight or a per-unit bias, one per
        unit for a shared bias, whose gradient is their sum (each unit adds ``∂out_i/∂b·∇out_i = ∇out_i``).

        >>> from derivations.engine.problem import load_problem
        >>> from dataclasses import replace
        >>> p = load_problem()
        >>> shared = replace(p, biases=((0,) * 4, (0,) * 2), shared_bias=True)
        >>> derive(shared).unit_shares("b_a")
        [∇H_1, ∇H_2, ∇H_3, ∇H_4]
        """
        w = self.param(name)
        if not w.shared:
            return [self.gradient(w)]
        op, S, sy = self.op_of(w), self.problem.n_samples, self.symbols
        scale = self.rule("batch.scale", lambda n: Rational(1, n))(S)
        return [scale * Add(*(sy.grad(op.out, s)[i] for s in range(S))) for i in w.units(self._width(op.out))]

    def formula(self, name) -> Expr:
        """The handout's form: the gradient with its bracket written out,
        ``[∂Y_1/∂O_1 ∇Y_1 + ∂Y_2/∂O_1 ∇Y_2] L_1`` or ``[∇O_1 w^b_11 + ∇O_2 w^b_21] ReLU'(H_1) x_1`` (a shared bias:
        the sum of every unit's)."""
        w, sy, S = self.param(name), self.symbols, self.problem.n_samples
        op = self.op_of(w)
        total = []
        for s in range(S):
            for i in w.units(self._width(op.out)):
                if op.out == "O":
                    inner = self.definitions[sy.grad("O", s)[i]]
                else:
                    L = sy.keys[sy.keys.index(op.out) + 1]
                    inner = self.definitions[sy.grad(L, s)[i]] * self.local_activation(w.layer, i, s)
                total.append(inner * self.into(w, s))
        return Rational(1, S) * Add(*total)

    def expanded_size(self, name) -> int:
        """An estimate of the closed form's size in nodes, from the definitions' sizes (each use of a shared
        quantity counted), without building it: a deep network's first-layer closed form runs to millions."""
        size = self.sizes
        return 1 + sum(size.get(a, 1) for a in self.gradient(name).free_symbols)

    @cached_property
    def sizes(self) -> dict:
        """Each quantity's size in nodes were its definition substituted down to the leaves (estimated from
        the definitions, each use of a shared quantity counted), computed once."""
        size: dict = {}
        for sym, definition in self.definitions.items():
            size[sym] = count_nodes(definition) + sum(size.get(a, 0) for a in definition.free_symbols)
        return size

    def expanded(self, name) -> Expr:
        """The closed form in terms of the parameters, ``x`` and ``y`` alone."""
        return self.substitute(self.gradient(name))

    def substitute(self, expr: Expr, leaves: dict | None = None) -> Expr:
        """Replace every intermediate symbol in ``expr`` by its definition, all the way down to the leaves
        (parameters, ``x``, ``y``), which ``leaves`` may in turn replace (by numbers, or by other symbols)."""
        if leaves:
            return expr.xreplace(self.values(leaves))
        if self._symbolic is None:  # every closed form shares one substitution pass
            self._symbolic = self.values({})
        return expr.xreplace(self._symbolic)

    def values(self, leaves: dict, overrides: dict | None = None) -> dict:
        """Every intermediate symbol's value, layer by layer, given values for the leaves.

        One pass in the order of the definitions: each is substituted once, so shared subexpressions stay
        shared (this is what keeps the cost linear). ``overrides`` replaces some definitions (the theorems
        use it for a general loss)."""
        values = dict(leaves)
        overrides = overrides or {}
        for sym, definition in self.definitions.items():
            values[sym] = overrides.get(sym, definition).xreplace(values)
        return values

    # -- the graph: paths and edges ----------------------------------------------------------------------

    def consumer(self, key: str) -> Operation | None:
        """The operation that reads node ``key``."""
        return next((op for op in self.ops if op.inp == key), None)

    def paths(self, name, sample: int | None = None, limit: int = 4096) -> list:
        """Every path from the loss to the parameter (for every sample, or one), each a product of local
        derivatives; they sum to the gradient. Refuses more than ``limit`` paths (count them with
        :meth:`count_paths`)."""
        w = self.param(name)
        if self.count_paths(w) * (1 if sample is not None else self.problem.n_samples) > limit:
            raise ProblemError("param", f"{w.key(self.symbols.wide)} has {self.count_paths(w)} paths per sample, more "
                                        f"than the {limit} this view lists")
        op = self.op_of(w)
        S, sy = self.problem.n_samples, self.symbols
        out = []
        for s in (range(S) if sample is None else [sample]):
            for nodes, factors in (pa for i in w.units(self._width(op.out)) for pa in self._paths_to(op.out, i, s)):
                labels = [self.spell(key, k, s) for key, k in nodes]
                out.append(Path(nodes, factors + [self.into(w, s)], w, s, Rational(1, S),
                                [t for t, _ in labels], [x for _, x in labels], sy.wide))
        out.sort(key=lambda pa: (pa.sample, [k for _, k in pa.nodes]))  # the loss's branches first
        return out

    def spell(self, key: str, k: int, s: int = 0) -> tuple:
        """The text and LaTeX name of node ``(key, k)`` of sample ``s``: ``("H^(2)_1", "H^{(2)}_{1}")``."""
        sy = self.symbols
        if key == "loss":
            sym = sy.loss[s]
            return str(sym), sy.tex[sym]
        if key == "x":
            sym = sy.x[s][k]
            return str(sym), sy.tex[sym]
        sym = sy.node(key, s)[k]
        return str(sym), sy.tex[sym]

    def _starts(self, name) -> list:
        """Where the gradient's paths end: the units a parameter feeds (every unit of its layer for a shared
        bias), or an input ``x_j`` itself (``"x_1"``: the inputs' gradient)."""
        j = input_index(name)
        if j is not None and 0 <= j < self.problem.n_in:
            return [("x", j)]
        w = self.param(name)
        key = self.op_of(w).out
        return [(key, i) for i in w.units(self._width(key))]

    def path_edges(self, name, s: int = 0) -> list:
        """The edges on the paths of a parameter, or of an input (``"x_1"``), for one sample, without listing the
        paths: every edge downstream of the unit the parameter feeds lies on some path to the loss. Each is
        ``((key, j), (key, i), local derivative)``, from the operation's input unit to its output unit."""
        out, seen, frontier = [], set(), self._starts(name)
        while frontier:
            key, j = frontier.pop()
            if key == "loss" or (key, j) in seen:
                continue
            seen.add((key, j))
            op = self.consumer(key)
            for u in range(self._width(op.out)):
                for jj, local in op.edges(self, s, u):
                    if jj == j:
                        out.append(((key, j), (op.out, u), local))
                        frontier.append((op.out, u))
        return out

    def _paths_to(self, key: str, i: int, s: int) -> list:
        """Paths from the loss down to node ``(key, i)``: ``[(nodes, factors)]``, nodes from the loss on."""
        if key == "loss":
            return [([("loss", 0)], [])]
        op = self.consumer(key)
        out = []
        for u in range(self._width(op.out)):
            for j, local in op.edges(self, s, u):
                if j == i:
                    for nodes, factors in self._paths_to(op.out, u, s):
                        out.append((nodes + [(key, i)], factors + [local]))
        return out

    def _width(self, key: str) -> int:
        return 1 if key == "loss" else len(self.symbols.node(key))

    def count_paths(self, name) -> int:
        """How many paths lead from the loss to the parameter (or the input, ``"x_1"``), per sample (without
        listing them)."""
        counts = {("loss", 0): 1}

        def count(key, i):
            if (key, i) not in counts:
                op = self.consumer(key)
                counts[(key, i)] = sum(count(op.out, u) for u in range(self._width(op.out))
                                       for j, _ in op.edges(self, 0, u) if j == i)
            return counts[(key, i)]

        return sum(count(key, i) for key, i in self._starts(name))

    def edges(self) -> list:
        """Every edge of the network's graph (one sample): ``((key, j), (key, i))`` from an operation's input
        unit to its output unit, in operation order; the parameters' edges are the linear layers'."""
        out = []
        for op in self.ops:
            for i in range(self._width(op.out)):
                for j, _ in op.edges(self, 0, i):
                    out.append(((op.inp, j), (op.out, i)))
        return out

    # -- size --------------------------------------------------------------------------------------------

    def operation_count(self) -> int:
        """Operations in all definitions and gradients: the size of the derivation with every common
        subexpression named once."""
        from sympy import count_ops

        total = sum(count_ops(e) for e in self.definitions.values())
        return total + sum(count_ops(e) for m in self.gradients.values() for e in m)

    @cached_property
    def node_names(self) -> dict:
        """The display base of each node key: ``{"H": "H", "H2": "H^(2)", ...}``."""
        return {k: (k[0] + (f"^({k[1:]})" if k[1:] else "")) for k in self.symbols.keys}


# The derivations a process has made, by problem (a frozen dataclass: equal content, equal key), newest last:
# the site build, the self-check and the variants tool derive each problem once and share the object
# (a Derivation is not changed after it is built; it only caches what it computes).
_DERIVED: dict = {}
KEPT = 32  # problems remembered; a variants worker sees one per student, a site a handful


def derive(problem: Problem) -> Derivation:
    """Derive every forward quantity and the gradient of every parameter, symbolically; once per problem
    and process (the same problem, by content, gives the same :class:`Derivation`).

    >>> from derivations.engine.problem import load_problem
    >>> derive(load_problem()) is derive(load_problem())
    True
    """
    try:
        hash(problem)
    except TypeError:  # built by hand with a mutable Matrix: no content key, derived afresh
        return Derivation(problem)
    d = _DERIVED.pop(problem, None)
    if d is None:
        d = Derivation(problem)
    _DERIVED[problem] = d
    while len(_DERIVED) > KEPT:
        del _DERIVED[next(iter(_DERIVED))]
    return d
