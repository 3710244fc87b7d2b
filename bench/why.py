#!/usr/bin/env python3
"""`unitdoctor why` against `systemd-analyze verify --root` of the same unit, and our start-up floor.

Usage: bench/why.py [--rounds N] [--profile] [--no-host] [--small]

Fresh processes on both sides, interleaved rounds, medians (bench/harness.py). Cases:

1. A generated 10,000-unit root (bench/roots.py) whose ``app0000.service`` pulls ~1,000 units
   into its start transaction: `why` against `systemd-analyze verify`, which also loads the
   closure and builds a test transaction for the unit. Same answer: both say it can start, or
   both name the same failure ("Failed to create U/start: MSG" against our verdict line).
2. A small example root (examples/roots/masked-dependency): `why app.service`, and verify.
3. `unitdoctor --version` against a bare interpreter (`python3 -c pass`), beside the interpreter's own
   start without ``site`` (`python3 -S -c pass`; `-I`, isolated, still runs ``site``) and case 2's
   `why` under `python3 -S`: what ``site`` costs on this machine (its ``.pth`` files: a sandbox's
   certifi hook here) is not ours; ``why -S`` minus ``-S -c pass`` is.
4. `why` on every unit file of this machine's `/` in one call (`--offline`; skipped with --no-host).

``--small`` runs cases 2 and 3 only (no 10,000-unit root). ``--profile`` adds cProfile's top entries
and the import times for cases 1, 2 and 4.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    ENV,
    HERE,
    UNITDOCTOR,
    build_root,
    cpu_median,
    goal,
    interleave,
    load_average,
    main_args,
    median,
    profile,
    report_line,
    same,
)

EXAMPLE = HERE.parent / "examples/roots/masked-dependency"


def verdict_of_why(p: subprocess.CompletedProcess, unit: str) -> str:
    """Our verdict line, reduced to "ok" or systemctl's failure message."""
    first = p.stdout.splitlines()[0] if p.stdout else ""
    if first.startswith(f"✓ {unit} can start"):
        return "ok"
    for prefix in (f"✗ {unit} cannot start: ", f"? {unit} may not start: "):
        if first.startswith(prefix):
            return first[len(prefix):]
    return f"? {first!r} {p.stderr[-300:]!r}"


def verdict_of_verify(p: subprocess.CompletedProcess, unit: str) -> str:
    """verify's test transaction: "ok" or the message after "Failed to create UNIT/start: "."""
    marker = f"Failed to create {unit}/start: "
    for line in p.stderr.splitlines():
        if marker in line:
            return line.split(marker, 1)[1]
    return "ok" if p.returncode == 0 else f"? rc={p.returncode} {p.stderr[-300:]!r}"


def compare_with_verify(label: str, root: Path, unit: str, rounds: int) -> tuple[float, float]:
    ours = [*UNITDOCTOR, "--root", str(root), "why", unit]
    theirs = ["systemd-analyze", "verify", f"--root={root}", "--man=no", unit]
    cases = {"unitdoctor why": ours, "systemd-analyze verify": theirs}
    times, last = interleave(cases, rounds)
    print(f"{label}: {unit}")
    for k, xs in times.items():
        report_line(k, xs, cases[k])
    a, b = verdict_of_why(last["unitdoctor why"], unit), verdict_of_verify(last["systemd-analyze verify"], unit)
    same("verdict", a == b, f"ours {a!r}, verify {b!r}")
    print(f"  ratio by cpu time: {cpu_median(ours) / cpu_median(theirs):.2f}x")
    return median(times["unitdoctor why"]), median(times["systemd-analyze verify"])


