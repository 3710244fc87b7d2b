"""What the package system says about the unit's files: owner, owner's state, intact or not.

For the unit file (or, for a masked unit, the files the mask hides) and its drop-ins:

- ``packaged-by`` (info): the owning package and its state, from ``dpkg -S``'s data or ``rpm -qf``.
- ``package-not-configured``: the owner is ``unpacked``, ``half-configured`` or waiting on triggers;
  dpkg stopped half-way (``dpkg --configure -a`` finishes it).
- ``package-half-installed``: the owner is ``half-installed`` or marked reinstall-required; its files
  may be partly there (``apt-get install --reinstall``).
- ``unit-file-modified``: the file differs from the package's md5sum (``info/PKG.md5sums``, or the
  conffile hash in ``status``; rpm: ``rpm -V`` flag ``5``). A changed conffile is the admin's own edit
  (info); a changed plain file is lost on the next upgrade (warning).
- ``unit-file-missing``: an installed package lists the unit file, but it is not on disk.
- ``unit-from-removed-package``: a unit that is not found was shipped by a package that is removed
  but not purged (``config-files``): its file list, conffiles or postrm still name it.

The dpkg database is read once per run (``sources.EvidenceSources``); logs are read only to date a
package that is mid-operation or removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional

from ..findings import Evidence, Finding, Severity
from ..manager import LoadState, Unit
from ..packages import STATUS, DpkgPackage, PackageState, file_md5, usr_aliases
from ..pkglogs import iso
from .mask import is_mask
from .provenance import FUTURE_SLACK

if TYPE_CHECKING:
    from . import Context


def _commands(ctx: Context) -> dict[str, str]:
    root = ctx.catalog.root
    if ctx.live:
        return {"configure": "dpkg --configure -a", "reinstall": "apt-get install --reinstall {p}",
                "install": "apt-get install {p}", "purge": "apt-get purge {p}", "dnf": "dnf reinstall {p}"}
    r = root.given
    return {"configure": f"dpkg --root={r} --configure -a",
            "reinstall": f"chroot {r} apt-get install --reinstall {{p}}",
            "install": f"chroot {r} apt-get install {{p}}", "purge": f"dpkg --root={r} --purge {{p}}",
            "dnf": f"dnf --installroot={r} reinstall {{p}}"}


def _files(ctx: Context) -> list[tuple[str, str]]:
    """(root-relative path, what it is) of the unit's files that a package may own."""
    u = ctx.unit
    cat = ctx.catalog
    out: list[tuple[str, str]] = []
    if u.load_state is LoadState.MASKED:
        for e in cat.entries(u.id):
            if e.is_reg and not is_mask(cat, e):
                out.append((e.path, "unit file hidden by the mask"))
    elif u.fragment:
        out.append((u.fragment, "unit file"))
        try:
            real = cat.root.chase(u.fragment)
        except OSError:
            real = u.fragment
        if real not in usr_aliases(u.fragment):  # /lib → usr/lib is the same file, not a link target
            out.append((real, "unit file (link target)"))
    for d in u.dropins:
        if not d.masked:
            out.append((d.path, "drop-in"))
    return out


def _status_ev(ctx: Context, pkg: DpkgPackage) -> Evidence:
    return Evidence("dpkg-status", f"{ctx.sources.display(STATUS)}:{pkg.status_line}",
                    f"Package: {pkg.name} {pkg.version}; Status: {pkg.status}")


