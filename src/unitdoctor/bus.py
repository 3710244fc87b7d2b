"""The live service manager over D-Bus, through jeepney (imported here only, and only when connecting).

Where systemctl connects, and so do we (bus-util.c ``bus_connect_system_systemd`` and
``bus_connect_user_systemd``, v252):

- system scope as root: ``/run/systemd/private`` (peer-to-peer), else the system bus
  (``$DBUS_SYSTEM_BUS_ADDRESS`` or ``/run/dbus/system_bus_socket``);
- system scope as another user: the system bus, where polkit decides what we may do;
- user scope: ``$XDG_RUNTIME_DIR/systemd/private``, else the session bus (``$DBUS_SESSION_BUS_ADDRESS`` or
  ``$XDG_RUNTIME_DIR/bus``);
- an explicit socket path (tests reach a namespaced manager as ``/proc/PID/root/run/user/0/systemd/private``):
  peer-to-peer.

On a private socket there is no bus daemon: we authenticate (``AUTH EXTERNAL``, ``BEGIN``) and call the manager
directly, without ``Hello()``, and check that the peer is root or ourselves (``bus_check_peercred``).

**The first-call quirk of 252** (observed on 252.38 against ``systemd --user``; tests/live/test_bus_live.py): the
first message that reaches the manager together with, or right after, ``BEGIN`` is held back until more bytes
arrive on the connection; without them it is never answered (5 s measured). That is any method, ``Peer.Ping``
included: written in one ``send`` with ``BEGIN`` it was held 20 times in 20; written as a second ``send``
right after ``BEGIN``, 16 to 19 times in 20; after a 1 ms pause, never. A second message releases the first, and is
itself answered: ``BEGIN`` + Ping + call in one write got both replies 20 times in 20. So:

- on a peer-to-peer connection we send a ``Peer.Ping`` right after ``BEGIN`` without waiting for it (``prime``):
  the first real call releases it and is answered normally (first ``unit()`` on 100 fresh connections:
  median 1.2 ms, never a fallback; without priming: median 102 ms, 86 needed the fallback);
- and as a fallback, if the first call has no reply after ``ping_after`` (100 ms), we send another Ping, whose
  bytes release it. Replies to our Pings are dropped.

Every call has a timeout (``timeout``, 5 s by default); ``Reload`` and waiting for a job use ``long_timeout``
(120 s: a start job may take the default ``TimeoutStartSec=90s``). Results are plain dataclasses; no
jeepney object leaves this module.

Errors::

    ManagerError                 anything that kept us from an answer (defined in live.py, caught by fix.py)
    ├── ManagerUnavailable       no manager to talk to: no socket, connection refused, not booted with
    │                            systemd, a chroot, no org.freedesktop.systemd1 on the bus
    ├── PermissionDenied         the socket or the manager (polkit) refused us; .command says what to run as root
    ├── BusTimeout               no answer within the timeout (also a TimeoutError)
    └── BusError                 the manager answered with a D-Bus error: .name, .message
                                 (e.g. org.freedesktop.systemd1.UnitMasked "Unit m.service is masked.")
"""

from __future__ import annotations

import errno
import os
import re
import select
import socket
import struct
import time
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence, TypeVar

from .live import LiveLoadError, LiveUnit, ManagerError
from .manager import LoadState

if TYPE_CHECKING:
    from jeepney import Message

_T = TypeVar("_T")

DEFAULT_TIMEOUT = 5.0
LONG_TIMEOUT = 120.0
PING_AFTER = 0.1

SYSTEMD = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
UNIT_IFACE = "org.freedesktop.systemd1.Unit"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
PEER_IFACE = "org.freedesktop.DBus.Peer"
DBUS = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"
POLKIT = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
POLKIT_IFACE = "org.freedesktop.PolicyKit1.Authority"
#: The polkit actions the manager checks (org.freedesktop.systemd1.policy): unit files, and jobs (StartUnit).
MANAGE_UNIT_FILES = "org.freedesktop.systemd1.manage-unit-files"
MANAGE_UNITS = "org.freedesktop.systemd1.manage-units"
RELOAD_DAEMON = "org.freedesktop.systemd1.reload-daemon"

