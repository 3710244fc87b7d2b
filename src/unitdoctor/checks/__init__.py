"""Checks: one module per cause in the field guide, each returning ``Finding``s with evidence.

``diagnose()`` runs them in the order an admin would hunt: the unit's own file and mask, the
dependency chain, then how the unit is meant to be started.

A check that needs a heavy module (package databases, log readers, the boot configuration) imports
it inside the function, behind the cheap question that decides whether it is needed at all (a
package database exists: ``_package_check``; the unit is masked: ``mask.mask_finding`` →
``provenance``), so ``why`` on a healthy unit of a root without them loads none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional

from ..findings import Finding, Severity
from ..install import StateResult
from ..live import LiveUnit
from ..manager import Manager, Unit
from ..origin import Origin
from ..records import dataclass, field
from ..sources import EvidenceSources
from ..transaction import StartPrediction
from . import activation, condition, dependency, execute, live, mask, sysv, unitfile

if TYPE_CHECKING:
    from ..catalog import Catalog


@dataclass(frozen=True)
class Context:
    """What every check may look at: the manager model, the unit, its install state and the prediction."""

    manager: Manager
    unit: Unit
    state: StateResult
    start: StartPrediction
    live_unit: Optional[LiveUnit] = None  # what the running manager says, when the caller asked it
    #: Package database, logs, boot configuration: opened only when a check asks; shared by a run.
    evidence_sources: Optional[EvidenceSources] = field(default=None, compare=False)

    @property
    def catalog(self) -> Catalog:
        return self.manager.cat

    @property
    def sources(self) -> EvidenceSources:
        """The evidence sources of the catalog's root (made on first use when the caller gave none)."""
        if self.evidence_sources is None:
            object.__setattr__(self, "evidence_sources", EvidenceSources.for_root(self.manager.cat.root))
        assert self.evidence_sources is not None
        return self.evidence_sources

    def where(self, origin: Origin) -> str:
        """An origin as evidence shows it: the path as the user sees it (ROOT/…), with ``:line``."""
        p = origin.path
        if p.startswith("/"):
            p = self.manager.cat.root.display(p)
        return f"{p}:{origin.line}" if origin.line else p

    def where_unit(self, name: str) -> str:
        """Where unit ``name``'s file is, as the user sees it (its fragment), or the bare name without one."""
        u = self.manager.load(name)
        return self.manager.cat.root.display(u.fragment) if u.fragment else name

    @property
    def scope_flag(self) -> str:
        """systemctl options that address the same unit files: ``--root=DIR`` and the scope."""
        cat = self.manager.cat
        s = cat.lookup.scope.value
        flags = "" if cat.root.is_host else f"--root={cat.root.given} "
        return flags + ("" if s == "system" else f"--{s} ")

    @property
    def live(self) -> bool:
        """Whether the unit files are the running system's (verbs like daemon-reload and --now apply)."""
        return self.manager.cat.root.is_host



def _package_check(ctx: Context) -> Iterator[Finding]:
    """``package.check``, imported only for a root with a package database (it brings the database and log readers)."""
    if not ctx.sources.has_package_db():
        return iter(())
    from . import package

    return package.check(ctx)


CHECKS = (mask.check, unitfile.check, sysv.check, _package_check, condition.check, execute.check, dependency.check,
          activation.check, live.check)


def diagnose(ctx: Context) -> tuple[Finding, ...]:
    """Every check's findings, each once (first occurrence kept), errors first; linear in their number."""
    seen: dict[Finding, None] = {}  # findings are frozen, so hashable; a dict keeps their order
    for check in CHECKS:
        for f in check(ctx):
            seen.setdefault(f, None)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return tuple(sorted(seen, key=lambda f: order[f.severity]))
