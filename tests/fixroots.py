"""Roots for the fix tests (test_plan, test_fix, test_journal): one builder per scenario, and whole-tree snapshots.

Every scenario is a real tree in ``tmp_path``; nothing is mocked. ``snapshot`` records, for every path under
the root, its type, link text, content, permission bits and (for links and files) mtime, so "undo restores the
exact prior tree" and "--dry-run changes nothing" are whole-tree comparisons.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from unitdoctor.catalog import Catalog, open_catalog
from unitdoctor.lookup import Scope

ETC = "etc/systemd/system"
RUN = "run/systemd/system"
USR = "usr/lib/systemd/system"
EARLY = "run/systemd/generator.early"

SERVICE = "[Unit]\nDescription={d}\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
STATIC = "[Unit]\nDescription={d}\n[Service]\nExecStart=/bin/true\n"
SOCKET = "[Unit]\nDescription={d}\n[Socket]\nListenStream=/run/{d}.sock\n[Install]\nWantedBy=sockets.target\n"

#: What the journal adds to a root (and nothing else).
JOURNAL = "var/lib/unitdoctor"


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def link(root: Path, rel: str, target: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, p)
    return p


def empty(root: Path, rel: str, mode: int = 0o644) -> Path:
    p = write(root, rel, "")
    os.chmod(p, mode)
    return p


def base(root: Path) -> Path:
    for d in (ETC, USR, RUN):
        (root / d).mkdir(parents=True, exist_ok=True)
    write(root, f"{USR}/sysinit.target", "[Unit]\nDescription=sysinit\n")
    write(root, f"{USR}/multi-user.target", "[Unit]\nDescription=multi-user\n")
    write(root, f"{USR}/sockets.target", "[Unit]\nDescription=sockets\n")
    return root


# -- scenarios --------------------------------------------------------------------------------------------


def persistent(r: Path) -> None:
    write(r, f"{USR}/x.service", SERVICE.format(d="x"))
    link(r, f"{ETC}/x.service", "/dev/null")


def runtime(r: Path) -> None:
    write(r, f"{USR}/x.service", SERVICE.format(d="x"))
    link(r, f"{RUN}/x.service", "/dev/null")


def both(r: Path) -> None:
    """Masked in /etc (relative link) and in /run (empty file): unmask alone would leave it masked."""
    write(r, f"{USR}/x.service", SERVICE.format(d="x"))
    link(r, f"{ETC}/x.service", "../../../dev/null")
    empty(r, f"{RUN}/x.service", 0o600)


def dependency(r: Path) -> None:
    """web → app (Requires=) → db (Requires=, in a drop-in), db masked; db's own file needs cache, also masked."""
    write(r, f"{USR}/web.service", "[Unit]\nRequires=app.service\nAfter=app.service\n[Service]\nExecStart=/bin/true\n")
    write(r, f"{USR}/app.service", STATIC.format(d="app"))
    write(r, f"{ETC}/app.service.d/10-db.conf", "[Unit]\nRequires=db.service\n")
    write(r, f"{USR}/db.service", "[Unit]\nRequires=cache.service\n[Service]\nExecStart=/bin/true\n")
    link(r, f"{ETC}/db.service", "/dev/null")
    write(r, f"{USR}/cache.service", STATIC.format(d="cache"))
    link(r, f"{RUN}/cache.service", "/dev/null")


def template(r: Path) -> None:
    write(r, f"{USR}/getty@.service", SERVICE.format(d="getty %i"))
    link(r, f"{ETC}/getty@.service", "/dev/null")


def socket(r: Path) -> None:
    """A socket-activated service, itself masked; the socket is disabled (no sockets.target.wants yet)."""
    write(r, f"{USR}/foo.service", STATIC.format(d="foo"))
    write(r, f"{USR}/foo.socket", SOCKET.format(d="foo"))
    link(r, f"{ETC}/foo.service", "/dev/null")


def dropin(r: Path) -> None:
    """The ExecStart= drop-in is masked by the admin (bad-setting); a second drop-in mask hides nothing."""
    write(r, f"{USR}/x.service", "[Unit]\nDescription=x\n[Service]\nType=simple\n")
    write(r, f"{USR}/x.service.d/10-exec.conf", "[Service]\nExecStart=/bin/true\n")
    link(r, f"{ETC}/x.service.d/10-exec.conf", "/dev/null")
    link(r, f"{ETC}/x.service.d/20-nothing.conf", "/dev/null")


