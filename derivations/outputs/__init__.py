"""Output formats: text, Markdown, LaTeX, JSON, PDF, NumPy export, figures, the self-check page."""
