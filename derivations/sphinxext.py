"""Sphinx extension: every formula and number on a course page comes from the derivation.

A thin adapter over the public API: it parses options, calls the library and returns docutils nodes
(real ``math`` / ``math_block`` nodes from ``sympy.latex``). Add ``"derivations.sphinxext"`` to
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

from . import __version__
from .problem import HANDOUT, ProblemError, load_problem
from .render import inline_tex
from .solution import BLANK

logger = logging.getLogger(__name__)

THEOREMS = ("symmetry", "softmax_lemma", "dead_first_layer", "permanence", "random_breaks", "training_run")
SHOW = ("sum", "paths", "closed", "expanded", "all")
PARTS = ("all", "statement", "proof")
# :lr: a short decimal or fraction (2-digit exponent at most): read exactly, then bounded.
_PLAIN_NUMBER = re.compile(r"(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,2})?(?:/[1-9][0-9]{0,19})?")
# Bounds of the numeric options; deriv-training's :steps: bound is training.MAX_STEPS (2000).
MAX_DIGITS, MAX_LR, MAX_SEED = 12, 10, 10**6
MAX_PARAMS = 64  # deriv-descent's :params:, one display line each

SHIPPED = "derivations:"  # the prefix of a problem shipped with the package: derivations:mazur.toml

# One derivation per problem file and version of it, per process: every directive of every page shares it.
_CACHE: dict = {}


class DerivError(Exception):
    """A page's mistake: reported as a located warning, never a traceback."""

    def __init__(self, message: str, subtype: str):
        super().__init__(message)
        self.subtype = subtype


def problem_path(env, name: str | None) -> Path:
    """The TOML file a directive names, else the page's (``deriv-problem``), else the configured default
    (relative to the docs source), else the handout's.

    A name follows Sphinx's convention for paths in directives: relative to the page's own directory, and
    with a leading ``/`` relative to the docs source; ``derivations:NAME.toml`` is a problem shipped with the
    package (``derivations:mazur.toml``, Mazur's worked example)."""
    if name and name.startswith(SHIPPED):
        shipped = sorted(p.name for p in HANDOUT.parent.glob("*.toml"))
        if name[len(SHIPPED):] not in shipped:
            raise DerivError(f"problem {name!r} is not shipped with the package; expected one of "
                             f"{', '.join(SHIPPED + n for n in shipped)}", "problem")
        return HANDOUT.parent / name[len(SHIPPED):]
    if name:
        _, resolved = env.relfn2path(name, env.current_document.docname)
        path, where = Path(resolved), "relative to the page; a leading / means the docs source"
    elif _page_problem(env):
        return Path(_page_problem(env))
    elif env.config.derivations_problem:
        name = env.config.derivations_problem
        path, where = Path(env.srcdir) / name, "derivations_problem is relative to the docs source"
    else:
        return HANDOUT
    if not path.is_file():
        raise DerivError(f"problem file {name!r} not found ({where}: {path})", "problem")
    return path


def _page_problem(env) -> str | None:
    """The problem set by ``deriv-problem`` earlier on the page being read."""
    try:
        return env.current_document["derivations_problem"]
    except KeyError:
        return None


def values_for(env, name: str | Path | None = None):
    """The derivation's exact values for a page's problem (a name as :func:`problem_path` takes it, or a
    resolved ``Path``), derived once per file version."""
    from .values import evaluate

    path = name if isinstance(name, Path) else problem_path(env, name)
    env.note_dependency(str(path.resolve()))  # an edit to the TOML rebuilds the page
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _CACHE:
        try:
            _CACHE[key] = evaluate(load_problem(path))
        except ProblemError as err:
            raise DerivError(str(err), "problem") from None
    return _CACHE[key]


def _warn(obj, err: Exception, subtype: str | None = None) -> list:
    logger.warning(f"derivations: {err}", location=obj.get_location(), type="derivations",
                   subtype=subtype or getattr(err, "subtype", "key"))
    return []


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
        key, _, style = (part.strip() for part in self.text.partition("|"))
        try:
            values = values_for(self.env)
            tex = inline_tex(values, key, style or "decimal")
        except (DerivError, ProblemError) as err:
            return _warn(self, err), []
        if _worksheet(self.env) and not key.startswith(("problem.", "formula.", "closed.", "expanded.")):
            tex = BLANK
        node = nodes.math(tex, tex)
        self.set_source_info(node)
        return [node], []


