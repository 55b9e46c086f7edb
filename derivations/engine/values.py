"""Exact values of every quantity at a problem's numbers, and a fast numeric evaluator of the same
derivation (for training runs and cross-checks).

>>> from derivations.engine.problem import load_problem
>>> v = evaluate(load_problem())
>>> v.forward["H"][0], v.forward["O"][0], v.forward["Y"][0], v.forward["loss"]
(3/20, 3/50, 1/2, 1/4)
>>> v.gradients["W_b"][0, 0], v.gradients["W_b"][1, 0], v.gradients["W_a"][0, 0]
(-3/80, 3/80, 0)
>>> v.lookup("grad.w_b21")
3/80
"""

from __future__ import annotations

from functools import cached_property

import re

from sympy import Add, Dummy, Expr, Float, I, Integer, log
from sympy.core.parameters import evaluate as sympy_evaluate  # SymPy's evaluate(False) switch: ``evaluate`` here is ours

from .derivation import KEPT, Derivation, count_nodes, derive, parse_param
from .errors import ProblemError
from .functions import SCALAR_FUNCTIONS as funcs
from .problem import Problem, bias_name, weight_name
from .proof import GENERAL, softmax_lemma
from .reading import quote
from .saturation import complements, rewrite, without_cancellation

PRECISION = 50  # digits of the decimals shown and exported
# The layered decimals are computed with GUARD digits more than shown. A value far smaller than its parents
# (below 10^-GUARD of the square of the largest: a cancellation, an underflow: 1 - Y with Y = 1 - 1e-600,
# log(1 + 1e-108)) may have lost them all: its layers are recomputed from the exact leaves at 160, 320, ...
# digits until two precisions agree, with at most MAX_WORK_DIGITS digits.
GUARD = 10
WORK, WORK2 = PRECISION + GUARD, 2 * PRECISION
MAX_WORK_DIGITS = 1000
BIG = 400  # estimated nodes past which an exact value is built unevaluated (see Values)
_KEY = re.compile(
    r"\s*(problem|forward|backward|grad)\.(\w{1,20})\s*(?:\[\s*(\d{1,4})\s*(?:,\s*(\d{1,4})\s*)?\])?\s*(?:@\s*(\d{1,4})\s*)?",
    re.ASCII,  # names and digits in ASCII only, as the keys are written
)


def forward_keys(d: Derivation) -> list:
    """``["H", "L", "O", "Y", "loss"]`` (one hidden layer) or ``["H1", "L1", "H2", "L2", "O", "Y", "loss"]``."""
    return d.symbols.keys + ["loss"]


def backward_keys(d: Derivation) -> list:
    """The backward quantities in the order the pass computes them: ``dL_dY, dY_dO, dL_dO``, then each
    hidden layer's ``dL_dL``, ``dL_dH`` from the last layer down."""
    hidden = d.symbols.keys[:-2]
    out = ["dL_dY", "dY_dO", "dL_dO"]
    for k in range(len(hidden) - 1, -1, -2):
        out += [f"dL_d{hidden[k]}", f"dL_d{hidden[k - 1]}"]
    return out


