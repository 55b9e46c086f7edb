"""The self-check page: the handout's page with every blank an input, checked in the browser as it is typed.

One self-contained HTML file (no network, no server: it works from ``file://``). It carries no table of the
answers: it carries the problem's given numbers (printed on the worksheet anyway), every quantity's local
formula and every catalogued mistake's changed formulas, printed from SymPy by its JavaScript code printer,
and computes the true values, the follow-through and the mistakes' values from them, as
:class:`derivations.check.Checker` does in Python.

Contract (for tests and other tools): each blank is ``<input data-key="KEY">`` (KEY as in the checker's
answers file; a blank the page repeats, as ``H_1`` in Steps 1 and 2, is ``KEY#2``, ``KEY#3``...), and its
feedback element ``[data-feedback-for="KEY"]`` gets the class ``correct``, ``follows`` or ``wrong`` and a
text naming the mistake when the input changes (Enter or leaving the field).

>>> from derivations import evaluate, load_problem
>>> html = page_html(evaluate(load_problem()))
>>> html.count("<input "), 'data-key="grad.w_b11"' in html, "0.0375" in html or "3/80" in html
(51, True, False)

In a Sphinx build, ``-t selfcheck`` (conf.py adds this module as an extension) writes ``selfcheck.html``
for the site's problem next to the pages; the handout page links to it.

The browser computes in floating point: where the Python checker compares exactly (a rational value), the
page accepts a relative 1e-9; where the value is transcendental it uses the checker's tolerance for that
blank (tighter than the gap to every catalogued mistake).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from sympy import Function, Piecewise, Symbol
from sympy.printing.jscode import jscode

from .check import Checker, blanks, definition
from .handout import Display, Figure, Heading, Prose, Slot, TextMath, layout
from .mistakes import ONE_PATH, TRANSPOSED

NOTICE = ("For practice only: this page checks your answers in your browser, from formulas it carries. A "
          "determined student can compute the answers from the page's code; graded work uses the printed "
          "worksheet.")
FLOAT_TOL = 1e-9  # the browser computes in floating point: a relative tolerance for exact values


# -- formulas as JavaScript ------------------------------------------------------------------------------


def _unkink(expr):
    """ReLU-like functions (those with a ``settle``) as a Piecewise of their two branches, for the printer."""
    kinks = {f for f in expr.atoms(Function) if hasattr(type(f), "settle")}
    if not kinks:
        return expr
    return expr.xreplace({f: Piecewise((type(f).settle(_unkink(f.args[0]), True), _unkink(f.args[0]) > 0),
                                       (type(f).settle(_unkink(f.args[0]), False), True)) for f in kinks})


class _JS:
    """Every symbol of a derivation as ``v[i]``, and expressions in them as JavaScript source."""

    def __init__(self, checker: Checker):
        d = checker.d
        leaves = [s for s in checker.values.of if s not in d.definitions]
        self.order = leaves + list(d.definitions)
        self.index = {s: i for i, s in enumerate(self.order)}
        self.names = {s: Symbol(f"v[{i}]") for s, i in self.index.items()}

    def __call__(self, expr) -> str:
        return re.sub(r"\s+", " ", jscode(_unkink(expr).xreplace(self.names))).strip()

    def deps(self, expr) -> list:
        return sorted(self.index[s] for s in expr.free_symbols if s in self.index)


def _label(key: str, expr, d) -> str:
    """A readable name of a blank: ``H_1``, ``∇O_2``, ``∂ℒ/∂w^b_11``, ``∂L_1/∂H_1``, ``x_1``."""
    if key.startswith("grad."):
        return f"∂ℒ/∂{d.param(key[5:]).name(d.symbols.wide)}"
    if key.startswith("local."):
        m = re.fullmatch(r"local\.d(\w+)_d(\w+)\[(\d+)\](@\d+)?", key)
        return f"∂{m[1]}_{m[3]}/∂{m[2]}_{m[3]}" + (m[4] or "")
    return str(expr)


def page_data(checker: Checker) -> dict:
    """What the page's script needs: given numbers, formulas, tolerances and the mistakes' formulas."""
    d, js = checker.d, _JS(checker)
    data = {
        "n": len(js.order),
        "leaves": [[js.index[s], float(checker.values.of[s])] for s in js.order if s not in d.definitions],
        "defs": [[js.index[s], js(e)] for s, e in d.definitions.items()],
        "deps": {js.index[s]: js.deps(e) for s, e in d.definitions.items()},
        "blanks": {},
        "mistakes": [],
    }
    for key, expr in checker.blanks.items():
        tol = checker.tolerance[key]
        data["blanks"][key] = {
            "sym": js.index.get(expr) if isinstance(expr, Symbol) else None,
            "expr": js(expr),
            "local": js(definition(d, expr)),
            "localDeps": js.deps(definition(d, expr)),
            "tol": max(FLOAT_TOL, float(tol)) if tol is not None else FLOAT_TOL,
            "label": _label(key, expr, d),
        }
    for m in checker.mistakes:
        entry = {**m.as_dict(), "rule": bool(m.rules), "defs": [], "blank": {}, "local": {}, "terms": {}, "transposed": {}}
        if m.rules:
            dv, _, bl = checker.variants[m.name]
            entry["defs"] = [[js.index[s], js(e)] for s, e in dv.definitions.items() if d.definitions.get(s) != e]
            for key, expr in checker.blanks.items():
                if key in bl and bl[key] != expr:
                    entry["blank"][key] = js(bl[key])
                if key in bl and definition(dv, bl[key]) != definition(d, expr):
                    entry["local"][key] = js(definition(dv, bl[key]))
        elif m.name == ONE_PATH:
            for key, expr in checker.blanks.items():
                if key.startswith("grad.") and d.count_paths(key[5:]) > 1:
                    entry["terms"][key] = [js(p.product) for p in d.paths(key[5:])]
                elif key.startswith("backward."):
                    local = definition(d, expr)
                    if local.is_Add and len(local.args) > 1:
                        entry["terms"][key] = [js(t) for t in local.args]
        elif m.name == TRANSPOSED:
            for key in checker.blanks:
                if key.startswith("grad."):
                    p = d.param(key[5:])
                    W = d.symbols.W[p.layer] if p.kind == "weight" else None
                    if W is not None and p.i != p.j and p.j < W.rows and p.i < W.cols:
                        other = "grad." + type(p)(p.layer, "weight", p.j, p.i).key(d.symbols.wide)
                        entry["transposed"][key] = other
        data["mistakes"].append(entry)
    return data


# -- the page --------------------------------------------------------------------------------------------


class _Inputs(TextMath):
    """The handout's text printer with every answer slot a placeholder, replaced by an input afterwards."""

    def __init__(self):
        super().__init__(worksheet=True)
        self.slots = []

    def slot(self, node: Slot):
        if node.given:
            return self(node.content)
        self.slots.append(node)
        return f"\x00{len(self.slots) - 1}\x00"


