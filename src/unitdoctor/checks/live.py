"""Where the running manager disagrees with the unit files: a stale state that needs daemon-reload, a failed run.

Only when the caller passed live facts (``Context.live_unit``). Fact sheet §4.5: ``NeedDaemonReload`` is true
when the fragment, a loaded drop-in or the drop-in set changed since the unit was loaded; it misses a new
higher-priority file, and in 252 it is spuriously true for a masked unit that has drop-ins (rule c). A unit
that is not loaded is read again on demand, so a difference in load state means the manager holds the unit
(it is active or referenced) with the state it read at the last reload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ..findings import Evidence, Finding, Severity
from ..manager import LoadState

if TYPE_CHECKING:
    from ..live import LiveUnit
    from . import Context

#: The pseudo-location of facts that come from the manager rather than a file.
SOURCE = "(running manager)"


def _state_text(live: LiveUnit) -> str:
    return f"LoadState={live.load_state.value}" + (f" ({live.load_error.message})" if live.load_error else "")


def check(ctx: Context) -> Iterator[Finding]:
    live = ctx.live_unit
    if live is None:
        return
    u = ctx.unit
    reload = f"systemctl {ctx.scope_flag}daemon-reload"
    files = u.load_state
    differs = live.load_state is not files
    spurious = (live.need_daemon_reload and live.load_state is LoadState.MASKED and files is LoadState.MASKED
                and bool(live.drop_in_paths))
    # A start now uses the manager's state: if that cannot load, the start fails whatever the files say.
    severity = Severity.ERROR if differs and files is LoadState.LOADED else Severity.WARNING
    evidence = (Evidence("live", SOURCE, _state_text(live)),
                Evidence("file", ctx.catalog.root.display(u.fragment) if u.fragment else u.id,
                         f"the unit files give LoadState={files.value}"))
    if spurious:
        yield Finding("spurious-needs-daemon-reload", Severity.INFO, u.name,
                      f"the manager says {live.id} needs daemon-reload, but in systemd 252 a masked unit with "
                      "drop-ins always says so; a reload does not clear it",
                      (Evidence("live", SOURCE, "NeedDaemonReload=yes, DropInPaths=" + " ".join(live.drop_in_paths)),))
    elif live.need_daemon_reload:
        summary = f"needs daemon-reload: the manager still has the old state of {live.id}"
        if differs:
            summary += f" (live load state {live.load_state.value} but files say {files.value})"
        else:
            summary += " (its unit file or drop-ins changed on disk)"
        yield Finding("needs-daemon-reload", severity, u.name, summary,
                      (Evidence("live", SOURCE, "NeedDaemonReload=yes"),) + (evidence if differs else ()),
                      (reload,))
    elif differs:
        yield Finding("live-load-state-differs", severity, u.name,
                      f"live load state {live.load_state.value} but files say {files.value}: the manager read "
                      f"{live.id} before the files changed (a new file in a higher-priority directory is not "
                      "noticed without a reload)", evidence, (reload,))
    if live.active_state == "failed":
        journal = f"journalctl {'--user ' if ctx.scope_flag.endswith('--user ') else ''}-u {live.id}"
        yield Finding("failed", Severity.WARNING, u.name,
                      f"{live.id} failed the last time it ran (result: {live.result or 'unknown'})",
                      (Evidence("live", SOURCE,
                                f"ActiveState={live.active_state}, SubState={live.sub_state}"
                                + (f", Result={live.result}" if live.result else "")),),
                      (f"see why: {journal}", f"systemctl {ctx.scope_flag}status {live.id}"))
