"""The MyST-MD plugin's protocol, called directly (fast): its spec names the Sphinx extension's roles and
directives with their options; a call gives MyST AST nodes with the handout's values, blanks on a worksheet;
a bad option or problem gives an error node and one line on stderr (the Sphinx extension's message), never an
exception; problem paths stay inside the project root; a cached call answers without importing SymPy."""

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import derivations_myst
from derivations.cli import myst
from test_sphinx_options import BAD

REPO = Path(__file__).resolve().parents[1]


class _App:
    """Records what the Sphinx extension's ``setup`` registers."""

    def __init__(self):
        self.directives, self.roles = {}, []

    def add_directive(self, name, cls):
        self.directives[name] = cls

    def add_role(self, name, role):
        self.roles.append(name)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.get("children", []))


def _text(nodes) -> str:
    """Every text, math and code value of the nodes, one a line."""
    return "\n".join(str(n.get("value", "")) for n in _walk(nodes))


def _errors(nodes) -> list:
    return [n for n in _walk(nodes) if n.get("class") == "derivations-error"]


def test_spec_has_every_sphinx_role_and_directive_with_its_options():
    from derivations.sphinx import extension as sphinxext

    app = _App()
    sphinxext.setup(app)
    spec = json.loads(json.dumps(myst.spec()))
    directives = {d["name"]: d for d in spec["directives"]}
    assert set(directives) == set(app.directives)
    shared = [r for r in app.roles if r not in sphinxext.SPHINX_ONLY_ROLES]  # {deriv-link}: Sphinx's URIs only
    assert [r["name"] for r in spec["roles"]] == shared == ["deriv"]
    for name, cls in app.directives.items():
        assert set(getattr(cls, "option_spec", None) or {}) <= set(directives[name]["options"]), name
        assert all("doc" in option for option in directives[name]["options"].values()), name  # MyST needs a doc


def test_spec_is_printed_without_arguments(capsys):
    assert derivations_myst.main([]) == 0
    assert {d["name"] for d in json.loads(capsys.readouterr().out)["directives"]} >= {"deriv-gradient", "deriv-handout"}


@pytest.mark.parametrize("body,value", [
    ("grad.w_b21 | exact", r"\frac{3}{80}"),
    ("grad.w_b11 | exact", r"- \frac{3}{80}"),
    ("grad.w_b11", "-0.0375"),
    ("forward.H[1] | both", r"0.15 = \frac{3}{20}"),
])
def test_role_gives_the_handouts_value_as_inline_math(tmp_path, body, value):
    assert myst.run("role", "deriv", {"body": body}, tmp_path, worksheet=False) == [{"type": "inlineMath", "value": value}]


def test_gradient_and_handout_give_math_with_the_handouts_values(tmp_path):
    gradient = myst.run("directive", "deriv-gradient", {"arg": "w_b21"}, tmp_path, worksheet=False)
    assert [n["type"] for n in gradient] == ["math"] and r"0.0375 = \frac{3}{80}" in gradient[0]["value"]
    page = myst.run("directive", "deriv-handout", {}, tmp_path, worksheet=False)
    kinds = {n["type"] for n in _walk(page)}
    assert {"heading", "paragraph", "math", "inlineMath", "image", "admonition"} <= kinds
    assert "-0.0375" in _text(page) and not _errors(page)
    for image in (n for n in _walk(page) if n["type"] == "image"):  # the diagrams, linked from the project root
        assert (tmp_path / image["url"].lstrip("/")).read_text().startswith("<svg")


