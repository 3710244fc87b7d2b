"""Unit search paths for a scope, as systemd 252 builds them (``lookup_paths_init``).

Fact sheet §1. Paths here are *root-relative* absolute strings (``/etc/systemd/system``); the
root itself is held separately and only ``rootfs`` joins the two. The environment is passed in,
never read from ``os.environ``, so a caller can describe another user's session or a test's.
"""

from __future__ import annotations

import enum
import posixpath
from typing import Mapping, Optional

from .records import dataclass

#: Debian 12 builds systemd with split-usr, SYSTEM_DATA_UNIT_DIR=/lib/systemd/system
#: (``systemd-analyze unit-paths`` lists /lib/systemd/system before /usr/lib/systemd/system).
SYSTEM_DATA_UNIT_DIR = "/lib/systemd/system"
SYSTEM_CONFIG_UNIT_DIR = "/etc/systemd/system"
USER_DATA_UNIT_DIR = "/usr/lib/systemd/user"
USER_CONFIG_UNIT_DIR = "/etc/systemd/user"
SPLIT_USR = True


class Scope(str, enum.Enum):
    """Which manager's unit files: systemctl's ``--system`` (default), ``--user`` or ``--global``."""

    SYSTEM = "system"
    USER = "user"
    GLOBAL = "global"


class Role(str, enum.Enum):
    """What a search directory is for. The value is the human name of the layer."""

    PERSISTENT_CONTROL = "persistent control"
    RUNTIME_CONTROL = "runtime control"
    TRANSIENT = "transient"
    GENERATOR_EARLY = "generator (early)"
    PERSISTENT_CONFIG = "persistent config"
    PERSISTENT_ATTACHED = "portable (persistent)"
    RUNTIME_CONFIG = "runtime config"
    RUNTIME_ATTACHED = "portable (runtime)"
    GENERATOR = "generator"
    GENERATOR_LATE = "generator (late)"
    GLOBAL_CONFIG = "global config"
    GLOBAL_RUNTIME = "global runtime config"
    XDG_CONFIG = "XDG config dir"
    DATA_HOME = "user data"
    XDG_DATA = "XDG data dir"
    LOCAL = "local vendor"
    VENDOR = "vendor"
    CUSTOM = "SYSTEMD_UNIT_PATH"


class LookupError_(ValueError):
    """The search path cannot be built (for example ``--user`` together with ``--root``)."""

    def __init__(self, errno: str, message: str) -> None:
        super().__init__(message)
        self.errno = errno


@dataclass(frozen=True)
class SearchDir:
    """One directory of the search path: its priority (0 is highest), path and role."""

    index: int
    path: str
    role: Role

    @property
    def layer(self) -> str:
        return f"{self.role.value} {self.path}"


