"""Loadability at scale against ``systemd-analyze verify --root`` (issue 13): fuzzed services, sockets,
timers and paths with drop-ins (``loadgen.units``, seeded), written 100 to a root; each root is asked of
``systemd-analyze verify`` once and of ``unitdoctor why --json`` once (through the CLI), and every
unit's verdict must agree: loaded, or not (bad-setting / error). CI asks 200 units;
``UNITDOCTOR_LOADABILITY_UNITS`` asks more (``scripts/fuzz --long``: 2,000).

systemd's verdict is read from verify's own lines: "Unit U has a bad unit file setting." and "Unit U
failed to load properly, …" (``manager_load_startable_unit_or_warn``); ours from the report's
``load_state``. The zone files an ``OnCalendar=`` names are copied from the host into the root, since
systemd-analyze reads the host's ``/usr/share/zoneinfo`` and we read the root's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from unitdoctor import cli

from . import loadgen

UNITS = int(os.environ.get("UNITDOCTOR_LOADABILITY_UNITS", "200"))
PER_ROOT = 100
_FAILED = re.compile(r"^Unit (\S+) (?:has a bad unit file setting\.|failed to load properly, )")


def write_root(root: Path, batch: list[tuple[str, str, list[str]]]) -> None:
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    zones = set()
    for name, text, dropins in batch:
        (etc / name).write_bytes(text.encode("utf-8", "surrogateescape"))
        for i, d in enumerate(dropins):
            (etc / f"{name}.d").mkdir(exist_ok=True)
            (etc / f"{name}.d" / f"{i:02d}-fuzz.conf").write_bytes(d.encode("utf-8", "surrogateescape"))
        for line in (text + "\n" + "\n".join(dropins)).splitlines():
            if line.startswith("OnCalendar=") and " " in line:
                zones.add(line.rsplit(" ", 1)[1])
    for z in zones:
        host = Path("/usr/share/zoneinfo") / z
        if re.fullmatch(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*", z) and host.is_file():
            (root / "usr/share/zoneinfo" / z).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(host, root / "usr/share/zoneinfo" / z)


def systemd_not_loaded(root: Path, names: list[str]) -> set[str]:
    p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *names], capture_output=True, text=True,
                       errors="replace", timeout=600, env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "TZ": ""})
    return {m.group(1) for line in p.stderr.splitlines() if (m := _FAILED.match(line))}


def ours_not_loaded(root: Path, names: list[str], capsys) -> tuple[set[str], dict[str, str]]:
    capsys.readouterr()
    cli.main(["--root", str(root), "why", "--json", *names])
    reports = json.loads(capsys.readouterr().out)
    states = {r["unit"]: r["load_state"] for r in reports}
    return {n for n, s in states.items() if s != "loaded"}, states


def test_fuzzed_units_load_as_systemd_analyze_verify_says(tmp_path, capsys):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    generated = loadgen.units(UNITS)
    disagreements = []
    refused = 0
    for k in range(0, len(generated), PER_ROOT):
        batch = generated[k:k + PER_ROOT]
        root = tmp_path / f"r{k // PER_ROOT}"
        write_root(root, batch)
        names = [n for n, _, _ in batch]
        theirs = systemd_not_loaded(root, names)
        ours, states = ours_not_loaded(root, names, capsys)
        refused += len(theirs)
        for name, text, dropins in batch:
            if (name in theirs) != (name in ours):
                disagreements.append((name, states.get(name), "systemd: " + ("no" if name in theirs else "loaded"),
                                      text, dropins))
    with capsys.disabled():
        print(f"\nloadability: {len(generated)} units, systemd refused {refused}, "
              f"{len(disagreements)} disagreements")
    assert not disagreements, "\n".join(repr(d) for d in disagreements[:15])
    # Both verdicts are common enough for the comparison to mean something.
    assert len(generated) // 10 < refused < len(generated) * 9 // 10
