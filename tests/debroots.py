"""Real Debian roots for tests: built once with mmdebstrap from the archive, cached under /tmp, copied to break.

API (import as ``from tests import debroots``):

- ``SERVICES``: the package list of the shared "stock services" root (openssh-server, nginx, chrony, cron,
  avahi-daemon, cups, mariadb-server, rsyslog, apache2-utils on top of systemd, systemd-sysv, dbus).
- ``root(packages=SERVICES, suite="bookworm") -> Path``: the cached root for ``minbase + packages`` (built on
  first use, ~40 s, under a lock so parallel tests and sessions build it once). **Read-only**: never change it;
  ``systemctl --root=… is-enabled`` and ``unitdoctor --root=…`` only read.
- ``private_copy(dest, packages=SERVICES, suite="bookworm")``: a context manager yielding a writable copy at
  ``dest`` for breaking with real tools (``chroot DEST apt-get remove …``, ``systemctl --root=DEST mask …``,
  a failing postinst). It is an overlayfs over the cached root when this process may mount (instant), else
  ``cp -a`` (~15 s); the overlay is unmounted on exit. ``dest`` must not exist yet.
- ``copy_of(tree, dest)``: the same for any tree (e.g. the booted container's base root).
- ``chroot(dest, *argv, env=None)``: run a command inside a copy (apt-get, dpkg …) with the usual
  noninteractive environment and policy-rc.d denying service starts; returns the CompletedProcess.
- ``require()``: skip the calling test when mmdebstrap is missing or the build fails (no network), fail
  under ``CI=true`` (CI installs mmdebstrap and reaches the archive).

The cache directory is ``$UD_DEBROOTS`` or ``/tmp/ud-debroots``, one directory per ``suite`` + sorted package
list (``bookworm-<sha1 of the list>``), with the list in ``.ud-packages``. The root another tool already built
at ``/tmp/ud-debroot/bookworm-services`` (same list) is used as the cache entry of ``SERVICES`` when present.
The archive is the one the host's apt uses for Debian (``URIs:`` of a deb822 source, or a ``deb`` line), else
``http://deb.debian.org/debian``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
from typing import Iterable, Iterator, Mapping, Optional, Sequence

import pytest

SERVICES: tuple[str, ...] = (
    "systemd", "systemd-sysv", "dbus", "openssh-server", "nginx", "chrony", "cron", "avahi-daemon", "cups",
    "mariadb-server", "rsyslog", "apache2-utils",
)
CACHE = pathlib.Path(os.environ.get("UD_DEBROOTS", "/tmp/ud-debroots"))
#: Roots built before this helper existed, by their package list.
_PREBUILT = {("bookworm", tuple(sorted(SERVICES))): pathlib.Path("/tmp/ud-debroot/bookworm-services")}
_DEFAULT_MIRROR = "http://deb.debian.org/debian"
_CI = os.environ.get("CI") == "true"


def _key(packages: Iterable[str], suite: str) -> tuple[str, tuple[str, ...]]:
    return suite, tuple(sorted(set(packages)))


def cache_dir(packages: Iterable[str] = SERVICES, suite: str = "bookworm") -> pathlib.Path:
    """The directory the root for ``packages`` lives (or will live) in."""
    suite, pkgs = _key(packages, suite)
    digest = hashlib.sha1("\n".join(pkgs).encode()).hexdigest()[:12]
    return CACHE / f"{suite}-{digest}"


def host_mirror() -> str:
    """The Debian archive URI the host's apt uses (first ``deb`` source naming a ``/debian`` archive)."""
    candidates: list[str] = []
    sources = pathlib.Path("/etc/apt/sources.list.d")
    for f in sorted(sources.glob("*.sources")) if sources.is_dir() else ():
        for m in re.finditer(r"(?m)^URIs:\s*(\S+)", f.read_text(errors="replace")):
            candidates.append(m.group(1))
    lists = [pathlib.Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))] if sources.is_dir() else []
    for f in lists:
        if f.is_file():
            for m in re.finditer(r"(?m)^deb\s+(?:\[[^]]*\]\s+)?(\S+)", f.read_text(errors="replace")):
                candidates.append(m.group(1))
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    return _DEFAULT_MIRROR


