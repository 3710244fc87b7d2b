"""Who made a mask, and when: the ``origin`` of every mask finding, with the evidence for it.

The rule, in the order it is applied (first match decides):

1. **generator.early** (§2.8): systemd-debug-generator writes these from ``systemd.mask=``. A matching
   ``systemd.mask=`` in the kernel command line (live ``/proc/cmdline``; offline the root's boot
   configuration) → ``kernel-command-line``. No boot source at all → still ``kernel-command-line``
   (inferred from the directory). Boot sources read but none masks this unit → ``unknown``: only
   near misses are shown (``rd.systemd.mask=`` acts in the initrd only; another unit's option).
2. **generator / generator.late** → ``generator``.
3. **/usr/lib, /lib, /usr/local/lib**: a package's file list names the mask → ``vendor`` (named).
   Without any package database → ``vendor`` (inferred from the directory). With one, and no owner,
   the mask was placed by hand or by a script: continue with 5–7.
4. **deb-systemd-helper**: its marker ``/var/lib/systemd/deb-systemd-helper-masked/UNIT`` exists and
   the mask is its ``/etc/systemd/system/UNIT → /dev/null`` link → ``package-removed`` (a package's
   postrm masked the unit on ``remove``; ``purge`` would unmask). The package is the removed-but-not-
   purged one whose file list, conffiles or postrm names the unit.
5. The mask's lstat mtime ``t`` is not a real creation time → ``unknown``: before 1971 (images built
   with epoch-0 file times) or more than ``FUTURE_SLACK`` seconds after now.
6. ``t`` falls inside a package transaction that touched the unit's package → ``package-transaction``.
   *Inside* means ``start − RESOLUTION ≤ t ≤ end + RESOLUTION``: the logs record whole seconds (apt history
   Start-Date … End-Date, a dpkg run's ``startup`` line … its last line, dnf history dt_begin … dt_end, a
   dnf.log run), and nothing wider is presented as "inside". *The unit's package* is one whose file list
   (dpkg ``*.list``, ``rpm -qf``) names a unit file of that name, or whose maintainer scripts name the unit
   (dh_installsystemd's ``deb-systemd-helper mask``). Without a package database nobody is known to own it.
7. Otherwise → ``admin``, with the time and the journal lines of that minute (``t ± 60 s``) that name the
   unit in a structured field (``UNIT=``, ``_SYSTEMD_UNIT=``, ``USER_UNIT=``, ``OBJECT_SYSTEMD_UNIT=``) or
   are systemctl's own mask/unmask records. A transaction within ``SLACK`` (120 s) of ``t``, or inside it
   but of packages that do not own the unit, is shown as weak evidence ("after a transaction of P, which
   does not own U"): ``apt install X; systemctl mask X`` is a common admin pattern, not a package's act.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Sequence

from ..catalog import Entry
from ..findings import Evidence
from ..lookup import Role
from ..pkglogs import Transaction, iso
from ..records import dataclass
from ..rootfs import normalize_link

if TYPE_CHECKING:  # cmdline: imported by the two functions that read the kernel command line
    from .. import cmdline as cmdline_mod
    from ..sources import EvidenceSources
    from . import Context

#: Every value of a mask finding's ``origin`` (schema/why.schema.json lists the same).
ORIGINS = ("kernel-command-line", "generator", "package-removed", "package-transaction", "vendor", "admin", "unknown")
SLACK = 120.0
#: The logs' clock resolution: apt history, dpkg.log, dnf.log and dnf history record whole seconds.
RESOLUTION = 1.0
FUTURE_SLACK = 300.0
EPOCH_FLOOR = 365 * 86400.0
JOURNAL_WINDOW = 60.0
NEAR_MISS_MAX = 86400.0
WARNINGS_MAX = 6
#: systemctl's mask/unmask verbs on a command line (as sudo or an audit record logs it).
_SYSTEMCTL_MASK = r"\bsystemctl\b.*\b(?:un)?mask\b"  # compiled when journal entries are read


@dataclass(frozen=True)
class MaskProvenance:
    """The origin of one mask, the evidence, fixes to offer first, and a sentence for the summary."""

    origin: str
    evidence: tuple[Evidence, ...] = ()
    fixes: tuple[str, ...] = ()
    note: str = ""
    finding_id: Optional[str] = None  # replaces the id chosen from the directory, when the evidence contradicts it


def mask_provenance(ctx: Context, e: Entry, name: str) -> MaskProvenance:
    """Where mask ``e`` (which masks ``name``) came from; see the module docstring for the rule."""
    src = ctx.sources
    role = e.dir.role
    if role is Role.GENERATOR_EARLY:
        return _with_warnings(src, _kernel_cmdline(ctx, name), ("kernel-cmdline",))
    if role in (Role.GENERATOR, Role.GENERATOR_LATE):
        return MaskProvenance("generator")
    if role in (Role.VENDOR, Role.LOCAL):
        owned = _vendor_owner(ctx, e)
        if owned is not None:
            return _with_warnings(src, owned, ("dpkg-status", "rpm"))
        prov = _by_time(ctx, e, name)
        return _with_warnings(src, MaskProvenance(
            prov.origin, (_not_owned(ctx, e),) + prov.evidence, (f"rm {ctx.catalog.root.display(e.path)}",),
            "; no package owns it" + prov.note), None)
    removed = _deb_systemd_helper(ctx, e, name)
    if removed is not None:
        return _with_warnings(src, removed, None)
    return _with_warnings(src, _by_time(ctx, e, name), None)


def _with_warnings(src: EvidenceSources, p: MaskProvenance, kinds: Optional[tuple[str, ...]]) -> MaskProvenance:
    """Add warning evidence for the sources that were broken (never more than a few)."""
    extra = []
    for kind, path, text in src.package_warnings() + src.log_warnings():
        if kinds is None or kind in kinds:
            ev = Evidence(kind, src.display(path), text if text.startswith("warning:") else f"warning: {text}")
            if ev not in extra:
                extra.append(ev)
    if kinds is not None and "kernel-cmdline" in kinds:
        for path, text in src.cmdlines().warnings:
            extra.append(Evidence("kernel-cmdline", src.display(path), f"warning: {text}"))
    if not extra:
        return p
    return MaskProvenance(p.origin, p.evidence + tuple(extra[:WARNINGS_MAX]), p.fixes, p.note, p.finding_id)


# -- 1. the kernel command line -------------------------------------------------------------

def _cmdline_fix(ctx: Context, c: cmdline_mod.CommandLine, word: str) -> str:
    from .. import cmdline as cmdline_mod

    shown = ctx.catalog.root.display(c.path)
    if c.path == cmdline_mod.PROC_CMDLINE:
        return f"remove {word} from the boot entry the system booted with, then reboot"
    if c.path.startswith(cmdline_mod.GRUB_DEFAULT):
        return f"remove {word} from {c.what} in {shown}, run update-grub, then reboot"
    if c.path == cmdline_mod.KERNEL_CMDLINE:
        return f"remove {word} from {shown}, regenerate the boot entry (kernel-install add), then reboot"
    return f"remove {word} from the options line of {shown}, then reboot"


def _kernel_cmdline(ctx: Context, name: str) -> MaskProvenance:
    from .. import cmdline as cmdline_mod

    src = ctx.sources
    found = src.cmdlines()
    opts = [o for c in found.cmdlines for o in cmdline_mod.mask_options(c)]
    hits = [o for o in opts if o.unit == name and not o.initrd_only]
    ev = []
    for o in hits:
        c = o.cmdline
        ev.append(Evidence("kernel-cmdline", f"{src.display(c.path)}:{c.line}",
                           f"{o.word} ({c.what}): systemd-debug-generator masks {name}"))
    if hits:
        fixes = tuple(dict.fromkeys(_cmdline_fix(ctx, o.cmdline, o.word) for o in hits))
        return MaskProvenance("kernel-command-line", tuple(ev), fixes)
    for o in opts:
        c = o.cmdline
        if o.problem:
            why = o.problem
        elif o.unit == name:
            why = f"rd.systemd.mask= acts only inside the initrd, it does not mask {name} in the booted system"
        else:
            why = f"masks {o.unit}, not {name}"
        ev.append(Evidence("kernel-cmdline", f"{src.display(c.path)}:{c.line}", f"{o.word}: {why}"))
    if not found.cmdlines:
        where = cmdline_mod.PROC_CMDLINE if src.live else "the root's boot configuration"
        shown = src.display(cmdline_mod.PROC_CMDLINE) if src.live else "(boot configuration)"
        ev.append(Evidence("kernel-cmdline", shown,
                           f"no kernel command line found in {where} to confirm it; systemd-debug-generator "
                           "writes generator.early masks from systemd.mask="))
        return MaskProvenance("kernel-command-line", tuple(ev))
    read = ", ".join(dict.fromkeys(src.display(c.path) for c in found.cmdlines))
    return MaskProvenance(
        "unknown", tuple(ev), (), f"; but no systemd.mask={name} is on the kernel command line ({read}): something "
        "else wrote it into generator.early", "masked-generator")


# -- 3. vendor directories ------------------------------------------------------------------

def _vendor_owner(ctx: Context, e: Entry) -> Optional[MaskProvenance]:
    src = ctx.sources
    if not src.has_package_db():
        return MaskProvenance("vendor")
    ev = []
    names = []
    db = src.dpkg
    if db is not None:
        for pkg in db.owners(e.path):
            names.append(pkg.name)
            ev.append(Evidence("dpkg-status", f"{src.display('/var/lib/dpkg/status')}:{pkg.line}",
                               f"{pkg.name} {pkg.version} ({pkg.status}) ships {e.path} "
                               f"(var/lib/dpkg/info/{pkg.info_stem}.list)"))
    rpm = src.rpm
    if rpm is not None:
        owner = rpm.owner(e.path)
        if owner is not None:
            names.append(owner.name)
            ev.append(Evidence("rpm", src.display(rpm.dbpath), f"{owner.name} {owner.evr} owns {e.path} (rpm -qf)"))
    if not names:
        return None
    return MaskProvenance("vendor", tuple(ev), (), f"; the mask is shipped by {', '.join(dict.fromkeys(names))}")


def _not_owned(ctx: Context, e: Entry) -> Evidence:
    src = ctx.sources
    dbs = [x for x, present in (("dpkg", src.dpkg is not None), ("rpm", src.rpm is not None)) if present]
    if src.dpkg is not None:
        kind, where = "dpkg-status", src.display("/var/lib/dpkg/status")
    else:
        rpm = src.rpm
        assert rpm is not None, "called only when there is a package database (_vendor_owner)"
        kind, where = "rpm", src.display(rpm.dbpath)
    return Evidence(kind, where, f"no package owns {e.path} ({' and '.join(dbs)} checked)")


# -- 4. deb-systemd-helper ------------------------------------------------------------------

def _is_dev_null_link(ctx: Context, e: Entry) -> bool:
    return e.is_symlink and normalize_link(e.parent, e.target or "") == "/dev/null"


def _package_cmds(ctx: Context, pkg: str) -> tuple[str, str]:
    """(purge, reinstall) commands for a Debian package, runnable as printed."""
    root = ctx.catalog.root
    if ctx.live:
        return f"apt-get purge {pkg}", f"apt-get install {pkg}"
    return f"dpkg --root={root.given} --purge {pkg}", f"chroot {root.given} apt-get install {pkg}"


def _deb_systemd_helper(ctx: Context, e: Entry, name: str) -> Optional[MaskProvenance]:
    src = ctx.sources
    scope = ctx.catalog.lookup.scope.value
    marker = src.dsh_marker(name, scope)
    if marker is None:
        return None
    mpath, mtime = marker
    lp = ctx.catalog.lookup
    if not (_is_dev_null_link(ctx, e) and e.dir.path == lp.persistent_config):
        # deb-systemd-helper only ever writes CONFIG/UNIT → /dev/null; this mask is someone else's.
        return None
    ev = [Evidence("dsh-marker", src.display(mpath),
                   f"deb-systemd-helper recorded that it masked {name}: a package's postrm ran "
                   "'deb-systemd-helper mask' on remove (purge would have unmasked it)", iso(mtime))]
    pkgs: list[str] = []
    db = src.dpkg
    if db is not None:
        for pkg, path, line, what in db.removed_shipping(name):
            if pkg.name not in pkgs:
                pkgs.append(pkg.name)
                ev.append(Evidence("dpkg-status", f"{src.display('/var/lib/dpkg/status')}:{pkg.line}",
                                   f"{pkg.name} {pkg.version}: Status: {pkg.status} (removed, not purged)"))
            ev.append(Evidence("dpkg-status", f"{src.display(path)}:{line}" if line else src.display(path), what))
    ev.extend(_removal_runs(ctx, pkgs, mtime))
    fixes: list[str] = []
    for p in pkgs:
        purge, reinstall = _package_cmds(ctx, p)
        fixes += [f"{purge}  # if {p} is no longer wanted: purge runs its postrm, which unmasks {name}",
                  f"{reinstall}  # to get {name} back: its postinst unmasks it"]
    who = f"when {', '.join(pkgs) if pkgs else 'its package'} was removed but not purged"
    return MaskProvenance("package-removed", tuple(ev), tuple(fixes), f"; deb-systemd-helper masked it {who}")


def _removal_runs(ctx: Context, pkgs: list[str], marker_time: float) -> list[Evidence]:
    """The newest logged removal of each package (per kind of log); without packages, the runs at the marker's time."""
    src = ctx.sources
    t = marker_time if EPOCH_FLOOR <= marker_time <= src.now + FUTURE_SLACK else src.now
    txs = src.logs.transactions(t, SLACK)
    out: list[Evidence] = []
    if not pkgs:
        txs = [x for x in _matching(ctx, t) if any(a in ("remove", "purge") for a, _p in x.packages)]
        return [Evidence(x.kind, src.display(x.source), x.text, iso(x.start)) for x in txs]
    for p in pkgs:
        for kind in ("apt-history", "dpkg-log", "dnf-log"):
            runs = [x for x in txs if x.kind == kind and {"remove", "purge"} & set(x.touches(p))]
            if runs:
                x = max(runs, key=lambda r: r.start)
                when = " (the marker's time)" if _inside(x, marker_time) else ""
                out.append(Evidence(x.kind, src.display(x.source), f"removal of {p}{when}: {x.text}", iso(x.start)))
    return out


