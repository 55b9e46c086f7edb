"""Sphinx extension: every formula and number on a course page comes from the derivation.

A thin adapter over the public API: it parses options, calls the library and returns docutils nodes
(real ``math`` / ``math_block`` nodes from ``sympy.latex``). Add ``"derivations.sphinx.extension"`` to
``extensions``. What a page can write (MyST):

- ``{deriv}`forward.Y[1]``` inline value (``| exact`` for the exact form, ``| both``);
  ``{deriv}`formula.w_b21``` / ``{deriv}`closed.w_b21``` / ``{deriv}`expanded.w_b21``` inline formulas.
- ``deriv-problem``: ``path.toml`` for the rest of the page (Sphinx's convention: relative to the page's
  directory, or with a leading ``/`` to the docs source).
- ``deriv-problem-source``: the TOML text of the page's problem (or of a file given as argument).
- ``deriv-step``: ``setup``, ``step1`` ... ``step5``, ``backward``, ``table``: a step with its substitution.
- ``deriv-gradient``: a weight (``w_b21``); ``:show: sum | paths | closed | expanded | all``.
- ``deriv-gradients``: a table of every weight's gradient, closed form and value (no argument).
- ``deriv-descent``: one gradient-descent step, ``w − η ∂ℒ/∂w`` with numbers (``:lr:`` in (0, 10], default 0.5;
  ``:params:`` keys separated by spaces, default every weight, at most 64).
- ``deriv-theorem``: ``symmetry``, ``softmax_lemma``, ``dead_first_layer``, ``permanence``, ``random_breaks``.
- ``deriv-network``: the network, or with a weight its gradient paths (``:colour:`` a name of ``figures.COLOURS``
  or ``#rrggbb`` / ``#rgb``; ``:no-labels:``; ``:digits:`` 1 to 12).
- ``deriv-training``: constant vs random init in training, no argument (``:steps:`` 1 to 2000, ``:lr:`` in
  (0, 10], ``:seed:`` 0 to 10**6, ``:data: problem | xor``, ``:data-seed:`` 0 to 10**6).
- ``deriv-handout``, ``deriv-network`` and ``deriv-pdfs`` take a computational graph's problem too (``[graph]``):
  its students' page, its circuit (each wire's value above, gradient below; empty boxes on a worksheet), its
  PDFs; the other directives and the role say in one line that they are a network's.
- ``deriv-pdfs``: links to the page's problem as printable PDFs, worksheet and answer key (the worksheet only in
  a worksheet build), typeset into the HTML output when the build finishes.

Every option is checked before use; a wrong value is a located warning of type ``derivations`` (so ``-W``
fails the build), and nothing an author types reaches the HTML or SVG unchecked.

Every directive takes ``:problem:``. ``derivations_worksheet = True`` (or ``-t worksheet`` with the top-level
``conf.py``) leaves the derived numbers blank for students.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole
from sphinx.util.osutil import relative_uri

from .. import __version__
from ..engine import reading, work
from ..engine.graph import GraphProblem, evaluate_any, problem_any_from_bytes
from ..engine.problem import HANDOUT, ProblemError
from ..notation.printing import claim_tex, prose_parts
from ..outputs import content, targets
from ..outputs.content import DerivError, Request
from ..outputs.pdf import render_pdf, svg_to_pdf
from ..teaching.handout import layout

logger = logging.getLogger(__name__)

# One derivation per problem file and version of it, per process: every directive of every page shares it. The
# most recently used CACHE_SIZE are kept (a site has a handful of problems; a long-lived process, many versions).
CACHE_SIZE = 32
_CACHE: dict = {}  # (path, sha256) -> Values, oldest use first


def problem_path(env, name: str | None) -> Path:
    """The TOML file a directive names, else the page's (``deriv-problem``), else the configured default
    (relative to the docs source), else the handout's.

    A name follows Sphinx's convention for paths in directives: relative to the page's own directory, and
    with a leading ``/`` relative to the docs source; ``derivations:NAME.toml`` is a problem shipped with the
    package (``derivations:mazur.toml``, Mazur's worked example). A page reads problem files only inside the
    docs source (or the package's shipped problems), symbolic links resolved: anything else is refused before
    it is opened. ``derivations_problem`` (``conf.py`` or ``-D``) is the site owner's choice and may name a
    file anywhere, but that file must read as a problem file (:func:`problem_data`)."""
    if name and name.startswith(content.SHIPPED):
        return content.shipped_problem(name)
    if name:
        _, resolved = env.relfn2path(name, env.current_document.docname)
        path, where = Path(resolved), "relative to the page; a leading / means the docs source"
        if not _confined(env, path):
            raise DerivError(f"problem file {reading.quote(name)} is outside the documentation source; a page may "
                             "read problem files only inside it", "problem")
    elif _page_problem(env):
        return Path(_page_problem(env))
    elif env.config.derivations_problem:
        name = env.config.derivations_problem
        path, where = Path(env.srcdir) / name, "derivations_problem is relative to the docs source"
    else:
        return HANDOUT
    if not path.is_file():
        raise DerivError(f"problem file {reading.quote(name)} not found ({where}: {reading.path_text(path)})", "problem")
    return path


def _confined(env, path: Path) -> bool:
    """Whether ``path`` (symbolic links resolved) lies inside the docs source or the package's problems."""
    real = path.resolve()
    return any(real.is_relative_to(root.resolve()) for root in (Path(env.srcdir), HANDOUT.parent))


def _page_problem(env) -> str | None:
    """The problem set by ``deriv-problem`` earlier on the page being read."""
    try:
        return env.current_document["derivations_problem"]
    except KeyError:
        return None


def problem_data(env, path: Path) -> tuple[bytes, str]:
    """A problem file's bytes (at most ``reading.MAX_FILE_BYTES``) and their SHA-256, noted as a dependency
    of the page being read: a page is rebuilt whenever the content of one of its problem files changes
    (:func:`outdated_by_content`), whatever the files' modification times."""
    import hashlib

    try:
        data = reading.read_bytes(path, "problem")
    except ProblemError as err:
        raise DerivError(_message(env, path, err), "problem") from None
    digest = hashlib.sha256(data).hexdigest()
    real = str(path.resolve())
    env.note_dependency(real)
    docname = env.current_document.docname
    if docname:
        _hashes(env).setdefault(docname, {})[real] = digest
    return data, digest


def _message(env, path: Path, err: ProblemError) -> str:
    """A problem file's error; for a file outside the docs (only ``derivations_problem`` can name one) no
    word of its content: it may be any file of the machine."""
    if _confined(env, path):
        return str(err)
    return (f"derivations_problem: {reading.path_text(path)} is not a problem file the tool accepts "
            f"(python -m derivations.print --config FILE says why)")


def _hashes(env) -> dict:
    """``{docname: {problem file: sha256}}``, kept in the environment (purged and merged with it)."""
    if not hasattr(env, "derivations_hashes"):
        env.derivations_hashes = {}
    return env.derivations_hashes


def values_for(env, name: str | Path | None = None):
    """The derivation's exact values for a page's problem (a name as :func:`problem_path` takes it, or a
    resolved ``Path``), derived once per file content."""
    path = name if isinstance(name, Path) else problem_path(env, name)
    data, digest = problem_data(env, path)
    key = (str(path.resolve()), digest)
    if key not in _CACHE:
        try:
            problem = problem_any_from_bytes(data, path)
            if not isinstance(problem, GraphProblem):  # a graph is bounded by its size (64 equations)
                work.check(problem, "site", "a page of the site")
            values = evaluate_any(problem)
        except ProblemError as err:
            raise DerivError(_message(env, path, err), "problem") from None
        while len(_CACHE) >= CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
    else:
        values = _CACHE.pop(key)
    _CACHE[key] = values  # the most recent use last
    return values


def _pdf_notes(env) -> dict:
    """``{docname: {PDF folder: (problem file, worksheet?, location)}}``: each page's ``deriv-pdfs``, noted when
    the page is read and kept in the environment (purged and merged with it, as ``sphinx.ext.todo`` keeps its
    todos)."""
    if not hasattr(env, "derivations_pdfs"):
        env.derivations_pdfs = {}
    return env.derivations_pdfs


def pdf_folders(env) -> dict:
    """``{PDF folder: (problem file, worksheet?, location, docname)}`` over the whole site, the page that first
    (by name) asks for a folder giving its self-check page's way back."""
    out = {}
    for docname, notes in sorted(_pdf_notes(env).items()):
        for folder, note in notes.items():
            out.setdefault(folder, (*note, docname))
    return dict(sorted(out.items()))


def purge_hashes(app, env, docname):
    _hashes(env).pop(docname, None)
    _pdf_notes(env).pop(docname, None)


def merge_hashes(app, env, docnames, other):
    for state in (_hashes, _pdf_notes):
        theirs = state(other)
        state(env).update({d: theirs[d] for d in docnames if d in theirs})


def outdated_by_content(app, env, added, changed, removed) -> list:
    """Pages whose problem files' content changed since they were read (a file replaced by an older one,
    ``mv``, keeps an old modification time that Sphinx's own check misses)."""
    import hashlib

    now: dict = {}

    def digest(path: str):
        if path not in now:
            try:
                now[path] = hashlib.sha256(reading.read_bytes(path, "problem")).hexdigest()
            except ProblemError:
                now[path] = None
        return now[path]

    return sorted(doc for doc, files in _hashes(env).items()
                  if doc not in changed and doc not in removed and any(digest(f) != h for f, h in files.items()))


def _internal(what: str, err: Exception) -> DerivError:
    """An unexpected failure on a page's problem, as one located line (the build goes on)."""
    return DerivError(f"{what}: cannot be built for this problem ({type(err).__name__}: "
                      f"{reading.quote(str(err), 120)[1:-1]})", "problem")


def _warn(obj, err: Exception, subtype: str | None = None) -> list:
    logger.warning(f"derivations: {err}", location=obj.get_location(), type="derivations",
                   subtype=subtype or getattr(err, "subtype", "key"))
    return []


def _prose(text: str) -> list:
    """Prose with formulas in the handout's text notation as text and inline math nodes (typeset by MathJax)."""
    return [nodes.math(s, s) if kind == "math" else nodes.Text(s) for kind, s in prose_parts(text)]


def _math_block(obj, tex: str) -> nodes.math_block:
    node = nodes.math_block(tex, tex, docname=obj.env.current_document.docname, number=None, label=None, nowrap=False)
    node["no-wrap"] = False
    obj.set_source_info(node)
    return node


def _worksheet(env) -> bool:
    return bool(env.config.derivations_worksheet)


class DerivRole(SphinxRole):
    """``{deriv}`KEY``` or ``{deriv}`KEY | exact```: a value or formula of the page's problem, as math."""

    def run(self):
        try:
            values = values_for(self.env)
            content.check_kind(values, "deriv")
            tex = content.role_tex(values, self.text, _worksheet(self.env))
        except (DerivError, ProblemError) as err:
            return _warn(self, err), []
        except Exception as err:  # noqa: BLE001 (nothing a page's problem holds may abort the build)
            return _warn(self, _internal("deriv", err), "problem"), []
        node = nodes.math(tex, tex)
        self.set_source_info(node)
        return [node], []


class DerivDirective(SphinxDirective):
    """Shared by the display directives: one argument, and ``:problem:``. Options are taken as text and
    checked by :class:`content.Request`, so that a wrong value is a located ``derivations`` warning."""

    required_arguments = 0
    optional_arguments = 1
    option_spec = {"problem": directives.unchanged}
    has_content = False

    def run(self):
        try:
            values = values_for(self.env, self.options.get("problem"))
            content.check_kind(values, self.name)
            return self.build(values)
        except (DerivError, ProblemError) as err:
            return _warn(self, err)
        except Exception as err:  # noqa: BLE001 (nothing a page's problem holds may abort the build)
            return _warn(self, _internal(self.name, err), "problem")

    def request(self) -> Request:
        return Request(self.name, self.arguments, self.options)

    def build(self, values):
        raise NotImplementedError


class ProblemDirective(SphinxDirective):
    """``deriv-problem``: the problem file for the rest of the page."""

    required_arguments = 1

    def run(self):
        name = self.arguments[0].strip()
        try:
            path = problem_path(self.env, name)
            values_for(self.env, path)
        except (DerivError, ProblemError) as err:
            return _warn(self, err)
        except Exception as err:  # noqa: BLE001 (nothing a page's problem holds may abort the build)
            return _warn(self, _internal(self.name, err))
        self.env.current_document["derivations_problem"] = str(path)  # resolved: later names are the page's
        return []


class ProblemSourceDirective(SphinxDirective):
    """``deriv-problem-source [PATH]``: the TOML text of a problem file, as a literal block. Without an
    argument, the page's problem (``deriv-problem``, else ``derivations_problem``, else the handout's); a
    path resolves as in ``deriv-problem``."""

    optional_arguments = 1

    def run(self):
        name = self.arguments[0].strip() if self.arguments else None
        try:  # shown only once it reads as a problem file: never any other file's text
            path = problem_path(self.env, name)
            values_for(self.env, path)
            text = problem_data(self.env, path)[0].decode("utf-8").removeprefix("\ufeff")
        except (DerivError, ProblemError) as err:
            return _warn(self, err)
        except Exception as err:  # noqa: BLE001 (nothing a page's problem holds may abort the build)
            return _warn(self, _internal(self.name, err))
        node = nodes.literal_block(text, text, language="toml")
        self.set_source_info(node)
        return [node]


class StepDirective(DerivDirective):
    """``deriv-step STEP``: a section of the worked solution, each line as display math (only that section
    is built)."""

    def build(self, values):
        return [_math_block(self, tex) for tex in content.step_tex(values, self.request(), _worksheet(self.env))]


class GradientDirective(DerivDirective):
    """``deriv-gradient WEIGHT``: its path sum with numbers (``:show: sum``), its paths, its closed forms."""

    option_spec = {**DerivDirective.option_spec, "show": directives.unchanged}

    def build(self, values):
        return [_math_block(self, tex) for tex in content.gradient_tex(values, self.request(), _worksheet(self.env))]


class DescentDirective(DerivDirective):
    """``deriv-descent``: one gradient-descent step, ``w − η ∂ℒ/∂w`` for each parameter (``:params:`` keys
    separated by spaces, default every weight), ``:lr:`` the learning rate (default 0.5); blank on a worksheet."""

    option_spec = {**DerivDirective.option_spec, "lr": directives.unchanged, "params": directives.unchanged}

    def build(self, values):
        return [_math_block(self, tex) for tex in content.descent_tex(values, self.request(), _worksheet(self.env))]


class GradientTableDirective(DerivDirective):
    """``deriv-gradients``: every parameter's gradient, one row each: closed form in the layers' quantities,
    the handout's bracket, and the value (blank on a worksheet)."""

    def build(self, values):
        rows = content.gradient_rows(values, self.request(), _worksheet(self.env))
        table = nodes.table(classes=["derivations-gradients"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (12, 22, 46, 20):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        row = nodes.row()
        for title in content.GRADIENT_HEADER:
            row += nodes.entry("", nodes.paragraph("", title))
        head += row
        body = nodes.tbody()
        group += body
        for cells in rows:
            row = nodes.row()
            for cell in cells:
                row += nodes.entry("", nodes.paragraph("", "", nodes.math(cell, cell)))
            body += row
        self.set_source_info(table)
        return [table]


class HandoutDirective(DerivDirective):
    """``deriv-handout``: the paper handout's page for the page's problem, block by block, from
    :func:`derivations.teaching.handout.layout`: on a worksheet every blank of the paper (and no derived value, the
    diagrams without labels or tooltips, no answer), on the solution the same places filled in and the
    key-insight answer in a dropdown."""

    def build(self, values):
        path = problem_path(self.env, self.options.get("problem"))
        data = None if path == HANDOUT else problem_data(self.env, path)[0]
        out = _HandoutDoctree(self, values).write(content.handout(values, self.request(), data))
        for node in out:
            self.set_source_info(node)
        return out


class _HandoutDoctree(content.HandoutNodes):
    """The students' page as docutils nodes: a rubric per heading, math nodes, the path diagrams as figures."""

    def __init__(self, directive, values):
        super().__init__(values, _worksheet(directive.env))
        self.directive = directive

    def text(self, value):
        return nodes.Text(value)

    def strong(self, value):
        return [nodes.strong("", value)]

    def math(self, tex):
        return nodes.math(tex, tex)

    def paragraph(self, inline):
        para = nodes.paragraph()
        para += inline
        return para

    def answer_box(self, para):
        box = nodes.admonition(classes=["dropdown", "derivations-answer"])
        box += nodes.title("", "Answer")
        box += para
        return box

    def heading(self, text):
        return nodes.rubric("", text, classes=["derivations-heading"])

    def display(self, tex):
        return _math_block(self.directive, tex)

    def figure(self, svg, caption):
        return network_figure(svg=svg)


class TheoremDirective(DerivDirective):
    """``deriv-theorem NAME``: the statement and assumptions (``:part: statement``), each checked step and
    the verdict (``:part: proof``), or both (the default)."""

    option_spec = {**DerivDirective.option_spec, "part": directives.unchanged}

    def build(self, values):
        th, part = content.theorem(values, self.request())
        statement = [nodes.paragraph("", "", *_prose(th.statement)),
                     nodes.paragraph("", "", nodes.strong("", "Assumptions: "), *_prose("; ".join(th.assumptions) + "."))]
        if part == "statement":
            return statement
        out = statement if part == "all" else []
        items = nodes.bullet_list()
        for step in th.steps:
            claim = claim_tex(step.claim)
            para = nodes.paragraph("", "", nodes.math(claim, claim), nodes.Text(": "),
                                   nodes.strong("", step.status), *_prose(f" ({step.method})"))
            item = nodes.list_item("", para)
            tex = content.step_display(step)
            if tex:
                item += _math_block(self, tex)
            items += item
        out.append(items)
        for note in th.notes:
            out.append(nodes.paragraph("", "", *_prose(note)))
        verdict = content.verdict_text(th)
        out.append(nodes.paragraph("", "", nodes.strong("", f"Verdict: {verdict}"),
                                   nodes.Text(f" ({len(th.steps)} step{'s' if len(th.steps) != 1 else ''} checked).")))
        return out


class NetworkDirective(DerivDirective):
    """``deriv-network [PARAMETER]``: the network as inline SVG, the parameter's gradient paths in colour (no
    derived value on a worksheet: no labels, no tooltips)."""

    option_spec = {**DerivDirective.option_spec, "colour": directives.unchanged, "labels": directives.flag,
                   "no-labels": directives.flag, "digits": directives.unchanged}

    def build(self, values):
        svg = content.network(values, self.request(), _worksheet(self.env))
        node = network_figure(svg=svg)
        self.set_source_info(node)
        return [node]


class network_figure(nodes.General, nodes.Element):
    """A path diagram: inline SVG in HTML, a PDF (converted by Typst) in LaTeX, as ``sphinx.ext.graphviz`` does."""


def visit_network_html(self, node):
    self.body.append(f'<div class="derivations-figure">{node["svg"]}</div>')
    raise nodes.SkipNode


def visit_network_latex(self, node):
    import hashlib


    name = f"derivations-network-{hashlib.sha256(node['svg'].encode()).hexdigest()[:12]}.pdf"
    path = Path(self.builder.outdir) / name
    if not path.exists():
        path.write_bytes(svg_to_pdf(node["svg"]))
    self.body.append("\n\\begin{center}\\includegraphics[width=0.9\\linewidth]{%s}\\end{center}\n" % name)
    raise nodes.SkipNode


def skip_node(self, node):
    raise nodes.SkipNode


class pdf_links(nodes.General, nodes.Element):
    """Links to the page's problem as printable PDFs; the files are written when the build finishes."""


class PdfsDirective(DerivDirective):
    """``deriv-pdfs``: links "worksheet (PDF)" and "answer key (PDF)" of the page's problem (the worksheet
    only, in a worksheet build). The PDFs are typeset by Typst into the HTML output at the end of the build."""

    def build(self, values):

        self.request().no_argument()
        path = problem_path(self.env, self.options.get("problem"))
        data = None if path == HANDOUT else problem_data(self.env, path)[0]
        try:  # the printable page's own rules (one hidden layer, one sample, ...), checked here, located
            page = layout(values, data=data)
        except ProblemError as err:
            raise DerivError(f"{self.name}: {err}", "problem") from None
        source, line = self.get_source_info()
        node = pdf_links(path=str(path), problem_id=page.problem_id,
                         worksheet=_worksheet(self.env), location=f"{source}:{line}")
        self.set_source_info(node)
        notes = _pdf_notes(self.env).setdefault(self.env.docname, {})
        notes[_pdf_dir(node)] = (node["path"], node["worksheet"], node["location"])
        return [node]


_PDFS = {"worksheet": "worksheet.pdf", "key": "answer-key.pdf"}


def _pdf_dir(node) -> str:
    return f"_pdf/{node['problem_id']}"


def resolve_links(app, doctree, docname):
    """Each link of a page made relative to the page's own URI (the PDFs' folder, a file the build writes, a
    page that some builds leave out)."""
    for node in doctree.findall(pdf_links):
        # From the page's own URI, as the builder makes it: handout.html, handout/ (dirhtml), index.html (singlehtml).
        node["base"] = relative_uri(app.builder.get_target_uri(docname), _pdf_dir(node) + "/")
    for node in doctree.findall(nodes.reference):
        target = node.get("deriv_output")
        if target in OUTPUT_FILES:
            node["refuri"] = relative_uri(app.builder.get_target_uri(docname), target)
        elif target:
            if target not in app.env.all_docs:
                logger.warning(f"derivations: deriv-link: no page {target!r}", location=node, type="derivations",
                               subtype="key")
                continue
            node["refuri"] = app.builder.get_relative_uri(docname, target)


# Roles of this extension with no MyST-MD counterpart (derivations.cli.myst): {deriv-link} rewrites links to a
# Sphinx builder's page URIs (html, dirhtml, singlehtml), which a MyST site does not have.
SPHINX_ONLY_ROLES = ("deriv-link",)
# Files a build writes beside its pages (not pages themselves), which a page may link with {deriv-link}.
OUTPUT_FILES = ("selfcheck.html",)
_DOCNAME = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*", re.ASCII)
_LINK = re.compile(r"(?P<text>.+?)\s*<(?P<target>[^<>]+)>", re.DOTALL)


class LinkRole(SphinxRole):
    """``{deriv-link}`text <selfcheck.html>```: a link to a file the build writes at the output's root, or
    ``{deriv-link}`text <solution>``` to a page (a docname) that some builds leave out (inside ``{only}``,
    unlike ``{doc}`` it is checked only where it is kept): right under ``html``, ``dirhtml`` and ``singlehtml``."""

    def run(self):
        match = _LINK.fullmatch(self.text.strip())
        target = match["target"].strip() if match else self.text.strip()
        if target not in OUTPUT_FILES and not _DOCNAME.fullmatch(target):
            return _warn(self, DerivError(f"deriv-link: expected a page's docname or one of {', '.join(OUTPUT_FILES)}, "
                                          f"got {reading.quote(target)}", "key")), []
        # made relative to the page when its doctree is resolved (resolve_links)
        node = nodes.reference("", match["text"] if match else target, refuri=target, deriv_output=target)
        self.set_source_info(node)
        return [node], []


def visit_pdf_links_html(self, node):
    import html

    base = node.get("base", _pdf_dir(node) + "/")
    links = [("worksheet (PDF)", base + _PDFS["worksheet"])]
    if not node["worksheet"]:
        links.append(("answer key (PDF)", base + _PDFS["key"]))
    if "derivations.sphinx.selfcheck" in self.config.extensions:  # conf.py loads it; it writes beside the PDFs
        links.append(("self-check page", base + "selfcheck.html"))
    items = " · ".join(f'<a class="reference download" href="{html.escape(href)}">{html.escape(text)}</a>'
                       for text, href in links)
    self.body.append(f'<p class="derivations-pdfs">Print: {items} '
                     f'<span class="derivations-problem-id">(problem {html.escape(node["problem_id"])})</span></p>')
    raise nodes.SkipNode


def write_pdfs(app, exception):
    """Typeset the noted PDFs into the HTML output."""
    if exception is not None or app.builder.format != "html":
        return


    for folder, (path, worksheet, location, _docname) in pdf_folders(app.env).items():
        path = Path(path)
        try:
            data = reading.read_bytes(path, "problem")
            values = evaluate_any(problem_any_from_bytes(data, path))
            data = None if path == HANDOUT else data
            pdfs = {_PDFS["worksheet"]: render_pdf(values, worksheet=True, data=data)}
            if not worksheet:
                pdfs[_PDFS["key"]] = render_pdf(values, worksheet=False, data=data)
        except ProblemError as err:
            logger.warning(f"derivations: deriv-pdfs: {err}", location=location, type="derivations", subtype="problem")
            continue
        except Exception as err:  # noqa: BLE001 (a warning at the directive, never an "Extension error")
            logger.warning(f"derivations: {_internal('deriv-pdfs', err)}", location=location, type="derivations",
                           subtype="problem")
            continue
        out = Path(app.builder.outdir) / folder
        out.mkdir(parents=True, exist_ok=True)
        for name, pdf in pdfs.items():
            (out / name).write_bytes(pdf)


class TrainingDirective(DerivDirective):
    """``deriv-training``: the problem's initialization against a seeded random one, trained with the engine's
    gradients, plotted at build time; ``:data: xor`` trains on the demonstration data set (shown below the
    figure) instead of the problem's own samples. The caption states both final losses (checked numerically,
    not proved)."""

    option_spec = {**DerivDirective.option_spec, "steps": directives.unchanged, "lr": directives.unchanged,
                   "seed": directives.unchanged, "data": directives.unchanged, "data-seed": directives.unchanged}

    def build(self, values):
        svg, caption, problem = content.training(values, self.request())
        out = [nodes.raw("", f'<div class="derivations-figure">{svg}</div>', format="html"),
               nodes.paragraph("", caption, classes=["caption"])]
        if problem.n_samples > 1:
            out.append(self._data_table(problem))
        return out

    def _data_table(self, problem):
        header, rows = content.data_rows(problem)
        table = nodes.table(classes=["derivations-data"])
        group = nodes.tgroup(cols=problem.n_in + problem.n_out + 1)
        table += group
        for _ in range(problem.n_in + problem.n_out + 1):
            group += nodes.colspec(colwidth=10)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        row = nodes.row()
        for title in header:
            row += nodes.entry("", nodes.paragraph("", title))
        head += row
        for cells in rows:
            row = nodes.row()
            for cell in cells:
                row += nodes.entry("", nodes.paragraph("", cell))
            body += row
        self.set_source_info(table)
        return table


# -- the output folder: one mode's build, never a variants set -----------------------------------------------------

MODE_FILE = ".derivations-mode"  # in the output folder: "solution" or "worksheet", the mode of the build it holds


def _refuse(message: str):
    """Refuse the build in one line, exit status 2, before anything is written. (An exception would be shown
    by Sphinx 9 with its whole error report and a traceback, as for a bug.)"""
    logger.error(f"derivations: {message}", type="derivations", subtype="output")
    raise SystemExit(2)


def worksheet_value(app, config) -> None:
    """``derivations_worksheet`` as a bool, from ``conf.py`` or ``-D`` (which gives text: ``1``, ``0``,
    ``false``), before anything reads it; a worksheet build also has the tag ``worksheet``, so that a page's
    ``{only} worksheet`` (and ``not worksheet``) blocks follow either switch."""
    value = config.derivations_worksheet
    if isinstance(value, str):
        value = value.strip().lower() not in ("", "0", "false", "no", "off")
    config.derivations_worksheet = bool(value)
    if config.derivations_worksheet:
        app.tags.add("worksheet")


def guard_output(app) -> None:
    """Refuse a build into a folder that holds another mode's build (a worksheet beside a solution's pages and
    answer keys would leak them; Sphinx never removes a page it no longer writes), or an earlier build of unknown
    mode for a worksheet; and a build into a folder of a variants set (:mod:`derivations.outputs.targets`).
    Records this build's mode."""
    out = Path(app.outdir)
    mode = "worksheet" if app.config.derivations_worksheet else "solution"
    found = targets.holds_set_files(out)
    if found:
        _refuse(f"{reading.path_text(out)} holds {found[1]} of the variants set in {reading.path_text(found[0])}; "
                "build the site into another folder")
    mark = out / MODE_FILE
    try:
        before = mark.read_text(encoding="utf-8").strip() if mark.is_file() else None
    except (OSError, UnicodeDecodeError):
        before = "unknown"
    if before is None and (out / ".buildinfo").exists():
        before = "unknown"
    if before not in (None, mode) and not (before == "unknown" and mode == "solution"):
        what = f"a {before} build" if before != "unknown" else "an earlier build whose mode is not recorded"
        _refuse(f"{reading.path_text(out)} holds {what}; a {mode} build into it would leave that build's pages"
                f"{' and answer keys' if mode == 'worksheet' else ''} beside its own: delete the folder first, or build "
                "into another")
    if before != mode:
        mark.write_text(mode + "\n", encoding="utf-8")


def setup(app):
    app.add_config_value("derivations_worksheet", False, "env", types=(bool, int, str),
                         description="leave the derived numbers blank (a worksheet for students)")
    app.add_config_value("derivations_problem", "", "env", types=(str,),
                         description="the default problem file, relative to the docs source; empty: the handout")
    app.add_role("deriv", DerivRole())
    app.add_role("deriv-link", LinkRole())
    app.add_directive("deriv-problem", ProblemDirective)
    app.add_directive("deriv-problem-source", ProblemSourceDirective)
    app.add_directive("deriv-step", StepDirective)
    app.add_directive("deriv-gradient", GradientDirective)
    app.add_directive("deriv-gradients", GradientTableDirective)
    app.add_directive("deriv-descent", DescentDirective)
    app.add_directive("deriv-theorem", TheoremDirective)
    app.add_directive("deriv-handout", HandoutDirective)
    app.add_directive("deriv-network", NetworkDirective)
    app.add_directive("deriv-training", TrainingDirective)
    app.add_directive("deriv-pdfs", PdfsDirective)
    app.add_node(network_figure, html=(visit_network_html, None), latex=(visit_network_latex, None),
                 text=(skip_node, None), man=(skip_node, None), texinfo=(skip_node, None))
    app.add_node(pdf_links, html=(visit_pdf_links_html, None), latex=(skip_node, None), text=(skip_node, None),
                 man=(skip_node, None), texinfo=(skip_node, None))
    app.connect("config-inited", worksheet_value, priority=100)  # before conf.py's own handlers read it
    app.connect("builder-inited", guard_output)
    app.connect("doctree-resolved", resolve_links)
    app.connect("env-purge-doc", purge_hashes)
    app.connect("env-merge-info", merge_hashes)
    app.connect("env-get-outdated", outdated_by_content)
    app.connect("build-finished", write_pdfs)
    # Derivations are cached per process, keyed by the file's content; the environment keeps each page's
    # problem files and their hashes (purged and merged with it), so a changed content rebuilds the page, and
    # each page's PDFs, typeset at the end of the build.
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 3}

