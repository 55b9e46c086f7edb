"""MyST-MD executable plugin: the Sphinx extension's roles and directives for Jupyter Book 2 (``mystmd``).

MyST runs ``derivations-myst`` (or ``python -m derivations.myst``) once without arguments for the plugin's
spec (:func:`spec`, JSON on stdout), then once per role or directive of a page, ``--role NAME`` or
``--directive NAME``, with the parsed node as JSON on stdin; the plugin writes the MyST AST nodes that replace
it on stdout. The names and options are the Sphinx extension's, the checks, messages and content are
:mod:`derivations.outputs.content`'s; this module only builds MyST nodes (``inlineMath``, ``math``, ``table``,
``admonition``, ``image``, ``link``, ``code``).

- **Problem**: ``:problem: path.toml`` on a directive, relative to the project root (the folder MyST runs
  in, with ``myst.yml``) and confined to it; else ``DERIVATIONS_PROBLEM`` (the same kind of path); else the
  handout's. MyST runs each directive on its own, so ``deriv-problem`` cannot set the problem for the rest
  of a page: it is refused with a message saying so.
- **Worksheet**: ``DERIVATIONS_WORKSHEET=1`` in the environment of ``myst build`` leaves every derived
  value blank (the diagrams without labels, no answer, the worksheet PDF only); ``deriv-theorem`` and
  ``deriv-training``, which answer the key question, are checked and left out (Sphinx's worksheet site leaves
  out their pages).
- **Cache**: each call's output is kept in ``_build/derivations/cache`` under the project root (see
  :mod:`derivations.cli.myst_cache`; the entry point, :mod:`derivations_myst`, answers a cached call without
  importing SymPy).
- **Files**: figures and PDFs are written to ``_build/derivations/solution`` (or ``worksheet``) under the
  project root. MyST copies no file into a Markdown export, so for a page that declares Markdown or JATS
  exports (``exports:`` with an ``output:`` in its front matter) the plugin copies them beside each export: a
  figure to the same relative path beside the export as beside the page (``_build/derivations/…``, its URL
  relative to both), a PDF to ``files/`` (a link to a file beside the page MyST would rewrite to its site's
  copy). Any other page (or a call whose page cannot be told) links them from the project root
  (``/_build/...``).
- **Markdown**: a bold span never starts or ends with a space (``**Forward:** compute``), which CommonMark
  could not close.
- **Errors never break the book**: a bad option or problem becomes an error admonition on the page, and one
  line ``derivations: PAGE:LINE: DIRECTIVE: message`` on stderr; the exit status stays 0. MyST 1.8 shows a
  plugin's stderr only with ``--debug``, so when the parent process is the ``myst`` CLI the line also goes
  to its stderr (through ``/proc``, where there is one).

>>> out = run("role", "deriv", {"name": "deriv", "body": "grad.w_b21 | exact"}, key="")
>>> out[0]["type"], out[0]["value"]
('inlineMath', '\\\\frac{3}{80}')
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from ..engine import reading, work
from ..engine.errors import ProblemError
from ..engine.graph import Graph, GraphProblem, evaluate_any, problem_any_from_bytes
from ..engine.problem import HANDOUT, load_problem
from ..notation.printing import claim_tex, prose_parts
from ..outputs import content, targets
from ..outputs.content import SHIPPED, DerivError, Request, role_tex, shipped_problem
from ..outputs.files import write_atomic
from ..outputs.pdf import render_pdf
from ..teaching.handout import layout
from .myst_cache import PROBLEM_ENV, cache_file, cache_key, problem_path, usable, worksheet_mode

MAX_PAGES = 2000  # files searched for the page an error is on
SOLUTION_ONLY = "(In the solution: this part answers the worksheet's questions.)"

_STR = {"type": "string"}
_PROBLEM = {"problem": {**_STR, "doc": "a problem TOML file, relative to the project root"}}
# name: (argument's doc or None, options as name -> doc; "flag" marks a boolean option)
DIRECTIVES = {
    "deriv-step": ("setup, step1 ... step5, backward or table", {}),
    "deriv-gradient": ("a parameter, like w_b21", {"show": "sum | paths | closed | expanded | all"}),
    "deriv-gradients": (None, {}),
    "deriv-descent": (None, {"lr": "learning rate, above 0, at most 10", "params": "parameter keys, separated by spaces"}),
    "deriv-theorem": ("symmetry, softmax_lemma, dead_first_layer, permanence, random_breaks, training_run",
                      {"part": "all | statement | proof"}),
    "deriv-handout": (None, {}),
    "deriv-network": ("a parameter whose gradient paths are drawn (optional)",
                      {"colour": "a colour name or #rrggbb", "labels": "flag", "no-labels": "flag",
                       "digits": "digits of the labels, 1 to 12"}),
    "deriv-training": (None, {"steps": "1 to 2000", "lr": "learning rate, above 0, at most 10", "seed": "0 to 10**6",
                              "data": "problem | xor", "data-seed": "0 to 10**6"}),
    "deriv-pdfs": (None, {}),
    "deriv-problem-source": ("a problem TOML file (optional)", {}),
    "deriv-problem": ("a problem TOML file", {}),
}


def spec() -> dict:
    """The plugin's spec, as MyST asks for it (no arguments): every directive and the ``deriv`` role."""
    directives = []
    for name, (arg, options) in DIRECTIVES.items():
        entry = {"name": name, "doc": f"derivations: {name}", "options": dict(_PROBLEM)}
        for option, doc in options.items():
            entry["options"][option] = {"type": "boolean", "doc": option} if doc == "flag" else {**_STR, "doc": doc}
        if arg:
            entry["arg"] = {**_STR, "doc": arg}
        directives.append(entry)
    role = {"name": "deriv", "doc": "a value or formula of the problem: KEY, KEY | exact, KEY | both, grad.NAME | float64",
            "body": {**_STR, "doc": "a key, like grad.w_b21"}}
    return {"name": "derivations", "directives": directives, "roles": [role]}


