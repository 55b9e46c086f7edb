r"""A small parser of arithmetic expressions into SymPy, for what a user types: a computational graph's
equations (``q = "x + y"``), and later a student's formula. Never ``sympify``, ``parse_expr`` or ``eval``:
a recursive-descent parser over a whitelist, bounded in length and depth, every error one line with its
position.

>>> from sympy import Symbol
>>> x, y, z = (Symbol(n, real=True) for n in "xyz")
>>> names = {"x": x, "y": y, "z": z}
>>> parse("(x + y) * z", names)
z*(x + y)
>>> parse("x^2 + 3x", names, implicit=True)
x**2 + 3*x
>>> parse("sigmoid(0.5*x) - max(x, y)", names)
sigmoid(x/2) - Max(x, y)

The grammar: numbers (decimals read exactly, ``0.1`` is ``1/10``), names (ASCII letters, digits and ``_``,
not starting with a digit), ``+ - * /`` (``·``, ``×`` and the Unicode minus too), ``^`` or ``**`` with a
small integer exponent (at most :data:`MAX_POWER` in size), unary minus, parentheses, and the functions of
:data:`FUNCTIONS`. With ``implicit=True`` a product may be written without its sign (``3x``, ``2(x + 1)``,
``x y``), as students write.

>>> parse("__import__(x)", names)
Traceback (most recent call last):
...
derivations.engine.errors.ProblemError: expression: expected a known function (exp, log, sqrt, tanh, sigmoid, relu, max, min) at position 1, got '__import__'
>>> parse("x.real", names)
Traceback (most recent call last):
...
derivations.engine.errors.ProblemError: expression: expected a number, a name, + - * / ^ or parentheses at position 2, got '.real'
"""

from __future__ import annotations

import re

from sympy import Expr, Function, Max, Min, Rational, exp, log, sqrt, tanh

from .errors import ProblemError
from .ops import ReLU
from .reading import parse_number, quote

MAX_LENGTH = 500  # characters of one expression
MAX_DEPTH = 40  # nested parentheses, calls and signs
MAX_POWER = 8  # |exponent| of ^ and **: small integers only


class sigmoid(Function):
    """``σ(z) = 1 / (1 + e^(−z))``, with its derivative ``σ(z)(1 − σ(z))``.

    >>> from sympy import Symbol
    >>> sigmoid(0), sigmoid(Symbol("z")).diff(Symbol("z"))
    (1/2, (1 - sigmoid(z))*sigmoid(z))
    """

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return Rational(1, 2)
        if z.is_Number and not z.is_Rational:  # a decimal: its value
            return 1 / (1 + exp(-z))

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + exp(-z))

    def _eval_evalf(self, prec):
        return (1 / (1 + exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


# name -> (arity, SymPy constructor)
FUNCTIONS = {
    "exp": (1, exp),
    "log": (1, log),
    "sqrt": (1, sqrt),
    "tanh": (1, tanh),
    "sigmoid": (1, sigmoid),
    "relu": (1, ReLU),
    "max": (2, Max),
    "min": (2, Min),
}

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<power>\*\*|\^)
  | (?P<op>[-+*/(),·×\u2212])
""", re.VERBOSE | re.ASCII)

# A page's formula (``page=True``) may also write a name with its superscript as the page prints it
# (``w^b_11``, ``w^{b}_{11}``, ``H^(2)_1``: read as ``w^b_11``, ``H^(2)_1``; never a power, whose exponent is a
# whole number), a function name with a prime (``ReLU'``), ``σ``, and the step ``1[H_1 > 0]``.
_PAGE_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<name>[A-Za-z]\^(?:\{[A-Za-z]\}|[A-Za-z]|\(\d{1,2}\)|\{\(\d{1,2}\)\})_(?:\{\d{1,4}\}|\d{1,4})(?![0-9A-Za-z_])
       | [A-Za-z_][A-Za-z0-9_]*'? | σ'?)
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<power>\*\*|\^)
  | (?P<op>[-+*/(),·×\u2212\[\]>])
""", re.VERBOSE | re.ASCII)


