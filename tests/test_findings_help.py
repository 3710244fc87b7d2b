"""Findings that help: every fix is a command or a concrete edit (file, line, what), the line that emptied a
setting is named, "did you mean" names only units that load, and a partial plan says so up front."""

from __future__ import annotations

import fixroots as fr
from unitdoctor import plan as P
from unitdoctor.render import fix as render_fix
from unitdoctor.render.words import advice
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
    assert p.advice and not any(".." in advice(a) for a in p.advice)


def test_a_plan_that_removes_a_mask_but_will_not_make_it_start_says_so_first(tmp_path):
    root = _root(tmp_path)
    fr.link(root, f"{fr.ETC}/b.service", "/dev/null")
    cat = fr.catalog(root)
    p = P.plan_fix([why(cat, "b.service")], catalog=cat)
    assert p.changes and not p.ok
    lines = render_fix.plan_lines(p, cat.root)
    assert lines[1].startswith("  ! this plan does not make it start: b.service will still not start")


def _exec_root(tmp_path):
    """Units whose processes cannot run: in /etc (the admin's file) and in /usr (a packaged one)."""
    root = fr.base(tmp_path / "root")
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    (root / "bin").mkdir()
    for exe in ("sh", "true"):  # a root with a shell: the exec checks apply (an image of a real system)
        (root / "bin" / exe).write_text("#!/bin/sh\n")
        (root / "bin" / exe).chmod(0o755)
    svc = "[Service]\nType=oneshot\n{}\n"
    fr.write(root, f"{fr.ETC}/cmd.service", svc.format("ExecStart=/usr/bin/missing-cmd --flag"))
    fr.write(root, f"{fr.USR}/pkgcmd.service", svc.format("ExecStartPre=/usr/bin/gone\nExecStart=/bin/true"))
    fr.write(root, f"{fr.ETC}/wd.service", svc.format("WorkingDirectory=/srv/app\nExecStart=/bin/true"))
    fr.write(root, f"{fr.ETC}/env.service", svc.format("EnvironmentFile=/etc/default/app\nExecStart=/bin/true"))
    fr.write(root, f"{fr.ETC}/usr.service", svc.format("User=appuser\nExecStart=/bin/true"))
    fr.write(root, f"{fr.ETC}/grp.service", svc.format("Group=appgroup\nExecStart=/bin/true"))
    fr.write(root, f"{fr.ETC}/cond.service",
             "[Unit]\nConditionPathExists=/etc/app.conf\n" + svc.format("ExecStart=/bin/true"))
    fr.write(root, f"{fr.USR}/pkgcond.service",
             "[Unit]\nConditionPathExists=/etc/app.conf\n" + svc.format("ExecStart=/bin/true"))
    fr.write(root, f"{fr.USR}/pkgassert.service",
             "[Unit]\nAssertPathExists=/etc/app.conf\n" + svc.format("ExecStart=/bin/true"))
    fr.write(root, f"{fr.ETC}/needs.service",
             "[Unit]\nRequires=pkgassert.service\nAfter=pkgassert.service\n" + svc.format("ExecStart=/bin/true"))
    return root


def _fix(cat, unit, fid):
    (f,) = [f for f in why(cat, unit).findings if f.id == fid]
    return f.fix


def test_a_process_that_cannot_run_gets_a_command_or_the_line_to_edit(tmp_path):
    root = _exec_root(tmp_path)
    cat = fr.catalog(root)
    etc, usr = f"{root}/{fr.ETC}", f"{root}/{fr.USR}"
    assert _fix(cat, "cmd.service", "exec-failed") == (
        "install the package that ships /usr/bin/missing-cmd",
        f"edit {etc}/cmd.service:3: make 'ExecStart=/usr/bin/missing-cmd --flag' run a command that exists")
    pkg = _fix(cat, "pkgcmd.service", "exec-failed")
    assert pkg[0] == "install the package that ships /usr/bin/gone"
    assert pkg[1].startswith(f"systemctl --root={root} edit pkgcmd.service  # [Service]: 'ExecStartPre=' (empty)")
    assert f"{usr}/pkgcmd.service:3" in pkg[1]  # a packaged file is changed through a drop-in
    assert _fix(cat, "wd.service", "exec-failed") == (
        f"mkdir -p {root}/srv/app",
        f"edit {etc}/wd.service:3: 'WorkingDirectory=-/srv/app' ignores a missing directory")
    assert _fix(cat, "env.service", "exec-failed") == (
        f"touch {root}/etc/default/app  # or write the variables env.service needs into it",
        f"edit {etc}/env.service:3: 'EnvironmentFile=-/etc/default/app' ignores a missing file")
    assert _fix(cat, "usr.service", "exec-failed") == (
        f"useradd --system --root {root} appuser", f"edit {etc}/usr.service:3: set 'User=' to a user that exists")
    assert _fix(cat, "grp.service", "exec-failed")[0] == f"groupadd --system --root {root} appgroup"


