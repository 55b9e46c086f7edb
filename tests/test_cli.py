"""The CLI: formats, options, and one clear line (exit 2) for every bad input."""

import json
import subprocess
import sys

import pytest

from derivations.cli.print import main

GOOD = """
[network]
layers = [3, 4, 2]
activation = "relu"
loss = "mse"
[data]
x = [0.9, 0.5, 0.1]
y = [1, 0]
[init]
W_a = 0.1
W_b = 0.1
"""


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


BAD = {
    "invalid TOML": ("[network\nlayers = [3]", "config: expected valid TOML"),
    "wrong x length": (GOOD.replace("x = [0.9, 0.5, 0.1]", "x = [0.9, 0.5]"), "data.x: expected a list of 3 numbers"),
    "non-number": (GOOD.replace("x = [0.9, 0.5, 0.1]", 'x = [0.9, "abc", 0.1]'), "data.x[2]: expected a number"),
    "number with junk": (GOOD.replace("x = [0.9, 0.5, 0.1]", 'x = [0.9, "1e400x", 0.1]'), "data.x[2]: expected a number"),
    "code as a number": (GOOD.replace("W_a = 0.1", "W_a = \"__import__('os')\""), "init.W_a: expected a number"),
    "wrong matrix shape": (GOOD.replace("W_b = 0.1", "W_b = [[0.1, 0.1], [0.1, 0.1]]"),
                           "init.W_b: expected one number, or a 2x4 matrix (2 rows, one per output, of 4 numbers), got a 2x2 matrix"),
    "ragged matrix": (GOOD.replace("W_b = 0.1", "W_b = [[0.1, 0.1, 0.1, 0.1], [0.1]]"), "got 2 rows of 4, 1 numbers"),
    "flat matrix": (GOOD.replace("W_b = 0.1", "W_b = [0.1, 0.1]"), "got 2 numbers, not rows"),
    "one entry short": (GOOD.replace("[3, 4, 2]", "[1, 4, 2]").replace("x = [0.9, 0.5, 0.1]", "x = []"),
                        "data.x: expected a list of 1 numbers (one per input), got 0 entries"),
    "no layers given": (GOOD.replace("layers = [3, 4, 2]\n", "").replace("x = [0.9, 0.5, 0.1]", "x = [0.9, 0.5]"),
                        "got 2 entries (no network.layers: the handout's 3-4-2 is assumed)"),
    "nested too deep, the file named": (GOOD.replace("W_b = 0.1", "W_b = [[[[[0.1]]]]]"), "p.toml: init.W_b[1][1]"),
    "unknown activation": (GOOD.replace('"relu"', '"gelu"'), "network.activation: expected one of relu, leaky_relu, sigmoid, tanh, softplus, identity, got 'gelu'"),
    "unknown loss": (GOOD.replace('"mse"', '"hinge"'), "network.loss: expected one of mse, cross_entropy, quadratic, bce, got 'hinge'"),
    "unknown output": (GOOD.replace('"mse"', '"mse"\noutput = "tanh"'), "network.output: expected one of softmax, sigmoid, identity, got 'tanh'"),
    "output not a name": (GOOD.replace('"mse"', '"mse"\noutput = ["sigmoid"]'), "network.output: expected one of softmax, sigmoid, identity"),
    "bce without sigmoid": (GOOD.replace('"mse"', '"bce"'), 'network.loss: loss = "bce" needs output = "sigmoid" under [network]'),
    "cross-entropy without softmax": (GOOD.replace('"mse"', '"cross_entropy"\noutput = "sigmoid"'),
                                      'network.loss: loss = "cross_entropy" needs output = "softmax" under [network]'),
    "bce target outside [0, 1]": (GOOD.replace('"mse"', '"bce"\noutput = "sigmoid"').replace("y = [1, 0]", "y = [1.5, 0]"),
                                  "data.y: expected targets between 0 and 1 for bce"),
    "one softmax output": (GOOD.replace("[3, 4, 2]", "[3, 4, 1]").replace("y = [1, 0]", "y = [1]"),
                           "network.layers: expected at least 2 outputs for a softmax output layer"),
    "y not a distribution": (GOOD.replace('"mse"', '"cross_entropy"').replace("y = [1, 0]", "y = [0.7, 0.7]"),
                             "data.y: expected a probability vector for cross_entropy"),
    "negative y for cross-entropy": (GOOD.replace('"mse"', '"cross_entropy"').replace("y = [1, 0]", "y = [1.5, -0.5]"),
                                     "data.y: expected a probability vector"),
    "zero width": (GOOD.replace("[3, 4, 2]", "[3, 0, 2]"), "network.layers: expected at least three positive integers"),
    "fractional width": (GOOD.replace("[3, 4, 2]", "[3, 4.5, 2]"), "network.layers: expected at least three positive integers"),
    "one output": (GOOD.replace("[3, 4, 2]", "[3, 4, 1]"), "network.layers: expected at least 2 outputs"),
    "too large": (GOOD.replace("[3, 4, 2]", "[40, 40, 10]"), "network.layers: expected at most 1024 weights and biases, got 2000"),
    "unknown key": (GOOD.replace("loss =", "los ="), "network.los: unknown key"),
    "infinite float": (GOOD.replace("x = [0.9, 0.5, 0.1]", "x = [0.9, inf, 0.1]"), "data.x[2]: expected a finite number"),
    "boolean": (GOOD.replace("W_b = 0.1", "W_b = true"), "init.W_b: expected a number, got true"),
    # the page's fields are refused by the worked solution too, not only by --worksheet
    "asked parameter outside the network": (GOOD + '[worksheet]\nask = ["w_c11"]\n', "worksheet.ask: 'w_c11'"),
    "asked input outside the network": (GOOD + '[worksheet]\nask = ["x_4"]\n', "worksheet.ask: 'x_4'"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_gets_one_line_and_exit_2(tmp_path, capsys, case):
    text, message = BAD[case]
    assert main(["--config", write(tmp_path, text)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, f"expected one line, got: {err!r}"
    assert message in err, f"{message!r} not in {err!r}"


def test_missing_file(capsys):
    assert main(["--config", "/nonexistent/problem.toml"]) == 2
    err = capsys.readouterr().err
    assert "config: expected a readable TOML file, but /nonexistent/problem.toml does not exist" in err


@pytest.mark.parametrize("argv,message", [
    (["--param", "w_z11"], "param: 'w_z11': this network has 2 weight matrices"),
    (["--param", "bogus"], "param: expected a parameter name like w_a11"),
    (["--param", "b_a1"], "param: 'b_a1': this network has no biases"),
    (["--param", "w_a51"], "param: 'w_a51' is outside W_a, which is 4x3"),
])
def test_bad_param_gets_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("argv,message", [
    (["--worksheet", "--theorems"], "--theorems: the students' page"),
    (["--key", "--format", "markdown", "--theorems"], "--theorems: the students' page"),
    (["--worksheet", "--digits", "8"], "--digits: the students' page"),
    (["--format", "pdf", "--digits", "3", "-o", "x.pdf"], "--digits: the students' page"),
    (["--paper", "letter"], "--paper: only --format pdf"),
])
def test_an_option_the_output_would_ignore_is_one_line(capsys, tmp_path, argv, message):
    """Nothing is silently ignored: --theorems and --digits do not change the students' page, nor --paper text."""
    assert main([a if a != "x.pdf" else str(tmp_path / a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("argv,message", [
    (["--digits", "0"], "argument --digits: expected a whole number from 1 to 50"),  # the option named once
    (["--format", "docx"], "invalid choice: 'docx'"),
])
def test_bad_option_gets_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_an_empty_output_name_is_one_line_not_is_a_directory(capsys):
    assert main(["-o", ""]) == 2  # -o "$OUT" with OUT unset
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "-o/--output: expected a file name, got ''" in err, err


def test_bad_input_no_traceback_end_to_end(tmp_path):
    path = write(tmp_path, BAD["code as a number"][0])
    out = subprocess.run([sys.executable, "-m", "derivations.print", "--config", path], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_numbers_may_be_strings_and_fractions(tmp_path, capsys):
    text = GOOD.replace("x = [0.9, 0.5, 0.1]", 'x = ["0.9", "1/2", 0.1]')
    assert main(["--config", write(tmp_path, text), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["exact"] for v in data["problem"]["x"]] == ["9/10", "1/2", "1/10"]
    assert data["gradients"]["W_b"][0][0]["exact"] == "-3/80"


def test_extreme_numbers_still_print(tmp_path, capsys):
    text = GOOD.replace("x = [0.9, 0.5, 0.1]", "x = [1e6, 0, 0]").replace("W_a = 0.1", "W_a = 50").replace("W_b = 0.1", "W_b = [[50, -50, 50, -50], [-50, 50, -50, 50]]")
    assert main(["--config", write(tmp_path, text)]) == 0
    out = capsys.readouterr().out
    assert "H_1 = 50·1000000 + 50·0 + 50·0 = 50000000" in out
    assert "inf" not in out.lower() and "nan" not in out.lower()
    assert main(["--config", write(tmp_path, text), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["forward"]["H"][0]["exact"] == "50000000"


@pytest.mark.parametrize("fmt,marker", [("markdown", "$$"), ("latex", r"\begin{document}"), ("text", "Step 1: H = W_a · x")])
def test_formats(capsys, fmt, marker):
    assert main(["--format", fmt]) == 0
    out = capsys.readouterr().out
    assert marker in out
    assert "0.0375" in out


def test_param_shows_paths_and_closed_forms(capsys):
    assert main(["--param", "w_a11"]) == 0
    out = capsys.readouterr().out
    assert "4 paths from ℒ to w^a_11" in out
    assert out.count("→ L_1 → H_1 → w^a_11:") == 4
    assert "closed form, in the weights, x and y" in out
    assert "∂ℒ/∂w^b_21 (practice" not in out  # only the asked weight


def test_digits(capsys, tmp_path):
    text = GOOD.replace('"relu"', '"sigmoid"')
    assert main(["--config", write(tmp_path, text), "--digits", "3"]) == 0
    out = capsys.readouterr().out
    assert "L_1 = sigmoid(0.15) ≈ 0.537" in out


def test_theorems_flag_prints_every_step(capsys):
    assert main(["--theorems"]) == 0
    out = capsys.readouterr().out
    assert "[proved] Hidden-unit symmetry" in out
    assert "[checked numerically] Random initialization breaks the symmetry" in out
    assert "[checked numerically] Symmetry in a training run" in out
    assert "[proved] Random" not in out
    assert "∂ℒ/∂w^a_21 − ∂ℒ/∂w^a_11 = 0: holds" in out
    assert "spread across hidden units = " in out and "(at most 1e-25 asked)" in out
    assert "The general argument, for any width:" in out
    assert "NOT PROVED" not in out


def test_random_init_problem_says_the_symmetry_is_broken(tmp_path, capsys):
    text = GOOD.replace("W_a = 0.1", "W_a = [[0.2, -0.3, 0.5], [0.4, 0.1, -0.2], [-0.1, 0.3, 0.2], [0.3, 0.2, 0.1]]")
    assert main(["--config", write(tmp_path, text)]) == 0
    out = capsys.readouterr().out
    # W_b still has equal rows, so W_a's gradient is still 0, but the hidden units are no longer alike.
    assert "∂ℒ/∂W_a = 0" in out
    assert "this init breaks the hidden-unit symmetry" in out
    assert "[proved] Hidden-unit symmetry (its assumption fails for this init)" in out


def test_json_leaves_out_only_huge_exact_forms():
    """Rationals are always exact; a transcendental value too large to print keeps its float."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import random_problem
    from derivations import evaluate
    from derivations.outputs.render import to_json_dict

    data = to_json_dict(evaluate(random_problem(5, (4, 5, 4), "tanh", "mse")))
    entry = data["gradients"]["W_a"][0][0]
    assert entry["exact"] is None and entry["latex"] is None and isinstance(entry["value"], float)
    assert data["forward"]["H"][0]["exact"] is not None  # rational: always exact
    assert data["forward"]["L"][0]["exact"].startswith("tanh(")  # small transcendental: exact


TANH = GOOD.replace('"relu"', '"tanh"').replace("W_a = 0.1", "W_a = [[0.1, 0.2, 0.3], [0.3, -0.1, 0.2], [0.2, 0.2, -0.3], [0.1, 0.4, 0.1]]")


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_tanh_path_products_keep_their_parentheses_and_no_equals_approx(tmp_path, capsys, fmt):
    """The printers parenthesize tanh's 1 − L² inside a product, in every format; an inexact value reads
    ≈ 0.4968, never = ≈."""
    assert main(["--config", write(tmp_path, TANH), "--format", fmt]) == 0
    out = capsys.readouterr().out
    want = {"text": "·(1 − L_1²)·x_1", "markdown": r"\left(1 - L_{1}^{2}\right) \cdot x_{1}",
            "latex": r"\left(1 - L_{1}^{2}\right) \cdot x_{1}"}[fmt]
    assert want in out
    assert "≈" in out or r"\approx" in out  # the problem has inexact values
    for bad in ("= ≈", r"= \approx", "=≈"):
        assert bad not in out


def test_json_with_theorems_on_a_deep_biased_batched_problem(tmp_path, capsys):
    deep = ("[network]\nlayers = [2, 3, 3, 2]\nactivation = [\"tanh\", \"leaky_relu\"]\nbias = true\n"
            "[data]\nx = [[0.5, -0.5], [0.1, 0.2]]\ny = [[1, 0], [0, 1]]\n[init]\nW_a = 0.1\nW_b = 0.2\nW_c = 0.3\n")
    assert main(["--config", write(tmp_path, deep), "--format", "json", "--theorems"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["symmetric"] is True
    keys = {t["key"]: t for t in data["theorems"]}
    assert {"symmetry", "symmetry_2", "softmax_lemma", "dead_first_layer", "permanence", "permanence_2"} <= set(keys)
    assert all(t["holds"] for t in data["theorems"])
    assert keys["random_breaks"]["method"] == "checked numerically" and keys["symmetry_2"]["method"] == "proved"
    assert set(data["gradients"]) == {"W_a", "W_b", "W_c", "b_a", "b_b", "b_c"}
    assert all(v["value"] == 0 for row in data["gradients"]["W_a"] for v in row)  # dead earlier layers
