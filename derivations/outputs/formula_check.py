r"""The self-check page's formula blanks (``[worksheet] closed``): an input per blank, the answer read as it is
typed ("we read: L₁·(Y₁ − y₁)") and judged in the browser as :class:`derivations.teaching.formula.Judge` judges
it in Python, offline.

The page carries, for each formula blank, the derived form printed from SymPy by its JavaScript printer (in the
page's quantities), the blank's random points (every page quantity's value there: random leaves, never the
problem's numbers) and each slip's values at the points; the problem's own values (for *right value, not the
general form*) come from the marking's formulas the page computes anyway. The student's text is read by a
JavaScript port of the parser of :mod:`derivations.engine.expression` (the same whitelist, names and bounds:
500 characters, 40 nested parentheses, calls or signs, whole exponents from −8 to 8), never ``eval``; both forms
are evaluated at the points in float64 and agree within a relative 1e-9 (an absolute 1e-12 near 0).

Contract: ``<input data-formula="closed.w_b11">``, its reading in ``[data-read-for="closed.w_b11"]``, its verdict
in ``[data-feedback-for="closed.w_b11"]`` (class ``correct`` or ``wrong``, ``data-mistakes`` the slips' names,
``data-kind`` a number, not a formula; not a formula; right value, not the general form).

>>> from dataclasses import replace
>>> from derivations import evaluate, load_problem
>>> from derivations.outputs.selfcheck import page_html
>>> html = page_html(evaluate(replace(load_problem(), closed=("w_b11",))))
>>> html.count('data-formula="closed.w_b11"'), "0.0375" in html or "3/80" in html
(1, False)
"""

from __future__ import annotations

import html
import re

from sympy import Symbol
from sympy.printing.jscode import jscode

from ..teaching.formula import (FUNCTIONS, MAX_LENGTH, NOT_GENERAL, NUMBER, UNREAD, Judge, names, page_form)
from ..engine.expression import MAX_DEPTH, MAX_POWER


def formula_data(checker, js, unkink) -> dict | None:
    """What the page's formula script needs (None where the page has no formula blank): the names a student may
    type (each an index into ``quantities``, the marking's symbols), and per blank the derived form as
    JavaScript in ``q(i)``, the points' values and each slip's values there."""
    if not checker.closed:
        return None
    d = checker.d
    typed = names(d)
    quantities = list(dict.fromkeys(typed.values()))
    qi = {s: n for n, s in enumerate(quantities)}
    out = {"names": {name: qi[s] for name, s in typed.items()}, "quantities": [js.index[s] for s in quantities],
           "functions": sorted(FUNCTIONS), "maxLength": MAX_LENGTH, "maxDepth": MAX_DEPTH, "maxPower": MAX_POWER,
           "kinds": {"number": NUMBER, "unread": UNREAD, "general": NOT_GENERAL}, "blanks": {}}
    for key in checker.closed:
        name = key[len("closed."):]
        if name not in checker._judges:
            checker._judges[name] = Judge(checker.problem, name)
        judge = checker._judges[name]
        form = unkink(page_form(d, judge.param)).xreplace({s: Symbol(f"q({qi[s]})") for s in quantities})
        out["blanks"][key] = {
            "label": f"∂ℒ/∂{judge.param.name(d.symbols.wide)}",
            "form": re.sub(r"\s+", " ", jscode(form)).strip(),
            "points": [[float(vals[s]) for s in quantities] for vals in judge.page],
            "slips": [{"name": m.name, "text": f"{m.title}. {m.hint}", "values": [float(v) for v in values]}
                      for m, values in judge.slips],
        }
    return out


def formula_input(key: str, label_html: str, uid: str) -> str:
    """One formula blank's input, its reading and its verdict."""
    k = html.escape(key)
    return (f'<div class="formula"><label for="{uid}">{label_html} in closed form</label>'
            f'<input id="{uid}" type="text" autocomplete="off" spellcheck="false" data-formula="{k}" '
            f'aria-describedby="{uid}-read {uid}-fb">'
            f'<span id="{uid}-read" class="read" data-read-for="{k}"></span>'
            f'<span id="{uid}-fb" class="feedback" data-feedback-for="{k}" aria-live="polite"></span></div>')


STYLE = """
.formula { display: flex; flex-direction: column; margin: .3rem 0 1rem; }
.formula input { font: inherit; width: 100%; border: 1px solid #666; border-radius: 3px; padding: .1em .3em; }
.formula .read { font-size: .9em; color: #333; }
"""

