"""``python -m derivations.check``, kept at its short name: the command line is :mod:`derivations.cli.check`."""

import sys

from .cli.check import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
