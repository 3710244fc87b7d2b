"""Advice that holds on a real system: a stock Debian root built from the archive (tests/debroots.py).

- ``fix`` on a unit that can already start plans nothing (no trigger enabled behind the admin's back);
- trigger (socket/timer/path) advice only for a trigger ``systemctl --root is-enabled`` calls ``disabled``;
  a switch (disable the service, enable the socket) where the service is enabled;
- template triggers named with the instance;
- the masks Debian's systemd ships on purpose (hwclock, rc, rcS, cryptdisks, cryptdisks-early, x11-common) are
  ``info``, and an error again once something enabled needs the unit.
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
from tests import debroots

from unitdoctor import names
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.plan import plan_fix
from unitdoctor.report import why
from unitdoctor.sources import EvidenceSources

DEBIAN_MASKS = ("hwclock.service", "rc.service", "rcS.service", "cryptdisks.service", "cryptdisks-early.service",
                "x11-common.service")


@pytest.fixture(scope="module")
def stock() -> pathlib.Path:
    return debroots.root()


@pytest.fixture(scope="module")
def reports(stock):
    """``why`` of every service of the stock root (aliases and instances aside), sharing one manager."""
    cat = open_catalog(str(stock), Scope.SYSTEM, {})
    mgr, src = Manager(cat), EvidenceSources.for_root(cat.root)
    out = {}
    for n in sorted(cat.names()):
        if n.endswith(".service") and names.kind_of(n) is names.NameKind.PLAIN:
            out[n] = why(cat, n, manager=mgr, sources=src)
    return cat, out


def _is_enabled(root: pathlib.Path, *units: str) -> list[str]:
    p = subprocess.run(["systemctl", f"--root={root}", "is-enabled", *units], capture_output=True, text=True,
                       env={**os.environ, "SYSTEMCTL_SKIP_SYSV": "1"}, check=False)
    return p.stdout.split()


@pytest.mark.parametrize("unit", ["ssh.service", "mariadb.service", "systemd-networkd.service"])
def test_fix_on_a_stock_unit_that_can_start_plans_nothing(unit, reports):
    cat, reps = reports
    assert reps[unit].start.ok
    plan = plan_fix([reps[unit]], catalog=cat)
    assert plan.actions == () and plan.ok


def test_fix_plans_nothing_for_any_service_of_the_stock_root_that_can_start(reports):
    cat, reps = reports
    startable = [r for r in reps.values() if r.start.ok]
    assert len(startable) > 50
    changing = {r.unit: plan_fix([r], catalog=cat).changes for r in startable}
    assert {u: c for u, c in changing.items() if c} == {}


def test_trigger_advice_only_for_triggers_systemctl_calls_disabled(stock, reports):
    _cat, reps = reports
    advised = [(r.unit, f) for r in reps.values() for f in r.findings if f.id in ("activated-by", "trigger-switch")]
    triggers = [f.fix[-1].split()[-1] for _u, f in advised]
    assert triggers, "the stock root has disabled triggers (ssh.socket, systemd-networkd.socket)"
    assert _is_enabled(stock, *triggers) == ["disabled"] * len(triggers)
    # the enabled and static ones (mariadb.socket, dbus.socket, apt-daily.timer, cups.path …) get none
    assert not any(f.id == "activated-by" for u in ("mariadb.service", "dbus.service", "apt-daily.service",
                                                     "cups.service") for f in reps[u].findings)


def test_an_enabled_service_with_a_disabled_socket_gets_switch_advice(stock, reports):
    _cat, reps = reports
    (f,) = [f for f in reps["ssh.service"].findings if f.id in ("activated-by", "trigger-switch")]
    assert f.id == "trigger-switch" and f.severity.value == "info"
    assert f.fix == (f"systemctl --root={stock} disable ssh.service", f"systemctl --root={stock} enable ssh.socket")
    assert f.evidence[0].source == f"{stock}/lib/systemd/system/ssh.socket"


def test_a_template_trigger_is_named_with_the_instance(stock):
    cat = open_catalog(str(stock), Scope.SYSTEM, {})
    r = why(cat, "chrony-dnssrv@pool.service")
    (f,) = [f for f in r.findings if f.id == "activated-by"]
    assert f.fix == (f"systemctl --root={stock} enable chrony-dnssrv@pool.timer",)
    assert "%" not in repr(r.findings)
    assert _is_enabled(stock, "chrony-dnssrv@pool.timer") == ["disabled"]


def test_debian_intended_masks_are_info(reports):
    _cat, reps = reports
    for u in DEBIAN_MASKS:
        (f,) = [f for f in reps[u].findings if "mask" in f.id]
        assert (f.id, f.severity.value, f.origin) == ("masked-intended", "info", "vendor"), u
        assert [e.source.rsplit(":", 1)[0] for e in f.evidence if e.kind == "mask"] == [
            str(debroots.root() / "lib/systemd/system" / u)]  # merged /usr: one layer, not /lib and /usr/lib
    errors = [(r.unit, f.id) for r in reps.values() for f in r.findings if f.severity.value == "error"]
    assert errors == []


def test_an_intended_mask_that_an_enabled_unit_requires_is_an_error(tmp_path):
    with debroots.private_copy(tmp_path / "root") as root:
        (root / "etc/systemd/system/clock-user.service").write_text(
            "[Unit]\nRequires=hwclock.service\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n")
        subprocess.run(["systemctl", f"--root={root}", "enable", "clock-user.service"], check=True,
                       capture_output=True)
        cat = open_catalog(str(root), Scope.SYSTEM, {})
        (f,) = [f for f in why(cat, "hwclock.service").findings if "mask" in f.id]
        assert (f.id, f.severity.value) == ("masked-vendor", "error")
        assert f"{root}/etc/systemd/system/clock-user.service:2" in [e.source for e in f.evidence]
        dep = why(cat, "clock-user.service")
        assert not dep.start.ok and any(f.id == "dependency-masked-vendor" for f in dep.findings)


def test_every_fix_on_the_stock_root_is_a_command_or_a_concrete_edit(reports):
    _cat, reps = reports
    for r in reps.values():
        for f in r.findings:
            if f.severity.value != "info":
                assert f.fix, (r.unit, f.id)
            for x in f.fix:
                assert not x.startswith(("fix the", "find ")) and ".." not in x.replace("../", ""), (r.unit, x)
        ids = [f.id for f in r.findings if f.severity.value == "error"]
        assert len(ids) == len(set(ids)), (r.unit, ids)  # one finding per cause
