"""Socket addresses of ``Listen*=`` lines: which ones systemd 252 accepts, and their file-system path.

Implements ``socket_address_parse`` and ``socket_address_parse_netlink`` (socket-netlink.c, v252;
systemd.socket(5) ListenStream=): an ``AF_UNIX`` path (``/…``) or abstract name (``@…``), 2 to 107
bytes; ``vsock:[CID]:PORT``; a port alone (1–65535: IPv6 any
address); ``IPv4:PORT`` or ``[IPv6]:PORT`` (an address without a port is refused), optionally ``%IFNAME``
after the port: an interface of the running system, which a root does not tell; it is taken as present.
ListenNetlink= takes a family name (or number) and an optional group number.
"""

from __future__ import annotations

from typing import Optional

#: netlink_family_table (socket-util.c, v252).
NETLINK_FAMILIES = frozenset((
    "route", "firewall", "inet-diag", "nflog", "xfrm", "selinux", "iscsi", "audit", "fib-lookup", "connector",
    "netfilter", "ip6-fw", "dnrtmsg", "kobject-uevent", "generic", "scsitransport", "ecryptfs", "rdma", "crypto",
    "smc"))
_SUN_PATH = 108
_WHITESPACE = " \t\n\r"


class Address:
    """An accepted address: ``family`` (``unix``, ``inet``, ``inet6``, ``vsock``) and the file-system path of
    an ``AF_UNIX`` socket (None otherwise)."""

    __slots__ = ("family", "path")

    def __init__(self, family: str, path: Optional[str] = None) -> None:
        self.family, self.path = family, path


def _safe_atou(text: str, limit: int) -> Optional[int]:
    """``safe_atou``-style: optional leading whitespace and ``+``, decimal digits only, at most ``limit``."""
    s = text.lstrip(_WHITESPACE)
    if s.startswith("+"):
        s = s[1:]
    if not s or not s.isascii() or not s.isdigit():
        return None
    v = int(s.lstrip("0")[:30] or "0")  # saturating: int() refuses huge digit strings
    return v if v <= limit else None


def _port(text: str) -> Optional[int]:
    """``parse_ip_port``: 1–65535."""
    v = _safe_atou(text, 65535)
    return v if v else None


def _ip(text: str, family: str) -> bool:
    import ipaddress

    try:
        if family == "inet":
            ipaddress.IPv4Address(text)
        else:
            ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def parse(text: str) -> Optional[Address]:
    """The address ``socket_address_parse`` makes of ``text``, or None if it refuses it."""
    if text.startswith(("/", "@")):
        n = len(text.encode("utf-8", "surrogateescape"))
        # 252 refuses a name that fills sun_path, abstract ones too (checked with systemd-analyze verify).
        if n < 2 or n > _SUN_PATH - 1:
            return None
        return Address("unix", text if text[0] == "/" else None)
    if text.startswith("vsock:"):
        cid, sep, port = text[len("vsock:"):].partition(":")
        if not sep or _safe_atou(port, 65535) is None or (cid and _safe_atou(cid, 2**32 - 1) is None):
            return None
        return Address("vsock")
    if _safe_atou(text, 2**64 - 1) is not None:
        # A port alone; a number too large for a port is refused, not read as an address.
        return Address("inet6") if _port(text) else None
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        family = "inet6"
    else:
        host, sep, port = text.rpartition(":")
        family = "inet"
    # An interface follows the port (":5%eth0"), never the address ("%" there is refused).
    port, pct, ifname = port.partition("%")
    if not sep or _port(port) is None or (pct and not ifname) or "%" in host:
        return None
    return Address(family) if _ip(host, family) else None


def parse_netlink(text: str) -> bool:
    """Whether ``socket_address_parse_netlink`` accepts ``text``: a family, then optionally a group number."""
    word, _, group = text.strip(_WHITESPACE).partition(" ")
    if word not in NETLINK_FAMILIES and _safe_atou(word, 2**31 - 1) is None:
        return False
    return not group.strip(_WHITESPACE) or _safe_atou(group.strip(_WHITESPACE), 2**32 - 1) is not None