class Values:
    """Every forward quantity, backward quantity and gradient of a derivation at its problem's numbers,
    as exact SymPy numbers (rationals where the values are rational).

    ``forward[key]`` and ``backward[key]`` hold one sample's vectors for a problem of one sample (as the
    handout), and a list of them, one per sample, for several; ``forward["loss"]`` is always ``ℒ``."""

    def __init__(self, derivation: Derivation, leaves: dict | None = None, exact: bool = True):
        """``exact=False``: a transcendental value is kept as its decimal only (rational values stay exact)
        and :attr:`gradients` is left empty, for a mistake's derivation, which :mod:`derivations.teaching.check`
        compares numerically, blank by blank."""
        self.derivation = d = derivation
        p, sy = d.problem, d.symbols
        if leaves is None:
            leaves = leaves_of(p, sy)
        # Exact values and decimals together, layer by layer: each decimal from the parents' decimals (evalf
        # of a deep exact expression would redo every shared subexpression). Rational values stay exact, so
        # ReLU's step sees the true sign; a ReLU of an irrational value is settled by its decimal's sign.
        self.of = of = dict(leaves)
        self.decimals = {sym: Float(v, WORK) for sym, v in leaves.items()}
        self._defs = {}  # symbol -> its settled definition without cancellation, for the decimals at any precision
        self._pairs = {}  # symbol -> the symbols of (1 − s, 1 + s), or None (see saturation)
        self._at = {}  # precision -> {symbol: decimal}
        self._decimal_of = {}
        self.unresolved = {}  # value -> its symbol: no decimal at all (never expected)
        # An exact value's size is estimated from its parents' (shared subexpressions counted once per use);
        # past BIG nodes it is built unevaluated: SymPy's automatic simplification of a large transcendental
        # sum asks assumption questions of every term, which is where the time went (16-32-16 sigmoid: minutes).
        # Small values, and so every symmetric case, stay fully evaluated (equal logits still give Y = 1/2).
        size = {}
        # The softmax lemma (proved for this many outputs and any loss), Σ_j ∇O_j = 0, as a rewrite ∇O_n = −Σ_{j<n}
        # ∇O_j (see _by_lemma): a value that reads the ∇O only through their sum is exactly 0 (∇L_j where the
        # column j of the last weights is one number c: c·Σ_i ∇O_i), where its decimal would only cancel to 50
        # digits, which proves nothing; the output layer's shared bias's gradient too (zeros, below).
        self.zeros = lemma_zeros(d)
        gO = [sy.grad("O", s) for s in range(p.n_samples)] if lemma_applies(d) else []
        self._lemma = {g[-1]: -Add(*g[:-1]) for g in gO}
        self._lemma_reads = {v for g in gO for v in g}
        for sym, definition in d.definitions.items():
            if self._lemma and definition.free_symbols & self._lemma_reads:
                known = {a: of[a] for a in definition.free_symbols if a not in self._lemma_reads and of[a].is_Rational}
                by_lemma = self._by_lemma(definition.xreplace(known))
                if by_lemma.is_Rational:
                    of[sym], self.decimals[sym], self._defs[sym], size[sym] = by_lemma, Float(by_lemma, WORK), by_lemma, 1
                    self._decimal_of.setdefault(by_lemma, Float(by_lemma, PRECISION))
                    continue
            settled = self._settled(definition)
            self._defs[sym] = stable = self._stable(settled)
            if not exact and not all(of[a].is_Rational for a in settled.free_symbols if a in of):
                v = _decimal(stable.xreplace(self.decimals), WORK)  # a decimal, or a complex one (a mistake's)
                of[sym], self.decimals[sym] = v, v
                self._decimal_of.setdefault(v, v)
                continue
            size[sym] = count_nodes(definition) + sum(size.get(a, 0) for a in definition.free_symbols)
            if size[sym] > BIG and not all(of[a].is_Rational for a in definition.free_symbols if a in of):
                with sympy_evaluate(False):
                    v = settled.xreplace(of)
            else:
                v = settled.xreplace(of)
            if v.is_Rational:
                dec = Float(v, WORK)
            else:
                v, dec = self._resolve(stable, v, sym)
            if v.is_Rational:
                size[sym] = 1
            of[sym], self.decimals[sym] = v, dec
            self._decimal_of.setdefault(v, Float(dec, PRECISION) if dec.is_Float or dec.is_Rational else dec)
        S = range(p.n_samples)
        one = p.n_samples == 1

        def per_sample(f):
            return f(0) if one else [f(s) for s in S]

        self.forward = {key: per_sample(lambda s, key=key: [of[v] for v in sy.node(key, s)]) for key in sy.keys}
        self.forward["loss"] = of[sy.total]
        if not one:
            self.forward["losses"] = [of[l] for l in sy.loss]
        self.backward = {"dL_dY": per_sample(lambda s: [of[g] for g in sy.grad("Y", s)]),
                         "dY_dO": per_sample(lambda s: [[of[e] for e in row] for row in sy.dY_dO[s]])}
        for key in backward_keys(d)[2:]:
            self.backward[key] = per_sample(lambda s, key=key: [of[g] for g in sy.grad(key[4:], s)])
        self._size = size
        # exact=False (a mistake's derivation, compared blank by blank): no table of every gradient
        self.gradients = {name: m.applyfunc(self.value) for name, m in d.gradients.items()} if exact else {}

    @cached_property
    def input_gradients(self) -> list:
        """``∂ℒ/∂x_j`` for each sample (per sample, as ``∇H``: the loss of that sample), exact."""
        d = self.derivation
        return [[self.value(d.input_gradient(j, s)) for j in range(d.problem.n_in)] for s in range(d.problem.n_samples)]

    @cached_property
    def float64_gradients(self) -> dict:
        """Every gradient as float64 computes it: this derivation's formulas run in Python floats, in its order
        (:class:`Numeric`), from the problem's numbers each correctly rounded; by matrix name, as nested lists.
        What a float program that follows the same formulas prints; the handout's ∂ℒ/∂w^b_11 is −3/80 exactly:

        >>> from derivations.engine.problem import load_problem
        >>> evaluate(load_problem()).float64_gradients["W_b"][0][0]
        -0.037500000000000006
        """
        p = self.problem
        xs, ys = ([[float(v) for v in row] for row in rows] for rows in (p.xs, p.ys))
        return Numeric(self.derivation, "math").gradients(numeric_params(p, float), xs, ys)[0]

    @property
    def problem(self) -> Problem:
        return self.derivation.problem

    def _stable(self, settled: Expr) -> Expr:
        """``settled`` for its decimals: the rational parents exact (so ``(1 − y)·ln(1 − Y)`` is 0 at ``y = 1``,
        whatever ``1 − Y`` rounds to), and every difference that would cancel at a saturated unit written with
        its complement (:mod:`.saturation`)."""
        if not settled.has(log) and not any(self._constant_in(a) for a in settled.atoms(Add)):
            return settled  # no k·s − k to rewrite (most definitions: a sum of products)
        pairs = {a: self._pair(a) for a in settled.free_symbols if a in self._defs}
        pairs = {a: pair for a, pair in pairs.items() if pair is not None}
        if not pairs and not settled.has(log):
            return settled
        of = self.of
        rational = {a: of[a] for a in settled.free_symbols if a in of and of[a].is_Rational}
        expr = settled.xreplace(rational) if rational else settled
        out = rewrite(expr, pairs)
        for c in out.free_symbols:  # the complements it uses, their decimals computed once, when first needed
            if c not in self.decimals and c in self._defs:
                self.decimals[c] = _decimal(self._defs[c].xreplace(self.decimals), WORK)
        return out

    def _constant_in(self, total: Add) -> bool:
        """Whether a sum has a constant term once the rational leaves are in (``1 − Y``, ``Y − y``)."""
        of = self.of
        return any(t.is_Number or (s := t.as_coeff_Mul()[1]) in of and of[s].is_Rational and s not in self._defs
                   for t in total.args)

    def _pair(self, sym):
        """The symbols of ``1 − s`` and ``1 + s`` and the form of ``ln s`` for a defined value ``s`` that has
        complements (a sigmoid, a softmax output, a tanh) and is nearer ±1 than 0, their definitions recorded
        beside the others' (their decimals computed when first used); else ``None``: a value nearer 0 is
        evaluated as before, its ``1 − s`` losing no digit worth keeping."""
        if sym not in self._pairs:
            dec = self.decimals.get(sym)
            near_one = dec is not None and dec.is_Float and abs(dec) > Float("0.5")  # else 1 ∓ s cannot cancel much
            forms = complements(self._defs[sym], sym) if near_one and not self.of[sym].is_Rational else None
            if forms is None:
                self._pairs[sym] = None
            else:
                pair = (Dummy(f"one_minus[{sym}]"), Dummy(f"one_plus[{sym}]"))
                self._defs.update(zip(pair, forms[:2]))
                self._pairs[sym] = pair + (forms[2],)
        return self._pairs[sym]

    def _resolve(self, settled: Expr, v: Expr, sym=None) -> tuple:
        """``(exact, decimal)`` of a transcendental value ``v`` (``settled`` at the problem's numbers, as
        :meth:`_stable` writes it): an exact 0 recognised (a dead unit's product is built unevaluated as
        ``0*(...)``), else its decimal, recomputed at higher precisions where a cancellation may have taken its
        digits (or where it is not a number at 60 digits: ``0·ln 0`` for a value 10⁻⁸⁷ from 1)."""
        dec = _decimal(settled.xreplace(self.decimals), WORK)
        if dec.has(I):
            return v, dec  # not a real number (a mistake's log of a negative logit): left as it is
        finite = dec.is_Float and dec.is_finite or dec.is_Rational
        parents = [abs(self.decimals[a]) for a in settled.free_symbols if a in self.decimals]
        scale = max([p for p in parents if p.is_Number] + [Float(1)]) ** 2
        if finite and not dec.is_zero and abs(dec) >= scale * Float(10) ** -GUARD:
            return v, dec  # at most GUARD digits cancelled
        if finite and dec.is_zero:  # (is_zero: SymPy 1.14's Float(0) == 0 is False)
            rational = {a: self.of[a] for a in settled.free_symbols if a in self.of and self.of[a].is_Rational}
            if settled.xreplace(rational) == 0:  # the small expression, evaluated with its rational parents
                return Integer(0), Float(0, WORK)
        precise = self._precise(settled)
        if precise is None:  # not a number at a higher precision: no decimal is ever shown for it
            self.unresolved[v] = sym
            return v, dec
        return v, Float(precise, WORK)

    def _precise(self, settled: Expr):
        """``settled``'s decimal from the layers recomputed at 2·WORK2, 4·WORK2, ... digits (at most
        MAX_WORK_DIGITS) once two successive precisions agree to PRECISION + 2 digits. A value that never
        settles is below 10^-MAX_WORK_DIGITS of its terms (an exact 0 by cancellation, as ∇L_j when two
        outputs' weights are equal): its decimal is 0, right to every digit shown. ``None``: not a number."""
        previous, digits = None, 2 * WORK2
        while True:
            value = _decimal(settled.xreplace({a: self._decimal_at(a, digits) for a in settled.free_symbols}), digits)
            if not value.is_Number:
                return None
            finite = value.is_finite  # not yet a number (0·ln 0, ∞ − ∞) at this precision: the next one may be
            if finite and previous is not None and value != 0 and \
                    abs(value - previous) <= abs(value) * Float(10) ** -(PRECISION + 2):
                return value
            if digits >= MAX_WORK_DIGITS:
                if not finite:
                    return None
                return Float(0, WORK)
            previous, digits = (value if finite else None), min(2 * digits, MAX_WORK_DIGITS)

    def _decimal_at(self, sym, digits: int):
        """A symbol's decimal with the layers computed at ``digits`` digits (memoised per precision)."""
        table = self._at.setdefault(digits, {})
        stack = [sym]
        while stack:  # iterative: the chain of definitions can be deep
            s = stack[-1]
            if s in table:
                stack.pop()
                continue
            if s not in self._defs:  # a leaf
                table[s] = Float(self.of[s], digits)
                stack.pop()
                continue
            missing = [a for a in self._defs[s].free_symbols if a not in table]
            if missing:
                stack.extend(missing)
                continue
            table[s] = _decimal(self._defs[s].xreplace(table), digits)
            stack.pop()
        return table[sym]

    def _build(self, expr: Expr) -> Expr:
        """``expr`` at the problem's numbers, built unevaluated when it would be large and transcendental (as
        the definitions are, above)."""
        expr = self._settled(expr)
        parents = [a for a in expr.free_symbols if a in self.of]
        big = sum(self._size.get(a, 1) for a in parents) > BIG
        if big and not all(self.of[a].is_Rational for a in parents):
            with sympy_evaluate(False):
                return expr.xreplace(self.of)
        return expr.xreplace(self.of)

    def _settled(self, expr: Expr) -> Expr:
        """``expr`` (a definition: small, in the symbols of its neighbours) with each ReLU-like function of an
        irrational argument replaced by its branch, read off the argument's 50-digit decimal (kept when the
        decimal is too close to 0 to tell). Only the small expression is walked, never the values' trees."""
        from sympy import Function

        kinks = [f for f in expr.atoms(Function) if hasattr(type(f), "settle")]
        if not kinks:
            return expr
        settled = {}
        for f in kinks:
            arg = f.args[0].xreplace(self.of)
            if arg.is_Rational:  # settled here too: an unevaluated build would leave 1[-1331/2500 > 0] standing
                settled[f] = type(f).settle(f.args[0], bool(arg > 0))
                continue
            dec = f.args[0].xreplace(self.decimals)
            dec = dec if dec.is_Float else _decimal(dec)
            if dec.is_Number and abs(dec) > Float("1e-40"):
                settled[f] = type(f).settle(f.args[0], bool(dec > 0))
        return expr.xreplace(settled) if settled else expr

    def sample(self, group: str, key: str, s: int = 0):
        """One sample's vector of a forward or backward quantity."""
        table = self.forward if group == "forward" else self.backward
        return table[key] if self.problem.n_samples == 1 else table[key][s]

    def value(self, expr: Expr) -> Expr:
        """Any expression of the derivation's symbols, at the problem's numbers (exact); a gradient of
        :attr:`zeros` is 0 in it."""
        expr = self._by_lemma(expr)
        return self._note_decimal(expr, self._build(expr))

    def _by_lemma(self, expr: Expr) -> Expr:
        """``expr`` with the softmax lemma used (``∇O_n = −Σ_{j<n} ∇O_j``, each sample's) where that leaves no ∇O in
        it: it read them only through their sum, which is 0 (``∇O_1 + ∇O_2``, ``0.2 − ½(∇O_1 + ∇O_2)``); else
        ``expr`` as it is (``∇O_2`` stays ``∇O_2``). Only under a softmax output the lemma holds for
        (:func:`lemma_applies`)."""
        if not self._lemma or not expr.free_symbols & self._lemma_reads:
            return expr
        used = expr.xreplace(self._lemma)
        return expr if used.free_symbols & self._lemma_reads else used

    def _note_decimal(self, expr: Expr, exact: Expr) -> Expr:
        """Remember the decimal of ``exact``, computed from ``expr`` over the layered decimals (checked as
        the definitions' are); an exact 0 is returned as ``0``."""
        if exact not in self._decimal_of and not exact.is_Rational:
            exact, dec = self._resolve(self._stable(self._settled(expr)), exact)
            self._decimal_of[exact] = Float(dec, PRECISION) if dec.is_Float or dec.is_Rational else dec
        return exact

    def decimal(self, exact: Expr) -> Float:
        """A value of this derivation (as :meth:`value`, :attr:`forward`, ... give it) to
        :data:`PRECISION` digits, without re-evaluating its exact expression."""
        if exact.is_Rational:
            return Float(exact, PRECISION)
        if exact in self.unresolved:  # never a digit that was not computed
            raise ProblemError("value", f"a value of this problem ({self.unresolved[exact] or 'a gradient'}) has no "
                                        "decimal")
        if exact not in self._decimal_of:
            self._decimal_of[exact] = _decimal(exact)
        return self._decimal_of[exact]

    def grad(self, name) -> Expr:
        w = self.derivation.param(name)
        m = self.gradients[w.matrix]
        return m[w.i, w.j] if w.kind == "weight" else m[w.i, 0]

    def descent(self, lr, params=None) -> dict:
        """One gradient-descent step at learning rate ``lr``: each parameter's value ``w − lr·∂ℒ/∂w``, exact,
        every gradient taken at the current parameters (as Mazur's example updates every layer).
        ``{key: value}`` for ``params`` (names or :class:`Param`), by default every weight.

        >>> from sympy import Rational
        >>> from derivations import evaluate, load_problem
        >>> evaluate(load_problem()).descent(Rational(1, 2), ["w_b11", "w_a11"])
        {'w_b11': 19/160, 'w_a11': 1/10}
        """
        d = self.derivation
        chosen = [p for p in d.params() if p.kind == "weight"] if params is None else [d.param(n) for n in params]
        out = {}
        for w in chosen:
            out[w.key(d.symbols.wide)] = self.value(d.symbols.param(w) - lr * d.gradient(w))
        return out

    def lookup(self, key: str) -> Expr:
        """A value by its key, 1-based as in the handout: ``forward.H[1]``, ``forward.loss``,
        ``backward.dL_dO[2]``, ``backward.dY_dO[1,2]``, ``grad.W_b[2,1]``, ``grad.w_b21``, ``grad.b_a[1]``;
        with several samples ``@s`` picks one (``forward.H[1]@2``, ``forward.loss@2``).

        Raises :class:`ProblemError` (field ``key``) naming what was expected."""
        m = _KEY.fullmatch(key) if isinstance(key, str) and len(key) <= 100 else None
        if not m:
            raise ProblemError("key", "expected problem.NAME[i], forward.NAME[i], backward.NAME[i], grad.W_a[i,j] / "
                                      f"grad.w_a11, or formula.w_a11 / closed.w_a11 / expanded.w_a11, got {quote(key, 60)}")
        group, name, i, j, at = m.groups()
        p = self.problem
        sample = int(at) if at is not None else 1
        if at is not None and group in ("problem", "grad"):
            raise ProblemError("key", f"{group} values are shared by every sample: drop the @{at} in {quote(key, 60)}")
        if not 1 <= sample <= p.n_samples:
            raise ProblemError("key", f"sample {sample} is out of range 1..{p.n_samples} in {quote(key, 60)}")
        s = sample - 1
        if group == "problem":
            inputs = {"x": list(p.xs[0]) if p.n_samples == 1 else [list(x) for x in p.xs],
                      "y": list(p.ys[0]) if p.n_samples == 1 else [list(y) for y in p.ys]}
            shared = {bias_name(l) for l in range(len(p.layers) - 1)} if p.shared_bias else set()  # one number each
            for pname, mat in p.params().items():
                inputs[pname] = mat.tolist() if pname.startswith("W") else mat[0] if pname in shared else list(mat)
            if name not in inputs:
                raise ProblemError("key", f"unknown problem quantity {name!r} in {quote(key, 60)}; expected one of {', '.join(inputs)}")
            want = 2 if name.startswith("W") or (name in "xy" and p.n_samples > 1) else 0 if name in shared else 1
            return self._index(inputs[name], key, group, name, i, j, want)
        if group == "grad":
            if p.shared_bias and name in self.gradients and name.startswith("b_"):  # one per layer: grad.b_a
                if i is not None:
                    raise ProblemError("key", f"{name} is shared by its layer's units (one number): write grad.{name}, "
                                              f"got {quote(key, 60)}")
                return self.grad(name)
            if name in self.gradients:
                weight = name.startswith("W")
                if i is None or (weight and j is None) or (not weight and j is not None):
                    example = f"grad.{name}[1,1]" if weight else f"grad.{name}[1]"
                    raise ProblemError("key", f"expected {'two indices' if weight else 'one index'}, as in {example}, got {quote(key, 60)}")
                return self.grad(f"{name[0].lower()}_{name[2]}[{i}" + (f",{j}]" if weight else "]"))
            try:
                return self.grad(name + (f"[{i},{j}]" if j else (f"[{i}]" if i else "")))
            except ProblemError as err:
                raise ProblemError("key", f"{err.expected} (in {quote(key, 60)})") from None
        if group == "backward" and name == "dL_dx":  # the inputs' gradients: computed when asked for
            if i is None or j is not None or not 1 <= int(i) <= p.n_in:  # (the pattern's groups are text)
                raise ProblemError("key", f"expected backward.dL_dx[i], i from 1 to {p.n_in}, got {quote(key, 60)}")
            return self.input_gradients[s][int(i) - 1]
        table = self.forward if group == "forward" else self.backward
        if name not in table or name == "losses":
            raise ProblemError("key", f"unknown {group} quantity {name!r} in {quote(key, 60)}; expected one of "
                                      f"{', '.join(k for k in table if k != 'losses')}")
        if name == "loss":
            if i is not None:
                raise ProblemError("key", f"the loss is one number: write forward.loss, got {quote(key, 60)}")
            if at is not None:
                return self.forward["losses"][s] if p.n_samples > 1 else self.forward["loss"]
            return self.forward["loss"]
        item = table[name] if p.n_samples == 1 else table[name][s]
        return self._index(item, key, group, name, i, j, 2 if name == "dY_dO" else 1)

    @staticmethod
    def _index(item, key, group, name, i, j, want):
        indices = [int(k) for k in (i, j) if k is not None]
        if want == 0 and indices:
            raise ProblemError("key", f"{group}.{name} is one number (shared by its layer's units): write {group}.{name}, "
                                      f"got {quote(key, 60)}")
        if len(indices) != want:
            example = f"{group}.{name}[1,2]" if want == 2 else f"{group}.{name}[1]"
            raise ProblemError("key", f"expected {want} {'indices' if want == 2 else 'index'}, as in {example}, got {quote(key, 60)}")
        for k in indices:
            if not 1 <= k <= len(item):
                raise ProblemError("key", f"index {k} is out of range 1..{len(item)} in {quote(key, 60)}")
            item = item[k - 1]
        return item


