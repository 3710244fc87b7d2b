"""Conditions and asserts: a unit skipped by a condition, stopped by an assert, or that the files cannot decide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .. import condition
from ..findings import Evidence, Finding, Severity
from ..manager import LoadState

if TYPE_CHECKING:
    from . import Context


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    if u.load_state is not LoadState.LOADED or not (u.conditions or u.asserts):
        return
    env = ctx.manager.condition_environment()
    for kind, items in (("Condition", u.conditions), ("Assert", u.asserts)):
        if not items:
            continue
        v = condition.test_list(items, env)
        ev = tuple(Evidence("condition", ctx.where(c.condition.origin), f"{c.condition.setting}: {_word(c)}; {c.why}")
                   for c in v.checked)
        if v.ok is False:
            names = ", ".join(c.condition.setting for c in v.culprits)
            if kind == "Condition":
                yield Finding("condition-failed", Severity.WARNING, u.name,
                              f"{u.id} is skipped when started: {names} is not met. systemctl start still "
                              "returns 0 and units that require it still start.", ev,
                              fixes(ctx, u.id, v.culprits))
            elif all(c.condition.parameter == condition.INITRD_RELEASE for c in v.culprits):
                yield Finding("initrd-only", Severity.INFO, u.name,
                              f"{u.id} runs only in the initrd: starting it here fails ({names} does not hold, "
                              f"\"Assertion failed on job for {u.id}.\")", ev)
            else:
                yield Finding("assert-failed", Severity.ERROR, u.name,
                              f"starting {u.id} fails: {names} does not hold (\"Assertion failed on job for "
                              f"{u.id}.\"); units that require it fail too.", ev,
                              fixes(ctx, u.id, v.culprits))
        elif v.ok is None:
            names = ", ".join(c.condition.setting for c in v.culprits)
            yield Finding(f"{kind.lower()}-undecidable", Severity.INFO, u.name,
                          f"whether {u.id} runs depends on {names}, which the files cannot decide", ev)


def fixes(ctx: Context, unit: str, culprits: tuple[condition.Checked, ...]) -> tuple[str, ...]:
    """The edit that lets ``unit`` run although ``culprits`` do not hold: delete the line (``edit FILE:LINE``),
    or for a packaged file a drop-in whose empty ``Condition…=`` (``Assert…=``) resets the list (an upgrade
    keeps a drop-in). Making the condition hold is the other way, and the evidence says what it checked."""
    from .execute import packaged

    first = culprits[0].condition
    where = ctx.where(first.origin)
    lines = ", ".join(f"'{c.condition.setting}'" for c in culprits)
    if packaged(ctx, first.origin):
        kind = "conditions" if first.kind == "Condition" else "asserts"
        return (f"systemctl {ctx.scope_flag}edit {unit}  # in [Unit]: '{first.kind}{first.type}=' (empty: drops "
                f"all its {kind}, the one at {where} too), then the {kind} to keep",)
    return (f"edit {where}: delete {lines} if {unit} should run without it",)


def _word(c: condition.Checked) -> str:
    return {True: "holds", False: "fails", None: "undecidable"}[c.result]
