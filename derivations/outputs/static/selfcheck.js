"use strict";
const D = /*DATA*/;
// The marking of derivations.teaching.marking, run on the formulas it printed (SymPy's, never user text), in
// the checker's numbers (X: a rational exactly, anything else a float).
const compile = (src) => { const f = new Function("g", "X", "return (" + src + ");"); return (g) => f(g, X); };
class Undefined extends Error {}
const defs = new Map(D.defs.map(([i, src]) => [i, compile(src)]));
const deps = new Map(D.deps);
const exactly = (v) => (typeof v === "string" ? X.read(v) : v);  // a rational shipped as its text "p/q"
const leaves = new Map(D.leaves.map(([i, v]) => [i, exactly(v)]));
const users = new Map();
for (const [i, ds] of D.deps) for (const u of ds) { if (!users.has(u)) users.set(u, []); users.get(u).push(i); }
function downstream(start) {
  const out = new Set(), stack = [...start];
  while (stack.length) { const s = stack.pop(); if (!out.has(s)) { out.add(s); stack.push(...(users.get(s) || [])); } }
  return out;
}
let worldId = 0;
const worlds = D.worlds.map((w) => ({id: worldId++, mistake: w.mistake, over: new Map(w.over.map(([i, src]) => [i, compile(src)])),
                                    overDeps: new Map(w.over.map(([i, , ds]) => [i, ds])), affected: new Set(w.affected)}));
const alternatives = new Map(D.alternatives.map(([i, alts]) => [i, alts.map(([src, ds]) => [compile(src), ds])]));
const pathWorlds = new Map();
function pathsOf(syms) {  // "one path only": a world per term of each chain-rule sum (kept: values are remembered by world)
  const out = [];
  if (D.onePath === null) return out;
  for (const s of syms) {
    if (!pathWorlds.has(s)) {
      pathWorlds.set(s, (alternatives.get(s) || []).map(([f, ds]) => ({id: worldId++, mistake: D.onePath, over: new Map([[s, f]]),
                                                                     overDeps: new Map([[s, ds]]), affected: downstream([s])})));
    }
    out.push(...pathWorlds.get(s));
  }
  return out;
}
const same = X.same;
const distance = (a, b) => Math.abs(X.f(a) - X.f(b));

