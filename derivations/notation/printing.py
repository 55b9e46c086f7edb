"""Printers with the handout's conventions: one SymPy expression, written as text or as LaTeX.

Every formula of the worked solution is a SymPy expression, built unevaluated where the handout's order
matters (``0.1·0.9 + 0.1·0.5``, ``[∇O_1·w^b_11 + ∇O_2·w^b_21]``). The printers keep the order they are given,
put a product's factors with ``·`` between them, parenthesize what precedence asks for (so tanh's
``(1 − L_1²)`` keeps its parentheses), and write a number inside a substitution as the handout does, with a
negative one in parentheses:

>>> from sympy import Symbol, Mul, Add, Rational
>>> L = Symbol("L_1", real=True)
>>> text(Mul(Symbol("∇Y_1"), Add(1, -L**2, evaluate=False), evaluate=False))
'∇Y_1·(1 − L_1²)'
>>> text(Mul(Num(Rational(1, 4)), Num(Rational(-1, 2)), evaluate=False)), tex(Num(Rational(-1, 2)))
('0.25·(−0.5)', '-0.5')
"""

from __future__ import annotations

import re

from sympy import Add, AtomicExpr, Expr, Function, Mul, Pow, Rational, exp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter


def _scientific_tex(text: str) -> str:
    """``4.38568e-4`` as LaTeX writes it, ``4.38568 \\times 10^{-4}``; any other text unchanged."""
    mantissa, e, exponent = text.partition("e")
    if not e or not exponent.lstrip("+-").isdigit():
        return text
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


class Num(AtomicExpr):
    """A number as written in a substitution: exact decimal (``0.15``), fraction or rounded (``0.4968``).

    ``value`` is the exact number; ``shown`` the text (with ``−``), ``tex`` its LaTeX; ``exact`` says whether
    the text is the value itself (else it is rounded)."""

    is_commutative = True

    def __new__(cls, value, shown: str | None = None, tex: str | None = None, exact: bool = True):
        obj = AtomicExpr.__new__(cls)
        if shown is None:
            shown = decimal_text(value)
            if shown is None:
                raise ValueError(f"{value} has no exact decimal: give its text")
        obj.value, obj.shown, obj.exact = value, shown.replace("-", "−"), exact
        obj.tex = tex if tex is not None else _scientific_tex(shown.replace("−", "-"))
        return obj

    def _hashable_content(self):
        return (self.value, self.shown, self.tex)

    @property
    def negative(self) -> bool:
        return self.shown.startswith("−")

    @property
    def precedence(self) -> int:
        return PRECEDENCE["Add"] if self.negative else PRECEDENCE["Atom"]


class Words(AtomicExpr):
    """Prose inside a line (``closed form: ``), spelled as text and as LaTeX (``\\text{...}``)."""

    is_commutative = True

    def __new__(cls, shown: str, tex: str | None = None):
        obj = AtomicExpr.__new__(cls)
        obj.shown, obj.tex = shown, tex if tex is not None else r"\text{%s}" % shown
        return obj

    def _hashable_content(self):
        return (self.shown, self.tex)


class Tagged(AtomicExpr):
    """An expression after a label: ``ℒ → Y_1 → O_1 → w^b_11:  ∇Y_1·∂Y_1/∂O_1·L_1``."""

    is_commutative = True

    def __new__(cls, label: str, label_tex: str, expr: Expr):
        obj = AtomicExpr.__new__(cls)
        obj.label, obj.label_tex, obj.expr = label, label_tex, expr
        return obj

    def _hashable_content(self):
        return (self.label, self.label_tex, self.expr)


def applied(name_text: str, name_tex: str, arg: Expr) -> Expr:
    """``name(arg)`` printed as ``sigmoid(0.15)`` / ``\\sigma\\left(0.15\\right)``, never evaluated."""
    cls = _APPLIED.get((name_text, name_tex))
    if cls is None:
        cls = type(f"applied_{len(_APPLIED)}", (Function,), {
            "nargs": 1,
            "_sympystr": lambda self, p: f"{name_text}({p._print(self.args[0])})",
            "_latex": lambda self, p: rf"{name_tex}\left({p._print(self.args[0])}\right)",
        })
        _APPLIED[(name_text, name_tex)] = cls
    return cls(arg, evaluate=False)


_APPLIED: dict = {}


