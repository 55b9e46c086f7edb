"""Sphinx configuration of the course site (sources in docs/): sphinx-build -c . docs _build/site

Add -t worksheet to build the students' worksheet: the same pages with the derived numbers left blank.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "derivations: backpropagation, derived"
author = "derivations"
copyright = "2026, the derivations authors"

extensions = [
    "myst_parser",
    "sphinx_togglebutton",
    "derivations.sphinx.extension",
    "derivations.sphinx.offline_math",  # MathJax from the site itself: no network needed
]
myst_enable_extensions = ["dollarmath", "colon_fence", "amsmath"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_static", "problems/README.md"]

html_theme = "sphinx_book_theme"
html_title = "Backpropagation, derived"
html_theme_options = {"show_toc_level": 2}
# The theme's light/dark mode before a reader picks one: its own "auto" (the system's), said rather than left
# empty, which the theme's script reports as an error ("Got invalid theme mode") on every page.
html_context = {"default_mode": "auto"}

# The worksheet/solution switch: `-t worksheet` or `-D derivations_worksheet=1` blanks the numbers, and either
# builds the same worksheet site (_worksheet_site, below: -D is applied after this file is read).
derivations_worksheet = tags.has("worksheet")  # noqa: F821 (Sphinx provides `tags` to conf.py)
# The solution's pages and proofs, and the reference: never in the worksheet site (symmetry.md's theorems answer
# its question).
SOLUTION_PAGES = ["index.md", "solution.md", "gradients.md", "symmetry.md", "usage.md", "mazur.md", "about.md",
                  "students-page.md", "variants.md", "grading.md", "myst-course.md", "reference.md"]

# The site's own CSS (theorem, lemma and proof blocks) sits beside the pages in docs/_static, so it is found
# wherever docs/ is built from; html_static_path alone would be relative to this file's directory. The script
# that scales wide display math to fit the content column is the package's (the self-check page carries it too).
html_css_files = ["derivations.css"]
html_js_files = ["derivations.js"]


def _static_beside_sources(app):
    from derivations.outputs.display_fit import STATIC

    static = Path(app.srcdir) / "_static"
    app.config.html_static_path += [str(p) for p in (static, STATIC) if p.is_dir()]


def _worksheet_site(app, config):
    """The worksheet site is the handout page alone (with the other worksheets), whichever switch selects it."""
    if tags.has("worksheet") and not config.derivations_worksheet:  # noqa: F821
        from sphinx.errors import ConfigError

        raise ConfigError("-t worksheet and -D derivations_worksheet=0 disagree; give one of them")
    if config.derivations_worksheet:
        config.root_doc = "handout"
        config.exclude_patterns = [*config.exclude_patterns, *SOLUTION_PAGES]


def setup(app):
    app.connect("config-inited", _worksheet_site)
    app.connect("builder-inited", _static_beside_sources)

# `-t selfcheck` also writes selfcheck.html (the handout's page, every blank checked in the browser) and links
# it from the handout page; build the students' site with `-t worksheet -t selfcheck`.
if tags.has("selfcheck"):  # noqa: F821
    extensions.append("derivations.sphinx.selfcheck")
