"""Exec checks on a real Debian root (tests/debroots.py), broken with Debian's own tools, compared with a boot of
the same tree (../shared/tools/pid1-container.sh).

``apt-get remove nginx`` (not purge) removes the nginx binary package; nginx.service stays behind in nginx-common,
so the unit still loads, but ``/usr/sbin/nginx`` (its ExecStartPre= and ExecStart=) is gone: ``systemctl start``
fails with the control process's exit code (203/EXEC), and so must our verdict, naming the binary and the line.
"""

from __future__ import annotations

import pathlib

import pytest
from tests import debroots
from tests.test_sysv_container import _require_container
from tests.test_sysv_debian import _boot

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.report import why


@pytest.fixture
def removed_nginx(tmp_path: pathlib.Path):
    with debroots.private_copy(tmp_path / "root") as root:
        debroots.chroot(root, "apt-get", "remove", "-y", "-qq", "nginx")
        yield root


def test_removed_nginx_binary_fails_the_start_at_its_exec_line(removed_nginx: pathlib.Path,
                                                                tmp_path: pathlib.Path) -> None:
    root = removed_nginx
    unit = root / "lib/systemd/system/nginx.service"
    assert unit.exists() and not (root / "usr/sbin/nginx").exists()
    r = why(open_catalog(str(root), Scope.SYSTEM, {}), "nginx.service")
    assert r.loaded.load_state.value == "loaded"
    assert not r.start.ok and r.start.blocker is not None
    blocker = r.start.blocker
    assert blocker.unit == "nginx.service" and blocker.reason == "exec-failed"
    assert "/usr/sbin/nginx" in blocker.detail and blocker.message == (
        "Job for nginx.service failed because the control process exited with error code.")
    # The line that names the missing program: the first Exec line that runs (ExecStartPre=, the control process).
    lines = unit.read_text().splitlines()
    exec_pre = next(i for i, line in enumerate(lines, 1) if line.startswith("ExecStartPre="))
    assert blocker.origin is not None and blocker.origin.line == exec_pre
    assert blocker.origin.path.endswith("/lib/systemd/system/nginx.service")
    finding = next(f for f in r.findings if f.id == "exec-failed")
    assert any(e.source.endswith(f"nginx.service:{exec_pre}") for e in finding.evidence)
    # The same tree booted: systemctl start fails, the control process could not exec (203/EXEC).
    out = _boot(_require_container(), root, tmp_path / "pid1",
                "systemctl start nginx.service; echo rc=$?; "
                "systemctl show -p LoadState,ActiveState,Result,ExecMainStatus nginx.service")
    assert "LoadState=loaded" in out and "rc=0" not in out and "ActiveState=failed" in out, out
    assert "Result=exit-code" in out, out
