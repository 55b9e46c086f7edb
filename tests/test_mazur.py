"""Mazur's worked example ("A Step by Step Backpropagation Example", 2015), shipped as
``derivations/problems/mazur.toml``: every number he published, reproduced to the digits he printed, and the
output layers' theorems (proved or refuted, never assumed)."""

import json
from decimal import Decimal

import pytest
from sympy import Rational

from derivations import evaluate, load_problem
from derivations.cli.print import main
from derivations.engine.problem import HANDOUT

MAZUR = HANDOUT.with_name("mazur.toml")

# His table (../shared/references/mazur.md), as printed: each is compared rounded to the digits he printed.
PUBLISHED = {
    "net_h1": "0.3775", "out_h1": "0.593269992", "out_h2": "0.596884378", "net_o1": "1.105905967",
    "out_o1": "0.75136507", "out_o2": "0.772928465", "E_o1": "0.274811083", "E_o2": "0.023560026",
    "E_total": "0.298371109", "dE/dw5": "0.082167041", "w5+": "0.35891648", "w6+": "0.408666186",
    "w7+": "0.511301270", "w8+": "0.561370121", "dE/dw1": "0.000438568", "w1+": "0.149780716",
    "w2+": "0.19956143", "w3+": "0.24975114", "w4+": "0.29950229",
}


@pytest.fixture(scope="module")
def mazur():
    return evaluate(load_problem(MAZUR))


def ours(values) -> dict:
    """His quantities from our derivation, by his names (w1..w4 are W_a row by row, w5..w8 W_b)."""
    f, y = values.forward, values.problem.y
    new = values.descent(Rational(1, 2))
    out = {"net_h1": f["H"][0], "out_h1": f["L"][0], "out_h2": f["L"][1], "net_o1": f["O"][0], "out_o1": f["Y"][0],
           "out_o2": f["Y"][1], "E_o1": Rational(1, 2) * (y[0] - f["Y"][0]) ** 2,
           "E_o2": Rational(1, 2) * (y[1] - f["Y"][1]) ** 2, "E_total": f["loss"], "dE/dw5": values.grad("w_b11"),
           "dE/dw1": values.grad("w_a11")}
    for k, key in enumerate(["w_a11", "w_a12", "w_a21", "w_a22", "w_b11", "w_b12", "w_b21", "w_b22"]):
        out[f"w{k + 1}+"] = new[key]
    return out


def rounded_like(value, printed: str) -> str:
    """``value`` (exact) rounded to as many decimals as ``printed`` has, via 50 exact-derived digits."""
    places = len(printed.split(".")[1])
    return str(Decimal(str(value.evalf(50))).quantize(Decimal(1).scaleb(-places)))


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_every_published_number_to_his_digits(mazur, name):
    assert rounded_like(ours(mazur)[name], PUBLISHED[name]) == PUBLISHED[name]


def test_the_problem_file_is_his_network():
    p = load_problem(MAZUR)
    assert (p.layers, p.activations, p.output, p.loss, p.bias) == ((2, 2, 2), ("sigmoid",), "sigmoid", "quadratic", True)
    assert p.x == (Rational(1, 20), Rational(1, 10)) and p.y == (Rational(1, 100), Rational(99, 100))
    assert p.b_a == (Rational(35, 100),) * 2 and p.b_b == (Rational(6, 10),) * 2


