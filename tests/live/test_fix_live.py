"""``fix`` on a real ``systemd --user``: the unit ends up started and ``why`` clean; ``undo`` restores exactly the
files and states from before; ``--dry-run`` changes nothing (the whole tree and the manager's state compared).

Each scenario lays out unit files in the user search path (fact sheet §1.2): real units in
``$XDG_DATA_HOME/systemd/user`` (a layer we never write: ``plan`` treats it as vendor), masks in
``$XDG_CONFIG_HOME/systemd/user`` (persistent) and ``$XDG_RUNTIME_DIR/systemd/user`` (runtime, inside the
manager's namespace). Everything runs inside the namespace, as a user would run it: through the library
(``fixdriver``, the chain the CLI runs) and, once ``unitdoctor fix`` exists, through the CLI.
"""

from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

import pytest

from .manager import LiveManager

pytest.importorskip("jeepney")

pytestmark = pytest.mark.live

ROOT = pathlib.Path(__file__).resolve().parents[2]
ONESHOT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


# -- layers and scenarios ----------------------------------------------------------------------------------------


def layer(m: LiveManager, name: str) -> pathlib.Path:
    d = {
        "config": m.config_home / "systemd/user",
        "runtime": m.runtime_dir_host / "systemd/user",
        "data": m.data_home / "systemd/user",
    }[name]
    d.mkdir(parents=True, exist_ok=True)
    return d


def put(m: LiveManager, where: str, rel: str, text: str) -> None:
    p = layer(m, where) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def mask(m: LiveManager, where: str, rel: str) -> None:
    p = layer(m, where) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.symlink_to("/dev/null")


@dataclass(frozen=True)
class Scenario:
    unit: str  # what the user asks to fix
    started: tuple[str, ...]  # what must be active afterwards
    build: Callable[[LiveManager], None]


def _masked(m: LiveManager) -> None:
    put(m, "data", "a.service", ONESHOT)
    mask(m, "config", "a.service")


def _runtime_mask(m: LiveManager) -> None:
    put(m, "data", "a.service", ONESHOT)
    mask(m, "runtime", "a.service")


def _both_masks(m: LiveManager) -> None:
    put(m, "data", "a.service", ONESHOT)
    mask(m, "config", "a.service")
    mask(m, "runtime", "a.service")


def _dependency_depth_2(m: LiveManager) -> None:
    put(m, "data", "a.service", "[Unit]\nRequires=b.service\nAfter=b.service\n" + ONESHOT)
    put(m, "data", "b.service", "[Unit]\nRequires=c.service\nAfter=c.service\n" + ONESHOT)
    put(m, "data", "c.service", ONESHOT)
    mask(m, "config", "c.service")


def _template(m: LiveManager) -> None:
    put(m, "data", "t@.service", ONESHOT)
    mask(m, "config", "t@.service")


def _socket_activated(m: LiveManager) -> None:
    put(m, "data", "s.socket", "[Socket]\nListenStream=%t/s.sock\n[Install]\nWantedBy=sockets.target\n")
    put(m, "data", "s.service", "[Service]\nExecStart=/bin/true\n")
    mask(m, "config", "s.service")  # the service is masked; its socket (disabled) is how it is meant to start


def _socket_activated_socket_masked(m: LiveManager) -> None:
    _socket_activated(m)
    mask(m, "config", "s.socket")


def _masked_dropin(m: LiveManager) -> None:
    put(m, "data", "d.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\n")  # no ExecStart=: bad-setting
    put(m, "data", "d.service.d/exec.conf", "[Service]\nExecStart=/bin/true\n")
    mask(m, "config", "d.service.d/exec.conf")  # hides the drop-in that makes d.service loadable


SCENARIOS = {
    "masked": Scenario("a.service", ("a.service",), _masked),
    "runtime-mask": Scenario("a.service", ("a.service",), _runtime_mask),
    "both-masks": Scenario("a.service", ("a.service",), _both_masks),
    "masked-dependency-depth-2": Scenario("a.service", ("a.service", "b.service", "c.service"), _dependency_depth_2),
    "template-mask": Scenario("t@1.service", ("t@1.service",), _template),
    "socket-activated": Scenario("s.service", ("s.socket",), _socket_activated),
    "socket-activated-socket-masked": Scenario("s.service", ("s.socket",), _socket_activated_socket_masked),
    "masked-drop-in": Scenario("d.service", ("d.service",), _masked_dropin),
}


# -- running things in the namespace ------------------------------------------------------------------------------