class DerivDirective(SphinxDirective):
    """Shared by the display directives: one argument, and ``:problem:``. Options are taken as text and
    checked by the helpers below, so that a wrong value is a located ``derivations`` warning."""

    required_arguments = 0
    optional_arguments = 1
    option_spec = {"problem": directives.unchanged}
    has_content = False

    def run(self):
        try:
            return self.build(values_for(self.env, self.options.get("problem")))
        except (DerivError, ProblemError) as err:
            return _warn(self, err)

    def argument(self, choices=None, what="argument") -> str:
        if not self.arguments:
            raise DerivError(f"{self.name}: missing {what}" + (f"; expected one of {', '.join(choices)}" if choices else ""), "option")
        arg = self.arguments[0].strip()
        if choices and arg not in choices:
            raise DerivError(f"{self.name}: unknown {what} {arg!r}; expected one of {', '.join(choices)}", "key")
        return arg

    def no_argument(self) -> None:
        if self.arguments:
            raise DerivError(f"{self.name}: takes no argument, got {self.arguments[0].strip()!r}", "option")

    def option_choice(self, name: str, choices, default: str) -> str:
        value = self.options.get(name, default).strip()
        if value not in choices:
            raise DerivError(f"{self.name}: :{name}: expected one of {', '.join(choices)}, got {value!r}", "option")
        return value

    def option_int(self, name: str, default: int, low: int, high: int) -> int:
        text = self.options.get(name)
        if text is None:
            return default
        text = text.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))) or not low <= int(text) <= high:
            raise DerivError(f"{self.name}: :{name}: expected a whole number from {low} to {high}, got {text[:40]!r}", "option")
        return int(text)

    def option_lr(self, default: str = "0.5"):
        """``:lr:``, a learning rate: a short decimal or fraction, read exactly, above 0 and at most MAX_LR."""
        from .problem import parse_number

        text = self.options.get("lr", default).strip()
        try:
            lr = parse_number(text, ":lr:") if _PLAIN_NUMBER.fullmatch(text) else None  # short: cheap to read exactly
        except ProblemError:
            lr = None
        if lr is None or not 0 < lr <= MAX_LR:
            raise DerivError(f"{self.name}: :lr: expected a number above 0 and at most {MAX_LR}, got {text[:40]!r}", "option")
        return lr

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
        self.env.current_document["derivations_problem"] = str(path)  # resolved: later names are the page's
        return []


class ProblemSourceDirective(SphinxDirective):
    """``deriv-problem-source [PATH]``: the TOML text of a problem file, as a literal block. Without an
    argument, the page's problem (``deriv-problem``, else ``derivations_problem``, else the handout's); a
    path resolves as in ``deriv-problem``."""

    optional_arguments = 1

    def run(self):
        name = self.arguments[0].strip() if self.arguments else None
        try:
            path = problem_path(self.env, name)
            text = path.read_text(encoding="utf-8")
        except DerivError as err:
            return _warn(self, err)
        except (OSError, UnicodeDecodeError) as err:
            return _warn(self, DerivError(f"{self.name}: cannot read {name or path.name!r}: {err}", "problem"))
        self.env.note_dependency(str(path.resolve()))
        node = nodes.literal_block(text, text, language="toml")
        self.set_source_info(node)
        return [node]


class StepDirective(DerivDirective):
    """``deriv-step STEP``: a section of the worked solution, each line as display math (only that section
    is built)."""

    def build(self, values):
        from .solution import section, section_keys

        key = self.argument(section_keys(values), "step")
        ws = _worksheet(self.env)
        return [_math_block(self, line.tex_aligned(ws)) for line in section(values, key).lines]


