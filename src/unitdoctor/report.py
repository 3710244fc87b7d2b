"""``why``: one unit's verdict, built from the engine's answers. No I/O beyond the catalog's."""

from __future__ import annotations

import enum
from typing import Mapping, Optional

from . import install, sysv
from .catalog import Catalog
from .checks import Context, diagnose
from .findings import Finding
from .live import LiveUnit
from .manager import Manager, Unit
from .records import dataclass
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
    enable: Optional[EnableProblem] = None  # what systemctl enable would refuse with (render words it)
    live: Optional[LiveUnit] = None  # the running manager's view, when it was asked
    #: The evidence sources (package database, logs, boot configuration) consulted so far, for --verbose.
    sources: tuple[SourceNote, ...] = ()

    @property
    def ok(self) -> bool:
        return self.start.ok and not any(f.severity.value == "error" for f in self.findings)


class EnableRefusal(str, enum.Enum):
    """Why ``systemctl enable`` would refuse the unit (install_changes_dump's cases, fact sheet §2.7, §8)."""

    MASKED = "masked"
    GENERATED_OR_TRANSIENT = "generated-or-transient"
    NOT_FOUND = "not-found"
    LINKED = "linked"  # ELOOP: refusing to operate on a linked unit file
    BAD = "bad"  # the unit file cannot be loaded (the error's message is kept)
    NO_INSTALL = "no-install"  # static: nothing in [Install]


@dataclass(frozen=True)
class EnableProblem:
    """What ``systemctl enable NAME`` would refuse with, as a record; ``render`` words it as systemctl does."""

    refusal: EnableRefusal
    name: str
    path: Optional[str] = None  # the unit file as the user sees it (ROOT/…), where systemctl names it
    message: str = ""  # the install error's message (BAD)


def enable_problem(cat: Catalog, state: install.StateResult, name: str) -> Optional[EnableProblem]:
    """What ``systemctl enable`` would refuse ``name`` with, or None (install_changes_dump, §2.7, §8)."""
    if state.sysv is not None:
        return None  # systemctl hands enable over to systemd-sysv-install (update-rc.d)
    s = state.state
    path = cat.root.display(state.path) if state.path else None
    if s in (install.UnitFileState.MASKED, install.UnitFileState.MASKED_RUNTIME):
        return EnableProblem(EnableRefusal.MASKED, name, path)
    if s in (install.UnitFileState.GENERATED, install.UnitFileState.TRANSIENT):
        return EnableProblem(EnableRefusal.GENERATED_OR_TRANSIENT, name, path)
    if s is install.UnitFileState.NOT_FOUND:
        return EnableProblem(EnableRefusal.NOT_FOUND, name)
    if s is install.UnitFileState.BAD and state.error is not None:
        if state.error.errno == "ELOOP":
            return EnableProblem(EnableRefusal.LINKED, name)
        return EnableProblem(EnableRefusal.BAD, name, message=state.error.message)
    if s is install.UnitFileState.STATIC:
        return EnableProblem(EnableRefusal.NO_INSTALL, name)
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
