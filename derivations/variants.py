"""``python -m derivations.variants``, kept at its short name: the command line is :mod:`derivations.cli.variants`."""

import sys

from .cli.variants import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
