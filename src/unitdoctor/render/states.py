"""Text and JSON for ``unitdoctor states`` (``list-unit-files`` / ``is-enabled``)."""

from __future__ import annotations

from typing import Any, Callable, Optional, TextIO

from ..install import StateResult, UnitFileState

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


def table(results: list[StateResult], presets: dict[str, Optional[str]], out: TextIO) -> None:
    """The ``list-unit-files`` table: UNIT FILE, STATE, PRESET, then a count line."""
    w1 = max([len("UNIT FILE")] + [len(r.name) for r in results])
    w2 = max([len("STATE")] + [len(r.state.value) for r in results])
    out.write(f"{'UNIT FILE'.ljust(w1)} {'STATE'.ljust(w2)} PRESET\n")
    for r in results:
        p = presets.get(r.name) or "-"
        out.write(f"{r.name.ljust(w1)} {r.state.value.ljust(w2)} {p}\n".rstrip() + "\n")
    out.write(f"\n{len(results)} unit files listed.\n")
