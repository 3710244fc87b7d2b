"""Unit-file specifiers (``%n``, ``%i``…): which exist, and their expansion where the install logic needs it.

systemd.unit(5) "Specifiers"; install-printf.c and unit-printf.c (v252). Fact sheet §6.
"""

from __future__ import annotations

import os
import posixpath
from typing import Callable, Mapping, Optional

from . import names
from .records import dataclass
from .rootfs import Root

#: Every specifier a unit file may use in the manager (unit-printf.c, v252).
UNIT_SPECIFIERS = frozenset("nNpPiIjJfyYaAbBHlqmMowWvCELSTtVdgGuUhscrR%")
#: The specifiers the install logic accepts in [Install] values (install-printf.c, v252).
INSTALL_SPECIFIERS = frozenset("ijnNpaAbBHlqmMovwWgGuU")


class SpecifierError(ValueError):
    """An unknown specifier (EBADSLT) or one that cannot be resolved on this root."""

    def __init__(self, errno: str, text: str) -> None:
        super().__init__(f"Failed to resolve specifiers in {text}")
        self.errno = errno
        self.text = text


def walk(text: str, resolve: Callable[[str], str]) -> str:
    """``text`` with every ``%X`` (X a letter or digit) replaced by ``resolve(X)``: ``specifier_printf``'s
    walk (specifier.c, v252).

    ``%%`` is ``%``; ``%`` before any other character, and a trailing ``%``, stay as they are. What a
    letter means, and whether it is refused (EBADSLT), is the caller's table: ``resolve`` raises.
    """
    if "%" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "%" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        c = text[i + 1]
        i += 2
        if c == "%":
            out.append("%")
        elif c.isascii() and c.isalnum():
            out.append(resolve(c))
        else:
            out.append("%" + c)
    return "".join(out)


def unknown_specifiers(text: str, allowed: frozenset[str] = UNIT_SPECIFIERS) -> list[str]:
    """The ``%X`` sequences in ``text`` that ``specifier_printf`` refuses with EBADSLT (``walk``'s rule:
    only a letter or digit outside the table)."""
    bad: list[str] = []

    def check(c: str) -> str:
        if c not in allowed:
            bad.append("%" + c)
        return ""

    walk(text, check)
    return bad


def name_values(unit: str) -> dict[str, str]:
    """The name-derived specifiers of ``unit`` that install-printf.c resolves."""
    prefix, instance, suffix = names.split(unit)
    dash = prefix.rfind("-")
    j = prefix[dash + 1:] if dash >= 0 else prefix
    return {
        "n": unit,
        "N": unit[: -len(suffix)],
        "p": prefix,
        "i": instance or "",
        "j": j,
    }


def install_printf(unit: str, text: str, host: Optional[Mapping[str, Callable[[], str]]] = None) -> str:
    """Expand ``text`` as an [Install] value of ``unit``; SpecifierError as systemd fails.

    ``host`` maps system specifiers (``m``, ``H``, ``o``…) to functions that return their value or
    raise SpecifierError; name specifiers are computed here.
    """
    values = name_values(unit)
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            raise SpecifierError("EBADSLT", text)
        c = text[i + 1]
        i += 2
        if c not in INSTALL_SPECIFIERS:
            raise SpecifierError("EBADSLT", text)
        if c in values:
            out.append(values[c])
        elif host is not None and c in host:
            out.append(host[c]())
        else:
            out.append("")
    return "".join(out)


# -- the manager's tables (unit-printf.c, specifier.h, v252) --------------------------------------

