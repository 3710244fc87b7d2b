"""Masks: which layer masks the unit, whether ``systemctl unmask`` can remove it, what it hides.

Fact sheet §2: the first search directory that has the name wins; a mask is a link to /dev/null or
an empty file (or anything resolving to one); ``unmask`` only looks at the persistent (or, with
``--runtime``, the runtime) config dir; a generator.early mask comes from ``systemd.mask=``.
Every mask finding carries an ``origin`` and its evidence, decided by ``provenance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from .. import names
from ..catalog import Catalog, Entry
from ..findings import Evidence, Finding, Severity
from ..lookup import Role
from ..manager import LoadState
from ..rootfs import normalize_link

if TYPE_CHECKING:
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
    """A provable mask: an empty regular file, a char device, or a link resolving to /dev/null or an empty file."""
    if e.is_symlink:
        try:
            return cat.root.is_null_or_empty(normalize_link(e.parent, e.target or ""))
        except OSError:
            return False
    return e.is_empty_or_chardev


def layers(cat: Catalog, name: str) -> list[Layer]:
    """Every entry for ``name`` in the search path, highest priority first, marked mask or not."""
    return [Layer(e, is_mask(cat, e)) for e in cat.entries(name) if e.is_symlink or e.is_reg or e.is_empty_or_chardev]


def unmask_command(cat: Catalog, e: Entry, name: str, scope_flag: str) -> Optional[str]:
    """The command that removes mask ``e``, or None where unmask cannot (generator, vendor)."""
    lp = cat.lookup
    d = e.dir
    if d.path == lp.persistent_config:
        return f"systemctl {scope_flag}unmask {name}"
    if d.path == lp.runtime_config:
        return f"systemctl {scope_flag}unmask --runtime {name}"
    if d.role in (Role.GENERATOR, Role.GENERATOR_EARLY, Role.GENERATOR_LATE, Role.VENDOR, Role.LOCAL):
        return None
    return f"rm {cat.root.display(e.path)}"


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
            fixes = ["find the generator that writes it (systemd-analyze unit-paths; /etc/systemd/system-generators)"]
        elif role in (Role.VENDOR, Role.LOCAL):
            fid, origin = "masked-vendor", "vendor"
            summary = (f"{subject} by a vendor mask in {e.dir.path}; systemctl unmask leaves it in place "
                       "and exits 0")
            override = f"{cat.lookup.persistent_config}/{cand}"
            fixes = [f"install a unit file at {override}: a file in {cat.lookup.persistent_config} "
                     f"overrides the vendor mask"] + fixes
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
        yield Finding(fid, Severity.ERROR, name, summary, tuple(ev), tuple(fixes), origin)
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
    if ctx.unit.load_state is LoadState.MASKED or ctx.state.state.value.startswith("masked"):
        yield from mask_finding(ctx, ctx.unit.name)
    yield from ineffective_runtime_masks(ctx, ctx.unit.name)
