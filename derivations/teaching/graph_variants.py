r"""Variants of a computational graph: the same equations, new data values for every student, each draw
checked against rules that keep every value defined, then against an independent evaluation.

**What stays, what is drawn.** The equations stay; every data value is drawn again from SHA-256 of
``seed, id, attempt`` (:class:`~derivations.teaching.drawing.Stream`: stable, independent of the roster): a
whole number up to the base's largest (at least 3: 1 to 5 for CS231n's circuit, whose data are −2, 5 and −4),
where the base's value is whole,
else a short decimal of at most ``digits`` significant digits (``[variants] digits``, default 2) of the base
value's size; the sign is the base value's (a loss's weight λ stays positive). A data value of 0 stays 0.

**The rules** (:func:`broken_rules`; a draw that breaks one is redrawn with the next attempt number):

1. every value is defined and real, at a distance: the argument of a ``log`` or ``sqrt`` at least
   :data:`MARGIN` above 0, a divisor at least :data:`MARGIN` from 0, a ``relu``'s argument and the two
   arguments of a ``max`` or ``min`` at least :data:`MARGIN` apart (no kink, no tie);
2. every exact rational value has a denominator of at most :data:`MAX_DENOMINATOR`, and no value is larger
   than :data:`MAX_SIZE`;
3. every gradient that is not 0 in the base is at least :data:`MIN_GRADIENT` (0.001) in size (a sigmoid's
   argument stays where it still bends: |a| below about 7).

>>> from derivations.engine.graph import load_graph
>>> from derivations.engine.problem import HANDOUT
>>> base = GraphBase.read(HANDOUT.parent / "circuit.toml")
>>> p, attempt = draw_attempt(base, "course-2026", "ada")
>>> p == draw_attempt(base, "course-2026", "ada")[0], broken_rules(base, p)
(True, [])
>>> read_variant(variant_toml(base, p), "v").equations == base.problem.equations
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import mpmath
from mpmath import mpf
from sympy import Rational

from ..engine import reading
from ..engine.graph import Graph, GraphProblem, graph_from_dict, is_graph
from .drawing import MAX_DENOMINATOR, Stream, first_draw, read_base, variants_digits
from .graph_oracle import OracleError, independent
from .variant_file import toml_number

MARGIN = Fraction(1, 10)  # a kink, a tie or a pole at least this far away
MAX_SIZE = 10**6  # no value (forward or gradient) larger than this
MIN_GRADIENT = Fraction(1, 1000)  # a gradient not 0 by the base's structure is at least this in size
MIN_WHOLE = 3  # whole numbers are drawn up to the base's largest, and at least up to this
RULES = {1: "every value defined: log and sqrt of at least 0.1, divisors, relu and max/min arguments at least 0.1 from "
            "0 or from each other",
         2: "exact values with denominators of at most 10^8, none larger than 10^6",
         3: "gradients at least 0.001 in size where the base's is not 0"}


@dataclass(frozen=True)
class GraphBase:
    """The base graph of a variants set: its problem, the digits of a drawn decimal, the names whose gradient
    is not 0 in the base (rule 3), its derivation (each variant's is the same graph at other data, :meth:`Graph.at`)
    and the largest whole number drawn."""

    problem: GraphProblem
    digits: int = 2
    alive: tuple = ()
    graph: Graph | None = None
    whole: int = MIN_WHOLE
    kind: str = "graph"

    @classmethod
    def read(cls, path, doc: dict | None = None) -> "GraphBase":
        doc = reading.read_toml(path) if doc is None else doc
        problem = graph_from_dict(doc, reading.path_text(path))
        digits = variants_digits(doc, problem.source)
        g = Graph(problem)
        alive = tuple(n for n, v in g.gradient.items() if n != g.output and v != 0)
        whole = max([MIN_WHOLE] + [int(abs(v)) for _, v in problem.data if v.q == 1])
        return cls(problem, digits, alive, g, whole)

    @property
    def asked(self) -> tuple:
        return ()


def read_any_base(path=None):
    """The base of a variants set (``--config``; the handout's without a path): a graph's
    (:class:`GraphBase`) when its file has a ``[graph]`` table, else a network's
    (:func:`~derivations.teaching.drawing.read_base`)."""
    if path is None:
        return read_base()
    doc = reading.read_toml(path, field="--config")
    return GraphBase.read(path, doc) if is_graph(doc) else read_base(path, doc)


def _drawn(s: Stream, v: Rational, digits: int, whole: int) -> Rational:
    """A new value of the size of ``v``: a whole number from 1 to ``whole`` where ``v`` is whole, else a short
    decimal of ``digits`` significant digits in ``v``'s decade (0.1 to 0.99 for 0.5); ``v``'s sign (a loss's
    weight λ stays positive, CS231n's x = −2 negative: a drawn sign could make a loss negative)."""
    if v == 0:
        return Rational(0)
    sign = 1 if v > 0 else -1
    if v.q == 1:
        return Rational(sign * (1 + s.below(whole)))
    size, scale = Fraction(abs(v.p), v.q), Fraction(1)
    while size >= 1:
        size, scale = size / 10, scale * 10
    while size < Fraction(1, 10):
        size, scale = size * 10, scale / 10
    low = 10 ** (digits - 1)
    m = low + s.below(9 * low)
    return Rational(sign * m * scale.numerator, 10**digits * scale.denominator)


def draw_numbers(base: GraphBase, seed: str, student: str, attempt: int) -> GraphProblem:
    s = Stream(seed, student, attempt)
    data = tuple((n, _drawn(s, v, base.digits, base.whole)) for n, v in base.problem.data)
    return replace(base.problem, data=data, source=f"variant {student}")


def draw_attempt(base: GraphBase, seed: str, student: str, start: int = 0, avoid=frozenset(), seconds=None) -> tuple:
    """``(problem, attempt)``: the first draw from attempt ``start`` on that obeys every rule (and whose file
    is not in ``avoid``); :class:`ProblemError` naming the rule when none of :data:`~derivations.teaching.drawing.MAX_ATTEMPTS` does."""

    def attempt(k: int):
        p = draw_numbers(base, seed, student, k)
        return p, broken_rules(base, p)

    return first_draw(attempt, student, RULES, lambda message: int(message[5]), base.problem.source,
                      "change the base's data or [variants] digits", start, avoid, lambda p: variant_toml(base, p), seconds)


# -- the rules -------------------------------------------------------------------------------------------------


def evaluated(p: GraphProblem) -> tuple:
    """``(values, gradients, watch)`` of the independent evaluation (:mod:`derivations.teaching.graph_oracle`,
    50 digits), or the rule-1 message of a value that is not defined."""
    watch: list = []
    try:
        values, grads = independent(p, watch)
    except (OracleError, ZeroDivisionError) as err:
        return f"rule 1: {err}"
    return values, grads, watch


def broken_rules(base: GraphBase, p: GraphProblem, evaluation=None) -> list:
    """Messages, each starting ``rule N:``, for every rule the draw ``p`` breaks (``[]``: none). The margins
    and sizes are read from the independent evaluation (``evaluation``, :func:`evaluated`'s, where the caller
    has it), the denominators from the exact values."""
    evaluation = evaluated(p) if evaluation is None else evaluation
    if isinstance(evaluation, str):
        return [evaluation]
    values, grads, watch = evaluation
    margin = mpf(MARGIN.numerator) / MARGIN.denominator
    for name, what, distance in watch:
        if distance < margin:
            return [f"rule 1: {name}: {what} is {mpmath.nstr(distance, 4)}, not at least {MARGIN}"]
    g = base.graph.at(p.data)
    out = []
    for name, v in [(n, g.value[n]) for n in g.equations] + [(f"∂{g.output}/∂{n}", g.gradient[n]) for n in grads]:
        if v.is_Rational and v.q > MAX_DENOMINATOR:
            out.append(f"rule 2: {name} = {v} has a denominator above 10^8")
    for name, v in list(values.items()) + [(f"∂{g.output}/∂{n}", x) for n, x in grads.items()]:
        if abs(v) > MAX_SIZE:
            out.append(f"rule 2: {name} is larger than 10^6")
    small = mpf(MIN_GRADIENT.numerator) / MIN_GRADIENT.denominator
    out += [f"rule 3: ∂{g.output}/∂{n} = {mpmath.nstr(grads[n], 4)} is below 0.001 in size"
            for n in base.alive if abs(grads[n]) < small]
    return out


# -- the variant's file -----------------------------------------------------------------------------------------


def variant_toml(base: GraphBase, p: GraphProblem) -> str:
    """The variant's problem file: the base's equations and title, the drawn data (no id, no seed: its hash is
    the variant id the pages print)."""
    lines = [f"# A variant of the {Path(str(base.problem.source)).name} graph, drawn by python -m derivations.variants.",
             "[graph]"]
    lines += [f"{name} = {json.dumps(text, ensure_ascii=False)}" for name, text in p.equations]
    lines += ["", "[data]"] + [f"{name} = {toml_number(v)}" for name, v in p.data]
    if p.title:
        lines += ["", "[worksheet]", f"title = {json.dumps(p.title, ensure_ascii=False)}"]
    return "\n".join(lines) + "\n"


def read_variant(text: str, source: str) -> GraphProblem:
    """A variant's problem file read back, as any graph problem file is read (the bounded reader's limits)."""
    return graph_from_dict(reading.parse_toml(text.encode("utf-8"), source), source)
