"""Findings that help: every fix is a command or a concrete edit (file, line, what), the line that emptied a
setting is named, "did you mean" names only units that load, and a partial plan says so up front."""

from __future__ import annotations

import fixroots as fr
from unitdoctor import plan as P
from unitdoctor.render import fix as render_fix
from unitdoctor.report import why


def _root(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/a.service", "[Unit]\nDescription=a\n[Service]\nExecStart=/bin/true\n")
    fr.write(root, f"{fr.ETC}/a.service.d/10-local.conf", "[Service]\n# reset\nExecStart=\n")
    fr.write(root, f"{fr.USR}/b.service", "[Unit]\nRequires=a.service\n[Service]\nExecStart=/bin/true\n")
    return root


def test_the_drop_in_line_that_emptied_execstart_is_named_with_its_edit(tmp_path):
    root = _root(tmp_path)
    cat = fr.catalog(root)
    (f,) = [f for f in why(cat, "a.service").findings if f.id == "bad-setting"]
    line = f"{root}/etc/systemd/system/a.service.d/10-local.conf:3"
    assert line in [e.source for e in f.evidence]
    assert f.fix == (f"edit {line}: delete the empty 'ExecStart=' line, or add 'ExecStart=COMMAND' after it",)
    # the same cause seen from a unit that needs it: the same edit, and one finding for it
    dep = [f for f in why(cat, "b.service").findings if f.id.startswith("dependency-")]
    assert [f.id for f in dep if "a.service" in f.summary] == ["dependency-bad-setting"]
    assert dep[0].fix == f.fix


def test_a_bad_setting_without_a_line_points_at_the_unit_file(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.ETC}/w.service", "[Unit]\nDescription=w\n[Service]\nType=simple\n")
    (f,) = [f for f in why(fr.catalog(root), "w.service").findings if f.id == "bad-setting"]
    assert [e.source for e in f.evidence] == [f"{root}/etc/systemd/system/w.service"]
    assert f.fix == (f"edit {root}/etc/systemd/system/w.service: add 'ExecStart=COMMAND' to the [Service] section",)


def test_did_you_mean_never_names_a_dangling_alias(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/nginx.service", fr.SERVICE.format(d="nginx"))
    fr.link(root, f"{fr.ETC}/ngixn.service", "/usr/lib/systemd/system/gone.service")  # dangling
    fr.link(root, f"{fr.ETC}/ngin.service", "/usr/lib/systemd/system/nginx.service")  # a working alias
    (f,) = [f for f in why(fr.catalog(root), "nginz.service").findings if f.id == "not-found"]
    assert "did you mean ngixn.service?" not in f.fix
    assert "did you mean nginx.service?" in f.fix


def test_advice_from_a_finding_has_no_doubled_period(tmp_path):
    root = _root(tmp_path)
    cat = fr.catalog(root)
    p = P.plan_fix([why(cat, "a.service")], catalog=cat)
    assert p.advice and not any(".." in a.text for a in p.advice)


def test_a_plan_that_removes_a_mask_but_will_not_make_it_start_says_so_first(tmp_path):
    root = _root(tmp_path)
    fr.link(root, f"{fr.ETC}/b.service", "/dev/null")
    cat = fr.catalog(root)
    p = P.plan_fix([why(cat, "b.service")], catalog=cat)
    assert p.changes and not p.ok
    lines = render_fix.plan_lines(p, cat.root)
    assert lines[1].startswith("  ! this plan does not make it start: b.service will still not start")