def text(value: str) -> dict:
    return {"type": "text", "value": value}


def paragraph(*children) -> dict:
    return {"type": "paragraph", "children": list(children)}


def strong(value: str) -> dict:
    return {"type": "strong", "children": [text(value)]}


def bold(value: str) -> list:
    """``value`` in bold, its edge spaces outside the span: CommonMark closes ``**Forward:** x`` but not
    ``**Forward: **x`` (a closing ``**`` after a space is no closing), and MyST writes what it is given."""
    core = value.strip()
    if not core:
        return [text(value)] if value else []
    lead, trail = value[:len(value) - len(value.lstrip())], value[len(value.rstrip()):]
    return ([text(lead)] if lead else []) + [strong(core)] + ([text(trail)] if trail else [])


def table(header, rows) -> dict:
    """A MyST table: ``header`` cells and ``rows`` of cells, each a node list."""
    out = [{"type": "tableRow", "children": [{"type": "tableCell", "header": True, "children": cell} for cell in header]}]
    out += [{"type": "tableRow", "children": [{"type": "tableCell", "children": cell} for cell in row]} for row in rows]
    return {"type": "table", "children": out}


def error_node(message: str, inline: bool = False) -> dict:
    """The page's error: an error admonition (a role's: bold text in the line)."""
    if inline:
        return {"type": "strong", "class": "derivations-error", "children": [text(f"[{message}]")]}
    return {"type": "admonition", "kind": "error", "class": "derivations-error",
            "children": [{"type": "admonitionTitle", "children": [text("derivations")]}, paragraph(text(message))]}


