"""One work bound for every command: each estimates its work from the problem before starting, and a problem
past the bound is refused in one line (exit 2, or a located Sphinx warning) before anything is derived."""


import pytest
from building import sphinx_build

from derivations.cli import check as check_cli
from derivations.cli import print as print_cli
from derivations.engine import derivation, work
from derivations.engine.problem import load_problem


def _wide(outputs: int) -> str:
    """A 2-14-``outputs`` ReLU problem (its softmax Jacobian has outputs² entries per sample)."""
    rows = lambda n, m: "[" + ", ".join("[" + ", ".join(["0.1"] * m) + "]" for _ in range(n)) + "]"  # noqa: E731
    return (f'[network]\nlayers = [2, 14, {outputs}]\nactivation = "relu"\n[data]\nx = [0.5, 0.9]\n'
            f'y = [1{", 0" * (outputs - 1)}]\n[init]\nW_a = {rows(14, 2)}\nW_b = {rows(outputs, 14)}\n')


@pytest.fixture
def wide(tmp_path):
    path = tmp_path / "wide.toml"
    path.write_text(_wide(40))
    return path


@pytest.fixture
def nothing_derived(monkeypatch):
    """Fail the test if anything is derived: a refusal must come before the work."""
    def refuse(*args, **kwargs):
        raise AssertionError("derived a problem the work bound should have refused")

    monkeypatch.setattr(derivation.Derivation, "__init__", refuse)


@pytest.mark.parametrize("args, outputs", [([], 40), (["--format", "markdown"], 40), (["--format", "latex"], 40),
                                           (["--format", "json"], 40), (["--theorems"], 40), (["--param", "w_a11"], 40),
                                           (["--format", "python"], 50)])
def test_print_refuses_past_the_bound_in_one_line_before_any_work(tmp_path, capsys, nothing_derived, args, outputs):
    path = tmp_path / "wide.toml"
    path.write_text(_wide(outputs))
    assert print_cli.main(["--config", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network.layers: expected at most 10 s of estimated work for print" in err, err
    assert f"{outputs} outputs)" in err


def test_check_accepts_what_print_refuses(wide, tmp_path, capsys):
    """check (decimals, no worked solution) estimates under the bound where print does not."""
    answers = tmp_path / "answers.toml"
    answers.write_text('[answers]\n"grad.w_a11" = 0\n')
    problem = load_problem(wide)
    assert work.estimate(problem, "check") <= work.MAX_SECONDS < work.estimate(problem, "text")
    assert check_cli.main([str(answers), "--config", str(wide)]) in (0, 1)


@pytest.mark.parametrize("outputs, accepted", [(29, True), (31, False)])
def test_the_bound_grows_with_the_printed_softmax_jacobian(tmp_path, outputs, accepted):
    path = tmp_path / "p.toml"
    path.write_text(_wide(outputs))
    assert (work.estimate(load_problem(path), "text") <= work.MAX_SECONDS) == accepted


def test_every_shipped_problem_is_well_within_the_bound():
    for name in ("handout", "mazur"):
        problem = load_problem(f"derivations/problems/{name}.toml")
        for task in work.TASKS:
            assert work.estimate(problem, task, every=True) < 2, (name, task)


def test_site_pages_refuse_past_the_bound_as_located_warnings(tmp_path):
    """A page whose problem is past the bound, and a training figure of too many steps: one located warning
    each, the rest of the build goes on."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\n'
                                 'myst_enable_extensions = ["dollarmath"]\n')
    (src / "wide.toml").write_text(_wide(55))
    (src / "mid.toml").write_text(_wide(20))
    (src / "index.md").write_text("# Index\n\n```{deriv-gradient} w_a11\n:problem: wide.toml\n```\n\n"
                                  "```{deriv-training}\n:problem: mid.toml\n:steps: 2000\n```\n\n{deriv}`grad.w_b21`\n")
    done = sphinx_build("-q", "-E", src, tmp_path / "out")
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 2, done.stderr
    assert "index.md:3" in warnings[0] and "estimated work for a page of the site" in warnings[0], warnings
    assert "index.md:7" in warnings[1] and "estimated work for the training figure" in warnings[1], warnings
    assert "steps fit" in warnings[1] and "Traceback" not in done.stderr
    assert "0.0375" in (tmp_path / "out" / "index.html").read_text()  # the page's other roles still built
