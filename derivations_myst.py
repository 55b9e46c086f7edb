"""``derivations-myst``: the entry point of the MyST-MD plugin (:mod:`derivations.cli.myst`).

MyST starts a new process for every role and directive of every page, two or three times per build. Importing
SymPy takes about 0.9 s; this module and the cache it reads (:mod:`derivations.cli.myst_cache`) use the standard
library only (the package's ``__init__`` imports nothing until a name of its API is asked for), so a call whose
output is already in the cache is answered in about 50 ms without importing SymPy; only a call to run imports
:mod:`derivations.cli.myst`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from derivations.cli.myst_cache import (MAX_INPUT, cache_key, cached, mode_clash, problem_path, usable,  # noqa: F401
                                        worksheet_mode)


def main(argv=None) -> int:
    """No arguments: the plugin's spec. ``--role NAME`` / ``--directive NAME``: one call, the node as JSON on
    stdin, the nodes that replace it as JSON on stdout; exit status 0 whatever the page holds."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        from derivations.cli.myst import spec

        print(json.dumps(spec()))
        return 0
    if len(args) != 2 or args[0] not in ("--role", "--directive"):
        print("usage: derivations-myst [--role NAME | --directive NAME] (the node as JSON on stdin)", file=sys.stderr)
        return 2
    kind, name = args[0][2:], args[1]
    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    root, worksheet = Path.cwd(), worksheet_mode()
    data = {}
    try:
        if len(raw) > MAX_INPUT:
            raise ValueError(f"more than {MAX_INPUT} bytes")
        try:
            data = json.loads(raw)
        except RecursionError:  # [[[[... nested past Python's recursion limit
            raise ValueError("nested too deep") from None
        problem = usable(data)
        if problem:
            raise ValueError(problem)
        problem = mode_clash(root, worksheet)
    except ValueError as err:
        problem = f"the node MyST sent is not usable: {err}"
    if problem:
        from derivations.cli.myst import error_node, report

        where = data if isinstance(data, dict) else {}  # its line, when the node says it
        nodes = [error_node(report(name, problem, where, root), inline=kind == "role")]
    else:
        key = cache_key(kind, name, data, root, worksheet)
        nodes = cached(root, key)
        if nodes is None:
            from derivations.cli.myst import run

            nodes = run(kind, name, data, root, worksheet, key)
    sys.stdout.write(json.dumps(nodes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
