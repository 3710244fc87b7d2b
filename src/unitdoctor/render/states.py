"""Text and JSON for ``unitdoctor states`` (``list-unit-files`` / ``is-enabled``)."""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, TextIO

from ..install import StateResult, UnitFileState
from . import SCHEMA_VERSION

#: systemctl hides the preset column for these states (``show_preset_for_state``).
NO_PRESET = frozenset((UnitFileState.ALIAS, UnitFileState.STATIC, UnitFileState.GENERATED,
                       UnitFileState.TRANSIENT))


def preset_shown(r: StateResult) -> bool:
    return r.state not in NO_PRESET and r.state is not UnitFileState.NOT_FOUND


def to_json(results: list[StateResult], presets: dict[str, Optional[str]],
            display: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """One object per unit; ``display`` turns a root-relative path into what the user sees (ROOT/…)."""
    out = []
    for r in results:
        obj: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "unit": r.name,
            "state": r.state.value,
            "preset": presets.get(r.name),
            "path": display(r.path) if r.path else None,
        }
        if r.sysv is not None:
            obj["sysv"] = {"script": display(r.sysv.script), "links": [display(x) for x in r.sysv.links],
                           "command": r.sysv.command}
        if r.error is not None:
            obj["error"] = {"errno": r.error.errno, "message": r.error.message}
        out.append(obj)
    return out


def select(results: list[StateResult], *, patterns: Sequence[str] = (), types: Sequence[str] = (),
           states: Sequence[str] = ()) -> list[StateResult]:
    """The rows ``list-unit-files PATTERN... --type= --state=`` keeps: name matches any pattern
    (fnmatch(3) with FNM_NOESCAPE), type and state in the lists (an empty list keeps all)."""
    if not patterns and not types and not states:
        return list(results)
    import fnmatch

    pats = [p.replace("[^", "[!") for p in patterns]  # glibc's [^…] is Python's [!…]
    out = []
    for r in results:
        if pats and not any(fnmatch.fnmatchcase(r.name, p) for p in pats):
            continue
        if types and r.name.rpartition(".")[2] not in types:
            continue
        if states and r.state.value not in states:
            continue
        out.append(r)
    return out


#: Each state's text (``UnitFileState.value`` looked up once, not per row).
_VALUES = {s: s.value for s in UnitFileState}

# SGR sequences as systemd's terminal-util.h spells them.
_NORMAL, _UNDERLINE = "\x1b[0m", "\x1b[0;4m"
_GREEN, _RED, _GREY = "\x1b[0;1;32m", "\x1b[0;1;31m", "\x1b[0;38;5;245m"
_GREEN_STATES = frozenset((UnitFileState.ENABLED, UnitFileState.ALIAS))
_RED_STATES = frozenset((UnitFileState.MASKED, UnitFileState.MASKED_RUNTIME, UnitFileState.DISABLED,
                         UnitFileState.BAD))


def _cell(text: str, colour: Optional[str], underline: bool) -> str:
    if colour is None and not underline:
        return text
    return (colour or _NORMAL) + (_UNDERLINE if underline else "") + text + _NORMAL


def table(results: list[StateResult], presets: dict[str, Optional[str]], out: TextIO, *, legend: bool = True,
          colour: bool = False) -> None:
    """The ``list-unit-files`` table: UNIT FILE, STATE, PRESET, then a count line.

    With ``colour`` it is coloured as systemctl colours it on a terminal (systemctl-list-unit-files.c and
    table.c in 252): enabled and alias green, disabled/masked/bad red, the preset green or red, no preset a
    grey ``-``; the last row of each unit type underlined; the header underlined including the gaps.
    Each coloured cell carries its colour into the gap on its right.
    """
    from .escape import escape, raw_stream

    out = raw_stream(out)  # names from the root are escaped here; the colour sequences are ours
    names = [r.name for r in results]
    # One look at all the names says whether any needs escaping (almost never).
    shown = dict(zip(names, map(escape, names) if escape("".join(names)) != "".join(names) else names))
    values = [_VALUES[r.state] for r in results]
    column = [presets.get(n) or "-" for n in names]
    # without the legend the header row is not laid out, so it does not widen the columns (table.c)
    head = (len("UNIT FILE"), len("STATE"), len("PRESET")) if legend else (0, 0, 0)
    w1 = max(head[0], max(map(len, shown.values()), default=0))
    w2 = max(head[1], max(map(len, values), default=0))
    w3 = max(head[2], max(map(len, column), default=0))
    if not colour:
        # The last cell is never empty nor ends in a blank: no trailing blanks to strip.
        lines = [f"{shown[n].ljust(w1)} {v.ljust(w2)} {p}\n" for n, v, p in zip(names, values, column)]
        if legend:
            lines.insert(0, f"{'UNIT FILE'.ljust(w1)} {'STATE'.ljust(w2)} PRESET\n")
        out.write("".join(lines))
    else:
        if legend:
            heads = ("UNIT FILE".ljust(w1), "STATE".ljust(w2), "PRESET".ljust(w3))
            out.write("".join(_NORMAL + _UNDERLINE + (" " if j else "") + h + _NORMAL
                              for j, h in enumerate(heads)) + "\n")
        for i, r in enumerate(results):
            nxt = results[i + 1] if i + 1 < len(results) else None
            underline = nxt is not None and nxt.name.rpartition(".")[2] != r.name.rpartition(".")[2]
            preset = presets.get(r.name)
            state_colour = _GREEN if r.state in _GREEN_STATES else _RED if r.state in _RED_STATES else None
            preset_colour = _GREY if preset is None else _GREEN if preset == "enabled" else _RED
            cells = ((shown[r.name].ljust(w1), None), (r.state.value.ljust(w2), state_colour),
                     ((preset or "-").ljust(w3), preset_colour))
            line = ""
            for j, (text, c) in enumerate(cells):
                if j:
                    prev = cells[j - 1][1]
                    line += _cell(" ", prev, underline) if (prev or underline) else " "
                line += _cell(text, c, underline)
            out.write(line + "\n")
    if legend:
        out.write(f"\n{len(results)} unit files listed.\n")
