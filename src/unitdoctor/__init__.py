"""unitdoctor: say why a systemd unit cannot start or be enabled, and fix it safely.

The library API is the names in ``__all__`` (the README's "Library" section shows them in use); everything
else is internal and may change. Names are imported on first use, so ``import unitdoctor`` stays cheap::

    import unitdoctor as ud

    cat = ud.open_catalog("/mnt/image", ud.Scope.SYSTEM, {})   # one scan of the unit search path
    report = ud.why(cat, "nginx.service")                       # verdict, chain, findings
    report.start.ok, [f.id for f in report.findings]
    plan = ud.plan_fix([report], catalog=cat)                   # typed actions; nothing is changed
    ud.report_json(cat, report)                                 # the --json form (schema: shipped.schema("why"))

The engine modules (everything but ``cli``, ``render`` and ``bus``) use only the standard library.
"""

from __future__ import annotations

import sys as _sys
from typing import Any

__version__ = "0.1.0"

#: name → (module, attribute): the public API, imported lazily (PEP 562).
_API = {
    # unit names
    "InvalidUnitName": ("names", "InvalidUnitName"),
    "mangle": ("names", "mangle"),
    # the unit search path, scanned once
    "Scope": ("lookup", "Scope"),
    "SearchPathError": ("lookup", "LookupError_"),
    "Catalog": ("catalog", "Catalog"),
    "open_catalog": ("catalog", "open_catalog"),
    # unit-file states (systemctl is-enabled / list-unit-files)
    "UnitFileState": ("install", "UnitFileState"),
    "lookup_state": ("install", "lookup_state"),
    "list_unit_files": ("install", "list_unit_files"),
    # why a unit cannot start or be enabled
    "Manager": ("manager", "Manager"),
    "LoadState": ("manager", "LoadState"),
    "EvidenceSources": ("sources", "EvidenceSources"),
    "why": ("report", "why"),
    "Report": ("report", "Report"),
    "Finding": ("findings", "Finding"),
    "Severity": ("findings", "Severity"),
    "report_json": ("render.json", "report"),
    "SCHEMA_VERSION": ("render", "SCHEMA_VERSION"),
    # every problem of a root at once
    "scan": ("scan", "scan"),
    # fixing, journaled and undoable
    "plan_fix": ("plan", "plan_fix"),
    "Plan": ("plan", "Plan"),
    "RemoveMask": ("plan", "RemoveMask"),
    "DropMaskedDropIn": ("plan", "DropMaskedDropIn"),
    "EnableUnit": ("plan", "EnableUnit"),
    "AdviceAbout": ("plan", "AdviceAbout"),
    "simulate": ("plan", "simulate"),
    "apply": ("fix", "apply"),
    "undo": ("fix", "undo"),
    "recover": ("fix", "recover"),
    "history": ("fix", "history"),
    "Outcome": ("fix", "Outcome"),
    "StepState": ("journal", "StepState"),
    "StepKind": ("journal", "StepKind"),
    "InvalidPlan": ("fix", "InvalidPlan"),
    "OfflineOps": ("fix", "OfflineOps"),
    "SystemctlOps": ("systemctl", "SystemctlOps"),
    "Journal": ("journal", "Journal"),
    "JournalError": ("journal", "JournalError"),
    "ManagerError": ("live", "ManagerError"),
}

__all__ = ["__version__", *_API]


class _Package(type(_sys)):  # type: ignore[misc]  # ModuleType without importing types
    """This package's module type. Importing a submodule sets it as an attribute of its package; ``scan`` is both
    a submodule and an API function, and the function must stay ``unitdoctor.scan`` whatever imported the module
    first (the module is ``sys.modules["unitdoctor.scan"]``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, type(_sys)):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    try:
        module, attr = _API[name]
    except KeyError:
        raise AttributeError(f"module 'unitdoctor' has no attribute {name!r}") from None
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
