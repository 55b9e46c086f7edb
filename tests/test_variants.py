"""Per-student variants: stable, independent, well-behaved by rule, verified; the command line's errors.

The rules are checked here from scratch (Python fractions, the tests' own NumPy backprop), not by calling
the tool's own rule function, on a few hundred seeded variants of several bases."""

import csv
import dataclasses
import hashlib
import itertools
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from sympy import Rational

from derivations import Derivation, evaluate, load_problem
from derivations.engine.derivation import parse_param
from derivations.teaching.check import Checker, blanks
from derivations.outputs import manifest
from derivations.cli import variant_set, variants
from derivations.cli.variants import main
from derivations.teaching import drawing, graded, oracle, variant_file
from derivations.teaching.drawing import read_base
from derivations.engine.ops import ACTIVATIONS

from browser import page  # noqa: F401 (conftest's session browser)
from test_numeric import numpy_backprop

ROOT = Path(__file__).resolve().parent.parent
RANDOM_INIT = ROOT / "docs" / "problems" / "random-init.toml"


def _base_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Bases covering the lessons, each with how many variants to check (about 300 in all): the handout (symmetric
# init), unequal weights, a dead unit, 1 digit with cross-entropy and leaky ReLU, a 2-3-3 identity network with
# probability targets, a symmetric sigmoid network (slow to evaluate exactly: a few).
BASES = {
    "handout": (None, 150),
    "random-init": (RANDOM_INIT.read_text(), 50),
    "dead-unit": (RANDOM_INIT.read_text() + "\n[variants]\ndead = [2]\n", 30),
    "leaky-ce-1-digit": ('[network]\nlayers = [3, 4, 2]\nactivation = "leaky_relu"\nloss = "cross_entropy"\n'
                         "[data]\nx = [0.9, 0.5, 0.1]\ny = [1, 0]\n[init]\n"
                         "W_a = [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.2, 0.2, 0.2], [0.1, 0.3, 0.2]]\n"
                         "W_b = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]\n[variants]\ndigits = 1\n", 30),
    "identity-233": ('[network]\nlayers = [2, 3, 3]\nactivation = "identity"\nloss = "mse"\n'
                     "[data]\nx = [0.5, 0.2]\ny = [0.2, 0.5, 0.3]\n[init]\n"
                     "W_a = [[0.1, 0.2], [0.3, 0.1], [0.2, 0.5]]\nW_b = [[0.1, 0.2, 0.3], [0.3, 0.1, 0.2], [0.2, 0.5, 0.1]]\n", 30),
    "sigmoid-symmetric": ('[network]\nlayers = [2, 2, 2]\nactivation = "sigmoid"\nloss = "mse"\n'
                          "[data]\nx = [0.5, 0.2]\ny = [1, 0]\n[init]\nW_a = 0.3\nW_b = 0.2\n", 3),
}


def F(v) -> Fraction:
    return Fraction(int(v.p), int(v.q))


def significant(v: Fraction) -> int:
    """Significant digits of a short decimal (0 for 0)."""
    if v == 0:
        return 0
    digits = str(abs(v.numerator) * 10**12 // v.denominator).rstrip("0")
    assert abs(v) * 10**12 == int(abs(v) * 10**12), f"{v} is not a short decimal"
    return len(digits.lstrip("0"))


# -- every rule, on a few hundred variants ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", BASES)
def test_every_rule_holds_on_a_few_hundred_seeded_variants(tmp_path, name):
    text, n = BASES[name]
    base = read_base(_base_file(tmp_path, f"{name}.toml", text) if text else None)
    if True:
        act = ACTIVATIONS[base.problem.activation]
        files = set()
        for k in range(n):
            p = drawing.draw(base, "rules", f"s{k}")
            # the structure is the base's
            assert (p.layers, p.activations, p.loss, p.bias, p.n_samples) == \
                (base.problem.layers, base.problem.activations, base.problem.loss, False, 1)
            # short decimals: at most `digits` significant digits, sizes 0.1 to 1
            for v in itertools.chain(p.x, *(W for W in p.weights)):
                assert 0 < significant(F(v)) <= base.digits and Fraction(1, 10) <= abs(F(v)) < 1, (name, v)
            # targets of the base's kind
            if base.target == "one-hot":
                assert sorted(p.y) == [0] * (len(p.y) - 1) + [1]
            else:
                assert sum(p.y) == 1 and all(v >= 0 and (v * 10).is_integer for v in p.y)
            # the init keeps the base's pattern (the lesson's symmetry)
            for W, pattern in zip(p.weights, base.patterns):
                if pattern == "constant":
                    assert len(set(W)) == 1
            # rule 1: hidden pre-activations away from 0, alive unless the lesson kills them
            H = [sum((F(p.W_a[i, j]) * F(p.x[j]) for j in range(p.n_in)), Fraction(0)) for i in range(p.n_hidden)]
            for i, h in enumerate(H):
                if i in base.dead:
                    assert h <= Fraction(-1, 10), (name, k, H)
                elif act.can_die:
                    assert h >= Fraction(1, 10), (name, k, H)
                else:
                    assert abs(h) >= Fraction(1, 10), (name, k, H)
            ref = _reference(p)
            # rule 2: no softmax (near-)ties unless the lesson is the symmetric init
            if not base.symmetric:
                O = ref["O"]
                assert min(abs(a - b) for a, b in itertools.combinations(O, 2)) >= 0.01 - 1e-12, (name, k, O)
            v = evaluate(p)
            # rule 3: bounded denominators of the exact rational values
            for _, value in drawing._every_value(v):
                if isinstance(value, Rational):
                    assert value.q <= 10**8, (name, k, value)
            # rule 4: every asked gradient nonzero (at least 1e-4), unless the lesson says 0
            g = {"w_b11": ref["W_b"][0, 0], "w_b21": ref["W_b"][1, 0], "w_a11": ref["W_a"][0, 0]}
            for key, value in g.items():
                zero = (0 in base.dead) or (key == "w_a11" and base.symmetric)
                if zero:
                    assert v.grad(key) == 0, (name, k, key)
                else:
                    assert abs(value) >= 1e-4 * (1 - 1e-9), (name, k, key, value)
            files.add(variant_file.variant_toml(base, p))
        # rule 5: distinct (here: n different ids drew n different problems)
        assert len(files) == n, name


def _reference(p) -> dict:
    """The tests' own forward pass and gradients (NumPy, test_numeric's backprop)."""
    x = np.array([float(v) for v in p.x])
    Wa, Wb = (np.array(W.tolist(), dtype=float) for W in p.weights)
    H = Wa @ x
    act = {"relu": lambda h: np.maximum(h, 0), "leaky_relu": lambda h: np.where(h > 0, h, h / 100),
           "identity": lambda h: h, "sigmoid": lambda h: 1 / (1 + np.exp(-h))}[p.activation]
    out = {"O": Wb @ act(H)}
    out.update(numpy_backprop(p))
    return out


def test_a_symmetric_base_gives_symmetric_variants_whose_theorems_hold():
    base = read_base()
    p = drawing.draw(base, "course", "ada")
    assert base.symmetric and len(set(p.W_a)) == 1 and len(set(p.W_b)) == 1
    v = evaluate(p)
    assert v.forward["Y"] == [Rational(1, 2)] * 2  # the softmax tie is the lesson
    assert all(g == 0 for g in v.gradients["W_a"])
    oracle.verify(v)  # theorems proved and true of these numbers


def test_a_base_that_asks_the_impossible_is_one_line(tmp_path, capsys, monkeypatch):
    # every hidden unit equal (constant W_a) and unit 2 dead: then all are dead
    path = _base_file(tmp_path, "bad.toml", load_problem_text() + "\n[variants]\ndead = [2]\n")
    code = main(["2", "--out", str(tmp_path / "out"), "--seed", "s", "--config", str(path), "--jobs", "1", "--format", "md"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "one dead unit means all dead" in err
    # rules no draw can meet: each of 2000 attempts is refused, then one line
    base = read_base(RANDOM_INIT)
    monkeypatch.setattr(drawing, "MARGIN", Fraction(100))
    monkeypatch.setattr(drawing, "MAX_ATTEMPTS", 50)
    with pytest.raises(drawing.ProblemError, match=r"no draw of 50 for id 'x' obeys the rules: rule 1 \(hidden"):
        drawing.draw(base, "s", "x")
    # and from the command: refused up front (the first id's draw), before anything is written
    assert main(["2", "--out", str(tmp_path / "out2"), "--seed", "s", "--config", str(RANDOM_INIT), "--jobs", "2",
                 "--format", "md"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "no draw of 50 for id '001' obeys the rules: rule 1" in err[-1] and len(err) <= 2
    assert not (tmp_path / "out2").exists()


def test_a_base_whose_draws_always_tie_names_the_rule_up_front(tmp_path, capsys, monkeypatch):
    """Equal rows of W_b (and unequal W_a): every draw's logits are equal, so rule 2 can never hold. Refused
    before anything is written, naming rule 2 (the count bound made small here; the real run's time is in
    benchmarks/limits.py)."""
    text = load_problem_text().split("[init]")[0] + ("[init]\nW_a = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], "
                                                    "[0.2, 0.3, 0.1]]\nW_b = [[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]]\n")
    path = _base_file(tmp_path, "tie.toml", text)
    monkeypatch.setattr(drawing, "MAX_ATTEMPTS", 40)
    assert main(["30", "--out", str(tmp_path / "out"), "--seed", "s", "--config", str(path), "--jobs", "1",
                 "--format", "md"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 300
    assert "obeys the rules: rule 2 (no softmax ties" in err and "broke in every one" in err
    assert not (tmp_path / "out").exists()


def load_problem_text() -> str:
    from derivations.engine.problem import HANDOUT

    return HANDOUT.read_text()


# -- stable and independent -------------------------------------------------------------------------------------


def _run(tmp_path, roster, name, *extra):
    out = tmp_path / name
    code = main([str(roster), "--out", str(out), "--seed", "course-1", "--format", "md", *extra])
    assert code == 0
    return out


def _files(out: Path) -> dict:
    return {str(f.relative_to(out)): f.read_bytes() for f in sorted(out.rglob("*")) if f.is_file()}


def _roster(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("id,name\n" + "".join(f"{i},{n}\n" for i, n in rows), encoding="utf-8")
    return path


ROWS = [("ada", "Ada L."), ("bo", "Bo"), ("cy", "Cy"), ("dee", "Dee")]


@pytest.mark.slow
def test_same_seed_same_files(tmp_path):
    """Two students, so that --jobs 2 writes them in two workers at once; byte-identical to --jobs 1."""
    roster = _roster(tmp_path, "r.csv", ROWS[:2])
    first, second = _run(tmp_path, roster, "a", "--jobs", "2"), _run(tmp_path, roster, "b", "--jobs", "1")
    assert _files(first) == _files(second)
    other = tmp_path / "c"
    assert main([str(roster), "--out", str(other), "--seed", "course-2", "--format", "md", "--jobs", "1"]) == 0
    assert (other / "ada" / "problem.toml").read_bytes() != (first / "ada" / "problem.toml").read_bytes()


@pytest.mark.slow
def test_removing_or_adding_a_row_changes_no_other_variant(tmp_path):
    full = _run(tmp_path, _roster(tmp_path, "full.csv", ROWS), "full", "--jobs", "1")
    fewer = _run(tmp_path, _roster(tmp_path, "fewer.csv", [ROWS[3], ROWS[0], ROWS[2]] + [("eve", "Eve")]), "fewer",
                 "--jobs", "1")
    for student in ("ada", "cy", "dee"):
        assert _files(full / student) == _files(fewer / student), student
    rows = {r["id"]: r for r in csv.DictReader(open(full / "keys.csv", newline=""))}
    for r in csv.DictReader(open(fewer / "keys.csv", newline="")):
        if r["id"] != "eve":
            assert r == rows[r["id"]]


@pytest.mark.slow
def test_pdf_worksheet_and_key_carry_the_variant_id(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "pdf"
    assert main(["2", "--out", str(out), "--seed", "s", "--jobs", "2"]) == 0
    keys = list(csv.DictReader(open(out / "keys.csv", newline="")))
    assert [r["id"] for r in keys] == ["001", "002"]
    for r in keys:
        folder = out / r["id"]
        assert r["variant"] == hashlib.sha256((folder / "problem.toml").read_bytes()).hexdigest()[:8]
        for name in ("worksheet.pdf", "key.pdf"):
            text = "".join(page.extract_text() for page in pypdf.PdfReader(folder / name).pages)
            assert r["variant"] in text, name


# -- the key against the independent backprop ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["constant, 2 outputs", "unequal, 2 outputs"], ids=["handout", "random-init"])
def test_keys_csv_matches_an_independent_backprop(accepted_sets, name):
    """The handout's and random-init.toml's variants (``accepted_sets``, written by the command line): every
    student's keys.csv values against the tests' own backprop, and the variant's id in their key and worksheet.
    (A roster's ids and names reaching keys.csv in order: test_semicolon_and_tab_rosters_are_read.)"""
    out = accepted_sets[name]
    rows = list(csv.DictReader(open(out / "keys.csv", newline="")))
    assert len(rows) == ACCEPTED[name][1] >= 3
    for r in rows:
        p = load_problem(out / r["id"] / "problem.toml")
        ref = _reference(p)
        want = {"grad.w_b11": ref["W_b"][0, 0], "grad.w_b21": ref["W_b"][1, 0], "grad.w_a11": ref["W_a"][0, 0],
                "forward.O[1]": ref["O"][0], "forward.O[2]": ref["O"][1]}
        for col, value in want.items():
            got = float(Fraction(r[col]))  # an exact fraction (1/3) or a decimal
            assert math.isclose(got, value, rel_tol=5e-4, abs_tol=1e-15), (r["id"], col, got, value)
        assert r["variant"] in (out / r["id"] / "key.md").read_text()
        assert r["variant"] in (out / r["id"] / "worksheet.md").read_text()


def test_verification_failure_writes_nothing_and_says_so(tmp_path, capsys, monkeypatch):
    real = oracle.numpy_backprop

    def wrong(p):
        out = real(p)
        out["forward"]["Y"] = [Y + 1e-3 for Y in out["forward"]["Y"]]
        return out

    monkeypatch.setattr(oracle, "numpy_backprop", wrong)
    out = tmp_path / "out"
    assert main(["2", "--out", str(out), "--seed", "s", "--jobs", "1", "--format", "md"]) == 1
    err = capsys.readouterr().err
    assert "verification failed" in err and len(err.strip().splitlines()) <= 2
    assert not (out / "001" / "problem.toml").exists() and not (out / "keys.csv").exists()


def test_collisions_are_redrawn_for_the_later_id_only():
    base = read_base()
    text, attempt = variant_file.variant_toml(base, drawing.draw(base, "s", "a")), 0
    drawn = {"a": (text, attempt), "b": (text, attempt)}
    out = drawing.distinct(base, "s", dict(drawn))
    keeper = min(("a", "b"), key=lambda s: drawing._order("s", s))
    assert out[keeper] == text and len(set(out.values())) == 2


# -- every value handed out is accepted back ----------------------------------------------------------------------


THREE_OUT = '[network]\nlayers = [3, 4, 3]\nactivation = "relu"\nloss = "{loss}"\n[data]\nx = [0.9, 0.5, 0.1]\ny = [0, 1, 0]\n'
# The checker's test: constant and unequal inits, 2 and 3 outputs, with how many students each.
ACCEPTED = {
    "constant, 2 outputs": (None, 4),
    "constant, 3 outputs": (THREE_OUT.format(loss="mse") + "[init]\nW_a = 0.1\nW_b = 0.1\n", 4),
    "unequal, 2 outputs": (RANDOM_INIT.read_text(), 3),
    "unequal, 3 outputs": (THREE_OUT.format(loss="cross_entropy") + "[init]\n"
                           "W_a = [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.2, 0.2, 0.2], [0.1, 0.3, 0.2]]\n"
                           "W_b = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.2, 0.1, 0.4, 0.3]]\n", 3),
}


@pytest.fixture(scope="module")
def accepted_sets(tmp_path_factory):
    """``{base name: --out folder}``: each base's variants, written by the command line."""
    out = {}
    for name, (text, n) in ACCEPTED.items():
        tmp = tmp_path_factory.mktemp("accepted")
        extra = ["--config", str(_base_file(tmp, "base.toml", text))] if text else []
        assert main([str(n), "--out", str(tmp / "out"), "--seed", "accept", "--format", "md", "--jobs", "2", *extra]) == 0
        out[name] = tmp / "out"
    return out


@pytest.mark.parametrize("name", ACCEPTED)
def test_every_keys_csv_value_is_correct_for_the_checker(accepted_sets, name):
    from derivations.teaching.check import Checker, blanks

    rows = list(csv.DictReader(open(accepted_sets[name] / "keys.csv", newline="")))
    assert len(rows) == ACCEPTED[name][1]
    for r in rows:
        answers = {k: v for k, v in r.items() if k.startswith(("forward.", "backward.", "grad."))}
        verdicts = Checker(load_problem(accepted_sets[name] / r["id"] / "problem.toml")).check(answers)
        wrong = {k: (answers[k], v.verdict) for k, v in verdicts.items() if v.verdict != "correct"}
        assert not wrong and len(verdicts) == len(answers) > 20, (name, r["id"], wrong)


def test_a_three_output_constant_key_hands_out_exact_thirds(accepted_sets):
    rows = list(csv.DictReader(open(accepted_sets["constant, 3 outputs"] / "keys.csv", newline="")))
    assert all(r["forward.Y[1]"] == "1/3" for r in rows)  # the key's 1/3, not 0.3333
    assert {r["backward.dY_dO[1,1]"] for r in rows} == {"2/9"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["constant, 3 outputs", "unequal, 3 outputs"])
def test_every_keys_csv_value_is_correct_on_the_self_check_page(accepted_sets, page, name):
    out = accepted_sets[name]
    rows = list(csv.DictReader(open(out / "keys.csv", newline="")))
    for r in rows[:2]:
        page.goto((out / r["id"] / "selfcheck.html").resolve().as_uri())
        answers = {k: v for k, v in r.items() if k.startswith(("forward.", "backward.", "grad."))}
        verdicts = page.evaluate("""(answers) => {
            const inputs = Array.from(document.querySelectorAll("input[data-key]"));
            for (const el of inputs) { const k = el.dataset.key.replace(/#\\d+$/, ""); if (k in answers) el.value = answers[k]; }
            inputs[0].dispatchEvent(new Event("change"));
            const out = {};
            for (const el of inputs) {
                const k = el.dataset.key.replace(/#\\d+$/, "");
                if (k in answers) out[el.dataset.key] = document.querySelector(`[data-feedback-for="${el.dataset.key}"]`).className;
            }
            return out;
        }""", answers)
        typed = {k.split("#")[0] for k in verdicts}
        assert typed <= set(answers) and len(typed) > 20  # the page's blanks (a 3-output page shows two of ∇O)
        wrong = {k: c for k, c in verdicts.items() if "correct" not in c.split()}
        assert not wrong, (name, r["id"], wrong)


# -- the self-check page -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_students(tmp_path_factory):
    """The handout's set for two anonymous students (seed course-1, Markdown), shared by the tests that only
    read it."""
    return _run(tmp_path_factory.mktemp("two"), "2", "sc", "--jobs", "1")


def test_selfcheck_pages_are_written(two_students):
    pytest.importorskip("derivations.outputs.selfcheck")
    out = two_students
    for student in ("001", "002"):
        assert (out / student / "selfcheck.html").exists()


def test_every_student_gets_a_self_check_page(tmp_path, capsys):
    out = _run(tmp_path, "2", "sc", "--jobs", "1")
    assert capsys.readouterr().err.strip() == "" or "note" not in capsys.readouterr().err
    for student in ("001", "002"):
        page = (out / student / "selfcheck.html").read_text(encoding="utf-8")
        assert 'data-key="forward.H[1]"' in page and "aria-live" in page


def test_self_check_page_shows_the_variants_identifier_and_the_students_name(tmp_path):
    """The page names the problem as its worksheet and keys.csv do (the hash of the variant's file), and the
    student by id and roster name, escaped."""
    import csv

    roster = _roster(tmp_path, "r.csv", [("zoe", '"Zoë <b>&</b> Co"'), ("ann", "Ann")])
    out = _run(tmp_path, roster, "sc", "--jobs", "1")
    keys = {row["id"]: row for row in csv.DictReader((out / "keys.csv").open(encoding="utf-8"))}
    for student in ("zoe", "ann"):
        page = (out / student / "selfcheck.html").read_text(encoding="utf-8")
        ident = keys[student]["variant"]
        assert f"problem {ident}" in page and ident in (out / student / "worksheet.md").read_text(encoding="utf-8")
        assert f'data-problem="{ident}"' in page
    page = (out / "zoe" / "selfcheck.html").read_text(encoding="utf-8")
    assert "student zoe (Zoë &lt;b&gt;&amp;&lt;/b&gt; Co)" in page and "<b>&</b>" not in page
    assert 'href="worksheet.md"' in page


def test_self_check_pages_typeset_their_math_offline_from_one_mathjax_copy(two_students, page):
    """A variant's self-check page is opened from a folder, not a site: MathJax (its one-file SVG component)
    is written once beside the students' folders, listed in the manifest, and typesets each page from file://."""
    out = two_students
    mathjax = out / "_mathjax" / "tex-svg-full.js"
    assert mathjax.is_file() and "_mathjax/tex-svg-full.js" in (out / "manifest.sha256").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["001", "002", "_mathjax"]
    html = (out / "001" / "selfcheck.html").read_text(encoding="utf-8")
    assert 'src="../_mathjax/tex-svg-full.js"' in html
    page.goto((out / "001" / "selfcheck.html").resolve().as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000)
    page.evaluate("() => MathJax.startup.promise")
    assert page.locator(".display .math mjx-container").count() >= 5  # typeset, not TeX source
    assert page.blocked == [] and page.failed == []


def test_an_id_naming_the_tools_mathjax_folder_is_refused(tmp_path, capsys):
    roster = _roster(tmp_path, "r.csv", [("_mathjax", "M")])
    assert main([str(roster), "--out", str(tmp_path / "o"), "--seed", "s"]) == 2
    assert "_mathjax" in capsys.readouterr().err and not (tmp_path / "o").exists()


# -- command-line errors: one line, exit 2, nothing written ------------------------------------------------------------


BAD_ROSTERS = {
    "dotdot": "id\n../x\n",
    "slash": "id\na/b\n",
    "backslash": "id\na\\b\n",
    "nul": "id\na\x00b\n",
    "long": "id\n" + "a" * 65 + "\n",
    "empty id": "id,name\n,Ann\n",
    "dot": "id\n.\n",
    "space": "id\nann smith\n",
    "duplicate": "id\nann\nbob\nANN\n",
    "no id column": "name\nann\n",
    "two id columns": "ID,id\nann,bob\n",
    "header only": "id,name\n",
    "empty": "",
    "clash": "id,variant\nann,x\n",
    "too many fields": "id\nann,extra\n",
    "not utf-8": b"id\n\xff\xfe\n",
}


@pytest.mark.parametrize("content", BAD_ROSTERS.values(), ids=BAD_ROSTERS.keys())
def test_bad_rosters_are_one_line_exit_2(tmp_path, capsys, content):
    roster = tmp_path / "r.csv"
    roster.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out = tmp_path / "out"
    assert main([str(roster), "--out", str(out), "--seed", "s", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m derivations.variants: error:"), err
    assert not out.exists() or not any(out.iterdir())


def test_a_roster_saved_by_a_windows_spreadsheet_is_told_how_to_save_it(tmp_path, capsys):
    roster = tmp_path / "r.csv"
    roster.write_bytes("id,name\nzoe,Zoë\n".encode("cp1252"))
    assert main([str(roster), "--out", str(tmp_path / "out"), "--seed", "s", "--jobs", "1"]) == 2
    assert 'is not UTF-8 (a spreadsheet: save it as "CSV UTF-8")' in capsys.readouterr().err


BAD_ARGUMENTS = {  # each with a fragment of its one line (so that it fails for its own reason)
    "zero": (["0", "--seed", "s"], "ROSTER"),
    "too many": (["100000", "--seed", "s"], "ROSTER"),
    "missing file": (["missing.csv", "--seed", "s"], "does not exist"),
    "seed": (["3", "--seed", "a\nb"], "--seed"),
    "no seed": (["3"], "--seed"),
    "empty seed": (["3", "--seed", " "], "--seed"),
    "seed and seed file": (["3", "--seed", "s", "--seed-file", "f"], "not allowed with"),
    "missing seed file": (["3", "--seed-file", "missing.txt"], "--seed-file"),
    "jobs": (["3", "--seed", "s", "--jobs", "0"], "--jobs"),
    "format": (["3", "--seed", "s", "--format", "docx"], "--format"),
    "config": (["3", "--seed", "s", "--config", "missing.toml"], "config"),
    "out twice": (["3", "--seed", "s", "--out", "again"], "--out"),
}


@pytest.mark.parametrize("args, fragment", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_arguments_are_one_line_exit_2(tmp_path, capsys, args, fragment):
    try:
        code = main([*args, "--out", str(tmp_path / "out")])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and fragment in err, err


def test_the_seed_can_come_from_a_file(tmp_path):
    (tmp_path / "seed.txt").write_text("course-1\n", encoding="utf-8")
    roster = _roster(tmp_path, "r.csv", ROWS[:2])
    from_file = tmp_path / "file"
    assert main([str(roster), "--out", str(from_file), "--seed-file", str(tmp_path / "seed.txt"), "--format", "md",
                 "--jobs", "1"]) == 0
    assert _files(from_file) == _files(_run(tmp_path, roster, "flag", "--jobs", "1"))


def test_a_seed_file_that_is_not_a_seed_is_refused_without_quoting_it(tmp_path, capsys):
    """The seed is the course's secret: a first line that cannot be one (too long: another file given by
    mistake, or the seed itself mistyped) is refused by its length, not quoted."""
    secret = "s3cret-" * 20
    (tmp_path / "seed.txt").write_text(secret + "\n", encoding="utf-8")
    assert main(["2", "--out", str(tmp_path / "out"), "--seed-file", str(tmp_path / "seed.txt")]) == 2
    err = capsys.readouterr().err
    assert "s3cret" not in err and "a first line of 140 characters" in err and err.count("\n") == 1, err


def test_a_base_the_page_cannot_show_is_one_line(tmp_path, capsys):
    wide = _base_file(tmp_path, "wide.toml", '[network]\nlayers = [2, 7, 2]\n[data]\nx = [0.5, 0.2]\ny = [1, 0]\n'
                                             "[init]\nW_a = 0.1\n")
    assert main(["2", "--out", str(tmp_path / "out"), "--seed", "s", "--config", str(wide)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at most 6 units" in err and not (tmp_path / "out").exists()
    bad = _base_file(tmp_path, "digits.toml", load_problem_text() + "\n[variants]\ndigits = 9\n")
    assert main(["2", "--out", str(tmp_path / "out"), "--seed", "s", "--config", str(bad)]) == 2
    assert "variants.digits" in capsys.readouterr().err


@pytest.mark.parametrize("shape, says", [
    ("layers = [2, 3, 3, 3, 3, 2]", "at most 3 hidden layers, got 4"),  # 4 hidden layers
    ("layers = [2, 3, 2]\nx = [[0.5, 0.2], [0.1, 0.3], [0.2, 0.2], [0.4, 0.1]]\ny = [[1, 0], [0, 1], [1, 0], [0, 1]]",
     "at most 3 samples, got 4"),
])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_a_base_too_big_for_the_page_says_so_whatever_its_units(tmp_path, capsys, shape, says, activation):
    """Finding 8 of issue 30: a ReLU base with 4 samples or 4 hidden layers was "rule 1 broke in every one" (its
    draws died first), where the same base with sigmoid units got the page's limit; now both get the limit, at
    once, before any draw."""
    layers, _, data = shape.partition("\n")
    if not data:
        data = "x = [0.5, 0.2]\ny = [1, 0]"
    widths = [int(n) for n in layers.split("[")[1].rstrip("]").split(",")]
    weights = "".join(f"W_{c} = [" + ", ".join("[" + ", ".join(f"{(-1) ** (i + j) * (i + 2 * j + 1) / 10:g}" for j in range(m))
                                             + "]" for i in range(n)) + "]\n"  # unequal: draws keep them unequal
                      for c, m, n in zip("abcde", widths, widths[1:]))
    base = _base_file(tmp_path, "big.toml", f'[network]\n{layers}\nactivation = "{activation}"\n[data]\n{data}\n'
                                            f"[init]\n{weights}")
    assert main(["2", "--out", str(tmp_path / "out"), "--seed", "s", "--config", str(base), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "rule" not in err, err
    assert not (tmp_path / "out").exists()


def test_progress_only_on_a_terminal(capsys):
    from derivations.cli import cli_io

    progress = cli_io.Progress("variants")  # the progress line variants and grade share
    progress("writing 1/3")
    progress.end()
    assert capsys.readouterr().err == ""  # pytest's capture is not a terminal


def test_the_sphinx_extension_builds_a_variants_page(tmp_path):
    from building import sphinx_build

    out = _run(tmp_path, "1", "v", "--jobs", "1")
    key = next(csv.DictReader(open(out / "keys.csv", newline="")))
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinx.extension"]\nmyst_enable_extensions = ["dollarmath"]\n')
    (src / "index.md").write_text("# Variant\n\nH1 {deriv}`forward.H[1]`, gradient {deriv}`grad.w_b11`.\n")
    build = sphinx_build("-W", "-q", "-D", f"derivations_problem={(out / '001' / 'problem.toml').resolve()}", src,
                         tmp_path / "site")
    assert build.returncode == 0, build.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert key["forward.H[1]"] in html and key["grad.w_b11"].lstrip("-") in html


# -- nothing lost: the output folder ------------------------------------------------------------------------------


def _state(out: Path) -> dict:
    """Every file under ``out`` (hidden ones too) and its bytes."""
    return {str(f.relative_to(out)): f.read_bytes() for f in sorted(out.rglob("*")) if f.is_file()}


def _no_leftovers(out: Path):
    """No temporary file, staging folder, commit record, or lock's file (a finished run removes it)."""
    names = [str(f.relative_to(out)) for f in out.rglob("*")]
    assert not [n for n in names if n.endswith(".tmp") or ".variants-staging-" in n or ".variants.pending" in n
                or n == ".variants.lock"], names


def _consistent(out: Path):
    """keys.csv names every folder's variant, and every manifest line holds."""
    for r in csv.DictReader(open(out / "keys.csv", newline="")):
        assert r["variant"] == hashlib.sha256((out / r["id"] / "problem.toml").read_bytes()).hexdigest()[:8], r["id"]
    for line in (out / "manifest.sha256").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name


def test_a_rerun_never_overwrites_a_hand_edited_key(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["1", "--out", str(out), "--seed", "s", "--jobs", "1"]
    assert main(args) == 0  # PDFs, as a teacher runs it
    key = out / "001" / "key.pdf"
    key.write_bytes(key.read_bytes() + b"% the teacher's note\n")
    before = _state(out)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "001/key.pdf" in err and "changed since" in err and "--force" in err, err
    assert _state(out) == before
    _no_leftovers(out)
    assert main(args + ["--force"]) == 0  # the teacher says so: the tool's key again
    assert b"teacher" not in key.read_bytes() and "--force overwrote 1 file" in capsys.readouterr().err
    _consistent(out)


@pytest.mark.parametrize("theirs", ["keys.csv", "001/problem.toml", "manifest.sha256"])
def test_a_folder_with_the_teachers_own_files_is_left_alone(tmp_path, capsys, theirs):
    out = tmp_path / "out"
    (out / theirs).parent.mkdir(parents=True)
    (out / theirs).write_text("id,grade\nada,=1+1\n" if theirs != "manifest.sha256" else "my list\n")
    assert main(["1", "--out", str(out), "--seed", "s", "--format", "md", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and theirs in err, err
    assert set(_state(out)) == {theirs} and (out / theirs).read_text().endswith("\n")  # not even the lock's file


@pytest.mark.parametrize("option, where", [("ROSTER", "keys.csv"), ("--seed-file", "001/problem.toml"),
                                           ("--config", "001/problem.toml")])
def test_an_input_is_never_an_output_even_with_force(tmp_path, capsys, option, where):
    """The roster, the seed file and the base problem are read, never written: --force overwrites the tool's
    changed files, not the files it is run from (the seed would be lost)."""
    out = tmp_path / "out"
    mine = out / where
    mine.parent.mkdir(parents=True)
    text = {"ROSTER": "id\n001\n", "--seed-file": "my course seed\n", "--config": load_problem_text()}[option]
    mine.write_text(text, encoding="utf-8")
    args = {"ROSTER": [str(mine), "--seed", "s"], "--seed-file": ["1", "--seed-file", str(mine)],
            "--config": ["1", "--seed", "s", "--config", str(mine)]}[option]
    assert main([*args, "--out", str(out), "--format", "md", "--jobs", "1", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err and where in err and "never written" in err, err
    assert mine.read_text(encoding="utf-8") == text


def test_the_teachers_other_files_survive_a_rerun_and_a_format_change(tmp_path):
    out = _run(tmp_path, "2", "out", "--jobs", "1")
    notes = out / "001" / "notes.txt"
    notes.write_text("Ada asked about ReLU")
    assert main(["2", "--out", str(out), "--seed", "course-2", "--format", "html", "--jobs", "1"]) == 0
    assert notes.read_text() == "Ada asked about ReLU"
    assert not (out / "001" / "key.md").exists()  # the tool's own page of the old draw: no folder mixes two runs
    assert (out / "001" / "key.html").exists()
    _consistent(out)
    _no_leftovers(out)


@pytest.mark.slow
def test_same_seed_gives_byte_identical_sets_pdfs_included(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert main(["2", "--out", str(out), "--seed", "s", "--jobs", "1"]) == 0
    assert _state(first) == _state(second) and "001/key.pdf" in _state(first)


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path, capsys):
    import fcntl
    import os

    out = _run(tmp_path, "1", "out", "--jobs", "1")
    assert not (out / ".variants.lock").exists()  # a finished run leaves no lock's file
    fd = os.open(out / ".variants.lock", os.O_RDWR | os.O_CREAT)
    before = _state(out)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running tool holds it
        assert main(["1", "--out", str(out), "--seed", "other", "--format", "md", "--jobs", "1"]) == 2
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another run is writing" in err
    assert _state(out) == before  # the other run's lock's file too: the refused run never removes it


def _cli(out, seed, n, jobs="1", **kwargs):
    import subprocess

    return subprocess.Popen([sys.executable, "-m", "derivations.variants", str(n), "--out", str(out), "--seed", seed,
                             "--format", "md", "--jobs", jobs], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_two_runs_at_once_leave_one_consistent_set(tmp_path):
    out = tmp_path / "out"
    runs = [_cli(out, seed, 3) for seed in ("one", "two")]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # the later one refused, or both in turn
    assert all("another run is writing" in err for code, err in results if code == 2)
    _consistent(out)
    _no_leftovers(out)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_an_interrupted_rerun_changes_nothing_and_leaves_no_temporary_file(tmp_path, how):
    import os
    import signal
    import time

    out = _run(tmp_path, "2", "out", "--jobs", "1")
    before = _state(out)
    run = _cli(out, "another-seed", 8, jobs="2", start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".variants-staging-*/*/selfcheck.html")):  # some of the new set is written
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    if how == "ctrl-c":
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C at a terminal: the whole process group
    else:
        run.terminate()  # `kill PID`: SIGTERM to the tool alone
    _, err = run.communicate(timeout=120)
    assert run.returncode == {"ctrl-c": 130, "kill": 143}[how] and err.strip().splitlines() == [
        f"python -m derivations.variants: interrupted; nothing in {out} changed"], err
    assert _state(out) == before
    _no_leftovers(out)


def test_a_commit_cut_short_is_named_and_repaired_by_the_next_run(tmp_path, capsys, monkeypatch):
    import os

    out = _run(tmp_path, "3", "out", "--jobs", "1")

    monkeypatch.setattr(manifest, "os", _power_cut(os, after=2))  # the commit's os: the third file's move fails
    assert main(["3", "--out", str(out), "--seed", "new", "--format", "md", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "partly replaced" in err and err.count("\n") == 1
    assert not (out / "keys.csv").exists() and (out / ".variants.pending").exists()  # visibly incomplete
    monkeypatch.setattr(manifest, "os", os)
    assert main(["3", "--out", str(out), "--seed", "new", "--format", "md", "--jobs", "1"]) == 0
    assert "cut short" in capsys.readouterr().err
    _consistent(out)
    _no_leftovers(out)


def _power_cut(os, after: int):
    """The commit's ``os`` whose file move fails after ``after`` moves (a power cut mid-commit)."""
    moved = []

    class PowerCut:
        def __getattr__(self, name):
            return getattr(os, name)

        def replace(self, src, dst):
            if len(moved) == after:
                raise OSError(5, "Input/output error")
            moved.append(dst)
            os.replace(src, dst)

    return PowerCut()


def _sha256sum_holds(out: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=out, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_after_a_commit_cut_short_a_smaller_roster_then_the_full_one_need_no_force(tmp_path, capsys, monkeypatch):
    """Finding 6 of issue 30: the recovery recorded an arbitrary one of a file's two digests (the old manifest's,
    the cut-short record's), so sha256sum -c failed and the next run needed --force. Now every digest recorded
    is the file's on disk."""
    import os

    out = _run(tmp_path, "3", "out", "--jobs", "1")

    monkeypatch.setattr(manifest, "os", _power_cut(os, after=3))  # the commit's os: the fourth file's move fails, half the set replaced
    assert main(["3", "--out", str(out), "--seed", "new", "--format", "md", "--jobs", "1"]) == 2
    monkeypatch.setattr(manifest, "os", os)
    assert main(["1", "--out", str(out), "--seed", "new", "--format", "md", "--jobs", "1"]) == 0  # a smaller roster
    _consistent(out)
    _sha256sum_holds(out)
    capsys.readouterr()
    assert main(["3", "--out", str(out), "--seed", "new", "--format", "md", "--jobs", "1"]) == 0, capsys.readouterr().err
    _consistent(out)
    _sha256sum_holds(out)


def test_the_teachers_staging_named_folder_and_listed_files_are_never_deleted(tmp_path, capsys):
    """Finding 6 of issue 30: any run deleted a teacher's folder named .variants-staging-*, and a manifest line
    carrying a teacher's file's hash made the commit delete that file. Now the tool removes only the staging
    folder it recorded, and only files whose names it writes."""
    out = _run(tmp_path, "2", "out", "--jobs", "1")
    mine = out / ".variants-staging-notes"
    mine.mkdir()
    (mine / "plan.txt").write_text("week 3")
    notes = out / "001" / "notes.txt"
    notes.write_text("Ada asked about ReLU")
    with open(out / "manifest.sha256", "a", encoding="utf-8") as fh:  # a line for the teacher's own file
        fh.write(f"{hashlib.sha256(notes.read_bytes()).hexdigest()}  001/notes.txt\n")
    assert main(["2", "--out", str(out), "--seed", "other", "--format", "md", "--jobs", "1"]) == 0
    assert (mine / "plan.txt").read_text() == "week 3" and notes.read_text() == "Ada asked about ReLU"
    assert "001/notes.txt" not in (out / "manifest.sha256").read_text()  # no longer said to be the tool's
    _consistent(out)
    _sha256sum_holds(out)


def test_a_run_killed_outright_leaves_its_staging_folder_private_and_the_next_run_removes_it(tmp_path):
    """Finding 6 of issue 30: a kill -9 during staging left every key in .variants-staging-PID/ until the next
    run. It still does (nothing runs after kill -9), but readable by its owner only, and the next run removes
    exactly that folder, whatever its name."""
    import os
    import stat as stat_module

    out = _run(tmp_path, "1", "out", "--jobs", "1")
    killed = manifest.Folder(out)
    killed.lock()
    staging = killed.stage()
    (staging / "key.md").write_text("answers")
    os.close(killed._lock)  # the process dies: its lock goes, its staging folder and the lock's record stay
    assert stat_module.S_IMODE(staging.stat().st_mode) == 0o700
    assert staging.name in (out / ".variants.lock").read_text()
    assert main(["1", "--out", str(out), "--seed", "course-1", "--format", "md", "--jobs", "1"]) == 0
    assert not staging.exists() and not (out / ".variants.lock").exists()  # a finished run removes the lock's file
    _no_leftovers(out)


def test_formula_names_reach_keys_csv_neutralised(tmp_path):
    roster = tmp_path / "r.csv"
    names = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tTab"]
    roster.write_text("id,name\n" + "".join(f'k{k},"{n.replace(chr(34), 2 * chr(34))}"\n' for k, n in enumerate(names)),
                      encoding="utf-8")
    out = _run(tmp_path, roster, "out", "--jobs", "1")
    rows = list(csv.DictReader(open(out / "keys.csv", newline="")))
    assert [r["name"] for r in rows] == ["'" + n for n in names]
    assert rows[0]["grad.w_b11"].startswith("-") or rows[1]["grad.w_b11"].startswith("-")  # numbers stay numbers
    for r in rows:
        Fraction(r["grad.w_b11"])


STRICT_ROSTERS = {  # each: the roster, and what its one line says
    "unclosed quote": ('id,name\nada,"Ada Lovelace\nbo,Bo\ncy,Cy\ndee,Dee\n', "line 2: an unclosed quote"),
    "quote closed rows later": ('id,name\nada,"Ada\nbo,Bo\ncy,"Cy"\n', "line 2:"),
    "quoted cell over two lines": ('id,name\nada,"Ada\nL."\n', "line 2: a quoted field runs over lines 2 to 3"),
    "stray quote": ('id,name\nada,"Ada" L\n', "line 2: not valid CSV"),
    "too few fields": ("id,name,email\nada,Ada\n", "line 2: 2 fields, but the header has 3"),
    "semicolon row, comma header": ("id,name\nada;Ada\n", "line 2: 1 field, but the header has 2 (the line holds ';'"),
    "comma row, semicolon header": ("id;name\nada;Ada\nbo,Bo\n", "line 3: 1 field, but the header has 2 (the line holds ','"),
    "tab row, comma header": ("id,name\nada\tAda\n", "holds a tab"),
    "semicolon id": ("id\nada;Ada\n", "line 2: id 'ada;Ada' is not an id (the line holds ';'"),
    "reserved keys.csv": ("id\nada\nkeys.csv\n", "line 3: id 'keys.csv' is the name of a file the tool writes"),
    "reserved manifest": ("id\nMANIFEST.sha256\n", "line 2: id 'MANIFEST.sha256' is the name of a file"),
}


@pytest.mark.parametrize("content, says", STRICT_ROSTERS.values(), ids=STRICT_ROSTERS.keys())
def test_strict_rosters_name_the_line(tmp_path, capsys, content, says):
    roster = tmp_path / "r.csv"
    roster.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    assert main([str(roster), "--out", str(out), "--seed", "s", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert not out.exists()


@pytest.mark.parametrize("sep", [";", "\t"], ids=["semicolon", "tab"])
def test_semicolon_and_tab_rosters_are_read(tmp_path, sep):
    roster = tmp_path / "r.csv"
    roster.write_text(f"id{sep}name\nada{sep}Ada L.\nbo{sep}Bo\n", encoding="utf-8")
    rows = list(csv.DictReader(open(_run(tmp_path, roster, "out", "--jobs", "1") / "keys.csv", newline="")))
    assert [(r["id"], r["name"]) for r in rows] == [("ada", "Ada L."), ("bo", "Bo")]


def test_a_spreadsheets_id_and_name_columns_are_read_in_any_case(tmp_path):
    """Excel rosters say ID and Name: read as id and name (grade reads its id column so too)."""
    roster = tmp_path / "r.csv"
    roster.write_text("ID,Name\nada,Ada L.\n", encoding="utf-8")
    rows = list(csv.DictReader(open(_run(tmp_path, roster, "out", "--jobs", "1") / "keys.csv", newline="")))
    assert [(r["id"], r["Name"]) for r in rows] == [("ada", "Ada L.")]


def test_a_full_disk_mid_run_changes_nothing_and_leaves_no_temporary_file(tmp_path, capsys, monkeypatch):
    import errno

    out = _run(tmp_path, "2", "out", "--jobs", "1")
    before = _state(out)
    real, written = variant_set.write_atomic, []

    def full_disk(path, data):
        if len(written) == 5:  # the second student's key
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        real(path, data)

    monkeypatch.setattr(variant_set, "write_atomic", full_disk)  # each student's files
    monkeypatch.setattr(variants, "write_atomic", full_disk)  # keys.csv
    assert main(["2", "--out", str(out), "--seed", "other", "--format", "md", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device; nothing changed" in err, err
    assert _state(out) == before
    _no_leftovers(out)


def test_a_student_folder_that_is_a_symlink_is_never_written_through(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "001").symlink_to(elsewhere)
    assert main(["1", "--out", str(out), "--seed", "s", "--format", "md", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "001 is a symbolic link" in err, err
    assert not any(elsewhere.iterdir())


def test_the_tool_derives_each_student_once_and_hands_the_values_on(tmp_path, monkeypatch):
    """Drawing, verifying and writing a variant (pages and self-check) share one plain derivation (one
    process here, ``--jobs 1``); a fresh cache, so earlier tests' derivations do not hide a second one."""
    monkeypatch.setattr(sys.modules[Derivation.__module__], "_DERIVED", {})  # the module (derive is also a function)
    monkeypatch.setattr(sys.modules[evaluate.__module__], "_EVALUATED", {})
    counts: dict = {}
    init = Derivation.__init__

    def counting(self, problem, rules=None):
        if not rules:
            counts[problem] = counts.get(problem, 0) + 1
        init(self, problem, rules)

    monkeypatch.setattr(Derivation, "__init__", counting)
    assert main(["2", "--out", str(tmp_path / "out"), "--seed", "derive-once", "--jobs", "1", "--format", "md"]) == 0
    students = sorted(p.source for p in counts if p.source.startswith("variant "))
    assert students == ["variant 001", "variant 002"], counts
    assert set(counts.values()) == {1}, counts


# -- any base: every layer, biases, several samples, every output layer ------------------------------------------

PROBLEMS = ROOT / "tests" / "problems"
MAZUR = ROOT / "derivations" / "problems" / "mazur.toml"
ANY_BASES = {
    "two-layers": ((ROOT / "docs" / "problems" / "two-layers.toml").read_text(), 8),
    "mazur": (MAZUR.read_text(), 8),
    "two-layers-dead-unit": ((ROOT / "docs" / "problems" / "two-layers.toml").read_text()
                             + 'ask = ["w_c11", "w_b12", "w_a21"]\n[variants]\ndead = [2]\n', 4),  # its [worksheet]
    "two-samples": ((PROBLEMS / "two-samples.toml").read_text(), 8),
    "two-samples-symmetric": ('[network]\nlayers = [3, 4, 2]\nloss = "mse"\nbias = true\n[data]\n'
                              "x = [[0.9, 0.5, 0.1], [0.2, 0.7, 0.4]]\ny = [[1, 0], [0, 1]]\n[init]\n"
                              "W_a = 0.1\nW_b = 0.1\nb_a = 0.1\nb_b = 0.1\n", 6),
    "two-hidden-symmetric": ('[network]\nlayers = [2, 3, 3, 2]\nactivation = ["relu", "leaky_relu"]\nloss = "mse"\n'
                             "bias = true\n[data]\nx = [0.5, 0.2]\ny = [0, 1]\n[init]\nW_a = 0.2\nW_b = 0.3\nW_c = 0.1\n"
                             "b_a = 0.1\nb_b = 0\nb_c = 0.2\n", 6),
    "bce-one-output": ('[network]\nlayers = [2, 3, 1]\nactivation = "tanh"\noutput = "sigmoid"\nloss = "bce"\n'
                       "[data]\nx = [[0.5, 0.2], [0.1, -0.4]]\ny = [[1], [0]]\n[init]\n"
                       "W_a = [[0.1, 0.2], [0.3, 0.1], [-0.2, 0.5]]\nW_b = [[0.1, 0.2, 0.3]]\n", 6),
    "identity-output": ('[network]\nlayers = [2, 2, 2]\nactivation = "leaky_relu"\noutput = "identity"\n'
                        'loss = "quadratic"\n[data]\nx = [0.5, 0.2]\ny = [0.3, -0.7]\n[init]\n'
                        "W_a = [[0.1, 0.2], [0.3, 0.1]]\nW_b = [[0.1, 0.2], [0.4, 0.3]]\n"
                        "[variants]\ndigits = 1\n", 6),  # at 2 digits a squared loss of 3 layers' products has denominators of 10^12
}
NP_OUT = {  # the tests' own output layers: Y of O, and the Jacobian dY_k/dO_j of Y
    "softmax": (lambda O: np.exp(O - O.max()) / np.exp(O - O.max()).sum(), lambda Y: np.diag(Y) - np.outer(Y, Y)),
    "sigmoid": (lambda O: 1 / (1 + np.exp(-O)), lambda Y: np.diag(Y * (1 - Y))),
    "identity": (lambda O: O, lambda Y: np.eye(len(Y))),
}
NP_LOSS = {  # the tests' own losses: ℒ of Y, y and its gradient
    "mse": (lambda Y, y: np.mean((y - Y) ** 2), lambda Y, y: 2 / len(Y) * (Y - y)),
    "quadratic": (lambda Y, y: 0.5 * np.sum((y - Y) ** 2), lambda Y, y: Y - y),
    "cross_entropy": (lambda Y, y: -np.sum(y * np.log(Y)), lambda Y, y: -y / Y),
    "bce": (lambda Y, y: np.mean(-(y * np.log(Y) + (1 - y) * np.log(1 - Y))), lambda Y, y: (Y - y) / (Y * (1 - Y)) / len(Y)),
}


def _reference_keys(p) -> dict:
    """``{keys.csv key: float}``: the tests' own forward and backward pass (NumPy, written here and in
    test_numeric, not the tool's), every value keyed as the checker names it (``forward.H1[2]@2``)."""
    from test_numeric import NP_ACT

    K, S = p.depth, p.n_samples
    names = [("H", "L")] if K == 1 else [(f"H{l + 1}", f"L{l + 1}") for l in range(K)]
    Ws = [np.array(W.tolist(), dtype=float) for W in p.weights]
    bs = [np.array([float(v) for v in b]) for b in p.biases] if p.bias else [np.zeros(len(W)) for W in Ws]
    out = {}
    for s, (x, y) in enumerate(zip(p.xs, p.ys)):
        at = f"@{s + 1}" if S > 1 else ""
        v, y = np.array([float(e) for e in x]), np.array([float(e) for e in y])
        v0 = v
        Hs, Ls = [], []
        for l in range(K):
            Hs.append(Ws[l] @ v + bs[l])
            v = NP_ACT[p.activations[l]][0](Hs[-1])
            Ls.append(v)
        O = Ws[K] @ v + bs[K]
        Y = NP_OUT[p.output][0](O)
        J = NP_OUT[p.output][1](Y)
        loss, dloss = NP_LOSS[p.loss]
        vectors = {"O": O, "Y": Y, "dL_dY": dloss(Y, y)}
        vectors["dL_dO"] = J.T @ vectors["dL_dY"]
        delta = vectors["dL_dO"]
        for l in range(K - 1, -1, -1):
            H, L = names[l]
            vectors[H], vectors[L] = Hs[l], Ls[l]
            vectors[f"dL_d{L}"] = Ws[l + 1].T @ delta
            local = NP_ACT[p.activations[l]][1](Hs[l], Ls[l]) * np.ones_like(Hs[l])
            out.update({f"local.d{L}_d{H}[{i + 1}]{at}": e for i, e in enumerate(local)})  # the page's ReLU′(H_1)
            delta = vectors[f"dL_d{H}"] = vectors[f"dL_d{L}"] * local
        out.update({f"problem.x[{i + 1}]{at}": e for i, e in enumerate(v0)})  # the givens the page asks to copy
        out.update({f"problem.y[{i + 1}]{at}": e for i, e in enumerate(y)})
        for name, vec in vectors.items():
            group = "backward" if name.startswith("dL_") else "forward"
            out.update({f"{group}.{name}[{i + 1}]{at}": e for i, e in enumerate(vec)})
        out.update({f"backward.dY_dO[{k + 1},{j + 1}]{at}": J[k, j] for k in range(len(Y)) for j in range(len(Y))})
        out[f"forward.loss{at}"] = loss(Y, y)
    out["forward.loss"] = np.mean([out[f"forward.loss@{s + 1}"] for s in range(S)]) if S > 1 else out["forward.loss"]
    lr = float(p.lr) if p.lr is not None else 0.5  # the page's gradient-descent step (0.5 unless [worksheet] lr)
    params = p.params()
    for name, G in numpy_backprop(p).items():  # test_numeric's backprop: the mean loss's gradients
        kind, letter = name.split("_")
        for (i, j), g in np.ndenumerate(G):
            key = f"{kind.lower()}_{letter}{i + 1}" + (f"{j + 1}" if kind == "W" else "")
            out[f"grad.{key}"] = g
            out[f"step.{key}"] = -lr * g  # the closing step's change
            out[f"descent.{key}"] = float(params[name][i, j] if kind == "W" else params[name][i]) - lr * g
    return out


@pytest.mark.parametrize("name", ANY_BASES)
def test_every_rule_holds_on_variants_of_any_base(tmp_path, name):
    """Structure kept, short decimals, targets of the base's kind, the base's symmetric pattern in every layer
    (weights and biases), and rules 1-5, judged from scratch with the tests' own backprop."""
    text, n = ANY_BASES[name]
    base = read_base(_base_file(tmp_path, f"{name}.toml", text))
    b = base.problem
    files = set()
    for k in range(n):
        p = drawing.draw(base, "rules", f"s{k}")
        assert (p.layers, p.activations, p.output, p.loss, p.bias, p.n_samples) == \
            (b.layers, b.activations, b.output, b.loss, b.bias, b.n_samples)
        for v in itertools.chain(*p.xs, *(W for W in p.weights), *(p.biases or ())):
            assert v == 0 or (0 < significant(F(v)) <= base.digits and Fraction(1, 10) <= abs(F(v)) < 1), (name, v)
        for y, y0 in zip(p.ys, b.ys):
            if base.target == "one-hot":
                assert sorted(y) == [0] * (len(y) - 1) + [1]
            elif base.target == "binary":
                assert y[0] in (0, 1)
            elif base.target == "unit":
                assert all(0 <= v <= 1 and significant(F(v)) <= base.digits for v in y)
            elif base.target == "probability":
                assert sum(y) == 1 and all(v >= 0 for v in y)
        for W, W0 in zip(p.weights, b.weights):  # the lesson's symmetry where the base has it, in every layer
            assert len(set(W0)) > 1 or len(set(W)) == 1, name
        for v, v0 in zip(p.biases or (), b.biases or ()):
            assert len(set(v0)) > 1 or len(set(v)) == 1, name
            assert any(e != 0 for e in v0) or all(e == 0 for e in v), name
        ref = _reference_keys(p)
        for key, h in ref.items():  # rule 1: every hidden pre-activation of every layer and sample
            if key.startswith("forward.H"):
                layer = int(key[9]) - 1 if p.depth > 1 else 0
                act = ACTIVATIONS[p.activations[layer]]
                if layer == 0 and int(key.split("[")[1].split("]")[0]) - 1 in base.dead:
                    assert h <= -0.1 + 1e-12, (name, k, key, h)
                else:
                    assert (h >= 0.1 - 1e-12) if act.can_die else abs(h) >= 0.1 - 1e-12, (name, k, key, h)
        if p.output == "softmax" and not base.symmetric:  # rule 2
            for s in range(p.n_samples):
                at = f"@{s + 1}" if p.n_samples > 1 else ""
                O = [ref[f"forward.O[{i + 1}]{at}"] for i in range(p.n_out)]
                assert min(abs(a - c) for a, c in itertools.combinations(O, 2)) >= 0.01 - 1e-12, (name, k, O)
        v = evaluate(p)
        for _, value in drawing._every_value(v):  # rule 3
            if isinstance(value, Rational):
                assert value.q <= 10**8, (name, k, value)
        for key in base.asked:  # rule 4; the lesson's zero where the symmetric init and a softmax make it
            w = parse_param(key, p)  # the lesson's zeros: a dead unit's weights, the symmetric init's earlier layers
            dead = (w.layer == 0 and w.i in base.dead) or (w.layer == 1 and w.kind == "weight" and w.j in base.dead)
            zero = dead or base.symmetric and p.output == "softmax" and w.layer < p.depth
            if zero:
                assert v.grad(key) == 0 and abs(ref[f"grad.{key}"]) < 1e-12, (name, k, key)
            else:
                assert abs(ref[f"grad.{key}"]) >= 1e-4 * (1 - 1e-9), (name, k, key)
        files.add(variant_file.variant_toml(base, p))
    assert len(files) == n, name  # rule 5


def test_a_bias_given_as_one_number_stays_one_number(tmp_path):
    base = read_base(MAZUR)
    text = variant_file.variant_toml(base, drawing.draw(base, "s", "ada"))
    lines = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    assert Fraction(lines["b_a"]) and Fraction(lines["b_b"])  # one number each, as Mazur's b_a = 0.35
    assert lines["output"] == '"sigmoid"' and lines["loss"] == '"quadratic"' and lines["bias"] == "true"
    assert load_problem(_base_file(tmp_path, "v.toml", text)).biases[0] == (Rational(lines["b_a"]),) * 2


def test_several_samples_each_draw_their_own_numbers():
    base = read_base(PROBLEMS / "two-samples.toml")
    p = drawing.draw(base, "s", "ada")
    assert p.n_samples == 2 and p.xs[0] != p.xs[1]
    assert variant_file.problem_from_toml(variant_file.variant_toml(base, p), "v") == dataclasses.replace(p, source="v")


def test_the_handouts_keys_and_numbers_are_unchanged():
    """The handout base: the same numbers for the same seed and id, and the same 25 graded keys in the same
    order as before variants took any base, then (issue 30) the page's four other blanks, which copy y, x_1 and
    ReLU′(H_1): keys.csv holds every blank of the page, its earlier columns in their places."""
    base = read_base()
    p = drawing.draw(base, "course-2026", "ada")
    assert variant_file.variant_toml(base, p).splitlines()[6:] == ["[data]", "x = [-0.8, -0.42, 0.34]", "y = [1, 0]", "",
                                                                "[init]", "W_a = -0.94", "W_b = 0.22"]
    assert [k for k, _ in graded.graded(evaluate(p))] == [
        *(f"forward.{q}[{i}]" for q in "HL" for i in range(1, 5)), "forward.O[1]", "forward.O[2]", "forward.Y[1]",
        "forward.Y[2]", "forward.loss", "backward.dL_dY[1]", "backward.dL_dY[2]", "backward.dY_dO[1,1]",
        "backward.dY_dO[1,2]", "backward.dY_dO[2,1]", "backward.dY_dO[2,2]", "backward.dL_dO[1]", "backward.dL_dO[2]",
        "backward.dL_dL[1]", "grad.w_b11", "grad.w_b21", "grad.w_a11", "problem.y[1]", "problem.y[2]", "local.dL_dH[1]",
        "problem.x[1]"]


def test_the_tools_backprop_agrees_with_the_tests_on_every_base(tmp_path):
    """verify()'s reference and the tests' own backprop, value by value, on one variant of each base."""
    for name, (text, _n) in ANY_BASES.items():
        base = read_base(_base_file(tmp_path, f"{name}.toml", text))
        p = drawing.draw(base, "agree", "ada")
        ref, tool = _reference_keys(p), oracle.numpy_backprop(p)
        v = evaluate(p)
        formulas = blanks(v.derivation)  # the copied givens and local derivatives: the checker's formulas
        for key, want in ref.items():
            group, param = key.split(".", 1)
            exact = (v.descent(Rational(1, 2), [param])[param] if group == "descent" else
                     -Rational(1, 2) * v.grad(param) if group == "step" else  # the step's change, -lr times it
                     v.value(formulas[key]) if group in ("local", "problem") else v.lookup(key))
            assert math.isclose(float(v.decimal(exact)), want, rel_tol=1e-9, abs_tol=1e-12), (name, key)
        assert math.isclose(tool["loss"], ref["forward.loss"], rel_tol=1e-12), name
        oracle.verify(v)


ANY_FORMATS = {"two-layers": "pdf", "mazur": "md", "two-samples": "md"}


@pytest.fixture(scope="module")
def any_sets(tmp_path_factory):
    """``{base name: --out folder}``: 2 students of the two-hidden-layer biased base (the site's two-layers
    worksheet), Mazur's and the two-sample base with biases, written by the command line (PDFs for the first,
    as the command writes by default, Markdown for the others; one to three seconds a student)."""
    out = {}
    for name, fmt in ANY_FORMATS.items():
        tmp = tmp_path_factory.mktemp("any")
        base = _base_file(tmp, "base.toml", ANY_BASES[name][0])
        assert main(["2", "--out", str(tmp / "out"), "--seed", "any", "--format", fmt, "--jobs", "1",
                     "--config", str(base)]) == 0
        out[name] = tmp / "out"
    return out


@pytest.mark.parametrize("name", ["two-layers", "mazur", "two-samples"])
def test_keys_csv_of_any_base_matches_an_independent_backprop(any_sets, name):
    """Every student's files are written, and every keys.csv value (rounded to at least 4 significant digits,
    or exact) agrees with the tests' own NumPy backprop within a relative 5e-4."""
    out = any_sets[name]
    with open(out / "keys.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["001", "002"]
    for r in rows:
        ext = ANY_FORMATS[name]
        assert sorted(f.name for f in (out / r["id"]).iterdir()) == [f"key.{ext}", "problem.toml", "selfcheck.html",
                                                                       f"worksheet.{ext}"]
        p = load_problem(out / r["id"] / "problem.toml")
        ref = _reference_keys(p)
        graded = [c for c in r if c not in ("id", "variant")]
        assert any(c.startswith("grad.") for c in graded) and any(c.startswith("backward.") for c in graded)
        if p.n_samples > 1:
            assert any(c.endswith("@2") for c in graded), graded
        for col in graded:
            got = float(Fraction(r[col]))
            assert math.isclose(got, ref[col], rel_tol=5e-4, abs_tol=1e-12), (name, r["id"], col, got, ref[col])
        if ext == "md":
            assert r["variant"] in (out / r["id"] / "key.md").read_text()
        answers = {c: r[c] for c in graded}  # and the checker takes every one back as correct
        verdicts = Checker(p).check(answers)
        wrong = {k: (answers[k], v.verdict) for k, v in verdicts.items() if v.verdict != "correct"}
        assert not wrong and len(verdicts) == len(answers), (name, r["id"], wrong)


def test_any_base_reruns_byte_identical(any_sets, tmp_path):
    again = tmp_path / "again"
    base = _base_file(tmp_path, "base.toml", ANY_BASES["two-samples"][0])
    assert main(["2", "--out", str(again), "--seed", "any", "--format", "md", "--jobs", "2", "--config", str(base)]) == 0
    assert _files(again) == _files(any_sets["two-samples"])


def test_the_bases_worksheet_table_reaches_every_variant(tmp_path):
    """[worksheet] ask and lr: each variant's problem file carries them, so its page asks the same gradients and
    takes the same gradient-descent step; keys.csv grades those, checked against the tests' own backprop."""
    text = MAZUR.read_text() + 'ask = ["w_b22", "b_b2"]\nlr = 0.1\n'  # into the file's last table, [worksheet]
    base = read_base(_base_file(tmp_path, "mazur-ask.toml", text))
    p = drawing.draw(base, "s", "ada")
    toml = variant_file.variant_toml(base, p)
    assert toml.endswith('\n[worksheet]\ntitle = "Mazur\'s step-by-step example"\nask = ["w_b22", "b_b2"]\nlr = 0.1\n')
    p = variant_file.problem_from_toml(toml, "v")
    v = evaluate(p)
    got = dict(graded.graded(v, toml.encode()))
    assert [k for k in got if k.startswith(("grad.", "step.", "descent."))] == [
        "grad.w_b22", "grad.b_b2", "step.w_b22", "descent.w_b22", "step.b_b2", "descent.b_b2"]
    ref = _reference_keys(p)
    for key, value in got.items():
        assert math.isclose(float(v.decimal(value)), ref[key], rel_tol=1e-9, abs_tol=1e-12), key
