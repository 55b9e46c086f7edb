"""Notation: SymPy printers for text, LaTeX and NumPy code (they import nothing of the package)."""
