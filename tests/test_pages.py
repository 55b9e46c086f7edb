"""Every network gets the students' page: Mazur's example, a two-hidden-layer network with biases and a
two-sample problem each get a worksheet and an answer key (site pages and PDFs, built once per session by the
``sites`` fixture), the checker takes their answers back, and no derived value the page asks for leaks into
any file of the worksheet build. The handout's page stays the paper's, byte for byte (``tests/golden``)."""

import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest
from sympy import Rational

from derivations import evaluate, load_problem
from derivations.engine.errors import ProblemError
from derivations.engine.problem import HANDOUT, problem_from_dict
from derivations.outputs import pdf
from derivations.notation.tree import Numeral
from derivations.notation.tree_printing import to_text, typst_string
from derivations.outputs.page import render_latex, render_markdown, render_text
from derivations.teaching import handout as h
from derivations.teaching.numbers import PageNumbers
from derivations.teaching.page import Figure
from derivations.teaching.check import Checker
from test_worksheet import files, spellings, text_of

pytestmark = pytest.mark.slow  # the built sites' pages and PDFs

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).with_name("golden")
# The site's worksheet pages beyond the handout: page -> (problem file, most A4 pages of its PDFs)
PAGES = {
    "mazur-sheet": (HANDOUT.with_name("mazur.toml"), 2),
    "two-layers": (ROOT / "docs" / "problems" / "two-layers.toml", 3),
    "minibatch": (ROOT / "docs" / "problems" / "minibatch.toml", 4),
}


@pytest.fixture(scope="module")
def pages():
    out = {}
    for name, (path, _) in PAGES.items():
        values = evaluate(load_problem(path))
        out[name] = (values, h.layout(values, data=path.read_bytes()))
    return out


def _num_text(slot) -> str:
    return to_text(slot.content, worksheet=False)


def asked_spellings(values, page) -> set:
    """Every way the page's answers can be written (outputs, loss, backward values, asked gradients, the
    descent step): the key's own spelling of each answer slot, and for an exact value its decimal and fraction;
    minus what the page itself gives (weights, x, y, the previous layer's values, a local derivative) and 0, 1."""
    given = {_num_text(s) for s in page.slots(given=True)} | {"0", "1", "−1"}
    true = Checker(values.problem).true
    out = set()
    for slot in page.slots(given=False):
        if slot.key.startswith("problem.") or not isinstance(slot.content, Numeral):
            continue
        text = _num_text(slot)
        if text in given:
            continue
        out |= {text, text.replace("−", "-")}
        if true[slot.key].is_Rational:
            out |= spellings(true[slot.key])
    return {s for s in out if s not in given and s.replace("-", "−") not in given}


@pytest.fixture(scope="module")
def forbidden(pages):
    return {name: asked_spellings(v, page) for name, (v, page) in pages.items()}


def _leaks(text: str, bad: set) -> list:
    out = []
    for spelling in bad:
        for m in re.finditer(re.escape(spelling), text):
            before, after = text[m.start() - 1: m.start()], text[m.end(): m.end() + 1]
            if after == "*":  # a coefficient in the self-check page's formulas: code, not a value
                continue
            if not (before.isdigit() or before == ".") and not after.isdigit():
                out.append(f"{spelling!r} in …{text[max(0, m.start() - 40): m.end() + 20]!r}")
    return out


def test_the_handout_page_is_unchanged():
    """The paper's page, pinned: its text (worksheet and key) and the Typst source of its PDFs (the paper's
    page with the precision rule's one sentence, a vector's function in one pair of brackets and the loss's sum of
    squares in square brackets, as the paper writes them)."""
    page = h.layout(evaluate(load_problem()))
    assert page.blanks() == 51
    for worksheet, name, digest in ((True, "worksheet", "88a0b648f3a8ecc47430c27c419ef83d9b087894c71ad5f322dd6830880f8dce"),
                                    (False, "key", "7578c12ca7e97c03f18097471284d04ebf124b5a0d9c39afac7f0e8ca342cc6b")):
        assert render_text(page, worksheet) == (GOLDEN / f"handout-{name}.txt").read_text(encoding="utf-8")
        figures = {b.weight: f"figure-{k + 1}.svg" for k, b in enumerate(b for b in page.blocks if isinstance(b, Figure))}
        assert hashlib.sha256(pdf.typst_source(page, worksheet, "a4", figures).encode()).hexdigest() == digest