def decimal_text(v) -> str | None:
    """The exact decimal of a rational with a terminating expansion (``0.15``), else ``None``.

    >>> decimal_text(Rational(-3, 80)), decimal_text(Rational(1, 3))
    ('-0.0375', None)
    """
    if not isinstance(v, (Rational, int)):
        return None
    p, q = (int(v), 1) if isinstance(v, int) else (int(v.p), int(v.q))  # plain integers: safe under evaluate(False)
    rest, twos, fives = q, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return None
    places = max(twos, fives)
    if places > 60:
        return None
    scaled = p * 10**places // q
    sign, digits = ("-" if scaled < 0 else ""), str(abs(scaled)).rjust(places + 1, "0")
    if places == 0:
        return sign + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _negated(term):
    """``x`` for a term written ``−x`` (a negative number, or a product led by one), else ``None``."""
    if term.is_Number:
        return -term if term < 0 else None
    if isinstance(term, Mul) and term.args[0].is_Number and term.args[0] < 0 and len(term.args) > 1:
        c, rest = -term.args[0], list(term.args[1:])
        if c != 1:
            rest.insert(0, c)
        return rest[0] if len(rest) == 1 else Mul(*rest, evaluate=False)
    return None


def _split(expr: Mul) -> tuple:
    """A product's sign, leading rational coefficient (or None), numerator and denominator factors, in the
    order given."""
    sign, coeff, num, den = "", None, [], []
    args = []
    for f in expr.args:  # an unevaluated product may nest products: read them flat
        args += list(f.args) if isinstance(f, Mul) else [f]
    for k, f in enumerate(args):
        if f == 1 and len(args) > 1:
            continue  # an unevaluated 1·(…), as 2/N·(…) with N = 2
        if f.is_Number and f < 0:
            sign = "" if sign else "-"
            f = -f
            if f == 1:
                continue
        if k == 0 and f.is_Rational and not f.is_Integer:
            coeff = f
        elif isinstance(f, Pow) and f.exp.is_Number and f.exp < 0:
            den.append(f.base if f.exp == -1 else Pow(f.base, -f.exp, evaluate=False))
        else:
            num.append(f)
    return sign, coeff, num, den


class _Sums:
    """The sum both printers write the same way, in the order given: ``a − b + (−0.5)``."""

    MINUS = ("−", " − ")  # before a first term, before any other

    def _print_Add(self, expr, order=None):
        out = []
        for k, term in enumerate(expr.args):
            rest = _negated(term)
            if rest is not None:
                body = self._factor(rest) if not isinstance(rest, Mul) else self._print(rest)
                out.append(self.MINUS[k > 0] + body)
            else:
                s = self._factor(term) if isinstance(term, Num) and k > 0 else self._print(term)
                out.append(s if k == 0 else " + " + s)
        return "".join(out)


class TextPrinter(_Sums, StrPrinter):
    """Plain text as the handout reads: ``·`` for products, ``−`` for minus, ``²``, ``e^x``."""

    printmethod = "_sympystr"

    def _print_Num(self, expr):
        return expr.shown

    def _print_Words(self, expr):
        return expr.shown

    def _print_Tagged(self, expr):
        return f"{expr.label}:  {self._print(expr.expr)}"

    def _print_Symbol(self, expr):
        return expr.name

    def _factor(self, f) -> str:
        if isinstance(f, Num):
            return f"({f.shown})" if f.negative else f.shown
        return self.parenthesize(f, PRECEDENCE["Mul"], strict=False)

    def _print_Mul(self, expr):
        sign, coeff, num, den = _split(expr)
        if len(num) == 1 and not den and coeff is None and not sign:
            return self._print(num[0])  # an unevaluated 1·(…): no parentheses of its own
        top = "·".join(self._factor(f) for f in num) or "1"
        if den:
            bottom = "·".join(self._factor(f) for f in den)
            if len(den) > 1:
                top = f"{top}/({bottom})"
            else:
                top = f"{top} / {bottom}" if isinstance(den[0], Add) else f"{top}/{bottom}"
        if coeff is not None:
            c = f"{coeff.p}/{coeff.q}"
            if not num and not den:
                top = c
            elif len(num) == 1 and isinstance(num[0], Add) and not den:
                top = f"{c} [{self._print(num[0])}]"  # the handout's 1/2 [(…)² + (…)²]
            else:
                top = f"{c}·{top}"
        return ("−" + top) if sign else top

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        b = self._factor(base) if not isinstance(base, (Pow,)) else f"({self._print(base)})"
        if e == 2:
            return b + "²"
        if e == -1:
            return f"1/{b}"
        ex = self._print(e)
        return f"{b}^{ex}" if precedence(e) >= PRECEDENCE["Atom"] else f"{b}^({ex})"

    def _print_exp(self, expr):
        arg = expr.args[0]
        a = self._print(arg)
        simple = isinstance(arg, Num) or arg.is_Symbol or arg.is_Number and arg >= 0
        return f"e^{a}" if simple else f"e^({a})"

    def _print_log(self, expr):
        return f"ln({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return str(expr).replace("-", "−")

    def _print_Integer(self, expr):
        return str(expr).replace("-", "−")

    def _print_KroneckerDelta(self, expr):
        i, j = expr.args
        return f"δ_{self._print(i)}{self._print(j)}"

    def _print_Max(self, expr):  # a graph's max and min as its equation spells them, not SymPy's Max
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Heaviside(self, expr):  # max's local derivative, as the page writes a ReLU's: 1_(z > 0)
        return f"1_({self._print(expr.args[0])} > 0)"


