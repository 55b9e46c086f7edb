"""Exact values of every quantity at a problem's numbers, and a fast numeric evaluator of the same
derivation (for training runs and cross-checks).

>>> from derivations.problem import load_problem
>>> v = evaluate(load_problem())
>>> v.forward["H"][0], v.forward["O"][0], v.forward["Y"][0], v.forward["loss"]
(3/20, 3/50, 1/2, 1/4)
>>> v.gradients["W_b"][0, 0], v.gradients["W_b"][1, 0], v.gradients["W_a"][0, 0]
(-3/80, 3/80, 0)
>>> v.lookup("grad.w_b21")
3/80
"""

from __future__ import annotations

import re

from sympy import Expr, Float

from .backward import Derivation, derive, parse_weight
from .problem import Problem, ProblemError

FORWARD = ("H", "L", "O", "Y", "loss")
BACKWARD = ("dL_dY", "dY_dO", "dL_dO", "dL_dL", "dL_dH")
PRECISION = 50  # digits of the decimals shown and exported
_KEY = re.compile(r"\s*(problem|forward|backward|grad)\.(\w+)\s*(?:\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\])?\s*")


class Values:
    """Every forward quantity, backward quantity and gradient of a derivation at its problem's numbers,
    as exact SymPy numbers (rationals where the values are rational)."""

    def __init__(self, derivation: Derivation, leaves: dict | None = None):
        self.derivation = d = derivation
        p, s = d.problem, d.symbols
        if leaves is None:
            leaves = leaves_of(p, s)
        self.of = d.values(leaves)
        of = self.of
        # Decimals, layer by layer from the parents' decimals: evalf of a deep exact expression would redo
        # every shared subexpression. Rational values stay exact, so ReLU's step sees the true sign.
        self.decimals = {sym: Float(v, PRECISION) for sym, v in leaves.items()}
        for sym, definition in d.definitions.items():
            v = of[sym]
            self.decimals[sym] = Float(v, PRECISION) if v.is_Rational else _decimal(definition.xreplace(self.decimals))
        self._decimal_of = {of[sym]: self.decimals[sym] for sym in d.definitions}
        self.forward = {
            "H": [of[h] for h in s.H],
            "L": [of[l] for l in s.L],
            "O": [of[o] for o in s.O],
            "Y": [of[y] for y in s.Y],
            "loss": of[s.loss],
        }
        self.backward = {
            "dL_dY": [of[g] for g in s.gY],
            "dY_dO": [[of[e] for e in row] for row in s.dY_dO],
            "dL_dO": [of[g] for g in s.gO],
            "dL_dL": [of[g] for g in s.gL],
            "dL_dH": [of[g] for g in s.gH],
        }
        self.gradients = {name: m.xreplace(of) for name, m in d.gradients.items()}
        for name, m in d.gradients.items():
            for expr, exact in zip(m, self.gradients[name]):
                self._note_decimal(expr, exact)

    @property
    def problem(self) -> Problem:
        return self.derivation.problem

    def value(self, expr: Expr) -> Expr:
        """Any expression of the derivation's symbols, at the problem's numbers (exact)."""
        exact = expr.xreplace(self.of)
        self._note_decimal(expr, exact)
        return exact

    def _note_decimal(self, expr: Expr, exact: Expr) -> None:
        """Remember the decimal of ``exact``, computed from ``expr`` over the layered decimals."""
        if exact not in self._decimal_of and not exact.is_Rational:
            self._decimal_of[exact] = _decimal(expr.xreplace(self.decimals))

    def decimal(self, exact: Expr) -> Float:
        """A value of this derivation (as :meth:`value`, :attr:`forward`, ... give it) to
        :data:`PRECISION` digits, without re-evaluating its exact expression."""
        if exact.is_Rational:
            return Float(exact, PRECISION)
        if exact not in self._decimal_of:
            self._decimal_of[exact] = _decimal(exact)
        return self._decimal_of[exact]

    def grad(self, name) -> Expr:
        w = self.derivation.weight(name)
        return self.gradients["W_a" if w.layer == "a" else "W_b"][w.i, w.j]

    def lookup(self, key: str) -> Expr:
        """A value by its key, 1-based as in the handout: ``forward.H[1]``, ``forward.loss``,
        ``backward.dL_dO[2]``, ``backward.dY_dO[1,2]``, ``grad.W_b[2,1]`` or ``grad.w_b21``.

        Raises :class:`ProblemError` (field ``key``) naming what was expected."""
        m = _KEY.fullmatch(key) if isinstance(key, str) else None
        if not m:
            raise ProblemError("key", f"expected problem.NAME[i], forward.NAME[i], backward.NAME[i], grad.W_a[i,j] / "
                                      f"grad.w_a11, or formula.w_a11 / closed.w_a11 / expanded.w_a11, got {key!r}")
        group, name, i, j = m.groups()
        if group == "problem":
            p = self.problem
            inputs = {"x": list(p.x), "y": list(p.y), "W_a": p.W_a.tolist(), "W_b": p.W_b.tolist()}
            if name not in inputs:
                raise ProblemError("key", f"unknown problem quantity {name!r} in {key!r}; expected one of x, y, W_a, W_b")
            return self._index(inputs[name], key, group, name, i, j, 2 if name.startswith("W") else 1)
        if group == "grad":
            if name in ("W_a", "W_b"):
                if i is None or j is None:
                    raise ProblemError("key", f"expected two indices, as in grad.{name}[1,1], got {key!r}")
                return self.grad(f"{name}[{i},{j}]")
            try:
                return self.grad(name + (f"[{i},{j}]" if j else ""))
            except ProblemError as err:
                raise ProblemError("key", f"{err.expected} (in {key!r})") from None
        table = self.forward if group == "forward" else self.backward
        if name not in table:
            raise ProblemError("key", f"unknown {group} quantity {name!r} in {key!r}; expected one of {', '.join(table)}")
        item = table[name]
        if name == "loss":
            if i is not None:
                raise ProblemError("key", f"the loss is one number: write forward.loss, got {key!r}")
            return item
        return self._index(item, key, group, name, i, j, 2 if name == "dY_dO" else 1)

    @staticmethod
    def _index(item, key, group, name, i, j, want):
        indices = [int(k) for k in (i, j) if k is not None]
        if len(indices) != want:
            example = f"{group}.{name}[1,2]" if want == 2 else f"{group}.{name}[1]"
            raise ProblemError("key", f"expected {want} {'indices' if want == 2 else 'index'}, as in {example}, got {key!r}")
        for k in indices:
            if not 1 <= k <= len(item):
                raise ProblemError("key", f"index {k} is out of range 1..{len(item)} in {key!r}")
            item = item[k - 1]
        return item