class Evaluator {  // as marking._Evaluator: values in a world, seen from the c-th answered blank
  constructor(answers) {
    this.answers = answers;  // Map sym -> [index, value]
    this.memo = new Map();
    this.seen = new Map();
    if (answers.size) for (const [s] of D.defs) {
      const acc = new Set();
      for (const u of deps.get(s)) {
        for (const i of (this.seen.get(u) || [])) acc.add(i);
        if (answers.has(u)) acc.add(answers.get(u)[0]);
      }
      if (answers.has(s)) acc.add(answers.get(s)[0]);
      this.seen.set(s, acc);
    }
  }
  cut(s, c) {
    const seen = this.seen.get(s);
    if (!seen || !seen.size) return this.answers.has(s) ? Math.min(c, this.answers.get(s)[0] + 1) : 0;
    let best = -1;
    for (const i of seen) if (i < c && i > best) best = i;
    return best + 1;
  }
  value(w, s, c, bump) {
    if (this.answers.has(s) && this.answers.get(s)[0] < c) {
      const v = this.answers.get(s)[1];
      return bump === s ? X.add(v, this.answers.get(s)[2]) : v;
    }
    if (leaves.has(s)) return leaves.get(s);
    if (w !== null && !w.affected.has(s)) w = null;
    if (w === null) {
      c = this.cut(s, c);
      if (bump !== null && !(this.answers.has(bump) && (this.seen.get(s) || new Set()).has(this.answers.get(bump)[0]))) bump = null;
    }
    const key = (w === null ? -1 : w.id) + ":" + s + ":" + c + ":" + bump;
    if (this.memo.has(key)) return this.memo.get(key);
    const f = (w !== null && w.over.has(s)) ? w.over.get(s) : defs.get(s);
    let out = null;
    try {
      out = f((j) => { const v = this.value(w, j, c, bump); if (v === null) throw new Undefined(); return v; });
      if (typeof out === "boolean") out = X.q(out ? 1 : 0, 1);
      if (!X.finite(out)) out = null;
    } catch (e) { if (!(e instanceof Undefined)) throw e; out = null; }
    this.memo.set(key, out);
    return out;
  }
  walk(s, c, stopAtAnswers, w) {  // the answers a formula reaches (or, not stopAtAnswers, the symbols before them)
    const depsOf = (t) => (w && w.overDeps.has(t)) ? w.overDeps.get(t) : (deps.get(t) || []);
    const out = [], stack = stopAtAnswers ? [...depsOf(s)] : [s], seen = new Set();
    while (stack.length) {
      const t = stack.pop();
      if (seen.has(t)) continue;
      seen.add(t);
      const given = this.answers.has(t) && this.answers.get(t)[0] < c;
      if (stopAtAnswers) {
        if (given) out.push(t); else if (deps.has(t)) stack.push(...depsOf(t));
      } else if (!leaves.has(t) && !given) { out.push(t); stack.push(...depsOf(t)); }
    }
    return out;
  }
}
const start = new Evaluator(new Map());
const truth = {};  // each blank's true value (exact where rational) and, for tests, as a float
for (const key of D.order) truth[key] = D.blanks[key].defined ? start.value(null, D.blanks[key].sym, 0, null) : null;
const truthFloat = Object.fromEntries(Object.entries(truth).map(([k, v]) => [k, v === null ? null : X.f(v)]));
const TYPED = /^\s*[+\-\u2212]?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\s*$/;
function digitsOf(text) {  // [significant digits, half a unit in the last digit (exact)], or null for a fraction
  const m = TYPED.exec(text.replace(/,/g, "."));
  if (!m || !(m[1] || m[2])) return null;
  const frac = m[2] || "";
  const e = m[3] ? m[3].replace(/^[+-]?0*/, "") : "";  // 1e-00003 is 1e-3, as the reader takes it
  const scale = (e && e.length <= 4 ? (m[3].startsWith("-") ? -1 : 1) * parseInt(e, 10) : 0) - frac.length;
  return [(m[1] + frac).replace(/^0+/, "").length, scale >= 0 ? X.q(10n ** BigInt(scale), 2) : X.q(1, 2n * 10n ** BigInt(-scale))];
}
// as marking.classify: "match", "short" or null. irrational: the checker's value is no rational (a decimal of
// a few digits is never it, however close this page's float)
function classify(text, a, t, slack, drift, irrational) {
  if (t === null || !X.finite(t)) return null;
  if (!irrational && same(a, t)) return "match";
  const dg = digitsOf(text), gap = distance(a, t), eps = 1 + 1e-9, size = Math.abs(X.f(t));
  if (!dg) return null;  // a fraction: exact or not this value
  if (dg[0] < D.digits) {  // too few digits: near the value, never it (one digit is no rounding: 1 for 0.5)
    let rounded = false;
    if (dg[0] >= 2 && !X.zero(t)) {
      let e = Math.floor(Math.log10(size));
      if (Math.pow(10, e) > size) e -= 1;
      if (Math.pow(10, e + 1) <= size) e += 1;
      rounded = gap <= (0.5 * Math.pow(10, e - dg[0] + 1) + (drift || 0)) * eps;
    }
    return rounded || gap <= slack * eps ? "short" : null;
  }
  if (gap <= slack * eps || gap <= X.f(dg[1]) * eps) return "match";  // within the tolerance, or correctly rounded
  return null;
}
// One number reader, as engine.reading.parse_answer: decimals (a point or one decimal comma), fractions, a
// minus sign; a comma that could group thousands (1,234) is refused.
const DECIMAL = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const FRACTION = /^[+-]?[0-9]+\/[0-9]+$/;
const AMBIGUOUS = /^[+-]?[1-9][0-9]{0,2},[0-9]{3}$/;
function parse(text) {  // by pattern, never evaluated: a number, or a string saying why not
  let t = text.trim().replace(/\u2212/g, "-");
  if (AMBIGUOUS.test(t)) return "not one number: " + t + " could be " + t.replace(",", ".") + " or " + t.replace(",", "") + "; write " + t.replace(",", ".") + " (a point)";
  if (/^[+-]?[0-9]*,[0-9]+([eE][+-]?[0-9]+)?$/.test(t)) t = t.replace(",", ".");
  if (FRACTION.test(t)) {
    const [p, q] = t.split("/");
    if (p.replace(/^[+-]/, "").length > 60 || q.length > 60) return "not a number: at most 60 digits";
    return /^0+$/.test(q) ? "not a number: division by zero" : X.read(t);
  }
  if (!DECIMAL.test(t)) return "not a number: write it as 0.9, .9, 9/10, -7/40, 1e-2 or 0,9";
  const [mantissa, exponent] = t.split(/[eE]/);  // as parse_number: 60 digits, exponents to ±400 (0002 is 2)
  if (mantissa.replace(/[^0-9]/g, "").length > 60) return "not a number: at most 60 digits";
  if (exponent !== undefined && Number(exponent.replace(/^[+-]?0*/, "") || "0") > 400) return "not a number: an exponent from -400 to 400";
  return Number.isFinite(Number(t)) ? X.read(t) : "not a number this page can hold (beyond about 1e308)";
}