class TexPrinter(_Sums, LatexPrinter):
    """LaTeX with the same conventions: ``\\cdot`` for products, numbers as the handout writes them."""

    printmethod = "_latex"
    MINUS = ("- ", " - ")

    def __init__(self, names: dict | None = None, **settings):
        super().__init__({"symbol_names": names or {}, **settings})

    def _print_Num(self, expr):
        return expr.tex

    def _print_Words(self, expr):
        return expr.tex

    def _print_Tagged(self, expr):
        return rf"{expr.label_tex}:\quad {self._print(expr.expr)}"

    def _factor(self, f) -> str:
        if isinstance(f, Num):
            return rf"\left({f.tex}\right)" if f.negative else f.tex
        if precedence(f) < PRECEDENCE["Mul"]:
            return rf"\left({self._print(f)}\right)"
        return self._print(f)

    def _print_Mul(self, expr):
        sign, coeff, num, den = _split(expr)
        if len(num) == 1 and not den and coeff is None and not sign:
            return self._print(num[0])
        if den:
            top = r" \cdot ".join(self._print(f) if len(num) == 1 else self._factor(f) for f in num) or "1"
            bottom = r" \cdot ".join(self._print(f) if len(den) == 1 else self._factor(f) for f in den)
            body = rf"\frac{{{top}}}{{{bottom}}}"
        else:
            body = r" \cdot ".join(self._factor(f) for f in num) or "1"
        if coeff is not None:
            c = rf"\frac{{{coeff.p}}}{{{coeff.q}}}"
            if not num and not den:
                body = c
            elif len(num) == 1 and isinstance(num[0], Add) and not den:
                body = rf"{c} \left[{self._print(num[0])}\right]"
            else:
                body = rf"{c} {body}"
        return ("- " + body) if sign else body

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e == -1:
            return rf"\frac{{1}}{{{self._print(base)}}}"
        b = self._factor(base) if not isinstance(base, (Pow, exp)) else rf"\left({self._print(base)}\right)"
        return f"{b}^{{{self._print(e)}}}"

    def _print_exp(self, expr, exp=None):
        return f"e^{{{self._print(expr.args[0])}}}"

    def _print_log(self, expr, exp=None):
        return rf"\ln\left({self._print(expr.args[0])}\right)"

    def _print_Heaviside(self, expr, exp=None):
        return rf"\mathbf{{1}}_{{{self._print(expr.args[0])} > 0}}"


def text(expr: Expr) -> str:
    """An expression as the handout's plain text."""
    return TextPrinter({"order": "none"}).doprint(expr)


def tex(expr: Expr, names: dict | None = None) -> str:
    """An expression as the handout's LaTeX; ``names`` maps symbols to their LaTeX (``∇O_1`` ->
    ``\\nabla_{O_{1}}``)."""
    return TexPrinter(names, order="none").doprint(expr)



_NAME = re.compile(r"([A-Za-zαβηδ])((?:\^\(\d+\))?(?:\^\[\d+\])?(?:\^[a-z]'?)?)_(\{[^}]*\}|[a-z0-9,]+)")


def _name_tex(m) -> str:
    base, sup, sub = m.group(1), m.group(2), m.group(3)
    sup = "".join(part for part in re.split(r"\^", sup) if part)
    sub = sub.strip("{}")
    base = {"η": r"\eta", "β": r"\beta", "α": r"\alpha", "δ": r"\delta"}.get(base, base)
    return base + (f"^{{{sup}}}" if sup else "") + f"_{{{sub}}}"


