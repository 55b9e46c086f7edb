"""The reports of a graded class (:func:`derivations.cli.grade.grade`): two self-contained HTML pages.

The *class page* (:func:`class_html`) can be shown to the class: the score distribution, the share of the
class that got each step right in the page's order (the step where the class broke stands out), the named
mistakes by frequency with their explanations and hints; no student's name, id or answer. The *instructor's
page* (:func:`instructor_html`): what could not be graded (one line each), the roster's students with no row,
and a row per student.

Each opens offline, from ``file://``: no script, no font, no style sheet from elsewhere; the plots are inline
SVG drawn by matplotlib, with text as text (``svg.fonttype`` ``none``), dated by nothing and their ids
salted, then prefixed per plot (so the page's ids are unique), so the same grades give the same bytes. Both
read at a phone's width: a table's rows become cards. Everything a student or a roster typed (ids, names,
answers, column names) is escaped.

>>> _pct(3, 4), _pct(0, 0)
('75%', '–')
"""

from __future__ import annotations

import html
import io
import re
import statistics

from sympy import Rational

from ..engine.reading import quote
from ..notation.printing import decimal_text

SHOWN = 30  # absent students named on the terminal, at most
VERDICTS = ("correct", "follows", "wrong", "not answered", "not a number")  # a graded blank's, in the tables' order
COLOURS = {"correct": "#2e7d32", "follows": "#f9a825", "wrong": "#c62828", "not answered": "#9e9e9e",
           "not a number": "#6a1b9a"}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


# -- numbers ---------------------------------------------------------------------------------------------------


def number(v: Rational) -> str:
    """A score as a spreadsheet reads it: its exact decimal when it has at most 4 places, else rounded to 4.

    >>> number(Rational(27)), number(Rational(53, 2)), number(Rational(1, 3))
    ('27', '26.5', '0.3333')
    """
    text = decimal_text(v)
    if text is not None and ("." not in text or len(text.split(".")[1]) <= 4):
        return text
    return f"{float(v):.4f}"


def step_counts(result) -> dict:
    """``{key: {verdict: number of students}}`` over the graded students."""
    out = {k: dict.fromkeys(VERDICTS, 0) for k in result.keys}
    for s in result.students:
        for k, m in s.marks.items():
            out[k][m.verdict] += 1
    return out


def mistake_counts(result) -> list:
    """``[(name, students, blanks)]``, the most frequent first (students, then blanks, then name)."""
    students, blanks = {}, {}
    for s in result.students:
        for name, keys in s.mistakes().items():
            students[name] = students.get(name, 0) + 1
            blanks[name] = blanks.get(name, 0) + len(keys)
    return sorted(((n, students[n], blanks[n]) for n in students), key=lambda t: (-t[1], -t[2], t[0]))


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


# -- plots -----------------------------------------------------------------------------------------------------


def _svg(fig, prefix: str) -> str:
    """A matplotlib figure as inline SVG: no XML prologue, no date, no RDF metadata (not HTML), ids from a fixed
    salt and each prefixed with ``prefix`` (every plot has a ``figure_1``, a ``patch_1``...)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "derivations-report", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m[1]}"', text)
    return re.sub(r'(url\(#|href="#)([^")]+)', lambda m: f"{m[1]}{prefix}-{m[2]}", text)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot()


def score_plot(result) -> str:
    """The score distribution: how many students in each tenth of the maximum."""
    fig, ax = _figure(7, 3)
    percents = [s.percent for s in result.students]
    ax.hist(percents, bins=[10 * k for k in range(11)], color="#1565c0", edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (% of the maximum)")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Score distribution")
    return _svg(fig, "scores")


def _bar_chart_height(n: int) -> float:
    return round(1.2 + 0.18 * n, 1) if n > 0 else 1.5


def steps_plot(result) -> str:
    """The share of the class right at each step, in the page's order (correct, then follows, stacked)."""
    counts = step_counts(result)
    n = len(result.students)
    keys = result.keys
    fig, ax = _figure(7, _bar_chart_height(len(keys)))
    ys = list(range(len(keys)))
    correct = [counts[k]["correct"] / n for k in keys]
    follows = [counts[k]["follows"] / n for k in keys]
    ax.barh(ys, correct, color=COLOURS["correct"], label="correct")
    ax.barh(ys, follows, left=correct, color=COLOURS["follows"], label="follows (right from their own earlier answer)")
    ax.set_yticks(ys, [result.labels.get(k, k) for k in keys])
    ax.invert_yaxis()  # the page's first step on top
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_xlabel("share of the class")
    ax.set_title("Each step, in the page's order", pad=28)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize="small", frameon=False)
    return _svg(fig, "steps")


