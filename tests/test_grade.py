"""Grading a class (derivations.cli.grade and its report) and the variants as a Moodle quiz (derivations.cli.moodle).

One roster's variants (Markdown pages, to be quick) serve every test: a student all correct, one with a
single wrong answer (a catalogued mistake), one who left blanks, one who typed a formula and a word, one whose
second answer follows from a wrong first, and a row whose id is not on the roster."""

import csv
import hashlib
import html
import io
import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sympy import Rational, exp

from derivations import evaluate
from derivations.cli import grade, moodle
from derivations.cli import responses as responses_module
from derivations.cli.grade import main
from derivations.cli.variants import main as variants_main
from derivations.engine.problem import load_problem
from derivations.teaching.check import REL_TOL, Checker
from derivations.teaching.handout import layout

ROSTER = "id,name\nada,Ada Lovelace\nbob,=HYPERLINK(1)\ncy,Cy\ndee,Dee\neve,Eve\n"


@pytest.fixture(scope="module")
def variants_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grade")
    roster = folder / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = folder / "variants"
    assert variants_main([str(roster), "--out", str(out), "--seed", "grade-tests", "--format", "md", "--jobs", "1",
                          "--moodle"]) == 0
    return out


@pytest.fixture(scope="module")
def keys(variants_dir):
    with open(variants_dir / "keys.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["id"]: r for r in rows}


def answer_columns(keys) -> list:
    """Every graded blank: keys.csv's columns after ``variant`` (the copied givens and ReLU′ last)."""
    columns = list(next(iter(keys.values())))
    return columns[columns.index("variant") + 1:]


def responses(keys) -> dict:
    """The Done-when class, as ``{id: {key: text}}``."""
    cols = answer_columns(keys)
    out = {s: {k: keys[s][k] for k in cols} for s in keys}
    out["bob"]["backward.dL_dY[1]"] = str(Rational(keys["bob"]["backward.dL_dY[1]"]) / 2)  # the MSE factor 1/N
    for k in cols[12:]:
        out["cy"][k] = ""
    out["dee"]["forward.H[1]"] = "=1+1"
    out["dee"]["forward.L[2]"] = "<b>word</b>"
    out["eve"]["forward.H[1]"] = "0.5"  # wrong; then L_1 = ReLU(0.5) follows from it
    out["eve"]["forward.L[1]"] = "0.5"
    out["zed"] = {k: "1" for k in cols}
    return out


def write_csv(path: Path, header: list, rows: list, sep=",", encoding="utf-8") -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def class_csv(path: Path, keys, header_of=lambda k: k, **kw) -> Path:
    cols = answer_columns(keys)
    data = responses(keys)
    return write_csv(path, ["id", *map(header_of, cols)], [[s, *(data[s][k] for k in cols)] for s in data], **kw)


def run(tmp_path, variants_dir, responses_path, *extra) -> tuple:
    out = tmp_path / "grades.csv"
    code = main([str(responses_path), "--variants", str(variants_dir), "--out", str(out), *extra])
    return code, out, tmp_path / "grades-report.html"


def read_grades(path: Path) -> dict:
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


# -- the Done-when scenario ------------------------------------------------------------------------------------


def test_the_class_is_graded_with_follow_through_and_the_unknown_id_reported(tmp_path, variants_dir, keys, capsys):
    path = class_csv(tmp_path / "responses.csv", keys)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, out, report = run(tmp_path, variants_dir, path)
    err = capsys.readouterr().err
    assert code == 1  # one row could not be graded
    assert "id 'zed' is not on the roster" in err
    g = read_grades(out)
    maximum = Rational(g["ada"]["maximum"])
    assert maximum == len(answer_columns(keys)) == 29  # 25 derived values, x_1, y_1, y_2 and ReLU′(H_1) copied
    assert Rational(g["ada"]["score"]) == maximum
    assert Rational(g["bob"]["score"]) == maximum - 1
    assert g["bob"]["backward.dL_dY[1]"] == "wrong" and "loss-factor-1/N (backward.dL_dY[1])" in g["bob"]["mistakes"]
    assert g["bob"]["name"] == "'=HYPERLINK(1)"
    assert g["cy"]["grad.w_a11"] == "not answered" and Rational(g["cy"]["score"]) == 12
    assert g["dee"]["forward.H[1]"] == g["dee"]["forward.L[2]"] == "not a number"
    assert Rational(g["dee"]["score"]) == maximum - 2
    assert (g["eve"]["forward.H[1]"], g["eve"]["forward.L[1]"]) == ("wrong", "follows")
    assert Rational(g["eve"]["score"]) == maximum - 1
    assert "zed" not in g
    with open(out, encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r")) or c.startswith("-") and not _number(c)]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the responses file is only read
    page = report.read_text(encoding="utf-8")  # the instructor's page: a row per student, what was not graded
    assert "zed" in page and "not on the roster" in page
    assert "&lt;b&gt;word&lt;/b&gt;" in page and "<b>word" not in page
    assert 'href="grades-class.html"' in page
    klass = (tmp_path / "grades-class.html").read_text(encoding="utf-8")
    assert klass.count("<svg") == 3  # scores, steps, mistakes
    for text in (page, klass):
        assert "<script" not in text and not re.search(r"""(src|href)=["']?(https?:)?//""", text)


def _number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def test_steps_are_in_the_pages_order_in_grades_and_report(tmp_path, variants_dir, keys):
    _, out, report = run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys))
    page = layout(evaluate(load_problem(variants_dir / "ada" / "problem.toml")))
    order = [k for k in dict.fromkeys(s.key for s in page.slots(given=False)) if k in answer_columns(keys)]
    with open(out, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[header.index("mistakes") + 1:] == order
    klass = (tmp_path / "grades-class.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr><td data-label="step">[^<]*</td><td data-label="key"><code>([^<]*)</code>', klass) == order


def test_same_responses_give_byte_identical_grades_and_report(tmp_path, variants_dir, keys):
    path = class_csv(tmp_path / "responses.csv", keys)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    run(a, variants_dir, path)
    run(b, variants_dir, path)
    for name in ("grades.csv", "grades-report.html", "grades-class.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_the_class_page_names_no_one_and_the_instructors_page_everyone(tmp_path, variants_dir, keys, capsys):
    """The class page can be shown to the class: no roster id or name, no answer typed; the instructor's page
    has a row per student and lists who handed nothing in, as the terminal does. Neither page repeats an id
    (matplotlib gives every plot a figure_1, a patch_1...)."""
    data = responses(keys)
    del data["eve"], data["zed"]  # eve is on the roster but hands nothing in
    cols = answer_columns(keys)
    path = write_csv(tmp_path / "responses.csv", ["id", *cols], [[s, *(data[s][k] for k in cols)] for s in data])
    code, _, report = run(tmp_path, variants_dir, path)
    out = capsys.readouterr().out
    assert "on the roster but with no row (1): 'eve'" in out
    klass = (tmp_path / "grades-class.html").read_text(encoding="utf-8")
    instructor = report.read_text(encoding="utf-8")
    assert "1 student on the roster had no row in the responses" in klass
    assert "on the roster but with no row (1): eve" in instructor
    text = html.unescape(re.sub(r"<[^>]+>", " ", klass))
    for row in csv.DictReader(io.StringIO(ROSTER)):
        for said in (row["id"], row["name"]):
            assert not re.search(rf"(?<!\w){re.escape(said)}(?!\w)", text, re.I), said
            assert re.search(rf"(?<!\w){re.escape(html.escape(said))}(?!\w)", instructor) or row["id"] == "eve", said
    assert "&lt;b&gt;word" not in klass and "=1+1" not in text
    for page in (klass, instructor):
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), [i for i in set(ids) if ids.count(i) > 1][:5]
        assert "<metadata" not in page and "rdf:" not in page  # matplotlib's RDF is not HTML
    assert len(re.findall(r'\bid="', klass)) > 100  # the plots' ids are there, and unique


def test_a_value_rounded_to_too_few_digits_says_so_in_the_mistakes_cell(tmp_path, variants_dir, keys):
    """The page asks for exact values in full and others to 4 significant digits: a wrong answer that is the
    value rounded to fewer is named as such, in grades.csv and in the reports."""
    data = responses(keys)
    exact = next(k for k in answer_columns(keys) if len(keys["ada"][k].lstrip("-0.")) >= 4)
    data["ada"][exact] = f"{float(keys['ada'][exact]):.3g}"
    cols = answer_columns(keys)
    path = write_csv(tmp_path / "responses.csv", ["id", *cols], [[s, *(data[s][k] for k in cols)] for s in data])
    _, out, report = run(tmp_path, variants_dir, path)
    g = read_grades(out)
    assert g["ada"][exact] == "wrong" and g["ada"]["mistakes"] == f"rounded to too few digits ({exact})", g["ada"]
    assert "rounded to too few digits" in report.read_text(encoding="utf-8")
    assert "Rounded to too few digits" in (tmp_path / "grades-class.html").read_text(encoding="utf-8")


def test_reports_read_at_420_px(tmp_path, variants_dir, keys, page):
    """On a phone neither page scrolls sideways: a table's rows become cards, the plots shrink."""
    run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys))
    page.set_viewport_size({"width": 420, "height": 800})
    for name in ("grades-class.html", "grades-report.html"):
        page.goto((tmp_path / name).as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 420, name
        assert page.evaluate("getComputedStyle(document.querySelector('td')).display") == "block", name


def test_the_terminal_summary_names_the_weakest_step_and_the_commonest_mistake(tmp_path, variants_dir, keys, capsys):
    run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys))
    out = capsys.readouterr().out
    assert "graded 5 of 6 rows (maximum 29)" in out
    assert "commonest mistakes: loss-factor-1/N (1 student)" in out


