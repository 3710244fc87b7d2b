"""Builders for test roots with package-system data in the real formats.

dpkg's status file and ``info/`` files (deb-status(5), deb-md5sums(5)), apt's history.log stanzas,
dpkg.log lines, libdnf's history database (the tables of libdnf/transaction/sql/create_tables.sql),
dnf.log lines, deb-systemd-helper's marker files, boot configuration files, and journals written by
systemd's own ``systemd-journal-remote`` from journal export format. Where the real tool is on the
machine (dpkg-deb, dpkg, rpmbuild, rpm) the tests that need it use it; see test_packages.py.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
from typing import Iterable, Optional

REPO = pathlib.Path(__file__).resolve().parent.parent
try:
    import unitdoctor  # noqa: F401
except ImportError:  # pragma: no cover - not installed: use the source tree
    sys.path.insert(0, str(REPO / "src"))

from unitdoctor import cli  # noqa: E402

#: 2024-03-01 10:15:00 UTC: the time the tests' masks are made.
T0 = 1709288100.0
CI = os.environ.get("CI") == "true"
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
MACHINE_ID = "0123456789abcdef0123456789abcdef"


def write(root: pathlib.Path, rel: str, text: str | bytes, mtime: Optional[float] = None) -> pathlib.Path:
    p = root / rel.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(p, (mtime, mtime))
    return p


def unit_root(root: pathlib.Path, *units: str) -> pathlib.Path:
    """A system root with sysinit.target, multi-user.target and the given services in /usr/lib."""
    write(root, "usr/lib/systemd/system/sysinit.target", "[Unit]\nDescription=System Initialization\n")
    write(root, "usr/lib/systemd/system/multi-user.target", "[Unit]\nDescription=Multi-User System\n")
    for u in units:
        write(root, f"usr/lib/systemd/system/{u}",
              f"[Unit]\nDescription={u}\n[Service]\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n")
    (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
    return root


def mask(root: pathlib.Path, rel: str, mtime: float = T0) -> pathlib.Path:
    """``rel`` → /dev/null with its own (lstat) mtime set."""
    p = root / rel.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("/dev/null", p)
    os.utime(p, (mtime, mtime), follow_symlinks=False)
    return p


def localtime(root: pathlib.Path, zone: str = "Europe/Berlin") -> None:
    """Copy a TZif zone from the host's tzdata into the root's /etc/localtime."""
    src = pathlib.Path("/usr/share/zoneinfo") / zone
    write(root, "etc/localtime", src.read_bytes())


def local(t: float, zone: str = "UTC") -> str:
    """``YYYY-MM-DD  HH:MM:SS`` as apt writes it (two spaces), in ``zone``."""
    import zoneinfo

    d = datetime.datetime.fromtimestamp(t, zoneinfo.ZoneInfo(zone))
    return d.strftime("%Y-%m-%d  %H:%M:%S")


def dpkg_time(t: float, zone: str = "UTC") -> str:
    return local(t, zone).replace("  ", " ")


# -- dpkg ------------------------------------------------------------------------------------------

def stanza(name: str, status: str, version: str = "1.0-1", arch: str = "amd64",
           conffiles: Iterable[tuple[str, str]] = (), extra: str = "") -> str:
    s = (f"Package: {name}\nStatus: {status}\nPriority: optional\nSection: admin\nInstalled-Size: 12\n"
         f"Maintainer: Test <test@example.org>\nArchitecture: {arch}\nVersion: {version}\n")
    if "config-files" in status:
        s += f"Config-Version: {version}\n"
    cf = list(conffiles)
    if cf:
        s += "Conffiles:\n" + "".join(f" {p} {m}\n" for p, m in cf)
    return s + extra + f"Description: {name}\n test package\n"


def dpkg_db(root: pathlib.Path, stanzas: Iterable[str]) -> None:
    write(root, "var/lib/dpkg/status", "\n".join(stanzas))
    (root / "var/lib/dpkg/info").mkdir(parents=True, exist_ok=True)
    write(root, "var/lib/dpkg/info/format", "1\n")


def info(root: pathlib.Path, pkg: str, files: Iterable[str] = (), md5sums: dict[str, str] | None = None,
         postrm: Optional[str] = None) -> None:
    dirs: list[str] = ["/."]
    for f in files:
        parts = f.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    write(root, f"var/lib/dpkg/info/{pkg}.list", "\n".join(dirs + list(files)) + "\n")
    if md5sums:
        write(root, f"var/lib/dpkg/info/{pkg}.md5sums",
              "".join(f"{m}  {p.lstrip('/')}\n" for p, m in md5sums.items()))
    if postrm is not None:
        write(root, f"var/lib/dpkg/info/{pkg}.postrm", postrm)


def dh_postrm(unit: str) -> str:
    """The postrm snippet dh_installsystemd generates (debhelper autoscripts/postrm-systemd)."""
    return ("#!/bin/sh\nset -e\n# Automatically added by dh_installsystemd/13.11.4\n"
            "if [ \"$1\" = \"remove\" ]; then\n\tif [ -x \"/usr/bin/deb-systemd-helper\" ]; then\n"
            f"\t\tdeb-systemd-helper mask '{unit}' >/dev/null || true\n\tfi\nfi\n\n"
            "if [ \"$1\" = \"purge\" ]; then\n\tif [ -x \"/usr/bin/deb-systemd-helper\" ]; then\n"
            f"\t\tdeb-systemd-helper purge '{unit}' >/dev/null || true\n"
            f"\t\tdeb-systemd-helper unmask '{unit}' >/dev/null || true\n\tfi\nfi\n# End automatically added section\n")


def dsh_marker(root: pathlib.Path, unit: str, mtime: float = T0) -> None:
    write(root, f"var/lib/systemd/deb-systemd-helper-masked/{unit}", "", mtime)


# -- logs ------------------------------------------------------------------------------------------

def apt_stanza(start: float, end: float, command: str, zone: str = "UTC", **actions: str) -> str:
    s = f"Start-Date: {local(start, zone)}\nCommandline: {command}\n"
    for k, v in actions.items():
        s += f"{k}: {v}\n"
    return s + f"End-Date: {local(end, zone)}\n"


def apt_history(root: pathlib.Path, stanzas: Iterable[str], name: str = "history.log") -> pathlib.Path:
    text = "\n" + "\n".join(stanzas)
    if name.endswith(".gz"):
        return write(root, f"var/log/apt/{name}", gzip.compress(text.encode()))
    return write(root, f"var/log/apt/{name}", text)


def dpkg_log(root: pathlib.Path, lines: Iterable[tuple[float, str]], name: str = "dpkg.log",
             zone: str = "UTC") -> pathlib.Path:
    text = "".join(f"{dpkg_time(t, zone)} {rest}\n" for t, rest in lines)
    if name.endswith(".gz"):
        return write(root, f"var/log/{name}", gzip.compress(text.encode()))
    return write(root, f"var/log/{name}", text)


def dpkg_remove_run(t: float, pkg: str, version: str = "1.0-1", arch: str = "amd64") -> list[tuple[float, str]]:
    """The lines dpkg 1.21 logs for ``dpkg -r PKG`` (as seen from a real run)."""
    return [(t, "startup packages remove"), (t, f"status installed {pkg}:{arch} {version}"),
            (t, f"remove {pkg}:{arch} {version} <none>"), (t + 1, f"status half-configured {pkg}:{arch} {version}"),
            (t + 1, f"status half-installed {pkg}:{arch} {version}"),
            (t + 2, f"status config-files {pkg}:{arch} {version}")]


#: libdnf's history schema (libdnf/transaction/sql/create_tables.sql, swdb 1.1): the tables dnf writes.
DNF_SCHEMA = """
CREATE TABLE trans (id INTEGER PRIMARY KEY AUTOINCREMENT, dt_begin INTEGER NOT NULL, dt_end INTEGER,
  rpmdb_version_begin TEXT, rpmdb_version_end TEXT, releasever TEXT NOT NULL, user_id INTEGER NOT NULL,
  cmdline TEXT, state INTEGER NOT NULL);
