#!/usr/bin/env python3
"""`unitdoctor states` (all unit files) against `systemctl --root list-unit-files`, side by side.

Usage: bench/states.py [N ...]   (default: 1000 10000). Prints our time, systemctl's, the ratio,
and checks that both list the same (unit, state) pairs. systemctl is quadratic: 10,000 units take
minutes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from roots import build  # noqa: E402
from unitdoctor import install  # noqa: E402
from unitdoctor.catalog import open_catalog  # noqa: E402
from unitdoctor.lookup import Scope  # noqa: E402


def ours(root: Path) -> tuple[float, list[tuple[str, str]]]:
    t = time.perf_counter()
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    res = install.list_unit_files(cat)
    dt = time.perf_counter() - t
    return dt, [(r.name, r.state.value) for r in res]


def theirs(root: Path) -> tuple[float, list[tuple[str, str]]]:
    t = time.perf_counter()
    p = subprocess.run(["systemctl", f"--root={root}", "list-unit-files", "--no-legend", "--no-pager", "--full"],
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "SYSTEMCTL_SKIP_SYSV": "1"})
    dt = time.perf_counter() - t
    rows = [tuple(line.split()[:2]) for line in p.stdout.splitlines() if line.strip()]
    return dt, rows  # type: ignore[return-value]


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    ok = True
    print(f"{'units':>7} {'unitdoctor':>11} {'systemctl':>10} {'ratio':>8}  same answer")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = build(Path(tmp) / "root", n)
            ours(root)  # warm the page cache for both
            t1, a = min((ours(root) for _ in range(3)), key=lambda x: x[0])
            t2, b = theirs(root)
            same = a == b
            ok &= same
            print(f"{n:>7} {t1:>10.3f}s {t2:>9.3f}s {t2 / t1:>7.1f}x  {'yes' if same else 'NO'}", flush=True)
            if not same:
                diff = [x for x in zip(a, b) if x[0] != x[1]][:5]
                print("   first differences (ours, systemctl):", diff, f"lengths {len(a)} {len(b)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
