"""The values a student's page grades, as ``keys.csv`` lists them: every blank once, keyed as the checker names
it (``forward.H[1]``, ``grad.w_b21``, ``descent.w_b11``), and each written so that the checker accepts it back."""

from __future__ import annotations

from fractions import Fraction

from sympy import Rational

from ..notation.printing import decimal_text
from . import handout
from .check import blanks

KEY_DIGITS = 4  # significant digits of a value that has no exact form (as on the key), at least
KEY_TOLERANCE = Fraction(1, 1000)  # the checker's relative tolerance where it has none of its own

# Graded, in keys.csv's order: forward and backward values, the asked gradients, the closing step (its change,
# then the new value); then the blanks that copy a given (problem.x[1], problem.y[1]) or a local derivative
# (local.dL_dH[1] = ReLU'(H_1)), in the page's order: last, so that the columns before them keep their places.
_GROUPS = ("forward", "backward", "grad", "step", "descent", "problem", "local")


def graded_keys(values, data: bytes | None = None) -> list:
    """Every key the student's page grades, each blank of the page once
    (:func:`derivations.teaching.handout.layout`): forward and backward in the checker's order (each sample's
    forward values, the losses, each sample's backward values), then the asked gradients and the closing step
    (its change, then the new value) in the page's order, then the copied givens and local derivatives in the
    page's order."""
    order = {key: k for k, key in enumerate(blanks(values.derivation))}
    page = handout.layout(values, data=data)
    keys = list(dict.fromkeys(s.key for s in page.slots(given=False) if s.key.split(".")[0] in _GROUPS))
    rank = {"forward": 0, "backward": 1, "grad": 2, "step": 3, "descent": 3, "problem": 4, "local": 4}

    def position(key):
        group = key.split(".")[0]
        return rank[group], order[key] if group in ("forward", "backward") else keys.index(key)

    return sorted(keys, key=position)


def graded(values, data: bytes | None = None) -> list:
    """``[(column, exact value)]``: every value the page grades, by its :meth:`Values.lookup` key (for the
    handout: the forward steps, ∇Y, the softmax Jacobian, ∇O, the green path's ∇L_1, the asked gradients, and
    the green path's copies of y, x_1 and ReLU′(H_1); with several samples, ``forward.H[1]@2``; where the init
    is not the symmetry lesson, the page's gradient-descent step, ``descent.w_b11``).

    >>> from derivations import evaluate, load_problem
    >>> [key for key, _ in graded(evaluate(load_problem()))][-8:]
    ['backward.dL_dL[1]', 'grad.w_b11', 'grad.w_b21', 'grad.w_a11', 'problem.y[1]', 'problem.y[2]', 'local.dL_dH[1]', 'problem.x[1]']
    """
    out = []
    formulas = None
    for key in graded_keys(values, data):
        if key.startswith("descent."):
            name = key.split(".", 1)[1]
            out.append((key, values.descent(values.problem.step_lr, [name])[name]))
        elif key.startswith(("local.", "problem.", "step.")):  # the checker's formula for it, at the numbers
            formulas = formulas or blanks(values.derivation)
            out.append((key, values.value(formulas[key])))
        else:
            out.append((key, values.lookup(key)))
    return out


def shown(values, v, tolerance=None) -> str:
    """A graded value as ``keys.csv`` writes it, a value :mod:`derivations.teaching.check` and the self-check page
    accept back: a rational exactly (its decimal when short, else the fraction, as the key shows ``1/3``);
    any other value to :data:`KEY_DIGITS` significant digits, or more where the checker's ``tolerance`` on
    that blank (relative; narrowed near a catalogued mistake) needs more.

    >>> from derivations import evaluate, load_problem
    >>> v = evaluate(load_problem())
    >>> shown(v, v.grad("w_b21")), shown(v, Rational(1, 3)), shown(v, v.forward["Y"][0])
    ('0.0375', '1/3', '0.5')
    """
    from decimal import Decimal, localcontext

    from sympy import Float


    if isinstance(v, Rational):
        text = decimal_text(v)
        return text if text is not None and len(text.lstrip("-").replace(".", "").lstrip("0")) <= 12 else str(v)
    exact = Decimal(str(Float(values.decimal(v), 40)))
    tol = Fraction(str(tolerance if tolerance is not None else KEY_TOLERANCE))
    limit = abs(exact) * Decimal(tol.numerator) / Decimal(tol.denominator) / 2  # half the tolerance: a margin
    for digits in range(KEY_DIGITS, 31):
        with localcontext() as ctx:
            ctx.prec = digits
            rounded = +exact
        if abs(rounded - exact) <= limit:
            break
    return format(rounded, "f")  # its trailing zeros are significant digits: the checker counts them
