"""What happens when the manager spawns a service's processes: executables, working directory, environment
files, root directory, user and group — and what a failure does to the start job for each Type=.

Named after systemd's execute.c (v252). Each check answers from the root's files:

- **Exec*= commands** (``config_parse_exec``): prefixes ``-`` (failure ignored), ``@`` (argv[0] given
  separately), ``:`` (no environment expansion), ``+`` (full privileges: User=, Group= and
  RootDirectory= not applied), ``!``/``!!`` (User= and Group= not applied). A name without ``/`` is
  searched in the manager's default PATH, not ``$PATH`` (``find_executable_full(…, use_path_envvar=false)``);
  the file must be a regular file with an execute bit, else the process exits with 203/EXEC.
- **WorkingDirectory=** (``-`` ignores a missing directory; ``~`` is the user's home): 200/CHDIR.
- **EnvironmentFile=** (``-`` ignores a missing file; globs allowed): read before every spawn; a missing
  file fails the unit with result ``resources``.
- **RootDirectory=**: the commands and working directory are looked up inside it; a missing one is
  226/NAMESPACE.
- **User=/Group=** against the root's ``/etc/passwd``/``/etc/group`` (and ``sysusers.d``, which creates
  users at boot); numeric ids always work; ``DynamicUser=yes`` allocates its own. 217/USER, 216/GROUP.

What the job sees (checked with a live ``systemd --user``, tests/live/test_exec_vs_manager.py): a
missing EnvironmentFile= fails the start job of every Type=; a failing ExecStartPre=/ExecStartPost= fails
it for every Type= but ``idle``; a failing main process (ExecStart=) fails the job of
``exec``/``oneshot``/``forking``/``notify``/``dbus``, while ``simple`` and ``idle`` report the job
done (``systemctl start`` returns 0) and the unit then fails. A failing ExecCondition= skips
the unit like a failed condition.
"""

from __future__ import annotations

import os
import posixpath
import stat
from typing import TYPE_CHECKING, Callable, Optional

from . import specifiers, unitfile
from .origin import Origin
from .records import dataclass

if TYPE_CHECKING:
    from .manager import Manager, Unit

#: ``expand(text, max_length)``: a unit's setting with its specifiers resolved, None when they cannot be.
Expander = Callable[[str, int], Optional[str]]

#: DEFAULT_PATH of a split-/usr build (Debian 12's 252: ``systemd-path search-binaries-default``).
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
#: Types whose start job completes when the main process has been forked.
FORK_COMPLETES = frozenset(("simple", "idle"))
SERVICE_TYPES = ("simple", "exec", "forking", "oneshot", "dbus", "notify", "idle")


@dataclass(frozen=True)
class ExecProblem:
    """One thing that makes a spawned process fail: ``what`` (``exec``, ``working-directory``,
    ``environment-file``, ``root-directory``, ``user``, ``group``), the setting that names it,
    ``result`` (the unit's Result=: ``exit-code`` or ``resources``), ``status`` (203/EXEC…),
    ``effect``: ``job-fails`` (systemctl start fails), ``unit-fails`` (the job is done, the unit then
    fails), ``skipped`` (ExecCondition=) or ``none`` (only ExecStop=/ExecReload=…; reported, no
    effect on starting). ``certain`` False when the root cannot tell (a user from a network directory)."""

    what: str
    setting: str
    origin: Origin
    detail: str
    result: str
    status: str
    effect: str
    certain: bool = True
    key: str = ""  # the Exec*= command whose process fails (ExecStart: the main process)
    #: What is missing, as the unit names it after specifiers: a path inside the root (the command, the
    #: directory, the environment file) or a user or group name. Fixes are built from it.
    subject: str = ""


@dataclass(frozen=True)
class Command:
    """One Exec*= command after parsing: the key, the executable as written and as resolved."""

    key: str
    path: str
    ignore_failure: bool
    full_privileges: bool  # "+"
    no_user: bool  # "+", "!", "!!"
    origin: Origin


def parse_command(key: str, value: str, origin: Origin) -> Optional[Command]:
    """The executable and prefixes of one Exec*= value (first word), or None for an empty one."""
    words = value.split()
    if not words:
        return None
    first = words[0]
    ignore = plus = excl = False
    while first and first[0] in "-@:+!":
        c = first[0]
        ignore |= c == "-"
        plus |= c == "+"
        excl |= c == "!"
        first = first[1:]
    if not first and len(words) > 1:  # "- /bin/true": the prefix stands alone
        first = words[1]
    return Command(key, first, ignore, plus, plus or excl, origin)


