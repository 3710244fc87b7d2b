#!/usr/bin/env python3
"""`unitdoctor states` (all unit files) against `systemctl --root list-unit-files`, side by side.

Usage: bench/states.py [--rounds N] [--profile] [--full] [--variety] [N ...]   (default sizes: 1000 10000)

The root is bench/roots.py's with a preset policy like Debian's (so the PRESET column is computed as on a
real system); ``--variety`` makes a fifth of its units take the other shapes the install logic tells apart.

Fresh processes on both sides, interleaved rounds, medians (bench/harness.py); both print the
table, and every row (unit, state, preset) must be the same. systemctl's listing is quadratic in
the number of unit files (each file's state rescans the search path): at 10,000 units one run
takes about nine minutes here. So at 10,000 units (any size above 2,000) systemctl is *sampled*
unless ``--full`` is given: one `systemctl is-enabled` process answers for 100 names picked at
random, and our rows for those names must match; our listing is timed as usual.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
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
    same,
)

SAMPLE = 100
LIST = ["systemctl", "list-unit-files", "--no-pager", "--full"]


def rows(text: str) -> list[tuple[str, ...]]:
    """The (unit, state, preset) rows of a list-unit-files table, without header and footer."""
    out = []
    for line in text.splitlines():
        w = tuple(line.split())
        if not w or w[0] == "UNIT" or line.endswith("unit files listed."):
            continue
        out.append(w)
    return out


def first_difference(a: list, b: list) -> str:
    diff = [x for x in zip(a, b) if x[0] != x[1]][:3]
    return f"first differences (ours, systemctl): {diff}, lengths {len(a)} {len(b)}"


def main() -> int:
    sizes_, flags = main_args(sys.argv[1:])
    sizes = [int(a) for a in sizes_] or [1000, 10000]
    rounds = int(flags.get("rounds", "11"))
    print(f"bench/states.py: {rounds} interleaved rounds, fresh processes; load average {load_average()}")
    met = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="ud-bench-states-") as tmp:
            root = build_root(tmp, n, presets=1, variety=int("variety" in flags))
            ours = [*UNITDOCTOR, "--root", str(root), "states"]
            theirs = [LIST[0], f"--root={root}", *LIST[1:]]
            print(f"\n{n} units: states (all) against list-unit-files")
            if n <= 2000 or "full" in flags:
                cases = {"unitdoctor states": ours, "systemctl list-unit-files": theirs,
                         "python3 -c pass": [sys.executable, "-c", "pass"]}
                times, last = interleave(cases, rounds if n <= 2000 else 1)
                for k, xs in times.items():
                    report_line(k, xs, cases[k])
                a, b = rows(last["unitdoctor states"].stdout), rows(last["systemctl list-unit-files"].stdout)
                same(f"all {len(b)} rows", a == b, first_difference(a, b))
                t_ours, t_sd = median(times["unitdoctor states"]), median(times["systemctl list-unit-files"])
                bare = median(times["python3 -c pass"])
                print(f"  ratio systemctl/ours: {t_sd / t_ours:.1f}x; ours over a bare interpreter: "
                      f"{(t_ours - bare) * 1000:.1f} ms")
                if n == 1000:
                    met.append(goal("states at 1,000 units >= 20x faster than list-unit-files", t_sd / t_ours >= 20))
                    met.append(goal("states at 1,000 units <= ~60 ms", t_ours <= 0.065))
            else:
                times, last = interleave({"unitdoctor states": ours}, rounds)
                report_line("unitdoctor states", times["unitdoctor states"], ours)
                t_ours = median(times["unitdoctor states"])
                listed = {r[0]: r[1] for r in rows(last["unitdoctor states"].stdout)}
                pick = random.Random(n).sample(sorted(listed), min(SAMPLE, len(listed)))
                dt, p = run(["systemctl", f"--root={root}", "is-enabled", *pick])
                got = p.stdout.split()
                want = [listed[u] for u in pick]
                print(f"  systemctl sampled: one is-enabled process for {len(pick)} random names took "
                      f"{dt:.2f} s (a full list-unit-files at this size takes minutes; --full runs it)")
                same(f"{len(pick)} sampled names vs is-enabled", got == want, first_difference(want, got))
            if n == 10000:
                met.append(goal("states at 10,000 units < 0.5 s", t_ours < 0.5))
            if "profile" in flags:
                profile(["--root", str(root), "states"])
    print(f"\ngoals met: {sum(met)}/{len(met)}; load average now {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
