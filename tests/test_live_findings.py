"""``checks.live``: findings where the running manager's facts (given as a ``LiveUnit``) differ from the files.

The facts are written by hand here; tests/live/test_why_live.py gets them from a real manager.
"""

from __future__ import annotations

import pathlib

import pytest

from unitdoctor.catalog import open_catalog
from unitdoctor.live import LiveLoadError, LiveUnit
from unitdoctor.lookup import Scope
from unitdoctor.manager import LoadState
from unitdoctor.records import replace
from unitdoctor.report import why

ONESHOT = "[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


def live(name: str, state: LoadState = LoadState.LOADED, **kw) -> LiveUnit:
    base = LiveUnit(name=name, id=name, load_state=state, load_error=None, active_state="inactive", sub_state="dead",
                    result="success", need_daemon_reload=False, triggered_by=(), triggers=(), fragment_path="",
                    drop_in_paths=(), unit_file_state="", via="/run/systemd/private")
    return replace(base, **kw)


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "etc/systemd/system"
    d.mkdir(parents=True)
    (d / "a.service").write_text(ONESHOT)
    (d / "m.service").symlink_to("/dev/null")
    (d / "m.service.d").mkdir()
    (d / "m.service.d/x.conf").write_text("[Unit]\nDescription=x\n")
    return tmp_path


def ids(report) -> dict[str, object]:
    return {f.id: f for f in report.findings}


def test_no_live_facts_no_live_findings(root: pathlib.Path) -> None:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    r = why(cat, "a.service")
    assert r.live is None and r.ok


def test_agreeing_facts_add_nothing(root: pathlib.Path) -> None:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    r = why(cat, "a.service", live=live("a.service", active_state="active", sub_state="exited"))
    assert r.live is not None and r.ok
    assert not {"needs-daemon-reload", "live-load-state-differs", "failed"} & set(ids(r))


def test_manager_holding_a_removed_mask_is_an_error_until_reloaded(root: pathlib.Path) -> None:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    masked = LiveLoadError("org.freedesktop.systemd1.UnitMasked", "Unit a.service is masked.")
    r = why(cat, "a.service", live=live("a.service", LoadState.MASKED, load_error=masked, need_daemon_reload=True))
    f = ids(r)["needs-daemon-reload"]
    assert f.severity.value == "error" and not r.ok
    assert f.summary == ("needs daemon-reload: the manager still has the old state of a.service "
                         "(live load state masked but files say loaded)")
    assert f.fix == (f"systemctl --root={root} daemon-reload",)
    assert [e.text for e in f.evidence] == ["NeedDaemonReload=yes", "LoadState=masked (Unit a.service is masked.)",
                                            "the unit files give LoadState=loaded"]


def test_different_load_state_without_reload_need_is_said_too(root: pathlib.Path) -> None:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    r = why(cat, "m.service", live=live("m.service", LoadState.LOADED))
    f = ids(r)["live-load-state-differs"]
    assert f.severity.value == "warning"
    assert f.summary.startswith("live load state loaded but files say masked: ")


def test_masked_unit_with_drop_ins_needs_no_reload_whatever_252_says(root: pathlib.Path) -> None:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    r = why(cat, "m.service", live=live("m.service", LoadState.MASKED, need_daemon_reload=True,
                                         drop_in_paths=("/etc/systemd/system/m.service.d/x.conf",)))
    assert "needs-daemon-reload" not in ids(r)
    assert ids(r)["spurious-needs-daemon-reload"].severity.value == "info"


def test_a_failed_last_run_is_a_warning_with_the_result(root: pathlib.Path) -> None:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    r = why(cat, "a.service", live=live("a.service", active_state="failed", sub_state="failed", result="exit-code"))
    f = ids(r)["failed"]
    assert f.severity.value == "warning" and r.ok
    assert f.summary == "a.service failed the last time it ran (result: exit-code)"
    assert f.fix[0] == "see why: journalctl -u a.service"