CREATE TABLE repo (id INTEGER PRIMARY KEY, repoid TEXT NOT NULL);
CREATE TABLE console_output (id INTEGER PRIMARY KEY, trans_id INTEGER REFERENCES trans(id),
  file_descriptor INTEGER NOT NULL, line TEXT NOT NULL);
CREATE TABLE item (id INTEGER PRIMARY KEY, item_type INTEGER NOT NULL);
CREATE TABLE trans_item (id INTEGER PRIMARY KEY AUTOINCREMENT, trans_id INTEGER REFERENCES trans(id),
  item_id INTEGER REFERENCES item(id), repo_id INTEGER REFERENCES repo(id), action INTEGER NOT NULL,
  reason INTEGER NOT NULL, state INTEGER NOT NULL);
CREATE TABLE item_replaced_by (trans_item_id INTEGER REFERENCES trans_item(id),
  by_trans_item_id INTEGER REFERENCES trans_item(id), PRIMARY KEY (trans_item_id, by_trans_item_id));
CREATE TABLE trans_with (id INTEGER PRIMARY KEY AUTOINCREMENT, trans_id INTEGER REFERENCES trans(id),
  item_id INTEGER REFERENCES item(id), CONSTRAINT trans_with_unique_trans_item UNIQUE (trans_id, item_id));
CREATE TABLE rpm (item_id INTEGER UNIQUE NOT NULL, name TEXT NOT NULL, epoch INTEGER NOT NULL,
  version TEXT NOT NULL, release TEXT NOT NULL, arch TEXT NOT NULL, FOREIGN KEY(item_id) REFERENCES item(id),
  CONSTRAINT rpm_unique_nevra UNIQUE (name, epoch, version, release, arch));
