"""Text for a terminal: every string that came from a root (or from the command line) is made inert.

Unit names, paths, file content, log lines and error messages from a root can hold control characters: a
carriage return that rewrites the line before it, an ESC sequence that moves the cursor, sets the window
title or worse, a newline that forges a line of our report. ``escape`` writes them the way systemd's
``cescape`` does (``\\n``, ``\\t``, ``\\r``…, otherwise ``\\xNN``), so what is printed is what is there.

Escaped: C0 controls (U+0000–U+001F), DEL, the C1 controls (U+0080–U+009F; CSI is U+009B), Unicode's
bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069: text that reads differently from what it
is), line and paragraph separators (U+2028, U+2029), and bytes that were not UTF-8 (lone surrogates from
``os.fsdecode``: ``\\xNN`` of the byte). Backslashes are left as they are: unit names carry systemd's own
``\\x2d`` escapes, and systemctl prints them as they are.

JSON output is not escaped: its encoder already writes every C0 control as ``\\uNNNN``.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

_NAMED = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
_OTHERS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\udc80-\udcff"
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")


def _one(m: re.Match[str]) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named:
        return named
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def escape(s: str) -> str:
    """``s`` with every character a terminal would act on written as an escape (module docstring)."""
    return _UNSAFE.sub(_one, s) if _UNSAFE.search(s) else s


def escape_lines(s: str) -> str:
    """Like ``escape``, but line breaks stay: for text already made of our own lines."""
    return _UNSAFE_BUT_NEWLINE.sub(_one, s) if _UNSAFE_BUT_NEWLINE.search(s) else s


class SafeStream:
    """A text stream that escapes what is written to it: the CLI's last guard for every message.

    ``raw`` is the stream underneath, for rich, which writes its own colour sequences after the text
    renderer escaped each line itself."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, s: str) -> int:
        # print() writes its message, then "\n": a message is one line, its own newlines are data.
        # A block that ends with a newline is a renderer's lines.
        self.raw.write(escape_lines(s) if s.endswith("\n") else escape(s))
        return len(s)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stream(out: Any) -> Any:
    """The stream under a ``SafeStream`` (or ``out`` itself)."""
    return getattr(out, "raw", out) if isinstance(out, SafeStream) else out


__all__ = ["SafeStream", "escape", "escape_lines", "raw_stream"]
