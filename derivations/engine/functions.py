"""The elementwise functions the registry's formulas are made of that SymPy does not have (or computes badly):
``ReLU`` and ``LeakyReLU`` with derivatives that are 0 (or the left slope) at 0, ``ln(1 + x)`` to any precision,
the sigmoid and its float64-stable forms, and how plain-Python evaluators call them.

>>> from sympy import Rational
>>> ReLU(Rational(3, 20)), relu_step(0), LeakyReLU(Rational(-1, 2))
(3/20, 0, -1/200)
"""

from __future__ import annotations

from sympy import Function, Integer, Rational, exp

# -- elementwise functions SymPy does not have, with a derivative that is 0 (or the left slope) at 0 ------


class ReLU(Function):
    """``ReLU(h) = max(0, h)``; its derivative is :class:`relu_step`, never SymPy's ``Heaviside``."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:  # only numbers: asking the sign of a symbolic sum is slow, and never needed here
            return h if h >= 0 else Integer(0)

    def fdiff(self, argindex=1):
        return relu_step(self.args[0])

    @staticmethod
    def settle(h, positive: bool):
        return h if positive else Integer(0)

    def _latex(self, printer):
        return r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "ReLU(%s)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        return "%s(%s, 0)" % (printer._module_format(printer._module + ".maximum"), printer._print(self.args[0]))


class relu_step(Function):
    """``1 if h > 0 else 0``: ReLU's derivative, 0 at exactly 0 (as the handout and PyTorch)."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return Integer(1) if h > 0 else Integer(0)

    def fdiff(self, argindex=1):
        return Integer(0)  # almost everywhere

    @staticmethod
    def settle(h, positive: bool):
        return Integer(1) if positive else Integer(0)

    def _latex(self, printer):
        return r"\mathbf{1}_{%s > 0}" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "1[%s > 0]" % printer._print(self.args[0])

    def _numpycode(self, printer):
        return "%s(%s > 0, 1.0, 0.0)" % (printer._module_format(printer._module + ".where"), printer._print(self.args[0]))


LEAK = Rational(1, 100)


class LeakyReLU(Function):
    """``h`` for ``h >= 0``, ``h/100`` below: a ReLU whose negative side still passes a gradient."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return h if h >= 0 else LEAK * h

    def fdiff(self, argindex=1):
        return leaky_step(self.args[0])

    @staticmethod
    def settle(h, positive: bool):
        return h if positive else LEAK * h

    def _latex(self, printer):
        return r"\operatorname{LeakyReLU}\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "LeakyReLU(%s)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        h = printer._print(self.args[0])
        return "%s(%s > 0, %s, %s * %s)" % (printer._module_format(printer._module + ".where"), h, h, printer._print(LEAK), h)


class leaky_step(Function):
    """LeakyReLU's derivative: 1 for ``h > 0``, 1/100 for ``h <= 0`` (at exactly 0 the left slope, as ReLU
    takes its left slope 0 there and as PyTorch does)."""

    @classmethod
    def eval(cls, h):
        if h.is_Number:
            return Integer(1) if h > 0 else LEAK

    def fdiff(self, argindex=1):
        return Integer(0)

    @staticmethod
    def settle(h, positive: bool):
        return Integer(1) if positive else LEAK

    def _latex(self, printer):
        return r"\operatorname{LeakyReLU}'\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "LeakyReLU'(%s)" % printer._print(self.args[0])

    def _numpycode(self, printer):
        h = printer._print(self.args[0])
        return "%s(%s > 0, 1.0, %s)" % (printer._module_format(printer._module + ".where"), h, printer._print(LEAK))


class Log1p(Function):
    """``ln(1 + x)``, evaluated by mpmath's ``log1p`` (SymPy's ``log(1 + x)`` loses an ``x`` below 10⁻ᵈⁱᵍⁱᵗˢ)
    and printed as NumPy's ``np.log1p``.

    >>> from sympy import Float
    >>> Log1p(Float("1e-100", 30)).evalf(30)
    1.00000000000000000000000000000e-100
    """

    def _eval_evalf(self, prec):  # prec in bits, as SymPy passes it
        import mpmath
        from mpmath.libmp import prec_to_dps
        from sympy import Float

        arg = self.args[0].evalf(prec_to_dps(prec) + 5)
        if not arg.is_Float:
            return None
        with mpmath.workprec(prec + 10):
            return Float(mpmath.log1p(mpmath.mpf(arg._mpf_)), precision=prec)

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])

    def _numpycode(self, printer):
        return "%s(%s)" % (printer._module_format(printer._module + ".log1p"), printer._print(self.args[0]))

    def _sympystr(self, printer):
        return "log1p(%s)" % printer._print(self.args[0])


def logaddexp(a, b):
    """NumPy's ``logaddexp(a, b) = ln(e^a + e^b)`` as SymPy's node; ``sympy.codegen`` (6 ms of start-up) is
    loaded by the float64 forms that use it, not by every command."""
    from sympy.codegen.numpy_nodes import logaddexp as node

    return node(a, b)


def _sigmoid(h):
    return 1 / (1 + exp(-h))


def _stable_sigmoid(h):
    """σ(h) = e^(−ln(1 + e^(−h))): no e^(−h) to overflow at h = −800 (NumPy's logaddexp never overflows)."""
    return exp(-logaddexp(0, -h))


def _stable_sigmoid_slope(h):
    """σ(h)·σ(−h) = σ(h)(1 − σ(h)), with no 1 − σ(h) to cancel at h = 40."""
    return exp(-logaddexp(0, -h) - logaddexp(0, h))


#: How plain-Python evaluators (lambdify with math or mpmath) call the functions SymPy does not know.
SCALAR_FUNCTIONS = {
    "ReLU": lambda h: h if h > 0 else 0 * h,
    "relu_step": lambda h: 1 if h > 0 else 0,
    "LeakyReLU": lambda h: h if h > 0 else h / 100,
    "leaky_step": lambda h: 1 if h > 0 else 0.01,
    "Log1p": lambda x: _log1p(x),
}


def _log1p(x):
    import math

    import mpmath

    return mpmath.log1p(x) if isinstance(x, mpmath.mpf) else math.log1p(x)
