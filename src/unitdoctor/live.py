"""What the running manager says about a unit: the records ``bus.py`` returns and the engine compares.

The engine never talks to the manager: ``bus.py`` fills a ``LiveUnit`` from the properties of
``org.freedesktop.systemd1.Unit`` (and the type's ``Result``), and callers pass it in
(``report.why(..., live=...)``). Fact sheet §4.1 (LoadState, LoadError), §4.5 (NeedDaemonReload).
"""

from __future__ import annotations

from typing import Optional

from .manager import LoadState
from .records import dataclass


class ManagerError(Exception):
    """Base of every failure talking to the running manager.

    ``bus.py`` raises its subclasses (unavailable, permission denied, timeout, a D-Bus error reply); ``fix.py``
    catches this class around ``ManagerOps`` calls. It lives here, above both, so neither imports the other.
    """


@dataclass(frozen=True)
class LiveLoadError:
    """The unit's ``LoadError`` property: a D-Bus error name and its message (e.g. ``…systemd1.UnitMasked``)."""

    name: str
    message: str


@dataclass(frozen=True)
class LiveUnit:
    """One unit as the running manager holds it; strings are systemd's own (``systemctl show`` values).

    ``result`` is None for unit types without a ``Result`` property (target, device, slice).
    ``fragment_path`` is "" when the unit has none, as in ``show``. ``via`` names how the manager was
    reached (a socket path), for the report.
    """

    name: str
    id: str
    load_state: LoadState
    load_error: Optional[LiveLoadError]
    active_state: str
    sub_state: str
    result: Optional[str]
    need_daemon_reload: bool
    triggered_by: tuple[str, ...]
    triggers: tuple[str, ...]
    fragment_path: str
    drop_in_paths: tuple[str, ...]
    unit_file_state: str
    via: str = ""
