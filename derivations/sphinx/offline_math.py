"""Sphinx extension: MathJax served from the built site itself, so the math typesets with no network.

The MathJax files come from the PyPI package ``sphinx-mathjax-offline`` (MathJax 3.2.2, in the ``docs``
extra). That package's own extension copies all of its 24 MB into every build and does not declare itself
parallel-safe (so ``-j 2`` would warn); this one copies only what the CommonHTML output needs at run time
(about 7.6 MB: the ``tex-chtml.js`` component, the TeX extensions it autoloads, its web fonts, and the
menu's accessibility modules) and is parallel-safe. Add ``"derivations.sphinx.offline_math"`` to ``extensions``.

The page then loads ``_static/mathjax/tex-chtml.js``: no URL outside the site, also when opened as
``file://`` with no network.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util.fileutil import copy_asset

from .. import __version__
from ..outputs.selfcheck import MATHJAX_PACKAGE as PACKAGE
from ..outputs.selfcheck import mathjax_dir as packaged_mathjax

COMPONENT = "tex-chtml.js"
# What tex-chtml.js loads at run time, relative to the MathJax directory; everything else is left out.
# input/mml is loaded by the accessibility explorer (menu: Accessibility > Activate), sre/ for its speech.
NEEDED = ("input/tex/", "input/mml.js", "input/mml/", "output/chtml/", "ui/", "a11y/", "sre/")


def mathjax_dir() -> Path:
    """The packaged MathJax directory (``.../sphinx-mathjax-offline/static/mathjax``)."""
    path = packaged_mathjax()
    if path is None:
        raise ExtensionError(f"derivations.sphinx.offline_math: the package {PACKAGE!r} is not installed "
                             "(pip install -e '.[docs]')")
    if not (path / COMPONENT).is_file():
        raise ExtensionError(f"derivations.sphinx.offline_math: {path / COMPONENT} not found in {PACKAGE!r}")
    return path


def _excluded(relative: str) -> bool:
    """For ``copy_asset``: is this file or directory (``./input``, ``./input/tex/...``) left out?"""
    relative = posixpath.normpath(relative.replace("\\", "/"))
    if relative == COMPONENT or relative.startswith(NEEDED):
        return False
    return not any(needed.startswith(relative + "/") for needed in NEEDED)  # keep the parents of what is needed


def _use_local_mathjax(app, config) -> None:
    from sphinx.ext.mathjax import MATHJAX_URL

    mathjax_dir()  # fail early, with a clear message, when the package is missing
    if config.mathjax_path == MATHJAX_URL:  # not set in conf.py: ours, relative, served from _static/
        config.mathjax_path = f"mathjax/{COMPONENT}"


def _copy_mathjax(app, exc) -> None:
    if exc is None and app.builder.format == "html":
        copy_asset(mathjax_dir(), Path(app.outdir) / "_static" / "mathjax", excluded=_excluded)


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
