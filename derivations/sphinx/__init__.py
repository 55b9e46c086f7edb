"""The Sphinx front end: conf.py's extensions = ["derivations.sphinx.extension"] and offline MathJax."""
