"""How a unit is meant to be started: by a socket, timer or path unit, or as a dependency (static)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .. import names
from ..findings import Evidence, Finding, Severity
from ..install import UnitFileState
from ..manager import Dep, LoadState

if TYPE_CHECKING:
    from . import Context


def triggered_by(ctx: Context, name: str) -> list[tuple[str, str]]:
    """(trigger unit, how) for every socket/timer/path unit that would start ``name``."""
    cat, mgr = ctx.catalog, ctx.manager
    out = []
    base = name.rsplit(".", 1)[0]
    cands = {f"{base}.{t}" for t in ("socket", "timer", "path")}
    if names.kind_of(name) is names.NameKind.TEMPLATE:
        cands.add(names.prefix_of(name) + ".socket")
    for n in cat.names():
        if n.endswith((".socket", ".timer", ".path")) and n not in cands and names.kind_of(n) is names.NameKind.PLAIN:
            e = cat.first(n)
            if e is not None and e.is_reg and 0 < e.size < 65536:
                try:
                    text = cat.root.read(e.path).decode("utf-8", "replace")
                except OSError:
                    continue
                if name in text:
                    cands.add(n)
    for c in sorted(cands):
        if not cat.entries(c):
            continue
        t = mgr.load(c)
        for d in t.dependencies:
            if d.kind is Dep.TRIGGERS and mgr.load(d.target).id == mgr.load(name).id:
                out.append((c, f"{c} triggers {name}"))
        if c.endswith(".socket") and names.kind_of(name) is names.NameKind.TEMPLATE:
            acc = t.last("Socket", "Accept")
            if acc and acc.value.lower() in ("yes", "true", "1", "on"):
                out.append((c, f"{c} (Accept=yes) starts an instance of {name} per connection"))
    return out


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    flag = ctx.scope_flag
    if u.type == "service" and u.load_state is LoadState.LOADED:
        trig = triggered_by(ctx, u.name)
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
