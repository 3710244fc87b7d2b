"""The service's processes: a missing executable, working directory, environment file, root directory, user
or group, and what that does to ``systemctl start`` for the unit's Type=."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ..execute import service_type
from ..findings import Evidence, Finding, Severity
from ..manager import LoadState

if TYPE_CHECKING:
    from . import Context

_FIX = {
    "exec": "install the package that ships the command, or fix the line",
    "working-directory": "create the directory, or fix the line (a leading '-' ignores a missing directory)",
    "environment-file": "create the file, or fix the line (a leading '-' ignores a missing file)",
    "root-directory": "create the directory tree, or fix the line",
    "user": "create the user (useradd, or a sysusers.d entry), or fix the line",
    "group": "create the group (groupadd, or a sysusers.d entry), or fix the line",
}


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    if u.load_state is not LoadState.LOADED or u.type != "service":
        return
    stype = service_type(u)
    gate = _gate(ctx)
    if gate == "skipped":
        return  # a condition skips the unit before any process is spawned
    for p in ctx.manager.exec_checker().problems(u):
        if gate == "undecidable" and p.certain and p.effect in ("job-fails", "unit-fails"):
            yield Finding("exec-failed", Severity.WARNING, u.name,
                          f"if its conditions let it run, {u.id} fails: {p.detail}",
                          (Evidence("setting", ctx.where(p.origin), f"{p.setting}: {p.detail}"),),
                          (f"{_FIX.get(p.what, 'fix the line')} at {ctx.where(p.origin)}",))
            continue
        ev = (Evidence("setting", ctx.where(p.origin), f"{p.setting}: {p.detail}"),)
        fix = (f"{_FIX.get(p.what, 'fix the line')} at {ctx.where(p.origin)}",)
        if not p.certain:
            yield Finding("exec-undecidable", Severity.INFO, u.name,
                          f"whether {u.id}'s processes can run cannot be decided from the files: {p.detail}", ev)
        elif p.effect == "job-fails":
            yield Finding("exec-failed", Severity.ERROR, u.name,
                          f"starting {u.id} fails (Type={stype}): {p.detail} (the unit's result: {p.result}"
                          + (f", status {p.status}" if p.status else "") + ")", ev, fix)
        elif p.effect == "unit-fails":
            yield Finding("exec-failed", Severity.ERROR, u.name,
                          f"{u.id} fails right after it starts: {p.detail} (status {p.status}). Its Type={stype} "
                          "start job completes when the process is forked, so systemctl start returns 0.", ev, fix)
        elif p.effect == "ignored":
            yield Finding("exec-ignored", Severity.WARNING, u.name,
                          f"{p.setting.split('=', 1)[0]}= of {u.id} fails ({p.detail}); its '-' prefix makes "
                          "systemd ignore that", ev, fix)
        elif p.effect == "skipped":
            yield Finding("condition-failed", Severity.WARNING, u.name,
                          f"{u.id} is skipped when started: its ExecCondition= command fails ({p.detail})", ev, fix)
        else:
            yield Finding("exec-later", Severity.WARNING, u.name,
                          f"{p.setting.split('=', 1)[0]}= of {u.id} will fail when it runs: {p.detail}", ev, fix)


def _gate(ctx: Context) -> str:
    """Whether the unit's conditions and asserts let a start reach its processes: ``skipped`` (a
    condition or assert fails, certainly), ``undecidable``, or ``runs``."""
    from ..condition import test_list

    env = ctx.manager.condition_environment()
    verdicts = [test_list(items, env).ok for items in (ctx.unit.conditions, ctx.unit.asserts) if items]
    if False in verdicts:
        return "skipped"
    return "undecidable" if None in verdicts else "runs"
