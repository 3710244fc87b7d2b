"""``why``: one unit's verdict, built from the engine's answers. No I/O beyond the catalog's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from . import install, sysv
from .catalog import Catalog
from .checks import Context, diagnose
from .findings import Finding
from .live import LiveUnit
from .manager import Manager, Unit
from .sources import EvidenceSources, SourceNote
from .transaction import StartPrediction, predict_start


@dataclass(frozen=True)
class Report:
    unit: str
    scope: str
    loaded: Unit
    state: install.StateResult
    start: StartPrediction
    findings: tuple[Finding, ...]
    enable_error: Optional[str] = None
    live: Optional[LiveUnit] = None  # the running manager's view, when it was asked
    #: The evidence sources (package database, logs, boot configuration) consulted so far, for --verbose.
    sources: tuple[SourceNote, ...] = ()

    @property
    def ok(self) -> bool:
        return self.start.ok and not any(f.severity.value == "error" for f in self.findings)


def enable_problem(cat: Catalog, state: install.StateResult, name: str) -> Optional[str]:
    """What ``systemctl enable`` would refuse with (install_changes_dump wording, fact sheet §2.7, §8)."""
    if state.sysv is not None:
        return None  # systemctl hands enable over to systemd-sysv-install (update-rc.d)
    s = state.state
    path = cat.root.display(state.path) if state.path else name
    if s in (install.UnitFileState.MASKED, install.UnitFileState.MASKED_RUNTIME):
        return f"Failed to enable unit, unit {path} is masked."
    if s in (install.UnitFileState.GENERATED, install.UnitFileState.TRANSIENT):
        return f"Failed to enable unit, unit {path} is transient or generated."
    if s is install.UnitFileState.NOT_FOUND:
        return f"Failed to enable unit, unit {name} does not exist."
    if s is install.UnitFileState.BAD and state.error is not None:
        if state.error.errno == "ELOOP":
            return f"Failed to enable unit, refusing to operate on linked unit file {name}."
        return f'Failed to enable unit, file "{name}": {state.error.message}'
    if s is install.UnitFileState.STATIC:
        return "The unit files have no installation config (WantedBy=, RequiredBy=, Also=, Alias= settings in " \
               "the [Install] section, and DefaultInstance= for template units)."
    return None


def why(cat: Catalog, name: str, *, manager: Optional[Manager] = None, live: Optional[LiveUnit] = None,
        sources: Optional[EvidenceSources] = None, environ: Optional[Mapping[str, str]] = None) -> Report:
    """The verdict on ``name`` from the files; ``live`` (from ``bus``) adds where the running manager disagrees.

    ``sources`` (package database, logs, boot configuration: read lazily) may be shared by several calls.
    ``environ`` is systemctl's environment (``SYSTEMCTL_SKIP_SYSV`` turns its SysV hand-over off).
    """
    mgr = manager or Manager(cat)
    src = sources or EvidenceSources.for_root(cat.root)
    unit = mgr.load(name)
    state = sysv.is_enabled(cat, name, environ or {})
    start = predict_start(mgr, name)
    findings = diagnose(Context(mgr, unit, state, start, live_unit=live, evidence_sources=src))
    return Report(name, cat.lookup.scope.value, unit, state, start, findings, enable_problem(cat, state, name),
                  live=live, sources=src.notes())