def _body(values, data: dict) -> str:
    page = layout(values)
    seen: dict = {}
    out = []

    def with_inputs(text: str, printer: _Inputs, start: int, where: str) -> str:
        def field(m):
            n = int(m.group(1))
            slot = printer.slots[n]
            key = slot.key
            seen[key] = seen.get(key, 0) + 1
            dkey = key if seen[key] == 1 else f"{key}#{seen[key]}"
            uid = f"b{start + n}"
            label = data["blanks"][key]["label"] + (f" (again, {where})" if seen[key] > 1 else f" ({where})")
            return (f'<span class="blank"><label class="sr-only" for="{uid}">{html.escape(label)}</label>'
                    f'<input id="{uid}" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" '
                    f'size="9" data-key="{html.escape(dkey)}" aria-describedby="{uid}-fb">'
                    f'<span id="{uid}-fb" class="feedback" data-feedback-for="{html.escape(dkey)}" aria-live="polite">'
                    f'</span></span>')

        return re.sub("\x00(\\d+)\x00", field, html.escape(text))

    count = 0
    for b in page.blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level + 1}>{html.escape(b.text)}</h{b.level + 1}>")
        elif isinstance(b, Prose):
            if b.answer:
                continue
            printer, parts = _Inputs(), []
            for part in b.parts:
                if isinstance(part, str):
                    parts.append(html.escape(part))
                elif isinstance(part, tuple):
                    parts.append(f"<strong>{html.escape(part[1])}</strong>")
                else:
                    before = len(printer.slots)
                    text = printer(part)
                    parts.append(with_inputs(text, printer, count, b.key or "values") if len(printer.slots) > before
                                 else f'<span class="math">{html.escape(text)}</span>')
            count += len(printer.slots)
            out.append(f"<p>{''.join(parts)}</p>")
        elif isinstance(b, Display):
            printer = _Inputs()
            text = printer(b.math)
            where = {"step1": "Step 1", "step2": "Step 2", "step3": "Step 3", "step4": "Step 4", "step5": "Step 5"}.get(
                b.key, b.key.replace("grad_", "∂ℒ/∂").replace("w_", "w^").replace("^a", "^a_").replace("^b", "^b_"))
            out.append(f'<div class="display" role="group" aria-label="{html.escape(where)}">'
                       f"{with_inputs(text, printer, count, where)}</div>")
            count += len(printer.slots)
        elif isinstance(b, Figure):
            continue
    return "\n".join(out), page