#: COMMON_SYSTEM_SPECIFIERS (252.39 also resolves %q, the pretty host name).
SYSTEM_SPECIFIERS = frozenset("aAbBHlqmMovwW")
#: COMMON_CREDS_SPECIFIERS: the manager's user and group.
CREDS_SPECIFIERS = frozenset("gGuU")
#: COMMON_TMP_SPECIFIERS.
TMP_SPECIFIERS = frozenset("TV")
#: ``unit_name_printf``: dependency values, Slice=, Service=, Unit=.
NAME_SPECIFIERS = frozenset("ijnNp") | SYSTEM_SPECIFIERS | CREDS_SPECIFIERS
#: ``unit_full_printf`` / ``unit_path_printf``: Exec lines, paths, conditions, User=, WorkingDirectory=…
FULL_SPECIFIERS = (frozenset("iIjJnNpPfyYcrRCdELSths") | SYSTEM_SPECIFIERS | CREDS_SPECIFIERS
                   | TMP_SPECIFIERS)

#: specifier_printf's limits per caller: unit names (UNIT_NAME_MAX), paths (PATH_MAX), the rest (LONG_LINE_MAX).
NAME_MAX = 256
PATH_MAX = 4096
LINE_MAX = 1024 * 1024

#: ``errno`` symbol → strerror, for the errors specifier lookups give.
_STRERROR = {"EBADSLT": "Invalid slot", "ENOENT": "No such file or directory", "ENAMETOOLONG": "File name too long",
             "EINVAL": "Invalid argument", "ENOMEDIUM": "No medium found", "ENXIO": "No such device or address"}


def strerror(errno: str) -> str:
    """systemd's ``%m`` for an errno symbol."""
    return _STRERROR.get(errno, errno)


class Unknown(Exception):
    """A specifier whose value the evidence does not give (boot ID, kernel of a root not running)."""

    def __init__(self, specifier: str, why: str) -> None:
        super().__init__(f"%{specifier}: {why}")
        self.specifier = specifier
        self.why = why


@dataclass(frozen=True)
class Expanded:
    """The result of expanding one value: the text, and the specifiers left as they were because their
    value is not known offline (``unknown``: ``(specifier, why)``; the text keeps ``%X`` for them)."""

    text: str
    unknown: tuple[tuple[str, str], ...] = ()

    @property
    def known(self) -> bool:
        return not self.unknown


#: ELF e_machine → systemd architecture names (architecture.c), by (machine, 64-bit, little-endian).
_ELF_ARCH = {
    (62, True, True): "x86-64", (3, False, True): "x86", (183, True, True): "arm64", (183, True, False): "arm64-be",
    (40, False, True): "arm", (40, False, False): "arm-be", (21, True, True): "ppc64-le", (21, True, False): "ppc64",
    (20, False, False): "ppc", (20, False, True): "ppc-le", (22, True, False): "s390x", (22, False, False): "s390",
    (243, True, True): "riscv64", (243, False, True): "riscv32", (258, True, True): "loongarch64",
    (8, True, True): "mips64-le", (8, True, False): "mips64", (8, False, True): "mips-le", (8, False, False): "mips",
    (2, True, False): "sparc64", (2, False, False): "sparc", (15, True, False): "parisc64",
    (15, False, False): "parisc", (50, True, True): "ia64", (4, False, False): "m68k", (42, False, True): "sh",
    (42, False, False): "sh", (92, False, True): "arc", (92, False, False): "arc-be", (0x9026, True, True): "alpha",
}
#: uname machine → systemd architecture names, for the live host.
_UNAME_ARCH = {"x86_64": "x86-64", "i386": "x86", "i486": "x86", "i586": "x86", "i686": "x86", "aarch64": "arm64",
               "aarch64_be": "arm64-be", "armv7l": "arm", "armv6l": "arm", "armv8l": "arm", "ppc64le": "ppc64-le",
               "ppc64": "ppc64", "ppc": "ppc", "s390x": "s390x", "s390": "s390", "riscv64": "riscv64",
               "riscv32": "riscv32", "loongarch64": "loongarch64", "mips64": "mips64-le", "mips": "mips-le",
               "sparc64": "sparc64", "parisc64": "parisc64", "ia64": "ia64", "m68k": "m68k", "alpha": "alpha"}
