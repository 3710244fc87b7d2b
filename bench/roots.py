"""Synthetic system roots for benchmarks: N units with .wants links, masks, aliases, templates, drop-ins,
sockets, timers and paths, and optionally one unit whose start transaction pulls in a large closure,
a preset policy like Debian's, or every other shape the install logic tells apart (``variety``)."""

from __future__ import annotations

import os
import random
from pathlib import Path

UNIT = "[Unit]\nDescription=bench {i}\n{deps}[Service]\nType=oneshot\nExecStart=/bin/true\n{install}"
APP = ("[Unit]\nDescription=closure {j}\n{deps}[Service]\nType=oneshot\nRemainAfterExit=yes\n"
       "ExecStart=/bin/true\n")
#: The unit whose start transaction pulls in the whole closure (``build(..., closure=N)``).
ANCHOR = "app0000.service"
#: A preset policy shaped like Debian 12's 90-systemd.preset (literal names, a template, globs, a final
#: ``disable *``), plus rules that name bench units by glob.
PRESET = """# bench presets
enable remote-fs.target
enable getty@.service
enable systemd-timesyncd.service
enable systemd-resolved.service
enable systemd-userdbd.socket
disable console-getty.service
disable halt.target
enable reboot.target
disable systemd-journal-gatewayd.*
disable systemd-journal-remote.*
enable svc0[0-4]*.service
disable svc0*
enable tmpl*@.service a b
enable *.socket
enable tick?????.timer
disable *
"""


def build(root: Path, n: int, seed: int = 1, closure: int = 0, presets: bool = False,
          variety: bool = False) -> Path:
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
    if presets or variety:
        d = root / "usr/lib/systemd/system-preset"
        d.mkdir(parents=True, exist_ok=True)
        (d / "90-bench.preset").write_text(PRESET)
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
        if variety and i % 5 == 4:
            _variety(root, i, rnd, plain)
            continue
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


