"""``extensions = ["derivations.offline_math"]``, the offline MathJax's name before the package's layers,
kept for course sites that name it: the extension is :mod:`derivations.sphinx.offline_math`."""

from .sphinx.offline_math import setup

__all__ = ["setup"]
