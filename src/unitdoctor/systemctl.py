"""``fix.ManagerOps`` through the ``systemctl`` binary, for hosts where jeepney (``bus.py``) is not installed.

The Ansible collection runs the engine on fleet hosts that have Python and systemd but no third-party
packages; there the manager is reached the way ``ansible.builtin.systemd_service`` reaches it, by running
``systemctl [--user] VERB``. The verbs are the ones ``bus.LiveOps`` calls over D-Bus: ``daemon-reload``,
``start`` (which waits for the job, as ``StartUnit`` + ``JobRemoved`` does) and ``enable``; ``active_state``
reads ``ActiveState`` with ``systemctl show``. A verb that fails raises ``ManagerError`` with systemctl's own
message (its stderr), so ``fix`` records it exactly as it records a D-Bus error.

Only the standard library; ``subprocess`` is imported when a verb runs.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

from .live import ManagerError

#: ``Created symlink P → T.`` (install_changes_dump, fact sheet §8); the arrow is ASCII without a UTF-8 locale.
_CREATED = re.compile(r"^Created symlink (.+?) (?:→|->) (.+)\.$")
#: How long a verb may take: a start job may run the default ``TimeoutStartSec=90s`` and more.
TIMEOUT = 300.0


class SystemctlOps:
    """``ManagerOps`` for the ``scope`` manager (``system`` or ``user``) through ``systemctl``.

    ``environ`` is the environment systemctl runs with (``XDG_RUNTIME_DIR`` finds the user manager).
    """

    def __init__(self, scope: str, environ: Optional[Mapping[str, str]] = None, *, binary: str = "systemctl",
                 timeout: float = TIMEOUT) -> None:
        if scope not in ("system", "user"):
            raise ValueError(f"no single manager runs the {scope} scope's unit files")
        self.scope = scope
        self.environ = dict(environ) if environ is not None else None
        self.binary = binary
        self.timeout = timeout

    def _run(self, *args: str) -> tuple[int, str, str]:
        import subprocess

        cmd = [self.binary, *(["--user"] if self.scope == "user" else []), "--no-ask-password", "--no-pager", *args]
        env = dict(self.environ) if self.environ is not None else None
        if env is not None:
            env.setdefault("SYSTEMD_COLORS", "0")
        try:
            cp = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise ManagerError(f"{self.binary} not found") from None
        except subprocess.TimeoutExpired:
            raise ManagerError(f"{' '.join(cmd)}: no answer within {self.timeout:g} s") from None
        return cp.returncode, cp.stdout, cp.stderr

    def _check(self, *args: str) -> tuple[str, str]:
        rc, out, err = self._run(*args)
        if rc != 0:
            raise ManagerError(err.strip() or f"systemctl {args[0]} failed with status {rc}")
        return out, err

    def daemon_reload(self) -> None:
        self._check("daemon-reload")

    def active_state(self, unit: str) -> str:
        """The unit's ``ActiveState`` (``inactive`` for a unit the manager has not loaded)."""
        out, _err = self._check("show", "--property=ActiveState", "--value", "--", unit)
        return out.strip()

    def start(self, unit: str) -> str:
        """Start ``unit``, wait for its job, and return its ActiveState afterwards.

        A unit whose start job failed is ``failed`` (returned, as ``bus.LiveOps`` does); a transaction that
        systemctl refuses (masked, not found, a masked dependency) raises ``ManagerError`` with its message.
        """
        rc, _out, err = self._run("start", "--", unit)
        state = self.active_state(unit)
        if rc != 0 and state not in ("failed", "activating", "active"):
            raise ManagerError(err.strip() or f"systemctl start {unit} failed with status {rc}")
        return state

    def enable(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        """Enable ``units`` (no reload); the (symlink path, target) pairs systemctl reports it created."""
        out, err = self._check("enable", *(["--runtime"] if runtime else []), "--", *units)
        return created_links((out + "\n" + err).splitlines())

    def unmask(self, units: list[str], runtime: bool) -> list[str]:
        """Unmask ``units`` through systemctl (not used by ``fix.apply``); the paths it reports removed."""
        out, err = self._check("unmask", *(["--runtime"] if runtime else []), "--", *units)
        return [m.group(1) for m in (re.match(r'^Removed "?(.+?)"?\.$', line.strip())
                                     for line in (out + "\n" + err).splitlines()) if m]


    def disable(self, units: list[str], runtime: bool) -> list[str]:
        """Disable ``units`` through systemctl (no reload); the paths it reports removed."""
        out, err = self._check("disable", "--no-reload", *(["--runtime"] if runtime else []), "--", *units)
        return [m.group(1) for m in (re.match(r'^Removed "?(.+?)"?\.$', line.strip())
                                     for line in (out + "\n" + err).splitlines()) if m]

    def mask(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        """Mask ``units`` through systemctl (no reload); the (link, target) pairs it reports created."""
        out, err = self._check("mask", *(["--runtime"] if runtime else []), "--", *units)
        return created_links((out + "\n" + err).splitlines())


def created_links(lines: Sequence[str]) -> list[tuple[str, str]]:
    """(path, target) of every ``Created symlink P → T.`` line."""
    out = []
    for line in lines:
        m = _CREATED.match(line.strip())
        if m:
            out.append((m.group(1), m.group(2)))
    return out
