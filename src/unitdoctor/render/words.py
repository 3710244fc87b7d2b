"""Engine records in words: the sentences systemctl prints for the same facts, in one place for every renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..report import EnableProblem, EnableRefusal

if TYPE_CHECKING:
    from ..plan import Action, Outlook, Plan, Reason


def enable_message(p: Optional[EnableProblem]) -> Optional[str]:
    """``systemctl enable``'s refusal for ``p`` (install_changes_dump wording, fact sheet §2.7, §8), or None."""
    if p is None:
        return None
    shown = p.path or p.name
    if p.refusal is EnableRefusal.MASKED:
        return f"Failed to enable unit, unit {shown} is masked."
    if p.refusal is EnableRefusal.GENERATED_OR_TRANSIENT:
        return f"Failed to enable unit, unit {shown} is transient or generated."
    if p.refusal is EnableRefusal.NOT_FOUND:
        return f"Failed to enable unit, unit {p.name} does not exist."
    if p.refusal is EnableRefusal.LINKED:
        return f"Failed to enable unit, refusing to operate on linked unit file {p.name}."
    if p.refusal is EnableRefusal.BAD:
        return f'Failed to enable unit, file "{p.name}": {p.message}'
    return ("The unit files have no installation config (WantedBy=, RequiredBy=, Also=, Alias= settings in the "
            "[Install] section, and DefaultInstance= for template units).")


# -- fix plans ----------------------------------------------------------------------------------------


def mask_object(kind: str, link_target: Optional[str]) -> str:
    """What a mask is: ``symlink to /dev/null`` or ``empty file``."""
    return f"symlink to {link_target}" if kind == "symlink" else "empty file"


def effect(a: Action) -> str:
    """What action ``a`` changes, in one sentence (paths root-relative, as the plan holds them)."""
    from ..plan import Advice, DaemonReload, DropMaskedDropIn, EnableUnit, RemoveMask, StartUnit

    if isinstance(a, RemoveMask):
        scope = "until reboot (runtime layer)" if a.runtime else "persistently"
        after = f"{a.then} takes effect" if a.then else "no other file carries the name"
        every = f"; this unmasks every instance of {a.unit} without its own mask" if a.every_instance else ""
        return (f"delete {a.path} ({mask_object(a.kind, a.link_target)}, {a.layer}): {a.unit} is unmasked {scope}; "
                f"{after}{every}")
    if isinstance(a, DropMaskedDropIn):
        return f"delete {a.path} ({mask_object(a.kind, a.link_target)}, {a.layer}): {a.hides} applies to {a.unit} again"
    if isinstance(a, EnableUnit):
        made = "; ".join(f"{lk.path} → {lk.target}" for lk in a.links)
        return f"create {made}: {a.name} is pulled in {'until reboot' if a.runtime else 'at every boot'}"
    if isinstance(a, DaemonReload):
        return "the manager re-reads all unit files, including other pending edits"
    if isinstance(a, StartUnit):
        return f"start {a.name} now (and the units it pulls in)"
    assert isinstance(a, Advice)
    return "none: unitdoctor does not do this"


def reason(r: Reason) -> str:
    """Why an action is in the plan, in one phrase (the ``why:`` line of ``fix``)."""
    from ..plan import Because

    b = r.because
    if b is Because.MASKED:
        return f"{r.unit} is masked"
    if b is Because.NEEDED:
        via = " → ".join([r.unit or ""] + [f"{u} ({dep}=)" for dep, u in r.chain])
        return f"{r.unit} needs {r.other}: {via}"
    if b is Because.HIDES:
        return f"it hides {r.other}; without it {r.unit} " + (f"loads ({r.loads})" if r.loads else "can start")
    if b is Because.TRIGGER:
        kind = (r.other or "").rsplit(".", 1)[-1]
        return f"{r.other} starts {r.unit}: enable the {kind} instead of the service"
    if b is Because.ASKED:
        return f"enabling {r.unit} was asked for"
    if b is Because.RELOAD:
        return "the manager still holds the old unit files"
    return f"start {r.unit}" + (f" through {r.other}" if r.other else "")


def outlook(o: Outlook) -> str:
    """What a plan is expected to leave of one unit: it can start (through its triggers), or what still stops it."""
    if o.ok:
        return f"{o.unit} can start" + (f" (through {', '.join(o.via)})" if o.via else "")
    if o.blocker is not None:
        return f"{o.unit} will still not start: {o.blocker.message}"
    return f"{o.unit} will still have problems"


def plan_notes(plan: Plan) -> list[str]:
    """What a reader of the plan must know beyond its actions."""
    if plan.live:
        return []
    return ["offline: no manager runs these unit files, so nothing is reloaded or started; "
            "the change takes effect when that system boots"]
