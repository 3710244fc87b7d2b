"""What the package system says about a file: its owner, the owner's state, and whether the file is intact.

Debian: the dpkg database under ``/var/lib/dpkg`` read directly — ``status`` (deb-control stanzas;
``Status: want flag state``, ``Conffiles:``), ``info/PKG.list`` (every path a package installed,
kept for conffiles and directories after ``remove``), ``info/PKG.md5sums`` (``hex  path`` without the
leading slash; conffiles are not in it), ``info/PKG.conffiles`` and the maintainer scripts dpkg keeps
until purge (``info/PKG.postrm``). Formats: deb-status(5), deb-md5sums(5), deb-conffiles(5), dpkg(1).

RPM: through the real ``rpm`` command (``rpm --root ROOT --dbpath DB -q --path``, ``-V``), only when
the root has an rpm database and ``rpm`` is installed. rpm chroots into ``--root`` for ``-V``, and the
database path is resolved inside the root first, so it reads nothing outside it.

Every read is bounded and every parse tolerates junk: a problem becomes a warning ``(path, text)``.
"""

from __future__ import annotations

import enum
import os
import posixpath
import re
import stat
from typing import TYPE_CHECKING, Iterable, Optional

from .records import dataclass, field
from .rootfs import Root

if TYPE_CHECKING:
    import subprocess

    from .rpmdb import SqliteRpmDb

DPKG_DIR = "/var/lib/dpkg"
STATUS = DPKG_DIR + "/status"
INFO = DPKG_DIR + "/info"
#: A status file of a large system is a few MiB.
STATUS_MAX = 64 * 1024 * 1024
#: One info file (list, md5sums, script) read at most.
INFO_MAX = 16 * 1024 * 1024
#: owners() answers this many questions by a substring search of the lists, then builds an index.
OWNER_SEARCHES_MAX = 16
#: Unit files are hashed only up to this size.
HASH_MAX = 16 * 1024 * 1024
RPM_DBPATHS = ("/usr/lib/sysimage/rpm", "/var/lib/rpm")
RPM_TIMEOUT = 30


class PackageState(str, enum.Enum):
    """The third word of ``Status:`` (deb-status(5), dpkg(1) "package states")."""

    NOT_INSTALLED = "not-installed"
    CONFIG_FILES = "config-files"
    HALF_INSTALLED = "half-installed"
    UNPACKED = "unpacked"
    HALF_CONFIGURED = "half-configured"
    TRIGGERS_AWAITED = "triggers-awaited"
    TRIGGERS_PENDING = "triggers-pending"
    INSTALLED = "installed"

    @property
    def mid_operation(self) -> bool:
        """Whether dpkg left the package between states (an interrupted or unfinished run)."""
        return self in (PackageState.HALF_INSTALLED, PackageState.UNPACKED, PackageState.HALF_CONFIGURED,
                        PackageState.TRIGGERS_AWAITED, PackageState.TRIGGERS_PENDING)


@dataclass(frozen=True)
class Conffile:
    path: str
    md5: str
    obsolete: bool = False


@dataclass(frozen=True)
class DpkgPackage:
    """One stanza of the status file."""

    name: str
    arch: str
    version: str
    want: str
    flag: str
    state: PackageState
    line: int  # 1-based line of ``Package:`` in the status file
    status_line: int
    conffiles: tuple[Conffile, ...] = ()
    multi_arch_same: bool = False
    source: str = ""  # the source package (``Source:``, without its version); "" when it is the package's name

    @property
    def source_name(self) -> str:
        """The source package it was built from: packages of one source are siblings (nginx, nginx-common)."""
        return self.source or self.name

    @property
    def info_stem(self) -> str:
        """The name of its files in ``info/``: ``PKG`` or, for ``Multi-Arch: same``, ``PKG:ARCH``."""
        return f"{self.name}:{self.arch}" if self.multi_arch_same else self.name

    @property
    def status(self) -> str:
        return f"{self.want} {self.flag} {self.state.value}"

    @property
    def reinstall_required(self) -> bool:
        return self.flag == "reinstreq"