def _complete(path: pathlib.Path, packages: Sequence[str]) -> bool:
    """Whether ``path`` is a finished root with every package installed (dpkg status)."""
    try:
        status = (path / "var/lib/dpkg/status").read_text(errors="replace")
    except OSError:
        return False
    installed = set()
    for stanza in status.split("\n\n"):
        name = re.search(r"(?m)^Package: (\S+)$", stanza)
        if name and re.search(r"(?m)^Status: install ok installed$", stanza):
            installed.add(name.group(1))
    return all(p in installed for p in packages)


def _fail_or_skip(reason: str) -> None:
    if _CI:
        pytest.fail(f"a real Debian root is needed and CI=true requires it: {reason}", pytrace=False)
    pytest.skip(reason)


def require() -> None:
    """Skip (fail under CI=true) when roots cannot be built here: no mmdebstrap, not root."""
    if shutil.which("mmdebstrap") is None:
        _fail_or_skip("mmdebstrap is not installed (apt-get install mmdebstrap)")
    if os.geteuid() != 0:
        _fail_or_skip("building a Debian root with mmdebstrap needs root")


def root(packages: Iterable[str] = SERVICES, suite: str = "bookworm") -> pathlib.Path:
    """The cached root of ``minbase + packages``; built on first use. Do not modify it (use private_copy)."""
    suite, pkgs = _key(packages, suite)
    prebuilt = _PREBUILT.get((suite, pkgs))
    if prebuilt is not None and _complete(prebuilt, pkgs):
        return prebuilt
    target = cache_dir(pkgs, suite)
    if _complete(target, pkgs) and (target / ".ud-packages").is_file():
        return target
    require()
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".ud-packages").is_file() and _complete(target, pkgs):
            return target
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        log = CACHE / f"{target.name}.log"
        cmd = ["mmdebstrap", "--variant=minbase", "--mode=root", "--format=directory",
               "--include=" + ",".join(pkgs), suite, str(building), host_mirror()]
        with open(log, "w") as out:
            done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0 or not _complete(building, pkgs):
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            shutil.rmtree(building, ignore_errors=True)
            _fail_or_skip(f"mmdebstrap {suite} failed (exit {done.returncode}): {' | '.join(tail)}")
        (building / ".ud-packages").write_text("\n".join(pkgs) + "\n")
        os.rename(building, target)
    return target


def _mount_overlay(lower: pathlib.Path, dest: pathlib.Path, work: pathlib.Path) -> bool:
    upper, scratch = work / "upper", work / "work"
    upper.mkdir(parents=True)
    scratch.mkdir()
    dest.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={scratch}", str(dest)],
        capture_output=True, check=False)
    if done.returncode != 0:
        dest.rmdir()
        shutil.rmtree(work)
        return False
    return True


@contextlib.contextmanager
def private_copy(dest: pathlib.Path, packages: Iterable[str] = SERVICES,
                 suite: str = "bookworm") -> Iterator[pathlib.Path]:
    """Yield a writable copy of the cached root at ``dest`` (overlayfs, else cp -a); removed on exit."""
    with copy_of(root(packages, suite), dest) as c:
        yield c


@contextlib.contextmanager
def copy_of(lower: pathlib.Path, dest: pathlib.Path) -> Iterator[pathlib.Path]:
    """Yield a writable copy of any tree ``lower`` at ``dest`` (overlayfs, else cp -a); removed on exit."""
    dest = pathlib.Path(dest)
    work = dest.with_name(dest.name + ".overlay")
    mounted = os.geteuid() == 0 and shutil.which("mount") is not None and _mount_overlay(lower, dest, work)
    if not mounted:
        subprocess.run(["cp", "-a", "--reflink=auto", str(lower), str(dest)], check=True)
    try:
        yield dest
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(dest)], check=False)
            shutil.rmtree(work, ignore_errors=True)
            with contextlib.suppress(OSError):
                dest.rmdir()
        else:
            shutil.rmtree(dest, ignore_errors=True)


def chroot(dest: pathlib.Path, *argv: str, env: Optional[Mapping[str, str]] = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside the copy at ``dest`` (as dpkg/apt would on that system; no service is started)."""
    policy = pathlib.Path(dest) / "usr/sbin/policy-rc.d"
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    environ = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8",
               "HOME": "/root"}
    environ.update(env or {})
    return subprocess.run(["chroot", str(dest), *argv], env=environ, capture_output=True, text=True, check=check)
