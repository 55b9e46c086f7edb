"""``python tests/counted_build.py COUNTS.json SPHINX-ARGS...``: the build ``python -m sphinx SPHINX-ARGS...``
runs, and, when it ends, how many plain derivations (no mistake rules) it made of each problem, as JSON
``{problem: count}`` (the test session's site fixtures build through it, so counting costs no extra build)."""

import json
import sys
from collections import Counter

from derivations import Derivation
from sphinx.cmd.build import main

counts = Counter()
_init = Derivation.__init__


def _counting_init(self, problem, rules=None):
    if not rules:
        counts[f"{problem.source} {problem.layers} {hash(problem)}"] += 1
    _init(self, problem, rules)


if __name__ == "__main__":
    Derivation.__init__ = _counting_init
    try:
        code = main(sys.argv[2:])
    finally:
        with open(sys.argv[1], "w", encoding="utf-8") as out:
            json.dump(counts, out, indent=1, sort_keys=True)
    sys.exit(code)