def claim_tex(claim: str) -> str:
    r"""A claim in the handout's text notation as LaTeX; words stay text.

    >>> print(claim_tex("∂ℒ/∂w^a_21 − ∂ℒ/∂w^a_11 = 0"))
    \frac{\partial \mathcal{L}}{\partial w^{a}_{21}} - \frac{\partial \mathcal{L}}{\partial w^{a}_{11}} = 0
    >>> print(claim_tex("∇H^(2)_3 = 0 (sample 2)"))
    \nabla_{H^{(2)}_{3}} = 0 \text{ (sample 2)}
    """
    tail = head = ""
    m = re.search(r"\s*(\([a-z][^)]*\))$", claim)
    if m:
        claim, tail = claim[: m.start()], r" \text{ " + m.group(1) + "}"
    if ": " in claim or not re.search(r"[=≠]", claim):  # prose: keep it as text
        return r"\text{" + claim.replace("\\", "").replace("{", "").replace("}", "") + "}" + tail
    m = re.match(r"((?:[a-z]{2,} )+)", claim)
    if m:
        head, claim = r"\text{" + m.group(1) + "}", claim[m.end():]
    out = _NAME.sub(lambda m: "\x00" + _name_tex(m) + "\x01", claim)
    out = re.sub("∂ℒ/∂\x00([^\x01]*)\x01", lambda m: rf"\frac{{\partial \mathcal{{L}}}}{{\partial {m.group(1)}}}", out)
    out = re.sub("∂ℓ/∂\x00([^\x01]*)\x01", lambda m: rf"\frac{{\partial \ell}}{{\partial {m.group(1)}}}", out)
    out = re.sub("∇\x00([^\x01]*)\x01", lambda m: rf"\nabla_{{{m.group(1)}}}", out)
    out = out.replace("\x00", "").replace("\x01", "")
    for a, b in (("−", "-"), ("≠", r"\neq"), ("Σ_j", r"\sum_j"), ("Σ_i", r"\sum_i"), ("ℒ", r"\mathcal{L}"), ("Σ", r"\sum")):
        out = out.replace(a, b)
    return head + out + tail


# -- prose with math in it: a theorem's statement, a caption, the key insight --------------------------------

_STRONG = set("_^∂∇Σℒℓ←≠≈")  # a word with one of these is a formula
_GREEK = set("ηβδ")
_OPERATORS = {"=", "≠", "≈", "−", "+", "·", "×", "←", "→", "<", ">", "≤", "≥"}
_SYMBOLS = set("bcijknxyHLOWYηβ")  # single letters that name a quantity ("a" is the article, unless "a,")
_PUNCT = ",.;:"


def _kind(word: str) -> str:
    """``math`` (a formula on its own), ``op`` (an operator), ``num`` (a number), ``call`` (``softmax(O)``)
    or ``text``."""
    bare = word.rstrip(_PUNCT)
    core = bare.strip("()")
    if not core:
        return "text"
    if core in _OPERATORS:
        return "op"
    open_paren = bare.startswith("(") and bare.count("(") > bare.count(")")  # "(η symbolic)", "(δ_kj − Y_j)"
    if any(c in _STRONG for c in core) and not (open_paren and not any(c in "_^∂∇" for c in core)):
        return "math"
    if open_paren:
        return "text"
    if len(core) == 1 and (core in _SYMBOLS or (core == "a" and word.endswith(","))) or core in _GREEK:
        return "math"
    if re.fullmatch(r"[-−]?[0-9.]+(e[-+]?[0-9]+)?", core):
        return "num"
    if re.fullmatch(r"[A-Za-z]+\([^()]*\)", bare):
        return "call"
    return "text"


