"""The JSON contract of a problem's values, and the values and formulas a page's role writes inline.

(The worked solution as a document is a page: :mod:`derivations.outputs.page` writes it.)

>>> from derivations import evaluate, load_problem
>>> values = evaluate(load_problem())
>>> number(values.grad("w_b11"))
{'exact': '-3/80', 'latex': '- \\\\frac{3}{80}', 'value': -0.0375, 'decimal': '-0.0375'}
"""

from __future__ import annotations

import json
import math

from mpmath.libmp import libmpf as mlib
from sympy import Expr, Float, latex, sstr

from ..engine.errors import ProblemError
from ..engine.reading import quote as _shown
from ..engine.theorems import symmetric
from ..engine.values import Values, backward_keys, forward_keys
from ..notation.printing import tex
from ..teaching.numbers import Notation
from ..teaching.paths import MAX_EXPANDED


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
    is the largest float of its sign) or ``"underflow"`` (a value below 2.2e-308 known to be nonzero, by its
    exact rational or a nonzero decimal: ``value`` is the subnormal or 0.0 it rounds to; an exact 0, or a value
    whose decimal is 0 to every digit computed, is 0.0 with no such claim). A transcendental value whose exact
    form has more than :data:`EXACT_NODES` nodes gets ``None`` for ``exact`` and ``latex``.

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
    elif value is not None and abs(value) < FLOAT64_TINY and v != 0 and dec.is_zero is False:  # known nonzero only
        out["float64"] = "underflow"
    if not v.is_Rational and tree_size(v, {} if memo is None else memo) > EXACT_NODES:
        return out
    # order="none": sorting the terms of a large exact expression costs more than printing it.
    out["exact"], out["latex"] = sstr(v, order="none"), latex(v, order="none")
    return out


def _float64_tex(values: Values, key: str) -> str:
    """``grad.NAME | float64``: the gradient as float64 computes it (:attr:`Values.float64_gradients`), every
    digit Python's ``repr`` gives (the shortest decimal that reads back as the same float)."""
    group, _, name = key.strip().partition(".")
    if group != "grad":
        raise ProblemError("key", f"float64 is a gradient's style (grad.w_b11 | float64), got {_shown(key)}")
    try:
        w = values.derivation.param(name)
    except ProblemError as err:
        raise ProblemError("key", f"{err.expected} (in {_shown(key)})") from None
    g = values.float64_gradients[w.matrix]
    mantissa, _, exponent = repr(g[w.i][w.j if w.kind == "weight" else 0]).partition("e")
    return mantissa if not exponent else rf"{mantissa} \times 10^{{{int(exponent)}}}"


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
    several, each has one entry per sample first. Bias vectors (and their gradients) are plain lists; a shared bias
    (``shared_bias``: one per layer) and its gradient are one number."""
    p = values.problem
    one = p.n_samples == 1
    problem = {
        "source": p.source,
        "layers": list(p.layers),
        "activation": p.activation if len(set(p.activations)) == 1 else list(p.activations),
        "output": p.output,
        "loss": p.loss,
        "bias": p.bias,
        "shared_bias": p.shared_bias,
        "samples": p.n_samples,
        "x": _tree(p.xs[0] if one else p.xs),
        "y": _tree(p.ys[0] if one else p.ys),
    }
    for name, m in p.params().items():
        problem[name] = _tree(m if name.startswith("W") else m[0] if p.shared_bias else list(m))
    d = values.derivation
    out = {
        "problem": problem,
        "forward": {k: _tree(values.forward[k], values) for k in forward_keys(d)},
        "backward": {**{k: _tree(values.backward[k], values) for k in backward_keys(d)},
                     "dL_dx": _tree(values.input_gradients[0] if one else values.input_gradients, values)},
        "gradients": {k: _tree(m if k.startswith("W") else m[0] if p.shared_bias else list(m), values)
                      for k, m in values.gradients.items()},
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


FORMULAS = ("formula", "closed", "expanded")


def inline_tex(values: Values, key: str, style: str = "decimal") -> str:
    """LaTeX for a key of the page roles: a value (``forward.Y[1]``, ``grad.w_b21``), in ``decimal``,
    ``exact`` or ``both`` style (a gradient also ``float64``: as float64 computes it), or a formula
    (``formula.w_b21``: the handout's bracket; ``closed.w_b21``: in the layers' quantities; ``expanded.w_b21``:
    in the weights, ``x`` and ``y``).

    >>> from derivations import evaluate, load_problem
    >>> v = evaluate(load_problem())
    >>> inline_tex(v, "grad.w_b11"), inline_tex(v, "grad.w_b11", "exact"), inline_tex(v, "forward.H[1]")
    ('-0.0375', '- \\\\frac{3}{80}', '0.15')
    >>> inline_tex(v, "grad.w_b11", "float64")
    '-0.037500000000000006'
    """
    group, _, rest = key.strip().partition(".")
    d = values.derivation
    if style not in ("decimal", "exact", "both", "float64"):
        raise ProblemError("key", f"unknown style {_shown(style)} in {_shown(key)}; expected decimal, exact, both or "
                                  "float64")
    if style == "float64":
        return _float64_tex(values, key)
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