const REL_TOL = X.read(D.relTol);
function rounding(a, text, t) {  // as marking.rounding: half a unit in the last digit typed; where the answer is
  const dg = digitsOf(text), unit = dg ? dg[1] : X.q(0, 1);  // right within its tolerance, up to its gap to it
  if (t === null || !X.finite(t)) return unit;
  const gap = X.abs(X.sub(a, t));
  return X.f(gap) <= Math.max(X.f(X.abs(X.mul(a, REL_TOL))), X.f(unit)) * (1 + 1e-12) ? X.max(unit, gap) : unit;
}
function judgeSheet(entries) {  // entries: [[key, value, text]] -> {key: result}, as marking.Sheet.judge
  entries.sort((x, y) => D.blanks[x[0]].rank - D.blanks[y[0]].rank);
  const answers = new Map(), index = {}, byKey = {}, keyOf = new Map();
  entries.forEach(([key, a, text], n) => {
    index[key] = n; byKey[key] = [a, text];
    answers.set(D.blanks[key].sym, [n, a, rounding(a, text, truth[key])]); keyOf.set(D.blanks[key].sym, key);
  });
  const ev = new Evaluator(answers);
  const out = {}, named = {};
  for (const [key, a, text] of entries) {
    const r = judgeOne(ev, key, a, text, index[key], out, named, byKey, keyOf);
    for (const mm of r.mistakes || []) named[mm] = (named[mm] || 0) + 1;
    out[key] = r;
  }
  return out;
}
function judgeOne(ev, key, a, text, c, done, named, byKey, keyOf) {
  const b = D.blanks[key], s = b.sym, t = truth[key];
  const verdict = classify(text, a, t, t === null ? 0 : b.tol * Math.abs(X.f(t)), 0, b.irrational);
  if (verdict === "match") return {verdict: "correct"};
  let short = verdict === "short";  // decided last: exactly what follows, or what a slip gives, comes first
  const step = ev.value(null, s, c, null);
  const inputs = ev.walk(s, c, true, null).sort((x, y) => ev.answers.get(x)[0] - ev.answers.get(y)[0]);
  const moved = inputs.filter((u) => !same(byKey[keyOf.get(u)][0], truth[keyOf.get(u)]));
  let exclude = null, note = "", noCredit = [];
  if (moved.length && step !== null) {
    let drift = 0;
    for (const u of moved) { const v = ev.value(null, s, c, u); if (v !== null) drift += distance(v, step); }
    const follow = classify(text, a, step, X.f(REL_TOL) * Math.abs(X.f(step)) + drift, drift);
    const wrong = inputs.map((u) => keyOf.get(u)).filter((k) => done[k].verdict !== "correct");
    if (follow === "match") {
      if (!wrong.length) return {verdict: "correct", note: "right from your rounded earlier answers"};
      const zeros = wrong.filter((k) => X.zero(byKey[k][0]));
      const trivial = X.zero(step) || (b.trivial !== null && same(step, exactly(b.trivial)));
      if (!(zeros.length && trivial && !X.zero(t))) return {verdict: "follows", follows: wrong};
      noCredit = zeros;
      note = D.notes.zero.replace("{zeros}", zeros.map((k) => D.blanks[k].label).join(", "));
      exclude = step;
    } else if (follow === "short") short = true;
  }
  const base = step !== null ? step : t;
  const found = new Map();
  for (const w of worlds.concat(pathsOf(ev.walk(s, c, false, null)))) {
    if (!w.affected.has(s)) continue;
    const v = ev.value(w, s, c, null);
    if (v === null || same(v, base) || (exclude !== null && same(v, exclude))) continue;
    let drift = 0;  // as for a step that follows: what the rounding of each earlier answer changes
    for (const u of ev.walk(s, c, true, w)) {
      if (same(byKey[keyOf.get(u)][0], truth[keyOf.get(u)])) continue;
      const x = ev.value(w, s, c, u);
      if (x !== null) drift += distance(x, v);
    }
    const how = classify(text, a, v, b.tol * Math.abs(X.f(v)) + drift, drift);
    if (how !== null && !(short && how !== "match")) {  // too few digits: only a slip's exact value
      const d = distance(a, v), m = D.mistakes[w.mistake].name;
      if (!found.has(m) || d < found.get(m).d) found.set(m, {d, mistake: w.mistake, v, how});
    }
  }
  const r = {verdict: "wrong", noCredit, note, mistakes: []};
  if (!found.size) return short && !noCredit.length ? {verdict: "wrong", short: true, note: D.notes.short} : r;
  const all = [...found.values()];
  const best = all.reduce((x, y) => (y.d < x.d ? y : x));
  let tied = all.filter((f) => distance(f.v, best.v) <= b.tol * Math.abs(X.f(best.v)) || same(f.v, best.v));
  const most = Math.max(...tied.map((f) => named[D.mistakes[f.mistake].name] || 0));
  tied = tied.filter((f) => (named[D.mistakes[f.mistake].name] || 0) === most);
  tied.sort((x, y) => (x.d - y.d) || (x.mistake - y.mistake));
  r.mistakes = tied.map((f) => D.mistakes[f.mistake].name);
  r.titles = tied.map((f) => D.mistakes[f.mistake].title + ". " + D.mistakes[f.mistake].hint);
  const notes = note ? [note] : [];
  if (tied.length > 1) notes.push(D.notes.tie);
  if (tied.some((f) => f.how === "short")) notes.push(D.notes.short);
  r.note = notes.join("; ");
  return r;
}
function feedback(r, shown) {  // the verdict in words
  if (r.verdict === "correct") return "correct" + (r.note ? " (" + r.note + ")" : "");
  if (r.verdict === "follows") {
    return "follows from your " + r.follows.map((k) => D.blanks[k].label + " = " + shown[k]).join(", ") +
           " (this step is right; look earlier)";
  }
  if (r.short && !(r.mistakes && r.mistakes.length)) return "not right: " + r.note + ".";
  if (r.mistakes && r.mistakes.length) return r.titles.join(" / ") + (r.note ? " (" + r.note + ")" : "");
  return "not right (no classic mistake gives this value from your earlier answers)." + (r.note ? " " + r.note + "." : "");
}
// for tests: the verdicts, as computed here (truth: each blank's value as a float; X: the page's numbers)
window.derivationsMarking = {judgeSheet, parse, truth: truthFloat, classify, X};

