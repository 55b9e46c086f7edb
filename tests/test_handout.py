"""The handout's every blank, exactly: from the API and from the CLI's JSON."""

import json
import subprocess
import sys

import pytest
from sympy import Rational as R

from derivations.cli.print import main

HANDOUT = {
    "forward.H[1]": R(3, 20), "forward.H[4]": R(3, 20),
    "forward.L[1]": R(3, 20), "forward.L[4]": R(3, 20),
    "forward.O[1]": R(3, 50), "forward.O[2]": R(3, 50),
    "forward.Y[1]": R(1, 2), "forward.Y[2]": R(1, 2),
    "forward.loss": R(1, 4),
    "backward.dL_dY[1]": R(-1, 2), "backward.dL_dY[2]": R(1, 2),
    "backward.dY_dO[1,1]": R(1, 4), "backward.dY_dO[2,1]": R(-1, 4),
    "backward.dY_dO[1,2]": R(-1, 4), "backward.dY_dO[2,2]": R(1, 4),
    "backward.dL_dO[1]": R(-1, 4), "backward.dL_dO[2]": R(1, 4),
    "grad.w_b11": R(-3, 80), "grad.w_b21": R(3, 80), "grad.w_a11": 0,
    "grad.W_b[2,4]": R(3, 80), "grad.W_a[4,3]": 0,
}


@pytest.mark.parametrize("key", HANDOUT)
def test_handout_value_is_exact(handout_values, key):
    got = handout_values.lookup(key)
    assert got == HANDOUT[key], f"{key}: got {got}, want {HANDOUT[key]}"
    assert got.is_Rational


def test_constant_init_gives_zero_first_layer_gradient(handout_values):
    assert all(v == 0 for v in handout_values.gradients["W_a"])
    assert list(handout_values.gradients["W_b"]) == [R(-3, 80)] * 4 + [R(3, 80)] * 4


@pytest.fixture(scope="module")
def cli_json():
    out = subprocess.run([sys.executable, "-m", "derivations.print", "--format", "json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_json_contract_keys(cli_json):
    assert set(cli_json) >= {"problem", "forward", "backward", "gradients", "theorems", "symmetric"}
    assert set(cli_json["forward"]) == {"H", "L", "O", "Y", "loss"}
    assert set(cli_json["backward"]) == {"dL_dY", "dY_dO", "dL_dO", "dL_dL", "dL_dH", "dL_dx"}  # and the inputs' gradient
    assert set(cli_json["gradients"]) == {"W_a", "W_b"}
    assert len(cli_json["gradients"]["W_a"]) == 4 and len(cli_json["gradients"]["W_a"][0]) == 3
    assert len(cli_json["gradients"]["W_b"]) == 2 and len(cli_json["gradients"]["W_b"][0]) == 4


def test_json_handout_values(cli_json):
    g = cli_json["gradients"]
    assert g["W_b"][0][0] == {"exact": "-3/80", "latex": "- \\frac{3}{80}", "value": -0.0375, "decimal": "-0.0375"}
    assert g["W_b"][1][0]["exact"] == "3/80"
    assert g["W_a"][0][0]["exact"] == "0"
    f = cli_json["forward"]
    assert [v["exact"] for v in f["H"]] == ["3/20"] * 4
    assert [v["exact"] for v in f["O"]] == ["3/50"] * 2
    assert [v["exact"] for v in f["Y"]] == ["1/2"] * 2
    assert f["loss"]["exact"] == "1/4"
    assert cli_json["symmetric"] is True
    assert all(th["holds"] for th in cli_json["theorems"])


def test_text_solution_shows_every_handout_number(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for line in (
        "H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15",
        "O_1 = 0.1·0.15 + 0.1·0.15 + 0.1·0.15 + 0.1·0.15 = 0.06",
        "Y_1 = e^0.06 / (e^0.06 + e^0.06) = 0.5 = 1/2",
        "ℒ = 1/2 [(1 − 0.5)² + (0 − 0.5)²] = 0.25 = 1/4",
        "∇O_1 = ∂Y_1/∂O_1·∇Y_1 + ∂Y_2/∂O_1·∇Y_2 = 0.25·(−0.5) + (−0.25)·0.5 = −0.25 = −1/4",
        "= (−0.25)·0.15 = −0.0375 = −3/80",
        "= 0.25·0.15 = 0.0375 = 3/80",
        "= [(−0.25)·0.1 + 0.25·0.1]·1·0.9 = 0·1·0.9 = 0",
            "∇Y_1 = ∂ℒ/∂Y_1 = Y_1 − y_1 = 0.5 − 1 = −0.5 = −1/2",
        "∂ℒ/∂W_a = 0: all 12 entries are exactly 0",
    ):
        assert line in out, f"missing from the worked solution: {line}"
