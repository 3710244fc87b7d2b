"""Engine records in words: the sentences systemctl prints for the same facts, in one place for every renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..report import EnableProblem, EnableRefusal

if TYPE_CHECKING:
    from ..plan import Action, Advice, MaskAdvice, Outlook, Plan, Reason


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


def advice(a: Advice) -> str:
    """What a person can do that ``fix`` does not: the mask advice in words, or the advice's own text."""
    return mask_advice(a.mask) if a.mask is not None else a.text


def mask_advice(m: MaskAdvice) -> str:
    """What a person can do about a mask ``fix`` does not remove, by who manages it (fact sheet §2.6, §2.8)."""
    from ..checks.mask import MaskOwner
    from ..plan import KeptMask

    if m.refusal is MaskOwner.KERNEL_COMMAND_LINE:
        src = f" (found in {', '.join(m.found_in)})" if m.found_in else \
            " (see /etc/kernel/cmdline, GRUB_CMDLINE_LINUX in /etc/default/grub, or the boot entry)"
        return (f"remove systemd.mask={m.name} from the kernel command line{src}, then reboot: "
                f"systemd-debug-generator writes {m.path} → /dev/null at every boot and daemon-reload, so "
                "deleting that link would not last, and systemctl unmask refuses it")
    if m.refusal is MaskOwner.GENERATOR:
        return (f"{m.path} is written by a generator at every boot and daemon-reload; find it in "
                "/run/systemd/system-generators, /etc/systemd/system-generators, "
                "/usr/local/lib/systemd/system-generators or /lib/systemd/system-generators and change its input")
    if m.refusal is MaskOwner.VENDOR:
        copy = (f"copy the real unit file there (cp {m.real} {m.override}; a symlink to it would be a self-alias)"
                if m.real else "write the unit file you want there")
        return (f"{m.name} is masked by its vendor ({m.path}): the package masks it on purpose and systemctl unmask "
                f"skips it. unitdoctor never changes /usr. A unit file at {m.override} overrides the vendor mask: "
                f"{copy}, and reinstalling the package will not undo that override")
    if m.refusal is KeptMask.PERSISTENT:
        return (f"{m.path} masks {m.name} persistently ({m.layer}); --runtime-only keeps it, and a runtime layer "
                "cannot override it: run fix without --runtime-only")
    if m.refusal is KeptMask.SPECIAL_FILE:
        return f"{m.path} masks {m.name} but is a special file, not a link or empty file: inspect and remove it by hand"
    who = m.refusal.value if m.refusal is not None else "someone else"
    return f"{m.path} masks {m.name} in {m.layer}, which {who} manages ({m.role}); unitdoctor does not remove it"


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
