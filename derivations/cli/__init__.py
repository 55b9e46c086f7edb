"""The command lines (python -m derivations.print, .check, .variants, .grade) and their shared helpers (cli_io)."""
