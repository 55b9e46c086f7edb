"""Rendering a worked solution: plain text, Markdown (MyST), LaTeX, and the JSON contract.

>>> from derivations import evaluate, load_problem
>>> values = evaluate(load_problem())
>>> number(values.grad("w_b11"))
{'exact': '-3/80', 'latex': '- \\\\frac{3}{80}', 'value': -0.0375, 'decimal': '-0.0375'}
"""

from __future__ import annotations

import json
import math
import re

from mpmath.libmp import libmpf as mlib
from sympy import Expr, Float, latex, sstr

from ..engine.errors import ProblemError
from ..engine.reading import quote as _shown
from ..engine.theorems import symmetric
from ..engine.values import Values, backward_keys, forward_keys
from ..notation.printing import prose_parts, tex
from ..teaching.closing import insight
from ..teaching.page import Page
from ..teaching.solution import MAX_EXPANDED, Notation


# Exact forms of transcendental values grow with the network (every softmax output appears in every
# gradient); past this many nodes the printed form is megabytes that nobody reads, so it is left out.
EXACT_NODES = 80
FLOAT64_TINY = 2.2250738585072014e-308  # the smallest normal float64: below it a float loses digits, then all
FLOAT64_MAX = 1.7976931348623157e308


def tree_size(expr: Expr, memo: dict) -> int:
    """Nodes in the printed form of ``expr``, counted over its shared subexpressions (linear time)."""
    key = id(expr)
    if key not in memo:
        memo[key] = (expr, 1 + sum(tree_size(a, memo) for a in expr.args))
    return memo[key][1]


def number(v: Expr, decimal=None, memo: dict | None = None) -> dict:
    """One value in the JSON contract: exact text, LaTeX, the nearest float64 (``value``) and the value to 17
    significant digits as text (``decimal``, from the exact value: any magnitude).

    Where float64 cannot hold the value, ``float64`` says why: ``"overflow"`` (beyond about 1.8e308: ``value``
    is the largest float of its sign) or ``"underflow"`` (a nonzero value below 2.2e-308: ``value`` is the
    subnormal or 0.0 it rounds to). A transcendental value whose exact form has more than :data:`EXACT_NODES`
    nodes gets ``None`` for ``exact`` and ``latex``.

    >>> from sympy import Rational
    >>> number(Rational(-10) ** 400)["float64"], number(Rational(-10) ** 400)["decimal"]
    ('overflow', '1.0e+400')
    """
    dec = Float(v, 17) if v.is_Rational else (decimal if decimal is not None else v.evalf(17))
    value = _float(v, decimal)
    out = {"exact": None, "latex": None, "value": value,
           "decimal": mlib.to_str(dec._mpf_, 17) if getattr(dec, "is_Float", False) else str(dec)}
    if value is None and getattr(dec, "is_Float", False) and dec.is_finite:  # beyond the range: its sign's largest
        out["value"], out["float64"] = math.copysign(FLOAT64_MAX, float(mlib.mpf_sign(dec._mpf_))), "overflow"
    elif value is not None and abs(value) < FLOAT64_TINY and v != 0:
        out["float64"] = "underflow"
    if not v.is_Rational and tree_size(v, {} if memo is None else memo) > EXACT_NODES:
        return out
    # order="none": sorting the terms of a large exact expression costs more than printing it.
    out["exact"], out["latex"] = sstr(v, order="none"), latex(v, order="none")
    return out


def _float(v: Expr, decimal) -> float | None:
    """The float nearest the exact value: a rational correctly rounded from its fraction, any other value
    from its 50-digit decimal (correctly rounded in all but the rarest ties); ``None`` beyond float64's range.

    >>> from sympy import Rational
    >>> _float(Rational(-3, 80), None), _float(Rational(1, 10**320), None), _float(Rational(10**400), None)
    (-0.0375, 1e-320, None)
    """
    try:
        if v.is_Rational:
            value = int(v.p) / int(v.q)  # Python's true division of integers rounds correctly
        else:
            value = float(v.evalf(20) if decimal is None else decimal)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _tree(x, values: Values | None = None, memo: dict | None = None):
    memo = {} if memo is None else memo
    if isinstance(x, (list, tuple)):
        return [_tree(e, values, memo) for e in x]
    if hasattr(x, "tolist"):
        return _tree(x.tolist(), values, memo)
    return number(x, values.decimal(x) if values is not None else None, memo)


