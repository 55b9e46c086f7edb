"""Exact zeros and tiny values: a dead unit's product, a one-hot cross-entropy target and an underflow are
exported and self-checked; every JSON float is the exact value correctly rounded (checked against a 60-digit
mpmath backprop written apart from the tool, to 1e-9 relative), and values outside float64 carry text."""

import subprocess
import sys

import mpmath
import pytest

from derivations import evaluate, load_problem
from derivations.outputs.export import to_python
from derivations.outputs.render import to_json_dict

NET = '[network]\nlayers = {layers}\nactivation = {act}\nloss = "{loss}"\n[data]\nx = {x}\ny = {y}\n[init]\n{init}\n'

EXACT_ZEROS = {
    "dead ReLU": NET.format(layers="[2, 2, 2]", act='"relu"', loss="cross_entropy", x="[1, 2]", y="[1, 0]",
                            init="W_a = [[-1, -1], [0.5, 0.3]]\nW_b = [[0.2, -0.4], [0.7, 0.1]]"),
    "one-hot target, sigmoid then dead ReLU": NET.format(
        layers="[2, 3, 3, 2]", act='["sigmoid", "relu"]', loss="cross_entropy", x="[1, 2]", y="[0, 1]",
        init="W_a = [[-1, -1], [0.5, 0.3], [0.2, 0.1]]\nW_b = [[-0.2, -0.4, -0.1], [0.7, 0.1, 0.3], [0.5, -0.5, 0.2]]\n"
             "W_c = [[0.2, -0.4, 0.3], [0.7, 0.1, -0.3]]"),
    "underflow of 1 - Y": NET.format(layers="[2, 2, 2]", act='"sigmoid"', loss="mse", x="[1, 2]", y="[1, 0]",
                                     init="W_a = [[-1, -1], [0.5, 0.3]]\nW_b = [[90, -90], [-90, 90]]"),
}
# Gradients around 1e-50 to 1e-75: the softmax saturated by large logits, against a one-hot target.
TINY = {
    "tiny, cross-entropy": NET.format(layers="[2, 2, 2]", act='"sigmoid"', loss="cross_entropy", x="[1, 2]", y="[1, 0]",
                                      init="W_a = [[0.5, 0.25], [-0.5, 0.75]]\nW_b = [[90, 80], [-90, -80]]"),
    "tiny, tanh MSE": NET.format(layers="[2, 2, 2]", act='"tanh"', loss="mse", x="[3, 2]", y="[0, 1]",
                                 init="W_a = [[0.5, 0.25], [-0.5, 0.75]]\nW_b = [[-90, -80], [90, 80]]"),
}


