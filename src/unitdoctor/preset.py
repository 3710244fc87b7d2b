"""Preset policy: the ``PRESET`` column of ``list-unit-files`` (``*.preset`` files).

Implements ``presets_find_config``, ``read_presets`` and ``query_presets`` (install.c, v252):
the first matching rule wins; no matching rule means "enable". A preset file that exists but cannot be
read makes the whole policy unreadable: systemctl then prints ``n/a`` in the column.
"""

from __future__ import annotations

import functools
import posixpath
import re
from typing import Optional

from .catalog import hidden_or_backup
from .lookup import SPLIT_USR, Scope
from .origin import Origin
from .records import dataclass
from .rootfs import Root, errno_name

#: strstrip() and first_word() use these (WHITESPACE in string-util.h).
_WHITESPACE = " \t\n\r"
#: read_line(): one line end is \n, \r, \0 or one of their two- and three-byte combinations.
_EOL = re.compile(rb"\r\n\0?|\n\r\0?|\r\0?|\n\0?|\0")


def preset_dirs(scope: Scope) -> tuple[str, ...]:
    """CONF_PATHS("systemd/system-preset") or CONF_PATHS_USR("systemd/user-preset"), highest priority first."""
    if scope is Scope.SYSTEM:
        sub = "systemd/system-preset"
        dirs = ["/etc/", "/run/", "/usr/local/lib/", "/usr/lib/"] + (["/lib/"] if SPLIT_USR else [])
    else:
        sub = "systemd/user-preset"
        dirs = ["/etc/", "/run/", "/usr/local/lib/", "/usr/lib/"]
    return tuple(d + sub for d in dirs)


@dataclass(frozen=True)
class PresetRule:
    """One ``enable``/``disable`` line. ``instances`` lists the words after an ``enable tmpl@.service``."""

    action: str  # "enable" | "disable"
    pattern: str
    origin: Origin
    instances: tuple[str, ...] = ()


@dataclass(frozen=True)
class Presets:
    """The preset rules of a root in file order, or the error that made them unreadable."""

    rules: tuple[PresetRule, ...]
    error: Optional[str] = None  # errno symbol when a preset file could not be read

    @classmethod
    def load(cls, root: Root, scope: Scope) -> Presets:
        """Read the preset files of ``scope`` under ``root``.

        Implements ``presets_find_config`` + ``read_presets`` (install.c, v252): ``conf_files_list_strv``
        collects ``*.preset`` entries (hidden and backup names skipped, any file type) from the preset
        dirs, the first dir holding a basename wins, and the files are read in basename order. A
        missing file (a dangling link) is skipped; any other read error (a directory named
        ``x.preset``: EISDIR) fails the whole read, which systemctl shows as ``n/a``.
        """
        files: dict[str, str] = {}
        seen_dirs: set[str] = set()
        for d in preset_dirs(scope):
            try:
                real = root.chase(d)
                listing = root.scandir(real)
            except OSError:
                continue
            # path_strv_resolve_uniq: a dir reached twice (/lib → usr/lib) is read once.
            if real in seen_dirs:
                continue
            seen_dirs.add(real)
            for li in listing:
                if li.name.endswith(".preset") and not hidden_or_backup(li.name) and li.name not in files:
                    files[li.name] = posixpath.join(real, li.name)
        rules = []
        for name in sorted(files, key=lambda n: n.encode("utf-8", "surrogateescape")):
            path = files[name]
            try:
                data = root.read(path)
            except OSError as e:
                if errno_name(e) == "ENOENT":
                    continue
                return cls((), errno_name(e))
            for n, raw in enumerate(_lines(data), 1):
                rule = _parse_line(raw.decode("utf-8", "surrogateescape").strip(_WHITESPACE), Origin(path, n))
                if rule is not None:
                    rules.append(rule)
        return cls(tuple(rules))

    def query(self, name: str) -> str:
        """``enabled`` or ``disabled`` for ``name`` (no matching rule: enabled); ``n/a`` if unreadable.

        Implements ``query_presets`` as ``unit_file_query_preset`` calls it (install.c, v252): without
        an instance list, a rule's instances play no part; its pattern is matched with ``fnmatch``.
        When the preset files could not be read, systemctl's PRESET column says ``n/a``.
        """
        if self.error is not None:
            return "n/a"
        r = self.match(name)
        return "disabled" if r is not None and r.action == "disable" else "enabled"

    def match(self, name: str) -> Optional[PresetRule]:
        """The first rule whose pattern matches ``name``, or None."""
        rx = self._first_match
        if rx is not None:
            m = rx.fullmatch(name)
            return self.rules[m.lastindex - 1] if m is not None and m.lastindex else None
        for r in self.rules:
            if fnmatch(r.pattern, name):
                return r
        return None

    @functools.cached_property
    def _first_match(self) -> Optional[re.Pattern[str]]:
        """All patterns as one regex, one group per rule in file order: the group that matched is the first rule
        whose pattern matches (alternatives are tried in order), so a name costs one match, not one per rule."""
        if not self.rules:
            return None
        try:
            return re.compile("|".join(f"({_translate(r.pattern)})" for r in self.rules), re.DOTALL)
        except (re.error, OverflowError, RecursionError):  # too many rules for one regex: one by one
            return None