def usr_aliases(path: str) -> tuple[str, ...]:
    """``path`` and its merged-/usr twin: dpkg lists ``/lib/systemd/system/x`` for ``/usr/lib/systemd/system/x``."""
    for a, b in (("/usr/lib/", "/lib/"), ("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/")):
        if path.startswith(a):
            return (path, b + path[len(a):])
        if path.startswith(b):
            return (path, a + path[len(b):])
    return (path,)


def parse_status(text: str) -> tuple[list[DpkgPackage], list[tuple[int, str]]]:
    """Packages and (line, problem) pairs of a dpkg status file.

    The grammar (deb-control(5)): stanzas separated by blank lines; ``Field: value``; lines that start
    with a space or tab continue the previous field. A stanza without ``Package:`` or with a ``Status:``
    that is not three known words is reported and skipped; a truncated last stanza is kept if it has
    both. Junk lines are reported once per stanza.
    """
    pkgs: list[DpkgPackage] = []
    problems: list[tuple[int, str]] = []
    fields: dict[str, tuple[int, list[str]]] = {}
    last: Optional[str] = None
    junk_reported = False

    def flush() -> None:
        nonlocal junk_reported
        if not fields:
            return
        pkg = _stanza(fields, problems)
        if pkg is not None:
            pkgs.append(pkg)
        fields.clear()
        junk_reported = False

    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            flush()
            last = None
            continue
        if line[0] in " \t":
            if last is not None:
                fields[last][1].append(line.strip())
            continue
        key, colon, value = line.partition(":")
        if not colon or not key or " " in key:
            if not junk_reported:
                problems.append((n, f"not a 'Field: value' line: {line[:60]!r}"))
                junk_reported = True
            last = None
            continue
        last = key.lower()
        fields[last] = (n, [value.strip()])
    flush()
    return pkgs, problems


def _stanza(fields: dict[str, tuple[int, list[str]]], problems: list[tuple[int, str]]) -> Optional[DpkgPackage]:
    first = min(n for n, _ in fields.values())
    if "package" not in fields:
        problems.append((first, "stanza without Package:, skipped"))
        return None
    line, (name, *_rest) = fields["package"]
    if "status" not in fields:
        problems.append((line, f"{name}: no Status: field (truncated?), skipped"))
        return None
    sline, svals = fields["status"]
    words = svals[0].split()
    try:
        state = PackageState(words[2]) if len(words) == 3 else None
    except ValueError:
        state = None
    if state is None:
        problems.append((sline, f"{name}: Status: {svals[0]!r} is not 'want flag state', skipped"))
        return None
    conffiles = []
    for entry in fields.get("conffiles", (0, []))[1]:
        parts = entry.split()
        if len(parts) >= 2 and parts[0].startswith("/"):
            conffiles.append(Conffile(parts[0], parts[1], "obsolete" in parts[2:]))
    arch = fields.get("architecture", (0, [""]))[1][0]
    version = fields.get("version", (0, [""]))[1][0]
    ma = fields.get("multi-arch", (0, [""]))[1][0] == "same"
    source = (fields.get("source", (0, [""]))[1][0].split() or [""])[0]
    return DpkgPackage(name.strip(), arch, version, words[0], words[1], state, line, sline, tuple(conffiles), ma,
                       source)