SYSTEM_PRIVATE = "/run/systemd/private"
SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket"
#: Unit types with a ``Result`` property on their own interface (dbus-service.c, dbus-socket.c, …).
RESULT_TYPES = frozenset(("service", "socket", "mount", "swap", "timer", "path", "automount", "scope"))
#: Bus errors that mean "not allowed": a policy denial, or polkit wanting a password we cannot ask for.
_DENIED = frozenset(("org.freedesktop.DBus.Error.AccessDenied",
                     "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
#: Bus errors that mean nobody owns org.freedesktop.systemd1 on this bus.
_NO_SERVICE = frozenset(("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"))
#: connect(2) errors that mean "no manager listens here".
_ABSENT = frozenset((errno.ENOENT, errno.ECONNREFUSED, errno.ENOTDIR, errno.ENOTSOCK))
_MAX_PENDING_JOBS = 4096


# -- errors -------------------------------------------------------------------------------------------------------


class ManagerUnavailable(ManagerError):
    """No manager can be reached: a container or chroot without one, or no socket."""


class PermissionDenied(ManagerError):
    """The socket or the manager refused us. ``command`` is the systemctl equivalent to run as root."""

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command


class BusTimeout(ManagerError, TimeoutError):
    """No reply within the timeout."""


class BusError(ManagerError):
    """A D-Bus error reply: ``name`` (e.g. ``org.freedesktop.systemd1.NoSuchUnit``) and ``message``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{message} ({name})" if message else name)
        self.name = name
        self.message = message


# -- records ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where a manager may listen: a unix socket ``address`` (``\\0`` first for an abstract one).

    ``peer_to_peer`` is true for the manager's private socket (no bus daemon, no ``Hello()``).
    """

    address: str
    peer_to_peer: bool

    @property
    def label(self) -> str:
        return "@" + self.address[1:] if self.address.startswith("\0") else self.address


@dataclass(frozen=True)
class UnitFileChange:
    """One entry of the ``a(sss)`` changes list: ``type`` ("symlink", "unlink", …), ``path``, ``source``.

    For "symlink" ``path`` is the link created and ``source`` its target (install.c ``InstallChange``).
    """

    type: str
    path: str
    source: str


@dataclass(frozen=True)
class EnableResult:
    """The reply to ``EnableUnitFiles``: whether the units carry [Install] information, and the changes."""

    carries_install_info: bool
    changes: tuple[UnitFileChange, ...]


@dataclass(frozen=True)
class JobOutcome:
    """A finished start job: the unit (its id), the job path, ``JobRemoved``'s result and the unit's state after.

    ``result`` is one of systemd's job results: done, canceled, timeout, failed, dependency, skipped, …
    """

    unit: str
    job: str
    result: str
    active_state: str
    sub_state: str


# -- where to connect ---------------------------------------------------------------------------------------------


def parse_address(address: str) -> list[str]:
    """Unix socket addresses in a D-Bus address list (``unix:path=…``, ``unix:abstract=…``), in order.

    Other transports (tcp, …) are skipped: systemd's managers listen on unix sockets only.
    """
    out = []
    for part in address.split(";"):
        transport, _, rest = part.partition(":")
        if transport != "unix":
            continue
        kv = dict(item.split("=", 1) for item in rest.split(",") if "=" in item)
        if "path" in kv:
            out.append(_unescape(kv["path"]))
        elif "abstract" in kv:
            out.append("\0" + _unescape(kv["abstract"]))
    return out


def _unescape(value: str) -> str:
    """A D-Bus address value with its ``%XX`` escapes decoded."""
    raw = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes((int(m.group(1), 16),)), os.fsencode(value))
    return os.fsdecode(raw)


def endpoints(scope: str, environ: Mapping[str, str], euid: int) -> list[Endpoint]:
    """The sockets to try for ``scope`` ("system" or "user"), in systemctl's order (see the module docstring)."""
    if scope == "system":
        bus = [Endpoint(a, False) for a in parse_address(environ.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS)]
        return ([Endpoint(SYSTEM_PRIVATE, True)] if euid == 0 else []) + bus
    if scope == "user":
        runtime = environ.get("XDG_RUNTIME_DIR", "")
        out = [Endpoint(os.path.join(runtime, "systemd/private"), True)] if runtime.startswith("/") else []
        session = environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        if session:
            out += [Endpoint(a, False) for a in parse_address(session)]
        elif runtime.startswith("/"):
            out.append(Endpoint(os.path.join(runtime, "bus"), False))
        return out
    raise ValueError(f"no manager for scope {scope!r}")


def booted_problem(root: str = "/") -> Optional[str]:
    """Why there is no system manager to ask (not booted with systemd, or in a chroot), or None.

    ``sd_booted()`` checks ``/run/systemd/system``; ``running_in_chroot()`` compares ``/proc/1/root`` with ``/``.
    """
    if not os.path.isdir(os.path.join(root, "run/systemd/system")):
        return "the system was not booted with systemd (no /run/systemd/system)"
    try:
        a, b = os.stat("/proc/1/root"), os.stat(root)
    except OSError:
        return None
    if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):
        return "running in a chroot"
    return None


