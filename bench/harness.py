"""Shared by the benchmarks: fresh processes, interleaved runs, medians, goals, and a profile mode.

Every timing is of a fresh process (interpreter start, imports and all), for us and for systemd
alike. The cases of one comparison run in turn, round after round (ABAB…, the order rotating each
round), so a burst of load from other work on the machine hits both sides; the median of the
rounds is reported. Each benchmark also checks that both sides gave the same answer.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

HERE = Path(__file__).resolve().parent
#: The tree measured: this checkout's src, or another one (``UD_BENCH_SRC=/path/to/src``, e.g. to
#: compare a change with its parent in the same run conditions).
SRC = Path(os.environ.get("UD_BENCH_SRC") or HERE.parent / "src")
#: The environment of every run: no colour, C locale, our tree first on the path, no SysV hook.
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "NO_COLOR": "1", "SYSTEMCTL_SKIP_SYSV": "1",
       "SYSTEMD_PAGER": "cat", "PAGER": "cat", "PYTHONPATH": str(SRC), "HOME": "/nonexistent"}
UNITDOCTOR = [sys.executable, "-m", "unitdoctor"]


#: CPU time (user + system) of every process ``run`` timed, by command line: on a shared machine the
#: wall time grows with everyone else's load, the CPU time much less; both are reported.
CPU: dict[tuple[str, ...], list[float]] = {}


def run(cmd: Sequence[str], env: Optional[Mapping[str, str]] = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one fresh process and what it printed (its CPU time goes to ``CPU``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(list(cmd), capture_output=True, text=True, env=dict(env or ENV), check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(tuple(cmd), []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, p


def cpu_median(cmd: Sequence[str]) -> float:
    """The median CPU time of the timed runs of ``cmd`` (the warm-up run excluded)."""
    xs = CPU.get(tuple(cmd), [])
    return statistics.median(xs[1:] or xs) if xs else float("nan")


def interleave(cases: Mapping[str, Sequence[str]], rounds: int, env: Optional[Mapping[str, str]] = None,
               ) -> tuple[dict[str, list[float]], dict[str, subprocess.CompletedProcess]]:
    """Run every case once per round, the order rotating each round, after one untimed warm-up run each.

    Returns the times per case and each case's last completed process (for the answer check).
    """
    labels = list(cases)
    last: dict[str, subprocess.CompletedProcess] = {}
    for label in labels:  # warm the page cache and the interpreter's .pyc files for every side
        _, last[label] = run(cases[label], env)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for r in range(rounds):
        k = r % len(labels)
        for label in labels[k:] + labels[:k]:
            dt, last[label] = run(cases[label], env)
            times[label].append(dt)
    return times, last


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms" if seconds < 10 else f"{seconds:8.1f} s "


def spread(xs: Sequence[float]) -> str:
    return f"(median of {len(xs)}, min {min(xs) * 1000:.1f} ms, max {max(xs) * 1000:.1f} ms)"


def report_line(label: str, xs: Sequence[float], cmd: Optional[Sequence[str]] = None) -> None:
    cpu = f"; cpu {cpu_median(cmd) * 1000:.1f} ms" if cmd is not None else ""
    print(f"  {label:42s} {fmt(median(xs))}  {spread(xs)}{cpu}")


def goal(text: str, met: bool) -> bool:
    """Print a goal from the issue and whether this run meets it."""
    print(f"  goal: {text}: {'MET' if met else 'NOT MET'}")
    return met


def same(label: str, equal: bool, detail: str = "") -> bool:
    print(f"  same answer ({label}): {'yes' if equal else 'NO'}{'' if equal else '  ' + detail}")
    return equal


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def profile(argv: Sequence[str], top: int = 25, env: Optional[Mapping[str, str]] = None) -> None:
    """Where the time of ``unitdoctor ARGV`` goes: cProfile's top entries and the slowest imports.

    Two fresh processes: one under ``-m cProfile`` (sorted by cumulative, then own time), one under
    ``-X importtime`` (imports by cumulative time, and the sum for our modules and the rest).
    """
    import pstats

    env = dict(env or ENV)
    with tempfile.TemporaryDirectory(prefix="ud-bench-") as tmp:
        out = os.path.join(tmp, "prof")
        subprocess.run([sys.executable, "-m", "cProfile", "-o", out, "-m", "unitdoctor", *argv],
                       capture_output=True, env=env, check=False)
        print(f"\n--- cProfile: unitdoctor {' '.join(argv)}")
        stats = pstats.Stats(out)
        stats.strip_dirs()
        print(f"total {stats.total_tt * 1000:.1f} ms (profiled; the profiler slows Python code ~2x)")
        for key, title in (("cumulative", "by cumulative time"), ("tottime", "by own time")):
            print(f"top {top} {title}:")
            stats.sort_stats(key).print_stats(top)
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "unitdoctor", *argv],
                       capture_output=True, text=True, env=env, check=False)
    rows = []
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cum, name = line[len("import time:"):].split("|", 2)
        rows.append((int(cum), int(own), name.rstrip()))
    ours = sum(o for _, o, n in rows if n.strip().startswith("unitdoctor"))
    rest = sum(o for _, o, n in rows if not n.strip().startswith("unitdoctor"))
    print(f"--- imports (-X importtime): {len(rows)} modules, unitdoctor's own {ours / 1000:.1f} ms, "
          f"others {rest / 1000:.1f} ms")
    for cum, own, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cum / 1000:7.1f} ms cumulative {own / 1000:7.1f} ms own  {name}")


def main_args(argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Split ``--profile``/``--rounds N``/``--full`` style flags from positional arguments."""
    flags: dict[str, str] = {}
    rest: list[str] = []
    it = iter(argv)
    for a in it:
        if a == "--rounds":
            flags["rounds"] = next(it)
        elif a.startswith("--"):
            flags[a[2:]] = "1"
        else:
            rest.append(a)
    return rest, flags


def build_root(tmp: str, n: int, **kw: int) -> Path:
    sys.path.insert(0, str(HERE))
    from roots import build

    t = time.perf_counter()
    root = build(Path(tmp) / f"root{n}", n, **kw)
    print(f"built a root of {n} units in {time.perf_counter() - t:.1f} s: {root}")
    return root


Check = Callable[[subprocess.CompletedProcess, subprocess.CompletedProcess], tuple[bool, str]]
