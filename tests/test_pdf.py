"""The printable handout: the layout's blanks, the PDFs (text, pages, diagrams), the CLI and the site's links."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from building import sphinx_build
from sympy import Rational

from derivations import evaluate, load_problem
from derivations.cli.print import main
from derivations.engine.errors import ProblemError
from derivations.outputs.figures import COLOURS, network_svg
from derivations.outputs.pdf import render_pdf, typst_source
from derivations.notation.tree import Slot
from derivations.outputs.page import render_latex, render_markdown, render_text
from derivations.teaching.handout import layout
from derivations.teaching.numbers import Notation


@pytest.fixture(scope="module")
def values():
    return evaluate(load_problem())


@pytest.fixture(scope="module")
def pdfs(values):
    return {(ws, paper): render_pdf(values, worksheet=ws, paper=paper) for ws in (True, False) for paper in ("a4", "letter")}


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\u2212", "-")


def pages(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def given_values(values):
    """The numbers the paper handout prints: x, y, the weights, L (Step 3), ReLU'(H_1) = 1 and x_1, and 0 and 1."""
    p = values.problem
    return set(p.x) | set(p.y) | set(p.W_a) | set(p.W_b) | set(values.forward["L"]) | {Rational(0), Rational(1)}


def derived_values(values):
    f, b = values.forward, values.backward
    out = set(f["H"]) | set(f["O"]) | set(f["Y"]) | {f["loss"]} | set(b["dL_dY"]) | set(b["dL_dO"])
    out |= {v for row in b["dY_dO"] for v in row} | set(values.gradients["W_a"]) | set(values.gradients["W_b"])
    return out - given_values(values)


def number(text: str) -> re.Pattern:
    """``text`` as a whole number in running text (not a piece of a longer one)."""
    return re.compile(r"(?<![\d.])" + re.escape(text) + r"(?![\d])")


def spellings(values, v) -> list:
    n = Notation(values)
    out = [str(v)]  # the fraction, 3/80
    if n.decimal(v) is not None:
        out.append(n.decimal(v))
    return out


def test_the_handout_layout_has_the_papers_51_blanks(values):
    page = layout(values)
    assert page.blanks() >= 51
    assert page.blanks() == len(page.slots(given=False))
    # L is given in Step 3, and the green path gives ReLU'(H_1) = 1 and x_1 = 0.9, as on the paper.
    assert page.display("step3").math.items[4].body.items[0].given
    green = _slots(page.display("grad_w_a11").math)
    assert [s.content.text for s in green if s.given] == ["1", "0.9"]
    assert sum(not s.given for s in green) == 4  # [__]·__·__ = __


def _slots(tree):
    from derivations.notation.tree import walk

    return [n for n in walk(tree) if isinstance(n, Slot)]


def test_key_has_the_answers(pdfs):
    for paper in ("a4", "letter"):
        text = text_of(pdfs[(False, paper)])
        for answer in ("-0.0375", "0.0375", "0.25", "-0.25", "-0.5", "0.15", "0.06"):
            assert number(answer).search(text), f"{answer} missing from the {paper} key"
        assert "Answer:" in text and "exactly" in text


def test_worksheet_has_no_answer_but_the_givens(values, pdfs):
    derived = derived_values(values)
    assert Rational(-3, 80) in derived and Rational(1, 4) in derived  # the check checks something
    for paper in ("a4", "letter"):
        text = text_of(pdfs[(True, paper)])
        for given in ("0.9", "0.5", "0.1", "0.15"):
            assert number(given).search(text), given
        for v in derived:
            for spelled in spellings(values, v):
                assert not number(spelled).search(text), f"answer {spelled} in the {paper} worksheet"
        assert "Answer:" not in text
    # The Typst source (fractions are typeset, so look there too) and the diagrams carry no derived value.
    source = typst_source(layout(values), worksheet=True)
    assert "#ans(" not in source and "#ans(" in typst_source(layout(values), worksheet=False)
    for v in derived:
        for spelled in spellings(values, v):
            assert not number(spelled).search(source), spelled
    for weight in ("w_b11", "w_b21", "w_a11"):
        svg = network_svg(values, weight, answers=False)
        assert svg.count("<title>") == 1 and 'class="label"' not in svg
        for v in derived:
            for spelled in spellings(values, v):
                assert not number(spelled.replace("-", "−")).search(svg) and not number(spelled).search(svg)