@dataclass(frozen=True)
class LookupPaths:
    """The ordered unit search path and the special directories the state logic compares against.

    Implements ``lookup_paths_init`` (path-lookup.c, v252); fact sheet §1.1–§1.5.
    """

    scope: Scope
    search_path: tuple[SearchDir, ...]
    persistent_config: Optional[str]
    runtime_config: Optional[str]
    generator: Optional[str] = None
    generator_early: Optional[str] = None
    generator_late: Optional[str] = None
    transient: Optional[str] = None
    persistent_control: Optional[str] = None
    runtime_control: Optional[str] = None
    persistent_attached: Optional[str] = None
    runtime_attached: Optional[str] = None

    # -- predicates named as in install.c ---------------------------------------------------

    def is_config(self, directory: str) -> bool:
        """``path_is_config``: the persistent or runtime config dir exactly."""
        return directory in (self.persistent_config, self.runtime_config)

    def is_runtime(self, directory: str) -> bool:
        """``path_is_runtime``: anything under /run, or a runtime config, generator, transient or control dir."""
        if directory == "/run" or directory.startswith("/run/"):
            return True
        return directory in (
            self.runtime_config,
            self.generator,
            self.generator_early,
            self.generator_late,
            self.transient,
            self.runtime_control,
        )

    def is_generator(self, directory: str) -> bool:
        """``path_is_generator``: one of the three generator dirs."""
        return directory in (self.generator, self.generator_early, self.generator_late)

    def is_transient(self, directory: str) -> bool:
        return directory == self.transient

    def is_user_config_dir(self, directory: str) -> bool:
        """``path_is_user_config_dir``: /etc/systemd/user enables user units globally (user scope only)."""
        return self.scope is Scope.USER and directory in (USER_CONFIG_UNIT_DIR, "/etc/systemd/user")

    def is_vendor(self, directory: str) -> bool:
        """``path_is_vendor_or_generator``: /usr, split-usr /lib, a generator dir or the data unit dir."""
        return (
            directory.startswith("/usr/")
            or (SPLIT_USR and directory.startswith("/lib/"))
            or self.is_generator(directory)
            or directory == SYSTEM_DATA_UNIT_DIR
        )

    def dir_of(self, path: str) -> Optional[SearchDir]:
        """The search directory that holds ``path`` directly, if any."""
        parent = posixpath.dirname(path)
        for d in self.search_path:
            if d.path == parent:
                return d
        return None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def for_scope(
        cls, scope: Scope, *, environ: Mapping[str, str] | None = None, rooted: bool = False,
        cwd: str = "/",
    ) -> LookupPaths:
        """Build the search path of ``scope`` from ``environ`` (``rooted``: a ``--root`` is in use)."""
        env = dict(environ or {})
        if scope is Scope.USER and rooted:
            raise LookupError_("EINVAL", "Invalid argument")
        special: dict[str, Optional[str]]
        defaults: list[tuple[str, Role]]
        if scope is Scope.SYSTEM:
            system: dict[str, str] = dict(
                persistent_control="/etc/systemd/system.control",
                runtime_control="/run/systemd/system.control",
                transient="/run/systemd/transient",
                generator_early="/run/systemd/generator.early",
                persistent_config=SYSTEM_CONFIG_UNIT_DIR,
                persistent_attached="/etc/systemd/system.attached",
                runtime_config="/run/systemd/system",
                runtime_attached="/run/systemd/system.attached",
                generator="/run/systemd/generator",
                generator_late="/run/systemd/generator.late",
            )
            special = dict(system)
            defaults = [
                (system["persistent_control"], Role.PERSISTENT_CONTROL),
                (system["runtime_control"], Role.RUNTIME_CONTROL),
                (system["transient"], Role.TRANSIENT),
                (system["generator_early"], Role.GENERATOR_EARLY),
                (system["persistent_config"], Role.PERSISTENT_CONFIG),
                ("/etc/systemd/system", Role.PERSISTENT_CONFIG),
                (system["persistent_attached"], Role.PERSISTENT_ATTACHED),
                (system["runtime_config"], Role.RUNTIME_CONFIG),
                ("/run/systemd/system", Role.RUNTIME_CONFIG),
                (system["runtime_attached"], Role.RUNTIME_ATTACHED),
                (system["generator"], Role.GENERATOR),
                ("/usr/local/lib/systemd/system", Role.LOCAL),
                (SYSTEM_DATA_UNIT_DIR, Role.VENDOR),
                ("/usr/lib/systemd/system", Role.VENDOR),
                *([("/lib/systemd/system", Role.VENDOR)] if SPLIT_USR else []),
                (system["generator_late"], Role.GENERATOR_LATE),
            ]
        elif scope is Scope.GLOBAL:
            special = dict(persistent_config=USER_CONFIG_UNIT_DIR, runtime_config="/run/systemd/user")
            defaults = [
                (USER_CONFIG_UNIT_DIR, Role.PERSISTENT_CONFIG),
                ("/etc/systemd/user", Role.PERSISTENT_CONFIG),
                ("/run/systemd/user", Role.RUNTIME_CONFIG),
                ("/usr/local/share/systemd/user", Role.LOCAL),
                ("/usr/share/systemd/user", Role.VENDOR),
                ("/usr/local/lib/systemd/user", Role.LOCAL),
                (USER_DATA_UNIT_DIR, Role.VENDOR),
                ("/usr/lib/systemd/user", Role.VENDOR),
            ]
        else:
            special, defaults = _user_dirs(env, cwd)

        paths: list[tuple[str, Role]] = []
        unit_path = env.get("SYSTEMD_UNIT_PATH")
        append = True
        if unit_path is not None:
            append = unit_path.endswith(":")
            if append:
                unit_path = unit_path[:-1]
            for p in unit_path.split(":"):
                if p:
                    paths.append((_absolute(p, cwd), Role.CUSTOM))
        if append:
            paths.extend(defaults)

        seen: set[str] = set()
        search: list[SearchDir] = []
        for p, role in paths:
            p = posixpath.normpath(p) if p != "/" else p
            if p.startswith("//"):
                p = "/" + p.lstrip("/")
            if p in seen:
                continue
            seen.add(p)
            search.append(SearchDir(len(search), p, role))
        return cls(scope=scope, search_path=tuple(search), **special)