class Call:
    """One role or directive of a page: what MyST sent, the project root, the mode, where files go."""

    def __init__(self, kind: str, name: str, data: dict, root: Path, worksheet: bool):
        self.kind, self.name, self.data, self.root, self.worksheet = kind, name, data, root, worksheet
        problem = usable(data)
        if problem:  # options as a list, an argument as a table: the page's mistake, located like any other
            raise DerivError(f"{name}: the node MyST sent is not usable: {problem}", "option")
        arg = data.get("arg")
        options = {k: ("" if v is True else _unquoted(str(v))) for k, v in (data.get("options") or {}).items() if v is not False}
        self.request = Request(name, [] if arg in (None, "") else [str(arg)], options)
        self.files = root / "_build" / "derivations" / ("worksheet" if worksheet else "solution")
        self.written = []  # files the output links, relative to the root

    def problem(self) -> tuple:
        """``(path, data)``: the problem file and its bytes (``data`` None for the default handout)."""
        return problem_file(self.root, self.request.options.get("problem"), self.name)

    def values(self):
        path, data = self.problem()
        problem = load_problem() if data is None else read_problem(path, data, self.name)
        if not isinstance(problem, GraphProblem):  # a graph is bounded by its size (64 equations)
            work.check(problem, "site", "a page of the book")
        values = evaluate_any(problem)
        content.check_kind(values, self.name)
        return values

    def file(self, name: str, data: bytes) -> str:
        """Write ``data`` under the build's files (once: the name holds its hash); its URL from the root."""
        stem, _, ext = name.rpartition(".")
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
        path = self.files / name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(targets.target(path, "output"), data)  # the one rule for every file the tools write
        rel = path.relative_to(self.root).as_posix()
        self.written.append(rel)
        return "/" + rel

    def image(self, svg: str, alt: str) -> dict:
        """A figure: linked from the project root, or (a page with exports) relative to the page and to each
        export, with a copy beside each."""
        url = self.file("figure.svg", svg.encode())
        page, folders = self.page()
        if page is None or not folders:
            return {"type": "image", "url": url, "alt": alt}
        rel = url.lstrip("/")
        for folder in (page.parent, *folders):
            self.copy(url, folder / rel)
        return {"type": "image", "url": rel, "alt": alt}

    def page(self) -> tuple:
        """``(page, export folders)``: the call's page, if it can be told (MyST does not say which page a call
        is on: it is found as :func:`find_page` finds it), and the folders of the Markdown and JATS exports it
        declares, inside the project root."""
        try:
            line = self.data["node"]["position"]["start"]["line"]
        except (KeyError, TypeError):
            return None, []
        pages = find_pages(self.root, self.name, line) if isinstance(line, int) else []
        if len(pages) != 1:
            return None, []
        page = (self.root / pages[0]).resolve()
        folders = []
        for output in export_outputs(page.read_text(encoding="utf-8", errors="replace")):
            folder = (page.parent / output).parent.resolve()
            if folder.is_relative_to(self.root.resolve()) and folder not in folders:
                folders.append(folder)
        return page, folders

    def copy(self, url: str, path: Path) -> None:
        """The file at root-relative ``url`` copied to ``path`` (inside the root), once; noted for the cache."""
        source = (self.root / url.lstrip("/")).resolve()
        if path.resolve() != source and not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, source.read_bytes())
        self.written.append(path.resolve().relative_to(self.root.resolve()).as_posix())


def _unquoted(value: str) -> str:
    """An option's value without one pair of enclosing quotes: MyST-MD passes ``"#1f77b4"`` as written,
    Sphinx's MyST parser reads it as YAML (where the quotes are needed, ``#`` starting a comment)."""
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def problem_file(root: Path, name: str | None, directive: str) -> tuple:
    """``(path, bytes)`` of the problem a call names (see :func:`derivations_myst.problem_path`); the
    handout's with bytes None. As the Sphinx extension reads a page's problem file: a regular file of at most
    256 KiB that reads as a problem, else a located error that quotes nothing of it (``.env``, notes or
    ``myst.yml`` under the project root are never shown)."""

    if name and str(name).strip().startswith(SHIPPED):
        path = shipped_problem(str(name).strip())  # the Sphinx extension's check and message
        return path, path.read_bytes()
    try:
        path, _ = problem_path(root, name)
    except ValueError as err:
        raise DerivError(f"{directive}: {err}", "problem") from None
    if path is None:
        return HANDOUT, None
    try:
        data = reading.read_bytes(path, "problem")
    except ProblemError as err:
        raise DerivError(f"{directive}: {err.expected}", "problem") from None  # it names the file
    read_problem(path, data, directive)
    return path, data