@dataclass
class DpkgDb:
    """The dpkg database of a root, read lazily: status once, the ownership index once, other files on demand."""

    root: Root
    packages: dict[str, DpkgPackage] = field(default_factory=dict)  # by name and by name:arch
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path[:line], text)
    _lists: Optional[dict[str, bytes]] = None  # info/STEM.list contents, read once
    _info: Optional[dict[str, str]] = None  # file name in info/ -> itself, for existence checks
    _md5: dict[str, dict[str, str]] = field(default_factory=dict)
    _searches: int = 0  # owners() queries answered by substring search so far
    _by_path: Optional[dict[bytes, list[str]]] = None  # line → stems, once the searches add up

    @classmethod
    def open(cls, root: Root) -> Optional[DpkgDb]:
        """The database, or None when the root has no ``var/lib/dpkg/status``. Raises nothing."""
        try:
            data = root.read(STATUS, limit=STATUS_MAX)
        except OSError as e:
            if e.errno in (2, 20):
                return None
            db = cls(root)
            db.warnings.append((STATUS, f"cannot be read ({e.strerror}); package state unknown"))
            return db
        db = cls(root)
        if b"\0" in data:
            db.warnings.append((STATUS, "contains NUL bytes (corrupt?); parsed what is readable"))
            data = data.replace(b"\0", b"")
        pkgs, problems = parse_status(data.decode("utf-8", errors="replace"))
        for line, text in problems[:20]:
            db.warnings.append((f"{STATUS}:{line}", text))
        if len(problems) > 20:
            db.warnings.append((STATUS, f"{len(problems) - 20} more problems not shown"))
        for p in pkgs:
            db.packages.setdefault(p.name, p)
            db.packages[f"{p.name}:{p.arch}"] = p
        return db

    def package(self, stem: str) -> Optional[DpkgPackage]:
        return self.packages.get(stem)

    # -- info/ ----------------------------------------------------------------------------------

    def info_files(self) -> dict[str, str]:
        if self._info is None:
            try:
                self._info = {e.name: e.name for e in self.root.scandir(INFO) if e.is_reg}
            except OSError as e:
                self._info = {}
                if e.errno not in (2, 20):
                    self.warnings.append((INFO, f"cannot be listed ({e.strerror})"))
        return self._info

    def read_info(self, name: str) -> Optional[str]:
        if name not in self.info_files():
            return None
        path = f"{INFO}/{name}"
        try:
            data = self.root.read(path, limit=INFO_MAX)
        except OSError as e:
            self.warnings.append((path, f"cannot be read ({e.strerror}), skipped"))
            return None
        return data.decode("utf-8", errors="replace")

    def owners(self, path: str) -> list[DpkgPackage]:
        """Packages whose ``info/*.list`` names ``path`` (or its merged-/usr twin), in name order.

        Every list is read once, on the first call, and kept as it is; a query is a substring search
        for the whole line in each (much cheaper than splitting ~10⁵ lines into a dict we would
        query a handful of times). Past ``OWNER_SEARCHES_MAX`` queries (``why`` on every unit) the
        lines are split once into an index that gives the same answers.
        """
        if self._lists is None:
            self._lists = {}
            for name in sorted(self.info_files()):
                if not name.endswith(".list"):
                    continue
                try:
                    data = self.root.read(f"{INFO}/{name}", limit=INFO_MAX)
                except OSError as e:
                    self.warnings.append((f"{INFO}/{name}", f"cannot be read ({e.strerror}), skipped"))
                    continue
                self._lists[name[:-len(".list")]] = b"\n" + data + b"\n"
        out: list[DpkgPackage] = []
        self._searches += 1
        if self._by_path is None and self._searches > OWNER_SEARCHES_MAX:
            # Many questions (``why`` on every unit): one pass splits the lists into line → stems,
            # in the same (name) order, so each answer is the one the search below would give.
            by_path: dict[bytes, list[str]] = {}
            for stem, data in self._lists.items():
                for line in data.split(b"\n"):
                    by_path.setdefault(line, []).append(stem)
            self._by_path = by_path
        for p in usr_aliases(path):
            line = p.encode("utf-8", "surrogateescape")
            stems: Iterable[str]
            if self._by_path is not None and line and b"\n" not in line:
                stems = self._by_path.get(line, ())
            else:
                needle = b"\n" + line + b"\n"
                stems = [stem for stem, data in self._lists.items() if needle in data]
            for stem in stems:
                pkg = self.packages.get(stem)
                if pkg is not None and pkg not in out:
                    out.append(pkg)
        return out

    def md5sums(self, pkg: DpkgPackage) -> dict[str, str]:
        """``/path`` → md5 from ``info/PKG.md5sums`` (empty when the package has none)."""
        if pkg.info_stem not in self._md5:
            text = self.read_info(f"{pkg.info_stem}.md5sums") or ""
            sums = {}
            for line in text.split("\n"):
                digest, _, p = line.partition("  ")
                if len(digest) == 32 and p:
                    sums["/" + p.lstrip("/")] = digest.lower()
            self._md5[pkg.info_stem] = sums
        return self._md5[pkg.info_stem]

    def expected_md5(self, pkg: DpkgPackage, path: str) -> Optional[tuple[str, bool]]:
        """(md5, is_conffile) the package recorded for ``path``, if any."""
        for p in usr_aliases(path):
            for c in pkg.conffiles:
                if c.path == p and not c.obsolete and c.md5 != "newconffile":
                    return c.md5, True
            digest = self.md5sums(pkg).get(p)
            if digest:
                return digest, False
        return None

    def script_lines(self, pkg: DpkgPackage, script: str, needle: str) -> list[tuple[int, str]]:
        """Lines of maintainer script ``info/PKG.SCRIPT`` that mention ``needle``."""
        text = self.read_info(f"{pkg.info_stem}.{script}")
        if not text:
            return []
        return [(n, line.strip()) for n, line in enumerate(text.split("\n"), 1) if needle in line][:5]

    def removed_shipping(self, unit: str) -> list[tuple[DpkgPackage, str, Optional[int], str]]:
        """Removed-but-not-purged packages that name ``unit``: (package, path, line, what).

        Evidence is a list entry or conffile whose basename is the unit, or a line of the postrm
        (kept until purge) that mentions it, as dh_installsystemd's ``deb-systemd-helper`` calls do.
        """
        out: list[tuple[DpkgPackage, str, Optional[int], str]] = []
        for key, pkg in sorted(self.packages.items()):
            if ":" in key or pkg.state is not PackageState.CONFIG_FILES:
                continue
            for c in pkg.conffiles:
                if posixpath.basename(c.path) == unit:
                    out.append((pkg, STATUS, pkg.line, f"conffile {c.path}"))
            text = self.read_info(f"{pkg.info_stem}.list") or ""
            for n, line in enumerate(text.split("\n"), 1):
                if line.startswith("/") and posixpath.basename(line) == unit and "/systemd/" in line:
                    out.append((pkg, f"{INFO}/{pkg.info_stem}.list", n, f"lists {line}"))
            lines = self.script_lines(pkg, "postrm", unit)
            masking = [x for x in lines if re.search(r"\bmask\b", x[1])]
            for n, line in (masking or lines[:1]):
                out.append((pkg, f"{INFO}/{pkg.info_stem}.postrm", n, line))
        return out