class Checker:
    """Exec checks for the units of one manager (its root, scope and specifier values)."""

    def __init__(self, mgr: Manager) -> None:
        self.mgr = mgr
        self.root = mgr.cat.root
        self.host = mgr.host
        self.scope = mgr.scope.value
        self._applies: Optional[bool] = None
        self._sysusers_found: Optional[frozenset[tuple[str, str]]] = None

    @property
    def applies(self) -> bool:
        """Whether the root is a system that runs programs: it has ``/bin/sh`` or ``/usr/bin/sh``. A
        root that holds only unit files (an example, a test tree) cannot answer exec questions."""
        if self._applies is None:
            self._applies = self.root.is_host or any(self._stat(p) is not None for p in ("/bin/sh", "/usr/bin/sh"))
        return self._applies

    # -- lookups in the root ----------------------------------------------------------------------

    def _stat(self, path: str) -> Optional[os.stat_result]:
        try:
            return self.root.stat(path)
        except OSError:
            return None

    def executable(self, path: str, rootdir: str = "") -> tuple[Optional[str], str]:
        """(the file that would run, or None; what was found) for a command path, PATH-searched when it
        has no ``/``."""
        cands = [path] if "/" in path else [posixpath.join(d, path) for d in DEFAULT_PATH]
        why = ""
        for cand in cands:
            st = self._stat(rootdir + cand if rootdir else cand)
            if st is None:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                return cand, "executable"
            why = why or f"{cand} is not an executable file ({stat.filemode(st.st_mode)})"
        if why:
            return None, why
        if "/" in path:
            return None, "No such file or directory"
        return None, "not found in " + ":".join(DEFAULT_PATH)

    def user_exists(self, name: str) -> Optional[bool]:
        """Whether User= resolves: a number, a passwd entry, a sysusers.d line; None when another name
        service may know it."""
        if name.isdigit():
            return True
        if self.host.passwd(name, by="name") is not None or self._sysusers("u", name):
            return True
        return None if self._other_nss("passwd") else False

    def group_exists(self, name: str) -> Optional[bool]:
        if name.isdigit():
            return True
        if self.host.group(name, by="name") is not None or self._sysusers("g", name) or self._sysusers("u", name):
            return True
        return None if self._other_nss("group") else False

    def _sysusers(self, kind: str, name: str) -> bool:
        if self._sysusers_found is None:
            found: set[tuple[str, str]] = set()
            for d in ("/usr/lib/sysusers.d", "/etc/sysusers.d", "/run/sysusers.d"):
                try:
                    entries = self.root.scandir(d)
                except OSError:
                    continue
                for e in entries:
                    if not e.name.endswith(".conf"):
                        continue
                    try:
                        text = self.root.read(posixpath.join(d, e.name), 1 << 20).decode("utf-8", "replace")
                    except OSError:
                        continue
                    for line in text.splitlines():
                        w = line.split()
                        if len(w) >= 2 and w[0] in ("u", "g", "u!"):
                            found.add((w[0][0], w[1]))
            self._sysusers_found = frozenset(found)
        return (kind, name) in self._sysusers_found

    def _other_nss(self, db: str) -> bool:
        try:
            text = self.root.read("/etc/nsswitch.conf", 1 << 20).decode("utf-8", "replace")
        except OSError:
            return False
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key.strip() == db:
                sources = [w for w in rest.split() if not w.startswith("[")]
                return any(s not in ("files", "systemd", "compat") for s in sources)
        return False

    # -- one unit ---------------------------------------------------------------------------------

    def problems(self, unit: Unit) -> tuple[ExecProblem, ...]:
        """Everything that makes one of the service's processes fail, in the order they run."""
        if unit.type != "service" or not self.applies:
            return ()
        stype = self.mgr.service_type(unit)
        cmds = self.mgr.exec_commands(unit)
        expand = self._expander(unit)
        out: list[ExecProblem] = []

        def last(key: str) -> Optional[unitfile.Assignment]:
            return unit.last("Service", key)

        dyn = last("DynamicUser")
        dynamic = dyn is not None and unitfile.parse_boolean(dyn.value) is True

        # Settings that apply to every process: what fails first decides.
        env_files = self._environment_files(unit, expand)
        rootdir_a = last("RootDirectory")
        rootdir = ""
        if rootdir_a is not None and rootdir_a.value:
            rd = expand(rootdir_a.value, specifiers.PATH_MAX)
            if rd is not None and rd.startswith("/"):
                rootdir = posixpath.normpath(rd)
        general: list[tuple[str, str, Origin, str, str, str, bool, str]] = []  # applies to processes spawned
        for a, env_file in env_files:
            general.append(("environment-file", f"EnvironmentFile={a.value}", a.origin,
                            f"{self.root.display(env_file)} does not exist" + self._runtime_note(env_file),
                            "resources", "", not self._runtime(env_file), env_file))
        if rootdir_a is not None and rootdir and self._stat(rootdir) is None:
            general.append(("root-directory", f"RootDirectory={rootdir_a.value}", rootdir_a.origin,
                            f"{self.root.display(rootdir)} does not exist", "exit-code", "226/NAMESPACE", True,
                            rootdir))
        user = last("User")
        user_name: Optional[str] = None
        if user is not None and user.value and not dynamic:
            uname = expand(user.value, specifiers.LINE_MAX)
            if uname:
                user_name = uname
                ok = self._user_ok(uname)
                if ok is not True:
                    general.append(("user", f"User={user.value}", user.origin, self._user_detail(uname, ok),
                                    "exit-code", "217/USER", ok is False, uname))
        group = last("Group")
        if group is not None and group.value and not dynamic:
            gname = expand(group.value, specifiers.LINE_MAX)
            if gname:
                ok = self.group_exists(gname)
                if ok is not True:
                    general.append(("group", f"Group={group.value}", group.origin,
                                    f"no group {gname} in {self.root.display('/etc/group')}" if ok is False
                                    else f"group {gname} is not in /etc/group; another name service may know it",
                                    "exit-code", "216/GROUP", ok is False, gname))
        wd = last("WorkingDirectory")
        if wd is not None and wd.value:
            v = wd.value
            missing_ok = v.startswith("-")
            v = v[1:] if missing_ok else v
            path: Optional[str] = None
            if v == "~":
                path = self._home(user_name)
            else:
                path = expand(v, specifiers.PATH_MAX)
            if path and path.startswith("/") and not missing_ok:
                full = (rootdir + path) if rootdir else path
                st = self._stat(full)
                if st is None or not stat.S_ISDIR(st.st_mode):
                    state = "does not exist" if st is None else "is not a directory"
                    general.append(("working-directory", f"WorkingDirectory={wd.value}", wd.origin,
                                    f"{self.root.display(full)} {state}" + self._runtime_note(full), "exit-code",
                                    "200/CHDIR", not self._runtime(full), full))

        order = ("ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost")
        first_spawn = True
        main_failed: Optional[ExecProblem] = None
        for key in order:
            for a in cmds[key]:
                cmd = parse_command(key, a.value, a.origin)
                if cmd is None:
                    continue
                fails: list[tuple[str, str, Origin, str, str, str, bool, str]] = []
                if first_spawn:
                    fails += [g for g in general if g[0] == "environment-file"]
                # exec_child()'s order: user, group, namespace (RootDirectory=), the executable, then chdir.
                for g in general:
                    if g[0] in ("environment-file", "working-directory"):
                        continue
                    if g[0] in ("user", "group") and cmd.no_user:
                        continue
                    if g[0] == "root-directory" and cmd.full_privileges:
                        continue
                    fails.append(g)
                path = expand(cmd.path, specifiers.PATH_MAX)
                if path is not None and not fails and not self._runtime(path):
                    found, why = self.executable(path, "" if cmd.full_privileges else rootdir)
                    if found is None:
                        fails.append(("exec", f"{key}={a.value}", a.origin,
                                      f"Command {path} is not executable: {why}", "exit-code", "203/EXEC", True, path))
                if not fails:
                    fails += [g for g in general if g[0] == "working-directory"]
                first_spawn = False
                if not fails:
                    continue
                what, setting, origin, detail, result, status, certain, subject = fails[0]
                if result == "resources":
                    effect = "job-fails"
                elif cmd.ignore_failure:
                    # "-": the failure is ignored; the service goes on (a main process that exits at once
                    # leaves the unit inactive, not failed).
                    out.append(ExecProblem(what, setting, origin, detail, result, status, "ignored", certain, key,
                                           subject))
                    if key == "ExecStart" and stype != "oneshot":
                        # The main process is gone: the service stops before ExecStartPost= runs.
                        return tuple(out)
                    continue
                elif key == "ExecCondition":
                    effect = "skipped"
                elif stype == "idle" or (key == "ExecStart" and stype == "simple"):
                    effect = "unit-fails"
                else:
                    effect = "job-fails"
                problem = ExecProblem(what, setting, origin, detail, result, status, effect, certain, key, subject)
                if effect == "unit-fails" and key == "ExecStart" and stype == "simple":
                    # Type=simple/idle: ExecStartPost= still runs right after the fork, and the job
                    # waits for it; a failing one fails the job.
                    main_failed = problem
                    continue
                if main_failed is not None:
                    return tuple(out) + (problem, main_failed)
                out.append(problem)
                return tuple(out)
        if main_failed is not None:
            return tuple(out) + (main_failed,)
        # Commands that do not run at start: reported for what they will do later.
        for key in ("ExecReload", "ExecStop", "ExecStopPost"):
            for a in cmds[key]:
                cmd = parse_command(key, a.value, a.origin)
                if cmd is None or cmd.ignore_failure:
                    continue
                path = expand(cmd.path, specifiers.PATH_MAX)
                if path is None:
                    continue
                found, why = self.executable(path, "" if cmd.full_privileges else rootdir)
                if found is None:
                    out.append(ExecProblem("exec", f"{key}={a.value}", a.origin,
                                           f"Command {path} is not executable: {why}", "exit-code", "203/EXEC",
                                           "none", True, key, path))
        return tuple(out)

    def _runtime(self, path: str) -> bool:
        """A path on a file system the booted system fills (/run, /dev…): the offline root cannot tell."""
        from .condition import _runtime_fs

        return not self.root.is_host and _runtime_fs(path) is not None

    def _runtime_note(self, path: str) -> str:
        return " in the root; it is on a file system filled only when the system runs" if self._runtime(path) else ""

    def _expander(self, unit: Unit) -> Expander:
        def expand(text: str, max_length: int) -> Optional[str]:
            try:
                e = self.mgr.expand(unit.id, unit.fragment, text, max_length=max_length)
            except specifiers.SpecifierError:
                return None
            return None if e.unknown else e.text
        return expand

    def _environment_files(self, unit: Unit, expand: Expander) -> list[tuple[unitfile.Assignment, str]]:
        """EnvironmentFile= lines (an empty one resets the list) whose files are missing and not ``-``."""
        lines: list[unitfile.Assignment] = []
        for a in unit.settings("Service", "EnvironmentFile"):
            lines = [] if not a.value.strip() else lines + [a]
        missing: list[tuple[unitfile.Assignment, str]] = []
        for a in lines:
            v = a.value.strip()
            if v.startswith("-"):
                continue
            path = expand(v, specifiers.PATH_MAX)
            if path is None or not path.startswith("/"):
                continue
            if any(c in path for c in "*?["):
                from .condition import _glob_first

                if _glob_first(self.root, path) is None:
                    missing.append((a, path))
                continue
            st = self._stat(path)
            if st is None or not stat.S_ISREG(st.st_mode):
                missing.append((a, path))
        return missing

    def _user_ok(self, name: str) -> Optional[bool]:
        if self.scope != "system":
            # A user manager cannot change its user: only its own user (or its uid) works.
            try:
                me, uid = self.host.user_name(), str(self.host.uid())
            except specifiers.Unknown:
                return None
            return name in (me, uid)
        return self.user_exists(name)

    def _user_detail(self, name: str, ok: Optional[bool]) -> str:
        if self.scope != "system":
            return f"a user manager runs as its own user and cannot switch to {name}"
        if ok is None:
            return f"user {name} is not in /etc/passwd or sysusers.d; another name service may know it"
        return f"no user {name} in {self.root.display('/etc/passwd')} or sysusers.d"

    def _home(self, user: Optional[str]) -> Optional[str]:
        if user is None:
            try:
                return self.host.user_home()
            except specifiers.Unknown:
                return None
        if user in ("root", "0"):
            return "/root"
        pw = self.host.passwd(user, by="name" if not user.isdigit() else "uid")
        return pw[5] if pw is not None and len(pw) > 5 else None