def _variety(root: Path, i: int, rnd: random.Random, plain: int) -> None:
    """One of the other shapes, by ``i``: [Install] with Alias=/RequiredBy=/Also=/DefaultInstance=, enabled
    in /etc or at runtime, through an alias or a .requires link, linked from outside the search path,
    overridden in /etc, chained and dangling aliases, empty-file masks, instances, generated and transient
    units, vendor .wants links, and a file the quick [Install] reader leaves to the full parser."""
    vendor = root / "usr/lib/systemd/system"
    etc = root / "etc/systemd/system"
    run = root / "run/systemd/system"
    name = f"var{i:05d}.service"
    other = f"svc{rnd.randrange(plain):05d}.service"
    body = f"[Unit]\nDescription=variety {i}\n[Service]\nExecStart=/bin/true\n"
    how = (i // 5) % 20

    def link(directory: Path, link_name: str, target: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / link_name).is_symlink():
            os.symlink(target, directory / link_name)

    if how == 0:  # Alias= in [Install], enabled through the alias only
        (vendor / name).write_text(body + f"[Install]\nAlias=al{i:05d}.service\n")
        link(etc, f"al{i:05d}.service", f"/usr/lib/systemd/system/{name}")
    elif how == 1:  # RequiredBy= and a .requires link
        (vendor / name).write_text(body + "[Install]\nRequiredBy=multi-user.target\n")
        link(etc / "multi-user.target.requires", name, f"/usr/lib/systemd/system/{name}")
    elif how == 2:  # Also= only: indirect
        (vendor / name).write_text(body + f"[Install]\nAlso={other}\n")
    elif how == 3:  # enabled at runtime
        (vendor / name).write_text(body + "[Install]\nWantedBy=multi-user.target\n")
        link(run / "multi-user.target.wants", name, f"/usr/lib/systemd/system/{name}")
    elif how == 4:  # linked from outside the search path, in /etc or at runtime
        opt = root / "opt/units"
        opt.mkdir(parents=True, exist_ok=True)
        (opt / name).write_text(body + "[Install]\nWantedBy=multi-user.target\n")
        link(run if i % 200 < 100 else etc, name, f"/opt/units/{name}")
    elif how == 5:  # a template with DefaultInstance= and an enabled instance
        t = f"dflt{i:05d}@.service"
        (vendor / t).write_text(body + "[Install]\nWantedBy=multi-user.target\nDefaultInstance=x%i\n")
        link(etc / "multi-user.target.wants", f"dflt{i:05d}@x.service", f"/usr/lib/systemd/system/{t}")
    elif how == 6:  # an /etc override of a vendor file
        (vendor / name).write_text(body + "[Install]\nWantedBy=multi-user.target\n")
        (etc / name).write_text(body)
    elif how == 7:  # a chain of aliases, and one that is dangling
        (vendor / name).write_text(body)
        link(vendor, f"ch{i:05d}a.service", name)
        link(vendor, f"ch{i:05d}b.service", f"ch{i:05d}a.service")
        link(etc, f"gone{i:05d}.service", f"/usr/lib/systemd/system/nothing{i:05d}.service")
    elif how == 8:  # masked with an empty file, in /etc and (another name) at runtime
        (vendor / name).write_text(body)
        (etc / name).write_text("")
        run.mkdir(parents=True, exist_ok=True)
        (vendor / f"rm{i:05d}.service").write_text(body)
        os.symlink("/dev/null", run / f"rm{i:05d}.service")
    elif how == 9:  # an instance file linked to its template, and a vendor .wants link (static)
        t = f"inst{i:05d}@.service"
        (vendor / t).write_text(body + "[Install]\nWantedBy=multi-user.target\n")
        link(etc, f"inst{i:05d}@one.service", f"/usr/lib/systemd/system/{t}")
        link(vendor / "sysinit.target.wants", f"inst{i:05d}@two.service", f"../{t}")
    elif how == 10:  # generated and transient units
        gen = root / "run/systemd/generator"
        gen.mkdir(parents=True, exist_ok=True)
        (gen / name).write_text(body)
        tr = root / "run/systemd/transient"
        tr.mkdir(parents=True, exist_ok=True)
        (tr / f"tr{i:05d}.scope").write_text("[Scope]\n")
    elif how == 11:  # what the quick reader leaves to the full parser: a continuation, CRLF, UTF-8
        (vendor / name).write_text(body.replace("Description=", "Description=vari\\\nété ")
                                   + "[Install]\r\nWantedBy=multi-user.target\r\n")
    elif how == 12:  # a bad file: an assignment outside of any section is fine, a broken Also= is not
        (vendor / name).write_text("Junk=1\n" + body + "[Install]\nAlso=not/a/name\n")
    elif how == 13:  # drop-in [Install] keys, and a drop-in that is a mask
        (vendor / name).write_text(body)
        d = etc / f"{name}.d"
        d.mkdir(parents=True, exist_ok=True)
        (d / "50-install.conf").write_text("[Install]\nWantedBy=multi-user.target\n")
        (d / "60-empty.conf").write_text("")
    elif how == 14:  # a socket, a timer and a path enabled for their targets
        (vendor / f"var{i:05d}.socket").write_text("[Socket]\nListenStream=/run/v.sock\n"
                                                  "[Install]\nWantedBy=sockets.target\n")
        link(etc / "sockets.target.wants", f"var{i:05d}.socket", f"/usr/lib/systemd/system/var{i:05d}.socket")
        (vendor / f"var{i:05d}.timer").write_text("[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n")
        (vendor / f"var{i:05d}.path").write_text("[Path]\nPathExists=/run/v\n")
    elif how == 15:  # /usr/local/lib and a unit under /lib only through the /lib link
        local = root / "usr/local/lib/systemd/system"
        local.mkdir(parents=True, exist_ok=True)
        (local / name).write_text(body + "[Install]\nWantedBy=multi-user.target\n")
        (vendor / name).write_text(body)
    elif how == 16:  # a target with its own .wants dir in /etc (a link to a disabled unit: indirect)
        (vendor / f"var{i:05d}.target").write_text("[Unit]\nDescription=t\n")
        (vendor / name).write_text(body + "[Install]\nWantedBy=graphical.target\n")
        link(etc / f"var{i:05d}.target.wants", name, f"/usr/lib/systemd/system/{name}")
    elif how == 17:  # an alias in /etc of a unit without Alias= (indirect), a self-link (linked)
        (vendor / name).write_text(body + "[Install]\nWantedBy=multi-user.target\n")
        link(etc, f"ot{i:05d}.service", f"/usr/lib/systemd/system/{name}")
        (vendor / f"self{i:05d}.service").write_text(body)
        link(etc, f"self{i:05d}.service", f"/usr/lib/systemd/system/self{i:05d}.service")
    elif how == 18:  # preset rules matter: names the preset globs pick
        (vendor / f"systemd-journal-remote{i:05d}.service").write_text(
            body + "[Install]\nWantedBy=multi-user.target\n")
        (vendor / f"getty{i:05d}@.service").write_text(body + "[Install]\nWantedBy=getty.target\n")
    else:  # mount and swap units, and a name with an escape
        (vendor / f"srv-data{i:05d}.mount").write_text("[Mount]\nWhat=/dev/x\nWhere=/srv/data\n"
                                                      "[Install]\nWantedBy=local-fs.target\n")
        (vendor / f"dev-x{i:05d}.swap").write_text("[Swap]\nWhat=/dev/x\n")
        (vendor / f"x\\x2dy{i:05d}.service").write_text(body)
