"""Variants of a computational graph: drawn data that keeps every value defined, checked against an evaluation of
the equations that shares nothing with the derivation (Python's syntax tree and mpmath, central differences)."""

import mpmath
import pytest
from sympy import Rational

from derivations.engine.errors import ProblemError
from derivations.engine.graph import Graph, graph_from_dict, load_graph
from derivations.engine.problem import HANDOUT
from derivations.teaching import graph_oracle, graph_variants
from derivations.teaching.graph_variants import GraphBase, broken_rules, draw_attempt, read_variant, variant_toml

PROBLEMS = HANDOUT.parent
DOMAINS = {"graph": {"a": "log(x) + sqrt(y)", "b": "a / (x - y)", "c": "relu(b) + max(x, y)", "f": "c * c + 1/x^2"},
           "data": {"x": 2, "y": 0.5}}


def _base(doc: dict) -> GraphBase:
    g = Graph(graph_from_dict(doc))
    return GraphBase(g.problem, 2, tuple(n for n, v in g.gradient.items() if n != g.output and v != 0), g)


@pytest.mark.parametrize("name", ["circuit.toml", "neuron.toml"])
def test_the_oracle_agrees_with_the_derivation_on_the_shipped_graphs(name):
    g = Graph(load_graph(PROBLEMS / name))
    values, grads = graph_oracle.independent(g.problem)
    assert graph_oracle.disagreements(g) == []
    assert set(grads) == {n for n in g.problem.names if n != g.output}
    if name == "circuit.toml":  # CS231n's published numbers
        assert [float(grads[n]) for n in ("x", "y", "z")] == pytest.approx([-4, -4, 3], abs=1e-25)


def test_the_oracle_sees_a_derivation_that_is_off_by_one_part_in_a_trillion():
    g = Graph(graph_from_dict(DOMAINS))
    assert graph_oracle.disagreements(g) == []
    g.gradient["x"] = g.gradient["x"] * (1 + Rational(1, 10**12))
    assert [d.split(":")[0] for d in graph_oracle.disagreements(g)] == ["grad.x"]


@pytest.mark.parametrize("text", ["x.__class__", "(lambda: 1)()", "x[0]", "__import__('os')", "x if y else 1",
                                  "exp(x, base=2)"])
def test_the_oracle_takes_nothing_but_a_graphs_arithmetic(text):
    with pytest.raises(graph_oracle.OracleError):
        graph_oracle._compile(text)({"x": mpmath.mpf(1), "y": mpmath.mpf(2)})


def test_a_variant_is_stable_distinct_per_student_and_reads_back_as_drawn():
    base = GraphBase.read(PROBLEMS / "circuit.toml")
    a, _ = draw_attempt(base, "course", "ada")
    assert draw_attempt(base, "course", "ada")[0] == a
    files = {variant_toml(base, draw_attempt(base, "course", s)[0]) for s in ("ada", "bob", "cy", "di")}
    assert len(files) == 4
    back = read_variant(variant_toml(base, a), "v")
    assert back.data == a.data and back.equations == base.problem.equations and back.title == base.problem.title
    assert all(v.q == 1 and 1 <= abs(v) <= 9 for _, v in a.data)  # whole numbers of the base's size


def test_drawn_decimals_keep_the_bases_decade_and_digits():
    base = _base({"graph": {"f": "x * y"}, "data": {"x": 0.5, "y": 30.25}})
    for s in range(20):
        p = graph_variants.draw_numbers(base, "s", str(s), 0)
        x, y = dict(p.data)["x"], dict(p.data)["y"]
        assert Rational(1, 10) <= abs(x) < 1 and (abs(x) * 100).q == 1
        assert 10 <= abs(y) < 100 and (abs(y)).q == 1


def test_every_drawn_variant_keeps_each_value_away_from_its_poles_kinks_and_ties():
    base = _base(DOMAINS)
    for s in range(12):
        p, _ = draw_attempt(base, "seed", f"s{s}")
        watch = []
        graph_oracle.independent(p, watch)
        assert min(d for _, _, d in watch) >= Rational(1, 10), watch
        assert graph_oracle.disagreements(Graph(p)) == []


@pytest.mark.parametrize("data, rule", [({"x": 0.05, "y": 0.5}, "rule 1"),   # log(x) of less than 0.1
                                        ({"x": 2, "y": 2.05}, "rule 1"),     # x − y, a divisor, near 0
                                        ({"x": -1, "y": 0.5}, "rule 1")])    # log of a negative number
def test_a_draw_that_breaks_a_rule_is_named(data, rule):
    base = _base(DOMAINS)
    p = graph_from_dict({**DOMAINS, "data": data})
    assert broken_rules(base, p)[0].startswith(rule)


def test_a_base_no_draw_can_satisfy_is_one_line_naming_the_rule():
    base = _base({"graph": {"f": "log(x - x - 1)"}, "data": {"x": 2}})
    with pytest.raises(ProblemError) as err:
        draw_attempt(base, "s", "ada", seconds=2)
    assert "rule 1" in str(err.value) and "\n" not in str(err.value)


def test_a_vanishing_gradient_is_redrawn():
    base = GraphBase.read(PROBLEMS / "neuron.toml")
    for s in range(6):
        p, _ = draw_attempt(base, "s", str(s))
        _, grads = graph_oracle.independent(p)
        assert min(abs(grads[n]) for n in base.alive) >= mpmath.mpf(1) / 10**4