def _lines(data: bytes) -> list[bytes]:
    lines = _EOL.split(data)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _first_word(line: str, word: str) -> Optional[str]:
    """``first_word``: the rest of ``line`` after ``word`` and whitespace, or None."""
    if not line.startswith(word):
        return None
    rest = line[len(word):]
    if not rest:
        return rest
    if rest[0] not in _WHITESPACE:
        return None
    return rest.lstrip(_WHITESPACE)


def _parse_line(line: str, origin: Origin) -> Optional[PresetRule]:
    """One stripped line of a preset file as ``read_presets`` reads it; None for comments and junk."""
    if not line or line[0] in "#;":
        return None
    param = _first_word(line, "enable")
    if param is not None:
        # split_pattern_into_name_and_instances(): the first word; more words only after a template.
        words = [w for w in re.split("[ \t\n\r]+", param) if w]
        if not words:
            return None
        from . import names

        if len(words) > 1 and names.kind_of(words[0]) is not names.NameKind.TEMPLATE:
            return None  # "Couldn't parse line '…'. Ignoring."
        return PresetRule("enable", words[0], origin, tuple(words[1:]))
    param = _first_word(line, "disable")
    if param is not None:
        # The whole rest of the line is the pattern, spaces included.
        return PresetRule("disable", param, origin)
    return None


# -- fnmatch ----------------------------------------------------------------------------------------

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "blank": " \\t", "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
}
_CACHE: dict[str, re.Pattern[str]] = {}


def fnmatch(pattern: str, name: str) -> bool:
    """Whether ``name`` matches the shell glob ``pattern`` as glibc ``fnmatch(…, FNM_NOESCAPE)`` decides.

    ``*`` and ``?`` match any characters (``/`` and a leading ``.`` included); ``[…]`` is a set with
    ``!`` or ``^`` negation, ranges and ``[:class:]`` names, a ``]`` first in the set is literal, and
    an unterminated ``[`` is literal. A backslash is an ordinary character (FNM_NOESCAPE).
    """
    rx = _CACHE.get(pattern)
    if rx is None:
        rx = _CACHE[pattern] = re.compile(_translate(pattern), re.DOTALL)
    return rx.fullmatch(name) is not None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j, body = _bracket(pattern, i)
            if body is None:
                out.append(re.escape("["))
            else:
                out.append(body)
                i = j
        else:
            out.append(re.escape(c))
    return "".join(out)


def _bracket(pattern: str, i: int) -> tuple[int, Optional[str]]:
    """Translate the set starting after ``[`` at ``i``: (index after ``]``, regex) or (i, None)."""
    n = len(pattern)
    negate = False
    if i < n and pattern[i] in "!^":
        negate = True
        i += 1
    items: list[str] = []
    first = True
    while i < n:
        c = pattern[i]
        if c == "]" and not first:
            if not items:  # only reversed ranges: the set is empty
                return i + 1, "." if negate else "(?!)"
            return i + 1, "[" + ("^" if negate else "") + "".join(items) + "]"
        first = False
        if c == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            cls = pattern[i + 2:end] if end >= 0 else None
            if cls in _CLASSES:
                items.append(_CLASSES[cls])
                i = end + 2
                continue
        if i + 2 < n and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            lo, hi = c, pattern[i + 2]
            if lo <= hi:
                items.append(f"{re.escape(lo)}-{re.escape(hi)}")
            i += 3
            continue
        items.append(re.escape(c))
        i += 1
    return i, None
