"""Who made a mask: the ``origin`` of mask findings and their evidence (checks/provenance.py).

For every origin there is a root where it is the right answer and one where the evidence is close
but wrong (another unit, another package, a transaction an hour away, an initrd-only option), so the
answer must be ``admin`` or ``unknown``. Roots hold data in the real formats (pkgroots.py).
"""

from __future__ import annotations

import os

import pytest

from pkgroots import (
    T0,
    apt_history,
    apt_stanza,
    dh_postrm,
    dnf_history,
    dnf_log,
    dpkg_db,
    dpkg_log,
    dpkg_remove_run,
    dsh_marker,
    finding,
    have_journal_remote,
    info,
    journal,
    kinds,
    localtime,
    mask,
    stanza,
    unit_root,
    why,
    write,
)
from unitdoctor import cmdline
from unitdoctor.rootfs import Root

EARLY = "run/systemd/generator.early"


# -- the kernel command line ----------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("quiet systemd.mask=foo", [("systemd.mask=foo", "foo.service", False)]),
    ("systemd.mask=bar.socket systemd.mask=/dev/sda", [("systemd.mask=bar.socket", "bar.socket", False),
                                                        ("systemd.mask=/dev/sda", "dev-sda.device", False)]),
    ("rd.systemd.mask=rdonly", [("rd.systemd.mask=rdonly", "rdonly.service", True)]),
    ('systemd.mask="a b"', [("systemd.mask=a b", "a\\x20b.service", False)]),
    ("systemd_mask=foo systemd.mask-x=1 systemd.wants=foo", []),
    ("systemd.mask", [("systemd.mask", None, False)]),
    ("systemd.mask= systemd.mask=later", [("systemd.mask=", None, False)]),
])
def test_mask_options_as_the_debug_generator_reads_them(text, expected):
    """debug-generator.c: exact key, rd. only in the initrd, mangled like systemctl, a bad value stops the parse."""
    c = cmdline.CommandLine("/proc/cmdline", 1, text, "running kernel")
    got = [(o.word, o.unit, o.initrd_only) for o in cmdline.mask_options(c)]
    assert got == expected


def test_split_words_keeps_backslashes_and_joins_quotes():
    assert cmdline.split_words("a\\b 'c d'e \"f") == ["a\\b", "c de", "f"]


BOOT_FORMS = {
    "kernel-install": ("etc/kernel/cmdline", "root=/dev/sda1 ro\nsystemd.mask=x.service quiet\n",
                       "etc/kernel/cmdline:1"),
    "grub": ("etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
                                 'GRUB_CMDLINE_LINUX="console=ttyS0 systemd.mask=x"\n', "etc/default/grub:3"),
    "grub-default": ("etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT='quiet systemd.mask=x.service'\n",
                     "etc/default/grub:1"),
    "grub.d": ("etc/default/grub.d/50-mask.cfg",
               'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX systemd.mask=x.service"\n',
               "etc/default/grub.d/50-mask.cfg:1"),
    "loader-entry": ("boot/loader/entries/debian-6.1.conf",
                     "title Debian\nlinux /vmlinuz\noptions root=UUID=1 ro systemd.mask=x.service\n",
                     "boot/loader/entries/debian-6.1.conf:3"),
}