def _tokens(text: str, field: str, page: bool = False) -> list:
    """``[(kind, text, position)]`` (1-based positions); anything else is one line naming its position."""
    out, i, pattern = [], 0, _PAGE_TOKEN if page else _TOKEN
    while i < len(text):
        m = pattern.match(text, i)
        if m is None:
            raise ProblemError(field, f"expected a number, a name, + - * / ^ or parentheses at position {i + 1}, got "
                                      f"{quote(text[i:i + 10])}")
        if m.lastgroup != "space":
            kind, tok = m.lastgroup, m.group()
            if kind == "op" and tok in "·×":
                tok = "*"
            if kind == "op" and tok == "\u2212":
                tok = "-"
            if kind == "name" and "{" in tok:
                tok = tok.replace("{", "").replace("}", "")
            out.append((kind, tok, i + 1))
        i = m.end()
    out.append(("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str, names: dict, field: str, implicit: bool, functions: dict | None = None,
                 step=None):
        page = functions is not None or step is not None
        self.toks, self.k, self.names, self.field, self.implicit = _tokens(text, field, page), 0, names, field, implicit
        self.used = set()  # the names the text reads, as typed (0·Y_1 reads Y_1, whatever it simplifies to)
        self.functions, self.step = FUNCTIONS if functions is None else functions, step
        self.depth = 0

    def peek(self):
        return self.toks[self.k]

    def take(self):
        tok = self.toks[self.k]
        self.k += 1
        return tok

    def fail(self, expected: str, tok=None):
        kind, text, pos = tok or self.peek()
        got = "the end" if kind == "end" else quote(text)
        raise ProblemError(self.field, f"expected {expected} at position {pos}, got {got}")

    def expect(self, text: str):
        if self.peek()[1] != text or self.peek()[0] not in ("op",):
            self.fail(f"{text!r}")
        self.take()

    def deeper(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ProblemError(self.field, f"expected at most {MAX_DEPTH} nested parentheses, calls or signs, at "
                                           f"position {self.peek()[2]}")

    def expr(self) -> Expr:
        out = self.term()
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            op = self.take()[1]
            rhs = self.term()
            out = out + rhs if op == "+" else out - rhs
        return out

    def _starts_factor(self) -> bool:
        kind, text, _ = self.peek()
        return kind in ("number", "name") or (kind == "op" and text == "(")

    def term(self) -> Expr:
        out = self.factor()
        while True:
            kind, text, _ = self.peek()
            if kind == "op" and text in "*/":
                self.take()
                rhs = self.factor()
                if text == "/":
                    if rhs.is_zero:
                        self.fail("a divisor that is not 0", self.toks[self.k - 1])
                    out = out / rhs
                else:
                    out = out * rhs
            elif self.implicit and self._starts_factor():
                out = out * self.factor()
            else:
                return out

    def factor(self) -> Expr:
        kind, text, _ = self.peek()
        if kind == "op" and text in "+-":
            self.take()
            self.deeper()
            inner = self.factor()
            self.depth -= 1
            return -inner if text == "-" else inner
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        if self.peek()[0] == "power":
            tok = self.take()
            first = self.peek()  # the exponent's first token: where it starts, and what it starts with
            self.deeper()
            exponent = self.factor()
            self.depth -= 1
            if not (exponent.is_Integer and abs(exponent) <= MAX_POWER):
                self.fail(f"a whole-number exponent from -{MAX_POWER} to {MAX_POWER}", first)
            if exponent < 0 and base.is_zero:
                self.fail("a base that is not 0 under a negative exponent", tok)
            return base ** exponent
        return base

    def atom(self) -> Expr:
        kind, text, pos = self.peek()
        if kind == "number" and self.step is not None and text == "1" and self.toks[self.k + 1][1] == "[":
            return self.indicator()
        if kind == "number":
            self.take()
            return parse_number(text, self.field)
        if kind == "op" and text == "(":
            self.take()
            self.deeper()
            inner = self.expr()
            self.expect(")")
            self.depth -= 1
            return inner
        if kind == "name":
            self.take()
            called = self.peek()[1] == "(" and self.peek()[0] == "op"
            if called and not (self.implicit and text in self.names and text not in self.functions):  # Y_1(1 − Y_1)
                if text not in self.functions:
                    self.fail(f"a known function ({', '.join(self.functions)})", (kind, text, pos))
                arity, make = self.functions[text]
                self.take()
                self.deeper()
                args = [self.expr()]
                while self.peek()[1] == "," and self.peek()[0] == "op":
                    self.take()
                    args.append(self.expr())
                self.expect(")")
                self.depth -= 1
                if len(args) != arity:
                    self.fail(f"{text} of {arity} argument{'s' if arity > 1 else ''}", (kind, text, pos))
                return make(*args)
            if text in self.functions:
                self.fail(f"{text}( with its argument in parentheses", self.peek())
            if text not in self.names:
                known = ", ".join(list(self.names)[:8]) + (", …" if len(self.names) > 8 else "")
                self.fail(f"a known name ({known})" if self.names else "a number (no names are known here)", (kind, text, pos))
            self.used.add(text)
            return self.names[text]
        self.fail("a number, a name or '('")

    def indicator(self) -> Expr:
        """``1[z > 0]``: the step, 1 where ``z > 0`` and 0 elsewhere (ReLU's derivative as the page writes it)."""
        self.take()
        self.take()
        self.deeper()
        inner = self.expr()
        self.expect(">")
        if self.peek() != ("number", "0", self.peek()[2]):
            self.fail("0 (the step is written 1[z > 0])")
        self.take()
        self.expect("]")
        self.depth -= 1
        return self.step(inner)


def parse(text, names: dict, field: str = "expression", implicit: bool = False, functions: dict | None = None,
          step=None, used: set | None = None) -> Expr:
    """``text`` as a SymPy expression over ``names`` (``{name: Symbol}``); one :class:`ProblemError` line,
    naming ``field`` and the position, for anything else. ``functions`` replaces :data:`FUNCTIONS` (``{name:
    (arity, constructor)}``); with it or ``step`` (the function ``1[z > 0]`` makes) the text is a page's formula:
    names as the page prints them (``w^b_11``), primes (``ReLU'``), ``σ`` and the step. ``used`` (a set) gets the
    names the text reads, as typed.

    >>> from sympy import Symbol
    >>> w, L = Symbol("w^b_11"), Symbol("L_1")
    >>> parse("2w^{b}_{11} L_1", {"w^b_11": w, "L_1": L}, implicit=True, functions={})
    2*L_1*w^b_11
    """
    if not isinstance(text, str):
        raise ProblemError(field, f"expected an expression in quotes, like \"x + y\", got {quote(text)}")
    if len(text) > MAX_LENGTH:
        raise ProblemError(field, f"expected an expression of at most {MAX_LENGTH} characters, got {len(text)}")
    if not text.strip():
        raise ProblemError(field, "expected an expression, like \"x + y\", got an empty string")
    p = _Parser(text, names, field, implicit, functions, step)
    out = p.expr()
    if p.peek()[0] != "end":
        p.fail("an operator or the end")
    if used is not None:
        used.update(p.used)
    return out



