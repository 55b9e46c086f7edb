"""What a page's problem may do to a build: a mistyped field, a file outside the docs, a problem the printable
page cannot hold are each one located warning (never an aborted build, also with ``-j 2``), nothing of a
foreign file reaches the HTML, a changed problem file rebuilds its pages whatever its modification time, and
links are right under ``html``, ``dirhtml`` and ``singlehtml``."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from building import sphinx_build

CONF = 'extensions = ["myst_parser", "derivations.sphinx.extension"]\nmyst_enable_extensions = ["dollarmath"]\n'
GOOD = ('[network]\nlayers = [2, 2, 2]\nactivation = "identity"\n[data]\nx = [1, 2]\ny = [1, 0]\n'
        '[init]\nW_a = 1\nW_b = [[1, 1], [0, 0]]\n')
# Wider than the students' page shows (handout.PAGE_WIDTH units): the worked solution only.
WIDE = ('[network]\nlayers = [2, 8, 2]\nactivation = "relu"\nloss = "mse"\n'
        "[data]\nx = [1, 2]\ny = [1, 0]\n[init]\nW_a = 0.1\nW_b = 0.1\n")


def _site(tmp_path, pages: dict, files: dict = {}) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    for name, text in {**pages, **files}.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    return src


def _build(src: Path, out: Path, *extra):
    return sphinx_build("-W", "--keep-going", "-q", *extra, src, out)


def _warnings(stderr: str) -> list:
    return [ln for ln in stderr.splitlines() if "WARNING" in ln or "ERROR" in ln]


MISTYPED = ['activation = {a = "relu"}', 'activation = [["relu"]]', "activation = [{}]", 'loss = ["mse"]']


@pytest.mark.parametrize("jobs", [[], ["-j", "2"]], ids=["serial", "parallel"])
def test_mistyped_problem_fields_are_located_warnings_not_an_aborted_build(tmp_path, jobs):
    files = {f"bad{k}.toml": GOOD.replace('activation = "identity"', line) for k, line in enumerate(MISTYPED)}
    pages = {"index.md": "# Index\n\n```{toctree}\n" + "\n".join(f"p{k}" for k in range(len(MISTYPED))) + "\n```\n"}
    pages.update({f"p{k}.md": f"# Page {k}\n\n```{{deriv-problem}} bad{k}.toml\n```\n\n{{deriv}}`forward.loss`\n"
                  for k in range(len(MISTYPED))})
    result = _build(_site(tmp_path, pages, files), tmp_path / "out", *jobs)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Extension error" not in result.stderr, result.stderr
    assert "SphinxParallelError" not in result.stderr and "unhashable" not in result.stderr, result.stderr
    for k, line in enumerate(MISTYPED):
        field = "network.loss" if "loss" in line else "network.activation"
        located = [w for w in _warnings(result.stderr) if f"p{k}.md:3:" in w]
        assert located and f"{field}: expected one of" in located[0], result.stderr
    assert (tmp_path / "out" / "p0.html").exists()  # the build went on


FOREIGN = [
    ("environ", "```{deriv-problem-source} ../../../../../../../../proc/self/environ\n```\n"),
    ("passwd-option", "```{deriv-step} setup\n:problem: ../../../../../../../../etc/passwd\n```\n"),
    ("passwd-problem", "```{deriv-problem} ../../../../../../../../etc/passwd\n```\n"),
    ("symlink", "```{deriv-problem-source} link.toml\n```\n"),
]


def test_files_outside_the_docs_are_located_warnings_and_never_reach_the_html(tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text(GOOD + "# SECRET-TOKEN-1234\n")
    src = _site(tmp_path, {"index.md": "# Foreign\n\n" + "\n".join(block for _, block in FOREIGN)})
    os.symlink(secret, src / "link.toml")
    env = {**os.environ, "DERIV_CANARY": "CANARY-5678"}
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", str(src), str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300, env=env)
    warnings = _warnings(result.stderr)
    assert len(warnings) == len(FOREIGN), result.stderr
    assert all("outside the documentation source" in w and "[derivations.problem]" in w for w in warnings), warnings
    lines = sorted(int(re.search(r"index\.md:(\d+):", w)[1]) for w in warnings)
    assert len(set(lines)) == len(FOREIGN), warnings  # one warning at each block
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "CANARY-5678" not in html and "SECRET-TOKEN" not in html and "root:" not in html


def test_derivations_problem_outside_the_docs_must_be_a_problem_file(tmp_path):
    """``-D derivations_problem`` is the site owner's choice and may be anywhere (a variant's problem.toml),
    but a file that is not a problem is one warning that quotes nothing of it."""
    variant = tmp_path / "variant" / "problem.toml"
    variant.parent.mkdir()
    variant.write_text(GOOD)
    src = _site(tmp_path, {"index.md": "# Default\n\n{deriv}`forward.loss | exact`\n\n```{deriv-problem-source}\n```\n"})
    result = _build(src, tmp_path / "out", "-D", f"derivations_problem={variant}")
    assert result.returncode == 0, result.stderr
    assert "identity" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    foreign = tmp_path / "foreign.txt"
    foreign.write_text('PRIVATE_KEY_MATERIAL = "hunter2"\n')
    result = _build(src, tmp_path / "out2", "-D", f"derivations_problem={foreign}")
    assert result.returncode != 0
    assert "is not a problem file the tool accepts" in result.stderr, result.stderr
    assert "PRIVATE" not in result.stderr and "hunter2" not in result.stderr
    html = (tmp_path / "out2" / "index.html").read_text(encoding="utf-8")
    assert "PRIVATE" not in html and "hunter2" not in html


def test_a_problem_the_printable_page_cannot_hold_is_a_located_warning(tmp_path):
    src = _site(tmp_path, {"index.md": "# PDFs\n\n```{deriv-pdfs}\n```\n"}, {"wide.toml": WIDE})
    result = _build(src, tmp_path / "out", "-D", "derivations_problem=wide.toml")
    assert result.returncode != 0
    assert "Extension error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    warnings = _warnings(result.stderr)
    assert len(warnings) == 1 and "index.md:3:" in warnings[0] and "at most 6 units" in warnings[0], result.stderr


def test_a_replaced_problem_file_rebuilds_its_page_whatever_its_mtime(tmp_path):
    src = _site(tmp_path, {"index.md": "# Mv\n\n```{deriv-problem} p.toml\n```\n\nLoss {deriv}`forward.loss | exact`.\n"},
                {"p.toml": GOOD})
    out = tmp_path / "out"
    assert _build(src, out).returncode == 0
    before = (out / "index.html").read_text(encoding="utf-8")
    replacement = src / "new.toml"
    replacement.write_text(GOOD.replace("x = [1, 2]", "x = [3, 5]"))
    old = (src / "p.toml").stat().st_mtime - 3600
    os.utime(replacement, (old, old))  # older than the page's last read, as after an mv of an older file
    os.replace(replacement, src / "p.toml")
    assert _build(src, out).returncode == 0
    after = (out / "index.html").read_text(encoding="utf-8")
    assert after != before


@pytest.mark.parametrize("builder,page,prefix", [("html", "sub/page.html", "../"), ("dirhtml", "sub/page/index.html", "../../"),
                                                 ("singlehtml", "index.html", "")])
def test_pdf_and_output_links_are_right_under_every_builder(tmp_path, builder, page, prefix):
    pages = {"index.md": "# Index\n\n```{toctree}\nsub/page\n```\n",
             "sub/page.md": "# Page\n\n```{deriv-pdfs}\n```\n\n{deriv-link}`check <selfcheck.html>`\n"}
    result = _build(_site(tmp_path, pages), tmp_path / "out", "-b", builder)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / page).read_text(encoding="utf-8")
    pdfs = re.findall(r'href="([^"]*worksheet\.pdf)"', html)
    assert pdfs and all(p.startswith(prefix + "_pdf/") for p in pdfs), pdfs
    assert (tmp_path / "out" / page).parent.joinpath(pdfs[0]).resolve().is_file()
    assert f'href="{prefix}selfcheck.html"' in html


# -- the output folder: one mode's build, never a variants set (issue 30) ------------------------------------------


def test_a_worksheet_into_a_solution_build_is_refused_and_the_other_way_round(tmp_path):
    """Finding 2: a worksheet built into a folder that held a solution build kept the solution's pages and
    answer keys beside it (Sphinx never removes a page it no longer writes). A build into a folder holding
    another mode's build is refused in one line (exit 2), changing nothing; the same mode rebuilds."""
    src = _site(tmp_path, {"index.md": "# Index\n\n{deriv}`grad.w_b21`\n\n```{deriv-pdfs}\n```\n"})
    out = tmp_path / "out"
    assert _build(src, out).returncode == 0
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert any(p.endswith("answer-key.pdf") for p in before)
    for switch in (["-D", "derivations_worksheet=1"], ["-D", "derivations_worksheet=true"]):
        result = _build(src, out, *switch)
        assert result.returncode == 2 and "holds a solution build" in result.stderr and "Traceback" not in result.stderr
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert _build(src, out).returncode == 0  # the same mode: fine
    worksheet = tmp_path / "worksheet"
    assert _build(src, worksheet, "-D", "derivations_worksheet=1").returncode == 0
    assert not list(worksheet.rglob("answer-key.pdf")) and "0.0375" not in (worksheet / "index.html").read_text()
    result = _build(src, worksheet)
    assert result.returncode == 2 and "holds a worksheet build" in result.stderr
    assert "0.0375" not in (worksheet / "index.html").read_text()