@pytest.mark.parametrize("name,data,kind", [
    ("deriv-step", {"arg": "step1"}, "math"),
    ("deriv-gradients", {}, "table"),
    ("deriv-descent", {"options": {"lr": "0.1", "params": "w_b11 w_b21"}}, "math"),
    ("deriv-theorem", {"arg": "symmetry"}, "admonition"),
    ("deriv-network", {"arg": "w_b11", "options": {"colour": "blue", "no-labels": True}}, "image"),
    ("deriv-training", {"options": {"steps": "3"}}, "image"),
    ("deriv-pdfs", {}, "paragraph"),
    ("deriv-problem-source", {}, "code"),
])
def test_every_directive_gives_its_node(tmp_path, name, data, kind):
    nodes = myst.run("directive", name, data, tmp_path, worksheet=False)
    assert nodes[0]["type"] == kind and not _errors(nodes), nodes


def test_bold_spans_keep_their_spaces_outside(tmp_path):
    """CommonMark closes ``**Forward:** x`` but not ``**Forward: **x``: no strong node starts or ends with a
    space (the handout's page has 22 bold spans, 17 of them once ended in one)."""
    nodes = myst.run("directive", "deriv-handout", {}, tmp_path, worksheet=False)
    nodes += myst.run("directive", "deriv-theorem", {"arg": "symmetry"}, tmp_path, worksheet=False)
    spans = [n for n in _walk(nodes) if n["type"] == "strong"]
    assert len(spans) >= 20
    edged = [t["value"] for n in spans for t in n["children"] if t["value"] != t["value"].strip()]
    assert edged == [], edged
    assert myst.bold("Forward: ") == [{"type": "strong", "children": [{"type": "text", "value": "Forward:"}]},
                                      {"type": "text", "value": " "}]


def test_pdfs_and_figures_sit_beside_the_pages_markdown_exports(tmp_path):
    """A page that declares Markdown (and JATS) exports gets its PDFs copied beside each, in ``files/``, and
    linked from there, and its figures at the same path beside the page and beside each export, linked
    relative to both: MyST copies no linked file into an export, so a root link would be missing from it."""
    (tmp_path / "week1").mkdir()
    (tmp_path / "week1" / "sheet.md").write_text(
        "---\ntitle: Sheet\nexports:\n  - format: md\n    output: _build/exports/sheet.md\n"
        "  - format: jats\n    output: ../_build/jats/sheet.xml\n---\n\n```{deriv-pdfs}\n```\n", encoding="utf-8")
    data = {"node": {"position": {"start": {"line": 10}}}}
    nodes = myst.run("directive", "deriv-pdfs", data, tmp_path, worksheet=False)
    urls = [n["url"] for n in _walk(nodes) if n["type"] == "link"]
    assert len(urls) == 2 and all(u.startswith("files/") for u in urls), urls
    for folder in (tmp_path / "week1" / "_build" / "exports", tmp_path / "_build" / "jats"):
        assert all((folder / u).read_bytes().startswith(b"%PDF") for u in urls), folder
    page = (tmp_path / "week1" / "sheet.md").read_text(encoding="utf-8").replace("deriv-pdfs}", "deriv-network} w_b21")
    (tmp_path / "week1" / "sheet.md").write_text(page, encoding="utf-8")
    url = myst.run("directive", "deriv-network", {"arg": "w_b21", **data}, tmp_path, worksheet=False)[0]["url"]
    assert not url.startswith("/")
    for folder in (tmp_path / "week1", tmp_path / "week1" / "_build" / "exports", tmp_path / "_build" / "jats"):
        assert (folder / url).read_text(encoding="utf-8").startswith("<svg"), folder
    outside = "---\nexports:\n  - format: md\n    output: ../../../elsewhere/sheet.md\n---\n\n```{deriv-pdfs}\n```\n"
    (tmp_path / "week1" / "sheet.md").write_text(outside, encoding="utf-8")
    nodes = myst.run("directive", "deriv-pdfs", {"node": {"position": {"start": {"line": 7}}}}, tmp_path, worksheet=True)
    assert [n["url"] for n in _walk(nodes) if n["type"] == "link"][0].startswith("/_build/")  # never outside the root
    assert not (tmp_path.parent.parent / "elsewhere").exists()


