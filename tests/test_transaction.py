"""transaction.predict_start without root: every way a start job fails or survives, on roots built in tmp_path.

The expected answers are the ones tests/live checks against a real ``systemd --user`` manager (which needs
root to run in a namespace); here they run anywhere. Units use ``DefaultDependencies=no`` so each case holds
only the dependencies it is about (the implicit ones are tests/test_default_dependencies.py's).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.transaction import predict_start

ETC = "etc/systemd/system"


def build(tmp_path: Path, units: dict[str, str], masked: tuple[str, ...] = ()) -> Manager:
    d = tmp_path / ETC
    d.mkdir(parents=True, exist_ok=True)
    for name, body in units.items():
        head = "[Unit]\nDefaultDependencies=no\n"
        tail = "" if name.endswith((".target", ".socket", ".timer", ".path")) else "[Service]\nExecStart=/bin/true\n"
        if name.endswith(".socket"):
            tail = "[Socket]\nListenStream=/run/x.sock\n"
        (d / name).write_text(head + body + ("\n" if body and not body.endswith("\n") else "") + tail)
    for name in masked:
        os.symlink("/dev/null", d / name)
    return Manager(open_catalog(str(tmp_path), Scope.SYSTEM, {}))


def test_plain_requires_pulls_in_start_jobs(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service", "b.service": ""})
    p = predict_start(m, "a.service")
    assert p.ok and p.blocker is None and {"a.service", "b.service"} <= set(p.jobs)


@pytest.mark.parametrize("dep", ["Requires", "BindsTo", "Requisite"])
def test_a_masked_dependency_fails_the_start_with_the_chain(tmp_path, dep):
    # Requisite= comes with After= (systemd.unit(5)); without it the run queue decides (tested below).
    order = "\nAfter=b.service" if dep == "Requisite" else ""
    m = build(tmp_path, {"a.service": f"{dep}=b.service{order}", "b.service": "Requires=c.service"},
              masked=("c.service",))
    p = predict_start(m, "a.service")
    if dep == "Requisite":  # a verify job on b is never started, so c is not pulled in; b is inactive
        assert not p.ok and p.blocker is not None and p.blocker.unit == "b.service" and not p.blocker.certain
        return
    assert not p.ok and p.blocker is not None
    assert (p.blocker.unit, p.blocker.reason, p.blocker.message) == ("c.service", "masked", "Unit c.service is masked.")
    assert [(e.source, e.dependency, e.target) for e in p.blocker.chain] == [
        ("a.service", dep, "b.service"), ("b.service", "Requires", "c.service")]
    assert p.blocker.chain[0].origin.line == 3  # file:line of the dependency


def test_not_found_dependency(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=nope.service"})
    p = predict_start(m, "a.service")
    assert p.blocker is not None and (p.blocker.unit, p.blocker.reason) == ("nope.service", "not-found")
    assert p.blocker.message == "Unit nope.service not found."


def test_wants_of_a_missing_or_masked_unit_does_not_block(tmp_path):
    m = build(tmp_path, {"a.service": "Wants=nope.service x.service"}, masked=("x.service",))
    assert predict_start(m, "a.service").ok


def test_the_anchor_itself_masked(tmp_path):
    m = build(tmp_path, {}, masked=("a.service",))
    p = predict_start(m, "a.service")
    assert p.blocker is not None and p.blocker.chain == () and p.blocker.reason == "masked"


def test_template_without_instance_is_refused(tmp_path):
    m = build(tmp_path, {"t@.service": ""})
    p = predict_start(m, "t@.service")
    assert p.blocker is not None and p.blocker.reason == "invalid-name"
    assert p.blocker.message == "Unit name t@.service is missing the instance name."


# -- Requisite=: verify jobs, merged into start jobs, replayed in run-queue order -------------------------------


def test_requisite_on_an_inactive_unit_fails_when_ordered_after_it(tmp_path):
    m = build(tmp_path, {"a.service": "Requisite=b.service\nAfter=b.service", "b.service": ""})
    p = predict_start(m, "a.service")
    assert not p.ok and p.blocker is not None and p.blocker.unit == "b.service"
    assert p.blocker.message == "A dependency job for a.service failed. See 'journalctl -xe' for details."
    assert not p.blocker.certain  # it depends on b's state when the job runs


def test_requisite_on_an_active_unit_is_met(tmp_path):
    m = build(tmp_path, {"a.service": "Requisite=b.service\nAfter=b.service", "b.service": ""})
    assert predict_start(m, "a.service", active=frozenset({"b.service"})).ok


def test_a_start_job_for_the_same_unit_absorbs_the_verify_job(tmp_path):
    m = build(tmp_path, {"a.service": "Requisite=b.service\nAfter=b.service", "b.service": ""})
    m2 = build(tmp_path / "2", {"a.service": "Requisite=b.service\nRequires=b.service\nAfter=b.service",
                                "b.service": ""})
    assert not predict_start(m, "a.service").ok
    assert predict_start(m2, "a.service").ok


@pytest.mark.parametrize("anchor,ok", [("a.service", True), ("z.service", False)])
def test_requisite_without_after_depends_on_run_queue_order(tmp_path, anchor, ok):
    """The anchor is active, so its start job finishes at once when it runs; the run queue runs jobs of one
    type in unit-id order: a.service runs before b.service's verify job fails, z.service after it."""
    m = build(tmp_path, {anchor: "Requisite=b.service", "b.service": ""})
    p = predict_start(m, anchor, active=frozenset({anchor}))
    assert p.ok is ok
    if not ok:
        assert p.blocker is not None and p.blocker.unit == "b.service"


