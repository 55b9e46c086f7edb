"""Every accepted problem renders in every format (issue 30, finding 4): values beyond float64's range or below
its smallest normal number are printed from their exact form, never through a float, in the answer key as
text, Markdown, LaTeX and PDF (Typst), and on the site. Before, the key stopped on ``ValueError: not a number:
'7.025e-522'`` (logits ±300) and ``'-800000.'`` (benchmarks/limits.py's 2-2-2 tanh with entries 1e6)."""

import re
import shutil
import sys
from pathlib import Path

import pytest

from derivations.cli.print import main
from derivations.notation.tree import Numeral, Slot, row, sym
from derivations.notation.tree_printing import to_latex, to_text, to_typst

from building import sphinx_build

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import limits  # noqa: E402  (benchmarks/limits.py: the worst accepted problems)

LOGITS_300 = ('[network]\nlayers = [1, 1, 2]\nactivation = "identity"\n[data]\nx = [300]\ny = [1, 0]\n[init]\n'
              'W_a = 1\nW_b = [[1], [-1]]\n')


def _page_fits(name) -> bool:
    layers, _, samples, _, _ = limits.CASES[name]
    return max(layers) <= 6 and len(layers) <= 5 and samples <= 3


PROBLEMS = ["logits ±300"] + [name for name in limits.CASES if _page_fits(name)]


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    folder = tmp_path_factory.mktemp("extremes")
    out = {"logits ±300": folder / "logits.toml"}
    out["logits ±300"].write_text(LOGITS_300)
    for name in PROBLEMS[1:]:
        sub = folder / f"case{len(out)}"
        sub.mkdir()
        out[name] = limits.write(sub, name, *limits.CASES[name])
    return out


def test_the_limits_include_the_pages_that_failed():
    assert "2-2-2 tanh, entries 1e6" in PROBLEMS and "3-4-2 sigmoid, x = 1e6, 60-digit weights" in PROBLEMS


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
@pytest.mark.parametrize("name", PROBLEMS)
def test_the_key_renders(problems, name, fmt, capsys):
    assert main(["--config", str(problems[name]), "--key", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"\bnan\b", out)
    if fmt in ("latex", "markdown"):
        assert not re.search(r"\d[eE][-−+]?\d", out)  # no e-notation in math: × 10^{…}
    if name == "logits ±300":
        assert {"text": "7.025e−522", "markdown": r"7.025 \times 10^{-522}", "latex": r"7.025 \times 10^{-522}"}[fmt] in out
    if name.startswith("2-2-2"):
        assert "800000." not in out and ("−800000" in out or "-800000" in out)


@pytest.mark.parametrize("name", PROBLEMS)
def test_the_key_pdf_is_written(problems, name, tmp_path, capsys):
    pdf = tmp_path / "key.pdf"
    assert main(["--config", str(problems[name]), "--key", "--format", "pdf", "-o", str(pdf)]) == 0, capsys.readouterr().err
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_scientific_numerals_in_every_target():
    tree = row(sym("Y", 2), "=", Slot(Numeral("-7.025e-522")))
    assert to_latex(tree, False) == r"Y_{2} = -7.025 \times 10^{-522}"
    assert to_typst(tree, False) == "Y_(2) = #ans($ -7.025 times 10^(-522) $)"
    assert to_text(tree, False) == "Y_2 = −7.025e−522"
    with pytest.raises(ValueError, match="not a number"):
        to_latex(row(Slot(Numeral("7.025e"))), False)


def test_the_worked_solution_writes_large_rounded_numbers_without_a_trailing_point(problems, capsys):
    assert main(["--config", str(problems["2-2-2 tanh, entries 1e6"])]) == 0
    out = capsys.readouterr().out
    assert "O = (−800000, 510000)ᵀ" in out and "800000." not in out


def test_the_site_renders_the_handout_page(problems, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(Path(__file__).parent / "roots" / "test-deriv", src)
    shutil.copy(problems["logits ±300"], src / "logits.toml")
    (src / "index.md").write_text("# Extremes\n\n```{deriv-problem} logits.toml\n```\n\n```{deriv-handout}\n```\n")
    result = sphinx_build("-W", "--keep-going", "-q", src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert r"7.025 \times 10^{-522}" in html