def test_two_pages_on_a4_and_letter(pdfs):
    """The paper's two pages, worksheet and key, on either paper (the Letter key once had a third page holding
    only the closing answer: its diagrams are a little smaller)."""
    for (ws, paper), pdf in pdfs.items():
        assert pages(pdf) == 2, (ws, paper, pages(pdf))


def test_problem_id_on_both(values, pdfs):
    page = layout(values)
    assert re.fullmatch(r"[0-9a-f]{8}", page.problem_id)
    for pdf in pdfs.values():
        assert page.problem_id in text_of(pdf)


def _colour_pixels(pdf: bytes) -> dict:
    """Pixels near each path colour, over every page rendered at 150 dpi."""
    doc = pypdfium2.PdfDocument(pdf)
    counts = {name: 0 for name in ("red", "blue", "green")}
    targets = {name: tuple(int(COLOURS[name][k:k + 2], 16) for k in (1, 3, 5)) for name in counts}
    for i in range(len(doc)):
        image = doc[i].render(scale=150 / 72).to_pil().convert("RGB")
        for pixel, n in image.getcolors(maxcolors=1 << 20):
            for name, target in targets.items():
                if all(abs(a - b) <= 12 for a, b in zip(n, target)):
                    counts[name] += pixel
    return counts


@pytest.mark.parametrize("worksheet", [True, False])
def test_the_three_coloured_diagrams_are_drawn(pdfs, worksheet):
    counts = _colour_pixels(pdfs[(worksheet, "a4")])
    for name, n in counts.items():
        assert n > 300, f"{name} path not drawn ({n} pixels)"


def test_a_page_without_diagrams_has_no_path_colours(values):
    """The pixel check can fail: the same page without figures has no path colour."""
    import typst
    import tempfile

    src = typst_source(layout(values), worksheet=True, figures={})
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.typ").write_text(src, encoding="utf-8")
        pdf = typst.compile(str(Path(tmp) / "main.typ"), root=tmp, ignore_system_fonts=True)
    assert max(_colour_pixels(pdf).values()) < 50


WIDE = """
[network]
layers = [4, 6, 3]
activation = "{activation}"
loss = "{loss}"
[data]
x = [0.5, -0.25, 1, 0.75]
y = [{y}]
[init]
W_a = [[0.1, -0.2, 0.3, 0.05], [0.2, 0.1, -0.1, 0.3], [-0.3, 0.2, 0.1, 0.1], [0.1, 0.1, 0.1, -0.2], [0.25, -0.1, 0.2, 0.1], [0.05, 0.3, -0.2, 0.1]]
W_b = 0.1
"""


@pytest.mark.parametrize("activation,loss,y", [("sigmoid", "mse", "1, 0, 0"), ("tanh", "cross_entropy", "0.2, 0.5, 0.3")])
def test_a_wider_problem_compiles_and_follows_its_problem(tmp_path, activation, loss, y):
    path = tmp_path / "wide.toml"
    path.write_text(WIDE.format(activation=activation, loss=loss, y=y), encoding="utf-8")
    v = evaluate(load_problem(path))
    page = layout(v, data=path.read_bytes())
    assert page.blanks() > 51  # 6 hidden units, 3 outputs: more blanks
    key = text_of(render_pdf(v, worksheet=False, data=path.read_bytes()))
    sheet = text_of(render_pdf(v, worksheet=True, data=path.read_bytes()))
    assert activation in key and activation in sheet
    assert ("MSE" if loss == "mse" else "Cross-Entropy") in sheet
    g = Notation(v, 4).approx(v.gradients["W_b"][0, 0])  # the layout's 4 digits
    assert g.replace("\u2212", "-") in key and g not in sheet


def test_a_network_beyond_the_page_is_refused_in_one_line():
    from conftest import random_problem

    from derivations import evaluate

    wide = evaluate(random_problem(1, (3, 7, 2), "relu", "mse"))
    with pytest.raises(ProblemError) as err:
        layout(wide)
    assert "at most 6 units" in str(err.value) and "python -m derivations.print" in str(err.value)
    assert "\n" not in str(err.value)
    batch = evaluate(random_problem(1, (3, 2, 2), "relu", "mse", samples=4))
    with pytest.raises(ProblemError, match="at most 3 samples"):
        layout(batch)