@pytest.mark.parametrize("anchor,service,ok", [
    ("a.service", "", True),  # Type=simple: done at fork, before b.service's verify job runs and fails
    ("a.service", "[Service]\nType=oneshot", False),  # runs until its process exits: the verify job fails first
    ("z.service", "", False),  # z.service's job runs after b.service's verify job (unit-id order)
])
def test_an_inactive_anchor_without_after_follows_the_run_queue(tmp_path, anchor, service, ok):
    """Not active: whether its start job is done before the failing verify job depends on how the job ends
    (transaction.completes_at_once; tests/live/test_why_vs_manager.py checks the same against a real manager)."""
    m = build(tmp_path, {anchor: "Requisite=b.service\n" + service, "b.service": ""})
    p = predict_start(m, anchor)
    assert p.ok is ok
    if not ok:
        assert p.blocker is not None and p.blocker.unit == "b.service"


# -- conflicts and ordering cycles ------------------------------------------------------------------------------


def test_conflicting_start_and_stop_jobs_that_both_matter(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service c.service", "b.service": "Conflicts=c.service",
                         "c.service": ""})
    p = predict_start(m, "a.service")
    assert not p.ok and p.blocker is not None and p.blocker.reason == "conflict"
    assert p.blocker.message == ("Transaction contains conflicting jobs 'stop' and 'start' for c.service. "
                                 "Probably contradicting requirement dependencies configured.")


def test_stop_propagates_to_units_that_require_the_stopped_one(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service d.service", "b.service": "Conflicts=c.service",
                         "c.service": "", "d.service": "Requires=c.service"})
    p = predict_start(m, "a.service")
    assert not p.ok and {b.unit for b in p.blockers} >= {"c.service"}
    assert all(b.reason == "conflict" for b in p.blockers)


def test_a_conflict_with_a_job_that_does_not_matter_is_dropped(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service\nWants=c.service", "b.service": "Conflicts=c.service",
                         "c.service": ""})
    assert predict_start(m, "a.service").ok