def _problem(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load_problem(path)


@pytest.mark.parametrize("case", EXACT_ZEROS)
def test_exact_zero_problems_export_and_self_check(tmp_path, case):
    values = evaluate(_problem(tmp_path, EXACT_ZEROS[case]))
    script = tmp_path / "BackProp.py"
    script.write_text(to_python(values))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Self-check passed" in out.stdout


def test_a_dead_units_gradients_are_exactly_zero(tmp_path):
    values = evaluate(_problem(tmp_path, EXACT_ZEROS["one-hot target, sigmoid then dead ReLU"]))
    W_c = values.gradients["W_c"]
    assert [W_c[i, 0] for i in range(2)] == [0, 0] and all(e.is_Rational for e in W_c[:, 0])


# -- an independent reference: the backprop in 60-digit mpmath, from the textbook formulas --------------

ACT = {"sigmoid": (lambda h: 1 / (1 + mpmath.exp(-h)), lambda h, l: l * (1 - l)),
       "tanh": (mpmath.tanh, lambda h, l: 1 - l * l),
       "relu": (lambda h: h if h > 0 else mpmath.mpf(0), lambda h, l: mpmath.mpf(1 if h > 0 else 0))}


def reference(p) -> dict:
    """``{"O": [...], "Y": [...], "W_a": [[...]], ...}`` for a one-sample problem, good to 60 digits: worked
    at 400 digits, since Y - y cancels about 110 digits here (1 - Y is around 1e-107)."""
    mpmath.mp.dps = 400
    num = lambda v: mpmath.mpf(int(v.p)) / int(v.q)  # noqa: E731
    Ws = [[[num(e) for e in W.row(i)] for i in range(W.rows)] for W in p.weights]
    v, pre, post = [num(e) for e in p.xs[0]], [], []
    for l, W in enumerate(Ws):
        h = [mpmath.fsum(W[i][j] * v[j] for j in range(len(v))) for i in range(len(W))]
        pre.append(h)
        v = [ACT[p.activations[l]][0](e) for e in h] if l < len(Ws) - 1 else h
        post.append(v)
    O, y = v, [num(e) for e in p.ys[0]]
    m = max(O)
    e = [mpmath.exp(o - m) for o in O]
    Y = [u / mpmath.fsum(e) for u in e]
    n = len(Y)
    if p.loss == "mse":
        dY = [2 * (Y[k] - y[k]) / n for k in range(n)]
        g = [mpmath.fsum(dY[k] * Y[k] * ((k == j) - Y[j]) for k in range(n)) for j in range(n)]
    else:
        g = [Y[j] * mpmath.fsum(y) - y[j] for j in range(n)]  # softmax and cross-entropy together
    out = {"O": O, "Y": Y}
    ins = [[num(e) for e in p.xs[0]]] + post[:-1]
    for l in range(len(Ws) - 1, -1, -1):
        out[f"W_{'abcd'[l]}"] = [[g[i] * ins[l][j] for j in range(len(ins[l]))] for i in range(len(g))]
        if l:
            back = [mpmath.fsum(Ws[l][i][j] * g[i] for i in range(len(g))) for j in range(len(ins[l]))]
            g = [back[j] * ACT[p.activations[l - 1]][1](pre[l - 1][j], post[l - 1][j]) for j in range(len(back))]
    return out


def _close(entry, want) -> bool:
    got = entry.get("decimal") or entry["value"]
    got = mpmath.mpf(got) if isinstance(got, str) else mpmath.mpf(got)
    return abs(got - want) <= mpmath.mpf("1e-9") * abs(want) if want else got == 0


@pytest.mark.parametrize("case", TINY)
def test_json_floats_of_tiny_values_match_a_60_digit_reference(tmp_path, case):
    p = _problem(tmp_path, TINY[case])
    data = to_json_dict(evaluate(p))
    want = reference(p)
    smallest = min(abs(e) for name in ("W_a", "W_b") for row in want[name] for e in row)
    assert smallest < mpmath.mpf("1e-49")  # the case is what it claims
    for key in ("O", "Y"):
        for k, w in enumerate(want[key]):
            assert _close(data["forward"][key][k], w), (key, k, data["forward"][key][k], w)
    for name in ("W_a", "W_b"):
        for i, row in enumerate(want[name]):
            for j, w in enumerate(row):
                entry = data["gradients"][name][i][j]
                assert _close(entry, w), (name, i, j, entry, mpmath.nstr(w, 12))
                assert entry["value"] == float(w)  # correctly rounded (60 digits: no tie in sight)


def test_values_beyond_float64_carry_their_decimal_and_the_script_does_without_them(tmp_path):
    """Logits 1000 apart under cross-entropy: ∇Y_1 = −y_1/Y_1 is about −1e434 and Y_1 about 1e-434. The JSON
    gives both their decimal and a flagged float; the script computes ∇O from the logits, so it needs neither,
    exports, and its self-check names them."""
    text = EXACT_ZEROS["underflow of 1 - Y"].replace('"mse"', '"cross_entropy"').replace("90", "1000")
    path = tmp_path / "huge.toml"
    path.write_text(text)
    values = evaluate(load_problem(path))
    data = to_json_dict(values)
    big = data["backward"]["dL_dY"][0]
    assert big["value"] == -1.7976931348623157e308 and big["float64"] == "overflow"
    assert big["decimal"].startswith("-") and int(big["decimal"].split("e+")[1]) > 308
    tiny = data["forward"]["Y"][0]
    assert tiny["value"] == 0.0 and tiny["float64"] == "underflow" and float(tiny["decimal"].split("e")[0]) != 0
    script = tmp_path / "s.py"
    script.write_text(to_python(values))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    assert "Self-check passed" in out.stdout and "dL_dY[1, 1] = -" in out.stdout
    assert "beyond float64's range (float64 gives -inf); the gradients do not use it" in out.stdout


def test_a_value_whose_decimal_is_0_is_not_called_an_underflow(tmp_path):
    """Equal rows of W_b under a softmax: ∇L_j = c_j·Σ_i ∇O_i, a sum of exp terms that cancels. Its JSON is 0.0
    with no "underflow", which would claim a nonzero value that float64 lost (it is exactly 0 now, by the
    softmax lemma: test_equal_rows_of_the_last_weights_make_the_first_layers_gradient_exactly_0); a nonzero value
    below float64's range keeps the claim."""
    from sympy import Rational

    from derivations.outputs.render import number

    text = NET.format(layers="[2, 2, 2]", act='"relu"', loss="mse", x="[1, 2]", y="[1, 0]",
                      init="W_a = [[0.5, 0.3], [0.2, 0.1]]\nW_b = [[0.2, -0.4], [0.2, -0.4]]\nb_a = [0, 0]\nb_b = [0.2, 0.3]")
    values = evaluate(_problem(tmp_path, text.replace('loss = "mse"', 'loss = "mse"\nbias = true')))  # O_1 ≠ O_2
    dL_dL = values.backward["dL_dL"][0]
    assert dL_dL == 0 and values.decimal(dL_dL).is_zero
    entry = to_json_dict(values)["backward"]["dL_dL"][0]
    assert entry["exact"] == "0" and entry["value"] == 0.0 and entry["decimal"] == "0.0" and "float64" not in entry
    assert number(Rational(1, 10 ** 320))["float64"] == "underflow"


DEAD = NET.format(layers="[3, 4, 2]", act='"relu"', loss="mse", x="[0.9, 0.5, 0.1]", y="[1, 0]",
                  init="W_a = [[0.1, 0.2, 0.3], [0.2, 0.1, 0.4], [0.3, 0.3, 0.1], [0.1, 0.4, 0.2]]\n"
                       "W_b = [[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]]\n"
                       "b_a = [0.1, 0.1, 0.1, 0.1]\nb_b = [0.1, 0.3]").replace("[network]", "[network]\nbias = true")


def _dead_loss(Wa, ba):
    """The DEAD problem's loss written out apart from the tool (mpmath): ReLU, softmax, MSE over 2 outputs."""
    x, Wb, bb = [mpmath.mpf(t) for t in ("0.9", "0.5", "0.1")], [[mpmath.mpf(t) / 10 for t in (1, 2, 3, 4)]] * 2, (
        mpmath.mpf("0.1"), mpmath.mpf("0.3"))
    L = [max(sum(w * v for w, v in zip(row, x)) + b, 0) for row, b in zip(Wa, ba)]
    O = [sum(w * v for w, v in zip(row, L)) + b for row, b in zip(Wb, bb)]
    e = [mpmath.exp(o) for o in O]
    Y = [t / sum(e) for t in e]
    return ((1 - Y[0]) ** 2 + Y[1] ** 2) / 2


def test_equal_rows_of_the_last_weights_make_the_first_layers_gradient_exactly_0(tmp_path):
    """Equal rows of W_b under a softmax (its biases differ, so the logits and Y do): every ∇L_j = c_j·Σ_i ∇O_i
    is 0 by the softmax lemma (proved), so ∂ℒ/∂W_a and ∂ℒ/∂b_a are exactly 0, not decimals that cancel to
    '≈ 0.0'; mpmath central differences of the loss written apart agree (below 1e-30), and ∂ℒ/∂W_b is not 0."""
    path = tmp_path / "dead.toml"
    path.write_text(DEAD, encoding="utf-8")
    v = evaluate(load_problem(path))
    assert all(g == 0 for g in v.gradients["W_a"]) and all(g == 0 for g in v.gradients["b_a"])
    assert all(g != 0 for g in v.gradients["W_b"])
    data = to_json_dict(v, [])
    assert {e["exact"] for row in data["gradients"]["W_a"] for e in row} == {"0"}
    with mpmath.workdps(50):
        Wa = [[mpmath.mpf(t) for t in row] for row in ([".1", ".2", ".3"], [".2", ".1", ".4"], [".3", ".3", ".1"], [".1", ".4", ".2"])]
        ba, h = [mpmath.mpf("0.1")] * 4, mpmath.mpf("1e-15")
        for i in range(4):
            for j in range(3):
                up = [row[:] for row in Wa]
                down = [row[:] for row in Wa]
                up[i][j] += h
                down[i][j] -= h
                assert abs((_dead_loss(up, ba) - _dead_loss(down, ba)) / (2 * h)) < mpmath.mpf("1e-30"), (i, j)
