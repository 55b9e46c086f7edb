"""Figures: the gradient-path diagrams highlight exactly a weight's paths; the training curves show the
symmetry (zero spread under constant init, non-zero under random init)."""

import re
import shutil
from pathlib import Path

from derivations import evaluate
from derivations.engine.training import xor_problem
from derivations.outputs.figures import network_svg, training_curves

from building import sphinx_build


def highlighted(svg: str) -> set:
    return set(re.findall(r'class="edge path" data-edge="([^"]+)"', svg))


def test_w_a11_highlights_exactly_its_four_paths(handout_values):
    svg = network_svg(handout_values, "w_a11", colour="green")
    assert 'data-paths="4"' in svg
    assert highlighted(svg) == {
        "Y1-loss", "Y2-loss",  # the loss reaches both softmax outputs
        "O1-Y1", "O1-Y2", "O2-Y1", "O2-Y2",  # each Y depends on both logits
        "L1-O1", "L1-O2",  # L_1 feeds both logits (through w^b_11, w^b_21)
        "H1-L1", "x1-H1",  # ReLU, and the weight itself
    }
    all_edges = set(re.findall(r'data-edge="([^"]+)"', svg))
    assert len(all_edges) == 12 + 4 + 8 + 4 + 2  # every weight an edge, plus activations, softmax, loss


def test_w_b21_highlights_exactly_its_two_paths(handout_values):
    svg = network_svg(handout_values, "w_b21", colour="blue")
    assert 'data-paths="2"' in svg
    assert highlighted(svg) == {"Y1-loss", "Y2-loss", "O2-Y1", "O2-Y2", "L1-O2"}
    assert "#1f77b4" in svg


def test_edge_labels_are_the_local_derivatives(handout_values):
    svg = network_svg(handout_values, "w_b11")
    labels = re.findall(r"<title>([^<]+)</title>", svg)
    assert "∇Y_1 = −0.5" in labels and "∂Y_2/∂O_1 = −0.25" in labels and "L_1 = 0.15" in labels


def test_diagram_for_a_wide_network_is_well_formed():
    from sympy import ImmutableMatrix, Rational

    from derivations import make_problem

    p = make_problem((8, 16, 8), "tanh", "mse", (Rational(1, 2),) * 8, (Rational(1, 8),) * 8,
                     [ImmutableMatrix(16, 8, lambda i, j: Rational(i - j, 10)), ImmutableMatrix(8, 16, lambda i, j: Rational(i + j, 20))])
    svg = network_svg(evaluate(p), "w_a33")
    import xml.etree.ElementTree as ET

    ET.fromstring(svg)  # valid XML
    assert 'data-paths="64"' in svg


def test_diagram_of_a_deep_network_draws_every_edge_and_path():
    import xml.etree.ElementTree as ET

    from derivations import load_problem

    from conftest import random_problem

    p = random_problem(3, (2, 3, 3, 2), "relu", "mse", bias=True)
    v = evaluate(p)
    svg = network_svg(v, "w_a11", colour="green")
    ET.fromstring(svg)
    assert len(set(re.findall(r'data-edge="([^"]+)"', svg))) == 6 + 3 + 9 + 3 + 6 + 4 + 2
    assert f'data-paths="{v.derivation.count_paths("w_a11")}"' in svg
    assert load_problem()  # the handout still loads beside it


def test_worksheet_diagram_has_no_values(handout_values):
    svg = network_svg(handout_values, "w_b11", answers=False)
    assert "0.25" not in svg and "0.15" not in svg and "−0.5" not in svg
    assert re.findall(r"<title>([^<]+)</title>", svg) == ["gradient paths of w^b_11"]


def test_colour_must_be_a_colour(handout_values):
    import pytest

    for bad in ("notacolour", 'red" onload="alert(1)', "#12345g"):
        with pytest.raises(ValueError):
            network_svg(handout_values, "w_b11", colour=bad)
    assert "#abcdef" in network_svg(handout_values, "w_b11", colour="#abcdef")


def test_training_curves_show_the_symmetry(handout):
    curves = training_curves(handout, steps=200, lr=0.5, seed=1)
    assert max(curves["constant"]["spread"]) <= 1e-12  # identical hidden units (float64)
    assert curves["random"]["spread"][-1] > 1e-3
    assert curves["constant"]["loss"][-1] < curves["constant"]["loss"][0]
    hidden = curves["constant"]["hidden"]
    assert all(series == hidden[0] for series in hidden)
    assert any(series != curves["random"]["hidden"][0] for series in curves["random"]["hidden"][1:])


def test_constant_init_stalls_on_the_xor_data():
    """On the XOR data one hidden unit cannot fit, the constant init (whose units stay one) stalls well above
    the random init: the lesson of the theorems page, checked numerically."""
    curves = training_curves(xor_problem(), steps=600, lr=0.5, seed=1)
    assert curves["random_found"]
    assert max(curves["constant"]["spread"]) <= 1e-12
    final_c, final_r = curves["constant"]["loss"][-1], curves["random"]["loss"][-1]
    assert final_c > 2 * final_r, (final_c, final_r)


def test_unknown_weight_in_a_diagram_is_a_located_warning(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(Path(__file__).parent / "roots" / "test-deriv", src)
    (src / "index.md").write_text("# Diagram\n\n```{deriv-network} w_a99\n```\n")
    result = sphinx_build("-W", "-q", src, tmp_path / "out")
    assert result.returncode != 0
    assert "index.md:3" in result.stderr and "w_a99" in result.stderr, result.stderr


def test_print_lists_the_paths_as_text(capsys):
    from derivations.cli.print import main

    assert main(["--param", "w_a11"]) == 0
    out = capsys.readouterr().out
    assert "ℒ → Y_1 → O_2 → L_1 → H_1 → w^a_11" in out