def _decimal(expr: Expr, digits: int = PRECISION) -> Float:
    return expr.evalf(digits)


def numeric_params(problem: Problem, conv) -> dict:
    """The problem's parameters by name as :meth:`Numeric.gradients` takes them (nested lists for a matrix, a list
    for a bias), each exact value through ``conv`` (``float``, or to an mpmath number)."""
    out = {}
    for name, m in problem.params().items():
        out[name] = [[conv(v) for v in m.row(i)] for i in range(m.rows)] if name.startswith("W") else [conv(v) for v in m]
    return out


def lemma_zeros(d: Derivation) -> dict:
    """The gradients that are exactly 0 whatever the numbers, with the theorem that proves it: ``{name:
    theorem}``. Under a softmax output, the output layer's shared bias: its gradient is the mean over the samples
    of Σ_j ∇O_j, which the softmax lemma (proved for this many outputs and any loss) makes 0. A mistake's rules
    that change the output layer or the edges leave the lemma's softmax behind: none then.

    >>> from derivations.engine.problem import load_problem
    >>> from dataclasses import replace
    >>> p = load_problem()
    >>> shared = replace(p, biases=((0,) * 4, (0,) * 2), shared_bias=True)
    >>> {name: th.verdict for name, th in lemma_zeros(derive(shared)).items()}
    {'b_b': 'proved'}
    """
    p = d.problem
    if not (p.shared_bias and lemma_applies(d)):
        return {}
    return {bias_name(p.depth): softmax_lemma(p.n_out, GENERAL)}


