"""extract.words is systemd's extract_first_word (extract-word.c, v252) for the three flag sets the engine
uses; the cases follow test-extract-word.c's for those flags. Its callers (install, cmdline, plan) share it."""

from __future__ import annotations

import pytest

from unitdoctor import cmdline, extract, install

STRV = {"unquote": True, "retain_escape": True}  # config_parse_strv
CMDLINE = {"unquote": True, "relax": True, "retain_escape": True}  # proc_cmdline_extract_first


@pytest.mark.parametrize("value,flags,expected", [
    ("foobar waldo", {}, (["foobar", "waldo"], None)),
    ("  foo\\ bar  ", {}, (["foo bar"], None)),  # no flags: backslash escapes
    ('"foo bar"', {}, (['"foo', 'bar"'], None)),  # no flags: quotes are ordinary
    ("foo\\", {}, ([], "EINVAL")),  # trailing backslash
    ("a b\\", {}, (["a"], "EINVAL")),
    ('"foo bar" waldo', STRV, (["foo bar", "waldo"], None)),
    ("a'b c'd", STRV, (["ab cd"], None)),  # a quote in the middle of a word
    ('""', STRV, ([""], None)),  # one empty word
    ("'' x", STRV, (["", "x"], None)),
    ("a\\b", STRV, (["a\\b"], None)),  # retain_escape: backslash is ordinary
    ('"open', STRV, ([], "EINVAL")),
    ("x 'open", STRV, (["x"], "EINVAL")),
    ('"open', CMDLINE, (["open"], None)),  # relax: an open quote runs to the end
    ("a\tb\nc\rd", STRV, (["a", "b", "c", "d"], None)),
    ("a\fb", STRV, (["a\fb"], None)),  # \f is not in systemd's WHITESPACE
    ('"a \\" b"', {"unquote": True}, (['a " b'], None)),  # escape inside quotes without retain_escape
    ("trail\\", {"relax": True}, (["trail"], None)),
])
def test_words(value, flags, expected):
    assert extract.words(value, **flags) == expected


def test_callers_share_it():
    assert install.split_words("a 'b c'") == extract.words("a 'b c'", **STRV)
    assert install.split_words("a\\ b", unquote=False, retain_escape=False) == (["a b"], None)
    assert cmdline.split_words("systemd.mask='a b' x\"y") == ["systemd.mask=a b", "xy"]


def test_plan_reads_the_kernel_command_line_through_cmdline(tmp_path):
    """A quoted mask in GRUB_CMDLINE_LINUX, a mask in a boot loader entry and one with a bare name are found;
    a word that only contains the text (or names another unit) is not."""
    from unitdoctor.catalog import open_catalog
    from unitdoctor.lookup import Scope
    from unitdoctor.plan import kernel_cmdline_sources

    (tmp_path / "etc/default").mkdir(parents=True)
    (tmp_path / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="quiet systemd.mask=x.service"\n')
    (tmp_path / "etc/kernel").mkdir(parents=True)
    (tmp_path / "etc/kernel/cmdline").write_text("root=/dev/sda1 xsystemd.mask=x.service systemd.mask=y\n")
    (tmp_path / "boot/loader/entries").mkdir(parents=True)
    (tmp_path / "boot/loader/entries/a.conf").write_text("title A\noptions ro 'systemd.mask=x'\n")
    cat = open_catalog(str(tmp_path), Scope.SYSTEM, {})
    got = kernel_cmdline_sources(cat, "x.service")
    assert sorted(p.split(str(tmp_path))[-1] for p in got) == ["/boot/loader/entries/a.conf", "/etc/default/grub"]
    assert [p.split(str(tmp_path))[-1] for p in kernel_cmdline_sources(cat, "y.service")] == ["/etc/kernel/cmdline"]
