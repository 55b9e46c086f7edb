"""``python -m derivations.myst``, kept at its short name: the plugin's entry point is :mod:`derivations_myst`,
which runs :mod:`derivations.cli.myst`."""

import sys

from derivations_myst import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
