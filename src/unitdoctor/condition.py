"""Condition*= and Assert*=: what each would say when the unit's start job runs, decided from the root.

Named after systemd's condition.c (v252). Parsing follows ``config_parse_unit_condition_path`` and
``config_parse_unit_condition_string`` (load-fragment.c): a leading ``|`` makes a triggering condition,
then ``!`` negates; an empty value empties the whole list (every Condition*=, or every Assert*=);
path conditions take ``unit_path_printf`` and must be absolute, the others ``unit_full_printf``.
Evaluation follows ``condition_test_list``: every non-triggering condition must hold, and if there are
triggering ones at least one must; the list is kept in reverse file order (``LIST_PREPEND``), so the
failure the manager names is the last failing line.

Everything is evaluated against the root as the manager would see it when it boots it (a path
condition looks at the root's files, ConditionHost= at ``/etc/hostname``…). What the files cannot tell
(a mount point, the running kernel, the firmware, the memory size of a machine that is not running)
is ``None``: undecidable, with the reason, and never counted as met. On the live host a few more are
read from ``/proc`` and ``/sys``.

In the manager (unit.c ``unit_test_condition``/``unit_test_assert``, job.c): a failed condition ends
the start job with ``done`` and the unit is skipped (systemctl start returns 0, dependents still
start); a failed assert ends it with ``assert`` ("Assertion failed on job for U.") and fails the jobs
of the units that require it.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import stat
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from . import specifiers, unitfile
from .catalog import hidden_or_backup
from .origin import Origin
from .records import dataclass
from .rootfs import Root

if TYPE_CHECKING:
    from .cmdline import CommandLine

#: Conditions whose value is a path (``config_parse_unit_condition_path``).
PATH_CONDITIONS = frozenset((
    "PathExists", "PathExistsGlob", "PathIsDirectory", "PathIsSymbolicLink", "PathIsMountPoint", "PathIsReadWrite",
    "PathIsEncrypted", "DirectoryNotEmpty", "FileNotEmpty", "FileIsExecutable", "NeedsUpdate"))
#: Every condition type of 252 (condition.h ``ConditionType``).
CONDITION_TYPES = PATH_CONDITIONS | frozenset((
    "Architecture", "Firmware", "Virtualization", "Host", "KernelCommandLine", "KernelVersion", "Credential",
    "Security", "Capability", "ACPower", "FirstBoot", "User", "Group", "ControlGroupController", "Memory",
    "CPUs", "CPUFeature", "OSRelease", "MemoryPressure", "CPUPressure", "IOPressure", "Environment"))

#: The file that marks an initrd (os-release of the initrd); units that test for it run only there.
INITRD_RELEASE = "/etc/initrd-release"

#: SYSTEM_UID_MAX / SYSTEM_GID_MAX of Debian's and Fedora's builds.
SYSTEM_UID_MAX = 999


@dataclass(frozen=True)
class Condition:
    """One Condition*=/Assert*= line as parsed: ``kind`` is ``Condition`` or ``Assert``, ``type`` the part
    after it (``PathExists``), ``parameter`` the value after specifier expansion (``raw`` as written)."""

    kind: str
    type: str
    parameter: str
    raw: str
    trigger: bool
    negate: bool
    origin: Origin
    unknown: tuple[tuple[str, str], ...] = ()  # specifiers whose value is not known offline

    @property
    def setting(self) -> str:
        """The line as systemd prints it in its log: ``ConditionPathExists=|!/x``."""
        return f"{self.kind}{self.type}={'|' if self.trigger else ''}{'!' if self.negate else ''}{self.parameter}"


@dataclass(frozen=True)
class Checked:
    """A condition and what it gives: ``result`` True (holds, negation applied), False, or None
    (undecidable from the evidence); ``why`` says what was looked at."""

    condition: Condition
    result: Optional[bool]
    why: str


@dataclass(frozen=True)
class Verdict:
    """``condition_test_list`` over one list: ``ok`` True, False or None (undecidable); ``culprits``
    the conditions that make it fail (the first failing non-triggering one, or every triggering one
    when none holds) or, when undecidable, those that cannot be decided."""

    ok: Optional[bool]
    checked: tuple[Checked, ...]
    culprits: tuple[Checked, ...]


def parse(assignments: Sequence[unitfile.Assignment], expand: Callable[[str, int], specifiers.Expanded],
          diags: list[unitfile.Diagnostic]) -> tuple[tuple[Condition, ...], tuple[Condition, ...]]:
    """The conditions and asserts of a unit from its [Unit] assignments in file order (fragment, then
    drop-ins). ``expand(text, max_length)`` is ``unit_full_printf`` for the unit. Lines systemd ignores
    get its warning in ``diags``."""
    lists: dict[str, list[Condition]] = {"Condition": [], "Assert": []}
    for a in assignments:
        if a.section != "Unit":
            continue
        kind = "Condition" if a.key.startswith("Condition") else "Assert" if a.key.startswith("Assert") else None
        if kind is None:
            continue
        ctype = a.key[len(kind):]
        if ctype not in CONDITION_TYPES:
            continue
        value = a.value.strip()
        if not value:
            lists[kind].clear()
            continue
        trigger = value.startswith("|")
        if trigger:
            value = value[1:].lstrip()
        negate = value.startswith("!")
        if negate:
            value = value[1:].lstrip()
        is_path = ctype in PATH_CONDITIONS
        try:
            e = expand(value, specifiers.PATH_MAX if is_path else specifiers.LINE_MAX)
        except specifiers.SpecifierError as err:
            diags.append(unitfile.Diagnostic(
                "warning", f"Failed to resolve unit specifiers in {value}, ignoring: {specifiers.strerror(err.errno)}",
                a.origin))
            continue
        param = e.text
        if is_path:
            if not param.startswith("/"):
                diags.append(unitfile.Diagnostic(
                    "warning", f"{a.key}= path is not absolute, ignoring: {param}", a.origin))
                continue
            param = _simplify(param)
        lists[kind].append(Condition(kind, ctype, param, a.value, trigger, negate, a.origin, e.unknown))
    return tuple(lists["Condition"]), tuple(lists["Assert"])


def _simplify(p: str) -> str:
    """``path_simplify``: duplicate slashes and ``.`` components go, ``..`` stays."""
    parts = [c for c in p.split("/") if c and c != "."]
    return "/" + "/".join(parts)


def test_list(conditions: tuple[Condition, ...], env: Environment) -> Verdict:
    """``condition_test_list`` with three values: a non-triggering condition that fails decides
    False; otherwise an undecidable one makes the whole undecidable; triggering conditions need one
    that holds."""
    checked = tuple(test(c, env) for c in conditions)
    # The parser prepends each condition to the list (LIST_PREPEND), so the manager tests them last
    # line first and names the last failing line.
    plain = [c for c in reversed(checked) if not c.condition.trigger]
    triggers = [c for c in checked if c.condition.trigger]
    failed = [c for c in plain if c.result is False]
    if failed:
        return Verdict(False, checked, (failed[0],))
    unknown = [c for c in plain if c.result is None]
    if triggers and not any(c.result for c in triggers):
        t_unknown = [c for c in triggers if c.result is None]
        if not t_unknown and not unknown:
            return Verdict(False, checked, tuple(triggers))
        unknown += t_unknown
    if unknown:
        return Verdict(None, checked, tuple(unknown))
    return Verdict(True, checked, ())


def test(c: Condition, env: Environment) -> Checked:
    """One condition, negation applied (``condition_test``). An error in systemd ("Couldn't determine
    result … assuming failed") is False whatever the negation."""
    if c.unknown:
        why = "; ".join(f"%{s}: {why}" for s, why in c.unknown)
        if c.type in PATH_CONDITIONS and c.type not in ("NeedsUpdate", "PathExistsGlob") and (
                env.live or _runtime_fs(c.parameter) is None):
            # Whatever the unknown value, a path that matches nothing does not exist, and every path
            # test is false for a path that does not exist.
            pattern = c.parameter
            for spec, _ in c.unknown:
                pattern = pattern.replace("%" + spec, "*")
            if _glob_first(env.root, pattern) is None:
                return Checked(c, c.negate, f"nothing in the root matches {env.display(pattern)} ({why})")
        return Checked(c, None, why)
    if c.type in PATH_CONDITIONS and c.type != "NeedsUpdate" and not env.live:
        fs = _runtime_fs(c.parameter)
        if fs is not None:
            return Checked(c, None, f"{c.parameter} is on {fs}, which is filled only when the system runs")
    fn = _TESTS.get(c.type)
    if fn is None:
        return Checked(c, None, f"{c.kind}{c.type}= is not evaluated offline")
    try:
        value, why = fn(c, env)
    except _Error as e:
        return Checked(c, False, f"systemd cannot evaluate it and assumes it failed: {e}")
    if value is None:
        return Checked(c, None, why)
    return Checked(c, value != c.negate, why)


#: File systems a booted system mounts over the root's directories (or fills at boot), so the files
#: of an offline root say nothing about them.
RUNTIME_FILESYSTEMS = {"/dev": "devtmpfs", "/proc": "procfs", "/sys": "sysfs", "/run": "a tmpfs",
                       "/var/run": "a tmpfs (/run)", "/tmp": "a tmpfs or is cleaned at boot",
                       "/var/lock": "a tmpfs (/run/lock)"}


def _runtime_fs(path: str) -> Optional[str]:
    for top, fs in RUNTIME_FILESYSTEMS.items():
        if path == top or path.startswith(top + "/"):
            return fs
    return None


class _Error(Exception):
    """condition_test() returned an error: the manager assumes the condition failed."""


class Environment:
    """What conditions are tested against: the root's files and the manager's facts.

    ``host`` gives the manager's user, host name, machine ID, architecture and os-release;
    ``cmdlines`` the kernel command lines the root boots with (``cmdline.boot_cmdlines``);
    ``environ`` the manager's environment (user scope), ``scope`` system or user.
    """

    def __init__(self, root: Root, host: specifiers.HostFacts, scope: str,
                 cmdlines: Optional[Callable[[], Iterable[CommandLine]]] = None) -> None:
        self.root = root
        self.host = host
        self.scope = scope
        self.live = root.is_host
        self._cmdlines = cmdlines
        self._cmdline_cache: Optional[tuple[CommandLine, ...]] = None

    def cmdlines(self) -> tuple[CommandLine, ...]:
        if self._cmdline_cache is None:
            if self._cmdlines is not None:
                self._cmdline_cache = tuple(self._cmdlines())
            else:
                from .cmdline import boot_cmdlines

                self._cmdline_cache = tuple(boot_cmdlines(self.root, live=self.live).cmdlines)
        return self._cmdline_cache

    def display(self, path: str) -> str:
        return self.root.display(path)

    def stat(self, path: str, follow: bool = True) -> Optional[os.stat_result]:
        try:
            return self.root.stat(path) if follow else self.root.lstat(path)
        except OSError:
            return None


# -- the tests, one per ConditionType (condition.c's condition_test_*) -----------------------------------------------

_Result = tuple[Optional[bool], str]


def _path_exists(c: Condition, env: Environment) -> _Result:
    st = env.stat(c.parameter)
    return st is not None, f"{env.display(c.parameter)} {'exists' if st else 'does not exist'}"


def _path_exists_glob(c: Condition, env: Environment) -> _Result:
    hit = _glob_first(env.root, c.parameter)
    if hit is None:
        return False, f"nothing matches {env.display(c.parameter)}"
    return True, f"{env.display(hit)} matches"


def _glob_first(root: Root, pattern: str) -> Optional[str]:
    """The first path inside the root matching a glob(3) pattern (``*?[`` per component), or None."""
    parts = [p for p in pattern.split("/") if p]
    found: list[str] = ["/"]
    for i, part in enumerate(parts):
        nxt: list[str] = []
        for base in found:
            if not any(ch in part for ch in "*?["):
                cand = posixpath.join(base, part)
                try:
                    root.lstat(cand) if i == len(parts) - 1 else root.stat(cand)
                except OSError:
                    continue
                nxt.append(cand)
                continue
            try:
                entries = root.scandir(base)
            except OSError:
                continue
            for e in sorted(entries, key=lambda e: e.name):
                if e.name.startswith(".") and not part.startswith("."):
                    continue
                if fnmatch.fnmatchcase(e.name, part):
                    nxt.append(posixpath.join(base, e.name))
        found = nxt[:1000]
        if not found:
            return None
    return found[0] if found else None


def _state(ok: bool, st: Optional[os.stat_result], what: str) -> str:
    return f"is {what}" if ok else f"is not {what}" if st else "does not exist"


def _is_directory(c: Condition, env: Environment) -> _Result:
    st = env.stat(c.parameter)
    ok = st is not None and stat.S_ISDIR(st.st_mode)
    return ok, f"{env.display(c.parameter)} {_state(ok, st, 'a directory')}"


def _is_symlink(c: Condition, env: Environment) -> _Result:
    st = env.stat(c.parameter, follow=False)
    ok = st is not None and stat.S_ISLNK(st.st_mode)
    return ok, f"{env.display(c.parameter)} {_state(ok, st, 'a symbolic link')}"


def _mount_point(c: Condition, env: Environment) -> _Result:
    if c.parameter == "/":
        return True, "/ is always a mount point"
    if env.stat(c.parameter) is None:
        return False, f"{env.display(c.parameter)} does not exist"
    if env.live:
        return os.path.ismount(c.parameter), "/proc/self/mountinfo of the running system"
    return None, f"whether {c.parameter} is a mount point is known only when the system runs"


def _read_write(c: Condition, env: Environment) -> _Result:
    if env.stat(c.parameter) is None:
        return False, f"{env.display(c.parameter)} does not exist"
    if env.live:
        try:
            ro = bool(os.statvfs(c.parameter).f_flag & os.ST_RDONLY)
        except OSError as e:
            raise _Error(e.strerror) from None
        return not ro, f"{c.parameter} is on a {'read-only' if ro else 'writable'} file system"
    return None, f"whether {c.parameter} is writable depends on how the file system is mounted at boot"


def _encrypted(c: Condition, env: Environment) -> _Result:
    if env.stat(c.parameter) is None:
        return False, f"{env.display(c.parameter)} does not exist"
    return None, f"whether {c.parameter} is on an encrypted device is known only when the system runs"


def _dir_not_empty(c: Condition, env: Environment) -> _Result:
    st = env.stat(c.parameter)
    if st is None or not stat.S_ISDIR(st.st_mode):
        return False, f"{env.display(c.parameter)} {'is not a directory' if st else 'does not exist'}"
    try:
        entries = [e.name for e in env.root.scandir(c.parameter) if not hidden_or_backup(e.name)]
    except OSError as e:
        raise _Error(e.strerror) from None
    state = "not empty" if entries else "empty (hidden and backup files do not count)"
    return bool(entries), f"{env.display(c.parameter)} is {state}"


def _file_not_empty(c: Condition, env: Environment) -> _Result:
    st = env.stat(c.parameter)
    if st is None:
        return False, f"{env.display(c.parameter)} does not exist"
    ok = stat.S_ISREG(st.st_mode) and st.st_size > 0
    state = "a non-empty file" if ok else "empty" if stat.S_ISREG(st.st_mode) else "not a regular file"
    return ok, f"{env.display(c.parameter)} is {state}"


def _file_is_executable(c: Condition, env: Environment) -> _Result:
    st = env.stat(c.parameter)
    if st is None:
        return False, f"{env.display(c.parameter)} does not exist"
    ok = stat.S_ISREG(st.st_mode) and bool(st.st_mode & 0o111)
    mode = stat.filemode(st.st_mode)
    return ok, f"{env.display(c.parameter)} is {'executable' if ok else 'not an executable file'} ({mode})"


def _needs_update(c: Condition, env: Environment) -> _Result:
    # condition_test_needs_update: /usr newer than PARAM/.updated (or .updated missing) → an update is due.
    if c.parameter not in ("/etc", "/var"):
        return False, f"{c.parameter} is neither /etc nor /var"
    usr = env.stat("/usr")
    if usr is None:
        raise _Error("/usr is missing")
    upd = env.stat(posixpath.join(c.parameter, ".updated"))
    if upd is None:
        return True, f"{env.display(c.parameter + '/.updated')} does not exist"
    newer = usr.st_mtime_ns > upd.st_mtime_ns
    return newer, f"/usr is {'newer' if newer else 'not newer'} than {env.display(c.parameter + '/.updated')}"


def _first_boot(c: Condition, env: Environment) -> _Result:
    want = unitfile.parse_boolean(c.parameter)
    if want is None:
        raise _Error(f"not a boolean: {c.parameter}")
    if env.live:
        first = env.stat("/run/systemd/first-boot") is not None
        why = "/run/systemd/first-boot " + ("exists" if first else "does not exist")
    else:
        try:
            env.host.machine_id()
            first, why = False, "/etc/machine-id is initialized"
        except specifiers.Unknown:
            first, why = True, "/etc/machine-id is missing, empty or uninitialized: the next boot is a first boot"
    return first == want, why


def _architecture(c: Condition, env: Environment) -> _Result:
    try:
        arch = env.host.architecture()
    except specifiers.Unknown as e:
        return None, e.why
    want = arch if c.parameter == "native" else c.parameter
    return arch == want, f"the architecture is {arch}"


def _host(c: Condition, env: Environment) -> _Result:
    p = c.parameter
    if re.fullmatch(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", p):
        try:
            mid = env.host.machine_id()
        except specifiers.Unknown as e:
            return None, e.why
        return mid == p.replace("-", "").lower(), f"the machine ID is {mid}"
    try:
        name = env.host.hostname()
    except specifiers.Unknown as e:
        return None, e.why
    return fnmatch.fnmatchcase(name.lower(), p.lower()), f"the host name is {name}"


def _kernel_command_line(c: Condition, env: Environment) -> _Result:
    from .cmdline import split_words

    lines = env.cmdlines()
    if not lines:
        return None, ("the root names no kernel command line (no /etc/kernel/cmdline, GRUB_CMDLINE_LINUX or "
                      "loader entry)")
    results = set()
    for cl in lines:
        words = split_words(cl.text)
        if "=" in c.parameter:
            hit = c.parameter in words
        else:
            hit = any(w == c.parameter or w.startswith(c.parameter + "=") for w in words)
        results.add(hit)
    where = ", ".join(f"{env.display(cl.path)}{':' + str(cl.line) if cl.line else ''}" for cl in lines)
    if len(results) > 1:
        return None, f"the boot configurations disagree ({where})"
    hit = results.pop()
    return hit, f"{c.parameter} is {'on' if hit else 'not on'} the kernel command line ({where})"


def _kernel_version(c: Condition, env: Environment) -> _Result:
    if not env.live:
        return None, "the kernel that will run is known only when the system runs"
    release = os.uname().release
    if c.parameter[:1] in "<>=!":
        return None, "version comparisons are not evaluated"
    return fnmatch.fnmatchcase(release, c.parameter), f"the kernel release is {release}"


def _user(c: Condition, env: Environment) -> _Result:
    try:
        uid = env.host.uid()
        name = env.host.user_name()
    except specifiers.Unknown as e:
        return None, e.why
    p = c.parameter
    if p == "@system":
        return uid <= SYSTEM_UID_MAX, f"the manager runs as {name} (uid {uid})"
    if p.isdigit():
        return int(p) == uid, f"the manager runs as uid {uid}"
    return p == name, f"the manager runs as {name} (uid {uid})"


def _group(c: Condition, env: Environment) -> _Result:
    try:
        gid = env.host.gid()
        uid_name = env.host.user_name()
    except specifiers.Unknown as e:
        return None, e.why
    p = c.parameter
    gids = {gid}
    if env.scope != "system" and env.live:
        gids |= set(os.getgroups())  # the user manager runs with the groups of whoever started it
    elif env.scope != "system":
        for row in env.host._db("/etc/group"):
            if len(row) > 3 and uid_name in row[3].split(",") and row[2].isdigit():
                gids.add(int(row[2]))
    if p.isdigit():
        want = int(p)
    else:
        gr = env.host.group(p, by="name")
        if gr is None or not gr[2].isdigit():
            return False, f"no group {p} in {env.display('/etc/group')}"
        want = int(gr[2])
    return want in gids, f"the manager's groups are {', '.join(str(g) for g in sorted(gids))}"


def _os_release(c: Condition, env: Environment) -> _Result:
    osr = env.host.os_release()
    if osr is None:
        raise _Error("no os-release file")
    results = []
    for word in c.parameter.split():
        m = re.fullmatch(r"([A-Za-z0-9_]+)(!=|<=|>=|=|<|>)(.*)", word)
        if m is None:
            raise _Error(f"cannot parse {word}")
        key, op, want = m.groups()
        have = osr.get(key, "")
        if op in ("=", "!="):
            ok = (have == want) == (op == "=")
        else:
            cmp = _vercmp(have, want)
            ok = {"<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0}[op]
        results.append((ok, f"{key}={have}"))
    return all(r for r, _ in results), "os-release has " + ", ".join(w for _, w in results)


def _vercmp(a: str, b: str) -> int:
    """Ordering of version strings by numeric and non-numeric runs (close to ``strverscmp_improved``)."""
    def key(s: str) -> list[tuple[int, int, str]]:
        return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.findall(r"\d+|[^\d]+", s)]
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)


def _environment(c: Condition, env: Environment) -> _Result:
    if env.scope == "system":
        return None, "the system manager's own environment is set at boot"
    environ = env.host.environ
    p = c.parameter
    if "=" in p:
        k, _, v = p.partition("=")
        ok = environ.get(k) == v
    else:
        ok = p in environ
    return ok, f"the user manager's environment {'has' if ok else 'lacks'} {p}"


def _undecidable(what: str) -> Callable[[Condition, Environment], _Result]:
    def test(c: Condition, env: Environment) -> _Result:
        return None, f"{what} is known only on the machine that runs it"
    return test


_TESTS: dict[str, Callable[[Condition, Environment], _Result]] = {
    "PathExists": _path_exists,
    "PathExistsGlob": _path_exists_glob,
    "PathIsDirectory": _is_directory,
    "PathIsSymbolicLink": _is_symlink,
    "PathIsMountPoint": _mount_point,
    "PathIsReadWrite": _read_write,
    "PathIsEncrypted": _encrypted,
    "DirectoryNotEmpty": _dir_not_empty,
    "FileNotEmpty": _file_not_empty,
    "FileIsExecutable": _file_is_executable,
    "NeedsUpdate": _needs_update,
    "FirstBoot": _first_boot,
    "Architecture": _architecture,
    "Host": _host,
    "KernelCommandLine": _kernel_command_line,
    "KernelVersion": _kernel_version,
    "User": _user,
    "Group": _group,
    "OSRelease": _os_release,
    "Environment": _environment,
    "Firmware": _undecidable("the firmware"),
    "Virtualization": _undecidable("the virtualization the system runs under"),
    "Credential": _undecidable("which credentials the manager was given"),
    "Security": _undecidable("the security modules of the running kernel"),
    "Capability": _undecidable("the manager's capability bounding set"),
    "ACPower": _undecidable("whether the machine is on AC power"),
    "ControlGroupController": _undecidable("which cgroup controllers the kernel offers"),
    "Memory": _undecidable("the machine's memory"),
    "CPUs": _undecidable("the number of CPUs"),
    "CPUFeature": _undecidable("the CPU's features"),
    "MemoryPressure": _undecidable("memory pressure"),
    "CPUPressure": _undecidable("CPU pressure"),
    "IOPressure": _undecidable("I/O pressure"),
}
