"""Operations carry their own behaviour: a class per kind of operation holds its forward formula beside its
local derivatives (the engine), and what each layer above makes of a kind (its forward step, backward values,
local derivatives and path factors on both views of the page, its slips, the NumPy script's lines, the
diagram's caption) is an Aspect registered by class, never a test of a kind's name; an output layer or an
activation is asked what it does, never compared by its name.
The command lines share one parser and one failure line."""

import dataclasses
import re
from pathlib import Path

import pytest

import derivations
from derivations import evaluate
from derivations.cli import check, cli_io, grade
from derivations.cli import print as print_cli
from derivations.engine.derivation import KINDS, Aspect, Derivation, Operation
from derivations.engine.ops import ACTIVATIONS, OUTPUTS
from derivations.outputs.export import to_python
from derivations.outputs.figures import caption, network_svg
from derivations.outputs.page import render_text
from derivations.outputs.render import to_json
from derivations.teaching.solution import worked_solution

ASPECTS = {"the forward step", "the backward values", "the local derivatives", "the path factors", "slips",
           "the NumPy script's forward step", "the NumPy script's backward steps", "the diagram's caption"}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_kind_defines_its_forward_and_its_local_derivatives(kind):
    assert kind.forward is not Operation.forward
    assert kind.local_edges is not Operation.local_edges
    assert [k.kind for k in KINDS].count(kind.kind) == 1 and kind.kind


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_aspect_has_a_rule_for_every_kind(kind):
    assert {a.name for a in Aspect.every} >= ASPECTS
    assert [a.name for a in Aspect.every if a.rule(kind) is None] == []


def test_a_kind_without_a_rule_is_named_not_guessed(handout):
    @dataclasses.dataclass(frozen=True)
    class Negate(Operation):
        kind = "negate"

    with pytest.raises(NotImplementedError, match="the diagram's caption: no rule for the Negate operation"):
        caption(Negate("H", "L"), Derivation(handout))


def test_an_operations_kind_is_read_only(handout):
    op = Derivation(handout).ops[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.kind = "activation"


class OwnClasses(Derivation):
    """The same network with each operation of a class of its own, derived from its kind's."""

    def _ops(self):
        return [type(f"Own{type(op).__name__}", (type(op),), {})(op.inp, op.out, op.layer) for op in super()._ops()]


def test_every_view_dispatches_on_the_operations_class_not_its_name(handout):
    plain, own = Derivation(handout), OwnClasses(handout)
    assert [type(op).__name__ for op in own.ops] == ["OwnLinearStep", "OwnActivationStep", "OwnLinearStep",
                                                     "OwnOutputStep", "OwnLossStep"]
    assert own.definitions == plain.definitions and own.gradients == plain.gradients
    a, b = evaluate(plain), evaluate(own)
    assert render_text(worked_solution(b), False) == render_text(worked_solution(a), False)
    assert to_python(b) == to_python(a)
    assert network_svg(b, "w_a11") == network_svg(a, "w_a11")
    assert to_json(b, []) == to_json(a, [])


def test_no_module_tests_an_operation_kind_by_its_name():
    root = Path(derivations.__file__).parent
    by_name = re.compile(r'\.kind\s*(==|!=|in\b)[^#]*"(linear|activation|output|loss)"|\[op\.kind\]')
    hits = [f"{path.relative_to(root)}:{n}: {line.strip()}" for path in sorted(root.rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_name.search(line)]
    assert hits == []


# cli/variants.py is split by another branch of issue 33 (its drawing rules still ask the output layer's name)
ASKS_NAMES = {"engine/ops.py", "cli/variants.py"}


def test_no_module_asks_an_output_layer_or_an_activation_its_name():
    """Outside the registry an output layer or an activation is asked what it does (``elementwise``,
    ``passes_through``, ``sums_to_one``, ``shapes``, ``can_die``), never compared by its name."""
    root = Path(derivations.__file__).parent
    names = "|".join(sorted({*ACTIVATIONS, *OUTPUTS}))
    by_name = re.compile(rf'(==|!=|\bin)\s*\(?"({names})"|"({names})"\s*(==|!=)|\.name\s*(==|!=)\s*"')
    hits = [f"{path.relative_to(root)}:{n}: {line.strip()}" for path in sorted(root.rglob("*.py"))
            if path.relative_to(root).as_posix() not in ASKS_NAMES
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_name.search(line)]
    assert hits == []


@pytest.mark.parametrize("cli", [print_cli, check, grade], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_the_command_lines_share_one_parser(cli):
    assert type(cli.parser()) is cli_io.Parser
