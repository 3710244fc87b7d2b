"""What makes a loaded unit ``bad-setting`` or ``error``: systemd 252's load-fragment.c ``config_parse_*`` replays.

The manager (``manager.py``) parses a unit's files and hands their assignments here: which settings fail the
fragment (``parse_failure``: ``Exec*=``, ``WorkingDirectory=``, the exec context's users, groups and paths),
which values 252 ignores with a warning (``ignored_settings``), the values a timer, socket or path unit keeps
(``timer_values``, ``socket_values``, ``path_specs``), ``Type=`` as 252 settles it (``settled_type``), and the
``*_verify`` checks that refuse a unit (``verify``). Each rule keeps systemd's own log text and the file:line.
Checked against ``systemd-analyze verify`` by tests/differential/test_loadability_*.py.
"""

from __future__ import annotations

import errno as _errno
import stat
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from . import execute, extract, specifiers, unitfile
from .origin import Origin
from .records import dataclass
from .rootfs import Root
from .unitfile import parse_boolean

if TYPE_CHECKING:  # calendar: imported by the functions that read a timer
    from . import calendar


# -- verification: settings that make a unit bad-setting ------------------------------------------

_EXEC_KEYS = ("ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop",
              "ExecStopPost")


_Expand = Optional[Callable[[str], "specifiers.Expanded"]]


def _expanded(expand: _Expand, text: str) -> tuple[Optional[str], str]:
    """(text after ``unit_full_printf``, "") or (None, strerror) if it fails; the text as it is without
    ``expand``, or where a specifier's value is not known offline (None, "")."""
    if expand is None:
        return (text if "%" not in text else None), ""
    try:
        e = expand(text)
    except specifiers.SpecifierError as err:
        return None, specifiers.strerror(err.errno)
    return (e.text if e.known else None), ""


def _exec_problem(a: unitfile.Assignment, expand: _Expand = None) -> Optional[tuple[unitfile.Diagnostic, bool]]:
    """What ``config_parse_exec`` (load-fragment.c) says about one non-empty Exec*= line, and whether
    the line is ignorable (the ``-`` prefix, or a first word that cannot be split); None if the
    command is accepted. Not ignorable means the parser returns ENOEXEC.

    The checks in 252's order: the first word (unquoted; a quote left open there drops the line,
    not fatal), its prefixes, specifiers, an empty path, ``string_is_safe`` (no control character,
    quote or backslash), a trailing ``/``, ``path_is_valid`` (components up to NAME_MAX) or
    ``filename_is_valid``, then the arguments (a quote left open there is fatal unless ``-``).
    """
    words, err = extract.words(a.value, unquote=True)
    if not words:
        return unitfile.Diagnostic("warning", f'Unbalanced quoting, ignoring: "{a.value}"', a.origin), True
    f = words[0]
    ignore = argv0 = False
    while f and f[0] in "-@:+!":
        if f[0] == "-":
            ignore = True
        elif f[0] == "@":
            argv0 = True
        f = f[1:]
    level, suffix = ("warning", ", ignoring") if ignore else ("error", "")

    def problem(text: str) -> tuple[unitfile.Diagnostic, bool]:
        return unitfile.Diagnostic(level, text, a.origin), ignore

    if specifiers.unknown_specifiers(a.value):
        return problem(f"Failed to resolve unit specifiers in '{f}'{suffix}: Invalid slot")
    path, why = _expanded(expand, f)
    if why:
        return problem(f"Failed to resolve unit specifiers in '{f}'{suffix}: {why}")
    if path is None:
        return None  # what the checks below would see is not known offline
    f = path
    if not f:
        return problem(f"Empty path in command line{suffix}: '{a.value}'")
    if any(ord(c) < 32 or c in "\"'\\\x7f" for c in f):
        return problem(f"Executable name contains special characters{suffix}: {f}")
    if f.endswith("/"):
        return problem(f"Executable path specifies a directory{suffix}: {f}")
    if not (_path_is_valid(f) if f.startswith("/") else _filename_is_valid(f)):
        return problem(f"Neither a valid executable name nor an absolute path{suffix}: {f}")
    if err:
        return problem(f'Unbalanced quoting, ignoring: "{a.value}"')
    if argv0 and len(words) < 2:
        # "@" takes the next word as argv[0]: there must be one.
        return problem(f"Empty executable name or zeroeth argument{suffix}: {a.value}")
    return None


def _filename_is_valid(name: str) -> bool:
    """``filename_is_valid`` (path-util.c): one non-empty component, not ``.``/``..``, up to NAME_MAX bytes."""
    return name not in ("", ".", "..") and "/" not in name and len(name.encode()) <= 255


def _path_is_valid(path: str) -> bool:
    """``path_is_valid`` (path-util.c): shorter than PATH_MAX, every component up to NAME_MAX bytes."""
    return 0 < len(path.encode()) < 4096 and all(len(c.encode()) <= 255 for c in path.split("/"))


