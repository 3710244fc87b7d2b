"""Text and JSON for ``fix``, ``undo`` and ``history`` (schema: schema/fix.schema.json, schema/history.schema.json).

Records in, lines or plain dicts out; nothing is computed here. Paths are shown as the user gave the root
(``ROOT/etc/…``), like ``why``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from ..fix import NOTHING, PLANNED, REFUSED, HistoryItem, Outcome
from ..journal import CONFLICT, ROLLED_BACK, ROLLING_BACK, Step, StepKind, StepState
from ..plan import (
    Action,
    Advice,
    DaemonReload,
    DropMaskedDropIn,
    EnableUnit,
    Plan,
    RemoveMask,
    StartUnit,
    action_record,
)
from ..report import Report
from ..rootfs import Root
from . import SCHEMA_VERSION
from .words import advice, effect, mask_object, outlook, plan_notes, reason

# -- text ---------------------------------------------------------------------------------------------


def _title(a: Action, root: Root) -> str:
    if isinstance(a, RemoveMask):
        return f"remove the mask {root.display(a.path)} ({mask_object(a.kind, a.link_target)}, {a.layer})"
    if isinstance(a, DropMaskedDropIn):
        return f"remove the drop-in mask {root.display(a.path)} ({mask_object(a.kind, a.link_target)}, {a.layer})"
    if isinstance(a, EnableUnit):
        return f"enable {a.name}" + (" --runtime" if a.runtime else "")
    if isinstance(a, DaemonReload):
        return "daemon-reload"
    if isinstance(a, StartUnit):
        return f"start {a.name}"
    assert isinstance(a, Advice)
    return a.unit


def plan_lines(plan: Plan, root: Root) -> list[str]:
    """The plan as ``fix`` prints it before asking: numbered actions with risk, reason and effect."""
    where = f" in {plan.root}" if plan.root else ""
    mode = "live: the manager is reloaded and units started" if plan.live else "offline: files only"
    out = [f"Plan for {', '.join(plan.units)}{where} ({plan.scope} scope; {mode}):"]
    changes = plan.changes
    if changes:  # a partial fix says so before its steps, not only at the end
        out += [f"  ! this plan does not make it start: {outlook(o)}" for o in plan.outlook if not o.ok]
    if not changes:
        out.append("  nothing to change")
    for n, a in enumerate(changes, 1):
        out.append(f"  {n}. [{a.risk.value}] {_title(a, root)}")
        if not isinstance(a, Advice):
            out.append(f"       why: {reason(a.reason)}")
        if isinstance(a, EnableUnit) and a.dirs:
            out.append(f"       creates: {', '.join(root.display(d) for d in a.dirs)}")
        out.append(f"       effect: {effect(a)}")
    if plan.advice:
        out.append("Not done by unitdoctor (advice):")
        for a in plan.advice:
            out.append(f"  - {a.unit}: {advice(a)}")
    out.append("Expected afterwards:")
    for o in plan.outlook:
        out.append(f"  {'✓' if o.ok else '✗'} {outlook(o)}")
    for note in plan_notes(plan):
        out.append(f"Note: {note}")
    return out


def outcome_lines(o: Outcome, *, hint: str = "") -> list[str]:
    """What happened: systemctl-like lines per step, the journal entry, and ``why`` afterwards."""
    out = list(o.messages)
    if o.status is REFUSED:
        out.append("Refused: nothing was changed.")
    elif o.status is ROLLED_BACK:
        out.append("A step failed, so every change of this fix was rolled back: nothing is left half-done.")
    elif o.status is ROLLING_BACK:
        out.append("A step failed and its rollback could not finish (see above): `fix --recover` completes it "
                   "once the filesystem takes changes again; until then other fixes wait for it.")
    elif o.status is CONFLICT:
        out.append("Could not restore everything (see above): those paths were changed by someone else.")
    if o.entry and o.status not in (REFUSED, NOTHING):
        out.append(f"Journal entry: {o.entry} ({o.status.value})" + (f"; {hint}" if hint else ""))
    if o.after and o.command == "undo":
        out.append("After undo (the state before the fix):")
    for r in o.after:
        mine = _failed_starts(o, r)
        out.extend(after_lines(r, failed_start=mine[0] if mine else None))
    return out


def _started_for(started: str, unit: str, units: int) -> bool:
    """Whether a start of ``started`` was the fix's start of ``unit``: the unit itself, its trigger of the same
    name (foo.socket for foo.service), or the only unit of the fix."""
    return started == unit or started.rsplit(".", 1)[0] == unit.rsplit(".", 1)[0] or units == 1


def undo_preview_lines(o: Outcome, root: Root) -> list[str]:
    """``undo``'s plan (before asking, and all of ``undo --dry-run``): what it would restore, or why not."""
    if o.status is not PLANNED:
        return outcome_lines(o)
    out = [f"Undo of {o.entry} would do:"]
    out += [f"  {m}" for m in o.messages]
    out += [f"  {s.message}" for s in o.steps if s.message]
    return out


def after_lines(r: Report, failed_start: Optional[str] = None) -> list[str]:
    """``why`` after a fix; ``failed_start`` is the live start that failed for the unit: the manager has the last
    word, so the unit files being in order is then never reported as "can start"."""
    if r.ok and failed_start:
        user = r.scope == "user"
        return [f"✗ {r.unit} did not start: {failed_start}. Its unit files are in order now; what failed is the "
                f"unit itself: systemctl {'--user ' if user else ''}status {r.unit}; "
                f"journalctl {'--user-unit' if user else '-u'} {r.unit}"]
    if r.ok:
        return [f"✓ {r.unit} can start now (unit file state: {r.state.state.value})."]
    b = r.start.blocker
    out = [f"✗ {r.unit} still has problems" + (f": {b.message}" if b else "")]
    for f in r.findings:
        if f.severity.value == "error":
            out.append(f"    [{f.id}] {f.summary}")
    return out