def connect(
    scope: str = "system",
    environ: Optional[Mapping[str, str]] = None,
    *,
    path: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    long_timeout: float = LONG_TIMEOUT,
    ping_after: Optional[float] = PING_AFTER,
    euid: Optional[int] = None,
) -> ManagerBus:
    """A connection to the ``scope`` manager, or to the private socket at ``path``.

    Raises ManagerUnavailable when nothing answers, PermissionDenied when refused, BusTimeout when a socket
    accepts but does not talk. ``ping_after=None`` turns both first-call Pings (priming and fallback) off.
    """
    env = os.environ if environ is None else environ
    uid = os.geteuid() if euid is None else euid
    if path is not None:
        candidates = [Endpoint(path, True)]
    else:
        if scope == "system":
            problem = booted_problem()
            if problem:
                raise ManagerUnavailable(f"no system manager: {problem}")
        candidates = endpoints(scope, env, uid)
        if not candidates:
            raise ManagerUnavailable(f"no {scope} manager: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not defined")
    problems: list[str] = []
    denied: Optional[PermissionDenied] = None
    for ep in candidates:
        try:
            conn = _Connection.open(ep, timeout=timeout, ping_after=ping_after, euid=uid)
        except PermissionDenied as e:
            denied = denied or e
            continue
        except ManagerUnavailable as e:
            problems.append(str(e))
            continue
        return ManagerBus(conn, timeout=timeout, long_timeout=long_timeout, scope=scope)
    if denied is not None:
        raise denied
    raise ManagerUnavailable(f"no {scope} manager reachable: " + "; ".join(problems))


# -- the wire -----------------------------------------------------------------------------------------------------


