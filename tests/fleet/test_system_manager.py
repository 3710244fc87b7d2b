"""unitdoctor.systemd beside ansible.builtin.systemd_service on a real system manager: systemd 252 as PID 1
of a booted container (../shared/tools/pid1-container.sh).

ansible-playbook runs on the host with the local connection; the target's Python is the container's own
``/usr/bin/python3`` (Debian's, nothing installed: no unitdoctor, no jeepney), entered with ``nsenter`` by the
interpreter wrapper, so the module reaches the manager through ``systemctl``. The unit files are written into
the container's root through ``/proc/PID/root`` before the run. ``check_scenarios`` holds the assertions that
the user-manager test shares.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator, Mapping

import pytest

from . import scenarios
from .harness import REPO, run_playbook, wrapper

#: The script builds its root first when it is missing (mmdebstrap, 1-2 minutes), then boots in about a second.
BOOT_TIMEOUT = 600
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _script() -> Path:
    for p in (REPO.parent / "shared" / "tools" / "pid1-container.sh", Path("/work/shared/tools/pid1-container.sh")):
        if p.exists():
            return p
    return Path("/work/shared/tools/pid1-container.sh")


def _container_missing() -> str | None:
    if os.geteuid() != 0:
        return "the booted container needs root"
    for tool in ("systemd-nspawn", "nsenter", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install systemd-container util-linux)"
    if not _script().exists():
        return "pid1-container.sh not found (../shared/tools)"
    if shutil.which("mmdebstrap") is None and not Path("/tmp/pid1-container/root/.pid1-complete").exists():
        return "mmdebstrap not found and no container root built"
    return None


@pytest.fixture
def container(tmp_path: Path) -> Iterator[int]:
    """A booted container; yields the host PID of its PID 1. It halts when the test ends."""
    reason = _container_missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the container test cannot run, and CI=true requires it: {reason}", pytrace=False)
        pytest.skip(reason)
    log = tmp_path / "pid1-container.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([str(_script()), "--", "cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=err)
    assert proc.stdin is not None
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT
        leader = None
        while leader is None and proc.poll() is None and time.monotonic() < deadline:
            m = re.search(r"PID 1 = host PID (\d+)", log.read_text(errors="replace"))
            leader = int(m.group(1)) if m else None
            time.sleep(0.1)
        if leader is None:
            pytest.fail("the container did not boot:\n" + log.read_text(errors="replace")[-3000:], pytrace=False)
        yield leader
    finally:
        proc.stdin.close()  # `cat` inside ends, and the script halts the container
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(60)


def inside(leader: int, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nsenter", "-t", str(leader), "-a", "-r", "-w", "env", "-i", f"PATH={PATH}",
                           "LANG=C.UTF-8", *cmd], capture_output=True, text=True, timeout=60)


def test_system_manager_scenarios(collections: Path, tmp_path: Path, container: int) -> None:
    root = Path(f"/proc/{container}/root")
    layers = {"config": root / "etc/systemd/system", "runtime": root / "run/systemd/system",
              "vendor": root / "usr/lib/systemd/system"}
    scenarios.build(layers, "system")
    fleet_units = scenarios.build_fleet(layers, "system")
    assert inside(container, "systemctl", "daemon-reload").returncode == 0
    assert inside(container, "python3", "-c", "import jeepney").returncode != 0  # nothing but Python on the target
    python = wrapper(tmp_path / "python", ["nsenter", "-t", str(container), "-a", "-r", "-w", "--"],
                     {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root"}, python="/usr/bin/python3")

    def systemctl(*args: str) -> str:
        return inside(container, "systemctl", "--no-pager", *args).stdout

    res, out = run_playbook(collections, tmp_path / "run", scenarios.PLAYBOOK, interpreter=python,
                            extra_vars={"scope": "system"})
    check_scenarios(res, out, systemctl, layers, via="systemctl")
    # in the system scope the finding names the vendor layer (/usr/lib); who wrote the mask there (here: this
    # test, not a package) is the provenance's business
    assert res["u ven"]["cause"]["finding"] == "masked-vendor", res["u ven"]["cause"]

    # the README's fleet playbook, as written (become is not needed: we are root in the container)
    res, out = run_playbook(collections, tmp_path / "readme", scenarios.readme_playbook(REPO / "README.md"),
                            interpreter=python, extra_vars={"critical": fleet_units, "ansible_become": False})
    why = {u["unit"]: u["start"]["ok"] for u in res["Why can the critical units not start?"]["units"]}
    assert why == {"ud-fleet-fix.service": False, "ud-fleet-vendor.service": False, "ud-fleet-fine.service": True}
    repair = {r["item"]["unit"]: r for r in
              res["Remove the masks that block them (every layer, masked dependencies too) and start them"]["results"]}
    assert sorted(repair) == ["ud-fleet-fix.service", "ud-fleet-vendor.service"], out
    assert repair["ud-fleet-fix.service"]["changed"] is True and not repair["ud-fleet-fix.service"].get("failed")
    assert repair["ud-fleet-vendor.service"]["failed"] is True and repair["ud-fleet-vendor.service"]["advice"]
    person = res["What needs a person (vendor or kernel-command-line masks, packages)"]["results"]
    assert [r["item"]["item"]["unit"] for r in person] == ["ud-fleet-vendor.service"]
    assert _states(systemctl, "ud-fleet-fix.service") == ("disabled", "active")


def _states(systemctl: Callable[..., str], unit: str) -> tuple[str, str]:
    return systemctl("is-enabled", unit).strip(), systemctl("is-active", unit).strip()


def _ck_tree(layers: Mapping[str, Path]) -> dict[str, str]:
    out = {}
    for layer, d in layers.items():
        for dirpath, dirnames, filenames in os.walk(d):
            for n in dirnames + filenames:
                p = Path(dirpath) / n
                if "ud-ck-" in n:
                    out[f"{layer}:{p.relative_to(d)}"] = os.readlink(p) if p.is_symlink() else p.read_text()
    return out


def check_scenarios(res: dict, out: str, systemctl: Callable[..., str], layers: Mapping[str, Path], *,
                    via: str) -> None:
    """The assertions of scenarios.PLAYBOOK, the same for every scope (``systemctl`` runs in the target)."""
    ours = [k for k in res if k.startswith("u ")]
    for k in ours:
        assert any(via in n for n in res[k]["notes"]), (k, res[k]["notes"])
    # masked-runtime: the builtin module compares is-enabled with "masked" only: ok, nothing done, still masked
    assert res["b rt masked=false"]["_status"] == "ok" and res["b rt masked=false"]["changed"] is False, out
    assert res["b rt started"]["_status"] == "failed" and "is masked" in res["b rt started"]["msg"]
    assert _states(systemctl, "ud-rt-b.service")[0] == "masked-runtime"
    r = res["u rt"]
    assert r["_status"] == "ok" and r["changed"] is True and r["journal_id"], out
    assert r["before"]["unit_file_state"] == "masked-runtime" and r["after"]["active_state"] == "active"
    assert _states(systemctl, "ud-rt-u.service") == ("disabled", "active")

    # masked in /etc and /run: `systemctl unmask` removes the /etc mask only; the builtin reports changed
    # and the unit is still masked (masked-runtime), so its start fails. Ours removes both, diff names both.
    assert res["b both masked=false"]["changed"] is True
    assert res["b both started"]["_status"] == "failed"
    assert _states(systemctl, "ud-both-b.service")[0] == "masked-runtime"
    r = res["u both"]
    assert r["changed"] is True and r["after"]["active_state"] == "active", out
    assert [Path(d["before_header"]).name for d in r["diff"]] == ["ud-both-u.service", "ud-both-u.service"]
    assert all(d["after"] == "(absent)\n" for d in r["diff"])
    assert _states(systemctl, "ud-both-u.service") == ("disabled", "active")

    # vendor mask: `unmask` exits 0 and changes nothing, so the builtin says changed on every run
    assert res["b ven masked=false"]["changed"] is True and res["b ven masked=false again"]["changed"] is True
    assert _states(systemctl, "ud-ven-b.service")[0] == "masked"
    r = res["u ven"]
    assert r["_status"] == "failed" and r["changed"] is False and r["journal_id"] is None, out
    assert r["cause"]["blocker"] == "ud-ven-u.service" and r["cause"]["reason"] == "masked"
    assert any("vendor" in a for a in r["advice"]) and "Advice:" in r["msg"]
    assert _states(systemctl, "ud-ven-u.service")[0] == "masked"

    # a vendor mask hidden by a real file in /etc: not masked; ours changes nothing and leaves the mask below
    assert res["b hid masked=false"]["changed"] is False
    assert res["b hid masked=true"]["_status"] == "failed"  # systemctl mask refuses: the /etc file exists
    r = res["u hid"]
    assert r["_status"] == "ok" and r["changed"] is False and r["cause"] is None and r["before"]["can_start"], out
    assert (layers["vendor"] / "ud-hid-u.service").is_symlink()

    # a masked dependency two levels down: the builtin start fails; ours removes that mask and starts the unit
    assert res["b top started"]["_status"] == "failed" and "ud-bot-b.service" in res["b top started"]["msg"]
    r = res["u top"]
    assert r["changed"] is True and r["cause"]["blocker"] == "ud-bot-u.service", out
    assert [c["to"] for c in r["cause"]["chain"]] == ["ud-mid-u.service", "ud-bot-u.service"]
    assert _states(systemctl, "ud-top-u.service")[1] == "active"
    assert _states(systemctl, "ud-bot-u.service")[0] == "static"

    # socket activation: the builtin tries to enable the masked service and fails; ours unmasks the service,
    # enables and starts its socket
    assert res["b sock enabled started"]["_status"] == "failed"
    r = res["u sock"]
    assert r["changed"] is True, out
    assert [a["unit"] for a in r["plan"]["actions"] if a["action"] == "enable"] == ["ud-sock-u.socket"]
    assert _states(systemctl, "ud-sock-u.socket") == ("enabled", "active")

    # mask (in /etc and /run) + enable in one task: the builtin unmasks /etc only, then enabling fails
    assert res["b en unmask+enable"]["_status"] == "failed", res["b en unmask+enable"]
    assert _states(systemctl, "ud-en-b.service")[0] == "masked-runtime"
    r = res["u en"]
    assert r["changed"] is True, out
    assert _states(systemctl, "ud-en-u.service") == ("enabled", "active")

    # check mode: nothing changes (every ud-ck path in every layer, and the manager's view)
    assert res["b ck check"]["changed"] is True  # predicts a change that would not make the unit startable
    r = res["u ck check"]
    assert r["_status"] == "ok" and r["changed"] is True and r["journal_id"] is None, out
    assert r["after"]["can_start"] is True and r["before"]["can_start"] is False
    assert len(r["diff"]) == 3 and r["diff"][2]["after"].startswith("symlink to ")
    assert _ck_tree(layers) == {"config:ud-ck-b.service": "/dev/null", "runtime:ud-ck-b.service": "/dev/null",
                                "config:ud-ck-u.service": "/dev/null", "runtime:ud-ck-u.service": "/dev/null",
                                "vendor:ud-ck-b.service": scenarios.ONESHOT.format(
                                    d="ck", unit="", install=_install(layers)),
                                "vendor:ud-ck-u.service": scenarios.ONESHOT.format(
                                    d="ck", unit="", install=_install(layers))}
    assert _states(systemctl, "ud-ck-u.service") == ("masked", "inactive")

    # a second run changes nothing
    for k in ("u rt again", "u both again", "u top again", "u sock again", "u en again"):
        assert res[k]["_status"] == "ok" and res[k]["changed"] is False and res[k]["journal_id"] is None, (k, out)

    # unit_info afterwards: the builtin module's units are still blocked, as it could not see
    info = {u["unit"]: u for u in res["info after"]["units"]}
    assert [u for u, d in info.items() if not d["start"]["ok"]] == [
        "ud-rt-b.service", "ud-both-b.service", "ud-ven-b.service", "ud-top-b.service", "ud-sock-b.service",
        "ud-en-b.service"]


def _install(layers: Mapping[str, Path]) -> str:
    user = "systemd/user" in str(layers["config"])
    return f"[Install]\nWantedBy={'default.target' if user else 'multi-user.target'}\n"
