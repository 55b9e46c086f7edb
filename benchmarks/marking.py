"""How far the marks can be trusted: a simulated class, marked by ``check``, ``grade`` and the self-check page.

    python benchmarks/marking.py [--quick] [--no-browser]

The class is built here, not from the package's derivation or keys: an independent backprop (Fractions where
a value is rational, mpmath at 50 digits elsewhere) computes every blank of the students' page of three bases
(the handout, Mazur's example, the site's two-hidden-layer problem), and each simulated student writes the
sheet their way:

- right, to 4 and to 3 significant digits, as fractions, with the Unicode minus, with decimal commas, with
  blanks left empty, and with cells that are not numbers;
- with one slip, made by this backprop at its own step (the slips the issue lists: a local derivative
  dropped or taken as 1 or as the identity, a sign (of ∇Y, or of a gradient at its last step), a transposed
  weight, a pre-activation for an activation, one path of a sum, a sum for a mean or a mean for a sum, a factor
  dropped, the target left out of ∇Y, the output Jacobian skipped going back, the bias left out, the descent
  step's sign, rate or step, its change subtracted from w), carried forward by the student's own later
  steps, written to 4 and to 3 significant digits.

Each blank's expected verdict follows from how the student made it, never from the package: *correct* where
the typed text meets the precision rule against this backprop's value (exact, or rounded correctly to at
least 4 significant digits); *too few digits* where it is that value rounded to 2 or 3, or a decimal of 2 or 3
significant digits within 1/2000 of it that is not exactly it; *wrong, named* where
the slip acted between the student's written earlier blanks and this one; *follows* where the blank's own
step was done right from wrong earlier answers; *not a number* for a cell that is none.

It prints the confusion matrix (expected against given, for ``grade``), the share of slip blanks whose slip
is named first (ties that the sheet cannot tell apart count when the slip is among them), named at all, the
mistake names given on blanks that follow, and the disagreements between ``check``, ``grade`` and the
self-check page (Chromium, from ``file://``). ``tests/test_marking.py`` runs a part of it.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
import tomllib
from collections import Counter
from fractions import Fraction
from pathlib import Path

import mpmath as mp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

mp.mp.dps = 50
BASES = {
    "handout": ROOT / "derivations" / "problems" / "handout.toml",
    "mazur": ROOT / "derivations" / "problems" / "mazur.toml",
    "two-layers": ROOT / "docs" / "problems" / "two-layers.toml",
}
LETTERS = "abcdefgh"


# -- numbers: a Fraction while exact, an mpf (50 digits) after ------------------------------------------------


def M(v):
    return mp.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v


def exact(*vs) -> bool:
    return all(isinstance(v, Fraction) for v in vs)


def add(*vs):
    return sum(vs, Fraction(0)) if exact(*vs) else sum((M(v) for v in vs), mp.mpf(0))


def mul(*vs):
    out = Fraction(1) if exact(*vs) else mp.mpf(1)
    for v in vs:
        out = out * (v if exact(*vs) else M(v))
    return out


def neg(v):
    return -v


def div(a, b):
    return a / b if exact(a, b) else M(a) / M(b)


def exp_(v):
    return Fraction(1) if v == 0 else mp.exp(M(v))


def log_(v):
    return Fraction(0) if v == 1 else mp.log(M(v))


def sigmoid(v):
    return Fraction(1, 2) if v == 0 else 1 / (1 + mp.exp(-M(v)))


def tanh_(v):
    return Fraction(0) if v == 0 else mp.tanh(M(v))


def softplus(v):
    return mp.log(1 + mp.exp(M(v)))


ACT = {
    "relu": (lambda h: h if h > 0 else Fraction(0), lambda h, l: Fraction(1) if h > 0 else Fraction(0)),
    "leaky_relu": (lambda h: h if h > 0 else h / 100, lambda h, l: Fraction(1) if h > 0 else Fraction(1, 100)),
    "identity": (lambda h: h, lambda h, l: Fraction(1)),
    "sigmoid": (sigmoid, lambda h, l: mul(l, add(1, neg(l)))),
    "tanh": (tanh_, lambda h, l: add(1, neg(mul(l, l)))),
    "softplus": (softplus, lambda h, l: sigmoid(h)),
}
DYING = {"relu", "leaky_relu"}


# -- the problem, read here --------------------------------------------------------------------------------


def _num(v) -> Fraction:
    return Fraction(str(v))


def read_base(path: Path) -> dict:
    doc = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=str)
    net, data, init = doc["network"], doc["data"], doc.get("init", {})
    layers = list(net["layers"])
    acts = net.get("activation", "relu")
    acts = [acts] * (len(layers) - 2) if isinstance(acts, str) else list(acts)
    W, b = [], []
    for l in range(len(layers) - 1):
        rows, cols = layers[l + 1], layers[l]
        w = init.get(f"W_{LETTERS[l]}", data.get(f"W_{LETTERS[l]}"))
        W.append([[_num(w)] * cols for _ in range(rows)] if not isinstance(w, list) else [[_num(v) for v in r] for r in w])
        if net.get("bias", False):
            bb = init.get(f"b_{LETTERS[l]}", 0)
            b.append([_num(bb)] * rows if not isinstance(bb, list) else [_num(v) for v in bb])
    return {"layers": layers, "acts": acts, "output": net.get("output", "softmax"), "loss": net.get("loss", "mse"),
            "x": [_num(v) for v in data["x"]], "y": [_num(v) for v in data["y"]], "W": W, "b": b if b else None,
            "lr": _num(doc.get("worksheet", {}).get("lr", "0.5"))}


# -- the backprop, with one slip ---------------------------------------------------------------------------


class Sheet:
    """Every quantity of one student's work: ``value[key]``, and for each the quantities it was computed from
    (``parents``) and whether the slip acted at its own step (``slipped``). ``typed``: the numbers the student
    wrote, carried on in their place (``step[key]``: each step's value from them)."""

    def __init__(self, typed: dict | None = None):
        self.value, self.parents, self.slipped = {}, {}, set()
        self.typed, self.step = typed or {}, {}

    def put(self, key, right, slip_value, parents):
        """``right``: the step done right from the student's inputs; ``slip_value``: with the slip (or None)."""
        v = right if slip_value is None else slip_value
        self.step[key] = v
        self.value[key] = self.typed.get(key, v)
        self.parents[key] = list(parents)
        if slip_value is not None and not _same(slip_value, right):
            self.slipped.add(key)
        return self.value[key]


def _same(a, b) -> bool:
    if exact(a, b):
        return a == b
    return abs(M(a) - M(b)) <= mp.mpf(10) ** -40 * max(abs(M(a)), abs(M(b)), mp.mpf(10) ** -300)


def backprop(p: dict, slip: str | None = None, typed: dict | None = None) -> Sheet:
    """Forward and backward in the page's names, with ``slip`` made at its step; keys as the checker's.
    ``typed``: numbers written in place of those computed (:class:`Sheet`)."""
    sh, S = Sheet(typed), slip
    depth = len(p["layers"]) - 2

    names = [(f"H{l + 1}", f"L{l + 1}") if depth > 1 else ("H", "L") for l in range(depth)]
    for i, v in enumerate(p["x"]):
        sh.put(f"problem.x[{i + 1}]", v, None, [])
    for i, v in enumerate(p["y"]):
        sh.put(f"problem.y[{i + 1}]", v, None, [])
    inp = [f"problem.x[{j + 1}]" for j in range(len(p["x"]))]
    pre_prev = None
    for l in range(depth + 1):  # the linear steps (and activations)
        W, b = p["W"][l], (p["b"][l] if p["b"] else None)
        out = names[l][0] if l < depth else "O"
        source = inp
        if S == "linear-input-pre-activation" and pre_prev is not None:
            source = pre_prev
        for i, row in enumerate(W):
            right = add(*(mul(w, sh.value[k]) for w, k in zip(row, inp)), *([b[i]] if b else []))
            slipped = None
            if S == "linear-input-pre-activation" and source is not inp:
                slipped = add(*(mul(w, sh.value[k]) for w, k in zip(row, source)), *([b[i]] if b else []))
            if S == "bias-left-out" and b:
                slipped = add(*(mul(w, sh.value[k]) for w, k in zip(row, inp)))
            sh.put(f"forward.{out}[{i + 1}]", right, slipped, inp)
        if l == depth:
            break
        H, L = names[l]
        f, _ = ACT[p["acts"][l]]
        for j in range(len(W)):
            h = sh.value[f"forward.{H}[{j + 1}]"]
            sh.put(f"forward.{L}[{j + 1}]", f(h), h if S == "activation-skipped" and p["acts"][l] != "identity" else None,
                   [f"forward.{H}[{j + 1}]"])
        pre_prev = [f"forward.{H}[{j + 1}]" for j in range(len(W))]
        inp = [f"forward.{L}[{j + 1}]" for j in range(len(W))]
    N = len(p["y"])
    O = [f"forward.O[{k + 1}]" for k in range(N)]
    o = [sh.value[k] for k in O]
    if p["output"] == "softmax":
        e = [exp_(v) for v in o]
        right = [div(v, add(*e)) for v in e]
        alt = {"softmax-skipped": o, "softmax-unnormalised": e}.get(S)
    elif p["output"] == "sigmoid":
        right = [sigmoid(v) for v in o]
        alt = o if S == "sigmoid-skipped" else None
    else:
        right, alt = o, None
    for k in range(N):
        sh.put(f"forward.Y[{k + 1}]", right[k], alt[k] if alt else None, O)
    Y = [sh.value[f"forward.Y[{k + 1}]"] for k in range(N)]
    y = p["y"]
    loss = p["loss"]
    if loss == "mse":
        value = div(add(*(mul(add(yy, neg(v)), add(yy, neg(v))) for yy, v in zip(y, Y))), N)
        alts = {"loss-no-mean": mul(value, N)}
        grad = [mul(Fraction(2, N), add(v, neg(yy))) for v, yy in zip(Y, y)]
        galts = {"loss-factor-1/N": [mul(Fraction(1, N), add(v, neg(yy))) for v, yy in zip(Y, y)],
                 "loss-factor-1": [add(v, neg(yy)) for v, yy in zip(Y, y)],
                 "loss-derivative-no-mean": [mul(2, add(v, neg(yy))) for v, yy in zip(Y, y)],
                 "loss-target-dropped": [mul(Fraction(2, N), v) for v in Y]}
    elif loss == "quadratic":
        value = mul(Fraction(1, 2), add(*(mul(add(yy, neg(v)), add(yy, neg(v))) for yy, v in zip(y, Y))))
        alts = {"loss-value-half-dropped": mul(2, value), "loss-mean-for-sum": div(value, N)}
        grad = [add(v, neg(yy)) for v, yy in zip(Y, y)]
        galts = {"loss-half-dropped": [mul(2, add(v, neg(yy))) for v, yy in zip(Y, y)], "loss-target-dropped": list(Y)}
    elif loss == "cross_entropy":
        value = neg(add(*(mul(yy, log_(v)) for yy, v in zip(y, Y))))
        alts = {"loss-mean-for-sum": div(value, N)}
        grad = [neg(div(yy, v)) for yy, v in zip(y, Y)]
        galts = {}
    else:
        raise SystemExit(f"loss {loss} not in this benchmark")
    galts["gradient-sign"] = [neg(g) for g in grad]
    sh.put("forward.loss", value, alts.get(S), [f"forward.Y[{k + 1}]" for k in range(N)] + [f"problem.y[{k + 1}]" for k in range(N)])
    for k in range(N):
        sh.put(f"backward.dL_dY[{k + 1}]", grad[k], galts[S][k] if S in galts else None,
               [f"forward.Y[{k + 1}]", f"problem.y[{k + 1}]"])
    # the output layer's derivatives
    soft = p["output"] == "softmax"
    for k in range(N):
        for j in range(N):
            if not soft and j != k:
                continue
            d = Fraction(1 if j == k else 0)
            if soft:
                right = mul(Y[k], add(d, neg(Y[j])))
                alt = {"softmax-derivative-identity": d, "softmax-skipped": d,
                       "softmax-cross-term-dropped": right if j == k else Fraction(0),
                       "softmax-cross-term-sign": right if j == k else neg(right),
                       "softmax-derivative-of-O": mul(o[k], add(d, neg(o[j])))}.get(S)
            elif p["output"] == "sigmoid":
                right = mul(Y[k], add(1, neg(Y[k])))
                alt = {"sigmoid-derivative-identity": Fraction(1), "sigmoid-skipped": Fraction(1),
                       "sigmoid-derivative-of-O": mul(o[k], add(1, neg(o[k])))}.get(S)
            else:
                right, alt = d, None
            sh.put(f"backward.dY_dO[{k + 1},{j + 1}]", right, alt, [f"forward.Y[{k + 1}]", f"forward.Y[{j + 1}]"])
    for j in range(N):
        terms = [(f"backward.dY_dO[{k + 1},{j + 1}]", f"backward.dL_dY[{k + 1}]") for k in range(N) if soft or k == j]
        parts = [mul(sh.value[a], sh.value[g]) for a, g in terms]
        alt = None
        if S == f"{p['output']}-skipped-backward":
            alt = sh.value[f"backward.dL_dY[{j + 1}]"]
        if S == "one-path-only:O" and len(parts) > 1:
            alt = parts[0]
        sh.put(f"backward.dL_dO[{j + 1}]", add(*parts), alt, [x for t in terms for x in t])
    # back through the layers
    outs = "O"
    for l in range(depth, 0, -1):
        W = p["W"][l]
        H, L = names[l - 1]
        for j in range(len(W[0])):
            parts = [mul(W[i][j], sh.value[f"backward.dL_d{outs}[{i + 1}]"]) for i in range(len(W))]
            alt = None
            if S == "backward-weight-transposed" and len(W) == len(W[0]):
                alt = add(*(mul(W[j][i], sh.value[f"backward.dL_d{outs}[{i + 1}]"]) for i in range(len(W))))
            if S == "one-path-only:L" and len(parts) > 1:
                alt = parts[0]
            sh.put(f"backward.dL_d{L}[{j + 1}]", add(*parts), alt, [f"backward.dL_d{outs}[{i + 1}]" for i in range(len(W))])
        act = p["acts"][l - 1]
        f, fl = ACT[act]
        for j in range(len(W[0])):
            h, lv = sh.value[f"forward.{H}[{j + 1}]"], sh.value[f"forward.{L}[{j + 1}]"]
            right = fl(h, lv)
            alt = None
            if S == "activation-derivative-one" and act in DYING and h <= 0:
                alt = Fraction(1)
            if S == "activation-derivative-dropped" and act not in DYING and act != "identity":
                alt = Fraction(1)
            if S == "activation-derivative-of-H" and act not in DYING and act != "identity":
                alt = fl(h, h)
            sh.put(f"local.d{L}_d{H}[{j + 1}]", right, alt, [f"forward.{H}[{j + 1}]", f"forward.{L}[{j + 1}]"])
            sh.put(f"backward.dL_d{H}[{j + 1}]", mul(sh.value[f"backward.dL_d{L}[{j + 1}]"], sh.value[f"local.d{L}_d{H}[{j + 1}]"]),
                   None, [f"backward.dL_d{L}[{j + 1}]", f"local.d{L}_d{H}[{j + 1}]"])
        outs = H
    return sh


def gradients(p: dict, sh: Sheet, asked: list, slip: str | None):
    """The asked parameters' gradients, the change and the new value (as the page asks them)."""
    depth = len(p["layers"]) - 2
    names = [(f"H{l + 1}", f"L{l + 1}") if depth > 1 else ("H", "L") for l in range(depth)]
    out_of = [names[l][0] for l in range(depth)] + ["O"]
    in_of = [None] + [names[l][1] for l in range(depth)]
    pre_of = [None] + [names[l][0] for l in range(depth)]
    for name in asked:
        kind, layer = name[0], LETTERS.index(name[2])
        i = int(name[3]) - 1
        g_out = f"backward.dL_d{out_of[layer]}[{i + 1}]"
        if kind == "b":
            right, parents, alt = sh.value[g_out], [g_out], None
            if slip == "gradient-final-sign":
                alt = neg(right)
        else:
            j = int(name[4]) - 1
            inp = (lambda m: f"problem.x[{m + 1}]") if layer == 0 else (lambda m: f"forward.{in_of[layer]}[{m + 1}]")
            right = mul(sh.value[g_out], sh.value[inp(j)])
            parents = [g_out, inp(j)]
            alt = None
            if slip == "weight-wrong-end" and i != j and i < len(p["W"][layer][0]):
                alt = mul(sh.value[g_out], sh.value[inp(i)])
            if slip == "weight-gradient-pre-activation" and layer > 0:
                alt = mul(sh.value[g_out], sh.value[f"forward.{pre_of[layer]}[{j + 1}]"])
            if slip == "weight-transposed" and i != j and j < len(p["W"][layer]) and i < len(p["W"][layer][0]):
                alt = mul(sh.value[f"backward.dL_d{out_of[layer]}[{j + 1}]"], sh.value[inp(i)])
            if slip == "gradient-final-sign":
                alt = neg(right)
        gkey = f"grad.{name}"
        sh.put(gkey, right, alt, parents)
        if "descent" in p:
            w = p["W"][layer][i][j] if kind == "w" else p["b"][layer][i]
            lr, g = p["lr"], sh.value[gkey]
            change = {"descent-sign": mul(lr, g), "descent-no-rate": neg(g), "descent-no-step": Fraction(0)}.get(slip)
            sh.put(f"step.{name}", neg(mul(lr, g)), change, [gkey])
            change = sh.value[f"step.{name}"]
            sh.put(f"descent.{name}", add(w, change), add(w, neg(change)) if slip == "descent-change-subtracted" else None,
                   [f"step.{name}"])


# -- the students ----------------------------------------------------------------------------------------


def decimal_of(v) -> str | None:
    """A rational's finite decimal, or None."""
    if not isinstance(v, Fraction):
        return None
    q = v.denominator
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return None
    places = max(twos, fives)
    text = f"{abs(v) * 10 ** places // 1:0{places + 1}d}"
    body = (text[:-places] + "." + text[-places:]) if places else text
    return ("-" if v < 0 else "") + body


def sig_text(v, digits: int) -> str:
    """``v`` to ``digits`` significant digits, trailing zeros kept, positional."""
    x = M(v)
    if x == 0:
        return "0"
    e = int(mp.floor(mp.log10(abs(x))))
    scaled = mp.nint(x * mp.mpf(10) ** (digits - 1 - e))
    if abs(scaled) >= 10 ** digits:  # 9.9996 -> 10.00
        e += 1
        scaled = mp.nint(x * mp.mpf(10) ** (digits - 1 - e))
    n = int(scaled)
    places = digits - 1 - e
    if places <= 0:
        return str(n * 10 ** (-places))
    s = f"{abs(n):0{places + 1}d}"
    return ("-" if n < 0 else "") + s[:-places] + "." + s[-places:]


def typed(v, style: str) -> str:
    if style == "fraction" and isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    digits = 3 if style == "3" else 4
    text = sig_text(v, digits)
    if style == "unicode":
        text = text.replace("-", "\u2212")
    if style == "comma":
        text = text.replace(".", ",")
    return text


def value_of(text: str):
    t = text.strip().replace("\u2212", "-").replace(",", ".")
    return Fraction(t) if "/" not in t else Fraction(*map(int, t.split("/")))


def expected(text: str, true, slipped_here: bool, moved: bool, own=None, carried=None) -> str:
    """The verdict this student's blank should get (see the module's docstring). ``carried``: the step's value
    from the numbers the student wrote before it."""
    a = value_of(text)
    sig = len(text.replace("\u2212", "").replace("-", "").replace(",", ".").split("e")[0].replace(".", "").lstrip("0")) if "/" not in text else None
    t = M(true) if not isinstance(true, Fraction) else true
    if (isinstance(true, Fraction) and a == true) or (not isinstance(true, Fraction) and abs(M(a) - t) <= abs(t) / 10 ** 40):
        return "correct"
    if sig is not None and sig >= 4 and abs(M(a) - M(t)) <= M(half_unit(text)) * (1 + mp.mpf(10) ** -20):
        return "correct"
    if sig is not None and sig < 4 and not slipped_here and carried is not None and _same(a, carried):
        return "follows"  # exactly the step from the student's own short answers: an exact match before digits
    if sig is not None and 2 <= sig < 4 and t != 0:
        e = int(mp.floor(mp.log10(abs(M(t)))))
        if abs(M(a) - M(t)) <= mp.mpf(10) ** (e - sig + 1) / 2 * (1 + mp.mpf(10) ** -20):
            return "short"
    if abs(M(a) - M(t)) <= abs(M(t)) / 2000:  # within 1/2000: where every 4-digit rounding lies, always accepted
        return "correct" if sig is None or sig >= 4 else "short"  # (fewer digits: near the value, never it)
    # Within 3/1000 of the true value a slip cannot always be told from a right answer: a step is accepted
    # within 1/1000 of its value plus 1/1000 for each rounded input it takes (two, mostly). There, either
    # verdict is allowed.
    band = abs(M(a) - M(t)) <= 3 * abs(M(t)) / 1000
    if slipped_here:
        return "band-named" if band else "named"
    if moved:  # a step done right from wrong answers; at 2 or 3 digits, too few digits (unless it is exact)
        few = sig is not None and 2 <= sig < 4 and a != own
        return ("band-" if band else "") + ("few-follows" if few else "follows")
    return "wrong"


def half_unit(text: str) -> Fraction:
    t = text.replace("\u2212", "-").replace(",", ".")
    frac = t.split(".")[1] if "." in t else ""
    return Fraction(1, 2 * 10 ** len(frac))


def slips_for(p: dict) -> list:
    """The slips this backprop makes on ``p`` (one student each)."""
    out = ["weight-wrong-end", "weight-transposed", "gradient-sign", "gradient-final-sign", "one-path-only:L",
           "activation-skipped"]
    if len(p["layers"]) > 3 or True:
        out += ["linear-input-pre-activation", "weight-gradient-pre-activation"]
    if p["b"]:
        out.append("bias-left-out")
    acts = set(p["acts"])
    if acts & DYING:
        out.append("activation-derivative-one")
    if acts - DYING - {"identity"}:
        out += ["activation-derivative-dropped", "activation-derivative-of-H"]
    if any(len(W) == len(W[0]) for W in p["W"][1:]):
        out.append("backward-weight-transposed")
    o = p["output"]
    if o == "softmax":
        out += ["softmax-skipped", "softmax-unnormalised", "softmax-derivative-identity", "softmax-skipped-backward",
                "softmax-derivative-of-O", "softmax-cross-term-dropped", "softmax-cross-term-sign", "one-path-only:O"]
    elif o == "sigmoid":
        out += ["sigmoid-skipped", "sigmoid-derivative-identity", "sigmoid-skipped-backward", "sigmoid-derivative-of-O"]
    out += {"mse": ["loss-factor-1/N", "loss-factor-1", "loss-derivative-no-mean", "loss-no-mean", "loss-target-dropped"],
            "quadratic": ["loss-half-dropped", "loss-value-half-dropped", "loss-mean-for-sum", "loss-target-dropped"],
            "cross_entropy": ["loss-mean-for-sum"]}[p["loss"]]
    if "descent" in p:
        out += ["descent-sign", "descent-no-rate", "descent-no-step", "descent-change-subtracted"]
    return out


def student_sheet(p: dict, page_keys: list, asked: list, slip: str | None, style: str, n: int) -> tuple:
    """``(answers {key: text}, expected {key: (verdict, slip id or None)})`` of one student."""
    right = backprop(p)
    gradients(p, right, asked, None)
    mine = backprop(p, slip)
    gradients(p, mine, asked, slip)
    rank = {k: r for r, k in enumerate(page_keys)}
    answers, want = {}, {}
    for r, key in enumerate(page_keys):
        if style == "blanks" and r % 3 == 1:
            continue
        if style == "garbage" and r % 7 == 3:
            answers[key] = ["abc", "1/0", "--", "0.1.2", "1,234"][n % 5]
            want[key] = ("not a number", None)
            continue
        if not _real(mine.value[key]):  # the slip took the student off the reals (a log of a negative): left empty
            continue
        text = typed(mine.value[key], style)
        if style == "comma" and _ambiguous(text):
            want[key] = ("not a number", None)
        answers[key] = text
    carried = backprop(p, slip, {k: value_of(t) for k, t in answers.items() if k not in want})
    gradients(p, carried, asked, slip)
    for key, text in answers.items():
        if key in want:
            continue
        here = _slip_reached(mine, key, rank, {k for k in answers if rank[k] <= rank[key]})
        moved = any(not _same(mine.value[q], right.value[q]) for q in mine.parents[key])
        v = expected(text, right.value[key], here, moved or not _same(mine.value[key], right.value[key]), mine.value[key],
                     carried.step[key])
        if v.endswith("follows") and _no_credit(p, mine, right, key, rank, answers):
            v = "no credit"
        want[key] = (v, slip.split(":")[0] if v.endswith("named") else None)
    return answers, want


def _no_credit(p, mine, right, key, rank, written) -> bool:
    """The policy for a wrong 0: a step made trivial by a wrong earlier 0 (its value 0, or a new weight equal to
    the old one) earns no follow-through."""
    v = mine.value[key]
    zeros = [q for q in mine.parents[key] if q in written and rank.get(q, 10 ** 9) < rank[key]
             and mine.value[q] == 0 and not _same(right.value[q], 0)]
    if not zeros or _same(right.value[key], 0):
        return False
    return v == 0 or (key.startswith("descent.") and _same(v, add(right.value[key], neg(right.value["step." + key[8:]]))))


def _real(v) -> bool:
    return isinstance(v, Fraction) or (isinstance(v, mp.mpf) and mp.isfinite(v))


def _ambiguous(text: str) -> bool:
    t = text.lstrip("-\u2212")
    whole, _, frac = t.partition(",")
    return bool(frac) and whole != "0" and 1 <= len(whole) <= 3 and len(frac) == 3 and whole[0] != "0"


def _slip_reached(sh: Sheet, key: str, rank: dict, written: set) -> bool:
    """The slip acted at this blank's own step, or at a quantity between it and the blanks written before it."""
    stack, seen = [key], set()
    while stack:
        q = stack.pop()
        if q in seen:
            continue
        seen.add(q)
        if q in sh.slipped:
            return True
        for parent in sh.parents.get(q, ()):
            if parent in written and rank.get(parent, 10 ** 9) < rank[key]:
                continue  # the student wrote it before: the judge starts from there
            stack.append(parent)
    return False


def make_class(name: str, quick: bool = False) -> dict:
    """Every student of one base: ``{student id: (answers, expected)}``, and the page's keys."""
    from derivations.engine.problem import load_problem
    from derivations.engine.values import evaluate
    from derivations.teaching.handout import layout

    path = BASES[name]
    p = read_base(path)
    problem = load_problem(path)
    page_keys = list(dict.fromkeys(s.key for s in layout(evaluate(problem)).slots(given=False)))  # the page's keys only
    asked = [k[5:] for k in page_keys if k.startswith("grad.")]
    if any(k.startswith("descent.") for k in page_keys):
        p["descent"] = True
    styles = ["4", "3", "fraction", "unicode", "comma", "blanks", "garbage"]
    students = {}
    for n, style in enumerate(styles):
        students[f"{name}-clean-{style}"] = student_sheet(p, page_keys, asked, None, style, n)
    for slip in slips_for(p):
        for style in (["4"] if quick else ["4", "3"]):
            sid = f"{name}-{slip.replace('/', '_').replace(':', '_')}-{style}"
            students[sid] = student_sheet(p, page_keys, asked, slip, style, 0)
    return {"students": students, "keys": page_keys, "path": path}


# -- the three markers -----------------------------------------------------------------------------------


def given_of(verdict, mistakes: list, short: bool) -> str:
    if verdict == "not a number":
        return "not a number"
    if verdict == "wrong" and short and not mistakes:
        return "short"
    if verdict == "wrong":
        return "named" if mistakes else "wrong"
    return verdict


def run_check(base: dict) -> dict:
    from derivations.engine.problem import load_problem
    from derivations.engine.errors import ProblemError
    from derivations.teaching.check import Checker

    checker = Checker(load_problem(base["path"]))
    out = {}
    for sid, (answers, _) in base["students"].items():
        readable = {}
        marks = {}
        for k, t in answers.items():
            try:
                checker.parse({k: t})
                readable[k] = t
            except ProblemError:
                marks[k] = ("not a number", [], False)
        for k, v in (checker.check(readable) if readable else {}).items():
            marks[k] = (v.verdict, [m.name for m in v.mistakes], v.short)
            rank = checker.marking.rank
            later = [f for f in v.follows_from if rank[f] >= rank[k]]
            if later:  # follow-through from a blank not before this one on the page
                marks[k] = marks[k] + (later,)
        out[sid] = marks
    return out


def run_grade(base: dict, folder: Path) -> dict:
    from derivations.cli.grade import ROUNDED, grade
    from derivations.teaching.variant_file import variant_id

    keys = base["keys"]
    text = Path(base["path"]).read_text(encoding="utf-8")
    rows = []
    for sid in base["students"]:
        (folder / sid).mkdir(parents=True, exist_ok=True)
        (folder / sid / "problem.toml").write_text(text, encoding="utf-8")
        rows.append([sid, variant_id(text)] + ["" for _ in keys])
    with open(folder / "keys.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "variant", *keys])
        w.writerows(rows)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", lineterminator="\n")  # ';': decimal commas stay in their cells
    w.writerow(["id", *keys])
    for sid, (answers, _) in base["students"].items():
        w.writerow([sid, *(answers.get(k, "") for k in keys)])
    responses = folder / "responses.csv"
    responses.write_text(buf.getvalue(), encoding="utf-8")
    result = grade(responses, folder, workers=1)
    out = {}
    for s in result.students:
        out[s.id] = {k: (m.verdict, [x.name for x in m.mistakes if x.name != ROUNDED],  # grade names a short answer
                         any(x.name == ROUNDED for x in m.mistakes))  # as a mistake; check says short
                     for k, m in s.marks.items() if k in base["students"][s.id][0]}
    return out, result


def run_page(base: dict, browser) -> dict:
    from derivations.engine.problem import load_problem
    from derivations.engine.values import evaluate
    from derivations.outputs.selfcheck import write_page

    tmp = Path(tempfile.mkdtemp())
    path = write_page(evaluate(load_problem(base["path"])), tmp / "selfcheck.html")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    sheets = {sid: list(answers.items()) for sid, (answers, _) in base["students"].items()}
    judged = page.evaluate("""(sheets) => {
        const M = window.derivationsMarking, out = {};
        for (const [sid, cells] of Object.entries(sheets)) {
            const entries = [], marks = {};
            for (const [key, text] of cells) {
                const a = M.parse(text);
                if (typeof a === "string") marks[key] = ["not a number", [], false];
                else entries.push([key, a, text]);
            }
            const r = M.judgeSheet(entries);
            for (const [key, v] of Object.entries(r)) marks[key] = [v.verdict, v.mistakes || [], !!v.short];
            out[sid] = marks;
        }
        return out;
    }""", sheets)
    page.close()
    if errors:
        raise SystemExit(f"the self-check page failed: {errors[:3]}")
    return {sid: {k: (v[0], v[1], v[2]) for k, v in marks.items()} for sid, marks in judged.items()}


# -- the figures -----------------------------------------------------------------------------------------


def evaluate_marks(bases: dict, use_browser: bool = True) -> dict:
    """Run every marker on every base's class; the figures as a dict (the test reads it)."""
    confusion, stats = Counter(), Counter()
    disagreements = []
    started = time.time()
    browser = pw = None
    if use_browser:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    try:
        for name, base in bases.items():
            checked = run_check(base)
            with tempfile.TemporaryDirectory() as tmp:
                graded, _ = run_grade(base, Path(tmp))
            paged = run_page(base, browser) if browser else None
            for sid, (answers, want) in base["students"].items():
                for key, (exp, slip) in want.items():
                    c = checked[sid].get(key)
                    g = graded[sid].get(key)
                    v, names, short = c[:3]
                    stats["follows from a later blank"] += len(c) > 3
                    got = given_of(v, names, short)
                    gv = given_of(g[0], g[1], g[2]) if g else "absent"  # grade's own "too few digits"
                    confusion[(exp, got)] += 1
                    if not _agrees(exp, got):
                        stats.setdefault("mismatches", [])
                        stats["mismatches"].append((name, sid, key, answers.get(key), exp, got, names))
                    stats["blanks"] += 1
                    if (got, sorted(names)) != (gv, sorted(g[1] if g else [])):
                        disagreements.append(("check/grade", name, sid, key, answers.get(key), got, gv))
                    if paged is not None:
                        pv = paged[sid].get(key)
                        pgot = given_of(pv[0], pv[1], pv[2]) if pv else "absent"
                        if (got, sorted(names)) != (pgot, sorted(pv[1] if pv else [])):
                            disagreements.append(("check/page", name, sid, key, answers.get(key), (got, names), (pgot, pv and pv[1])))
                    if exp == "named" or (exp == "band-named" and got != "correct"):
                        stats["slip blanks"] += 1
                        stats["named first"] += bool(names) and (names[0] == slip or slip in names)
                        stats["named at all"] += slip in names
                        if slip not in names:
                            stats.setdefault("missed", [])
                            stats["missed"].append((name, sid, key, answers.get(key), got, names))
                    if got == "follows" and names:
                        stats["names on follows"] += 1
    finally:
        if browser:
            browser.close()
            pw.stop()
    stats["seconds"] = round(time.time() - started, 1)
    return {"confusion": confusion, "stats": stats, "disagreements": disagreements}


def _agrees(expected: str, given: str) -> bool:
    """A given verdict the expected one allows: a value within 3/1000 of the true one may be correct (the
    blank's tolerance, and its inputs' rounding) or what the slip makes it; a wrong 0's trivial step is wrong,
    unnamed."""
    if expected.startswith("band-"):  # as close as a right answer: correct (too few digits, at 2 or 3)
        return given in ("correct", "short") or _agrees(expected[5:], given)
    if expected == "few-follows":  # too few digits, or exactly the step from the rounded values written
        return given in ("short", "follows")
    if expected == "no credit":
        return given == "wrong"
    return expected == given


def report(figures: dict) -> str:
    confusion, stats = figures["confusion"], figures["stats"]
    rows = ["correct", "short", "follows", "few-follows", "band-follows", "band-few-follows", "named", "band-named",
            "no credit", "wrong", "not a number"]
    cols = ["correct", "short", "follows", "named", "wrong", "not a number", "absent"]
    lines = ["expected \\ given " + "".join(f"{c:>14}" for c in cols)]
    for r in rows:
        lines.append(f"{r:<17}" + "".join(f"{confusion.get((r, c), 0):>14}" for c in cols))
    n = stats["slip blanks"] or 1
    lines += [
        f"blanks: {stats['blanks']}, slip blanks: {stats['slip blanks']}",
        f"correct marked otherwise: {sum(v for (e, g), v in confusion.items() if e == 'correct' and g != 'correct')}",
        f"wrong marked correct: {sum(v for (e, g), v in confusion.items() if e not in ('correct',) and not e.startswith('band') and g == 'correct')}"
        f" (and {sum(v for (e, g), v in confusion.items() if e.startswith('band') and g == 'correct')} within 3/1000 of the"
        f" true value, as the precision rule allows)",
        f"verdicts not as expected: {sum(v for (e, g), v in confusion.items() if not _agrees(e, g))}",
        f"slip named first: {stats['named first']} of {stats['slip blanks']} ({100 * stats['named first'] / n:.1f}%), "
        f"named at all: {stats['named at all']} ({100 * stats['named at all'] / n:.1f}%)",
        f"mistake names on blanks that follow: {stats['names on follows']}",
        f"follow-through from a blank not before it on the page: {stats['follows from a later blank']}",
        f"disagreements check/grade/page: {len(figures['disagreements'])}",
        f"time: {stats['seconds']} s",
    ]
    for d in figures["disagreements"][:10]:
        lines.append(f"  {d}")
    for m in stats.get("mismatches", [])[:15]:
        lines.append(f"  expected otherwise: {m}")
    for m in stats.get("missed", [])[:15]:
        lines.append(f"  missed: {m}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="slips at 4 digits only")
    ap.add_argument("--no-browser", action="store_true", help="leave the self-check page out")
    ap.add_argument("--base", action="append", choices=list(BASES), help="one base (default: all three)")
    args = ap.parse_args(argv)
    bases = {name: make_class(name, args.quick) for name in (args.base or BASES)}
    print(f"students: {sum(len(b['students']) for b in bases.values())} on {len(bases)} bases")
    print(report(evaluate_marks(bases, not args.no_browser)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
