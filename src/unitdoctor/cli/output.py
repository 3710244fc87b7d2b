"""Standard output for the commands: a closed pipe keeps the exit status.

``unitdoctor why x | head -1`` (or ``| true``) closes the pipe before we are done writing. Like
systemctl, which ignores SIGPIPE and carries on, the command still finishes and returns its verdict's
status (under ``set -o pipefail`` or in ``${PIPESTATUS[0]}`` scripts see it); the rest of the output is
dropped and nothing is printed about the broken pipe.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any, Iterator, TextIO


class _Guarded:
    """A text stream that forwards to ``inner`` until the reader goes away, then discards."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.broken = False

    def _gone(self) -> None:
        self.broken = True
        # Point the descriptor at /dev/null so the interpreter's final flush does not fail (status 120).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._inner.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, s: str) -> int:
        if not self.broken:
            try:
                return self._inner.write(s)
            except BrokenPipeError:
                self._gone()
            except OSError as e:
                if e.errno != errno.EPIPE:
                    raise
                self._gone()
        return len(s)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._inner.flush()
            except BrokenPipeError:
                self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextlib.contextmanager
def guard_stdout() -> Iterator[None]:
    """``sys.stdout`` guarded against a closed pipe for the duration; flushed at the end."""
    real = sys.stdout
    guarded = _Guarded(real)
    sys.stdout = guarded
    try:
        yield
    finally:
        guarded.flush()
        sys.stdout = real
