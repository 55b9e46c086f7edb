"""derivations: backpropagation worked solutions, derived and checked by SymPy.

The public API, used alike by the CLI (``python -m derivations.print``), the Sphinx extension and the tests:

>>> from derivations import load_problem, derive, evaluate
>>> problem = load_problem()            # the handout's 3-4-2 network
>>> values = evaluate(derive(problem))
>>> values.grad("w_b11"), values.grad("w_b21"), values.grad("w_a11")
(-3/80, 3/80, 0)
"""

from .engine.derivation import Derivation, Param, Path, derive, parse_param
from .engine.errors import ProblemError
from .engine.problem import HANDOUT, MAX_WEIGHTS, Problem, load_problem, make_problem, problem_from_dict
from .engine.values import Numeric, Values, evaluate, grad

__all__ = [
    "HANDOUT", "MAX_WEIGHTS", "Derivation", "Numeric", "Param", "Path", "Problem", "ProblemError", "Values",
    "derive", "evaluate", "grad", "load_problem", "make_problem", "parse_param", "problem_from_dict",
]
__version__ = "0.2.0"