def file_md5(root: Root, path: str) -> Optional[str]:
    """md5 of a regular file in the root (followed inside it), or None if it cannot be read."""
    try:
        data = root.read(path, limit=HASH_MAX)
    except OSError:
        return None
    import hashlib  # imported on first use, like subprocess below: most runs hash nothing

    return hashlib.md5(data, usedforsecurity=False).hexdigest()


# -- rpm -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RpmOwner:
    name: str
    evr: str


@dataclass(frozen=True)
class RpmProblem:
    """One line of ``rpm -V``: the flags (``S.5....T.`` or ``missing``), the file type letter, the path."""

    flags: str
    attr: str
    path: str


@dataclass
class RpmDb:
    """An rpm database queried through the ``rpm`` command, or read directly (``rpmdb.sqlite``, ``rpmdb.py``)
    when host programs are forbidden or rpm is missing. Owners are asked once per path, in one ``rpm`` run
    for all of a unit's files (``prefetch``)."""

    root: Root
    rpm: str  # "" when read directly
    dbpath: str  # root-relative, resolved inside the root
    warnings: list[tuple[str, str]] = field(default_factory=list)
    _verify: dict[str, list[RpmProblem]] = field(default_factory=dict)
    _owners: dict[str, Optional[RpmOwner]] = field(default_factory=dict)
    direct: Optional[SqliteRpmDb] = None
    why_direct: str = ""

    @classmethod
    def open(cls, root: Root) -> tuple[Optional[RpmDb], Optional[str]]:
        """(db, None), or (None, why not): no rpm database in the root, or no way to read it."""
        from . import hosttools

        for candidate in RPM_DBPATHS:
            try:
                real = root.chase(candidate)
                entries = {e.name for e in root.scandir(real)}
            except OSError:
                continue
            if entries & {"rpmdb.sqlite", "Packages", "Packages.db"}:
                rpm = hosttools.which("rpm")
                if rpm is not None:
                    return cls(root, rpm, real), None
                why = ("host programs are forbidden (--no-host-tools)" if hosttools.forbidden()
                       else "the rpm command is not installed")
                if "rpmdb.sqlite" not in entries:
                    return None, f"{candidate} exists, but {why} and only rpmdb.sqlite is read without it"
                return cls._direct(root, real, why)
        return None, "no rpm database"

    @classmethod
    def _direct(cls, root: Root, real: str, why: str) -> tuple[Optional[RpmDb], Optional[str]]:
        import sqlite3

        from .rpmdb import SQLITE_NAME, SqliteRpmDb

        try:
            path = root.chase(f"{real}/{SQLITE_NAME}")
            st = root.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                return None, f"{real}/{SQLITE_NAME} is not a regular file"
            db = cls(root, "", real, direct=SqliteRpmDb(root.host(path)))
        except (OSError, sqlite3.Error) as e:
            return None, f"{real}/{SQLITE_NAME} cannot be read ({e}); {why}"
        db.why_direct = why
        return db, None

    def _run(self, *args: str) -> Optional[subprocess.CompletedProcess[str]]:
        argv = [self.rpm, "--root", self.root.path, "--dbpath", self.dbpath, *args]
        import subprocess

        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
        try:
            return subprocess.run(argv, capture_output=True, text=True, errors="replace", env=env,
                                  timeout=RPM_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.warnings.append((self.dbpath, f"rpm {' '.join(args[:2])} failed: {e}"))
            return None

    def owner(self, path: str) -> Optional[RpmOwner]:
        """The package that owns ``path`` (which need not exist): ``rpm -q --path``, asked once per path."""
        if path not in self._owners:
            self.prefetch([path])
        return self._owners.get(path)

    def prefetch(self, paths: list[str]) -> None:
        """Ask for the owners of all ``paths`` at once: one ``rpm -q --path P…`` run, listing every file of
        each owning package with its name (``[%{FILENAMES}…]``), matched back to the paths (and their
        merged-/usr aliases)."""
        todo = sorted({p for p in paths if p not in self._owners})
        if not todo:
            return
        for p in todo:
            self._owners[p] = None
        if self.direct is not None:
            for p in todo:
                for q in (p, *usr_aliases(p)):
                    got = self.direct.owners(q)
                    if got:
                        name, evr = got[0]
                        self._owners[p] = RpmOwner(name, evr)
                        break
            self.warnings.extend((self.dbpath, w) for w in self.direct.warnings)
            self.direct.warnings.clear()
            return
        run = self._run("-q", "--qf", "[%{FILENAMES}\\t%{=NAME}\\t%{=EPOCHNUM}:%{=VERSION}-%{=RELEASE}\\n]",
                       "--path", *todo)
        if run is None:
            return
        files: dict[str, RpmOwner] = {}
        for line in run.stdout.splitlines():
            fname, _, rest = line.partition("\t")
            name, _, evr = rest.partition("\t")
            if fname and name and evr and fname not in files:
                files[fname] = RpmOwner(name, evr[2:] if evr.startswith("0:") else evr)
        for q in todo:
            for alias in (q, *usr_aliases(q)):
                if alias in files:
                    self._owners[q] = files[alias]
                    break

    def verify(self, pkg: str) -> list[RpmProblem]:
        """``rpm -V PKG`` (without dependency and script checks): the files that differ (none read directly)."""
        if self.direct is not None:
            return []
        if pkg not in self._verify:
            out: list[RpmProblem] = []
            p = self._run("-V", "--nodeps", "--noscripts", pkg)
            if p is not None:
                for line in p.stdout.splitlines():
                    parts = line.split()
                    if len(parts) < 2 or not parts[-1].startswith("/"):
                        continue
                    attr = parts[1] if len(parts) == 3 else ""
                    out.append(RpmProblem(parts[0], attr, parts[-1]))
            self._verify[pkg] = out
        return self._verify[pkg]
