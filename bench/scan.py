#!/usr/bin/env python3
"""`unitdoctor scan --json` against `systemd-analyze verify` of every unit, side by side.

Usage: bench/scan.py [--rounds N] [--sample K] [--profile] [--no-host]

systemd has no command that checks a whole system at once; the nearest is `systemd-analyze verify --root R U`
for each unit U (about 0.1 s per unit). Running it for 10,000 units takes ~17 minutes, so the peer is **sampled**:
K units (default 20, spread over the list) are verified in fresh processes and the median is multiplied by the
number of unit files. The printed peer time says "sampled K of N, extrapolated". Both sides are fresh processes
(bench/harness.py).

Cases:
1. A generated 10,000-unit root (bench/roots.py, plus default.target → multi-user.target so there is a boot to
   predict). Goal (issue 9): scan --json in under 3 s in a fresh process.
2. This machine's `/` (`scan --json --offline`; skipped with --no-host). Goal: under 0.5 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    ENV,
    UNITDOCTOR,
    build_root,
    goal,
    interleave,
    load_average,
    main_args,
    median,
    profile,
    report_line,
    run,
)


def unit_files(root: str) -> list[str]:
    """The unit files `scan` lists (from its own JSON would be circular: ask systemd's list-unit-files)."""
    p = subprocess.run(["systemctl", f"--root={root}", "list-unit-files", "--no-legend", "--no-pager"],
                       capture_output=True, text=True, env=ENV, check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip() and "@." not in line.split()[0]]


def verify_sample(root: str, units: list[str], k: int) -> list[float]:
    step = max(1, len(units) // k)
    sample = units[::step][:k]
    times = []
    for u in sample:
        dt, _ = run(["systemd-analyze", "verify", f"--root={root}", u])
        times.append(dt)
    return times


def case(label: str, root: str, argv: list[str], rounds: int, k: int, limit: float) -> None:
    print(f"\n{label} (load {load_average()})")
    times, last = interleave({"scan": [*UNITDOCTOR, *argv]}, rounds)
    doc = json.loads(last["scan"].stdout)
    n = doc["unit_files"]
    report_line("unitdoctor scan --json", times["scan"])
    print(f"    {n} unit files, boot: {len(doc['boot']['units'])} units predicted, {len(doc['masks'])} masks, "
          f"{len(doc['findings'])} findings")
    units = unit_files(root)
    vt = verify_sample(root, units, k)
    per = median(vt)
    peer = per * len(units)
    print(f"  systemd-analyze verify, per unit              {per * 1000:8.1f} ms  (median of {len(vt)})")
    print(f"  systemd-analyze verify, all {len(units)} units  ~{peer:8.1f} s   (sampled {len(vt)} of {len(units)}, "
          "extrapolated)")
    print(f"  ratio: scan is ~{peer / median(times['scan']):.0f}x faster than verifying each unit")
    goal(f"scan --json under {limit} s in a fresh process", median(times["scan"]) < limit)


def main(argv: list[str]) -> int:
    _, flags = main_args(argv)
    rounds = int(flags.get("rounds", "3"))
    k = int(flags.get("sample", "20"))
    with tempfile.TemporaryDirectory(prefix="ud-bench-scan-") as tmp:
        root = build_root(tmp, 10000)
        vendor = root / "usr/lib/systemd/system"
        os.symlink("multi-user.target", vendor / "default.target")
        (vendor / "rescue.target").write_text("[Unit]\nDescription=rescue\n")
        case("10,000-unit root", str(root), ["--root", str(root), "scan", "--json"], rounds, k, 3.0)
        if "profile" in flags:
            profile(["--root", str(root), "scan", "--json"])
    if "no-host" not in flags:
        case("this machine's /", "/", ["scan", "--json", "--offline"], rounds, k, 0.5)
        if "profile" in flags:
            profile(["scan", "--json", "--offline"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
