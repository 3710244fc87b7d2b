"""Leftover init scripts on a real Debian root (tests/debroots.py), broken with Debian's own tools, compared with
``systemctl --root`` and with a boot of the same tree (../shared/tools/pid1-container.sh).

- ``apt-get remove cron`` (not purge): bookworm's postrm (debhelper 13) makes /etc/init.d/cron non-executable, so
  systemd-sysv-generator skips it and cron.service is not found, while ``systemctl is-enabled`` still hands the name to
  systemd-sysv-install and says enabled.
- The older packaging (deb-systemd-helper masks the unit on remove, the script stays executable): masked while the
  mask is there; once it is removed, systemd builds cron.service from the leftover script, starts it and reports it
  active, although /usr/sbin/cron is gone (the script exits 0 without its daemon).
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
from tests import debroots
from tests.test_sysv_container import _require_container

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.report import why


def _boot(script: pathlib.Path, tree: pathlib.Path, work: pathlib.Path, command: str) -> str:
    """Boot ``tree`` (a writable copy: the container adds its own throw-away overlay on top) and run ``command``."""
    (tree / ".pid1-complete").touch()
    work.mkdir()
    (work / "root").symlink_to(tree)
    done = subprocess.run([str(script), "--", "bash", "-c", command], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PID1_DIR": str(work)}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _systemctl(root: pathlib.Path, *args: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "SYSTEMCTL_SKIP_SYSV"}
    p = subprocess.run(["systemctl", f"--root={root}", *args], capture_output=True, text=True, env=env, check=False)
    return p.stdout.strip(), p.returncode


@pytest.fixture
def removed_cron(tmp_path: pathlib.Path):
    with debroots.private_copy(tmp_path / "root") as root:
        debroots.chroot(root, "apt-get", "remove", "-y", "-qq", "cron")
        yield root


def test_removed_cron_leaves_a_non_executable_script(removed_cron: pathlib.Path, tmp_path: pathlib.Path) -> None:
    root = removed_cron
    assert not os.access(root / "etc/init.d/cron", os.X_OK)
    r = why(open_catalog(str(root), Scope.SYSTEM, {}), "cron.service")
    assert (r.start.ok, r.loaded.load_state.value) == (False, "not-found")
    assert (r.state.state.value, r.state.sysv is not None) == ("enabled", True)
    assert _systemctl(root, "is-enabled", "cron.service") == ("enabled", 0)
    ids = {f.id: f for f in r.findings}
    assert "not executable" in ids["sysv-not-executable"].summary
    out = _boot(_require_container(), root, tmp_path / "pid1",
                "systemctl show -p LoadState cron.service; systemctl start cron.service; echo rc=$?")
    assert "LoadState=not-found" in out and "rc=5" in out


def test_leftover_script_after_the_mask_is_removed_starts_without_its_daemon(removed_cron: pathlib.Path,
                                                                             tmp_path: pathlib.Path) -> None:
    root = removed_cron
    (root / "etc/init.d/cron").chmod(0o755)  # as packages built before debhelper 13.? left it
    # What an older cron.postrm ran on remove (deb-systemd-helper insists on being called from dpkg).
    debroots.chroot(root, "deb-systemd-helper", "mask", "cron.service",
                    env={"DPKG_MAINTSCRIPT_PACKAGE": "cron", "DPKG_MAINTSCRIPT_NAME": "postrm"})
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    masked = why(cat, "cron.service")
    assert (masked.start.ok, masked.start.blocker.reason) == (False, "masked")  # type: ignore[union-attr]
    assert _systemctl(root, "is-enabled", "cron.service") == ("masked", 1)
    assert _systemctl(root, "unmask", "cron.service")[1] == 0
    r = why(open_catalog(str(root), Scope.SYSTEM, {}), "cron.service")
    assert r.start.ok and r.loaded.fragment == "/run/systemd/generator.late/cron.service"
    ids = {f.id: f for f in r.findings}
    assert {"sysv-generated", "sysv-leftover"} <= set(ids)
    assert any("DAEMON=/usr/sbin/cron" in e.text for e in ids["sysv-leftover"].evidence)
    out = _boot(_require_container(), root, tmp_path / "pid1",
                "systemctl show -p LoadState,ActiveState,SubState,FragmentPath cron.service; "
                "systemctl start cron.service; echo rc=$?; systemctl show -p ActiveState,SubState cron.service; "
                "pgrep -x cron || echo no-daemon")
    assert "LoadState=loaded" in out and "FragmentPath=/run/systemd/generator.late/cron.service" in out
    assert "rc=0" in out and "ActiveState=active" in out and "no-daemon" in out
