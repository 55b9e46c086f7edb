"""The handout's layout as a printable PDF (worksheet or answer key), typeset by Typst.

Typst installs with pip, brings its own fonts and compiles offline in a fraction of a second. Every piece of
text reaches the Typst source as a string literal (:func:`~derivations.notation.tree_printing.typst_string`); numbers are checked to be
numbers by the math printer. The figures are the site's (:func:`circuit_figure.figure_svg`: the path diagrams, a
graph's circuit); a worksheet's carry no derived value (no edge labels, no tooltips, empty boxes on a circuit).
``values`` is a network's :class:`~derivations.engine.values.Values` or a graph's
:class:`~derivations.engine.graph.Graph` (:func:`~derivations.engine.graph.evaluate_any` gives either).

>>> from derivations import evaluate, load_problem
>>> pdf = render_pdf(evaluate(load_problem()), worksheet=True)
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..engine.errors import ProblemError
from ..notation.tree_printing import to_typst, typst_string
from ..teaching.handout import layout
from ..teaching.page import Figure, Page, Prose
from .circuit_figure import figure_svg
from .page import PageWriter

PAPERS = {"a4": "a4", "letter": "us-letter"}
ANSWER_COLOUR = "#1a4fa0"

PREAMBLE = """\
#set document(title: {title}{date})
#set page(paper: {paper}, margin: (x: 1.5cm, top: 1.1cm, bottom: 1.3cm),
  footer: context [#set text(size: 8pt, fill: rgb("#555555")); #{footer} #h(1fr) #counter(page).display("1 / 1", both: true)])
#set text(font: "New Computer Modern", size: 10pt, lang: "en")
#set par(justify: false, leading: 0.5em, spacing: 0.75em)
#show heading.where(level: 1): set text(size: 15pt)
#show heading.where(level: 2): set text(size: 12pt)
#show heading: set block(above: 0.9em, below: 0.55em)
#show math.equation.where(block: true): set block(above: 0.6em, below: 0.6em)
#let blank(wide: false) = box(width: if wide {{ 4cm }} else {{ 2cm }}, height: 1.1em, stroke: (bottom: 0.5pt + black))
#set math.vec(gap: 0.45em)
#let ans(body) = text(fill: rgb("{answer}"), body)
// A display wider than the text column is scaled down to fit: never an overfull line.
#let fit(body) = layout(size => {{
  let w = measure(body).width
  if w > size.width {{ scale(x: size.width / w * 100%, y: size.width / w * 100%, reflow: true, body) }} else {{ body }}
}})
"""


def typst_source(page: Page, worksheet: bool, paper: str = "a4", figures: dict | None = None) -> str:
    """The Typst document of a layout; ``figures`` maps a weight to its SVG file name.

    >>> from derivations import evaluate, load_problem
    >>> src = typst_source(layout(evaluate(load_problem())), worksheet=True)
    >>> "#blank()" in src, "0.0375" in src
    (True, False)
    """
    if paper not in PAPERS:
        raise ProblemError("paper", f"expected one of {', '.join(PAPERS)}, got {paper!r}")
    return TypstPage(worksheet, paper, figures or {}).write(page)


class TypstPage(PageWriter):
    """The page as a Typst document. A path's title, diagram, derivatives and equation are kept on one page
    (one unbreakable block from the diagram's title to its equation), and so are the closing question and its
    answer box."""

    def __init__(self, worksheet: bool, paper: str, figures: dict):
        super().__init__(worksheet)
        self.paper, self.figures = paper, figures
        self.group = None  # the path being gathered: its title, diagram, derivatives, then its equation

    def start(self, page):
        kind = self.kind()
        footer = typst_string(f"Problem {page.problem_id} · {kind}")
        date = "" if source_date() is not None else ", date: none"  # no date unless SOURCE_DATE_EPOCH gives one
        self.out.append(PREAMBLE.format(title=typst_string(f"{page.title}: {kind.lower()}"), date=date,
                                        paper=typst_string(PAPERS[self.paper]), footer=footer, answer=ANSWER_COLOUR))
        self.out.append(f"#grid(columns: (1fr, auto), align: (left + bottom, right + bottom),"
                        f" heading(level: 1, {typst_string(page.title)}),"
                        f" text(size: 9pt)[#strong({typst_string(kind)}) · problem #raw({typst_string(page.problem_id)})])")
        self.out.append(f"#text(size: 8.5pt, fill: rgb(\"#555555\"))[#{typst_string(page.description + ' · ' + page.source)}]")
        if self.worksheet:
            self.out.append("#text(size: 8.5pt)[#" + typst_string("Fill in every blank. ") + "]")
        else:
            self.out.append("#text(size: 8.5pt)[#" + typst_string("Answers in ") + "#ans(" + typst_string("blue") + ")#"
                            + typst_string(": every number derived exactly by SymPy.") + "]")

    def finish(self, page):
        if self.group:
            self.out.append("#block(width: 100%, breakable: false)[" + "\n\n".join(self.group) + "]")
        return "\n\n".join(self.out) + "\n"

    def _add(self, text: str, closes: bool = False) -> None:
        if self.group is None:
            self.out.append(text)
            return
        self.group.append(text)
        if closes:
            self.out.append("#block(width: 100%, breakable: false)[" + "\n\n".join(self.group) + "]")
            self.group = None

    def visit_heading(self, b):
        self._add(f"#heading(level: {b.level}, {typst_string(b.text)})")

    def visit_prose(self, b):
        self._add(_prose(b, self.worksheet))

    def visit_display(self, b):
        self._add(f"#fit($ {to_typst(b.math, self.worksheet).strip()} $)", closes=True)

    def visit_figure(self, b):
        if not self.figures.get(b.weight):
            return
        # the key's edge labels need the room; US Letter is 18 mm shorter than A4: its key's diagrams a little smaller
        width = 48 if self.worksheet else 70 if self.paper == "a4" else 55
        self.group = [self.out.pop()] if self.out else []
        self.group.append(f"#align(center, image({typst_string(self.figures[b.weight])}, width: {width}%, "
                          f"alt: {typst_string(b.caption)}))")

    def answer_space(self, b):  # room to write, on the question's page
        lines = "#v(1.5em) #line(length: 100%, stroke: 0.4pt + gray) " * 3
        self.out[-1] = f"#block(width: 100%, breakable: false)[{self.out[-1]}\n\n{lines}]"

    def answer(self, b):  # the key's answer, on the question's page
        box = (f"#block(inset: 6pt, stroke: 0.6pt + rgb(\"{ANSWER_COLOUR}\"), radius: 3pt)"
               f"[#ans[{_prose(b, self.worksheet)}]]")
        self.out[-1] = f"#block(width: 100%, breakable: false)[{self.out[-1]}\n\n{box}]"


def _prose(block: Prose, worksheet: bool) -> str:
    parts = []
    for part in block.parts:
        if isinstance(part, str):
            parts.append("#" + typst_string(part))
        elif isinstance(part, tuple):
            parts.append("#strong(" + typst_string(part[1]) + ")")
        else:
            parts.append("$" + to_typst(part, worksheet).strip() + "$")
    return "".join(parts)


def _figures(values, page: Page, worksheet: bool) -> dict:
    """Each diagram of the layout as SVG text, from the site's generator (no values on a worksheet)."""
    out = {}
    for block in page.blocks:
        if isinstance(block, Figure):
            svg = figure_svg(values, block, answers=not worksheet, labels=not worksheet)
            out[block.weight] = svg
    return out


def render_pdf(values, worksheet: bool = False, paper: str = "a4", data: bytes | None = None,
               digits: int = 4) -> bytes:
    """The worksheet (``worksheet=True``) or the answer key of ``values``' problem, as PDF bytes.

    ``data``: the problem file's bytes, for the identifier printed on the page."""
    import typst

    page = layout(values, digits=digits, data=data)
    svgs = _figures(values, page, worksheet)
    with tempfile.TemporaryDirectory(prefix="derivations-pdf-") as tmp:
        root = Path(tmp)
        names = {}
        for k, (weight, svg) in enumerate(svgs.items()):
            names[weight] = f"figure-{k + 1}.svg"
            (root / names[weight]).write_text(svg, encoding="utf-8")
        main = root / "main.typ"
        main.write_text(typst_source(page, worksheet, paper, names), encoding="utf-8")
        try:
            return compile_typst(main)
        except typst.TypstError as err:  # a bug here, not the user's: say so in one line
            raise RuntimeError(f"typst could not compile the handout: {str(err).splitlines()[0]}") from None


def svg_to_pdf(svg: str) -> bytes:
    """One SVG figure as a one-page PDF of its own size (for Sphinx's LaTeX builder)."""
    with tempfile.TemporaryDirectory(prefix="derivations-svg-") as tmp:
        root = Path(tmp)
        (root / "figure.svg").write_text(svg, encoding="utf-8")
        date = "" if source_date() is not None else "#set document(date: none)\n"
        (root / "main.typ").write_text(date + '#set page(width: auto, height: auto, margin: 0pt)\n#image("figure.svg", width: 16cm)\n',
                                       encoding="utf-8")
        return compile_typst(root / "main.typ")


def source_date() -> int | None:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org): the PDFs' date, in seconds since 1970; ``None`` when
    unset (the PDFs then carry no date at all). A malformed value is refused, as the convention asks."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise ProblemError("SOURCE_DATE_EPOCH", f"expected a whole number of seconds since 1970, got {text[:40]!r}")
    return int(text)


# Typst writes /Suspects false into /MarkInfo, which poppler misreads ("Syntax Error: Suspects object is wrong
# type (boolean)"); false is the default, so the entry is blanked out, byte for byte (the xref offsets stay).
_SUSPECTS = re.compile(rb"(/MarkInfo\s*<<[^>]*?)(/Suspects\s*false)")


def compile_typst(main: Path) -> bytes:
    """PDF bytes of the Typst file ``main`` (its folder the root): byte-identical for the same source (no date
    but ``SOURCE_DATE_EPOCH``'s; Typst derives the ``/ID`` from the content)."""
    import typst

    pdf = typst.compile(str(main), root=str(main.parent), ignore_system_fonts=True, timestamp=source_date())
    return _SUSPECTS.sub(lambda m: m[1] + b" " * len(m[2]), pdf, count=1)