# -- marks -----------------------------------------------------------------------------------------------------


def test_partial_credit_for_follows_and_weights_per_step(tmp_path, variants_dir, keys):
    code, out, _ = run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys),
                       "--follows", "1/2", "--weight", "grad.*=2", "--weight", "H_1=0")
    g = read_grades(out)
    assert Rational(g["ada"]["maximum"]) == 29 + 3 - 1  # three asked gradients doubled, H_1 left out
    assert "forward.H[1]" not in g["ada"]
    assert Rational(g["eve"]["score"]) == 31 - Rational(1, 2)  # H_1 (wrong) weighs 0; L_1 follows: half
    assert Rational(g["bob"]["score"]) == 31 - 1


@pytest.mark.parametrize("args, expected", [
    (["--follows", "2"], "--follows: expected a share from 0 to 1"),
    (["--weight", "nothing.*=2"], "names no blank"),
    (["--weight", "H_1"], "expected KEY=WEIGHT"),
    (["--weight", "H_1=-1"], "expected a weight from 0"),
])
def test_bad_marks_are_one_line_exit_2(tmp_path, variants_dir, keys, capsys, args, expected):
    code, out, _ = run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys), *args)
    err = capsys.readouterr().err
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


# -- the header: keys or the page's labels ---------------------------------------------------------------------