def _absolute(p: str, cwd: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, p))


def _user_dirs(env: Mapping[str, str], cwd: str) -> tuple[dict[str, Optional[str]], list[tuple[str, Role]]]:
    """``user_dirs()`` of path-lookup.c: the user scope search path from the XDG variables."""
    home = env.get("HOME") or "/root"
    config_home = env.get("XDG_CONFIG_HOME") or posixpath.join(home, ".config")
    data_home = env.get("XDG_DATA_HOME") or posixpath.join(home, ".local/share")
    runtime = env.get("XDG_RUNTIME_DIR")
    config_dirs = (env["XDG_CONFIG_DIRS"].split(":") if "XDG_CONFIG_DIRS" in env else ["/etc/xdg"])
    data_dirs = (env["XDG_DATA_DIRS"].split(":") if "XDG_DATA_DIRS" in env
                 else ["/usr/local/share", "/usr/share"])

    def rt(sub: str) -> Optional[str]:
        return posixpath.join(runtime, sub) if runtime else None

    special = dict(
        persistent_control=posixpath.join(config_home, "systemd/user.control"),
        runtime_control=rt("systemd/user.control"),
        transient=rt("systemd/transient"),
        generator_early=rt("systemd/generator.early"),
        persistent_config=posixpath.join(config_home, "systemd/user"),
        runtime_config=rt("systemd/user"),
        generator=rt("systemd/generator"),
        generator_late=rt("systemd/generator.late"),
    )
    entries: list[tuple[Optional[str], Role]] = [
        (special["persistent_control"], Role.PERSISTENT_CONTROL),
        (special["runtime_control"], Role.RUNTIME_CONTROL),
        (special["transient"], Role.TRANSIENT),
        (special["generator_early"], Role.GENERATOR_EARLY),
        (special["persistent_config"], Role.PERSISTENT_CONFIG),
        *[(posixpath.join(d, "systemd/user"), Role.XDG_CONFIG) for d in config_dirs],
        (USER_CONFIG_UNIT_DIR, Role.GLOBAL_CONFIG),
        (USER_CONFIG_UNIT_DIR, Role.GLOBAL_CONFIG),
        ("/etc/systemd/user", Role.GLOBAL_CONFIG),
        (special["runtime_config"], Role.RUNTIME_CONFIG),
        ("/run/systemd/user", Role.GLOBAL_RUNTIME),
        (special["generator"], Role.GENERATOR),
        (posixpath.join(data_home, "systemd/user"), Role.DATA_HOME),
        *[(posixpath.join(d, "systemd/user"), Role.XDG_DATA) for d in data_dirs],
        ("/usr/local/lib/systemd/user", Role.LOCAL),
        ("/usr/local/share/systemd/user", Role.LOCAL),
        (USER_DATA_UNIT_DIR, Role.VENDOR),
        ("/usr/lib/systemd/user", Role.VENDOR),
        ("/usr/share/systemd/user", Role.VENDOR),
        (special["generator_late"], Role.GENERATOR_LATE),
    ]
    return special, [(_absolute(p, cwd), role) for p, role in entries if p]