def mistakes_plot(result) -> str:
    """The named mistakes by the number of students who made them."""
    rows = mistake_counts(result)
    fig, ax = _figure(7, _bar_chart_height(len(rows)))
    ax.barh(range(len(rows)), [r[1] for r in rows], color=COLOURS["wrong"])
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("students")
    ax.set_title("Named mistakes")
    return _svg(fig, "mistakes")


# -- the page --------------------------------------------------------------------------------------------------


def _intro(result) -> str:
    n = len(result.students)
    return (f"<p>{n} student{'s' if n != 1 else ''} graded of {result.rows} row{'s' if result.rows != 1 else ''}, each "
            f"against their own variant; {len(result.keys)} blanks, maximum {_e(number(result.maximum))}. A blank is "
            "<em>correct</em>, <em>follows</em> (right from the student's own earlier wrong answer), <em>wrong</em> (with "
            "the catalogued mistakes it matches named), <em>not answered</em> or <em>not a number</em>. Marks: correct "
            f"{_e(number(Rational(1)))}, follows {_e(number(result.marks.follows))} of a blank's weight, anything else 0.</p>")


def _table(head: list, rows: list) -> str:
    """A table whose cells carry their column's name (``data-label``), so that on a narrow screen each row
    reads as a card of labelled lines. ``head``: plain texts; ``rows``: lists of HTML cells."""
    labels = [_e(h) for h in head]
    out = ["<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in labels) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td data-label="{h}">{cell}</td>' for h, cell in zip(labels, row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def class_html(result, source: str = "") -> str:
    """The class page of ``result``: the scores, the steps and the named mistakes, for the whole class; no
    student's name, id or answer, and no link to the instructor's page (the class may be given this one)."""
    n = len(result.students)
    out = [f"<h1>Class results{': ' + _e(source) if source else ''}</h1>", _intro(result)]
    absent, problems = len(result.absent), len(result.problems)
    missing = ([f"{absent} student{'s' if absent != 1 else ''} on the roster had no row in the responses"] if absent else []) + \
        ([f"{problems} row{'s' if problems != 1 else ''} or column{'s' if problems != 1 else ''} could not be graded"] if problems else [])
    if missing:  # how many, never who
        out.append(f"<p>{'; '.join(missing).capitalize()}.</p>")
    if not n:
        out.append("<p>No student could be graded.</p>")
        return _page("Class results", "".join(out))
    scores = [s.score for s in result.students]
    out.append("<h2>Scores</h2>")
    out.append(f"<p>Mean {_e(number(sum(scores, Rational(0)) / n))}, median {_e(number(Rational(statistics.median(scores))))}, "
               f"lowest {_e(number(min(scores)))}, highest {_e(number(max(scores)))} (of {_e(number(result.maximum))}).</p>")
    out.append(f'<figure class="plot">{score_plot(result)}</figure>')
    counts = step_counts(result)
    out.append("<h2>Steps</h2><p>The share of the class that got each step right, in the page's order: where the bars "
               "drop, the class broke.</p>")
    out.append(f'<figure class="plot">{steps_plot(result)}</figure>')
    out.append(_table(["step", "key", *VERDICTS], [[_e(result.labels.get(k, k)), f"<code>{_e(k)}</code>",
                                                   *(str(counts[k][v]) for v in VERDICTS)] for k in result.keys]))
    mistakes = mistake_counts(result)
    out.append("<h2>Named mistakes</h2>")
    if mistakes:
        out.append(f'<figure class="plot">{mistakes_plot(result)}</figure>')
        rows = []
        for name, students, blanks in mistakes:
            m = result.mistakes.get(name)
            title, why, hint = (m.title, m.explanation, m.hint) if m else ("", "", "")
            rows.append([f"<strong>{_e(title)}</strong><br><code>{_e(name)}</code>", f"{students} ({_pct(students, n)})",
                         str(blanks), _e(why), _e(hint)])
        out.append(_table(["mistake", "students", "blanks", "what went wrong", "hint"], rows))
    else:
        out.append("<p>No wrong answer matched a catalogued mistake.</p>")
    return _page("Class results", "\n".join(out))


def instructor_html(result, source: str = "", class_page: str = "") -> str:
    """The instructor's page of ``result``: what could not be graded, who handed nothing in, and a row per
    student (score, verdicts, the mistakes named, what was not a number). ``class_page``: the class page's
    address, linked for the plots."""
    n = len(result.students)
    out = [f"<h1>Grades{': ' + _e(source) if source else ''}</h1>", _intro(result)]
    if class_page:
        out.append(f'<p>The plots, the steps and the mistakes for the whole class, with no names: '
                   f'<a href="{_e(class_page)}">the class page</a>.</p>')
    if result.problems or result.notes or result.absent:
        out.append("<h2>Could not be graded, and notes</h2><ul class=\"problems\">")
        for line, text in sorted(result.problems, key=lambda p: p[0] or 0):
            out.append(f"<li class=\"problem\"><strong>not graded</strong>: {'line ' + str(line) + ': ' if line else ''}{_e(text)}</li>")
        for line, text in sorted(result.notes, key=lambda p: p[0] or 0):
            out.append(f"<li class=\"note\">note: {'line ' + str(line) + ': ' if line else ''}{_e(text)}</li>")
        if result.absent:
            out.append(f"<li class=\"absent\">on the roster but with no row ({len(result.absent)}): "
                       f"{', '.join(_e(s) for s in result.absent)}</li>")
        out.append("</ul>")
    if not n:
        out.append("<p>No student could be graded.</p>")
        return _page("Grades", "".join(out))
    columns = result.roster.columns
    rows = []
    for s in result.students:
        tally = {v: 0 for v in VERDICTS}
        for m in s.marks.values():
            tally[m.verdict] += 1
        named = "; ".join(f"{_e(name)} ({', '.join(_e(result.labels.get(k, k)) for k in keys)})" for name, keys in s.mistakes().items())
        typed = "; ".join(f"{_e(result.labels.get(k, k))}: <code>{_e(m.text)}</code>" for k, m in s.marks.items()
                          if m.verdict == "not a number")
        rows.append([_e(s.id), *(_e(s.roster.get(c, "")) for c in columns), _e(number(s.score)), f"{s.percent:.1f}",
                     *(str(tally[v]) for v in VERDICTS), named, typed])
    out.append("<h2>Students</h2>" + _table(["id", *columns, "score", "%", *VERDICTS, "mistakes", "not numbers"], rows))
    return _page("Grades", "\n".join(out))


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>"
            f"<style>{_STYLE}</style></head><body><main>\n{body}\n</main></body></html>\n")


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;line-height:1.5;"
    "overflow-wrap:break-word}"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;"
    "vertical-align:top;text-align:left}th{background:#f0f0f0}figure.plot{margin:1rem 0}figure.plot svg{max-width:100%;"
    "height:auto}li.problem{color:#b71c1c}code{font-size:.95em}"
    # a phone: each row a card, each cell a line headed by its column's name
    "@media (max-width:40rem){table,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #ccc;"
    "margin:0 0 .6rem;padding:.2rem .4rem}td{border:0;padding:.1em 0}td::before{content:attr(data-label) \": \";"
    "font-weight:600}}"
)


