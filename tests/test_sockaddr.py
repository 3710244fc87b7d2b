"""sockaddr.parse / parse_netlink: the Listen*= values systemd 252 accepts (each answer was checked with
``systemd-analyze verify --root`` on a socket holding the value: "Failed to parse address value …, ignoring"
or not; tests/differential/test_loadability_vs_verify.py asks systemd again)."""

from __future__ import annotations

import pytest

from unitdoctor import sockaddr

ACCEPTED = [("/run/a.sock", "unix", "/run/a.sock"), ("@abstract", "unix", None), ("@a", "unix", None),
            ("/run/" + "a" * 102, "unix", "/run/" + "a" * 102), ("@" + "a" * 106, "unix", None),
            ("99", "inet6", None), ("+5", "inet6", None), ("127.0.0.1:99", "inet", None), ("[::]:80", "inet6", None),
            ("[::1]:5", "inet6", None), ("vsock:2:1234", "vsock", None), ("vsock::5", "vsock", None),
            ("//run//x", "unix", "//run//x"), ("1.2.3.4:5%lo", "inet", None), ("/run/a/../b", "unix", "/run/a/../b")]
REFUSED = ["", "/", "@", "/run/" + "a" * 103, "@" + "a" * 107, "0", "65536", "99999999999999999999", "garbage",
           "eth0", "relative.sock", "1.2.3.4", "01.2.3.4:5", "::1:5", "1.2.3.4:0", "1.2.3.4:5#x", "vsock:x:5",
           "vsock:2", "[::1]", "[::1]:", "1.2.3.4%lo:5",
           "[::1%lo]:5", "[fe80::1%1]:5", "1.2.3.4:5%", "1" * 5000, "vsock:" + "1" * 5000 + ":1"]


@pytest.mark.parametrize("text, family, path", ACCEPTED)
def test_accepted(text, family, path):
    a = sockaddr.parse(text)
    assert a is not None and (a.family, a.path) == (family, path)


@pytest.mark.parametrize("text", REFUSED)
def test_refused(text):
    assert sockaddr.parse(text) is None


@pytest.mark.parametrize("text, ok", [("route", True), ("route 1", True), ("audit 5", True), ("1", True),
                                      ("route x", False), ("route 5 6", False), ("bogus", False), ("", False)])
def test_netlink(text, ok):
    assert sockaddr.parse_netlink(text) is ok