def _is_exec(a: unitfile.Assignment) -> bool:
    return a.section == "Service" and a.key in _EXEC_KEYS


def _split_commands(value: str) -> list[str]:
    """The commands of one Exec*= value: ``config_parse_exec`` ends a command at an unquoted ``;`` word
    (``;`` followed by whitespace or the end; ``\\;`` and a quoted ``";"`` are arguments)."""
    out, start, i, n = [], 0, 0, len(value)
    word_start, quote = True, ""
    while i < n:
        c = value[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
            i += 1
            continue
        if c in " \t\n\r":
            word_start = True
            i += 1
            continue
        if word_start and c == ";" and (i + 1 == n or value[i + 1] in " \t\n\r"):
            out.append(value[start:i])
            start = i = i + 1
            continue
        word_start = False
        if c == "\\":
            i += 1
        elif c in "'\"":
            quote = c
        i += 1
    out.append(value[start:])
    return out


def _commands(a: unitfile.Assignment, expand: _Expand = None,
              ) -> tuple[list[unitfile.Assignment], Optional[tuple[unitfile.Diagnostic, bool]]]:
    """The commands ``config_parse_exec`` keeps from one non-empty Exec*= line, and the problem that
    stopped it, if one did (see ``_exec_problem``): a bad command ends the line, and the commands before
    it on that line are kept; an empty command after a ``;`` ends it quietly."""
    kept: list[unitfile.Assignment] = []
    for text in _split_commands(a.value):
        if not text.strip():
            break
        cmd = unitfile.Assignment(a.section, a.key, text.strip(" \t\n\r"), a.origin) if kept or text != a.value \
            else a
        problem = _exec_problem(cmd, expand)
        if problem is not None:
            return kept, problem
        kept.append(cmd)
    return kept, None


#: Settings whose parser fails the file (ENOEXEC) on a bad value, besides Exec*=: config_parse_working_directory.
_WORKING_DIRECTORY_SECTIONS = ("Service", "Socket", "Mount", "Swap")


def _working_directory_problem(a: unitfile.Assignment, expand: _Expand = None,
                               ) -> Optional[tuple[unitfile.Diagnostic, bool]]:
    """``config_parse_working_directory`` (load-fragment.c, v252) on a non-empty value: ``~`` or a path
    after ``unit_path_printf`` and ``path_simplify_and_warn(PATH_CHECK_ABSOLUTE)``, fatal unless the
    value starts with ``-``. A value starting with a specifier is taken as absolute (they expand to one)."""
    value, missing_ok = (a.value[1:], True) if a.value.startswith("-") else (a.value, False)
    level, suffix = ("warning", ", ignoring") if missing_ok else ("error", "")
    if value == "~":
        return None
    if specifiers.unknown_specifiers(value):
        return unitfile.Diagnostic(level, f"Failed to resolve unit specifiers in working directory path '{value}'"
                                          f"{suffix}: Invalid slot", a.origin), missing_ok
    path, err = _expanded(expand, value)
    if err:
        return unitfile.Diagnostic(level, f"Failed to resolve unit specifiers in working directory path '{value}'"
                                          f"{suffix}: {err}", a.origin), missing_ok
    why = path_problem(path) if path is not None else None
    if why is None:
        return None
    return unitfile.Diagnostic(level, f"{a.key}= {why.format(suffix=suffix)}", a.origin), missing_ok


#: The sections with an exec context (User=, RootDirectory=, DynamicUser=…), and their Exec*= keys.
_EXEC_CONTEXT_SECTIONS = ("Service", "Socket", "Mount", "Swap")
_SOCKET_EXEC_KEYS = ("ExecStartPre", "ExecStartPost", "ExecStopPre", "ExecStopPost")


def user_group_name_is_valid(name: str) -> bool:
    """``valid_user_group_name(VALID_USER_RELAX|VALID_USER_ALLOW_NUMERIC)`` (user-util.c, v252): a UID or GID
    (0–4294967294 but 65535), or a name without control characters, ``:`` or ``/``, that is not ``.``, ``..``,
    all digits or ``-`` followed by digits only (checked with systemd-analyze verify)."""
    if name.isascii() and name.isdigit():
        uid = int(name.lstrip("0")[:11] or "0")  # saturating: int() refuses huge digit strings
        return uid < 4294967295 and uid != 65535
    if not name or name in (".", "..") or any(ord(c) < 32 or c == "\x7f" for c in name) or ":" in name \
            or "/" in name:
        return False
    return not (name[0] == "-" and (name[1:] == "" or (name[1:].isascii() and name[1:].isdigit())))


def _fatal_setting_problem(a: unitfile.Assignment, expand: _Expand = None,
                           ) -> Optional[tuple[unitfile.Diagnostic, bool, str]]:
    """What the 252 parser of an exec-context setting says about ``a`` when it fails the file: the message,
    whether it is only ignored after all, and the errno (load-fragment.c: ENOEXEC, or EINVAL for PIDFile=).

    DynamicUser= must be a boolean; User=/Group= (and SocketUser=/SocketGroup=) and each word of
    SupplementaryGroups= a user or group name (``user_group_name_is_valid``); RootDirectory=/RootImage=/
    RootVerity= absolute normalized paths; SELinuxContext=/AppArmorProfile=/SmackProcessLabel= must expand
    unless ``-``; PIDFile= (under ``/run`` if relative) normalized, else the load fails with EINVAL. A value
    holding a specifier is only checked for unknown specifiers (the rest depends on the expansion).
    """
    key, value = a.key, a.value

    def fatal(text: str, errno: str = "ENOEXEC", ignore: bool = False) -> tuple[unitfile.Diagnostic, bool, str]:
        return unitfile.Diagnostic("warning" if ignore else "error", text, a.origin), ignore, errno

    bad_specifier = bool(specifiers.unknown_specifiers(value))
    if key == "DynamicUser":
        return None if parse_boolean(value) is not None else fatal(f"Failed to parse boolean value: {value}")
    if key in ("User", "Group", "SocketUser", "SocketGroup", "SupplementaryGroups"):
        if key.startswith("Socket") and a.section != "Socket":
            return None
        words = extract.words(value, unquote=True)[0] if key == "SupplementaryGroups" else [value]
        for w in words:
            if specifiers.unknown_specifiers(w):
                return fatal(f"Failed to resolve unit specifiers in {w}: Invalid slot")
            name, err = _expanded(expand, w)
            if err:
                return fatal(f"Failed to resolve unit specifiers in {w}: {err}")
            if name is not None and not user_group_name_is_valid(name):
                return fatal(f"Invalid user/group name or numeric ID: {name}")
        return None
    if key in ("RootDirectory", "RootImage", "RootVerity"):
        if bad_specifier:
            return fatal(f"Failed to resolve unit specifiers in '{value}': Invalid slot")
        path, err = _expanded(expand, value)
        if err:
            return fatal(f"Failed to resolve unit specifiers in '{value}': {err}")
        # config_parse_path: empty once expanded unsets it, like an empty value.
        why = path_problem(path) if path else None
        return fatal(f"{key}= {why.format(suffix='')}") if why is not None else None
    if key in ("SELinuxContext", "AppArmorProfile", "SmackProcessLabel"):
        ignore = value.startswith("-")
        body = value[1:] if ignore else value
        if specifiers.unknown_specifiers(body):
            return fatal(f"Failed to resolve unit specifiers in '{body}'{', ignoring' if ignore else ''}: Invalid slot",
                         ignore=ignore)
        return None
    path = _expanded(expand, value)[0] if key == "PIDFile" and not bad_specifier else None
    if key == "PIDFile" and a.section == "Service" and path is not None:
        why = path_problem(path if path.startswith("/") else "/run/" + path)
        if why is not None:
            # config_parse_pid_file logs ", ignoring" yet returns the error: the load fails with EINVAL.
            return fatal(f"PIDFile= {why.format(suffix=', ignoring')}", "EINVAL", ignore=False)
    return None


def path_problem(path: str) -> Optional[str]:
    """Why ``path_simplify_and_warn(PATH_CHECK_ABSOLUTE)`` (path-util.c, v252) refuses ``path``, or None.

    The text follows ``LVALUE= `` in systemd's message and has a ``{suffix}`` slot for ", ignoring"."""
    if not path.startswith("/"):
        return "path is not absolute{suffix}: " + path.replace("{", "{{").replace("}", "}}")
    parts = [c for c in path.split("/") if c not in ("", ".")]
    simple = "/" + "/".join(parts)
    size = len(simple.encode("utf-8", "surrogateescape"))
    if size >= 4096 or any(len(c.encode("utf-8", "surrogateescape")) > 255 for c in parts):
        return f"path has invalid length ({size} bytes){{suffix}}."
    if ".." in parts:
        return "path is not normalized{suffix}: " + simple.replace("{", "{{").replace("}", "}}")
    return None


def parse_failure(parsed: unitfile.ParsedFile, diags: list[unitfile.Diagnostic], expand: _Expand = None,
                  ) -> tuple[list[unitfile.Assignment], Optional[tuple[str, Optional[Origin]]]]:
    """The assignments ``config_parse`` applies from one file, and why it stopped early, if it did.

    ``config_parse`` (conf-parser.c) returns at the first line that fails: a syntax error
    (``parsed.error``) or a setting whose parser returns an error, here ``config_parse_exec``'s and
    ``config_parse_working_directory``'s ENOEXEC (load-fragment.c). Lines before it have been applied.
    The failure is ``(errno, origin)``; the origin is None for a syntax error (the file). Every
    assignment of ``parsed`` comes before its syntax error, so a fatal setting always wins.
    """
    for i, a in enumerate(parsed.assignments):
        errno = "ENOEXEC"
        if a.key == "DynamicUser" and a.section in _EXEC_CONTEXT_SECTIONS:
            # config_parse_bool with the fatal flag: an empty value fails too.
            found = _fatal_setting_problem(a, expand)
            problem = found[:2] if found else None
        elif not a.value.strip():
            continue
        elif _is_exec(a) or (a.section == "Socket" and a.key in _SOCKET_EXEC_KEYS):
            problem = _commands(a, expand)[1]
        elif a.key == "WorkingDirectory" and a.section in _WORKING_DIRECTORY_SECTIONS:
            problem = _working_directory_problem(a, expand)
        elif a.section in _EXEC_CONTEXT_SECTIONS:
            found = _fatal_setting_problem(a, expand)
            if found is None:
                continue
            problem, errno = found[:2], found[2]
        else:
            continue
        if problem is None:
            continue
        diag, ignore = problem
        diags.append(diag)
        if not ignore:
            return list(parsed.assignments[:i]), (errno, a.origin)
    if parsed.error:
        return list(parsed.assignments), (parsed.error, None)
    return list(parsed.assignments), None


def exec_lists(assignments: Sequence[unitfile.Assignment], expand: _Expand = None,
                ) -> dict[str, list[unitfile.Assignment]]:
    """The commands per Exec*= key after ``config_parse_exec``: an empty value resets the list, a line
    holds one command or several separated by ``;``, a bad command with ``-`` ends its line (fatal ones
    never reach here, see ``parse_failure``). A command of a ``;`` line is an assignment of its own text."""
    cmds: dict[str, list[unitfile.Assignment]] = {k: [] for k in _EXEC_KEYS}
    for a in assignments:
        if not _is_exec(a):
            continue
        if not a.value.strip():
            cmds[a.key] = []
        else:
            cmds[a.key].extend(_commands(a, expand)[0])
    return cmds


def root_time_zones(root: Root) -> calendar.TimeZones:
    """``tzname[]`` and ``timezone_is_valid()`` as a manager booted from ``root`` sees them.

    The local names come from ``/etc/localtime`` (no such file: glibc's default, UTC; a file that is
    not a zone file, or a link to one the root does not hold: not known). Zone files are looked up
    under ``/usr/share/zoneinfo`` (a root without that directory: not known).
    """
    from . import calendar

    try:
        local = calendar.local_names(root.read("/etc/localtime"))
    except OSError:
        try:
            root.lstat("/etc/localtime")
            local = None
        except OSError as e:
            local = ("UTC", "UTC") if e.errno == _errno.ENOENT else None
    try:
        has_db = stat.S_ISDIR(root.stat("/usr/share/zoneinfo").st_mode)
    except OSError:
        has_db = False
    found: dict[str, Optional[bool]] = {}

    def zone_file(name: str) -> Optional[bool]:
        if not has_db:
            return None
        if name not in found:
            try:
                found[name] = root.read("/usr/share/zoneinfo/" + name, 1 << 20).startswith(b"TZif")
            except OSError as e:
                gone = (_errno.ENOENT, _errno.ENOTDIR, _errno.EISDIR, _errno.ENOTTY, _errno.ELOOP)
                found[name] = False if e.errno in gone else None
        return found[name]

    return calendar.TimeZones(local, zone_file)


@dataclass(frozen=True)
class TimerValues:
    """What ``config_parse_timer`` and ``config_parse_bool`` keep of a timer's [Timer] settings.

    ``kept``: the values (``On*Sec=``, ``OnCalendar=``) that parse; ``unsure``: values whose fate depends
    on what is not known offline, each with the reason; ``on_change``: OnClockChange=/OnTimezoneChange=.
    """

    kept: int
    unsure: tuple[tuple[Origin, str], ...]
    on_change: bool


#: The [Timer] settings that add a value (``config_parse_timer``); all but OnCalendar= are time spans.
TIMER_VALUE_KEYS = ("OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec",
                    "OnCalendar")


def timer_values(assignments: Sequence[unitfile.Assignment], expand: Callable[[str], specifiers.Expanded],
                 zones: calendar.TimeZones, diags: list[unitfile.Diagnostic]) -> TimerValues:
    """The trigger values a timer keeps, in the order of its lines (load-fragment.c, v252).

    ``config_parse_timer``: an empty value drops every value so far; the value is expanded
    (``unit_full_printf``), then parsed with ``calendar_spec_from_string`` or ``parse_sec``; a value
    that fails either is logged and ignored. ``config_parse_bool`` for OnClockChange=/OnTimezoneChange=:
    a value that is not a boolean (an empty one too) is logged and ignored.
    """
    from . import calendar, timespan

    values: list[Optional[tuple[Origin, str]]] = []  # None: kept for sure
    flags = {"OnClockChange": False, "OnTimezoneChange": False}
    for a in assignments:
        if a.section != "Timer":
            continue
        if a.key in flags:
            b = parse_boolean(a.value)
            if b is None:
                diags.append(unitfile.Diagnostic("warning", f"Failed to parse boolean value, ignoring: {a.value}",
                                                 a.origin))
            else:
                flags[a.key] = b
            continue
        if a.key not in TIMER_VALUE_KEYS:
            continue
        if not a.value:
            values = []
            continue
        try:
            expanded = expand(a.value)
        except specifiers.SpecifierError as e:
            why = specifiers.strerror(e.errno)
            diags.append(unitfile.Diagnostic(
                "warning", f"Failed to resolve unit specifiers in '{a.value}', ignoring: {why}", a.origin))
            continue
        text = expanded.text
        if a.key == "OnCalendar":
            parsed = calendar.parse(text, zones)
            valid, unknown = parsed.valid, parsed.unknown
            refused = f"Failed to parse calendar specification, ignoring: {text}"
        else:
            valid, unknown = timespan.parse_sec(text)[1] == "", ""
            refused = f"Failed to parse timer value, ignoring: {text}"
        if valid is False:
            diags.append(unitfile.Diagnostic("warning", refused, a.origin))
            continue
        if not expanded.known:
            unknown = "it holds specifiers whose value is not known offline: " + ", ".join(
                f"%{spec} ({why})" for spec, why in expanded.unknown)
        values.append((a.origin, f"{a.key}={a.value}: {unknown}") if unknown else None)
    kept = sum(v is None for v in values)
    return TimerValues(kept, tuple(v for v in values if v is not None), any(flags.values()))


@dataclass(frozen=True)
class SocketPort:
    """One port a socket keeps: ``kind`` as systemd's SocketType (``socket``, ``fifo``, ``special``,
    ``mqueue``, ``usb-function``), ``path`` the file-system node it makes (a FIFO, an AF_UNIX socket),
    ``accepting`` for stream and sequential-packet sockets."""

    kind: str
    path: Optional[str]
    accepting: bool
    origin: Origin


@dataclass(frozen=True)
class SocketValues:
    """What a socket keeps of its [Socket] settings that ``socket_verify`` looks at."""

    ports: tuple[SocketPort, ...]
    symlinks: tuple[str, ...]
    symlinks_origin: Optional[Origin]
    accept: bool
    service: Optional[unitfile.Assignment]


_LISTEN_PATHS = {"ListenFIFO": "fifo", "ListenSpecial": "special", "ListenMessageQueue": "mqueue",
                 "ListenUSBFunction": "usb-function"}
_LISTEN_SOCKETS = ("ListenStream", "ListenDatagram", "ListenSequentialPacket")


def socket_values(assignments: Sequence[unitfile.Assignment], expand: Callable[[str], specifiers.Expanded],
                  service_ok: Callable[[unitfile.Assignment], bool], diags: list[unitfile.Diagnostic],
                  ) -> SocketValues:
    """The ports, symlinks, Accept= and Service= a socket keeps, in the order of its lines (load-fragment.c, v252).

    ``config_parse_socket_listen``: an empty value drops every port; the value is expanded, then a path
    (FIFO, special file, message queue, USB function) must pass ``path_simplify_and_warn``, ListenNetlink=
    ``socket_address_parse_netlink``, the others ``socket_address_parse`` (``/var/run/`` becomes ``/run/``
    first; a sequential-packet socket must be AF_UNIX); a value that fails is logged and ignored.
    ``config_parse_unit_path_strv_printf`` for Symlinks= (empty resets; each word expanded and checked
    like a path), ``config_parse_bool`` for Accept=, ``config_parse_socket_service`` for Service=
    (``service_ok``: a service name once expanded).
    """
    from . import sockaddr

    ports: list[SocketPort] = []
    symlinks: list[str] = []
    sym_origin: Optional[Origin] = None
    accept, service = False, None

    def expansion(a: unitfile.Assignment, text: str) -> Optional[specifiers.Expanded]:
        try:
            return expand(text)
        except specifiers.SpecifierError as e:
            diags.append(unitfile.Diagnostic("warning", f"Failed to resolve unit specifiers in '{text}', ignoring: "
                                                        f"{specifiers.strerror(e.errno)}", a.origin))
            return None

    def refused(a: unitfile.Assignment, why: str) -> None:
        diags.append(unitfile.Diagnostic("warning", why, a.origin))

    for a in assignments:
        if a.section != "Socket":
            continue
        if a.key == "Accept":
            b = parse_boolean(a.value)
            if b is not None:
                accept = b
        elif a.key == "Service":
            if service_ok(a):
                service = a
        elif a.key == "Symlinks":
            if not a.value:
                symlinks, sym_origin = [], None
                continue
            words, err = extract.words(a.value, unquote=True)
            for w in words:
                x = expansion(a, w)
                if x is None:
                    continue
                why = path_problem(x.text) if x.known else None  # unknown (%t): the manager checks it
                if why is not None:
                    refused(a, f"Symlinks= {why.format(suffix=', ignoring')}")
                    continue
                symlinks.append(x.text)
                sym_origin = a.origin
            if err:
                refused(a, f"Invalid syntax, ignoring: {a.value}")
        elif a.key in _LISTEN_PATHS or a.key in _LISTEN_SOCKETS or a.key == "ListenNetlink":
            if not a.value:
                ports = []
                continue
            x = expansion(a, a.value)
            if x is None:
                continue
            if not x.known:
                # Only the running manager knows the value (%t: its XDG_RUNTIME_DIR): it expands and checks
                # the address; offline the port is kept, not judged (a stock user socket is not "bad-setting").
                ports.append(SocketPort(_LISTEN_PATHS.get(a.key, "socket"), None,
                                        a.key in ("ListenStream", "ListenSequentialPacket"), a.origin))
                continue
            k = x.text
            if a.key in _LISTEN_PATHS:
                why = path_problem(k)
                if why is not None:
                    refused(a, f"{a.key}= {why.format(suffix=', ignoring')}")
                    continue
                if a.key == "ListenFIFO" and k.startswith("/var/run/"):
                    k = "/run/" + k[len("/var/run/"):]
                ports.append(SocketPort(_LISTEN_PATHS[a.key], k if a.key == "ListenFIFO" else None, False, a.origin))
            elif a.key == "ListenNetlink":
                if not sockaddr.parse_netlink(k):
                    refused(a, f"Failed to parse address value in '{k}', ignoring: Invalid argument")
                    continue
                ports.append(SocketPort("socket", None, False, a.origin))
            else:
                if k.startswith("/var/run/"):
                    k = "/run/" + k[len("/var/run/"):]
                addr = sockaddr.parse(k)
                if addr is None:
                    refused(a, f"Failed to parse address value in '{k}', ignoring: Invalid argument")
                    continue
                if a.key == "ListenSequentialPacket" and addr.family != "unix":
                    refused(a, f"Address family not supported, ignoring: {a.value}")
                    continue
                ports.append(SocketPort("socket", addr.path, a.key != "ListenDatagram", a.origin))
    return SocketValues(tuple(ports), tuple(symlinks), sym_origin, accept, service)


#: The [Path] settings that add a path to watch (``config_parse_path_spec``).
PATH_SPEC_KEYS = ("PathExists", "PathExistsGlob", "PathChanged", "PathModified", "DirectoryNotEmpty")


def path_specs(assignments: Sequence[unitfile.Assignment], expand: Callable[[str], specifiers.Expanded],
               diags: list[unitfile.Diagnostic]) -> int:
    """How many paths a path unit keeps to watch (``config_parse_path_spec``, load-fragment.c, v252): an
    empty value drops them all; the value is expanded (``unit_path_printf``) and must pass
    ``path_simplify_and_warn(PATH_CHECK_ABSOLUTE)``, else it is logged and ignored."""
    n = 0
    for a in assignments:
        if a.section != "Path" or a.key not in PATH_SPEC_KEYS:
            continue
        if not a.value:
            n = 0
            continue
        try:
            x = expand(a.value)
        except specifiers.SpecifierError as e:
            diags.append(unitfile.Diagnostic("warning", f"Failed to resolve unit specifiers in '{a.value}', "
                                                        f"ignoring: {specifiers.strerror(e.errno)}", a.origin))
            continue
        if not x.known:  # only the running manager knows the value (%t): kept, not judged offline
            n += 1
            continue
        why = path_problem(x.text)
        if why is not None:
            diags.append(unitfile.Diagnostic("warning", f"{a.key}= {why.format(suffix=', ignoring')}", a.origin))
            continue
        n += 1
    return n


#: emergency_action_table (emergency-action.c, v252): what SuccessAction=/FailureAction= accept.
EMERGENCY_ACTIONS = frozenset(("none", "reboot", "reboot-force", "reboot-immediate", "poweroff", "poweroff-force",
                               "poweroff-immediate", "exit", "exit-force", "kexec", "kexec-force", "halt",
                               "halt-force", "halt-immediate"))


def _success_action(assignments: Sequence[unitfile.Assignment]) -> bool:
    """Whether SuccessAction= ends up other than ``none``: ``config_parse_emergency_action`` ignores a value
    it cannot parse (an empty one too); in a user manager a system action becomes ``exit-force``."""
    action = "none"
    for a in assignments:
        if a.section == "Unit" and a.key == "SuccessAction" and a.value in EMERGENCY_ACTIONS:
            action = a.value
    return action != "none"


#: service_restart_table (service.c, v252).
RESTART_MODES = frozenset(("no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"))
#: kill_mode_table (kill.c, v252).
KILL_MODES = frozenset(("control-group", "process", "mixed", "none"))


def _last_valid(assignments: Sequence[unitfile.Assignment], section: str, key: str,
                ok: Callable[[str], bool]) -> Optional[unitfile.Assignment]:
    """The last ``key=`` of ``section`` whose value the setting's parser accepts (it ignores the others)."""
    found = None
    for a in assignments:
        if a.section == section and a.key == key and ok(a.value):
            found = a
    return found


def _pam(assignments: Sequence[unitfile.Assignment], section: str) -> tuple[Optional[unitfile.Assignment], str]:
    """PAMName= if set (an empty value unsets it) and the KillMode= that holds (default control-group)."""
    pam = None
    for a in assignments:
        if a.section == section and a.key == "PAMName":
            pam = a if a.value else None
    kill = _last_valid(assignments, section, "KillMode", KILL_MODES.__contains__)
    return pam, kill.value if kill is not None else "control-group"


#: Settings whose parser ignores a value it cannot parse, logging this (load-fragment.c, v252): the check and
#: the message before ", ignoring: VALUE". BusName= (expanded first) is ``bus_name``'s.
_CHECKED_SETTINGS: dict[tuple[str, str], tuple[Callable[[str], bool], str]] = {
    ("Unit", "SuccessAction"): (EMERGENCY_ACTIONS.__contains__, "Failed to parse SuccessAction="),
    ("Unit", "FailureAction"): (EMERGENCY_ACTIONS.__contains__, "Failed to parse FailureAction="),
    ("Service", "Type"): (execute.SERVICE_TYPES.__contains__, "Failed to parse service type"),
    ("Service", "Restart"): (RESTART_MODES.__contains__, "Failed to parse service restart specifier"),
    ("Service", "RemainAfterExit"): (lambda v: parse_boolean(v) is not None, "Failed to parse boolean value"),
    ("Socket", "Accept"): (lambda v: parse_boolean(v) is not None, "Failed to parse boolean value"),
    ("Service", "KillMode"): (KILL_MODES.__contains__, "Failed to parse kill mode specification"),
    ("Socket", "KillMode"): (KILL_MODES.__contains__, "Failed to parse kill mode specification"),
}


def ignored_settings(assignments: Sequence[unitfile.Assignment]) -> list[unitfile.Diagnostic]:
    """systemd's warning for each value of ``_CHECKED_SETTINGS`` that its parser ignores (an empty one too)."""
    out = []
    for a in assignments:
        check = _CHECKED_SETTINGS.get((a.section, a.key))
        if check is not None and not check[0](a.value):
            out.append(unitfile.Diagnostic("warning", f"{check[1]}, ignoring: {a.value}", a.origin))
    return out


def bus_name_is_valid(name: str) -> bool:
    """``sd_bus_service_name_is_valid``: a unique name (``:1.42``) or a well-known one of two or more
    dot-separated elements of ``[A-Za-z0-9_-]`` not starting with a digit; at most 255 bytes."""
    if not name or len(name.encode("utf-8", "surrogateescape")) > 255:
        return False
    unique = name.startswith(":")
    parts = (name[1:] if unique else name).split(".")
    if len(parts) < 2:
        return False
    for p in parts:
        if not p or not all(c.isascii() and (c.isalnum() or c in "_-") for c in p):
            return False
        if not unique and p[0].isdigit():
            return False
    return True


def bus_name(assignments: Sequence[unitfile.Assignment],
             expand: Optional[Callable[[str], specifiers.Expanded]] = None,
             diags: Optional[list[unitfile.Diagnostic]] = None) -> Optional[unitfile.Assignment]:
    """The BusName= a service keeps (``config_parse_bus_name``): the last value that, expanded, is a valid
    bus name; the others (an empty one too) are ignored, with systemd's warning into ``diags``. Without
    ``expand``, a value with a specifier is taken as valid."""
    found = None
    for a in assignments:
        if a.section != "Service" or a.key != "BusName":
            continue
        if expand is None:
            if "%" in a.value or bus_name_is_valid(a.value):
                found = a
            continue
        try:
            value = expand(a.value).text
        except specifiers.SpecifierError as e:
            if diags is not None:
                diags.append(unitfile.Diagnostic("warning", f"Failed to resolve unit specifiers in {a.value}, "
                                                            f"ignoring: {specifiers.strerror(e.errno)}", a.origin))
            continue
        if bus_name_is_valid(value):
            found = a
        elif diags is not None:
            diags.append(unitfile.Diagnostic("warning", f"Invalid bus name, ignoring: {value}", a.origin))
    return found


def settled_type(assignments: Sequence[unitfile.Assignment], has_bus_name: bool, has_start: bool) -> str:
    """Type= as 252 settles it: the last value ``config_parse_service_type`` accepts (it ignores others, and
    ``notify-reload`` is 253's), else (service_add_extras) ``dbus`` with a valid BusName=, ``simple`` with
    an ExecStart= command, ``oneshot``."""
    stype = None
    for a in assignments:
        if a.section == "Service" and a.key == "Type" and a.value in execute.SERVICE_TYPES:
            stype = a.value
    if stype is not None:
        return stype
    if has_bus_name:
        return "dbus"
    return "simple" if has_start else "oneshot"


def verify(unit_id: str, assignments: Sequence[unitfile.Assignment], diags: list[unitfile.Diagnostic],
           timer: Optional[TimerValues] = None, socket: Optional[SocketValues] = None,
           paths: Optional[int] = None,
           expand: Optional[Callable[[str], specifiers.Expanded]] = None) -> Optional[Origin]:
    """The origin of a fatal setting (ENOEXEC → bad-setting), or None.

    service_verify(), socket_verify(), timer_verify(), path_verify() (v252), in their order. ``timer``:
    what ``timer_values`` found (a timer's settings are read by that, not here).
    """
    utype = unit_id.rsplit(".", 1)[-1]
    frag = Origin(unit_id)

    def last(section: str, key: str) -> Optional[unitfile.Assignment]:
        for a in reversed(assignments):
            if a.section == section and a.key == key:
                return a
        return None

    def fatal(msg: str, origin: Optional[Origin] = None) -> Origin:
        o = origin or frag
        diags.append(unitfile.Diagnostic("error", msg, o))
        return o

    if utype == "service":
        cmds = exec_lists(assignments, expand)
        start, stop = cmds["ExecStart"], cmds["ExecStop"]
        has_success = _success_action(assignments)
        bus = bus_name(assignments, expand, diags)
        stype = settled_type(assignments, bus is not None, bool(start))
        rae = _last_valid(assignments, "Service", "RemainAfterExit", lambda v: parse_boolean(v) is not None)
        remain = bool(rae and parse_boolean(rae.value))
        if not start and not stop and not has_success:
            return fatal("Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.")
        if stype != "oneshot" and not start:
            return fatal("Service has no ExecStart= setting, which is only allowed for Type=oneshot services. "
                         "Refusing.")
        if not remain and not start and not has_success:
            return fatal("Service has no ExecStart= and no SuccessAction= settings and does not have "
                         "RemainAfterExit=yes set. Refusing.")
        if stype != "oneshot" and len(start) > 1:
            return fatal("Service has more than one ExecStart= setting, which is only allowed for Type=oneshot "
                         "services. Refusing.", start[1].origin)
        # A oneshot service may restart only on failure, never always/on-success.
        restart = _last_valid(assignments, "Service", "Restart", RESTART_MODES.__contains__)
        if stype == "oneshot" and restart is not None and restart.value in ("always", "on-success"):
            return fatal("Service has Restart= set to either always or on-success, which isn't allowed for "
                         "Type=oneshot services. Refusing.", restart.origin)
        if stype == "dbus" and bus is None:
            return fatal("Service is of type D-Bus but no D-Bus service name has been specified. Refusing.")
        pam, kill = _pam(assignments, "Service")
        if pam is not None and kill not in ("control-group", "mixed"):
            return fatal("Service has PAM enabled. Kill mode must be set to 'control-group' or 'mixed'. Refusing.",
                         pam.origin)
    elif utype == "socket" and socket is not None:
        if not socket.ports:
            return fatal("Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, ...). Refusing.")
        # have_non_accept_socket: with Accept=yes every port must be a stream or sequential-packet socket.
        if socket.accept and any(p.kind != "socket" or not p.accepting for p in socket.ports):
            return fatal("Unit configured for accepting sockets, but sockets are non-accepting. Refusing.")
        if socket.accept and socket.service is not None:
            return fatal("Explicit service configuration for accepting socket units not supported. Refusing.",
                         socket.service.origin)
        pam, kill = _pam(assignments, "Socket")
        if pam is not None and kill != "control-group":
            return fatal("Unit has PAM enabled. Kill mode must be set to 'control-group'. Refusing.", pam.origin)
        # socket_find_symlink_target: exactly one FIFO or AF_UNIX path socket among the ports.
        if socket.symlinks and len([p for p in socket.ports if p.path is not None]) != 1:
            return fatal("Unit has symlinks set but none or more than one node in the file system. Refusing.",
                         socket.symlinks_origin)
    elif utype == "timer" and timer is not None:
        # timer_verify: no value and neither OnClockChange= nor OnTimezoneChange= is fatal.
        if not timer.kept and not timer.on_change:
            if timer.unsure:
                # Loaded if one of these is kept, bad-setting if none is: not decidable offline.
                for origin, why in timer.unsure:
                    diags.append(unitfile.Diagnostic(
                        "unknown", f"Loaded if systemd keeps {why}; without it the timer has no trigger "
                                   "(\"Timer unit lacks value setting. Refusing.\")", origin))
                return None
            return fatal("Timer unit lacks value setting. Refusing.")
    elif utype == "path" and paths == 0:
        return fatal("Path unit lacks path setting. Refusing.")
    return None