def page_html(values, checker: Checker | None = None) -> str:
    """The self-check page for ``values``' problem (one hidden layer, one sample: the handout's layout);
    ``checker``: its :class:`Checker`, if the caller has one already."""
    checker = checker if checker is not None else Checker(values.problem)
    data = page_data(checker)
    body, page = _body(values, data)
    script = _SCRIPT.replace("/*DATA*/", json.dumps(data, ensure_ascii=True).replace("</", "<\\/"))
    return _TEMPLATE.format(title=html.escape(page.title + " — self-check"), notice=html.escape(NOTICE),
                            header=html.escape(f"problem {page.problem_id} · {page.description}"), body=body,
                            style=_STYLE, script=script)


def write_page(values, path) -> Path:
    """Write the self-check page for ``values``' problem to ``path`` (one self-contained HTML file)."""
    path = Path(path)
    path.write_text(page_html(values), encoding="utf-8")
    return path


# -- Sphinx: -t selfcheck --------------------------------------------------------------------------------


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from .problem import load_problem
    from .values import evaluate

    from sphinx.util import logging

    from .errors import ProblemError

    name = app.config.derivations_problem
    try:
        problem = load_problem(Path(app.srcdir) / name if name else None)
        write_page(evaluate(problem), Path(app.outdir) / "selfcheck.html")
    except ProblemError as err:  # a problem the handout's layout cannot hold: a warning, not a traceback
        logging.getLogger(__name__).warning(f"selfcheck.html not written: {err}", type="derivations", subtype="selfcheck")


def setup(app):
    """A Sphinx extension (added by conf.py with ``-t selfcheck``): ``selfcheck.html`` in the HTML output."""
    app.setup_extension("derivations.sphinxext")
    app.connect("build-finished", _build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 1rem auto; padding: 0 1rem; line-height: 1.6; }
