"""The service's processes: a missing executable, working directory, environment file, root directory, user
or group, and what that does to ``systemctl start`` for the unit's Type=."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterator

from ..execute import ExecProblem
from ..findings import Evidence, Finding, Severity
from ..manager import LoadState, Manager

if TYPE_CHECKING:
    from ..origin import Origin
    from . import Context

def fixes(ctx: Context, unit: str, p: ExecProblem) -> tuple[str, ...]:
    """What to run or to change for ``p``: a command that creates what is missing, or the line to edit.

    Every fix names the file and line (``edit FILE:LINE: …``); a line in a packaged file (/usr, /lib) is
    changed through a drop-in (``systemctl edit``), which an upgrade keeps.
    """
    where = ctx.where(p.origin)
    key, _, value = p.setting.partition("=")
    shown = ctx.catalog.root.display(p.subject) if p.subject.startswith("/") else p.subject
    if p.what == "exec":
        change = f"edit {where}: make '{p.setting}' run a command that exists"
        if packaged(ctx, p.origin):  # a drop-in outlives upgrades: an empty Exec*= drops the packaged lines
            change = (f"systemctl {ctx.scope_flag}edit {unit}  # [Service]: '{key}=' (empty), then the {key}= "
                      f"lines to run instead of {where}")
        return (f"install the package that ships {p.subject or 'the command'}", change)
    if p.what in ("working-directory", "root-directory"):
        out = [f"mkdir -p {shown}"]
        if p.what == "working-directory":
            out.append(f"edit {where}: '{key}=-{value.lstrip('-')}' ignores a missing directory")
        return tuple(out)
    if p.what == "environment-file":
        return (f"touch {shown}  # or write the variables {unit} needs into it",
                f"edit {where}: '{key}=-{value.lstrip('-')}' ignores a missing file")
    if p.what in ("user", "group"):
        tool = "useradd --system" if p.what == "user" else "groupadd --system"
        root = "" if ctx.catalog.root.is_host else f"--root {ctx.catalog.root.arg} "
        return (f"{tool} {root}{p.subject}", f"edit {where}: set '{key}=' to a {p.what} that exists")
    return (f"edit {where}: change '{p.setting}'",)


def packaged(ctx: Context, origin: Origin) -> bool:
    """Whether the line is in a file a package or generator provides (/usr, /lib, /run/systemd/generator*)."""
    lookup = ctx.catalog.lookup
    d = posixpath.dirname(origin.path)
    return origin.path.startswith("/") and (lookup.is_vendor(d) or lookup.is_vendor(posixpath.dirname(d))
                                            or d.startswith("/lib/"))


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    if u.load_state is not LoadState.LOADED or u.type != "service":
        return
    stype = Manager.service_type(u)
    gate = _gate(ctx)
    if gate == "skipped":
        return  # a condition skips the unit before any process is spawned
    for p in ctx.manager.exec_checker().problems(u):
        if gate == "undecidable" and p.certain and p.effect in ("job-fails", "unit-fails"):
            yield Finding("exec-failed", Severity.WARNING, u.name,
                          f"if its conditions let it run, {u.id} fails: {p.detail}",
                          (Evidence("setting", ctx.where(p.origin), f"{p.setting}: {p.detail}"),),
                          fixes(ctx, u.id, p))
            continue
        ev = (Evidence("setting", ctx.where(p.origin), f"{p.setting}: {p.detail}"),)
        fix = fixes(ctx, u.id, p)
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