def test_pdfs_are_written_and_linked_the_worksheet_only_in_a_worksheet_build(tmp_path):
    def links(worksheet):
        nodes = myst.run("directive", "deriv-pdfs", {}, tmp_path, worksheet=worksheet)
        return [n["url"] for n in _walk(nodes) if n["type"] == "link"]

    solution, worksheet = links(False), links(True)
    assert len(solution) == 2 and len(worksheet) == 1 and "answer-key" not in worksheet[0]
    assert all((tmp_path / url.lstrip("/")).read_bytes().startswith(b"%PDF") for url in solution + worksheet)


@pytest.mark.parametrize("name,data", [
    ("deriv-gradient", {"arg": "w_b21", "options": {"show": "all"}}),
    ("deriv-gradients", {}),
    ("deriv-step", {"arg": "backward"}),
    ("deriv-handout", {}),
])
def test_worksheet_call_holds_blanks_and_no_derived_value(tmp_path, name, data):
    text = _text(myst.run("directive", name, data, tmp_path, worksheet=True))
    assert r"\underline{\hspace" in text
    assert not leaks(text)
    assert leaks(_text(myst.run("directive", name, data, tmp_path, worksheet=False)))  # the search can find them


def leaks(text: str) -> list:
    """The handout's derived values (test_worksheet.forbidden, every spelling) found in ``text``, as whole
    numbers (not a digit of a longer one, not a length in MathML)."""
    from test_worksheet import forbidden

    found = []
    for spelling in forbidden():
        for m in re.finditer(re.escape(spelling), text):
            before, after = text[m.start() - 1: m.start()], text[m.end(): m.end() + 1]
            unit = text[m.end(): m.end() + 2] in ("em", "ex", "px")  # MathML's spacing (rowspacing="0.25em")
            if not (before.isdigit() or before == ".") and not after.isdigit() and not unit:
                found.append(f"{spelling!r} in …{text[max(0, m.start() - 40): m.end() + 20]!r}")
    return found


@pytest.mark.parametrize("name,data", [("deriv-theorem", {"arg": "symmetry"}), ("deriv-training", {"options": {"steps": "3"}})])
def test_worksheet_leaves_out_what_answers_the_key_question_but_checks_it(tmp_path, name, data):
    assert _text(myst.run("directive", name, data, tmp_path, worksheet=True)).strip() == myst.SOLUTION_ONLY
    bad = {**data, "arg": "nonsense"} if name == "deriv-theorem" else {"options": {"steps": "0"}}
    assert _errors(myst.run("directive", name, bad, tmp_path, worksheet=True))


def test_worksheet_role_is_a_blank_but_formulas_stay(tmp_path):
    blank = myst.run("role", "deriv", {"body": "grad.w_b21"}, tmp_path, worksheet=True)
    formula = myst.run("role", "deriv", {"body": "formula.w_b21"}, tmp_path, worksheet=True)
    assert blank[0]["value"].startswith(r"\underline") and r"\nabla" in formula[0]["value"]


def _directive_data(block: str) -> tuple:
    """A Sphinx test page's block as MyST-MD sends it: the name, the argument, the options as written."""
    lines = block.splitlines()
    name, _, arg = lines[0].removeprefix("```{").partition("}")
    options = {}
    for line in lines[1:-1]:
        key, _, value = line[1:].partition(": ")
        options[key] = value.strip()
    return name, {"arg": arg.strip() or None, "options": options, "node": {"position": {"start": {"line": 3}}}}


@pytest.mark.parametrize("case,block,message", [b for b in BAD if not b[1].startswith("```{deriv-problem}")],
                         ids=[b[0] for b in BAD if not b[1].startswith("```{deriv-problem}")])