def to_json_dict(values: Values, theorems: list | None = None, detailed: bool = False) -> dict:
    """The machine-readable contract: problem, forward, backward, gradients (0-based, row order).

    With one sample, ``x``, ``y`` and every forward and backward quantity are as in the handout; with
    several, each has one entry per sample first. Bias vectors (and their gradients) are plain lists."""
    p = values.problem
    one = p.n_samples == 1
    problem = {
        "source": p.source,
        "layers": list(p.layers),
        "activation": p.activation if len(set(p.activations)) == 1 else list(p.activations),
        "output": p.output,
        "loss": p.loss,
        "bias": p.bias,
        "samples": p.n_samples,
        "x": _tree(p.xs[0] if one else p.xs),
        "y": _tree(p.ys[0] if one else p.ys),
    }
    for name, m in p.params().items():
        problem[name] = _tree(m if name.startswith("W") else list(m))
    d = values.derivation
    out = {
        "problem": problem,
        "forward": {k: _tree(values.forward[k], values) for k in forward_keys(d)},
        "backward": {k: _tree(values.backward[k], values) for k in backward_keys(d)},
        "gradients": {k: _tree(m if k.startswith("W") else list(m), values) for k, m in values.gradients.items()},
    }
    if not one:
        out["forward"]["losses"] = _tree(values.forward["losses"], values)
    if theorems is not None:
        out["symmetric"] = symmetric(p)
        out["theorems"] = [th.as_dict(detailed) for th in theorems]
    return out


def to_json(values: Values, theorems: list | None = None, detailed: bool = False) -> str:
    """The JSON contract; ``detailed`` (``--theorems``) adds each proof step's expression."""
    return json.dumps(to_json_dict(values, theorems, detailed), indent=2, ensure_ascii=False)


def to_text(solution: Page, tail: list[str] = ()) -> str:
    """The worked solution as a terminal reads it."""
    out = [solution.title, "=" * len(solution.title)]
    for sec in solution.sections:
        out += ["", sec.title.text]
        if sec.intro:
            out.append("  " + sec.intro)
        for line in sec.lines:
            out += wrap_formula("  " + line.text())
    out += list(tail)
    return "\n".join(out) + "\n"


MAX_LINE = 200  # a formula line longer than this (a wide network's sums) is broken, ...
WRAP_AT = 120  # ... into lines of about this many characters


def wrap_formula(line: str) -> list[str]:
    """A formula line as a terminal reads it: one line when it is at most :data:`MAX_LINE` characters, else
    broken before its ``+``, ``−`` and ``=`` signs (outside brackets first), each continuation indented.

    >>> wrap_formula("  ∇O_1 = 0.25·(−0.5) + (−0.25)·0.5 = −0.25")
    ['  ∇O_1 = 0.25·(−0.5) + (−0.25)·0.5 = −0.25']
    >>> lines = wrap_formula("  ∇L_1 = " + " + ".join(["∇O_1·w^b_1,1"] * 60))
    >>> len(lines), max(len(line) for line in lines)
    (9, 111)
    """
    if len(line) <= MAX_LINE:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    pieces = re.split(r"(?= [+−=] )", line)
    out, current = [], pieces[0]
    for piece in pieces[1:]:
        if len(current) + len(piece) > WRAP_AT and current.strip():
            out.append(current)
            current = indent + piece.lstrip()
        else:
            current += piece
    out.append(current)
    return out


def to_markdown(solution: Page, tail: list[str] = ()) -> str:
    """Markdown with ``$$`` display math (MyST and most Markdown renderers read it)."""
    out = [f"# {solution.title}"]
    for sec in solution.sections:
        out += ["", f"## {sec.heading(lambda m: f'${m}$', lambda t: t)}", ""]
        if sec.intro:
            out += [sec.intro, ""]
        for line in sec.lines:
            out += ["$$", line.tex_aligned(), "$$", ""] if not line.prose else [f"${line.tex()}$", ""]
    out += list(tail)
    return "\n".join(out).rstrip() + "\n"


def to_latex(solution: Page, tail: list[str] = ()) -> str:
    """A complete LaTeX document (amsmath), one ``gather*`` environment per section."""
    out = [
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[utf8]{inputenc}",
        r"\begin{document}",
        rf"\section*{{{_escape(solution.title)}}}",
    ]
    for sec in solution.sections:
        out.append(rf"\subsection*{{{sec.heading(lambda m: f'${m}$', _escape)}}}")
        if sec.intro:
            out.append(_prose_tex(sec.intro))
        eqs = [line.tex_aligned() for line in sec.lines]
        if eqs:
            out += [r"\begin{gather*}", " \\\\\n".join(eqs), r"\end{gather*}"]
    out += list(tail)  # key_insight writes these in LaTeX already
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _prose_tex(text: str) -> str:
    r"""Prose for LaTeX: its formulas (``∂ℒ/∂w^a_ij``, ``W_a``) as math, the rest as escaped text.

    >>> _prose_tex("equal ∂ℒ/∂w^a_ij across i & j")
    'equal $\\frac{\\partial\\mathcal{L}}{\\partial w^{a}_{ij}}$ across $i$ \\& $j$'
    """
    return "".join(f"${s}$" if kind == "math" else _escape(s) for kind, s in prose_parts(text))


