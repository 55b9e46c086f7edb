"""``extensions = ["derivations.sphinxext"]``, the extension's name before the package's layers, kept for
course sites that name it: the extension is :mod:`derivations.sphinx.extension` (list one of the two names,
not both, or its directives are registered twice)."""

from .sphinx.extension import setup

__all__ = ["setup"]
