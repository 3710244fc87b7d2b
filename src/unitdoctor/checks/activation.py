"""How a unit is meant to be started: by a socket, timer or path unit, or as a dependency (static).

Trigger advice (fact sheet §7) is given only where following it changes something and breaks nothing:

- the trigger is ``disabled`` (an enabled, static, indirect or generated trigger is already pulled in
  by what ships it; a masked one is a mask finding of its own);
- the service is not enabled itself: then nothing starts it at boot, and enabling the trigger is how
  it is meant to be started (``activated-by``);
- the service is enabled: it starts at boot without the trigger, and enabling both would start the
  daemon twice or make them fight over the listening socket (``ssh.socket`` and ``ssh.service`` both
  bind port 22; where the trigger ``Conflicts=`` the service the manager stops one for the other). The
  advice is then a *switch*: disable the service, enable the trigger (``trigger-switch``). It stays
  advice: ``fix`` never switches on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional

from .. import install
from ..findings import Evidence, Finding, Severity
from ..install import UnitFileState
from ..manager import Dep, LoadState, Manager

if TYPE_CHECKING:
    from . import Context

#: Unit-file states in which a unit is pulled in at boot by links an admin (or a preset) made.
ENABLED = (UnitFileState.ENABLED, UnitFileState.ENABLED_RUNTIME)


def conflict(mgr: Manager, a: str, b: str) -> Optional[Evidence]:
    """The ``Conflicts=`` line between ``a`` and ``b`` (either side declares it; it is symmetric), or None."""
    for x, y in ((a, b), (b, a)):
        ux = mgr.load(x)
        yid = mgr.load(y).id
        for d in ux.dependencies:
            if d.kind is Dep.CONFLICTS and mgr.load(d.target).id == yid:
                return Evidence("conflict", str(d.origin), f"{x} Conflicts= {y}")
    return None


def trigger_advice(mgr: Manager, service: str, trigger: str, service_state: UnitFileState) -> Optional[str]:
    """``"enable"``, ``"switch"`` or None: the advice ``trigger`` deserves for ``service`` (module docstring)."""
    if install.lookup_state(mgr.cat, trigger).state is not UnitFileState.DISABLED:
        return None
    if service_state in ENABLED:
        return "switch"
    if conflict(mgr, trigger, service) is not None:
        return None  # the manager would stop one for the other; nothing to enable beside it
    return "enable"


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    flag = ctx.scope_flag
    now = "--now " if ctx.live else ""
    if u.type == "service" and u.load_state is LoadState.LOADED:
        trig = ctx.manager.triggered_by(u.name)
        # An alias's own state is "alias": whether the service is enabled is its unit's state.
        own = ctx.state.state if u.id == u.name else install.lookup_state(ctx.catalog, u.id).state
        for unit, how in trig:
            kind = unit.rsplit(".", 1)[1]
            advice = trigger_advice(ctx.manager, u.name, unit, own)
            ev = [Evidence("trigger", ctx.where_unit(unit), how)]
            if advice == "enable":
                yield Finding("activated-by", Severity.INFO, u.name,
                              f"{u.name} is meant to be started by {unit}, which is disabled: enable the {kind}",
                              tuple(ev), (f"systemctl {flag}enable {now}{unit}",))
            elif advice == "switch":
                c = conflict(ctx.manager, unit, u.name)
                if c is not None:
                    ev.append(c)
                yield Finding("trigger-switch", Severity.INFO, u.name,
                              f"{u.name} is enabled and starts at boot by itself; {unit} (disabled) can start it "
                              f"on demand instead: to switch, disable the service and enable the {kind}",
                              tuple(ev), (f"systemctl {flag}disable {now}{u.name}",
                                          f"systemctl {flag}enable {now}{unit}"))
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
            if t.load_state is not LoadState.LOADED and not any(b.unit == t.id for b in ctx.start.blockers):
                # (a blocker is reported by the dependency check: one finding per cause)
                yield Finding("trigger-target-broken", Severity.ERROR, u.name,
                              f"{u.name} activates {t.id}, which is {t.load_state.value}: starting {u.name} fails "
                              "(\"Job failed\")", (Evidence("trigger", ctx.where(d.origin), f"{u.name} → {t.id}"),))
