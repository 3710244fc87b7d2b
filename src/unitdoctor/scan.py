"""``scan``: the whole search path at once — every mask, every unit that cannot start, what the next boot does.

One pass: the catalog is scanned once, ``install.list_unit_files`` gives every unit file's state, one ``Manager``
loads each unit once, ``boot.predict_boot`` builds the boot transaction from it, and ``report.why`` (the same
checks as ``unitdoctor why``) explains only the units found broken. Nothing here reads the search path again.
"""

from __future__ import annotations

import posixpath
import time
from typing import Optional, Sequence

from . import install, names
from .boot import BootPrediction, Outcome, predict_boot
from .catalog import Catalog, hidden_or_backup
from .findings import Evidence, Finding, Severity
from .live import LiveUnit
from .lookup import Role
from .manager import NEEDS_FRAGMENT, LoadState, Manager
from .origin import Origin
from .records import dataclass, field
from .sources import EvidenceSources
from .transaction import PULL_IN_START, PULL_IN_VERIFY, Edge

SCHEMA_VERSION = 1

#: Where a mask lives, as scan groups them (systemctl's layers; fact sheet §1).
LAYERS = ("etc", "run", "vendor", "generator", "kernel-command-line", "transient", "control", "other")
_LAYER_OF_ROLE = {
    Role.PERSISTENT_CONFIG: "etc", Role.GLOBAL_CONFIG: "etc", Role.XDG_CONFIG: "etc",
    Role.RUNTIME_CONFIG: "run", Role.GLOBAL_RUNTIME: "run",
    Role.VENDOR: "vendor", Role.LOCAL: "vendor", Role.DATA_HOME: "vendor", Role.XDG_DATA: "vendor",
    Role.GENERATOR: "generator", Role.GENERATOR_LATE: "generator", Role.GENERATOR_EARLY: "generator",
    Role.TRANSIENT: "transient",
    Role.PERSISTENT_CONTROL: "control", Role.RUNTIME_CONTROL: "control",
}


@dataclass(frozen=True)
class Mask:
    """One masked unit: where the mask is, who made it (``why``'s provenance), and whether that is on purpose."""

    unit: str
    state: str  # masked | masked-runtime
    layer: str  # one of LAYERS
    path: str  # the mask as the user sees it (ROOT/…)
    origin: Optional[str]  # provenance: admin, vendor, package-removed, kernel-command-line, …
    intended: bool  # shipped masked by the distribution, and nothing enabled needs it
    needed_by: tuple[str, ...]  # units the boot starts that pull it in
    finding: Optional[Finding]


