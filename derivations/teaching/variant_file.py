"""A variant's problem file: the base's structure and the drawn numbers as TOML, read back as the problem it
was checked as; its hash is the variant id the pages print.

>>> from dataclasses import replace
>>> from derivations.teaching.drawing import draw, read_base
>>> base = read_base()
>>> p = draw(base, "course-2026", "ada")
>>> problem_from_toml(variant_toml(base, p), "v") == replace(p, source="v")
True
"""

from __future__ import annotations

import json
from pathlib import Path

from ..engine import reading
from ..engine.ops import DEFAULT_OUTPUT
from ..engine.problem import Problem, problem_from_dict
from ..notation.printing import decimal_text
from .handout import problem_id


def toml_number(v) -> str:
    """A value as a problem file writes it: a decimal where it has one, else its fraction, quoted."""
    text = decimal_text(v)
    return text if text is not None else f'"{v}"'


def _toml_matrix(W, indent: int) -> str:
    if len(set(W)) == 1:
        return toml_number(W[0, 0])
    rows = ["[" + ", ".join(toml_number(e) for e in W.row(i)) + "]" for i in range(W.rows)]
    return "[" + (",\n" + " " * indent).join(rows) + "]"


def _toml_vector(values) -> str:
    return "[" + ", ".join(toml_number(v) for v in values) + "]"


def _toml_samples(samples, indent: int) -> str:
    if len(samples) == 1:
        return _toml_vector(samples[0])
    return "[" + (",\n" + " " * indent).join(_toml_vector(v) for v in samples) + "]"


def variant_toml(base, p: Problem) -> str:
    """The variant's problem file: structure from the base (a :class:`~derivations.teaching.drawing.Base`), the drawn numbers (no id, no seed: its hash is
    the variant id printed on the pages). A bias the base gives as one number per layer stays one number."""
    b = base.problem
    acts = p.activations
    activation = f'"{acts[0]}"' if len(set(acts)) == 1 else "[" + ", ".join(f'"{a}"' for a in acts) + "]"
    lines = [f"# A variant of the {Path(str(b.source)).name} problem, drawn by python -m derivations.variants.",
             "[network]",
             f"layers = [{', '.join(map(str, p.layers))}]",
             f"activation = {activation}"]
    if p.output != DEFAULT_OUTPUT:
        lines.append(f'output = "{p.output}"')
    lines.append(f'loss = "{p.loss}"')
    if p.bias:
        lines.append("bias = true")
    if p.shared_bias:
        lines.append("shared_bias = true")
    lines += ["",
              "[data]",
              f"x = {_toml_samples(p.xs, 5)}",
              f"y = {_toml_samples(p.ys, 5)}",
              "",
              "[init]"]
    for name, W in p.params().items():
        if name.startswith("b_"):
            lines.append(f"{name} = {toml_number(W[0]) if len(set(W)) == 1 else _toml_vector(W)}")
        else:
            lines.append(f"{name} = {_toml_matrix(W, len(name) + 4)}")
    if p.ask or p.lr is not None or p.title or p.closed:  # the base's page: title, asked gradients, descent step
        lines += ["", "[worksheet]"] + ([f"title = {json.dumps(p.title, ensure_ascii=False)}"] if p.title else []) \
            + (["ask = [" + ", ".join(f'"{a}"' for a in base.asked + base.asked_inputs) + "]"] if p.ask else []) \
            + ([f"lr = {toml_number(p.lr)}"] if p.lr is not None else []) \
            + (["closed = [" + ", ".join(json.dumps(a) for a in p.closed) + "]"] if p.closed else [])
    return "\n".join(lines) + "\n"


def variant_id(text: str) -> str:
    """The printed identifier: the hash of the problem file (as :func:`handout.problem_id` computes it)."""
    return problem_id(None, text.encode("utf-8"))


def problem_from_toml(text: str, source: str) -> Problem:
    import tomllib

    return problem_from_dict(tomllib.loads(text, parse_float=reading.TomlFloat), source)
