"""Work bounded by the input (issue 13): crafted unit files finish within a CPU budget, as real processes.

Budgets are generous ceilings (a hang or a quadratic pass fails, a slow machine does not); nothing here
asserts a speed. systemd-analyze verify takes ~0.05 s on the first input and ~2 s on the second.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"}


def _why(root: Path, unit: str, cpu_seconds: int) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", str(root), "why", unit], env=ENV,
                       capture_output=True, text=True, preexec_fn=limit, timeout=600)
    assert p.returncode in (0, 1), (p.returncode, p.stderr[-2000:])  # SIGXCPU would be -24
    return p


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "usr/lib/systemd/system").mkdir(parents=True)
    return tmp_path


def test_a_unit_with_10000_garbage_lines(root):
    lines = ["[Unit]", "Description=x", "[Service]", "ExecStart=/bin/true"]
    lines += [f"garbage line {i} {i * 7919 % 100003:x}" for i in range(10000)]
    (root / "usr/lib/systemd/system/g.service").write_text("\n".join(lines) + "\n")
    p = _why(root, "g.service", 15)
    assert "g.service:5  Missing '=', ignoring line." in p.stdout  # each one reported
    assert "g.service:10004  Missing '=', ignoring line." in p.stdout


def test_15_mb_of_zero_bytes_named_like_a_unit(root):
    with open(root / "usr/lib/systemd/system/z.service", "wb") as f:
        f.write(b"\0" * (15 << 20))  # every NUL ends a line for read_line(): 15 million empty lines
    p = _why(root, "z.service", 15)
    assert "bad unit file setting" in p.stdout  # as systemd: no ExecStart=


def test_a_line_over_systemds_1_mib_limit_fails_the_load_like_systemd(root):
    (root / "usr/lib/systemd/system/long.service").write_text(
        "[Unit]\nDescription=" + "a" * (1 << 20) + "\n[Service]\nExecStart=/bin/true\n")
    p = _why(root, "long.service", 15)
    assert "Line too long" in p.stdout and "error" in p.stdout


def test_a_dependency_chain_3000_units_deep(root):
    """Found by the campaign: c0 → c1 → … → c3000 (Requires=), c3000 masked, every unit also Wants= another of the
    chain. The walk recursed past Python's limit (RecursionError, exit 70), and its findings compared every
    chain with every other (the blockers' de-duplication and the dependency evidence: 26 s of CPU at 1,000)."""
    usr, n = root / "usr/lib/systemd/system", 3000
    for i in range(n):
        (usr / f"c{i}.service").write_text(f"[Unit]\nRequires=c{i + 1}.service\nAfter=c{i + 1}.service\n"
                                           f"Wants=c{i * 7 % n}.service\n[Service]\nExecStart=/bin/true\n")
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / f"etc/systemd/system/c{n}.service").symlink_to("/dev/null")
    p = _why(root, "c0.service", 60)
    assert p.returncode == 1 and f"it needs c{n}.service, which is masked" in p.stdout, p.stdout[-2000:]