@dataclass(frozen=True)
class ScanResult:
    scope: str
    root: str
    boot: BootPrediction
    masks: tuple[Mask, ...]
    findings: tuple[Finding, ...]
    unit_files: int
    duration: float = 0.0
    live: bool = False  # the running manager was asked (failed units, NeedDaemonReload)
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Nothing is wrong: no error or warning (info, such as a mask the distribution ships, is fine)."""
        return not any(f.severity in (Severity.ERROR, Severity.WARNING) for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out


def scan(cat: Catalog, *, target: Optional[str] = None, live: Sequence[LiveUnit] = (),
         sources: Optional[EvidenceSources] = None, live_asked: bool = False,
         manager: Optional[Manager] = None) -> ScanResult:
    """Every problem in ``cat``'s search path, and the next boot's outcome for each unit it pulls in.

    ``live``: units the running manager holds (from ``bus.fetch_problem_units``); their failed state and
    NeedDaemonReload become findings.
    """
    t0 = time.monotonic()
    from .checks import Context
    from .checks import mask as mask_check
    from .transaction import predict_start

    mgr = manager or Manager(cat)
    src = sources or EvidenceSources.for_root(cat.root)
    states = install.list_unit_files(cat)
    boot = predict_boot(mgr, target, host=cat.root.is_host, states=states)
    findings: list[Finding] = []

    def mask_findings(r: install.StateResult) -> tuple[Finding, ...]:
        """``why``'s mask check for one masked unit (its provenance: origin and evidence), nothing else."""
        ctx = Context(mgr, mgr.load(r.name), r, predict_start(mgr, r.name), evidence_sources=src)
        return tuple(mask_check.check(ctx))

    # Masks, by layer, with why's provenance.
    needed = _needed_masked(boot)
    masks: list[Mask] = []
    mask_fix: dict[str, tuple[str, ...]] = {}
    for r in states:
        if r.state not in (install.UnitFileState.MASKED, install.UnitFileState.MASKED_RUNTIME):
            continue
        m = _mask(cat, r, mask_findings(r), needed.get(r.name, ()))
        masks.append(m)
        if m.finding is not None:
            mask_fix[r.name] = m.finding.fix
    for m in masks:
        if m.intended:
            findings.append(Finding("mask-intended", Severity.INFO, m.unit,
                                    f"{m.unit} is masked by the distribution on purpose ({m.path})",
                                    m.finding.evidence if m.finding else (), (), m.origin))
        elif m.finding is not None:
            sev = Severity.ERROR if m.needed_by else Severity.WARNING
            needs = f"; needed by {', '.join(m.needed_by)}" if m.needed_by else ""
            findings.append(Finding(m.finding.id, sev, m.unit, m.finding.summary + needs, m.finding.evidence,
                                    m.finding.fix, m.finding.origin))

    # The next boot.
    findings.extend(_boot_findings(boot))

    # Enabled units that cannot start (systemctl start), and unit files that cannot be enabled.
    can = _CanStart(mgr)
    for r in states:
        if r.state in (install.UnitFileState.ENABLED, install.UnitFileState.ENABLED_RUNTIME) \
                and names.kind_of(r.name) is not names.NameKind.TEMPLATE and not can(r.name):
            findings.append(_cannot_start(cat, mgr, r.name, can.blocker(r.name) or (), mask_fix))
        elif r.state is install.UnitFileState.BAD:
            findings.append(_bad_file(cat, r))

    findings.extend(_link_findings(cat, mgr, src))
    findings.extend(_orphan_dropins(cat))
    findings.extend(_package_findings(cat, src))
    findings.extend(_live_findings(cat, live))
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    findings = _unique(findings)
    findings.sort(key=lambda f: (order[f.severity], f.id, f.unit))
    masks.sort(key=lambda m: (LAYERS.index(m.layer), m.unit))
    return ScanResult(cat.lookup.scope.value, cat.root.display("/") if not cat.root.is_host else "/", boot,
                      tuple(masks), tuple(findings), len(states), time.monotonic() - t0, live_asked)


def _cannot_start(cat: Catalog, mgr: Manager, name: str, chain: tuple[Edge, ...],
                  mask_fix: dict[str, tuple[str, ...]]) -> Finding:
    """An enabled unit ``systemctl start`` would refuse: the unit that cannot be loaded, and the chain to it."""
    blocker = mgr.load(chain[-1].target if chain else name)
    msg = blocker.load_error.message if blocker.load_error else f"Unit {blocker.id} is not loaded properly."
    ev = tuple(Evidence("dependency", _where(cat, e.origin), f"{e.source} {e.dependency}= {e.target}")
               for e in chain)
    fixes = mask_fix.get(blocker.id, mask_fix.get(blocker.name, ())) + (f"unitdoctor {_flags(cat)}why {name}",)
    return Finding("enabled-cannot-start", Severity.ERROR, name,
                   f"{name} is enabled but cannot start: {msg}" + (f" (blocker {blocker.id})" if chain else ""),
                   ev, fixes)


def _where(cat: Catalog, origin: Origin) -> str:
    p = origin.path
    if p.startswith("/"):
        p = cat.root.display(p)
    return f"{p}:{origin.line}" if origin.line else p


def _flags(cat: Catalog) -> str:
    s = cat.lookup.scope.value
    return ("" if cat.root.is_host else f"--root={cat.root.given} ") + ("" if s == "system" else f"--{s} ")


