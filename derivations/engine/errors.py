"""The one error type a user's mistake raises: a field and what was expected, printed as one line.

>>> print(ProblemError("data.x", "expected a list of 3 numbers (one per input), got 2 entries", "p.toml"))
p.toml: data.x: expected a list of 3 numbers (one per input), got 2 entries
"""

from __future__ import annotations

from contextlib import contextmanager


class ProblemError(ValueError):
    """A problem description that cannot be used; the message names the field and what was expected."""

    def __init__(self, field: str, expected: str, source: str | None = None):
        self.field, self.expected, self.source = field, expected, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {expected}")


@contextmanager
def located(source: str):
    """A :class:`ProblemError` raised inside, deep in a file's checks, names ``source`` where it names none yet.

    >>> try:
    ...     with located("p.toml"):
    ...         raise ProblemError("data.x", "expected a list")
    ... except ProblemError as err:
    ...     print(err)
    p.toml: data.x: expected a list
    """
    try:
        yield
    except ProblemError as err:
        if err.source is None:
            raise ProblemError(err.field, err.expected, source) from None
        raise