def lemma_applies(d: Derivation) -> bool:
    """Does the softmax lemma hold for ``d``'s output layer: a softmax, proved for this many outputs and any
    loss, and no mistake's rule changing the output layer or the edges (a mistake's other rules leave it)?"""
    if not d.output.sums_to_one or {"output.forward", "output.local", "edges"} & set(d.rules):
        return False
    return softmax_lemma(d.problem.n_out, GENERAL).holds


def leaves_of(problem: Problem, symbols) -> dict:
    """The problem's numbers for the derivation's leaf symbols: parameters, ``x`` and ``y`` of each sample."""
    leaves = {}
    for W, M in zip(symbols.W, problem.weights):
        leaves.update(zip(W, M))
    if symbols.b is not None:
        for b, v in zip(symbols.b, problem.biases):
            leaves.update(zip(b, v))
    for s in range(problem.n_samples):
        leaves.update(zip(symbols.x[s], problem.xs[s]))
        leaves.update(zip(symbols.y[s], problem.ys[s]))
    return leaves


_EVALUATED: dict = {}  # problem -> the Values of its (shared) derivation, newest last, as derive() keeps them


def evaluate(problem_or_derivation) -> Values:
    """Exact values of everything at the problem's numbers; once per derivation of :func:`derive` (a
    derivation with mistake ``rules`` is evaluated afresh).

    >>> from derivations.engine.problem import load_problem
    >>> evaluate(load_problem()) is evaluate(derive(load_problem()))
    True
    """
    d = problem_or_derivation
    d = d if isinstance(d, Derivation) else derive(d)
    if d.rules:
        return Values(d)
    try:
        hash(d.problem)
    except TypeError:  # a problem built by hand with a mutable Matrix: no content key
        return Values(d)
    v = _EVALUATED.pop(d.problem, None)
    if v is None or v.derivation is not d:
        v = Values(d)
    _EVALUATED[d.problem] = v
    while len(_EVALUATED) > KEPT:
        del _EVALUATED[next(iter(_EVALUATED))]
    return v


