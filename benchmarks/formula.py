"""How well formula answers are judged: rewritings of each closed form and single-slip forms, on three bases.

    python benchmarks/formula.py [--quick]

The formulas are written here, not taken from the package: an independent chain rule over the page's names
(its own local derivatives of each activation, output layer and loss) writes the gradient of each asked
parameter, in the page's quantities, on the handout, Mazur's example and the site's two-hidden-layer problem.
From it:

- *rewritings*, each typed as a student would: as written, with ``·`` and the Unicode minus, expanded,
  factored, reordered (the terms and factors of every sum and product shuffled), with ``Y_2 = 1 − Y_1``
  substituted (a two-output softmax), in the logits (``Y_1 = σ(O_1 − O_2)``), each hidden activation written
  as its function of ``H`` (``L_1 = ReLU(H_1)``, ``σ(H_1)``), with implicit multiplication
  (``Y_1 (1 − Y_1)``, ``2 (Y_1 − y_1)``), without underscores (``Y1``, ``w_b11``);
- *single-slip forms*, each made by this chain rule with one step done wrong (the slips the issue lists: the
  Jacobian skipped, one path only, a factor dropped, a sign, a transposed index; and the softmax's cross term
  dropped or its sign flipped, the loss's factor, H for L, the activation's derivative taken as 1 or filled
  in with H), as written and with implicit multiplication. A slip form equal to the right formula (a factor of 1
  dropped) is left out.

Each is judged by :class:`derivations.teaching.formula.Judge` (one per blank, made once, its time reported
apart). It prints the share of rewritings judged correct, the share of slip forms whose slip is named (one of
the names this benchmark expects for it, ties included), the misses, and the time per answer.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tomllib
from pathlib import Path

from sympy import Add, Function, Integer, Rational, Symbol, expand, factor
from sympy.printing.str import StrPrinter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASES = {
    "handout": ROOT / "derivations" / "problems" / "handout.toml",
    "mazur": ROOT / "derivations" / "problems" / "mazur.toml",
    "two-layers": ROOT / "docs" / "problems" / "two-layers.toml",
}
LETTERS = "abcdefgh"
MAX_LENGTH = 500  # what the judge reads (derivations.engine.expression.MAX_LENGTH): no student types more


# -- the page's names, as symbols of this benchmark ------------------------------------------------------------


def S(name: str) -> Symbol:
    return Symbol(name, real=True)


class step(Function):
    """``1[z > 0]``."""


class sig(Function):
    """``σ(z)``."""


class relu(Function):
    """``ReLU(z)``."""


class _Typed(StrPrinter):
    """How a student types a formula: ``·`` or ``*`` between factors, or side by side (``implicit``), the
    Unicode minus or ``-``, the terms and factors in SymPy's order or shuffled (``rng``)."""

    def __init__(self, times="*", minus="-", implicit=False, rng=None):
        super().__init__({"order": "none"})
        self.times, self.minus, self.implicit, self.rng = times, minus, implicit, rng

    def _args(self, e):
        args = list(e.args)
        if self.rng is not None:
            self.rng.shuffle(args)
        return args

    def _print_Add(self, e, order=None):
        out = ""
        for k, a in enumerate(self._args(e)):
            neg = a.could_extract_minus_sign()
            body = self._print(-a if neg else a)
            if isinstance(-a if neg else a, Add):
                body = f"({body})"
            out += (f" {self.minus} " if neg else " + ") if k else (self.minus if neg else "")
            out += body
        return out

    def _print_Mul(self, e):
        if e.could_extract_minus_sign():
            inner = self._print(-e)
            return f"{self.minus}({inner})" if isinstance(-e, Add) else f"{self.minus}{inner}"
        parts = []
        for a in self._args(e):
            text = self._print(a)
            if isinstance(a, Add) or (a.is_Rational and not a.is_Integer):
                text = f"({text})"
            parts.append(text)
        return (" " if self.implicit else self.times).join(parts)

    def _print_Pow(self, e, rational=False):
        b, x = e.args
        base = self._print(b)
        if not (b.is_Symbol or isinstance(b, Function)):
            base = f"({base})"
        if x == -1:
            return f"1/{base}"
        return f"{base}^{self._print(x)}" if x >= 0 else f"{base}^({self._print(x)})"

    def _print_Rational(self, e):
        return f"{e.p}/{e.q}" if e.q != 1 else str(e.p)

    def _print_step(self, e):
        return f"1[{self._print(e.args[0])} > 0]"

    def _print_sig(self, e):
        return f"σ({self._print(e.args[0])})"

    def _print_relu(self, e):
        return f"ReLU({self._print(e.args[0])})"

    def _print_Symbol(self, e):
        return e.name