#: os-release fields of the host specifiers.
_OS_RELEASE_FIELD = {"o": "ID", "w": "VERSION_ID", "W": "VARIANT_ID", "B": "BUILD_ID", "A": "IMAGE_VERSION",
                     "M": "IMAGE_ID"}


class HostFacts:
    """The values of the host, user and directory specifiers for one root and scope, read on first use.

    The manager of a booted root would resolve them from its own state: its host name (``/etc/hostname``),
    machine ID (``/etc/machine-id``), ``os-release``, the architecture of its binaries, its user
    (system: root; user: the manager's environment and ``passwd``), and its directories (system:
    ``/run``, ``/var/lib``…; user: the XDG variables). What a root does not tell (the boot ID, the
    kernel release, a machine ID made at first boot) is ``Unknown``; on the live host (``live``) those
    come from ``/proc``. ``environ`` is the manager's environment (user scope).
    """

    def __init__(self, root: Root, scope: str, environ: Optional[Mapping[str, str]] = None) -> None:
        self.root = root
        self.scope = scope
        self.environ = dict(environ or {})
        self.live = root.is_host
        self._os_release: Optional[dict[str, str]] = None
        self._os_release_read = False
        self._dbs: dict[str, list[list[str]]] = {}

    # -- reading the root -------------------------------------------------------------------------

    def _text(self, path: str, limit: int = 64 * 1024) -> Optional[str]:
        try:
            return self.root.read(path, limit).decode("utf-8", "replace")
        except (OSError, ValueError):
            return None

    def os_release(self) -> Optional[dict[str, str]]:
        """``/etc/os-release``, else ``/usr/lib/os-release``, as a dict; None when neither exists."""
        if not self._os_release_read:
            text = self._text("/etc/os-release")
            if text is None:
                text = self._text("/usr/lib/os-release")
            self._os_release = None if text is None else _parse_env_file(text)
            self._os_release_read = True
        return self._os_release

    def hostname(self) -> str:
        """The static host name (``/etc/hostname``: first line that is not a comment); live: uname."""
        if self.live:
            return os.uname().nodename
        text = self._text("/etc/hostname")
        if text is not None:
            for line in text.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    return line
        raise Unknown("H", "the root has no /etc/hostname; the host name is set at boot")

    def machine_id(self) -> str:
        text = self._text("/etc/machine-id")
        value = (text or "").strip()
        if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
            return value
        raise Unknown("m", "/etc/machine-id is missing or uninitialized; the machine ID is made at first boot")

    def architecture(self) -> str:
        if self.live:
            arch = _UNAME_ARCH.get(os.uname().machine)
            if arch:
                return arch
        for path in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/bin/sh", "/usr/bin/sh"):
            try:
                head = self.root.read(path, 1 << 30)[:20]
            except OSError:
                continue
            if len(head) >= 20 and head[:4] == b"\x7fELF":
                bits64, little = head[4] == 2, head[5] == 1
                machine = int.from_bytes(head[18:20], "little" if little else "big")
                arch = _ELF_ARCH.get((machine, bits64, little))
                if arch:
                    return arch
        raise Unknown("a", "no ELF binary in the root tells its architecture")

    def passwd(self, key: str, by: str = "uid") -> Optional[list[str]]:
        """The ``/etc/passwd`` entry of a user by uid or name (fields split on ``:``), or None."""
        return _db_entry(self._db("/etc/passwd"), key, 0 if by == "name" else 2)

    def group(self, key: str, by: str = "gid") -> Optional[list[str]]:
        return _db_entry(self._db("/etc/group"), key, 0 if by == "name" else 2)

    def _db(self, path: str) -> list[list[str]]:
        if path not in self._dbs:
            text = self._text(path, 16 << 20) or ""
            self._dbs[path] = [line.split(":") for line in text.splitlines()
                               if line and not line.startswith(("#", "+", "-"))]
        return self._dbs[path]

    # -- the manager's user -----------------------------------------------------------------------

    def uid(self) -> int:
        if self.scope == "system":
            return 0
        if self.scope == "user" and self.live:
            return os.getuid()
        raise Unknown("U", "the user of a --global or --root user manager is not known")

    def gid(self) -> int:
        if self.scope == "system":
            return 0
        if self.scope == "user" and self.live:
            return os.getgid()
        raise Unknown("G", "the group of a --global or --root user manager is not known")

    def user_home(self) -> str:
        # get_home_dir(): $HOME of the manager if absolute, root is /root, else passwd.
        home = self.environ.get("HOME") if self.scope == "user" else None
        if home and home.startswith("/"):
            return home
        uid = self.uid()
        if uid == 0:
            return "/root"
        pw = self.passwd(str(uid))
        if pw is not None and len(pw) > 5 and pw[5].startswith("/"):
            return pw[5]
        raise Unknown("h", f"no home directory for uid {uid}")

    def user_shell(self) -> str:
        shell = self.environ.get("SHELL") if self.scope == "user" else None
        if shell and shell.startswith("/"):
            return shell
        uid = self.uid()
        pw = self.passwd(str(uid))
        if pw is not None and len(pw) > 6 and pw[6].startswith("/"):
            return pw[6]
        if uid == 0:
            return "/bin/sh"
        raise Unknown("s", f"no shell for uid {uid}")

    def user_name(self) -> str:
        uid = self.uid()
        pw = self.passwd(str(uid))
        if pw is not None:
            return pw[0]
        return "root" if uid == 0 else str(uid)

    def group_name(self) -> str:
        gid = self.gid()
        gr = self.group(str(gid))
        if gr is not None:
            return gr[0]
        return "root" if gid == 0 else str(gid)

    # -- the manager's directories (manager->prefix[], ExecDirectoryType) ----------------------------

    def directory(self, c: str) -> str:
        if self.scope == "system":
            return {"C": "/var/cache", "E": "/etc", "L": "/var/log", "S": "/var/lib", "t": "/run"}[c]
        env = self.environ
        if self.scope != "user":
            raise Unknown(c, "the directories of a --global user manager depend on the user")
        home = env.get("HOME") or ""

        def xdg(var: str, default: str) -> str:
            v = env.get(var)
            if v and v.startswith("/"):
                return v
            if not home.startswith("/"):
                raise Unknown(c, f"${var} and $HOME are not set")
            return posixpath.join(home, default)

        if c == "C":
            return xdg("XDG_CACHE_HOME", ".cache")
        if c == "E":
            return xdg("XDG_CONFIG_HOME", ".config")
        if c == "S":
            return xdg("XDG_STATE_HOME", ".local/state")
        if c == "L":
            return posixpath.join(xdg("XDG_STATE_HOME", ".local/state"), "log")
        rt = env.get("XDG_RUNTIME_DIR")
        if rt and rt.startswith("/"):
            return rt
        raise Unknown("t", "$XDG_RUNTIME_DIR is not set")

    def tmp_dir(self, c: str) -> str:
        # tmp_dir(): $TMPDIR, $TEMP, $TMP of the manager if they name an absolute path, else the default.
        if self.scope == "user":
            for var in ("TMPDIR", "TEMP", "TMP"):
                v = self.environ.get(var)
                if v and v.startswith("/"):
                    return v
        return "/tmp" if c == "T" else "/var/tmp"

    # -- one specifier ----------------------------------------------------------------------------

    def value(self, c: str) -> str:
        """The value of host/user/directory specifier ``c``; SpecifierError where systemd fails,
        Unknown where the evidence does not tell."""
        if c in _OS_RELEASE_FIELD:
            osr = self.os_release()
            if osr is None:
                raise SpecifierError("ENOENT", "%" + c)
            return osr.get(_OS_RELEASE_FIELD[c], "")
        if c == "H":
            return self.hostname()
        if c == "l":
            return self.hostname().split(".", 1)[0]
        if c == "q":
            text = self._text("/etc/machine-info")
            pretty = _parse_env_file(text).get("PRETTY_HOSTNAME") if text else None
            return pretty or self.hostname()
        if c == "m":
            return self.machine_id()
        if c == "b":
            if self.live:
                text = self._text("/proc/sys/kernel/random/boot_id")
                if text:
                    return text.strip().replace("-", "")
            raise Unknown("b", "the boot ID exists only on a running system")
        if c == "v":
            if self.live:
                return os.uname().release
            raise Unknown("v", "the kernel release is known only on a running system")
        if c == "a":
            return self.architecture()
        if c == "u":
            return self.user_name()
        if c == "U":
            return str(self.uid())
        if c == "g":
            return self.group_name()
        if c == "G":
            return str(self.gid())
        if c == "h":
            return self.user_home()
        if c == "s":
            return self.user_shell()
        if c in "CELSt":
            return self.directory(c)
        if c in "TV":
            return self.tmp_dir(c)
        raise Unknown(c, "not resolved offline")


