"""JSON for ``why`` (schema: schema/why.schema.json). Records in, plain dicts out."""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog
from ..live import LiveUnit
from ..origin import Origin
from ..report import Report
from . import SCHEMA_VERSION
from .words import enable_message


def _source(cat: Catalog, origin: Origin) -> str:
    p = origin.path
    if p.startswith("/"):
        p = cat.root.display(p)
    return f"{p}:{origin.line}" if origin.line else p


def live(v: LiveUnit) -> dict[str, Any]:
    """The running manager's view; paths as the manager sees them (not under --root: live facts need none)."""
    return {
        "via": v.via,
        "id": v.id,
        "load_state": v.load_state.value,
        "load_error": None if v.load_error is None else {"name": v.load_error.name, "message": v.load_error.message},
        "active_state": v.active_state,
        "sub_state": v.sub_state,
        "result": v.result,
        "need_daemon_reload": v.need_daemon_reload,
        "triggered_by": list(v.triggered_by),
        "triggers": list(v.triggers),
        "fragment_path": v.fragment_path or None,
        "dropin_paths": list(v.drop_in_paths),
        "unit_file_state": v.unit_file_state or None,
    }


def internal_error(unit: str, message: str) -> dict[str, Any]:
    """In a batch, the item for a unit whose analysis failed with a bug (the others still get reports)."""
    return {"schema_version": SCHEMA_VERSION, "unit": unit, "internal_error": message}


def report(cat: Catalog, r: Report, verbose: bool = False) -> dict[str, Any]:
    """One ``why`` report; with ``verbose`` also the evidence sources consulted (``sources``)."""
    b = r.start.blocker or r.start.problem
    start: dict[str, Any] = {"ok": r.start.ok}
    if b is not None:
        start.update({
            "blocker": b.unit,
            "reason": b.reason,
            "message": b.message,
            "certain": b.certain,
            "chain": [{"from": e.source, "dependency": e.dependency, "to": e.target, "source": _source(cat, e.origin)}
                      for e in b.chain],
        })
        if b.origin is not None:
            start["source"] = _source(cat, b.origin)
        if b.detail:
            start["detail"] = b.detail
    start["blockers"] = [{"unit": x.unit, "reason": x.reason, "message": x.message,
                          "chain": [{"from": e.source, "dependency": e.dependency, "to": e.target,
                                     "source": _source(cat, e.origin)} for e in x.chain],
                          **({"source": _source(cat, x.origin)} if x.origin is not None else {}),
                          **({"detail": x.detail} if x.detail else {})}
                         for x in r.start.blockers]
    u = r.loaded
    out = {
        "schema_version": SCHEMA_VERSION,
        "unit": r.unit,
        "id": u.id,
        "scope": r.scope,
        "load_state": u.load_state.value,
        "load_error": None if u.load_error is None else {
            "name": u.load_error.bus_error, "message": u.load_error.message},
        "fragment_path": cat.root.display(u.fragment) if u.fragment else None,
        "dropin_paths": [cat.root.display(d.path) for d in u.dropins],
        "unit_file_state": r.state.state.value,
        "unit_file_error": None if r.state.error is None else {
            "errno": r.state.error.errno, "message": r.state.error.message},
        "start": start,
        "enable": {"ok": r.enable is None, "message": enable_message(r.enable)},
        "findings": [
            {
                "id": f.id,
                "severity": f.severity.value,
                "summary": f.summary,
                **({"origin": f.origin} if f.origin else {}),
                "evidence": [{"kind": e.kind, "source": e.source, "text": e.text, "time": e.time}
                             for e in f.evidence],
                "fix": list(f.fix),
            }
            for f in r.findings
        ],
    }
    if r.live is not None:
        out["live"] = live(r.live)
    if verbose:
        out["sources"] = [{"source": n.source, "status": n.status, "text": n.text} for n in r.sources]
    return out