def _unique(items: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in items:
        k = (f.id, f.unit, f.summary)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _needed_masked(boot: BootPrediction) -> dict[str, tuple[str, ...]]:
    """Masked units the boot reaches, and the units whose dependency reaches them."""
    out: dict[str, list[str]] = {}
    for u in boot.units:
        if u.reason == "masked" and u.chain:
            out.setdefault(u.unit, []).append(u.chain[-1].source)
    if boot.error is not None and boot.error.reason == "masked" and boot.error.chain:
        out.setdefault(boot.error.unit, []).append(boot.error.chain[-1].source)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def _mask(cat: Catalog, r: install.StateResult, found: tuple[Finding, ...], needed_by: tuple[str, ...]) -> Mask:
    path = r.path or ""
    d = cat.lookup.dir_of(path) if path else None
    layer = _LAYER_OF_ROLE.get(d.role, "other") if d is not None else "other"
    f = next((x for x in found if x.is_mask and x.severity is Severity.ERROR), None)
    # why decides "shipped masked on purpose" (checks.mask.distribution_mask: a package owns the vendor mask and
    # nothing enabled pulls the unit in): its info finding. The boot's own need is checked here too.
    info = next((x for x in found if x.id == "masked-intended"), None)
    origin = f.origin if f is not None else info.origin if info is not None else None
    if origin == "kernel-command-line":
        layer = "kernel-command-line"
    intended = info is not None and not needed_by
    return Mask(r.name, r.state.value, layer, cat.root.display(path) if path else "", origin, intended, needed_by, f)


def _boot_findings(boot: BootPrediction) -> list[Finding]:
    out: list[Finding] = []
    if not boot.applicable:
        return [Finding("no-boot-target", Severity.INFO, boot.requested,
                        f"neither {boot.requested} nor rescue.target exists here: no boot to predict")]
    if boot.fallback:
        out.append(Finding("boot-target-fallback", Severity.ERROR, boot.requested,
                           f"{boot.requested} cannot be loaded: the boot falls back to {boot.target}"))
    if boot.error is not None:
        out.append(Finding("boot-transaction-fails", Severity.ERROR, boot.target,
                           f"the boot fails: starting {boot.target} is refused ({boot.error.message}); "
                           f"blocker {boot.error.unit}",
                           tuple(Evidence("dependency", e.origin.path + (f":{e.origin.line}" if e.origin.line else ""),
                                          f"{e.source} {e.dependency}= {e.target}") for e in boot.error.chain)))
    for c in boot.cycles:
        if c.breakable:
            pick = c.candidates[0] if len(c.candidates) == 1 else "one of " + ", ".join(c.candidates)
            out.append(Finding("boot-ordering-cycle", Severity.ERROR, c.units[0],
                               f"ordering cycle {' → '.join(c.units)}: systemd deletes the start job of {pick}",
                               tuple(Evidence("ordering", e.origin.path + (f":{e.origin.line}" if e.origin.line
                                                                             else ""),
                                              f"{e.source} {e.dependency}= {e.target}") for e in c.edges)))
    for u in boot.units:
        if u.outcome in (Outcome.FAILED, Outcome.DEPENDENCY_FAILED):
            out.append(Finding(f"boot-{u.outcome.value}", Severity.ERROR, u.unit,
                               f"{u.unit} will fail at boot: {u.message}"
                               + (f" (blocker {u.blocker})" if u.blocker and u.blocker != u.unit else "")))
        elif u.outcome is Outcome.NOT_STARTED and u.reason == "not-pulled-in":
            out.append(Finding("enabled-not-pulled-in", Severity.WARNING, u.unit, u.message))
    return out


class _CanStart:
    """Whether ``systemctl start U`` finds every unit it requires loadable: memoised over the whole scan.

    A quick filter before the full prediction: a unit passes when it and every unit reached through
    Requires=/BindsTo=/Slice= (start) and Requisite= (verify) load. For one that does not, ``blocker`` is the
    first unloadable unit in file order and the chain to it, as ``transaction.predict_start`` names it
    (``why UNIT`` has the full answer, which also sees conflicts, cycles and trigger refusals).
    """

    def __init__(self, mgr: Manager) -> None:
        self.mgr = mgr
        self.memo: dict[str, Optional[tuple[Edge, ...]]] = {}  # unit id -> None (fine) or the chain to a blocker

    def __call__(self, name: str) -> bool:
        return self.blocker(name) is None

    def blocker(self, name: str) -> Optional[tuple[Edge, ...]]:
        u = self.mgr.load(name)
        if u.id in self.memo:
            return self.memo[u.id]
        self.memo[u.id] = None  # a cycle of requirements loads fine
        found: Optional[tuple[Edge, ...]] = None
        if u.load_state is not LoadState.LOADED:
            found = ()
        else:
            for d in u.dependencies:
                if d.kind in PULL_IN_START:
                    sub = self.blocker(d.target)
                    if sub is not None:
                        found = (Edge.of(d),) + sub
                        break
                elif d.kind in PULL_IN_VERIFY and self.mgr.load(d.target).load_state is not LoadState.LOADED:
                    found = (Edge.of(d),)
                    break
        self.memo[u.id] = found
        return found


def _bad_file(cat: Catalog, r: install.StateResult) -> Finding:
    e = cat.first(r.name)
    msg = r.error.message if r.error else "bad"
    where = cat.root.display(r.path or (e.path if e else r.name))
    if e is not None and e.is_symlink:
        return Finding("broken-alias", Severity.ERROR, r.name,
                       f"{where} is a symlink systemd cannot use: {msg}",
                       (Evidence("file", where, f"symlink to {e.target}"),),
                       (f"remove or correct the link: rm {where}",))
    return Finding("cannot-enable", Severity.ERROR, r.name, f"{r.name} cannot be enabled: {msg}",
                   (Evidence("file", where, msg),))


def _link_findings(cat: Catalog, mgr: Manager, src: EvidenceSources) -> list[Finding]:
    """Dangling ``.wants/``/``.requires/`` links: a link whose unit does not exist (the dependency is dropped for
    .wants/, and fails the depender's start for .requires/). A package removed but not purged that shipped the
    unit is named: ``apt-get remove`` leaves the links ``deb-systemd-helper`` made, purge removes them."""
    out: list[Finding] = []
    for li in cat.listings:
        for sub_name in li.subdirs:
            if not sub_name.endswith((".wants", ".requires")):
                continue
            sub = li.subdirs.get(sub_name)
            if sub is None:
                continue
            owner = sub_name.rsplit(".", 1)[0]
            for n, e in sorted(sub.entries.items()):
                if hidden_or_backup(n) or not e.is_symlink or not names.is_valid(n):
                    continue
                target = n
                if names.kind_of(n) is names.NameKind.TEMPLATE:
                    continue
                u = mgr.load(target)
                if u.load_state is not LoadState.NOT_FOUND:
                    continue
                req = sub_name.endswith(".requires")
                where = cat.root.display(e.path)
                ev = [Evidence("link", where, f"symlink to {e.target}")]
                fixes = [f"rm {where}"]
                removed = src.dpkg.removed_shipping(n) if src.dpkg is not None else []
                for pkg, path, line, what in removed[:3]:
                    ev.append(Evidence("dpkg-status", cat.root.display(path) + (f":{line}" if line else ""),
                                       f"{pkg.name} {pkg.version}: {pkg.status} (removed, not purged): {what}"))
                if removed:
                    fixes.insert(0, f"dpkg{'' if cat.root.is_host else ' --root=' + cat.root.given} --purge "
                                    f"{removed[0][0].name}  # purge removes the links its postrm made")
                out.append(Finding(
                    "dangling-requires-link" if req else "dangling-wants-link",
                    Severity.ERROR if req else Severity.WARNING, n,
                    f"{where} points at {e.target}, which does not exist: "
                    + (f"{owner} cannot start" if req else f"systemd ignores this Wants= of {owner}")
                    + (f"; {removed[0][0].name} was removed but not purged" if removed else ""),
                    tuple(ev), tuple(fixes)))
    return out


def _orphan_dropins(cat: Catalog) -> list[Finding]:
    """``NAME.d/`` directories with .conf files for a unit that no search directory has (fragment types only)."""
    out: list[Finding] = []
    for li in cat.listings:
        for sub_name in li.subdirs:
            if not sub_name.endswith(".d"):
                continue
            unit = sub_name[:-2]
            kind = names.kind_of(unit)
            if kind is None:
                continue  # a type directory (service.d) or a prefix directory (foo-.service.d)
            if unit.rsplit(".", 1)[-1] not in NEEDS_FRAGMENT:
                continue
            if cat.entries(unit) or (kind is names.NameKind.INSTANCE and cat.entries(names.template_of(unit))):
                continue
            sub = li.subdirs.get(sub_name)
            if sub is None:
                continue
            confs = sorted(n for n in sub.entries if n.endswith(".conf") and not hidden_or_backup(n))
            if not confs:
                continue
            where = cat.root.display(sub.path)
            out.append(Finding("drop-in-without-unit", Severity.WARNING, unit,
                               f"{where} has drop-ins ({', '.join(confs)}) for {unit}, which does not exist",
                               tuple(Evidence("drop-in", f"{where}/{c}", "drop-in") for c in confs),
                               (f"remove {where} if {unit} is gone for good",)))
    return out


_UNIT_DIRS = ("/lib/systemd/system/", "/usr/lib/systemd/system/", "/etc/systemd/system/", "/lib/systemd/user/",
              "/usr/lib/systemd/user/")


def _package_findings(cat: Catalog, src: EvidenceSources) -> list[Finding]:
    """Packages dpkg left half-done (half-installed, unpacked, half-configured, reinstreq) that own unit files."""
    db = src.dpkg
    if db is None:
        return []
    out: list[Finding] = []
    seen: set[str] = set()
    for pkg in db.packages.values():
        if pkg.name in seen or not (pkg.state.mid_operation or pkg.reinstall_required):
            continue
        seen.add(pkg.name)
        text = db.read_info(pkg.info_stem + ".list") or ""
        units = sorted({posixpath.basename(line) for line in text.splitlines()
                        if line.startswith(_UNIT_DIRS) and names.is_valid(posixpath.basename(line))})
        if not units:
            continue
        shown = ", ".join(units[:8]) + (f" and {len(units) - 8} more" if len(units) > 8 else "")
        out.append(Finding("package-half-installed", Severity.ERROR, units[0],
                           f"package {pkg.name} is {pkg.status} and owns unit files: {shown}",
                           (Evidence("dpkg-status", f"{cat.root.display('/var/lib/dpkg/status')}:{pkg.status_line}",
                                     f"Status: {pkg.status}"),),
                           (f"dpkg --configure -a{'' if cat.root.is_host else ' (in the root)'}",
                            f"apt-get install --reinstall {pkg.name}")))
    return out


def _live_findings(cat: Catalog, live: Sequence[LiveUnit]) -> list[Finding]:
    out: list[Finding] = []
    for u in live:
        if u.active_state == "failed":
            out.append(Finding("failed", Severity.ERROR, u.id,
                               f"{u.id} is failed (Result={u.result or 'unknown'})",
                               (Evidence("manager", u.via or "bus", f"ActiveState=failed, Result={u.result}"),),
                               (f"journalctl -u {u.id}", f"systemctl reset-failed {u.id}")))
        if u.need_daemon_reload:
            out.append(Finding("needs-daemon-reload", Severity.WARNING, u.id,
                               f"{u.id}'s files changed since the manager loaded them (NeedDaemonReload=yes)",
                               (Evidence("manager", u.via or "bus", "NeedDaemonReload=yes"),),
                               ("systemctl daemon-reload",)))
    return out
