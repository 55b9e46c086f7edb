"""Rendering a newcomer reads: formulas in prose typeset as math (LaTeX, the site's theorem boxes, the
diagrams' captions), long formula lines broken, captions readable in print, theorem titles that fit the init."""

import re

import pytest

from derivations import evaluate, load_problem
from derivations.cli import print as print_cli
from derivations.engine import theorems as T
from derivations.notation.printing import prose_parts
from derivations.outputs import figures
from derivations.outputs.page import MAX_LINE, WRAP_AT


@pytest.mark.parametrize("text, math", [
    ("equal gradients ∂ℒ/∂w^a_ij across i", [r"\frac{\partial\mathcal{L}}{\partial w^{a}_{ij}}", "i"]),
    ("H = W_a x", [r"H = W_{a} x"]),
    ("Y = softmax(O), so Y_n = 1 − Σ_{j<n} Y_j (step 1)", [r"Y = \operatorname{softmax}(O)", r"Y_{n} = 1 - \sum_{j<n} Y_{j}"]),
    ("One step W ← W − η ∂ℒ/∂W (η symbolic)", [r"W \leftarrow W - \eta\, \partial\mathcal{L}/\partial W"]),
    ("the loss falls, a numeric run", []),
])
def test_formulas_in_prose_become_math_and_words_stay_text(text, math):
    parts = prose_parts(text)
    assert [s for kind, s in parts if kind == "math"] == math
    words = "".join(s for kind, s in parts if kind == "text")
    assert not re.search(r"[_^∂∇Σℒ]", words), words  # nothing of the text notation left as words


def test_latex_key_insight_and_intros_write_math_as_math(capsys):
    assert print_cli.main(["--format", "latex", "--theorems"]) == 0
    tex = capsys.readouterr().out
    assert r"\^{}" not in tex and r"\_" not in tex, re.findall(r".{30}\\(?:\^\{\}|_).{30}", tex)[:3]
    assert r"equal gradients $\frac{\partial\mathcal{L}}{\partial w^{a}_{ij}}$ across $i$" in tex
    assert r"4 paths from $\mathcal{L}$ to $w^{a}_{11}$" in tex
    assert r"\subsection*{Key insight: the gradient of $W_{a}$}" in tex
    assert tex.count("$") % 2 == 0


def test_long_formula_lines_are_broken_before_their_signs(tmp_path, capsys):
    """A 2-14-30 network's ∇O and ∇L sums run to thousands of characters on one line; --param w_a11 breaks
    them before + and = into lines a terminal shows."""
    rows = lambda n, m: "[" + ", ".join("[" + ", ".join(["0.1"] * m) + "]" for _ in range(n)) + "]"  # noqa: E731
    path = tmp_path / "wide.toml"
    path.write_text(f'[network]\nlayers = [2, 14, 30]\nactivation = "relu"\n[data]\nx = [0.5, 0.9]\n'
                    f'y = [1{", 0" * 29}]\n[init]\nW_a = {rows(14, 2)}\nW_b = {rows(30, 14)}\n')
    assert print_cli.main(["--config", str(path), "--param", "w_a11"]) == 0
    out = capsys.readouterr().out
    lines = out[:out.index("Key insight")].splitlines()  # the worked solution; the key insight's prose is as before
    assert max(len(ln) for ln in lines) <= MAX_LINE
    continued = [ln for ln in lines if ln.startswith("      + ")]
    assert len(continued) > 20 and all(len(ln) <= WRAP_AT + 40 for ln in continued)


def test_the_handouts_own_lines_are_not_broken(capsys):
    assert print_cli.main([]) == 0
    out = capsys.readouterr().out
    assert "∂ℒ/∂w^b_11 = [∂Y_1/∂O_1·∇Y_1 + ∂Y_2/∂O_1·∇Y_2]·L_1 = [0.25·(−0.5) + (−0.25)·0.5]·0.15" in out


def test_random_init_title_fits_a_constant_init(capsys):
    assert print_cli.main(["--theorems"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "Random initialization breaks the symmetry" in ln)
    assert "applies to this init" not in line and "for contrast: a seeded random init, not this one" in line


def test_random_init_applies_to_a_random_init():
    random = T.random_init(load_problem(), 2)
    th = next(t for t in T.theorems_for(random, every=True) if t.key == "random_breaks")
    assert th.applies is True


def test_diagram_captions_are_math_and_readable_in_print():
    svg = figures.network_svg(evaluate(load_problem()), "w_a11")
    captions = re.findall(r'<text class="caption"[^>]*font-size="(\d+)"[^>]*>(.*?)</text>', svg)
    assert len(captions) == 6
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    # the worksheet prints three diagrams, each 48% of an A4 text width of 18 cm (510 pt)
    assert min(int(size) for size, _ in captions) * 0.48 * 510 / width >= 7
    body = dict((re.sub("<[^>]+>", "", text), text) for _, text in captions)
    # W_a: an italic W, its subscript lowered (by dy, which Typst honours) and smaller, the text back on the line
    assert re.search(r'<tspan font-style="italic">W</tspan><tspan dy="([\d.]+)" font-size="16">a</tspan><tspan dy="-\1">',
                     body["H = Wa x"]), body["H = Wa x"]


def test_training_figure_text_is_readable_in_print():
    """matplotlib draws text as glyphs scaled to the font size (``scale(0.12 -0.12)`` is 12 pt); the figure is
    9 inches wide, printed at 6.5, so 10 pt is the least that prints at 7 pt."""
    curves = figures.training_curves(load_problem(), steps=5)
    svg = figures.training_svg(curves)
    scales = [float(s) for s in re.findall(r"scale\((0\.\d+) -0\.\d+\)", svg)]
    assert scales and min(scales) * 100 * 6.5 / 9 >= 7
