"""Preset policy: the ``PRESET`` column of ``list-unit-files`` (``*.preset`` files).

Implements ``presets_find_config``, ``read_presets`` and ``query_presets`` (install.c, v252):
the first matching rule wins; no matching rule means "enable".
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from typing import Optional

from .catalog import hidden_or_backup
from .lookup import SPLIT_USR, Scope
from .origin import Origin
from .rootfs import Root


def preset_dirs(scope: Scope) -> tuple[str, ...]:
    """CONF_PATHS("systemd/system-preset") or CONF_PATHS_USR("systemd/user-preset")."""
    if scope is Scope.SYSTEM:
        sub = "systemd/system-preset"
        dirs = ["/etc/", "/run/", "/usr/local/lib/", "/usr/lib/"] + (["/lib/"] if SPLIT_USR else [])
    else:
        sub = "systemd/user-preset"
        dirs = ["/etc/", "/run/", "/usr/local/lib/", "/usr/lib/"]
    return tuple(d + sub for d in dirs)


@dataclass(frozen=True)
class PresetRule:
    action: str  # "enable" | "disable"
    pattern: str
    origin: Origin


@dataclass(frozen=True)
class Presets:
    rules: tuple[PresetRule, ...]
    error: Optional[str] = None  # errno symbol when the preset files could not be read

    @classmethod
    def load(cls, root: Root, scope: Scope) -> Presets:
        files: dict[str, str] = {}
        for d in preset_dirs(scope):
            try:
                listing = root.scandir(d)
            except OSError:
                continue
            for li in listing:
                if li.name.endswith(".preset") and not hidden_or_backup(li.name) and li.name not in files:
                    files[li.name] = posixpath.join(d, li.name)
        rules = []
        for name in sorted(files):
            path = files[name]
            try:
                data = root.read(path)
            except OSError:
                continue
            text = data.decode("utf-8", "replace")
            for n, line in enumerate(text.splitlines(), 1):
                rule = _parse_line(line.strip(), Origin(path, n))
                if rule is not None:
                    rules.append(rule)
        return cls(tuple(rules))

    def query(self, name: str) -> str:
        """``enabled`` or ``disabled`` for ``name`` (no matching rule: enabled)."""
        r = self.match(name)
        return "disabled" if r is not None and r.action == "disable" else "enabled"

    def match(self, name: str) -> Optional[PresetRule]:
        for r in self.rules:
            if fnmatch.fnmatchcase(name, r.pattern):
                return r
        return None


def _first_word(line: str, word: str) -> Optional[str]:
    if not line.startswith(word):
        return None
    rest = line[len(word):]
    if rest and not rest[0].isspace():
        return None
    return rest.lstrip()


def _parse_line(line: str, origin: Origin) -> Optional[PresetRule]:
    if not line or line[0] in "#;":
        return None
    param = _first_word(line, "enable")
    if param is not None:
        words = param.split()
        if not words:
            return None
        from . import names

        if len(words) > 1 and names.kind_of(words[0]) is not names.NameKind.TEMPLATE:
            return None
        return PresetRule("enable", words[0], origin)
    param = _first_word(line, "disable")
    if param is not None:
        return PresetRule("disable", param, origin)
    return None
