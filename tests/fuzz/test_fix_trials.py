"""Fix trials under faults (issue 13), as tests: a full disk (a tiny tmpfs), read-only bind mounts (a layer, the
journal directory, its quarantine), kill -9 at a random moment of a fix or an undo, two fixes at once on a root
without a journal. What each trial checks is in ``tests/fuzz/faults.py``. The mounts are made in a private
mount namespace (``unshare --mount``), so nothing outlives the test. ``UNITDOCTOR_FIX_TRIALS`` sets the trials
per kind (default 4; ``scripts/fuzz --long``: 40).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.fuzz import faults

REPO = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("UNITDOCTOR_FIX_TRIALS", "4"))


def _namespace(kind: str, tmp: Path, setup: str = "") -> dict:
    reason = None
    if os.geteuid() != 0:
        reason = "needs root for a private mount namespace"
    elif shutil.which("unshare") is None:
        reason = "unshare is not installed"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    script = f'{setup}exec {sys.executable} -m tests.fuzz.faults "$0" "$1" "$2"'
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, kind, str(tmp),
                        str(TRIALS)], env=faults.ENV, cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.splitlines()[-1])


def _report(kind: str, result: dict) -> None:
    print(f"fix trials, {kind}: {result['tally']}, {len(result['problems'])} problems")
    assert result["problems"] == [], "\n".join(result["problems"])


def test_a_full_disk_at_every_point_of_a_fix_loses_nothing_and_blocks_nothing(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    _report("full disk", _namespace("full-disk", disk, 'mount -t tmpfs -o size=256k tmpfs "$1" && '))


def test_read_only_layers_and_journal_lose_nothing_and_block_nothing(tmp_path):
    _report("read-only", _namespace("read-only", tmp_path))


def test_kill_9_at_random_moments_of_fix_and_undo_then_recover(tmp_path):
    problems, tally = faults.kill_9(tmp_path, TRIALS)
    _report("kill -9", {"problems": problems, "tally": tally})


def test_two_fixes_at_once_on_a_root_without_a_journal(tmp_path):
    problems, tally = faults.at_once(tmp_path, TRIALS)
    _report("two at once", {"problems": problems, "tally": tally})