def test_the_page_labels_name_the_columns_as_well_as_the_keys(tmp_path, variants_dir, keys):
    names = grade.labels(Checker(load_problem(variants_dir / "ada" / "problem.toml")))
    ascii_too = {k: grade.ascii_label(v) if n % 2 else v for n, (k, v) in enumerate(names.items())}
    _, by_key, _ = run(tmp_path, variants_dir, class_csv(tmp_path / "keys.csv", keys))
    other = tmp_path / "labels"
    other.mkdir()
    _, by_label, _ = run(other, variants_dir, class_csv(other / "labels.csv", keys, header_of=ascii_too.get))
    assert by_key.read_bytes() == by_label.read_bytes()


# -- bad input: one line each, the rest graded -------------------------------------------------------------------


@pytest.mark.parametrize("sep, encoding, said", [
    (";", "cp1252", ["not UTF-8", "semicolons"]),  # Excel's CSV in much of Europe
    ("\t", "utf-16", ["UTF-16", "tabs"]),  # Excel's "Unicode text"
])
def test_other_separators_and_encodings_are_read_with_a_note(tmp_path, variants_dir, keys, capsys, sep, encoding, said):
    cols = answer_columns(keys)
    comma = (lambda t: t.replace(".", ",")) if sep == ";" else (lambda t: t)
    rows = [[s, f"Zoë {s}", *(comma(keys[s][k]) for k in cols)] for s in keys]
    path = write_csv(tmp_path / "excel.csv", ["id", "name", *cols], rows, sep=sep, encoding=encoding)
    code, out, _ = run(tmp_path, variants_dir, path)
    err = capsys.readouterr().err
    assert code == 0
    assert all(s in err for s in said) and "'name'" in err  # the name column: ignored, said so
    assert all(r["score"] == r["maximum"] for r in read_grades(out).values())


def test_decimal_commas_in_quoted_cells_of_a_comma_separated_file(tmp_path, variants_dir, keys, capsys):
    """A spreadsheet in a decimal-comma locale saved with commas quotes each number: "0,15" reads as 0.15."""
    import csv as csv_module

    cols = answer_columns(keys)
    path = tmp_path / "quoted.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv_module.writer(fh, quoting=csv_module.QUOTE_ALL)
        w.writerow(["id", *cols])
        for s in keys:
            w.writerow([s, *(keys[s][k].replace(".", ",") for k in cols)])
    code, out, _ = run(tmp_path, variants_dir, path)
    assert code == 0, capsys.readouterr().err
    assert all(r["score"] == r["maximum"] for r in read_grades(out).values())