def _last_run(ctx: Context, pkg: str) -> list[Evidence]:
    """The newest logged transaction that touched ``pkg`` (reads the newest log files only).

    A run dated after now (the clock or the time zone changed since it was logged) is never "the last run":
    it is shown as what it is, and the newest run before now is the last one.
    """
    src = ctx.sources
    txs = [x for x in src.logs.transactions(src.now, 0.0) if x.touches(pkg)]
    past = [x for x in txs if x.start <= src.now + FUTURE_SLACK]
    out = []
    if past:
        tx = max(past, key=lambda x: x.start)
        out.append(Evidence(tx.kind, src.display(tx.source), f"last logged run that touched {pkg}: {tx.text}",
                            iso(tx.start)))
    for tx in sorted((x for x in txs if x not in past), key=lambda x: x.start)[-1:]:
        out.append(Evidence(tx.kind, src.display(tx.source),
                            f"a run that touched {pkg} is dated in the future ({iso(tx.start)}; the clock or the time "
                            f"zone changed since it was logged), so it is not taken as the last one: {tx.text}",
                            iso(tx.start)))
    return out


def exec_binary(u: Unit) -> Optional[tuple[str, str]]:
    """(absolute path, file:line) of the program the unit's last ``ExecStart=`` runs, or None.

    The prefixes ``-@+!:`` are dropped (systemd.service(5)); a relative name (PATH search) is not resolved here.
    """
    a = u.last("Service", "ExecStart") if u.type == "service" else None
    if a is None or not a.value.strip():
        return None
    word = a.value.split()[0].lstrip("-@+!:")
    return (word, str(a.origin)) if word.startswith("/") else None


def _state_findings(ctx: Context, pkg: DpkgPackage, unit_broken: bool, what: str = "") -> Iterator[Finding]:
    """Findings for the owner's dpkg state; ``what`` names what it ships for the unit (default: its files)."""
    cmds = _commands(ctx)
    name = ctx.unit.name
    what = what or f"{name}'s files"
    if pkg.state is PackageState.HALF_INSTALLED or pkg.reinstall_required:
        yield Finding("package-half-installed", Severity.ERROR, name,
                      f"{pkg.name}, which ships {what}, is {pkg.state.value}"
                      + (" and marked reinstall-required" if pkg.reinstall_required else "")
                      + ": an install or removal stopped half-way, its files may be incomplete",
                      (_status_ev(ctx, pkg), *_last_run(ctx, pkg.name)),
                      (cmds["reinstall"].format(p=pkg.name),))
    elif pkg.state.mid_operation:
        yield Finding("package-not-configured", Severity.ERROR if unit_broken else Severity.WARNING, name,
                      f"{pkg.name}, which ships {what}, is {pkg.state.value}: dpkg did not finish "
                      "configuring it (its postinst, which enables and starts units, has not run)",
                      (_status_ev(ctx, pkg), *_last_run(ctx, pkg.name)),
                      (cmds["configure"], cmds["reinstall"].format(p=pkg.name)))


def _dpkg_file(ctx: Context, path: str, what: str, pkg: DpkgPackage) -> Iterator[Finding]:
    src = ctx.sources
    db = src.dpkg
    assert db is not None
    cmds = _commands(ctx)
    name = ctx.unit.name
    expected = db.expected_md5(pkg, path)
    if expected is None or pkg.state is PackageState.CONFIG_FILES:
        return
    digest, conffile = expected
    try:
        ctx.catalog.root.lstat(path)
        present = True
    except OSError:
        present = False
    shown = src.display(path)
    where = (f"{src.display(STATUS)}:{pkg.line}" if conffile
             else src.display(f"/var/lib/dpkg/info/{pkg.info_stem}.md5sums"))
    if not present:
        yield Finding("unit-file-missing", Severity.ERROR, name,
                      f"{path} ({what}) belongs to {pkg.name} but is missing from disk",
                      (_status_ev(ctx, pkg), Evidence("dpkg-status", where, f"{pkg.name} lists {path} (md5 {digest})")),
                      (cmds["reinstall"].format(p=pkg.name),))
        return
    got = file_md5(ctx.catalog.root, path)
    if got is None or got == digest:
        return
    ev = (Evidence("dpkg-status", where, f"{pkg.name} shipped {path} with md5 {digest}"),
          Evidence("file", shown, f"md5 on disk is {got}"))
    if conffile:
        yield Finding("unit-file-modified", Severity.INFO, name,
                      f"{path} ({what}) is a conffile of {pkg.name} that was edited locally; dpkg keeps the edit "
                      "and asks on upgrades", ev)
    else:
        yield Finding("unit-file-modified", Severity.WARNING, name,
                      f"{path} ({what}) differs from the copy {pkg.name} installed; the next upgrade overwrites it "
                      f"(put changes in a drop-in under /etc/systemd/system/{ctx.unit.id}.d/ instead)",
                      ev, (cmds["reinstall"].format(p=pkg.name),))