def _parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of an os-release style file, with shell quoting removed."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def _db_entry(rows: list[list[str]], key: str, field_index: int) -> Optional[list[str]]:
    for row in rows:
        if len(row) > field_index and row[field_index] == key:
            return row
    return None


@dataclass(frozen=True)
class UnitNames:
    """What the unit specifiers of one unit need: its id and its fragment path (``%y``)."""

    id: str
    fragment: Optional[str] = None


def _name_part(unit: UnitNames, c: str, host: HostFacts) -> str:
    prefix, instance, suffix = names.split(unit.id)
    if c == "n":
        return unit.id
    if c == "N":
        return unit.id[: -len(suffix)]
    if c == "p":
        return prefix
    if c == "P":
        return names.unescape(prefix)
    if c == "i":
        return instance or ""
    if c == "I":
        return names.unescape(instance or "")
    if c in "jJ":
        j = prefix.rsplit("-", 1)[-1]
        return names.unescape(j) if c == "J" else j
    if c == "f":
        if instance:
            return names.unescape_path(instance)
        return names.unescape_path(prefix)
    if c in "yY":
        if unit.fragment is None:
            raise SpecifierError("ENOENT", "%" + c)
        return unit.fragment if c == "y" else posixpath.dirname(unit.fragment)
    if c == "d":
        return posixpath.join(host.directory("t"), "credentials", unit.id)
    raise Unknown(c, "the cgroup path (deprecated %c %r %R) is not modelled")