def test_cli_json_reproduces_his_outputs_error_and_gradients(capsys):
    assert main(["--config", str(MAZUR), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    got = {"out_o1": data["forward"]["Y"][0], "out_o2": data["forward"]["Y"][1], "E_total": data["forward"]["loss"],
           "dE/dw5": data["gradients"]["W_b"][0][0], "dE/dw1": data["gradients"]["W_a"][0][0]}
    for name, entry in got.items():
        places = len(PUBLISHED[name].split(".")[1])
        assert f"{entry['value']:.{places}f}" == PUBLISHED[name], name


def test_text_solution_names_the_sigmoid_output_and_its_local_derivative(capsys):
    assert main(["--config", str(MAZUR)]) == 0
    out = capsys.readouterr().out
    assert "Step 4: Y = sigmoid(O), Y_i = σ(O_i) = 1 / (1 + e^(−O_i))" in out
    assert "∂Y_1/∂O_1 = Y_1·(1 − Y_1)" in out and "∂Y_1/∂O_2" not in out  # diagonal: no cross terms
    assert "Step 5: quadratic loss, ℒ = ½ Σ_i (y_i − Y_i)²" in out
    assert "softmax lemma" not in out.split("Key insight")[1].split("Theorems")[0]


HANDOUT_WITH = """[network]
layers = [3, 4, 2]
output = "{output}"
loss = "{loss}"
[data]
x = [0.9, 0.5, 0.1]
y = [1, 0]
"""


@pytest.mark.parametrize("output,loss", [("sigmoid", "mse"), ("sigmoid", "bce"), ("identity", "quadratic")])
def test_constant_init_without_softmax_keeps_symmetry_but_not_a_zero_first_layer(tmp_path, capsys, output, loss):
    """The handout's network and constant init with another output layer: the hidden units' symmetry is
    proved, the zero first-layer gradient is refuted (a counterexample, with the reason), the softmax lemma is
    not claimed, and the gradient of W_a at the problem's numbers is indeed not 0."""
    path = tmp_path / "p.toml"
    path.write_text(HANDOUT_WITH.format(output=output, loss=loss), encoding="utf-8")
    assert main(["--config", str(path), "--theorems", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    theorems = {t["key"]: t for t in data["theorems"]}
    assert data["symmetric"] is True
    assert theorems["symmetry"]["holds"] and theorems["symmetry"]["verdict"] == "proved" and theorems["symmetry"]["applies"]
    assert theorems["permanence"]["holds"] and theorems["permanence"]["verdict"] == "proved"
    dead = theorems["dead_first_layer"]
    assert dead["holds"] is False and dead["verdict"] == "refuted" and "softmax lemma" in dead["statement"]
    assert all(not s["holds"] and s["method"].startswith("counterexample") for s in dead["steps"])
    assert "softmax_lemma" not in theorems
    grads = [e["value"] for row in data["gradients"]["W_a"] for e in row]
    assert min(abs(g) for g in grads) > 1e-6  # not 0 at the problem's own numbers either


def test_softmax_theorems_unchanged_for_the_handout(capsys):
    assert main(["--theorems", "--format", "json"]) == 0
    theorems = {t["key"]: t for t in json.loads(capsys.readouterr().out)["theorems"]}
    assert theorems["dead_first_layer"]["verdict"] == "proved" and theorems["softmax_lemma"]["verdict"] == "proved"


def test_one_output_unit_is_allowed_without_softmax():
    from derivations import make_problem

    p = make_problem((2, 2, 1), "sigmoid", "bce", [Rational(1, 2), 1], [1], [[[1, 2], [3, 4]], [[1, -1]]], output="sigmoid")
    v = evaluate(p)
    assert v.problem.n_out == 1 and len(v.backward["dY_dO"]) == 1


def test_checker_accepts_his_numbers_and_names_a_sign_slip(tmp_path, capsys):
    """Every blank of Mazur's network, answered to six significant digits, is correct (exit 0); ∇Y_1 with its
    sign flipped is wrong and named (exit 1)."""
    from derivations.cli.check import main as check
    from derivations.teaching.check import Checker

    checker = Checker(load_problem(MAZUR))
    answers = {key: f"{float(v.evalf(30)):.6g}" for key, v in checker.true.items()}
    assert {"forward.Y[2]", "backward.dY_dO[2,2]", "grad.w_a11", "grad.b_b1"} <= set(answers)
    assert "backward.dY_dO[1,2]" not in answers  # a sigmoid's Jacobian is diagonal: no cross-term blanks

    def write(name, table):
        path = tmp_path / name
        path.write_text("[answers]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in table.items()), encoding="utf-8")
        return str(path)

    assert check([write("ok.toml", answers), "--config", str(MAZUR)]) == 0
    assert f"{len(answers)} of {len(answers)} correct" in capsys.readouterr().out
    slip = {"backward.dL_dY[1]": "-" + answers["backward.dL_dY[1]"]}
    assert check([write("slip.toml", slip), "--config", str(MAZUR)]) == 1
    assert "the sign of ∇Y flipped" in capsys.readouterr().out
