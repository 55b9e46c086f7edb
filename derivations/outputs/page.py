r"""A page written out, block by block: one visitor, a subclass per output.

:class:`PageWriter` walks a :class:`derivations.teaching.page.Page`, either view: the worked solution's
sections and closing insight, or the students' page's headings, prose, displays and figures (as the key, or
as the worksheet). :class:`TextPage`, :class:`MarkdownPage` and :class:`LatexPage` write it as text, Markdown
and a LaTeX document (:data:`WRITERS`; the others: :mod:`derivations.outputs.pdf`, the self-check page of
:mod:`derivations.outputs.selfcheck`, Moodle's question in :mod:`derivations.cli.moodle`, and the front ends'
nodes in :mod:`derivations.sphinx.extension` and :mod:`derivations.cli.myst`).

>>> from derivations import evaluate, load_problem
>>> from derivations.teaching.solution import worked_solution
>>> print(render(worked_solution(evaluate(load_problem())), "text").splitlines()[3])
Setup
"""

from __future__ import annotations

import re

from ..notation.printing import prose_parts
from ..notation.tree_printing import latex_escape, to_latex, to_text
from ..teaching.page import SOLUTION, Display, Figure, Heading, Insight, Page, Prose, Section

# -- the visitor --------------------------------------------------


class PageWriter:
    """One output of a page, block by block, as Sphinx's translators visit a doctree: :meth:`write` calls a
    method per block type in the page's order (``visit_section``, ``visit_insight``; ``visit_heading``,
    ``visit_prose``, ``visit_display``, ``visit_figure``) and :meth:`answer` for the key insight's answer (on a
    worksheet, :meth:`answer_space`: room to write). The subclasses are the page's outputs: text, Markdown and
    LaTeX here, Typst (:mod:`derivations.outputs.pdf`), the front ends' nodes (:mod:`derivations.sphinx.extension`,
    :mod:`derivations.cli.myst`), the self-check page (:mod:`derivations.outputs.selfcheck`) and the Moodle
    question (:mod:`derivations.cli.moodle`).

    >>> from derivations import evaluate, load_problem
    >>> from derivations.teaching.handout import layout
    >>> print(TextPage(worksheet=True).write(layout(evaluate(load_problem()))).splitlines()[2])
    Worksheet · problem d75c80fe · 3-4-2 network, ReLU hidden units, MSE loss · handout
    """

    def __init__(self, worksheet: bool):
        self.worksheet = worksheet
        self.out: list = []

    def write(self, page: Page):
        self.page = page
        self.start(page)
        for block in page.blocks:
            if isinstance(block, Prose) and block.answer:
                (self.answer_space if self.worksheet else self.answer)(block)
            else:
                getattr(self, "visit_" + type(block).__name__.lower())(block)
        return self.finish(page)

    def start(self, page: Page) -> None:
        pass

    def finish(self, page: Page):
        return self.out

    def visit_section(self, block: Section) -> None:
        pass

    def visit_insight(self, block: Insight) -> None:
        pass

    def visit_heading(self, block: Heading) -> None:
        pass

    def visit_prose(self, block: Prose) -> None:
        pass

    def visit_display(self, block: Display) -> None:
        pass

    def visit_figure(self, block: Figure) -> None:
        pass

    def answer(self, block: Prose) -> None:
        self.visit_prose(block)

    def answer_space(self, block: Prose) -> None:
        pass

    def kind(self) -> str:
        return "Worksheet" if self.worksheet else "Answer key"

    def header(self, page: Page) -> str:
        return f"{self.kind()} · problem {page.problem_id} · {page.description} · {page.source}"

    def prose(self, block: Prose, math, bold, text) -> str:
        """A paragraph's parts joined: text through ``text``, bold through ``bold``, math trees through ``math``."""
        out = []
        for part in block.parts:
            if isinstance(part, str):
                out.append(text(part))
            elif isinstance(part, tuple):
                out.append(bold(text(part[1])))
            else:
                out.append(math(part))
        return "".join(out)


MAX_LINE = 200  # a formula line longer than this (a wide network's sums) is broken, ...
WRAP_AT = 120  # ... into lines of about this many characters


