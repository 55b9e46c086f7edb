r"""The students' page written out, block by block: one visitor, a subclass per output.

:class:`PageWriter` walks a :class:`derivations.teaching.handout.Layout`; :class:`TextPage`,
:class:`MarkdownPage` and :class:`LatexPage` are the page as text, Markdown and a LaTeX document (the others:
:mod:`derivations.outputs.pdf`, :mod:`derivations.outputs.content`, :mod:`derivations.outputs.selfcheck`,
:mod:`derivations.cli.moodle`).
"""

from __future__ import annotations

import re

from ..notation.tree_printing import latex_escape, to_latex, to_text
from ..teaching.page import Display, Figure, Heading, Page, Prose

# -- the visitor --------------------------------------------------


class PageWriter:
    """One output of a page, block by block, as Sphinx's translators visit a doctree: :meth:`write` calls a
    method per block type in the page's order (``heading``, ``prose``, ``display``, ``figure``) and
    :meth:`answer` for the key insight's answer (on a worksheet, :meth:`answer_space`: room to write). The
    subclasses are the page's outputs: text, Markdown and LaTeX here, Typst (:mod:`derivations.outputs.pdf`), the
    front ends' blocks (:mod:`derivations.outputs.content`), the self-check page
    (:mod:`derivations.outputs.selfcheck`) and the Moodle question (:mod:`derivations.cli.moodle`).

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


class TextPage(PageWriter):
    """The page as plain text; blanks are ``____``."""

    def start(self, page):
        self.out += [page.title, "=" * len(page.title), self.header(page), ""]

    def finish(self, page):
        return "\n".join(self.out).rstrip() + "\n"

    def visit_heading(self, b):
        self.out += [b.text, "-" * len(b.text)]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: to_text(t, self.worksheet), lambda s: s, lambda s: s), ""]

    def answer_space(self, b):
        self.out += ["Answer: " + "_" * 60, ""]

    def visit_display(self, b):
        self.out += ["    " + to_text(b.math, self.worksheet), ""]

    def visit_figure(self, b):
        self.out += [f"[figure: the network with the {b.caption} of {b.weight}]", ""]


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#+!|$~])", r"\\\1", text)


def _md_bold(text: str) -> str:
    """``**text**`` with any trailing space outside, where CommonMark needs it."""
    stripped = text.rstrip()
    return f"**{stripped}**{text[len(stripped):]}" if stripped else text


class MarkdownPage(PageWriter):
    """The page as Markdown with ``$...$`` math (MyST / MathJax)."""

    def start(self, page):
        self.out += [f"# {_md_escape(page.title)}", "", f"*{_md_escape(self.header(page))}*", ""]

    def finish(self, page):
        return "\n".join(self.out).rstrip() + "\n"

    def visit_heading(self, b):
        self.out += [f"{'#' * (b.level + 1)} {_md_escape(b.text)}", ""]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: f"${to_latex(t, self.worksheet)}$", _md_bold, _md_escape), ""]

    def answer_space(self, b):
        self.out += ["**Answer:** " + r"\_" * 40, ""]

    def visit_display(self, b):
        self.out += ["$$", to_latex(b.math, self.worksheet), "$$", ""]

    def visit_figure(self, b):
        self.out += [f"*(figure: the {_md_escape(b.caption)} of {_md_escape(b.weight)})*", ""]


class LatexPage(PageWriter):
    """The page as a LaTeX document (amsmath); blanks are ``\\underline{\\hspace{2cm}}``."""

    def start(self, page):
        self.out += [r"\documentclass[10pt]{article}", r"\usepackage[margin=1.5cm]{geometry}", r"\usepackage{amsmath,amssymb}",
                     r"\usepackage[utf8]{inputenc}", r"\setlength{\parindent}{0pt}",
                     r"\begin{document}", rf"\section*{{{latex_escape(page.title)}}}", rf"\textit{{{latex_escape(self.header(page))}}}", ""]

    def finish(self, page):
        return "\n".join(self.out + [r"\end{document}"]) + "\n"

    def visit_heading(self, b):
        self.out += [rf"\subsection*{{{latex_escape(b.text)}}}"]

    def visit_prose(self, b):
        self.out += [self.prose(b, lambda t: f"${to_latex(t, self.worksheet)}$", lambda s: rf"\textbf{{{s}}}", latex_escape), ""]

    def answer_space(self, b):
        self.out += [r"\textbf{Answer:} \hrulefill", ""]

    def visit_display(self, b):
        self.out += [r"\[", to_latex(b.math, self.worksheet), r"\]"]

    def visit_figure(self, b):
        self.out += [rf"\emph{{(figure: the {latex_escape(b.caption)} of {latex_escape(b.weight)})}}", ""]


def render_text(page: Page, worksheet: bool) -> str:
    """The page as plain text; blanks are ``____``."""
    return TextPage(worksheet).write(page)


def render_markdown(page: Page, worksheet: bool) -> str:
    """The page as Markdown with ``$...$`` math (MyST / MathJax)."""
    return MarkdownPage(worksheet).write(page)


def render_latex(page: Page, worksheet: bool) -> str:
    """The page as a LaTeX document (amsmath); blanks are ``\\underline{\\hspace{2cm}}``."""
    return LatexPage(worksheet).write(page)
