"""The command lines (python -m derivations.print, .check, .variants) and their shared I/O helpers."""
