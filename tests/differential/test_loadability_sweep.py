"""Every directive of [Unit], [Service], [Socket], [Timer] and [Path] (directives_data, 252's tables) with hostile
values, one unit each on top of a unit that loads, against ``systemd-analyze verify --root`` (issue 13): loaded
or not must agree. This is how the fatal settings of 252 were found (DynamicUser=, User=/Group=,
RootDirectory=, SELinuxContext=, PIDFile=, a socket's Exec*=, …). CI asks 5 values per directive;
``UNITDOCTOR_LOADABILITY_UNITS`` above 200 (``scripts/fuzz --long``) asks all of them (22,505 units).
"""

from __future__ import annotations

import os
import shutil

import pytest

from unitdoctor.directives_data import DIRECTIVES

from .test_loadability_scale import ours_not_loaded, systemd_not_loaded

VALUES = ("garbage", "relative", "bad name", "%Z", "-", "/x/../y", "~", "a b c", "0", "", "-relative", "!", "@", ":",
          "+", "file:relative", "file:/x/../y", "append:rel", "truncate:", "fd:", "tty", "1000000000000000000000", "-1",
          "infinity", "yes", "/dev/null", "x:y", "@x", "/x y", "%i", "%n.service", "-/x/../y", "~/x", "\\", '"q')
BASE = {"Service": "[Service]\nExecStart=/bin/true\n", "Socket": "[Socket]\nListenStream=/run/s.sock\n",
        "Timer": "[Timer]\nOnBootSec=5\n", "Path": "[Path]\nPathExists=/x\n"}
SUFFIX = {"Service": "service", "Socket": "socket", "Timer": "timer", "Path": "path", "Unit": "service"}
LONG = int(os.environ.get("UNITDOCTOR_LOADABILITY_UNITS", "200")) > 200


def sweep_units(long: bool) -> list[tuple[str, str, str]]:
    """(name, text, what) for every directive and value (CI: 5 values per directive, rotating)."""
    out = []
    k = 0
    for sec in ("Unit", "Service", "Socket", "Timer", "Path"):
        for key in sorted(DIRECTIVES[sec]):
            picked = VALUES if long else [VALUES[(k + i * 7) % len(VALUES)] for i in range(5)]
            k += 1
            for v in picked:
                name = f"w{len(out):05d}.{SUFFIX[sec]}"
                text = (f"[Unit]\n{key}={v}\n" + BASE["Service"]) if sec == "Unit" else BASE[sec] + f"{key}={v}\n"
                out.append((name, text, f"[{sec}] {key}={v}"))
    return out


def test_every_directive_with_hostile_values_loads_as_systemd_says(tmp_path, capsys):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    units = sweep_units(LONG)
    disagreements = []
    for k in range(0, len(units), 500):
        batch = units[k:k + 500]
        root = tmp_path / f"r{k // 500}"
        (root / "etc/systemd/system").mkdir(parents=True)
        for name, text, _ in batch:
            (root / "etc/systemd/system" / name).write_text(text)
        names = [n for n, _, _ in batch]
        theirs = systemd_not_loaded(root, names)
        ours, states = ours_not_loaded(root, names, capsys)
        disagreements += [(what, states.get(n), "systemd: " + ("no" if n in theirs else "loaded"))
                          for n, _, what in batch if (n in theirs) != (n in ours)]
    with capsys.disabled():
        print(f"\ndirective sweep: {len(units)} units, {len(disagreements)} disagreements")
    assert not disagreements, disagreements[:20]
