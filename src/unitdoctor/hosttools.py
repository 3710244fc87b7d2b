"""Which programs of the host unitdoctor may run, and the switch that forbids them (docs/host-tools.md).

The engine reads a root itself. Two facts need a program of the host, found by a ``PATH`` search:

- ``rpm`` (``rpm --root ROOT --dbpath DB -q --path``, ``-V``): the package that owns a file, and whether
  it is intact. rpm also reads the host's own configuration (``/usr/lib/rpm/rpmrc``, ``macros``,
  ``rpmpopt-*``, ``/etc/rpm/``) and ``/proc/sys/kernel/cap_last_cap``;
- ``journalctl`` (``--file=`` the root's journal files; live: the host's journal): log lines around the
  time a mask appeared. It reads the host's ``/etc/systemd/journald.conf``-independent defaults and its
  message catalog.

``forbid()`` (``--no-host-tools``, or ``UNITDOCTOR_NO_HOST_TOOLS=1`` in the environment the CLI reads)
makes ``which`` answer None for them: the rpm database is then read directly where its format allows
(``rpmdb.sqlite``: owners; not ``rpm -V``, not the Berkeley DB or ndb formats), and the journal is not
read (its files are a binary, compressed format only journalctl reads). Each skipped source says so in
``why -v``. Front-end helpers that do not read the root (``dot`` for ``--graph FILE.svg``, the pager) are
not governed by this switch.
"""

from __future__ import annotations

from typing import Mapping, Optional

#: The programs this switch governs.
TOOLS = ("rpm", "journalctl")
#: The environment variable the CLI reads (any value but "" and "0" forbids).
ENV = "UNITDOCTOR_NO_HOST_TOOLS"

_forbidden = False


def forbid(on: bool = True) -> None:
    """Forbid (or allow again) running host programs for the rest of the process."""
    global _forbidden
    _forbidden = on


def forbidden() -> bool:
    return _forbidden


def from_environment(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` asks to forbid host programs."""
    return environ.get(ENV, "") not in ("", "0")


def which(name: str) -> Optional[str]:
    """The host program ``name`` found on ``PATH``, or None (not installed, or forbidden)."""
    assert name in TOOLS, name
    if _forbidden:
        return None
    import shutil  # only when a program is looked for: every command imports this module

    return shutil.which(name)


__all__ = ["ENV", "TOOLS", "forbid", "forbidden", "from_environment", "which"]