@pytest.mark.parametrize("case, expected", [
    ("duplicate", "is on lines 2, 7 with different answers"),
    ("short row", "28 fields, but the header has 30"),
    ("empty id", "empty id"),
    ("missing column", "no column for problem.x[1]"),
    ("unclosed quote", "line 3: id 'bob': a cell runs on over lines 3 to 6"),
])
def test_a_bad_row_or_column_is_one_line_and_the_rest_is_graded(tmp_path, variants_dir, keys, capsys, case, expected):
    cols = answer_columns(keys)
    rows = [[s, *(keys[s][k] for k in cols)] for s in keys]
    header = ["id", *cols]
    if case == "duplicate":
        rows.append(["ada", *(["0"] * len(cols))])
    elif case == "short row":
        rows[1] = rows[1][:-2]
    elif case == "empty id":
        rows.append(["", *rows[0][1:]])
    elif case == "missing column":
        header, rows = header[:-1], [r[:-1] for r in rows]
    path = write_csv(tmp_path / "r.csv", header, rows)
    if case == "unclosed quote":  # bob's last answer opens a quote that never closes: it swallows cy, dee, eve
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[2] = lines[2].rsplit(",", 1)[0] + ',"0.1'
        path.write_text("\n".join(lines), encoding="utf-8")
    code, out, report = run(tmp_path, variants_dir, path)
    err = capsys.readouterr().err
    assert code == 1 and expected in err and expected in html.unescape(report.read_text(encoding="utf-8"))
    g = read_grades(out)
    graded = {"duplicate": 4, "short row": 4, "empty id": 5, "missing column": 5, "unclosed quote": 1}[case]
    assert len(g) == graded


@pytest.mark.parametrize("content, expected", [
    ("name,H_1\nada,0.1\n", "expected one id column"),
    ("id,name\nada,Ada\n", "no column names a blank"),
    ("", "is empty"),
])
def test_unusable_responses_are_one_line_exit_2_and_nothing_written(tmp_path, variants_dir, capsys, content, expected):
    path = tmp_path / "r.csv"
    path.write_text(content, encoding="utf-8")
    code, out, report = run(tmp_path, variants_dir, path)
    err = capsys.readouterr().err
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not report.exists()


def test_absurd_sizes_are_refused_before_any_work(tmp_path, variants_dir, capsys, monkeypatch):
    monkeypatch.setattr(responses_module, "MAX_BYTES", 1000)
    path = tmp_path / "r.csv"
    path.write_text("id,H_1\n" + "ada,0.1\n" * 200, encoding="utf-8")
    assert run(tmp_path, variants_dir, path)[0] == 2
    assert "at most 1000 bytes" in capsys.readouterr().err
    monkeypatch.setattr(responses_module, "MAX_BYTES", 4 * 1024 * 1024)
    monkeypatch.setattr(responses_module, "MAX_ROWS", 3)
    assert run(tmp_path, variants_dir, path)[0] == 2
    assert "at most 3 rows" in capsys.readouterr().err


def test_the_responses_file_is_never_an_output(tmp_path, variants_dir, keys, capsys):
    path = class_csv(tmp_path / "responses.csv", keys)
    before = path.read_bytes()
    assert main([str(path), "--variants", str(variants_dir), "--out", str(path)]) == 2
    assert main([str(path), "--variants", str(variants_dir), "--out", str(tmp_path / "g.csv"), "--report", str(path)]) == 2
    assert "is the responses file" in capsys.readouterr().err
    assert path.read_bytes() == before


@pytest.mark.parametrize("option", ["--out", "--report", "--class-page"])
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_alone(tmp_path, variants_dir, keys, capsys, option):
    """A FIFO (or a device: --out /dev/full replaced the device with a file, as root) is never renamed over."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    other = {"--out": ["--report", str(tmp_path / "r.html")], "--report": ["--out", str(tmp_path / "g.csv")],
             "--class-page": ["--out", str(tmp_path / "g.csv")]}[option]
    assert main([str(class_csv(tmp_path / "responses.csv", keys)), "--variants", str(variants_dir), option, str(fifo),
                 *other]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err and "not a regular file" in err, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and not (tmp_path / "g.csv").exists()


def test_an_output_through_a_symbolic_link_updates_its_target_and_keeps_the_link(tmp_path, variants_dir, keys):
    """grades.csv linked into a shared gradebook folder: the gradebook's file is written, the link stays."""
    (tmp_path / "gradebook").mkdir()
    target = tmp_path / "gradebook" / "grades.csv"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "grades.csv"
    link.symlink_to(target)
    code, out, _ = run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys))
    assert out == link and link.is_symlink() and target.read_text(encoding="utf-8").startswith("id,")


# -- Moodle ------------------------------------------------------------------------------------------------------


