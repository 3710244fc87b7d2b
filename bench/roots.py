"""Synthetic system roots for benchmarks: N units with .wants links, masks, aliases, templates, drop-ins."""

from __future__ import annotations

import os
import random
from pathlib import Path

UNIT = "[Unit]\nDescription=bench {i}\n{deps}[Service]\nType=oneshot\nExecStart=/bin/true\n{install}"


def build(root: Path, n: int, seed: int = 1) -> Path:
    """Lay out ``n`` unit files under ``root`` (Debian 12 layout: /lib is a link to usr/lib)."""
    rnd = random.Random(seed)
    vendor = root / "usr/lib/systemd/system"
    etc = root / "etc/systemd/system"
    run = root / "run/systemd/system"
    for d in (vendor, etc / "multi-user.target.wants", run):
        d.mkdir(parents=True, exist_ok=True)
    if not (root / "lib").exists():
        (root / "lib").symlink_to("usr/lib")
    (vendor / "multi-user.target").write_text("[Unit]\nDescription=Multi-User\n")
    (vendor / "sysinit.target").write_text("[Unit]\nDescription=sysinit\n")
    for i in range(n):
        name = f"svc{i:05d}.service"
        kind = i % 10
        deps = ""
        if kind < 5:
            deps = (f"Requires=svc{rnd.randrange(n):05d}.service\n"
                    f"After=svc{rnd.randrange(n):05d}.service\n")
        install = "[Install]\nWantedBy=multi-user.target\n" if kind % 2 == 0 else ""
        if kind == 9:
            (vendor / f"tmpl{i:05d}@.service").write_text(UNIT.format(i=i, deps=deps, install=install))
            os.symlink(f"/usr/lib/systemd/system/tmpl{i:05d}@.service",
                       etc / "multi-user.target.wants" / f"tmpl{i:05d}@a.service")
            continue
        (vendor / name).write_text(UNIT.format(i=i, deps=deps, install=install))
        if kind == 0:
            os.symlink(f"/usr/lib/systemd/system/{name}", etc / "multi-user.target.wants" / name)
        elif kind == 1:
            os.symlink("/dev/null", etc / name)
        elif kind == 3:
            os.symlink(name, vendor / f"alias{i:05d}.service")
        elif kind == 5:
            d = etc / f"{name}.d"
            d.mkdir()
            (d / "10-override.conf").write_text("[Service]\nNice=5\n")
        elif kind == 7 and i % 20 == 7:
            os.symlink("/dev/null", run / name)
    return root
