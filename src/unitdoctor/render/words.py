"""Engine records in words: the sentences systemctl prints for the same facts, in one place for every renderer."""

from __future__ import annotations

from typing import Optional

from ..report import EnableProblem, EnableRefusal


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