def read_problem(path: Path, data: bytes, directive: str):
    """The problem in a file's bytes, or a :class:`DerivError` naming the field and what was expected (as Sphinx
    says it for a file inside the docs)."""
    try:
        return problem_any_from_bytes(data, path)
    except ProblemError as err:
        raise DerivError(f"{directive}: {err}", "problem") from None


def role(call: Call) -> list:
    return [{"type": "inlineMath", "value": role_tex(call.values(), str(call.data.get("body") or ""), call.worksheet)}]


def directive(call: Call) -> list:
    name, req, ws = call.name, call.request, call.worksheet
    if name == "deriv-problem":
        raise DerivError("deriv-problem: MyST runs each directive on its own, so a page cannot set its problem for "
                         f"the directives after it; give :problem: to each directive, or set {PROBLEM_ENV}", "option")
    if name == "deriv-problem-source":
        path, data = problem_file(call.root, req.arguments[0] if req.arguments else req.options.get("problem"), name)
        source = (data if data is not None else path.read_bytes()).decode("utf-8", errors="replace")
        return [{"type": "code", "lang": "toml", "value": source}]
    values = call.values()
    if name == "deriv-step":
        return [{"type": "math", "value": tex} for tex in content.step_tex(values, req, ws)]
    if name == "deriv-gradient":
        return [{"type": "math", "value": tex} for tex in content.gradient_tex(values, req, ws)]
    if name == "deriv-descent":
        return [{"type": "math", "value": tex} for tex in content.descent_tex(values, req, ws)]
    if name == "deriv-gradients":
        rows = content.gradient_rows(values, req, ws)
        return [table([[text(t)] for t in content.GRADIENT_HEADER],
                      [[[{"type": "inlineMath", "value": cell}] for cell in row] for row in rows])]
    if name == "deriv-theorem":
        if ws:  # its statement answers the handout's key question: checked, not shown (as Sphinx's worksheet site)
            content.theorem(values, req)
            return [paragraph({"type": "emphasis", "children": [text(SOLUTION_ONLY)]})]
        return theorem(values, req)
    if name == "deriv-handout":
        return handout(call, values)
    if name == "deriv-network":
        alt = ("the circuit" if isinstance(values, Graph) else "the network") + (f", the paths of {req.arguments[0]}" if req.arguments else "")
        return [call.image(content.network(values, req, ws), alt)]
    if name == "deriv-training":
        if ws:  # the losses and the stalled units answer the key question too
            content.training_options(values, req)
            return [paragraph({"type": "emphasis", "children": [text(SOLUTION_ONLY)]})]
        svg, caption, problem = content.training(values, req)
        out = [call.image(svg, "training: constant against random initialization"), paragraph(text(caption))]
        if problem.n_samples > 1:
            header, rows = content.data_rows(problem)
            out.append(table([[text(h)] for h in header], [[[text(c)] for c in row] for row in rows]))
        return out
    if name == "deriv-pdfs":
        return pdfs(call, values)
    raise DerivError(f"unknown directive {name!r}; expected one of {', '.join(DIRECTIVES)}", "key")


def _prose(words: str) -> list:
    """Prose with formulas in the text notation as text and inline math nodes."""
    return [{"type": "inlineMath", "value": s} if kind == "math" else text(s) for kind, s in prose_parts(words)]


