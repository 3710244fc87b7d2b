"""Unit-file syntax as systemd 252's conf-parser reads it, and the merge of drop-in files.

This module knows the *shape* of a unit file, not what any directive means: it turns bytes into
``Assignment`` records and syntax ``Diagnostic`` records, each with its ``Origin``. Fact sheet §6
(syntax), §2.4 and §5.5 (drop-ins).

Grammar (``config_parse``, ``parse_line`` and ``read_line`` in systemd 252)::

    file      = { physical-line EOL } [ physical-line ]
    EOL       = one run of "\\n", "\\r", "\\0" with no marker repeated and "\\0" only last
                ("\\r\\n", "\\n\\r", "\\r\\n\\0", ... are one line end; "\\r\\r" is two)
    physical  = fewer than 1 MiB bytes, else the parse stops with ENOBUFS
    comment   = WS* ("#" | ";") any*         skipped, even inside a continuation
    logical   = physical lines joined while a line ends in an odd number of "\\";
                that last "\\" becomes a space, the next line is appended verbatim
    header    = "[" name "]"                 after trimming WS; else EBADMSG
    assign    = key "=" value               key ends at the first "="; both trimmed
    WS        = " " | "\\t" | "\\n" | "\\r"

A logical line gets the number of its *last* physical line; a continuation still open at end of
file is parsed as one more line, numbered one past the last physical line. A UTF-8 byte order mark
is dropped from the start of the first physical line that has one; the comment test runs before
that, so a BOM followed by ``#`` is not a comment. Keys and section names are case-sensitive and
there are no trailing comments.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from typing import Optional

from .origin import Origin
from .records import dataclass

__all__ = [
    "LONG_LINE_MAX",
    "Assignment",
    "Diagnostic",
    "DropIn",
    "ParsedFile",
    "merge_dropins",
    "parse",
]

#: conf-parser's limit (``LONG_LINE_MAX``, fileio.h): a physical line must be *shorter* than this,
#: a joined continuation may be at most this long.
LONG_LINE_MAX = 1024 * 1024

_WHITESPACE = b" \t\n\r"
_WHITESPACE_TEXT = _WHITESPACE.decode()
_BOM = b"\xef\xbb\xbf"
_UNSAFE_IN_SECTION = frozenset("\"'\\\x7f") | frozenset(chr(c) for c in range(1, 32))

# One line end as read_line() sees it; longer alternatives first so "\r\n" is one marker.
_EOL = re.compile(rb"\r\n\0?|\n\r\0?|\r\0?|\n\0?|\0")
# A run of line ends: the end of one line and any number of empty lines after it. Every one of the three
# bytes begins a line end, so a maximal run of them is a whole number of line ends.
_EOL_RUN = re.compile(rb"[\r\n\0]+")

# Code points systemd's unichar_is_valid() refuses although Python's UTF-8 codec accepts them:
# U+FDD0..U+FDEF and U+xFFFE/U+xFFFF in every plane.
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef" + "".join(chr(p << 16 | 0xFFFE) + chr(p << 16 | 0xFFFF) for p in range(17)) + "]"
)


@dataclass(frozen=True)
class Assignment:
    """One ``key=value`` line as conf-parser hands it to a directive parser.

    ``section`` is ``""`` for an assignment before any header when ``parse`` was called without
    ``sections`` (systemd passes a NULL section then). ``value`` may be ``""``: an empty assignment
    is kept, its meaning (often a reset) is decided by whoever knows the directive.
    """

    section: str
    key: str
    value: str
    origin: Origin


@dataclass(frozen=True)
class Diagnostic:
    """A syntax message worded like systemd's ``log_syntax`` text, without the ``FILE:N:`` prefix.

    ``severity`` is systemd's log level for it: ``"warning"`` or ``"error"``; ``"unknown"`` is ours, for a
    message saying that what systemd does with the setting cannot be decided offline. Whether the message
    ended the parse is recorded in ``ParsedFile.error``, not here (systemd logs invalid UTF-8 as a
    warning, yet the parse fails).
    """

    severity: str
    message: str
    origin: Origin

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass(frozen=True)
class ParsedFile:
    """The result of ``parse``: assignments and diagnostics in file order.

    ``error`` is the errno symbol of a failure that stopped the parse, else None: ``"EBADMSG"``
    (bad section header), ``"EINVAL"`` (invalid UTF-8), ``"ENOBUFS"`` (line too long). Assignments
    read before the failure are kept, as systemd has applied them by then; for a fragment the unit
    still ends up with LoadState ``error``, while a failing drop-in is skipped from that line on.
    ``sections`` lists the accepted section headers in order of first appearance.
    """

    path: str
    assignments: tuple[Assignment, ...]
    diagnostics: tuple[Diagnostic, ...]
    error: Optional[str]
    sections: tuple[str, ...] = ()

    def get(self, section: str, key: str) -> tuple[Assignment, ...]:
        """Return the assignments to ``key`` in ``section``, in file order (case-sensitive)."""
        return tuple(a for a in self.assignments if a.section == section and a.key == key)

    def has_section(self, name: str) -> bool:
        """Return whether an accepted ``[name]`` header appears in the file (case-sensitive)."""
        return name in self.sections


@dataclass(frozen=True)
class DropIn:
    """A drop-in candidate: its basename, full path, and whether it masks (a /dev/null link or empty)."""

    name: str
    path: str
    masked: bool
    layer: Optional[str] = None


def merge_dropins(candidates: Iterable[DropIn]) -> tuple[DropIn, ...]:
    """Return the drop-ins that apply, one per basename, sorted by basename.

    Implements ``conf_files_list_strv`` as ``unit_file_find_dropin_paths`` calls it (conf-files.c,
    dropin.c, v252); fact sheet §2.4, §5.5. ``candidates`` come in collection order, highest
    priority first. Masking entries win like any other file and are returned with ``masked=True``;
    callers must not parse them.
    """
    winners: dict[str, DropIn] = {}
    for candidate in candidates:
        # Only "*.conf" is collected, and readdir skips hidden files.
        if not candidate.name.endswith(".conf") or candidate.name.startswith("."):
            continue
        # The first directory holding a basename wins it.
        winners.setdefault(candidate.name, candidate)
    # Applied in strcmp() order of the basename, i.e. by UTF-8 bytes.
    return tuple(sorted(winners.values(), key=lambda d: d.name.encode("utf-8", "surrogateescape")))


def parse(
    data: bytes,
    path: str,
    *,
    layer: Optional[str] = None,
    sections: Optional[Collection[str]] = None,
) -> ParsedFile:
    """Return the assignments and syntax diagnostics of one unit file's bytes.

    Implements ``config_parse`` and ``parse_line`` (src/shared/conf-parser.c, v252) with flags 0, as
    the manager and the install logic call it; fact sheet §6. ``path`` and ``layer`` only label the
    origins. With ``sections`` (e.g. ``("Unit", "Service", "Install")``) an assignment outside a
    known section is dropped; an unknown section is reported and its lines are skipped silently,
    except ``X-`` sections and names listed with a leading ``-`` (``"-Service"``), which are skipped
    without a word. Without ``sections`` every header is accepted.

    A physical line of 1 MiB or more fails with ``Line too long`` (ENOBUFS) at that line. systemd
    logs that message only for callers asking for warnings, never for units, and then numbers it
    one line early; we give the overlong line's own number.
    """
    if isinstance(sections, str):
        raise TypeError("sections must be a collection of section names, not a string")
    parser = _Parser(path, layer, None if sections is None else frozenset(sections))
    return parser.run(data)


class _Parser:
    """The state ``config_parse`` keeps while walking one file."""

    def __init__(self, path: str, layer: Optional[str], sections: Optional[frozenset[str]]) -> None:
        self.path = path
        self.layer = layer
        self.known = sections
        self.section: Optional[str] = None
        self.section_ignored = False
        self.assignments: list[Assignment] = []
        self.diagnostics: list[Diagnostic] = []
        self.seen_sections: dict[str, None] = {}

    def run(self, data: bytes) -> ParsedFile:
        plain = _plain_text(data)
        error = self._walk(data) if plain is None else self._walk_plain(plain)
        return ParsedFile(
            path=self.path,
            assignments=tuple(self.assignments),
            diagnostics=tuple(self.diagnostics),
            error=error,
            sections=tuple(self.seen_sections),
        )

    def _walk(self, data: bytes) -> Optional[str]:
        """Feed logical lines to ``_line``; return the errno symbol that stopped the walk, or None."""
        pending: list[bytes] = []  # the parts of an open continuation, each ending in a space
        pending_size = 0
        bom_seen = False
        number = 0
        for number, buf in _physical_lines(data):
            # read_line() refuses a line that reaches the limit, before anything else looks at it.
            if len(buf) >= LONG_LINE_MAX:
                return self._fail("ENOBUFS", "error", "Line too long", number)
            # A comment is skipped whole, also in the middle of a continuation.
            if buf.lstrip(_WHITESPACE)[:1] in (b"#", b";"):
                continue
            # The first line that starts with a BOM loses it (checked after the comment test).
            line = buf
            if not bom_seen and buf.startswith(_BOM):
                line = buf[len(_BOM) :]
                bom_seen = True
            if pending and pending_size + len(line) > LONG_LINE_MAX:
                return self._fail("ENOBUFS", "error", "Continuation line too long", number)
            # An odd number of trailing backslashes continues the line; the last one becomes a space.
            if _ends_in_escape(line):
                pending.append(line[:-1] + b" ")
                pending_size += len(line)
                continue
            if pending:
                line = b"".join(pending) + line
                pending, pending_size = [], 0
            error = self._line(line, number)
            if error is not None:
                return error
        # A continuation still open at the end is parsed as one more line.
        if pending:
            return self._line(b"".join(pending), number + 1)
        return None

    def _walk_plain(self, data: str) -> Optional[str]:
        """``_walk`` for a file ``_plain_text`` accepts: every physical line is a logical line of valid text.

        Without continuations, ``\\r``, NUL, byte order marks, overlong lines or invalid text, the
        rules that remain are the comment test and ``_text_line``; the result is the same as ``_walk``'s.
        """
        for number, line in enumerate(data.split("\n"), start=1):
            text = line.strip(_WHITESPACE_TEXT)
            # Blank lines and comments are skipped.
            if not text or text[0] in "#;":
                continue
            error = self._text_line(text, number)
            if error is not None:
                return error
        return None

    def _line(self, raw: bytes, number: int) -> Optional[str]:
        """Handle one logical line the way ``parse_line`` does; return an errno symbol if fatal."""
        stripped = raw.strip(_WHITESPACE)
        if not stripped:
            return None
        # Every line that is not a comment must be valid UTF-8, in any section, or the parse fails.
        text = _decode_utf8(stripped)
        if text is None:
            message = f"String is not UTF-8 clean, ignoring assignment: {_escape_invalid_utf8(stripped)}"
            return self._fail("EINVAL", "warning", message, number)
        return self._text_line(text, number)

    def _text_line(self, text: str, number: int) -> Optional[str]:
        """``parse_line`` on a stripped, non-empty line of valid text; return an errno symbol if fatal."""
        if text.startswith("["):
            return self._header(text, number)
        # Outside a known section nothing is read; after an unknown section, silently.
        if self.known is not None and self.section is None:
            if not self.section_ignored:
                self._warn("Assignment outside of section. Ignoring.", number)
            return None
        key, equals, value = text.partition("=")
        if not equals:
            self._warn("Missing '=', ignoring line.", number)
            return None
        if not key:
            self._warn("Missing key name before '=', ignoring line.", number)
            return None
        self.assignments.append(
            Assignment(
                section=self.section or "",
                key=key.strip(_WHITESPACE_TEXT),
                value=value.strip(_WHITESPACE_TEXT),
                origin=self._origin(number),
            )
        )
        return None

    def _header(self, text: str, number: int) -> Optional[str]:
        """Handle a line starting with ``[``; return an errno symbol if fatal."""
        # The line must end in "]" (so no trailing comment after a header).
        if not text.endswith("]"):
            return self._fail("EBADMSG", "error", f"Invalid section header '{text}'", number)
        name = text[1:-1]
        # No control characters, quotes or backslashes between the brackets.
        if not _UNSAFE_IN_SECTION.isdisjoint(name):
            return self._fail("EBADMSG", "error", f"Bad characters in section header '{text}'", number)
        if self.known is not None and name not in self.known:
            # Unknown: reported unless X- or listed as "-Name"; its lines are dropped without a word.
            if not name.startswith("X-") and "-" + name not in self.known:
                self._warn(f"Unknown section '{name}'. Ignoring.", number)
            self.section = None
            self.section_ignored = True
        else:
            self.section = name
            self.section_ignored = False
            self.seen_sections[name] = None
        return None

    def _origin(self, number: int) -> Origin:
        return Origin(self.path, number, self.layer)

    def _warn(self, message: str, number: int) -> None:
        self.diagnostics.append(Diagnostic("warning", message, self._origin(number)))

    def _fail(self, errno: str, severity: str, message: str, number: int) -> str:
        self.diagnostics.append(Diagnostic(severity, message, self._origin(number)))
        return errno


def _plain_text(data: bytes) -> Optional[str]:
    """``data`` decoded if each physical line is a whole logical line of valid text (for ``_walk_plain``), else None.

    No ``\\r`` or NUL (the only line end is ``\\n``), no backslash before a line end or at the end
    (no continuation), no byte order mark, shorter than ``LONG_LINE_MAX`` in all (no line is too
    long), valid UTF-8 without the noncharacters systemd refuses.
    """
    if (len(data) >= LONG_LINE_MAX or b"\r" in data or b"\0" in data or b"\\\n" in data
            or data.endswith(b"\\") or _BOM in data):
        return None
    return _decode_utf8(data)


def _physical_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (number, line) for the lines ``read_line`` returns, without their line ends (fileio.c, v252).

    A run of empty lines is yielded as its first one only (the next line keeps its own number): an empty
    line can end a continuation, further ones do nothing. So a file of 15 MB of NUL bytes (each one a
    line end) is one step, not 15 million.
    """
    start = 0
    number = 1
    for run in _EOL_RUN.finditer(data):
        yield number, data[start : run.start()]
        ends = _line_ends(run.group())
        if ends > 1:
            yield number + 1, b""
        number += ends
        start = run.end()
    if start < len(data):
        yield number, data[start:]


def _line_ends(run: bytes) -> int:
    """How many line ends ``run`` (only ``\\r``, ``\\n``, ``\\0``) is (``_EOL``); one byte each when all alike."""
    if len(run) == 1 or run.count(run[:1]) == len(run):
        return len(run)
    return _EOL.subn(b"", run)[1]


def _ends_in_escape(line: bytes) -> bool:
    """Return whether ``line`` ends in an unescaped backslash (an odd run of trailing ``\\``).

    systemd scans the whole joined line each time; since a continued part always ends in the space
    that replaced its backslash, looking at the new part's final run is the same test, in linear time.
    """
    return (len(line) - len(line.rstrip(b"\\"))) % 2 == 1


def _decode_utf8(data: bytes) -> Optional[str]:
    """Return ``data`` decoded if systemd's ``utf8_is_valid`` accepts it, else None."""
    if data.isascii():
        return data.decode("ascii")  # ASCII is valid UTF-8 and holds no noncharacter
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _NONCHARACTER.search(text) else text


def _escape_invalid_utf8(data: bytes) -> str:
    """Return ``data`` with each byte that does not start a valid character shown as U+FFFD.

    Implements ``utf8_escape_invalid`` (utf8.c): one replacement character per bad *byte*, where
    Python's "replace" handler may use one for a whole bad sequence.
    """
    out: list[str] = []
    i = 0
    while i < len(data):
        size = _valid_char_size(data, i)
        if size:
            out.append(data[i : i + size].decode("utf-8"))
            i += size
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def _valid_char_size(data: bytes, i: int) -> int:
    """Return the length of the valid character at ``data[i]``, or 0 (``utf8_encoded_valid_unichar``)."""
    lead = data[i]
    if lead < 0x80:
        return 1
    size = 2 if 0xC0 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF8 else 0
    if not size:
        return 0
    char = _decode_utf8(data[i : i + size])
    return size if char is not None and len(char) == 1 else 0


def parse_boolean(v: str) -> Optional[bool]:
    """A boolean setting's value as systemd's ``parse_boolean`` reads it (parse-util.c); None if it is none."""
    v = v.strip().lower()
    if v in ("1", "yes", "y", "true", "t", "on"):
        return True
    if v in ("0", "no", "n", "false", "f", "off"):
        return False
    return None
