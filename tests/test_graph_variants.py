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
    return GraphBase(g.problem, 2, tuple(n for n, v in g.gradient.items() if n != g.output and v != 0), g, 9)


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
    assert all(v.q == 1 and 1 <= abs(v) <= 5 for _, v in a.data)  # whole numbers up to the base's largest, 5


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
    base = _base({"graph": {"f": "log(x - x + 1/20)"}, "data": {"x": 2}})  # defined, but always below rule 1's 0.1
    with pytest.raises(ProblemError) as err:
        draw_attempt(base, "s", "ada", seconds=2)
    assert "rule 1" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ProblemError, match="graph.f: expected a real value at the data, but log"):
        _base({"graph": {"f": "log(x - x - 1)"}, "data": {"x": 2}})  # a base undefined at its own data: one line


def test_a_vanishing_gradient_is_redrawn():
    base = GraphBase.read(PROBLEMS / "neuron.toml")
    for s in range(6):
        p, _ = draw_attempt(base, "s", str(s))
        _, grads = graph_oracle.independent(p)
        assert min(abs(grads[n]) for n in base.alive) >= mpmath.mpf(1) / 10**3


# -- the whole set: variants, keys.csv, grade -----------------------------------------------------------------


@pytest.fixture(scope="module")
def circuit_set(tmp_path_factory):
    from derivations.cli import variants

    out = tmp_path_factory.mktemp("circuit-set")
    code = variants.main(["4", "--out", str(out), "--seed", "week-1", "--format", "md", "--jobs", "1", "--moodle",
                          "--config", str(PROBLEMS / "circuit.toml")])
    assert code == 0
    return out


