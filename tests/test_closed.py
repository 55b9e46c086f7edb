"""Formula blanks on the students' page (``[worksheet] closed``): the page, the key, the worksheet, ``check``,
``keys.csv`` and ``grade``. The formulas a student types are written here by hand."""

import csv
import json
import re
from dataclasses import replace

import pytest

from derivations import evaluate, load_problem, make_problem
from derivations.cli.check import main as check_main
from derivations.cli.grade import main as grade_main
from derivations.cli.print import main as print_main
from derivations.cli.variants import main as variants_main
from derivations.engine.derivation import derive
from derivations.outputs.page import TextPage
from derivations.teaching.check import Checker
from derivations.teaching.closed import without_formulas
from derivations.teaching.formula import Judge, typed_form
from derivations.teaching.handout import layout

from conftest import ROOT

HANDOUT = (ROOT / "derivations" / "problems" / "handout.toml").read_text(encoding="utf-8")
MAZUR = ROOT / "derivations" / "problems" / "mazur.toml"


def closed_file(tmp_path, closed='["w_b11", "w_a11"]', name="closed.toml"):
    path = tmp_path / name
    path.write_text(HANDOUT + f"\n[worksheet]\nclosed = {closed}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("closed, says", [
    ('"w_b11"', "expected a list of 1 to 6 distinct parameter names"),
    ("[]", "expected a list of 1 to 6"),
    ('["w_b11", "w_b11"]', "distinct"),
    ('["w_b11", "w_b21", "w_a11", "w_a12", "w_a13", "w_a21", "w_a22"]', "1 to 6"),
    ('["w_c11"]', "worksheet.closed"),
    ("[1]", "parameter names"),
])
def test_a_bad_closed_list_is_one_line(tmp_path, capsys, closed, says):
    assert print_main(["--config", str(closed_file(tmp_path, closed)), "--worksheet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "worksheet.closed" in err and says in err, err


def test_several_samples_have_no_formula_blanks(tmp_path, capsys):
    text = (ROOT / "tests" / "problems" / "two-samples.toml").read_text(encoding="utf-8")
    path = tmp_path / "two.toml"
    path.write_text(text + '\n[worksheet]\nclosed = ["w_b11"]\n' if "[worksheet]" not in text
                    else text.replace("[worksheet]", '[worksheet]\nclosed = ["w_b11"]'), encoding="utf-8")
    assert print_main(["--config", str(path), "--worksheet"]) == 2
    assert "one sample" in capsys.readouterr().err


@pytest.fixture(scope="module")
def page():
    return layout(evaluate(replace(load_problem(), closed=("w_b11", "w_a11"))))


def test_the_key_shows_the_derived_form_and_the_worksheet_a_box(page):
    key, sheet = TextPage(worksheet=False).write(page), TextPage(worksheet=True).write(page)
    form = "L_1·Y_1·((1 − Y_1)·(Y_1 − y_1) − Y_2·(Y_2 − y_2))"
    assert f"∂ℒ/∂w^b_11 = {form}" in key and form not in sheet
    assert sheet.count("∂ℒ/∂w^b_11 = [" + " " * 40 + "]") == 1 and "Closed Forms" in sheet


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_no_worksheet_output_holds_the_derived_form(tmp_path, capsys, fmt):
    path = closed_file(tmp_path)
    assert print_main(["--config", str(path), "--worksheet", "--format", fmt]) == 0
    sheet = capsys.readouterr().out
    assert print_main(["--config", str(path), "--key", "--format", fmt]) == 0
    key = capsys.readouterr().out
    form = r"L_{1} \cdot Y_{1} \cdot \left(\left(1 - Y_{1}\right)"
    assert form in key.split("Closed Forms")[1] and form not in sheet
    assert sheet.split("Closed Forms")[1].count(r"\boxed{\hspace{9cm}}") == 2


def test_a_hostile_formula_in_an_answers_file_is_a_verdict_line_not_a_refused_file(tmp_path, capsys):
    """Issue 35, done-when 2, from the command line: the answers file takes a long answer (its own bound is its
    size), the judge says why it is no formula; the other answers are still judged."""
    answers = tmp_path / "a.toml"
    for text in ["+".join(["Y_1"] * 2500), "(" * 3000 + "Y_1" + ")" * 3000, "__import__('os').system('true')"]:
        answers.write_text(f'[answers]\n"closed.w_b11" = {json.dumps(text)}\n"forward.H[1]" = 0.15\n', encoding="utf-8")
        assert check_main([str(answers), "--config", str(closed_file(tmp_path)), "--format", "json"]) == 1
        data = json.loads(capsys.readouterr().out)["answers"]
        assert data["forward.H[1]"]["verdict"] == "correct"
        assert data["closed.w_b11"]["verdict"] == "wrong" and data["closed.w_b11"]["kind"] == "not a formula", text[:20]


def test_a_page_without_closed_is_unchanged_by_the_field(page):
    plain = layout(evaluate(load_problem()))
    assert without_formulas(page).blocks == plain.blocks
    assert without_formulas(plain) is plain


def test_check_judges_formula_answers_after_the_numbers(tmp_path, capsys):
    answers = tmp_path / "a.toml"
    answers.write_text('[answers]\n"closed.w_b11" = "(Y_1 - y_1)·L_1"\n"forward.H[1]" = 0.15\n'
                       '"closed.w^a_11" = "-0.0375"\n', encoding="utf-8")
    assert check_main([str(answers), "--config", str(closed_file(tmp_path)), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert list(data["answers"]) == ["forward.H[1]", "closed.w_b11", "closed.w_a11"]
    b11 = data["answers"]["closed.w_b11"]
    assert b11["verdict"] == "wrong" and "softmax-skipped-backward" in b11["mistakes"] and b11["read"] == "L_1·(Y_1 − y_1)"
    assert data["answers"]["closed.w_a11"]["kind"] == "a number, not a formula"
    answers.write_text('[answers]\n"closed.w_b11" = "L_1 Y_1 Y_2 (Y_1 - y_1 - Y_2 + y_2)"\n', encoding="utf-8")
    assert check_main([str(answers)]) == 0
    out = capsys.readouterr().out
    assert "closed.w_b11 = L_1 Y_1 Y_2 (Y_1 - y_1 - Y_2 + y_2): correct (checked numerically at " in out
    assert "we read: " in out


@pytest.mark.parametrize("answers, says", [
    ('"closed.w_z11" = "L_1"', "closed.w_z11"),
    ("".join(f'"closed.w_a{i}{j}" = "x_1"\n' for i in (1, 2, 3) for j in (1, 2, 3)), "at most 6 formula answers"),
])
def test_bad_formula_keys_are_one_line(tmp_path, capsys, answers, says):
    path = tmp_path / "a.toml"
    path.write_text("[answers]\n" + answers + "\n", encoding="utf-8")
    assert check_main([str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and says in err, err


@pytest.mark.parametrize("problem", [
    load_problem(), load_problem(MAZUR),
    *[make_problem((2, 2, 2), act, loss, (1, 2), (1, 0), [[[1, 2], [3, -4]], [[1, -1], [2, 1]]], output=out)
      for act in ("softplus", "tanh", "leaky_relu") for out, loss in (("softmax", "cross_entropy"), ("sigmoid", "bce"))],
], ids=lambda p: f"{p.activation}-{p.output}-{p.loss}")
def test_the_keys_typed_form_reads_back_correct(problem):
    d = derive(problem)
    for q in d.params()[::3]:
        text = typed_form(d, q)
        mark = Judge(problem, q.key()).judge(text)
        assert mark.verdict == "correct", (q.key(), text, mark.line())


@pytest.fixture(scope="module")
def closed_variants(tmp_path_factory):
    folder = tmp_path_factory.mktemp("closed")
    (folder / "roster.csv").write_text("id\nada\nbob\ncy\n", encoding="utf-8")
    out = folder / "variants"
    assert variants_main([str(folder / "roster.csv"), "--out", str(out), "--seed", "closed", "--format", "md",
                          "--jobs", "1", "--config", str(closed_file(folder)), "--moodle"]) == 0
    return out


def test_keys_csv_holds_each_closed_form_and_moodle_leaves_them_out(closed_variants):
    with open(closed_variants / "keys.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[-2:] == ["closed.w_b11", "closed.w_a11"]
    for row in rows:
        problem = load_problem(closed_variants / row["id"] / "problem.toml")
        assert Checker(problem).check({"closed.w_b11": row["closed.w_b11"]})["closed.w_b11"].verdict == "correct"
    moodle = (closed_variants / "moodle.xml").read_text(encoding="utf-8")
    assert "Closed Forms" not in moodle and "w^{b}_{11}} = \\boxed{\\hspace" not in moodle


def test_a_second_run_writes_the_same_bytes(closed_variants, tmp_path):
    (tmp_path / "roster.csv").write_text("id\nada\nbob\ncy\n", encoding="utf-8")
    again = tmp_path / "variants"
    assert variants_main([str(tmp_path / "roster.csv"), "--out", str(again), "--seed", "closed", "--format", "md",
                          "--jobs", "2", "--config", str(closed_file(closed_variants.parent)), "--moodle"]) == 0
    for name in ("keys.csv", "moodle.xml", "ada/selfcheck.html", "ada/key.md", "ada/worksheet.md"):
        assert (again / name).read_bytes() == (closed_variants / name).read_bytes(), name


def test_grade_judges_formula_cells(closed_variants, tmp_path):
    with open(closed_variants / "keys.csv", encoding="utf-8", newline="") as fh:
        keys = {r["id"]: r for r in csv.DictReader(fh)}
    header = ["id", "closed.w_b11", "∂ℒ/∂w^a_11 in closed form"]
    rows = [["ada", keys["ada"]["closed.w_b11"], keys["ada"]["closed.w_a11"]],
            ["bob", "(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1", "0.5"],
            ["cy", "L_1·(Y_1 − y_1", ""]]
    responses = tmp_path / "responses.csv"
    with open(responses, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header] + rows)
    out = tmp_path / "grades.csv"
    assert grade_main([str(responses), "--variants", str(closed_variants), "--out", str(out),
                       "--weight", "forward.*=0", "--weight", "backward.*=0", "--weight", "grad.*=0",
                       "--weight", "problem.*=0", "--weight", "local.*=0"]) == 0
    with open(out, encoding="utf-8", newline="") as fh:
        graded = {r["id"]: r for r in csv.DictReader(fh)}
    assert graded["ada"]["closed.w_b11"] == "correct" and graded["ada"]["closed.w_a11"] == "correct"
    assert graded["ada"]["score"] == "2" and graded["ada"]["maximum"] == "2"
    assert graded["bob"]["closed.w_b11"] == "wrong" and "one-path-only" in graded["bob"]["mistakes"]
    assert "a number, not a formula" in graded["bob"]["mistakes"]
    assert "not a formula" in graded["cy"]["mistakes"] and graded["cy"]["closed.w_a11"] == "not answered"


AGREEMENT = {  # answers the self-check page and the checker must judge alike: right, slips, a number, unread
    "w_b11": ["((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·L_1", "L1 Y1(1 − Y1)(Y1 − y1) − L1 Y1 Y2 (Y2 − y2)",
              "((Y_1 - y_1)·Y_1·(1 - Y_1) - (1 - Y_1 - y_2)·(1 - Y_1)·Y_1)·L_1", "(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1",
              "(Y_1 - y_1)·L_1", "2(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1", "-0.0375", "(Y_1 - y_1", "Y_1 +* L_1",
              "L_1 σ(O_1 - O_2) σ(O_2 - O_1)(Y_1 - y_1 - Y_2 + y_2)", "((Y_1 - y_1)·Y_1·(1 - Y_1) - (Y_2 - y_2)·Y_2·Y_1)·H_1",
              "-(Y_1 - y_1)·Y_1·(1 - Y_1)·L_1 + (Y_2 - y_2)·Y_2·Y_1·L_1", "__import__(Y_1)", "constructor", "exp(" * 41 + ")" * 41,
              "0·Y_1", "Y_1 - Y_1 + L_1",  # names typed, simplified away or not: a formula on both
              "L_1^99999999", "Y_1 +", "Y_1 · (L_1"],  # unread, with the same position
    "w_a11": ["((Y_1 - y_1)Y_1(1 - Y_1)w^b_11 - (Y_2 - y_2)Y_2 Y_1 w^b_11 + (Y_2 - y_2)Y_2(1 - Y_2)w^b_21"
              " - (Y_1 - y_1)Y_1 Y_2 w^b_21) 1[H_1 > 0] x_1",
              "((Y_1 - y_1) w_b11 + (Y_2 - y_2) w_b21) ReLU'(H_1) x_1", "0", "x_1 ReLU(H_1)"],
}


@pytest.mark.slow
def test_the_self_check_page_and_the_checker_agree_on_formula_answers(browser, tmp_path):
    from derivations.outputs.selfcheck import write_page

    problem = replace(load_problem(), closed=tuple(AGREEMENT))
    path = write_page(evaluate(problem), tmp_path / "selfcheck.html")
    checker = Checker(problem)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    try:
        for name, answers in AGREEMENT.items():
            for text in answers:
                mine = checker.check({f"closed.{name}": text})[f"closed.{name}"]
                theirs = page.evaluate("([k, t]) => window.derivationsFormula.judgeFormula(k, t)", [f"closed.{name}", text])
                assert (theirs["verdict"], theirs["kind"], theirs["mistakes"]) == \
                    (mine.verdict, mine.kind, [m.name for m in mine.mistakes]), text
                if mine.kind == "not a formula" and "position" in mine.note:  # the same place named
                    assert re.search(r"position \d+", theirs["note"])[0] == re.search(r"position \d+", mine.note)[0], text
        el = page.locator('input[data-formula="closed.w_b11"]')
        el.fill("(Y_1 - y_1)·L_1")
        assert "we read: (Y<sub>1</sub> − y<sub>1</sub>)·L<sub>1</sub>" in page.locator('[data-read-for="closed.w_b11"]').inner_html()
        el.press("Enter")
        fb = page.locator('[data-feedback-for="closed.w_b11"]')
        assert "wrong" in fb.get_attribute("class") and "softmax-skipped-backward" in fb.get_attribute("data-mistakes")
        el.fill("L_1 Y_1 Y_2 (Y_1 - y_1 - Y_2 + y_2)")
        el.press("Enter")
        assert "correct" in fb.get_attribute("class") and page.locator("[data-score]").text_content().startswith("1 / ")
        assert errors == []
    finally:
        page.close()


def test_a_closed_form_too_long_to_type_is_refused_in_one_line():
    from sympy import Rational

    from derivations.engine.errors import ProblemError
    from derivations.teaching.closed import closed_params

    widths = (6, 6, 6, 6, 6)
    W = [[[Rational((3 * i + 5 * j + l) % 7 - 3, 10) for j in range(widths[l])] for i in range(widths[l + 1])]
         for l in range(4)]
    p = make_problem(widths, "relu", "cross_entropy", [Rational(1, 2)] * 6, [1, 0, 0, 0, 0, 0], W)
    assert [q.key() for q in closed_params(replace(p, closed=("w_d11",)))] == ["w_d11"]
    with pytest.raises(ProblemError, match=r"worksheet.closed: the closed form of ∂ℒ/∂w\^a_11 is \d+ characters"):
        closed_params(replace(p, closed=("w_a11",)))
