"""Which fixes an unprivileged user may have the system manager make (``fix.manager_route``), on real roots.

The manager's ``UnmaskUnitFiles`` removes ``CONFIG/NAME`` in the persistent layer (or the runtime one with
``runtime`` true) and any other link in that layer that leads to it; ``MaskUnitFiles`` puts back a link to
``/dev/null`` owned by root; ``DisableUnitFiles`` (the undo of ``EnableUnitFiles``) removes every link of the
unit's names and the directories it empties. So the route is taken only where the manager's change and its undo
are exactly the fix's: a root-owned ``/dev/null`` link in /etc/systemd/system or /run/systemd/system, nothing
else leading to it, no drop-in, an enable whose disable takes only the fix's links and directories. The calls
themselves run against systemd 252 in tests/test_polkit_container.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import pytest
from tests import fixroots as fr

from unitdoctor import fix
from unitdoctor.journal import Journal
from unitdoctor.plan import Plan, plan_fix
from unitdoctor.report import why
from unitdoctor.rootfs import Root

AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="a mask owned by root (or by another uid) needs root to make")


def plan_of(root: Path, *units: str, live: bool = True) -> Plan:
    cat = fr.catalog(root)
    return plan_fix([why(cat, u) for u in units], catalog=cat, live=live)


def route(root: Path, *units: str, live: bool = True) -> Optional[str]:
    return fix.manager_route(plan_of(root, *units, live=live), Root(str(root)))


@AS_ROOT
@pytest.mark.parametrize("name,units", [("persistent", ("x.service",)), ("runtime", ("x.service",)),
                                        ("dependency-depth-2", ("web.service",)),
                                        ("template", ("getty@tty1.service",))])
def test_root_owned_dev_null_links_in_etc_and_run_go_through_the_manager(tmp_path, name, units):
    root = fr.build(tmp_path, name)
    plan = plan_of(root, *units)
    assert any(a.action == "remove-mask" for a in plan.changes)
    assert fix.manager_route(plan, Root(str(root))) is None


@AS_ROOT
def test_a_link_elsewhere_with_the_same_name_does_not_stop_it(tmp_path):
    """multi-user.target.wants/x.service → /usr/lib/…/x.service does not lead to the mask: the manager keeps it."""
    root = fr.build(tmp_path, "persistent")
    fr.link(root, f"{fr.ETC}/multi-user.target.wants/x.service", "/usr/lib/systemd/system/x.service")
    assert route(root, "x.service") is None


@AS_ROOT
@pytest.mark.parametrize("target", ["/etc/systemd/system/x.service", "../x.service"])
def test_a_link_that_leads_to_the_mask_would_be_removed_too(tmp_path, target):
    root = fr.build(tmp_path, "persistent")
    fr.link(root, f"{fr.ETC}/multi-user.target.wants/x.service", target)
    why_not = route(root, "x.service")
    assert why_not is not None and "would also remove /" in why_not
    assert "multi-user.target.wants/x.service, a link that leads to" in why_not


@AS_ROOT
def test_a_chain_of_links_that_reaches_the_mask_counts(tmp_path):
    root = fr.build(tmp_path, "persistent")
    fr.link(root, f"{fr.ETC}/alias-x.service", "x.service")
    fr.link(root, f"{fr.ETC}/multi-user.target.wants/y.service", "../alias-x.service")
    why_not = route(root, "x.service")
    assert why_not is not None and "alias-x.service" in why_not


def test_an_empty_file_mask_could_not_be_put_back_exactly(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
    fr.empty(root, f"{fr.RUN}/x.service")
    why_not = route(root, "x.service")
    assert why_not is not None and "is an empty file" in why_not and "exactly" in why_not


def test_another_link_text_could_not_be_put_back_exactly(tmp_path):
    root = fr.build(tmp_path, "both")  # ../../../dev/null in /etc, an empty file in /run
    why_not = route(root, "x.service")
    assert why_not is not None and "a link to ../../../dev/null" in why_not


@AS_ROOT
def test_a_mask_owned_by_another_user_could_not_be_put_back_exactly(tmp_path):
    root = fr.build(tmp_path, "persistent")
    os.lchown(root / fr.ETC / "x.service", 65534, 65534)
    why_not = route(root, "x.service")
    assert why_not is not None and "belongs to uid 65534" in why_not


def test_a_masked_drop_in_is_not_the_managers_to_remove(tmp_path):
    root = fr.build(tmp_path, "masked-drop-in")
    why_not = route(root, "x.service")
    assert why_not is not None and "is a drop-in" in why_not


@AS_ROOT
def test_enabling_is_taken_where_disabling_would_remove_exactly_the_fixs_links(tmp_path):
    """The socket of a socket-activated service is enabled by the fix (EnableUnitFiles); its undo is
    DisableUnitFiles, which removes sockets.target.wants/foo.socket and the directory the fix made."""
    root = fr.build(tmp_path, "socket-activated")
    plan = plan_of(root, "foo.service")
    assert any(a.action == "enable" for a in plan.changes)
    assert fix.manager_route(plan, Root(str(root))) is None


@AS_ROOT
def test_enabling_is_not_taken_where_disabling_would_remove_more(tmp_path):
    """A link of another name that leads to foo.socket's file leaves foo.socket disabled (the fix enables it),
    but the manager's disable takes it too (the base name of what it leads to is marked).
    (A link *named* foo.socket anywhere in the layer makes it enabled: then the fix does not enable it.)"""
    root = fr.build(tmp_path, "socket-activated")
    where = "other.target.wants/bar.socket"
    fr.link(root, f"{fr.ETC}/{where}", "/usr/lib/systemd/system/foo.socket")
    why_not = route(root, "foo.service")
    assert why_not is not None and why_not.startswith("enabling foo.socket through the manager could not be undone")
    assert f"{where} would be removed too" in why_not


@AS_ROOT
def test_enabling_into_an_empty_directory_is_not_taken(tmp_path):
    """The manager's disable removes the directories it leaves empty: one that was there, empty, would go."""
    root = fr.build(tmp_path, "socket-activated")
    (root / fr.ETC / "sockets.target.wants").mkdir()
    why_not = route(root, "foo.service")
    assert why_not is not None and "sockets.target.wants would be left empty, and removed" in why_not


