"""The symmetry theorems: proved where their assumptions hold, not proved where they fail."""

import pytest
from sympy import Matrix, Rational, Symbol

from derivations import derive, evaluate
from derivations import theorems as T
from derivations.backward import Derivation


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "identity"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_theorems_hold_at_handout_sizes(act, loss):
    for f in (T.hidden_symmetry, T.dead_first_layer, T.permanence):
        th = f(3, 4, 2, act, loss)
        assert th.holds, f"{th.name}: " + "; ".join(s.claim for s in th.steps if not s.ok)
        assert len(th.steps) > 1


@pytest.mark.parametrize("n_out", [2, 3, 4])
@pytest.mark.parametrize("loss", ["general", "mse", "cross_entropy"])
def test_softmax_lemma(n_out, loss):
    th = T.softmax_lemma(n_out, loss)
    assert th.holds and th.steps[-1].claim == "Σ_j ∂ℒ/∂O_j = 0"


def test_dead_first_layer_for_a_general_loss():
    assert T.dead_first_layer(3, 4, 2, "tanh", "general").holds


def test_check_zero_refuses_a_nonzero_difference():
    x = Symbol("x", real=True)
    step = T.check_zero("x − 1 = 0", x - 1)
    assert not step.ok and "counterexample" in step.method


def test_symmetry_not_proved_when_W_b_columns_differ():
    """Break the assumption: W_b with unequal columns. The differences of hidden-unit gradients must come
    out not proved."""
    d = Derivation(T._symbolic_problem(3, 4, 2, "relu", "mse"))
    s = d.symbols
    leaves, a, b = T.symmetric_leaves(d)
    leaves[s.W_b[0, 1]] = Symbol("b_other", real=True)  # one column differs
    v = d.values(leaves)
    ga = d.gradients["W_a"].xreplace(v)
    step = T.check_zero("∂ℒ/∂w^a_21 − ∂ℒ/∂w^a_11 = 0", ga[1, 0] - ga[0, 0])
    assert not step.ok


def test_dead_first_layer_not_proved_when_W_b_rows_differ():
    d = Derivation(T._symbolic_problem(2, 2, 2, "tanh", "mse"))
    s = d.symbols
    c = [Symbol(f"c_{j}", real=True) for j in range(2)]
    leaves = {s.W_b[0, j]: c[j] for j in range(2)}
    leaves[s.W_b[1, 0]], leaves[s.W_b[1, 1]] = c[0], Symbol("c_other", real=True)
    v = d.values(leaves)
    # Column 1 of W_b is still constant, so ∇L_1 is still 0 (the lemma); column 2 is not, so ∇L_2 is not.
    assert T.check_zero("∇L_1 = 0", v[s.gL[0]]).ok
    assert not T.check_zero("∇L_2 = 0", v[s.gL[1]]).ok


def test_problem_flags(handout):
    from dataclasses import replace

    assert T.in_symmetric_set(handout) and T.rows_of_W_b_equal(handout)
    rnd = T.random_init(handout, seed=3)
    assert not T.in_symmetric_set(rnd) and not T.rows_of_W_b_equal(rnd)
    # Equal rows of W_b (so W_a's gradient is 0) without the full symmetry:
    skew = replace(handout, W_a=Matrix([[1, 2, 3], [0, 1, 0], [1, 1, 1], [2, 0, 1]]) / 10)
    assert not T.in_symmetric_set(skew) and T.rows_of_W_b_equal(skew)
    assert all(v == 0 for v in evaluate(derive(skew)).gradients["W_a"])


def test_symmetry_is_permanent_in_numbers(handout):
    step = T.permanence_in_numbers(handout, steps=40)
    assert step.ok, step.claim
    h = T.train(handout, 40, module="mpmath")
    assert all(T.hidden_spread(a, b) == (0, 0) for a, b in zip(h["W_a"], h["W_b"]))
    assert h["loss"][-1] < h["loss"][0] - Rational(1, 100)
    assert h["W_a"][-1][0][0] != h["W_a"][0][0][0]  # W_a did move after the first step


def test_random_init_breaks_symmetry(handout):
    th = T.random_breaks(handout, seed=1)
    assert th.holds
    assert len(set(th.notes)) == handout.n_hidden  # four different gradients, printed
    h = T.train(T.random_init(handout, 1), 30)
    spread_a, spread_b = T.hidden_spread(h["W_a"][-1], h["W_b"][-1])
    assert spread_a > 1e-3 and spread_b > 1e-3


def test_theorems_for_the_handout(handout):
    ths = T.theorems_for(handout, every=True)
    assert [t.key for t in ths] == ["symmetry", "softmax_lemma", "dead_first_layer", "permanence", "random_breaks"]
    assert all(t.holds for t in ths)
    assert all(t.applies for t in ths)


def test_theorems_for_a_random_init_do_not_apply(handout):
    ths = T.theorems_for(T.random_init(handout, 2))
    applies = {t.key: t.applies for t in ths}
    assert applies == {"symmetry": False, "softmax_lemma": True, "dead_first_layer": False, "permanence": False}


def test_width_sweep():
    """Statements 1-3 and the lemma for inputs 1-4, hidden 1-8, outputs 2-4, every activation and loss."""
    result = T.sweep()
    assert result["failed"] == []
    assert result["checked"] == 4 * 8 * 3 * 4 * (2 * 3 + 1) + 3 * 3
    print(f"\nwidth sweep: {result['checked']} theorems proved in {result['seconds']:.1f} s")