def run_in(m: LiveManager, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(m.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'src'}", NO_COLOR="1")
    return subprocess.run(["nsenter", f"--target={m.pid}", "--mount", "--", sys.executable, *argv],
                          env=env, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def fix_library(m: LiveManager, command: str, *units: str) -> subprocess.CompletedProcess[str]:
    return run_in(m, "-m", "tests.live.fixdriver", command, *units)


def fix_cli(m: LiveManager, command: str, *units: str) -> subprocess.CompletedProcess[str]:
    if command == "fix":
        return run_in(m, "-m", "unitdoctor", "fix", "--yes", "--user", *units)
    if command == "dry-run":
        return run_in(m, "-m", "unitdoctor", "fix", "--dry-run", "--user", *units)
    return run_in(m, "-m", "unitdoctor", "undo", "--yes", "--user")


@pytest.fixture(params=["library", "cli"])
def run_fix(request) -> Callable[..., subprocess.CompletedProcess[str]]:
    return fix_cli if request.param == "cli" else fix_library


def why_reports(m: LiveManager, *units: str) -> dict[str, dict]:
    cp = run_in(m, "-m", "unitdoctor", "why", "--user", "--json", *units)
    assert cp.returncode in (0, 1) and cp.stderr == "", cp.stderr
    return {r["unit"]: r for r in json.loads(cp.stdout)}


def assert_clean(m: LiveManager, unit: str) -> None:
    r = why_reports(m, unit)[unit]
    bad = [f"{f['id']}: {f['summary']}" for f in r["findings"] if f["severity"] != "info"]
    assert r["start"]["ok"] and not bad, (r["start"], bad)
    assert r["live"]["load_state"] == "loaded" and not r["live"]["need_daemon_reload"]


# -- snapshots ----------------------------------------------------------------------------------------------------


def tree(m: LiveManager, *, runtime_state: bool = True) -> dict[str, tuple]:
    """Every file, link and directory under the user's directories and the manager's runtime dir.

    Left out: the fix journal (``~/.local/state``), sockets, and with ``runtime_state=False`` the manager's
    per-unit runtime records (``/run/user/0/systemd/units/invocation:UNIT``), which a started unit keeps.
    """
    tops = {"home": m.home, "xdg-config": m.config_dirs[0], "xdg-data": m.data_dirs[0], "run": m.runtime_dir_host}
    out: dict[str, tuple] = {}
    for label, top in tops.items():
        for dirpath, dirs, files in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            for name in dirs + files:
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                key = f"{label}/{os.path.normpath(os.path.join(rel, name))}"
                if key.startswith("home/.local/state") or (
                        not runtime_state and key.startswith("run/systemd/units/")):
                    continue
                if stat.S_ISLNK(st.st_mode):
                    out[key] = ("link", os.readlink(p))
                elif stat.S_ISDIR(st.st_mode):
                    out[key] = ("dir", stat.S_IMODE(st.st_mode))
                elif stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        out[key] = ("file", stat.S_IMODE(st.st_mode), f.read())
    return out


STATE_PROPS = ("LoadState", "ActiveState", "SubState", "UnitFileState", "NeedDaemonReload")


def unit_names(m: LiveManager) -> list[str]:
    names = {"a.service", "b.service", "c.service", "t@1.service", "s.socket", "s.service",
             "d.service", "sockets.target", "default.target"}
    return sorted(names)


def manager_state(m: LiveManager, *, with_active: bool = True) -> dict[str, dict[str, str]]:
    props = STATE_PROPS if with_active else ("LoadState", "UnitFileState")
    out = {n: m.show(n, *props) for n in unit_names(m)}
    jobs = m.systemctl("list-jobs", "--no-legend").stdout
    out["(jobs)"] = {"list-jobs": jobs}
    return out


# -- the tests ----------------------------------------------------------------------------------------------------


#: Known gaps, as strict xfails: when they are fixed the test says so.
GAPS: dict[str, str] = {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=GAPS[n], strict=True))
                                  if n in GAPS else n for n in SCENARIOS])
def test_fix_starts_the_unit_and_why_is_clean_then_undo_restores(
        live_manager: LiveManager, run_fix, name: str) -> None:
    sc = SCENARIOS[name]
    sc.build(live_manager)
    broken = sc.started[0]  # the unit itself, or the socket that starts it
    before = why_reports(live_manager, broken)[broken]
    assert not before["start"]["ok"] or any(f["severity"] == "error" for f in before["findings"])
    files_before = tree(live_manager, runtime_state=False)
    states_before = manager_state(live_manager, with_active=False)

    cp = run_fix(live_manager, "fix", sc.unit)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    for unit in sc.started:
        assert live_manager.show(unit, "ActiveState")["ActiveState"] == "active", (unit, cp.stdout)
    assert_clean(live_manager, sc.unit)
    assert tree(live_manager, runtime_state=False) != files_before

    cp = run_fix(live_manager, "undo")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert tree(live_manager, runtime_state=False) == files_before
    # Started units stay started (undo does not stop them); their load and unit-file states are back.
    after = manager_state(live_manager, with_active=False)
    for unit in unit_names(live_manager):
        if live_manager.show(unit, "ActiveState")["ActiveState"] == "active" and unit in sc.started:
            continue  # an active unit keeps what it loaded until it is stopped
        assert after[unit] == states_before[unit], unit


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_dry_run_changes_nothing(live_manager: LiveManager, run_fix, name: str) -> None:
    sc = SCENARIOS[name]
    sc.build(live_manager)
    files_before = tree(live_manager)
    states_before = manager_state(live_manager)
    cp = run_fix(live_manager, "dry-run", sc.unit)
    assert cp.returncode in (0, 1), cp.stdout + cp.stderr
    assert cp.stdout.strip()
    assert tree(live_manager) == files_before
    assert manager_state(live_manager) == states_before
    assert not (live_manager.home / ".local/state/unitdoctor").exists()


def test_a_fix_whose_live_start_fails_never_says_can_start_now(live_manager: LiveManager) -> None:
    """The files are fixed (the mask is gone) but the service itself fails: the report says the start failed, and
    only that — never also "✓ z.service can start now" — and the exit status says there is a problem."""
    put(live_manager, "data", "z.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    mask(live_manager, "config", "z.service")
    cp = fix_cli(live_manager, "fix", "z.service")
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert "z.service is failed after its start job" in cp.stdout
    assert "can start now" not in cp.stdout
    last = cp.stdout.strip().splitlines()[-1]
    assert last.startswith("✗ z.service did not start: z.service is failed after its start job")
    assert "systemctl --user status z.service" in last
    assert live_manager.show("z.service", "ActiveState")["ActiveState"] == "failed"
    cp = run_in(live_manager, "-m", "unitdoctor", "fix", "--yes", "--user", "--json", "z.service")
    (outcome,) = json.loads(cp.stdout)["outcomes"]
    assert [a["ok"] for a in outcome["after"]] == [False] and outcome["ok"] is False