CREATE INDEX rpm_name ON rpm(name);
CREATE INDEX trans_item_item_id ON trans_item(item_id);
CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO config VALUES ('version', '1.1');
"""


def dnf_history(root: pathlib.Path, transactions: Iterable[tuple[float, float, str, list[tuple[int, str]]]]) -> None:
    """``var/lib/dnf/history.sqlite`` with (begin, end, cmdline, [(action, package)]) transactions.

    Actions are libdnf's TransactionItemAction numbers (1 install, 8 remove…); state 1 is DONE.
    """
    p = root / "var/lib/dnf/history.sqlite"
    p.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(p)
    con.executescript(DNF_SCHEMA)
    con.execute("INSERT INTO repo (id, repoid) VALUES (1, 'fedora')")
    item = 0
    for begin, end, cmd, items in transactions:
        cur = con.execute("INSERT INTO trans (dt_begin, dt_end, rpmdb_version_begin, rpmdb_version_end, releasever, "
                          "user_id, cmdline, state) VALUES (?, ?, '1:abc', '1:def', '39', 0, ?, 1)",
                          (int(begin), int(end), cmd))
        tid = cur.lastrowid
        for action, name in items:
            item += 1
            con.execute("INSERT INTO item (id, item_type) VALUES (?, 1)", (item,))
            con.execute("INSERT INTO rpm VALUES (?, ?, 0, '1.0', '1.fc39', 'x86_64')", (item, name))
            con.execute("INSERT INTO trans_item (trans_id, item_id, repo_id, action, reason, state) "
                        "VALUES (?, ?, 1, ?, 2, 1)", (tid, item, action))
    con.commit()
    con.close()


def dnf_log(root: pathlib.Path, runs: Iterable[tuple[float, float, str]], name: str = "dnf.log") -> None:
    """dnf 4's dnf.log: one run per (begin, end, command)."""
    out = []
    for begin, end, cmd in runs:
        ts = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(  # noqa: E731
            "%Y-%m-%dT%H:%M:%S+0000")
        out += [f"{ts(begin)} INFO --- logging initialized ---", f"{ts(begin)} DDEBUG timer: config: 3 ms",
                f"{ts(begin)} DDEBUG Command: {cmd} ", f"{ts(begin)} DDEBUG Installroot: /",
                f"{ts(end)} INFO Complete!", f"{ts(end)} DDEBUG Cleaning up."]
    write(root, f"var/log/{name}", "\n".join(out) + "\n")


# -- journal ---------------------------------------------------------------------------------------

def have_journal_remote() -> bool:
    return os.access(JOURNAL_REMOTE, os.X_OK) and shutil.which("journalctl") is not None


def journal(root: pathlib.Path, entries: Iterable[tuple]) -> pathlib.Path:
    """A real journal file made by systemd-journal-remote from export format: (time, identifier, message) or
    (time, identifier, message, {FIELD: value}) for extra fields such as ``UNIT=``."""
    text = ""
    for i, (t, ident, msg, *more) in enumerate(entries):
        extra = "".join(f"{k}={v}\n" for k, v in (more[0] if more else {}).items())
        text += (f"__REALTIME_TIMESTAMP={int(t * 1e6)}\n__MONOTONIC_TIMESTAMP={1000000 + i}\n"
                 f"_BOOT_ID={MACHINE_ID}\n_MACHINE_ID={MACHINE_ID}\n_HOSTNAME=test\nPRIORITY=5\n"
                 f"SYSLOG_IDENTIFIER={ident}\n_COMM={ident}\n_PID={1000 + i}\n{extra}MESSAGE={msg}\n\n")
    d = root / "var/log/journal" / MACHINE_ID
    d.mkdir(parents=True, exist_ok=True)
    out = d / "system.journal"
    p = subprocess.run([JOURNAL_REMOTE, f"--output={out}", "-"], input=text.encode(), capture_output=True,
                       timeout=60, check=False)
    assert p.returncode == 0, p.stderr.decode()
    return out


# -- running why ----------------------------------------------------------------------------------

def why(capsys, root: pathlib.Path, *units: str, verbose: bool = False) -> tuple[int, list]:
    capsys.readouterr()
    rc = cli.main(["--root", str(root), "why", *units, "--json", *(["--verbose"] if verbose else [])])
    return rc, json.loads(capsys.readouterr().out)


def finding(doc: list, fid: str, unit: int = 0) -> dict:
    found = [f for f in doc[unit]["findings"] if f["id"] == fid]
    assert found, f"no {fid} in {[f['id'] for f in doc[unit]['findings']]}"
    return found[0]


def kinds(f: dict) -> list[str]:
    return [e["kind"] for e in f["evidence"]]