class _Connection:
    """One authenticated unix-socket D-Bus connection: method calls with deadlines, signals collected."""

    def __init__(self, sock: socket.socket, endpoint: Endpoint, *, timeout: float,
                 ping_after: Optional[float]) -> None:
        from jeepney import Parser

        self.sock = sock
        self.endpoint = endpoint
        self.timeout = timeout
        self.ping_after = ping_after if endpoint.peer_to_peer else None
        self.pings = 0
        """How many fallback Pings a first call needed (the 252 quirk; priming is not counted)."""
        self._parser = Parser()
        self._serials = count(1)
        self._answered = False
        self._ignore: set[int] = set()
        self.jobs_removed: dict[str, tuple[str, str]] = {}
        """JobRemoved signals seen, job path → (unit, result), once subscribed."""
        self.unique_name = ""
        """Our name on a bus (``Hello()``'s answer), the subject polkit is asked about; empty peer-to-peer."""
        self.interactive = False
        """Set ALLOW_INTERACTIVE_AUTHORIZATION on method calls: polkit may ask for a password through an agent."""

    @classmethod
    def open(cls, ep: Endpoint, *, timeout: float, ping_after: Optional[float], euid: int) -> _Connection:
        deadline = time.monotonic() + timeout
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            _connect_unix(sock, ep.address, timeout)
            if ep.peer_to_peer:
                _check_peer(sock, ep, euid)
            _authenticate(sock, ep, deadline)
            conn = cls(sock, ep, timeout=timeout, ping_after=ping_after)
            if ep.peer_to_peer and ping_after is not None:
                conn.prime(deadline)
            if not ep.peer_to_peer:
                (name,) = conn.call(DBUS_PATH, DBUS, "Hello", destination=DBUS,
                                    timeout=max(deadline - time.monotonic(), 0.0))
                conn.unique_name = str(name)
        except BaseException:
            sock.close()
            raise
        return conn

    def close(self) -> None:
        self.sock.close()

    def prime(self, deadline: float) -> None:
        """Send a Ping right after BEGIN without waiting for it: the first message is the one 252 may hold
        back, and the next call's bytes release it (module docstring). Its reply is dropped when it comes."""
        from jeepney import DBusAddress, new_method_call

        ping = new_method_call(DBusAddress("/", bus_name=SYSTEMD, interface=PEER_IFACE), "Ping")
        self._ignore.add(self._send(ping, deadline, "Ping"))

    def _send(self, msg: Message, deadline: float, what: str) -> int:
        serial = next(self._serials)
        data = msg.serialise(serial=serial)
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            self.sock.sendall(data)
        except socket.timeout:
            raise BusTimeout(f"{self.endpoint.label}: could not send {what} within {self.timeout:g} s") from None
        except OSError as e:
            raise ManagerError(f"{self.endpoint.label}: sending {what} failed: {e.strerror}") from None
        return serial

    def _receive(self, deadline: float) -> Optional[Message]:
        """The next message, or None at the deadline."""
        while True:
            msg = self._parser.get_next_message()
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                raise ManagerError(f"{self.endpoint.label}: {e.strerror}") from None
            if not data:
                raise ManagerError(f"{self.endpoint.label}: the manager closed the connection")
            self._parser.add_data(data)

    def _dispatch(self, msg: Message) -> None:
        """Handle a message that is not the reply being waited for: collect JobRemoved, drop the rest."""
        from jeepney import HeaderFields, MessageType

        h = msg.header
        if h.message_type is MessageType.signal:
            if h.fields.get(HeaderFields.member) == "JobRemoved" and \
                    h.fields.get(HeaderFields.interface) == MANAGER_IFACE:
                _id, job, unit, result = msg.body
                if len(self.jobs_removed) >= _MAX_PENDING_JOBS:
                    self.jobs_removed.pop(next(iter(self.jobs_removed)))
                self.jobs_removed[job] = (unit, result)
            return
        serial = h.fields.get(HeaderFields.reply_serial, -1)
        if serial in self._ignore:
            self._ignore.discard(serial)
            self._answered = True

    def call(self, path: str, interface: str, member: str, signature: Optional[str] = None,
             body: tuple[Any, ...] = (), *, destination: str = SYSTEMD,
             timeout: Optional[float] = None) -> tuple[Any, ...]:
        """The body of the reply to ``interface.member`` on ``path``; raises BusError for an error reply."""
        from jeepney import DBusAddress, HeaderFields, MessageFlag, MessageType, new_method_call

        limit = self.timeout if timeout is None else timeout
        start = time.monotonic()
        deadline = start + limit
        msg = new_method_call(DBusAddress(path, bus_name=destination, interface=interface), member, signature, body)
        if self.interactive:
            msg.header.flags |= MessageFlag.allow_interactive_authorization
        serial = self._send(msg, deadline, member)
        ping_at = None
        if self.ping_after is not None and not self._answered:
            ping_at = start + self.ping_after
        while True:
            reply = self._receive(min(deadline, ping_at) if ping_at is not None else deadline)
            if reply is None:
                if ping_at is not None and time.monotonic() < deadline:
                    ping_at = None
                    ping = new_method_call(DBusAddress("/", bus_name=destination, interface=PEER_IFACE), "Ping")
                    self._ignore.add(self._send(ping, deadline, "Ping"))
                    self.pings += 1
                    continue
                raise BusTimeout(f"{self.endpoint.label}: no reply to {member} within {limit:g} s")
            if reply.header.fields.get(HeaderFields.reply_serial) != serial:
                self._dispatch(reply)
                continue
            self._answered = True
            if reply.header.message_type is MessageType.error:
                name = reply.header.fields.get(HeaderFields.error_name, "")
                text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
                raise BusError(name, text)
            return tuple(reply.body)

    def wait_job(self, job: str, deadline: float) -> tuple[str, str]:
        """(unit, result) of ``job`` once its JobRemoved signal arrives."""
        while job not in self.jobs_removed:
            msg = self._receive(deadline)
            if msg is None:
                raise BusTimeout(f"{self.endpoint.label}: job {job} did not finish in time")
            self._dispatch(msg)
        return self.jobs_removed.pop(job)