def _rpm_file(ctx: Context, path: str, what: str) -> Iterator[Finding]:
    src = ctx.sources
    rpm = src.rpm
    assert rpm is not None
    owner = rpm.owner(path)
    if owner is None:
        return
    fix = _commands(ctx)["dnf"].format(p=owner.name)
    where = src.display(rpm.dbpath)
    own = Evidence("rpm", where, f"{owner.name} {owner.evr} owns {path} (rpm -qf)")
    yield Finding("packaged-by", Severity.INFO, ctx.unit.name,
                  f"{path} ({what}) is shipped by {owner.name} {owner.evr}", (own,))
    for prob in rpm.verify(owner.name):
        if prob.path not in usr_aliases(path):
            continue
        line = " ".join(x for x in (prob.flags, prob.attr, prob.path) if x)
        ev = (own, Evidence("rpm", where, f"rpm -V {owner.name}: {line}"))
        # rpm -V's columns: S size, 5 digest, T mtime (rpm(8) VERIFY OPTIONS); '.' passed, '?' not checked
        changed = [w for c, w in (("S", "size"), ("5", "digest"), ("T", "mtime")) if c in prob.flags[:9]]
        if prob.flags == "missing":
            yield Finding("unit-file-missing", Severity.ERROR, ctx.unit.name,
                          f"{path} ({what}) belongs to {owner.name} but is missing from disk", ev, (fix,))
        elif changed:
            conf = prob.attr == "c"
            content = "size" in changed or "digest" in changed
            yield Finding("unit-file-modified", Severity.INFO if conf or not content else Severity.WARNING,
                          ctx.unit.name,
                          f"{path} ({what}) was modified since {owner.name} installed it ({', '.join(changed)} "
                          "differ)" + (" (a config file: rpm keeps the edit)" if conf else
                                       "; the next update overwrites it" if content else
                                       ": only its time changed, the content is the package's"),
                          ev, () if conf or not content else (fix,))


def _not_found(ctx: Context) -> Iterator[Finding]:
    src = ctx.sources
    name = ctx.unit.name
    cmds = _commands(ctx)
    db = src.dpkg
    candidates = [f"{d.path}/{name}" for d in ctx.catalog.lookup.search_path]
    seen: set[str] = set()
    if db is not None:
        for path in candidates:
            for pkg in db.owners(path):
                if pkg.name in seen or pkg.state is PackageState.CONFIG_FILES:
                    continue
                seen.add(pkg.name)
                yield from _state_findings(ctx, pkg, True)
                yield Finding("unit-file-missing", Severity.ERROR, name,
                              f"{pkg.name} ({pkg.status}) lists {path}, but the file is not on disk",
                              (_status_ev(ctx, pkg), Evidence("dpkg-status", src.display(
                                  f"/var/lib/dpkg/info/{pkg.info_stem}.list"), f"lists {path}")),
                              (cmds["reinstall"].format(p=pkg.name),))
        removed: dict[str, list[Evidence]] = {}
        for pkg, path, line, what in db.removed_shipping(name):
            ev = removed.setdefault(pkg.name, [_status_ev(ctx, pkg)])
            ev.append(Evidence("dpkg-status", f"{src.display(path)}:{line}" if line else src.display(path), what))
        for p, ev in removed.items():
            if p in seen:
                continue
            ev.extend(_last_run(ctx, p))
            yield Finding("unit-from-removed-package", Severity.ERROR, name,
                          f"{name} came from {p}, which was removed but not purged (config-files): its unit file "
                          "went with it",
                          tuple(ev), (cmds["install"].format(p=p) + f"  # to use {name} again",
                                      cmds["purge"].format(p=p) + "  # if it is not wanted: removes its leftovers"))
    rpm = src.rpm
    if rpm is not None:
        rpm.prefetch([p for p in candidates if p.startswith(("/usr/", "/lib/", "/etc/"))])
        for path in candidates:
            if not path.startswith(("/usr/", "/lib/", "/etc/")):
                continue
            owner = rpm.owner(path)
            if owner is not None and owner.name not in seen:
                seen.add(owner.name)
                yield Finding("unit-file-missing", Severity.ERROR, name,
                              f"{owner.name} {owner.evr} owns {path}, but the file is not on disk",
                              (Evidence("rpm", src.display(rpm.dbpath), f"{owner.name} owns {path} (rpm -q --path)"),),
                              (cmds["dnf"].format(p=owner.name),))


