"""Every option and argument an author writes is checked: a wrong one is one located warning of type
``derivations`` (so ``-W`` fails the build), never a traceback, and never reaches the HTML or SVG.
Problem paths follow Sphinx's convention (relative to the page, a leading ``/`` from the source root)."""

import re
import shutil
from pathlib import Path

import pytest
from building import sphinx_build

ROOT = Path(__file__).parent / "roots" / "test-deriv"

# (case, directive block, what the warning must say). Each block goes on one page; its warning must name
# the page and the block's first line.
BAD = [
    ("colour-word", "```{deriv-network} w_a11\n:colour: notacolour\n```", ":colour: expected a colour"),
    ("colour-injection", '```{deriv-network} w_a11\n:colour: red" onload="alert(1)\n```', ":colour: expected a colour"),
    ("colour-css", "```{deriv-network}\n:colour: url(#x)\n```", ":colour: expected a colour"),
    ("colour-hex-5", '```{deriv-network}\n:colour: "#12345"\n```', ":colour: expected a colour"),
    ("colour-hex-g", "```{deriv-network}\n:colour: '#abg'\n```", ":colour: expected a colour"),
    ("digits-60", "```{deriv-network} w_a11\n:digits: 60\n```", ":digits: expected a whole number from 1 to 12"),
    ("digits-0", "```{deriv-network}\n:digits: 0\n```", ":digits: expected a whole number from 1 to 12"),
    ("gradients-argument", "```{deriv-gradients} w_a11\n```", "takes no argument, got 'w_a11'"),
    ("handout-argument", "```{deriv-handout} page2\n```", "takes no argument, got 'page2'"),
    ("pdfs-argument", "```{deriv-pdfs} all\n```", "takes no argument, got 'all'"),
    ("training-argument", "```{deriv-training} whatever\n```", "takes no argument, got 'whatever'"),
    ("lr-huge", "```{deriv-training}\n:lr: 1e300\n```", ":lr: expected a number above 0 and at most 10"),
    ("lr-11", "```{deriv-training}\n:lr: 11\n```", ":lr: expected a number above 0 and at most 10"),
    ("lr-zero", "```{deriv-training}\n:lr: 0\n```", ":lr: expected a number above 0 and at most 10"),
    ("lr-negative", "```{deriv-training}\n:lr: -0.5\n```", ":lr: expected a number above 0 and at most 10"),
    ("lr-word", "```{deriv-training}\n:lr: fast\n```", ":lr: expected a number above 0 and at most 10"),
    ("steps-5000", "```{deriv-training}\n:steps: 5000\n```", ":steps: expected a whole number from 1 to 2000"),
    ("steps-0", "```{deriv-training}\n:steps: 0\n```", ":steps: expected a whole number from 1 to 2000"),
    ("steps-5000-digits", "```{deriv-training}\n:steps: " + "9" * 5000 + "\n```", ":steps: expected a whole number"),
    ("seed-huge", "```{deriv-training}\n:seed: 1000001\n```", ":seed: expected a whole number from 0 to"),
    ("seed-negative", "```{deriv-training}\n:seed: -1\n```", ":seed: expected a whole number from 0 to"),
    ("data", "```{deriv-training}\n:data: mnist\n```", ":data: expected one of problem, xor"),
    ("data-seed", "```{deriv-training}\n:data: xor\n:data-seed: x\n```", ":data-seed: expected a whole number from 0 to"),
    ("show", "```{deriv-gradient} w_a11\n:show: bogus\n```", ":show: expected one of sum, paths"),
    ("part", "```{deriv-theorem} symmetry\n:part: bogus\n```", ":part: expected one of all, statement, proof"),
    ("problem-missing", "```{deriv-problem} missing.toml\n```", "problem file 'missing.toml' not found"),
    ("problem-machine-path", "```{deriv-problem} /etc/hostname\n```", "problem file '/etc/hostname' not found"),
    ("problem-option", "```{deriv-step} setup\n:problem: nowhere.toml\n```", "problem file 'nowhere.toml' not found"),
    ("source-missing", "```{deriv-problem-source} missing.toml\n```", "problem file 'missing.toml' not found"),
]


def _build(src: Path, out: Path, *extra):
    return sphinx_build("-W", "--keep-going", "-q", *extra, src, out)


