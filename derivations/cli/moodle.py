r"""The variants as a Moodle quiz: one Moodle XML file, one *cloze* question per variant.

``python -m derivations.variants ROSTER --out DIR --seed S --moodle`` writes ``DIR/moodle.xml``: a category
named after the exercise, then one cloze (*Embedded answers*) question per student, named
``<exercise> · <id> · variant <variant id>``. A question's text is the worksheet page in HTML, its formulas
as TeX between ``\( \)`` and ``\[ \]`` for Moodle's MathJax filter; each blank of the page is a numbered box
in the formula (a field cannot sit inside a typeset formula) and a ``{1:NUMERICAL:=value:tol}`` field, with
that number, below it. The figures are SVG files inside the question (``@@PLUGINFILE@@``). The answer key
(the page with every blank filled, and the key insight's answer) is the general feedback, shown after the
attempt.

**Layout.** Moodle sizes a field by its longest answer (plus up to 15%, at random): a ``0`` would get a box one
character wide beside boxes of ten. Every field of a question gets a 0% alternative of the same value written
to the question's longest length (``{1:NUMERICAL:=0:0~%0%0.000000:0}``), never reached (the right answer comes
first), so every box of a question has one width (:func:`field`). A display wider than Moodle's content column
(estimated from the page's tree, :func:`em_width`) is set smaller, down to ``\Tiny`` (60%), and scrolls in
its own box past that.

**Tolerances**, the marking's precision rule (:mod:`derivations.teaching.marking`, stated in the question's
text): every field accepts the exact value and that value rounded to 4 significant digits. Its answer is the
value (a short exact decimal as it is, any other to :data:`STORED` significant digits, far inside the
tolerance: a field takes no fraction) with the checker's relative tolerance for that blank (1/1000, or
narrower where a slip lies closer, never below 1/2000, which 4 significant digits always meet), written as
Moodle's absolute tolerance: the relative one times the value. A Moodle field compares numbers, not digits:
an answer with fewer digits that lies within the tolerance passes there, where the checker says *too few
digits*.

>>> from derivations import evaluate, load_problem
>>> fields = blank_answers(evaluate(load_problem()))
>>> len(fields), fields[0], fields[-5]
(51, ('forward.H[1]', '0.15', '0.00015'), ('grad.w_b21', '0.0375', '0.0000375'))
"""

from __future__ import annotations

import base64
import html
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from ..engine.graph import Graph, evaluate_any, load_any
from ..notation.printing import decimal_text
from ..notation import tree as T
from ..notation.tree import Slot
from ..notation.tree_printing import LatexMath, to_latex
from ..outputs.circuit_figure import figure_svg
from ..outputs.files import write_atomic
from ..outputs.page import PageWriter
from ..teaching.check import REL_TOL, Checker, numeric
from ..teaching.closed import without_formulas
from ..teaching.handout import PRECISION, TITLE, layout, problem_id
from ..teaching.page import Figure, Prose

SIGNIFICANT = 12  # digits of an exact short decimal stored as it is
STORED = 7  # digits of any other field's answer: 5e-7 relative at most, far inside its tolerance (1/2000 at least)


# -- the answers -------------------------------------------------------------------------------------------------


