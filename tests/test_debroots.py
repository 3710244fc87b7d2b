"""The real-Debian-root helper (tests/debroots.py): a cached root is complete, a private copy is writable and
leaves the cache untouched."""

from __future__ import annotations

import pathlib

from tests import debroots


def test_private_copy_is_writable_and_leaves_the_cached_root_alone(tmp_path: pathlib.Path) -> None:
    cached = debroots.root()
    assert (cached / "lib/systemd/system/ssh.service").is_file()
    with debroots.private_copy(tmp_path / "root") as copy:
        debroots.chroot(copy, "dpkg", "--remove", "cron")
        assert not (copy / "usr/sbin/cron").exists()
        assert (copy / "etc/init.d/cron").is_file()  # a conffile: left by remove
    assert (cached / "usr/sbin/cron").is_file()
    assert not (tmp_path / "root").exists()


def test_cache_key_is_the_sorted_package_list() -> None:
    assert debroots.cache_dir(["b", "a", "a"]) == debroots.cache_dir(["a", "b"])
    assert debroots.cache_dir(["a"]) != debroots.cache_dir(["a", "b"])
    assert debroots.cache_dir(["a"], suite="trixie").name.startswith("trixie-")
