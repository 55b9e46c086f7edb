"""The one error type a user's mistake raises: a field and what was expected, printed as one line.

>>> print(ProblemError("data.x", "expected a list of 3 numbers (one per input), got 2 entries", "p.toml"))
p.toml: data.x: expected a list of 3 numbers (one per input), got 2 entries
"""

from __future__ import annotations


class ProblemError(ValueError):
    """A problem description that cannot be used; the message names the field and what was expected."""

    def __init__(self, field: str, expected: str, source: str | None = None):
        self.field, self.expected, self.source = field, expected, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {expected}")
