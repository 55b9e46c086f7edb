"""The network diagrams in Chromium: on networks of every shape the site and the variants draw (wide, deep,
one output, biases, several samples), with and without values, no text reaches past the diagram or overlaps
another. The site's own pages are checked in tests/test_browser.py."""

import pytest
from sympy import ImmutableMatrix, Rational

from derivations import evaluate, load_problem, make_problem
from derivations.engine.problem import HANDOUT
from derivations.outputs.figures import network_svg

from conftest import random_problem
from figure_texts import defects, figure_texts

SHARED = HANDOUT.with_name("mazur_shared.toml")

pytestmark = pytest.mark.slow  # every test drives a browser


def _wide():
    return make_problem((8, 16, 8), "tanh", "mse", (Rational(1, 2),) * 8, (Rational(1, 8),) * 8,
                        [ImmutableMatrix(16, 8, lambda i, j: Rational(i - j, 10)),
                         ImmutableMatrix(8, 16, lambda i, j: Rational(i + j, 20))])


PROBLEMS = {
    "handout": load_problem,
    "wide 8-16-8": _wide,
    "3-4-4-2 sigmoid, relu, biases": lambda: random_problem(7, (3, 4, 4, 2), ("sigmoid", "relu"), "mse", bias=True),
    "2-3-3-3-2 tanh, cross-entropy": lambda: random_problem(8, (2, 3, 3, 3, 2), "tanh", "cross_entropy"),
    "2-3-1 softplus, sigmoid output, bce": lambda: random_problem(9, (2, 3, 1), "softplus", "bce", output="sigmoid"),
    "3-2-2 leaky ReLU, two samples": lambda: random_problem(10, (3, 2, 2), "leaky_relu", "mse", samples=2),
    "Mazur's, shared biases": lambda: load_problem(SHARED),
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_diagram_texts_lie_inside_and_apart(page, name):
    values = evaluate(PROBLEMS[name]())
    d = values.derivation
    weights = ["w_a11", f"w_{chr(ord('a') + len(d.symbols.keys) // 2 - 1)}11", "x_1", None]  # an input's paths too
    weights += ["b_a"] if values.problem.shared_bias else []  # a shared bias: the paths through every unit
    svgs = [network_svg(values, w, answers=answers) for w in weights for answers in (True, False)]
    page.set_content("<!DOCTYPE html><body>" + "".join(svgs) + "</body>")
    report = figure_texts(page)
    assert len(report) == len(svgs) and all(fig["texts"] >= 6 for fig in report), report
    assert defects(report) == [], defects(report)
    labelled = [svg.count('class="label"') for svg in svgs[0::2]]
    assert labelled[0] > 0, labelled  # the values are there to be placed, not left out
