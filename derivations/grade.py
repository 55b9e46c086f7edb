"""``python -m derivations.grade``, kept at its short name: the command line is :mod:`derivations.cli.grade`."""

import sys

from .cli.grade import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
