"""Dependencies systemd adds by itself, checked against systemd's own loader (systemd-analyze verify --root).

System services, sockets, timers and paths with DefaultDependencies=yes get Requires=sysinit.target
(service_add_default_dependencies() and friends, v252). verify prints the start job's failure as
``U: Failed to create U/start: MESSAGE``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.transaction import predict_start

UNITS = {
    "a.service": "[Service]\nType=oneshot\nExecStart=/bin/true\n",
    "a.socket": "[Socket]\nListenStream=/run/a.sock\n",
    "b.timer": "[Timer]\nOnActiveSec=1h\n",
    "b.service": "[Service]\nType=oneshot\nExecStart=/bin/true\n",
    "nodeps.service": "[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nExecStart=/bin/true\n",
}


def _verify(root: Path, unit: str) -> str:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing")
        pytest.skip("systemd-analyze is missing")
    p = subprocess.run([exe, "verify", "--man=no", f"--root={root}", unit], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "SYSTEMD_LOG_LEVEL": "err"})
    return "\n".join(line for line in p.stderr.splitlines() if "Failed to create" in line)


@pytest.mark.parametrize("with_sysinit", [False, True])
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_sysinit_target_is_required_by_default(tmp_path: Path, unit: str, with_sysinit: bool) -> None:
    etc = tmp_path / "etc/systemd/system"
    etc.mkdir(parents=True)
    for name, text in UNITS.items():
        (etc / name).write_text(text)
    if with_sysinit:
        (etc / "sysinit.target").write_text("[Unit]\n")
    theirs = _verify(tmp_path, unit)
    p = predict_start(Manager(open_catalog(str(tmp_path), Scope.SYSTEM, {})), unit)
    if theirs:
        assert not p.ok and p.blocker is not None
        assert theirs == f"{unit}: Failed to create {unit}/start: {p.blocker.message}"
    else:
        assert p.ok
    assert p.ok == (with_sysinit or unit == "nodeps.service")