@pytest.mark.parametrize("name", list(PAGES))
def test_each_network_gets_a_page_of_every_step(pages, name):
    values, page = pages[name]
    p = values.problem
    keys = {s.key for s in page.slots(given=False)}
    at = [f"@{s + 1}" for s in range(p.n_samples)] if p.n_samples > 1 else [""]
    for key in values.derivation.symbols.keys:  # every forward quantity of every sample is a blank
        assert {f"forward.{key}[{i + 1}]{a}" for i in range(len(values.derivation.symbols.node(key))) for a in at} <= keys
    assert "forward.loss" in keys
    grads = [k for k in keys if k.startswith("grad.")]
    assert len(grads) == len(h.asked(values.derivation)) >= 3
    assert any(k.startswith("grad.b_") for k in grads) == p.bias
    # not the symmetry lesson: the page closes with a gradient-descent step of each asked parameter
    assert not p.symmetric and {k.replace("grad.", "descent.") for k in grads} <= keys


def test_mazur_page_asks_his_gradients_and_his_update(pages):
    values, page = pages["mazur-sheet"]
    keys = {s.key for s in page.slots(given=False)}
    assert {"grad.w_b11", "grad.w_a11", "descent.w_b11", "descent.w_a11"} <= keys  # his w5, w1 and their updates
    c = Checker(values.problem)
    assert abs(float(c.true["descent.w_b11"]) - 0.35891648) < 5e-9  # his published w5 after one step
    assert abs(float(c.true["descent.w_a11"]) - 0.149780716) < 5e-10  # his w1


def test_asked_parameters_can_be_named_in_the_problem_file():
    text = (HANDOUT.with_name("mazur.toml")).read_text(encoding="utf-8")
    assert text.rstrip().splitlines()[-2] == "[worksheet]"  # the file's last table: the keys below join it
    text += 'ask = ["w_b22", "b_b2"]\nlr = 0.1\n'
    import tomllib

    values = evaluate(problem_from_dict(tomllib.loads(text)))
    page = h.layout(values)
    keys = {s.key for s in page.slots(given=False)}
    assert {k for k in keys if k.startswith("grad.")} == {"grad.w_b22", "grad.b_b2"}
    assert to_text(page.display("descent").math, worksheet=False).count("0.1") >= 2  # η = 0.1, given
    for bad, message in (('["w_z11"]', "worksheet.ask"), ('["w_b11", "w_b11"]', "asked twice"), ("[]", "1 to 6")):
        broken = text.replace('ask = ["w_b22", "b_b2"]', f"ask = {bad}")
        with pytest.raises(ProblemError, match=message) as err:
            h.layout(evaluate(problem_from_dict(tomllib.loads(broken), source="mine.toml")))
        assert str(err.value).startswith("mine.toml: worksheet.ask: ")  # the file, as every other field names it


def test_the_page_title_comes_from_the_problem_file_and_is_escaped_in_every_output():
    from derivations.outputs.pdf import typst_source
    from derivations.outputs.selfcheck import page_html

    mazur = h.layout(evaluate(load_problem(HANDOUT.with_name("mazur.toml"))))
    assert mazur.title == "Mazur's step-by-step example"
    assert h.layout(evaluate(load_problem())).title == "Backpropagation Handout"  # the handout's, by default
    title = 'Week 3 <script>alert(1)</script> & "$x_1$" #set \\ 50%'
    text = HANDOUT.read_text(encoding="utf-8") + f"\n[worksheet]\ntitle = {json.dumps(title)}\n"
    values = evaluate(problem_from_dict(tomllib.loads(text)))
    page = h.layout(values)
    assert render_text(page, True).splitlines()[0] == title
    assert render_markdown(page, True).splitlines()[0] == r'# Week 3 \<script\>alert(1)\</script\> & "\$x\_1\$" \#set \\ 50%'
    assert r'\section*{Week 3 <script>alert(1)</script> \& "\$x\_1\$" \#set \textbackslash{} 50\%}' \
        in render_latex(page, True)
    assert f"heading(level: 1, {typst_string(title)})" in typst_source(page, True, "a4", {})
    html_page = page_html(values)
    assert "<script>alert(1)" not in html_page and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_page
    for bad in ('""', "5", '"a\\tb"', json.dumps("x" * 81), '"Week 3 \\uFFFE"', '"\\uFFFF"'):  # XML allows neither
        with pytest.raises(ProblemError, match="worksheet.title: expected one line of text of 1 to 80 characters"):
            problem_from_dict(tomllib.loads(HANDOUT.read_text(encoding="utf-8") + f"\n[worksheet]\ntitle = {bad}\n"))


