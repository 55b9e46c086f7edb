"""Shared fixtures: the handout problem, and random problems for the numeric cross-checks."""

import random

import pytest
from sympy import ImmutableMatrix, Rational

from derivations import Problem, derive, evaluate, load_problem

pytest_plugins = ("sphinx.testing.fixtures",)


@pytest.fixture(scope="session")
def handout():
    return load_problem()


@pytest.fixture(scope="session")
def handout_values(handout):
    return evaluate(derive(handout))


def random_problem(seed: int, layers, activation: str, loss: str) -> Problem:
    """A seeded random problem with rational numbers; pre-activations kept away from ReLU's kink."""
    rng = random.Random(seed)

    def r(scale=100):
        return Rational(rng.randint(-scale, scale), scale)

    n_in, n_h, n_out = layers
    while True:
        x = tuple(r() * 2 for _ in range(n_in))
        W_a = ImmutableMatrix(n_h, n_in, lambda i, j: r())
        H = W_a * ImmutableMatrix(x)
        if all(abs(h) > Rational(1, 100) for h in H):
            break
    W_b = ImmutableMatrix(n_out, n_h, lambda i, j: r())
    if loss == "cross_entropy":
        raw = [rng.randint(0, 5) for _ in range(n_out)]
        raw[0] += 1
        y = tuple(Rational(v, sum(raw)) for v in raw)
    else:
        y = tuple(r() for _ in range(n_out))
    return Problem(tuple(layers), activation, loss, x, y, W_a, W_b, f"random seed {seed}")