def theorem(values, req) -> list:
    """An admonition: the statement and assumptions, each checked step, the verdict (as in Sphinx)."""
    th, part = content.theorem(values, req)
    body = [paragraph(*_prose(th.statement)), paragraph(*bold("Assumptions: "), *_prose("; ".join(th.assumptions) + "."))]
    if part == "proof":
        body = []
    if part != "statement":
        items = []
        for step in th.steps:
            item = [paragraph({"type": "inlineMath", "value": claim_tex(step.claim)}, text(": "),
                              *bold(step.status), *_prose(f" ({step.method})"))]
            tex = content.step_display(step)
            if tex:
                item.append({"type": "math", "value": tex})
            items.append({"type": "listItem", "spread": True, "children": item})
        body.append({"type": "list", "ordered": False, "spread": False, "children": items})
        body += [paragraph(*_prose(note)) for note in th.notes]
        steps = f"{len(th.steps)} step{'s' if len(th.steps) != 1 else ''} checked"
        body.append(paragraph(*bold(f"Verdict: {content.verdict_text(th)}"), text(f" ({steps}).")))
    return [{"type": "admonition", "kind": "note", "class": "derivations-theorem",
             "children": [{"type": "admonitionTitle", "children": [text(th.name)]}, *body]}]


def handout(call: Call, values) -> list:
    """The paper handout's page (:func:`content.handout`) as MyST nodes (:class:`HandoutAst`)."""
    _, data = call.problem()
    return HandoutAst(call, values).write(content.handout(values, call.request, data))


class HandoutAst(content.HandoutNodes):
    """The students' page as MyST nodes: headings, paragraphs with inline math, display math, the path diagrams
    as SVG images, the key insight's answer in a dropdown."""

    def __init__(self, call: Call, values):
        super().__init__(values, call.worksheet)
        self.call = call

    def text(self, value):
        return text(value)

    def strong(self, value):
        return bold(value)

    def math(self, tex):
        return {"type": "inlineMath", "value": tex}

    def paragraph(self, inline):
        return paragraph(*inline)

    def answer_box(self, para):
        return {"type": "admonition", "kind": "tip", "class": "dropdown derivations-answer",
                "children": [{"type": "admonitionTitle", "children": [text("Answer")]}, para]}

    def heading(self, value):
        return {"type": "heading", "depth": 3, "children": [text(value)]}

    def display(self, tex):
        return {"type": "math", "value": tex}

    def figure(self, svg, caption):
        return self.call.image(svg, caption or "a gradient path")


def pdfs(call: Call, values) -> list:
    """Links to the problem's worksheet and answer key as PDFs (the worksheet only, in a worksheet build)."""
    call.request.no_argument()
    _, data = call.problem()
    links = [("worksheet (PDF)", call.file("worksheet.pdf", render_pdf(values, worksheet=True, data=data)))]
    if not call.worksheet:
        links.append(("answer key (PDF)", call.file("answer-key.pdf", render_pdf(values, worksheet=False, data=data))))
    _, folders = call.page()
    if folders:  # a Markdown or JATS export links what lies beside it, in files/
        for _, url in links:
            for folder in folders:
                call.copy(url, folder / "files" / Path(url).name)
        links = [(label, f"files/{Path(url).name}") for label, url in links]
    parts = [text("Print: ")]
    for i, (label, url) in enumerate(links):
        parts += ([text(" · ")] if i else []) + [{"type": "link", "url": url, "children": [text(label)]}]
    parts.append(text(f" (problem {layout(values, data=data).problem_id})"))
    return [paragraph(*parts)]


