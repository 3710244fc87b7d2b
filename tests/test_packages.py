"""What the package system says (packages.py, checks/package.py), and hostile package data.

dpkg data is written in its real formats (pkgroots.py) and, where dpkg-deb and dpkg are installed,
also made by dpkg itself: a package built with dpkg-deb, installed into and removed from a root with
``dpkg --root`` (maintainer scripts run with ``--force-script-chrootless``, so deb-systemd-helper
writes its marker under DPKG_ROOT exactly as on a real system). The rpm tests build a package with
``rpmbuild`` and install it into a fresh database made with ``rpm --root DIR --initdb``.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from pkgroots import (
    CI,
    T0,
    apt_history,
    apt_stanza,
    dh_postrm,
    dpkg_db,
    dpkg_log,
    finding,
    info,
    mask,
    stanza,
    unit_root,
    why,
    write,
)
from unitdoctor import packages

UNIT = "[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n"
MD5 = hashlib.md5(UNIT.encode()).hexdigest()


# -- the status file ------------------------------------------------------------------------------

def test_sources_look_for_the_databases_where_the_readers_read_them():
    """EvidenceSources answers "no database" without importing packages: it must look in the same places."""
    from unitdoctor import sources

    assert sources.DPKG_STATUS == packages.STATUS
    assert sources.RPM_DBPATHS == packages.RPM_DBPATHS


def test_parse_status_reads_want_flag_state_and_conffiles():
    text = (stanza("a", "install ok installed", conffiles=[("/etc/a.conf", "0" * 32)])
            + "\n" + stanza("b", "deinstall reinstreq half-installed", arch="all")
            + "\n" + stanza("c", "install ok triggers-pending", extra="Multi-Arch: same\n"))
    pkgs, problems = packages.parse_status(text)
    assert problems == []
    assert [(p.name, p.arch, p.want, p.flag, p.state.value, p.line, p.status_line) for p in pkgs] == [
        ("a", "amd64", "install", "ok", "installed", 1, 2),
        ("b", "all", "deinstall", "reinstreq", "half-installed", 14, 15),
        ("c", "amd64", "install", "ok", "triggers-pending", 25, 26)]
    assert pkgs[0].conffiles == (packages.Conffile("/etc/a.conf", "0" * 32),)
    assert pkgs[1].reinstall_required and pkgs[1].state.mid_operation
    assert pkgs[2].info_stem == "c:amd64"


@pytest.mark.parametrize("text,problem", [
    ("Package: a\nStatus: install ok installed\nVersi", "not a 'Field: value' line: 'Versi'"),
    ("Package: a\nStat:", "a: no Status: field (truncated?), skipped"),
    ("Package: a\nStatus: install ok\n", "a: Status: 'install ok' is not 'want flag state', skipped"),
    ("Package: a\nStatus: install ok sideways\n", "a: Status: 'install ok sideways' is not 'want flag state', skipped"),
    ("Version: 1\nStatus: install ok installed\n", "stanza without Package:, skipped"),
    ("\x7fELF\x02\x01junk\nPackage: a\nStatus: install ok installed\n",
     "not a 'Field: value' line: '\\x7fELF\\x02\\x01junk'"),
])
def test_parse_status_reports_broken_stanzas(text, problem):
    _pkgs, problems = packages.parse_status(text)
    assert [p for _, p in problems] == [problem]


def test_usr_aliases():
    assert packages.usr_aliases("/usr/lib/systemd/system/a.service") == (
        "/usr/lib/systemd/system/a.service", "/lib/systemd/system/a.service")
    assert packages.usr_aliases("/etc/systemd/system/a.service") == ("/etc/systemd/system/a.service",)


# -- findings from written data ------------------------------------------------------------------------

def _owned_root(root, status="install ok installed", md5=MD5, conffile=False):
    unit_root(root)
    path = "/etc/systemd/system/x.service" if conffile else "/lib/systemd/system/x.service"
    write(root, path.replace("/lib/", "/usr/lib/") if not conffile else path, UNIT)
    dpkg_db(root, [stanza("xpkg", status, conffiles=[(path, md5)] if conffile else [])])
    info(root, "xpkg", [path], md5sums=None if conffile else {path: md5})
    return root


def test_packaged_by_on_a_healthy_unit(tmp_path, capsys):
    root = _owned_root(tmp_path)
    rc, doc = why(capsys, root, "x.service")
    assert rc == 0
    assert [f["id"] for f in doc[0]["findings"]] == ["packaged-by"]
    f = finding(doc, "packaged-by")
    assert f["summary"] == "x.service's files come from xpkg"
    assert f["evidence"][0]["source"] == f"{root}/var/lib/dpkg/status:1"


@pytest.mark.parametrize("state,fid,fix", [
    ("install ok half-configured", "package-not-configured", "dpkg --root={R} --configure -a"),
    ("install ok unpacked", "package-not-configured", "dpkg --root={R} --configure -a"),
    ("install ok triggers-awaited", "package-not-configured", "dpkg --root={R} --configure -a"),
    ("install ok half-installed", "package-half-installed", "chroot {R} apt-get install --reinstall xpkg"),
    ("install reinstreq installed", "package-half-installed", "chroot {R} apt-get install --reinstall xpkg"),
])
def test_package_mid_operation(state, fid, fix, tmp_path, capsys):
    root = _owned_root(tmp_path, status=state)
    dpkg_log(root, [(T0, "startup packages configure"), (T0, f"status {state.split()[-1]} xpkg:amd64 1.0-1"),
                    (T0, "configure xpkg:amd64 1.0-1 <none>")])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, fid)
    assert f["fix"][0] == fix.replace("{R}", str(root))
    assert f["evidence"][0] == {"kind": "dpkg-status", "source": f"{root}/var/lib/dpkg/status:2",
                                "text": f"Package: xpkg 1.0-1; Status: {state}", "time": None}
    assert f["evidence"][1]["kind"] == "dpkg-log" and f["evidence"][1]["time"] == "2024-03-01T10:15:00Z"


def test_unit_file_differs_from_md5sums(tmp_path, capsys):
    root = _owned_root(tmp_path, md5="0" * 32)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "unit-file-modified")
    assert f["severity"] == "warning"
    assert [(e["kind"], e["source"]) for e in f["evidence"]] == [
        ("dpkg-status", f"{root}/var/lib/dpkg/info/xpkg.md5sums"),
        ("file", f"{root}/usr/lib/systemd/system/x.service")]
    assert f["evidence"][1]["text"] == f"md5 on disk is {MD5}"
    assert f["fix"] == [f"chroot {root} apt-get install --reinstall xpkg"]


def test_edited_conffile_is_info(tmp_path, capsys):
    root = _owned_root(tmp_path, md5="1" * 32, conffile=True)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "unit-file-modified")
    assert f["severity"] == "info" and "conffile of xpkg" in f["summary"]


def test_unchanged_file_has_no_md5_finding(tmp_path, capsys):
    root = _owned_root(tmp_path)
    _, doc = why(capsys, root, "x.service")
    assert "unit-file-modified" not in [f["id"] for f in doc[0]["findings"]]


def test_installed_package_lists_a_missing_unit(tmp_path, capsys):
    root = _owned_root(tmp_path)
    (root / "usr/lib/systemd/system/x.service").unlink()
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "unit-file-missing")
    assert f["summary"].startswith("xpkg (install ok installed) lists /lib/systemd/system/x.service")
    assert f["fix"] == [f"chroot {root} apt-get install --reinstall xpkg"]


def test_not_found_unit_from_a_removed_package(tmp_path, capsys):
    root = unit_root(tmp_path)
    dpkg_db(root, [stanza("xd", "deinstall ok config-files", conffiles=[("/etc/init.d/xd", "2" * 32)])])
    info(root, "xd", ["/etc/init.d/xd"], postrm=dh_postrm("x.service"))
    apt_history(root, [apt_stanza(T0, T0 + 3, "apt-get remove xd", Remove="xd:amd64 (1.0-1)")])
    rc, doc = why(capsys, root, "x.service")
    assert rc == 1
    assert finding(doc, "not-found")
    f = finding(doc, "unit-from-removed-package")
    assert f["evidence"][0]["text"] == "Package: xd 1.0-1; Status: deinstall ok config-files"
    assert f["evidence"][1]["source"] == f"{root}/var/lib/dpkg/info/xd.postrm:6"
    assert f["evidence"][-1]["kind"] == "apt-history"
    assert f["fix"] == [f"chroot {root} apt-get install xd  # to use x.service again",
                        f"dpkg --root={root} --purge xd  # if it is not wanted: removes its leftovers"]


def test_not_found_without_a_package_that_names_it(tmp_path, capsys):
    root = unit_root(tmp_path)
    dpkg_db(root, [stanza("yd", "deinstall ok config-files")])
    info(root, "yd", ["/etc/init.d/yd"], postrm=dh_postrm("y.service"))
    _, doc = why(capsys, root, "x.service")
    assert [f["id"] for f in doc[0]["findings"]] == ["not-found"]


# -- real dpkg ------------------------------------------------------------------------------------

def _dpkg_tools():
    missing = [t for t in ("dpkg", "dpkg-deb") if shutil.which(t) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed: the real-dpkg tests need them"
        if CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if not os.access("/usr/bin/deb-systemd-helper", os.X_OK):
        pytest.skip("deb-systemd-helper (init-system-helpers) is not installed")


def _build_deb(tmp: pathlib.Path) -> pathlib.Path:
    pkg = tmp / "pkg"
    write(pkg, "DEBIAN/control", "Package: xdemo\nVersion: 1.0-1\nArchitecture: all\n"
                                 "Maintainer: Test <test@example.org>\nDescription: demo\n")
    write(pkg, "lib/systemd/system/xdemo.service", UNIT)
    write(pkg, "etc/init.d/xdemo", "#!/bin/sh\nexit 0\n").chmod(0o755)
    write(pkg, "DEBIAN/conffiles", "/etc/init.d/xdemo\n")
    write(pkg, "DEBIAN/md5sums", f"{MD5}  lib/systemd/system/xdemo.service\n")
    write(pkg, "DEBIAN/postrm", dh_postrm("xdemo.service")).chmod(0o755)
    deb = tmp / "xdemo.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(pkg), str(deb)], check=True,
                   capture_output=True)
    return deb


def _dpkg(root: pathlib.Path, *args: str) -> None:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    p = subprocess.run(["dpkg", f"--root={root}", "--force-script-chrootless", "--force-not-root",
                        f"--log={root}/var/log/dpkg.log", *args], capture_output=True, text=True, env=env,
                       timeout=120, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def _dpkg_root(tmp_path):
    _dpkg_tools()
    root = unit_root(tmp_path / "root")
    write(root, "var/lib/dpkg/status", "")
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/log").mkdir()  # dpkg --log quietly logs nothing when the directory is missing
    _dpkg(root, "-i", str(_build_deb(tmp_path)))
    return root


def test_real_dpkg_install_then_edit_then_remove(tmp_path, capsys):
    root = _dpkg_root(tmp_path)
    rc, doc = why(capsys, root, "xdemo.service")
    assert rc == 0 and [f["id"] for f in doc[0]["findings"]] == ["packaged-by"]
    with open(root / "lib/systemd/system/xdemo.service", "a") as fh:
        fh.write("# local edit\n")
    _, doc = why(capsys, root, "xdemo.service")
    assert finding(doc, "unit-file-modified")["severity"] == "warning"
    _dpkg(root, "-r", "xdemo")
    assert os.readlink(root / "etc/systemd/system/xdemo.service") == "/dev/null"
    rc, doc = why(capsys, root, "xdemo.service")
    f = finding(doc, "masked")
    assert f["origin"] == "package-removed"
    assert {"dsh-marker", "dpkg-status", "dpkg-log"} <= {e["kind"] for e in f["evidence"]}
    purge = f["fix"][0].split("  #")[0]
    assert purge == f"dpkg --root={root} --purge xdemo"
    # The printed purge, with the one flag a root without /bin/sh needs for its maintainer scripts.
    _dpkg(root, *purge.split()[2:])
    assert not os.path.lexists(root / "etc/systemd/system/xdemo.service")
    assert not os.path.lexists(root / "var/lib/systemd/deb-systemd-helper-masked/xdemo.service")


# -- rpm --------------------------------------------------------------------------------------------

SPEC = """Name: xdemo
Version: 1.0
Release: 1
Summary: demo
License: MIT
BuildArch: noarch
%description
demo
%install
mkdir -p %{buildroot}/usr/lib/systemd/system
printf '[Unit]\\nDescription=x\\n[Service]\\nExecStart=/usr/bin/true\\n' \\
  > %{buildroot}/usr/lib/systemd/system/xdemo.service