def test_a_worksheet_into_an_earlier_build_of_unknown_mode_is_refused(tmp_path):
    """A folder built before the mode was recorded (a .buildinfo, no record) may hold a solution: a worksheet
    is not built into it; a solution is."""
    src = _site(tmp_path, {"index.md": "# Index\n\n{deriv}`grad.w_b21`\n"})
    out = tmp_path / "out"
    assert _build(src, out).returncode == 0
    (out / ".derivations-mode").unlink()  # as a build made before the mode was recorded
    result = _build(src, out, "-D", "derivations_worksheet=1")
    assert result.returncode == 2 and "an earlier build whose mode is not recorded" in result.stderr
    assert _build(src, out).returncode == 0


def test_a_build_into_a_variants_set_is_refused(tmp_path):
    """Finding 1's rule for every file the tools write: the site's outputs never land on a variants set's files
    (a build into V/ada would replace its selfcheck.html)."""
    from derivations.cli.variants import main as variants_main

    src = _site(tmp_path, {"index.md": "# Index\n\n{deriv}`grad.w_b21`\n"})
    sets = tmp_path / "v"
    assert variants_main(["1", "--out", str(sets), "--seed", "s", "--format", "md", "--jobs", "1"]) == 0
    before = (sets / "001" / "selfcheck.html").read_bytes()
    result = _build(src, sets / "001")
    assert result.returncode == 2 and "of the variants set in" in result.stderr, result.stderr
    assert (sets / "001" / "selfcheck.html").read_bytes() == before and not (sets / "001" / "index.html").exists()


