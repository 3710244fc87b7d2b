"""``bus``: where each scope's manager is looked for (systemctl's order), and D-Bus address parsing. No sockets."""

from __future__ import annotations

import pytest

from unitdoctor.bus import SYSTEM_PRIVATE, Endpoint, endpoints, parse_address


@pytest.mark.parametrize(("address", "expected"), [
    ("unix:path=/run/dbus/system_bus_socket", ["/run/dbus/system_bus_socket"]),
    ("unix:path=/run/user/1000/bus,guid=0123abcd", ["/run/user/1000/bus"]),
    ("unix:abstract=/tmp/dbus-XYZ,guid=1", ["\0/tmp/dbus-XYZ"]),
    ("tcp:host=localhost,port=1;unix:path=/a%20b", ["/a b"]),
    ("unix:path=/x;unix:path=/y", ["/x", "/y"]),
    ("tcp:host=localhost,port=1", []),
    ("", []),
])
def test_parse_address(address: str, expected: list[str]) -> None:
    assert parse_address(address) == expected


def test_system_as_root_tries_the_private_socket_then_the_system_bus() -> None:
    assert endpoints("system", {}, 0) == [Endpoint(SYSTEM_PRIVATE, True),
                                          Endpoint("/run/dbus/system_bus_socket", False)]


def test_system_as_a_user_goes_through_the_bus_and_honours_the_environment() -> None:
    assert endpoints("system", {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/custom"}, 1000) == [Endpoint("/custom", False)]


def test_user_tries_the_private_socket_then_the_session_bus() -> None:
    env = {"XDG_RUNTIME_DIR": "/run/user/1000"}
    assert endpoints("user", env, 1000) == [Endpoint("/run/user/1000/systemd/private", True),
                                            Endpoint("/run/user/1000/bus", False)]
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/elsewhere"
    assert endpoints("user", env, 1000)[1:] == [Endpoint("/elsewhere", False)]


def test_user_without_runtime_dir_has_only_the_session_bus_if_any() -> None:
    assert endpoints("user", {}, 1000) == []
    assert endpoints("user", {"XDG_RUNTIME_DIR": "relative"}, 1000) == []
    assert endpoints("user", {"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=x"}, 1000) == [Endpoint("\0x", False)]


def test_endpoint_label_shows_abstract_sockets_with_an_at_sign() -> None:
    assert Endpoint("\0x", False).label == "@x"
    assert Endpoint("/p", True).label == "/p"


def test_global_scope_has_no_manager() -> None:
    with pytest.raises(ValueError, match="global"):
        endpoints("global", {}, 0)