def test_a_mask_outside_the_managers_two_layers_is_not_taken(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
    fr.link(root, "etc/systemd/system.control/x.service", "/dev/null")
    plan = plan_of(root, "x.service")
    masks = [a for a in plan.changes if a.action == "remove-mask"]
    if not masks:
        pytest.skip("the planner does not offer to remove a system.control mask")
    why_not = fix.manager_route(plan, Root(str(root)))
    assert why_not is not None and "outside /etc/systemd/system and /run/systemd/system" in why_not


def test_only_a_live_system_plan(tmp_path):
    root = fr.build(tmp_path, "persistent")
    assert route(root, "x.service", live=False) == "only a running system manager can be asked"


@AS_ROOT
def test_apply_checks_the_route_again_under_the_lock(tmp_path):
    """Between the plan and the act, a link to the mask appeared: nothing is asked of the manager, nothing
    changes, no journal entry is written."""
    root = fr.build(tmp_path, "persistent")
    plan = plan_of(root, "x.service")
    assert fix.manager_route(plan, Root(str(root))) is None
    fr.link(root, f"{fr.ETC}/multi-user.target.wants/x.service", "/etc/systemd/system/x.service")
    before = fr.snapshot(root, skip=None)
    ops = fix.OfflineOps()
    r = Root(str(root))
    journal = Journal(r, "/var/lib/ud-manager-journal")
    out = fix.apply(plan, root=r, journal=journal, ops=ops, via_manager=True)
    assert out.status == fix.REFUSED and out.entry is None
    assert "not through the manager" in out.messages[0] and "would also remove" in out.messages[0]
    assert ops.notes == []
    after = fr.snapshot(root, skip=None)
    assert [d for d in fr.diff(after, before) if not d.startswith("var")] == []  # only the journal's lock
    assert journal.entries() == []


def test_the_users_journal_of_manager_made_changes(tmp_path):
    r = Root("/")
    assert Journal.for_manager(r, {"XDG_STATE_HOME": "/s"}).directory == "/s/unitdoctor/system"
    assert Journal.for_manager(r, {"HOME": "/home/u"}).directory == "/home/u/.local/state/unitdoctor/system"
