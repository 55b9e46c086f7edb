"""BackProp.py, the exported NumPy script: its ``gradients`` against the independent NumPy backprop of
test_numeric (on the problem's numbers and on others) and the engine's exact values; run, it checks itself
and exits 0, a corrupted expected table makes it fail, ``--train`` shows the constant init's symmetry, and no
value derived for its problem appears outside the expected-values table.

Tolerance: float64 against exact or independent float64 values, 1e-9 relative, 1e-12 absolute (as
test_numeric's NumPy oracle and the script's own self-check)."""

import importlib.util
import py_compile
import re
import subprocess
import sys

import numpy as np
import pytest

from derivations import derive, evaluate
from derivations.cli.print import main
from derivations.outputs.export import TABLE_BEGIN, TABLE_END, to_python

from conftest import random_problem
from test_numeric import numpy_backprop

RTOL, ATOL = 1e-9, 1e-12

CASES = [  # (seed, layers, activation, loss, bias, samples, output): depths 1-3, every activation, every output and loss
    (101, (3, 4, 2), "relu", "mse", False, 1, "softmax"),
    (102, (2, 3, 3), "leaky_relu", "cross_entropy", True, 1, "softmax"),
    (103, (3, 2, 3), "sigmoid", "mse", False, 2, "softmax"),
    (104, (2, 3, 2, 2), "tanh", "cross_entropy", True, 1, "softmax"),
    (105, (2, 2, 3, 2), "softplus", "mse", False, 2, "softmax"),
    (106, (2, 2, 2, 2, 3), "identity", "cross_entropy", True, 2, "softmax"),
    (107, (3, 3, 2, 2), ("relu", "sigmoid"), "mse", True, 3, "softmax"),
    (108, (2, 3, 1), "tanh", "bce", True, 2, "sigmoid"),
    (109, (2, 2, 3), "sigmoid", "quadratic", True, 1, "sigmoid"),
    (110, (3, 3, 2, 1), "relu", "mse", False, 2, "identity"),
    (111, (2, 3, 2), "softplus", "quadratic", False, 1, "softmax"),
]


def _id(case):
    seed, layers, act, loss, bias, samples, output = case
    act = act if isinstance(act, str) else "+".join(act)
    return (f"{'-'.join(map(str, layers))}{'-bias' if bias else ''}{f'-x{samples}' if samples > 1 else ''}-{act}"
            f"{'' if output == 'softmax' else '-' + output}-{loss}")


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _floats(p):
    """A problem's numbers as the script takes them: x, y (one sample or a batch) and params."""
    x = np.array([[float(v) for v in s] for s in p.xs])
    y = np.array([[float(v) for v in s] for s in p.ys])
    if p.n_samples == 1:
        x, y = x[0], y[0]
    params = {n: (np.array(m.tolist(), dtype=float) if n.startswith("W") else np.array([float(v) for v in m]))
              for n, m in p.params().items()}
    return x, y, params


def _assert_matches_oracle(script, p):
    x, y, params = _floats(p)
    got = script.gradients(x, y, params)
    ref = numpy_backprop(p)
    assert set(got) == set(ref) | {"loss"}
    for name, want in ref.items():
        np.testing.assert_allclose(np.reshape(got[name], want.shape), want, rtol=RTOL, atol=ATOL, err_msg=name)
        assert np.shape(got[name]) == np.shape(params[name]), f"{name}: the gradient has the parameter's shape"