def typed(e, **kw) -> str:
    return _Typed(**kw).doprint(e)


# -- the bases --------------------------------------------------------------------------------------------------


def read_base(path: Path) -> dict:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    net = doc["network"]
    layers = list(net["layers"])
    acts = net.get("activation", "relu")
    acts = [acts] * (len(layers) - 2) if isinstance(acts, str) else list(acts)
    return {"layers": layers, "acts": acts, "output": net.get("output", "softmax"), "loss": net.get("loss", "mse"),
            "bias": net.get("bias", False), "path": path}


def node(p: dict, base: str, layer: int, k: int) -> Symbol:
    """``H_1`` (one hidden layer), ``H^(2)_1`` (several): the page's name, 0-based unit ``k``."""
    depth = len(p["layers"]) - 2
    return S(f"{base}^({layer + 1})_{k + 1}" if depth > 1 and base in "HL" else f"{base}_{k + 1}")


def weight(l: int, i: int, j: int) -> Symbol:
    return S(f"w^{LETTERS[l]}_{i + 1}{j + 1}")


# -- an independent chain rule, with one slip --------------------------------------------------------------------


def act_slope(p: dict, layer: int, h, l, slip):
    """``∂L/∂H`` as this benchmark writes each activation's derivative; an activation's slip is made at every
    layer of the first activation it can be made at (a ReLU's derivative taken as 1 at every ReLU layer)."""
    name = p["acts"][layer]
    if slip in ("act-one", "act-of-H"):
        kinds = [a for a in p["acts"] if slip == "act-one" or a != "relu"]
        if not kinds or name != kinds[0]:
            slip = None
    if slip == "act-one":
        return Integer(1)
    if name == "relu":
        return step(h)
    if name == "sigmoid":
        return h * (1 - h) if slip == "act-of-H" else l * (1 - l)
    if name == "tanh":
        return 1 - (h if slip == "act-of-H" else l) ** 2
    raise ValueError(name)


def loss_slope(p: dict, k: int, slip):
    """``∂ℒ/∂Y_k``."""
    n = p["layers"][-1]
    Y, y = node(p, "Y", 0, k), node(p, "y", 0, k)
    sign = -1 if slip == "sign" else 1
    if p["loss"] == "mse":
        factor_ = {"factor-1/N": Rational(1, n), "factor-1": Integer(1)}.get(slip, Rational(2, n))
        return sign * factor_ * (Y - y)
    if p["loss"] == "quadratic":
        return sign * (Y - y)
    if p["loss"] == "cross_entropy":
        return sign * (-y / Y)
    raise ValueError(p["loss"])


def out_slope(p: dict, k: int, j: int, slip):
    """``∂Y_k/∂O_j``."""
    if slip == "jacobian-skipped":
        return Integer(1 if k == j else 0)
    Y = [node(p, "O" if slip == "output-of-O" else "Y", 0, i) for i in range(p["layers"][-1])]
    if p["output"] == "softmax":
        if k == j:
            return Y[k] * (1 - Y[k])
        if slip == "cross-dropped":
            return Integer(0)
        return (1 if slip == "cross-sign" else -1) * Y[k] * Y[j]
    if p["output"] == "sigmoid":
        return Y[k] * (1 - Y[k]) if k == j else Integer(0)
    raise ValueError(p["output"])