def test_moodle_xml_has_one_cloze_question_per_student_whose_answers_are_their_keys(variants_dir, keys):
    root = ET.parse(variants_dir / "moodle.xml").getroot()
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    assert questions[0].find("category/text").text == "$course$/top/Backpropagation Handout (handout)"
    cloze = questions[1:]
    assert [q.get("type") for q in cloze] == ["cloze"] * len(keys)
    for q, (student, row) in zip(cloze, keys.items()):
        assert q.find("name/text").text.endswith(f"· {student} · variant {row['variant']}")
        text = q.find("questiontext/text").text
        # a NUMERICAL field reads no fraction: the page's precision sentence, in Moodle's words
        assert "a decimal or a fraction" not in text and text.count(moodle.MOODLE_PRECISION) == 2
        fields = re.findall(r"\{1:NUMERICAL:=([^:}~]+):([^}~]+)(?:~[^}]*)?\}", text)
        problem = load_problem(variants_dir / student / "problem.toml")
        page = layout(evaluate(problem))
        slots = [s.key for s in page.slots(given=False)]
        assert len(fields) == page.blanks() == len(slots) == 55  # the paper's 51, and L again in Step 3
        checker = Checker(problem)
        on_page = set()
        for key, (value, tol) in zip(slots, fields):
            if key in row:  # a keys.csv value: the field's answer, with the blank's tolerance (4 digits pass)
                assert Rational(value) == Rational(row[key]), (student, key)
                assert abs(Rational(tol) - checker.tolerance[key] * abs(Rational(value))) < Rational(1, 10**6), (student, key)
                on_page.add(key)
            else:  # the page's other blanks (a target, an input, ReLU'): the checker's true value
                assert Rational(value) == checker.true[key], (student, key)
        assert on_page == set(answer_columns(keys))
        assert "@@PLUGINFILE@@/w_b11-red.svg" in text and len(q.findall("questiontext/file")) == 3
        feedback = q.find("generalfeedback/text").text
        assert row["grad.w_b21"] in feedback and "{1:NUMERICAL" not in feedback


def test_every_box_of_a_moodle_question_has_one_width(variants_dir):
    """Moodle sizes a cloze box by its field's longest answer: every field of a question is padded, with a 0%
    alternative of the same value, to the question's longest (the handout's punchline, 0, was one character)."""
    root = ET.parse(variants_dir / "moodle.xml").getroot()
    for q in root.findall("question")[1:]:
        fields = re.findall(r"\{1:NUMERICAL:([^}]*)\}", q.find("questiontext/text").text)
        longest = [max(len(alt.split("%")[-1].lstrip("=").split(":")[0]) for alt in f.split("~")) for f in fields]
        assert len(fields) == 55 and len(set(longest)) == 1 and longest[0] >= moodle.MIN_WIDTH, longest
        for f in fields:  # the right answer first, any other of the same value and worth 0%
            right, *others = f.split("~")
            assert right.startswith("=") and all(o.startswith("%0%") for o in others), f
            assert all(Rational(o[3:].split(":")[0]) == Rational(right[1:].split(":")[0]) for o in others), f


def test_moodle_feedback_displays_fit_the_content_column(variants_dir, page):
    """The general feedback's displays, typeset by MathJax 3 (the site's copy) at 16 px: each within 34 em, as
    wide as Moodle's content column holds (Step 3, 700 px at full size, is set smaller)."""
    from derivations.outputs.selfcheck import mathjax_dir

    q = ET.parse(variants_dir / "moodle.xml").getroot().findall("question")[1]
    feedback = q.find("generalfeedback/text").text
    mj = (mathjax_dir() / "tex-chtml.js").as_uri()
    path = variants_dir.parent / "feedback.html"
    path.write_text(f'<!DOCTYPE html><html><head><script src="{mj}"></script></head><body style="font-size:16px">'
                    f'<div style="width:760px">{feedback}</div></body></html>', encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000)
    page.evaluate("() => MathJax.startup.promise")
    widths = page.evaluate("[...document.querySelectorAll('mjx-container[display=true]')]"
                           ".map(m => m.firstElementChild.getBoundingClientRect().width)")
    assert len(widths) >= 8 and max(widths) <= 34 * 16, widths  # (one still wider would scroll in its own box)
    assert page.locator("mjx-merror").count() == 0


def test_a_transcendental_value_gets_the_checkers_relative_tolerance():
    v = exp(Rational(1, 3)) / (1 + exp(Rational(1, 3)))
    value, tol = moodle.answer(v, REL_TOL / 4)
    assert abs(Rational(value) / v.evalf(30) - 1) <= Rational(5, 10**7)  # moodle.STORED: 7 significant digits
    assert abs(Rational(tol) / (v * REL_TOL / 4) - 1) < Rational(1, 10**5)


def test_worker_processes_grade_as_this_one_does(tmp_path, variants_dir, keys):
    path = class_csv(tmp_path / "responses.csv", keys)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    run(a, variants_dir, path, "--jobs", "1")
    run(b, variants_dir, path, "--jobs", "2")
    assert (a / "grades.csv").read_bytes() == (b / "grades.csv").read_bytes()