def expand(text: str, unit: UnitNames, host: HostFacts, table: frozenset[str] = FULL_SPECIFIERS,
           max_length: int = LINE_MAX) -> Expanded:
    """``text`` with its specifiers resolved for ``unit``, as ``specifier_printf`` does (specifier.c, v252).

    ``%%`` is ``%``; ``%`` before a character that is neither a letter nor a digit, and a trailing
    ``%``, stay as they are; a letter or digit not in ``table`` fails with EBADSLT ("Invalid slot").
    A lookup that fails in systemd (``%y`` without a fragment, ``%o`` without os-release) raises
    SpecifierError with its errno; one the evidence does not give is kept as ``%X`` and listed in
    ``unknown``. A result longer than ``max_length`` is ENAMETOOLONG.
    """
    if "%" not in text:
        if len(text) > max_length:
            raise SpecifierError("ENAMETOOLONG", text)
        return Expanded(text)
    unknown: list[tuple[str, str]] = []

    def resolve(c: str) -> str:
        if c not in table:
            raise SpecifierError("EBADSLT", text)
        try:
            if c in "nNpPiIjJfyYdcrR":
                return _name_part(unit, c, host)
            return host.value(c)
        except Unknown as e:
            unknown.append((c, e.why))
            return "%" + c
        except ValueError as e:  # names.unescape*: not a valid escape
            if isinstance(e, SpecifierError):
                raise
            raise SpecifierError("EINVAL", text) from None

    result = walk(text, resolve)
    if len(result) > max_length:
        raise SpecifierError("ENAMETOOLONG", text)
    return Expanded(result, tuple(unknown))
