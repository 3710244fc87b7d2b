"""``unitdoctor scan``: masks by layer, findings, the boot prediction's transaction rules, JSON against its schema.

Roots are built in tmp_path (and the real Debian root, copied before real tools break it); the real boot's
agreement is in tests/boot/.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest
from tests import debroots

from unitdoctor import cli
from unitdoctor.boot import Outcome
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.scan import scan

REPO = pathlib.Path(__file__).resolve().parent.parent
ROOTS = REPO / "examples" / "roots"
S = "etc/systemd/system"
V = "usr/lib/systemd/system"

try:
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    if os.environ.get("CI") == "true":
        raise
    Draft202012Validator = None


@pytest.fixture(scope="module")
def validator():
    if Draft202012Validator is None:
        pytest.skip("jsonschema is not installed")
    return Draft202012Validator(json.loads((REPO / "schema" / "scan.schema.json").read_text()))


def assert_valid(validator, doc) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def put(root: pathlib.Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def link(root: pathlib.Path, rel: str, target: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, p)


def svc(unit: str = "", install: str = "WantedBy=multi-user.target") -> str:
    return f"[Unit]\n{unit}\n[Service]\nExecStart=/bin/true\n[Install]\n{install}\n"


def system_root(root: pathlib.Path) -> pathlib.Path:
    """The targets a boot needs, as systemd 252 ships them (the dependencies that matter here)."""
    put(root, f"{V}/sysinit.target", "[Unit]\nDescription=System Initialization\n")
    put(root, f"{V}/basic.target", "[Unit]\nRequires=sysinit.target\nAfter=sysinit.target\n")
    put(root, f"{V}/multi-user.target", "[Unit]\nRequires=basic.target\nAfter=basic.target\n")
    put(root, f"{V}/rescue.target", "[Unit]\nRequires=sysinit.target\n")
    put(root, f"{V}/system.slice", "[Unit]\nDefaultDependencies=no\n")
    link(root, f"{V}/default.target", "multi-user.target")
    return root


def enable(root: pathlib.Path, unit: str, where: str = "multi-user.target.wants") -> None:
    link(root, f"{S}/{where}/{unit}", f"/{S}/{unit}" if (root / S / unit).exists() else f"/{V}/{unit}")


def do_scan(root: pathlib.Path, target=None):
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    return scan(cat, target=target)


def outcomes(res) -> dict[str, tuple[str, str]]:
    return {u.unit: (u.outcome.value, u.reason) for u in res.boot.units}


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = cli.main(["scan", *argv, "--json"])
    return rc, json.loads(capsys.readouterr().out)


# -- masks ------------------------------------------------------------------------------------------


def test_masks_by_layer_with_origin(tmp_path):
    r = system_root(tmp_path)
    put(r, f"{V}/a.service", svc())
    link(r, f"{S}/a.service", "/dev/null")
    put(r, f"{V}/b.service", svc())
    link(r, "run/systemd/system/b.service", "/dev/null")
    link(r, f"{V}/c.service", "/dev/null")
    link(r, "run/systemd/generator.early/d.service", "/dev/null")
    res = do_scan(r)
    by = {m.unit: m for m in res.masks}
    assert (by["a.service"].layer, by["a.service"].state, by["a.service"].origin) == ("etc", "masked", "admin")
    assert (by["b.service"].layer, by["b.service"].state) == ("run", "masked-runtime")
    # A vendor mask no package owns is not known to be the distribution's: not "intended".
    assert by["c.service"].layer == "vendor" and not by["c.service"].intended
    assert by["d.service"].layer in ("generator", "kernel-command-line")
    ids = {(f.id, f.unit, f.severity.value) for f in res.findings}
    assert ("masked", "a.service", "warning") in ids  # an admin mask nothing needs: a warning, not an error


def test_vendor_mask_a_package_ships_is_intended(tmp_path):
    r = system_root(tmp_path)
    link(r, f"{V}/hwclock.service", "/dev/null")
    put(r, "var/lib/dpkg/status", "Package: util-linux-extra\nStatus: install ok installed\nArchitecture: amd64\n"
                                  "Version: 2.38\n\n")
    put(r, "var/lib/dpkg/info/util-linux-extra.list", f"/{V}/hwclock.service\n")
    res = do_scan(r)
    (m,) = [m for m in res.masks if m.unit == "hwclock.service"]
    assert m.intended and m.layer == "vendor"
    mine = {(f.id, f.severity.value) for f in res.findings if f.unit == "hwclock.service"}
    assert mine == {("mask-intended", "info")}
    assert res.ok


def test_vendor_mask_needed_by_enabled_unit_is_an_error(tmp_path):
    r = system_root(tmp_path)
    link(r, f"{V}/hw.service", "/dev/null")
    put(r, f"{S}/app.service", svc("Requires=hw.service"))
    enable(r, "app.service")
    res = do_scan(r)
    m = next(m for m in res.masks if m.unit == "hw.service")
    assert not m.intended and m.needed_by == ("app.service",)
    errs = {(f.id, f.unit) for f in res.findings if f.severity.value == "error"}
    assert ("enabled-cannot-start", "app.service") in errs
    assert any(f.unit == "hw.service" and f.severity.value == "error" for f in res.findings)
    assert not res.ok


# -- the boot transaction ---------------------------------------------------------------------------


def test_wanted_unit_requiring_masked_unit_still_starts_at_boot(tmp_path):
    """Learnt from a real boot (tests/boot): 252 keeps the job of a wanted unit whose Requires= cannot load."""
    r = system_root(tmp_path)
    link(r, f"{S}/m.service", "/dev/null")
    put(r, f"{S}/a.service", svc("Requires=m.service"))
    enable(r, "a.service")
    o = outcomes(do_scan(r))
    assert o["a.service"] == ("active", "started")
    assert o["m.service"] == ("not-started", "masked")


def test_masked_unit_in_requires_of_default_target_fails_the_boot(tmp_path):
    r = system_root(tmp_path)
    link(r, f"{S}/m.service", "/dev/null")
    put(r, f"{S}/a.service", svc("Requires=m.service", "RequiredBy=multi-user.target"))
    enable(r, "a.service", "multi-user.target.requires")
    res = do_scan(r)
    assert not res.boot.ok and res.boot.error is not None and res.boot.error.unit == "m.service"
    assert [e.target for e in res.boot.error.chain] == ["a.service", "m.service"]
    assert all(u.outcome is Outcome.NOT_STARTED for u in res.boot.units)
    assert any(f.id == "boot-transaction-fails" for f in res.findings)


def test_missing_default_target_falls_back_to_rescue(tmp_path):
    r = system_root(tmp_path)
    (r / V / "default.target").unlink()
    link(r, f"{V}/default.target", "graphical.target")  # dangling alias
    res = do_scan(r)
    assert res.boot.fallback and res.boot.target == "rescue.target"
    assert any(f.id == "boot-target-fallback" for f in res.findings)


def test_ordering_cycle_deletes_a_job_that_does_not_matter(tmp_path):
    r = system_root(tmp_path)
    put(r, f"{S}/x.service", svc("After=y.service"))
    put(r, f"{S}/y.service", svc("After=x.service"))
    enable(r, "x.service")
    enable(r, "y.service")
    res = do_scan(r)
    (cyc,) = res.boot.cycles
    assert set(cyc.units) == {"x.service", "y.service"} and set(cyc.candidates) == {"x.service", "y.service"}
    o = outcomes(res)
    deleted = [u for u in ("x.service", "y.service") if o[u] == ("not-started", "ordering-cycle")]
    assert len(deleted) == 1
    u = next(u for u in res.boot.units if u.unit == deleted[0])
    assert set(u.one_of) == {"x.service", "y.service"} and not u.certain


def test_cycle_of_required_jobs_fails_the_boot(tmp_path):
    r = system_root(tmp_path)
    put(r, f"{S}/x.service", svc("After=y.service\nRequires=y.service", "RequiredBy=multi-user.target"))
    put(r, f"{S}/y.service", svc("After=x.service", "RequiredBy=multi-user.target"))
    enable(r, "x.service", "multi-user.target.requires")
    enable(r, "y.service", "multi-user.target.requires")
    res = do_scan(r)
    assert not res.boot.ok and res.boot.error.reason == "ordering-cycle"
    assert not res.boot.cycles[0].breakable


def test_requiring_unit_of_a_deleted_job_goes_with_it(tmp_path):
    r = system_root(tmp_path)
    put(r, f"{S}/x.service", svc("After=y.service"))
    put(r, f"{S}/y.service", svc("After=x.service", ""))
    put(r, f"{S}/z.service", svc("Requires=x.service"))
    link(r, f"{S}/multi-user.target.wants/x.service", f"/{S}/x.service")
    link(r, f"{S}/x.service.wants/y.service", f"/{S}/y.service")
    enable(r, "z.service")
    res = do_scan(r)
    o = outcomes(res)
    (cyc,) = res.boot.cycles
    if cyc.candidates[0] == "x.service":
        assert o["z.service"] == ("not-started", "job-deleted")


def test_enabled_but_not_pulled_in(tmp_path):
    r = system_root(tmp_path)
    put(r, f"{S}/lonely.service", svc("", "WantedBy=nothing.target"))
    enable(r, "lonely.service", "nothing.target.wants")
    o = outcomes(do_scan(r))
    assert o["lonely.service"] == ("not-started", "not-pulled-in")


def test_target_option_anchors_elsewhere(tmp_path):
    r = system_root(tmp_path)
    res = do_scan(r, target="rescue.target")
    assert res.boot.target == "rescue.target" and "multi-user.target" not in outcomes(res)


# -- links, drop-ins, aliases, packages -----------------------------------------------------------


def test_dangling_links_orphan_dropins_broken_alias(tmp_path):
    r = system_root(tmp_path)
    link(r, f"{S}/multi-user.target.wants/gone.service", "/usr/lib/systemd/system/gone.service")
    link(r, f"{S}/multi-user.target.requires/gone2.service", "/usr/lib/systemd/system/gone2.service")
    put(r, f"{S}/ghost.service.d/override.conf", "[Service]\nNice=5\n")
    put(r, f"{S}/ok.service", svc())
    put(r, f"{S}/ok.service.d/override.conf", "[Service]\nNice=5\n")
    link(r, f"{S}/alias.service", "/usr/lib/systemd/system/nowhere.service")
    res = do_scan(r)
    got = {(f.id, f.unit) for f in res.findings}
    assert ("dangling-wants-link", "gone.service") in got
    assert ("dangling-requires-link", "gone2.service") in got
    assert ("drop-in-without-unit", "ghost.service") in got
    assert not any(f.id == "drop-in-without-unit" and f.unit == "ok.service" for f in res.findings)
    assert ("broken-alias", "alias.service") in got


def test_half_installed_package_owning_unit_files(tmp_path):
    r = system_root(tmp_path)
    put(r, f"{V}/foo.service", svc())
    put(r, "var/lib/dpkg/status", "Package: foo\nStatus: install reinstreq half-installed\nArchitecture: amd64\n"
                                  "Version: 1.0\n\nPackage: bar\nStatus: install ok installed\nArchitecture: amd64\n"
                                  "Version: 1.0\n\n")
    put(r, "var/lib/dpkg/info/foo.list", "/usr\n/usr/lib/systemd/system/foo.service\n")
    put(r, "var/lib/dpkg/info/bar.list", "/usr/lib/systemd/system/bar.service\n")
    res = do_scan(r)
    pk = [f for f in res.findings if f.id == "package-half-installed"]
    assert len(pk) == 1 and "foo" in pk[0].summary and "foo.service" in pk[0].summary


# -- CLI, JSON, exit status --------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(p.name for p in ROOTS.iterdir() if p.is_dir()))
def test_every_example_root_scans_and_validates(example, capsys, validator):
    rc, doc = run_json(capsys, "--root", str(ROOTS / example))
    assert_valid(validator, doc)
    assert rc == (0 if doc["ok"] else 1)
    assert doc["schema_version"] == 1
    rc_text = cli.main(["scan", "--root", str(ROOTS / example)])
    out = capsys.readouterr().out
    assert rc_text == rc and out.splitlines()[0].startswith(("✓", "✗"))


def test_generated_root_json_and_text(tmp_path, capsys, validator):
    r = system_root(tmp_path)
    link(r, f"{S}/m.service", "/dev/null")
    put(r, f"{S}/a.service", svc("Requires=m.service\nAfter=m.service", "WantedBy=multi-user.target"))
    enable(r, "a.service")
    put(r, f"{S}/x.service", svc("After=y.service"))
    put(r, f"{S}/y.service", svc("After=x.service"))
    enable(r, "x.service")
    enable(r, "y.service")
    rc, doc = run_json(capsys, "--root", str(r))
    assert_valid(validator, doc)
    assert rc == 1 and doc["boot"]["target"] == "multi-user.target"
    assert {"unit", "outcome", "reason", "blocker", "chain"} <= set(doc["boot"]["units"][0])
    assert doc["boot"]["cycles"][0]["one_of"] and doc["boot"]["cycles"][0]["deleted"] is None
    assert cli.main(["scan", "--root", str(r)]) == 1
    text = capsys.readouterr().out
    first = text.splitlines()[0]
    assert first.startswith("✗ problems found:") and "errors" in first
    assert "one of" in text and "multi-user.target" in text.splitlines()[2]


def test_bad_input_exit_2(tmp_path, capsys):
    assert cli.main(["scan", "--root", str(tmp_path / "missing")]) == 2
    assert cli.main(["scan", "--root", str(tmp_path), "--target", "foo@.target"]) == 2


def test_this_machines_root_read_only(capsys, validator):
    rc, doc = run_json(capsys, "--offline")
    assert rc in (0, 1)
    assert_valid(validator, doc)


# -- the real Debian root, with masks made by real tools -------------------------------------------


def test_debian_root_intended_masks_are_info(capsys, validator):
    root = debroots.root()
    rc, doc = run_json(capsys, "--root", str(root))
    assert_valid(validator, doc)
    masks = {m["unit"]: m for m in doc["masks"]}
    for u in ("hwclock.service", "rc.service", "rcS.service", "x11-common.service"):
        assert masks[u]["intended"] and masks[u]["layer"] == "vendor", masks.get(u)
    assert not any(f["severity"] == "error" for f in doc["findings"]), [f["summary"] for f in doc["findings"]]
    assert doc["boot"]["target"] == "graphical.target" and doc["boot"]["transaction_ok"]


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl missing")
def test_debian_root_mask_by_systemctl_and_package_removal(tmp_path, capsys, validator):
    """Real tools: ``systemctl --root mask`` (an admin mask) and ``apt-get remove`` (its postrm runs)."""
    debroots.require()
    with debroots.private_copy(tmp_path / "root") as root:
        env = dict(os.environ, SYSTEMCTL_SKIP_SYSV="1")
        subprocess.run(["systemctl", f"--root={root}", "mask", "ssh.service"], check=True, capture_output=True,
                       env=env)
        removed = debroots.chroot(root, "apt-get", "remove", "-y", "-qq", "cron")
        # The admin's mask a day after the package operation (why ties a mask made within 120 s of one to it).
        later = os.lstat(root / "etc/systemd/system/ssh.service").st_mtime + 86400
        os.utime(root / "etc/systemd/system/ssh.service", (later, later), follow_symlinks=False)
        rc, doc = run_json(capsys, "--root", str(root))
        capsys.readouterr()
        cli.main(["--root", str(root), "why", "ssh.service", "cron.service", "--json"])
        why = {r["unit"]: r for r in json.loads(capsys.readouterr().out)}
    assert_valid(validator, doc)
    masks = {m["unit"]: m for m in doc["masks"]}
    m = masks["ssh.service"]
    # The origin is the one `why` gives (an admin's mask: no package operation near it).
    why_origin = next(f["origin"] for f in why["ssh.service"]["findings"] if f["id"].startswith("mask"))
    assert (m["layer"], m["origin"], m["intended"]) == ("etc", why_origin, False)
    assert why_origin in ("admin", "unknown")
    out = {u["unit"]: u for u in doc["boot"]["units"]}
    # ssh.service is enabled (multi-user.target.wants): the mask hides it and the boot does not start it.
    assert out["ssh.service"]["outcome"] == "not-started" and out["ssh.service"]["reason"] == "masked"
    # bookworm's postrm no longer masks on remove (no deb-systemd-helper mask in any postrm of this root): the
    # enablement link stays behind, dangling, until purge.
    assert removed.returncode == 0, removed.stderr
    (dangling,) = [f for f in doc["findings"] if f["id"] == "dangling-wants-link" and f["unit"] == "cron.service"]
    assert "cron was removed but not purged" in dangling["summary"]
    assert any(x.startswith("dpkg --root=") and "--purge cron" in x for x in dangling["fix"])
    assert rc == 1
