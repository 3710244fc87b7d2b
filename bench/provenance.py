#!/usr/bin/env python3
"""What `why` costs with provenance, on a root with ~100 MB of package logs and a full dpkg database.

Usage: bench/provenance.py [MB]   (default 100). The root holds a dpkg database like a real
system's (1500 packages, their info/*.list files), apt's history.log plus 12 gzip rotations,
dpkg.log plus rotations, and a libdnf history database, MB megabytes of logs in all (uncompressed).
Each case runs `python -m unitdoctor --root ROOT why UNIT --json` as a fresh process, best of 5:

- healthy: a unit that can start (reads the dpkg database for `packaged-by`, opens no log);
- admin mask: a mask made when no transaction ran (reads the logs back to its time);
- old mask: a mask from a month ago (reads the rotations back to that month);
- baseline: the same mask on a root without package data.
"""

from __future__ import annotations

import gzip
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOW = time.time()
DAY = 86400.0


def _apt(t: float, i: int) -> str:
    s = time.strftime("%Y-%m-%d  %H:%M:%S", time.gmtime(t))
    e = time.strftime("%Y-%m-%d  %H:%M:%S", time.gmtime(t + 40))
    pkgs = ", ".join(f"lib{i}-{k}:amd64 (1.{k}-1, 1.{k}-2)" for k in range(12))
    return f"Start-Date: {s}\nCommandline: apt-get -y upgrade\nUpgrade: {pkgs}\nEnd-Date: {e}\n\n"


def _dpkg(t: float, i: int) -> str:
    d = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    out = f"{d} startup archives unpack\n"
    for k in range(12):
        out += (f"{d} upgrade lib{i}-{k}:amd64 1.{k}-1 1.{k}-2\n{d} status half-configured lib{i}-{k}:amd64 1.{k}-1\n"
                f"{d} status unpacked lib{i}-{k}:amd64 1.{k}-2\n{d} status installed lib{i}-{k}:amd64 1.{k}-2\n")
    return out


def _log_family(directory: Path, base: str, make, total: int, span_days: float) -> None:
    """base, base.1 … base.12.gz with ``total`` bytes of entries spread over ``span_days`` (newest first)."""
    per = total // 13
    for n in range(13):
        newest = NOW - n * span_days / 13 * DAY
        chunks, size, i = [], 0, 0
        t = newest - span_days / 13 * DAY
        step = (span_days / 13 * DAY - 7200) / max(1, per // len(make(t, 0)) + 1)
        while size < per and t < newest - 3600:
            c = make(t, i)
            chunks.append(c)
            size += len(c)
            t += step
            i += 1
        data = "".join(chunks).encode()
        if n == 0:
            (directory / base).write_bytes(data)
        else:
            (directory / f"{base}.{n}.gz").write_bytes(gzip.compress(data, compresslevel=6))


def build(root: Path, mb: int) -> Path:
    units = root / "usr/lib/systemd/system"
    units.mkdir(parents=True)
    for n in ("sysinit.target", "multi-user.target"):
        (units / n).write_text("[Unit]\n")
    for n in ("ok.service", "x.service", "old.service"):
        (units / n).write_text("[Service]\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n")
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for n, t in (("x.service", NOW - 1800), ("old.service", NOW - 33 * DAY)):
        os.symlink("/dev/null", etc / n)
        os.utime(etc / n, (t, t), follow_symlinks=False)
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    rnd = random.Random(4)
    stanzas = []
    for i in range(1500):
        name = f"pkg{i}"
        stanzas.append(f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}\n"
                       f"Description: p\n")
        files = [f"/usr/share/doc/{name}/f{k}" for k in range(rnd.randint(20, 150))]
        if i == 7:
            files.append("/lib/systemd/system/ok.service")
        (info / f"{name}.list").write_text("\n".join(["/.", "/usr", "/usr/share", "/usr/share/doc"] + files) + "\n")
    (root / "var/lib/dpkg/status").write_text("\n".join(stanzas))
    logs = root / "var/log"
    (logs / "apt").mkdir(parents=True)
    total = mb * 1024 * 1024
    _log_family(logs / "apt", "history.log", _apt, total // 2, 365)
    _log_family(logs, "dpkg.log", _dpkg, total // 2, 365)
    db = root / "var/lib/dnf/history.sqlite"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE trans (id INTEGER PRIMARY KEY, dt_begin INTEGER NOT NULL, dt_end INTEGER, "
                      "releasever TEXT, user_id INTEGER, cmdline TEXT, state INTEGER);"
                      "CREATE TABLE trans_item (id INTEGER PRIMARY KEY, trans_id INTEGER, item_id INTEGER, "
                      "action INTEGER, reason INTEGER, state INTEGER);"
                      "CREATE TABLE rpm (item_id INTEGER UNIQUE, name TEXT, epoch INTEGER, version TEXT, "
                      "release TEXT, arch TEXT);")
    con.executemany("INSERT INTO trans (dt_begin, dt_end, releasever, user_id, cmdline, state) VALUES "
                    "(?, ?, '39', 0, 'dnf upgrade -y', 1)", [(int(NOW - k * 3600), int(NOW - k * 3600 + 60))
                                                             for k in range(20000)])
    con.commit()
    con.close()
    return root


def best(cmd: list[str], env: dict[str, str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - t)
    return min(times)


def du(path: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in path.rglob(pattern) if p.is_file())


def main() -> int:
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(HERE.parent / "src"), "NO_COLOR": "1", "LC_ALL": "C"}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = build(Path(tmp) / "root", mb)
        bare = Path(tmp) / "bare"
        (bare / "usr/lib/systemd/system").mkdir(parents=True)
        (bare / "etc/systemd/system").mkdir(parents=True)
        for n in ("sysinit.target", "multi-user.target", "x.service"):
            (bare / "usr/lib/systemd/system" / n).write_text((root / "usr/lib/systemd/system" / n).read_text())
        os.symlink("/dev/null", bare / "etc/systemd/system/x.service")
        plain = sum(len(gzip.decompress(p.read_bytes())) if p.suffix == ".gz" else p.stat().st_size
                    for p in (root / "var/log").rglob("*") if p.is_file())
        print(f"root built in {time.perf_counter() - t:.1f}s: logs {plain / 2**20:.0f} MiB uncompressed "
              f"({du(root / 'var/log', '*') / 2**20:.0f} MiB on disk), dpkg info "
              f"{du(root / 'var/lib/dpkg/info', '*.list') / 2**20:.1f} MiB in 1500 lists, "
              "dnf history 20000 transactions")
        why = [sys.executable, "-m", "unitdoctor", "--root"]
        cases = [("healthy unit (dpkg db, no logs)", root, "ok.service"),
                 ("admin mask, 30 min old", root, "x.service"),
                 ("mask from 33 days ago", root, "old.service"),
                 ("baseline: mask, no package data", bare, "x.service")]
        for label, r, unit in cases:
            s = best(why + [str(r), "why", unit, "--json"], env)
            print(f"{label:36s} {s:7.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