def grad(problem_or_derivation, name: str) -> Expr:
    """The exact gradient of one parameter.

    >>> from derivations.engine.problem import load_problem
    >>> grad(load_problem(), "w_b21")
    3/80
    """
    d = problem_or_derivation
    d = d if isinstance(d, Derivation) else derive(d)
    w = parse_param(name, d.problem) if isinstance(name, str) else name
    return evaluate(d).grad(w)


class Numeric:
    """The same derivation evaluated in floating point, mpmath or NumPy, for many parameter settings quickly.

    One sample's definitions are compiled once (every sample has the same formulas); :meth:`gradients` runs
    them in order for each sample, or, with ``module="numpy"``, for all samples at once as arrays.
    """

    def __init__(self, derivation: Derivation, module: str = "math"):
        """With ``module="mpmath"`` (no overflow, no underflow) the definitions are compiled without the
        differences that cancel at a saturated unit (:func:`.saturation.without_cancellation`), so that a BCE at
        ``O = 200`` divides by ``1 − Y = e^-200/(1 + e^-200)``, not by a 0."""
        from sympy import lambdify

        self.derivation = d = derivation
        self.module = module
        sy = d.symbols

        # Elsewhere they are called by name; NumPy prints them through their _numpycode.

        def compile_(expr):
            args = sorted(expr.free_symbols, key=str)
            return args, lambdify(args, expr, modules=[funcs, module] if module != "numpy" else "numpy", dummify=True)

        first = set(sy.x[0]) | set(sy.y[0]) | {sy.loss[0]}
        for key in sy.keys:
            first |= set(sy.node(key, 0)) | set(sy.grad(key, 0))
        first |= {e for row in sy.dY_dO[0] for e in row}
        if module == "mpmath":
            steps = without_cancellation(d.definitions, lambda sym: sym in first)
        else:  # float64 and NumPy as before: their numbers are the figures' (byte-identical pages)
            steps = {sym: expr for sym, expr in d.definitions.items() if sym in first}
        self.steps = [(sym, *compile_(expr)) for sym, expr in steps.items()]
        self.per_sample = {}
        for name, m in d.gradients.items():  # one sample's term of each gradient entry
            self.per_sample[name] = [[compile_(self._first_term(e)) for e in m.tolist()[i]] for i in range(m.rows)]

    def _first_term(self, e: Expr) -> Expr:
        """Sample 1's term of a gradient ``1/S Σ_s (...)``, without the ``1/S``."""
        sy, S = self.derivation.symbols, self.derivation.problem.n_samples
        if S == 1:
            return e
        others = {v: 0 for s in range(1, S) for key in sy.keys for v in sy.grad(key, s)}
        return (e * S).xreplace(others)

    def gradients(self, params: dict, xs, ys):
        """``({"W_a": rows, ..., "b_a": ...}, loss)`` for numeric parameters (nested lists by name, as
        :meth:`Problem.params` names them) and data (one list per sample). The loss and gradients are the
        means over the samples."""
        sy = self.derivation.symbols
        v = {}
        for l, W in enumerate(sy.W):
            values = params[weight_name(l)]
            for i in range(W.rows):
                for j in range(W.cols):
                    v[W[i, j]] = values[i][j]
        if sy.b is not None:
            for l, b in enumerate(sy.b):
                values = params[bias_name(l)]
                for i, sym in enumerate(b):
                    v[sym] = values[i]
        if self.module == "numpy":
            import numpy as np

            batches = [(np.asarray(xs, dtype=float).T, np.asarray(ys, dtype=float).T)]
        else:
            batches = list(zip(xs, ys))
        grads, loss, n = {}, 0, len(xs)
        for x, y in batches:
            v.update(zip(sy.x[0], x))
            v.update(zip(sy.y[0], y))
            for sym, args, f in self.steps:
                v[sym] = f(*(v[a] for a in args))
            loss = loss + _total(v[sy.loss[0]])
            for name, rows in self.per_sample.items():
                g = [[_total(f(*(v[a] for a in args))) for args, f in row] for row in rows]
                grads[name] = g if name not in grads else [[a + b for a, b in zip(r1, r2)] for r1, r2 in zip(grads[name], g)]
        grads = {name: [[e / n for e in row] for row in rows] for name, rows in grads.items()}
        return grads, loss / n


def _total(value):
    """The sum over the samples of a NumPy array of per-sample values (a scalar passes through)."""
    return value.sum() if hasattr(value, "sum") else value

