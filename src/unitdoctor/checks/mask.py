"""Masks: which layer masks the unit, whether ``systemctl unmask`` can remove it, what it hides.

Fact sheet §2: the first search directory that has the name wins; a mask is a link to /dev/null or
an empty file (or anything resolving to one); ``unmask`` only looks at the persistent (or, with
``--runtime``, the runtime) config dir; a generator.early mask comes from ``systemd.mask=``.
Every mask finding carries an ``origin`` and its evidence, decided by ``provenance``.
"""

from __future__ import annotations

import enum
import weakref
from typing import TYPE_CHECKING, Iterator, Optional

from .. import install, names
from ..catalog import Catalog, Entry
from ..findings import Evidence, Finding, Severity
from ..lookup import Role
from ..manager import Dep, Dependency, LoadState, Manager, is_null
from ..records import dataclass

if TYPE_CHECKING:
    from ..sources import EvidenceSources
    from . import Context


@dataclass(frozen=True)
class Layer:
    entry: Entry
    is_mask: bool

    @property
    def how(self) -> str:
        e = self.entry
        if e.is_symlink:
            return f"symlink to {e.target}"
        if e.is_reg and e.size == 0:
            return "empty file"
        if e.is_reg:
            return "unit file"
        return "special file"


def is_mask(cat: Catalog, e: Entry) -> bool:
    """A provable mask: an empty regular file, a char device, or a link resolving to one or to /dev/null.

    ``manager.is_null`` decides (the one predicate, with one error policy: unresolvable is not a mask).
    """
    return is_null(cat, e.path)


def layers(cat: Catalog, name: str) -> list[Layer]:
    """Every entry for ``name`` in the search path, highest priority first, marked mask or not.

    One file seen through two search directories (merged /usr: ``/lib`` → ``usr/lib``) is one layer, under the
    directory systemd finds it in first (the path it reports).
    """
    out, seen = [], set()
    for e in cat.entries(name):
        if not (e.is_symlink or e.is_reg or e.is_empty_or_chardev):
            continue
        real = _real(cat, e.dir.path)
        if real in seen:
            continue
        seen.add(real)
        out.append(Layer(e, is_mask(cat, e)))
    return out


class MaskOwner(str, enum.Enum):
    """Who manages a mask in a layer of the search path: only ``admin`` masks are ``unmask``'s or ``fix``'s."""

    ADMIN = "admin"  # the config and control dirs: systemctl unmask, unitdoctor fix
    KERNEL_COMMAND_LINE = "kernel command line"  # systemd-debug-generator from systemd.mask= (§2.8)
    GENERATOR = "generator"  # written again at every boot and daemon-reload
    VENDOR = "vendor"  # a package's /usr (or split-usr /lib) tree: masked on purpose (§2.6)
    PORTABLE = "portable"  # portablectl attach/detach
    TRANSIENT = "transient"  # the manager's own directory for transient units
    UNIT_PATH = "SYSTEMD_UNIT_PATH"  # a directory the environment added


#: The one table of who owns a mask, by the role of its directory (``why``, ``scan`` and ``fix`` ask it
#: through ``mask_owner``); roles not listed are the admin's.
OWNERS = {
    Role.GENERATOR_EARLY: MaskOwner.KERNEL_COMMAND_LINE,
    Role.GENERATOR: MaskOwner.GENERATOR,
    Role.GENERATOR_LATE: MaskOwner.GENERATOR,
    Role.VENDOR: MaskOwner.VENDOR,
    Role.LOCAL: MaskOwner.VENDOR,
    Role.XDG_DATA: MaskOwner.VENDOR,
    Role.PERSISTENT_ATTACHED: MaskOwner.PORTABLE,
    Role.RUNTIME_ATTACHED: MaskOwner.PORTABLE,
    Role.TRANSIENT: MaskOwner.TRANSIENT,
    Role.CUSTOM: MaskOwner.UNIT_PATH,
}


def is_vendor_path(path: str) -> bool:
    """Whether ``path`` (root-relative) is in vendor territory we never write: ``/usr`` or split-usr ``/lib``."""
    return path == "/usr" or path.startswith("/usr/") or path == "/lib" or path.startswith("/lib/")