const inputs = Array.from(document.querySelectorAll("input[data-key]"));
const baseKey = (k) => k.replace(/#\d+$/, "");
const shown = {};  // each answer as typed (for "follows from your H_1 = 0.2")
const scoreEl = document.querySelector("[data-score]");
const announce = document.getElementById("announce");
const nodes = Array.from(document.querySelectorAll("[data-node]"));
let last = null;  // the input typed in last: its verdict is announced
function update(ev) {
  if (ev && ev.target) last = ev.target;
  const entries = [], seen = new Set(), unread = {};
  for (const el of inputs) {  // each key's first answer that reads as a number
    const key = baseKey(el.dataset.key);
    if (el.value.trim() === "" || seen.has(key)) continue;
    const a = parse(el.value);
    if (typeof a === "string") { unread[el.dataset.key] = a; continue; }
    seen.add(key);
    shown[key] = el.value.trim();
    entries.push([key, a, el.value.trim()]);
  }
  const results = judgeSheet(entries);
  const verdictOf = {};
  let nc = 0, nf = 0;
  for (const el of inputs) {
    const fb = document.querySelector('[data-feedback-for="' + el.dataset.key + '"]');
    const key = baseKey(el.dataset.key);
    let r = null, text = "";
    if (el.value.trim() !== "") {
      if (el.dataset.key in unread) { r = {verdict: "unreadable"}; text = unread[el.dataset.key]; }
      else {
        const a = parse(el.value);
        r = (shown[key] === el.value.trim()) ? results[key] : judgeSheet(entries.filter((e) => e[0] !== key).concat([[key, a, el.value.trim()]]))[key];
        text = feedback(r, shown);
      }
    }
    const cls = r ? r.verdict : "";
    if (r && !(key in verdictOf) && r.verdict !== "unreadable") verdictOf[key] = r.verdict;
    if (cls === "correct") nc += 1;
    if (cls === "follows") nf += 1;
    el.classList.remove("correct", "follows", "wrong", "unreadable");
    fb.classList.remove("correct", "follows", "wrong", "unreadable");
    if (cls) { el.classList.add(cls); fb.classList.add(cls); }
    el.setAttribute("aria-invalid", cls === "wrong" || cls === "unreadable" ? "true" : "false");
    fb.dataset.mistakes = r && r.mistakes ? r.mistakes.join(" ") : "";
    if (fb.textContent !== text) fb.textContent = text;  // only changes are announced
    if (el === last) announce.textContent = text ? D.blanks[key].label + ": " + text : "";
  }
  let first = true;
  for (const g of nodes) {
    const v = verdictOf[g.dataset.key];
    if (v) g.dataset.verdict = v; else delete g.dataset.verdict;
    g.querySelector(".value").textContent = v ? shown[g.dataset.key] : "";
    if (v === "wrong" && first) { g.dataset.firstDivergence = ""; first = false; }
    else delete g.dataset.firstDivergence;
  }
  nc += document.querySelectorAll("input[data-formula].correct").length;  // the formula blanks' verdicts
  scoreEl.textContent = nc + " / " + scoreEl.dataset.total + " correct" + (nf ? ", " + nf + " follow" : "");
  scoreEl.dataset.correct = nc;
  scoreEl.dataset.follows = nf;
}
for (const el of inputs) {
  el.addEventListener("change", update);
  el.addEventListener("keydown", (e) => { if (e.key === "Enter") update(e); });
}
const closing = document.querySelector("[data-closing]");
if (closing) {  // the closing question: the gradient of W_a from the page's formulas, the symmetry from the init
  const firstLayer = Object.keys(truth).filter((k) => k.startsWith("grad.w_a"));
  const zero = firstLayer.every((k) => truth[k] !== null && Math.abs(X.f(truth[k])) <= 1e-12);
  const fb = closing.querySelector('[data-feedback-for="closing"]');
  closing.addEventListener("change", () => {
    const grad = closing.querySelector('input[name="closing-grad"]:checked');
    const units = closing.querySelector('input[name="closing-units"]:checked');
    const right = [];
    const wrong = [];
    if (grad) (grad.value === (zero ? "zero" : "nonzero") ? right : wrong).push("the gradient");
    if (units) (units.value === (D.symmetric ? "alike" : "different") ? right : wrong).push("the hidden units");
    const cls = wrong.length ? "wrong" : (right.length ? "correct" : "");
    fb.classList.remove("correct", "wrong");
    if (cls) fb.classList.add(cls);
    fb.textContent = wrong.length ? "not right: " + wrong.join(" and ") + " (look again at your gradients of the first layer above: what does a step of gradient descent do with them?)"
                                  : (right.length === 2 ? "correct: both" : (right.length ? "correct so far" : ""));
  });
}