def test_bad_option_is_an_error_node_and_one_line_with_the_sphinx_message(tmp_path, capsys, case, block, message):
    name, data = _directive_data(block)
    nodes = myst.run("directive", name, data, tmp_path, worksheet=False)
    assert len(nodes) == 1 and nodes[0]["type"] == "admonition" and nodes[0]["kind"] == "error", nodes
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and message in lines[0] and f"{name}:" in lines[0], lines
    assert lines[0].startswith("derivations: a page:3: ") and len(lines[0]) < 400


@pytest.mark.parametrize("written", ["#1f77b4", '"#1f77b4"', "'#1f77b4'"])
def test_hex_colour_is_read_quoted_or_not(tmp_path, written):
    nodes = myst.run("directive", "deriv-network", {"arg": "w_b11", "options": {"colour": written}}, tmp_path, worksheet=False)
    assert 'stroke="#1f77b4"' in (tmp_path / nodes[0]["url"].lstrip("/")).read_text()


def test_error_names_the_page_it_is_on(tmp_path, capsys):
    (tmp_path / "week1").mkdir()
    (tmp_path / "week1" / "backprop.md").write_text("# Backprop\n\nThe value {deriv}`grad.w_zz` here.\n")
    nodes = myst.run("role", "deriv", {"body": "grad.w_zz", "node": {"position": {"start": {"line": 3}}}},
                     tmp_path, worksheet=False)
    assert nodes[0]["type"] == "strong"  # inline: the paragraph stays a paragraph
    line = capsys.readouterr().err.strip()
    assert line.startswith("derivations: week1/backprop.md:3: deriv: key: ") and "w_zz" in line, line


def test_deriv_problem_is_refused_with_the_reason(tmp_path, capsys):
    nodes = myst.run("directive", "deriv-problem", {"arg": "p.toml"}, tmp_path, worksheet=False)
    assert _errors(nodes) and ":problem:" in capsys.readouterr().err


@pytest.mark.parametrize("path,message", [
    ("../outside.toml", "outside the project root"),
    ("/etc/hostname", "problem file '/etc/hostname' not found"),  # a leading / is the project root
    ("sub/../../outside.toml", "outside the project root"),
    ("nowhere.toml", "problem file 'nowhere.toml' not found"),
])
def test_problem_paths_are_confined_to_the_project_root(tmp_path, capsys, path, message):
    root = tmp_path / "book"
    root.mkdir()
    (tmp_path / "outside.toml").write_bytes((REPO / "docs" / "problems" / "random-init.toml").read_bytes())
    nodes = myst.run("directive", "deriv-step", {"arg": "setup", "options": {"problem": path}}, root, worksheet=False)
    assert _errors(nodes) and message in capsys.readouterr().err


def test_shipped_problem_is_named_as_in_sphinx(tmp_path, capsys):
    mazur = myst.run("directive", "deriv-step", {"arg": "setup", "options": {"problem": "derivations:mazur.toml"}},
                     tmp_path, worksheet=False)
    assert not _errors(mazur) and mazur != myst.run("directive", "deriv-step", {"arg": "setup"}, tmp_path, worksheet=False)
    wrong = myst.run("directive", "deriv-step", {"arg": "setup", "options": {"problem": "derivations:nope.toml"}},
                     tmp_path, worksheet=False)
    assert _errors(wrong) and "is not shipped with the package; expected one of" in capsys.readouterr().err


def test_problem_file_inside_the_root_is_used(tmp_path):
    (tmp_path / "problems").mkdir()
    shutil.copy(REPO / "docs" / "problems" / "random-init.toml", tmp_path / "problems" / "p.toml")
    data = {"arg": "w_b21", "options": {"problem": "problems/p.toml"}}
    other = myst.run("directive", "deriv-gradient", data, tmp_path, worksheet=False)
    handout = myst.run("directive", "deriv-gradient", {"arg": "w_b21"}, tmp_path, worksheet=False)
    assert not _errors(other) and other != handout