@pytest.mark.parametrize("name", list(PAGES))
def test_worksheet_page_and_pdfs_leak_no_asked_value(sites, pages, forbidden, name):
    """The issue's leak test, per page: the worksheet build's page, and its PDF, hold none of the page's
    derived answers in any spelling; the solution build's key shows them (so the search can fail)."""
    solution, worksheet = sites
    values, page = pages[name]
    bad = forbidden[name]
    asked = {_num_text(s) for s in page.slots(given=False) if s.key.startswith("grad.") and isinstance(s.content, Numeral)}
    assert asked and asked <= bad | {"0"}
    folder = f"_pdf/{page.problem_id}"
    sheet = [worksheet / f"{name}.html", *sorted((worksheet / folder).glob("*"))]
    assert [p.name for p in sheet[1:]] == ["selfcheck.html", "worksheet.pdf"]  # and its own self-check page
    leaks = [f"{p.name}: {leak}" for p in sheet for leak in _leaks(text_of(p), bad)]
    assert not leaks, "\n".join(leaks[:10])
    key_pdf = text_of(solution / folder / "answer-key.pdf").replace("\n", " ")
    key_html = text_of(solution / f"{name}.html")
    for g in asked - {"0"}:  # the key shows the asked gradients
        assert g in key_pdf or g.replace("−", "-") in key_pdf, (g, key_pdf[:300])
        assert g.replace("−", "-") in key_html or g in key_html


def _data_texts(values, page) -> set:
    """The page's own spellings of the problem's data (x, y, weights, biases): numbers a worksheet may print."""
    p = values.problem
    numbers = [v for x in p.xs for v in x] + [v for y in p.ys for v in y] + [v for W in p.weights for v in W]
    numbers += [v for b in (p.biases or []) for v in b]
    nb = PageNumbers(values, 4)
    return {to_text(nb.num(v), worksheet=False) for v in numbers} | {"0", "1", "−1"}


@pytest.mark.parametrize("name", list(PAGES))
def test_a_worksheet_prints_no_value_it_grades(pages, name):
    """A number the worksheet prints (a given slot) is never the answer to one of its blanks, unless it is the
    problem's own datum: a hidden layer's values feed the next step as its blanks again, not as numbers (they
    were printed there, 8 of a handout variant's 29 graded blanks given away). The handout's own page prints
    them, as the paper does (``tests/golden``)."""
    values, page = pages[name]
    given = {_num_text(s) for s in page.slots(given=True)} - _data_texts(values, page)
    graded = {s.key: _num_text(s) for s in page.slots(given=False) if isinstance(s.content, Numeral)}
    shown = sorted(key for key, text in graded.items() if text in given)
    assert not shown, shown
    paper = h.layout(evaluate(load_problem()))
    assert "0.15" in {_num_text(s) for s in paper.slots(given=True)} - _data_texts(evaluate(load_problem()), paper)


@pytest.mark.parametrize("name", list(PAGES))
def test_pdfs_fit_their_pages(sites, pages, name):
    from pypdf import PdfReader

    solution, _ = sites
    folder = solution / f"_pdf/{pages[name][1].problem_id}"
    limit = PAGES[name][1]
    for pdf_file in ("worksheet.pdf", "answer-key.pdf"):
        assert 1 <= len(PdfReader(folder / pdf_file).pages) <= limit, pdf_file


def test_no_other_file_of_the_worksheet_build_leaks_a_page_value(sites, forbidden):
    """Every other file of the worksheet build (search index, sources, the handout's pages) is searched for
    every new page's answers."""
    _, worksheet = sites
    mine = {f"{name}.html" for name in PAGES}
    leaks = []
    for path in files(worksheet):
        if path.name in mine or "_pdf" in path.parts or path.name in ("handout.html", "selfcheck.html"):
            continue
        text = text_of(path)
        for name, bad in forbidden.items():
            long = {b for b in bad if len(b.lstrip("−-")) >= 5}  # short ones (0.22) collide with the handout's givens
            leaks += [f"{path.name}: {leak}" for leak in _leaks(text, long)]
    assert not leaks, "\n".join(leaks[:10])


def _answers_file(tmp_path, values, page, wrong: str | None = None) -> Path:
    c = Checker(values.problem)
    lines = ["[answers]"]
    for key in sorted({s.key for s in page.slots(given=False)}):
        v = c.true[key]
        text = str(v) if v.is_Rational else f"{float(v):.6g}"
        if key == wrong:
            text = str(-v) if v.is_Rational else f"{-float(v) + 0.5:.6g}"
        lines.append(f'"{key}" = "{text}"')
    path = tmp_path / "answers.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["mazur-sheet", "minibatch"])