ln -s /dev/null %{buildroot}/usr/lib/systemd/system/xmask.service
%files
/usr/lib/systemd/system/xdemo.service
/usr/lib/systemd/system/xmask.service
"""


@pytest.fixture(scope="module")
def rpm_package(tmp_path_factory) -> pathlib.Path:
    if shutil.which("rpm") is None:
        reason = "rpm is not installed (Debian package rpm; scripts/test installs it)"
        if CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if shutil.which("rpmbuild") is None:
        pytest.skip("rpmbuild is not installed, so no test package can be built (Debian package rpm ships it)")
    top = tmp_path_factory.mktemp("rpmbuild")
    write(top, "SPECS/xdemo.spec", SPEC)
    p = subprocess.run(["rpmbuild", "--define", f"_topdir {top}", "-bb", str(top / "SPECS/xdemo.spec")],
                       capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return top / "RPMS/noarch/xdemo-1.0-1.noarch.rpm"


def _rpm_root(tmp_path, rpm_package) -> pathlib.Path:
    root = unit_root(tmp_path / "root")
    for args in (["--initdb"], ["-i", "--nodeps", "--noscripts", str(rpm_package)]):
        p = subprocess.run(["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", *args], capture_output=True,
                           text=True, timeout=120, check=False)
        assert p.returncode == 0, p.stderr
    return root


def test_rpm_owner_verify_and_vendor_mask(tmp_path, capsys, rpm_package):
    root = _rpm_root(tmp_path, rpm_package)
    rc, doc = why(capsys, root, "xdemo.service")
    assert rc == 0
    f = finding(doc, "packaged-by")
    assert f["evidence"][0] == {"kind": "rpm", "source": f"{root}/var/lib/rpm",
                                "text": "xdemo 1.0-1 owns /usr/lib/systemd/system/xdemo.service (rpm -qf)",
                                "time": None}
    _, doc = why(capsys, root, "xmask.service")
    f = finding(doc, "masked-intended")  # shipped by a package as a mask, and nothing enabled needs it
    assert f["origin"] == "vendor" and f["severity"] == "info" and "xdemo ships" in f["summary"]
    with open(root / "usr/lib/systemd/system/xdemo.service", "a") as fh:
        fh.write("# edit\n")
    # an edit in the same second as the build would keep rpm's recorded mtime: make the time differ for sure
    os.utime(root / "usr/lib/systemd/system/xdemo.service", (2e9, 2e9))
    _, doc = why(capsys, root, "xdemo.service")
    f = finding(doc, "unit-file-modified")
    assert f["evidence"][1]["text"].startswith("rpm -V xdemo: S.5")
    assert f["fix"] == [f"dnf --installroot={root} reinstall xdemo"] and f["severity"] == "warning"
    assert "(size, digest, mtime differ)" in f["summary"]
    # the same content with another time: rpm -V says T only; not a modification that an update would undo
    unit = root / "usr/lib/systemd/system/xdemo.service"
    unit.write_text(unit.read_text().removesuffix("# edit\n"))
    os.utime(unit, (1e9, 1e9))
    _, doc = why(capsys, root, "xdemo.service")
    f = finding(doc, "unit-file-modified")
    assert f["evidence"][1]["text"].startswith("rpm -V xdemo: .......T")
    assert (f["severity"], f["fix"]) == ("info", []) and "(mtime differ)" in f["summary"]
    (root / "usr/lib/systemd/system/xdemo.service").unlink()
    _, doc = why(capsys, root, "xdemo.service")
    f = finding(doc, "unit-file-missing")
    assert f["fix"] == [f"dnf --installroot={root} reinstall xdemo"]


def test_rpm_is_not_run_without_an_rpm_database(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    _, doc = why(capsys, root, "x.service", verbose=True)
    assert {"source": "rpm", "status": "missing", "text": "no rpm database"} in doc[0]["sources"]


# -- hostile data ------------------------------------------------------------------------------------

def _masked(tmp_path):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    return root


def _run_fast(capsys, root, unit="x.service"):
    t = time.monotonic()
    rc, doc = why(capsys, root, unit, verbose=True)
    assert time.monotonic() - t < 5, "why took too long on hostile data"
    assert rc == 1
    return doc


def test_truncated_status_file(tmp_path, capsys):
    root = _masked(tmp_path)
    dpkg_db(root, [stanza("a", "install ok installed")])
    with open(root / "var/lib/dpkg/status", "a") as fh:
        fh.write("\nPackage: b\nStatus: install ok inst")
    info(root, "a", ["/lib/systemd/system/x.service"])
    doc = _run_fast(capsys, root)
    f = finding(doc, "package-database-damaged")
    assert f["evidence"][0]["text"] == "b: Status: 'install ok inst' is not 'want flag state', skipped"


def test_binary_junk_in_logs(tmp_path, capsys):
    root = _masked(tmp_path)
    junk = bytes(range(256)) * 64
    write(root, "var/log/apt/history.log", junk + b"\nStart-Date: \xff\xfe\n" + junk)
    write(root, "var/log/dpkg.log", b"\x00\x01" * 1000 + b"2024-03-01 10:15:00 startup archives unpack\n")
    doc = _run_fast(capsys, root)
    assert finding(doc, "masked")["origin"] == "admin"


def test_two_gigabyte_sparse_log_is_read_from_the_end_only(tmp_path, capsys):
    root = _masked(tmp_path)
    p = root / "var/log/dpkg.log"
    p.parent.mkdir(parents=True)
    with open(p, "wb") as fh:
        fh.truncate(2 * 1024 ** 3)
    doc = _run_fast(capsys, root)
    f = finding(doc, "masked")
    texts = [e["text"] for e in f["evidence"] if e["kind"] == "dpkg-log"]
    assert any("read the last 8388608 only" in t for t in texts)
    assert any("are NUL (sparse or corrupt file); skipped" in t for t in texts)


def test_gz_that_is_not_gzip(tmp_path, capsys):
    root = _masked(tmp_path)
    apt_history(root, [apt_stanza(T0 + 86400, T0 + 86401, "apt-get install a", Install="a:amd64 (1)")])
    write(root, "var/log/apt/history.log.1.gz", "Start-Date: 2024-03-01  10:15:00\nnot gzip at all\n")
    doc = _run_fast(capsys, root)
    f = finding(doc, "masked")
    w = [e for e in f["evidence"] if e["source"].endswith("history.log.1.gz")]
    assert w and w[0]["kind"] == "apt-history" and w[0]["text"].startswith("warning: not a readable gzip file")


def test_truncated_gz_keeps_what_it_has(tmp_path, capsys):
    import gzip

    root = _masked(tmp_path)
    apt_history(root, [apt_stanza(T0 + 86400, T0 + 86401, "apt-get install a", Install="a:amd64 (1)")])
    filler = "".join(f"{os.urandom(16).hex()}\n" for _ in range(2000))  # does not compress away
    data = gzip.compress(("\n" + apt_stanza(T0 - 5, T0 + 5, "apt-get install b", Install="b:amd64 (1)")
                          + "\n" + filler).encode())
    write(root, "var/log/apt/history.log.1.gz", data[: len(data) - 40])
    doc = _run_fast(capsys, root)
    f = finding(doc, "masked")
    # the stanza before the cut is read (weak evidence: no package database names x.service's package)
    assert any(e["text"].startswith("made during a transaction of b")
               for e in f["evidence"] if e["kind"] == "apt-history")
    assert any("gzip data ends early" in e["text"] for e in f["evidence"])


def test_sqlite_file_that_is_not_a_database(tmp_path, capsys):
    root = _masked(tmp_path)
    write(root, "var/lib/dnf/history.sqlite", b"SQLite format 3\x00" + b"\xff" * 4000)
    doc = _run_fast(capsys, root)
    f = finding(doc, "masked")
    w = [e for e in f["evidence"] if e["kind"] == "dnf-history"]
    assert w and w[0]["text"].startswith("warning: not a readable dnf history database")
    assert not (root / "var/lib/dnf/history.sqlite-journal").exists()


def test_fifo_log_does_not_block(tmp_path, capsys):
    root = _masked(tmp_path)
    (root / "var/log/apt").mkdir(parents=True)
    os.mkfifo(root / "var/log/apt/history.log")
    doc = _run_fast(capsys, root)
    assert any("cannot be read" in e["text"] for e in finding(doc, "masked")["evidence"])


def test_log_symlink_stays_inside_the_root(tmp_path, capsys):
    root = _masked(tmp_path)
    write(root, "etc/passwd", f"{packages.STATUS} inside the root\n")
    (root / "var/log").mkdir(parents=True)
    os.symlink("/etc/passwd", root / "var/log/dpkg.log")
    doc = _run_fast(capsys, root)
    reads = [s["source"] for s in doc[0]["sources"] if s["status"] == "read"]
    assert f"{root}/var/log/dpkg.log" in reads  # read as ROOT/etc/passwd: no dpkg lines, nothing from the host


def test_junk_localtime_and_journal(tmp_path, capsys):
    root = _masked(tmp_path)
    write(root, "etc/localtime", b"TZif junk")
    apt_history(root, [apt_stanza(T0, T0 + 1, "apt-get install a", Install="a:amd64 (1)")])
    write(root, "var/log/journal/0123456789abcdef0123456789abcdef/system.journal", b"LPKSHHRH" + b"\x00" * 100)
    doc = _run_fast(capsys, root)
    f = finding(doc, "masked")  # log times read as UTC: the run is at the mask's time
    assert any(e["text"].startswith("made during a transaction of a")
               for e in f["evidence"] if e["kind"] == "apt-history")
    notes = {s["source"]: s for s in doc[0]["sources"]}
    assert "not a valid TZif file" in notes[f"{root}/etc/localtime"]["text"]


def test_huge_status_file_is_refused_not_read(tmp_path, capsys):
    root = _masked(tmp_path)
    p = root / "var/lib/dpkg/status"
    p.parent.mkdir(parents=True)
    with open(p, "wb") as fh:
        fh.truncate(packages.STATUS_MAX + 1)
    doc = _run_fast(capsys, root)
    assert any(s["source"].endswith("var/lib/dpkg/status") and s["status"] == "warning" for s in doc[0]["sources"])


# -- sibling packages and the last run ------------------------------------------------------------------


def test_the_package_of_the_execstart_binary_is_looked_at_too(tmp_path, capsys):
    """nginx.service ships in nginx-common; the daemon (/usr/sbin/nginx) in nginx, which dpkg left half-configured.
    A run dated in the future (the time zone changed since) is never taken as the last run."""
    root = unit_root(tmp_path)
    write(root, "usr/lib/systemd/system/nginx.service",
          "[Unit]\nDescription=nginx\n[Service]\nExecStart=/usr/sbin/nginx -g 'daemon on;'\n"
          "[Install]\nWantedBy=multi-user.target\n")
    dpkg_db(root, [stanza("nginx-common", "install ok installed", extra="Source: nginx\n"),
                   stanza("nginx", "install ok half-configured"),
                   stanza("dash", "install ok half-configured")])  # another source: not the unit's package
    info(root, "nginx-common", ["/lib/systemd/system/nginx.service"])
    info(root, "nginx", ["/usr/sbin/nginx"])
    info(root, "dash", ["/usr/bin/sh"])
    write(root, "etc/systemd/system/nginx.service.d/pre.conf", "[Service]\nExecStartPre=/usr/bin/sh -c true\n")
    now = time.time()
    apt_history(root, [apt_stanza(now - 86400, now - 86390, "apt-get install nginx", Install="nginx:amd64 (1)"),
                       apt_stanza(now + 7200, now + 7210, "apt-get upgrade", Upgrade="nginx:amd64 (1, 2)")])
    _, doc = why(capsys, root, "nginx.service")
    f = finding(doc, "package-not-configured")
    assert "nginx, which ships nginx.service's ExecStart= binary /usr/sbin/nginx" in f["summary"]
    assert f["fix"][0] == f"dpkg --root={root} --configure -a"
    runs = [e for e in f["evidence"] if e["kind"] == "apt-history"]
    assert runs[0]["text"].startswith("last logged run that touched nginx: ") and "apt-get install" in runs[0]["text"]
    assert "dated in the future" in runs[1]["text"] and "apt-get upgrade" in runs[1]["text"]
    assert "dash" not in repr(doc[0]["findings"])
    ev = [e for e in finding(doc, "packaged-by")["evidence"] if "ExecStart=" in e["text"]]
    assert ev and ev[0]["text"].endswith(f"({root}/usr/lib/systemd/system/nginx.service:4)")


def test_owners_index_answers_as_the_substring_search(tmp_path):
    """After OWNER_SEARCHES_MAX questions ``owners`` answers from a line index; every answer stays the same."""
    from unitdoctor import packages
    from unitdoctor.rootfs import Root

    info = tmp_path / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    stanzas = []
    paths = ["/lib/systemd/system/a.service", "/usr/lib/systemd/system/b.service", "/etc/x", "/usr/bin/y"]
    for i, name in enumerate(("pa", "pb", "pc")):
        stanzas.append(f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n")
        mine = paths[i:i + 2] + ["/etc/x"]
        (info / f"{name}.list").write_text("/.\n" + "\n".join(mine) + ("\n" if i != 1 else ""))
    (tmp_path / "var/lib/dpkg/status").write_text("\n".join(stanzas))
    questions = [*paths, "/usr/lib/systemd/system/a.service", "/nowhere", "", "/etc/x\n/usr/bin/y"] * 5
    searched = packages.DpkgDb.open(Root(str(tmp_path)))
    indexed = packages.DpkgDb.open(Root(str(tmp_path)))
    assert searched is not None and indexed is not None
    want = []
    for q in questions:
        searched._searches = 0  # always the substring search
        want.append([p.name for p in searched.owners(q)])
    got = [[p.name for p in indexed.owners(q)] for q in questions]
    assert indexed._by_path is not None
    assert got == want
    assert want[0] == ["pa"] and want[2] == ["pa", "pb", "pc"]
