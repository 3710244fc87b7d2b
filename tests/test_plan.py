"""plan.py: what a fix would do, decided on real roots built in tmp_path, never executed here.

Each test names the rule of plan.py's docstring it checks; the fact sheet sections are those of
/work/shared/docs/systemd-semantics.md (§2.3 priorities, §2.4 drop-in masks, §2.6 unmask, §2.8 kernel
command line, §7 activation).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests import fixroots as fr

from unitdoctor import plan as P
from unitdoctor.checks.mask import MaskOwner
from unitdoctor.render.words import advice, effect, outlook, plan_notes, reason
from unitdoctor.report import why

ASKED = P.Reason(P.Because.ASKED, "a.socket")


def make(tmp_path: Path, builder) -> Path:
    root = fr.base(tmp_path / "root")
    builder(root)
    return root


def plan_for(root: Path, *units: str, **kw) -> P.Plan:
    cat = fr.catalog(root)
    return P.plan_fix([why(cat, u) for u in units], catalog=cat, **kw)


def kinds(plan: P.Plan) -> list[str]:
    return [a.action for a in plan.actions]


def masks(plan: P.Plan) -> list[P.RemoveMask]:
    return [a for a in plan.actions if isinstance(a, P.RemoveMask)]


# -- rule 1: every layer ----------------------------------------------------------------------------------


def test_persistent_mask_is_removed_with_medium_risk_and_the_vendor_file_takes_effect(tmp_path):
    p = plan_for(make(tmp_path, fr.persistent), "x.service")
    assert kinds(p) == ["remove-mask"]
    (m,) = masks(p)
    assert (m.path, m.kind, m.link_target, m.runtime) == ("/etc/systemd/system/x.service", "symlink", "/dev/null",
                                                          False)
    assert m.risk is P.Risk.MEDIUM
    assert m.then == "/usr/lib/systemd/system/x.service"
    assert "/usr/lib/systemd/system/x.service takes effect" in effect(m)
    assert p.ok and p.outlook[0] == P.Outlook("x.service", True) and outlook(p.outlook[0]) == "x.service can start"


def test_runtime_mask_is_low_risk_and_said_to_last_until_reboot(tmp_path):
    (m,) = masks(plan_for(make(tmp_path, fr.runtime), "x.service"))
    assert (m.path, m.runtime, m.risk) == ("/run/systemd/system/x.service", True, P.Risk.LOW)
    assert "until reboot" in effect(m)


def test_masked_in_etc_and_run_both_are_removed_top_down(tmp_path):
    """systemctl unmask touches one layer and exits 0 while /run still masks (§2.6); we remove both."""
    p = plan_for(make(tmp_path, fr.both), "x.service")
    got = [(m.path, m.kind, m.link_target, m.runtime) for m in masks(p)]
    assert got == [("/etc/systemd/system/x.service", "symlink", "../../../dev/null", False),
                   ("/run/systemd/system/x.service", "empty-file", None, True)]
    assert [m.then for m in masks(p)] == ["/usr/lib/systemd/system/x.service"] * 2  # once both are gone
    assert p.ok


def test_mask_below_a_real_file_is_left_alone(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.ETC}/x.service", fr.SERVICE.format(d="admin override"))
        fr.link(r, f"{fr.RUN}/x.service", "/dev/null")  # below /etc: no effect (§2.3)

    p = plan_for(make(tmp_path, build), "x.service")
    assert p.actions == () and p.ok


def test_template_mask_is_removed_for_an_instance_and_the_effect_says_every_instance(tmp_path):
    p = plan_for(make(tmp_path, fr.template), "getty@tty1.service")
    (m,) = masks(p)
    assert (m.unit, m.path) == ("getty@.service", "/etc/systemd/system/getty@.service")
    assert m.every_instance and "every instance of getty@.service" in effect(m)


def test_alias_of_a_masked_unit_unmasks_the_unit_it_is_merged_into(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/real.service", fr.SERVICE.format(d="real"))
        fr.link(r, f"{fr.USR}/al.service", "real.service")
        fr.link(r, f"{fr.ETC}/real.service", "/dev/null")

    (m,) = masks(plan_for(make(tmp_path, build), "al.service"))
    assert m.path == "/etc/systemd/system/real.service"


def test_empty_file_mask_keeps_its_kind(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
        fr.empty(r, f"{fr.ETC}/x.service")

    (m,) = masks(plan_for(make(tmp_path, build), "x.service"))
    assert (m.kind, m.link_target) == ("empty-file", None)


def test_regular_file_with_content_is_never_planned_for_removal(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.ETC}/x.service", "[Unit]\nDescription=admin\n[Service]\nExecStart=/bin/true\n")
        fr.link(r, f"{fr.USR}/x.service", "/dev/null")

    p = plan_for(make(tmp_path, build), "x.service")
    assert not p.changes


# -- rule 2: what we never remove ---------------------------------------------------------------------------


def test_runtime_only_keeps_a_persistent_mask_and_explains_why(tmp_path):
    p = plan_for(make(tmp_path, fr.both), "x.service", runtime_only=True)
    assert [m.path for m in masks(p)] == ["/run/systemd/system/x.service"]
    (adv,) = p.advice
    assert "--runtime-only keeps it" in advice(adv) and "/etc/systemd/system/x.service" in advice(adv)
    assert not p.ok


def test_runtime_only_removes_a_runtime_mask(tmp_path):
    p = plan_for(make(tmp_path, fr.runtime), "x.service", runtime_only=True)
    assert [m.path for m in masks(p)] == ["/run/systemd/system/x.service"] and p.ok


def test_vendor_mask_is_advice_only_with_an_etc_override(tmp_path):
    p = plan_for(make(tmp_path, fr.vendor), "x.service")
    assert not p.changes
    (adv,) = p.advice
    assert "/etc/systemd/system/x.service overrides the vendor mask" in advice(adv) and adv.about is P.AdviceAbout.MASK
    assert (adv.mask.refusal, adv.mask.override) == (MaskOwner.VENDOR, "/etc/systemd/system/x.service")
    assert "never changes /usr" in advice(adv)
    assert not p.ok and "still not start" in outlook(p.outlook[0])
    assert (p.outlook[0].blocker.unit, p.outlook[0].blocker.reason) == ("x.service", "masked")


def test_local_vendor_mask_over_a_real_file_advises_copying_not_linking(tmp_path):
    p = plan_for(make(tmp_path, fr.vendor_local), "x.service")
    assert not p.changes
    (adv,) = p.advice
    assert "cp /usr/lib/systemd/system/x.service /etc/systemd/system/x.service" in advice(adv)
    assert "self-alias" in advice(adv)


def test_kernel_command_line_mask_is_advice_only_and_names_the_file(tmp_path):
    root = make(tmp_path, fr.cmdline)
    p = plan_for(root, "x.service")
    assert not p.changes
    (adv,) = p.advice
    assert "systemd.mask=x.service" in advice(adv) and "reboot" in advice(adv)
    assert f"{root}/etc/kernel/cmdline" in advice(adv) and adv.mask.found_in == (f"{root}/etc/kernel/cmdline",)


def test_kernel_command_line_mask_over_an_etc_mask_removes_the_etc_one_and_says_it_stays_masked(tmp_path):
    p = plan_for(make(tmp_path, fr.cmdline_and_etc), "x.service")
    assert [m.path for m in masks(p)] == ["/etc/systemd/system/x.service"]
    assert len(p.advice) == 1 and "kernel command line" in advice(p.advice[0])
    assert not p.ok


def test_generator_mask_is_advice(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
        fr.link(r, "run/systemd/generator/x.service", "/dev/null")

    p = plan_for(make(tmp_path, build), "x.service")
    assert not p.changes and "generator" in advice(p.advice[0])


def test_missing_dependency_becomes_advice_with_the_finding_text(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/r.service", "[Unit]\nRequires=nope.service\n[Service]\nExecStart=/bin/true\n")

    p = plan_for(make(tmp_path, build), "r.service")
    assert not p.changes
    assert "nope.service, which does not exist" in advice(p.advice[0])
    assert p.advice[0].about is P.AdviceAbout.FINDING and p.advice[0].mask is None
    assert not p.ok


def test_a_half_installed_package_is_advice_to_reinstall_it(tmp_path):
    from tests import pkgroots as pk

    root = pk.unit_root(tmp_path / "root", "x.service")
    pk.dpkg_db(root, [pk.stanza("xpkg", "install ok half-installed")])
    pk.info(root, "xpkg", files=["/usr/lib/systemd/system/x.service"])
    p = plan_for(root, "x.service", live=True)
    assert not p.changes  # not even a start: the unit would still have problems
    (adv,) = p.advice
    assert "xpkg" in advice(adv) and "half-installed" in advice(adv) and "--reinstall xpkg" in advice(adv)
    assert not p.ok


# -- rule 3: hidden masks, any depth ------------------------------------------------------------------------


def test_masked_dependency_at_depth_2_and_the_mask_hidden_behind_it(tmp_path):
    """web → app → db is masked; db's real file needs cache, masked too: only visible once db's mask is gone."""
    p = plan_for(make(tmp_path, fr.dependency), "web.service")
    got = [(m.unit, m.path) for m in masks(p)]
    assert got == [("db.service", "/etc/systemd/system/db.service"),
                   ("cache.service", "/run/systemd/system/cache.service")]
    assert masks(p)[0].reason == P.Reason(P.Because.NEEDED, "web.service", "db.service",
                                          (("Requires", "app.service"), ("Requires", "db.service")))
    assert "web.service → app.service (Requires=) → db.service (Requires=)" in reason(masks(p)[0].reason)
    assert reason(masks(p)[1].reason).endswith("→ cache.service (Requires=)")
    assert p.ok


def test_simulate_drops_an_entry_from_every_search_dir_that_is_the_same_directory(tmp_path):
    root = make(tmp_path, fr.vendor)
    (root / "lib").symlink_to("usr/lib")  # /lib/systemd/system and /usr/lib/systemd/system: one directory
    cat = fr.catalog(root)
    assert len(cat.entries("x.service")) == 2
    sim = P.simulate(cat, ["/usr/lib/systemd/system/x.service"])
    assert sim.entries("x.service") == ()
    assert cat.entries("x.service")  # the original snapshot is unchanged


# -- rule 4: drop-in masks only where they block ------------------------------------------------------------


def test_drop_in_mask_is_removed_where_it_blocks_and_kept_where_it_hides_nothing(tmp_path):
    p = plan_for(make(tmp_path, fr.dropin), "x.service")
    (d,) = [a for a in p.actions if isinstance(a, P.DropMaskedDropIn)]
    assert d.path == "/etc/systemd/system/x.service.d/10-exec.conf"
    assert d.hides == "/usr/lib/systemd/system/x.service.d/10-exec.conf"
    assert d.reason == P.Reason(P.Because.HIDES, "x.service", d.hides) and "can start" in reason(d.reason)
    assert kinds(p) == ["drop-masked-drop-in"]  # 20-nothing.conf hides nothing: kept
    assert p.ok


def test_drop_in_mask_whose_removal_changes_no_verdict_is_kept(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
        fr.write(r, f"{fr.USR}/x.service.d/10-desc.conf", "[Unit]\nDescription=vendor words\n")
        fr.link(r, f"{fr.ETC}/x.service.d/10-desc.conf", "/dev/null")

    p = plan_for(make(tmp_path, build), "x.service")
    assert p.actions == () and p.ok


# -- rule 5: activation -------------------------------------------------------------------------------------


def test_socket_activated_service_enables_the_socket_offline_with_the_links_install_names(tmp_path):
    p = plan_for(make(tmp_path, fr.socket), "foo.service")
    assert kinds(p) == ["remove-mask", "enable"]
    en = p.actions[1]
    assert isinstance(en, P.EnableUnit)
    assert (en.name, en.runtime) == ("foo.socket", False)
    assert en.links == (P.Link("/etc/systemd/system/sockets.target.wants/foo.socket",
                               "/usr/lib/systemd/system/foo.socket"),)
    assert en.dirs == ("/etc/systemd/system/sockets.target.wants",)
    assert p.outlook[0].via == ("foo.socket",)


def test_socket_activated_service_live_starts_the_socket_not_the_service(tmp_path):
    p = plan_for(make(tmp_path, fr.socket), "foo.service", live=True)
    assert kinds(p) == ["remove-mask", "enable", "daemon-reload", "start"]
    assert p.actions[-1] == P.StartUnit("foo.socket", P.Reason(P.Because.START, "foo.service", "foo.socket"))
    assert reason(p.actions[-1].reason) == "start foo.service through foo.socket"
    assert p.actions[-1].risk is P.Risk.HIGH


def test_a_masked_socket_is_still_found_as_the_trigger_and_unmasked(tmp_path):
    """A masked unit is not loaded and has no Triggers=; the plan asks again with its mask gone."""
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.STATIC.format(d="foo"))
        fr.link(r, f"{fr.ETC}/foo.service", "/dev/null")
        fr.write(r, f"{fr.USR}/foo.socket", fr.SOCKET.format(d="foo"))
        fr.link(r, f"{fr.ETC}/foo.socket", "/dev/null")
        fr.link(r, f"{fr.USR}/bar.socket", "/dev/null")  # masked, but by the vendor and for another service

    p = plan_for(make(tmp_path, build), "foo.service", live=True)
    assert kinds(p) == ["remove-mask", "remove-mask", "enable", "daemon-reload", "start"]
    assert [m.path for m in masks(p)] == ["/etc/systemd/system/foo.service", "/etc/systemd/system/foo.socket"]
    assert p.actions[-1].name == "foo.socket"


def test_a_masked_socket_of_a_unit_that_can_start_is_left_alone(tmp_path):
    """fix on a unit that can already start changes no file: its trigger is advice (why), not a step."""
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.STATIC.format(d="foo"))
        fr.write(r, f"{fr.USR}/foo.socket", fr.SOCKET.format(d="foo"))
        fr.link(r, f"{fr.ETC}/foo.socket", "/dev/null")

    root = make(tmp_path, build)
    assert plan_for(root, "foo.service").actions == ()
    assert kinds(plan_for(root, "foo.service", live=True)) == ["start"]  # live: only started, nothing changed


def test_a_unit_that_can_start_gets_no_trigger_enabled(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.STATIC.format(d="foo"))
        fr.write(r, f"{fr.USR}/foo.socket", fr.SOCKET.format(d="foo"))

    p = plan_for(make(tmp_path, build), "foo.service")
    assert p.actions == () and p.ok and p.outlook[0].via == ()


def test_an_enabled_masked_service_is_unmasked_and_its_disabled_socket_left_alone(tmp_path):
    """Enabled, it starts at boot by itself once unmasked; enabling the socket too would be a switch (advice)."""
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.SERVICE.format(d="foo"))
        fr.link(r, f"{fr.ETC}/multi-user.target.wants/foo.service", f"/{fr.USR}/foo.service")
        fr.link(r, f"{fr.ETC}/foo.service", "/dev/null")
        fr.write(r, f"{fr.USR}/foo.socket", fr.SOCKET.format(d="foo"))

    p = plan_for(make(tmp_path, build), "foo.service")
    assert kinds(p) == ["remove-mask"] and p.ok


def test_a_socket_that_conflicts_with_the_service_is_never_enabled_for_it(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.STATIC.format(d="foo"))
        fr.link(r, f"{fr.ETC}/foo.service", "/dev/null")
        fr.write(r, f"{fr.USR}/foo.socket", "[Unit]\nConflicts=foo.service\n" + fr.SOCKET.format(d="foo"))

    p = plan_for(make(tmp_path, build), "foo.service")
    assert kinds(p) == ["remove-mask"] and p.outlook[0].via == ()


def test_a_masked_unit_of_the_same_name_that_triggers_something_else_is_left_alone(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.SERVICE.format(d="foo"))
        fr.write(r, f"{fr.USR}/foo.socket", "[Socket]\nListenStream=/run/f\nService=other.service\n")
        fr.write(r, f"{fr.USR}/other.service", fr.STATIC.format(d="other"))
        fr.link(r, f"{fr.ETC}/foo.socket", "/dev/null")

    p = plan_for(make(tmp_path, build), "foo.service", live=True)
    assert kinds(p) == ["start"] and p.actions[0].name == "foo.service"


def test_runtime_only_enables_in_the_runtime_config_dir(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/foo.service", fr.STATIC.format(d="foo"))
        fr.link(r, "run/systemd/system/foo.service", "/dev/null")
        fr.write(r, f"{fr.USR}/foo.socket", fr.SOCKET.format(d="foo"))

    (_unmask, en) = plan_for(make(tmp_path, build), "foo.service", runtime_only=True).actions
    assert isinstance(en, P.EnableUnit) and en.runtime and en.risk is P.Risk.LOW
    assert en.links[0].path == "/run/systemd/system/sockets.target.wants/foo.socket"


def test_enable_links_cover_alias_wanted_by_and_required_by(tmp_path):
    root = make(tmp_path, lambda r: fr.write(
        r, f"{fr.USR}/a.socket", "[Socket]\nListenStream=/run/a\n[Install]\nWantedBy=sockets.target\n"
        "RequiredBy=multi-user.target\nAlias=b.socket\n"))
    act, why_not = P.enable_action(fr.catalog(root), "a.socket", runtime=False, reason=ASKED)
    assert why_not is None and act is not None
    assert act.links == (
        P.Link("/etc/systemd/system/sockets.target.wants/a.socket", "/usr/lib/systemd/system/a.socket"),
        P.Link("/etc/systemd/system/multi-user.target.requires/a.socket", "/usr/lib/systemd/system/a.socket"),
        P.Link("/etc/systemd/system/b.socket", "/usr/lib/systemd/system/a.socket"),
    )


def test_enable_refuses_a_path_taken_by_another_file_like_systemctl_eexist(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/a.socket", fr.SOCKET.format(d="a"))
        fr.write(r, f"{fr.ETC}/sockets.target.wants/a.socket", "not a link\n")

    act, why_not = P.enable_action(fr.catalog(make(tmp_path, build)), "a.socket", runtime=False, reason=ASKED)
    assert act is None and why_not is not None and "already exists" in why_not and "EEXIST" in why_not


def test_enable_of_an_enabled_unit_is_nothing(tmp_path):
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/a.socket", fr.SOCKET.format(d="a"))
        fr.link(r, f"{fr.ETC}/sockets.target.wants/a.socket", "/usr/lib/systemd/system/a.socket")

    assert P.enable_action(fr.catalog(make(tmp_path, build)), "a.socket", runtime=False, reason=ASKED) == (None, None)


# -- rule 6: the manager ------------------------------------------------------------------------------------


def test_live_plan_is_files_then_one_reload_then_start(tmp_path):
    p = plan_for(make(tmp_path, fr.both), "x.service", live=True)
    assert kinds(p) == ["remove-mask", "remove-mask", "daemon-reload", "start"]


def test_no_start_leaves_the_reload(tmp_path):
    p = plan_for(make(tmp_path, fr.both), "x.service", live=True, start=False)
    assert kinds(p) == ["remove-mask", "remove-mask", "daemon-reload"]


def test_offline_plan_never_reloads_or_starts_and_says_so(tmp_path):
    p = plan_for(make(tmp_path, fr.both), "x.service")
    assert not any(isinstance(a, (P.DaemonReload, P.StartUnit)) for a in p.actions)
    assert any("offline" in n for n in plan_notes(p))


def test_live_plan_for_a_unit_that_can_start_only_starts_it(tmp_path):
    root = make(tmp_path, lambda r: fr.write(r, f"{fr.USR}/x.service", fr.SERVICE.format(d="x")))
    assert kinds(plan_for(root, "x.service", live=True)) == ["start"]


def test_a_template_is_unmasked_but_never_started(tmp_path):
    p = plan_for(make(tmp_path, fr.template), "getty@.service", live=True)
    assert kinds(p) == ["remove-mask", "daemon-reload"]


# -- the records ----------------------------------------------------------------------------------------------


def test_actions_are_frozen_records_with_risk_and_effect(tmp_path):
    p = plan_for(make(tmp_path, fr.socket), "foo.service", live=True)
    for a in p.actions:
        assert dataclasses.is_dataclass(a)
        assert isinstance(a.risk, P.Risk) and isinstance(a.action, P.ActionKind) and effect(a)
        with pytest.raises(dataclasses.FrozenInstanceError):
            a.reason = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("path,vendor", [("/usr/lib/systemd/system/x.service", True), ("/usr", True),
                                         ("/lib/systemd/system/x", True), ("/etc/systemd/system/x", False),
                                         ("/usrx/y", False), ("/library/z", False)])
def test_is_vendor_path(path, vendor):
    assert P.is_vendor_path(path) is vendor


def test_what_cannot_be_enabled_is_advice_about_enabling(tmp_path):
    """A template without DefaultInstance= asked to be enabled: enable advice (the Ansible module picks it by kind)."""
    def build(r: Path) -> None:
        fr.write(r, f"{fr.USR}/t@.service", fr.SERVICE.format(d="t"))

    p = plan_for(make(tmp_path, build), "t@.service", enable=True)
    (adv,) = [a for a in p.advice if a.about is P.AdviceAbout.ENABLE]
    assert adv.unit == "t@.service" and "without DefaultInstance=" in advice(adv)
    assert P.action_record(adv) == {"action": "advice", "risk": "none", "unit": "t@.service", "about": "enable",
                                    "text": adv.text}