def _connect_unix(sock: socket.socket, address: str, timeout: float) -> None:
    """connect(2) to ``address``; a path too long for sun_path is reached through ``/proc/self/fd``."""
    sock.settimeout(timeout)
    dirfd = -1
    target = address
    try:
        if not address.startswith("\0") and len(os.fsencode(address)) > 107:
            parent, name = os.path.split(address)
            dirfd = os.open(parent, os.O_PATH | os.O_CLOEXEC)
            target = f"/proc/self/fd/{dirfd}/{name}"
        sock.connect(target)
    except socket.timeout:
        raise BusTimeout(f"{address}: connect did not finish within {timeout:g} s") from None
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            raise PermissionDenied(f"cannot connect to {address}: {e.strerror}; run unitdoctor as root",
                                   "") from None
        if e.errno in _ABSENT:
            raise ManagerUnavailable(f"{address}: {e.strerror}") from None
        raise ManagerError(f"cannot connect to {address}: {e.strerror}") from None
    finally:
        if dirfd >= 0:
            os.close(dirfd)


def _check_peer(sock: socket.socket, ep: Endpoint, euid: int) -> None:
    """Refuse a private socket owned by someone else (bus-util.c ``bus_check_peercred``)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    if uid not in (0, euid):
        raise PermissionDenied(f"{ep.label} belongs to uid {uid}, not to root or to us (uid {euid})")


def _authenticate(sock: socket.socket, ep: Endpoint, deadline: float) -> None:
    """The SASL exchange: NUL, ``AUTH EXTERNAL <uid>``, ``BEGIN`` (D-Bus specification, "Authentication")."""
    from jeepney.auth import BEGIN, AuthenticationError, Authenticator

    auth = Authenticator(enable_fds=False, inc_null_byte=False)
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.sendall(b"\0")
        for request in auth:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(request)
            data = sock.recv(1024)
            if not data:
                raise ManagerUnavailable(f"{ep.label}: connection closed during authentication")
            auth.feed(data)
        sock.sendall(BEGIN)
    except socket.timeout:
        raise BusTimeout(f"{ep.label}: no answer to AUTH EXTERNAL in time") from None
    except AuthenticationError as e:
        raise PermissionDenied(f"{ep.label}: authentication rejected ({e})") from None
    except OSError as e:
        if e.errno in (errno.ECONNRESET, errno.EPIPE):
            raise ManagerUnavailable(f"{ep.label}: connection closed during authentication") from None
        raise ManagerError(f"{ep.label}: authentication failed: {e.strerror}") from None


# -- the manager --------------------------------------------------------------------------------------------------


class ManagerBus:
    """The manager's D-Bus API, one method per call we need. Use as a context manager, or call close()."""

    def __init__(self, conn: _Connection, *, timeout: float, long_timeout: float, scope: str) -> None:
        self._conn = conn
        self.timeout = timeout
        self.long_timeout = long_timeout
        self.scope = scope
        self._subscribed = False

    @property
    def via(self) -> str:
        """The socket this connection uses."""
        return self._conn.endpoint.label

    @property
    def peer_to_peer(self) -> bool:
        return self._conn.endpoint.peer_to_peer

    @property
    def interactive(self) -> bool:
        """Whether calls let polkit ask for a password (ALLOW_INTERACTIVE_AUTHORIZATION; systemctl sets it unless
        ``--no-ask-password``, and only a terminal can answer). Off by default."""
        return self._conn.interactive

    @interactive.setter
    def interactive(self, on: bool) -> None:
        self._conn.interactive = on

    @property
    def pings(self) -> int:
        """How many fallback Pings the first call needed (0 or 1; the priming Ping is not counted)."""
        return self._conn.pings

    def __enter__(self) -> ManagerBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def _systemctl(self, verb: str) -> str:
        return f"systemctl {'--user ' if self.scope == 'user' else ''}{verb}"

    def _call(self, path: str, interface: str, member: str, signature: Optional[str] = None,
              body: tuple[Any, ...] = (), *, timeout: Optional[float] = None, command: str = "") -> tuple[Any, ...]:
        try:
            return self._conn.call(path, interface, member, signature, body, timeout=timeout)
        except BusError as e:
            if e.name in _DENIED:
                raise PermissionDenied(
                    f"the manager refused {member} ({e.name}: {e.message}); run as root"
                    + (f": sudo {command}" if command else ""), command) from None
            if e.name in _NO_SERVICE:
                raise ManagerUnavailable(f"no service manager on {self.via}: {e.message}") from None
            raise

    def _manager(self, member: str, signature: Optional[str] = None, body: tuple[Any, ...] = (), *,
                 timeout: Optional[float] = None, command: str = "") -> tuple[Any, ...]:
        return self._call(MANAGER_PATH, MANAGER_IFACE, member, signature, body, timeout=timeout, command=command)

    def ping(self) -> None:
        """Round trip to the manager (``org.freedesktop.DBus.Peer.Ping``)."""
        self._call(MANAGER_PATH, PEER_IFACE, "Ping")

    def load_unit(self, name: str) -> str:
        """The object path of ``name``, loading it if needed (``LoadUnit``)."""
        return str(self._manager("LoadUnit", "s", (name,))[0])

    def get_unit(self, name: str) -> str:
        """The object path of a loaded unit (``GetUnit``); BusError ``…systemd1.NoSuchUnit`` if not loaded."""
        return str(self._manager("GetUnit", "s", (name,))[0])

    def properties(self, path: str, interface: str = UNIT_IFACE) -> dict[str, Any]:
        """All properties of ``interface`` on ``path``, values unwrapped from their variants."""
        (props,) = self._call(path, PROPERTIES_IFACE, "GetAll", "s", (interface,))
        return {k: v[1] for k, v in props.items()}

    def get_property(self, path: str, interface: str, prop: str) -> Any:
        return self._call(path, PROPERTIES_IFACE, "Get", "ss", (interface, prop))[0][1]

    def unit(self, name: str) -> LiveUnit:
        """What the manager says about ``name``: load state and error, active/sub state, result, reload need, …"""
        path = self.load_unit(name)
        p = self.properties(path)
        uid = str(p["Id"])
        utype = uid.rsplit(".", 1)[-1]
        result = None
        if utype in RESULT_TYPES:
            iface = f"org.freedesktop.systemd1.{utype.capitalize()}"
            result = str(self.get_property(path, iface, "Result"))
        ename, emsg = p["LoadError"]
        return LiveUnit(
            name=name,
            id=uid,
            load_state=LoadState(p["LoadState"]),
            load_error=LiveLoadError(ename, emsg) if ename else None,
            active_state=str(p["ActiveState"]),
            sub_state=str(p["SubState"]),
            result=result,
            need_daemon_reload=bool(p["NeedDaemonReload"]),
            triggered_by=tuple(p["TriggeredBy"]),
            triggers=tuple(p["Triggers"]),
            fragment_path=str(p["FragmentPath"]),
            drop_in_paths=tuple(p["DropInPaths"]),
            unit_file_state=str(p["UnitFileState"]),
            via=self.via,
        )

    def unit_file_state(self, name: str) -> str:
        """``GetUnitFileState``: is-enabled's answer, e.g. "masked-runtime"."""
        return str(self._manager("GetUnitFileState", "s", (name,))[0])

    def reload(self) -> None:
        """``Reload`` (daemon-reload); the manager replies once the reload is done."""
        self._manager("Reload", timeout=self.long_timeout, command=self._systemctl("daemon-reload"))

    def subscribe(self) -> None:
        """Ask for the manager's signals (JobRemoved); on a bus, add the match rule first."""
        if self._subscribed:
            return
        if not self.peer_to_peer:
            rule = (f"type='signal',sender='{SYSTEMD}',path='{MANAGER_PATH}',"
                    f"interface='{MANAGER_IFACE}',member='JobRemoved'")
            self._conn.call(DBUS_PATH, DBUS, "AddMatch", "s", (rule,), destination=DBUS)
        self._manager("Subscribe")
        self._subscribed = True

    def start_unit(self, name: str, mode: str = "replace") -> JobOutcome:
        """``StartUnit``, then wait for the job's JobRemoved; the job result and the unit's state after it.

        A transaction error (masked, not found, a masked ``Requires=``) is a BusError, as systemctl prints it.
        """
        self.subscribe()
        (job,) = self._manager("StartUnit", "ss", (name, mode), command=self._systemctl(f"start {name}"))
        unit, result = self._conn.wait_job(str(job), time.monotonic() + self.long_timeout)
        path = self.load_unit(unit or name)
        active = str(self.get_property(path, UNIT_IFACE, "ActiveState"))
        sub = str(self.get_property(path, UNIT_IFACE, "SubState"))
        return JobOutcome(unit or name, str(job), result, active, sub)

    def enable_unit_files(self, names: Sequence[str], runtime: bool, force: bool = False) -> EnableResult:
        """``EnableUnitFiles``: the symlinks the manager created (it does not reload)."""
        flag = "--runtime " if runtime else ""
        carries, changes = self._manager("EnableUnitFiles", "asbb", (list(names), runtime, force),
                                         command=self._systemctl(f"enable {flag}{' '.join(names)}"))
        return EnableResult(bool(carries), _changes(changes))

    def unmask_unit_files(self, names: Sequence[str], runtime: bool) -> tuple[UnitFileChange, ...]:
        """``UnmaskUnitFiles`` in the persistent or (``runtime``) the runtime layer; the links removed."""
        flag = "--runtime " if runtime else ""
        (changes,) = self._manager("UnmaskUnitFiles", "asb", (list(names), runtime),
                                   command=self._systemctl(f"unmask {flag}{' '.join(names)}"))
        return _changes(changes)


    def disable_unit_files(self, names: Sequence[str], runtime: bool) -> tuple[UnitFileChange, ...]:
        """``DisableUnitFiles``: every link to the units (and their ``Also=`` units) in the layer; the changes."""
        flag = "--runtime " if runtime else ""
        (changes,) = self._manager("DisableUnitFiles", "asb", (list(names), runtime),
                                   command=self._systemctl(f"disable {flag}{' '.join(names)}"))
        return _changes(changes)

    def mask_unit_files(self, names: Sequence[str], runtime: bool, force: bool = False) -> tuple[UnitFileChange, ...]:
        """``MaskUnitFiles``: a link to /dev/null in the persistent or (``runtime``) the runtime layer; the changes.

        Without ``force`` an existing file there that is not that link fails the call (``File P already exists``).
        """
        flag = "--runtime " if runtime else ""
        (changes,) = self._manager("MaskUnitFiles", "asbb", (list(names), runtime, force),
                                   command=self._systemctl(f"mask {flag}{' '.join(names)}"))
        return _changes(changes)

    def authorization(self, action: str) -> str:
        """What polkit says about ``action`` for this connection, asked the way the manager asks it
        (``CheckAuthorization`` on our bus name, no interaction): ``yes``, ``challenge`` (allowed after
        authenticating), ``no``, or ``unknown`` (peer-to-peer, or no polkit on the bus)."""
        name = self._conn.unique_name
        if not name:
            return "unknown"
        subject = ("system-bus-name", {"name": ("s", name)})
        try:
            ((authorized, challenge, _details),) = self._conn.call(
                POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization", "(sa{sv})sa{ss}us", (subject, action, {}, 0, ""),
                destination=POLKIT)
        except BusError as e:
            if e.name in _NO_SERVICE or e.name == "org.freedesktop.DBus.Error.UnknownMethod":
                return "unknown"
            raise
        return "yes" if authorized else "challenge" if challenge else "no"


