"""Where provenance evidence comes from: one lazy reader per root for a ``why`` run.

Nothing is opened when this is built. The dpkg database is read the first time a package question
is asked, the logs only when a mask's origin is asked, and each source at most once per run, however
many units ``why`` is given. Every source consulted, skipped or found broken is noted, so
``why --verbose`` can list them; broken ones also become warning evidence on the findings.
"""

from __future__ import annotations

import errno
import time
from typing import TYPE_CHECKING, Optional

from .records import dataclass, field
from .rootfs import Root

if TYPE_CHECKING:  # imported on first use: a run that asks no package or log question loads neither
    from . import cmdline, packages, pkglogs

#: Where the package databases are (``packages.STATUS``, ``packages.RPM_DBPATHS``): a root without them
#: is answered without importing ``packages``.
DPKG_STATUS = "/var/lib/dpkg/status"
RPM_DBPATHS = ("/usr/lib/sysimage/rpm", "/var/lib/rpm")

#: deb-systemd-helper's state directories (init-system-helpers: deb-systemd-helper).
DSH_MASKED = {"system": "/var/lib/systemd/deb-systemd-helper-masked",
              "global": "/var/lib/systemd/deb-systemd-user-helper-masked"}
DSH_ENABLED = {"system": "/var/lib/systemd/deb-systemd-helper-enabled",
               "global": "/var/lib/systemd/deb-systemd-user-helper-enabled"}


@dataclass(frozen=True)
class SourceNote:
    """A source and what became of it: ``read``, ``missing`` or ``warning`` (with the reason)."""

    source: str
    status: str
    text: str = ""


@dataclass
class EvidenceSources:
    """The package database, logs, boot configuration and journal of one root, opened on demand."""

    root: Root
    live: bool
    now: float = field(default_factory=time.time)
    _dpkg: Optional[packages.DpkgDb] = None
    _dpkg_loaded: bool = False
    _rpm: Optional[packages.RpmDb] = None
    _rpm_loaded: bool = False
    _cmdline: Optional[cmdline.Found] = None
    _logs: Optional[pkglogs.Logs] = None
    _notes: list[SourceNote] = field(default_factory=list)
    _noted: set[SourceNote] = field(default_factory=set)  # the same notes, for a constant-time "seen?" (scan
    # consults the sources once per masked unit: thousands of notes)

    @classmethod
    def for_root(cls, root: Root) -> EvidenceSources:
        return cls(root, live=root.is_host)

    def display(self, path: str) -> str:
        return path if not path.startswith("/") else self.root.display(path)

    def _note(self, source: str, status: str, text: str = "") -> None:
        n = SourceNote(self.display(source), status, text)
        if n not in self._noted:
            self._noted.add(n)
            self._notes.append(n)

    # -- package databases -------------------------------------------------------------------

    def _absent(self, path: str) -> bool:
        """Whether ``path`` is certainly not in the root (chasing it fails with ENOENT or ENOTDIR)."""
        try:
            self.root.chase(path)
        except OSError as e:
            return e.errno in (errno.ENOENT, errno.ENOTDIR)
        return False

    @property
    def dpkg(self) -> Optional[packages.DpkgDb]:
        if not self._dpkg_loaded:
            self._dpkg_loaded = True
            if self._absent(DPKG_STATUS):  # as DpkgDb.open finds it, without importing the reader
                self._note(DPKG_STATUS, "missing", "no dpkg database")
                return None
            from . import packages

            self._dpkg = packages.DpkgDb.open(self.root)
            if self._dpkg is None:
                self._note(packages.STATUS, "missing", "no dpkg database")
            else:
                self._note(packages.STATUS, "read")
        return self._dpkg

    @property
    def rpm(self) -> Optional[packages.RpmDb]:
        if not self._rpm_loaded:
            self._rpm_loaded = True
            if all(self._absent(p) for p in RPM_DBPATHS):  # as RpmDb.open finds it, without importing the reader
                self._note("rpm", "missing", "no rpm database")
                return None
            from . import packages

            self._rpm, why_not = packages.RpmDb.open(self.root)
            if self._rpm is None:
                self._note("rpm", "missing", why_not or "")
            else:
                self._note(self._rpm.dbpath, "read", "through rpm --root" if not self._rpm.direct else
                           f"rpmdb.sqlite read directly ({self._rpm.why_direct}): owners only, no rpm -V")
        return self._rpm

    def has_package_db(self) -> bool:
        return self.dpkg is not None or self.rpm is not None

    def package_warnings(self) -> list[tuple[str, str, str]]:
        """(kind, source, text) for every problem met in the package databases so far."""
        out = []
        if self._dpkg is not None:
            out += [("dpkg-status", s, t) for s, t in self._dpkg.warnings]
        if self._rpm is not None:
            out += [("rpm", s, t) for s, t in self._rpm.warnings]
        for _kind, s, t in out:
            self._note(s.split(":")[0], "warning", t)
        return out

    # -- deb-systemd-helper ------------------------------------------------------------------

    def dsh_marker(self, unit: str, scope: str, which: str = "masked") -> Optional[tuple[str, float]]:
        """(path, mtime) of deb-systemd-helper's record that it masked (or enabled) ``unit``."""
        table = DSH_MASKED if which == "masked" else DSH_ENABLED
        base = table.get(scope)
        if base is None:
            return None
        path = f"{base}/{unit}" if which == "masked" else f"{base}/{unit}.dsh-also"
        try:
            st = self.root.lstat(path)
        except OSError:
            self._note(base, "missing" if which == "masked" else "read", f"no record for {unit}")
            return None
        self._note(path, "read")
        return path, st.st_mtime

    # -- kernel command line -----------------------------------------------------------------

    def cmdlines(self) -> cmdline.Found:
        if self._cmdline is None:
            from . import cmdline

            self._cmdline = cmdline.boot_cmdlines(self.root, live=self.live)
            for c in self._cmdline.cmdlines:
                self._note(c.path, "read")
            for p, why in self._cmdline.skipped:
                self._note(p, "missing", why)
            for p, why in self._cmdline.warnings:
                self._note(p, "warning", why)
        return self._cmdline

    # -- logs --------------------------------------------------------------------------------

    @property
    def logs(self) -> pkglogs.Logs:
        if self._logs is None:
            from . import pkglogs

            self._logs = pkglogs.Logs(self.root, self.live)
        return self._logs

    def log_warnings(self) -> list[tuple[str, str, str]]:
        return list(self._logs.warnings) if self._logs is not None else []

    def notes(self) -> tuple[SourceNote, ...]:
        """Every source consulted so far, in the order first met."""
        if self._logs is not None:
            for p in self._logs.read:
                self._note(p, "read")
            for p, why in self._logs.skipped:
                self._note(p, "missing", why)
            for _kind, p, text in self._logs.warnings:
                self._note(p, "warning", text)
        return tuple(self._notes)