def test_checker_takes_the_page_back(tmp_path, capsys, pages, name):
    """The correct answers of the page: exit 0; one wrong answer: exit 1, named. (The checker's command line
    as a process: test_check.test_cli_as_a_module.)"""
    from derivations.cli.check import main

    values, page = pages[name]
    config = str(PAGES[name][0])
    assert main(["--config", config, str(_answers_file(tmp_path, values, page))]) == 0, capsys.readouterr()
    capsys.readouterr()
    wrong = "grad.w_a11"
    assert main(["--config", config, str(_answers_file(tmp_path, values, page, wrong))]) == 1
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith(wrong))
    assert "wrong" in line


def test_a_network_beyond_the_page_is_one_line_and_the_page_caps_are_documented():
    manual = (ROOT / "docs" / "students-page.md").read_text(encoding="utf-8")  # the README's reference, on the site
    assert f"{h.PAGE_WIDTH} units" in manual and f"{h.PAGE_SAMPLES} samples" in manual
    from conftest import random_problem

    deep = evaluate(random_problem(3, (2, 2, 2, 2, 2, 2), "relu", "mse"))
    with pytest.raises(ProblemError, match="at most 3 hidden layers"):
        h.layout(deep)


def test_rational_values_are_searched_in_every_spelling():
    assert {"0.0375", "3/80"} <= spellings(Rational(3, 80))


SWEEP = [  # (seed, layers, activations, loss, bias, samples, output): every operation the page writes
    (1, (2, 3, 2), "tanh", "mse", True, 2, "softmax"),
    (2, (2, 3, 2, 2), ("tanh", "leaky_relu"), "bce", True, 2, "sigmoid"),
    (3, (3, 2, 1), "softplus", "quadratic", False, 1, "identity"),
    (4, (2, 2, 2, 2, 2), ("relu", "sigmoid", "tanh"), "cross_entropy", False, 1, "softmax"),
    (5, (2, 4, 3), "sigmoid", "bce", True, 3, "sigmoid"),
    (6, (3, 2, 2), "identity", "mse", True, 1, "softmax"),
]


@pytest.mark.parametrize("seed, layers, act, loss, bias, samples, output", SWEEP)
def test_every_operation_lays_out_and_the_checker_knows_every_blank(seed, layers, act, loss, bias, samples, output):
    """Random problems of every activation, output layer, loss, depth, bias and batch: the page lays out in
    every output, each blank is a key the checker takes, the key's value at that key is the checker's, and the
    worksheet's text holds none of the answers the key shows."""
    from conftest import random_problem

    values = evaluate(random_problem(seed, layers, act, loss, bias, samples, output))
    page = h.layout(values)
    true = Checker(values.problem).true
    key_text, sheet_text = render_text(page, False), render_text(page, True)
    for writer in (render_markdown, render_latex):
        assert writer(page, True) and writer(page, False)
    assert pdf.typst_source(page, True) and pdf.typst_source(page, False)
    given = {_num_text(s) for s in page.slots(given=True)}
    for slot in page.slots(given=False):
        v = true[slot.key]  # a key the checker knows (KeyError otherwise)
        if isinstance(slot.content, Numeral) and v.is_Rational and not slot.content.approx:
            assert Rational(slot.content.text) == v, slot.key
        shown = _num_text(slot)
        if isinstance(slot.content, Numeral) and len(shown.lstrip("−")) >= 5 and shown not in given:
            assert shown in key_text and not re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d)", sheet_text), slot.key


