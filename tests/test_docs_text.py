"""The site's own text: every page a title of its own, and no inline formula followed by a comma that a line
break could push to the start of the next line (", and the mean ..."): the comma goes inside the formula."""

import re
from pathlib import Path

DOCS = Path(__file__).parent.parent / "docs"


def test_every_page_has_its_own_title():
    titles = {page.name: page.read_text(encoding="utf-8").splitlines()[0] for page in DOCS.glob("*.md")}
    assert all(t.startswith("# ") for t in titles.values()), titles
    assert len(set(titles.values())) == len(titles), titles


def test_the_solutions_setup_keeps_its_commas_with_their_formulas():
    text = (DOCS / "solution.md").read_text(encoding="utf-8")
    setup = text[text.index("## Setup"):text.index("```{deriv-step} setup")]
    assert not re.search(r"\$,", setup), setup
