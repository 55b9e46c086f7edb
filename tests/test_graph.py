"""Computational graphs: CS231n's circuit and sigmoid neuron, a value used twice, the parser's bounds, and the
worked solution, JSON and checker of a graph problem."""

import json
import re
from pathlib import Path

import pytest
from sympy import Rational, exp

from derivations.cli.check import main as check_main
from derivations.cli.print import main as print_main
from derivations.engine.errors import ProblemError
from derivations.engine.graph import Graph, graph_from_dict, load_graph
from derivations.teaching.check import Checker

PROBLEMS = Path(__file__).resolve().parents[1] / "derivations" / "problems"


def _answers(tmp_path, answers: dict) -> str:
    path = tmp_path / "answers.toml"
    path.write_text("[answers]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in answers.items()), encoding="utf-8")
    return str(path)


def test_cs231n_circuit_values_exact():
    g = Graph(load_graph(PROBLEMS / "circuit.toml"))
    assert (g.value["q"], g.value["f"]) == (3, -12)
    assert [g.gradient[n] for n in ("x", "y", "z")] == [-4, -4, 3]


def test_the_sigmoid_neuron_matches_cs231n_to_a_60_digit_referee():
    import mpmath as mp

    g = Graph(load_graph(PROBLEMS / "neuron.toml"))
    mp.mp.dps = 60
    s = 1 / (1 + mp.exp(-1))  # the neuron's a = 2·(−1) + (−3)·(−2) − 3 = 1
    ds = s * (1 - s)
    want = {"w0": -ds, "x0": 2 * ds, "w1": -2 * ds, "x1": -3 * ds, "w2": ds}
    for name, v in want.items():
        assert abs(mp.mpf(str(g.gradient[name].evalf(60))) - v) < mp.mpf(10) ** -50, name
    assert [round(float(g.gradient[n]), 4) for n in ("w0", "w1", "w2", "x0", "x1")] == [-0.1966, -0.3932, 0.1966, 0.3932, -0.5898]


def test_a_value_used_twice_gets_the_sum_of_its_uses():
    g = Graph(graph_from_dict({"graph": {"f": "x*x + x"}, "data": {"x": 3}}))
    assert g.gradient["x"] == 7 and g.branches() == ["x"]


def test_check_takes_the_circuits_right_answers_and_names_a_wrong_one(tmp_path, capsys):
    right = {"forward.q": 3, "forward.f": -12, "grad.q": -4, "grad.x": -4, "grad.y": -4, "grad.z": 3}
    assert check_main([_answers(tmp_path, right), "--config", str(PROBLEMS / "circuit.toml")]) == 0
    capsys.readouterr()
    wrong = {"forward.q": 3, "grad.q": 3}  # ∂f/∂q taken as q, the factor itself, not z
    assert check_main([_answers(tmp_path, wrong), "--config", str(PROBLEMS / "circuit.toml"), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)["answers"]
    assert data["grad.q"]["mistakes"] == ["product-local-own"]


def test_check_the_neuron_and_a_dropped_local_derivative(tmp_path, capsys):
    right = {"grad.w0": "-0.1966", "grad.w1": "-0.3932", "grad.w2": "0.1966", "grad.x0": "0.3932", "grad.x1": "-0.5898"}
    assert check_main([_answers(tmp_path, right), "--config", str(PROBLEMS / "neuron.toml")]) == 0
    capsys.readouterr()
    got = Checker(load_graph(PROBLEMS / "neuron.toml")).check({"grad.a": "1"})["grad.a"]
    assert got.verdict == "wrong" and [m.name for m in got.mistakes] == ["local-derivative-dropped"]


def test_one_use_of_a_branch_is_named():
    c = Checker(graph_from_dict({"graph": {"f": "x*x + x"}, "data": {"x": 3}}))
    got = c.check({"grad.x": "6"})["grad.x"]
    assert got.verdict == "wrong" and [m.name for m in got.mistakes] == ["one-path-only"]
    assert c.check({"grad.x": "7"})["grad.x"].verdict == "correct"


def test_a_step_right_from_a_wrong_earlier_answer_follows():
    c = Checker(load_graph(PROBLEMS / "circuit.toml"))
    got = c.check({"forward.q": "4", "forward.f": "-16"})
    assert got["forward.f"].verdict == "follows" and got["forward.f"].follows_from == ["forward.q"]


def test_the_worked_solution_gate_by_gate(capsys):
    assert print_main(["--config", str(PROBLEMS / "circuit.toml")]) == 0
    out = capsys.readouterr().out
    assert "q = x + y = −2 + 5 = 3" in out and "f = q·z = 3·(−4) = −12" in out
    assert "∂f/∂z = ∂f/∂f·∂f/∂z = (1)·(3) = 3" in out
    assert print_main(["--config", str(PROBLEMS / "circuit.toml"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["grad"]["x"]["exact"] == "-4" and data["forward"]["f"]["exact"] == "-12"


# The output's equation uses b, and c, which moves with b: its local derivative in b (c held fixed, b − z = −1.75)
# is not the gradient ∂f/∂b (≈ −2.56757, the path through c included). An instructor's example.
CLASH = """[graph]
a = "x * y"
b = "a + x"
c = "exp(-b)"
f = "(b - z)^2 / 2 + log(c + 1)"

[data]
x = 1.5
y = -2
z = "1/4"
"""
# A loss with a regularizer: w feeds p and the loss itself
REGULARIZED = '[graph]\np = "w * x"\nL = "(y - p)^2 + lam*w^2"\n\n[data]\nw = 0.5\nx = 2\ny = 3\nlam = 0.1\n'
BRANCHES = '[graph]\nf = "x*x + x"\nh = "max(f, 2) - exp(f)/f + x"\nk = "h*f*x"\n\n[data]\nx = 3\n'
SYMBOL = r"\(∂\w+/∂\w+\)_(?:\w+|\([^)]*\))|∂\w+/∂\w+"  # ∂f/∂b, (∂f/∂b)_c, (∂k/∂x)_(f, h)
NUMBER = r"−?\d+(?:\.\d+)?(?:e[+−]\d+)?"


def symbol_values(solution: str) -> dict:
    """Every symbol the worked solution gives a value, with the values it gives it (to 5 digits): each gradient
    (``∂f/∂b = … ≈ −2.56757``) and each local derivative of a ``local:`` line (``(∂f/∂b)_c = b − z = −1.75``)."""
    out = {}
    for line in solution.splitlines():
        line = line.strip()
        entries = re.split(r", (?=\(?∂)", line[len("local: "):]) if line.startswith("local: ") else [line]
        for entry in entries:
            symbol = re.match(rf"({SYMBOL}) = ", entry)
            if symbol:
                value = float(re.findall(NUMBER, entry)[-1].replace("−", "-"))
                out.setdefault(symbol[1], set()).add(float(f"{value:.5g}"))
    return out


def test_the_output_equations_local_derivative_is_told_from_the_gradient(tmp_path, capsys):
    path = tmp_path / "g1.toml"
    path.write_text(CLASH, encoding="utf-8")
    assert print_main(["--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert ("  ∂f/∂b = ∂f/∂c·∂c/∂b + ∂f/∂f·(∂f/∂b)_c = (≈ 0.182426)·(≈ −4.48169) + (1)·(−1.75) ≈ −2.56757\n"
            "      local: ∂c/∂b = −e^(−b) ≈ −4.48169, (∂f/∂b)_c = b − z = −1.75\n"
            "      (∂f/∂b)_c is the local derivative of f's equation with c held fixed; the gradient ∂f/∂b also counts b's "
            "effect through c.\n") in out
    values = symbol_values(out)
    assert values["∂f/∂b"] == {-2.5676} and values["(∂f/∂b)_c"] == {-1.75}
    # c and z reach f only through its equation: their local derivative is their gradient, one number, one symbol
    assert "  ∂f/∂c = ∂f/∂f·∂f/∂c = (1)·(≈ 0.182426) ≈ 0.182426\n      local: ∂f/∂c = 1/(1 + c) ≈ 0.182426\n" in out
    assert values["∂f/∂c"] == {0.18243} and values["∂f/∂z"] == {1.75}
    assert out.count("held fixed") == 1
    # the held derivative given for the gradient is one path only, as check names it
    got = Checker(load_graph(path)).check({"grad.b": "-1.75", "grad.c": "0.1824"})
    assert got["grad.b"].verdict == "wrong" and [m.name for m in got["grad.b"].mistakes] == ["one-path-only"]
    assert Checker(load_graph(path)).check({"grad.b": "-2.568"})["grad.b"].verdict == "correct"


@pytest.mark.parametrize("problem", ["circuit", "neuron", "clash", "regularized", "branches", "twice"])
def test_no_symbol_of_a_worked_solution_stands_for_two_values(tmp_path, capsys, problem):
    texts = {"clash": CLASH, "regularized": REGULARIZED, "branches": BRANCHES,
             "twice": '[graph]\nf = "x*x + x"\n[data]\nx = 3\n'}
    path = PROBLEMS / f"{problem}.toml"
    if problem in texts:
        path = tmp_path / f"{problem}.toml"
        path.write_text(texts[problem], encoding="utf-8")
    assert print_main(["--config", str(path)]) == 0
    out = capsys.readouterr().out
    values = symbol_values(out)
    assert values and {s: v for s, v in values.items() if len(v) > 1} == {}
    if problem == "regularized":
        assert values["∂L/∂w"] == {-7.9} and values["(∂L/∂w)_p"] == {0.1}
    if problem == "branches":
        assert "∂k/∂k·(∂k/∂x)_(f, h)" in out and "f and h held fixed" in out
    if problem in ("circuit", "neuron", "twice"):  # no clash: the text as it was
        assert ")_" not in out and "held fixed" not in out


def test_the_markdown_solution_keeps_its_held_derivatives_out_of_emphasis(tmp_path, capsys):
    """``(∂k/∂f)_h`` and a later ``(∂k/∂x)_(f, h)``: Markdown would read the two underscores as an emphasis."""
    markdown_it = pytest.importorskip("markdown_it")
    path = tmp_path / "branches.toml"
    path.write_text(BRANCHES, encoding="utf-8")
    assert print_main(["--config", str(path), "--format", "markdown"]) == 0
    html = markdown_it.MarkdownIt("commonmark").render(capsys.readouterr().out)
    assert "<em>" not in html and "(∂k/∂f)_h = h·x" in html and "(∂k/∂x)_(f, h) = f·h" in html


@pytest.mark.parametrize("equation, says", [
    ("__import__(x)", "known function"),
    ("x.__class__", "position 2"),
    ("os", "known name"),
    ("x + " * 2600 + "x", "at most 256 characters"),  # every string of a problem file (the parser: 500)
    ("(" * 60 + "x" + ")" * 60, "nested"),
    ("x ** 100", "exponent"),
    ("x +", "the end"),
    ("lambda: 1", "position"),
    ("1/0", "not 0"),
    ("'x'", "position 1"),
])
def test_a_hostile_equation_is_one_line_and_runs_nothing(tmp_path, capsys, equation, says):
    path = tmp_path / "g.toml"
    path.write_text(f'[graph]\nf = {json.dumps(equation)}\n[data]\nx = 1\n', encoding="utf-8")
    assert print_main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "graph.f" in err and says in err, err


@pytest.mark.parametrize("doc, says", [
    ({"graph": {}}, "at least one equation"),
    ({"graph": {"f": "x"}, "data": {"x": 1, "f": 2}}, "defined twice"),
    ({"graph": {"exp": "x"}, "data": {"x": 1}}, "not a function"),
    ({"graph": {"f": "y"}, "data": {"x": 1}}, "known name"),
    ({"graph": {"f": 3}, "data": {}}, "in quotes"),
    ({"graph": {f"f{i}": "1" for i in range(65)}}, "at most 64"),
])
def test_bad_graph_files_are_one_line(doc, says):
    with pytest.raises(ProblemError, match=says):
        graph_from_dict(doc)


def test_a_network_command_refuses_a_graph_in_one_line():
    from derivations.engine.problem import load_problem

    with pytest.raises(ProblemError, match="computational graph"):
        load_problem(PROBLEMS / "circuit.toml")


def test_exact_values_where_rational_and_a_sigmoid_exactly():
    g = Graph(graph_from_dict({"graph": {"f": "sigmoid(x) * 2"}, "data": {"x": 0}}))
    assert g.value["f"] == 1 and g.gradient["x"] == Rational(1, 2)
    g = Graph(graph_from_dict({"graph": {"f": "exp(x)"}, "data": {"x": "1/2"}}))
    assert g.value["f"] == exp(Rational(1, 2))


def test_mazurs_input_gradients_are_checked(tmp_path, capsys):
    """Mazur's published ∂E/∂i₁ = 0.0038043 and ∂E/∂i₂ = 0.0047405 (his example continued to the inputs):
    backward.dL_dx[i], in the checker and the JSON."""
    answers = {"backward.dL_dx[1]": "0.0038043", "backward.dL_dx[2]": "0.0047405"}
    assert check_main([_answers(tmp_path, answers), "--config", str(PROBLEMS / "mazur.toml")]) == 0
    capsys.readouterr()
    assert print_main(["--config", str(PROBLEMS / "mazur.toml"), "--format", "json"]) == 0
    dx = json.loads(capsys.readouterr().out)["backward"]["dL_dx"]
    assert [round(float(v["decimal"]), 7) for v in dx] == [0.0038043, 0.0047405]


def test_a_graphs_functions_and_products_read_as_its_equations_write_them():
    """The worked solution writes max and its local derivative as the page does (max(2, f), 1_(… > 0)), not
    SymPy's Max and Heaviside; the page puts a dot between every two factors (2·lam·w, not 2·lamw)."""
    from derivations.teaching.circuit import solution_text
    from derivations.teaching.handout import layout
    from derivations.outputs.page import render_text

    text = solution_text(Graph(graph_from_dict({"graph": {"g": "max(2, f)", "h": "g * f"}, "data": {"f": 3}})))
    assert "g = max(2, f) = max(2, 3) = 3" in text and "∂g/∂f = 1_(−2 + f > 0) = 1" in text
    assert "Max" not in text and "Heaviside" not in text
    graph = Graph(graph_from_dict({"graph": {"p": "w * x", "L": "(y - p)^2 + lam*w^2"},
                                   "data": {"w": 0.5, "x": 2, "y": 3, "lam": 0.1}}))
    key = render_text(layout(graph), False)
    assert "(∂L/∂w)_p = 2·lam·w" in key and "lamw" not in key


@pytest.mark.parametrize("equation, data, field, says", [
    ("x / y", {"x": 1, "y": 0}, "graph.q", "x / y is infinite (a division by zero)"),
    ("log(x)", {"x": -1}, "graph.q", "log(x) is not a real number"),
    ("sqrt(x)", {"x": -4}, "graph.q", "sqrt(x) is not a real number"),
    ("x^-1", {"x": 0}, "graph.q", "x^-1 is infinite"),
    ("sqrt(x)", {"x": 0}, "graph.x", "∂q/∂x is infinite"),  # the value is 0; its slope is not
])
def test_a_value_the_data_leave_undefined_is_one_line_in_every_command(tmp_path, capsys, equation, data, field, says):
    """A graph whose data leave a value or a gradient undefined is refused in one line, exit 2, by print (every
    format) and check (it was a traceback: mpmath's 'cannot create mpf from zoo')."""
    path = tmp_path / "g.toml"
    path.write_text(f'[graph]\nq = "{equation}"\n[data]\n' + "".join(f"{k} = {v}\n" for k, v in data.items()),
                    encoding="utf-8")
    answers = tmp_path / "a.toml"
    answers.write_text('[answers]\n"forward.q" = 1\n', encoding="utf-8")
    for run in (lambda: print_main(["--config", str(path)]), lambda: print_main(["--config", str(path), "--format", "json"]),
                lambda: print_main(["--config", str(path), "--key"]),
                lambda: check_main([str(answers), "--config", str(path), "--reveal"])):
        assert run() == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"g.toml: {field}: expected a real" in err and says in err, err


def test_a_branch_is_a_name_typed_more_than_once():
    """r^2 is a square's one input, not a branch (the solution and the page said 'r is used more than once');
    x*x + x uses x three times, as typed."""
    from derivations.teaching.circuit import solution_text

    square = Graph(graph_from_dict({"graph": {"r": "y - x", "L": "r^2"}, "data": {"x": 1, "y": 3}}))
    assert square.branches() == [] and "more than once" not in solution_text(square)
    twice = Graph(graph_from_dict({"graph": {"f": "x*x + x"}, "data": {"x": 3}}))
    assert twice.branches() == ["x"] and "x is used more than once (in f)" in solution_text(twice)


def test_a_max_whose_arguments_tie_at_the_data_is_one_line():
    """max(x, y) at x = y = 1: its slope is no one number (the key read 1_(1 − 1 > 0) = 0.5, SymPy's ½ beside an
    indicator of 0); refused in one line, as the variants' rule keeps ties 0.1 apart. Apart, it is worked."""
    with pytest.raises(ProblemError, match=r"graph.q: expected the arguments of max apart at the data, but they tie "
                                           r"there \(x = y = 1\)"):
        Graph(graph_from_dict({"graph": {"q": "max(x, y)"}, "data": {"x": 1, "y": 1}}))
    assert Graph(graph_from_dict({"graph": {"q": "max(x, y)"}, "data": {"x": 1, "y": 2}})).value["q"] == 2


def test_the_page_writes_a_difference_as_typed_positive_term_first():
    """r = y − x on the page as in the equation and the worked solution (the page wrote r = −x + y)."""
    from derivations.outputs.page import render_text
    from derivations.teaching.handout import layout

    g = Graph(graph_from_dict({"graph": {"r": "y - x", "L": "r^2"}, "data": {"x": 1, "y": 3}}))
    sheet = render_text(layout(g), True)
    assert "Equations: r = y − x; L = r^2." in sheet and "−x + y" not in sheet