def vendor(r: Path) -> None:
    link(r, f"{USR}/x.service", "/dev/null")


def vendor_local(r: Path) -> None:
    """A mask in /usr/local/lib hides the real /usr/lib file: advice names the file to copy to /etc."""
    write(r, f"{USR}/x.service", SERVICE.format(d="x"))
    link(r, "usr/local/lib/systemd/system/x.service", "/dev/null")


def cmdline(r: Path) -> None:
    write(r, f"{USR}/x.service", SERVICE.format(d="x"))
    link(r, f"{EARLY}/x.service", "/dev/null")
    write(r, "etc/kernel/cmdline", "root=/dev/vda1 ro systemd.mask=x.service quiet\n")


def cmdline_and_etc(r: Path) -> None:
    cmdline(r)
    link(r, f"{ETC}/x.service", "/dev/null")


def multi(r: Path) -> None:
    """Several file steps in one fix: two masks of x, the mask of a socket-activated service and its socket to
    enable (a directory, then a link)."""
    both(r)
    write(r, f"{USR}/foo.service", STATIC.format(d="foo"))
    link(r, f"{RUN}/foo.service", "/dev/null")
    write(r, f"{USR}/foo.socket", SOCKET.format(d="foo"))


@dataclass(frozen=True)
class Scenario:
    build: Callable[[Path], None]
    units: tuple[str, ...]
    fixable: bool = True
    #: units whose state systemctl --root is-enabled must agree on after the fix
    states: tuple[str, ...] = ()


SCENARIOS = {
    "persistent": Scenario(persistent, ("x.service",), states=("x.service",)),
    "runtime": Scenario(runtime, ("x.service",), states=("x.service",)),
    "both": Scenario(both, ("x.service",), states=("x.service",)),
    "dependency-depth-2": Scenario(dependency, ("web.service",), states=("db.service", "cache.service")),
    "template": Scenario(template, ("getty@tty1.service",), states=("getty@.service", "getty@tty1.service")),
    "socket-activated": Scenario(socket, ("foo.service",), states=("foo.service", "foo.socket")),
    "masked-drop-in": Scenario(dropin, ("x.service",)),
    "vendor": Scenario(vendor, ("x.service",), fixable=False),
    "kernel-cmdline": Scenario(cmdline, ("x.service",), fixable=False),
    "multi": Scenario(multi, ("x.service", "foo.service"), states=("x.service", "foo.socket")),
}
FIXABLE = sorted(k for k, s in SCENARIOS.items() if s.fixable)


def build(tmp_path: Path, name: str, sub: str = "root") -> Path:
    root = base(tmp_path / sub)
    SCENARIOS[name].build(root)
    return root


def catalog(root: Path, scope: Scope = Scope.SYSTEM) -> Catalog:
    return open_catalog(str(root), scope, {})


# -- whole-tree snapshots ---------------------------------------------------------------------------------

Snap = dict[str, tuple]


def snapshot(root: Path, *, skip: Optional[str] = JOURNAL, times: bool = True) -> Snap:
    """Every path under ``root``: (type, link text | content | None, mode, mtime of links and files).

    ``skip``: a subtree left out (the journal, which a fix adds on purpose). Parent directories of the skipped
    subtree that exist only because of it are left out too.
    """
    out: Snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if skip and (rel == skip or rel.startswith(skip + "/")):
                continue
            st = os.lstat(p)
            mtime = st.st_mtime_ns if times else None
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", os.readlink(p), None, mtime)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, stat.S_IMODE(st.st_mode), None)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", Path(p).read_bytes(), stat.S_IMODE(st.st_mode), mtime)
            else:
                out[rel] = ("other", None, stat.S_IMODE(st.st_mode), mtime)
        # do not descend into symlinked directories (os.walk does not by default)
    if skip:
        # Directories that hold nothing but the journal were created for it.
        parts = skip.split("/")
        for i in range(len(parts) - 1, 0, -1):
            d = "/".join(parts[:i])
            if d in out and not any(k.startswith(d + "/") for k in out):
                del out[d]
    return out


def diff(a: Snap, b: Snap) -> list[str]:
    """Human-readable differences between two snapshots (empty: identical)."""
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.append(f"{k}: {a.get(k)!r} != {b.get(k)!r}")
    return out
