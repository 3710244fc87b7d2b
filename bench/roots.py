"""Synthetic system roots for benchmarks: N units with .wants links, masks, aliases, templates, drop-ins,
sockets, timers and paths, and optionally one unit whose start transaction pulls in a large closure."""

from __future__ import annotations

import os
import random
from pathlib import Path

UNIT = "[Unit]\nDescription=bench {i}\n{deps}[Service]\nType=oneshot\nExecStart=/bin/true\n{install}"
APP = ("[Unit]\nDescription=closure {j}\n{deps}[Service]\nType=oneshot\nRemainAfterExit=yes\n"
       "ExecStart=/bin/true\n")
#: The unit whose start transaction pulls in the whole closure (``build(..., closure=N)``).
ANCHOR = "app0000.service"


def build(root: Path, n: int, seed: int = 1, closure: int = 0) -> Path:
    """Lay out ``n`` unit files under ``root`` (Debian 12 layout: /lib and /bin are links into usr/).

    With ``closure``, ``closure`` of the ``n`` units are ``appNNNN.service``: a binary tree of
    Requires= from ``ANCHOR`` (children ordered first with After=, a Wants= on a plain unit every
    tenth unit), all loadable, so ``systemctl start ANCHOR`` would pull in all of them.
    """
    rnd = random.Random(seed)
    vendor = root / "usr/lib/systemd/system"
    etc = root / "etc/systemd/system"
    run = root / "run/systemd/system"
    for d in (vendor, etc / "multi-user.target.wants", run, root / "usr/bin"):
        d.mkdir(parents=True, exist_ok=True)
    for link in ("lib", "bin"):
        if not (root / link).exists():
            (root / link).symlink_to("usr/" + link)
    true = root / "usr/bin/true"
    true.write_text("#!/bin/sh\n")
    true.chmod(0o755)
    for t in ("multi-user.target", "sysinit.target", "basic.target", "shutdown.target"):
        (vendor / t).write_text(f"[Unit]\nDescription={t}\n")
    plain = n - closure
    for j in range(closure):
        kids = [c for c in (2 * j + 1, 2 * j + 2) if c < closure]
        deps = "".join(f"Requires=app{c:04d}.service\nAfter=app{c:04d}.service\n" for c in kids)
        if j % 10 == 0 and plain:
            deps += f"Wants=svc{rnd.randrange(plain):05d}.service\n"
        (vendor / f"app{j:04d}.service").write_text(APP.format(j=j, deps=deps))
    for i in range(plain):
        name = f"svc{i:05d}.service"
        kind = i % 10
        deps = ""
        if kind < 5:
            deps = (f"Requires=svc{rnd.randrange(plain):05d}.service\n"
                    f"After=svc{rnd.randrange(plain):05d}.service\n")
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
        elif kind == 6:
            # One trigger unit per 10 services: a socket, a timer or a path, in turn.
            how = (i // 10) % 3
            if how == 0:
                (vendor / f"svc{i:05d}.socket").write_text(
                    f"[Socket]\nListenStream=/run/svc{i:05d}.sock\n[Install]\nWantedBy=sockets.target\n")
            elif how == 1:
                (vendor / f"tick{i:05d}.timer").write_text(
                    f"[Timer]\nOnCalendar=daily\nUnit={name}\n[Install]\nWantedBy=timers.target\n")
            else:
                (vendor / f"svc{i:05d}.path").write_text(f"[Path]\nPathExists=/run/svc{i:05d}.flag\n")
    return root
