"""The hostile-root campaign (issue 13): every command on generated hostile roots finishes, prints no
traceback and no raw control character, and reads nothing outside the root (strace).

Roots come from ``tests/fuzz/hostile.py`` (seeded). Each seed runs ``why -v`` on every generated name,
``why --json``, ``states`` (text and JSON), ``scan``, ``fix --dry-run``, ``history`` (text and JSON),
``fix --recover``, ``fix --yes`` and ``undo --yes`` as real processes under ``strace -f``, each under a CPU
budget. Every path the process and its children (rpm, journalctl) opened, stat'ed or read a link
of is collected, with the real path of every descriptor (``strace -y``: what a kernel-followed link
resolved to); none may be inside the canary directory beside the root. Default 6 seeds
(``UNITDOCTOR_HOSTILE_SEEDS`` raises it; ``scripts/fuzz --long``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.fuzz import hostile

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", "NO_COLOR": "1"}
SEEDS = int(os.environ.get("UNITDOCTOR_HOSTILE_SEEDS", "6"))
BUDGET = 600  # wall clock, under strace on a loaded machine; the real limit is the CPU budget
CPU = 60  # seconds of CPU per command (strace included): past it, SIGXCPU, a failure
PATHS = re.compile(rb'"(/[^"]*)"|<(/[^>]*)>')  # path arguments, and the real paths of descriptors (-y)
#: readlink's buffer: the text of the link (what it points to, not a path touched), then the size
LINK_TEXT = re.compile(rb'^(\d+ +readlink(?:at)?\(.*), "(?:[^"\\]|\\.)*"(?:\.\.\.)?, \d+\) = ')
TRACED = "open,openat,openat2,stat,lstat,newfstatat,statx,readlink,readlinkat,execve,access,faccessat,faccessat2"


def _commands(names: list[str]) -> list[list[str]]:
    return [["why", "-v", "--", *names], ["why", "--json", "--", *names], ["states"], ["states", "--json"],
            ["scan"], ["fix", "--dry-run", "--", *names[:4]], ["history"], ["history", "--json"],
            ["fix", "--recover"], ["fix", "--yes", "--", *names[:3]], ["undo", "--yes"]]


def _traced(root: Path, argv: list[str], log: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "unitdoctor", "--root", str(root), *argv]
    if shutil.which("strace"):
        # -s: whole strings (strace cuts them at 32 bytes by default, and a cut path matches nothing)
        cmd = ["strace", "-f", "-qq", "-y", "-s", "4096", "-e", f"trace={TRACED}", "-o", str(log), *cmd]
    return subprocess.run(cmd, env=ENV, cwd=REPO, capture_output=True, timeout=BUDGET, stdin=subprocess.DEVNULL,
                          preexec_fn=hostile.limited(CPU))


def run_seed(tmp_path: Path, seed: int) -> list[str]:
    """Problems found on one seed's root (empty: none)."""
    problems = []
    root, names = hostile.build(tmp_path / f"s{seed}", seed)
    outside = os.fsencode(root.parent / "outside")
    for i, argv in enumerate(_commands(names)):
        log = tmp_path / f"s{seed}-{i}.strace"
        try:
            p = _traced(root, argv, log)
        except subprocess.TimeoutExpired:
            problems.append(f"seed {seed}: {argv[0]} did not finish in {BUDGET} s")
            continue
        problems += hostile.judge(f"seed {seed}: {' '.join(argv[:2])}", p, json_out="--json" in argv)
        if log.exists():
            for line in log.read_bytes().splitlines():
                paths = [a or b for a, b in PATHS.findall(LINK_TEXT.sub(rb"\1, TEXT, N) = ", line))]
                if any(x == outside or x.startswith(outside + b"/") for x in paths):
                    problems.append(f"seed {seed}: {argv[0]} touched outside the root: {line[:200]!r}")
                    break
    return problems


@pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("strace"), reason="needs strace")
def test_hostile_roots_finish_safely_and_stay_inside(tmp_path):
    if not shutil.which("strace"):
        if os.environ.get("CI") == "true":
            pytest.fail("strace is not installed (scripts/test installs it)")
        pytest.skip("strace is not installed (Debian package strace; scripts/test installs it)")
    problems = []
    for seed in range(SEEDS):
        found = run_seed(tmp_path, seed)
        problems += found
        print(f"hostile root {seed}: {len(_commands(['x']))} traced runs, {len(found)} problems", *found, sep="\n  ",
              flush=True)  # progress, for a long run stopped part way
    print(f"hostile roots: {SEEDS} seeds × {len(_commands(['x']))} commands = {SEEDS * len(_commands(['x']))} "
          f"traced runs, {len(problems)} problems")
    assert problems == [], "\n".join(problems)