def test_a_variant_that_cannot_be_read_or_changed_since_the_sheets_went_out_is_a_row_not_graded(tmp_path, variants_dir,
                                                                                                keys, capsys):
    """Finding 5 of issue 30: an all-correct sheet graded against an edited (or swapped) problem.toml scored 21/25
    with exit 0; now the row is named, not graded, and the exit status is 1."""
    import shutil

    folder = tmp_path / "variants"
    shutil.copytree(variants_dir, folder)
    (folder / "cy" / "problem.toml").unlink()
    ada = folder / "ada" / "problem.toml"
    ada.write_text(ada.read_text(encoding="utf-8").replace("[data]", "# edited\n[data]"), encoding="utf-8")
    bob, dee = folder / "bob" / "problem.toml", folder / "dee" / "problem.toml"  # folders swapped
    swapped = bob.read_bytes()
    bob.write_bytes(dee.read_bytes())
    dee.write_bytes(swapped)
    code, out, _ = run(tmp_path, folder, class_csv(tmp_path / "responses.csv", keys))
    err = capsys.readouterr().err
    assert code == 1
    assert "id 'cy': its problem.toml cannot be read" in err
    for student in ("ada", "bob", "dee"):
        line = next(l for l in err.splitlines() if f"id '{student}': its problem.toml is variant" in l)
        assert f"keys.csv says '{keys[student]['variant']}'" in line and "not graded" in line
    assert set(read_grades(out)) == {"eve"}


def test_a_second_section_graded_into_the_same_folder_keeps_the_first_reports(tmp_path, variants_dir, keys):
    path = class_csv(tmp_path / "responses.csv", keys)
    for name in ("section-a", "section-b"):
        assert main([str(path), "--variants", str(variants_dir), "--out", str(tmp_path / f"{name}.csv")]) != 2
    assert {p.name for p in tmp_path.glob("*-report.html")} == {"section-a-report.html", "section-b-report.html"}
    assert {p.name for p in tmp_path.glob("*-class.html")} == {"section-a-class.html", "section-b-class.html"}


# -- nothing lost: the variants set, both files or neither, every exit status (issue 30) ---------------------------


def _copy_set(variants_dir, tmp_path) -> Path:
    import shutil

    folder = tmp_path / "variants"
    shutil.copytree(variants_dir, folder)
    return folder


