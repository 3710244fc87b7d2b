"""The shipped ``unitdoctor-scan.service`` and ``.timer`` run for real: in a booted systemd 252 (the container), with
unitdoctor installed from this checkout, the timer is active and the service's scan writes the metrics file."""

from __future__ import annotations

import os

import pytest
from tests.boot import container

from unitdoctor import shipped

S = "/etc/systemd/system"
PROM = "/var/lib/prometheus/node-exporter/unitdoctor.prom"


@pytest.fixture(scope="module", autouse=True)
def _need_container():
    container.require()


SCRIPT = f"""
set -u
systemctl daemon-reload
mkdir -p {os.path.dirname(PROM)}
echo "timer-active=$(systemctl is-active unitdoctor-scan.timer)"
echo "timer-enabled=$(systemctl is-enabled unitdoctor-scan.timer)"
systemctl list-timers --all --no-legend --no-pager unitdoctor-scan.timer | sed 's/^/list-timers: /'
systemctl start unitdoctor-scan.service; echo "start-rc=$?"
systemctl show -p Result -p ExecMainStatus -p ActiveState unitdoctor-scan.service
echo "@@prom"
cat {PROM}
echo "@@mode $(stat -c %a {PROM})"
journalctl -u unitdoctor-scan.service --no-pager -o cat | tail -5 | sed 's/^/journal: /'
"""


def test_timer_and_service_run_in_a_booted_system():
    files: dict[str, object] = {f"{S}/{name}": text for name, text in shipped.units()}
    files[f"{S}/timers.target.wants/unitdoctor-scan.timer"] = ("symlink", f"{S}/unitdoctor-scan.timer")
    b = container.boot(files, command=SCRIPT, args=("--src", str(container.REPO)), timeout=60)
    out = b.output
    assert b.rc == 0, b.stderr[-3000:] + out[-3000:]
    assert "timer-active=active" in out and "timer-enabled=enabled" in out, out
    assert "list-timers: " in out and "unitdoctor-scan.timer" in out
    assert "start-rc=0" in out and "Result=success" in out, out
    assert "ExecMainStatus=0" in out or "ExecMainStatus=1" in out  # 1: problems found (SuccessExitStatus=1)
    prom = out.split("@@prom", 1)[1].split("@@mode", 1)
    assert "unitdoctor_scan_success 1" in prom[0]
    assert 'unitdoctor_boot_transaction_ok{target="graphical.target"} 1' in prom[0] or \
           "unitdoctor_boot_transaction_ok{" in prom[0]
    assert prom[1].split()[0] == "644"


LIVE_SCRIPT = """
set -u
sleep 0.5
# a unit file changed after the manager loaded it: NeedDaemonReload=yes
f=/etc/systemd/system/ud-live-changed.service
printf '[Unit]\\nDescription=changed\\n[Service]\\nExecStart=/bin/sleep 1000\\n' > $f
unitdoctor scan --json > /tmp/scan.json; echo "scan-rc=$?"
python3 - <<'PY'
import json
d = json.load(open("/tmp/scan.json"))
print("live=%s" % d["live"])
for f in d["findings"]:
    if f["unit"].startswith("ud-live"):
        print("finding %s %s %s | %s" % (f["id"], f["unit"], f["severity"], f["summary"]))
PY
"""


def test_live_scan_reports_failed_units_and_need_daemon_reload():
    """On a running system scan asks the manager (as why does): units in failed state with their Result, and
    units whose files changed since the last daemon-reload."""
    wants = f"{S}/multi-user.target.wants"
    files: dict[str, object] = {
        f"{S}/ud-live-fails.service": "[Service]\nType=oneshot\nExecStart=/bin/false\n",
        f"{wants}/ud-live-fails.service": ("symlink", f"{S}/ud-live-fails.service"),
        f"{S}/ud-live-changed.service": "[Service]\nExecStart=/bin/sleep 1000\n",
        f"{wants}/ud-live-changed.service": ("symlink", f"{S}/ud-live-changed.service"),
    }
    b = container.boot(files, command=LIVE_SCRIPT, args=("--src", str(container.REPO)), timeout=60)
    out = b.output
    assert b.rc == 0, b.stderr[-3000:] + out[-3000:]
    assert "scan-rc=1" in out and "live=True" in out, out
    assert "finding failed ud-live-fails.service error | ud-live-fails.service is failed (Result=exit-code)" in out, out
    assert "finding needs-daemon-reload ud-live-changed.service warning" in out, out
