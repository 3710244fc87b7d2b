#!/usr/bin/env python3
"""`unitdoctor why UNIT` on one unit of a large root, beside `systemctl --root is-enabled UNIT`.

Usage: bench/why.py [N]   (default 10000). Both run as fresh processes (cold start included), best
of 5; prints both times and the ratio. `why` does much more (manager model, dependency closure,
findings) than `is-enabled`; the target is at most 3x its time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from roots import build  # noqa: E402


def best(cmd: list[str], env: dict[str, str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    env = {"PATH": "/usr/bin:/bin", "SYSTEMCTL_SKIP_SYSV": "1",
           "PYTHONPATH": str(HERE.parent / "src"), "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        root = build(Path(tmp) / "root", n)
        unit = "svc00002.service"
        ours = best([sys.executable, "-m", "unitdoctor", "--root", str(root), "why", unit], env)
        theirs = best(["systemctl", f"--root={root}", "is-enabled", unit], env)
        print(f"units={n} unit={unit}")
        print(f"unitdoctor why        {ours:8.3f}s")
        print(f"systemctl is-enabled  {theirs:8.3f}s")
        print(f"ratio (ours/theirs)   {ours / theirs:8.2f}x  (target <= 3x)")
        base = best([sys.executable, "-c", "pass"], env)
        version = best([sys.executable, "-m", "unitdoctor", "--version"], env)
        print(f"python -c pass        {base:8.3f}s (interpreter start on this machine)")
        print(f"unitdoctor --version  {version:8.3f}s (+{(version - base) * 1000:.0f} ms over a bare interpreter)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