def test_user_text_is_escaped_into_typst(tmp_path):
    weird = tmp_path / 'we"ird #$ [x] \\ ).toml'
    weird.write_text(WIDE.format(activation="relu", loss="mse", y="1, 0, 0"), encoding="utf-8")
    v = evaluate(load_problem(weird))
    text = text_of(render_pdf(v, worksheet=True))
    assert 'we"ird #$ [x]' in text


def test_cli_writes_key_and_worksheet(tmp_path, capsys):
    key, sheet = tmp_path / "key.pdf", tmp_path / "sheet.pdf"
    assert main(["--format", "pdf", "-o", str(key)]) == 0
    assert main(["--format", "pdf", "--worksheet", "--paper", "letter", "-o", str(sheet)]) == 0
    assert "-0.0375" in text_of(key.read_bytes()) and "0.0375" not in text_of(sheet.read_bytes())
    assert pages(sheet.read_bytes()) <= 3


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_cli_worksheet_in_text_formats(tmp_path, capsys, values, fmt):
    out = tmp_path / f"sheet.{fmt}"
    assert main(["--worksheet", "--format", fmt, "-o", str(out)]) == 0
    sheet = out.read_text(encoding="utf-8")
    blank = {"text": r"_{4,}", "markdown": r"\\underline\{\\hspace\{\dcm\}\}", "latex": r"\\underline\{\\hspace\{\dcm\}\}"}[fmt]
    assert len(re.findall(blank, sheet)) >= 51
    assert "0.0375" not in sheet and "3/80" not in sheet and "0.06" not in sheet
    assert main(["--format", fmt, "--worksheet"]) == 0  # to stdout
    assert capsys.readouterr().out == sheet
    page = layout(values)
    key = {"text": render_text, "markdown": render_markdown, "latex": render_latex}[fmt](page, worksheet=False)
    assert "0.0375" in key