@pytest.fixture(scope="module")
def handout_script(tmp_path_factory):
    path = tmp_path_factory.mktemp("handout") / "BackProp.py"
    assert main(["--format", "python", "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module", params=CASES, ids=_id)
def exported(request, tmp_path_factory):
    seed, layers, act, loss, bias, samples, output = request.param
    p = random_problem(seed, layers, act, loss, bias, samples, output)
    values = evaluate(derive(p))
    path = tmp_path_factory.mktemp("export") / "BackProp.py"
    path.write_text(to_python(values), encoding="utf-8")
    return request.param, p, values, path, _import(path, f"backprop_{seed}")


def test_gradients_match_numpy_backprop_on_the_problems_numbers(exported):
    _, p, _, _, script = exported
    _assert_matches_oracle(script, p)


def test_gradients_match_numpy_backprop_on_other_numbers(exported):
    """The script is a function of any numbers: other params, x and y (from another seed, and another batch
    size) than the ones it was generated from."""
    (seed, layers, act, loss, bias, samples, output), _, _, _, script = exported
    for other_seed, other_samples in ((seed + 1000, samples), (seed + 2000, 3 if samples == 1 else 1)):
        _assert_matches_oracle(script, random_problem(other_seed, layers, act, loss, bias, other_samples, output))


def test_gradients_match_the_engines_exact_values(exported):
    _, p, values, _, script = exported
    x, y, params = _floats(p)
    got = script.gradients(x, y, params)
    for name, m in values.gradients.items():
        want = np.array([[float(values.decimal(e)) for e in row] for row in m.tolist()])
        np.testing.assert_allclose(np.reshape(got[name], want.shape), want, rtol=RTOL, atol=ATOL, err_msg=name)
    assert got["loss"] == pytest.approx(float(values.decimal(values.forward["loss"])), rel=RTOL, abs=ATOL)


def test_exported_script_checks_itself(exported):
    _, _, _, path, _ = exported
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, encoding="utf-8", timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Self-check passed" in run.stdout


def test_handout_script_prints_the_steps_and_three_gradients(handout_script):
    run = subprocess.run([sys.executable, str(handout_script)], capture_output=True, text=True, encoding="utf-8", timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    for k in range(1, 6):
        assert f"Step {k}:" in out
    assert "H = (0.15, 0.15, 0.15, 0.15)ᵀ" in out and "ℒ = 0.25" in out
    assert "∂ℒ/∂w^b_11 = -0.0375 " in out
    assert "∂ℒ/∂w^b_21 = 0.0375 " in out
    assert "∂ℒ/∂w^a_11 = 0 " in out
    assert "Self-check passed" in out and "rtol 1e-09" in out


def test_corrupted_expected_table_fails(handout_script, tmp_path):
    text = handout_script.read_text(encoding="utf-8")
    bad = text.replace("Fraction(3, 80)", "Fraction(3, 79)", 1)
    assert bad != text
    path = tmp_path / "BackProp.py"
    path.write_text(bad, encoding="utf-8")
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, encoding="utf-8", timeout=30)
    assert run.returncode == 1
    assert "Self-check FAILED: 1 value(s)" in run.stdout and "dL_dW_b[2, 1]" in run.stdout


def test_train_keeps_the_hidden_units_identical_under_constant_init(handout_script):
    run = subprocess.run([sys.executable, str(handout_script), "--train", "20", "--lr", "0.5"],
                         capture_output=True, text=True, encoding="utf-8", timeout=30)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("step")]
    assert lines and all(line.endswith("spread 0") for line in lines), run.stdout
    assert "after 20 steps, spread 0: the hidden units are still identical" in run.stdout
    losses = [float(re.search(r"loss (\S+)", line).group(1)) for line in lines]
    assert losses[-1] < losses[0], "gradient descent lowers the loss"


@pytest.mark.parametrize("argv,expected", [
    (["--train", "-1"], "--train: expected a whole number"),
    (["--train", "3", "--lr", "abc"], "--lr: expected a positive number"),
    (["--train", "3", "--lr", "nan"], "--lr: expected a positive number"),
    (["--lr", "0.1"], "--lr: only with --train"),
    (["--bogus"], "unrecognized arguments"),
])
def test_bad_input_to_the_script_is_one_line_exit_2(handout_script, argv, expected):
    run = subprocess.run([sys.executable, str(handout_script), *argv], capture_output=True, text=True, encoding="utf-8",
                         timeout=30)
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and expected in run.stderr, run.stderr


def test_script_compiles(handout_script, exported):
    for path in (handout_script, exported[3]):
        py_compile.compile(str(path), doraise=True)


def test_no_derived_value_outside_the_expected_table(handout_script):
    """Every number the derivation gives (H = 0.15 = 3/20, O = 0.06, the gradients ±0.0375 = ±3/80, ...) lives
    in the one table; the rest of the script only computes."""
    text = handout_script.read_text(encoding="utf-8")
    assert text.count(TABLE_BEGIN) == 1 and text.count(TABLE_END) == 1
    outside = text[:text.index(TABLE_BEGIN)] + text[text.index(TABLE_END):]
    assert "Fraction(3, 80)" in text[text.index(TABLE_BEGIN):text.index(TABLE_END)]
    for derived in ("0.0375", "3/80", "3, 80", "0.15", "3/20", "3, 20", "0.06", "3/50", "3, 50", "0.25", "1/4",
                    "0.01875"):
        assert derived not in outside, f"{derived} appears outside the expected-values table"


def test_steps_are_printed_by_the_numpy_printer(handout_script):
    text = handout_script.read_text(encoding="utf-8")
    assert "def H(W_a, x):\n    return W_a @ x\n" in text
    assert "def L(H):\n    return np.maximum(H, 0)\n" in text
    assert "# ∂Y_k/∂O_j = Y_k(δ_kj − Y_j) (softmax)\ndef dY_dO(Y):" in text
    assert "def dL_dW_a(dL_dH, x):" in text and "return dL_dH @ x.T / S" in text


def test_cli_refuses_python_with_worksheet_or_param(capsys):
    assert main(["--format", "python", "--worksheet"]) == 2
    assert main(["--format", "python", "--param", "w_b21"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("--format python" in line for line in err)



def test_the_softmax_is_exported_as_its_comment_reads_it(handout_values):
    script = to_python(handout_values)
    comment, head, body = script[script.index("# Step 4"):].splitlines()[:3]
    assert "e^{O_i} / Σ_j e^{O_j}" in comment and head == "def Y(O):"
    assert body.strip() == "return np.exp(O - O.max(axis=0)) / np.exp(O - O.max(axis=0)).sum(axis=0)"