def mask_owner(cat: Catalog, e: Entry) -> MaskOwner:
    """Who manages the mask ``e``: ``OWNERS`` by its directory's role; a directory that is (or resolves into)
    ``/usr`` or ``/lib`` is the vendor's whatever its role (a config dir symlinked into /usr)."""
    if is_vendor_path(e.path) or is_vendor_path(e.dir.path) or is_vendor_path(_real(cat, e.dir.path)):
        return MaskOwner.VENDOR
    return OWNERS.get(e.dir.role, MaskOwner.ADMIN)


def _real(cat: Catalog, directory: str) -> str:
    """Where ``directory`` really is inside the root (a config dir may be a symlink into /usr)."""
    try:
        return cat.root.chase(directory)
    except OSError:
        return directory


def unmask_command(cat: Catalog, e: Entry, name: str, scope_flag: str) -> Optional[str]:
    """The command that removes mask ``e``, or None where the mask is not the admin's (``mask_owner``)."""
    if mask_owner(cat, e) is not MaskOwner.ADMIN:
        return None
    lp = cat.lookup
    d = e.dir
    if d.path == lp.persistent_config:
        return f"systemctl {scope_flag}unmask {name}"
    if d.path == lp.runtime_config:
        return f"systemctl {scope_flag}unmask --runtime {name}"
    return f"rm {cat.root.display(e.path)}"


@dataclass(frozen=True)
class DistributionMask:
    """A mask a package ships in a vendor directory on purpose (Debian's systemd: ``hwclock.service`` →
    ``/dev/null``, also rc, rcS, cryptdisks, cryptdisks-early, x11-common), and who on this system needs it.

    ``needed_by``: the dependency edges that pull the unit in from something enabled (a ``.wants``/
    ``.requires`` link, or a Requires=/Wants=/BindsTo=/Requisite=/Upholds= line of an enabled unit). While
    it is empty the mask is *intended*: an ``info``, not a problem.
    """

    unit: str
    path: str
    packages: tuple[str, ...]
    needed_by: tuple[Dependency, ...] = ()

    @property
    def intended(self) -> bool:
        return not self.needed_by


#: The dependencies through which an enabled unit needs another started.
_PULLS = (Dep.REQUIRES, Dep.REQUISITE, Dep.WANTS, Dep.BINDS_TO, Dep.UPHOLDS)
_DEPENDENTS: weakref.WeakKeyDictionary[Manager, dict[str, list[Dependency]]] = weakref.WeakKeyDictionary()


def dependents(mgr: Manager, name: str) -> list[Dependency]:
    """Every pulling edge (``_PULLS``) of any unit in the catalog whose target is ``name`` (one pass per manager)."""
    index = _DEPENDENTS.get(mgr)
    if index is None:
        index = {}
        for n in sorted(mgr.cat.names()):
            if not names.is_valid(n) or names.kind_of(n) is names.NameKind.TEMPLATE:
                continue
            u = mgr.load(n)
            if u.id != n:
                continue  # an alias: its unit is walked under its own name
            for d in u.dependencies:
                if d.kind in _PULLS:
                    index.setdefault(d.target, []).append(d)
        _DEPENDENTS[mgr] = index
    return list(index.get(name, ()))


def distribution_mask(mgr: Manager, sources: EvidenceSources, name: str) -> Optional[DistributionMask]:
    """The mask a package ships for ``name`` on top of its search path, or None (not masked there, or no
    package owns the mask: then it was placed by hand or a script and is not the distribution's).

    The predicate ``scan`` and ``why`` share for "masked on purpose by the distribution": the top entry for
    ``name`` is a mask (``is_null``) owned by the vendor (``mask_owner``) and named in a package's file list
    (dpkg ``*.list`` or ``rpm -qf``).
    """
    cat = mgr.cat
    ls = layers(cat, name)
    if not ls or not ls[0].is_mask or mask_owner(cat, ls[0].entry) is not MaskOwner.VENDOR:
        return None
    path = ls[0].entry.path
    pkgs: list[str] = []
    if sources.dpkg is not None:
        pkgs += [p.name for p in sources.dpkg.owners(path)]
    if sources.rpm is not None:
        owner = sources.rpm.owner(path)
        if owner is not None:
            pkgs.append(owner.name)
    if not pkgs:
        return None
    needed = []
    for d in dependents(mgr, name):
        if d.source == name:
            continue
        if d.via == "link" or install.lookup_state(cat, d.source).state in (
                install.UnitFileState.ENABLED, install.UnitFileState.ENABLED_RUNTIME):
            needed.append(d)
    return DistributionMask(name, path, tuple(dict.fromkeys(pkgs)), tuple(needed))


