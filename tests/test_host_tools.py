"""Host programs, explicitly (issue 13; docs/host-tools.md): ``--no-host-tools`` and
``UNITDOCTOR_NO_HOST_TOOLS=1`` run none, the rpm database is then read directly (same owners), and with
them allowed rpm runs once per unit, not once per drop-in.

A wrapper named ``rpm``/``journalctl`` first on ``PATH`` logs every run (then runs the real one, if any).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_packages import _rpm_root, rpm_package  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[1]


def _wrappers(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "runs.log"
    bin_dir.mkdir()
    for tool in ("rpm", "journalctl"):
        real = shutil.which(tool) or "/bin/false"
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\nexec {real} "$@"\n')
        (bin_dir / tool).chmod(0o755)
    return bin_dir, log


def _why(root: Path, bin_dir: Path, *argv: str, env: dict | None = None) -> dict:
    e = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", "PATH": f"{bin_dir}:{os.environ['PATH']}",
         **(env or {})}
    p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", str(root), "why", "-v", "--json", *argv],
                       env=e, capture_output=True, text=True, timeout=300)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)[0]


def _runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _owner_text(doc: dict) -> list[str]:
    return [e["text"] for f in doc["findings"] if f["id"] == "packaged-by" for e in f["evidence"]]


@pytest.mark.parametrize("how", [("--no-host-tools",), ("env",)])
def test_no_host_tools_runs_none_and_reads_rpmdb_sqlite_directly(tmp_path, rpm_package, how):  # noqa: F811
    root = _rpm_root(tmp_path, rpm_package)
    (root / "var/log/journal").mkdir(parents=True)
    (root / "var/log/journal/system.journal").write_bytes(b"LPKSHHRH")  # journalctl would be asked
    bin_dir, log = _wrappers(tmp_path)
    allowed = _why(root, bin_dir, "xdemo.service")
    assert any(r.startswith("rpm ") for r in _runs(log))  # the wrapper sees runs: the test can fail
    log.unlink()
    if how == ("env",):
        doc = _why(root, bin_dir, "xdemo.service", env={"UNITDOCTOR_NO_HOST_TOOLS": "1"})
    else:
        doc = _why(root, bin_dir, "xdemo.service", *how)
    assert _runs(log) == []
    assert _owner_text(doc) == _owner_text(allowed) != []  # the same owner, read from rpmdb.sqlite
    notes = {(s["source"], s["status"]): s["text"] for s in doc["sources"]}
    assert "rpmdb.sqlite read directly" in notes[(f"{root}/var/lib/rpm", "read")]


def test_rpm_runs_once_per_unit_not_per_drop_in(tmp_path, rpm_package):  # noqa: F811
    root = _rpm_root(tmp_path, rpm_package)
    d = root / "etc/systemd/system/xdemo.service.d"
    d.mkdir(parents=True)
    for i in range(200):
        (d / f"{i:03d}.conf").write_text(f"[Unit]\nDescription=drop-in {i}\n")
    bin_dir, log = _wrappers(tmp_path)
    doc = _why(root, bin_dir, "xdemo.service")
    queries = [r for r in _runs(log) if r.startswith("rpm ") and " -q " in f" {r} "]
    assert len(queries) == 1, queries
    assert _owner_text(doc)  # and the owner is still found
