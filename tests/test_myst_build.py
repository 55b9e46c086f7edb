"""The example Jupyter Book 2 project (docs-myst/) built by MyST-MD itself, offline, to Markdown and JATS: the
solution exports hold the handout's values, the worksheet exports (``DERIVATIONS_WORKSHEET=1``) none of its
answers in any file; a bad option leaves the exit status 0 with an error node and one line naming the page.

Needs the ``myst`` command (npm's ``mystmd``; ``.ci/run`` installs it under ``.ci/node``): without it these
tests are skipped, except under CI (the ``CI`` environment variable set), where that is a failure."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import background_build, built
from test_myst import leaks
from test_worksheet import text_of

pytestmark = pytest.mark.slow  # every test reads MyST-MD's builds of the example book

REPO = Path(__file__).resolve().parents[1]
BAD = "\n```{deriv-gradient} w_b21\n:show: most\n```\n"


def myst_command() -> str:
    found = shutil.which("myst") or next((str(p) for p in [REPO / ".ci" / "node" / "node_modules" / ".bin" / "myst"]
                                          if p.exists()), None)
    if found is None:
        reason = "mystmd is not installed (npm install --prefix .ci/node mystmd@1)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: required under CI, where .ci/run installs it", pytrace=False)
        pytest.skip(reason)
    return found


@background_build("myst_builds")
def _build_myst(folder: Path) -> dict:
    """The example project built twice (solution, with one bad directive added; worksheet), side by side (each
    in its own folder, with its own cache): for each, the project folder and MyST's completed process."""
    myst = myst_command()
    running = {}
    for mode in ("solution", "worksheet"):
        project = folder / mode
        shutil.copytree(REPO / "docs-myst", project, ignore=shutil.ignore_patterns("_build"))
        if mode == "solution":
            with open(project / "solution.md", "a", encoding="utf-8") as page:
                page.write(BAD)
        env = {**os.environ, "DERIVATIONS_PYTHON": sys.executable, "DERIVATIONS_WORKSHEET": "1" if mode == "worksheet" else "",
               "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        args = [myst, "build", "--md", "--xml"]
        running[mode] = (project, args, subprocess.Popen(args, cwd=project, env=env, stdout=subprocess.PIPE,
                                                         stderr=subprocess.PIPE, text=True))
    out = {}
    for mode, (project, args, build) in running.items():
        stdout, stderr = build.communicate(timeout=600)
        out[mode] = (project, subprocess.CompletedProcess(args, build.returncode, stdout, stderr))
    return out


@pytest.fixture(scope="session")
def myst_builds(tmp_path_factory):
    """The two builds of ``_build_myst`` (started with the session, conftest.built)."""
    return built("myst_builds", tmp_path_factory)


def export(project: Path, name: str) -> str:
    return (project / "_build" / "exports" / name).read_text(encoding="utf-8")


def test_solution_exports_hold_the_handouts_values(myst_builds):
    project, result = myst_builds["solution"]
    assert result.returncode == 0, result.stdout + result.stderr
    handout, xml = export(project, "handout.md"), export(project, "handout.xml")
    for value in (r"\frac{3}{20}", r"- \frac{3}{80}", r"0.0375 = \frac{3}{80}", "-0.0375"):
        assert value in handout, value
    assert "-0.0375" in xml and r"\frac{3}{80}" in xml
    assert r"\frac{\partial \mathcal{L}}{\partial w^{b}_{21}}" in export(project, "solution.md")


def test_worksheet_build_holds_no_answer_in_any_file(myst_builds):
    """Every file under the worksheet project's _build: the exports, the figures and PDF MyST copied, the site's
    public files, the plugin's own cache and files."""
    project, result = myst_builds["worksheet"]
    assert result.returncode == 0, result.stdout + result.stderr
    built = sorted(p for p in (project / "_build").rglob("*") if p.is_file())
    assert {"handout.md", "handout.xml", "solution.md"} <= {p.name for p in built}
    assert any(p.suffix == ".pdf" for p in built) and not any("answer-key" in p.name for p in built)
    assert any(p.suffix == ".svg" for p in built) and any(p.suffix == ".json" for p in built)
    assert r"\underline{\hspace" in export(project, "handout.md")
    found = [f"{p.relative_to(project)}: {leak}" for p in built for leak in leaks(text_of(p))]
    assert not found, "\n".join(found[:20])
    solution = myst_builds["solution"][0] / "_build" / "exports"
    assert leaks(export(solution.parent.parent, "handout.md")) and leaks(text_of(next(solution.rglob("*.svg"))))


def test_bad_option_keeps_exit_status_0_with_an_error_node_and_one_line(myst_builds):
    project, result = myst_builds["solution"]
    assert result.returncode == 0
    page = export(project, "solution.md")
    assert re.search(r":::\{error\} derivations\n:class: derivations-error\n\nderivations: solution\.md:\d+: deriv-gradient: "
                     r":show: expected one of sum, paths, closed, expanded, all, got 'most'", page), page[-600:]
    said = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.startswith("derivations: ")]
    assert len(said) == 1, said  # once per build, though MyST runs the directive once per export
    assert re.fullmatch(r"derivations: solution\.md:\d+: deriv-gradient: :show: .*'most'", said[0]), said
    assert "Traceback" not in result.stdout + result.stderr


def _tokens(tokens):
    for token in tokens:
        yield token
        yield from _tokens(token.children or [])


@pytest.mark.parametrize("mode", ["solution", "worksheet"])
def test_markdown_exports_read_as_commonmark_and_link_only_what_they_hold(myst_builds, mode):
    """Read by a CommonMark parser, every bold span of the exports closes (none ends in a space before its
    ``**``), and every link and image points at a file inside the export folder (the PDFs and figures are
    copied there: MyST copies none)."""
    from markdown_it import MarkdownIt

    project, _ = myst_builds[mode]
    folder = (project / "_build" / "exports").resolve()
    strong, urls = 0, []
    for name in ("handout.md", "solution.md"):
        tokens = list(_tokens(MarkdownIt("commonmark").parse(export(project, name))))
        unclosed = [t.content for t in tokens if t.type == "text" and "**" in t.content]
        assert unclosed == [], (name, unclosed[:3])
        strong += sum(t.type == "strong_open" for t in tokens)
        urls += [t.attrs.get("href") or t.attrs.get("src") for t in tokens if t.type in ("link_open", "image")]
    assert strong >= 20 and len(urls) >= 5, (strong, urls)
    for url in urls:
        target = (folder / url).resolve()
        assert not url.startswith("/") and target.is_relative_to(folder) and target.is_file(), url
