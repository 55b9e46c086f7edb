"""derivations: backpropagation worked solutions, derived and checked by SymPy.

The public API, used alike by the CLI (``python -m derivations.print``), the Sphinx extension and the tests:

>>> from derivations import load_problem, derive, evaluate
>>> problem = load_problem()            # the handout's 3-4-2 network
>>> values = evaluate(derive(problem))
>>> values.grad("w_b11"), values.grad("w_b21"), values.grad("w_a11")
(-3/80, 3/80, 0)
"""

from .backward import Derivation, Path, Weight, derive, parse_weight
from .problem import HANDOUT, MAX_WEIGHTS, Problem, ProblemError, load_problem, problem_from_dict
from .values import Numeric, Values, evaluate, grad

__all__ = [
    "HANDOUT", "MAX_WEIGHTS", "Derivation", "Numeric", "Path", "Problem", "ProblemError", "Values", "Weight",
    "derive", "evaluate", "grad", "load_problem", "parse_weight", "problem_from_dict",
]
__version__ = "0.1.0"