# -- 5–7. the mask's time -------------------------------------------------------------------

def _matching(ctx: Context, t: float) -> list[Transaction]:
    logs = ctx.sources.logs
    txs = [x for x in logs.transactions(t, SLACK) if x.start - SLACK <= t <= x.end + SLACK]
    dnf, _near = logs.dnf_history(t - SLACK, t + SLACK)
    return txs + dnf


def _nearest(ctx: Context, t: float) -> Optional[Transaction]:
    logs = ctx.sources.logs
    cands = list(logs.transactions(t, SLACK))
    _in, near = logs.dnf_history(t - SLACK, t + SLACK)
    if near is not None:
        cands.append(near)
    cands = [x for x in cands if min(abs(x.start - t), abs(x.end - t)) <= NEAR_MISS_MAX]
    return min(cands, key=lambda x: min(abs(x.start - t), abs(x.end - t)), default=None)


def _span(seconds: float) -> str:
    s = int(abs(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _by_time(ctx: Context, e: Entry, name: str) -> MaskProvenance:
    src = ctx.sources
    t = e.mtime
    shown = src.display(e.path)
    if t < EPOCH_FLOOR:
        return MaskProvenance("unknown", (Evidence(
            "mtime", shown, f"lstat mtime {iso(max(t, 0.0))} is at the epoch: not when the mask was made (images "
            "often reset file times), so it cannot be matched with the logs"),), (), "; who made it is unknown")
    if t > src.now + FUTURE_SLACK:
        return MaskProvenance("unknown", (Evidence(
            "mtime", shown, f"lstat mtime {iso(t)} is in the future ({_span(t - src.now)} ahead of now): the clock "
            "was wrong when it was made, so it cannot be matched with the logs"),), (), "; who made it is unknown")
    near = _matching(ctx, t)
    owners = unit_packages(ctx, name, near)
    strong = [tx for tx in near if _inside(tx, t) and any(tx.touches(p) for p in owners)]
    if strong:
        ev = [Evidence("mtime", shown, f"created or last changed at {iso(t)} (lstat mtime)", iso(t))]
        for tx in strong:
            mine = ", ".join(p for p in owners if tx.touches(p))
            ev.append(Evidence(tx.kind, src.display(tx.source),
                               f"{tx.text} (from {iso(tx.start)} to {iso(tx.end)}; the mask's time falls inside, and "
                               f"it touched {mine}, which ships {name})", iso(tx.start)))
        first = strong[0]
        return MaskProvenance("package-transaction", tuple(ev), (),
                              f"; it was made during a package transaction ({first.command}, {iso(first.start)})")
    ev = [Evidence("mtime", shown, f"created or last changed at {iso(t)} (lstat mtime); no package transaction "
                                   f"that touched {name}'s package was running then", iso(t))]
    for tx in near[:3]:
        ev.append(Evidence(tx.kind, src.display(tx.source), _weak(tx, t, name, owners), iso(tx.start)))
    if not near:
        nearest = _nearest(ctx, t)
        if nearest is not None:
            d = nearest.start - t if nearest.start > t else t - nearest.end
            side = "after" if nearest.start > t else "before"
            ev.append(Evidence(nearest.kind, src.display(nearest.source),
                               f"nearest package transaction, {_span(d)} {side} the mask (outside the window): "
                               f"{nearest.text}", iso(nearest.start)))
    ev.extend(_journal(ctx, t, name))
    return MaskProvenance("admin", tuple(ev), (), f"; no package transaction or boot option explains it: made by "
                                                 f"an admin at {iso(t)}")


def _inside(tx: Transaction, t: float) -> bool:
    """Whether ``t`` is inside ``tx``'s recorded window, at the logs' clock resolution (never a wider slack)."""
    return tx.start - RESOLUTION <= t <= tx.end + RESOLUTION


def _weak(tx: Transaction, t: float, name: str, owners: list[str]) -> str:
    """How a transaction near the mask's time relates to it, said as weak evidence."""
    pkgs = ", ".join(dict.fromkeys(p for _a, p in tx.packages)) or tx.command
    if _inside(tx, t):
        when = "during"
    elif t > tx.end:
        when = f"{_span(t - tx.end)} after"
    else:
        when = f"{_span(tx.start - t)} before"
    mine = [p for p in owners if tx.touches(p)]
    if mine:
        why = f"it touched {', '.join(mine)}, the package of {name}, but the mask's time is outside it"
    elif owners:
        why = f"which does not touch {', '.join(owners)}, the package of {name}"
    else:
        why = f"no package database names {name}'s package"
    return f"made {when} a transaction of {pkgs} ({why}): weak evidence, not taken as the cause: {tx.text}"


def unit_packages(ctx: Context, name: str, txs: Sequence[Transaction] = ()) -> list[str]:
    """The packages of unit ``name``: owners of a unit file of that name in any layer (not the masks), removed
    packages whose files or postrm still name it, and packages of ``txs`` whose maintainer scripts name it."""
    src = ctx.sources
    cat = ctx.catalog
    out: list[str] = []
    paths = [e.path for e in cat.entries(name) if e.is_reg and e.size > 0]
    for d in cat.lookup.search_path:  # a unit file the package ships even where no layer shows it now
        paths.append(f"{d.path}/{name}")
    db = src.dpkg
    if db is not None:
        for p in dict.fromkeys(paths):
            out += [pkg.name for pkg in db.owners(p)]
        out += [pkg.name for pkg, _p, _l, _w in db.removed_shipping(name)]
        for tx in txs:
            for _a, pname in tx.packages:
                pkg = db.package(pname)
                if pkg is not None and pname not in out and any(
                        db.script_lines(pkg, s, name) for s in ("postinst", "prerm", "postrm", "preinst")):
                    out.append(pname)
    rpm = src.rpm
    if rpm is not None:  # one rpm -qf per file that is there (a process each: not every search directory)
        for p in dict.fromkeys(e.path for e in cat.entries(name) if e.is_reg and e.size > 0):
            owner = rpm.owner(p)
            if owner is not None:
                out.append(owner.name)
    return list(dict.fromkeys(out))


def _journal(ctx: Context, t: float, name: str) -> list[Evidence]:
    """Journal entries of the mask's minute that are about ``name``: a unit field names it (``UNIT_FIELDS``),
    or the message is a systemctl mask/unmask command line naming it (sudo's ``COMMAND=…systemctl mask U``).

    The unit's name as a substring of any message is not enough ("Runtime Journal …" is not about
    ``journal.service``; "e2scrub_all.timer" is not about ``e2scrub_all.service``).
    """
    src = ctx.sources
    entries = src.logs.journal(t - JOURNAL_WINDOW, t + JOURNAL_WINDOW)
    stem = name.rsplit(".", 1)[0] if name.endswith(".service") else name
    where = "journalctl" if src.live else src.display("/var/log/journal")
    out = []
    systemctl_mask = re.compile(_SYSTEMCTL_MASK)
    for j in entries:
        fields = [f for f, v in j.units if v == name]
        words = j.message.replace("'", " ").replace('"', " ").split()
        if fields:
            why = f"{'/'.join(fields)}={name}"
        elif systemctl_mask.search(j.message) and (name in words or stem in words):
            why = "a systemctl mask/unmask command"
        else:
            continue
        out.append(Evidence("journal", where, f"{j.ident}: {j.message[:300]} ({why})", iso(j.time)))
        if len(out) >= 5:
            break
    return out