# The parser of engine/expression.py (page mode, implicit products), on the text a student types: an AST of
# plain objects, evaluated on numbers; nothing the student types is ever run as code.
SCRIPT = r"""
const F = D.formula;
if (F) {
  const TOKEN = /\s+|([A-Za-z]\^(?:\{[A-Za-z]\}|[A-Za-z]|\(\d{1,2}\)|\{\(\d{1,2}\)\})_(?:\{\d{1,4}\}|\d{1,4})(?![0-9A-Za-z_])|[A-Za-z_][A-Za-z0-9_]*'?|σ'?)|((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(\*\*|\^)|([-+*/(),·×\u2212\[\]>])/y;
  class Unread extends Error {}
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);  // never a name of Object's prototype
  const quote = (t) => "'" + t + "'";
  function tokens(text) {
    const out = [];
    let i = 0;
    while (i < text.length) {
      TOKEN.lastIndex = i;
      const m = TOKEN.exec(text);
      if (!m) throw new Unread("expected a number, a name, + - * / ^ or parentheses at position " + (i + 1) + ", got " + quote(text.slice(i, i + 10)));
      if (m[1] !== undefined) out.push(["name", m[1].replace(/[{}]/g, ""), i + 1]);
      else if (m[2] !== undefined) out.push(["number", m[2], i + 1]);
      else if (m[3] !== undefined) out.push(["power", m[3], i + 1]);
      else if (m[4] !== undefined) out.push(["op", m[4] === "·" || m[4] === "×" ? "*" : (m[4] === "\u2212" ? "-" : m[4]), i + 1]);
      i = TOKEN.lastIndex;
    }
    out.push(["end", "", text.length + 1]);
    return out;
  }
  const ARITY = {exp: 1, log: 1, ln: 1, sqrt: 1, tanh: 1, sigmoid: 1, "σ": 1, relu: 1, ReLU: 1, "relu'": 1, "ReLU'": 1,
                 LeakyReLU: 1, "LeakyReLU'": 1, max: 2, min: 2};
  function read(text) {  // an AST, or an Unread error naming the position
    if (text.length > F.maxLength) throw new Unread("expected at most " + F.maxLength + " characters, got " + text.length);
    if (!text.trim()) throw new Unread("expected an expression, like \"x + y\", got an empty string");
    const toks = tokens(text);
    let k = 0, depth = 0;
    const peek = () => toks[k];
    const fail = (what, t) => { t = t || peek(); throw new Unread("expected " + what + " at position " + t[2] + ", got " + (t[0] === "end" ? "the end" : quote(t[1]))); };
    const isOp = (t, s) => t[0] === "op" && t[1] === s;
    const expect = (s) => { if (!isOp(peek(), s)) fail(quote(s)); k++; };
    const deeper = () => { if (++depth > F.maxDepth) throw new Unread("expected at most " + F.maxDepth + " nested parentheses, calls or signs, at position " + peek()[2]); };
    const starts = () => { const t = peek(); return t[0] === "number" || t[0] === "name" || isOp(t, "("); };
    function expr() {
      let out = term();
      while (isOp(peek(), "+") || isOp(peek(), "-")) { const op = toks[k++][1]; out = {op, a: out, b: term()}; }
      return out;
    }
    function term() {
      let out = factor();
      for (;;) {
        const t = peek();
        if (isOp(t, "*") || isOp(t, "/")) {
          k++;
          const rhs = factor();
          if (t[1] === "/" && constant(rhs) && value(rhs, []) === 0) fail("a divisor that is not 0", toks[k - 1]);
          out = {op: t[1], a: out, b: rhs};
        } else if (starts()) out = {op: "*", a: out, b: factor()};
        else return out;
      }
    }
    function factor() {
      const t = peek();
      if (isOp(t, "+") || isOp(t, "-")) { k++; deeper(); const inner = factor(); depth--; return t[1] === "-" ? {op: "neg", a: inner} : inner; }
      return power();
    }
    function power() {
      const base = atom();
      if (peek()[0] !== "power") return base;
      k++;
      const first = peek();  // the exponent's first token, as the Python parser names it
      deeper();
      const e = factor();
      depth--;
      const n = constant(e) ? value(e, []) : NaN;
      if (!(Number.isInteger(n) && Math.abs(n) <= F.maxPower)) fail("a whole-number exponent from -" + F.maxPower + " to " + F.maxPower, first);
      if (n < 0 && constant(base) && value(base, []) === 0) fail("a base that is not 0 under a negative exponent", t);
      return {op: "^", a: base, n};
    }
    function atom() {
      const t = peek();
      if (t[0] === "number" && t[1] === "1" && isOp(toks[k + 1], "[")) {
        k += 2; deeper();
        const inner = expr();
        expect(">");
        if (!(peek()[0] === "number" && peek()[1] === "0")) fail("0 (the step is written 1[z > 0])");
        k++; expect("]"); depth--;
        return {op: "call", f: "ReLU'", args: [inner]};
      }
      if (t[0] === "number") { k++; return {op: "num", v: Number(t[1]), text: t[1]}; }
      if (isOp(t, "(")) { k++; deeper(); const inner = expr(); expect(")"); depth--; return {op: "paren", a: inner}; }
      if (t[0] === "name") {
        k++;
        const called = isOp(peek(), "(");
        if (called && !(own(F.names, t[1]) && !own(ARITY, t[1]))) {
          if (!own(ARITY, t[1])) fail("a known function (" + F.functions.join(", ") + ")", t);
          k++; deeper();
          const args = [expr()];
          while (isOp(peek(), ",")) { k++; args.push(expr()); }
          expect(")"); depth--;
          if (args.length !== ARITY[t[1]]) fail(t[1] + " of " + ARITY[t[1]] + " argument" + (ARITY[t[1]] > 1 ? "s" : ""), t);
          return {op: "call", f: t[1], args};
        }
        if (own(ARITY, t[1])) fail(t[1] + "( with its argument in parentheses");
        if (!own(F.names, t[1])) fail("a known name", t);
        return {op: "name", q: F.names[t[1]], text: t[1]};
      }
      fail("a number, a name or '('");
    }
    const out = expr();
    if (peek()[0] !== "end") fail("an operator or the end");
    return out;
  }
  function constant(n) { return n.op === "num" || ((n.a === undefined || constant(n.a)) && (n.b === undefined || constant(n.b)) && n.op !== "name" && (n.args === undefined || n.args.every(constant))); }
  const sig = (z) => 1 / (1 + Math.exp(-z));
  const CALL = {exp: Math.exp, log: (z) => z > 0 ? Math.log(z) : NaN, ln: (z) => z > 0 ? Math.log(z) : NaN, sqrt: (z) => z >= 0 ? Math.sqrt(z) : NaN,
                tanh: Math.tanh, sigmoid: sig, "σ": sig, relu: (z) => Math.max(z, 0), ReLU: (z) => Math.max(z, 0),
                "relu'": (z) => z > 0 ? 1 : 0, "ReLU'": (z) => z > 0 ? 1 : 0, LeakyReLU: (z) => z > 0 ? z : z / 100,
                "LeakyReLU'": (z) => z > 0 ? 1 : 0.01, max: Math.max, min: Math.min};
  function value(n, q) {
    switch (n.op) {
      case "num": return n.v;
      case "name": return q[n.q];
      case "paren": return value(n.a, q);
      case "neg": return -value(n.a, q);
      case "+": return value(n.a, q) + value(n.b, q);
      case "-": return value(n.a, q) - value(n.b, q);
      case "*": return value(n.a, q) * value(n.b, q);
      case "/": return value(n.a, q) / value(n.b, q);
      case "^": return Math.pow(value(n.a, q), n.n);
      case "call": return CALL[n.f](...n.args.map((a) => value(a, q)));
    }
  }
  const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  function nameHtml(text) {  // Y_1 -> Y<sub>1</sub>, w^b_11 and w_b11 -> w<sup>b</sup><sub>11</sub>
    let m = /^([A-Za-z])\^(\(\d+\)|[A-Za-z])_(\d+)$/.exec(text) || /^([wb])_?([a-z])(\d+)$/.exec(text);
    if (m) return esc(m[1]) + "<sup>" + esc(m[2]) + "</sup><sub>" + esc(m[3]) + "</sub>";
    m = /^([A-Za-z])(\d)_(\d+)$/.exec(text);
    if (m) return esc(m[1]) + "<sup>(" + esc(m[2]) + ")</sup><sub>" + esc(m[3]) + "</sub>";
    m = /^([A-Za-z])_?(\d+)$/.exec(text);
    return m ? esc(m[1]) + "<sub>" + esc(m[2]) + "</sub>" : esc(text);
  }
  function shown(n) {  // what was read, with · and − and the brackets as typed
    switch (n.op) {
      case "num": return esc(n.text);
      case "name": return nameHtml(n.text);
      case "paren": return "(" + shown(n.a) + ")";
      case "neg": return "−" + shown(n.a);
      case "+": return shown(n.a) + " + " + shown(n.b);
      case "-": return shown(n.a) + " − " + shown(n.b);
      case "*": return shown(n.a) + "·" + shown(n.b);
      case "/": return shown(n.a) + "/" + shown(n.b);
      case "^": return shown(n.a) + "<sup>" + n.n + "</sup>";
      case "call": return n.f === "ReLU'" ? "1[" + shown(n.args[0]) + " > 0]" : esc(n.f) + "(" + n.args.map(shown).join(", ") + ")";
    }
  }
  const hasName = (n) => n.op === "name" || [n.a, n.b].concat(n.args || []).some((c) => c !== undefined && hasName(c));
  const agree = (a, b) => Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-3);  // (1e-12 absolute: a cancelled 0)
  const here = F.quantities.map((i) => X.f(start.value(null, i, 0, null)));  // the problem's own values, from its formulas
  const forms = {};
  for (const [key, b] of Object.entries(F.blanks)) {
    const f = new Function("q", "return (" + b.form + ");");
    forms[key] = {truth: b.points.map((pt) => f((i) => pt[i])), here: f((i) => here[i])};
  }
  function judgeFormula(key, text) {  // as teaching.formula.Judge.judge: {verdict, kind, mistakes, read, note}
    const b = F.blanks[key];
    let ast;
    try { ast = read(text); } catch (e) {
      if (!(e instanceof Unread)) throw e;
      return {verdict: "wrong", kind: F.kinds.unread, mistakes: [], note: e.message, read: ""};
    }
    const read_ = shown(ast);
    if (!hasName(ast)) return {verdict: "wrong", kind: F.kinds.number, mistakes: [], read: read_, note: "write the formula, not its value"};
    const got = b.points.map((pt) => value(ast, pt));
    if (got.every((v, n) => agree(v, forms[key].truth[n])))  // how it was established, as check says it
      return {verdict: "correct", kind: "", mistakes: [], read: read_, note: "checked numerically at " + got.length + " points"};
    const named = [], texts = [];
    for (const s of b.slips) {
      if (!named.includes(s.name) && got.every((v, n) => agree(v, s.values[n]))) { named.push(s.name); texts.push(s.text); }
    }
    if (named.length) return {verdict: "wrong", kind: "", mistakes: named, texts, read: read_};
    if (agree(value(ast, here), forms[key].here)) return {verdict: "wrong", kind: F.kinds.general, mistakes: [], read: read_,
                                                          note: "it agrees at this problem's numbers, but not for other weights and data"};
    return {verdict: "wrong", kind: "", mistakes: [], read: read_};
  }
  for (const el of document.querySelectorAll("input[data-formula]")) {
    const key = el.dataset.formula;
    const readEl = document.querySelector('[data-read-for="' + key + '"]');
    const fb = document.querySelector('[data-feedback-for="' + key + '"]');
    el.addEventListener("input", () => {
      let r = null;
      try { r = el.value.trim() ? shown(read(el.value)) : ""; } catch (e) { if (!(e instanceof Unread)) throw e; }
      readEl.innerHTML = r ? "we read: " + r : "";  // built from the whitelist's names and digits, escaped
    });
    const judge = () => {
      const r = el.value.trim() ? judgeFormula(key, el.value) : null;
      el.classList.remove("correct", "wrong"); fb.classList.remove("correct", "wrong");
      if (r) { el.classList.add(r.verdict); fb.classList.add(r.verdict); }
      fb.dataset.mistakes = r ? r.mistakes.join(" ") : "";
      fb.dataset.kind = r ? r.kind : "";
      fb.textContent = !r ? "" : r.verdict === "correct" ? "correct (" + r.note + ")" : r.mistakes.length ? "not right: " + r.texts.join(" / ")
                       : r.kind ? r.kind + (r.note ? ": " + r.note : "") : "not right (no classic mistake gives this formula)";
      update();
    };
    el.addEventListener("change", judge);
    el.addEventListener("keydown", (e) => { if (e.key === "Enter") judge(); });
  }
  window.derivationsFormula = {judgeFormula, read};  // for tests: the verdicts, as computed here
}
"""