def history_lines(items: Sequence[HistoryItem], journal: str) -> list[str]:
    if not items:
        return [f"No fixes recorded in {journal}."]
    out = []
    for h in items:
        e = h.entry
        status = "interrupted" if h.interrupted else e.status.value
        extra = f" (undoes {e.undoes})" if e.undoes else (f" (undone by {e.undone_by})" if e.undone_by else "")
        out.append(f"{e.id}  {e.created[:19].replace('T', ' ')}  {e.command:<4}  {status:<11}  "
                   f"{' '.join(e.units)}{extra}")
        for c in h.changes:
            out.append(f"    {c}")
    return out


# -- JSON ---------------------------------------------------------------------------------------------


def action_json(a: Action, root: Root) -> dict[str, Any]:
    """The action's record (``plan.action_record``) with paths as the user gave the root, and its effect
    in words."""
    rec = action_record(a)
    d: dict[str, Any] = {"action": rec.pop("action"), "risk": rec.pop("risk"), "effect": effect(a), **rec}
    if not isinstance(a, Advice):  # the reason in words beside ``why``, the same as data
        d["reason"] = reason(a.reason)
    else:  # the advice in words (beside ``mask``, the same as data)
        d["text"] = advice(a)
        if a.mask is not None:
            for k in ("path", "real", "override"):
                if d["mask"].get(k):
                    d["mask"][k] = root.display(d["mask"][k])
    for k in ("path", "then", "hides"):
        if d.get(k):
            d[k] = root.display(d[k])
    if "dirs" in d:
        d["dirs"] = [root.display(x) for x in d["dirs"]]
        d["links"] = [{"path": root.display(lk["path"]), "target": lk["target"]} for lk in d["links"]]
    return d


def plan_json(plan: Plan, root: Root) -> dict[str, Any]:
    return {
        "units": list(plan.units),
        "scope": plan.scope,
        "root": plan.root,
        "live": plan.live,
        "runtime_only": plan.runtime_only,
        "actions": [action_json(a, root) for a in plan.actions],
        "outlook": [{"unit": o.unit, "ok": o.ok, "summary": outlook(o), "started_via": ", ".join(o.via) or None}
                    for o in plan.outlook],
        "notes": plan_notes(plan),
    }


def step_json(s: Step, root: Root) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": s.kind.value, "state": s.state.value, "message": s.message}
    if s.path is not None:
        d["path"] = root.display(s.path)
        d["before"] = s.before.to_json() if s.before else None
        d["after"] = s.after.to_json() if s.after else None
    if s.unit is not None:
        d["unit"] = s.unit
    if s.result is not None:
        d["result"] = s.result
    if s.kind in (StepKind.ENABLE, StepKind.DISABLE):
        d["created"] = [{"path": p, "target": st.target} for p, st in s.created]
    return d


def after_json(r: Report, failed_start: bool = False) -> dict[str, Any]:
    return {
        "unit": r.unit,
        "ok": r.ok and not failed_start,
        "load_state": r.loaded.load_state.value,
        "unit_file_state": r.state.state.value,
        "findings": [{"id": f.id, "severity": f.severity.value, "summary": f.summary} for f in r.findings],
    }


def outcome_json(o: Outcome, root: Root) -> dict[str, Any]:
    return {
        "command": o.command,
        "status": o.status.value,
        "entry": o.entry,
        "undoes": o.undoes,
        "ok": o.ok,
        "messages": list(o.messages),
        "steps": [step_json(s, root) for s in o.steps],
        "interrupted": list(o.interrupted),
        "after": [after_json(r, failed_start=bool(_failed_starts(o, r))) for r in o.after],
    }


def _failed_starts(o: Outcome, r: Report) -> list[str]:
    """Messages of the fix's live starts of ``r``'s unit that failed (the manager's word beats the files')."""
    if o.command != "fix":
        return []
    return [s.message for s in o.steps if s.kind is StepKind.START and s.state is StepState.FAILED
            and _started_for(s.unit or "", r.unit, len(o.after))]


def document(command: str, root: Root, *, plan: Optional[Plan] = None, dry_run: bool = False,
             outcomes: Sequence[Outcome] = (), ok: bool, notes: Sequence[str] = ()) -> dict[str, Any]:
    """The ``--json`` document of ``fix``, ``fix --recover`` and ``undo`` (schema/fix.schema.json)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "dry_run": dry_run,
        "plan": plan_json(plan, root) if plan is not None else None,
        "outcomes": [outcome_json(o, root) for o in outcomes],
        "ok": ok,
        "notes": list(notes),
    }


def history_json(items: Sequence[HistoryItem], journal: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "journal": journal,
        "entries": [
            {
                "id": h.entry.id,
                "seq": h.entry.seq,
                "created": h.entry.created,
                "updated": h.entry.updated,
                "command": h.entry.command,
                "scope": h.entry.scope,
                "root": h.entry.root,
                "live": h.entry.live,
                "units": list(h.entry.units),
                "status": h.entry.status.value,
                "interrupted": h.interrupted,
                "undoes": h.entry.undoes,
                "undone_by": h.entry.undone_by,
                "changes": list(h.changes),
            }
            for h in items
        ],
    }
