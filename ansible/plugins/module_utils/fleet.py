# Copyright: unitdoctor developers
# MIT License (see LICENSE or https://spdx.org/licenses/MIT.html)
"""What the unitdoctor.systemd modules share: the engine opened for a root and scope, the manager reached,
and the engine's records turned into Ansible results.

The engine (``module_utils/unitdoctor``, copied from the project's ``src/unitdoctor`` by
``scripts/build-collection``) does the work; this file only calls it and its ``render`` package. The
running manager is reached as ``unitdoctor fix`` reaches it (D-Bus through jeepney) when jeepney is installed
on the target, and otherwise through ``systemctl`` (``unitdoctor.systemctl``): fleet hosts need only Python.
"""

from __future__ import annotations

import os

from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor import names
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.catalog import open_catalog
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.fix import OfflineOps
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.live import ManagerError
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.lookup import LookupError_, Scope
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.plan import (
    DropMaskedDropIn,
    EnableUnit,
    RemoveMask,
)
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.systemctl import SystemctlOps

#: ``ActiveState`` values of a unit that needs no start job.
RUNNING = ("active", "reloading", "activating")


class FleetError(Exception):
    """Bad input or an unusable host: the task fails with this one line."""


def mangle(name):
    """The unit name as systemctl would use it (``foo`` → ``foo.service``); FleetError when invalid."""
    try:
        return names.mangle(name)[0]
    except names.InvalidUnitName as e:
        raise FleetError(str(e)) from None


def catalog(root, scope, environ):
    """The engine's view of the unit files of ``scope`` under ``root`` (None: this host)."""
    try:
        return open_catalog(root, Scope(scope), environ)
    except LookupError_ as e:
        raise FleetError(f"scope={scope} cannot be used with root: {e}") from None
    except OSError as e:
        raise FleetError(f"Failed to initialize unit search paths for root directory {root}: {e.strerror}") from None


class Manager:
    """The running manager of ``scope`` on this host, or none (``root`` given, ``global`` scope, not booted).

    ``ops`` is the ``fix.ManagerOps`` to pass to ``fix.apply``; ``live`` whether a manager runs these unit
    files; ``note`` why not; ``facts(name)`` the manager's view for ``why`` (D-Bus only, else None).
    """

    def __init__(self, root, scope, environ):
        self.scope = scope
        self.environ = environ
        self.bus = None
        self.note = None
        self.via = None
        if root is not None:
            self.ops, self.live = OfflineOps(), False
            self.note = "root given: files only, nothing is reloaded or started"
            return
        if scope == "global":
            self.ops, self.live = OfflineOps(), False
            self.note = "scope=global: no single manager runs these unit files; files only"
            return
        self.ops, self.live = self._connect()

    def _connect(self):
        try:
            import jeepney  # noqa: F401  (optional on targets: D-Bus as unitdoctor fix talks to the manager)
        except ImportError:
            return self._systemctl()
        from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor import bus

        try:
            self.bus = bus.connect(self.scope, self.environ)
        except ManagerError as e:
            self.note = f"{e}; trying systemctl"
            return self._systemctl()
        self.via = f"D-Bus ({self.bus.via})"
        return bus.LiveOps(self.bus), True

    def _systemctl(self):
        ops = SystemctlOps(self.scope, self.environ)
        if self.scope == "system" and not os.path.isdir("/run/systemd/system"):
            self.note = "the host was not booted with systemd (no /run/systemd/system): files only"
            return OfflineOps(), False
        try:
            ops.active_state("-.slice" if self.scope == "system" else "default.target")
        except ManagerError as e:
            self.note = f"no {self.scope} manager answers ({e}): files only"
            return OfflineOps(), False
        self.via = "systemctl"
        return ops, True

    def facts(self, name):
        """The running manager's ``LiveUnit`` for ``name`` (None without D-Bus or when it cannot be asked)."""
        if self.bus is None:
            return None
        try:
            return self.bus.unit(name)
        except ManagerError:
            return None

    def problem_units(self):
        """For scan: the failed units and those needing a reload, from the manager (None without D-Bus)."""
        if self.bus is None:
            return None
        from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor import bus

        try:
            return bus.fetch_problem_units(self.scope, self.environ)
        except ManagerError:
            return None

    def active_state(self, name):
        """``ActiveState`` of ``name`` (None when no manager runs the files)."""
        if not self.live:
            return None
        try:
            if self.bus is not None:
                return self.bus.unit(name).active_state
            return self.ops.active_state(name)
        except ManagerError:
            return None

    def close(self):
        if self.bus is not None:
            self.bus.close()
            self.bus = None


