"""``unitdoctor why --user`` with live facts from a real ``systemd --user``.

The CLI runs inside the manager's mount namespace (``nsenter --mount``) with the manager's environment, so it
finds ``$XDG_RUNTIME_DIR/systemd/private`` exactly as on a real host; its JSON is checked against the schema
and against ``systemctl --user show``.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from jsonschema import Draft202012Validator

from unitdoctor import cli

from .manager import LiveManager, units, write

pytest.importorskip("jeepney")

pytestmark = pytest.mark.live

ROOT = pathlib.Path(__file__).resolve().parents[2]
ONESHOT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
SCHEMA = Draft202012Validator(json.loads((ROOT / "schema" / "why.schema.json").read_text()))


def why(m: LiveManager, *args: str) -> subprocess.CompletedProcess[str]:
    """``unitdoctor why --user ARGS`` inside the manager's namespace, with its environment."""
    env = dict(m.environ, PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")
    return subprocess.run(
        ["nsenter", f"--target={m.pid}", "--mount", "--", sys.executable, "-m", "unitdoctor", "why", "--user",
         *args],
        env=env, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def why_json(m: LiveManager, *names: str) -> dict[str, dict]:
    cp = why(m, "--json", *names)
    assert cp.returncode in (0, 1), cp.stderr
    assert cp.stderr == ""
    doc = json.loads(cp.stdout)
    errors = list(SCHEMA.iter_errors(doc))
    assert not errors, errors
    return {r["unit"]: r for r in doc}


def findings(report: dict) -> dict[str, dict]:
    return {f["id"]: f for f in report["findings"]}


def test_json_has_the_managers_facts(live_manager: LiveManager) -> None:
    d = units(live_manager)
    write(d / "ok.service", ONESHOT)
    (d / "masked.service").symlink_to("/dev/null")
    write(d / "failing.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    write(d / "s.socket", "[Socket]\nListenStream=%t/s.sock\n")
    write(d / "s.service", "[Service]\nExecStart=/bin/true\n")
    assert live_manager.start_unit("failing.service").rc != 0
    assert live_manager.start_unit("s.socket").rc == 0
    names = ("ok.service", "masked.service", "nope.service", "failing.service", "s.service", "default.target")
    reports = why_json(live_manager, *names)
    for name in names:
        live = reports[name]["live"]
        show = live_manager.show(name, "LoadState", "ActiveState", "SubState", "NeedDaemonReload", "TriggeredBy",
                                 "Result")
        assert live["via"] == "/run/user/0/systemd/private"
        assert (live["load_state"], live["active_state"], live["sub_state"]) == \
            (show["LoadState"], show["ActiveState"], show["SubState"])
        assert live["need_daemon_reload"] is (show["NeedDaemonReload"] == "yes")
        assert " ".join(live["triggered_by"]) == show["TriggeredBy"]
        assert live["result"] == show.get("Result")
        # Nothing here is stale: the live load state is the files' load state.
        assert live["load_state"] == reports[name]["load_state"]
    assert reports["masked.service"]["live"]["load_error"] == {
        "name": "org.freedesktop.systemd1.UnitMasked", "message": "Unit masked.service is masked."}
    assert reports["s.service"]["live"]["triggered_by"] == ["s.socket"]
    assert reports["default.target"]["live"]["result"] is None
    failed = findings(reports["failing.service"])["failed"]
    assert failed["summary"] == "failing.service failed the last time it ran (result: exit-code)"
    assert failed["fix"][0] == "see why: journalctl --user -u failing.service"
    for name in names:
        assert not {"needs-daemon-reload", "live-load-state-differs"} & set(findings(reports[name]))


def test_text_shows_live_lines(live_manager: LiveManager) -> None:
    write(units(live_manager) / "a.service", ONESHOT)
    assert live_manager.start_unit("a.service").rc == 0
    cp = why(live_manager, "a.service")
    assert cp.returncode == 0, cp.stderr
    assert "  live: load state loaded; active: active (exited), result: success\n" in cp.stdout


def test_a_changed_file_of_an_active_unit_needs_daemon_reload(live_manager: LiveManager) -> None:
    f = write(units(live_manager) / "a.service", ONESHOT)
    assert live_manager.start_unit("a.service").rc == 0
    time.sleep(0.01)
    f.write_text(ONESHOT + "Environment=X=1\n")
    report = why_json(live_manager, "a.service")["a.service"]
    assert report["live"]["need_daemon_reload"] is True
    finding = findings(report)["needs-daemon-reload"]
    assert finding["severity"] == "warning"
    assert finding["summary"] == ("needs daemon-reload: the manager still has the old state of a.service "
                                  "(its unit file or drop-ins changed on disk)")
    assert finding["fix"] == ["systemctl --user daemon-reload"]
    cp = why(live_manager, "a.service")
    assert "  live: needs daemon-reload\n" in cp.stdout
    assert "needs daemon-reload: the manager still has the old state" in cp.stdout
    live_manager.daemon_reload()
    report = why_json(live_manager, "a.service")["a.service"]
    assert "needs-daemon-reload" not in findings(report) and report["live"]["need_daemon_reload"] is False


def test_a_mask_removed_on_disk_is_still_held_by_the_manager(live_manager: LiveManager) -> None:
    """m.service is masked and held loaded (a.service Wants= it and is active); the mask is removed on disk.
    The files say loaded, the manager says masked, and a start now fails: an error until daemon-reload."""
    d = units(live_manager)
    write(live_manager.data_home / "systemd/user/m.service", ONESHOT)
    (d / "m.service").symlink_to("/dev/null")
    write(d / "a.service", "[Unit]\nWants=m.service\n" + ONESHOT)
    assert live_manager.start_unit("a.service").rc == 0
    (d / "m.service").unlink()
    report = why_json(live_manager, "m.service")["m.service"]
    assert (report["load_state"], report["live"]["load_state"]) == ("loaded", "masked")
    assert report["start"]["ok"] is True  # the files alone say it can start
    finding = findings(report)["needs-daemon-reload"]
    assert finding["severity"] == "error"
    assert finding["summary"] == ("needs daemon-reload: the manager still has the old state of m.service "
                                  "(live load state masked but files say loaded)")
    assert live_manager.start_unit("m.service").stderr.strip() == "Failed to start m.service: Unit m.service is masked."
    assert why(live_manager, "m.service").returncode == 1
    live_manager.daemon_reload()
    report = why_json(live_manager, "m.service")["m.service"]
    assert report["live"]["load_state"] == "loaded"
    assert [f["id"] for f in report["findings"]] == ["static"]
    assert live_manager.start_unit("m.service").rc == 0


def test_a_new_higher_priority_mask_is_not_noticed_by_need_daemon_reload(live_manager: LiveManager) -> None:
    """Fact sheet §4.5: a new file in a higher-priority directory does not set NeedDaemonReload."""
    d = units(live_manager)
    write(live_manager.data_home / "systemd/user/a.service", ONESHOT)
    assert live_manager.start_unit("a.service").rc == 0
    (d / "a.service").symlink_to("/dev/null")
    report = why_json(live_manager, "a.service")["a.service"]
    assert report["live"]["need_daemon_reload"] is False
    assert (report["load_state"], report["live"]["load_state"]) == ("masked", "loaded")
    finding = findings(report)["live-load-state-differs"]
    assert finding["severity"] == "warning"
    assert finding["summary"].startswith("live load state loaded but files say masked: ")
    assert finding["fix"] == ["systemctl --user daemon-reload"]


def test_masked_unit_with_drop_ins_reports_a_spurious_reload_need(live_manager: LiveManager) -> None:
    """Fact sheet §4.4/§4.5 (c): 252 compares a masked unit's drop-ins with an empty set."""
    d = units(live_manager)
    (d / "m.service").symlink_to("/dev/null")
    write(d / "m.service.d" / "x.conf", "[Unit]\nDescription=x\n")
    report = why_json(live_manager, "m.service")["m.service"]
    assert report["live"]["need_daemon_reload"] is True
    assert report["live"]["dropin_paths"] == [str(d / "m.service.d" / "x.conf")]
    ids = findings(report)
    assert "needs-daemon-reload" not in ids
    assert ids["spurious-needs-daemon-reload"]["severity"] == "info"
    live_manager.daemon_reload()
    assert why_json(live_manager, "m.service")["m.service"]["live"]["need_daemon_reload"] is True


def test_offline_skips_the_manager(live_manager: LiveManager) -> None:
    write(units(live_manager) / "a.service", ONESHOT)
    cp = why(live_manager, "--offline", "--json", "a.service")
    assert cp.returncode == 0 and cp.stderr == ""
    assert "live" not in json.loads(cp.stdout)[0]


def test_no_manager_is_a_one_line_note_and_the_offline_answer(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for var in list(os.environ):
        if var.startswith(("XDG_", "DBUS_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    write(tmp_path / ".config/systemd/user/a.service", ONESHOT)
    assert cli.main(["why", "--user", "--json", "a.service"]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert err.startswith("unitdoctor: no user manager reachable: ") and err.endswith("; offline analysis of /\n")
    report = json.loads(out)[0]
    assert "live" not in report and report["load_state"] == "loaded"
    assert cli.main(["why", "--user", "--offline", "a.service"]) == 0
    assert capsys.readouterr().err == ""