def math_tex(math: str) -> str:
    r"""A formula in the handout's text notation as LaTeX.

    >>> print(math_tex("∂ℒ/∂w^a_ij"))
    \frac{\partial\mathcal{L}}{\partial w^{a}_{ij}}
    >>> print(math_tex("W ← W − η ∂ℒ/∂W"))
    W \leftarrow W - \eta\, \partial\mathcal{L}/\partial W
    """
    out = re.sub(r"([A-Za-z])_·([a-z])", r"\1_{\\cdot \2}", math)
    out = _NAME.sub(lambda m: "\x00" + _name_tex(m) + "\x01", out)
    out = re.sub("∂ℒ/∂\x00([^\x01]*)\x01", lambda m: rf"\frac{{\partial \mathcal{{L}}}}{{\partial {m.group(1)}}}", out)
    out = re.sub("∂ℓ/∂\x00([^\x01]*)\x01", lambda m: rf"\frac{{\partial \ell}}{{\partial {m.group(1)}}}", out)
    out = re.sub("∇\x00([^\x01]*)\x01", lambda m: rf"\nabla_{{{m.group(1)}}}", out)
    out = out.replace("\x00", "").replace("\x01", "")
    out = re.sub(r"η ∂", r"η \\, ∂", out)
    out = re.sub(r"\b(softmax|ReLU|relu|tanh|sigmoid|softplus)\(", r"\\operatorname{\1}(", out)
    for a, b in (("−", "-"), ("≠", r"\neq "), ("≈", r"\approx "), ("·", r"\cdot "), ("×", r"\times "),
                 ("←", r"\leftarrow"), ("→", r"\to "), ("≤", r"\le "), ("≥", r"\ge "), ("Σ", r"\sum"),
                 ("ℒ", r"\mathcal{L}"), ("ℓ", r"\ell "), ("∂", r"\partial "), ("∇", r"\nabla "), ("η", r"\eta"),
                 ("β", r"\beta "), ("δ", r"\delta")):
        out = out.replace(a, b)
    return re.sub(r"\\(partial|nabla|eta|beta|delta|ell|cdot|leftarrow|to|le|ge|times|approx|neq) +(?=[\\{_^])",
                  r"\\\1", out).replace("  ", " ")


def prose_parts(text: str) -> list:
    """``text`` cut into ``("text", words)`` and ``("math", latex)`` parts, so prose that names quantities in
    the text notation (``∂ℒ/∂w^a_ij``, ``H = W_a x``) is typeset as math wherever it is shown: a formula
    runs over words with math signs, the operators between them and the numbers and calls they apply to.

    >>> prose_parts("equal gradients ∂ℒ/∂w^a_ij across i, for each j.")
    [('text', 'equal gradients '), ('math', '\\\\frac{\\\\partial\\\\mathcal{L}}{\\\\partial w^{a}_{ij}}'), \
('text', ' across '), ('math', 'i'), ('text', ', for each '), ('math', 'j'), ('text', '.')]
    """
    tokens = [t for t in re.split(r"(\s+)", text) if t]
    words = [i for i, t in enumerate(tokens) if not t.isspace()]
    kinds = {i: _kind(tokens[i]) for i in words}
    for _ in range(3):  # an operator joins math beside it; a number or call joins an operator beside it
        for n, i in enumerate(words):
            before = kinds[words[n - 1]] if n else "text"
            after = kinds[words[n + 1]] if n + 1 < len(words) else "text"
            ends = tokens[words[n - 1]].rstrip(")")[-1:] in _PUNCT if n else True  # "j," ends a formula
            if kinds[i] == "op" and ((before in ("math", "mop") and not ends) or after == "math"):
                kinds[i] = "mop"
            elif kinds[i] in ("num", "call") and ((before == "mop" and not ends) or (after == "mop" and
                                                                                     not tokens[i].endswith(tuple(_PUNCT)))):
                kinds[i] = "math"
    parts: list = []
    run: list = []

    def flush():
        math = "".join(run).strip()
        run.clear()
        trail = ""
        while math and (math[-1] in _PUNCT or (math[-1] == ")" and math.count(")") > math.count("("))):
            trail, math = math[-1] + trail, math[:-1]
        lead = ""
        while math.startswith("(") and math.count("(") > math.count(")"):
            lead, math = lead + "(", math[1:]
        parts.extend([("text", lead)] * bool(lead) + [("math", math_tex(math))] * bool(math) + [("text", trail)] * bool(trail))

    for n, i in enumerate(words):
        gap = tokens[words[n - 1] + 1:i] if n else tokens[:i]
        math = kinds[i] in ("math", "mop")
        if run and math and not tokens[words[n - 1]].rstrip(")")[-1:] in _PUNCT:
            run.extend(gap)
        else:
            if run:
                flush()
            parts.extend(("text", g) for g in gap)
        if math:
            run.append(tokens[i])
        else:
            parts.append(("text", tokens[i]))
    if run:
        flush()
    parts.extend(("text", t) for t in tokens[words[-1] + 1:] if words)
    merged: list = []
    for kind, s in parts:
        if merged and merged[-1][0] == kind == "text":
            merged[-1] = ("text", merged[-1][1] + s)
        else:
            merged.append((kind, s))
    return merged