def _decimal(expr: Expr) -> Float:
    return expr.evalf(PRECISION)


def leaves_of(problem: Problem, symbols) -> dict:
    """The problem's numbers for the derivation's leaf symbols: weights, ``x`` and ``y``."""
    leaves = dict(zip(symbols.x, problem.x))
    leaves.update(zip(symbols.y, problem.y))
    leaves.update(zip(symbols.W_a, problem.W_a))
    leaves.update(zip(symbols.W_b, problem.W_b))
    return leaves


def evaluate(problem_or_derivation) -> Values:
    """Exact values of everything at the problem's numbers."""
    d = problem_or_derivation
    return Values(d if isinstance(d, Derivation) else derive(d))


def grad(problem_or_derivation, name: str) -> Expr:
    """The exact gradient of one weight.

    >>> from derivations.problem import load_problem
    >>> grad(load_problem(), "w_b21")
    3/80
    """
    d = problem_or_derivation
    d = d if isinstance(d, Derivation) else derive(d)
    w = parse_weight(name, d.problem) if isinstance(name, str) else name
    return Values(d).grad(w)


class Numeric:
    """The same derivation evaluated in floating point (or mpmath), for many weight settings quickly.

    Each definition is compiled once; :meth:`gradients` runs them in order, as the exact evaluation does.
    """

    def __init__(self, derivation: Derivation, module: str = "math"):
        from sympy import lambdify

        self.derivation = d = derivation
        self.module = module
        funcs = {"ReLU": lambda h: h if h > 0 else 0 * h, "relu_step": lambda h: 1 if h > 0 else 0}

        def compile_(expr):
            args = sorted(expr.free_symbols, key=str)
            return args, lambdify(args, expr, modules=[funcs, module], dummify=True)

        self.steps = [(sym, *compile_(expr)) for sym, expr in d.definitions.items()]
        self.grads = {name: [[compile_(e) for e in m.tolist()[i]] for i in range(m.shape[0])] for name, m in d.gradients.items()}

    def gradients(self, W_a, W_b, x, y):
        """``(dL/dW_a, dL/dW_b, loss)`` as nested lists, for numeric weights and data."""
        s = self.derivation.symbols
        v = {}
        for group, values in ((s.x, x), (s.y, y)):
            v.update(zip(group, values))
        for mat, values in ((s.W_a, W_a), (s.W_b, W_b)):
            for i in range(mat.shape[0]):
                for j in range(mat.shape[1]):
                    v[mat[i, j]] = values[i][j]
        for sym, args, f in self.steps:
            v[sym] = f(*(v[a] for a in args))
        ga, gb = ([[f(*(v[a] for a in args)) for args, f in row] for row in self.grads[n]] for n in ("W_a", "W_b"))
        return ga, gb, v[s.loss]
