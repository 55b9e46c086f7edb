r"""An independent evaluation of a computational graph, to check its derivation (:mod:`derivations.engine.graph`)
before a variant is written: each equation read again, by Python's own parser into a syntax tree (never run:
only numbers, names, ``+ − * / ^ **`` and the graph's functions are taken from it, anything else is refused),
evaluated with mpmath at :data:`DIGITS` digits; each gradient by a central difference of the output in that
name (an intermediate name held at its shifted value while the equations after it are evaluated again).
Nothing of SymPy's parsing, differentiation or backward accumulation is used.

>>> from derivations.engine.graph import load_graph
>>> from derivations.engine.problem import HANDOUT
>>> values, grads = independent(load_graph(HANDOUT.parent / "circuit.toml"))
>>> float(values["f"]), [round(float(grads[n]), 12) for n in ("x", "y", "z", "q")]
(-12.0, [-4.0, -4.0, 3.0, -4.0])
"""

from __future__ import annotations

import ast

import mpmath
from mpmath import mp, mpf

DIGITS = 50  # working precision of the evaluation
STEP = mpf(10) ** -15  # the central difference's step, relative to the value's size (error about STEP², far below TOLERANCE)
TOLERANCE = mpf(10) ** -20  # relative agreement asked of the derivation's exact values


class OracleError(ValueError):
    """The oracle cannot read an equation, or a value is not a real number."""


def _sigmoid(z):
    return 1 / (1 + mpmath.exp(-z))


_FUNCTIONS = {"exp": mpmath.exp, "log": mpmath.log, "sqrt": mpmath.sqrt, "tanh": mpmath.tanh, "sigmoid": _sigmoid,
              "relu": lambda z: z if z > 0 else mpf(0), "max": max, "min": min}
# How far a function's arguments are from where it is undefined (log, sqrt: below 0), has a kink (relu: at 0)
# or a tie (max, min: equal arguments); negative: outside its domain.
_DOMAIN = {"log": lambda z: z, "sqrt": lambda z: z, "relu": abs, "max": lambda a, b: abs(a - b),
           "min": lambda a, b: abs(a - b)}
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


def _python_text(text: str) -> str:
    """The equation in Python's spelling: ``^`` is a power there too (binding as ``**`` does)."""
    return text.replace("^", "**").replace("·", "*").replace("×", "*").replace("\u2212", "-")


def _compile(text: str):
    """A function ``f(env, watch=None)`` of ``{name: mpf}`` evaluating ``text``'s syntax tree, taking only the
    nodes a graph allows. With ``watch`` (a list), the evaluation appends ``(what, distance)`` for every place a
    value is undefined or has a kink: a log's or sqrt's argument, a divisor (its distance from 0), a relu's
    argument (from 0), a max's or min's two arguments (from each other); a negative distance is outside the
    domain."""
    source = _python_text(text)
    tree = ast.parse(source, mode="eval").body
    watch = None  # the list of the evaluation under way, if it is watched

    def seen(what, distance):
        if watch is not None:
            watch.append((what, distance))

    def ev(node, env):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            a, b = ev(node.left, env), ev(node.right, env)
            divisor = b if isinstance(node.op, ast.Div) else a if isinstance(node.op, ast.Pow) and b < 0 else None
            if divisor is not None:  # the graph's exponents are whole numbers: a negative one divides
                part = node.right if isinstance(node.op, ast.Div) else node.left
                seen(f"the divisor {ast.get_source_segment(source, part)}", abs(divisor))
                if divisor == 0:
                    raise OracleError(f"{text!r}: division by 0")
            return _BINARY[type(node.op)](a, b)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return mpf(ast.get_source_segment(source, node))  # the digits as written, not a float's
        if isinstance(node, ast.Name):
            return env[node.id]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and not node.keywords):
            args = [ev(a, env) for a in node.args]
            name, shown = node.func.id, ast.get_source_segment(source, node)
            where = _DOMAIN.get(name)
            if where is not None:
                distance = where(*args)
                seen(f"the argument{'s' if len(args) > 1 else ''} of {shown}", distance)
                if distance < 0 or (distance == 0 and name == "log"):
                    raise OracleError(f"{text!r}: {shown} of a negative number")
            return _FUNCTIONS[name](*args)
        raise OracleError(f"{text!r}: {type(node).__name__} is not part of a graph's equations")

    def evaluate(env, watched: list | None = None):
        nonlocal watch
        watch = watched
        try:
            return ev(tree, env)
        finally:
            watch = None

    return evaluate


def _forward(compiled: list, data: dict, held: dict | None = None) -> dict:
    env = dict(data)
    env.update(held or {})
    for name, f in compiled:
        if held is None or name not in held:
            env[name] = f(env)
    return env


def independent(problem, watch: list | None = None) -> tuple:
    """``(values, gradients)``: every name's value and the output's gradient in every name but the output, as
    mpmath numbers, from the problem's equation texts alone; ``watch`` (a list) gets, for the forward pass,
    ``(equation, what, distance)`` for every point of an equation where a value is undefined or has a kink
    (:func:`_compile`). Raises :class:`OracleError` for a value that is not a real number."""
    with mp.workdps(DIGITS):
        compiled = [(name, _compile(text)) for name, text in problem.equations]
        data = {n: mpf(v.p) / v.q for n, v in problem.data}
        values = dict(data)
        for name, f in compiled:  # the forward pass, watched
            seen: list = []
            values[name] = f(values, seen)
            if watch is not None:
                watch.extend((name, what, d) for what, d in seen)
        out = problem.equations[-1][0]
        grads = {}
        for name in [n for n, _ in problem.data] + [n for n, _ in problem.equations[:-1]]:
            h = STEP * max(1, abs(values[name]))
            ends = []
            for shifted in (values[name] + h, values[name] - h):
                if name in data:  # a data value shifted; an equation's value held shifted, those after it evaluated again
                    ends.append(_forward(compiled, {**data, name: shifted})[out])
                else:
                    ends.append(_forward(compiled, data, {name: shifted})[out])
            grads[name] = (ends[0] - ends[1]) / (2 * h)
        for name, v in values.items():
            if not isinstance(v, mpf):
                raise OracleError(f"{name} = {mpmath.nstr(v, 8)} is not a real number")
        return values, grads


def disagreements(graph, evaluated: tuple | None = None) -> list:
    """Where the derivation's values (:class:`~derivations.engine.graph.Graph`, its decimals) and the independent
    evaluation (``evaluated``, :func:`independent`'s, where the caller has it) differ by more than
    :data:`TOLERANCE` (relative, or absolute near 0): ``[]`` when they agree."""
    values, grads = evaluated if evaluated is not None else independent(graph.problem)
    out = []
    with mp.workdps(DIGITS):
        pairs = [(f"forward.{n}", graph.value[n], values[n]) for n in graph.equations] + \
                [(f"grad.{n}", graph.gradient[n], grads[n]) for n in grads]
        for key, exact, ref in pairs:
            # a deep graph's exact form is evaluated equation by equation (Graph.decimal), never whole
            v = mpf(str(graph.decimal(exact))) if not exact.is_Rational else mpf(exact.p) / exact.q
            if abs(v - ref) > TOLERANCE * max(1, abs(ref)):
                out.append(f"{key}: derived {mpmath.nstr(v, 12)}, evaluated independently {mpmath.nstr(ref, 12)}")
    return out