def test_print_key_is_the_page_with_its_blanks_filled(capsys):
    """``--key`` prints the answer key from the same page model as ``--worksheet`` (text, Markdown, LaTeX)."""
    from derivations.cli.print import main

    assert main(["--key"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "handout-key.txt").read_text(encoding="utf-8")
    assert main(["--key", "--format", "latex", "--config", str(PAGES["mazur-sheet"][0])]) == 0
    latex = capsys.readouterr().out
    assert r"\documentclass" in latex and "0.08217" in latex and r"\underline" not in latex
    with pytest.raises(SystemExit) as stop:  # argparse's exit, in one line
        main(["--key", "--worksheet"])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize("activation, definition", [
    ("tanh", "tanh(z) = (e^z − e^(−z))/(e^z + e^(−z))"),
    ("leaky_relu", "LeakyReLU(z) = max(z, z/100)"),
    ("relu", "ReLU(z) = max(0, z)"),  # the handout's
    ("sigmoid", "sigmoid(z) = 1/(1 + e^(−z))"),
])
def test_step_2_defines_the_activation_by_a_formula_a_student_computes_with(activation, definition):
    """Not ``tanh(z) = tanh(z)``: an activation the registry writes as its own function is written out."""
    text = HANDOUT.read_text(encoding="utf-8").replace('activation = "relu"', f'activation = "{activation}"')
    assert f'activation = "{activation}"' in text
    page = render_text(h.layout(evaluate(problem_from_dict(tomllib.loads(text)))), True)
    step2 = next(line for line in page.splitlines() if line.startswith("Step 2:"))
    assert step2.endswith("     " + definition), step2


def test_a_one_unit_layers_bias_is_its_value_not_all_entries_and_moodle_takes_the_title():
    from derivations.cli.moodle import exercise_name

    text = ('[network]\nlayers = [2, 2, 1]\nactivation = "sigmoid"\noutput = "sigmoid"\nloss = "bce"\nbias = true\n'
            '[data]\nx = [0.5, 0.1]\ny = [1]\n[init]\nW_a = [[0.1, 0.2], [0.3, -0.4]]\nW_b = [[0.2, 0.1]]\n'
            'b_a = [0.1, 0.2]\nb_b = 0.05\n[worksheet]\ntitle = "Week 4: one output"\n')
    p = problem_from_dict(tomllib.loads(text), source="week4.toml")
    page = render_text(h.layout(evaluate(p)), True)
    assert "bias b_b = 0.05." in page and "all entries = 0.05" not in page
    assert exercise_name(p.source, p.title) == "Week 4: one output (week4)"


@pytest.mark.parametrize("outputs, line", [
    (1, "ℒ ≈ −(1·ln(0.5538) + (1 − 1)ln(1 − 0.5538)) ≈ 0.5909"),  # no 1/N·, no −1(…) for N = 1; no 1ln
    (2, "ℒ ≈ 1/2·(−(1·ln(0.5062) + (1 − 1)ln(1 − 0.5062)) − (0·ln(0.5100) + (1 − 0)ln(1 − 0.5100))) ≈ 0.6970"),
])
def test_the_binary_cross_entropy_line_reads_as_its_definition_term_by_term(outputs, line):
    """Each output's term −(y ln Y + (1 − y) ln(1 − Y)) stays whole, in brackets (a minus before a written sum
    covers all of it) and in the definition's order, and a number before ln takes a ·."""
    one = outputs == 1
    text = ('[network]\nlayers = [2, 2, %d]\nactivation = "%s"\noutput = "sigmoid"\nloss = "bce"\nbias = %s\n'
            '[data]\nx = [0.5, 0.1]\ny = %s\n[init]\nW_a = [[0.1, 0.2], [0.3, -0.4]]\nW_b = %s\n%s'
            % (outputs, "sigmoid" if one else "tanh", str(one).lower(), "[1]" if one else "[1, 0]",
               "[[0.2, 0.1]]" if one else "[[0.2, 0.1], [0.1, 0.3]]", "b_a = [0.1, 0.2]\nb_b = 0.05\n" if one else ""))
    page = render_text(h.layout(evaluate(problem_from_dict(tomllib.loads(text)))), False)
    assert "    " + line in page.splitlines()
    # Y_1 = 0.5538 (one output), Y = (0.5062, 0.5100) (two): the line's value is the loss
    values = evaluate(problem_from_dict(tomllib.loads(text)))
    assert abs(float(values.decimal(values.forward["loss"])) - float(line.rsplit("≈ ", 1)[1])) < 5e-5


# In a key's text, LaTeX and Typst (the PDF): a negative number after a product's dot, unbracketed; a function of
# a vector (or a sum) in doubled brackets; the sum over the units a hidden unit feeds, said where it feeds one.
KEY_DEFECTS = {
    "text": {"negative factor": r"· ?− ?\d", "doubled brackets": r"[A-Za-z'·]\(\(",
             "one output summed": r"feeds [^,—]+ — sum their contributions"},
    "latex": {"negative factor": r"\\cdot ?- ?\d", "doubled brackets": r"\\left\(\s*\\(begin\{pmatrix\}|left\()",
              "one output summed": r"feeds [^,—]+ --- sum their contributions"},
    "typst": {"negative factor": r" dot -\d", "doubled brackets": r"lr\(\( (vec\(|lr\(\()",
              "one output summed": r'feeds "\$((?!comma)[^$])*\$#" — sum'},
}


@pytest.mark.parametrize("layers, act, loss, output, bias", [
    ((2, 3, 1), "tanh", "mse", "identity", False),  # one output, a negative L_1 after a dot
    ((2, 1, 2), "sigmoid", "mse", "softmax", True),  # a hidden layer of one unit: sigmoid of a one-entry vector
    ((3, 4, 4, 2), ("sigmoid", "relu"), "bce", "sigmoid", True),
    ((2, 3, 3, 1), "relu", "mse", "identity", False),  # deeper: each layer's unit feeds one output or several
])
def test_no_key_has_an_unbracketed_negative_factor_doubled_brackets_or_a_sum_of_one(layers, act, loss, output, bias):
    from conftest import random_problem
    from derivations.teaching.handout import layout

    values = evaluate(random_problem(1, layers, act, loss, bias=bias, output=output))
    page = layout(values)
    keys = {"text": render_text(page, False), "latex": render_latex(page, False), "typst": pdf.typst_source(page, False)}
    for fmt, text in keys.items():
        for defect, pattern in KEY_DEFECTS[fmt].items():
            found = [text[max(0, m.start() - 40): m.end() + 20] for m in re.finditer(pattern, text)]
            assert found == [], (fmt, defect, found[:3])
    assert "sum their contributions" in keys["text"] or layers[-2] == 1 or layers[-1] == 1
    assert " only)" in keys["text"] or layers[-1] > 1


def test_a_negative_number_after_a_minus_is_bracketed_on_the_key_only():
    """An identity output's negative Y in the loss: 1 − (−0.25) on the key (it printed 1 − −0.25, in LaTeX
    1 - -0.25), and on the worksheet a plain blank (a bracket round it would tell its sign)."""
    import tomllib

    text = ('[network]\nlayers = [2, 2, 2]\nactivation = "relu"\noutput = "identity"\nloss = "mse"\n[data]\n'
            'x = [[1, 2], [0.5, -1]]\ny = [[1, 0], [0, 1]]\n[init]\nW_a = [[0.2, -0.1], [0.3, 0.1]]\n'
            'W_b = [[0.5, -0.5], [0.1, 0.2]]\n')
    page = h.layout(evaluate(problem_from_dict(tomllib.loads(text))))
    key, sheet = render_text(page, False), render_text(page, True)
    assert "(1 − (−0.25))^2" in key and "− −" not in key and "- -" not in render_latex(page, False)
    loss = next(line for line in sheet.splitlines() if line.strip().startswith("ℓ^[1] ="))
    assert "(____)" not in loss and "(____ − ____)^2" in loss, loss


def test_leaky_relus_slope_is_defined_on_the_page():
    """The formulas line and a path's line define LeakyReLU′ as the page defines ReLU′, 1_(H > 0) + 0.01·1_(H ≤ 0)
    (they wrote LeakyReLU'(H_i), and a path LeakyReLU'(H_2) = LeakyReLU'(H_2))."""
    import tomllib

    text = ('[network]\nlayers = [2, 3, 2]\nactivation = "leaky_relu"\nloss = "mse"\n[data]\nx = [1, 2]\ny = [1, 0]\n'
            '[init]\nW_a = [[0.2, 0.1], [-0.5, -0.5], [0.3, 0.2]]\nW_b = [[0.5, 0.2, 0.1], [0.1, 0.3, 0.2]]\n')
    key = render_text(h.layout(evaluate(problem_from_dict(tomllib.loads(text)))), False)
    assert "LeakyReLU: ∂L_i/∂H_i = 1_(H_i > 0) + 0.01·1_(H_i ≤ 0)" in key
    assert not re.search(r"LeakyReLU'\(H_\d\) = LeakyReLU'", key)


def test_a_copy_of_the_handouts_file_gets_the_papers_page(tmp_path):
    """The paper's page goes with the handout's numbers, not its path: a byte-identical copy elsewhere had 55
    blanks (L again in Step 3) under the same identifier as the handout's 51."""
    copy = tmp_path / "mine.toml"
    copy.write_bytes(HANDOUT.read_bytes())
    mine, paper = h.layout(evaluate(load_problem(copy))), h.layout(evaluate(load_problem()))
    assert mine.blanks() == paper.blanks() == 51 and mine.problem_id == paper.problem_id
    assert render_text(mine, True).split("\n", 3)[3] == render_text(paper, True).split("\n", 3)[3]  # (its file's name aside)