@pytest.mark.parametrize("argv,message", [
    (["--format", "pdf"], "expected -o FILE.pdf"),
    (["--format", "pdf", "-o", "-"], "expected -o FILE.pdf"),
    (["--format", "pdf", "-o", "/nonexistent-dir/k.pdf"], "the folder of /nonexistent-dir/k.pdf does not exist"),
    (["--format", "text", "-o", "/nonexistent-dir/k.txt"], "does not exist"),
    (["--worksheet", "--format", "json"], "--worksheet: expected"),
    (["--format", "pdf", "--paper", "a3", "-o", "x.pdf"], "--paper"),
    (["--worksheet", "--param", "w_b21"], "--param"),
])
def test_cli_bad_input_one_line_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_cli_directory_as_output(tmp_path, capsys):
    assert main(["--format", "pdf", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


SITE = """
# Handout

```{deriv-pdfs}
```

```{deriv-network} w_b21
:colour: blue
```
"""


@pytest.mark.parametrize("worksheet", [False, True])
def test_site_builds_both_pdfs_in_parallel(tmp_path, worksheet):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n', encoding="utf-8")
    others = [f"page{k}" for k in range(7)]  # more than 5 documents: Sphinx reads and writes in parallel
    (src / "index.md").write_text(SITE + "\n```{toctree}\n" + "\n".join(others) + "\n```\n", encoding="utf-8")
    for name in others:
        (src / f"{name}.md").write_text(f"# {name}\n\n```{{deriv-pdfs}}\n```\n", encoding="utf-8")
    out = tmp_path / "out"
    extra = ["-D", "derivations_worksheet=1"] if worksheet else []
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-j", "2", *extra, str(src), str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    html = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(_pdf/[0-9a-f]{8}/[a-z-]+\.pdf)"', html)
    assert [Path(link).name for link in links] == (["worksheet.pdf"] if worksheet else ["worksheet.pdf", "answer-key.pdf"])
    assert ("answer key (PDF)" in html) is not worksheet
    for link in links:
        assert (out / link).read_bytes()[:5] == b"%PDF-"
    assert len(list(out.glob("_pdf/*/*.pdf"))) == len(links)  # one problem: one folder, shared by every page
    assert 'href="_pdf/' in (out / "page3.html").read_text(encoding="utf-8")
    sheet = text_of((out / links[0]).read_bytes())
    assert "0.0375" not in sheet
    if worksheet:  # no value tooltips in the worksheet's diagrams either
        assert "<title>∂" not in html


def test_the_pdfs_a_page_asks_for_are_kept_in_the_environment_and_purged_when_it_is_read_again(tmp_path):
    """The PDFs are noted in Sphinx's environment, per page (as sphinx.ext.todo keeps its todos): merged from
    -j's readers, and dropped with a page's other notes when the page is read again without them."""
    import pickle

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n', encoding="utf-8")
    (src / "wide.toml").write_text('[network]\nlayers = [2, 3, 2]\nactivation = "relu"\nloss = "mse"\n[data]\n'
                                   "x = [1, 2]\ny = [1, 0]\n[init]\nW_a = 0.1\nW_b = 0.1\n", encoding="utf-8")
    others = [f"page{k}" for k in range(6)]  # more than 5 documents: read in parallel
    (src / "index.md").write_text("# T\n\n```{deriv-pdfs}\n```\n\n```{toctree}\n" + "\n".join(others) + "\n```\n",
                                  encoding="utf-8")
    for name in others:
        (src / f"{name}.md").write_text(f"# {name}\n\n```{{deriv-pdfs}}\n:problem: wide.toml\n```\n", encoding="utf-8")

    def build():
        result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-j", "2", str(src), str(out)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        with open(out / ".doctrees" / "environment.pickle", "rb") as fh:
            return pickle.load(fh).derivations_pdfs

    notes = build()
    assert sorted(notes) == ["index", *others]  # every reader's notes, merged
    folders = {folder for page in notes.values() for folder in page}
    assert len(folders) == 2 and {p.parent.name for p in out.glob("_pdf/*/*.pdf")} == {f.split("/")[1] for f in folders}
    for name in others:
        (src / f"{name}.md").write_text(f"# {name}\n\nNo PDFs now.\n", encoding="utf-8")
    assert sorted(build()) == ["index"]  # each page read again: its notes purged


def test_latex_builder_keeps_the_diagrams(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n', encoding="utf-8")
    (src / "index.md").write_text(SITE, encoding="utf-8")
    out = tmp_path / "out"
    result = sphinx_build("-W", "-q", "-b", "latex", src, out)
    assert result.returncode == 0, result.stderr
    tex = next(out.glob("*.tex")).read_text(encoding="utf-8")
    names = re.findall(r"\\includegraphics\[[^]]*\]\{([^}]+)\}", tex)
    assert len(names) == 1 and (out / names[0]).read_bytes()[:5] == b"%PDF-"


def test_the_key_fills_exactly_the_worksheets_blanks(values):
    """Every display of the key is its worksheet display with each blank filled (and nothing else changed)."""
    from derivations.notation.tree_printing import to_text
    from derivations.teaching.page import Display

    page = layout(values)
    displays = [b for b in page.blocks if isinstance(b, Display)]
    assert len(displays) == 8
    for block in displays:
        sheet, key = to_text(block.math, worksheet=True), to_text(block.math, worksheet=False)
        pattern = "(.+?)".join(re.escape(piece) for piece in re.split(r"_{4,}", sheet))
        match = re.fullmatch(pattern, key, flags=re.S)
        assert match, (block.key, sheet, key)
        assert all("____" not in g for g in match.groups())


def test_one_problem_one_identifier(tmp_path, capsys):
    from derivations.engine.problem import HANDOUT

    assert main(["--worksheet"]) == 0
    default = capsys.readouterr().out.splitlines()[2]
    assert main(["--worksheet", "--config", str(HANDOUT)]) == 0
    named = capsys.readouterr().out.splitlines()[2]
    ident = re.compile(r"problem ([0-9a-f]{8})")
    assert ident.search(default).group(1) == ident.search(named).group(1)
    other = tmp_path / "other.toml"
    other.write_bytes(HANDOUT.read_bytes().replace(b"W_b = 0.1 ", b"W_b = 0.2 "))
    assert main(["--worksheet", "--config", str(other)]) == 0
    assert ident.search(capsys.readouterr().out).group(1) != ident.search(default).group(1)