def delta(p: dict, layer: int, i: int, slip, one_path: bool):
    """``∇`` of unit ``i`` of linear layer ``layer``'s output (``O`` for the last), as a sum of chain-rule terms
    (with ``one_path``: only the first term of every sum)."""
    n_lin = len(p["layers"]) - 1
    if layer == n_lin - 1:  # ∇O_i = Σ_k ∂Y_k/∂O_i ∇Y_k
        terms = [out_slope(p, k, i, slip) * loss_slope(p, k, slip) for k in range(p["layers"][-1])]
        terms = [t for t in terms if t != 0]
    else:  # ∇H_i = act'(H_i)·Σ_m w_mi ∇(next)_m
        h, l = node(p, "H", layer, i), node(p, "L", layer, i)
        inner = [weight(layer + 1, m, i) * delta(p, layer + 1, m, slip, one_path) for m in range(p["layers"][layer + 2])]
        terms = [act_slope(p, layer, h, l, slip) * Add(*(inner[:1] if one_path else inner))]
    return Add(*(terms[:1] if one_path else terms))


def gradient(p: dict, param: tuple, slip=None):
    """The gradient of ``(layer, kind, i, j)`` written by this chain rule (with ``slip``)."""
    layer, kind, i, j = param
    if slip == "transposed":
        i, j = j, i
    d = delta(p, layer, i, slip, slip == "one-path")
    if kind == "bias":
        return d
    if slip == "input-dropped":
        return d
    if layer == 0:
        inp = S(f"x_{j + 1}")
    else:
        inp = node(p, "H" if slip == "H-for-L" else "L", layer - 1, j)
    return d * inp


#: Each slip this benchmark makes, and the names the judging may give it (ties included).
SLIPS = {
    "jacobian-skipped": {"softmax-skipped-backward", "softmax-derivative-identity", "sigmoid-skipped-backward",
                         "sigmoid-derivative-identity"},
    "one-path": {"one-path-only", "softmax-cross-term-dropped"},
    "input-dropped": {"factor-dropped"},
    "sign": {"gradient-sign", "formula-sign"},
    "transposed": {"weight-transposed"},
    "cross-dropped": {"softmax-cross-term-dropped", "one-path-only"},
    "cross-sign": {"softmax-cross-term-sign"},
    "factor-1/N": {"loss-factor-1/N"},
    "factor-1": {"loss-factor-1"},
    "H-for-L": {"weight-gradient-pre-activation"},
    "act-one": {"activation-derivative-one", "activation-derivative-dropped", "factor-dropped"},
    "act-of-H": {"activation-derivative-of-H"},
    "output-of-O": {"softmax-derivative-of-O", "sigmoid-derivative-of-O"},
}


def params_of(p: dict) -> list:
    """The parameters asked on each base: two of the last layer, the first of every other layer, and the first
    hidden unit's bias where there are biases; ``(layer, kind, i, j)``."""
    n_lin = len(p["layers"]) - 1
    out = [(n_lin - 1, "weight", 0, 0), (n_lin - 1, "weight", 1, 0)]
    out += [(l, "weight", 0, 1 if l == 0 else 0) for l in range(n_lin - 2, -1, -1)]
    if p["bias"]:
        out.append((0, "bias", 0, 0))
    return out


def key_of(param) -> str:
    layer, kind, i, j = param
    return f"w_{LETTERS[layer]}{i + 1}{j + 1}" if kind == "weight" else f"b_{LETTERS[layer]}{i + 1}"


# -- the rewritings ----------------------------------------------------------------------------------------------


