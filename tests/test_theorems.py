"""The symmetry theorems, for any depth: proved where their assumptions hold, not proved where they fail, and
numeric checks never called proofs."""

import pytest
from sympy import Matrix, Rational, Symbol

from derivations import derive, evaluate, make_problem
from derivations.engine import theorems as T
from derivations.engine.ops import ACTIVATIONS, LOSSES
from derivations.engine.theorems import Structure
from derivations.engine.training import hidden_spread, train


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_theorems_hold_at_handout_sizes(act, loss):
    s = Structure((3, 4, 2), (act,), loss)
    for th in (T.hidden_symmetry(s), T.dead_layers(s), T.permanence(s)):
        assert th.holds, f"{th.name}: " + "; ".join(st.claim for st in th.steps if not st.ok)
        assert len(th.steps) > 1 and th.verdict == "proved"


@pytest.mark.parametrize("layers,bias,samples", [((3, 4, 4, 2), False, 1), ((2, 3, 2, 3), True, 1),
                                                  ((2, 2, 2, 2, 2), True, 2)])
def test_theorems_hold_for_deeper_biased_batched_networks(layers, bias, samples):
    s = Structure(layers, ("tanh",) * (len(layers) - 2), "mse", bias, samples)
    for l in range(s.depth):
        for th in (T.hidden_symmetry(s, l), T.permanence(s, l)):
            assert th.holds, th.name
    dead = T.dead_layers(s)
    assert dead.holds
    if bias:
        assert any(st.claim.startswith("∂ℒ/∂b^a_") for st in dead.steps)  # bias gradients are dead too


@pytest.mark.parametrize("n_out", [2, 3, 4])
@pytest.mark.parametrize("loss", ["general", *sorted(LOSSES)])
def test_softmax_lemma(n_out, loss):
    th = T.softmax_lemma(n_out, loss)
    assert th.holds and th.steps[-1].claim == "Σ_j ∂ℒ/∂O_j = 0"


def test_check_zero_refuses_a_nonzero_difference():
    x = Symbol("x", real=True)
    step = T.check_zero("x − 1 = 0", x - 1)
    assert not step.ok and "counterexample" in step.method


def test_symmetry_not_proved_when_outgoing_columns_differ():
    """Break the assumption: W_b with unequal columns. The differences of hidden-unit gradients must come
    out not proved."""
    s = Structure((3, 4, 2), ("relu",), "mse")
    d = T.symbolic(s)
    sy = d.symbols
    leaves = T.symmetric_leaves(d, 0)
    leaves[sy.W[1][0, 1]] = Symbol("c_other", real=True)  # one column differs
    v = T._layer_values(d, 0, leaves)
    ga = d.gradients["W_a"].xreplace(v)
    assert not T.check_zero("∂ℒ/∂w^a_21 − ∂ℒ/∂w^a_11 = 0", ga[1, 0] - ga[0, 0]).ok


def test_dead_layer_not_proved_without_the_lemma():
    """Without the softmax lemma's rewrite, ∇L is not 0: the lemma is what the proof rests on."""
    s = Structure((2, 2, 2), ("tanh",), "mse")
    d = T.symbolic(s)
    sy = d.symbols
    c = [Symbol(f"c_{j}", real=True) for j in range(2)]
    v = {sy.W[1][i, j]: c[j] for i in range(2) for j in range(2)}
    assert not T.check_zero("∇L_1 = 0", d.definitions[sy.grad("L")[0]].xreplace(v)).ok


def test_problem_flags(handout):
    from dataclasses import replace

    assert T.symmetric(handout) and T.last_rows_equal(handout)
    rnd = T.random_init(handout, seed=3)
    assert not T.symmetric(rnd) and not T.last_rows_equal(rnd)
    # Equal rows of W_b (so W_a's gradient is 0) without the full symmetry:
    skew = replace(handout, weights=(Matrix([[1, 2, 3], [0, 1, 0], [1, 1, 1], [2, 0, 1]]) / 10, handout.W_b))
    assert not T.symmetric(skew) and T.last_rows_equal(skew)
    assert all(v == 0 for v in evaluate(derive(skew)).gradients["W_a"])


def test_symmetry_is_permanent_in_numbers(handout):
    step = T.permanence_in_numbers(handout, steps=40)
    assert step.ok, step.claim
    h = train(handout, 40, module="mpmath")
    assert all(max(hidden_spread(handout, ps)) <= 1e-25 for ps in h["params"])  # 30-digit arithmetic
    assert h["loss"][-1] < h["loss"][0] - Rational(1, 100)
    assert h["params"][-1]["W_a"][0][0] != h["params"][0]["W_a"][0][0]  # W_a did move after the first step


def test_numeric_checks_are_never_called_proofs(handout):
    ths = T.theorems_for(handout, every=True)
    numeric = {t.key: t for t in ths if t.how == T.NUMERIC}
    assert set(numeric) == {"training_run", "random_breaks"}
    assert all(t.verdict == "checked numerically" for t in numeric.values())
    assert all(t.verdict == "proved" for t in ths if t.how == T.PROVED)
    data = [t.as_dict() for t in ths]
    assert {d["key"]: d["method"] for d in data}["random_breaks"] == "checked numerically"


def test_random_init_breaks_symmetry(handout):
    th = T.random_breaks(handout, seed=1)
    assert th.holds
    assert len(set(th.notes)) == handout.n_hidden  # four different gradients, printed
    h = train(T.random_init(handout, 1), 30)
    spread_in, spread_out = hidden_spread(handout, h["params"][-1])
    assert spread_in > 1e-3 and spread_out > 1e-3


def test_random_draw_claims_only_what_it_found():
    """A wide ReLU layer fed one input of a single sign: some unit is dead in most draws. The record says
    "the first draw with no dead unit" only when there was one."""
    from sympy import ImmutableMatrix

    p = make_problem((1, 30, 2), "relu", "mse", [1], [1, 0], [ImmutableMatrix(30, 1, [0] * 30), ImmutableMatrix(2, 30, [0] * 60)])
    th = T.random_breaks(p)
    assert "every draw" in th.assumptions[0]
    problem, used, found = T.random_draw(p)
    assert not found


def test_theorems_for_the_handout(handout):
    ths = T.theorems_for(handout, every=True)
    assert [t.key for t in ths] == ["symmetry", "softmax_lemma", "dead_first_layer", "permanence", "training_run",
                                    "random_breaks"]
    assert all(t.holds for t in ths)
    # the random init is a contrast to the handout's constant one, not its own init
    assert {t.key: t.applies for t in ths} == {"symmetry": True, "softmax_lemma": True, "dead_first_layer": True,
                                               "permanence": True, "training_run": True, "random_breaks": False}


def test_theorems_for_a_random_init_do_not_apply(handout):
    applies = {t.key: t.applies for t in T.theorems_for(T.random_init(handout, 2))}
    assert applies == {"symmetry": False, "softmax_lemma": True, "dead_first_layer": False, "permanence": False}


@pytest.mark.slow
def test_width_sweep():
    """Statements 1-3 and the lemma for 1-3 hidden layers, every width in the sweep, a kinked and a smooth
    activation, with and without biases; the other output layers' symmetry proved and dead first layer refuted.
    The whole sweep (every activation and softmax loss, over 1000 theorems) is ``benchmarks/sweep.py``."""
    result = T.sweep(activations=("relu", "sigmoid"), losses=("mse",))
    assert result["failed"] == []
    print(f"\nwidth sweep: {result['checked']} theorems proved in {result['seconds']:.1f} s")
    assert result["checked"] > 3000