# -- the terminal ----------------------------------------------------------------------------------------------


def summary_text(result) -> str:
    """A few lines for the terminal: how many graded, the scores, the weakest steps, the commonest mistakes."""
    n = len(result.students)
    lines = [f"graded {n} of {result.rows} rows (maximum {number(result.maximum)})"
             + (f"; {len(result.problems)} problem{'s' if len(result.problems) > 1 else ''} reported on stderr" if result.problems else "")]
    if result.absent:  # quoted as every id on the terminal; all of them on the instructor's page
        shown = ", ".join(quote(s) for s in result.absent[:SHOWN]) + (
            f" and {len(result.absent) - SHOWN} more" if len(result.absent) > SHOWN else "")
        lines.append(f"on the roster but with no row ({len(result.absent)}): {shown}")
    if n:
        scores = [s.score for s in result.students]
        mean = sum(scores, Rational(0)) / n
        lines.append(f"scores: mean {number(mean)} ({float(100 * mean / result.maximum):.1f}%), median "
                     f"{number(Rational(statistics.median(scores)))}, lowest {number(min(scores))}, highest {number(max(scores))}")
        counts = step_counts(result)
        weakest = sorted(result.keys, key=lambda k: (counts[k]["correct"] + counts[k]["follows"], result.keys.index(k)))[:3]
        lines.append("fewest right: " + ", ".join(f"{result.labels.get(k, k)} ({counts[k]['correct'] + counts[k]['follows']} of {n})"
                                                 for k in weakest))
        common = mistake_counts(result)[:3]
        if common:
            lines.append("commonest mistakes: " + ", ".join(f"{name} ({students} student{'s' if students > 1 else ''})"
                                                           for name, students, _ in common))
    return "\n".join(lines) + "\n"