def _keys(folder):
    import csv

    with open(folder / "keys.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_circuit_variants_set_writes_every_students_files_and_keys_an_independent_evaluation_confirms(circuit_set):
    rows = _keys(circuit_set)
    assert [r["id"] for r in rows] == ["001", "002", "003", "004"]
    for row in rows:
        folder = circuit_set / row["id"]
        assert sorted(p.name for p in folder.iterdir()) == ["key.md", "problem.toml", "selfcheck.html", "worksheet.md"]
        problem = load_graph(folder / "problem.toml")
        values, grads = graph_oracle.independent(problem)  # the equations evaluated again, not the derivation
        for key, text in row.items():
            group, _, name = key.partition(".")
            if group in ("forward", "grad"):
                ref = values[name] if group == "forward" else grads[name]
                assert abs(mpmath.mpf(text) - ref) <= 1e-12 * max(1, abs(ref)), (row["id"], key, text)
        worksheet = (folder / "worksheet.md").read_text(encoding="utf-8")
        key_page = (folder / "key.md").read_text(encoding="utf-8")
        f = row["forward.f"]
        assert f in key_page and f"= {f}" not in worksheet


def test_grade_marks_a_circuit_class_from_independent_answers_with_known_slips(circuit_set, tmp_path):
    from derivations.cli.grade import grade

    rows = _keys(circuit_set)
    keys = [k for k in rows[0] if k.startswith(("forward.", "grad."))]
    lines = ["id," + ",".join(keys)]
    slipped = {}
    for k, row in enumerate(rows):
        problem = load_graph(circuit_set / row["id"] / "problem.toml")
        values, grads = graph_oracle.independent(problem)
        answers = {key: (values if key.startswith("forward.") else grads)[key.partition(".")[2]] for key in keys}
        if k == 1:  # the subtraction-free circuit's classic slip: ∂f/∂z taken as z, the factor itself
            answers["grad.z"] = dict(problem.data)["z"]
            slipped[row["id"]] = "grad.z"
        lines.append(row["id"] + "," + ",".join(mpmath.nstr(mpmath.mpf(answers[key]), 6) for key in keys))
    responses = tmp_path / "responses.csv"
    responses.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = grade(responses, circuit_set, workers=1)
    for s in result.students:
        wrong = [key for key, m in s.marks.items() if m.verdict != "correct"]
        assert wrong == ([slipped[s.id]] if s.id in slipped else []), (s.id, wrong)


def test_the_circuits_moodle_quiz_has_a_cloze_per_student_whose_fields_are_their_keys(circuit_set):
    import base64
    import re
    import xml.etree.ElementTree as ET

    from derivations.teaching.handout import layout

    rows = {r["id"]: r for r in _keys(circuit_set)}
    questions = ET.parse(circuit_set / "moodle.xml").getroot().findall("question")
    assert [q.get("type") for q in questions] == ["category"] + ["cloze"] * 4
    for q, (student, row) in zip(questions[1:], rows.items()):
        assert q.find("name/text").text.endswith(f"· {student} · variant {row['variant']}")
        text = q.find("questiontext/text").text
        fields = re.findall(r"\{1:NUMERICAL:=([^:}~]+):([^}~]+)(?:~[^}]*)?\}", text)
        g = Graph(load_graph(circuit_set / student / "problem.toml"))
        slots = [s.key for s in layout(g).slots(given=False)]
        assert len(fields) == len(slots) >= 6
        for key, (value, _tol) in zip(slots, fields):
            assert Rational(value) == Rational(row[key]), (student, key)
        svg = base64.b64decode(q.find("questiontext/file").text).decode("utf-8")
        assert svg.startswith("<svg") and f">{row['forward.f']}<" not in svg  # the worksheet's figure: no answer


def test_a_graph_of_64_nested_layers_is_worked_from_its_decimals_and_agrees_with_the_independent_evaluation():
    """Each layer repeats the exact forms before it (3⁶⁴ nodes written out): the values are formed as written
    and every number comes from the names' decimals, equation by equation (benchmarks/graph_depth.py: seconds)."""
    import json

    from derivations.teaching.circuit import graph_json, solution_text

    eqs = {"h1": "sigmoid(x) + tanh(x)"}
    eqs.update({f"h{i}": f"sigmoid(h{i - 1}) * tanh(h{i - 1}) + exp(h{i - 1}/4)" for i in range(2, 65)})
    g = Graph(graph_from_dict({"graph": eqs, "data": {"x": 0.5}}))
    values, grads = graph_oracle.independent(g.problem)
    data = json.loads(graph_json(g))
    assert abs(mpmath.mpf(data["forward"]["h64"]["decimal"]) / values["h64"] - 1) < 1e-15
    assert abs(mpmath.mpf(data["grad"]["x"]["decimal"]) / grads["x"] - 1) < 1e-15
    assert data["grad"]["x"]["latex"] is None  # too large to print
    assert "h64 = " in solution_text(g)


def test_a_drawn_value_keeps_the_base_values_sign():
    """A regularized loss's λ is drawn positive for every student (a drawn sign gave one λ = −0.95 and a negative
    loss), CS231n's x = −2 stays negative."""
    base = _base({"graph": {"p": "w * x", "L": "(y - p)^2 + lam*w^2"}, "data": {"w": 0.5, "x": 2, "y": 3, "lam": 0.1}})
    for student in ("ada", "bo", "cy", "dee", "eva", "fay"):
        p, _ = draw_attempt(base, "s", student)
        data = dict(p.data)
        assert data["lam"] > 0 and data["w"] > 0 and data["x"] > 0, data
    circuit = GraphBase.read(PROBLEMS / "circuit.toml")
    signs = [tuple(v > 0 for _, v in draw_attempt(circuit, "s", student)[0].data) for student in ("ada", "bo", "cy")]
    assert set(signs) == {tuple(v > 0 for _, v in circuit.problem.data)}


def test_a_graph_without_a_title_names_its_moodle_category_as_its_page_does(tmp_path):
    """No [worksheet] title: the quiz's category reads "A computational graph (g)", the page's title, not the
    handout's "Backpropagation Handout"."""
    from derivations.cli import variants

    base = tmp_path / "g.toml"
    base.write_text('[graph]\nq = "x * y"\nf = "q + z"\n[data]\nx = 2\ny = 3\nz = 1\n', encoding="utf-8")
    out = tmp_path / "set"
    assert variants.main(["2", "--out", str(out), "--seed", "s", "--format", "md", "--jobs", "1", "--moodle",
                          "--config", str(base)]) == 0
    xml = (out / "moodle.xml").read_text(encoding="utf-8")
    assert "$course$/top/A computational graph (g)" in xml and "Backpropagation Handout" not in xml