def test_a_failing_condition_or_assert_names_the_line_or_the_drop_in_that_resets_it(tmp_path):
    root = _exec_root(tmp_path)
    cat = fr.catalog(root)
    assert _fix(cat, "cond.service", "condition-failed") == (
        f"edit {root}/{fr.ETC}/cond.service:2: delete 'ConditionPathExists=/etc/app.conf' if cond.service should "
        "run without it",)
    (pkg,) = _fix(cat, "pkgcond.service", "condition-failed")
    assert pkg.startswith(f"systemctl --root={root} edit pkgcond.service  # in [Unit]: 'ConditionPathExists=' "
                          "(empty: drops all its conditions")
    (a,) = _fix(cat, "pkgassert.service", "assert-failed")
    assert "'AssertPathExists=' (empty: drops all its asserts" in a
    # seen from a unit that needs it: the same fix, not "fix pkgassert.service"
    assert _fix(cat, "needs.service", "dependency-fails") == (a,)


def test_every_fix_in_the_examples_is_a_command_or_a_concrete_edit():
    """The bundled example roots: each error or warning has a fix; a fix is a command line, or names the file
    and what to change in it (``edit FILE``, ``remove systemd.mask=… from …``, ``write the unit file you want at
    FILE``), or the missing file's package — never "fix the …"."""
    import re

    from unitdoctor.catalog import open_catalog
    from unitdoctor.lookup import Scope

    commands = ("systemctl ", "unitdoctor ", "chroot ", "mkdir ", "touch ", "useradd ", "groupadd ", "rm ", "apt-get ",
                "dpkg ", "rpm ", "dnf ", "update-grub", "grub-mkconfig", "kernelstub ", "grubby ", "bootctl ")
    seen = 0
    for ex in sorted((fr.Path(__file__).resolve().parents[1] / "examples/roots").iterdir()):
        if not ex.is_dir():
            continue
        cat = open_catalog(str(ex), Scope.SYSTEM, {})
        for n in sorted(cat.names()):
            if not n.endswith((".service", ".socket", ".timer", ".path", ".target")) or "@." in n:
                continue
            for f in why(cat, n).findings:
                if f.severity.value != "info":
                    assert f.fix, (ex.name, n, f.id)
                for x in f.fix:
                    seen += 1
                    ok = (x.startswith(commands) or re.match(r"(edit|write the unit file you want at) /\S+", x)
                          or re.match(r"remove systemd\.mask=\S+ from ", x)
                          or re.match(r"install the package that ships \S", x) or x.startswith("did you mean "))
                    assert ok and not x.startswith("fix the") and ".." not in x.replace("../", ""), (ex.name, n, x)
    assert seen > 10


def test_a_socket_whose_service_is_masked_says_who_masked_it_and_how_to_unmask(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/s.socket", fr.SOCKET.format(d="s"))
    fr.write(root, f"{fr.USR}/s.service", fr.STATIC.format(d="s"))
    fr.link(root, f"{fr.ETC}/s.service", "/dev/null")
    cat = fr.catalog(root)
    (f,) = [f for f in why(cat, "s.socket").findings if f.severity.value == "error"]
    assert f.id == "trigger-not-loaded" and "s.service is masked (symlink to /dev/null" in f.summary
    assert f.fix == (f"systemctl --root={root} unmask s.service",)
    assert ("mask", f"{root}/{fr.ETC}/s.service") in [(e.kind, e.source) for e in f.evidence]


def test_a_unit_that_is_nowhere_gets_the_package_to_install_or_the_other_scope(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, "usr/lib/systemd/user/agent.service", fr.STATIC.format(d="agent"))
    cat = fr.catalog(root)
    (f,) = [f for f in why(cat, "nowhere.service").findings if f.id == "not-found"]
    assert f.fix == ("install the package that ships nowhere.service",)
    (f,) = [f for f in why(cat, "agent.service").findings if f.id == "not-found"]
    assert f.fix == (f"unitdoctor --root={root} --user why agent.service",)


def test_one_finding_per_cause_whatever_the_number_of_chains(tmp_path):
    """db.service masked, reached by Requires=, BindsTo= and through cache.service: one finding with every
    chain; a missing unit required from two files: one finding naming both lines."""
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/app.service", "[Unit]\nRequires=db.service\nBindsTo=db.service\nRequires=cache.service\n"
             "Requires=gone.service\n[Service]\nExecStart=/bin/true\n")
    fr.write(root, f"{fr.USR}/cache.service",
             "[Unit]\nRequires=db.service gone.service\n[Service]\nExecStart=/bin/true\n")
    fr.write(root, f"{fr.USR}/db.service", fr.STATIC.format(d="db"))
    fr.link(root, f"{fr.ETC}/db.service", "/dev/null")
    rep = why(fr.catalog(root), "app.service")
    ids = [f.id for f in rep.findings if f.severity.value == "error"]
    assert sorted(ids) == ["dependency-masked", "dependency-missing"]
    (masked,) = [f for f in rep.findings if f.id == "dependency-masked"]
    usr = f"{root}/{fr.USR}"
    assert [e.source for e in masked.evidence if e.kind == "dependency"] == [
        f"{usr}/app.service:2", f"{usr}/app.service:3", f"{usr}/app.service:4", f"{usr}/cache.service:2"]
    (missing,) = [f for f in rep.findings if f.id == "dependency-missing"]
    (fix,) = missing.fix
    head = "install the package that ships gone.service, or remove the dependency at "
    assert fix.startswith(head)
    assert sorted(fix[len(head):].split(" and ")) == [f"{usr}/app.service:5", f"{usr}/cache.service:2"]
