"""The live-manager harness, and the systemd 252 facts the offline engine relies on (fact sheet §1.2, §4)."""

from __future__ import annotations

import os
import pathlib
import subprocess
from typing import Callable

import pytest

from . import conftest
from .manager import LiveManager, StartResult, _parse_journal_record, write

pytestmark = pytest.mark.live

ONESHOT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
SLEEPER = "[Service]\nExecStart=/bin/sh -c 'sleep 1000 & exec sleep 1001'\n"


def mask(path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/null")


def config_units(m: LiveManager) -> pathlib.Path:
    return m.config_home / "systemd" / "user"


def ps(*pids: int) -> str:
    """Return what ``ps`` prints for the pids still alive (zombies included)."""
    cp = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-p", ",".join(map(str, pids))], capture_output=True, text=True
    )
    return cp.stdout.strip()


# -- the harness ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [("true", pytest.fail.Exception), ("", pytest.skip.Exception), ("1", pytest.skip.Exception)],
)
def test_require_live_skips_with_reason_and_fails_under_ci_true(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(conftest, "live_available", lambda: "no unshare here")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no unshare here"):
        conftest.require_live()


def test_start_creates_dirs_and_gives_manager_exactly_environ(live_manager: LiveManager) -> None:
    m = live_manager
    base = m.base_dir
    assert m.home == base / "home"
    assert m.config_home == base / "home" / ".config"
    assert m.data_home == base / "home" / ".local" / "share"
    assert (m.config_home / "systemd" / "user").is_dir()
    assert (m.data_home / "systemd" / "user").is_dir()
    assert m.config_dirs == (base / "xdg-config",)
    assert m.data_dirs == (base / "xdg-data",)
    assert m.environ == {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(base / "home"),
        "XDG_CONFIG_HOME": str(base / "home" / ".config"),
        "XDG_DATA_HOME": str(base / "home" / ".local" / "share"),
        "XDG_CONFIG_DIRS": str(base / "xdg-config"),
        "XDG_DATA_DIRS": str(base / "xdg-data"),
        "XDG_RUNTIME_DIR": "/run/user/0",
    }
    environ = dict(
        entry.split("=", 1) for entry in pathlib.Path(f"/proc/{m.pid}/environ").read_text().split("\0") if entry
    )
    assert environ == m.environ
    assert pathlib.Path(f"/proc/{m.pid}/exe").resolve() == pathlib.Path("/usr/lib/systemd/systemd").resolve()


def test_manager_runs_in_its_own_mount_namespace_with_host_config_hidden(live_manager: LiveManager) -> None:
    m = live_manager
    assert os.readlink(f"/proc/{m.pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    assert m.runtime_dir == "/run/user/0"
    assert m.runtime_dir_host == pathlib.Path(f"/proc/{m.pid}/root/run/user/0")
    assert (m.runtime_dir_host / "systemd" / "private").is_socket()
    root = pathlib.Path(f"/proc/{m.pid}/root")
    assert list((root / "etc/systemd/user").iterdir()) == []
    if pathlib.Path("/etc/systemd/user.conf").exists():
        assert (root / "etc/systemd/user.conf").read_text() == ""
    # A fresh tmpfs; mount(8) adds /run/mount (its utab) for the bind mounts.
    assert {p.name for p in (root / "run").iterdir()} <= {"mount", "systemd", "user"}
    assert m.systemctl("is-system-running").stdout == "running\n"


def test_systemctl_runs_inside_the_namespace(live_manager: LiveManager) -> None:
    cp = live_manager.systemctl("show", "--property=Environment,Version")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.startswith("Version=252")
    assert "XDG_RUNTIME_DIR=/run/user/0" in cp.stdout


def test_start_unit_of_oneshot_waits_for_job(live_manager: LiveManager) -> None:
    write(config_units(live_manager) / "ok.service", ONESHOT)
    assert live_manager.start_unit("ok.service") == StartResult(0, "")
    assert live_manager.show("ok.service", "ActiveState", "SubState") == {
        "ActiveState": "active",
        "SubState": "exited",
    }


def test_start_unit_times_out_and_stop_cleans_up(live_manager: LiveManager) -> None:
    write(config_units(live_manager) / "hang.service", "[Service]\nType=oneshot\nExecStart=/bin/sleep 1000\n")
    with pytest.raises(subprocess.TimeoutExpired):
        live_manager.start_unit("hang.service", timeout=0.5)
    state = live_manager.show("hang.service", "ActiveState", "MainPID")
    assert state["ActiveState"] == "activating"
    sleeper = int(state["MainPID"])
    assert ps(sleeper)
    live_manager.stop()
    assert ps(sleeper) == ""


def test_show_without_props_returns_all_properties(live_manager: LiveManager) -> None:
    props = live_manager.show("default.target")
    assert props["Id"] == "default.target"
    assert props["FragmentPath"] == "/usr/lib/systemd/user/default.target"
    assert len(props) > 50


def test_daemon_reload_clears_need_daemon_reload(live_manager: LiveManager) -> None:
    """§4.5 (a).  The unit is started so that it stays loaded: see the next test."""
    unit = write(config_units(live_manager) / "r.service", ONESHOT)
    assert live_manager.start_unit("r.service") == StartResult(0, "")
    assert live_manager.show("r.service", "NeedDaemonReload") == {"NeedDaemonReload": "no"}
    write(unit, ONESHOT + "Environment=A=1\n")
    os.utime(unit, (unit.stat().st_atime, unit.stat().st_mtime + 10))
    assert live_manager.show("r.service", "NeedDaemonReload") == {"NeedDaemonReload": "yes"}
    live_manager.daemon_reload()
    assert live_manager.show("r.service", "NeedDaemonReload", "Environment") == {
        "NeedDaemonReload": "no",
        "Environment": "A=1",
    }


def test_log_records_what_the_manager_logged(live_manager: LiveManager) -> None:
    write(config_units(live_manager) / "ok.service", ONESHOT)
    live_manager.start_unit("ok.service")
    messages = live_manager.log_messages()
    assert "Reached target default.target - Main User Target." in messages
    assert messages[-1] == "Finished ok.service."
    record = live_manager.log_records()[-1]
    assert (record["PRIORITY"], record["SYSLOG_IDENTIFIER"], record["USER_UNIT"]) == (
        "6",
        "systemd",
        "ok.service",
    )
    assert "Finished ok.service." in live_manager.log_path.read_text()


@pytest.mark.parametrize(
    ("datagram", "fields"),
    [
        (b"PRIORITY=6\nMESSAGE=a=b\n", {"PRIORITY": "6", "MESSAGE": "a=b"}),
        (b"MESSAGE=one\ntwo\nPRIORITY=3\n", {"MESSAGE": "one\ntwo", "PRIORITY": "3"}),
        (b"MESSAGE\n" + (5).to_bytes(8, "little") + b"x\ny=z\nPRIORITY=3\n", {"MESSAGE": "x\ny=z", "PRIORITY": "3"}),
    ],
)
def test_parse_journal_record(datagram: bytes, fields: dict[str, str]) -> None:
    assert _parse_journal_record(datagram) == fields


def test_restart_gives_new_manager_on_same_dirs(live_manager: LiveManager) -> None:
    m = live_manager
    write(config_units(m) / "ok.service", ONESHOT)
    mask(m.runtime_dir_host / "systemd" / "user" / "rt.service")
    old_pid, old_environ = m.pid, dict(m.environ)
    assert m.restart() is m
    assert m.pid != old_pid
    assert ps(old_pid) == ""
    assert m.environ == old_environ
    assert m.show("ok.service", "LoadState") == {"LoadState": "loaded"}
    # /run is a new tmpfs: runtime units are gone.
    assert m.show("rt.service", "LoadState") == {"LoadState": "not-found"}


def test_stop_leaves_no_process_and_no_cgroup(live_manager: LiveManager) -> None:
    m = live_manager
    write(config_units(m) / "sleeper.service", SLEEPER)
    assert m.start_unit("sleeper.service") == StartResult(0, "")
    assert m.show("sleeper.service", "ControlGroup") == {"ControlGroup": f"{m.cgroup or ''}/app.slice/sleeper.service"}
    ns = os.readlink(f"/proc/{m.pid}/ns/mnt")
    in_ns = [int(p) for p in os.listdir("/proc") if p.isdigit() and _mount_ns(p) == ns]
    assert m.pid in in_ns and len(in_ns) >= 3  # the manager and both sleeps
    cgroups = list(m.cgroup_dirs)
    assert bool(cgroups) == (m.cgroup is not None)
    m.stop()
    assert ps(*in_ns) == ""
    assert not m.running
    assert [c for c in cgroups if c.exists()] == []
    m.stop()  # idempotent


def test_parallel_managers_have_separate_cgroups(start_live_manager: Callable[..., LiveManager]) -> None:
    """Two managers run NAME.service in different cgroups, so one cannot kill the other's."""
    a, b = start_live_manager("a"), start_live_manager("b")
    if a.cgroup is None:
        pytest.skip("cgroup file system not writable: managers share the cgroup tree")
    for m in (a, b):
        write(config_units(m) / "sleeper.service", SLEEPER)
        assert m.start_unit("sleeper.service") == StartResult(0, "")
    b_main = int(b.show("sleeper.service", "MainPID")["MainPID"])
    assert a.systemctl("stop", "sleeper.service").returncode == 0
    assert b.show("sleeper.service", "ActiveState") == {"ActiveState": "active"}
    assert ps(b_main)


# -- systemd facts (fact sheet §1.2, §4) ---------------------------------------------------------------------


def test_unit_path_is_built_from_environ(live_manager: LiveManager) -> None:
    """§1.2, with XDG_CONFIG_DIRS/XDG_DATA_DIRS pointing away from /etc/xdg and /usr/share."""
    m = live_manager
    run = "/run/user/0/systemd"
    expected = [
        f"{m.config_home}/systemd/user.control",
        f"{run}/user.control",
        f"{run}/transient",
        f"{run}/generator.early",
        f"{m.config_home}/systemd/user",
        f"{m.config_dirs[0]}/systemd/user",
        "/etc/systemd/user",
        f"{run}/user",
        "/run/systemd/user",
        f"{run}/generator",
        f"{m.data_home}/systemd/user",
        f"{m.data_dirs[0]}/systemd/user",
        "/usr/local/lib/systemd/user",
        "/usr/local/share/systemd/user",
        "/usr/lib/systemd/user",
        "/usr/share/systemd/user",
        f"{run}/generator.late",
    ]
    assert live_manager.show("", "UnitPath")["UnitPath"].split() == expected


def test_masked_unit_in_config_home(live_manager: LiveManager) -> None:
    """§4.1, §4.2: start fails with rc 1; LoadError is UnitMasked."""
    mask(config_units(live_manager) / "m.service")
    assert live_manager.start_unit("m.service") == StartResult(
        1, "Failed to start m.service: Unit m.service is masked.\n"
    )
    assert live_manager.show("m.service", "LoadState", "LoadError", "UnitFileState", "FragmentPath") == {
        "LoadState": "masked",
        "LoadError": 'org.freedesktop.systemd1.UnitMasked "Unit m.service is masked."',
        "UnitFileState": "masked",
        "FragmentPath": str(config_units(live_manager) / "m.service"),
    }


def test_not_found_unit(live_manager: LiveManager) -> None:
    """§4.1, §4.2: start fails with rc 5; LoadError is NoSuchUnit."""
    assert live_manager.start_unit("x.service") == StartResult(
        5, "Failed to start x.service: Unit x.service not found.\n"
    )
    assert live_manager.show("x.service", "LoadState", "LoadError", "UnitFileState") == {
        "LoadState": "not-found",
        "LoadError": 'org.freedesktop.systemd1.NoSuchUnit "Unit x.service not found."',
        "UnitFileState": "",
    }


def test_loaded_unit_has_empty_load_error(live_manager: LiveManager) -> None:
    write(config_units(live_manager) / "ok.service", ONESHOT)
    assert live_manager.show("ok.service", "LoadState", "LoadError") == {
        "LoadState": "loaded",
        "LoadError": "",
    }


def test_requires_on_masked_unit_fails_naming_the_masked_unit(live_manager: LiveManager) -> None:
    """§4.3: the whole transaction fails, and the message names the dependency."""
    units = config_units(live_manager)
    mask(units / "m.service")
    write(units / "a.service", "[Unit]\nRequires=m.service\n" + ONESHOT)
    assert live_manager.start_unit("a.service") == StartResult(
        1, "Failed to start a.service: Unit m.service is masked.\n"
    )
    assert live_manager.show("a.service", "ActiveState") == {"ActiveState": "inactive"}


def test_requires_on_missing_unit_fails_with_rc_5(live_manager: LiveManager) -> None:
    """§4.3: a not-found Requires= fails like starting the missing unit itself."""
    write(config_units(live_manager) / "a.service", "[Unit]\nRequires=nonexist.service\n" + ONESHOT)
    assert live_manager.start_unit("a.service") == StartResult(
        5, "Failed to start a.service: Unit nonexist.service not found.\n"
    )


def test_wants_on_masked_unit_starts_and_logs_at_debug(
    start_live_manager: Callable[..., LiveManager],
) -> None:
    """§4.3: Wants= errors are only logged, at debug level, by transaction_add_job_and_dependencies."""
    m = start_live_manager(log_level="debug")
    units = config_units(m)
    mask(units / "m.service")
    write(units / "w.service", "[Unit]\nWants=m.service\n" + ONESHOT)
    assert m.start_unit("w.service") == StartResult(0, "")
    assert m.show("w.service", "ActiveState") == {"ActiveState": "active"}
    skipped = [r for r in m.log_records() if r.get("CODE_FUNC") == "transaction_add_job_and_dependencies"]
    assert [(r["PRIORITY"], r["USER_UNIT"], r["MESSAGE"]) for r in skipped] == [
        ("7", "m.service", "m.service: Cannot add dependency job, ignoring: Unit m.service is masked.")
    ]


def test_runtime_mask_written_through_runtime_dir_host(live_manager: LiveManager) -> None:
    """§2.2: a mask in $XDG_RUNTIME_DIR/systemd/user is masked-runtime; the dir may appear after start-up."""
    mask(live_manager.runtime_dir_host / "systemd" / "user" / "r.service")
    assert live_manager.start_unit("r.service") == StartResult(
        1, "Failed to start r.service: Unit r.service is masked.\n"
    )
    assert live_manager.show("r.service", "LoadState", "UnitFileState", "FragmentPath") == {
        "LoadState": "masked",
        "UnitFileState": "masked-runtime",
        "FragmentPath": "/run/user/0/systemd/user/r.service",
    }


def test_inactive_unit_is_reloaded_from_disk_between_calls(live_manager: LiveManager) -> None:
    """§4.5 "read on demand": an inactive, unreferenced unit is unloaded after each call and read again later.

    So a new mask shows up at once, without daemon-reload.  The unit lives in XDG_DATA_HOME, below the runtime
    dir; one in XDG_CONFIG_HOME would beat the runtime mask.
    """
    m = live_manager
    write(m.data_home / "systemd" / "user" / "d.service", ONESHOT)
    assert m.show("d.service", "LoadState") == {"LoadState": "loaded"}
    mask(m.runtime_dir_host / "systemd" / "user" / "d.service")
    assert m.show("d.service", "LoadState", "UnitFileState") == {
        "LoadState": "masked",
        "UnitFileState": "masked-runtime",
    }


def test_runtime_mask_of_loaded_unit_needs_daemon_reload(live_manager: LiveManager) -> None:
    """§4.5: a new higher-priority mask for a loaded (here: active) unit goes unnoticed until daemon-reload.

    NeedDaemonReload stays "no": the test only looks at the fragment already loaded.
    """
    m = live_manager
    write(m.data_home / "systemd" / "user" / "d.service", ONESHOT)
    assert m.start_unit("d.service") == StartResult(0, "")
    mask(m.runtime_dir_host / "systemd" / "user" / "d.service")
    assert m.show("d.service", "LoadState", "NeedDaemonReload") == {
        "LoadState": "loaded",
        "NeedDaemonReload": "no",
    }
    m.daemon_reload()
    assert m.show("d.service", "LoadState", "UnitFileState", "ActiveState") == {
        "LoadState": "masked",
        "UnitFileState": "masked-runtime",
        "ActiveState": "active",
    }


def _mount_ns(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None
