"""derivations: backpropagation worked solutions, derived and checked by SymPy.

The public API, used alike by the CLI (``python -m derivations.print``), the Sphinx extension and the tests:

>>> from derivations import load_problem, derive, evaluate
>>> problem = load_problem()            # the handout's 3-4-2 network
>>> values = evaluate(derive(problem))
>>> values.grad("w_b11"), values.grad("w_b21"), values.grad("w_a11")
(-3/80, 3/80, 0)

Each name is imported when it is first asked for, so that importing a module of the package (the MyST
plugin's cache, :mod:`derivations.cli.myst_cache`) does not import SymPy.
"""

__version__ = "0.2.0"

__all__ = [
    "HANDOUT", "MAX_WEIGHTS", "Derivation", "Numeric", "Param", "Path", "Problem", "ProblemError", "Values",
    "derive", "evaluate", "grad", "load_problem", "make_problem", "parse_param", "problem_from_dict",
]


def __getattr__(name: str):
    """A name of the API, from its module (PEP 562), kept here once imported."""
    if name in ("Derivation", "Param", "Path", "derive", "parse_param"):
        from .engine import derivation as module
    elif name == "ProblemError":
        from .engine import errors as module
    elif name in ("HANDOUT", "MAX_WEIGHTS", "Problem", "load_problem", "make_problem", "problem_from_dict"):
        from .engine import problem as module
    elif name in ("Numeric", "Values", "evaluate", "grad"):
        from .engine import values as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value = getattr(module, name)
    return value


def __dir__():
    return sorted([*globals(), *__all__])