def _page(blocks) -> tuple[str, list[int]]:
    """A page holding the blocks, and the line each starts on."""
    lines, starts = ["# Options", ""], []
    for block in blocks:
        starts.append(len(lines) + 1)
        lines += [*block.splitlines(), ""]
    return "\n".join(lines) + "\n", starts


@pytest.fixture(scope="module")
def bad_build(tmp_path_factory):
    """One build of a page holding every bad block: its stderr, its HTML, and each case's line."""
    tmp = tmp_path_factory.mktemp("bad")
    src = tmp / "src"
    shutil.copytree(ROOT, src)
    text, starts = _page([block for _, block, _ in BAD])
    (src / "index.md").write_text(text)
    result = _build(src, tmp / "out")
    html = (tmp / "out" / "index.html").read_text(encoding="utf-8") if (tmp / "out" / "index.html").exists() else ""
    return result, html, dict(zip((case for case, _, _ in BAD), starts))


def test_bad_options_fail_the_build_without_a_traceback(bad_build):
    result, _, _ = bad_build
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Exception occurred" not in result.stderr, result.stderr
    # One warning per bad block, each of type derivations.
    warnings = [ln for ln in result.stderr.splitlines() if "WARNING" in ln or "ERROR" in ln]
    assert len(warnings) == len(BAD), result.stderr
    assert all("[derivations." in ln for ln in warnings), result.stderr


@pytest.mark.parametrize("case,block,message", BAD, ids=[case for case, _, _ in BAD])
def test_bad_option_is_a_located_derivations_warning(bad_build, case, block, message):
    result, _, lines = bad_build
    located = [ln for ln in result.stderr.splitlines() if f"index.md:{lines[case]}:" in ln]
    assert len(located) == 1, (case, lines[case], result.stderr)
    assert message in located[0], located[0]
    assert re.search(r"\[derivations\.(option|problem|key)\]", located[0]), located[0]
    assert len(located[0]) < 400  # one line, the author's text cut short


def test_nothing_the_author_typed_reaches_the_html(bad_build):
    _, html, _ = bad_build
    assert "onload" not in html and "notacolour" not in html and "url(#x)" not in html


def _root_with(tmp_path, text: str, name: str = "index.md") -> Path:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src)
    page = src / name
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
    if name != "index.md":
        (src / "index.md").write_text(f"# Index\n\n```{{toctree}}\n{Path(name).with_suffix('').as_posix()}\n```\n")
    return src


def test_good_colours_reach_the_svg(tmp_path):
    text = ("# Colours\n\n```{deriv-network} w_a11\n:colour: grey\n```\n\n```{deriv-network} w_b21\n:colour: \"#1A2b3C\"\n```\n\n"
            "```{deriv-network} w_b11\n:colour: '#abc'\n:digits: 12\n```\n\n"
            "```{deriv-training}\n:steps: 20\n:lr: 1/4\n:seed: 7\n```\n")
    src = _root_with(tmp_path, text)
    result = _build(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "#7f7f7f" in html and "#1a2b3c" in html.lower() and "#abc" in html
    assert "20 gradient-descent steps, learning rate 0.25" in html


def test_problem_paths_are_relative_to_the_page_or_the_source_root(tmp_path):
    """A page in a subdirectory: ``variant.toml`` is looked for beside it, ``/variant.toml`` in the source root."""
    text = ("# Sub\n\n```{deriv-problem} /variant.toml\n```\n\nVariant loss {deriv}`forward.loss | exact`.\n\n"
            "```{deriv-problem-source}\n```\n\n```{deriv-step} step1\n:problem: ../variant.toml\n```\n")
    src = _root_with(tmp_path, text, "chapter/sub.md")
    result = _build(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "chapter" / "sub.html").read_text(encoding="utf-8")
    assert "highlight-toml" in html and "activation" in html and "identity" in html  # the variant's text
    # Relative to the page: from chapter/, variant.toml is not there.
    (src / "chapter" / "sub.md").write_text("# Sub\n\n```{deriv-problem} variant.toml\n```\n")
    result = _build(src, tmp_path / "out2")
    assert result.returncode != 0
    assert "sub.md:3" in result.stderr and "[derivations.problem]" in result.stderr, result.stderr
    assert str(src / "chapter" / "variant.toml") in result.stderr  # says where it looked


def test_problem_source_defaults_to_the_handout(tmp_path):
    src = _root_with(tmp_path, "# Source\n\n```{deriv-problem-source}\n```\n")
    result = _build(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "highlight-toml" in html and "handout" in html and "relu" in html
