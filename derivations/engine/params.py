"""A network's parameters and their names: a weight ``w^b_21`` (key ``w_b21``), a bias ``b^a_3`` (key ``b_a3``)
or, with ``shared_bias``, a layer's one bias ``b^a`` (key ``b_a``), and the reader of every spelling a user types.

>>> from derivations.engine.problem import load_problem
>>> parse_param("w_b[2,1]", load_problem()).key()
'w_b21'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ProblemError
from .problem import LETTERS, Problem, bias_name, weight_name


def pair(i: int, j: int, wide: bool) -> str:
    """The subscript of a matrix entry, 1-based: ``11``, or ``1,11`` once some width passes 9."""
    return f"{i + 1},{j + 1}" if wide else f"{i + 1}{j + 1}"


# -- parameters ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter: ``layer`` (0 for ``W_a``/``b_a``, 1 for ``W_b``/``b_b``, ...), ``kind`` (``"weight"`` or
    ``"bias"``), ``i`` (the unit it feeds) and, for a weight, ``j`` (the unit it comes from), 0-based. A
    ``shared`` bias is the layer's one bias, fed to every unit (``i`` is 0)."""

    layer: int
    kind: str
    i: int
    j: int = 0
    shared: bool = False

    def units(self, width: int) -> range:
        """The units of its layer that the parameter feeds: its own, or every one for a shared bias."""
        return range(width) if self.shared else range(self.i, self.i + 1)

    @property
    def letter(self) -> str:
        return LETTERS[self.layer]

    @property
    def matrix(self) -> str:
        """``W_b`` or ``b_a``: the name of the matrix (or vector) it belongs to."""
        return weight_name(self.layer) if self.kind == "weight" else bias_name(self.layer)

    def name(self, wide: bool = False) -> str:
        """The handout's name, 1-based: ``w^b_21``, ``b^a_3`` (a shared bias: ``b^a``)."""
        if self.shared:
            return f"b^{self.letter}"
        if self.kind == "bias":
            return f"b^{self.letter}_{self.i + 1}"
        return f"w^{self.letter}_{pair(self.i, self.j, wide)}"

    def key(self, wide: bool = False) -> str:
        """The name the CLI and the roles take: ``w_b21`` (``w_b2,11`` once a width passes 9), ``b_a3``, a
        shared bias ``b_a``."""
        if self.shared:
            return f"b_{self.letter}"
        if self.kind == "bias":
            return f"b_{self.letter}{self.i + 1}"
        return f"w_{self.letter}{pair(self.i, self.j, wide)}"


_PARAM = re.compile(
    r"\s*(?:(?P<w>[wW])\^?_?\{?(?P<wl>[a-z])\}?_?(?:\[(?P<i1>\d{1,4})\s*,\s*(?P<j1>\d{1,4})\]|\{?(?P<i2>\d{1,4})\s*,\s*(?P<j2>\d{1,4})\}?|\{?(?P<i3>\d)(?P<j3>\d)\}?)"
    r"|(?P<b>b)\^?_?\{?(?P<bl>[a-z])\}?_?(?:\[(?P<i4>\d{1,4})\]|\{?(?P<i5>\d{1,4})\}?)?)\s*",
    re.ASCII,  # digits 0-9 only: w_a١١ (Arabic-Indic) is no parameter
)


def parse_param(name, problem: Problem) -> Param:
    """A parameter from its name: ``w_b21``, ``w^b_21``, ``w_b[2,1]``, ``W_b[2,1]``, ``b_a3`` or ``b_a[3]``
    (1-based); with shared biases, ``b_a`` (or ``b^a``).

    >>> from derivations.engine.problem import load_problem
    >>> parse_param("w_a11", load_problem())
    Param(layer=0, kind='weight', i=0, j=0, shared=False)
    """
    shapes = ", ".join(f"{weight_name(l)} is {problem.layers[l + 1]}x{problem.layers[l]}" for l in range(len(problem.layers) - 1))
    example = "w_a11, w_b21 or w_b[2,1]" + ((", b_a" if problem.shared_bias else ", b_a1") if problem.bias else "")
    shown = name if isinstance(name, str) and len(name) <= 40 and "\n" not in name else (str(name)[:39] + "…").replace("\n", "\\n")
    m = _PARAM.fullmatch(name) if isinstance(name, str) and len(name) <= 100 else None
    if not m:
        raise ProblemError("param", f"expected a parameter name like {example} ({shapes}), got {shown!r}")
    n_linear = len(problem.layers) - 1
    if m.group("w"):
        layer = LETTERS.index(m.group("wl"))
        i, j = next((int(m.group(f"i{k}")), int(m.group(f"j{k}"))) for k in (1, 2, 3) if m.group(f"i{k}") is not None)
        if layer >= n_linear:
            raise ProblemError("param", f"{shown!r}: this network has {n_linear} weight matrices ({shapes})")
        rows, cols = problem.layers[layer + 1], problem.layers[layer]
        if not (1 <= i <= rows and 1 <= j <= cols):
            raise ProblemError("param", f"{shown!r} is outside {weight_name(layer)}, which is {rows}x{cols} (indices start at 1)")
        return Param(layer, "weight", i - 1, j - 1)
    layer = LETTERS.index(m.group("bl"))
    index = m.group("i4") or m.group("i5")
    if not problem.bias:
        raise ProblemError("param", f"{shown!r}: this network has no biases (bias = false)")
    if layer >= n_linear:
        raise ProblemError("param", f"{shown!r}: this network has {n_linear} bias vectors")
    if problem.shared_bias:
        if index is not None:
            raise ProblemError("param", f"{shown!r}: this network's biases are shared, one per layer (shared_bias = true): "
                                        f"write {bias_name(layer)}")
        return Param(layer, "bias", 0, shared=True)
    if index is None:
        raise ProblemError("param", f"{shown!r}: each unit has its own bias: write {bias_name(layer)}1 to "
                                    f"{bias_name(layer)}{problem.layers[layer + 1]}")
    i = int(index)
    if not 1 <= i <= problem.layers[layer + 1]:
        raise ProblemError("param", f"{shown!r} is outside {bias_name(layer)}, which has {problem.layers[layer + 1]} entries")
    return Param(layer, "bias", i - 1)


_INPUT = re.compile(r"\s*x\s*(?:_?\{?(\d{1,4})\}?|\[(\d{1,4})\])\s*", re.ASCII)


def input_index(name) -> int | None:
    """The input a name denotes, 0-based (``"x_1"``, ``"x1"``, ``"x[1]"``, ``"x_{1}"``), or None for any other
    name; its range is the caller's to check.

    >>> input_index("x_2"), input_index("x[10]"), input_index("w_a11")
    (1, 9, None)
    """
    m = _INPUT.fullmatch(name) if isinstance(name, str) and len(name) <= 40 else None
    return None if m is None else int(m.group(1) or m.group(2)) - 1