def check(ctx: Context) -> Iterator[Finding]:
    src = ctx.sources
    if not src.has_package_db():
        return
    u = ctx.unit
    if u.load_state is LoadState.NOT_FOUND:
        yield from _not_found(ctx)
    unit_broken = u.load_state in (LoadState.NOT_FOUND, LoadState.ERROR, LoadState.BAD_SETTING)
    db = src.dpkg
    owned: list[Evidence] = []
    names: list[str] = []
    stated: set[str] = set()
    sources: set[str] = set()  # source packages of the unit's own files
    files = _files(ctx)
    if src.rpm is not None:  # one rpm run for the fragment and every drop-in, not one each
        src.rpm.prefetch([p for p, _ in files])
    for path, what in files:
        if db is not None:
            for pkg in db.owners(path):
                sources.add(pkg.source_name)
                owned.append(Evidence("dpkg-status", f"{src.display(STATUS)}:{pkg.line}",
                                      f"{pkg.name} {pkg.version} ({pkg.status}) ships {path} ({what})"))
                if pkg.name not in names:
                    names.append(pkg.name)
                if pkg.name not in stated:
                    stated.add(pkg.name)
                    yield from _state_findings(ctx, pkg, unit_broken)
                yield from _dpkg_file(ctx, path, what, pkg)
        if src.rpm is not None:
            yield from _rpm_file(ctx, path, what)
    # A sibling package: the unit file is in X-common, the daemon it runs in X, both built from one source
    # (nginx.service / nginx-common, /usr/sbin/nginx / nginx). X's state decides whether the unit can run, so
    # it is looked at too; a shell or helper from another source (/bin/sh: dash) is not the unit's package.
    exe = exec_binary(u) if u.load_state is LoadState.LOADED else None
    if exe is not None and db is not None and sources:
        path, _where = exe
        a = u.last("Service", "ExecStart")
        for pkg in db.owners(path):
            if pkg.name in stated or pkg.source_name not in sources:
                continue
            stated.add(pkg.name)
            names.append(pkg.name)
            owned.append(Evidence("dpkg-status", f"{src.display(STATUS)}:{pkg.line}",
                                  f"{pkg.name} {pkg.version} ({pkg.status}) ships {path}, the ExecStart= binary "
                                  f"({ctx.where(a.origin) if a is not None else u.name})"))
            yield from _state_findings(ctx, pkg, unit_broken, f"{u.name}'s ExecStart= binary {path}")
    if owned:
        yield Finding("packaged-by", Severity.INFO, u.name, f"{u.name}'s files come from {', '.join(names)}",
                      tuple(owned))
    warns = src.package_warnings()
    if warns and (owned or u.load_state is LoadState.NOT_FOUND):
        yield Finding("package-database-damaged", Severity.WARNING, u.name,
                      "the package database has problems; what it says about this unit may be incomplete",
                      tuple(Evidence(k, src.display(s), t) for k, s, t in warns[:6]))

