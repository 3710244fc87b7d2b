"""``scan`` as text (summary first, then details) and as JSON (schema/scan.schema.json). Records in, text out."""

from __future__ import annotations

from typing import Any, TextIO

from ..boot import BootPrediction, Outcome, UnitOutcome
from ..findings import Finding, Severity
from ..scan import SCHEMA_VERSION, ScanResult
from ..transaction import Edge


def _src(e: Edge) -> str:
    return e.origin.path + (f":{e.origin.line}" if e.origin.line else "")


def edge_json(e: Edge) -> dict[str, Any]:
    return {"from": e.source, "dependency": e.dependency, "to": e.target, "source": _src(e)}


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id, "severity": f.severity.value, "unit": f.unit, "summary": f.summary, "origin": f.origin,
        "evidence": [{"kind": e.kind, "source": e.source, "text": e.text, "time": e.time} for e in f.evidence],
        "fix": list(f.fix),
    }


def _outcome_json(u: UnitOutcome) -> dict[str, Any]:
    # A unit that starts: only the edge that pulls it in (the whole chain for every one of thousands of units
    # repeats the same paths); a unit with a problem: the whole chain from the target.
    chain = u.chain if u.outcome is not Outcome.ACTIVE else u.chain[-1:]
    return {"unit": u.unit, "outcome": u.outcome.value, "reason": u.reason, "message": u.message,
            "blocker": u.blocker, "chain": [edge_json(e) for e in chain], "one_of": list(u.one_of),
            "certain": u.certain}


def boot_json(b: BootPrediction) -> dict[str, Any]:
    return {
        "target": b.target,
        "requested": b.requested,
        "fallback": b.fallback,
        "applicable": b.applicable,
        "transaction_ok": b.ok,
        "error": None if b.error is None else {"unit": b.error.unit, "reason": b.error.reason,
                                               "message": b.error.message,
                                               "chain": [edge_json(e) for e in b.error.chain]},
        "units": [_outcome_json(u) for u in b.units],
        "cycles": [{"units": list(c.units), "edges": [edge_json(e) for e in c.edges],
                    "deleted": c.candidates[0] if len(c.candidates) == 1 else None,
                    "one_of": list(c.candidates), "deleted_with": list(c.deleted_with),
                    "breakable": c.breakable} for c in b.cycles],
    }


def to_json(r: ScanResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "scope": r.scope,
        "root": r.root,
        "ok": r.ok,
        "unit_files": r.unit_files,
        "live": r.live,
        "counts": r.counts(),
        "boot": boot_json(r.boot),
        "masks": [{"unit": m.unit, "state": m.state, "layer": m.layer, "path": m.path, "origin": m.origin,
                   "intended": m.intended, "needed_by": list(m.needed_by),
                   "finding": None if m.finding is None else _finding_json(m.finding)} for m in r.masks],
        "findings": [_finding_json(f) for f in r.findings],
        "duration_seconds": round(r.duration, 6),
    }


_MARK = {Outcome.FAILED: "✗", Outcome.DEPENDENCY_FAILED: "✗", Outcome.NOT_STARTED: "○", Outcome.SKIPPED: "–",
         Outcome.ACTIVE: "✓"}