.notice { border: 2px solid #b58900; background: #fdf6e3; padding: .5rem 1rem; border-radius: 4px; }
.display { white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; margin: .8rem 0; padding: .5rem;
           background: #f6f6f6; border-radius: 4px; overflow-x: auto; }
.math { font-family: "DejaVu Sans Mono", monospace; }
.blank { display: inline-block; white-space: normal; }
input { font: inherit; width: 7em; border: 1px solid #666; border-radius: 3px; padding: 0 .2em; }
input:focus { outline: 3px solid #268bd2; outline-offset: 1px; }
input.correct { border-color: #2e7d32; background: #e8f5e9; }
input.follows { border-color: #8a6d00; background: #fff8e1; }
input.wrong { border-color: #c62828; background: #ffebee; }
.feedback { font-family: system-ui, sans-serif; font-size: .85em; margin-left: .3em; }
.feedback.correct { color: #1b5e20; } .feedback.follows { color: #6d5200; } .feedback.wrong { color: #b71c1c; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p class="notice" role="note"><strong>Practice.</strong> {notice}</p>
<p>{header}. Type a number in any blank (<code>0.9</code>, <code>.9</code>, <code>9/10</code>, <code>−7/40</code>,
<code>1e-2</code>) and press Enter or Tab: each answer is checked against the correct value, against your own
earlier answers (a step done right from a wrong earlier value <em>follows</em>), and against the classic
mistakes, which are named.</p>
{body}
</main>
<script>
{script}
</script>
</body>
</html>
"""

_SCRIPT = r"""
"use strict";
const D = /*DATA*/;
const compile = (src) => new Function("v", "return (" + src + ");");  // SymPy's printed formulas, not user text
const defs = D.defs.map(([i, src]) => [i, compile(src)]);
const blanks = {};
for (const [key, b] of Object.entries(D.blanks)) {
  blanks[key] = {...b, exprF: compile(b.expr), localF: compile(b.local)};
}
function run(overrides, answered) {
  const v = new Array(D.n);
  for (const [i, x] of D.leaves) v[i] = x;
  for (const [i, f] of defs) {
    v[i] = (answered && answered[i] !== undefined) ? answered[i] : (overrides[i] || f)(v);
  }
  return v;
}
const trueEnv = run({}, null);
const truth = {};
for (const [key, b] of Object.entries(blanks)) truth[key] = b.exprF(trueEnv);
function close(a, t, tol) {
  if (!Number.isFinite(t)) return false;
  return Math.abs(a - t) <= tol * Math.abs(t) || Math.abs(a - t) <= 1e-15;
}
const mistakes = D.mistakes.map((m) => {
  const overrides = {};
  for (const [i, src] of m.defs) overrides[i] = compile(src);
  const env = m.rule ? run(overrides, null) : null;
  const full = {};
  const local = {};
  const terms = {};
  for (const key of Object.keys(blanks)) {
    const vals = [];
    if (env) vals.push((m.blank[key] ? compile(m.blank[key]) : blanks[key].exprF)(env));
    if (m.terms[key]) {
      terms[key] = m.terms[key].map(compile);
      for (const f of terms[key]) vals.push(f(trueEnv));
    }
    if (m.transposed[key]) vals.push(truth[m.transposed[key]]);
    full[key] = vals.filter((x) => Number.isFinite(x) && !close(x, truth[key], 1e-12));
    if (m.local[key]) local[key] = compile(m.local[key]);
  }
  return {...m, full, localF: local, termsF: terms};
});

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$/;
const FRACTION = /^[+-]?\d+\/\d+$/;
function parse(text) {  // by pattern, never evaluated
  const t = text.trim().replace(/\u2212/g, "-");
  if (t.length > 80) return null;
  if (NUMBER.test(t)) return Number(t);
  if (FRACTION.test(t)) {
    const [p, q] = t.split("/");
    return Number(q) === 0 ? null : Number(p) / Number(q);
  }
  return null;
}
const inputs = Array.from(document.querySelectorAll("input[data-key]"));
const baseKey = (k) => k.replace(/#\d+$/, "");
function answers() {
  const out = {};
  for (const el of inputs) {
    const key = baseKey(el.dataset.key);
    const a = parse(el.value);
    if (el.value.trim() !== "" && a !== null && !(key in out)) out[key] = a;
  }
  return out;
}
function judge(key, a, mine, env, bySym) {
  const b = blanks[key];
  if (close(a, truth[key], b.tol)) return {verdict: "correct", text: "correct"};
  const wrong = [];
  const seen = new Set();
  (function up(deps) {
    for (const j of deps) {
      if (seen.has(j)) continue;
      seen.add(j);
      if (bySym[j] !== undefined) {
        const k = bySym[j].key;
        if (!close(bySym[j].value, truth[k], blanks[k].tol)) wrong.push(k);  // judged wrong
      } else if (D.deps[j]) up(D.deps[j]);
    }
  })(b.localDeps);
  if (wrong.length && close(a, b.localF(env), b.tol)) {
    const names = wrong.map((k) => blanks[k].label).join(", ");
    return {verdict: "follows", text: "follows from your " + names + " (this step is right; look earlier)"};
  }
  const named = [];
  for (const m of mistakes) {
    const cands = [...m.full[key]];
    if (wrong.length) {
      if (m.localF[key]) cands.push(m.localF[key](env));
      if (m.termsF[key]) for (const f of m.termsF[key]) cands.push(f(env));
    }
    if (cands.some((c) => close(a, c, b.tol))) named.push(m);
  }
  if (!named.length) return {verdict: "wrong", text: "not right (no catalogued mistake gives this value)"};
  return {verdict: "wrong", mistakes: named.map((m) => m.name),
          text: named.map((m) => m.title + ". " + m.hint).join(" Or: ")};
}
function update() {
  const mine = answers();
  const bySym = {};
  const answered = {};
  for (const [key, a] of Object.entries(mine)) {
    const s = blanks[key].sym;
    if (s !== null && s !== undefined) { bySym[s] = {key, value: a}; answered[s] = a; }
  }
  const env = run({}, answered);
  for (const el of inputs) {
    const fb = document.querySelector('[data-feedback-for="' + el.dataset.key + '"]');
    const key = baseKey(el.dataset.key);
    let r = null;
    if (el.value.trim() !== "") {
      const a = parse(el.value);
      r = a === null ? {verdict: "unreadable", text: "not a number: write it as 0.9, .9, 9/10, -7/40 or 1e-2"}
                     : judge(key, a, mine, env, bySym);
    }
    const cls = r ? r.verdict : "";
    const text = r ? r.text : "";
    el.classList.remove("correct", "follows", "wrong", "unreadable");
    fb.classList.remove("correct", "follows", "wrong", "unreadable");
    if (cls) { el.classList.add(cls); fb.classList.add(cls); }
    el.setAttribute("aria-invalid", cls === "wrong" || cls === "unreadable" ? "true" : "false");
    fb.dataset.mistakes = r && r.mistakes ? r.mistakes.join(" ") : "";
    if (fb.textContent !== text) fb.textContent = text;  // only changes are announced
  }
}
for (const el of inputs) {
  el.addEventListener("change", update);
  el.addEventListener("keydown", (e) => { if (e.key === "Enter") update(); });
}
"""