@pytest.mark.parametrize("form", sorted(BOOT_FORMS))
def test_kernel_command_line_origin_in_each_boot_configuration(form, tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    write(root, "etc/default/grub", 'GRUB_CMDLINE_LINUX="console=tty0"\n')
    path, text, source = BOOT_FORMS[form]
    write(root, path, text)
    mask(root, f"{EARLY}/x.service")
    rc, doc = why(capsys, root, "x.service")
    assert rc == 1
    f = finding(doc, "masked-kernel-command-line")
    assert f["origin"] == "kernel-command-line"
    ev = [e for e in f["evidence"] if e["kind"] == "kernel-cmdline"]
    assert [e["source"] for e in ev] == [f"{root}/{source}"]
    assert "systemd-debug-generator masks x.service" in ev[0]["text"]
    assert any(str(root / path.split(":")[0]) in fx for fx in f["fix"][1:])


def test_kernel_command_line_close_but_wrong_is_unknown(tmp_path, capsys):
    """Another unit's option and an initrd-only option do not explain a generator.early mask."""
    root = unit_root(tmp_path, "x.service", "y.service")
    write(root, "etc/kernel/cmdline", "root=/dev/sda1 systemd.mask=y.service rd.systemd.mask=x.service\n")
    mask(root, f"{EARLY}/x.service")
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked-generator")
    assert f["origin"] == "unknown"
    texts = [e["text"] for e in f["evidence"] if e["kind"] == "kernel-cmdline"]
    assert texts == ["systemd.mask=y.service: masks y.service, not x.service",
                     "rd.systemd.mask=x.service: rd.systemd.mask= acts only inside the initrd, it does not mask "
                     "x.service in the booted system"]
    assert not any("remove systemd.mask=" in fx for fx in f["fix"])


def test_generator_early_mask_without_boot_configuration_is_kernel_command_line(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, f"{EARLY}/x.service")
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked-kernel-command-line")
    assert f["origin"] == "kernel-command-line"
    assert kinds(f)[-1] == "kernel-cmdline" and f["evidence"][-1]["source"] == "(boot configuration)"


# -- package-removed (deb-systemd-helper) ----------------------------------------------------------

def _removed_root(root, *, marker_unit="x.service", removed_pkg="xd", removal_at=T0):
    unit_root(root, "multi.service")
    mask(root, "etc/systemd/system/x.service", T0)
    dsh_marker(root, marker_unit, T0)
    dpkg_db(root, [stanza(removed_pkg, "deinstall ok config-files", arch="all",
                          conffiles=[(f"/etc/init.d/{removed_pkg}", "33e4fd94e2560e008e2c3b431d0e3419")]),
                   stanza("base-files", "install ok installed")])
    info(root, removed_pkg, [f"/etc/init.d/{removed_pkg}"], postrm=dh_postrm(marker_unit))
    apt_history(root, [apt_stanza(removal_at - 3, removal_at + 2, f"apt-get remove {removed_pkg}",
                                  Remove=f"{removed_pkg}:amd64 (1.0-1)")])
    dpkg_log(root, dpkg_remove_run(removal_at, removed_pkg, arch="all"))
    return root


def test_package_removed_origin(tmp_path, capsys):
    root = _removed_root(tmp_path)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "package-removed"
    ks = kinds(f)
    assert ks[:1] == ["mask"] and "dsh-marker" in ks and "dpkg-status" in ks
    assert "apt-history" in ks and "dpkg-log" in ks
    marker = next(e for e in f["evidence"] if e["kind"] == "dsh-marker")
    assert marker["source"] == f"{root}/var/lib/systemd/deb-systemd-helper-masked/x.service"
    assert marker["time"] == "2024-03-01T10:15:00Z"
    postrm = [e for e in f["evidence"] if e["source"].startswith(f"{root}/var/lib/dpkg/info/xd.postrm:")]
    assert postrm and "deb-systemd-helper mask 'x.service'" in postrm[0]["text"]
    assert f["fix"][0].startswith(f"dpkg --root={root} --purge xd")
    assert f["fix"][1].startswith(f"chroot {root} apt-get install xd")
    assert f["fix"][-1] == f"systemctl --root={root} unmask x.service"
    assert "deb-systemd-helper masked it when xd was removed but not purged" in f["summary"]


def test_package_removed_close_but_wrong_is_admin(tmp_path, capsys):
    """A marker for another unit and another package's removal an hour earlier: an admin's mask."""
    root = _removed_root(tmp_path, marker_unit="y.service", removed_pkg="yd", removal_at=T0 - 3600)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "admin"
    assert "dsh-marker" not in kinds(f)
    near = [e for e in f["evidence"] if e["kind"] in ("apt-history", "dpkg-log")]
    assert len(near) == 1 and "nearest package transaction, 59 min before the mask" in near[0]["text"]


def test_marker_but_not_deb_systemd_helpers_link_is_not_package_removed(tmp_path, capsys):
    """deb-systemd-helper only makes /etc/systemd/system/UNIT → /dev/null; an empty file is someone else's."""
    root = unit_root(tmp_path, "x.service")
    p = write(root, "etc/systemd/system/x.service", "")
    os.utime(p, (T0, T0))
    dsh_marker(root, "x.service")
    _, doc = why(capsys, root, "x.service")
    assert finding(doc, "masked")["origin"] == "admin"


# -- package-transaction ---------------------------------------------------------------------------

def test_package_transaction_from_rotated_apt_history_in_local_time(tmp_path, capsys):
    """The stanza is in history.log.1.gz, times in Europe/Berlin (UTC+1 in March)."""
    root = unit_root(tmp_path, "x.service")
    _owned_by(root, "ntpsec")
    localtime(root, "Europe/Berlin")
    mask(root, "etc/systemd/system/x.service", T0)
    apt_history(root, [apt_stanza(T0 + 86400 * 20, T0 + 86400 * 20 + 5, "apt-get upgrade", "Europe/Berlin",
                                  Upgrade="libc6:amd64 (2.36-9, 2.36-9+deb12u4)")])
    apt_history(root, [apt_stanza(T0 - 30, T0 + 40, "apt-get install ntpsec", "Europe/Berlin",
                                  Install="ntpsec:amd64 (1.2.2+dfsg1-1)")], name="history.log.1.gz")
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "package-transaction"
    tx = next(e for e in f["evidence"] if e["kind"] == "apt-history")
    assert tx["source"] == f"{root}/var/log/apt/history.log.1.gz:2"
    assert tx["time"] == "2024-03-01T10:14:30Z"
    assert "Commandline: apt-get install ntpsec" in tx["text"]
    assert "apt-get install ntpsec" in f["summary"]


def _owned_by(root, pkg: str) -> None:
    """A dpkg database in which ``pkg`` ships /lib/systemd/system/x.service."""
    dpkg_db(root, [stanza(pkg, "install ok installed"), stanza("other", "install ok installed")])
    info(root, pkg, ["/lib/systemd/system/x.service"])
    info(root, "other", ["/usr/bin/other"])


def test_package_transaction_from_dpkg_log(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    _owned_by(root, "foo")
    mask(root, "etc/systemd/system/x.service", T0 + 10)
    dpkg_log(root, [(T0, "startup archives unpack"), (T0, "install foo:amd64 <none> 1.0"),
                    (T0 + 20, "status installed foo:amd64 1.0")])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "package-transaction"
    assert next(e for e in f["evidence"] if e["kind"] == "dpkg-log")["source"] == f"{root}/var/log/dpkg.log:1"


def test_package_transaction_from_dnf_history_sqlite(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    dnf_history(root, [(T0 - 7200, T0 - 7100, "dnf install vim", [(1, "vim-enhanced")]),
                       (T0 - 10, T0 + 10, "dnf remove chrony", [(8, "chrony")])])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    # no package database says chrony ships x.service: a transaction at that time is weak evidence only
    assert f["origin"] == "admin"
    ev = next(e for e in f["evidence"] if e["kind"] == "dnf-history")
    assert ev["source"] == f"{root}/var/lib/dnf/history.sqlite#trans.id=2"
    assert "dnf remove chrony" in ev["text"] and "remove chrony" in ev["text"]
    assert ev["text"].startswith("made during a transaction of chrony (") and "weak evidence" in ev["text"]


@pytest.mark.parametrize("column,value", [("dt_end", "'soon'"), ("dt_end", "x'00'"), ("dt_begin", "'yesterday'")])
def test_dnf_history_row_without_a_time_is_skipped(column, value, tmp_path, capsys):
    """A history database dnf did not write (a time that is text or a blob, in a transaction inside the
    window or in the nearest one): that row is no evidence, and ``why`` still answers (it once stopped with
    an internal error, float() of the column)."""
    import sqlite3

    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    dnf_history(root, [(T0 - 10, T0 + 10, "dnf remove chrony", [(8, "chrony")])])
    con = sqlite3.connect(root / "var/lib/dnf/history.sqlite")
    con.execute(f"UPDATE trans SET {column} = {value} WHERE id = 1")
    con.commit()
    con.close()
    rc, doc = why(capsys, root, "x.service")
    assert rc == 1
    f = finding(doc, "masked")
    assert f["origin"] == "admin"
    assert "dnf-history" not in kinds(f)
    assert not any("chrony" in e["text"] for e in f["evidence"])


def test_package_transaction_from_dnf_log(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    dnf_log(root, [(T0 - 5000, T0 - 4990, "dnf makecache --timer"), (T0 - 20, T0 + 5, "dnf install firewalld")])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "admin"  # weak: nothing says firewalld ships x.service
    assert "Command: dnf install firewalld" in next(e for e in f["evidence"] if e["kind"] == "dnf-log")["text"]


@pytest.mark.parametrize("offset", [3600, -3600])
def test_transaction_an_hour_away_is_admin(offset, tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    apt_history(root, [apt_stanza(T0 + offset, T0 + offset + 30, "apt-get install foo", Install="foo:amd64 (1)")])
    dnf_history(root, [(T0 + offset, T0 + offset + 30, "dnf install foo", [(1, "foo")])])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "admin"
    assert f["evidence"][-1]["text"].startswith("nearest package transaction, ")
    assert ("after" if offset > 0 else "before") in f["evidence"][-1]["text"]


@pytest.mark.parametrize("mask_at,pkg,origin,weak", [
    (T0, "foo", "package-transaction", None),  # inside Start-Date … End-Date
    (T0 + 11, "foo", "package-transaction", None),  # End-Date + the logs' 1 s resolution
    (T0 + 12, "foo", "admin", "made 2 s after a transaction of foo"),
    (T0 + 60, "foo", "admin", "made 50 s after a transaction of foo (it touched foo"),  # apt install X; mask X
    (T0 - 30, "foo", "admin", "made 30 s before a transaction of foo"),
    (T0 + 5, "bar", "admin", "made during a transaction of bar (which does not touch foo, the package of x.service)"),
])
def test_during_a_transaction_only_inside_its_window_and_only_of_the_units_package(mask_at, pkg, origin, weak,
                                                                                    tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    _owned_by(root, "foo")
    mask(root, "etc/systemd/system/x.service", mask_at)
    apt_history(root, [apt_stanza(T0, T0 + 10, f"apt-get install {pkg}", Install=f"{pkg}:amd64 (1)")])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == origin
    texts = [e["text"] for e in f["evidence"] if e["kind"] == "apt-history"]
    if weak:
        assert texts and texts[0].startswith(weak) and "weak evidence" in texts[0], texts
        assert "during a package transaction" not in f["summary"]
    else:
        assert "falls inside" in texts[0] and "during a package transaction" in f["summary"]


def test_a_package_whose_postinst_names_the_unit_counts_as_its_package(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    _owned_by(root, "foo")
    write(root, "var/lib/dpkg/info/other.postinst", "#!/bin/sh\ndeb-systemd-helper mask 'x.service' >/dev/null\n")
    mask(root, "etc/systemd/system/x.service", T0 + 3)
    apt_history(root, [apt_stanza(T0, T0 + 10, "apt-get install other", Install="other:amd64 (1)")])
    _, doc = why(capsys, root, "x.service")
    assert finding(doc, "masked")["origin"] == "package-transaction"


# -- vendor ------------------------------------------------------------------------------------------

def _vendor_root(root, lists):
    unit_root(root)
    mask(root, "usr/lib/systemd/system/x.service")
    dpkg_db(root, [stanza("xpkg", "install ok installed"), stanza("other", "install ok installed")])
    info(root, "xpkg", ["/lib/systemd/system/x.service"] if lists else ["/lib/systemd/system/y.service"])
    info(root, "other", ["/usr/bin/other"])
    return root


def test_vendor_origin_names_the_package(tmp_path, capsys):
    """dpkg lists /lib/systemd/system/x.service; on merged /usr it is /usr/lib/systemd/system/x.service.

    Nothing enabled needs x.service: the package masks it on purpose, an ``info`` (Debian's hwclock.service).
    """
    root = _vendor_root(tmp_path, lists=True)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked-intended")
    assert f["origin"] == "vendor" and f["severity"] == "info" and f["fix"] == []
    ev = next(e for e in f["evidence"] if e["kind"] == "dpkg-status")
    assert ev["source"] == f"{root}/var/lib/dpkg/status:1"
    assert ev["text"].startswith("xpkg 1.0-1 (install ok installed) ships /usr/lib/systemd/system/x.service")
    assert "xpkg" in f["summary"]


@pytest.mark.parametrize("dep", ["Requires", "Wants"])
def test_a_distribution_mask_that_something_enabled_needs_is_an_error(dep, tmp_path, capsys):
    root = _vendor_root(tmp_path, lists=True)
    write(root, "usr/lib/systemd/system/app.service", f"[Unit]\n{dep}=x.service\n[Service]\n"
          "ExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n")
    os.makedirs(root / "etc/systemd/system/multi-user.target.wants")
    os.symlink("/usr/lib/systemd/system/app.service", root / "etc/systemd/system/multi-user.target.wants/app.service")
    where = f"{root}/usr/lib/systemd/system/app.service:2"
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked-vendor")
    assert f["severity"] == "error" and f["origin"] == "vendor"
    assert where in [e["source"] for e in f["evidence"] if e["kind"] == "dependency"]


def test_a_disabled_unit_needing_a_distribution_mask_does_not_make_it_an_error(tmp_path, capsys):
    root = _vendor_root(tmp_path, lists=True)
    write(root, "usr/lib/systemd/system/app.service", "[Unit]\nRequires=x.service\n[Service]\n"
          "ExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n")
    _, doc = why(capsys, root, "x.service")
    assert finding(doc, "masked-intended")["severity"] == "info"


def test_vendor_directory_mask_no_package_owns_is_admin(tmp_path, capsys):
    root = _vendor_root(tmp_path, lists=False)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked-vendor")
    assert f["origin"] == "admin"
    assert "no package owns /usr/lib/systemd/system/x.service (dpkg checked)" in [e["text"] for e in f["evidence"]]
    assert f["fix"][0] == f"rm {root}/usr/lib/systemd/system/x.service"


# -- admin and unknown -------------------------------------------------------------------------------

@pytest.mark.skipif(not have_journal_remote(), reason="systemd-journal-remote is not installed "
                    "(apt-get install systemd-journal-remote; scripts/test does)")
def test_admin_origin_with_the_journal_of_that_minute(tmp_path, capsys):
    root = unit_root(tmp_path, "nginx.service")
    mask(root, "etc/systemd/system/nginx.service", T0)
    journal(root, [(T0 - 3600, "sudo", "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl "
                                       "mask nginx.service"),
                   (T0 - 2, "sudo", "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl "
                                    "mask nginx.service"),
                   (T0 - 1, "cron", "(root) CMD (run-parts /etc/cron.hourly)"),
                   (T0 + 1, "systemd", "Reloading.")])
    _, doc = why(capsys, root, "nginx.service")
    f = finding(doc, "masked")
    assert f["origin"] == "admin"
    ev = [e for e in f["evidence"] if e["kind"] == "journal"]
    assert [(e["source"], e["time"]) for e in ev] == [(f"{root}/var/log/journal", "2024-03-01T10:14:58Z")]
    assert ev[0]["text"].startswith("sudo[1001]: admin : TTY=pts/0") and "systemctl mask nginx.service" in ev[0]["text"]


@pytest.mark.skipif(not have_journal_remote(), reason="systemd-journal-remote is not installed "
                    "(apt-get install systemd-journal-remote; scripts/test does)")
def test_journal_lines_only_when_a_field_names_the_unit_or_systemctl_masked_it(tmp_path, capsys):
    root = unit_root(tmp_path, "journal.service")
    mask(root, "etc/systemd/system/journal.service", T0)
    journal(root, [(T0 - 5, "systemd-journald", "Runtime Journal (/run/log/journal/abc) is 8.0M, max 64.0M."),
                   (T0 - 4, "systemd", "e2scrub_all.timer: Deactivated successfully.", {"UNIT": "e2scrub_all.timer"}),
                   (T0 - 3, "sudo", "admin : COMMAND=/usr/bin/systemctl mask apache2.service"),
                   (T0 - 2, "systemd", "journal.service: Deactivated successfully.", {"UNIT": "journal.service"}),
                   (T0 - 1, "sudo", "admin : TTY=pts/0 ; COMMAND=/usr/bin/systemctl mask journal"),
                   (T0 + 1, "myapp", "journal.service is gone", {"_SYSTEMD_UNIT": "journal.service"})])
    _, doc = why(capsys, root, "journal.service")
    texts = [e["text"] for e in finding(doc, "masked")["evidence"] if e["kind"] == "journal"]
    assert [t.split(":", 1)[0] for t in texts] == ["systemd[1003]", "sudo[1004]", "myapp[1005]"]
    assert texts[0].endswith("(UNIT=journal.service)") and texts[1].endswith("(a systemctl mask/unmask command)")
    assert texts[2].endswith("(_SYSTEMD_UNIT=journal.service)")


def test_admin_origin_without_any_logs(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "admin"
    assert [(e["kind"], e["time"]) for e in f["evidence"][2:]] == [("mtime", "2024-03-01T10:15:00Z")]


@pytest.mark.parametrize("mtime,words", [(0, "at the epoch"), (1, "at the epoch"),
                                         (4102444800, "is in the future")])
def test_untrustworthy_mtime_is_unknown(mtime, words, tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", mtime)
    apt_history(root, [apt_stanza(0, 10, "apt-get install foo", Install="foo:amd64 (1)")])
    _, doc = why(capsys, root, "x.service")
    f = finding(doc, "masked")
    assert f["origin"] == "unknown"
    ev = next(e for e in f["evidence"] if e["kind"] == "mtime")
    assert words in ev["text"] and ev["time"] is None


def test_a_day_old_mtime_is_trusted(tmp_path, capsys):
    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0 - 86400)
    _, doc = why(capsys, root, "x.service")
    assert finding(doc, "masked")["origin"] == "admin"


def test_dependency_mask_carries_the_origin(tmp_path, capsys):
    root = _removed_root(tmp_path)
    write(root, "usr/lib/systemd/system/app.service",
          "[Unit]\nRequires=x.service\n[Service]\nExecStart=/usr/bin/true\n")
    _, doc = why(capsys, root, "app.service")
    f = finding(doc, "dependency-masked")
    assert f["origin"] == "package-removed"


# -- laziness ------------------------------------------------------------------------------------------

def test_healthy_unit_opens_no_log(tmp_path, capsys):
    root = _removed_root(tmp_path)
    _, doc = why(capsys, root, "multi.service", verbose=True)
    assert doc[0]["start"]["ok"] is True
    touched = [s["source"] for s in doc[0]["sources"]]
    assert not any("/var/log/" in s or "history.sqlite" in s or "localtime" in s for s in touched), touched
    assert f"{root}/var/lib/dpkg/status" in touched


def test_logs_are_read_once_for_several_units(tmp_path, capsys):
    root = _removed_root(tmp_path)
    mask(root, "etc/systemd/system/multi2.service", T0 + 5)
    _, doc = why(capsys, root, "x.service", "multi2.service", verbose=True)
    reads = [s["source"] for s in doc[1]["sources"] if s["status"] == "read"]
    assert reads.count(f"{root}/var/log/dpkg.log") == 1


def test_verbose_text_lists_skipped_sources(tmp_path, capsys):
    from unitdoctor import cli

    root = unit_root(tmp_path, "x.service")
    mask(root, "etc/systemd/system/x.service", T0)
    capsys.readouterr()
    cli.main(["--root", str(root), "why", "x.service", "--verbose"])
    out = capsys.readouterr().out
    assert "Sources:" in out
    assert f"missing: {root}/var/log/apt/history.log  (not present)" in out
    capsys.readouterr()
    cli.main(["--root", str(root), "why", "x.service"])
    assert "Sources:" not in capsys.readouterr().out


def test_live_reads_proc_cmdline():
    found = cmdline.boot_cmdlines(Root("/"), live=True)
    assert [c.path for c in found.cmdlines] == ["/proc/cmdline"]


def test_schema_lists_every_origin():
    import json
    import pathlib

    from unitdoctor.checks.provenance import ORIGINS

    schema = json.loads((pathlib.Path(__file__).parent.parent / "schema/why.schema.json").read_text())
    assert tuple(schema["$defs"]["finding"]["properties"]["origin"]["enum"]) == ORIGINS


def test_provenance_output_validates(tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    import json
    import pathlib

    schema = json.loads((pathlib.Path(__file__).parent.parent / "schema/why.schema.json").read_text())
    root = _removed_root(tmp_path)
    mask(root, "etc/systemd/system/old.service", 0)
    mask(root, "etc/systemd/system/new.service", T0 + 10)
    _, doc = why(capsys, root, "x.service", "old.service", "new.service", "multi.service", verbose=True)
    jsonschema.Draft202012Validator(schema).validate(doc)
    # new.service: masked 8 s after the removal of xd, which does not ship it: an admin's, not the transaction's
    assert [finding(doc, "masked", i)["origin"] for i in range(3)] == ["package-removed", "unknown", "admin"]
