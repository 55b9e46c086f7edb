"""The Sphinx extension: real math nodes from the derivation, worksheet blanks, located warnings, LaTeX,
dependency tracking, and the figures."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from building import sphinx_build

ROOTS = Path(__file__).parent / "roots"


@pytest.fixture(scope="session")
def rootdir():
    return ROOTS


@pytest.mark.sphinx("html", testroot="deriv", freshenv=True)
def test_html_has_the_derived_latex(app):
    app.build()
    html = (Path(app.outdir) / "index.html").read_text(encoding="utf-8")
    assert r"- \frac{3}{80}" in html  # the exact role
    assert "0.25" in html and "0.15" in html
    assert r"H_{1} = 0.1 \cdot 0.9 + 0.1 \cdot 0.5 + 0.1 \cdot 0.1 = 0.15" in html  # Step 1's substitution
    assert r"\begin{aligned}" in html and "0.0375" in html  # w_b21's path sum
    assert 'class="derivations-network"' in html and 'data-paths="4"' in html
    # The variant problem after deriv-problem: identity 2-2-2, O = (3, 0)... its loss is not the handout's.
    assert html.count("math notranslate") >= 6
    assert "WARNING" not in app.warning.getvalue() if hasattr(app, "warning") else True


@pytest.mark.sphinx("html", testroot="deriv", srcdir="deriv-worksheet", freshenv=True,
                    confoverrides={"derivations_worksheet": True})  # its own folder: never into a solution build
def test_worksheet_has_blanks_where_the_solution_has_numbers(app):
    app.build()
    html = (Path(app.outdir) / "index.html").read_text(encoding="utf-8")
    assert r"\underline{\hspace{2cm}}" in html
    assert r"- \frac{3}{80}" not in html and "0.0375" not in html
    assert r"0.1 \cdot 0.9" in html  # the given numbers stay


@pytest.mark.sphinx("latex", testroot="deriv", freshenv=True)
def test_latex_build_runs(app):
    app.build()
    tex = next(Path(app.outdir).glob("*.tex")).read_text(encoding="utf-8")
    assert r"\frac{3}{80}" in tex


def _build(src: Path, out: Path, *extra):
    return sphinx_build("-W", "--keep-going", "-q", *extra, src, out)


def test_bad_key_fails_the_build_with_its_location(tmp_path):
    """``python -m sphinx`` itself, as a process: a failing build's exit status, its located warnings, no
    traceback. (The other small builds of the tests run the same command line in the test process:
    tests/building.py.)"""
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-badkey", src)
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", str(src), str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode != 0
    err = result.stderr
    assert "index.md:5" in err and "forwrd.H[1]" in err, err
    assert "index.md:7" in err and "w_z11" in err, err
    assert "Traceback" not in err
    assert "[derivations.key]" in err


def test_changing_the_problem_file_rebuilds_the_page(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-deriv", src)
    out = tmp_path / "out"
    assert _build(src, out).returncode == 0
    before = (out / "index.html").read_text(encoding="utf-8")
    toml = src / "variant.toml"
    toml.write_text(toml.read_text().replace("x = [1, 2]", "x = [3, 2]"))
    result = _build(src, out)
    assert result.returncode == 0, result.stderr
    after = (out / "index.html").read_text(encoding="utf-8")
    assert before != after


def test_bad_problem_file_is_a_located_warning(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-deriv", src)
    (src / "variant.toml").write_text("[network]\nactivation = 'gelu'\n")
    result = _build(src, tmp_path / "out")
    assert result.returncode != 0
    assert "index.md:15" in result.stderr and "network.activation" in result.stderr, result.stderr


def test_parallel_build(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-deriv", src)
    (src / "second.md").write_text("# Second\n\n{deriv}`grad.w_b21 | exact`\n\n```{toctree}\n```\n")
    (src / "index.md").write_text((src / "index.md").read_text() + "\n```{toctree}\nsecond\n```\n")
    result = _build(src, tmp_path / "out", "-j", "2")
    assert result.returncode == 0, result.stderr
    assert r"\frac{3}{80}" in (tmp_path / "out" / "second.html").read_text(encoding="utf-8")


def test_the_derivation_cache_keeps_the_most_recently_used(tmp_path, monkeypatch):
    """A long-lived process (a build server, a test session) keeps at most CACHE_SIZE derivations: the oldest
    use goes first, and a page of each problem still gets its own numbers."""
    from derivations.sphinx import extension

    monkeypatch.setattr(extension, "CACHE_SIZE", 2)
    monkeypatch.setattr(extension, "_CACHE", {})
    (tmp_path / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n', encoding="utf-8")
    pages = []
    for k, x in enumerate(("0.9", "0.8", "0.7")):
        (tmp_path / f"p{k}.toml").write_text('[network]\nlayers = [1, 1, 1]\nactivation = "relu"\noutput = "identity"\n'
                                             'loss = "mse"\n'
                                             f"[data]\nx = [{x}]\ny = [1]\n[init]\nW_a = 1\nW_b = 1\n", encoding="utf-8")
        (tmp_path / f"page{k}.md").write_text(f"# P{k}\n\n```{{deriv-problem}} p{k}.toml\n```\n\n{{deriv}}`forward.H[1]`\n",
                                              encoding="utf-8")
        pages.append(f"page{k}")
    (tmp_path / "index.md").write_text("# T\n\n```{toctree}\n" + "\n".join(pages) + "\n```\n", encoding="utf-8")
    result = sphinx_build("-W", "-q", str(tmp_path), str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert len(extension._CACHE) == 2  # three problems derived, the first one's dropped
    for k, x in enumerate(("0.9", "0.8", "0.7")):
        assert x in (tmp_path / "out" / f"page{k}.html").read_text(encoding="utf-8")
