"""Numbers at the edges of float64 (issue 31): saturated units, far-left activations and huge logits, for every
output layer and loss, against an independent backprop in mpmath written here from the textbook formulas (not
the package's derivation), worked at enough digits that nothing cancels (1 − σ(200) needs 87 of them).

- the engine's exact values: every forward value, loss and gradient to 1e-40 relative of the referee;
- the JSON: every value has a number (``decimal`` always, no ``null``), its float correctly rounded;
- ``BackProp.py``: ``gradients(x, y, params)`` within 1e-9 relative of the referee where float64 can give it
  (the stable forms: log-softmax, BCE from the logits, logaddexp, σ(−O)), else within the rounding bound the
  script itself declares; run, it exits 0 and names every value it cannot give to 1e-9.

Tolerances: 1e-40 relative for the 50-digit decimals; 1e-9 relative (an absolute 1e-300 for values below
float64's normal range, which float64 cannot hold) for float64.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

from derivations import evaluate, load_problem
from derivations.cli.print import main
from derivations.outputs.export import to_python

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import limits  # noqa: E402  (benchmarks/limits.py: the worst accepted problems)

NET = ('[network]\nlayers = {layers}\nactivation = {act}\noutput = "{output}"\nloss = "{loss}"\n[data]\nx = {x}\n'
       'y = {y}\n[init]\n{init}\n')

CASES = {
    # the saturated BCE: O = 200, y = 1 (the loss 1.4e-87; JSON null and nan before)
    "sigmoid bce, O = 200, y = 1": NET.format(layers="[1, 1, 1]", act='"identity"', output="sigmoid", loss="bce",
                                              x="[1]", y="[1]", init="W_a = [[1]]\nW_b = [[200]]"),
    # the BCE against the other class: loss 40, ∂W_a 40, ∂W_b 1 (inf and nan before)
    "sigmoid bce, O = 40, y = 0": NET.format(layers="[1, 1, 1]", act='"identity"', output="sigmoid", loss="bce",
                                             x="[1]", y="[0]", init="W_a = [[1]]\nW_b = [[40]]"),
    # the softplus far left: H = −40, gradients 1.8e-35 (0 before)
    "softplus H = -40, quadratic": NET.format(layers="[1, 1, 1]", act='"softplus"', output="identity",
                                              loss="quadratic", x="[1]", y="[0]", init="W_a = [[-40]]\nW_b = [[1]]"),
    # sigmoid hidden units far left and right (L = 1e-348 underflows), two samples, sigmoid output, MSE
    "sigmoid hidden at ±800, mse, 2 samples": NET.format(
        layers="[2, 2, 1]", act='"sigmoid"', output="sigmoid", loss="mse", x="[[1, 2], [0.5, -1]]", y="[[1], [0]]",
        init="W_a = [[-800, 0], [0, 400]]\nW_b = [[0.5, -0.25]]"),
    # tanh saturated both ways (1 − tanh² = 4e-27 and 1e-130), identity output, MSE
    "tanh at 30 and -150, identity mse": NET.format(layers="[2, 2, 2]", act='"tanh"', output="identity", loss="mse",
                                                    x="[3, -1]", y="[0.5, 0.25]",
                                                    init="W_a = [[10, 0], [-50, 0]]\nW_b = [[0.3, 0.2], [-0.1, 0.4]]"),
    # logits ±300 through an identity layer: Y_2 = 2.65e-261, the loss 7e-522 (the key's "not a number")
    "softmax mse, logits ±300": NET.format(layers="[1, 1, 2]", act='"identity"', output="softmax", loss="mse",
                                           x="[300]", y="[1, 0]", init="W_a = 1\nW_b = [[1], [-1]]"),
    # the quadratic loss on a saturated softmax, biases, leaky ReLU far left
    "softmax quadratic, leaky ReLU at -500, biases": NET.format(
        layers="[2, 2, 3]", act='"leaky_relu"', output="softmax", loss="quadratic", x="[1, -2]", y="[0.2, 0.3, 0.5]",
        init="W_a = [[-100, 200], [1, 1]]\nW_b = [[1, 2], [-1, 1], [0.5, 0]]\nb_a = [0, 1.5]\nb_b = [0, 0, 250]"
    ).replace("[data]", "bias = true\n[data]"),
    # a sigmoid output at 60 with the quadratic loss and y = 1 (Y − y computed from the logits: no 1 − Y)
    "sigmoid quadratic, O = 60, y = 1": NET.format(layers="[1, 2, 1]", act='"relu"', output="sigmoid",
                                                   loss="quadratic", x="[2]", y="[1]",
                                                   init="W_a = [[10], [5]]\nW_b = [[2, 2]]"),
}


def _ce6():
    """The issue's 6-7-6-5-4-3 ReLU network with cross-entropy and logits (−860, 47, 45) against the first
    class: ∇Y_1 = −y_1/Y_1 is about −9e393, beyond float64 (the export refused it before), the gradients are
    not."""
    import random
    from fractions import Fraction as F

    rng = random.Random(6)
    layers = [6, 7, 6, 5, 4, 3]
    x = [F(rng.randint(1, 9), 10) for _ in range(6)]
    Ws, v = [], x
    for l in range(4):
        W = [[F(rng.randint(1, 9), 10) for _ in range(layers[l])] for _ in range(layers[l + 1])]
        Ws.append(W)
        v = [max(sum(W[i][j] * v[j] for j in range(len(v))), F(0)) for i in range(len(W))]
    norm = sum(e * e for e in v)
    Ws.append([[F(round(t * e / norm * 100), 100) for e in v] for t in (-860, 47, 45)])
    fmt = lambda M: "[" + ", ".join("[" + ", ".join(f'"{e}"' for e in r) + "]" for r in M) + "]"  # noqa: E731
    init = "\n".join(f"W_{'abcde'[l]} = {fmt(W)}" for l, W in enumerate(Ws))
    return NET.format(layers=layers, act='"relu"', output="softmax", loss="cross_entropy",
                      x="[" + ", ".join(f'"{e}"' for e in x) + "]", y="[1, 0, 0]", init=init)


CASES["6-7-6-5-4-3 cross-entropy, logits -860"] = _ce6()

# the stable forms: float64 gives every gradient of these to 1e-9 (or below its normal range, to 1e-300); the
# saturated softmaxes under MSE and the quadratic loss keep the handout's Y_k(1 − Y_k), which cancels
STABLE = {"sigmoid bce, O = 200, y = 1", "sigmoid bce, O = 40, y = 0", "softplus H = -40, quadratic",
          "6-7-6-5-4-3 cross-entropy, logits -860", "tanh at 30 and -150, identity mse",
          "sigmoid hidden at ±800, mse, 2 samples", "sigmoid quadratic, O = 60, y = 1"}


# -- the referee ---------------------------------------------------------------------------------------------


def _mp(v):
    return mpmath.mpf(int(v.p)) / int(v.q)


ACT = {
    "relu": (lambda h: h if h > 0 else mpmath.mpf(0), lambda h, l: mpmath.mpf(1 if h > 0 else 0)),
    "leaky_relu": (lambda h: h if h > 0 else h / 100, lambda h, l: mpmath.mpf(1) if h > 0 else mpmath.mpf(1) / 100),
    "sigmoid": (lambda h: 1 / (1 + mpmath.exp(-h)), lambda h, l: l * (1 - l)),
    "tanh": (mpmath.tanh, lambda h, l: 1 - l * l),
    "softplus": (lambda h: mpmath.log(1 + mpmath.exp(h)), lambda h, l: 1 / (1 + mpmath.exp(-h))),
    "identity": (lambda h: h, lambda h, l: mpmath.mpf(1)),
}


def referee(p, dps: int, backward: bool = True) -> dict:
    """Backprop in mpmath at ``dps`` digits, from the textbook formulas: ``{"pre": per sample, each layer's
    pre-activations, "Y": per sample, "loss": the mean, "W_a": [[...]], "b_a": [...]}`` (the forward pass only,
    ``pre``, without ``backward``)."""
    with mpmath.workdps(dps):
        Ws = [[[_mp(e) for e in W.row(i)] for i in range(W.rows)] for W in p.weights]
        bs = [[_mp(e) for e in b] for b in p.biases] if p.bias else [[mpmath.mpf(0)] * len(W) for W in Ws]
        gW = [[[mpmath.mpf(0)] * len(W[0]) for _ in W] for W in Ws]
        gb = [[mpmath.mpf(0)] * len(W) for W in Ws]
        out = {"loss": mpmath.mpf(0), "Y": [], "pre": []}
        S, depth = p.n_samples, len(Ws) - 1
        for x, y in zip(p.xs, p.ys):
            v, ins, pre, post = [_mp(e) for e in x], [], [], []
            for l, (W, b) in enumerate(zip(Ws, bs)):
                ins.append(v)
                h = [mpmath.fsum(W[i][j] * v[j] for j in range(len(v))) + b[i] for i in range(len(W))]
                pre.append(h)
                v = [ACT[p.activations[l]][0](e) for e in h] if l < depth else h
                post.append(v)
            out["pre"].append(pre)
            if not backward:
                continue
            O, y = v, [_mp(e) for e in y]
            n = len(O)
            if p.output == "softmax":
                e = [mpmath.exp(o - max(O)) for o in O]
                Y = [u / mpmath.fsum(e) for u in e]
                J = [[Y[k] * ((k == j) - Y[j]) for j in range(n)] for k in range(n)]
            elif p.output == "sigmoid":
                Y = [1 / (1 + mpmath.exp(-o)) for o in O]
                J = [[Y[k] * (1 - Y[k]) if k == j else 0 for j in range(n)] for k in range(n)]
            else:
                Y, J = list(O), [[mpmath.mpf(k == j) for j in range(n)] for k in range(n)]
            if p.loss == "mse":
                loss, dY = mpmath.fsum((y[i] - Y[i]) ** 2 for i in range(n)) / n, [2 * (Y[i] - y[i]) / n for i in range(n)]
            elif p.loss == "quadratic":
                loss, dY = mpmath.fsum((y[i] - Y[i]) ** 2 for i in range(n)) / 2, [Y[i] - y[i] for i in range(n)]
            elif p.loss == "cross_entropy":
                loss, dY = -mpmath.fsum(y[i] * mpmath.log(Y[i]) for i in range(n) if y[i]), [-y[i] / Y[i] for i in range(n)]
            else:  # bce
                loss = mpmath.fsum(-(y[i] * mpmath.log(Y[i]) if y[i] else 0) - ((1 - y[i]) * mpmath.log(1 - Y[i]) if y[i] != 1 else 0)
                                   for i in range(n)) / n
                dY = [(Y[i] - y[i]) / (Y[i] * (1 - Y[i])) / n for i in range(n)]
            out["loss"] += loss / S
            out["Y"].append(Y)
            g = [mpmath.fsum(J[k][j] * dY[k] for k in range(n)) for j in range(n)]  # ∇O
            for l in range(depth, -1, -1):
                for i in range(len(g)):
                    gb[l][i] += g[i] / S
                    for j in range(len(ins[l])):
                        gW[l][i][j] += g[i] * ins[l][j] / S
                if l:
                    back = [mpmath.fsum(Ws[l][i][j] * g[i] for i in range(len(g))) for j in range(len(ins[l]))]
                    g = [back[j] * ACT[p.activations[l - 1]][1](pre[l - 1][j], post[l - 1][j]) for j in range(len(back))]
        for l in range(depth + 1):
            out[f"W_{'abcde'[l]}"] = gW[l]
            if p.bias:
                out[f"b_{'abcde'[l]}"] = gb[l]
        return out


def reference(p) -> dict:
    """The referee at enough digits: 60 more than the largest pre-activation cancels (1 − σ(h) and 1 − tanh²(h)
    lose 0.87·|h| digits at most), checked against a run at twice the digits."""
    rough = referee(p, 30, backward=False)
    largest = max([abs(h) for pre in rough["pre"] for layer in pre for h in layer] + [mpmath.mpf(1)])
    dps = 80 + int(0.87 * largest)
    return referee(p, dps)


# -- the problems, evaluated once ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(CASES), ids=lambda c: c.replace(" ", "_"))
def case(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("edge") / "problem.toml"
    path.write_text(CASES[request.param])
    p = load_problem(path)
    return request.param, path, p, evaluate(p), reference(p)


def _close(got, want, rel) -> bool:
    return abs(got - want) <= rel * abs(want)


def test_exact_values_match_the_referee(case):
    name, _, p, values, ref = case
    with mpmath.workdps(60):
        tol = mpmath.mpf("1e-40")
        loss = mpmath.mpf(values.decimal(values.forward["loss"])._mpf_)
        assert _close(loss, ref["loss"], tol), (name, "loss", loss, ref["loss"])
        for s in range(p.n_samples):
            Y = values.sample("forward", "Y", s)
            for k, y in enumerate(Y):
                got = mpmath.mpf(values.decimal(y)._mpf_)
                assert _close(got, ref["Y"][s][k], tol), (name, "Y", s, k, got, ref["Y"][s][k])
        for matrix, m in values.gradients.items():
            want = ref[matrix]
            for i in range(m.rows):
                for j in range(m.cols):
                    w = want[i][j] if matrix.startswith("W") else want[i]
                    got = mpmath.mpf(values.decimal(m[i, j])._mpf_)
                    assert _close(got, w, tol), (name, matrix, i, j, mpmath.nstr(got, 15), mpmath.nstr(w, 15))


def test_json_gives_every_value_a_number(case, capsys):
    name, path, p, values, ref = case
    assert main(["--config", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)

    def entries(x):
        if isinstance(x, dict) and "value" in x:
            yield x
        elif isinstance(x, dict):
            for v in x.values():
                yield from entries(v)
        elif isinstance(x, list):
            for v in x:
                yield from entries(v)

    every = list(entries({k: data[k] for k in ("forward", "backward", "gradients")}))
    assert every and all(isinstance(e["value"], float) and np.isfinite(e["value"]) and e["decimal"] for e in every)
    for matrix in values.gradients:
        for i, row in enumerate(data["gradients"][matrix]):
            for j, entry in enumerate(row if isinstance(row, list) else [row]):
                want = ref[matrix][i][j] if matrix.startswith("W") else ref[matrix][i]
                assert _close(mpmath.mpf(entry["decimal"]), want, mpmath.mpf("1e-15")), (matrix, i, j, entry)
                if entry.get("float64") is None:
                    assert entry["value"] == float(want)  # correctly rounded
                else:
                    assert entry["float64"] == ("underflow" if abs(want) < 2.2250738585072014e-308 else "overflow")


def _script(values, tmp_path):
    path = tmp_path / "BackProp.py"
    path.write_text(to_python(values), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"edge_{abs(hash(str(tmp_path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module


def test_backprop_py_gradients_match_the_referee(case, tmp_path):
    name, _, p, values, ref = case
    path, script = _script(values, tmp_path)
    x, y, params = script.problem()
    one = p.n_samples == 1
    got = script.gradients(x[0] if one else x, y[0] if one else y, params)
    declared = script.ROUNDING
    for matrix in values.gradients:
        g = np.reshape(got[matrix], (len(ref[matrix]), -1))
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                want = ref[matrix][i][j] if matrix.startswith("W") else ref[matrix][i]
                error = abs(mpmath.mpf(float(g[i, j])) - want)
                if abs(want) < mpmath.mpf("2.2250738585072014e-308"):
                    allowed = mpmath.mpf("1e-300")  # below float64's normal range: it cannot hold it
                elif name in STABLE:
                    allowed = mpmath.mpf("1e-9") * abs(want)
                else:  # within the bound the script declares for it, or to 1e-9
                    bound = declared.get("dL_d" + matrix, {}).get((i, j), 0)
                    allowed = max(mpmath.mpf("1e-9") * abs(want), 2 * mpmath.mpf(bound))
                assert error <= allowed, (name, matrix, i, j, float(g[i, j]), mpmath.nstr(want, 12))
    loss_bound = 0 if name in STABLE else declared.get("loss", {}).get((), 0)
    assert abs(mpmath.mpf(got["loss"]) - ref["loss"]) <= max(mpmath.mpf("1e-9") * ref["loss"], 2 * mpmath.mpf(loss_bound),
                                                              mpmath.mpf("1e-300")), (name, got["loss"], ref["loss"])


def test_backprop_py_checks_itself_and_names_what_float64_cannot_give(case, tmp_path):
    name, _, p, values, ref = case
    path, script = _script(values, tmp_path)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.stderr == "", run.stderr  # no overflow warning: the stable forms, and errstate where shown only
    assert "Self-check passed" in run.stdout and "the largest relative error" in run.stdout
    for key, entries in list(script.ROUNDING.items())[:2]:  # named, as the check reads them: 1-based
        index = next(iter(entries))
        assert "value(s) may be further than rtol 1e-09" in run.stdout
        assert key + (str([i + 1 for i in index]) if index else "") + " = " in run.stdout


def test_the_self_check_fails_a_naive_softplus(tmp_path):
    """softplus(−40) as ln(1 + e^(−40)) is 0 in float64, and so are the gradients whose truth is 1.8e-35: the
    self-check, relative, fails them (its old absolute 1e-12 passed them)."""
    path = tmp_path / "p.toml"
    path.write_text(CASES["softplus H = -40, quadratic"])
    script = to_python(evaluate(load_problem(path)))
    assert "return np.logaddexp(0, H)" in script
    naive = tmp_path / "naive.py"
    naive.write_text(script.replace("return np.logaddexp(0, H)", "return np.log(1 + np.exp(H))"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(naive)], capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert run.returncode == 1 and "Self-check FAILED" in run.stdout
    assert "dL_dW_b[1, 1]: got 0.0, expected 1.80485e-35" in run.stdout
    assert "dL_dW_a[1, 1]: got 0.0, expected" in run.stdout


def test_a_needed_value_beyond_float64_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    """No accepted problem has one (numbers are at most 1e6 in size), so float64's range is made 1000 here: the
    pre-activation H_1 ≈ 1.4e6 of the 3-4-2 limit case, which every gradient needs, is then refused."""
    from derivations.outputs import export

    name = "3-4-2 sigmoid, x = 1e6, 60-digit weights"
    path = limits.write(tmp_path, name, *limits.CASES[name])
    monkeypatch.setattr(export, "FLOAT64_MAX", 1000.0)
    out = tmp_path / "s.py"
    assert main(["--config", str(path), "--format", "python", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "H[1, 1] is about 1e6, beyond its range" in err and not out.exists()



def test_the_worked_solution_and_its_theorems_run(case, capsys):
    """The worked solution with every theorem, whose training run (30-digit mpmath) divided by a 1 − Y of 0
    on the saturated BCE before; no nan anywhere."""
    name, path, p, values, ref = case
    assert main(["--config", str(path), "--theorems"]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"\bnan\b", out)


def test_the_checker_marks_the_saturated_answers_correct(tmp_path, capsys):
    """The saturated BCE's right answers, to 4 digits, each correct (the checker compared with nan before)."""
    from derivations.cli.check import main as check

    path = tmp_path / "p.toml"
    path.write_text(CASES["sigmoid bce, O = 200, y = 1"])
    answers = tmp_path / "answers.toml"
    answers.write_text('[answers]\n"forward.Y[1]" = "1.000"\n"forward.loss" = "1.384e-87"\n"backward.dL_dY[1]" = "-1.000"\n'
                       '"backward.dY_dO[1,1]" = "1.384e-87"\n"backward.dL_dO[1]" = "-1.384e-87"\n'
                       '"grad.w_b11" = "-1.384e-87"\n"grad.w_a11" = "-2.768e-85"\n')
    assert check([str(answers), "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "7 of 7 correct" in out and "nan" not in out


def test_the_answer_key_gives_every_blank_a_number(case, capsys):
    """The answer key of every page-sized edge problem (6-7-6-5-4-3 is past the page's 6 units: one line, exit
    2): every blank filled, no nan (the saturated BCE's key stopped on a NaN comparison before)."""
    name, path, p, values, ref = case
    code = main(["--config", str(path), "--key"])
    out, err = capsys.readouterr()
    if max(p.layers) > 6:
        assert code == 2 and err.count("\n") == 1 and "at most 6 units" in err
        return
    assert code == 0 and not re.search(r"\bnan\b", out) and "____" not in out