# -- results ------------------------------------------------------------------------------------------


def verdict(report, active_state=None):
    """One unit's verdict: can it start, and if not which unit blocks it and systemctl's message."""
    b = report.start.blocker
    out = {
        "unit": report.unit,
        "ok": report.ok,
        "can_start": report.start.ok,
        "load_state": report.loaded.load_state.value,
        "unit_file_state": report.state.state.value,
        "blocker": b.unit if b else None,
        "reason": b.reason if b else None,
        "message": b.message if b else None,
    }
    if active_state is not None:
        out["active_state"] = active_state
    return out


def _chain(cat, chain):
    return [{"from": e.source, "dependency": e.dependency, "to": e.target, "source": _where(cat, e.origin)}
            for e in chain]


def _where(cat, origin):
    p = origin.path
    if p.startswith("/"):
        p = cat.root.display(p)
    return f"{p}:{origin.line}" if origin.line else p


def cause(cat, report):
    """Why ``report``'s unit cannot start, as a record: reason, blocker, chain, origin, evidence, advice.

    None when it can start and nothing is wrong. The finding is the first error about the blocking unit
    (else the first error): its ``origin`` says who masked it (admin, vendor, kernel-command-line, …).
    """
    if report.ok:
        return None
    b = report.start.blocker
    errors = [f for f in report.findings if f.severity.value == "error"]
    about = [f for f in errors if b is not None and f.unit == b.unit]
    f = (about or errors or [None])[0]
    out = {
        "reason": b.reason if b else (f.id if f else None),
        "blocker": b.unit if b else report.unit,
        "message": b.message if b else (f.summary if f else None),
        "chain": _chain(cat, b.chain) if b else [],
        "origin": f.origin if f else None,
        "finding": f.id if f else None,
        "summary": f.summary if f else None,
        "evidence": [{"kind": e.kind, "source": e.source, "text": e.text, "time": e.time}
                     for e in (f.evidence if f else ())],
        "fix": list(f.fix) if f else [],
    }
    return out


def _state_text(kind, target):
    if kind == "symlink":
        return f"symlink to {target}\n"
    if kind == "empty-file":
        return "empty file\n"
    if kind == "dir":
        return "directory\n"
    return "(absent)\n"


def diff(plan, root):
    """Ansible's diff for the files ``plan`` changes: one before/after per path, as the user names it."""
    out = []
    for a in plan.actions:
        if isinstance(a, (RemoveMask, DropMaskedDropIn)):
            out.append((a.path, _state_text(a.kind, a.link_target), _state_text(None, None)))
        elif isinstance(a, EnableUnit):
            for d in a.dirs:
                out.append((d, _state_text(None, None), _state_text("dir", None)))
            for lk in a.links:
                out.append((lk.path, _state_text(None, None), _state_text("symlink", lk.target)))
    return [{"before_header": root.display(p), "after_header": root.display(p), "before": before, "after": after}
            for p, before, after in out]


def file_changes(plan):
    """The actions of ``plan`` that change files (what makes a task ``changed`` before any start)."""
    return [a for a in plan.actions if isinstance(a, (RemoveMask, DropMaskedDropIn, EnableUnit))]


def environment():
    return dict(os.environ)
