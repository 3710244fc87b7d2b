"""Broken dependencies: every unit in the start closure that makes the job fail, with the chain to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .. import install, names
from ..findings import Evidence, Finding, Severity
from ..transaction import Blocker, Edge
from .mask import mask_finding
from .unitfile import setting_problems

if TYPE_CHECKING:
    from . import Context


def chain_evidence(ctx: Context, b: Blocker) -> tuple[Evidence, ...]:
    """One evidence line per edge of the chain, with the file and line that declares it."""
    return tuple(_edge_evidence(ctx, e) for e in b.chain)


def _evidence(ctx: Context, same: list[Blocker]) -> tuple[Evidence, ...]:
    """The lines of every chain of ``same``, each once, in time linear in the edges: the chains of one walk
    share their edges (a unit's edges are made once), so an edge already seen is skipped by identity."""
    seen: set[int] = set()
    out: dict[Evidence, None] = {}
    for x in same:
        for e in x.chain:
            if id(e) not in seen:
                seen.add(id(e))
                out.setdefault(_edge_evidence(ctx, e), None)
    return tuple(out)


def _edge_evidence(ctx: Context, e: Edge) -> Evidence:
    return Evidence("dependency", ctx.where(e.origin), f"{e.source} {e.dependency}= {e.target}")


def alias_providers(ctx: Context, name: str) -> list[str]:
    """Units of ``name``'s type whose ``[Install] Alias=`` names it: enabling one creates ``name``."""
    suffix = "." + name.rsplit(".", 1)[-1]
    out = []
    for n in sorted(ctx.catalog.names()):
        if not n.endswith(suffix) or n == name or not names.is_valid(n) \
                or names.kind_of(n) is names.NameKind.TEMPLATE:
            continue
        info = install.lookup_state(ctx.catalog, n).info
        if info is not None and name in info.aliases and n not in out:
            out.append(n)
    return out


def trigger_fixes(ctx: Context, b: Blocker) -> tuple[str, ...]:
    """Commands that give a trigger the unit it activates (``b`` is a ``trigger-*`` blocker)."""
    flag = ctx.scope_flag
    if b.reason == "trigger-masked":
        return next((f.fix for f in mask_finding(ctx, b.unit, as_dependency=True)), ())
    if b.reason == "trigger-not-found":
        prov = alias_providers(ctx, b.unit)
        if prov:
            return tuple(f"systemctl {flag}enable {p}  # its [Install] Alias={b.unit} creates the name"
                         for p in prov)
        fix = f"install the package that ships {b.unit} (or a unit with Alias={b.unit} in its [Install] section)"
        if ctx.state.state in (install.UnitFileState.ENABLED, install.UnitFileState.ENABLED_RUNTIME):
            return (fix, f"systemctl {flag}disable {ctx.unit.name}  # if nothing should be activated by it")
        return (fix,)
    return (f"systemd-analyze {flag}verify {b.unit}  # shows the error in {b.unit}'s unit file",)


def _run_fixes(ctx: Context, b: Blocker) -> tuple[str, ...]:
    """The fixes ``b.unit``'s own finding gives for what fails its start job (a condition, an assert, a process)."""
    from .. import condition
    from . import condition as condition_check
    from . import execute

    u = ctx.manager.load(b.unit)
    for p in ctx.manager.exec_checker().problems(u):
        if p.origin == b.origin and p.effect not in ("none", "ignored"):
            return execute.fixes(ctx, u.id, p)
    env = ctx.manager.condition_environment()
    for items in (u.conditions, u.asserts):
        v = condition.test_list(items, env) if items else None
        if v is not None and v.ok is False and v.culprits[0].condition.origin == b.origin:
            return condition_check.fixes(ctx, u.id, v.culprits)
    return (f"unitdoctor {ctx.scope_flag}why {b.unit}",)


def check(ctx: Context) -> Iterator[Finding]:
    # One finding per cause: a unit reached through several chains (Requires= and BindsTo=, or through two
    # units) is one finding whose evidence holds every chain.
    causes: dict[tuple[str, str], list[Blocker]] = {}
    for b in ctx.start.blockers:
        if b.chain:  # without one it is the unit itself: reported by the mask and unit-file checks
            causes.setdefault((b.reason, b.unit), []).append(b)
    for same in causes.values():
        b = same[0]
        ev = _evidence(ctx, same)
        if b.reason == "masked":
            for f in mask_finding(ctx, b.unit, as_dependency=True):
                yield type(f)(f.id, Severity.ERROR, ctx.unit.name,
                              f"{ctx.unit.name} cannot start: it needs {b.unit}, which is masked. {f.summary}",
                              ev + f.evidence, f.fix, f.origin)
                break
            else:
                yield Finding("dependency-masked", Severity.ERROR, ctx.unit.name,
                              f"{ctx.unit.name} cannot start: it needs {b.unit}, which is masked", ev)
        elif b.reason == "not-found":
            last = b.chain[-1]
            lines = dict.fromkeys(chain_evidence(ctx, x)[-1].source for x in same
                                  if x.chain[-1].origin.path.startswith("/"))
            if lines:
                fix = f"install the package that ships {b.unit}, or remove the dependency at {' and '.join(lines)}"
            else:
                # Implicit or default dependency (DefaultDependencies=, Slice=): nothing to remove.
                fix = (f"install the package that ships {b.unit}; {last.source} gets this dependency from "
                       f"systemd itself {last.origin.path}")
            yield Finding("dependency-missing", Severity.ERROR, ctx.unit.name,
                          f"{ctx.unit.name} cannot start: it needs {b.unit}, which does not exist", ev,
                          (fix,))
        elif b.reason in ("bad-setting", "load-error"):
            extra, fixes = setting_problems(ctx, ctx.manager.load(b.unit))
            yield Finding(f"dependency-{b.reason}", Severity.ERROR, ctx.unit.name,
                          f"{ctx.unit.name} cannot start: it needs {b.unit}, which fails to load ({b.message})",
                          ev + extra, fixes)
        elif b.reason == "dependency":
            yield Finding("requisite-inactive", Severity.WARNING, ctx.unit.name,
                          f"{ctx.unit.name} has Requisite= on {b.unit}: starting it fails unless {b.unit} is "
                          "already active", ev, (f"systemctl {ctx.scope_flag}start {b.unit}",))
        elif b.reason == "conflict":
            yield Finding("conflicting-jobs", Severity.ERROR, ctx.unit.name, b.message, ev)
        elif b.reason == "ordering-cycle":
            yield Finding("ordering-cycle", Severity.ERROR, ctx.unit.name,
                          f"{ctx.unit.name} cannot start: its dependencies are ordered in a cycle that systemd "
                          "cannot break", ev)
        elif b.reason in ("assert-failed", "exec-failed", "condition-failed"):
            what = {"assert-failed": "an assert of it fails", "exec-failed": "its start job fails",
                    "condition-failed": "it is skipped by a condition and is bound to with BindsTo= and After="}
            src = [Evidence("setting", ctx.where(b.origin), b.detail)] if b.origin is not None else []
            initrd = "/etc/initrd-release" in b.detail  # a unit of the initrd, never started outside it
            sev = Severity.INFO if initrd else Severity.ERROR if b.certain else Severity.WARNING
            yield Finding("dependency-fails", sev, ctx.unit.name,
                          f"{ctx.unit.name} cannot start: it needs {b.unit}, and {what[b.reason]}: {b.detail}",
                          ev + tuple(src), () if initrd else _run_fixes(ctx, b))
        elif b.reason.startswith("trigger-"):
            summary = (f"{ctx.unit.name} cannot start: the unit it activates, {b.unit}, is "
                       f"{b.reason[len('trigger-'):]}")
            if b.reason == "trigger-masked":  # who masked it, where, and the command that removes it
                mask = next(iter(mask_finding(ctx, b.unit, as_dependency=True)), None)
                if mask is not None:
                    summary, ev = f"{summary}. {mask.summary}", ev + mask.evidence
            yield Finding("trigger-not-loaded", Severity.ERROR, ctx.unit.name, summary, ev, trigger_fixes(ctx, b))
