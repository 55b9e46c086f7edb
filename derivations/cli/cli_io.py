"""What the command lines share: bad input is one line and exit status 2, and every way standard output can
fail ends in one line, never a traceback.

- Bad input (an option argparse refuses, a problem file, a path): one line on stderr, ``PROG: error: ...``,
  naming the field and what was expected, and exit status 2 (``BAD_INPUT``): :class:`Parser` for the options,
  :func:`fail` for the rest, :class:`Once` for an option that may be given once.

- A closed or broken pipe (``... | head -1``, ``... | true``): the reader stopped reading, which is not an
  error of ours. Output ends quietly, exit status 0 (``PIPE_CLOSED``), as the reader got what it asked for;
  the rest is sent to ``/dev/null`` so Python does not complain at exit.
- Standard output closed (``>&-``) or a write failing (``> /dev/full``, a full disk): one line on stderr
  and exit status 1 (``OUTPUT_FAILED``); 2 stays the status of bad input.
- A stream that cannot encode the notation (``PYTHONIOENCODING=ascii`` or ``latin-1``): the characters it
  cannot hold are transliterated (``ℒ`` -> ``L``, ``∂`` -> ``d``, ``−`` -> ``-``, ...) and anything left is
  written as a backslash escape, so the output is always readable.

>>> import io
>>> out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
>>> write("∂ℒ/∂w^b_11 = −3/80 ≈ −0.0375", out)
>>> out.buffer.getvalue()
b'dL/dw^b_11 = -3/80 ~= -0.0375'
"""

from __future__ import annotations

import argparse
import codecs
import functools
import os
import sys

PIPE_CLOSED = 0
OUTPUT_FAILED = 1
BAD_INPUT = 2

ASCII = {
    "ℒ": "L", "∂": "d", "∇": "grad_", "−": "-", "·": "*", "≈": "~=", "→": "->", "←": "<-", "²": "^2",
    "ᵀ": "^T", "Σ": "sum", "∑": "sum", "η": "eta", "≠": "!=", "×": "x", "ℓ": "l", "δ": "delta", "…": "...",
    "≤": "<=", "≥": ">=", "⊙": "(.)", "σ": "sigma", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "--",
}


def _transliterate(err: UnicodeError):
    if not isinstance(err, UnicodeEncodeError):
        raise err
    text = err.object[err.start:err.end]
    return "".join(ASCII.get(c) or c.encode("ascii", "backslashreplace").decode("ascii") for c in text), err.end


codecs.register_error("derivations.transliterate", _transliterate)


class OutputError(Exception):
    """Standard output cannot be written (closed, or the write failed); the message is one line."""


def write(text: str, stream=None) -> None:
    """Write and flush ``text`` to ``stream`` (default ``sys.stdout``), in what its encoding can hold.

    Raises ``BrokenPipeError`` when the reader has gone, :class:`OutputError` for any other failure.
    """
    stream = sys.stdout if stream is None else stream
    if stream is None:
        raise OutputError("standard output is closed")
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = text.encode(encoding, "derivations.transliterate").decode(encoding)
    except LookupError:
        pass
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as err:  # ValueError: "I/O operation on closed file"
        raise OutputError(f"cannot write the output: {getattr(err, 'strerror', None) or err}") from None


def guard(prog: str):
    """Decorate a CLI's ``main`` so that no output failure becomes a traceback (see the module's rules).

    >>> @guard("demo")
    ... def main(argv=None):
    ...     raise BrokenPipeError
    >>> main()
    0
    """

    def decorate(main):
        @functools.wraps(main)
        def guarded(*args, **kwargs):
            try:
                try:
                    code = main(*args, **kwargs)
                except SystemExit:
                    _flush()
                    raise
                _flush()
                return code
            except BrokenPipeError:
                _to_devnull()
                return PIPE_CLOSED
            except OutputError as err:
                _to_devnull()
                _error(prog, str(err))
                return OUTPUT_FAILED

        return guarded

    return decorate


def _flush() -> None:
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as err:
        raise OutputError(f"cannot write the output: {getattr(err, 'strerror', None) or err}") from None


def _to_devnull() -> None:
    """Point stdout at /dev/null, so the flush at interpreter exit has nowhere to fail."""
    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no stdout, or not a real file (a test's capture)
        pass


def _error(prog: str, message: str) -> None:
    try:
        print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    except (AttributeError, OSError, ValueError):
        pass


class Once(argparse.Action):
    """An option that may be given at most once: a repeat is an error, not a silent override."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest, None) is not None:
            parser.error(f"argument {option_string}: expected once, given twice")
        setattr(namespace, self.dest, values)


def whole_number(low: int, high: int):
    """An argparse ``type``: a whole number written in digits, from ``low`` to ``high``; anything else is one line
    naming what was expected (argparse puts the option in front: ``argument --digits: expected ...``).

    >>> whole_number(1, 64)("8"), whole_number(1, 50).__name__
    (8, 'whole_number')
    """

    def parse(text: str) -> int:
        n = int(text) if text.isascii() and text.isdigit() else 0
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {text!r}")
        return n

    parse.__name__ = "whole_number"  # argparse names the type in its message for a ValueError
    return parse


class Progress:
    """``NAME: TEXT`` on one refreshed line of stderr (``variants: writing 120/300``), only when stderr is a
    terminal: a long run shows where it is, a log or a pipe gets nothing."""

    def __init__(self, name: str):
        self.name, self.on = name, sys.stderr.isatty()

    def __call__(self, text: str) -> None:
        if self.on:
            sys.stderr.write(f"\r{self.name}: {text} ")
            sys.stderr.flush()

    def end(self) -> None:
        if self.on:
            sys.stderr.write("\n")
            self.on = False


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake in the options said in one line (not argparse's usage block) and exit status 2."""

    def error(self, message):
        self.exit(BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def fail(prog: str, message: str) -> int:
    r"""Say what is wrong with the input in one line on stderr; returns the exit status of bad input, 2.

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     status = fail("python -m derivations.print", "--digits: expected a whole number from 1 to 50")
    >>> status, err.getvalue()
    (2, 'python -m derivations.print: error: --digits: expected a whole number from 1 to 50\n')
    """
    print(f"{prog}: error: {message}", file=sys.stderr)
    return BAD_INPUT