def _set_state(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("option", ["--out", "--report"])
@pytest.mark.parametrize("name", ["ada/problem.toml", "manifest.sha256", "moodle.xml", "ada/key.md", "keys.csv",
                                  "link to keys.csv", "link to ada/selfcheck.html"])
def test_grade_never_writes_over_a_file_of_the_variants_set(tmp_path, variants_dir, keys, capsys, option, name):
    """Finding 1: --out V/ada/problem.toml exited 0 and the problem file became a grades CSV; a link to keys.csv
    replaced the keys. Every file of the set (its manifest lists it), directly or through a link, is refused
    before any work, in one line, exit 2, and the set still verifies with sha256sum -c."""
    import shutil
    import subprocess

    folder = _copy_set(variants_dir, tmp_path)
    before = _set_state(folder)
    target = folder / name
    if name.startswith("link to "):
        target = tmp_path / "link.csv"
        target.symlink_to(folder / name[len("link to "):])
    other = {"--out": ["--report", str(tmp_path / "r.html")], "--report": ["--out", str(tmp_path / "g.csv")]}[option]
    code = main([str(class_csv(tmp_path / "responses.csv", keys)), "--variants", str(folder), option, str(target), *other])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and option in err, err
    assert ("keys.csv this run reads" if "keys.csv" in name else "of the variants set") in err, err
    assert _set_state(folder) == before and not (tmp_path / "g.csv").exists() and not (tmp_path / "r.html").exists()
    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=folder, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_grades_and_report_are_written_both_or_neither(tmp_path, variants_dir, keys, capsys, monkeypatch):
    """Finding 8: on a full disk grades.csv was replaced, the report failed, and exit 2 said "nothing written".
    Now a failure writing either file (the disk filling up on the report, or a rename failing) leaves both as
    they were, no temporary file, exit 2."""
    import builtins
    import errno

    from derivations.outputs import files

    path = class_csv(tmp_path / "responses.csv", keys)
    out, report = tmp_path / "grades.csv", tmp_path / "grades-report.html"
    out.write_text("old grades\n", encoding="utf-8")
    report.write_text("old report\n", encoding="utf-8")

    class Full:
        def __init__(self, *args, **kwargs):
            self.fh = builtins.open(*args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "open", lambda p, *a, **k: Full(p, *a, **k) if "report" in str(p) else builtins.open(p, *a, **k),
                        raising=False)
    assert main([str(path), "--variants", str(variants_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert "error: --out" in last and "No space left on device" in last and "nothing was changed" in last, err
    monkeypatch.undo()
    replace, calls = os.replace, []

    def second_rename_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_fails)
    assert main([str(path), "--variants", str(variants_dir), "--out", str(out)]) == 2
    monkeypatch.undo()
    assert out.read_text(encoding="utf-8") == "old grades\n" and report.read_text(encoding="utf-8") == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades-report.html", "grades.csv", "responses.csv"]


def test_a_dangling_link_as_output_is_named(tmp_path, variants_dir, keys, capsys):
    """Finding 8: --out through a link to a folder that does not exist failed without naming the link."""
    link = tmp_path / "grades.csv"
    link.symlink_to(tmp_path / "gone" / "grades.csv")
    code, _, _ = run(tmp_path, variants_dir, class_csv(tmp_path / "responses.csv", keys))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--out: the folder of" in err and "grades.csv (a link to" in err and "gone" in err, err


def test_absent_students_make_exit_status_1_and_a_file_without_rows_is_refused(tmp_path, variants_dir, keys, capsys):
    """Finding 8: a header-only responses file graded "0 of 0 rows" with exit 0, every student absent."""
    cols = answer_columns(keys)
    header_only = write_csv(tmp_path / "empty.csv", ["id", *cols], [])
    code, out, report = run(tmp_path, variants_dir, header_only)
    err = capsys.readouterr().err
    assert code == 2 and "has a header but no rows" in err and err.count("\n") == 1
    assert not out.exists() and not report.exists()
    two = write_csv(tmp_path / "two.csv", ["id", *cols], [[s, *(keys[s][k] for k in cols)] for s in ("ada", "bob")])
    code, out, _ = run(tmp_path, variants_dir, two)
    said = capsys.readouterr().out  # the summary names them (report.summary_text)
    assert code == 1 and "on the roster but with no row (3): 'cy', 'dee', 'eve'" in said, said
    assert set(read_grades(out)) == {"ada", "bob"}


def test_ids_that_lost_their_leading_zeros_are_matched_with_a_hint(tmp_path, variants_dir, keys, capsys):
    """Finding 8: ids 001 read back from a spreadsheet as 1 were every one "not on the roster"."""
    folder = _copy_set(variants_dir, tmp_path)
    (folder / "ada").rename(folder / "007")
    text = (folder / "keys.csv").read_text(encoding="utf-8")
    (folder / "keys.csv").write_text(text.replace("\nada,", "\n007,"), encoding="utf-8")
    data = {("7" if s == "ada" else s): keys[s] for s in keys}
    cols = answer_columns(keys)
    path = write_csv(tmp_path / "r.csv", ["id", *cols], [[s, *(row[k] for k in cols)] for s, row in data.items()])
    code, out, _ = run(tmp_path, folder, path)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "id '7' is not on the roster: graded as '007'" in err and "leading zeros" in err
    g = read_grades(out)
    assert g["007"]["score"] == g["007"]["maximum"]


def test_a_cell_over_128_kib_is_read_and_refuses_nothing_else(tmp_path, variants_dir, keys, capsys):
    """Finding 4: a keys.csv or responses cell over 128 KiB was "_csv.Error: field larger than field limit" (a
    traceback for keys.csv), and one such cell in an ignored column refused the whole class."""
    folder = _copy_set(variants_dir, tmp_path)
    huge = "x" * (200 * 1024)
    text = (folder / "keys.csv").read_text(encoding="utf-8")
    (folder / "keys.csv").write_text(text.replace("Ada Lovelace", huge), encoding="utf-8")
    cols = answer_columns(keys)
    rows = [[s, huge if s == "ada" else "", *(keys[s][k] for k in cols)] for s in keys]
    rows[1][-1] = "1" * (200 * 1024)  # bob's last answer: a number far too long
    path = write_csv(tmp_path / "r.csv", ["id", "comment", *cols], rows)
    code, out, _ = run(tmp_path, folder, path)
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    with responses_module.whole_cells(1 << 22):  # grades.csv copies the roster's huge name
        g = read_grades(out)
    assert set(g) == set(keys) and g["ada"]["name"] == huge
    assert g["bob"][cols[-1]] == "not a number" and g["cy"]["score"] == g["cy"]["maximum"]


CAPS = 6, 6, 6, 6, 6  # the page's caps: 3 hidden layers of 6 units, 6 inputs and outputs, with biases and 3 samples


def _caps_base(path: Path) -> Path:
    """A base at the page's caps (sigmoid units and output, binary cross-entropy), numbers fixed."""
    number = lambda k: f"{(-1) ** k * (10 + 37 * k % 80) / 100}"  # noqa: E731
    matrix = lambda rows, cols, at: "[" + ", ".join("[" + ", ".join(number(at + r * cols + c) for c in range(cols)) + "]"
                                                  for r in range(rows)) + "]"  # noqa: E731
    text = (f'[network]\nlayers = {list(CAPS)}\nactivation = "sigmoid"\noutput = "sigmoid"\nloss = "bce"\nbias = true\n'
            f"[data]\nx = {matrix(3, 6, 1)}\ny = [[1, 0, 0, 1, 0, 1], [0, 1, 0, 0, 1, 0], [1, 1, 0, 0, 0, 0]]\n[init]\n")
    for l, letter in enumerate("abcd"):
        text += f"W_{letter} = {matrix(6, 6, 20 + 36 * l)}\nb_{letter} = {matrix(1, 6, 200 + 6 * l)[1:-1]}\n"
    path.write_text(text, encoding="utf-8")
    return path


def test_grade_works_at_the_pages_caps(tmp_path, capsys):
    """Finding 4: grade at the documented page caps (6-6-6-6-6, biases, 3 samples) was "KeyError: 'W_d'" (a large
    problem's checker keeps no table of gradients, and the page's order needs one)."""
    out = tmp_path / "v"
    assert variants_main(["1", "--out", str(out), "--seed", "caps", "--config", str(_caps_base(tmp_path / "caps.toml")),
                          "--format", "md", "--jobs", "1"]) == 0
    with open(out / "keys.csv", encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh))
    cols = [k for k in row if "." in k]
    assert len(cols) > 250
    answers = {k: row[k] for k in cols}
    answers[cols[-1]] = "0"
    path = write_csv(tmp_path / "r.csv", ["id", *cols], [["001", *answers.values()]])
    code, grades, _ = run(tmp_path, out, path)
    assert code == 0, capsys.readouterr().err
    g = read_grades(grades)["001"]
    assert Rational(g["score"]) == Rational(g["maximum"]) - 1 and g[cols[-1]] == "wrong"


@pytest.mark.parametrize("typed", ["grad.w_a١١", "grad.w_a[١,١]", "grad.W_a[1,١]", "forward.H[١]", "forward.H[1]@١"])
def test_keys_in_other_digits_than_ascii_name_no_blank(tmp_path, variants_dir, keys, capsys, typed):
    """Finding 9: grad.w_a١١ (Arabic-Indic digits) was read as grad.w_a11: a key or a parameter name is ASCII."""
    from derivations.cli.check import main as check_main
    from derivations.engine.derivation import parse_param
    from derivations.engine.errors import ProblemError

    problem = load_problem(variants_dir / "ada" / "problem.toml")
    checker = Checker(problem)
    assert checker.canonical(typed) not in checker.blanks
    if typed.startswith("grad."):
        with pytest.raises(ProblemError):
            parse_param(typed[5:], problem)
    answers = tmp_path / "a.toml"
    answers.write_text(f'[answers]\n"{typed}" = "0"\n', encoding="utf-8")
    assert check_main([str(answers), "--config", str(variants_dir / "ada" / "problem.toml")]) == 2
    assert "unknown key" in capsys.readouterr().err
    real = "grad.w_a11" if typed.startswith("grad.") else "forward.H[1]"
    code, _, _ = run(tmp_path, variants_dir, class_csv(tmp_path / "r.csv", keys, lambda k: typed if k == real else k))
    err = capsys.readouterr().err
    assert code == 1 and f"no column for {real}" in err and "columns ignored" in err, err


def test_every_blank_has_a_label_in_the_pages_notation():
    """Each blank of a page with a descent step is named as the page writes it: the step's change is
    ``−η·∂ℒ/∂w^b_11`` (it was SymPy's ``-L_1*∇O_1/2``, the learning rate baked in), its ASCII alias
    ``-eta*dL/dw^b_11`` names the column too."""
    from derivations.engine.problem import problem_from_dict

    p = problem_from_dict({"network": {"layers": [2, 2, 2], "activation": "sigmoid", "output": "sigmoid",
                                       "loss": "mse", "bias": True},
                           "data": {"x": [0.5, -0.2], "y": [1, 0]},
                           "init": {"W_a": [[0.1, 0.2], [-0.3, 0.4]], "W_b": [[0.2, -0.2], [0.3, 0.1]],
                                    "b_a": 0.1, "b_b": 0.05}})
    checker = Checker(p)
    names = grade.labels(checker)
    assert names["step.w_b11"] == "−η·∂ℒ/∂w^b_11" and names["descent.w_b11"] == "w^b_11 after one step"
    assert not [label for label in names.values() if "*" in label or "/2" in label]
    assert grade.resolver(checker)("-eta*dL/dw^b_11") == "step.w_b11"


def test_a_moodle_question_says_how_its_answers_are_read():
    """The handout's own question: the precision sentence without fractions (a NUMERICAL field reads none; it
    said both "as a decimal" and "a decimal or a fraction"), and the key insight, which no field grades, says so."""
    question, _, _ = moodle.question_html(evaluate(load_problem()))
    assert "a decimal or a fraction" not in question and moodle.MOODLE_PRECISION in question
    assert f"weight initialization? ({moodle.QUESTION_NOTE})" in question