def run(kind: str, name: str, data: dict, root: Path | None = None, worksheet: bool | None = None,
        key: str | None = None) -> list:
    """The nodes for one call, stored in the cache under ``key`` (computed if None; ``""``: not stored). A
    page's mistake becomes an error node and one line on stderr, never an exception."""
    root = Path(root or os.getcwd())
    worksheet = worksheet_mode() if worksheet is None else worksheet
    key = cache_key(kind, name, data, root, worksheet) if key is None else key
    try:
        call = Call(kind, name, data, root, worksheet)
        nodes = role(call) if kind == "role" else directive(call)
    except (DerivError, ProblemError) as err:
        return [error_node(report(name, str(err), data, root), inline=kind == "role")]
    except Exception as err:  # a bug, not the page's mistake: still never break the book
        message = f"internal error ({type(err).__name__}: {err}); please report it"
        return [error_node(report(name, message, data, root), inline=kind == "role")]
    if key:
        path = cache_file(root, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path = targets.target(path, "cache")  # the one rule for every file the tools write
        except ProblemError:
            return nodes  # not cached: the figure's own write said why
        write_atomic(path, json.dumps({"nodes": nodes, "files": call.written}).encode())
    return nodes


def report(name: str, message: str, data: dict, root: Path) -> str:
    """One line naming the page (found by the call's line in the project's Markdown files), the role or
    directive and the problem; written to stderr (and to the ``myst`` CLI's, see the module's doc)."""
    if not message.startswith(f"{name}:"):
        message = f"{name}: {message}"
    try:
        line = data["node"]["position"]["start"]["line"]
    except (KeyError, TypeError):
        line = None
    where = f"{find_page(root, name, line) or 'a page'}:{line}" if isinstance(line, int) else "a page"
    message = " ".join(message.split())  # one line, whatever the problem file's error held
    out = f"derivations: {where}: {message}"
    print(out, file=sys.stderr)
    _tell_myst(out, root)
    return out


def find_page(root: Path, name: str, line: int) -> str | None:
    """The Markdown file under ``root`` whose line ``line`` holds role or directive ``name`` (MyST does not
    tell a plugin which page it is on); several candidates are named together, none gives None."""
    found = find_pages(root, name, line)
    return " or ".join(found[:3]) if found else None


def find_pages(root: Path, name: str, line: int) -> list:
    """The Markdown files under ``root`` (relative, POSIX) whose line ``line`` holds role or directive ``name``."""
    marker = "{deriv}`" if name == "deriv" else "{" + name + "}"
    found = []
    for count, path in enumerate(sorted(p for p in root.rglob("*.md") if not _skipped(p.relative_to(root)))):
        if count >= MAX_PAGES:
            break
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        if 0 < line <= len(lines) and marker in lines[line - 1]:
            found.append(path.relative_to(root).as_posix())
    return found


def export_outputs(page: str) -> list:
    r"""The ``output:`` paths of a page's Markdown and JATS exports (``.md``, ``.xml``), from the ``exports:``
    list of its YAML front matter, as MyST writes it (one ``key: value`` a line).

    >>> export_outputs("---\ntitle: T\nexports:\n  - format: md\n    output: _build/exports/a.md\n"
    ...                "  - format: pdf\n    output: a.pdf\n---\ntext")
    ['_build/exports/a.md']
    """
    lines = page.splitlines()
    if not lines or lines[0].strip() != "---":
        return []
    out, inside = [], False
    for line in lines[1:]:
        if line.strip() == "---":
            break
        if line and not line[0].isspace() and not line.startswith("-"):
            inside = line.split(":", 1)[0].strip() == "exports"
            continue
        key, sep, value = line.strip().lstrip("- ").partition(":")
        value = value.strip().strip("'\"")
        if inside and sep and key.strip() == "output" and value.endswith((".md", ".xml")):
            out.append(value)
    return out


def _skipped(rel: Path) -> bool:
    return any(part.startswith((".", "_build")) or part == "node_modules" for part in rel.parts[:-1])


def _tell_myst(line: str, root: Path) -> None:
    """Also write ``line`` to the ``myst`` CLI's stderr when it is this process's parent (Linux ``/proc``),
    once per ``myst`` process: MyST runs each directive once per export, the page's author needs one line."""
    parent = os.getppid()
    try:
        cmdline = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
        if not any(Path(arg.decode(errors="replace")).name in ("myst", "myst.cjs", "jupyter-book") for arg in cmdline[:3]):
            return
        started = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()[19]  # the parent's start time
        seen = root / "_build" / "derivations" / "reported" / hashlib.sha256(f"{parent} {started} {line}".encode()).hexdigest()
        if seen.exists():
            return
        seen.parent.mkdir(parents=True, exist_ok=True)
        seen.touch()
        with open(f"/proc/{parent}/fd/2", "a", encoding="utf-8") as err:
            err.write(line + "\n")
    except (OSError, IndexError):
        pass