def _escape(text: str) -> str:
    replace = {"ℒ": r"$\mathcal{L}$", "∂": r"$\partial$", "→": r"$\to$", "Σ": r"$\Sigma$", "−": "-", "≈": r"$\approx$",
               "·": r"$\cdot$", "²": r"$^2$", "∇": r"$\nabla$", "ℓ": r"$\ell$", "η": r"$\eta$", "←": r"$\leftarrow$",
               "≠": r"$\neq$", "ᵀ": r"$^T$", "×": r"$\times$", "_": r"\_", "^": r"\^{}", "&": r"\&", "%": r"\%",
               "#": r"\#", "{": r"\{", "}": r"\}"}
    return "".join(replace.get(c, c) for c in text)


def key_insight(values: Values, theorems: list, fmt: str = "text", detailed: bool = False) -> list[str]:
    """The handout's last question answered for this problem (:func:`derivations.teaching.closing.insight`), as
    lines of ``fmt``."""
    lines = insight(values, theorems, detailed).lines
    if fmt == "text":
        return [""] + [lines[0], "-" * len(lines[0])] + ["  " + line for line in lines[1:]]
    if fmt == "markdown":
        return ["", f"## {lines[0]}", ""] + [f"- {line.strip()}" if line.startswith("  ") else line for line in lines[1:]]
    items = []
    for line in lines[1:]:
        body = line.strip()
        if body.startswith("["):  # "[proved] name: ..." -> a bold verdict, not an \item label
            verdict, _, rest = body[1:].partition("] ")
            items.append(rf"\item \textbf{{{_escape(verdict)}}}: {_prose_tex(rest)}")
        else:  # a proof step's "- claim: holds" is an item of its own
            items.append(rf"\item {_prose_tex(body[2:] if body.startswith('- ') else body)}")
    return ["", rf"\subsection*{{{_prose_tex(lines[0])}}}", r"\begin{itemize}"] + items + [r"\end{itemize}"]


FORMULAS = ("formula", "closed", "expanded")


def inline_tex(values: Values, key: str, style: str = "decimal") -> str:
    """LaTeX for a key of the page roles: a value (``forward.Y[1]``, ``grad.w_b21``), in ``decimal``,
    ``exact`` or ``both`` style, or a formula (``formula.w_b21``: the handout's bracket; ``closed.w_b21``:
    in the layers' quantities; ``expanded.w_b21``: in the weights, ``x`` and ``y``).

    >>> from derivations import evaluate, load_problem
    >>> v = evaluate(load_problem())
    >>> inline_tex(v, "grad.w_b11"), inline_tex(v, "grad.w_b11", "exact"), inline_tex(v, "forward.H[1]")
    ('-0.0375', '- \\\\frac{3}{80}', '0.15')
    """
    group, _, rest = key.strip().partition(".")
    d = values.derivation
    if style not in ("decimal", "exact", "both"):
        raise ProblemError("key", f"unknown style {_shown(style)} in {_shown(key)}; expected decimal, exact or both")
    if group in FORMULAS:
        if style != "decimal":
            raise ProblemError("key", f"a formula has no style: drop the | {style} in {_shown(key)}")
        try:
            w = d.param(rest)
        except ProblemError as err:
            raise ProblemError("key", f"{err.expected} (in {_shown(key)})") from None

        if group == "expanded" and d.expanded_size(w) > MAX_EXPANDED:
            raise ProblemError("key", f"the closed form of {_shown(rest)} in the weights has about {d.expanded_size(w)} "
                                      f"nodes, past the {MAX_EXPANDED} a page shows: use formula. or closed.")
        expr = {"formula": d.formula, "closed": d.gradient, "expanded": d.expanded}[group](w)
        return tex(expr, d.symbols.tex)
    value = values.lookup(key)
    if style == "exact":
        return latex(value)
    rels, sides = Notation(values).result(value)
    spelled = [(r" \approx " if r == "≈" else "") + side.tex for r, side in zip(rels, sides)]
    if style == "decimal":
        return spelled[0].strip()
    out = spelled[0].strip()
    for r, piece in zip(rels[1:], spelled[1:]):
        out += piece if r == "≈" else " = " + piece
    return out

