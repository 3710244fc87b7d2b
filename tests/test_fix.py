"""fix.py and the ``fix``/``history``/``undo`` commands on real roots: act, check, undo, and the faults.

Every root is built in tmp_path from tests/fixroots.py; whole trees are compared (type, link text, content,
mode, and the mtime of links and files). The host's /etc/systemd is never touched: every command runs with
``--root``. The faults are injected through ``fix.apply``'s test-only hooks (``before_act``, ``checkpoint``),
real concurrent lock holders, SIGKILL of a real process, and read-only bind mounts in a private mount namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests import fixroots as fr
from tests.differential.systemctl import our_states, systemctl_path, their_states

from unitdoctor import cli, fix
from unitdoctor.cli import fix as cli_fix
from unitdoctor.journal import Journal, LockBusy
from unitdoctor.plan import Because, Link, Plan, Reason, RemoveMask, StartUnit, plan_fix
from unitdoctor.report import why
from unitdoctor.rootfs import Root

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    rc, out, err = run(capsys, *argv, "--json")
    return rc, json.loads(out)


def plan_of(root: Path, *units: str, **kw) -> Plan:
    cat = fr.catalog(root)
    return plan_fix([why(cat, u) for u in units], catalog=cat, **kw)


def apply(root: Path, plan: Plan, **kw) -> fix.Outcome:
    r = Root(str(root))
    return fix.apply(plan, root=r, journal=Journal.for_scope("system", r, {}), ops=fix.OfflineOps(),
                     recheck=lambda: fr.catalog(root), **kw)


def journal(root: Path) -> Journal:
    return Journal.for_scope("system", Root(str(root)), {})


def statuses(root: Path) -> list[tuple[str, str]]:
    return [(e.command, e.status) for e in journal(root).entries()]


# -- the whole round trip, every scenario ------------------------------------------------------------------


@pytest.mark.parametrize("name", fr.FIXABLE)
def test_fix_yes_then_why_is_clean_systemctl_agrees_and_undo_restores_the_exact_tree(tmp_path, capsys, name):
    sc = fr.SCENARIOS[name]
    root = fr.build(tmp_path, name)
    before = fr.snapshot(root)
    assert run(capsys, "--root", str(root), "why", *sc.units)[0] == 1

    rc, out, err = run(capsys, "--root", str(root), "fix", "--yes", *sc.units)
    assert rc == 0, out + err
    assert "Journal entry:" in out and "can start now" in out
    assert run(capsys, "--root", str(root), "why", *sc.units)[0] == 0
    if sc.states and systemctl_path():
        assert their_states(root, sc.states) == our_states(root, sc.states)
    assert statuses(root) == [("fix", "done")]

    rc, out, err = run(capsys, "--root", str(root), "undo", "--yes")
    assert rc == 0, out + err
    assert fr.diff(fr.snapshot(root), before) == []
    assert statuses(root) == [("fix", "undone"), ("undo", "done")]
    assert run(capsys, "--root", str(root), "why", *sc.units)[0] == 1


def test_socket_fix_is_enabled_for_systemctl_too(tmp_path, capsys):
    root = fr.build(tmp_path, "socket-activated")
    assert run(capsys, "--root", str(root), "fix", "--yes", "foo.service")[0] == 0
    assert os.readlink(root / fr.ETC / "sockets.target.wants/foo.socket") == "/usr/lib/systemd/system/foo.socket"
    if systemctl_path():
        assert their_states(root, ["foo.socket"]) == {"foo.socket": ("state", "enabled")}


@pytest.mark.parametrize("name", sorted(fr.SCENARIOS))
@pytest.mark.parametrize("as_json", [False, True])
def test_dry_run_changes_nothing_at_all(tmp_path, capsys, name, as_json):
    sc = fr.SCENARIOS[name]
    root = fr.build(tmp_path, name)
    before = fr.snapshot(root, skip=None)
    argv = ["--root", str(root), "fix", "--dry-run", *sc.units] + (["--json"] if as_json else [])
    rc, out, _err = run(capsys, *argv)
    assert rc == (0 if sc.fixable else 1)
    assert fr.diff(fr.snapshot(root, skip=None), before) == []
    assert not (root / "var").exists()
    if as_json:
        doc = json.loads(out)
        assert doc["dry_run"] is True and doc["outcomes"] == []


def test_dry_run_prints_the_same_actions_that_apply_executes(tmp_path, capsys):
    root = fr.build(tmp_path, "multi")
    rc, doc = run_json(capsys, "--root", str(root), "fix", "--dry-run", "x.service", "foo.service")
    planned = [(a["action"], a.get("path"), a.get("effect")) for a in doc["plan"]["actions"]]
    rc, doc = run_json(capsys, "--root", str(root), "fix", "--yes", "x.service", "foo.service")
    assert rc == 0
    assert [(a["action"], a.get("path"), a.get("effect")) for a in doc["plan"]["actions"]] == planned
    (entry,) = journal(root).entries()
    # the journal keeps the same actions as data (root-relative paths), the words are the renderer's
    assert entry.version == 2 and all("effect" not in p for p in entry.plan)
    assert [(p["action"], p.get("path") and str(root) + p["path"]) for p in entry.plan] == \
        [(a, p) for a, p, _e in planned]


@pytest.mark.parametrize("name", ["vendor", "kernel-cmdline"])
def test_advice_only_roots_change_nothing_and_exit_1(tmp_path, capsys, name):
    root = fr.build(tmp_path, name)
    before = fr.snapshot(root, skip=None)
    rc, out, _ = run(capsys, "--root", str(root), "fix", "--yes", "x.service")
    assert rc == 1
    assert "Not done by unitdoctor (advice)" in out and "will still not start" in out
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


def test_unit_that_is_fine_offline_needs_nothing_and_writes_no_journal(tmp_path, capsys):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
    rc, out, _ = run(capsys, "--root", str(root), "fix", "--yes", "x.service")
    assert rc == 0 and "Nothing to change." in out
    assert not (root / "var").exists()


def test_user_scope_on_the_host_with_a_private_environment_journals_in_xdg_state_home(tmp_path, capsys,
                                                                                       monkeypatch):
    """--user: the unit files and the journal follow XDG_* (all in tmp_path); no manager → files only."""
    home = tmp_path / "home"
    env = {"HOME": home, "XDG_CONFIG_HOME": home / "cfg", "XDG_DATA_HOME": home / "data",
           "XDG_STATE_HOME": home / "state", "XDG_CONFIG_DIRS": home / "xdg-cfg", "XDG_DATA_DIRS": home / "xdg-data"}
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    for k in ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "SYSTEMD_UNIT_PATH"):
        monkeypatch.delenv(k, raising=False)
    name = "unitdoctor-test-user-fix.service"
    fr.write(home, f"data/systemd/user/{name}", fr.SERVICE.format(d="u").replace("multi-user", "default"))
    mask = fr.link(home, f"cfg/systemd/user/{name}", "/dev/null")
    rc, out, err = run(capsys, "--user", "fix", "--yes", name)
    assert rc == 0, out + err
    assert "files only" in err and not mask.is_symlink()
    assert list((home / "state/unitdoctor").glob("*.json"))
    rc, doc = run_json(capsys, "--user", "history")
    assert doc["journal"] == f"{home}/state/unitdoctor" and doc["entries"][0]["scope"] == "user"
    assert run(capsys, "--user", "undo", "--yes")[0] == 0
    assert os.readlink(mask) == "/dev/null"


# -- confirmation and input -------------------------------------------------------------------------------


def test_not_a_terminal_without_yes_refuses_with_exit_2_and_a_hint(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    before = fr.snapshot(root, skip=None)
    rc, out, err = run(capsys, "--root", str(root), "fix", "x.service")
    assert rc == 2
    assert "Pass --yes" in err and "--dry-run" in err
    assert "remove the mask" in out  # the plan was shown
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


@pytest.mark.parametrize("answer,rc,changed", [("y\n", 0, True), ("n\n", 1, False), ("\n", 1, False)])
def test_terminal_asks_before_acting(tmp_path, capsys, monkeypatch, answer, rc, changed):
    import io

    root = fr.build(tmp_path, "persistent")
    monkeypatch.setattr(cli_fix, "_interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    got, out, err = run(capsys, "--root", str(root), "fix", "x.service")
    assert got == rc and "Apply this plan? [y/N]" in err
    assert (not (root / fr.ETC / "x.service").is_symlink()) is changed


def test_invalid_unit_name_is_exit_2_and_changes_nothing(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    before = fr.snapshot(root, skip=None)
    rc, _out, err = run(capsys, "--root", str(root), "fix", "--yes", "x" * 300)
    assert rc == 2 and "unitdoctor:" in err
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


R = Reason(Because.ASKED, "x.service")


def _plan(*actions) -> Plan:
    return Plan(("x.service",), "system", None, False, False, tuple(actions), ())


@pytest.mark.parametrize("action,message", [
    (RemoveMask("x y.service", "/etc/systemd/system/x.service", "", False, "symlink", "/dev/null", R),
     '"x y.service" is not a valid unit name.'),
    (RemoveMask("x.service", "/usr/lib/systemd/system/x.service", "", False, "symlink", "/dev/null", R),
     "under /usr"),
    (RemoveMask("x.service", "/etc/systemd/../systemd/system/x.service", "", False, "symlink", "/dev/null", R),
     "not a normalised path"),
    (RemoveMask("x.service", "etc/systemd/system/x.service", "", False, "symlink", "/dev/null", R),
     "not an absolute path"),
    (RemoveMask("x.service", "/etc/systemd/system/x.service", "", False, "symlink", None, R), "a mask is"),
    (RemoveMask("x.service", "/etc/passwd", "", False, "empty-file", None, R), '"passwd" is not a valid unit'),
    (StartUnit("x@.servic", R), "is not a valid unit name"),
])
def test_apply_validates_names_and_paths_before_touching_anything(tmp_path, action, message):
    root = fr.build(tmp_path, "persistent")
    before = fr.snapshot(root, skip=None)
    with pytest.raises(fix.InvalidPlan, match=message.replace("(", r"\(").replace(".", r"\.")):
        apply(root, _plan(action))
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


# -- faults: the object is not what the plan saw ---------------------------------------------------------


def test_regular_file_with_content_where_a_mask_was_expected_refuses_before_any_change(tmp_path):
    root = fr.build(tmp_path, "both")
    plan = plan_of(root, "x.service")
    (root / fr.RUN / "x.service").write_text("[Unit]\nDescription=admin wrote this meanwhile\n")
    before = fr.snapshot(root)
    out = apply(root, plan)
    assert out.status == fix.REFUSED and not out.entry
    assert any("expected an empty file, found a regular file with content" in m for m in out.messages)
    assert fr.diff(fr.snapshot(root), before) == []
    assert journal(root).entries() == []


def test_content_appearing_between_check_and_act_rolls_back_the_whole_fix(tmp_path):
    root = fr.build(tmp_path, "both")
    before = fr.snapshot(root)
    plan = plan_of(root, "x.service")

    def swap(step) -> None:
        if step.path == "/run/systemd/system/x.service":
            (root / fr.RUN / "x.service").write_text("content\n")

    out = apply(root, plan, before_act=swap)
    assert out.status == "rolled-back" and not out.ok
    assert any("found a regular file with content (8 bytes); left alone" in m for m in out.messages)
    assert (root / fr.RUN / "x.service").read_text() == "content\n"  # never removed
    after = fr.snapshot(root)
    del after[f"{fr.RUN}/x.service"], before[f"{fr.RUN}/x.service"]
    assert fr.diff(after, before) == []  # the /etc mask came back exactly (text, times)
    assert statuses(root) == [("fix", "rolled-back")]


def test_not_a_mask_once_moved_aside_goes_back_or_stays_in_quarantine_saying_where(tmp_path):
    """The object is examined where it was moved (quarantine); a file with content is put back, and when its
    name was taken meanwhile it stays in quarantine, the message says where, and the fix stops."""
    root = fr.build(tmp_path, "persistent")
    plan = plan_of(root, "x.service")
    q = root / fr.JOURNAL / "quarantine"

    def meanwhile(name: str) -> None:
        if name == "step-0-moved":
            (moved,) = q.iterdir()
            moved.unlink()
            moved.write_text("admin's unit\n")  # as if this had been moved aside instead of the mask
            (root / fr.ETC / "x.service").write_text("another admin's unit\n")

    out = apply(root, plan, checkpoint=meanwhile)
    assert out.status == "rolled-back" and not out.ok
    (kept,) = q.iterdir()
    assert kept.read_text() == "admin's unit\n"
    assert (root / fr.ETC / "x.service").read_text() == "another admin's unit\n"
    assert any(f"it is kept at {kept}" in m for m in out.messages), out.messages


def test_symlink_swapped_between_plan_and_act_is_left_alone(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    plan = plan_of(root, "x.service")
    target = root / fr.ETC / "x.service"

    def swap(step) -> None:
        target.unlink()
        target.symlink_to("/opt/other.service")

    out = apply(root, plan, before_act=swap)
    assert out.status == "rolled-back"
    assert any("expected a symlink to /dev/null, found a symlink to /opt/other.service; left alone" in m
               for m in out.messages)
    assert os.readlink(target) == "/opt/other.service"
    rc, hist = run_json(capsys, "--root", str(root), "history")
    assert [e["status"] for e in hist["entries"]] == ["rolled-back"]


def test_same_kind_swap_is_caught_by_the_inode(tmp_path):
    root = fr.build(tmp_path, "persistent")
    plan = plan_of(root, "x.service")
    target = root / fr.ETC / "x.service"

    def swap(step) -> None:
        target.unlink()
        target.symlink_to("/dev/null")  # same text, another link: not the one we checked

    out = apply(root, plan, before_act=swap)
    assert out.status == "rolled-back"
    assert any("was replaced by another symlink to /dev/null since it was checked" in m for m in out.messages)
    assert target.is_symlink()


def test_parent_directory_swapped_for_a_link_out_of_the_root_touches_nothing_outside(tmp_path):
    root = fr.build(tmp_path, "persistent")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.service").symlink_to("/dev/null")
    plan = plan_of(root, "x.service")
    etc = root / fr.ETC

    def swap(step) -> None:
        etc.rename(etc.with_name("system.moved"))
        etc.symlink_to(outside)  # absolute host path: must not be followed out of the root

    out = apply(root, plan, before_act=swap)
    assert out.status in ("rolled-back", "conflict") and not out.ok
    assert os.readlink(outside / "x.service") == "/dev/null"
    assert os.readlink(etc.with_name("system.moved") / "x.service") == "/dev/null"


def test_a_config_dir_that_resolves_into_usr_is_never_written(tmp_path):
    root = fr.base(tmp_path / "root")
    shutil.rmtree(root / fr.ETC)
    (root / fr.ETC).symlink_to("../../usr/lib/systemd/system")
    fr.link(root, f"{fr.USR}/x.service", "/dev/null")
    plan = plan_of(root, "x.service")
    assert not plan.changes  # the planner sees through the link
    forced = _plan(RemoveMask("x.service", "/etc/systemd/system/x.service", "", False, "symlink", "/dev/null", R))
    out = apply(root, forced)
    assert out.status == "rolled-back"
    assert any("under /usr; left alone" in m for m in out.messages)
    assert os.readlink(root / fr.USR / "x.service") == "/dev/null"


def test_journal_of_a_hostile_root_stays_inside_it(tmp_path):
    root = fr.build(tmp_path, "persistent")
    (root / "var").symlink_to("/")  # ROOT/var/lib/unitdoctor → re-rooted: ROOT/lib/unitdoctor
    host = Path("/var/lib/unitdoctor")
    existed = host.exists()
    out = apply(root, plan_of(root, "x.service"))
    assert out.status == "done"
    assert (root / "lib/unitdoctor").is_dir() and list((root / "lib/unitdoctor").glob("*.json"))
    assert host.exists() == existed


# -- faults: concurrency ------------------------------------------------------------------------------------


def test_two_fixes_at_once_run_one_after_the_other(tmp_path):
    root = fr.build(tmp_path, "both")
    plan = plan_of(root, "x.service")
    a_acting, b_started = threading.Event(), threading.Event()
    results: dict[str, fix.Outcome] = {}
    order: list[str] = []

    def hold(step) -> None:
        if not a_acting.is_set():
            a_acting.set()
            assert b_started.wait(10)
            time.sleep(0.5)  # B is now waiting for the lock
            order.append("A still acting")

    def first() -> None:
        results["A"] = apply(root, plan, before_act=hold)
        order.append("A done")

    def second() -> None:
        assert a_acting.wait(10)
        b_started.set()
        results["B"] = apply(root, plan)
        order.append("B done")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # A re-checks with why after releasing the lock, so B may return first; what matters is that B waited
    # for A's changes: it found both masks gone.
    assert order[0] == "A still acting" and sorted(order[1:]) == ["A done", "B done"]
    assert results["A"].status == "done" and results["A"].ok
    assert results["B"].status == fix.NOTHING  # both masks already gone when B got the lock
    assert all("already nothing" in m for m in results["B"].messages)
    assert statuses(root) == [("fix", "done")]


def test_a_fix_in_another_process_waits_for_the_lock(tmp_path):
    root = fr.build(tmp_path, "persistent")
    with journal(root).locked():
        p = subprocess.Popen([sys.executable, "-m", "unitdoctor", "--root", str(root), "fix", "--yes", "x.service"],
                             env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert p.poll() is None  # blocked on flock
        assert (root / fr.ETC / "x.service").is_symlink()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, out + err
    assert not (root / fr.ETC / "x.service").exists()


def test_lock_held_too_long_is_a_clear_error_and_nothing_changes(tmp_path):
    root = fr.build(tmp_path, "persistent")
    before = fr.snapshot(root)
    with journal(root).locked(), pytest.raises(LockBusy, match="another unitdoctor fix holds"):
        apply(root, plan_of(root, "x.service"), lock_timeout=0.2)
    assert fr.diff(fr.snapshot(root), before) == []


# -- faults: kill -9 at each step -------------------------------------------------------------------------

UNITS = ("x.service", "foo.service")


def _kill_at(root: Path, n: int, command: str = "fix") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.fixkill", command, str(root), str(n), *UNITS], env=ENV,
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def _fixed_reference(tmp_path: Path) -> fr.Snap:
    ref = fr.build(tmp_path, "multi", "reference")
    assert apply(ref, plan_of(ref, *UNITS)).ok
    return fr.snapshot(ref, times=False)


def test_kill_9_at_each_step_of_a_fix_then_recover_completes_or_undo_rolls_back(tmp_path, capsys):
    """multi: 5 file steps (3 masks, a directory, a link) → 16 checkpoints. At each: recover, and undo."""
    fixed = _fixed_reference(tmp_path)
    n = 0
    while True:
        n += 1
        a = fr.build(tmp_path, "multi", f"recover-{n}")
        b = fr.build(tmp_path, "multi", f"undo-{n}")
        before_b = fr.snapshot(b)
        pa, pb = _kill_at(a, n), _kill_at(b, n)
        if pa.returncode == 0:
            assert "status done" in pa.stdout
            break
        assert pa.returncode == pb.returncode == -9, pa.stderr
        last = pa.stdout.split()[-1]
        interrupted = last != "done"
        rc, hist = run_json(capsys, "--root", str(a), "history")
        assert [e["interrupted"] for e in hist["entries"]] == [interrupted]

        if interrupted:
            # The next fix refuses and names both ways out.
            rc, out, err = run(capsys, "--root", str(a), "fix", "--yes", "x.service")
            assert rc == 1 and "fix --recover" in err and "undo " in err
        rc, out, err = run(capsys, "--root", str(a), "fix", "--recover")
        assert rc == 0, (n, out, err)
        assert fr.diff(fr.snapshot(a, times=False), fixed) == [], (n, last)
        assert run(capsys, "--root", str(a), "why", *UNITS)[0] == 0
        assert [s for _c, s in statuses(a)] == ["done"]

        rc, out, err = run(capsys, "--root", str(b), "undo", "--yes")
        assert rc == 0, (n, out, err)
        assert fr.diff(fr.snapshot(b), before_b) == [], (n, last)
    # journal-written; the 3 masks: moved (into quarantine), acted, recorded; the directory: acted, recorded;
    # the link: parked (built in quarantine), acted, recorded; done. The 17th run was not killed.
    assert n == 17


def test_kill_9_during_an_undo_then_recover_completes_the_undo(tmp_path, capsys):
    root = fr.build(tmp_path, "both")
    before = fr.snapshot(root)
    assert apply(root, plan_of(root, "x.service")).ok
    p = _kill_at(root, 4, "undo")  # journal-written, step-0-parked, step-0-acted, [kill] at step-0-recorded
    assert p.returncode == -9
    rc, out, err = run(capsys, "--root", str(root), "fix", "--recover")
    assert rc == 0, out + err
    assert fr.diff(fr.snapshot(root), before) == []
    assert statuses(root) == [("fix", "undone"), ("undo", "done")]


# -- faults: read-only -------------------------------------------------------------------------------------


def _namespace_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root for a private mount namespace"
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return None if p.returncode == 0 else f"unshare --mount fails: {p.stderr.decode(errors='replace').strip()}"


def _in_namespace(ro: Path, root: Path, *argv: str) -> subprocess.CompletedProcess:
    reason = _namespace_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    script = ('mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && shift && '
              f'exec {sys.executable} -m unitdoctor --root "$0" "$@"')
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(root), str(ro),
                           "x", *argv], env=ENV, capture_output=True, text=True, timeout=120)


def test_read_only_root_is_a_clear_error_and_nothing_changes(tmp_path):
    root = fr.build(tmp_path, "both")
    before = fr.snapshot(root, skip=None)
    p = _in_namespace(root, root, "fix", "--yes", "x.service")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Read-only file system" in p.stderr and "journal" in p.stderr
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


def test_read_only_layer_mid_fix_rolls_back_what_was_done(tmp_path):
    root = fr.build(tmp_path, "both")
    before = fr.snapshot(root)
    p = _in_namespace(root / "run", root, "fix", "--yes", "x.service")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Read-only file system" in p.stdout and "rolled back" in p.stdout
    assert fr.diff(fr.snapshot(root), before) == []  # /etc mask removed, then restored exactly
    assert statuses(root) == [("fix", "rolled-back")]


def test_a_read_only_journal_quarantine_is_bypassed_by_the_hidden_one_beside_the_path(tmp_path, capsys):
    """Found by the campaign (tests/fuzz/faults.py): the quarantine a read-only bind mount, the link of the socket
    could not be built there, and the rollback could not rebuild the masks: the fix was left half-done."""
    root = fr.build(tmp_path, "multi")
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    assert run(capsys, "--root", str(root), "undo", "--yes")[0] == 0
    before = fr.snapshot(root)
    p = _in_namespace(root / fr.JOURNAL / "quarantine", root, "fix", "--yes", "x.service", "foo.service")
    assert p.returncode == 0, p.stdout + p.stderr
    assert (root / fr.ETC / "sockets.target.wants/foo.socket").is_symlink()
    assert not list(root.rglob(".unitdoctor-quarantine"))  # the hidden quarantine is gone once empty
    assert run(capsys, "--root", str(root), "undo", "--yes")[0] == 0
    assert fr.diff(fr.snapshot(root), before) == []


def test_a_rollback_the_filesystem_refuses_stays_to_recover_and_blocks_until_recovered(tmp_path, capsys):
    """/etc turns read-only after its mask is removed: a later step fails, and the rollback cannot put the mask
    back. The entry stays rolling-back (interrupted, not "conflict"), and `fix --recover` finishes it."""
    if _namespace_available():
        pytest.skip(_namespace_available() or "")
    root = fr.build(tmp_path, "multi")
    before = fr.snapshot(root)
    etc = str(root / "etc")
    code = f"""