def wrap_formula(line: str) -> list[str]:
    """A formula line as a terminal reads it: one line when it is at most :data:`MAX_LINE` characters, else
    broken before its ``+``, ``−`` and ``=`` signs (outside brackets first), each continuation indented.

    >>> wrap_formula("  ∇O_1 = 0.25·(−0.5) + (−0.25)·0.5 = −0.25")
    ['  ∇O_1 = 0.25·(−0.5) + (−0.25)·0.5 = −0.25']
    >>> lines = wrap_formula("  ∇L_1 = " + " + ".join(["∇O_1·w^b_1,1"] * 60))
    >>> len(lines), max(len(line) for line in lines)
    (9, 111)
    """
    if len(line) <= MAX_LINE:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    pieces = re.split(r"(?= [+−=] )", line)
    out, current = [], pieces[0]
    for piece in pieces[1:]:
        if len(current) + len(piece) > WRAP_AT and current.strip():
            out.append(current)
            current = indent + piece.lstrip()
        else:
            current += piece
    out.append(current)
    return out


class TextPage(PageWriter):
    """The page as plain text (a terminal's width of formula per line); blanks are ``____``."""

    def start(self, page):
        self.out += [page.title, "=" * len(page.title)]
        if page.view != SOLUTION:
            self.out += [self.header(page), ""]

    def finish(self, page):
        text = "\n".join(self.out)
        return (text if page.view == SOLUTION else text.rstrip()) + "\n"

    def visit_section(self, sec):
        self.out += ["", sec.title.text]
        if sec.intro:
            self.out.append("  " + sec.intro)
        for line in sec.lines:
            self.out += wrap_formula("  " + line.text(self.worksheet))

    def visit_insight(self, b):
        title, *lines = b.lines
        self.out += ["", title, "-" * len(title)] + ["  " + line for line in lines]

    def visit_heading(self, b):
        self.out += [b.text, "-" * len(b.text)]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: to_text(t, self.worksheet), lambda s: s, lambda s: s), ""]

    def answer_space(self, b):
        self.out += ["Answer: " + "_" * 60, ""]

    def visit_display(self, b):
        self.out += ["    " + to_text(b.math, self.worksheet), ""]

    def visit_figure(self, b):
        self.out += [f"[figure: the network with the {b.caption} of {b.weight}]" if b.weight else f"[figure: {b.caption}]", ""]


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#+!|$~])", r"\\\1", text)


def _md_bold(text: str) -> str:
    """``**text**`` with any trailing space outside, where CommonMark needs it."""
    stripped = text.rstrip()
    return f"**{stripped}**{text[len(stripped):]}" if stripped else text


class MarkdownPage(PageWriter):
    """The page as Markdown with ``$...$`` math and ``$$`` displays (MyST, MathJax and most Markdown renderers
    read it)."""

    def start(self, page):
        if page.view == SOLUTION:  # the solution's title is the problem's own description
            self.out += [f"# {page.title}"]
        else:
            self.out += [f"# {_md_escape(page.title)}", "", f"*{_md_escape(self.header(page))}*", ""]

    def finish(self, page):
        return "\n".join(self.out).rstrip() + "\n"

    def visit_section(self, sec):
        self.out += ["", f"## {sec.heading(lambda m: f'${m}$', lambda t: t)}", ""]
        if sec.intro:
            self.out += [sec.intro, ""]
        for line in sec.lines:
            self.out += ["$$", line.tex_aligned(self.worksheet), "$$", ""] if not line.prose else [f"${line.tex()}$", ""]

    def visit_insight(self, b):
        title, *lines = b.lines
        self.out += ["", f"## {title}", ""] + [f"- {line.strip()}" if line.startswith("  ") else line for line in lines]

    def visit_heading(self, b):
        self.out += [f"{'#' * (b.level + 1)} {_md_escape(b.text)}", ""]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: f"${to_latex(t, self.worksheet)}$", _md_bold, _md_escape), ""]

    def answer_space(self, b):
        self.out += ["**Answer:** " + r"\_" * 40, ""]

    def visit_display(self, b):
        self.out += ["$$", to_latex(b.math, self.worksheet), "$$", ""]

    def visit_figure(self, b):
        what = f"the {_md_escape(b.caption)} of {_md_escape(b.weight)}" if b.weight else _md_escape(b.caption)
        self.out += [f"*(figure: {what})*", ""]


def prose_tex(text: str) -> str:
    r"""Prose for LaTeX: its formulas (``∂ℒ/∂w^a_ij``, ``W_a``) as math, the rest as escaped text.

    >>> prose_tex("equal ∂ℒ/∂w^a_ij across i & j")
    'equal $\\frac{\\partial\\mathcal{L}}{\\partial w^{a}_{ij}}$ across $i$ \\& $j$'
    """
    return "".join(f"${s}$" if kind == "math" else _escape(s) for kind, s in prose_parts(text))


