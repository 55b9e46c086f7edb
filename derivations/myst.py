"""``python -m derivations.myst``, kept at its short name: the command line is :mod:`derivations.cli.myst`."""

import sys

from .cli.myst import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