import subprocess, sys
from pathlib import Path
from tests import fixroots as fr
from tests.test_fix import apply, plan_of
subprocess.run(["mount", "--bind", {etc!r}, {etc!r}], check=True)
def hook(step):
    if step.path and "sockets.target.wants" in step.path:
        subprocess.run(["mount", "-o", "remount,bind,ro", {etc!r}], check=True)
root = Path({str(root)!r})
out = apply(root, plan_of(root, "x.service", "foo.service"), before_act=hook)
print(out.status)
print("\\n".join(out.messages))
"""
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c", code], env=ENV,
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("rolling-back") and "not restored yet" in p.stdout, p.stdout
    assert not (root / fr.ETC / "x.service").is_symlink()  # the mask could not be put back yet
    rc, out, err = run(capsys, "--root", str(root), "fix", "--yes", "x.service")
    assert rc == 1 and "fix --recover" in err  # blocked until recovered, and told how
    rc, out, err = run(capsys, "--root", str(root), "fix", "--recover")
    assert rc == 1 and "every change of this fix was rolled back" in out, out + err  # the fix itself failed
    assert fr.diff(fr.snapshot(root), before) == []
    assert statuses(root) == [("fix", "rolled-back")]


# -- undo ----------------------------------------------------------------------------------------------------


def test_undo_restores_owner_mode_times_and_link_text(tmp_path, capsys):
    root = fr.build(tmp_path, "both")
    mask = root / fr.RUN / "x.service"
    os.chown(mask, 4321, 8765) if os.geteuid() == 0 else None
    os.utime(mask, ns=(1_000_000_000, 2_000_000_000))
    os.utime(root / fr.ETC / "x.service", ns=(3_000_000_000, 4_000_000_000), follow_symlinks=False)
    before = os.lstat(mask)
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    assert run(capsys, "--root", str(root), "undo", "--yes")[0] == 0
    st = os.lstat(mask)
    assert (st.st_uid, st.st_gid, oct(st.st_mode), st.st_size, st.st_mtime_ns) == (
        before.st_uid, before.st_gid, oct(before.st_mode), 0, 2_000_000_000)
    link = root / fr.ETC / "x.service"
    assert os.readlink(link) == "../../../dev/null" and os.lstat(link).st_mtime_ns == 4_000_000_000


def test_undo_refuses_when_a_path_changed_since_the_fix(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    (root / fr.ETC / "x.service").write_text("[Unit]\nDescription=the admin's own file\n")
    rc, out, err = run(capsys, "--root", str(root), "undo", "--yes")
    assert rc == 1
    assert "changed since" in out and "found a regular file with content" in out
    assert (root / fr.ETC / "x.service").read_text().startswith("[Unit]")
    assert statuses(root) == [("fix", "done")]


def test_undo_with_nothing_to_undo_or_an_unknown_id_is_exit_2(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    assert run(capsys, "--root", str(root), "undo", "--yes")[0] == 2  # no journal at all
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    assert run(capsys, "--root", str(root), "undo", "nope", "--yes")[0] == 2
    assert run(capsys, "--root", str(root), "undo", "--yes")[0] == 0
    rc, _out, err = run(capsys, "--root", str(root), "undo", "--yes")
    assert rc == 2 and "no fix to undo" in err


def test_undo_by_unique_id_prefix_and_an_undo_that_would_clobber_a_later_change_is_refused(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    mask = root / fr.ETC / "x.service"
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    mask.symlink_to("../../../dev/null")  # masked again (other link text), fixed again
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    first, second = journal(root).entries()
    assert run(capsys, "--root", str(root), "undo", first.id[:8], "--yes")[0] == 2  # ambiguous prefix
    assert run(capsys, "--root", str(root), "undo", first.id[:-1], "--yes")[0] == 0
    assert os.readlink(mask) == "/dev/null"
    rc, out, _ = run(capsys, "--root", str(root), "undo", second.id, "--yes")  # it would have to overwrite that link
    assert rc == 1 and "changed since" in out and "found a symlink to /dev/null" in out
    assert os.readlink(mask) == "/dev/null"


# -- JSON ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validators():
    jsonschema = pytest.importorskip("jsonschema")
    out = {}
    for name in ("fix", "history"):
        schema = json.loads((REPO / "schema" / f"{name}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        out[name] = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return out


def _valid(v, doc) -> None:
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("name", sorted(fr.SCENARIOS))
def test_json_of_fix_history_undo_and_recover_validates(tmp_path, capsys, validators, name):
    sc = fr.SCENARIOS[name]
    root = fr.build(tmp_path, name)
    for argv in (["fix", "--dry-run", *sc.units], ["fix", "--dry-run", "--runtime-only", *sc.units],
                 ["fix", "--yes", *sc.units], ["fix", "--recover"]):
        rc, doc = run_json(capsys, "--root", str(root), *argv)
        _valid(validators["fix"], doc)
    rc, doc = run_json(capsys, "--root", str(root), "history")
    _valid(validators["history"], doc)
    assert len(doc["entries"]) == (1 if sc.fixable else 0)
    if sc.fixable:
        rc, doc = run_json(capsys, "--root", str(root), "undo", "--yes")
        assert rc == 0 and doc["outcomes"][0]["status"] == "done"
        _valid(validators["fix"], doc)
        rc, doc = run_json(capsys, "--root", str(root), "history")
        _valid(validators["history"], doc)


def test_json_of_a_rolled_back_fix_validates(tmp_path, validators):
    from unitdoctor.render import fix as render

    root = fr.build(tmp_path, "both")

    def swap(step) -> None:
        if step.path.startswith("/run"):
            (root / fr.RUN / "x.service").write_text("x")

    plan = plan_of(root, "x.service")
    out = apply(root, plan, before_act=swap)
    doc = render.document("fix", Root(str(root)), plan=plan, outcomes=(out,), ok=False)
    _valid(validators["fix"], doc)
    assert [s["state"] for s in doc["outcomes"][0]["steps"]] == ["rolled-back", "failed"]


def test_the_schema_enums_match_the_engine():
    from unitdoctor.plan import Risk

    schema = json.loads((REPO / "schema" / "fix.schema.json").read_text())
    assert set(schema["$defs"]["risk"]["enum"]) == {r.value for r in Risk}
    kinds = {a["properties"]["action"]["const"] for a in schema["$defs"]["action"]["oneOf"]}
    from unitdoctor import plan as P

    assert kinds == {c.action for c in (P.RemoveMask, P.DropMaskedDropIn, P.EnableUnit, P.DaemonReload,
                                        P.StartUnit, P.Advice)}


# -- cold start ------------------------------------------------------------------------------------------------


def test_version_does_not_import_the_fix_machinery():
    code = ("import sys; from unitdoctor.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('unitdoctor.fix', 'unitdoctor.journal', 'unitdoctor.plan', 'unitdoctor.render.fix', "
            "'json', 'fcntl') if m in sys.modules])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert p.stdout.strip().endswith("[]"), p.stdout + p.stderr


def test_enable_link_plan_is_what_apply_creates(tmp_path):
    root = fr.build(tmp_path, "socket-activated")
    plan = plan_of(root, "foo.service")
    en = plan.actions[1]
    assert en.links == (Link("/etc/systemd/system/sockets.target.wants/foo.socket",
                             "/usr/lib/systemd/system/foo.socket"),)
    out = apply(root, plan)
    assert out.ok
    made = [s.path for s in out.steps if s.state == "done"]
    assert made == ["/etc/systemd/system/foo.service", *en.dirs, en.links[0].path]