def test_both_worksheet_switches_build_the_same_site():
    """Finding 2: -D derivations_worksheet=1, documented as the same as -t worksheet, built all the pages, the
    symmetry page (whose theorems answer the handout's question) among them. Both switches now give the same
    configuration: the handout page as the root, the solution's pages left out."""
    from sphinx.application import Sphinx

    root = Path(__file__).resolve().parents[1]

    def config(*, tags=(), overrides=None):
        import io
        import tempfile

        from sphinx.util.docutils import docutils_namespace, patch_docutils

        # as sphinx-build does: the nodes and directives registered here are forgotten after (no later build in
        # this process finds them "already registered")
        with tempfile.TemporaryDirectory() as out, patch_docutils(root), docutils_namespace():
            app = Sphinx(root / "docs", root, out, Path(out) / ".doctrees", "dummy", confoverrides=overrides or {},
                         status=io.StringIO(), warning=io.StringIO(), tags=list(tags))
            return (app.config.root_doc, sorted(app.config.exclude_patterns), app.config.derivations_worksheet,
                    app.tags.has("worksheet"))  # the pages' {only} worksheet blocks

    by_tag = config(tags=["worksheet"])
    assert by_tag == config(overrides={"derivations_worksheet": "1"}) == config(overrides={"derivations_worksheet": 1})
    assert by_tag[0] == "handout" and "symmetry.md" in by_tag[1] and by_tag[2:] == (True, True)
    assert config()[0] == "index" and "symmetry.md" not in config()[1] and config()[2:] == (False, False)
