"""Hostile roots, generated from a seed: what a crafted image or a broken system can hold.

``build(parent, seed)`` makes ``parent/root`` and ``parent/outside`` (canaries: files a read that
escapes the root would touch) and returns the root and the unit names to ask about. A root mixes, by
the seed: symlink loops (self, pairs, through directories), links that escape (absolute and ``../``) to
the canaries, FIFOs and character devices named like units, drop-in directories and ``.wants`` dirs, huge
sparse files, files without read permission, names with control characters, invalid UTF-8 and 255-byte
components, unit files of random garbage, and a journal directory with crafted entries and a FIFO.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import resource
import stat
import subprocess
from pathlib import Path
from typing import Callable

ETC, USR, RUN = "etc/systemd/system", "usr/lib/systemd/system", "run/systemd/system"
NAMES = ("a.service", "b.service", "c.socket", "t@.service", "t@x.service", "d.target", "e.timer", "m.mount")
ODD = ("\x1b[31mx.service", "new\nline.service", "cr\r.service", "tab\t.service", "x" * 247 + ".service",
       "sp ace.service", "%i.service", "-.slice", "a@b@c.service", ".hidden.service", "back\\slash.service")


def _garbage(rng: random.Random) -> bytes:
    parts = [b"[Unit]", b"[Service]", b"[Install]", b"[ Unit ]", b"[X-Foo]", b"Requires=", b"Wants=",
             b"ExecStart=/bin/true", b"Type=oneshot", b"Restart=always", b"WantedBy=multi-user.target",
             b"Alias=", b"\\", b"\0", b"\r", b"\xff\xfe", b"%", b"%{", b"\"", b"'", b"#", b";", b"=",
             b"OnCalendar=garbage", b"ListenStream=/run/x", b"Symlinks=/x", b"\x1b]0;t\x07"]
    out = []
    for _ in range(rng.randrange(1, 40)):
        out.append(b"".join(rng.choice(parts) for _ in range(rng.randrange(1, 5))))
        if rng.random() < 0.3:
            out.append(rng.choice(NAMES).encode())
    return b"\n".join(out) + rng.choice([b"\n", b"", b"\\"])


def build(parent: Path, seed: int) -> tuple[Path, list[str]]:
    rng = random.Random(seed)
    root, outside = parent / "root", parent / "outside"
    for d in (ETC, USR, RUN, "var/lib/unitdoctor", "var/log", "var/lib/dpkg"):
        (root / d).mkdir(parents=True, exist_ok=True)
    outside.mkdir(exist_ok=True)
    for n in NAMES:
        (outside / n).write_text("[Unit]\nDescription=CANARY outside the root\n")
    (outside / "status").write_text("Package: canary\nStatus: install ok installed\n")
    ask = list(NAMES)
    for n in NAMES:
        layer = rng.choice((ETC, USR, RUN, USR))
        p = root / layer / n
        if p.exists() or p.is_symlink():
            continue
        r = rng.random()
        if r < 0.35:
            p.write_bytes(_garbage(rng))
        elif r < 0.45:
            p.symlink_to("/dev/null")
        elif r < 0.52:
            p.symlink_to(str(outside / n))  # absolute: re-rooted, never followed out
        elif r < 0.58:
            p.symlink_to("../" * rng.randrange(3, 9) + str(outside / n).lstrip("/"))
        elif r < 0.63:
            p.symlink_to(n)  # itself
        elif r < 0.68:
            other = rng.choice(NAMES)
            p.symlink_to(other)
            q = root / layer / other
            if not q.exists() and not q.is_symlink():
                q.symlink_to(n)  # a pair
        elif r < 0.73:
            os.mkfifo(p)
        elif r < 0.78 and os.geteuid() == 0:
            os.mknod(p, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero
        elif r < 0.83:
            with open(p, "wb") as f:
                f.truncate(rng.choice((17 << 20, 1 << 40)))
        elif r < 0.88:
            p.write_bytes(_garbage(rng))
            p.chmod(0)
        else:
            p.mkdir()
        if rng.random() < 0.4:
            d = root / rng.choice((ETC, RUN)) / f"{n}.d"
            d.mkdir(exist_ok=True)
            for i in range(rng.randrange(1, 4)):
                c = d / f"{i}.conf"
                k = rng.random()
                if k < 0.6:
                    c.write_bytes(_garbage(rng))
                elif k < 0.8:
                    c.symlink_to("/dev/null")
                else:
                    c.symlink_to(str(outside / n))
        if rng.random() < 0.3:
            w = root / ETC / "multi-user.target.wants"
            w.mkdir(exist_ok=True)
            with_name = w / n
            if not with_name.exists() and not with_name.is_symlink():
                with_name.symlink_to(rng.choice((f"/{USR}/{n}", "/dev/null", str(outside / n), "loop")))
    for n in rng.sample(ODD, 3):
        with contextlib.suppress(OSError):
            (root / ETC / n).write_bytes(_garbage(rng))
        ask.append(n)
    bad = os.fsencode(root / ETC) + b"/\xff\xfe.service"
    with open(bad, "wb") as f:
        f.write(_garbage(rng))
    loopdir = root / ETC / "loop.service.d"
    if not loopdir.exists():
        loopdir.symlink_to("loop.service.d")
    (root / "var/lib/dpkg/status").symlink_to(str(outside / "status"))
    # the rest of the system a command may look at: package databases and logs, users, the kernel command
    # line, os-release, presets, generators' output, a whole layer — links out, FIFOs, by the seed
    sysdirs = ("var/log/apt", "var/lib/dpkg/info", "etc/kernel", "usr/lib/systemd/system-preset", "etc/default",
               "usr/local/lib/systemd", "run/systemd", "var/lib", "proc")
    for d in sysdirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel in ("var/log/dpkg.log", "var/log/apt/history.log", "etc/passwd", "etc/group", "etc/kernel/cmdline",
                "etc/os-release", "usr/lib/os-release", "etc/machine-id", "var/lib/dpkg/info/a.list",
                "usr/lib/systemd/system-preset/90-x.preset", "etc/default/a", "proc/cmdline"):
        r = rng.random()
        if r < 0.4:
            (root / rel).symlink_to(str(outside / "status"))
        elif r < 0.7:
            os.mkfifo(root / rel)
        elif r < 0.85:
            (root / rel).write_bytes(_garbage(rng))
    for rel in ("usr/local/lib/systemd/system", "run/systemd/generator", "var/lib/rpm"):
        if rng.random() < 0.5:
            (root / rel).symlink_to(str(outside))  # a whole directory elsewhere
    j = root / "var/lib/unitdoctor"
    (j / "a.json").write_text(rng.choice(("42", "[1,2]", "null", '{"format":"unitdoctor-journal","seq":"NaN"}')))
    if rng.random() < 0.5:
        os.mkfifo(j / "fifo.json")
    return root, ask


# -- running a command line and judging what it did ---------------------------------------------------------

#: A raw control character in text output (C0 but the newline, DEL, C1).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: Exit statuses a command may end with on hostile input: answers (0, 1), bad input (2); never 70 (a bug),
#: never a signal (SIGXCPU: over the CPU budget).
FINE = (0, 1, 2)
#: Lines a usage error may follow: systemctl's notice that a name was mangled.
NOTICE = re.compile(r"^Invalid unit name .* escaped as |^Note: ")


def limited(cpu_seconds: int) -> Callable[[], None]:
    """A ``preexec_fn`` that puts the child under a CPU budget (past it: SIGXCPU, a negative exit status)."""

    def limit() -> None:
        os.nice(5)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))

    return limit


def judge(what: str, p: subprocess.CompletedProcess, *, json_out: bool = False) -> list[str]:
    """What is wrong with how a command ended: a traceback or internal error, an exit status that is not an
    answer, a raw control character in text output, a usage error of several lines, JSON that does not parse."""
    problems = []
    out = p.stdout.decode("utf-8", "replace") if isinstance(p.stdout, bytes) else p.stdout
    err = p.stderr.decode("utf-8", "replace") if isinstance(p.stderr, bytes) else p.stderr
    if "Traceback" in err or "internal error" in err or p.returncode not in FINE:
        problems.append(f"{what}: exit {p.returncode}: {err[-800:]!r}")
    for line in (err if json_out else out + err).split("\n"):
        if UNSAFE.search(line):
            problems.append(f"{what}: raw control character in {line[:160]!r}")
            break
    if p.returncode == 2:
        lines = [ln for ln in err.splitlines() if not NOTICE.search(ln)]
        if len(lines) != 1:
            problems.append(f"{what}: usage error of several lines: {err[:400]!r}")
    if json_out and p.returncode in (0, 1) and out.strip() and not out.startswith("usage:"):  # --help
        try:
            json.loads(out)
        except ValueError as e:
            problems.append(f"{what}: --json output does not parse ({e}): {out[:200]!r}")
    return problems
