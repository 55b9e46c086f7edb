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
- ``deriv-theorem``: ``symmetry``, ``softmax_lemma``, ``dead_first_layer``, ``permanence``, ``random_breaks``.
- ``deriv-network``: the network, or with a weight its gradient paths (``:colour:`` one of ``COLOUR_NAMES``
  or ``#rrggbb`` / ``#rgb``; ``:no-labels:``; ``:digits:`` 1 to 15).
- ``deriv-training``: constant vs random init in training, no argument (``:steps:`` 1 to 2000, ``:lr:`` in
  (0, 10], ``:seed:`` 0 to 10**9).

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
from .solution import BLANK, worked_solution

logger = logging.getLogger(__name__)

STEPS = ("setup", "step1", "step2", "step3", "step4", "step5", "backward", "table")
THEOREMS = ("symmetry", "softmax_lemma", "dead_first_layer", "permanence", "random_breaks")
SHOW = ("sum", "paths", "closed", "expanded", "all")
PARTS = ("all", "statement", "proof")
# :colour: of deriv-network: these names (the figure's own palette, and three neutral ones), or a hex colour.
COLOUR_NAMES = ("red", "blue", "green", "orange", "purple", "grey", "gray", "black")
_NEUTRAL = {"grey": "#7f7f7f", "gray": "#7f7f7f", "black": "#000000"}  # not in figures.COLOURS: given as hex
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# :lr: a short decimal or fraction (2-digit exponent at most): read exactly, then bounded.
_PLAIN_NUMBER = re.compile(r"(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,2})?(?:/[1-9][0-9]{0,19})?")
# Bounds of the numeric options (deriv-training's cost grows with steps: 2000 steps take a few seconds).
MAX_DIGITS, MAX_STEPS, MAX_LR, MAX_SEED = 15, 2000, 10, 10**9

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
    with a leading ``/`` relative to the docs source."""
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
    """``deriv-step STEP``: a section of the worked solution, each line as display math."""

    def build(self, values):
        key = self.argument(STEPS, "step")
        section = worked_solution(values, params=[]).section(key)
        ws = _worksheet(self.env)
        return [_math_block(self, line.tex_aligned(ws)) for line in section.lines]


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
        wanted = {"sum": {w.key(values.derivation.symbols.wide)}, "paths": {"path"}, "closed": {"formula"},
                  "expanded": {"expanded"}, "all": None}[show]
        lines = [ln for ln in section.lines if wanted is None or ln.label in wanted]
        return [_math_block(self, line.tex_aligned(ws)) for line in lines]


class GradientTableDirective(DerivDirective):
    """``deriv-gradients``: every weight's gradient, one row each: closed form in the layers' quantities,
    the handout's bracket, and the value (blank on a worksheet)."""

    def build(self, values):
        from sympy import latex

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
        for title in ("weight", "gradient", "written out", "value"):
            row += nodes.entry("", nodes.paragraph("", title))
        head += row
        body = nodes.tbody()
        group += body
        for w in d.weights():
            weight_tex = tex_names[d.symbols.weight(w.layer, w.i, w.j)]
            cells = [
                rf"\frac{{\partial \mathcal{{L}}}}{{\partial {weight_tex}}}",
                latex(d.gradient(w), symbol_names=tex_names),
                latex(d.formula(w), symbol_names=tex_names),
                BLANK if ws else inline_tex(values, f"grad.{w.key(d.symbols.wide)}", "both"),
            ]
            row = nodes.row()
            for tex in cells:
                row += nodes.entry("", nodes.paragraph("", "", nodes.math(tex, tex)))
            body += row
        self.set_source_info(table)
        return [table]


class TheoremDirective(DerivDirective):
    """``deriv-theorem NAME``: the statement and assumptions (``:part: statement``), each checked step and
    the verdict (``:part: proof``), or both (the default)."""

    option_spec = {**DerivDirective.option_spec, "part": directives.unchanged}

    def build(self, values):
        from sympy import latex

        from . import theorems as T

        key = self.argument(THEOREMS, "theorem")
        p = values.problem
        if key == "random_breaks":
            th = T.random_breaks(p)
        else:
            th = {t.key: t for t in T.theorems_for(p, derivation=values.derivation)}[key]
            if key == "permanence" and T.in_symmetric_set(p):
                th.steps.append(T.permanence_in_numbers(p))
        part = self.option_choice("part", PARTS, "all")
        statement = [nodes.paragraph("", th.statement),
                     nodes.paragraph("", "", nodes.strong("", "Assumptions: "), nodes.Text("; ".join(th.assumptions) + "."))]
        if part == "statement":
            return statement
        out = statement if part == "all" else []
        items = nodes.bullet_list()
        for step in th.steps:
            para = nodes.paragraph("", "", nodes.Text(f"{step.claim}: "),
                                   nodes.strong("", "holds" if step.ok else "NOT PROVED"), nodes.Text(f" ({step.method})"))
            item = nodes.list_item("", para)
            small = step.expression != 0 and len(str(step.expression)) < 300
            if small:
                tex = rf"{latex(step.expression)} \;\longrightarrow\; {latex(step.result)}"
                item += _math_block(self, tex)
            items += item
        out.append(items)
        for note in th.notes:
            out.append(nodes.paragraph("", note))
        verdict = "proved by SymPy" if th.holds else "not proved"
        out.append(nodes.paragraph("", "", nodes.strong("", f"Verdict: {verdict}"),
                                   nodes.Text(f" ({len(th.steps)} step{'s' if len(th.steps) != 1 else ''} checked).")))
        return out


class NetworkDirective(DerivDirective):
    """``deriv-network [WEIGHT]``: the network as inline SVG, the weight's gradient paths in colour."""

    option_spec = {**DerivDirective.option_spec, "colour": directives.unchanged, "labels": directives.flag,
                   "no-labels": directives.flag, "digits": directives.unchanged}

    def build(self, values):
        from .figures import network_svg

        weight = self.arguments[0].strip() if self.arguments else None
        if weight:
            try:
                weight = values.derivation.weight(weight)
            except ProblemError as err:
                raise DerivError(err.expected, "key") from None
        colour = self.colour()
        digits = self.option_int("digits", 3, 1, MAX_DIGITS)
        labels = "no-labels" not in self.options and not _worksheet(self.env)
        svg = network_svg(values, weight, colour, labels, digits)
        return [nodes.raw("", f'<div class="derivations-figure">{svg}</div>', format="html")]

    def colour(self) -> str:
        """``:colour:``, checked: a name of ``COLOUR_NAMES`` or a strict hex colour; nothing else reaches the SVG."""
        text = self.options.get("colour", "red").strip()
        if text.lower() in COLOUR_NAMES:
            return _NEUTRAL.get(text.lower(), text.lower())
        if _HEX_COLOUR.fullmatch(text):
            return text.lower()
        hint = " (a # starts a comment in MyST options: quote a hex colour, \"#1f77b4\")" if not text else ""
        raise DerivError(f"{self.name}: :colour: expected one of {', '.join(COLOUR_NAMES)} or a hex colour "
                         f"#rrggbb or #rgb, got {text[:40]!r}{hint}", "option")


class TrainingDirective(DerivDirective):
    """``deriv-training``: constant vs random initialization in training, plotted at build time."""

    option_spec = {**DerivDirective.option_spec, "steps": directives.unchanged, "lr": directives.unchanged,
                   "seed": directives.unchanged}

    def build(self, values):
        from .figures import training_curves, training_svg
        from .problem import parse_number

        self.no_argument()
        text = self.options.get("lr", "0.5").strip()
        try:
            lr = parse_number(text, ":lr:") if _PLAIN_NUMBER.fullmatch(text) else None  # short: cheap to read exactly
        except ProblemError:
            lr = None
        if lr is None or not 0 < lr <= MAX_LR:
            raise DerivError(f"deriv-training: :lr: expected a number above 0 and at most {MAX_LR}, got {text[:40]!r}", "option")
        steps = self.option_int("steps", 300, 1, MAX_STEPS)
        seed = self.option_int("seed", 1, 0, MAX_SEED)
        curves = training_curves(values.problem, steps, float(lr), seed)
        svg = training_svg(curves)
        spread_c, spread_r = max(curves["constant"]["spread"]), curves["random"]["spread"][-1]
        caption = (f"{steps} gradient-descent steps, learning rate {float(lr):g}. Constant init: the hidden units' "
                   f"weights lie on one curve (largest spread across units: {spread_c:g}). Random init: "
                   f"they separate (spread after the last step: {spread_r:.3g}).")
        return [nodes.raw("", f'<div class="derivations-figure">{svg}</div>', format="html"),
                nodes.paragraph("", caption, classes=["caption"])]


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
    app.add_directive("deriv-theorem", TheoremDirective)
    app.add_directive("deriv-network", NetworkDirective)
    app.add_directive("deriv-training", TrainingDirective)
    # No state in the environment: derivations are cached per process, keyed by the file's version, and
    # the TOML dependency is noted with env.note_dependency, which Sphinx itself purges and merges.
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}