def test_ordering_cycle_among_jobs_that_matter(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service\nAfter=b.service", "b.service": "After=a.service"})
    p = predict_start(m, "a.service")
    assert not p.ok and p.blocker is not None and p.blocker.reason == "ordering-cycle"
    assert p.blocker.message == "Transaction order is cyclic. See system logs for details."
    assert {(e.source, e.target) for e in p.blocker.chain} == {("a.service", "b.service"), ("b.service", "a.service")}


def test_ordering_cycle_through_a_job_that_does_not_matter_loses_that_job(tmp_path):
    m = build(tmp_path, {"a.service": "Wants=b.service\nAfter=b.service", "b.service": "After=a.service"})
    assert predict_start(m, "a.service").ok


def test_a_cycle_through_an_active_unit_is_dropped_with_its_redundant_job(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service\nAfter=b.service", "b.service": "After=a.service"})
    assert predict_start(m, "a.service", active=frozenset({"b.service"})).ok


# -- sockets, timers, paths whose unit is not loaded ----------------------------------------------------------


def test_a_socket_whose_service_is_masked_is_refused_when_started(tmp_path):
    m = build(tmp_path, {"s.socket": ""}, masked=("s.service",))
    p = predict_start(m, "s.socket")
    assert not p.ok and p.blocker is not None
    assert (p.blocker.unit, p.blocker.reason) == ("s.service", "trigger-masked")
    assert p.blocker.message == 'Job failed. See "journalctl -xe" for details.'


def test_a_pulled_in_socket_whose_service_is_missing_fails_the_anchor_when_it_runs(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=s.socket\nAfter=s.socket", "s.socket": ""})  # no s.service
    p = predict_start(m, "a.service")
    assert not p.ok and p.blocker is not None and p.blocker.reason == "trigger-not-found"
    assert p.blocker.message == "A dependency job for a.service failed. See 'journalctl -xe' for details."


def test_an_active_socket_is_not_started_again(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=s.socket\nAfter=s.socket", "s.socket": ""}, masked=("s.service",))
    assert predict_start(m, "a.service", active=frozenset({"s.socket"})).ok


# -- branches the live comparison exercises, here without root ----------------------------------------------


@pytest.mark.parametrize("how,message", [("masked", "Unit b.service is masked."),
                                         ("missing", "Unit b.service not found.")])
def test_requisite_on_a_masked_or_missing_unit_fails_at_once(tmp_path, how, message):
    """Fact sheet §4.3: the verify job Requisite= adds checks the load state like a start job."""
    units = {"a.service": "Requisite=b.service\nAfter=b.service"}
    m = build(tmp_path, units, masked=("b.service",) if how == "masked" else ())
    p = predict_start(m, "a.service")
    assert not p.ok and p.blocker is not None and p.blocker.certain
    assert (p.blocker.unit, p.blocker.message) == ("b.service", message)
    assert [(e.source, e.dependency, e.target) for e in p.blocker.chain] == [("a.service", "Requisite", "b.service")]


def test_requisite_reached_through_a_requires_is_checked_too(tmp_path):
    m = build(tmp_path, {"a.service": "Requires=b.service", "b.service": "Requisite=c.service\nAfter=c.service"},
              masked=("c.service",))
    p = predict_start(m, "a.service")
    assert not p.ok and p.blocker is not None and (p.blocker.unit, p.blocker.reason) == ("c.service", "masked")
    assert [e.dependency for e in p.blocker.chain] == ["Requires", "Requisite"]


def _conditioned(tmp_path: Path, anchor: str) -> Manager:
    """b.service is skipped by a condition that fails on any root (no such path)."""
    return build(tmp_path, {"a.service": anchor, "b.service": "ConditionPathExists=/nonexistent/ud-cond"})


def test_bound_with_after_to_a_skipped_unit_fails_as_a_dependency(tmp_path):
    """unit_start()'s unit_verify_deps(): BindsTo= + After= on a unit that is not active after its job ran
    (skipped by a condition) fails the start with a dependency result."""
    p = predict_start(_conditioned(tmp_path, "BindsTo=b.service\nAfter=b.service"), "a.service")
    assert not p.ok and p.blocker is not None and p.blocker.unit == "b.service"
    assert p.blocker.message == "A dependency job for a.service failed. See 'journalctl -xe' for details."
    assert "ConditionPathExists=/nonexistent/ud-cond" in p.blocker.detail


@pytest.mark.parametrize("anchor", ["Requires=b.service\nAfter=b.service", "Requires=b.service",
                                    "BindsTo=b.service"])
def test_requires_or_unordered_bindsto_on_a_skipped_unit_still_starts(tmp_path, anchor):
    """A skipped job is not a failed one: Requires= does not propagate it, and without After= a BindsTo= unit's
    job is done (Type=simple: at the fork) before it is stopped for the inactive unit: systemctl start says 0."""
    assert predict_start(_conditioned(tmp_path, anchor), "a.service").ok


def test_a_unit_stopped_for_its_skipped_binding_cancels_a_job_that_requires_it(tmp_path):
    """x (oneshot, still running) Requires= a; a BindsTo= b without After=; b is skipped: a is started, then
    stopped (unit_check_binds_to), and the stop propagates to x, whose start job is canceled."""
    m = build(tmp_path, {"x.service": "Requires=a.service\n[Service]\nType=oneshot", "a.service": "BindsTo=b.service",
                         "b.service": "ConditionPathExists=/nonexistent/ud-cond"})
    p = predict_start(m, "x.service")
    assert not p.ok and p.blocker is not None
    assert (p.blocker.unit, p.blocker.reason, p.blocker.message) == ("b.service", "condition-failed",
                                                                      "Job for x.service canceled.")


def test_the_anchor_skipped_by_its_own_condition_says_so(tmp_path):
    m = build(tmp_path, {"a.service": "ConditionPathExists=/nonexistent/ud-cond"})
    p = predict_start(m, "a.service")
    assert p.ok and p.problem is not None and p.problem.reason == "condition-failed"
    assert p.problem.message == ("a.service was skipped because of an unmet condition check "
                                 "(ConditionPathExists=/nonexistent/ud-cond).")


def test_an_exec_check_the_root_cannot_decide_leaves_the_start_ok_but_undecided(tmp_path):
    """User= not in /etc/passwd while nsswitch asks another service (ldap): whether the process runs is
    unknown offline; the start is predicted ok, the doubt kept as the prediction's problem."""
    (tmp_path / "etc").mkdir(parents=True)
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (tmp_path / "etc/nsswitch.conf").write_text("passwd: files ldap\ngroup: files\n")
    (tmp_path / "bin").mkdir()
    for exe in ("sh", "true"):
        (tmp_path / "bin" / exe).write_text("#!/bin/sh\n")
        (tmp_path / "bin" / exe).chmod(0o755)
    m = build(tmp_path, {"a.service": "[Service]\nUser=directoryuser"})  # build adds ExecStart=/bin/true
    p = predict_start(m, "a.service")
    assert p.ok and p.problem is not None and p.problem.reason == "exec-undecidable" and not p.problem.certain
    assert "directoryuser" in p.problem.detail