def rewritings(p: dict, e, rng: random.Random) -> dict:
    """The rewritings of ``e`` a student may type (those longer than the judge's 500 characters left out)."""
    out = {
        "as written": typed(e),
        "dotted, Unicode minus": typed(e, times="·", minus="\u2212"),
        "expanded": typed(expand(e)),
        "factored": typed(factor(e)),
        "reordered": typed(e, times=" * ", rng=rng),
        "implicit": typed(e, implicit=True),
        "implicit, reordered": typed(e, implicit=True, rng=rng),
    }
    names = {s: s.name.replace("_", "") for s in e.free_symbols if "^" not in s.name}
    names.update({s: "w_" + s.name[2] + s.name[4:] for s in e.free_symbols if s.name.startswith("w^")})
    plain = e.xreplace({s: Symbol(n, real=True) for s, n in names.items()})
    out["no underscores"] = typed(plain, times="×")
    hidden = {}  # every hidden activation written as its function of H: L_1 = ReLU(H_1), σ(H_1)
    for layer, act in enumerate(p["acts"]):
        for k in range(p["layers"][layer + 1]):
            h = node(p, "H", layer, k)
            hidden[node(p, "L", layer, k)] = {"relu": relu, "sigmoid": sig}.get(act, lambda z: None)(h)
    if all(v is not None for v in hidden.values()):
        out["L in H"] = typed(e.xreplace(hidden), implicit=True)
    if p["output"] == "softmax" and p["layers"][-1] == 2:
        Y1, Y2, O1, O2 = node(p, "Y", 0, 0), node(p, "Y", 0, 1), node(p, "O", 0, 0), node(p, "O", 0, 1)
        out["Y_2 = 1 - Y_1"] = typed(e.xreplace({Y2: 1 - Y1}), times="·")
        out["Y_2 = 1 - Y_1, expanded"] = typed(expand(e.xreplace({Y2: 1 - Y1})))
        out["in the logits"] = typed(e.xreplace({Y1: sig(O1 - O2), Y2: sig(O2 - O1)}), implicit=True)
    return {label: text for label, text in out.items() if len(text) <= MAX_LENGTH}


# -- the run -------------------------------------------------------------------------------------------------------


def run(quick: bool = False) -> dict:
    from derivations.engine.problem import load_problem
    from derivations.teaching.formula import Judge

    rng = random.Random("formula benchmark")
    figures = {"rewritings": 0, "correct": 0, "slips": 0, "named": 0, "misses": [], "answers": 0, "seconds": 0.0,
               "setup": 0.0, "blanks": 0, "worst": 0.0}
    for name, path in BASES.items():
        p = read_base(path)
        problem = load_problem(path)
        for param in params_of(p)[: 2 if quick else None]:
            started = time.perf_counter()
            judge = Judge(problem, key_of(param))
            judge.slips  # every slip's values at the points: made once per blank
            figures["setup"] += time.perf_counter() - started
            figures["blanks"] += 1
            right = gradient(p, param)
            cases = [("rewriting", label, text) for label, text in rewritings(p, right, rng).items()]
            for slip, names in SLIPS.items():
                try:
                    e = gradient(p, param, slip)
                except (ValueError, IndexError):
                    continue
                if expand(e - right) == 0 or (slip == "transposed" and param[2] == param[3]):
                    continue  # the slip changes nothing here (a factor of 1, w_11 transposed)
                cases += [("slip", slip, typed(e, times="·")), ("slip", slip, typed(e, implicit=True))]
            for kind, label, text in cases:
                t0 = time.perf_counter()
                mark = judge.judge(text)
                dt = time.perf_counter() - t0
                figures["answers"] += 1
                figures["seconds"] += dt
                figures["worst"] = max(figures["worst"], dt)
                where = f"{name} {key_of(param)} {label}: {text[:70]} -> {mark.line()}"
                if kind == "rewriting":
                    figures["rewritings"] += 1
                    figures["correct"] += mark.verdict == "correct"
                    if mark.verdict != "correct":
                        figures["misses"].append(where)
                else:
                    figures["slips"] += 1
                    ok = mark.verdict == "wrong" and bool({m.name for m in mark.mistakes} & SLIPS[label])
                    figures["named"] += ok
                    if not ok:
                        figures["misses"].append(where)
    return figures


def report(f: dict) -> str:
    lines = [
        f"rewritings judged correct: {f['correct']} of {f['rewritings']} ({100 * f['correct'] / f['rewritings']:.1f}%)",
        f"slip forms with the slip named: {f['named']} of {f['slips']} ({100 * f['named'] / f['slips']:.1f}%)",
        f"time per answer: {1000 * f['seconds'] / f['answers']:.1f} ms on average, {1000 * f['worst']:.0f} ms at "
        f"most ({f['answers']} answers); per blank, once: {1000 * f['setup'] / f['blanks']:.0f} ms ({f['blanks']} blanks)",
    ]
    lines += ["misses:"] + [f"  {m}" for m in f["misses"]] if f["misses"] else ["misses: none"]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two blanks of each base")
    args = ap.parse_args(argv)
    print(report(run(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
