// Numbers as the Python checker holds them: a rational exactly (BigInt numerator and denominator), anything
// else a float. A formula printed by derivations.outputs.exact_js calls these, so that a value stays exact
// while it is rational (a ReLU's H_1 = 0.09 − 0.1 + 0.01 is 0, not 6.9e-18) and a kink (ReLU′, max) is
// decided on it as SymPy decides it; exp, log and tanh of anything but their exact points give floats.
const X = (() => {
  class Q { constructor(p, q) { this.p = p; this.q = q; } }  // p/q, q > 0, in lowest terms
  const abs = (n) => (n < 0n ? -n : n);
  const gcd = (a, b) => { a = abs(a); b = abs(b); while (b) [a, b] = [b, a % b]; return a; };
  const make = (p, q) => {
    if (q === 0n) return NaN;
    if (q < 0n) { p = -p; q = -q; }
    const g = gcd(p, q);
    return g === 1n ? new Q(p, q) : new Q(p / g, q / g);
  };
  const isQ = (v) => v instanceof Q;
  const ZERO = new Q(0n, 1n), ONE = new Q(1n, 1n), HALF = new Q(1n, 2n), LEAK = new Q(1n, 100n);
  const bits = (n) => (n === 0n ? 0 : abs(n).toString(2).length);
  function f(v) {  // a float: a rational correctly rounded where it fits, else to 64 bits first
    if (!isQ(v)) return v;
    if (bits(v.p) <= 53 && bits(v.q) <= 53) return Number(v.p) / Number(v.q);
    const shift = 64 - (bits(v.p) - bits(v.q));
    const n = shift >= 0 ? (v.p << BigInt(shift)) / v.q : v.p / (v.q << BigInt(-shift));
    const half = Math.trunc(shift / 2);
    return Number(n) * Math.pow(2, -half) * Math.pow(2, half - shift);
  }
  const q = (p, d) => make(BigInt(p), BigInt(d));
  const zero = (v) => (isQ(v) ? v.p === 0n : v === 0);
  const sign = (v) => (isQ(v) ? (v.p > 0n ? 1 : v.p < 0n ? -1 : 0) : Math.sign(v));
  function add(...xs) {
    if (xs.every(isQ)) {
      let p = 0n, d = 1n;
      for (const x of xs) { p = p * x.q + x.p * d; d *= x.q; }
      return make(p, d);
    }
    return xs.reduce((s, x) => s + f(x), 0);
  }
  function mul(...xs) {
    if (xs.some((x) => isQ(x) && x.p === 0n) && xs.every((x) => isQ(x) || Number.isFinite(x) || x === COMPLEX)) return ZERO;  // 0·x = 0, as SymPy
    if (xs.every(isQ)) {
      let p = 1n, d = 1n;
      for (const x of xs) { p *= x.p; d *= x.q; }
      return make(p, d);
    }
    return xs.reduce((s, x) => s * f(x), 1);
  }
  const sub = (a, b) => add(a, mul(q(-1, 1), b));
  function pow(b, e) {
    if (isQ(b) && isQ(e) && e.q === 1n && abs(e.p) <= 64n) {
      const n = e.p < 0n ? -e.p : e.p;
      const r = make(b.p ** n, b.q ** n);
      return e.p < 0n ? (r.p === 0n ? NaN : make(r.q, r.p)) : r;
    }
    if (isQ(b) && isQ(e) && e.p === 1n && e.q === 2n && b.p >= 0n) {  // the square root of a square: exact, as SymPy
      const s = [b.p, b.q].map((n) => BigInt(Math.round(Math.sqrt(Number(n)))));
      if (s[0] * s[0] === b.p && s[1] * s[1] === b.q) return make(s[0], s[1]);
    }
    return Math.pow(f(b), f(e));
  }
  const exp = (v) => (isQ(v) && v.p === 0n ? ONE : Math.exp(f(v)));
  // A log of a negative number is a complex number, finite: 0 times it is 0, as in SymPy (a cross-entropy's zero
  // target times the log of a student's negative Y); any other use of it is NaN, as a float.
  const COMPLEX = Object.freeze({valueOf: () => NaN});
  const log = (v) => (isQ(v) && v.p === v.q ? ZERO : (f(v) > 0 ? Math.log(f(v)) : f(v) < 0 ? COMPLEX : NaN));
  const log1p = (v) => (isQ(v) && v.p === 0n ? ZERO : (f(v) > -1 ? Math.log1p(f(v)) : NaN));
  const tanh = (v) => (isQ(v) && v.p === 0n ? ZERO : Math.tanh(f(v)));
  function cmp(a, b) {  // -1, 0, 1: exactly between rationals
    if (isQ(a) && isQ(b)) { const d = a.p * b.q - b.p * a.q; return d > 0n ? 1 : d < 0n ? -1 : 0; }
    const x = f(a), y = f(b);
    return x > y ? 1 : x < y ? -1 : 0;
  }
  const exact = isQ;
  const same = (a, b) => {  // as marking.same: exactly when both are rational, to a relative 1e-12 else
    if (a === null || b === null) return false;
    if (isQ(a) && isQ(b)) return a.p === b.p && a.q === b.q;
    const x = f(a), y = f(b);
    return x === y || Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
  };
  const TEXT = /^\s*([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\s*$/;
  function read(text) {  // a decimal or a fraction, exactly (the page's parse has checked its grammar)
    const t = text.trim().replace(/\u2212/g, "-");
    if (t.includes("/")) { const [p, d] = t.split("/"); return make(BigInt(p), BigInt(d)); }
    const m = TEXT.exec(t);
    const digits = BigInt((m[1] === "-" ? "-" : "") + ((m[2] || "") + (m[3] || "") || "0"));
    const scale = (m[4] ? parseInt(m[4], 10) : 0) - (m[3] || "").length;
    return scale >= 0 ? make(digits * 10n ** BigInt(scale), 1n) : make(digits, 10n ** BigInt(-scale));
  }
  return {
    q, f, add, mul, sub, pow, exp, log, log1p, tanh, exact, zero, same, read, cmp,
    abs: (v) => (sign(v) < 0 ? mul(q(-1, 1), v) : v),
    relu: (h) => (sign(h) >= 0 ? h : ZERO),  // as engine.functions: ReLU(h) = h for h ≥ 0
    step: (h) => (sign(h) > 0 ? ONE : ZERO),  // ReLU′: 1 for h > 0, 0 at 0 and below (the handout's 1[h > 0])
    leaky: (h) => (sign(h) >= 0 ? h : mul(LEAK, h)),
    lstep: (h) => (sign(h) > 0 ? ONE : LEAK),
    heav: (x, h0) => (sign(x) > 0 ? ONE : sign(x) < 0 ? ZERO : (h0 === undefined ? HALF : h0)),  // SymPy's Heaviside
    max: (...xs) => xs.reduce((a, b) => (cmp(b, a) > 0 ? b : a)),
    min: (...xs) => xs.reduce((a, b) => (cmp(b, a) < 0 ? b : a)),
    eq: (a, b) => cmp(a, b) === 0, ne: (a, b) => cmp(a, b) !== 0, gt: (a, b) => cmp(a, b) > 0,
    ge: (a, b) => cmp(a, b) >= 0, lt: (a, b) => cmp(a, b) < 0, le: (a, b) => cmp(a, b) <= 0,
    finite: (v) => isQ(v) || Number.isFinite(v),
  };
})();
