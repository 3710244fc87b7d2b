"""Fix trials under faults (issue 13): a full disk, an unwritable journal, read-only layers, kill -9 at a random
moment, two fixes at once. Each trial runs the real command line on a "multi" root (tests/fixroots.py: two
masks of x.service, a mask of foo.service, foo.socket to enable) and then checks, with the fault gone:

- no file with content was lost or changed (every unit file of the root is where it was, byte for byte);
- the command ended with an answer or a one-line error (``hostile.judge``);
- the tree is the original one or the fixed one, or ``fix --recover`` makes it one of the two; an
  interrupted fix is never left without a way out;
- the journal blocks nothing: a fix then does what is left and ``undo`` restores the original tree.

Faults that need a mount (a tiny tmpfs, a read-only bind mount) run in a private mount namespace:
``python -m tests.fuzz.faults KIND TMPDIR N`` is what ``test_fix_trials`` starts under ``unshare --mount``;
it prints one JSON line, ``{"trials": N, "problems": [...], "tally": {...}}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import fixroots as fr
from tests.fuzz import hostile

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", "NO_COLOR": "1"}
UNITS = ("x.service", "foo.service")
CPU = 30


def run(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unitdoctor", "--root", str(root), *argv], env=ENV, cwd=REPO,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          preexec_fn=hostile.limited(CPU), timeout=20 * CPU)


def fixed_reference(tmp: Path) -> fr.Snap:
    ref = fr.build(tmp, "multi", "reference")
    p = run(ref, "fix", "--yes", *UNITS)
    assert p.returncode == 0, p.stdout + p.stderr
    return fr.snapshot(ref, times=False)


def contents(snap: fr.Snap) -> dict[str, bytes]:
    return {k: v[1] for k, v in snap.items() if v[0] == "file" and v[1]}


def check_after(what: str, root: Path, before: fr.Snap, fixed: fr.Snap, tally: dict[str, int]) -> list[str]:
    """With the fault gone: content kept, recovery to the original or the fixed tree, undo back, nothing
    blocked. ``before`` is taken with ``times=False``."""
    problems = []
    now = fr.snapshot(root, times=False)
    lost = {k for k, v in contents(before).items() if contents(now).get(k) != v}
    if lost:
        return [f"{what}: files with content lost or changed: {sorted(lost)}"]
    p = run(root, "history", "--json")
    problems += hostile.judge(f"{what}: history", p, json_out=True)
    if p.returncode == 0 and json.loads(p.stdout)["unreadable"]:
        problems.append(f"{what}: the journal has unreadable entries: {json.loads(p.stdout)['unreadable']}")
    p = run(root, "fix", "--recover")
    problems += hostile.judge(f"{what}: fix --recover", p)
    now = fr.snapshot(root, times=False)
    if fr.diff(now, fixed) == []:
        tally["ended-fixed"] += 1
    elif fr.diff(now, before) == []:
        tally["ended-original"] += 1
    else:
        tally["ended-partial"] += 1  # allowed only if a plain fix completes it (a fix that stopped, journaled)
    p = run(root, "fix", "--yes", *UNITS)
    problems += hostile.judge(f"{what}: fix after the fault", p)
    if p.returncode != 0 or fr.diff(fr.snapshot(root, times=False), fixed):
        problems.append(f"{what}: a fix after the fault did not complete: {p.stdout[-600:]} {p.stderr[-600:]} "
                        f"{fr.diff(fr.snapshot(root, times=False), fixed)}")
        return problems
    for _ in range(4):  # undo every fix of the trial, latest first
        p = run(root, "undo", "--yes")
        if p.returncode != 0:
            break
    if fr.diff(fr.snapshot(root, times=False), before):
        problems.append(f"{what}: undo did not restore the original tree: "
                        f"{fr.diff(fr.snapshot(root, times=False), before)} {p.stdout[-400:]} {p.stderr[-400:]}")
    return problems


def _fresh(tmp: Path, name: str) -> tuple[Path, fr.Snap]:
    if (tmp / name).exists():
        shutil.rmtree(tmp / name)
    root = fr.build(tmp, "multi", name)
    return root, fr.snapshot(root, times=False)


# -- the faults ------------------------------------------------------------------------------------------


def full_disk(tmp: Path, trials: int) -> tuple[list[str], dict[str, int]]:
    """``tmp`` is a tiny tmpfs: the root is on it, filled but for ``i`` pages, then the fix runs."""
    fixed = fixed_reference(Path("/tmp") / f"ud-faults-ref-{os.getpid()}")
    problems: list[str] = []
    tally = _tally()
    for i in range(trials):
        root, before = _fresh(tmp, "root")
        filler = tmp / "filler"
        st = os.statvfs(tmp)
        free = st.f_bavail * st.f_frsize - (i % 24) * 4096
        with contextlib.suppress(OSError), open(filler, "wb") as f:
            f.write(b"\0" * max(free, 0))
        p = run(root, "fix", "--yes", *UNITS)
        problems += hostile.judge(f"full disk {i}: fix", p)
        tally["fix-ok" if p.returncode == 0 else "fix-failed"] += 1
        filler.unlink()
        problems += check_after(f"full disk {i}", root, before, fixed, tally)
        tally["trials"] += 1
    shutil.rmtree(Path("/tmp") / f"ud-faults-ref-{os.getpid()}")
    return problems, tally


def read_only(tmp: Path, trials: int) -> tuple[list[str], dict[str, int]]:
    """One layer (or the journal directory, or its quarantine) is a read-only bind mount during the fix."""
    fixed = fixed_reference(tmp / "ref")
    problems: list[str] = []
    tally = _tally()
    targets = ("var/lib/unitdoctor", "var/lib/unitdoctor/quarantine", fr.RUN, fr.ETC, "etc", "var", ".")
    for i in range(trials):
        root, before = _fresh(tmp, "root")
        rel = targets[i % len(targets)]
        if i % 2:  # an earlier fix and its undo: the journal and quarantine exist already
            run(root, "fix", "--yes", "x.service")
            run(root, "undo", "--yes")
            before = fr.snapshot(root, times=False)
        target = root / rel
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "--bind", str(target), str(target)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)
        try:
            p = run(root, "fix", "--yes", *UNITS)
        finally:
            subprocess.run(["umount", str(target)], check=True)
        problems += hostile.judge(f"read-only {rel} {i}: fix", p)
        tally["fix-ok" if p.returncode == 0 else "fix-failed"] += 1
        problems += check_after(f"read-only {rel} {i}", root, before, fixed, tally)
        tally["trials"] += 1
    return problems, tally


def kill_9(tmp: Path, trials: int) -> tuple[list[str], dict[str, int]]:
    """``fix --yes`` (or an ``undo --yes`` of it) killed with SIGKILL after a delay spread over its run."""
    fixed = fixed_reference(tmp / "ref")
    problems: list[str] = []
    tally = _tally()
    t0 = time.monotonic()
    run(tmp / "ref", "undo", "--yes")
    span = max(time.monotonic() - t0, 0.2)  # about how long a command takes here
    for i in range(trials):
        root, before = _fresh(tmp, "root")
        undo = i % 3 == 2
        if undo:
            run(root, "fix", "--yes", *UNITS)
        argv = ["undo", "--yes"] if undo else ["fix", "--yes", *UNITS]
        child = subprocess.Popen([sys.executable, "-m", "unitdoctor", "--root", str(root), *argv], env=ENV,
                                 cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(span * ((i * 7919) % 1000) / 1000)
        child.send_signal(signal.SIGKILL)
        rc = child.wait(60)
        tally["killed" if rc == -9 else "finished-first"] += 1
        problems += check_after(f"kill -9 {' '.join(argv[:2])} {i}", root, before, fixed, tally)
        tally["trials"] += 1
    return problems, tally


def at_once(tmp: Path, trials: int) -> tuple[list[str], dict[str, int]]:
    """Two fixes started together on a root without a journal yet (the same units, or one unit each)."""
    fixed = fixed_reference(tmp / "ref")
    problems: list[str] = []
    tally = _tally()
    for i in range(trials):
        root, before = _fresh(tmp, "root")
        pairs = [UNITS, UNITS] if i % 2 == 0 else [UNITS[:1], UNITS[1:]]
        procs = [subprocess.Popen([sys.executable, "-m", "unitdoctor", "--root", str(root), "fix", "--yes", *u],
                                  env=ENV, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for u in pairs]
        for k, c in enumerate(procs):
            out, err = c.communicate(timeout=20 * CPU)
            p = subprocess.CompletedProcess(c.args, c.returncode, out, err)
            problems += hostile.judge(f"two at once {i}.{k}", p)
            if c.returncode != 0:
                problems.append(f"two at once {i}.{k}: exit {c.returncode}: {out[-400:]!r} {err[-400:]!r}")
        if fr.diff(fr.snapshot(root, times=False), fixed):
            problems.append(f"two at once {i}: not fixed: {fr.diff(fr.snapshot(root, times=False), fixed)}")
        problems += check_after(f"two at once {i}", root, before, fixed, tally)
        tally["trials"] += 1
    return problems, tally


def _tally() -> dict[str, int]:
    return dict.fromkeys(("trials", "fix-ok", "fix-failed", "killed", "finished-first", "ended-fixed",
                          "ended-original", "ended-partial"), 0)


KINDS = {"full-disk": full_disk, "read-only": read_only, "kill-9": kill_9, "at-once": at_once}


def main(argv: list[str]) -> int:
    kind, tmp, n = argv[0], Path(argv[1]), int(argv[2])
    problems, tally = KINDS[kind](tmp, n)
    print(json.dumps({"trials": n, "problems": problems, "tally": tally}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