class GradientDirective(DerivDirective):
    """``deriv-gradient WEIGHT``: its path sum with numbers (``:show: sum``), its paths, its closed forms."""

    option_spec = {**DerivDirective.option_spec, "show": directives.unchanged}

    def build(self, values):
        from .solution import Notation, gradient_section

        name = self.argument(what="weight (like w_b21)")
        try:
            w = values.derivation.weight(name)
        except ProblemError as err:
            raise DerivError(err.expected, "key") from None
        show = self.option_choice("show", SHOW, "sum")
        section = gradient_section(Notation(values), values, w, detail=show in ("closed", "expanded", "all"))
        ws = _worksheet(self.env)
        key = w.key(values.derivation.symbols.wide)
        wanted = {"sum": {key}, "paths": {"path"}, "closed": {"formula"}, "expanded": {"expanded"}, "all": None}[show]
        lines = [ln for ln in section.lines
                 if wanted is None or ln.label in wanted or (show == "sum" and ln.label.startswith(key + "@"))]
        return [_math_block(self, line.tex_aligned(ws)) for line in lines]


class DescentDirective(DerivDirective):
    """``deriv-descent``: one gradient-descent step, ``w − η ∂ℒ/∂w`` for each parameter (``:params:`` keys
    separated by spaces, default every weight), ``:lr:`` the learning rate (default 0.5); blank on a worksheet."""

    option_spec = {**DerivDirective.option_spec, "lr": directives.unchanged, "params": directives.unchanged}

    def build(self, values):
        from .solution import descent_section

        self.no_argument()
        lr = self.option_lr()
        names = self.options.get("params", "").split() or None
        if names is not None and len(names) > MAX_PARAMS:
            raise DerivError(f"{self.name}: :params: expected at most {MAX_PARAMS} parameters, got {len(names)}", "option")
        try:
            section = descent_section(values, lr, names)
        except ProblemError as err:
            raise DerivError(f"{self.name}: :params: {err.expected}", "key") from None
        ws = _worksheet(self.env)
        return [_math_block(self, line.tex_aligned(ws)) for line in section.lines]