def boot_tree(b: BootPrediction) -> list[str]:
    """What fails at boot as a tree: each failing unit under the chain that pulls it in, with the blocker."""
    out: list[str] = []
    if b.error is not None:
        out.append(f"✗ the boot transaction for {b.target} is refused: {b.error.message}")
        out.append(f"  {b.target}")
        for i, e in enumerate(b.error.chain):
            out.append("  " + "   " * i + f"└─ {e.dependency}= {e.target}   [{_src(e)}]")
        out.append("  " + "   " * len(b.error.chain) + f"   blocker: {b.error.unit} ({b.error.reason})")
        return out
    bad = [u for u in b.units if u.outcome in (Outcome.FAILED, Outcome.DEPENDENCY_FAILED)
           or (u.outcome is Outcome.NOT_STARTED and u.reason in ("ordering-cycle", "job-deleted"))]
    if not bad:
        return out
    # A trie of the chains that reach each failing unit, drawn like `why`'s chain.
    tree: dict[str, Any] = {}
    notes: dict[tuple[str, ...], str] = {}
    for u in bad:
        labels = tuple(f"{e.dependency}= {e.target}" for e in u.chain) or (u.unit,)
        node = tree
        for lab in labels:
            node = node.setdefault(lab, {})
        one = f" (one of: {', '.join(u.one_of)})" if u.one_of else ""
        blk = f"; blocker {u.blocker}" if u.blocker and u.blocker != u.unit else ""
        notes[labels] = f"{_MARK[u.outcome]} {u.outcome.value}: {u.message}{blk}{one}"
    out.append(b.target)

    def walk(node: dict[str, Any], prefix: str, path: tuple[str, ...]) -> None:
        items = list(node.items())
        for i, (lab, child) in enumerate(items):
            last = i == len(items) - 1
            note = notes.get(path + (lab,))
            out.append(f"{prefix}{'└─' if last else '├─'} {lab}" + (f"  {note}" if note else ""))
            walk(child, prefix + ("   " if last else "│  "), path + (lab,))

    walk(tree, "", ())
    return out


def lines(r: ScanResult) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    c = r.counts()
    verdict = "✓ no problems" if r.ok else "✗ problems found"
    out.append(("ok" if r.ok else "bad", f"{verdict}: {c['error']} errors, {c['warning']} warnings, "
                                         f"{c['info']} info ({r.unit_files} unit files, {r.scope} scope)"))
    b = r.boot
    counts: dict[str, int] = {}
    for u in b.units:
        counts[u.outcome.value] = counts.get(u.outcome.value, 0) + 1
    summary = ", ".join(f"{counts[o.value]} {o.value}" for o in Outcome if counts.get(o.value))
    fb = f" (fallback from {b.requested})" if b.fallback else ""
    if not b.applicable:
        out.append(("dim", f"Next boot: no {b.requested} or rescue.target here, nothing to predict"))
    else:
        out.append(("head", f"Next boot: {b.target}{fb}: {summary or 'nothing pulled in'}"))
    tree = boot_tree(b)
    for t in tree:
        out.append(("bad", "  " + t))
    if r.masks:
        out.append(("", ""))
        out.append(("head", "Masks:"))
        for m in r.masks:
            tag = "info: intended" if m.intended else ("needed by " + ", ".join(m.needed_by) if m.needed_by
                                                        else m.state)
            origin = f", origin {m.origin}" if m.origin else ""
            out.append(("dim" if m.intended else "warn", f"  [{m.layer}] {m.unit}  {m.path}{origin}  ({tag})"))
    shown = [f for f in r.findings if f.id != "mask-intended"]
    if shown:
        out.append(("", ""))
        out.append(("head", "Findings:"))
        for f in shown:
            style = {Severity.ERROR: "bad", Severity.WARNING: "warn", Severity.INFO: "dim"}[f.severity]
            out.append((style, f"  [{f.severity.value}] {f.id}: {f.summary}"))
            for e in f.evidence:
                out.append(("dim", f"      {e.kind}: {e.source}: {e.text}"))
            for fx in f.fix:
                out.append(("", f"      fix: {fx}"))
    if b.cycles:
        out.append(("", ""))
        out.append(("head", "Ordering cycles:"))
        for cy in b.cycles:
            if cy.breakable:
                pick = cy.candidates[0] if len(cy.candidates) == 1 else "one of " + ", ".join(cy.candidates)
                out.append(("warn", f"  {' → '.join(cy.units)}: systemd deletes the job of {pick}"))
            else:
                out.append(("bad", f"  {' → '.join(cy.units)}: every job matters to {b.target}; the boot fails"))
            for edge in cy.edges:
                out.append(("dim", f"      {edge.source} {edge.dependency}= {edge.target}   [{_src(edge)}]"))
    return out


def render(r: ScanResult, out: TextIO) -> None:
    """The report as ``why``'s: escaped, coloured on a terminal (and through its pager), wrapped at its width."""
    from . import text

    text.write(lines(r), out)