def _escape(text: str) -> str:
    replace = {"ℒ": r"$\mathcal{L}$", "∂": r"$\partial$", "→": r"$\to$", "Σ": r"$\Sigma$", "−": "-", "≈": r"$\approx$",
               "·": r"$\cdot$", "²": r"$^2$", "∇": r"$\nabla$", "ℓ": r"$\ell$", "η": r"$\eta$", "←": r"$\leftarrow$",
               "≠": r"$\neq$", "ᵀ": r"$^T$", "×": r"$\times$", "_": r"\_", "^": r"\^{}", "&": r"\&", "%": r"\%",
               "#": r"\#", "{": r"\{", "}": r"\}"}
    return "".join(replace.get(c, c) for c in text)


class LatexPage(PageWriter):
    """The page as a LaTeX document (amsmath): the solution a ``gather*`` environment per section, the students'
    page in the paper's margins; blanks are ``\\underline{\\hspace{2cm}}``."""

    def start(self, page):
        if page.view == SOLUTION:
            self.out += [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\usepackage[utf8]{inputenc}",
                         r"\begin{document}", rf"\section*{{{_escape(page.title)}}}"]
            return
        self.out += [r"\documentclass[10pt]{article}", r"\usepackage[margin=1.5cm]{geometry}", r"\usepackage{amsmath,amssymb}",
                     r"\usepackage[utf8]{inputenc}", r"\setlength{\parindent}{0pt}",
                     r"\begin{document}", rf"\section*{{{latex_escape(page.title)}}}", rf"\textit{{{latex_escape(self.header(page))}}}", ""]

    def finish(self, page):
        return "\n".join(self.out + [r"\end{document}"]) + "\n"

    def visit_section(self, sec):
        self.out.append(rf"\subsection*{{{sec.heading(lambda m: f'${m}$', _escape)}}}")
        if sec.intro:
            self.out.append(prose_tex(sec.intro))
        eqs = [line.tex_aligned(self.worksheet) for line in sec.lines]
        if eqs:
            self.out += [r"\begin{gather*}", " \\\\\n".join(eqs), r"\end{gather*}"]

    def visit_insight(self, b):
        items = []
        for line in b.lines[1:]:
            body = line.strip()
            if body.startswith("["):  # "[proved] name: ..." -> a bold verdict, not an \item label
                verdict, _, rest = body[1:].partition("] ")
                items.append(rf"\item \textbf{{{_escape(verdict)}}}: {prose_tex(rest)}")
            else:  # a proof step's "- claim: holds" is an item of its own
                items.append(rf"\item {prose_tex(body[2:] if body.startswith('- ') else body)}")
        self.out += ["", rf"\subsection*{{{prose_tex(b.lines[0])}}}", r"\begin{itemize}"] + items + [r"\end{itemize}"]

    def visit_heading(self, b):
        self.out += [rf"\subsection*{{{latex_escape(b.text)}}}"]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: f"${to_latex(t, self.worksheet)}$", lambda s: rf"\textbf{{{s}}}", latex_escape), ""]

    def answer_space(self, b):
        self.out += [r"\textbf{Answer:} \hrulefill", ""]

    def visit_display(self, b):
        self.out += [r"\[", to_latex(b.math, self.worksheet), r"\]"]

    def visit_figure(self, b):
        what = f"the {b.caption} of {b.weight}" if b.weight else b.caption
        self.out += [rf"\emph{{(figure: {latex_escape(what)})}}", ""]


#: The writers of a page as a document, by format.
WRITERS = {"text": TextPage, "markdown": MarkdownPage, "latex": LatexPage}


def render(page: Page, fmt: str, worksheet: bool = False) -> str:
    """The page as a ``fmt`` document (``text``, ``markdown``, ``latex``): the solution, the key, or with
    ``worksheet`` every answer blank."""
    return WRITERS[fmt](worksheet).write(page)


def render_text(page: Page, worksheet: bool) -> str:
    """The page as plain text; blanks are ``____``."""
    return render(page, "text", worksheet)


def render_markdown(page: Page, worksheet: bool) -> str:
    """The page as Markdown with ``$...$`` math (MyST / MathJax)."""
    return render(page, "markdown", worksheet)


def render_latex(page: Page, worksheet: bool) -> str:
    """The page as a LaTeX document (amsmath); blanks are ``\\underline{\\hspace{2cm}}``."""
    return render(page, "latex", worksheet)