class GradientTableDirective(DerivDirective):
    """``deriv-gradients``: every parameter's gradient, one row each: closed form in the layers' quantities,
    the handout's bracket, and the value (blank on a worksheet)."""

    def build(self, values):
        from .printing import tex

        self.no_argument()
        d = values.derivation
        tex_names = d.symbols.tex
        ws = _worksheet(self.env)
        table = nodes.table(classes=["derivations-gradients"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (12, 22, 46, 20):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        row = nodes.row()
        for title in ("parameter", "gradient", "written out", "value"):
            row += nodes.entry("", nodes.paragraph("", title))
        head += row
        body = nodes.tbody()
        group += body
        for w in d.weights():
            weight_tex = tex_names[d.symbols.param(w)]
            index = f"[{w.i + 1},{w.j + 1}]" if w.kind == "weight" else f"[{w.i + 1}]"
            cells = [
                rf"\frac{{\partial \mathcal{{L}}}}{{\partial {weight_tex}}}",
                tex(d.gradient(w), tex_names),
                tex(d.formula(w), tex_names),
                BLANK if ws else inline_tex(values, f"grad.{w.matrix}{index}", "both"),
            ]
            row = nodes.row()
            for cell in cells:
                row += nodes.entry("", nodes.paragraph("", "", nodes.math(cell, cell)))
            body += row
        self.set_source_info(table)
        return [table]


class HandoutDirective(DerivDirective):
    """``deriv-handout``: the paper handout's page for the page's problem, block by block, from
    :func:`derivations.handout.layout`: on a worksheet every blank of the paper (and no derived value, the
    diagrams without labels or tooltips, no answer), on the solution the same places filled in and the
    key-insight answer in a dropdown."""

    def build(self, values):
        from .figures import network_svg
        from .handout import Display, Figure, Heading, Prose, layout, to_latex

        self.no_argument()
        ws = _worksheet(self.env)
        path = problem_path(self.env, self.options.get("problem"))
        page = layout(values, data=None if path == HANDOUT else path.read_bytes())
        out = []
        for block in page.blocks:
            if isinstance(block, Heading):
                out.append(nodes.rubric("", block.text, classes=["derivations-heading"]))
            elif isinstance(block, Prose):
                if block.answer and ws:
                    continue
                para = nodes.paragraph()
                for part in block.parts:
                    if isinstance(part, str):  # the paper's wide gaps would collapse in HTML: em spaces
                        para += nodes.Text(part.replace("     ", "\u2003\u2003") if part.strip() == "" else part)
                    elif isinstance(part, tuple):
                        para += nodes.strong("", part[1])
                    else:
                        tex = to_latex(part, ws)
                        para += nodes.math(tex, tex)
                if block.answer:
                    box = nodes.admonition(classes=["dropdown", "derivations-answer"])
                    box += nodes.title("", "Answer")
                    box += para
                    out.append(box)
                else:
                    out.append(para)
            elif isinstance(block, Display):
                out.append(_math_block(self, to_latex(block.math, ws)))
            elif isinstance(block, Figure):
                svg = network_svg(values, block.weight, block.colour, True, 3, answers=not ws)
                node = network_figure(svg=svg)
                self.set_source_info(node)
                out.append(node)
        for node in out:
            self.set_source_info(node)
        return out


class TheoremDirective(DerivDirective):
    """``deriv-theorem NAME``: the statement and assumptions (``:part: statement``), each checked step and
    the verdict (``:part: proof``), or both (the default)."""

    option_spec = {**DerivDirective.option_spec, "part": directives.unchanged}

    def build(self, values):
        from sympy import latex

        from . import theorems as T
        from .printing import claim_tex

        p = values.problem
        proved = {t.key: t for t in T.theorems_for(p)}
        key = self.argument(list(proved) + ["random_breaks", "training_run"], "theorem")
        if key == "random_breaks":
            th = T.random_breaks(p)
        elif key == "training_run":
            th = T.training_run(p)
        else:
            th = proved[key]
        part = self.option_choice("part", PARTS, "all")
        statement = [nodes.paragraph("", th.statement),
                     nodes.paragraph("", "", nodes.strong("", "Assumptions: "), nodes.Text("; ".join(th.assumptions) + "."))]
        if part == "statement":
            return statement
        out = statement if part == "all" else []
        items = nodes.bullet_list()
        for step in th.steps:
            claim = claim_tex(step.claim)
            para = nodes.paragraph("", "", nodes.math(claim, claim), nodes.Text(": "),
                                   nodes.strong("", step.status), nodes.Text(f" ({step.method})"))
            item = nodes.list_item("", para)
            small = step.expression != 0 and len(str(step.expression)) < 300
            if step.counterexample:  # the value the claim said was 0
                tex = rf"\text{{there: }} \approx {float(step.result):.6g}"
                item += _math_block(self, tex)
            elif small:
                tex = rf"{latex(step.expression)} \;\longrightarrow\; {latex(step.result)}"
                item += _math_block(self, tex)
            items += item
        out.append(items)
        for note in th.notes:
            out.append(nodes.paragraph("", note))
        verdict = {T.PROVED: "proved by SymPy (a symbolic identity)",
                   T.NUMERIC: "checked numerically (not a proof)",
                   T.REFUTED: "refuted: a counterexample at an exact point shows the claim false"}.get(th.verdict, th.verdict)
        out.append(nodes.paragraph("", "", nodes.strong("", f"Verdict: {verdict}"),
                                   nodes.Text(f" ({len(th.steps)} step{'s' if len(th.steps) != 1 else ''} checked).")))
        return out


class NetworkDirective(DerivDirective):
    """``deriv-network [PARAMETER]``: the network as inline SVG, the parameter's gradient paths in colour (no
    derived value on a worksheet: no labels, no tooltips)."""

    option_spec = {**DerivDirective.option_spec, "colour": directives.unchanged, "labels": directives.flag,
                   "no-labels": directives.flag, "digits": directives.unchanged}

    def build(self, values):
        from .figures import colour_value, network_svg

        weight = self.arguments[0].strip() if self.arguments else None
        if weight:
            try:
                weight = values.derivation.weight(weight)
            except ProblemError as err:
                raise DerivError(err.expected, "key") from None
        colour = self.colour()
        digits = self.option_int("digits", 3, 1, MAX_DIGITS)
        ws = _worksheet(self.env)
        svg = network_svg(values, weight, colour, "no-labels" not in self.options, digits, answers=not ws)
        node = network_figure(svg=svg)
        self.set_source_info(node)
        return [node]

    def colour(self) -> str:
        """``:colour:``, checked by :func:`figures.colour_value` (a palette name or a strict hex colour), so
        nothing else reaches the SVG; a wrong one is a located warning."""
        from .figures import colour_value

        text = self.options.get("colour", "red").strip()
        try:
            colour_value(text)
        except ValueError as err:
            hint = " (a # starts a comment in MyST options: quote a hex colour, \"#1f77b4\")" if not text else ""
            raise DerivError(f"{self.name}: :colour: {err}{hint}", "option") from None
        return text


class network_figure(nodes.General, nodes.Element):
    """A path diagram: inline SVG in HTML, a PDF (converted by Typst) in LaTeX, as ``sphinx.ext.graphviz`` does."""


def visit_network_html(self, node):
    self.body.append(f'<div class="derivations-figure">{node["svg"]}</div>')
    raise nodes.SkipNode


def visit_network_latex(self, node):
    import hashlib

    from .pdf import svg_to_pdf

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
        from .handout import problem_id

        self.no_argument()
        path = problem_path(self.env, self.options.get("problem"))
        data = None if path == HANDOUT else path.read_bytes()
        node = pdf_links(path=str(path), problem_id=problem_id(values.problem, data),
                         worksheet=_worksheet(self.env))
        self.set_source_info(node)
        return [node]


_PDFS = {"worksheet": "worksheet.pdf", "key": "answer-key.pdf"}


def _pdf_dir(node) -> str:
    return f"_pdf/{node['problem_id']}"


def collect_pdfs(app, doctree, docname):
    """Note each page's PDFs (in the main process: doctrees are resolved there, also with ``-j``)."""
    wanted = getattr(app, "_derivations_pdfs", None)
    if wanted is None:
        wanted = app._derivations_pdfs = {}
    for node in doctree.findall(pdf_links):
        wanted[_pdf_dir(node)] = (node["path"], node["worksheet"])
        depth = docname.count("/")
        node["base"] = "../" * depth + _pdf_dir(node) + "/"


def visit_pdf_links_html(self, node):
    import html

    base = node.get("base", _pdf_dir(node) + "/")
    links = [("worksheet (PDF)", base + _PDFS["worksheet"])]
    if not node["worksheet"]:
        links.append(("answer key (PDF)", base + _PDFS["key"]))
    items = " · ".join(f'<a class="reference download" href="{html.escape(href)}">{html.escape(text)}</a>'
                       for text, href in links)
    self.body.append(f'<p class="derivations-pdfs">Print: {items} '
                     f'<span class="derivations-problem-id">(problem {html.escape(node["problem_id"])})</span></p>')
    raise nodes.SkipNode


def write_pdfs(app, exception):
    """Typeset the noted PDFs into the HTML output."""
    if exception is not None or app.builder.format != "html":
        return
    from .pdf import render_pdf
    from .values import evaluate

    for folder, (path, worksheet) in sorted(getattr(app, "_derivations_pdfs", {}).items()):
        path = Path(path)
        try:
            values = evaluate(load_problem(None if path == HANDOUT else path))
        except ProblemError as err:
            logger.warning(f"derivations: {err}", type="derivations", subtype="problem")
            continue
        data = None if path == HANDOUT else path.read_bytes()
        out = Path(app.builder.outdir) / folder
        out.mkdir(parents=True, exist_ok=True)
        (out / _PDFS["worksheet"]).write_bytes(render_pdf(values, worksheet=True, data=data))
        if not worksheet:
            (out / _PDFS["key"]).write_bytes(render_pdf(values, worksheet=False, data=data))


class TrainingDirective(DerivDirective):
    """``deriv-training``: the problem's initialization against a seeded random one, trained with the engine's
    gradients, plotted at build time; ``:data: xor`` trains on the demonstration data set (shown below the
    figure) instead of the problem's own samples. The caption states both final losses (checked numerically,
    not proved)."""

    option_spec = {**DerivDirective.option_spec, "steps": directives.unchanged, "lr": directives.unchanged,
                   "seed": directives.unchanged, "data": directives.unchanged, "data-seed": directives.unchanged}

    def build(self, values):
        from .figures import training_svg
        from .theorems import symmetric
        from .training import MAX_STEPS, training_curves, xor_problem

        self.no_argument()
        lr = self.option_lr()
        steps = self.option_int("steps", 300, 1, MAX_STEPS)
        seed = self.option_int("seed", 1, 0, MAX_SEED)
        data = self.option_choice("data", ("problem", "xor"), "problem")
        data_seed = self.option_int("data-seed", 7, 0, MAX_SEED)
        problem = values.problem
        if data == "xor":
            if problem.n_in != 3 or problem.n_out != 2:
                raise DerivError("deriv-training: :data: the xor data set needs 3 inputs and 2 outputs", "option")
            problem = xor_problem(data_seed, base=problem)
        curves = training_curves(problem, steps, float(lr), seed)
        constant = symmetric(problem)
        left = "constant init" if constant else "the problem's init (not constant)"
        svg = training_svg(curves, left)
        spread_c, spread_r = max(curves["constant"]["spread"]), curves["random"]["spread"][-1]
        final_c, final_r = curves["constant"]["loss"][-1], curves["random"]["loss"][-1]
        data = f"the {problem.n_samples} samples below" if problem.n_samples > 1 else "the problem's one sample"
        first = (f"Constant init (left): the hidden units' weights stay on one curve (largest spread across units: "
                 f"{spread_c:g}) and the loss stalls at {final_c:.4g}." if constant else
                 f"The problem's init (left): largest spread across hidden units {spread_c:.3g}, final loss {final_c:.4g}.")
        random_note = "" if curves["random_found"] else " (every draw tried had a dead unit)"
        caption = (f"{steps} gradient-descent steps, learning rate {float(lr):g}, on {data} (a numeric run, not a proof). "
                   f"{first} Random init (right, seed {curves['seed']}{random_note}): they separate (spread after the last "
                   f"step: {spread_r:.3g}) and the loss falls to {final_r:.4g}.")
        out = [nodes.raw("", f'<div class="derivations-figure">{svg}</div>', format="html"),
               nodes.paragraph("", caption, classes=["caption"])]
        if problem.n_samples > 1:
            out.append(self._data_table(problem))
        return out

    def _data_table(self, problem):
        from .printing import decimal_text

        table = nodes.table(classes=["derivations-data"])
        group = nodes.tgroup(cols=problem.n_in + problem.n_out + 1)
        table += group
        for _ in range(problem.n_in + problem.n_out + 1):
            group += nodes.colspec(colwidth=10)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        row = nodes.row()
        for title in ["sample"] + [f"x_{j + 1}" for j in range(problem.n_in)] + [f"y_{i + 1}" for i in range(problem.n_out)]:
            row += nodes.entry("", nodes.paragraph("", title))
        head += row
        for k, (x, y) in enumerate(zip(problem.xs, problem.ys)):
            row = nodes.row()
            for cell in [str(k + 1)] + [decimal_text(v) or str(v) for v in (*x, *y)]:
                row += nodes.entry("", nodes.paragraph("", cell))
            body += row
        self.set_source_info(table)
        return table


def setup(app):
    app.add_config_value("derivations_worksheet", False, "env", types=(bool, int),
                         description="leave the derived numbers blank (a worksheet for students)")
    app.add_config_value("derivations_problem", "", "env", types=(str,),
                         description="the default problem file, relative to the docs source; empty: the handout")
    app.add_role("deriv", DerivRole())
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
    app.connect("doctree-resolved", collect_pdfs)
    app.connect("build-finished", write_pdfs)
    # No state in the environment: derivations are cached per process, keyed by the file's version, and
    # the TOML dependency is noted with env.note_dependency, which Sphinx itself purges and merges.
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}

