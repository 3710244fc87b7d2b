"""SysV init scripts: a unit the manager builds from ``/etc/init.d/NAME``, or one it no longer builds.

- ``sysv-generated`` (info): the unit has no native unit file; systemd-sysv-generator makes ``NAME.service``
  from the script at boot and on daemon-reload (offline the generator did not run: the unit is the one it
  would write). The evidence names the script, the LSB header lines and rc links behind each dependency,
  and what ``systemctl is-enabled`` answers through systemd-sysv-install.
- ``sysv-leftover`` (warning): the script belongs to a package that is removed but not purged
  (dpkg ``config-files``), or the daemon it runs (``DAEMON=``) is gone: the manager still starts the
  generated unit and, as the script exits 0 without its daemon, reports it active while nothing runs.
- ``sysv-not-executable`` (info): a unit that is not found while ``/etc/init.d/NAME`` exists but is not
  executable (debhelper's postrm runs ``chmod -x`` on remove): the generator skips it, yet
  ``systemctl is-enabled`` still answers from the rc links.
"""

from __future__ import annotations

import re
import stat
from typing import TYPE_CHECKING, Iterator, Optional

from .. import sysv
from ..findings import Evidence, Finding, Severity
from ..manager import LoadState
from ..origin import Origin

if TYPE_CHECKING:
    from ..packages import DpkgPackage
    from . import Context


def _removed(pkg: Optional[DpkgPackage]) -> bool:
    from ..packages import PackageState  # the package readers load only when a check needs them

    return pkg is not None and pkg.state is PackageState.CONFIG_FILES


def _script_owner(ctx: Context, path: str) -> Optional[DpkgPackage]:
    if not ctx.sources.has_package_db():
        return None
    db = ctx.sources.dpkg
    if db is None:
        return None
    owners = db.owners(path)
    if owners:
        return owners[0]
    for p in db.packages.values():
        if any(c.path == path for c in p.conffiles):
            return p
    return None


def _daemon(ctx: Context, script: str) -> Optional[tuple[int, str]]:
    """(line, path) of a ``DAEMON=/path`` assignment in the script whose path is missing in the root."""
    try:
        text = ctx.catalog.root.read(script).decode("utf-8", "replace")
    except OSError:
        return None
    for i, line in enumerate(text.split("\n"), 1):
        m = re.match(r"""\s*DAEMON=["']?(/[^"'\s;]+)""", line)
        if m:
            try:
                ctx.catalog.root.stat(m.group(1))
            except OSError:
                return i, m.group(1)
            return None
    return None


def _hand_over_evidence(ctx: Context) -> tuple[Evidence, ...]:
    h = ctx.state.sysv
    if h is None:
        return ()
    where = ", ".join(ctx.where(Origin(x)) for x in h.links) or "no S??NAME link in /etc/rcS.d or /etc/rc5.d"
    return (Evidence("sysv-install", ctx.where(Origin(h.script)),
                     f"systemctl is-enabled hands {h.name} over to systemd-sysv-install (no native unit file): "
                     f"{h.state} ({where})"),)


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    script = ctx.manager.sysv.get(u.id)
    if script is not None and u.load_state is LoadState.LOADED:
        modelled = ctx.catalog.root.holds_files_in(ctx.catalog.lookup.generator_late or "")
        how = ("offline the generator did not run: this is the unit it would write at boot or daemon-reload"
               if modelled else "written at boot")
        ev = [Evidence("sysv-script", ctx.where(Origin(script.path)),
                       f"executable init script, no native unit file for {script.name}: systemd-sysv-generator "
                       f"makes {u.fragment} from it ({how})")]
        for line in script.unit_text().split("\n"):
            o = script.origins.get(line)
            if o is not None:
                ev.append(Evidence("sysv-script", ctx.where(o), f"{line} in the generated unit"))
        for a in script.aliases:
            ev.append(Evidence("sysv-script", ctx.where(script.origins[f"Alias={a}"]),
                               f"Provides: {a[:-len('.service')]} → {a} is an alias of {script.name}"))
        for t in script.wanted_by:
            ev.append(Evidence("sysv-script", ctx.where(script.origins[f"WantedBy={t}"]),
                               f"{t} wants {script.name} (the generator links it into {t}.wants)"))
        ev.extend(_hand_over_evidence(ctx))
        yield Finding("sysv-generated", Severity.INFO, u.name,
                      f"{u.name} has no unit file: systemd builds it from the SysV init script {script.path} "
                      f"(Type=forking, ExecStart={script.path} start)", tuple(ev),
                      (f"ship a native unit file for {script.name}, or remove {script.path} if its package is gone",))
        owner = _script_owner(ctx, script.path)
        gone = _daemon(ctx, script.path)
        if _removed(owner) or gone is not None:
            lev = []
            if owner is not None:
                lev.append(Evidence("dpkg-status", ctx.where(Origin("/var/lib/dpkg/status")),
                                    f"{owner.name} {owner.version}: {owner.status} (owns {script.path})"))
            if gone is not None:
                lev.append(Evidence("sysv-script", ctx.where(Origin(script.path)) + f":{gone[0]}",
                                    f"DAEMON={gone[1]}, which does not exist"))
            removed = owner.name if owner is not None and _removed(owner) else None
            fix = (f"apt-get purge {removed}" if removed
                   else f"remove {script.path} (or reinstall what provides {gone[1] if gone else 'its daemon'})")
            yield Finding("sysv-leftover", Severity.WARNING, u.name,
                          f"{script.path} is left over"
                          + (f" from the removed package {removed}" if removed else "")
                          + f": systemd still generates and starts {script.name}; if the script exits 0 without "
                          "its daemon (Debian's scripts do), the unit is reported active while nothing runs",
                          tuple(lev), (fix,))
        return
    if u.load_state is LoadState.NOT_FOUND and u.id.endswith(".service") and ctx.catalog.lookup.scope.value == "system":
        base = u.id[: -len(".service")]
        path = f"{sysv.INIT_D}/{base}"
        try:
            st = ctx.catalog.root.stat(path)
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode) or st.st_mode & stat.S_IXUSR:
            return
        ev = [Evidence("sysv-script", ctx.where(Origin(path)),
                       f"mode {stat.filemode(st.st_mode)}: not executable, so systemd-sysv-generator skips it "
                       f"and {u.id} is not found")]
        owner = _script_owner(ctx, path)
        if owner is not None:
            ev.append(Evidence("dpkg-status", ctx.where(Origin("/var/lib/dpkg/status")),
                               f"{owner.name} {owner.version}: {owner.status} (owns {path})"))
        ev.extend(_hand_over_evidence(ctx))
        yield Finding("sysv-not-executable", Severity.INFO, u.name,
                      f"{path} exists but is not executable: systemd does not build {u.id} from it"
                      + (" (its package was removed; dpkg's postrm made it non-executable)"
                         if _removed(owner) else ""),
                      tuple(ev))