#: Owners other than the admin, a package or a generator, and who they are in a sentence.
_OTHER_OWNERS = {MaskOwner.TRANSIENT: "the service manager", MaskOwner.PORTABLE: "portablectl",
                 MaskOwner.UNIT_PATH: "$SYSTEMD_UNIT_PATH"}


def _other_owner_fix(cat: Catalog, e: Entry, name: str, flag: str) -> str:
    shown = cat.root.display(e.path)
    owner = mask_owner(cat, e)
    if owner is MaskOwner.TRANSIENT:
        return (f"systemctl {flag}stop {name}  # the manager removes {shown} with the transient unit; /run is "
                "emptied at reboot")
    if owner is MaskOwner.PORTABLE:
        return f"portablectl detach IMAGE  # the portable image attached as {shown}; portablectl list names it"
    return f"rm {shown}  # in a directory $SYSTEMD_UNIT_PATH adds to the search path"


def mask_finding(ctx: Context, name: str, *, as_dependency: bool = False) -> Iterator[Finding]:
    """Findings for the mask that makes ``name`` masked (through its template or an alias too)."""
    cat = ctx.catalog
    flag = ctx.scope_flag
    candidates = [name]
    if names.kind_of(name) is names.NameKind.INSTANCE:
        candidates.append(names.template_of(name))
    unit = ctx.manager.load(name)
    if unit.id not in candidates:
        candidates.insert(0, unit.id)
    for cand in candidates:
        ls = layers(cat, cand)
        if not ls or not ls[0].is_mask:
            continue
        top = ls[0]
        e = top.entry
        ev = [Evidence("mask", cat.root.display(e.path), f"{top.how} ({e.dir.role.value})")]
        hidden = [lay for lay in ls[1:] if not lay.is_mask]
        for lay in hidden:
            ev.append(Evidence("file", cat.root.display(lay.entry.path),
                               f"hidden by the mask: {lay.how} in {lay.entry.dir.role.value}"))
        fixes = []
        for lay in ls:
            if not lay.is_mask:
                break
            cmd = unmask_command(cat, lay.entry, cand, flag)
            if cmd and cmd not in fixes:
                fixes.append(cmd)
        role = e.dir.role
        via_template = names.kind_of(name) is names.NameKind.INSTANCE and cand == names.template_of(name)
        if cand == name:
            subject = f"{name} is masked"
        elif via_template:
            subject = f"{name} is masked through its template {cand}"
        else:
            subject = f"{name} is an alias of {cand}, which is masked"
        if role is Role.GENERATOR_EARLY:
            fid, origin = "masked-kernel-command-line", "kernel-command-line"
            summary = (f"{subject} by the kernel command line (systemd.mask={cand} makes "
                       f"{e.path} → /dev/null); systemctl unmask cannot remove it")
            fixes = [f"remove systemd.mask={cand} from the kernel command line (boot entry), then reboot"] + fixes
        elif role in (Role.GENERATOR, Role.GENERATOR_LATE):
            fid, origin = "masked-generator", "generator"
            summary = f"{subject} by a generator ({e.path}); systemctl unmask cannot remove it"
            fixes = [f"ls /run/systemd/system-generators /etc/systemd/system-generators "
                     f"/usr/local/lib/systemd/system-generators /usr/lib/systemd/system-generators  # one of "
                     f"these writes {e.path}; change its input"]
        elif role in (Role.VENDOR, Role.LOCAL):
            fid, origin = "masked-vendor", "vendor"
            summary = (f"{subject} by a vendor mask in {e.dir.path}; systemctl unmask leaves it in place "
                       "and exits 0")
            override = f"{cat.lookup.persistent_config}/{cand}"
            real = hidden[0].entry.path if hidden else None
            fixes = [f"cp {real} {override}  # a unit file in {cat.lookup.persistent_config} overrides the vendor mask"
                     if real else f"write the unit file you want at {override}: a file in "
                     f"{cat.lookup.persistent_config} overrides the vendor mask"] + fixes
        elif mask_owner(cat, e) in _OTHER_OWNERS:
            fid, origin = "masked", None
            summary = f"{subject} ({top.how} in {e.dir.path}, which {_OTHER_OWNERS[mask_owner(cat, e)]} manages)"
            fixes = [_other_owner_fix(cat, e, cand, flag)] + fixes
        elif cat.lookup.is_runtime(e.dir.path):
            fid, origin = "masked-runtime", None
            summary = f"{subject} until reboot (runtime mask in {e.dir.path})"
        else:
            fid, origin = "masked", None
            summary = f"{subject} ({top.how} in {e.dir.path})"
        from . import provenance  # only for a mask: it brings the log and boot-configuration readers

        prov = provenance.mask_provenance(ctx, e, cand)
        origin = prov.origin
        summary += prov.note
        ev.extend(prov.evidence)
        if prov.finding_id == "masked-generator" and fid == "masked-kernel-command-line":
            fid = prov.finding_id
            fixes = [f"find what wrote {e.path}: systemd.mask= is not on the kernel command line (check "
                     "/etc/systemd/system-generators and /usr/lib/systemd/system-generators)"]
        else:
            fixes = [f for f in fixes if f not in prov.fixes]
            fixes = (fixes[:1] + list(prov.fixes) + fixes[1:] if origin == "kernel-command-line"
                     else list(prov.fixes) + fixes)
        severity = Severity.ERROR
        if role in (Role.VENDOR, Role.LOCAL) and not as_dependency:
            dm = distribution_mask(ctx.manager, ctx.sources, cand)
            if dm is not None and dm.intended:
                fid, severity, fixes = "masked-intended", Severity.INFO, []
                summary = (f"{subject} on purpose: {', '.join(dm.packages)} ships {e.path} as a mask, and nothing "
                           "enabled needs it")
            elif dm is not None:
                ev.extend(Evidence("dependency", ctx.where(d.origin), f"{d.source} {d.kind.value}= {d.target}")
                          for d in dm.needed_by)
                summary += f"; but {', '.join(dict.fromkeys(d.source for d in dm.needed_by))} needs it"
        if as_dependency:
            fid = "dependency-" + fid
        if cand != name and not as_dependency:
            fid = "masked-template" if via_template else "alias-to-masked"
        if hidden:
            summary += f"; it hides {hidden[0].entry.path}"
        rest = [lay for lay in ls[1:] if lay.is_mask]
        for lay in rest:
            ev.append(Evidence("mask", cat.root.display(lay.entry.path),
                               f"also masked in {lay.entry.dir.role.value}: {lay.how}"))
        yield Finding(fid, severity, name, summary, tuple(ev), tuple(fixes), origin)
        return


def ineffective_runtime_masks(ctx: Context, name: str) -> Iterator[Finding]:
    """A mask below a real unit file has no effect (e.g. /run mask under an /etc file)."""
    ls = layers(ctx.catalog, name)
    if not ls or ls[0].is_mask:
        return
    for lay in ls[1:]:
        if lay.is_mask:
            yield Finding(
                "mask-without-effect", Severity.INFO, name,
                f"{lay.entry.path} masks {name}, but {ls[0].entry.path} has priority, so the mask has no effect",
                (Evidence("mask", ctx.catalog.root.display(lay.entry.path), lay.how),
                 Evidence("file", ctx.catalog.root.display(ls[0].entry.path), f"wins: {ls[0].entry.dir.role.value}")),
            )


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.unit.load_state is LoadState.MASKED or ctx.state.state.is_masked:
        yield from mask_finding(ctx, ctx.unit.name)
    yield from ineffective_runtime_masks(ctx, ctx.unit.name)
