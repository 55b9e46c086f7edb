"""``python -m derivations.print``, kept at its short name: the command line is :mod:`derivations.cli.print`."""

import sys

from .cli.print import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
