"""What the terminal on standard output can show: colours and its width, decided as systemd decides.

``colours_enabled``: ``$SYSTEMD_COLORS`` (a boolean, or 16/256) wins; else ``$NO_COLOR`` turns colour
off; else colour when stdout is a terminal and ``$TERM`` is not ``dumb`` (terminal-util.c
``get_color_mode``; systemd also wants stderr on the terminal, we colour ``2>/dev/null`` output as we
always have). The pager follows systemd exactly: stdout and stderr terminals, ``$TERM`` set, not dumb.
``columns``: ``$COLUMNS``, else the
terminal's width, else 80. Both are decided once, before a pager takes over stdout (pager.c asks
first for the same reason), so the pager shows what the terminal would have.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Optional

_cache: dict[str, object] = {}

_TRUE = ("1", "yes", "y", "true", "t", "on")
_FALSE = ("0", "no", "n", "false", "f", "off")


def on_tty() -> bool:
    """Whether stdout and stderr are both terminals (cached: the pager replaces stdout later)."""
    if "tty" not in _cache:
        try:
            _cache["tty"] = os.isatty(sys.stdout.fileno()) and os.isatty(sys.stderr.fileno())
        except (AttributeError, ValueError, OSError):
            _cache["tty"] = False
    return bool(_cache["tty"])


def stdout_is_tty() -> bool:
    """Whether stdout is a terminal (cached: the pager replaces stdout later)."""
    if "stdout" not in _cache:
        try:
            _cache["stdout"] = os.isatty(sys.stdout.fileno())
        except (AttributeError, ValueError, OSError):
            _cache["stdout"] = False
    return bool(_cache["stdout"])


def terminal_is_dumb() -> bool:
    term = os.environ.get("TERM")
    return not on_tty() or not term or term == "dumb"


def colours_enabled() -> bool:
    """Whether to colour output (see the module docstring)."""
    if "colour" not in _cache:
        e = os.environ.get("SYSTEMD_COLORS")
        v: Optional[bool] = None
        if e is not None:
            low = e.strip().lower()
            if low in _TRUE or low in ("16", "256", "24bit"):
                v = True
            elif low in _FALSE:
                v = False
        if v is None:
            v = (False if "NO_COLOR" in os.environ
                 else stdout_is_tty() and os.environ.get("TERM") != "dumb")
        _cache["colour"] = v
    return bool(_cache["colour"])


def columns() -> int:
    """The width to lay text out in: ``$COLUMNS``, the terminal's, else 80 (cached)."""
    if "columns" not in _cache:
        width = 0
        with contextlib.suppress(ValueError):
            width = int(os.environ.get("COLUMNS", ""))
        if width <= 0:
            try:
                width = os.get_terminal_size(sys.stdout.fileno()).columns
            except (AttributeError, ValueError, OSError):
                width = 0
        _cache["columns"] = width if width > 0 else 80
    value = _cache["columns"]
    assert isinstance(value, int)
    return value


def forget() -> None:
    """Decide again on next use (tests; a new command in the same process)."""
    _cache.clear()
