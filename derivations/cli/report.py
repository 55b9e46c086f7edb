"""The class report of a graded class (:func:`derivations.cli.grade.grade`): one self-contained HTML file.

It opens offline, from ``file://``: no script, no font, no style sheet from elsewhere; the plots are inline
SVG drawn by matplotlib, with text as text (``svg.fonttype`` ``none``) and their ids salted and dated by
nothing, so the same grades give the same bytes. Sections: what could not be graded (one line each), the
score distribution, the share of the class that got each step right in the page's order (the step where
the class broke stands out), the named mistakes by frequency with their explanations and hints, and a table
of students. Everything a student or a roster typed (ids, names, answers, column names) is escaped.

>>> _pct(3, 4), _pct(0, 0)
('75%', '–')
"""

from __future__ import annotations

import html
import io
import statistics

from sympy import Rational
from ..notation.printing import decimal_text

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


def _svg(fig) -> str:
    """A matplotlib figure as inline SVG: no XML prologue, no date, ids from a fixed salt."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "derivations-report", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


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
    return _svg(fig)


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
    return _svg(fig)


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
    return _svg(fig)


# -- the page --------------------------------------------------------------------------------------------------


def report_html(result, source: str = "") -> str:
    """The class report of ``result`` as one HTML document."""
    n = len(result.students)
    out = [f"<h1>Class report{': ' + _e(source) if source else ''}</h1>",
           f"<p>{n} student{'s' if n != 1 else ''} graded of {result.rows} row{'s' if result.rows != 1 else ''}, each against "
           f"their own variant; {len(result.keys)} blanks, maximum {_e(number(result.maximum))}. A blank is <em>correct</em>, "
           "<em>follows</em> (right from the student's own earlier wrong answer), <em>wrong</em> (with the catalogued "
           "mistakes it matches named), <em>not answered</em> or <em>not a number</em>. Marks: correct "
           f"{_e(number(Rational(1)))}, follows {_e(number(result.marks.follows))} of a blank's weight, anything else 0.</p>"]
    if result.problems or result.notes or result.absent:
        out.append("<h2>Could not be graded, and notes</h2><ul class=\"problems\">")
        for line, text in sorted(result.problems, key=lambda p: p[0] or 0):
            out.append(f"<li class=\"problem\"><strong>not graded</strong>: {'line ' + str(line) + ': ' if line else ''}{_e(text)}</li>")
        for line, text in sorted(result.notes, key=lambda p: p[0] or 0):
            out.append(f"<li class=\"note\">note: {'line ' + str(line) + ': ' if line else ''}{_e(text)}</li>")
        if result.absent:
            shown = ", ".join(_e(s) for s in result.absent[:40]) + (f" and {len(result.absent) - 40} more" if len(result.absent) > 40 else "")
            out.append(f"<li class=\"note\">note: on the roster but with no row ({len(result.absent)}): {shown}</li>")
        out.append("</ul>")
    if not n:
        out.append("<p>No student could be graded.</p>")
        return _page("".join(out))
    scores = [s.score for s in result.students]
    out.append("<h2>Scores</h2>")
    out.append(f"<p>Mean {_e(number(sum(scores, Rational(0)) / n))}, median {_e(number(Rational(statistics.median(scores))))}, "
               f"lowest {_e(number(min(scores)))}, highest {_e(number(max(scores)))} (of {_e(number(result.maximum))}).</p>")
    out.append(f'<figure class="plot">{score_plot(result)}</figure>')
    counts = step_counts(result)
    out.append("<h2>Steps</h2><p>The share of the class that got each step right, in the page's order: where the bars "
               "drop, the class broke.</p>")
    out.append(f'<figure class="plot">{steps_plot(result)}</figure>')
    out.append("<table><thead><tr><th>step</th><th>key</th>" + "".join(f"<th>{_e(v)}</th>" for v in VERDICTS) + "</tr></thead><tbody>")
    for k in result.keys:
        out.append(f"<tr><td>{_e(result.labels.get(k, k))}</td><td><code>{_e(k)}</code></td>"
                   + "".join(f"<td>{counts[k][v]}</td>" for v in VERDICTS) + "</tr>")
    out.append("</tbody></table>")
    mistakes = mistake_counts(result)
    out.append("<h2>Named mistakes</h2>")
    if mistakes:
        out.append(f'<figure class="plot">{mistakes_plot(result)}</figure>')
        out.append("<table><thead><tr><th>mistake</th><th>students</th><th>blanks</th><th>what went wrong</th><th>hint</th>"
                   "</tr></thead><tbody>")
        for name, students, blanks in mistakes:
            m = result.mistakes.get(name)
            title, why, hint = (m.title, m.explanation, m.hint) if m else ("", "", "")
            out.append(f"<tr><td><strong>{_e(title)}</strong><br><code>{_e(name)}</code></td><td>{students} "
                       f"({_pct(students, n)})</td><td>{blanks}</td><td>{_e(why)}</td><td>{_e(hint)}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append("<p>No wrong answer matched a catalogued mistake.</p>")
    columns = result.roster.columns
    out.append("<h2>Students</h2><table><thead><tr><th>id</th>" + "".join(f"<th>{_e(c)}</th>" for c in columns)
               + "<th>score</th><th>%</th>" + "".join(f"<th>{_e(v)}</th>" for v in VERDICTS)
               + "<th>mistakes</th><th>not numbers</th></tr></thead><tbody>")
    for s in result.students:
        tally = {v: 0 for v in VERDICTS}
        for m in s.marks.values():
            tally[m.verdict] += 1
        named = "; ".join(f"{_e(name)} ({', '.join(_e(result.labels.get(k, k)) for k in keys)})" for name, keys in s.mistakes().items())
        typed = "; ".join(f"{_e(result.labels.get(k, k))}: <code>{_e(m.text)}</code>" for k, m in s.marks.items()
                          if m.verdict == "not a number")
        out.append(f"<tr><td>{_e(s.id)}</td>" + "".join(f"<td>{_e(s.roster.get(c, ''))}</td>" for c in columns)
                   + f"<td>{_e(number(s.score))}</td><td>{s.percent:.1f}</td>" + "".join(f"<td>{tally[v]}</td>" for v in VERDICTS)
                   + f"<td>{named}</td><td>{typed}</td></tr>")
    out.append("</tbody></table>")
    return _page("\n".join(out))


def _page(body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Class report</title>"
            f"<style>{_STYLE}</style></head><body><main>\n{body}\n</main></body></html>\n")


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;"
    "vertical-align:top;text-align:left}th{background:#f0f0f0}figure.plot{margin:1rem 0}figure.plot svg{max-width:100%;"
    "height:auto}li.problem{color:#b71c1c}code{font-size:.95em}"
)


# -- the terminal ----------------------------------------------------------------------------------------------


def summary_text(result) -> str:
    """A few lines for the terminal: how many graded, the scores, the weakest steps, the commonest mistakes."""
    n = len(result.students)
    lines = [f"graded {n} of {result.rows} rows (maximum {number(result.maximum)})"
             + (f"; {len(result.problems)} problem{'s' if len(result.problems) > 1 else ''} reported on stderr" if result.problems else "")]
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