def _changes(raw: Sequence[tuple[str, str, str]]) -> tuple[UnitFileChange, ...]:
    return tuple(UnitFileChange(str(t), str(p), str(s)) for t, p, s in raw)


class LiveOps:
    """``fix.ManagerOps`` on a running manager: each step is the manager's own D-Bus method.

    ``denied`` keeps the first refusal (a policy or polkit denial), so the caller can say what to run as root.
    """

    def __init__(self, bus: ManagerBus) -> None:
        self.bus = bus
        self.denied: Optional[PermissionDenied] = None

    def _noted(self, call: Callable[..., _T], *args: object) -> _T:
        try:
            return call(*args)
        except PermissionDenied as e:
            self.denied = self.denied or e
            raise

    def daemon_reload(self) -> None:
        self._noted(self.bus.reload)

    def start(self, unit: str) -> str:
        """The unit's ActiveState after its start job finished; BusError if the transaction fails."""
        return str(self._noted(self.bus.start_unit, unit).active_state)

    def enable(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        """(symlink path, target) for every link created."""
        res = self._noted(self.bus.enable_unit_files, units, runtime)
        return [(c.path, c.source) for c in res.changes if c.type == "symlink"]

    def unmask(self, units: list[str], runtime: bool) -> list[str]:
        """The mask paths removed."""
        return [c.path for c in self._noted(self.bus.unmask_unit_files, units, runtime) if c.type == "unlink"]

    def mask(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        """(symlink path, target) for every mask created."""
        return [(c.path, c.source) for c in self._noted(self.bus.mask_unit_files, units, runtime)
                if c.type == "symlink"]

    def disable(self, units: list[str], runtime: bool) -> list[str]:
        """The links removed."""
        return [c.path for c in self._noted(self.bus.disable_unit_files, units, runtime) if c.type == "unlink"]


def fetch_units(scope: str, environ: Mapping[str, str], names: Sequence[str], *,
                timeout: float = DEFAULT_TIMEOUT) -> dict[str, LiveUnit]:
    """``unit(name)`` for each name from the ``scope`` manager, for ``why``; ManagerError if it cannot be asked.

    Without jeepney this is ManagerUnavailable too: live facts are an extra, the file analysis stands alone.
    """
    try:
        import jeepney  # noqa: F401
    except ImportError:
        raise ManagerUnavailable("live facts need jeepney (pip install 'unitdoctor[live]')") from None
    with connect(scope, environ, timeout=timeout) as b:
        return {n: b.unit(n) for n in names}


def fetch_problem_units(scope: str, environ: Mapping[str, str], *, timeout: float = DEFAULT_TIMEOUT,
                        ) -> list[LiveUnit]:
    """For ``scan``: every loaded unit the manager holds that is failed or whose files changed since it loaded
    them (``ListUnits``, then ``NeedDaemonReload`` per unit with a unit file); ManagerError if it cannot be asked."""
    try:
        import jeepney  # noqa: F401
    except ImportError:
        raise ManagerUnavailable("live facts need jeepney (pip install 'unitdoctor[live]')") from None
    with connect(scope, environ, timeout=timeout) as b:
        (listed,) = b._manager("ListUnits")
        out = []
        for row in listed:
            name, load, active, path = str(row[0]), str(row[2]), str(row[3]), str(row[6])
            if load != "loaded":
                continue
            if active == "failed" or bool(b.get_property(path, UNIT_IFACE, "NeedDaemonReload")):
                out.append(b.unit(name))
        return out
