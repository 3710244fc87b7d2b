"""How a unit is meant to be started: by a socket, timer or path unit, or as a dependency (static)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ..findings import Evidence, Finding, Severity
from ..install import UnitFileState
from ..manager import Dep, LoadState

if TYPE_CHECKING:
    from . import Context


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    flag = ctx.scope_flag
    if u.type == "service" and u.load_state is LoadState.LOADED:
        trig = ctx.manager.triggered_by(u.name)
        for unit, how in trig:
            yield Finding("activated-by", Severity.INFO, u.name,
                          f"{u.name} is meant to be started by {unit}: enable and start the {unit.rsplit('.', 1)[1]} "
                          "instead of the service", (Evidence("trigger", unit, how),),
                          (f"systemctl {flag}enable {'--now ' if ctx.live else ''}{unit}",))
        if ctx.state.state is UnitFileState.STATIC and not trig:
            yield Finding("static", Severity.INFO, u.name,
                          f"{u.name} is static: it has no [Install] section, so it cannot be enabled; it is "
                          "started as a dependency of another unit or by hand", ())
    elif ctx.state.state is UnitFileState.STATIC and u.load_state is LoadState.LOADED:
        yield Finding("static", Severity.INFO, u.name,
                      f"{u.name} is static: it has no [Install] section, so it cannot be enabled", ())
    if u.type in ("socket", "timer", "path") and u.load_state is LoadState.LOADED:
        for d in u.dependencies:
            if d.kind is not Dep.TRIGGERS:
                continue
            t = ctx.manager.load(d.target)
            if t.load_state is not LoadState.LOADED:
                yield Finding("trigger-target-broken", Severity.ERROR, u.name,
                              f"{u.name} activates {t.id}, which is {t.load_state.value}: starting {u.name} fails "
                              "(\"Job failed\")", (Evidence("trigger", str(d.origin), f"{u.name} → {t.id}"),))