def host_units() -> list[str]:
    p = subprocess.run(["systemctl", "--root=/", "list-unit-files", "--no-legend", "--no-pager", "--full"],
                       capture_output=True, text=True, env=ENV, check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def main() -> int:
    _, flags = main_args(sys.argv[1:])
    rounds = int(flags.get("rounds", "11"))
    print(f"bench/why.py: {rounds} interleaved rounds per case, fresh processes; load average {load_average()}")
    met = []
    with tempfile.TemporaryDirectory(prefix="ud-bench-why-") as tmp:
        sys.path.insert(0, str(HERE))
        from roots import ANCHOR

        if "small" not in flags:
            root = build_root(tmp, 10000, closure=1000)
            ud, sd = compare_with_verify("\n1. 10,000-unit root, start transaction of ~1,000 units", root, ANCHOR,
                                         rounds)
            print(f"  ratio ours/verify: {ud / sd:.2f}x")
            met.append(goal("why on the 10,000-unit root <= 1.5x systemd-analyze verify of the same unit",
                            ud <= 1.5 * sd))

        ud, sd = compare_with_verify("\n2. small example root", EXAMPLE, "app.service", rounds)
        print(f"  ratio ours/verify: {ud / sd:.2f}x")
        met.append(goal("why on an example root < 100 ms in a fresh process", ud < 0.100))

        print("\n3. start-up floor")
        why_s = [sys.executable, "-S", *UNITDOCTOR[1:], "--root", str(EXAMPLE), "why", "app.service"]
        cases = {"unitdoctor --version": [*UNITDOCTOR, "--version"], "python3 -c pass": [sys.executable, "-c", "pass"],
                 "python3 -I -c pass": [sys.executable, "-I", "-c", "pass"],
                 "python3 -S -c pass (no site)": [sys.executable, "-S", "-c", "pass"],
                 "python3 -S -m unitdoctor why (example)": why_s}
        times, last = interleave(cases, rounds)
        for k, xs in times.items():
            report_line(k, xs, cases[k])

        def over(a: str, b: str) -> str:
            return (f"{(median(times[a]) - median(times[b])) * 1000:+.1f} ms "
                    f"({(cpu_median(cases[a]) - cpu_median(cases[b])) * 1000:+.1f} ms cpu)")

        same("version printed", last["unitdoctor --version"].stdout.startswith("unitdoctor "))
        same("why under -S", verdict_of_why(last["python3 -S -m unitdoctor why (example)"], "app.service")
             == "Unit db.service is masked.")
        print(f"  site (the interpreter's .pth files) costs {over('python3 -c pass', 'python3 -S -c pass (no site)')}")
        print(f"  why on the example, ours alone (-S, over -S -c pass): "
              f"{over('python3 -S -m unitdoctor why (example)', 'python3 -S -c pass (no site)')}")
        print(f"  --version costs {over('unitdoctor --version', 'python3 -c pass')} over a bare interpreter")
        met.append(goal("--version within 15 ms of a bare interpreter",
                        median(times["unitdoctor --version"]) - median(times["python3 -c pass"]) <= 0.015))

        if "no-host" not in flags and "small" not in flags:
            units = host_units()
            print(f"\n4. why on every unit file of this machine's / in one call ({len(units)} units, --offline)")
            cmd = [*UNITDOCTOR, "why", "--offline", *units]
            times, last = interleave({"unitdoctor why (all)": cmd}, max(3, rounds // 3))
            report_line("unitdoctor why (all)", times["unitdoctor why (all)"], cmd)
            p = last["unitdoctor why (all)"]
            verdicts = sum(1 for line in p.stdout.splitlines() if line.startswith(("✓ ", "✗ ", "? ")))
            same("one verdict per unit, no traceback", verdicts == len(units) and "Traceback" not in p.stderr,
                 f"{verdicts} verdicts for {len(units)} units; stderr {p.stderr[-300:]!r}")
            met.append(goal("why on every unit of / in one call < 2 s", median(times["unitdoctor why (all)"]) < 2.0))

        if "profile" in flags:
            if "small" not in flags:
                profile(["--root", str(root), "why", ANCHOR])
            profile(["--root", str(EXAMPLE), "why", "app.service"])
            if "no-host" not in flags and "small" not in flags:
                profile(["why", "--offline", *host_units()])
    print(f"\ngoals met: {sum(met)}/{len(met)}; load average now {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