def test_unusable_input_is_an_error_node_with_exit_status_0(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[1, 2")))
    assert derivations_myst.main(["--directive", "deriv-gradient"]) == 0
    captured = capsys.readouterr()
    assert _errors(json.loads(captured.out)) and "not usable" in captured.err


@pytest.mark.parametrize("data", [{"options": ["show"]}, {"arg": {"a": 1}, "node": "x"}, {"options": {"show": None}},
                                  {"options": {"problem": ["p.toml"]}}, {"body": [1]}])
def test_malformed_node_is_an_error_node_not_an_exception(tmp_path, capsys, data):
    """Finding 4 of issue 30: options sent as a list were an "internal error"; every malformed node is the page's
    mistake, said as such."""
    nodes = myst.run("directive", "deriv-gradient", data, tmp_path, worksheet=False)
    err = capsys.readouterr().err
    assert _errors(nodes) and len(err.splitlines()) == 1 and "not usable" in err and "internal error" not in err, err


def _main(monkeypatch, capsys, root, raw: bytes, name="deriv-gradient", kind="--directive", worksheet=""):
    """One plugin process's call, as MyST makes it: the node on stdin, in the project root."""
    monkeypatch.chdir(root)
    monkeypatch.setenv("DERIVATIONS_WORKSHEET", worksheet)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    assert derivations_myst.main([kind, name]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


@pytest.mark.parametrize("raw, says", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),  # finding 4: a RecursionError
    (json.dumps({"name": "deriv-gradient", "options": ["show", "all"]}).encode(), "options: expected a table"),
    (json.dumps({"name": "deriv-gradient", "arg": ["w_b21"], "node": {"position": {"start": {"line": 3}}}}).encode(),
     "arg: expected a text"),
])
def test_a_node_nested_deep_or_malformed_is_one_located_line_never_a_traceback(tmp_path, monkeypatch, capsys, raw, says):
    (tmp_path / "page.md").write_text("# Page\n\n```{deriv-gradient} w_b21\n```\n")
    nodes, err = _main(monkeypatch, capsys, tmp_path, raw)
    assert _errors(nodes) and len(err.splitlines()) == 1 and says in err and "Traceback" not in err, err
    if b"line" in raw:
        assert err.startswith("derivations: page.md:3: deriv-gradient: "), err


SECRET = 'AWS_SECRET_ACCESS_KEY = "hunter2"\nTOKEN=abc123\n'


@pytest.mark.parametrize("how", ["argument", ":problem:", "DERIVATIONS_PROBLEM"])
@pytest.mark.parametrize("file", [".env", "myst.yml", "huge.toml"])
def test_the_plugin_reads_only_problem_files_of_at_most_256_kib(tmp_path, monkeypatch, capsys, how, file):
    """Finding 3 of issue 30: deriv-problem-source (or DERIVATIONS_PROBLEM) embedded .env, notes or myst.yml
    verbatim in the export, with no size limit (a 50 MB file gave 52 MB of output). As the Sphinx extension:
    the file must read as a problem, at most 256 KiB; else one located line that quotes nothing of it."""
    (tmp_path / ".env").write_text(SECRET)
    (tmp_path / "myst.yml").write_text("version: 1\nproject:\n  title: hunter2\n")
    with open(tmp_path / "huge.toml", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # 50 MB (sparse: the test writes nothing)
    (tmp_path / "page.md").write_text("# Page\n\n```{deriv-problem-source}\n```\n")
    data = {"name": "deriv-problem-source", "node": {"position": {"start": {"line": 3}}}}
    if how == "argument":
        data["arg"] = file
    elif how == ":problem:":
        data["options"] = {"problem": file}
    else:
        monkeypatch.setenv("DERIVATIONS_PROBLEM", file)
    nodes, err = _main(monkeypatch, capsys, tmp_path, json.dumps(data).encode(), name="deriv-problem-source")
    assert _errors(nodes) and len(err.splitlines()) == 1 and err.startswith("derivations: page.md:3: "), err
    shown = json.dumps(nodes) + err
    assert "hunter2" not in shown and "abc123" not in shown and len(shown) < 2000
    if file == "huge.toml":
        assert "at most 262144 bytes" in err
    role, err = _main(monkeypatch, capsys, tmp_path, json.dumps({"body": "grad.w_b21"}).encode(), name="deriv",
                      kind="--role")  # the book's default problem too
    assert ("hunter2" not in json.dumps(role) + err) and (_errors(role) if how == "DERIVATIONS_PROBLEM" else not _errors(role))


def test_a_worksheet_beside_a_solution_builds_files_is_refused(tmp_path, monkeypatch, capsys):
    """Finding 2 of issue 30, for MyST: a worksheet built into a _build that holds a solution build's files (its
    cache, answer keys and exports) is refused at every call, the way a worksheet is left: no answer."""
    call = json.dumps({"name": "deriv-pdfs", "node": {"position": {"start": {"line": 3}}}}).encode()
    (tmp_path / "page.md").write_text("# Page\n\n```{deriv-pdfs}\n```\n")
    nodes, err = _main(monkeypatch, capsys, tmp_path, call, name="deriv-pdfs")
    assert not _errors(nodes) and list((tmp_path / "_build").rglob("answer-key*.pdf"))
    nodes, err = _main(monkeypatch, capsys, tmp_path, call, name="deriv-pdfs", worksheet="1")
    assert _errors(nodes) and "holds a solution build's files" in err and "delete _build first" in err, err
    assert "answer" not in json.dumps([n for n in _walk(nodes) if n.get("type") == "link"])
    shutil.rmtree(tmp_path / "_build")
    nodes, err = _main(monkeypatch, capsys, tmp_path, call, name="deriv-pdfs", worksheet="1")
    assert not _errors(nodes) and not list((tmp_path / "_build").rglob("answer-key*.pdf"))


def test_cached_call_is_answered_without_importing_sympy(tmp_path):
    """The second call of the same directive on the same problem reads the cache under _build: the process
    never imports SymPy (the first call does, and stores its nodes)."""
    data = json.dumps({"name": "deriv-gradient", "arg": "w_b21", "options": {"show": "sum"}})
    script = ("import sys, derivations_myst; derivations_myst.main(['--directive', 'deriv-gradient']); "
              "print(file=sys.stderr); print('sympy' in sys.modules, file=sys.stderr)")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, text=True, cwd=tmp_path,
                           env=env, check=True) for _ in range(2)]
    assert [r.stderr.split()[-1] for r in runs] == ["True", "False"]
    assert runs[0].stdout == runs[1].stdout and r"\frac{3}{80}" in runs[1].stdout
    assert len(list((tmp_path / "_build" / "derivations" / "cache").glob("*.json"))) == 1


def test_cache_key_changes_with_the_problem_the_options_and_the_mode(tmp_path):
    (tmp_path / "p.toml").write_bytes((REPO / "docs" / "problems" / "random-init.toml").read_bytes())
    base = {"arg": "w_b21", "options": {}}
    keys = {derivations_myst.cache_key("directive", "deriv-gradient", base, tmp_path, False),
            derivations_myst.cache_key("directive", "deriv-gradient", base, tmp_path, True),
            derivations_myst.cache_key("directive", "deriv-gradient", {**base, "options": {"show": "all"}}, tmp_path, False),
            derivations_myst.cache_key("directive", "deriv-gradient", {**base, "options": {"problem": "p.toml"}}, tmp_path, False)}
    assert len(keys) == 4 and "" not in keys
    (tmp_path / "p.toml").write_bytes(b"# edited\n" + (tmp_path / "p.toml").read_bytes())
    assert derivations_myst.cache_key("directive", "deriv-gradient", {**base, "options": {"problem": "p.toml"}},
                                      tmp_path, False) not in keys
