"""A computational graph's students' page (issue 34): CS231n's circuit as worksheet and key in every output (text,
Markdown, LaTeX, PDF), the circuit's figure, the self-check page judged as ``check`` judges, and the course site's
pages of the circuit and the neuron. The worksheet shows no answer (q = 3, f = −12, ∂f/∂z = 3 nowhere; −4 only
where it is z's given value), the key shows every one."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from sympy import Rational

from derivations.cli.print import main as print_main
from derivations.engine.graph import Graph, GraphProblem, graph_from_dict, load_graph
from derivations.notation.tree import Numeral
from derivations.notation.tree_printing import to_text
from derivations.outputs.circuit_figure import circuit_svg
from derivations.outputs.page import render
from derivations.outputs.pdf import render_pdf
from derivations.outputs.selfcheck import page_html, write_page
from derivations.teaching.check import Checker
from derivations.teaching.circuit import GraphMarking
from derivations.teaching.handout import layout

PROBLEMS = Path(__file__).resolve().parents[1] / "derivations" / "problems"
CIRCUIT, NEURON = PROBLEMS / "circuit.toml", PROBLEMS / "neuron.toml"
# CS231n's published answers, and the circuit's given data (x, y, z) and the output's own gradient, 1
ANSWERS = {"forward.q": "3", "forward.f": "-12", "grad.q": "-4", "grad.x": "-4", "grad.y": "-4", "grad.z": "3"}
GIVEN = {"−2", "5", "−4", "1"}


@pytest.fixture(scope="module")
def circuit():
    return Graph(load_graph(CIRCUIT))


@pytest.fixture(scope="module")
def neuron():
    return Graph(load_graph(NEURON))


def numbers(text: str) -> list:
    """The numbers a page writes, its own labels left out (the header's identifier, "Step 2", "Steps 1–2",
    "4 significant digits", a PDF's page count)."""
    text = text.replace("-", "−")
    text = re.sub(r"problem [0-9a-f]{8}|Steps? \d+(–\d+)?|\d+ significant|\d+ equations|\d+ / \d+|\d+/\d+$", " ", text,
                  flags=re.M)
    return re.findall(r"(?<![\w.])−?\d+(?:\.\d+)?(?!\w|\.\d)", text)


# -- the page --------------------------------------------------------------------------------------------


def test_the_page_asks_every_key_the_checker_marks_in_its_order_and_fills_it_with_the_true_value(circuit):
    page = layout(circuit)
    marking = GraphMarking(circuit)
    slots = page.slots(given=False)
    assert list(dict.fromkeys(s.key for s in slots)) == marking.order
    for slot in slots:
        assert Rational(to_text(slot.content, False).replace("−", "-").strip("()")) == marking.true[slot.key], slot.key
    assert page.blanks() == len(slots) == 10  # each earlier answer repeated where a later step uses it


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_the_worksheet_shows_no_answer_and_the_key_shows_every_one(circuit, fmt):
    page = layout(circuit)
    sheet, key = render(page, fmt, worksheet=True), render(page, fmt, worksheet=False)
    assert set(numbers(sheet)) <= GIVEN  # q = 3, f = −12 and ∂f/∂z = 3 nowhere
    # and every −4 on it is z's given value (the gradients of −4 are blanks)
    z = [s for s in page.slots(given=True) if to_text(s.content, False).strip("()") == "−4"]
    assert numbers(sheet).count("−4") == len(z) == 3  # the setup, Step 2, ∂f/∂q's local derivative
    blank = {"text": "____", "markdown": r"\underline", "latex": r"\underline"}[fmt]
    assert sheet.count(blank) == 10 and blank not in key
    assert {"3", "−12", "−4"} <= set(numbers(key))
    assert numbers(key).count("−4") == len(z) + 5  # ∂f/∂q, ∂f/∂x, ∂f/∂y, and ∂f/∂q again in those two


def test_the_backward_pass_writes_each_local_derivative_and_the_branch_sentence():
    g = Graph(graph_from_dict({"graph": {"f": "x*x + x"}, "data": {"x": 3}}))
    key = render(layout(g), "text", worksheet=False)
    assert "∂f/∂x = 2·x + 1" in key  # the local derivative, as a formula
    assert "∂f/∂x = ∂f/∂f·∂f/∂x = 1·(2·3 + 1) = 7" in key  # with the numbers, the value (issue: 7)
    assert "Gradients add where a value branches: x feeds f more than once" in key


# The output's equation uses b and c = e^(−b): its local derivative in b holds c fixed (b − z = −1.75), the
# gradient ∂f/∂b (≈ −2.568) counts the path through c too
CLASH = graph_from_dict({"graph": {"a": "x * y", "b": "a + x", "c": "exp(-b)", "f": "(b - z)^2 / 2 + log(c + 1)"},
                         "data": {"x": "1.5", "y": "-2", "z": "1/4"}})
REGULARIZED = graph_from_dict({"graph": {"p": "w * x", "L": "(y - p)^2 + lam*w^2"},
                               "data": {"w": "0.5", "x": "2", "y": "3", "lam": "0.1"}})
SYMBOL = r"\(∂(\w+)/∂(\w+)\)_(?:\w+|\([^)]*\))|∂(\w+)/∂(\w+)"  # ∂f/∂b, (∂f/∂b)_c: u and v


def _page_symbols(g, key: str) -> dict:
    """Every symbol of the key's text with the values it stands for (4 digits): a display's gradient (``∂f/∂b =
    … ≈ −2.568``) and each local derivative its step writes as a formula (``(∂f/∂b)_c = b − z``, valued
    from the graph)."""
    out = {}
    for line in key.splitlines():
        if line.startswith("    ∂"):
            symbol = re.match(SYMBOL, line.strip())[0]
            out.setdefault(symbol, set()).add(float(f"{float(numbers(line)[-1].replace('−', '-')):.4g}"))
        if line.startswith("Local derivative"):
            for entry in re.split(r", (?=\(?∂)", line.partition(": ")[2]):
                m = re.match(SYMBOL, entry)
                u, v = ((n if n in g.symbol else n.replace("_", "")) for n in ((m[1], m[2]) if m[1] else (m[3], m[4])))
                value = float(g.decimal(g.exact(g.local[(u, v)])))  # (the page writes w0 as w_0)
                out.setdefault(m[0], set()).add(float(f"{value:.4g}"))
    return out


@pytest.mark.parametrize("name", ["clash", "regularized", "circuit", "neuron"])
def test_no_symbol_of_the_page_stands_for_two_values(name, circuit, neuron):
    g = {"clash": Graph(CLASH), "regularized": Graph(REGULARIZED), "circuit": circuit, "neuron": neuron}[name]
    key = render(layout(g), "text", worksheet=False)
    values = _page_symbols(g, key)
    assert {s: v for s, v in values.items() if len(v) > 1} == {}
    if name == "clash":
        assert values["∂f/∂b"] == {-2.568} and values["(∂f/∂b)_c"] == {-1.75}
        assert values["∂f/∂c"] == {0.1824} and values["∂f/∂z"] == {1.75}  # one path: the same number, one symbol
    if name == "regularized":
        assert values["∂L/∂w"] == {-7.9} and values["(∂L/∂w)_p"] == {0.1}
    if name in ("circuit", "neuron"):  # no clash: the page as it was
        assert ")_" not in key and "held fixed" not in key


def test_the_output_equations_local_derivative_holds_its_mark_in_every_output():
    g = Graph(CLASH)
    page = layout(g)
    for worksheet in (True, False):
        text = render(page, "text", worksheet)
        assert "Local derivatives: ∂c/∂b = −e^(−b), (∂f/∂b)_c = b − z" in text
        assert ("(∂f/∂b)_c is the local derivative of f's equation with c held fixed; the gradient ∂f/∂b also counts b's "
                "effect through c.") in text
        assert "∂f/∂b = ∂f/∂c·∂c/∂b + ∂f/∂f·(∂f/∂b)_c ≈ " in text and "∂f/∂b = b − z" not in text
    held = r"\left(\frac{\partial f}{\partial b}\right)_{c}"
    for fmt in ("latex", "markdown"):
        tex = render(page, fmt, worksheet=False)
        assert f"{held} = b - z" in tex and r"\frac{\partial f}{\partial f} \cdot " + held + r" \approx" in tex
        assert r"\frac{\partial f}{\partial b} = b - z" not in tex
    html = page_html(g)
    assert f"{held} = b - z" in html and r"\frac{\partial f}{\partial b} = b - z" not in html
    label = re.search(r'"grad\.b": \{[^}]*"label": ("[^"]+")', html)[1]
    assert json.loads(label) == "∂f/∂b"  # the blank is the gradient, as check and grade name it
    from derivations.outputs.pdf import typst_source

    source = typst_source(page, False, "a4", {"": "figure-1.svg"})
    assert "lr(( frac(partial f, partial b) ))_(c) = b - z" in source
    assert "frac(partial f, partial b) = b - z" not in source


def test_the_clashs_key_pdf_writes_the_held_derivative(tmp_path):
    path = tmp_path / "key.pdf"
    path.write_bytes(render_pdf(Graph(CLASH), worksheet=False))
    text = _pdftotext(path)
    assert "held fixed" in text and "−2.568" in text and "−1.5" in text


def test_the_neuron_page_rounds_to_four_digits_with_approx_and_asks_dx(neuron):
    key = render(layout(neuron), "text", worksheet=False)
    assert "f = sigmoid(a) = sigmoid(1) ≈ 0.7311" in key
    for grad in ("∂f/∂w_0 = ∂f/∂a·∂a/∂w_0 ≈ (0.1966)·(−1) ≈ −0.1966", "∂f/∂x_1 = ∂f/∂a·∂a/∂x_1 ≈ (0.1966)·(−3) ≈ −0.5898"):
        assert grad in key
    sheet = render(layout(neuron), "text", worksheet=True)
    assert not {"0.7311", "0.1966", "0.3932", "0.5898"} & {n.lstrip("−") for n in numbers(sheet)}


# -- the PDFs ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs(circuit, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdfs")
    out = {}
    for name, worksheet in (("worksheet", True), ("key", False)):
        data = render_pdf(circuit, worksheet=worksheet, data=CIRCUIT.read_bytes())
        assert data == render_pdf(circuit, worksheet=worksheet, data=CIRCUIT.read_bytes())  # reproducible bytes
        out[name] = folder / f"{name}.pdf"
        out[name].write_bytes(data)
    return out


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_worksheet_pdf_shows_no_answer_and_the_key_pdf_shows_them(pdfs):
    """The issue's done-when: "The circuit's worksheet PDF shows no answer, its key shows them"."""
    sheet, key = _pdftotext(pdfs["worksheet"]), _pdftotext(pdfs["key"])
    assert set(numbers(sheet)) <= GIVEN, sorted(set(numbers(sheet)) - GIVEN)
    assert {"3", "−12", "−4"} <= set(numbers(key))
    assert "Worksheet" in sheet and "Answer key" in key
    for path in pdfs.values():
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout


def test_print_writes_the_graphs_worksheet_and_key(tmp_path, capsys):
    assert print_main(["--config", str(CIRCUIT), "--worksheet"]) == 0
    sheet = capsys.readouterr().out
    assert "q = x + y = (−2) + 5 = ____" in sheet and set(numbers(sheet)) <= GIVEN
    assert print_main(["--config", str(CIRCUIT), "--key", "--format", "markdown"]) == 0
    assert "= -12" in capsys.readouterr().out
    out = tmp_path / "sheet.pdf"
    assert print_main(["--config", str(CIRCUIT), "--worksheet", "--format", "pdf", "-o", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    assert print_main(["--config", str(CIRCUIT), "--format", "latex"]) == 2  # the worked solution: text or Markdown
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--worksheet or --key" in err


# -- the figure -------------------------------------------------------------------------------------------


def test_the_figure_writes_values_above_and_gradients_below_and_boxes_on_the_worksheet(circuit):
    key, sheet = circuit_svg(circuit), circuit_svg(circuit, answers=False)
    values = re.findall(r'class="wire-value"[^>]*>([^<]*)<', key)
    grads = re.findall(r'class="wire-gradient"[^>]*>([^<]*)<', key)
    assert values == ["−2", "5", "−4", "3", "−12"] and grads == ["−4", "−4", "3", "−4", "1"]  # x, y, z, q, f
    assert re.findall(r'class="wire-value"[^>]*>([^<]*)<', sheet) == ["−2", "5", "−4"]  # the data, given
    assert re.findall(r'class="wire-gradient"[^>]*>([^<]*)<', sheet) == ["1"]  # ∂f/∂f
    assert sheet.count('class="wire-value empty"') == 2 and sheet.count('class="wire-gradient empty"') == 4
    assert circuit_svg(Graph(load_graph(CIRCUIT))) == key  # deterministic


def test_the_figure_escapes_a_hostile_name():
    """Names are identifiers when read from a file; a problem built by hand is escaped all the same."""
    hostile = '<q&"x>'
    g = Graph(GraphProblem(((hostile, "x + y"), ("f", "x * y")), (("x", Rational(1)), ("y", Rational(2)))))
    svg = circuit_svg(g)
    assert hostile not in svg and "&lt;q&amp;&quot;x&gt;" in svg
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed


# -- the self-check page ----------------------------------------------------------------------------------


def test_the_self_check_page_has_an_input_per_blank_and_no_answer(circuit):
    html = page_html(circuit, back=None)
    keys = re.findall(r'<input [^>]*data-key="([^"]+)"', html)
    assert [k.split("#")[0] for k in keys] == [s.key for s in layout(circuit).slots(given=False)]
    data = re.search(r"const D = (.*?);\n", html).group(1)  # the marking's data (the page's scripts aside)
    assert not re.search(r"(?<![\de])[-−]12(?!\d)", html) and "Math.exp" not in data  # no answer, no σ here
    assert '"defs"' in html and "X.add(g(0), g(1))" in html  # q = x + y, computed in the browser (exactly)
    nodes = re.findall(r'<g class="qty" data-node="[^"]+" data-key="([^"]+)">', html)
    assert nodes == list(ANSWERS)  # the circuit of verdicts: a node per blank, in the marking's order


@pytest.mark.slow
def test_the_self_check_page_judges_the_circuit_as_check_does(browser, tmp_path, circuit, neuron):
    path = write_page(circuit, tmp_path / "circuit.html", back=None)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())

    def typed(key, value):
        el = page.locator(f'input[data-key="{key}"]')
        el.fill(value)
        el.press("Enter")
        fb = page.locator(f'[data-feedback-for="{key}"]')
        return set((fb.get_attribute("class") or "").split()) - {"feedback"}, fb.get_attribute("data-mistakes")

    for key, value in ANSWERS.items():
        assert typed(key, value) == ({"correct"}, ""), key
    assert typed("grad.q", "3") == ({"wrong"}, "product-local-own")  # ∂f/∂q taken as q, as check names it
    assert Checker(circuit.problem).check({"grad.q": "3"})["grad.q"].mistakes[0].name == "product-local-own"
    wrong = page.locator("[data-first-divergence]")  # on the circuit of verdicts: where the error entered
    assert wrong.get_attribute("data-key") == "grad.q" and wrong.get_attribute("data-verdict") == "wrong"
    path = write_page(neuron, tmp_path / "neuron.html", back=None)
    page.goto(path.as_uri())
    for key, value in {"forward.f": "0.7311", "grad.w0": "-0.1966", "grad.x0": "0.3932", "grad.x1": "-0.5898"}.items():
        assert typed(key, value)[0] == {"correct"}, key  # σ in JavaScript: the page's exp
    assert typed("grad.w1", "0.3932")[0] == {"wrong"}
    assert errors == []
    page.close()


# -- the course site --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name, problem", [("circuit-sheet", CIRCUIT), ("neuron-sheet", NEURON)])
def test_the_sites_graph_pages_leak_no_answer_and_the_solution_shows_them(sites, name, problem):
    solution, worksheet = sites
    g = Graph(load_graph(problem))
    page = layout(g, data=problem.read_bytes())
    answers = {to_text(s.content, False) for s in page.slots(given=False) if isinstance(s.content, Numeral)}
    answers -= {to_text(s.content, False) for s in page.slots(given=True)} | {"1"}
    sheet_html = (worksheet / f"{name}.html").read_text(encoding="utf-8")
    key_html = (solution / f"{name}.html").read_text(encoding="utf-8")
    folder = f"_pdf/{page.problem_id}"
    sheet_pdf = _pdftotext(worksheet / folder / "worksheet.pdf")
    for a in answers:
        pattern = rf"(?<![\w.]){re.escape(a.replace('−', '-'))}(?![\w.])"
        for text in (sheet_html.replace("−", "-"), sheet_pdf.replace("−", "-")):
            assert not re.search(pattern, text), a
        assert re.search(pattern, key_html.replace("−", "-")), a
    assert sheet_html.count(r"\underline") == page.blanks() and 'class="wire-value empty"' in sheet_html
    assert not (worksheet / folder / "answer-key.pdf").exists() and (solution / folder / "answer-key.pdf").is_file()
    assert (worksheet / folder / "selfcheck.html").is_file()


@pytest.mark.slow
def test_a_graph_page_in_sphinx_draws_its_circuit_and_refuses_a_networks_directive_in_one_line(tmp_path):
    import shutil

    from building import sphinx_build

    src = tmp_path / "src"
    shutil.copytree(Path(__file__).parent / "roots" / "test-deriv", src)
    (src / "index.md").write_text("# Circuit\n\n```{deriv-problem} derivations:circuit.toml\n```\n\n```{deriv-network}\n```\n\n"
                                  "```{deriv-handout}\n```\n\n```{deriv-step} step1\n```\n", encoding="utf-8")
    result = sphinx_build("-W", "--keep-going", "-q", src, tmp_path / "out")
    assert result.returncode != 0
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "index.md:12" in warnings[0] and "[derivations.problem]" in warnings[0], result.stderr
    assert "deriv-step: the problem is a computational graph; its page has deriv-handout" in warnings[0]
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="derivations-circuit"') == 2 and ">−12<" in html  # deriv-network and the page's figure


def test_a_graphs_title_is_escaped_in_every_output():
    title = 'Week 1 <script>alert(1)</script> & "$x_1$" #set \\ 50%'
    g = Graph(graph_from_dict({"graph": {"q": "x + y", "f": "q * z"}, "data": {"x": -2, "y": 5, "z": -4},
                               "worksheet": {"title": title}}))
    page = layout(g)
    assert render(page, "text", True).splitlines()[0] == title
    assert render(page, "markdown", True).splitlines()[0] == r'# Week 1 \<script\>alert(1)\</script\> & "\$x\_1\$" \#set \\ 50%'
    assert r"\section*{Week 1 <script>alert(1)</script> \& " in render(page, "latex", True)
    from derivations.notation.tree_printing import typst_string
    from derivations.outputs.pdf import typst_source

    assert f"heading(level: 1, {typst_string(title)})" in typst_source(page, True, "a4", {"": "figure-1.svg"})
    html = page_html(g)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


CIRCUITS = {  # the shapes a circuit takes: a gate of five inputs, a value used twice, a wire past a gate, long numbers
    "circuit": lambda: load_graph(CIRCUIT),
    "neuron": lambda: load_graph(NEURON),
    "branches": lambda: graph_from_dict({"graph": {"f": "x*x + x", "h": "max(f, 2) - exp(f)/f + x", "k": "h*f*x"},
                                         "data": {"x": 3}}),
    "chain": lambda: graph_from_dict({"graph": {"a": "sigmoid(x*w + b)", "c": "tanh(a) * x - 1/3", "d": "c*c*a + w"},
                                      "data": {"x": "0.5", "w": "-1.5", "b": "1000.25"}}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_the_circuits_texts_lie_inside_and_apart(page, name):
    from figure_texts import TEXTS, defects

    g = Graph(CIRCUITS[name]())
    page.set_content("<!DOCTYPE html><body>" + circuit_svg(g) + circuit_svg(g, answers=False) + "</body>")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    report = page.evaluate(TEXTS.replace("svg.derivations-network", "svg.derivations-circuit"))
    assert len(report) == 2 and report[0]["texts"] > report[1]["texts"] >= len(g.problem.names), report
    assert defects(report) == [], defects(report)


@pytest.mark.slow
def test_derivations_problem_may_name_a_graph_and_the_selfcheck_build_writes_its_page(tmp_path):
    import shutil

    from building import sphinx_build

    src = tmp_path / "src"
    shutil.copytree(Path(__file__).parent / "roots" / "test-deriv", src)
    shutil.copy(CIRCUIT, src / "circuit.toml")
    (src / "conf.py").write_text((src / "conf.py").read_text() + 'extensions.append("derivations.sphinx.selfcheck")\n')
    (src / "index.md").write_text("# Circuit\n\n```{deriv-pdfs}\n```\n\n```{deriv-handout}\n```\n", encoding="utf-8")
    out = tmp_path / "out"
    result = sphinx_build("-W", "--keep-going", "-q", "-D", "derivations_problem=circuit.toml",
                          "-D", "derivations_worksheet=1", src, out)
    assert result.returncode == 0, result.stderr
    html = (out / "index.html").read_text(encoding="utf-8")
    assert html.count(r"\underline") == 10 and not re.search(r"(?<![\de])[-−]12(?!\d)", html)
    folder = out / "_pdf" / layout(Graph(load_graph(CIRCUIT)), data=CIRCUIT.read_bytes()).problem_id
    assert sorted(p.name for p in folder.iterdir()) == ["selfcheck.html", "worksheet.pdf"]
    for page in (out / "selfcheck.html", folder / "selfcheck.html"):  # the site's, and the one beside the PDFs
        assert 'data-key="grad.x"' in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_every_shape_lays_out_in_every_output_and_the_checker_knows_every_blank(name):
    from derivations.outputs.pdf import typst_source

    g = Graph(CIRCUITS[name]())
    page = layout(g)
    true = Checker(g.problem).true
    for slot in page.slots(given=False):
        v = true[slot.key]  # a key the checker knows (KeyError otherwise)
        if isinstance(slot.content, Numeral) and v.is_Rational and not slot.content.approx:
            assert Rational(slot.content.text) == v, slot.key
        elif isinstance(slot.content, Numeral) and slot.content.approx:  # rounded to the page's 4 digits
            assert abs(float(slot.content.text) - float(v)) <= 5e-4 * abs(float(v)), slot.key
    assert {s.key for s in page.slots(given=False)} == set(true)
    for fmt in ("text", "markdown", "latex"):
        assert render(page, fmt, True).count("____" if fmt == "text" else r"\underline") >= len(true)
    assert typst_source(page, True, "a4", {"": "figure-1.svg"}).count("#blank") >= len(true)


def test_the_myst_plugin_writes_a_graphs_page_and_refuses_a_networks_directive(tmp_path):
    import json

    from derivations.cli import myst

    options = {"problem": "derivations:circuit.toml"}
    sheet = json.dumps(myst.run("directive", "deriv-handout", {"options": options}, tmp_path, worksheet=True, key=""))
    key = json.dumps(myst.run("directive", "deriv-handout", {"options": options}, tmp_path, worksheet=False, key=""))
    assert sheet.count(r"\\underline") == 10 and r"\\underline" not in key
    assert not re.search(r"(?<![\de])-12(?!\d)", sheet) and "= -12" in key
    image = myst.run("directive", "deriv-network", {"options": options}, tmp_path, worksheet=True, key="")
    assert image[0]["alt"] == "the circuit"
    assert 'class="derivations-circuit"' in (tmp_path / image[0]["url"].lstrip("/")).read_text(encoding="utf-8")
    step = json.dumps(myst.run("directive", "deriv-step", {"arg": "step1", "options": options}, tmp_path, worksheet=False,
                               key=""))
    assert "deriv-step: the problem is a computational graph; its page has deriv-handout" in step


def test_a_compound_equation_is_drawn_as_such_not_as_its_outer_operation():
    """L = (y − p)² + λ·w² is a gate marked ⋯ (its equation is on the page): drawn as a + fed by p, y, w and λ it
    read L = p + y + w + λ, whose local derivatives are all 1; r = y − p draws a −, q = x + y a +."""
    g = Graph(graph_from_dict({"graph": {"p": "w * x", "r": "y - p", "L": "r^2 + lam*w^2", "q": "x + y"},
                               "data": {"w": 0.5, "x": 2, "y": 3, "lam": 0.1}}))
    svg = circuit_svg(g)
    gates = dict(re.findall(r'<g class="gate" data-name="(\w+)">.*?<text[^>]*>([^<]*)</text>', svg))
    assert gates == {"p": "×", "r": "−", "L": "⋯", "q": "+"}, gates
