"""``-t selfcheck``: the self-check pages of a Sphinx site (added by conf.py as the extension
``derivations.sphinx.selfcheck``). The site's ``selfcheck.html`` for its default problem, and one beside each
page's PDFs (``_pdf/ID/selfcheck.html``, linked by ``deriv-pdfs``); the page itself is
:func:`derivations.outputs.selfcheck.page_html`'s."""

from __future__ import annotations

from pathlib import Path

from sphinx.util import logging
from sphinx.util.osutil import relative_uri

from .. import __version__
from ..engine import reading
from ..engine.errors import ProblemError
from ..engine.graph import evaluate_any, load_any, problem_any_from_bytes
from ..engine.problem import HANDOUT
from ..outputs.selfcheck import write_page
from .extension import pdf_folders

logger = logging.getLogger(__name__)


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    name = app.config.derivations_problem
    mathjax = "_static/mathjax/tex-chtml.js" if "derivations.sphinx.offline_math" in app.extensions else None
    try:
        path = Path(app.srcdir) / name if name else None
        problem = load_any(path)
        write_page(evaluate_any(problem), Path(app.outdir) / "selfcheck.html", data=path.read_bytes() if path else None,
                   back=app.builder.get_target_uri(app.config.root_doc), mathjax=mathjax)
    except ProblemError as err:  # a problem the handout's layout cannot hold: a warning, not a traceback
        logger.warning(f"selfcheck.html not written: {err}", type="derivations", subtype="selfcheck")
    _beside_pdfs(app, mathjax)


def _beside_pdfs(app, mathjax: str | None) -> None:
    """A self-check page beside each page's PDFs (``_pdf/ID/selfcheck.html``, linked by ``deriv-pdfs``): every
    worksheet page of the site gets its own, whatever its problem."""
    for folder, (path, _, location, docname) in pdf_folders(app.env).items():
        path = Path(path)
        target = f"{folder}/selfcheck.html"
        try:
            data = reading.read_bytes(path, "problem")
            problem = problem_any_from_bytes(data, path)
            back = relative_uri(target, app.builder.get_target_uri(docname))
            (Path(app.outdir) / folder).mkdir(parents=True, exist_ok=True)
            write_page(evaluate_any(problem), Path(app.outdir) / target, data=None if path == HANDOUT else data, back=back,
                       mathjax=mathjax and relative_uri(target, mathjax))
        except ProblemError as err:  # deriv-pdfs has said so at its directive already
            logger.info(f"{target} not written: {err}", location=location)


def setup(app):
    """The extension: ``selfcheck.html`` in the HTML output, with the derivations extension it builds on."""
    app.setup_extension("derivations.sphinx.extension")
    app.connect("build-finished", _build_finished)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