def _plain(value, digits: int = SIGNIFICANT) -> str:
    """A decimal in positional notation (no exponent), ``digits`` significant digits, trailing zeros dropped."""
    from mpmath import mp, mpf, nstr

    with mp.workdps(60):
        text = nstr(mpf(str(value)), digits, strip_zeros=True, min_fixed=-100, max_fixed=100)
    d = Decimal(text)
    out = format(d, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def answer(value, tolerance) -> tuple:
    """``(answer text, absolute tolerance text)`` of one field: the value, and ``tolerance`` (the checker's
    relative tolerance for the blank; ``None``: :data:`REL_TOL`) times it.

    >>> from sympy import Rational
    >>> answer(Rational(-3, 80), None), answer(Rational(1, 3), Rational(1, 2000))
    (('-0.0375', '0.0000375'), ('0.3333333', '0.000166667'))
    """
    from sympy import Rational

    rel = tolerance if tolerance is not None else REL_TOL
    if isinstance(value, Rational):
        text = decimal_text(value)
        if text is None or len(text.lstrip("-").replace(".", "").lstrip("0")) > SIGNIFICANT:
            text = _plain(value, STORED)
    else:
        text = _plain(numeric(value), STORED)
    v = numeric(value)
    return text, _plain(abs(v) * rel, 6)


def blank_answers(values, page=None) -> list:
    """``[(key, answer, tolerance)]``, one per blank of the worksheet (``page``, default the problem's layout),
    in the page's order."""
    page = page or layout(values)
    checker = Checker(values.problem, None if isinstance(values, Graph) else values)
    return [(slot.key, *answer(checker.true[slot.key], checker.tolerance[slot.key])) for slot in page.slots(given=False)]


# -- the question's HTML -----------------------------------------------------------------------------------------


class _Boxes(LatexMath):
    """The worksheet's LaTeX with every blank a numbered box."""

    def __init__(self, start: int):
        super().__init__(worksheet=True)
        self.start, self.slots = start, []

    def _print_Slot(self, node: Slot):
        if node.given:
            return self._print(node.content)
        self.slots.append(node)
        return r"\boxed{\scriptstyle %d}" % (self.start + len(self.slots))


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _math(tex: str, display: bool = False) -> str:
    return (r"\[" + _e(tex) + r"\]") if display else (r"\(" + _e(tex) + r"\)")


def _prose(block: Prose, math) -> str:
    out = []
    for part in block.parts:
        if isinstance(part, str):
            out.append(_e(part))
        elif isinstance(part, tuple):
            out.append(f"<strong>{_e(part[1])}</strong>")
        else:
            out.append(_math(math(part)))
    return "<p>" + "".join(out) + "</p>"


MIN_WIDTH = 8  # characters of a field at the least: -0.03750, a value to 4 significant digits


def field(value: str, tol: str, width: int) -> str:
    """One cloze field, its box ``width`` characters wide: the answer, and a 0% alternative of the same value
    written with trailing zeros to ``width`` (Moodle sizes a box by its longest answer; the right answer,
    first, is the one any typed value within its tolerance matches).

    >>> field("0", "0", 8), field("-0.0375", "0", 8), field("0.333333333333", "0.000333333", 8)
    ('{1:NUMERICAL:=0:0~%0%0.000000:0}', '{1:NUMERICAL:=-0.0375:0~%0%-0.03750:0}', '{1:NUMERICAL:=0.333333333333:0.000333333}')
    """
    if len(value) >= width:
        return f"{{1:NUMERICAL:={value}:{tol}}}"
    padded = value if "." in value else value + "."
    padded += "0" * (width - len(padded))
    return f"{{1:NUMERICAL:={value}:{tol}~%0%{padded}:0}}"


def _fields(slots: list, start: int, answers: list) -> str:
    width = max([MIN_WIDTH] + [len(value) for _, value, _ in answers])  # one width for the question's boxes
    cells = []
    for n, slot in enumerate(slots, start + 1):
        key, value, tol = answers[n - 1]
        assert key == slot.key
        cells.append(f'<span style="white-space:nowrap">({n})&nbsp;{field(value, tol, width)}</span>')
    return '<p style="margin-left:1em">' + " &nbsp; ".join(cells) + "</p>"


# Moodle's content column holds about 32 em of display math at MathJax's size (some 520 px at 16 px; more
# in a wide theme): a wider display is set smaller, by TeX's size commands, down to 60% (as the site, to 55%).
FIT_EM = 32
# (MathJax 3 sets \footnotesize larger than \small, measured; \Tiny at 0.6, near the site's least, 0.55)
SIZES = (("small", 0.85), ("scriptsize", 0.7), ("Tiny", 0.6))


def em_width(n) -> float:
    """About how wide MathJax sets the page tree ``n``, in em: within some 10% of what Chromium measured on the
    shipped problems' pages, and rounded up by that."""
    return 1.1 * _em(n)


def _em(n) -> float:
    w = _em
    if isinstance(n, str):
        size = 0.55 * len(n)
    elif isinstance(n, (T.Numeral, T.Raw)):
        size = 0.5 * len(n.text)
    elif isinstance(n, T.Word):
        size = 0.55 * len(n.text)
    elif isinstance(n, T.Sym):
        size = 0.8 + (0.4 * w(n.sub) if n.sub is not None else 0) + (0.45 * w(n.sup) if n.sup is not None else 0)
    elif isinstance(n, T.Operator):
        size = 1.0
    elif isinstance(n, T.Row):
        size = sum(w(i) for i in n.items)
    elif isinstance(n, T.Frac):
        size = max(w(n.num), w(n.den)) + 0.3
    elif isinstance(n, T.Pow_):
        size = w(n.base) + 0.7 * w(n.exp)
    elif isinstance(n, T.Paren):
        size = w(n.body) + 1.0
    elif isinstance(n, T.Call):
        size = 0.55 * len(n.name) + 1.0 + sum(w(a) for a in n.args)
    elif isinstance(n, T.Vec):
        size = max((w(i) for i in n.items), default=0) + 1.4
    elif isinstance(n, T.Mat):
        size = sum(max(w(r[c]) for r in n.rows) for c in range(len(n.rows[0]))) + len(n.rows[0]) + 0.4
    elif isinstance(n, T.Under):
        size = max(w(n.body), 0.7 * w(n.label))
    elif isinstance(n, T.Held):
        size = w(n.derivative) + 1.0 + 0.4 * (sum(w(f) for f in n.fixed) + len(n.fixed) - 1)
    elif isinstance(n, (T.Slot,)):
        size = w(n.content)
    elif isinstance(n, T.Aligned):
        size = max((w(r) for r in n.rows), default=0)
    else:
        size = 1.0
    return size


def _display(tex: str, em: float) -> str:
    """A display of ``em`` width: as it is, or smaller, and in a box that scrolls if still too wide."""
    if em <= FIT_EM:
        return f"<p>{_math(tex, display=True)}</p>"
    name = next((name for name, f in SIZES if em * f <= FIT_EM), SIZES[-1][0])
    smaller = "{\\" + name + " " + tex + "}"
    return f'<div style="overflow-x:auto;max-width:100%">{_math(smaller, display=True)}</div>'


def _figure_name(block: Figure) -> str:
    return f"{block.weight}-{block.colour}.svg" if block.weight else "circuit.svg"


def question_html(values, data: bytes | None = None) -> tuple:
    """``(worksheet HTML with cloze fields, key HTML, {file name: SVG})`` of one variant; ``data``: its
    problem file's bytes (whose hash is the variant id the page prints)."""
    page = without_formulas(layout(values, data=data))  # a cloze grades numbers only: no formula blank
    answers = blank_answers(values, page)
    sheet = _Sheet(values, answers)
    body = sheet.write(page)
    if sheet.count != len(answers):
        raise AssertionError(f"{sheet.count} fields for {len(answers)} blanks")
    head = f"<p><em>Problem {_e(page.problem_id)} · {_e(page.description)}</em></p>"
    note = ("<p>Type each answer as a decimal (<code>0.15</code>, <code>-0.0375</code>) in the field with the number "
            f"of its box. {_e(MOODLE_PRECISION)}</p>")
    return head + note + "\n".join(body), head + "\n".join(_Key(worksheet=False).write(page)), sheet.files


# A NUMERICAL field reads decimals only: the page's precision sentence, without its fractions.
MOODLE_PRECISION = "Give each answer exactly or to at least 4 significant digits, as a decimal (a fraction is not read here)."
QUESTION_NOTE = "think it through in words: no field grades it; the answer is in the feedback"


class _Sheet(PageWriter):
    """The question: the worksheet's math with numbered boxes, a cloze field per box, the diagrams as files."""

    def __init__(self, values, answers: list):
        super().__init__(worksheet=True)
        self.values, self.answers, self.count, self.files = values, answers, 0, {}

    def _fields(self, boxes: _Boxes) -> None:
        if boxes.slots:
            self.out.append(_fields(boxes.slots, self.count, self.answers))
            self.count += len(boxes.slots)

    def visit_heading(self, b):
        self.out.append(f"<h4>{_e(b.text)}</h4>")

    def visit_prose(self, b):
        boxes = _Boxes(self.count)
        if b.key == "question":  # the key insight: answered in words, not in a field
            b = replace(b, parts=[*b.parts, f" ({QUESTION_NOTE})"])
        b = replace(b, parts=[MOODLE_PRECISION if part == PRECISION else part for part in b.parts])
        self.out.append(_prose(b, boxes.doprint))
        self._fields(boxes)

    def visit_display(self, b):
        boxes = _Boxes(self.count)
        self.out.append(_display(boxes.doprint(b.math), em_width(b.math)))
        self._fields(boxes)

    def visit_figure(self, b):
        name = _figure_name(b)
        self.files[name] = figure_svg(self.values, b, answers=False, labels=False)
        alt = f"the network with the {b.caption} of {b.weight}" if b.weight else b.caption
        self.out.append(f'<p><img src="@@PLUGINFILE@@/{name}" alt="{html.escape(alt)}" '
                        'style="max-width:100%;height:auto"></p>')


class _Key(PageWriter):
    """The general feedback: the answer key's math, the closing question's answer included."""

    def visit_heading(self, b):
        self.out.append(f"<h4>{_e(b.text)}</h4>")

    def visit_prose(self, b):
        self.out.append(_prose(b, lambda t: to_latex(t, False)))

    def visit_display(self, b):
        self.out.append(_display(to_latex(b.math, False), em_width(b.math)))


# -- the XML -----------------------------------------------------------------------------------------------------


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(text: str) -> str:
    return html.escape(text, quote=True)


def question_xml(name: str, values, data: bytes | None = None) -> str:
    sheet, key, files = question_html(values, data)
    attached = "".join(f'\n      <file name="{_xml(n)}" path="/" encoding="base64">{base64.b64encode(svg.encode("utf-8")).decode("ascii")}</file>'
                       for n, svg in sorted(files.items()))
    return (f'  <question type="cloze">\n'
            f"    <name><text>{_xml(name)}</text></name>\n"
            f'    <questiontext format="html">\n      <text>{_cdata(sheet)}</text>{attached}\n    </questiontext>\n'
            f'    <generalfeedback format="html">\n      <text>{_cdata(key)}</text>\n    </generalfeedback>\n'
            "    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n"
            "  </question>\n")


def category_path(exercise: str) -> str:
    """The category Moodle creates on import, in the course's question bank (a ``/`` in a name is ``//``).

    >>> category_path("Backpropagation Handout (handout)")
    '$course$/top/Backpropagation Handout (handout)'
    """
    return "$course$/top/" + exercise.replace("/", "//")


def quiz_xml(exercise: str, questions: list) -> str:
    """The whole file: the category, then each ``(name, values, problem file bytes)`` as a cloze question."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n',
           '  <question type="category">\n'
           f"    <category><text>{_xml(category_path(exercise))}</text></category>\n"
           f'    <info format="html"><text>{_cdata(f"<p>One variant of {_e(exercise)} per student, drawn by python -m derivations.variants.</p>")}</text></info>\n'
           "  </question>\n"]
    out += [question_xml(name, values, data) for name, values, data in questions]
    out.append("</quiz>\n")
    return "".join(out)


def exercise_name(base_source, title: str = "") -> str:
    """The exercise's name: the page's title (``[worksheet] title``, else the handout's) and the base problem
    file's stem.

    >>> exercise_name("handout"), exercise_name("week3.toml", "Week 3: Mazur's example")
    ('Backpropagation Handout (handout)', "Week 3: Mazur's example (week3)")
    """
    return f"{title or TITLE} ({Path(str(base_source)).stem})"


def write_quiz(out, students: list, base_source, title: str = "") -> Path:
    """Write ``out/moodle.xml`` from each student's ``out/<id>/problem.toml`` (``students``: their ids, in the
    roster's order; ``title`` the base's page title); returns its path."""
    out = Path(out)
    exercise = exercise_name(base_source, title)
    questions = []
    for student in students:
        path = out / student / "problem.toml"
        text = path.read_text(encoding="utf-8")
        values = evaluate_any(load_any(path))
        data = text.encode("utf-8")
        questions.append((f"{exercise} · {student} · variant {problem_id(None, data)}", values, data))
    target = out / "moodle.xml"
    write_atomic(target, quiz_xml(exercise, questions))
    return target
