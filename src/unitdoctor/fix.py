"""The only writer: carries out a ``Plan``, journaled first, re-checking every path right before acting.

``apply(plan, root=…, journal=…, ops=…)``:

1. **Validate** every unit name and path in the plan before anything else (``InvalidPlan``): paths are
   absolute and normalised, never under ``/usr`` or split-usr ``/lib``, and only unit names, drop-ins and
   enablement links.
2. **Lock** the journal (``flock``), so concurrent fixes run one after the other. An interrupted fix found
   there must be completed (``recover``) or rolled back (``undo``) first.
3. **Check** the current state of every path through a directory descriptor confined to the root
   (``journal.open_dir``). A path that no longer holds what the plan saw refuses the whole fix, before any
   change; a mask that is already gone is skipped.
4. **Journal**: the entry, with the exact prior state of every path, is written and fsync'd.
5. **Act**, file steps first: each re-checks with ``lstat`` through its parent's descriptor that the object
   is the very one recorded (same kind, link text, emptiness, inode). A mask is then moved aside into
   quarantine in one ``rename`` and deleted there only if what arrived is the mask (else put back, never
   replacing); a link or empty file is built in quarantine and renamed into place without replacing
   anything (docs/journal.md, "Quarantine"). A regular file with content is never removed. A step that fails
   or finds a swap stops the fix, and the steps already done are reversed from the journal: files are
   all-or-nothing.
6. **Manager** steps (live only): enable through the manager, ``daemon-reload``, ``start``. Their failures
   are reported; they do not roll back the files, which are right.

**Through the manager** (``apply(via_manager=True)``, a user who may not write the files but whom polkit lets
ask): each mask is removed by the manager's ``UnmaskUnitFiles`` (an ``unmask`` step, same checks and journal),
and undone by ``MaskUnitFiles``; an enable undone by ``DisableUnitFiles`` (a ``disable`` step); the entry says
``via="manager"``. ``manager_route`` says which plans qualify (only those whose undo is exact).

``undo(entry)`` runs the journaled file steps backwards the same way (as a journaled entry of its own), and
``recover()`` completes interrupted entries (or rolls them back). Manager operations go through ``ops``
(``ManagerOps``): ``bus.py`` implements it over D-Bus, ``OfflineOps`` for a ``--root``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Callable, Optional, Protocol, Union

from . import names
from .catalog import Catalog
from .journal import (
    ABSENT,
    CONFLICT,
    DONE,
    IN_PROGRESS,
    LOCAL_QUARANTINE,
    ROLLED_BACK,
    ROLLING_BACK,
    UNDONE,
    Entry,
    EntryStatus,
    FileState,
    Journal,
    Step,
    StepKind,
    StepState,
    dir_fd,
    move_noreplace,
    move_out,
    open_dir,
    state_at,
    unlink_if_unopened,
)
from .live import ManagerError  # bus.py's errors derive from it; re-exported
from .plan import (
    Advice,
    DaemonReload,
    DropMaskedDropIn,
    EnableUnit,
    Plan,
    RemoveMask,
    StartUnit,
    action_record,
    is_vendor_path,
)
from .records import StrEnum
from .report import Report, why
from .rootfs import Root

#: How long ``apply`` waits for another fix to release the journal lock.
LOCK_TIMEOUT = 60.0
#: What ``OfflineOps.start`` reports: there is no manager to ask.
NOT_APPLICABLE = "not-applicable"


class Unjournaled(StrEnum):
    """How a command ended that wrote no journal entry of its own (an outcome's status beyond the journal's)."""

    REFUSED = "refused"
    NOTHING = "nothing-to-do"
    PLANNED = "planned"  # undo --dry-run: what undo would do


REFUSED, NOTHING, PLANNED = Unjournaled
#: An outcome's status: its journal entry's, or how it ended without one.
OutcomeStatus = Union[EntryStatus, Unjournaled]


class InvalidPlan(ValueError):
    """A plan names an invalid unit or a path ``fix`` must never touch."""


class Conflict(Exception):
    """A path does not hold what the journal says it should: left alone."""


class ManagerOps(Protocol):
    """What ``fix`` asks of the service manager. Failures raise ``ManagerError`` (or OSError, TimeoutError)."""

    def daemon_reload(self) -> None: ...

    def start(self, unit: str) -> str:
        """Start ``unit``, wait for the job, and return the unit's ActiveState afterwards."""
        ...

    def enable(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        """Enable ``units``; return the (symlink path, target) pairs created."""
        ...

    def unmask(self, units: list[str], runtime: bool) -> list[str]:
        """Unmask ``units`` through the manager (``apply(via_manager=True)``); return the paths removed."""
        ...

    def mask(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        """Mask ``units`` through the manager (undo of a manager-made unmask); the (link, target) pairs created."""
        ...

    def disable(self, units: list[str], runtime: bool) -> list[str]:
        """Disable ``units`` through the manager (undo of a manager-made enable); the links removed."""
        ...


class OfflineOps:
    """``ManagerOps`` for a root no manager runs: nothing is reloaded or started, and that is recorded."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def daemon_reload(self) -> None:
        self.notes.append("daemon-reload: not applicable offline")

    def start(self, unit: str) -> str:
        self.notes.append(f"start {unit}: not applicable offline")
        return NOT_APPLICABLE

    def enable(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        self.notes.append(f"enable {' '.join(units)} through a manager: not applicable offline")
        return []

    def unmask(self, units: list[str], runtime: bool) -> list[str]:
        self.notes.append(f"unmask {' '.join(units)} through a manager: not applicable offline")
        return []

    def mask(self, units: list[str], runtime: bool) -> list[tuple[str, str]]:
        self.notes.append(f"mask {' '.join(units)} through a manager: not applicable offline")
        return []

    def disable(self, units: list[str], runtime: bool) -> list[str]:
        self.notes.append(f"disable {' '.join(units)} through a manager: not applicable offline")
        return []


@dataclass(frozen=True)
class Outcome:
    """What a fix, undo or recovery did: its journal entry, each step's result, and ``why`` afterwards."""

    command: str  # "fix" | "undo" | "recover"
    status: OutcomeStatus
    entry: Optional[str]
    steps: tuple[Step, ...] = ()
    messages: tuple[str, ...] = ()
    after: tuple[Report, ...] = ()
    undoes: Optional[str] = None
    interrupted: tuple[str, ...] = ()  # entries that stopped a fix from starting

    @property
    def failed(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.state is StepState.FAILED)

    @property
    def started(self) -> tuple[tuple[str, str], ...]:
        return tuple((s.unit or "", s.result or "") for s in self.steps if s.kind is StepKind.START and s.result)

    @property
    def completed(self) -> bool:
        """The command ran to its end (done, or there was nothing to do); a step may still have failed."""
        return self.status in (DONE, NOTHING)

    @property
    def ok(self) -> bool:
        """Everything planned was done, nothing failed, and (for a fix) ``why`` is clean afterwards.

        An undo restores the state before a fix, problems included, so its ``after`` is information only.
        """
        return (self.completed and not self.failed
                and (self.undoes is not None or all(r.ok for r in self.after)))


@dataclass
class Hooks:
    """Test-only observation points: ``before_act(step)`` right before a file step's re-check, and
    ``checkpoint(name)`` after each durable point (``journal-written``, ``step-N-acted``,
    ``step-N-recorded``, ``done``). Production callers pass neither."""

    before_act: Optional[Callable[[Step], None]] = None
    checkpoint: Optional[Callable[[str], None]] = None

    def act(self, step: Step) -> None:
        if self.before_act is not None:
            self.before_act(step)

    def point(self, name: str) -> None:
        if self.checkpoint is not None:
            self.checkpoint(name)


# -- validation ---------------------------------------------------------------------------------------


def _bad_path(path: Optional[str]) -> Optional[str]:
    """Why ``path`` may not be written (root-relative), or None."""
    if not path or not path.startswith("/") or path == "/":
        return "not an absolute path below /"
    if posixpath.normpath(path) != path or "/../" in path + "/" or "/./" in path + "/":
        return "not a normalised path"
    if is_vendor_path(path):
        return "under /usr (vendor files are never changed)"
    return None


def validate(plan: Plan) -> None:
    """Raise ``InvalidPlan`` unless every unit name and path in ``plan`` is one ``fix`` may act on."""

    def unit(n: str) -> None:
        if not names.is_valid(n):
            raise InvalidPlan(f'"{n}" is not a valid unit name.')

    def path(p: Optional[str]) -> None:
        bad = _bad_path(p)
        if bad:
            raise InvalidPlan(f"refusing to touch {p!r}: {bad}")

    for a in plan.actions:
        if isinstance(a, (RemoveMask, DropMaskedDropIn)):
            unit(a.unit)
            path(a.path)
            if a.kind not in ("symlink", "empty-file") or (a.kind == "symlink") != (a.link_target is not None):
                raise InvalidPlan(f"{a.path}: a mask is a symlink with its text or an empty file")
            base = posixpath.basename(a.path)
            if isinstance(a, RemoveMask):
                unit(base)
            elif not (base.endswith(".conf") and posixpath.basename(posixpath.dirname(a.path)).endswith(".d")):
                raise InvalidPlan(f"{a.path} is not a drop-in")
        elif isinstance(a, EnableUnit):
            unit(a.name)
            for d in a.dirs:
                path(d)
            for lk in a.links:
                path(lk.path)
                unit(posixpath.basename(lk.path))
                if not lk.target.startswith("/"):
                    raise InvalidPlan(f"{lk.path}: link target {lk.target!r} is not absolute")
        elif isinstance(a, StartUnit):
            unit(a.name)
        elif isinstance(a, (Advice, DaemonReload)):
            continue
        else:  # pragma: no cover - a new action type without a validator
            raise InvalidPlan(f"unknown action {a!r}")


# -- through the manager (a user that polkit lets change the system) -----------------------------------

#: The directories the system manager's ``UnmaskUnitFiles``/``MaskUnitFiles`` act on (install.c: the persistent
#: configuration directory, or with ``runtime`` true the runtime one; nothing else), and that flag.
MANAGER_LAYERS = {"/etc/systemd/system": False, "/run/systemd/system": True}
#: The link ``MaskUnitFiles`` creates, and the only mask whose undo through the manager is exact.
NULL_LINK = FileState("symlink", target="/dev/null")
_MAX_HOPS = 32


def manager_route(plan: Plan, root: Root) -> Optional[str]:
    """Why the running system manager could not make ``plan``'s file changes exactly as ``apply`` makes them,
    with an exact undo through the manager; None when it can (``apply(via_manager=True)``).

    That is what an unprivileged user gets instead of files it may not write: ``UnmaskUnitFiles``,
    ``Reload`` and ``StartUnit`` on the system bus, where polkit decides (docs/journal.md, "Through the
    manager"). Taken only when every change is a mask the manager removes (``unmask`` of 252 removes
    ``CONFIG/NAME`` if it is a link to /dev/null or resolves to an empty file, in the persistent layer, or
    the runtime one with ``runtime`` true) and puts back identically (``MaskUnitFiles``: a link to
    ``/dev/null`` owned by root). Not taken: an empty-file mask or another link text (re-masking would
    make a different object), a mask owned by another user, a mask in any other layer (``system.control``,
    transient, generated, vendor), a masked drop-in (the manager removes no drop-ins), another link in
    the layer that leads to the mask (the manager's unmask removes those too, and says so only afterwards),
    and enabling where ``DisableUnitFiles`` (the undo) would remove more than the fix made: it removes every
    link in the layer named after the unit, its ``Also=`` units and aliases, or leading to a file of that name,
    and the directories it leaves empty; so there must be no such link yet, and every directory a link goes
    into must be made by the fix or hold something else. Reads only.
    """
    if plan.scope != "system" or not plan.live:
        return "only a running system manager can be asked"
    for a in plan.changes:
        if isinstance(a, DropMaskedDropIn):
            return f"{root.display(a.path)} is a drop-in, and the manager removes no drop-ins"
        if isinstance(a, EnableUnit):
            why_not = _enable_undo_problem(root, a.name, a.runtime, [(lk.path, lk.target) for lk in a.links],
                                           made=a.dirs)
            if why_not is not None:
                return f"enabling {a.name} through the manager could not be undone exactly: {why_not}"
            continue
        if not isinstance(a, RemoveMask):
            continue
        where = root.display(a.path)
        layer, name = posixpath.split(a.path)
        if MANAGER_LAYERS.get(layer) is not a.runtime or not names.is_valid(name):
            return f"{where} is outside /etc/systemd/system and /run/systemd/system, the layers the manager unmasks"
        if a.kind != "symlink" or a.link_target != NULL_LINK.target:
            what = "an empty file" if a.kind != "symlink" else f"a link to {a.link_target}"
            return (f"{where} is {what}; the manager would put it back as a link to /dev/null, so undo would not "
                    "restore it exactly")
        try:
            cur = _current(root, a.path)
        except OSError as e:
            return f"{where}: {e.strerror}"
        if not cur.matches(NULL_LINK):
            return f"{where} is now {cur.describe()}"
        if (cur.uid, cur.gid) != (0, 0):
            return (f"{where} belongs to uid {cur.uid}, gid {cur.gid}; the manager would put it back as root's, "
                    "so undo would not restore it exactly")
        other = _marked_link(root, layer, {a.path}, path=a.path)
        if other is not None:
            return f"the manager's unmask would also remove {root.display(other)}, a link that leads to {where}"
    return None


def _layer_of(runtime: bool) -> str:
    return next(d for d, rt in MANAGER_LAYERS.items() if rt is runtime)


def _enable_undo_problem(root: Root, unit: str, runtime: bool, links: list[tuple[str, str]], made: Any,
                         ) -> Optional[str]:
    """Why ``DisableUnitFiles([unit], runtime)`` would not remove exactly ``links`` (path, target) and the
    directories in ``made`` (the fix's), or None; the links may be yet to make (the plan) or there (undo).

    The manager removes (install.c ``remove_marked_symlinks``, 252) every link below the layer whose name, or its
    template, or the base name of what it leads to, is one of the names marked: the unit's, its ``Also=``
    units' and aliases' (here: every name the links carry or point at); then each directory it leaves empty.
    """
    layer = _layer_of(runtime)
    mine = {p for p, _t in links}
    if any(posixpath.dirname(p) != layer and not p.startswith(layer + "/") for p in mine):
        return "its links are outside /etc/systemd/system and /run/systemd/system"
    marked = {unit} | {posixpath.basename(p) for p in mine} | {posixpath.basename(t) for _p, t in links}
    other = _marked_link(root, layer, mine, marked=marked)
    if other is not None:
        return f"{root.display(other)} would be removed too"
    for d in sorted({posixpath.dirname(p) for p in mine}):
        if d == layer or d in made:
            continue
        try:
            entries = set(os.listdir(root.host(d)))
        except FileNotFoundError:
            return f"{root.display(d)} is missing"
        except OSError as e:
            return f"{root.display(d)}: {e.strerror}"
        ours = {posixpath.basename(p) for p in mine if posixpath.dirname(p) == d}
        if not (entries - ours):
            return f"{root.display(d)} would be left empty, and removed"
    return None


def _marked_link(root: Root, layer: str, skip: set[str], *, path: Optional[str] = None,
                 marked: AbstractSet[str] = frozenset()) -> Optional[str]:
    """The first link with a unit name below ``layer`` (not in ``skip``) that 252's ``remove_marked_symlinks``
    takes: its name or its template is ``marked``, or its chain of link texts reaches ``path`` or a file whose
    base name is ``marked``. Directories are walked without following links, as the manager walks them."""
    top = root.host(layer)
    for dirpath, dirs, files in os.walk(top, followlinks=False):
        rel = layer + dirpath[len(top):]
        for name in files + dirs:
            here = posixpath.join(rel, name)
            if here in skip or not names.is_valid(name) or not os.path.islink(os.path.join(dirpath, name)):
                continue
            hit = name in marked or (names.instance_of(name) is not None and names.template_of(name) in marked)
            cur = here
            for _ in range(_MAX_HOPS):
                if hit:
                    return here
                try:
                    text = os.readlink(root.host(cur))
                except OSError:
                    break
                cur = posixpath.normpath(posixpath.join(posixpath.dirname(cur), text))
                hit = cur == path or posixpath.basename(cur) in marked
            if hit:
                return here
    return None


# -- file transitions ---------------------------------------------------------------------------------


def _current(root: Root, path: str) -> FileState:
    """The state at ``path``; ``absent`` when it or its parent is missing. Raises OSError otherwise."""
    parent, name = posixpath.split(path)
    try:
        with dir_fd(root, parent) as dfd:
            return state_at(dfd, name)
    except FileNotFoundError:
        return ABSENT


class Kept(Conflict):
    """An object that is not a mask was moved aside and its name was taken meanwhile: it stays in quarantine."""


@dataclass
class _Park:
    """Where one step's object waits while it is moved: ``name`` in the journal's quarantine directory
    (``primary``) or, when that is on another filesystem than the path, in the hidden directory
    ``.unitdoctor-quarantine`` beside the path (systemd and we skip hidden names). ``record(dir)`` journals
    the directory before anything is moved into it; ``point`` is the test-only checkpoint hook."""

    root: Root
    primary: str
    name: str
    record: Callable[[str], None] = lambda _d: None
    point: Callable[[str], None] = lambda _n: None

    def dirs(self, parent: str) -> tuple[str, str]:
        return self.primary, posixpath.join(parent, LOCAL_QUARANTINE)

    def find(self, parent: str) -> Optional[tuple[str, int]]:
        """The quarantine directory (path, descriptor) that holds ``name`` now, or None."""
        for d in self.dirs(parent):
            try:
                fd = open_dir(self.root, d)
            except OSError:
                continue
            try:
                os.lstat(self.name, dir_fd=fd)
                return d, fd
            except FileNotFoundError:
                os.close(fd)
        return None

    def open(self, parent: str, dfd: int, *, local: bool = False) -> tuple[str, int]:
        """A quarantine directory for an object in ``dfd``: the journal's, unless on another device."""
        if not local:
            qfd = open_dir(self.root, self.primary, create=True, mode=0o700)
            if os.fstat(qfd).st_dev == os.fstat(dfd).st_dev:
                self.record(self.primary)
                return self.primary, qfd
            os.close(qfd)
        d = self.dirs(parent)[1]
        qfd = open_dir(self.root, d, create=True, mode=0o700)
        self.record(d)
        return d, qfd

    def tidy(self, d: str, qfd: int) -> None:
        """Remove a hidden quarantine directory beside a path once it is empty."""
        if d != self.primary:
            with contextlib.suppress(OSError):
                parent, base = posixpath.split(d)
                with dir_fd(self.root, parent) as pfd:
                    os.rmdir(base, dir_fd=pfd)


def _transition(root: Root, path: str, before: FileState, after: FileState, *, strict: bool,
                park: _Park) -> str:
    """Move ``path`` from ``before`` to ``after``; return ``done``, ``already`` (it is ``after``) or ``kept``.

    The current object is looked at with ``lstat`` through a descriptor of its parent directory (opened
    confined to the root, no symlink followed), and acted on relative to that descriptor. ``strict``: it
    must also be the very inode recorded (same run). A link or empty file is never unlinked where it
    stands: it is first moved aside into quarantine in one ``rename`` and removed only if what arrived
    there is the mask expected (``_remove``); one is created under its quarantine name and renamed into
    place without replacing anything (``_create``). Raises ``Conflict`` when the path holds neither
    ``before`` nor ``after`` (``Kept`` when the object stays in quarantine), OSError when the filesystem
    refuses.
    """
    bad = _bad_path(path)
    if bad:
        raise Conflict(f"{root.display(path)}: {bad}")
    parent, name = posixpath.split(path)
    real_parent = root.chase(parent)  # a parent that vanished (or was swapped away) is an error, not "done"
    if is_vendor_path(real_parent):
        raise Conflict(f"{root.display(path)}: its directory resolves to {real_parent}, under /usr; left alone")
    with dir_fd(root, parent) as dfd:
        parked = park.find(parent)
        # an earlier run of this step was interrupted with the object in quarantine
        if parked is not None and _finish_parked(root, path, dfd, name, before, after, park, parked):
            os.fsync(dfd)
            return "done"
        cur = state_at(dfd, name)
        if not cur.matches(before):
            if cur.matches(after):
                return "done" if parked is not None else "already"
            raise Conflict(f"{root.display(path)}: expected {before.describe()}, found {cur.describe()}; left alone")
        if strict and not cur.same_object(before):
            raise Conflict(f"{root.display(path)} was replaced by another {cur.describe()[2:]} since it was "
                           "checked; left alone")
        if after.type == "absent":
            if cur.type == "dir":
                try:
                    os.rmdir(name, dir_fd=dfd)
                except OSError as e:
                    if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                        return "kept"
                    raise
            elif cur.type == "symlink" or (cur.type == "file" and cur.size == 0):
                if not _remove(root, path, dfd, name, before, park):
                    return "already"
            else:  # a regular file with content, a device: never
                raise Conflict(f"{root.display(path)} is {cur.describe()}; never removed")
        elif after.type == "symlink" or (after.type == "file" and after.size == 0):
            _create(root, path, dfd, name, after, park)
        elif after.type == "dir":
            os.mkdir(name, 0o700, dir_fd=dfd)
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            try:
                os.fchmod(sub, after.mode if after.mode is not None else 0o755)
            finally:
                os.close(sub)
        else:
            raise Conflict(f"{root.display(path)}: cannot create {after.describe()}")
        os.fsync(dfd)
    return "done"


#: Errors of a move into (or a build in) the journal's quarantine that the hidden quarantine beside the path
#: may not have: another mount (EXDEV), a read-only or unwritable quarantine (a bind mount, permissions).
_ELSEWHERE = (errno.EXDEV, errno.EROFS, errno.EACCES, errno.EPERM)
#: Errors of a rollback step that say the filesystem refused for now, not that the path was changed: the
#: entry is left to ``recover`` (a read-only remount, a full disk, permissions).
_REFUSALS = (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO, errno.EBUSY)


def _is_mask_like(st: FileState) -> bool:
    return st.type == "symlink" or (st.type == "file" and st.size == 0)


def _remove(root: Root, path: str, dfd: int, name: str, before: FileState, park: _Park) -> bool:
    """Remove the mask ``name`` by moving it into quarantine and deleting it there if it is ``before``.

    POSIX has no "unlink if still a symlink to /dev/null": whatever is at the name when ``unlinkat`` runs
    is gone. So the object is taken away first, whole (``journal.move_out``), and examined at its
    quarantine name, where nobody else writes. Returns False when the name was already gone.
    """
    parent = posixpath.dirname(path)
    qdir, qfd = park.open(parent, dfd)
    try:
        try:
            move_out(dfd, name, qfd, park.name)
        except OSError as e:
            if e.errno not in _ELSEWHERE or qdir != park.primary:
                if e.errno == errno.ENOENT:
                    return False
                raise
            local = park.open(parent, dfd, local=True)  # a bind mount: same device, still another mount
            os.close(qfd)
            qdir, qfd = local
            move_out(dfd, name, qfd, park.name)
        os.fsync(qfd)
        os.fsync(dfd)
        park.point("moved")
        _settle(root, path, dfd, name, qdir, qfd, before, park)
        return True
    finally:
        park.tidy(qdir, qfd)
        os.close(qfd)


def _settle(root: Root, path: str, dfd: int, name: str, qdir: str, qfd: int, before: FileState,
            park: _Park) -> None:
    """Delete the object in quarantine if it is the mask ``before``; else put it back, or keep it there."""
    got = state_at(qfd, park.name)
    if got.matches(before) and _is_mask_like(got):
        if got.type == "symlink":
            os.unlink(park.name, dir_fd=qfd)
            os.fsync(qfd)
            return
        if unlink_if_unopened(qfd, park.name):
            os.fsync(qfd)
            return
        got = state_at(qfd, park.name)
        why_not = "it was open for writing elsewhere" if got.matches(before) else f"it became {got.describe()}"
    else:
        why_not = f"found {got.describe()}"
    _put_back(root, path, dfd, name, qdir, qfd, park,
              f"{root.display(path)}: expected {before.describe()}, {why_not} once moved aside; put back, left alone")


def _put_back(root: Root, path: str, dfd: int, name: str, qdir: str, qfd: int, park: _Park, message: str) -> None:
    """Move the quarantined object back to ``name`` (never replacing) and raise ``Conflict(message)``;
    ``Kept`` (saying where it is) when the name was taken meanwhile."""
    try:
        move_noreplace(qfd, park.name, dfd, name)
    except FileExistsError:
        where = root.display(posixpath.join(qdir, park.name))
        raise Kept(f"{message}. It was moved aside and {root.display(path)} was taken meanwhile: it is kept at "
                   f"{where}") from None
    os.fsync(dfd)
    os.fsync(qfd)
    raise Conflict(message)


def _create(root: Root, path: str, dfd: int, name: str, after: FileState, park: _Park) -> None:
    """Create ``after`` under its quarantine name, with its owner and times, then rename it to ``name``
    without replacing anything (``journal.move_noreplace``): the object appears complete, or not at all."""
    parent = posixpath.dirname(path)
    qdir, qfd = park.open(parent, dfd)
    try:
        try:
            _build(qfd, park.name, after)
        except OSError as e:
            if e.errno not in _ELSEWHERE or qdir != park.primary:
                raise
            os.close(qfd)  # the journal's quarantine takes nothing: build beside the path
            qdir, qfd = park.open(parent, dfd, local=True)
            _build(qfd, park.name, after)
        os.fsync(qfd)
        park.point("parked")
        try:
            move_noreplace(qfd, park.name, dfd, name)
        except OSError as e:
            if e.errno == errno.EXDEV and qdir == park.primary:
                os.unlink(park.name, dir_fd=qfd)
                local = park.open(parent, dfd, local=True)
                os.close(qfd)
                qdir, qfd = local
                _build(qfd, park.name, after)
                os.fsync(qfd)
                try:
                    move_noreplace(qfd, park.name, dfd, name)
                except FileExistsError:
                    os.unlink(park.name, dir_fd=qfd)
                    raise Conflict(f"{root.display(path)} appeared meanwhile; left alone") from None
            elif e.errno == errno.EEXIST:
                os.unlink(park.name, dir_fd=qfd)  # our own new link or empty file, never shown anywhere
                raise Conflict(f"{root.display(path)} appeared meanwhile "
                               f"({state_at(dfd, name).describe()}); left alone") from None
            else:
                raise
    finally:
        park.tidy(qdir, qfd)
        os.close(qfd)


def _build(qfd: int, qname: str, st: FileState) -> None:
    """Make the link or empty file ``st`` at ``qname`` in the quarantine directory ``qfd``."""
    with contextlib.suppress(FileNotFoundError):
        leftover = state_at(qfd, qname)  # ours, from an interrupted run: only a link or an empty file is removed
        if _is_mask_like(leftover):
            os.unlink(qname, dir_fd=qfd)
    if st.type == "symlink":
        assert st.target is not None
        os.symlink(st.target, qname, dir_fd=qfd)
    else:
        fd = os.open(qname, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=qfd)
        try:
            os.fchmod(fd, st.mode if st.mode is not None else 0o644)
            os.fsync(fd)
        finally:
            os.close(fd)
    _restore_meta(qfd, qname, st)


def _finish_parked(root: Root, path: str, dfd: int, name: str, before: FileState, after: FileState,
                   park: _Park, parked: tuple[str, int]) -> bool:
    """Finish a step interrupted with its object in quarantine; True when the step is thereby done.

    Removing: the object is settled (deleted if it is the mask, else put back: ``Conflict``). Creating
    (including the rollback of a removal): whatever waits there came from ``path`` or was built for it,
    so it is moved in, never replacing; a built link or empty file that finds the name taken is dropped.
    """
    qdir, qfd = parked
    try:
        if after.type == "absent":
            _settle(root, path, dfd, name, qdir, qfd, before, park)
            return state_at(dfd, name).matches(after)
        got = state_at(qfd, park.name)
        try:
            move_noreplace(qfd, park.name, dfd, name)
        except FileExistsError:
            if got.matches(after) and _is_mask_like(got):
                os.unlink(park.name, dir_fd=qfd)
                return False  # the path decides
            raise Kept(f"{root.display(path)} was taken while {got.describe()} from it waited in quarantine: "
                       f"it is kept at {root.display(posixpath.join(qdir, park.name))}") from None
        os.fsync(qfd)
        return True
    finally:
        park.tidy(qdir, qfd)
        os.close(qfd)


def _restore_meta(dfd: int, name: str, st: FileState) -> None:
    """Give a recreated link or file its recorded owner and times (best effort for an unprivileged user)."""
    if st.uid is not None and st.gid is not None and (os.geteuid() == 0 or st.uid == os.geteuid()):
        with contextlib.suppress(PermissionError):
            os.chown(name, st.uid, st.gid, dir_fd=dfd, follow_symlinks=False)
    if st.mtime_ns is not None:
        atime = st.atime_ns if st.atime_ns is not None else st.mtime_ns
        os.utime(name, ns=(atime, st.mtime_ns), dir_fd=dfd, follow_symlinks=False)


def _message(root: Root, s: Step, how: str) -> str:
    """systemctl's words for a file step (install_changes_dump): ``Removed "P".``, ``Created symlink P → T.``"""
    p = root.display(s.path or "")
    if how == "kept":
        return f"Kept directory {p}: it is not empty."
    a = s.after or ABSENT
    if how == "already":
        return f"{p} is already {a.describe()}."
    if a.type == "absent":
        return f'Removed "{p}".'
    if a.type == "symlink":
        return f"Created symlink {p} → {a.target}."
    if a.type == "dir":
        return f"Created directory {p}."
    return f"Created empty file {p}."


# -- planning the steps -------------------------------------------------------------------------------


def _steps(plan: Plan, root: Root, via_manager: bool = False) -> tuple[list[Step], list[str]]:
    """The journal steps for ``plan`` with the current state of every path, and any reason to refuse.

    ``via_manager``: a mask is removed by the manager (an ``unmask`` step: same path, states and checks).
    """
    steps: list[Step] = []
    problems: list[str] = []

    def file_step(i: int, path: str, expected: FileState, after: FileState) -> None:
        _file_step(root, i, path, expected, after, steps, problems,
                   lambda cur: f"{root.display(path)}: the plan expected {expected.describe()}, found "
                               f"{cur.describe()}; nothing was changed")

    for i, a in enumerate(plan.actions):
        if isinstance(a, (RemoveMask, DropMaskedDropIn)):
            expected = (FileState("symlink", target=a.link_target) if a.kind == "symlink"
                        else FileState("file", size=0))
            file_step(i, a.path, expected, ABSENT)
            if via_manager and steps and steps[-1].path == a.path:
                last = steps[-1]
                last.kind, last.unit, last.runtime = StepKind.UNMASK, posixpath.basename(a.path), a.runtime
        elif isinstance(a, EnableUnit) and plan.live:
            # The manager creates the links; the ones predicted are recorded first, so an interrupted
            # enable can still be rolled back, and replaced by what the manager reports. It also makes the
            # missing .wants/ directories but does not report them: they are recorded here, for undo.
            made_dirs = [(d, FileState("dir", mode=0o755)) for d in a.dirs if _current(root, d).matches(ABSENT)]
            steps.append(Step(StepKind.ENABLE, i, unit=a.name, runtime=a.runtime,
                              created=made_dirs + [(lk.path, FileState("symlink", target=lk.target))
                                                   for lk in a.links]))
        elif isinstance(a, EnableUnit):
            for d in a.dirs:
                file_step(i, d, ABSENT, FileState("dir", mode=0o755))
            for lk in a.links:
                file_step(i, lk.path, ABSENT, FileState("symlink", target=lk.target))
        elif isinstance(a, DaemonReload):
            steps.append(Step(StepKind.DAEMON_RELOAD, i))
        elif isinstance(a, StartUnit):
            steps.append(Step(StepKind.START, i, unit=a.name))
    return steps, problems


def _plan_record(plan: Plan) -> list[dict[str, Any]]:
    """The plan as the journal keeps it: one record per action, data only (docs/journal.md, "plan")."""
    return [action_record(a) for a in plan.actions]


# -- running ------------------------------------------------------------------------------------------


def _abandon(entry: Entry, j: Journal, root: Root, ops: ManagerOps, s: Step, message: str) -> None:
    """Step ``s`` failed with ``message``: record it, then roll back what the entry already did."""
    s.state, s.message = StepState.FAILED, message
    entry.status = ROLLING_BACK
    j.save(entry)
    _rollback(entry, j, root, ops)


def _run(entry: Entry, j: Journal, root: Root, ops: ManagerOps, hooks: Hooks, *, strict: bool) -> None:
    """Carry out ``entry``'s planned steps in order, saving progress after each; roll back on a file failure."""
    for idx, s in enumerate(entry.steps):
        if s.state is not StepState.PLANNED:
            continue
        if s.kind is StepKind.FILE:
            assert s.path is not None and s.before is not None and s.after is not None
            hooks.act(s)
            park = _Park(root, j.quarantine, f"{entry.id}-{idx}", _recorder(entry, j, s), _step_point(hooks, idx))
            try:
                how = _transition(root, s.path, s.before, s.after, strict=strict, park=park)
            except (Conflict, OSError) as e:
                _abandon(entry, j, root, ops, s,
                         str(e) if isinstance(e, Conflict) else f"{root.display(s.path)}: {e.strerror}")
                return
            hooks.point(f"step-{idx}-acted")
            s.state = StepState.KEPT if how == "kept" else StepState.DONE
            s.message = _message(root, s, how)
            j.save(entry)
            hooks.point(f"step-{idx}-recorded")
        elif s.kind in (StepKind.UNMASK, StepKind.MASK):
            hooks.act(s)
            try:
                _by_manager(s, root, ops)
            except (ManagerError, OSError, Conflict) as e:
                _abandon(entry, j, root, ops, s, f"{s.kind} {s.unit} through the manager: {e}")
                return
            j.save(entry)
            hooks.point(f"step-{idx}-recorded")
        elif s.kind is StepKind.DISABLE:
            hooks.act(s)
            try:
                removed = ops.disable([s.unit or ""], s.runtime)
            except (ManagerError, OSError) as e:
                _abandon(entry, j, root, ops, s, f"disable {s.unit} through the manager: {e}")
                return
            left = [p for p, st in s.created if st.type == "symlink" and not _current(root, p).matches(ABSENT)]
            s.state = StepState.FAILED if left else StepState.DONE
            s.message = " ".join(f'Removed "{p}".' for p in removed) or f"{s.unit}: nothing to disable."
            if left:
                s.message += " Still there: " + ", ".join(root.display(p) for p in left) + "."
            j.save(entry)
            hooks.point(f"step-{idx}-recorded")
        elif s.kind is StepKind.ENABLE:
            try:
                created = ops.enable([s.unit or ""], s.runtime)
            except (ManagerError, OSError) as e:
                _abandon(entry, j, root, ops, s, f"enable {s.unit}: {e}")
                return
            if created:
                s.created = [(p, st) for p, st in s.created if st.type == "dir"] + \
                    [(p, FileState("symlink", target=t)) for p, t in created]
            else:  # already enabled (a completed recovery): keep the predicted links that are there
                s.created = [(p, st) for p, st in s.created if _current(root, p).matches(st)]
            s.state = StepState.DONE
            s.message = " ".join(f"Created symlink {p} → {t}." for p, t in created) or f"{s.unit}: nothing to enable."
            j.save(entry)
            hooks.point(f"step-{idx}-recorded")
        elif s.kind is StepKind.DAEMON_RELOAD:
            try:
                ops.daemon_reload()
                s.state, s.message = StepState.DONE, "Reloaded the manager."
            except (ManagerError, OSError) as e:
                s.state, s.message = StepState.FAILED, f"daemon-reload failed: {e}"
            j.save(entry)
            hooks.point(f"step-{idx}-recorded")
        elif s.kind is StepKind.START:
            try:
                s.result = ops.start(s.unit or "")
                if s.result == NOT_APPLICABLE:
                    s.state, s.message = StepState.SKIPPED, f"start {s.unit}: not applicable offline"
                elif s.result == "active":
                    s.state, s.message = StepState.DONE, f"Started {s.unit}: active."
                else:
                    s.state, s.message = StepState.FAILED, f"{s.unit} is {s.result} after its start job"
            except (ManagerError, OSError) as e:
                s.state, s.message = StepState.FAILED, f"Failed to start {s.unit}: {e}"
            j.save(entry)
            hooks.point(f"step-{idx}-recorded")
    entry.status = DONE
    j.save(entry)
    hooks.point("done")


def _by_manager(s: Step, root: Root, ops: ManagerOps) -> None:
    """Carry out an ``unmask`` or ``mask`` step through the manager and record what it reports.

    The manager acts on the name in its layer; the step is done when its path then holds ``after``
    (already holding it: the manager reports nothing, and that is fine, as for a file step). Raises
    ``Conflict`` when the path holds something else afterwards.
    """
    assert s.path is not None and s.after is not None and s.unit
    if s.kind is StepKind.UNMASK:
        reported = [f'Removed "{p}".' for p in ops.unmask([s.unit], s.runtime)]
    else:
        reported = [f"Created symlink {p} → {t}." for p, t in ops.mask([s.unit], s.runtime)]
    now = _current(root, s.path)
    if not now.matches(s.after):
        raise Conflict(f"{root.display(s.path)} is {now.describe()} afterwards, not {s.after.describe()}")
    s.state = StepState.DONE
    s.message = " ".join(reported) or f"{root.display(s.path)} is already {s.after.describe()}."


def _reverse_by_manager(s: Step, root: Root, ops: ManagerOps) -> bool:
    """Take back a step the manager made, if it took effect (done, or in doubt and its paths say so); whether
    it had. ``unmask``/``mask``: the other one; ``enable``: ``DisableUnitFiles``; ``disable``: ``EnableUnitFiles``."""
    if s.kind in (StepKind.UNMASK, StepKind.MASK):
        assert s.path is not None and s.before is not None and s.after is not None
        took = s.state is StepState.DONE or _current(root, s.path).matches(s.after)
        if took:
            back = StepKind.MASK if s.kind is StepKind.UNMASK else StepKind.UNMASK
            _by_manager(Step(back, s.action, s.path, s.after, s.before, s.unit, s.runtime), root, ops)
        return took
    links = [p for p, st in s.created if st.type == "symlink"]
    present = [p for p in links if not _current(root, p).matches(ABSENT)]
    if s.kind is StepKind.ENABLE:
        if present:
            ops.disable([s.unit or ""], s.runtime)
        return bool(present)
    if len(present) < len(links):
        ops.enable([s.unit or ""], s.runtime)
        return True
    return False


def _step_point(hooks: Hooks, idx: int) -> Callable[[str], None]:
    """The checkpoint hook of step ``idx``'s moves (``step-IDX-NAME``)."""
    return lambda name: hooks.point(f"step-{idx}-{name}")


def _recorder(entry: Entry, j: Journal, s: Step) -> Callable[[str], None]:
    """Journal the quarantine directory step ``s`` is about to use, before it is used."""

    def record(d: str) -> None:
        if s.quarantine != d:
            s.quarantine = d
            j.save(entry)

    return record


def _rollback(entry: Entry, j: Journal, root: Root, ops: ManagerOps) -> None:
    """Reverse every file step of ``entry`` that took effect, newest first; mark it rolled back (or conflict).

    Steps run in order and each is saved once done, so only the first step not recorded as done (the
    frontier) is in doubt after a crash: it took effect if its path holds its ``after`` state. Steps after
    it never ran. A step that failed was not done, unless its path shows otherwise.
    """
    frontier = next((i for i, s in enumerate(entry.steps) if s.state in (StepState.PLANNED, StepState.FAILED)),
                    len(entry.steps))
    conflict = refused = False
    reversed_any = False
    for i in range(len(entry.steps) - 1, -1, -1):
        s = entry.steps[i]
        if s.state is StepState.PLANNED and i > frontier:
            s.state, s.message = StepState.SKIPPED, "not started before the interruption"
            continue
        if s.state not in (StepState.DONE, StepState.PLANNED, StepState.FAILED):
            continue
        if s.kind in (StepKind.UNMASK, StepKind.MASK, StepKind.DISABLE) or \
                (s.kind is StepKind.ENABLE and entry.via == "manager"):
            what = root.display(s.path) if s.path else f"the links of {s.unit}"
            try:
                took = _reverse_by_manager(s, root, ops)
            except (ManagerError, OSError, Conflict) as e:
                conflict = True
                s.message = f"{what}: {e} (could not be restored)"
                continue
            if took:
                reversed_any = True
                s.state, s.message = StepState.ROLLED_BACK, f"Restored {what} through the manager."
            elif s.state is StepState.PLANNED:
                s.state, s.message = StepState.SKIPPED, s.message or "not done before the interruption"
            continue
        pairs: list[tuple[str, FileState, FileState, _Park]] = []
        if s.kind is StepKind.FILE and s.path and s.before and s.after:
            pairs = [(s.path, s.after, s.before, _Park(root, j.quarantine, f"{entry.id}-{i}", _recorder(entry, j, s)))]
        elif s.kind is StepKind.ENABLE:
            pairs = [(p, st, ABSENT, _Park(root, j.quarantine, f"{entry.id}-{i}.{k}"))
                     for k, (p, st) in reversed(list(enumerate(s.created)))]
        undone = []
        for path, now, back, park in pairs:
            try:
                how = _transition(root, path, now, back, strict=False, park=park)
            except Conflict as e:
                if s.state is StepState.FAILED:
                    continue  # we never got to change it; its failure message says why
                conflict = True
                s.message = f"{e} (could not be restored)"
                continue
            except OSError as e:
                if s.state is StepState.FAILED:
                    continue
                if e.errno in _REFUSALS:
                    # The filesystem refused (read-only, full, no permission): nobody else changed the path,
                    # so the rollback is not over; the entry stays interrupted and `fix --recover` retries it.
                    refused = True
                    s.message = f"{root.display(path)}: {e.strerror} (not restored yet)"
                else:  # the path is not as we left it (its directory gone, a loop): that is someone else's
                    conflict = True
                    s.message = f"{root.display(path)}: {e.strerror} (could not be restored)"
                continue
            if how == "done":
                undone.append(path)
            elif how == "kept":
                s.message = f"Kept directory {root.display(path)}: it is not empty."
        if undone:
            reversed_any = True
            s.state = StepState.ROLLED_BACK
            s.message = "Restored " + ", ".join(root.display(p) for p in undone) + "."
        elif s.state is StepState.PLANNED:
            s.state = StepState.SKIPPED
            s.message = s.message or "not done before the interruption"
    if entry.live and reversed_any:
        reload = Step(StepKind.DAEMON_RELOAD, -1)
        try:
            ops.daemon_reload()
            reload.state, reload.message = StepState.DONE, "Reloaded the manager after the rollback."
        except (ManagerError, OSError) as e:
            reload.state, reload.message = StepState.FAILED, f"daemon-reload after the rollback failed: {e}"
        entry.steps.append(reload)
    entry.status = ROLLING_BACK if refused else CONFLICT if conflict else ROLLED_BACK
    j.save(entry)


def _outcome(command: str, entry: Entry, recheck: Optional[Callable[[], Catalog]],
             messages: tuple[str, ...] = ()) -> Outcome:
    after: tuple[Report, ...] = ()
    if recheck is not None and entry.status == DONE:
        cat = recheck()
        after = tuple(why(cat, u) for u in entry.units)
    msgs = messages + tuple(s.message for s in entry.steps if s.message)
    return Outcome(command, entry.status, entry.id, tuple(entry.steps), msgs, after, entry.undoes)


def _interrupted_refusal(command: str, stuck: list[Entry]) -> Outcome:
    ids = tuple(e.id for e in stuck)
    return Outcome(command, REFUSED, None, (), (f"interrupted {'fix' if len(ids) == 1 else 'fixes'} in the journal: "
                                                f"{', '.join(ids)}",), interrupted=ids)


# -- entry points -------------------------------------------------------------------------------------


def apply(plan: Plan, *, root: Root, journal: Journal, ops: ManagerOps,
          recheck: Optional[Callable[[], Catalog]] = None,
          before_act: Optional[Callable[[Step], None]] = None,
          checkpoint: Optional[Callable[[str], None]] = None,
          lock_timeout: float = LOCK_TIMEOUT, via_manager: bool = False) -> Outcome:
    """Carry out ``plan`` on ``root`` (see the module docstring); return what happened.

    ``recheck`` returns a fresh catalog for ``why`` afterwards. ``before_act`` and ``checkpoint`` are
    test-only hooks (``Hooks``). Raises ``InvalidPlan`` before touching anything, ``JournalError`` (and
    ``LockBusy``) when the journal cannot be used, in which case nothing was changed either.

    ``via_manager``: every mask is removed by the manager (``ops.unmask``), for a user who may not write the
    files but whom polkit lets ask; ``manager_route`` must allow it, checked again under the lock.
    """
    validate(plan)
    if not plan.changes:
        return Outcome("fix", NOTHING, None, (), ("Nothing to change.",))
    hooks = Hooks(before_act, checkpoint)
    with journal.locked(lock_timeout) as j:
        stuck = j.interrupted()
        if stuck:
            return _interrupted_refusal("fix", stuck)
        if via_manager:
            why_not = manager_route(plan, root)
            if why_not is not None:
                return Outcome("fix", REFUSED, None, (), (f"not through the manager: {why_not}",))
        steps, problems = _steps(plan, root, via_manager)
        if problems:
            return Outcome("fix", REFUSED, None, tuple(steps), tuple(problems))
        if all(s.state is StepState.SKIPPED for s in steps):
            return Outcome("fix", NOTHING, None, tuple(steps), tuple(s.message for s in steps))
        entry = j.create(command="fix", scope=plan.scope, live=plan.live, units=list(plan.units), steps=steps,
                         plan=_plan_record(plan), via="manager" if via_manager else None)
        hooks.point("journal-written")
        _run(entry, j, root, ops, hooks, strict=True)
    return _outcome("fix", entry, recheck)


def recover(*, root: Root, journal: Journal, ops: ManagerOps, rollback: bool = False,
            recheck: Optional[Callable[[], Catalog]] = None, lock_timeout: float = LOCK_TIMEOUT,
            ) -> list[Outcome]:
    """Finish every interrupted entry: complete it (default) or roll it back; return one outcome each.

    Completing runs the steps still ``planned``: a path already in its ``after`` state was done before the
    interruption; one in its ``before`` state is done now; anything else is a conflict, and the whole
    entry is rolled back instead. An entry interrupted while rolling back is always rolled back.
    """
    out = []
    with journal.locked(lock_timeout) as j:
        for e in j.interrupted():
            if rollback or e.status == ROLLING_BACK:
                e.status = ROLLING_BACK
                j.save(e)
                _rollback(e, j, root, ops)
            else:
                _run(e, j, root, ops, Hooks(), strict=False)
            _mark_undone(j, e)
            out.append(e)
    return [_outcome("recover", e, recheck) for e in out]


def _mark_undone(j: Journal, e: Entry) -> None:
    if e.command == "undo" and e.status == DONE and e.undoes:
        orig = j.load(e.undoes)
        if orig is not None:
            orig.status, orig.undone_by = UNDONE, e.id
            j.save(orig)


def pick(entries: list[Entry], entry_id: Optional[str]) -> Optional[Entry]:
    """The entry ``entry_id`` (a unique prefix will do), or by default the latest fix not yet undone."""
    if entry_id is None:
        for e in reversed(entries):
            if e.command == "fix" and e.status in (DONE, IN_PROGRESS, ROLLING_BACK):
                return e
        return None
    exact = [e for e in entries if e.id == entry_id]
    if exact:
        return exact[0]
    pref = [e for e in entries if e.id.startswith(entry_id)]
    return pref[0] if len(pref) == 1 else None


def undo(entry_id: Optional[str], *, root: Root, journal: Journal, ops: ManagerOps,
         recheck: Optional[Callable[[], Catalog]] = None,
         before_act: Optional[Callable[[Step], None]] = None,
         checkpoint: Optional[Callable[[str], None]] = None,
         lock_timeout: float = LOCK_TIMEOUT) -> Outcome:
    """Restore the state before entry ``entry_id`` (default: the latest fix); return what happened.

    Every path the fix changed must still be as the fix left it, or the undo is refused before any change
    (someone edited it since). An interrupted fix is rolled back. Started units are not stopped.
    Raises ``LookupError`` for an unknown entry.
    """
    hooks = Hooks(before_act, checkpoint)
    with journal.locked(lock_timeout) as j:
        entries = j.entries()
        target = pick(entries, entry_id)
        if target is None:
            raise LookupError(entry_id or "no fix to undo in the journal")
        if target.interrupted:
            target.status = ROLLING_BACK
            j.save(target)
            _rollback(target, j, root, ops)
            return _outcome("undo", target, None, (f"Rolled back the interrupted fix {target.id}.",))
        steps, early = _undo_steps(entries, target, root)
        if early is not None:
            return early
        entry = j.create(command="undo", scope=target.scope, live=target.live, units=list(target.units),
                         steps=steps, plan=[{"action": "undo", "risk": "medium", "entry": target.id}], via=target.via,
                         undoes=target.id)
        hooks.point("journal-written")
        _run(entry, j, root, ops, hooks, strict=True)
        _mark_undone(j, entry)
    notes = tuple(f"{u} was started by {target.id} and is not stopped by undo."
                  for u, r in _started(target) if r == "active")
    return _outcome("undo", entry, recheck, notes)


def _undo_steps(entries: list[Entry], target: Entry, root: Root) -> tuple[list[Step], Optional[Outcome]]:
    """The steps that undo ``target`` (not interrupted), or the outcome that ends the undo before any change."""
    stuck = [e for e in entries if e.interrupted]
    if stuck:
        return [], _interrupted_refusal("undo", stuck)
    if target.status != DONE:
        return [], Outcome("undo", REFUSED, target.id, (),
                           (f"{target.id} is {target.status.value}: nothing to undo"
                            + (f" (undone by {target.undone_by})" if target.undone_by else "") + ".",))
    steps, problems = _reverse_steps(target, root)
    if problems:
        return steps, Outcome("undo", REFUSED, target.id, tuple(steps), tuple(problems))
    if target.live and any(s.state is StepState.PLANNED for s in steps):
        steps.append(Step(StepKind.DAEMON_RELOAD, -1))
    if not any(s.state is StepState.PLANNED for s in steps):
        return steps, Outcome("undo", NOTHING, target.id, tuple(steps), ("Nothing to restore.",))
    return steps, None


def preview_undo(entry_id: Optional[str], *, root: Root, journal: Journal) -> Outcome:
    """What ``undo`` would do, changing nothing and taking no lock (``undo --dry-run``).

    The status is ``planned`` with the steps ``undo`` would journal and run (their ``message`` says what
    each does), or what ``undo`` would end with before any change (refused, nothing to do). Raises
    ``LookupError`` for an unknown entry.
    """
    entries = journal.entries()
    target = pick(entries, entry_id)
    if target is None:
        raise LookupError(entry_id or "no fix to undo in the journal")
    if target.interrupted:
        return Outcome("undo", PLANNED, target.id, (),
                       (f"Would roll back the interrupted fix {target.id} (the steps it completed).",))
    steps, early = _undo_steps(entries, target, root)
    if early is not None:
        return early
    for st in steps:
        if st.state is StepState.PLANNED:
            st.message = (_message(root, st, "") if st.kind is StepKind.FILE
                          else f"Through the manager: {_message(root, st, '')}"
                          if st.kind in (StepKind.MASK, StepKind.UNMASK)
                          else st.message if st.kind is StepKind.DISABLE
                          else "Reload the manager (daemon-reload).")
    return Outcome("undo", PLANNED, target.id, tuple(steps), (), undoes=target.id)


def _started(e: Entry) -> list[tuple[str, str]]:
    return [(s.unit or "", s.result or "") for s in e.steps if s.kind is StepKind.START and s.state is StepState.DONE]


def _reverse_steps(target: Entry, root: Root) -> tuple[list[Step], list[str]]:
    """File steps that put back what ``target`` changed, newest first, checked against the current tree."""
    steps: list[Step] = []
    problems: list[str] = []
    for s in reversed(target.steps):
        pairs: list[tuple[str, FileState, FileState]] = []
        done = s.state is StepState.DONE
        if s.kind in (StepKind.FILE, StepKind.UNMASK, StepKind.MASK) and done and s.path and s.before and s.after:
            pairs = [(s.path, s.after, s.before)]
        elif s.kind is StepKind.ENABLE and s.state is StepState.DONE and target.via == "manager":
            _disable_step(root, target, s, steps, problems)
        elif s.kind is StepKind.ENABLE and s.state is StepState.DONE:
            pairs = [(p, st, ABSENT) for p, st in reversed(s.created)]
        for path, now, back in pairs:
            n = len(steps)
            _file_step(root, s.action, path, now, back, steps, problems, _changed_since(root, target, path, now))
            if s.kind in (StepKind.UNMASK, StepKind.MASK):  # what the manager did, the manager undoes
                for st in steps[n:]:
                    st.kind = StepKind.MASK if s.kind is StepKind.UNMASK else StepKind.UNMASK
                    st.unit, st.runtime = s.unit, s.runtime
    return steps, problems


def _disable_step(root: Root, target: Entry, s: Step, steps: list[Step], problems: list[str]) -> None:
    """Undo of an enable the manager made: ``DisableUnitFiles``, if it removes exactly the links (and the
    directories) that enable made, which must still be as it left them; else a problem (nothing changes)."""
    links = [(p, st) for p, st in s.created if st.type == "symlink"]
    made = {p for p, st in s.created if st.type == "dir"}
    try:
        now = [(p, st, _current(root, p)) for p, st in links]
    except OSError as e:
        problems.append(f"{s.unit}: {e.strerror}")
        return
    changed = [f"{root.display(p)}: expected {st.describe()}, found {cur.describe()}" for p, st, cur in now
               if not cur.matches(st) and not cur.matches(ABSENT)]
    if changed:
        problems.append(f"{'; '.join(changed)} (changed since {target.id}); nothing was changed")
        return
    there = [(p, st.target or "") for p, st, cur in now if cur.matches(st)]
    if not there:
        steps.append(Step(StepKind.DISABLE, s.action, unit=s.unit, runtime=s.runtime, created=list(s.created),
                          state=StepState.SKIPPED, message=f"The links of {s.unit} are already gone."))
        return
    why_not = _enable_undo_problem(root, s.unit or "", s.runtime, there, made)
    if why_not is not None:
        problems.append(f"disabling {s.unit} through the manager would not restore the state before {target.id}: "
                        f"{why_not}; nothing was changed")
        return
    steps.append(Step(StepKind.DISABLE, s.action, unit=s.unit, runtime=s.runtime, created=list(s.created),
                      message=" ".join(f'Through the manager: Removed "{root.display(p)}".' for p, _t in there)))


def _changed_since(root: Root, target: Entry, path: str, expected: FileState) -> Callable[[FileState], str]:
    """``_file_step``'s mismatch message for undoing ``target``: ``path`` no longer holds ``expected``."""
    return lambda cur: (f"{root.display(path)} changed since {target.id}: expected {expected.describe()}, "
                        f"found {cur.describe()}; nothing was changed")


def _file_step(root: Root, action: int, path: str, expected: FileState, after: FileState, steps: list[Step],
               problems: list[str], mismatch: Callable[[FileState], str]) -> None:
    """Add the step that takes ``path`` from ``expected`` to ``after``, checked against what it holds now:
    a step if it holds ``expected``, a skipped step if it already holds ``after``, else a problem."""
    try:
        cur = _current(root, path)
    except OSError as e:
        problems.append(f"{root.display(path)}: {e.strerror}")
        return
    if cur.matches(expected):
        steps.append(Step(StepKind.FILE, action, path, cur, after))
    elif cur.matches(after):
        steps.append(Step(StepKind.FILE, action, path, after, after, state=StepState.SKIPPED,
                          message=f"{root.display(path)} is already {after.describe()}."))
    else:
        problems.append(mismatch(cur))


@dataclass(frozen=True)
class HistoryItem:
    """One journal entry as ``unitdoctor history`` lists it."""

    entry: Entry
    interrupted: bool
    changes: tuple[str, ...] = field(default=())


def history(journal: Journal) -> list[HistoryItem]:
    """Every journal entry, oldest first; ``interrupted`` when it stopped half-way and no fix is running."""
    busy = journal.busy()
    out = []
    for e in journal.entries():
        changes = tuple(s.message for s in e.steps
                        if s.message and s.state in (StepState.DONE, StepState.ROLLED_BACK, StepState.FAILED))
        out.append(HistoryItem(e, e.interrupted and not busy, changes))
    return out


def journal_for(scope: str, root: Root, environ: dict[str, str]) -> Journal:
    """The journal of fixes to ``scope``'s unit files under ``root`` (see ``journal``)."""
    return Journal.for_scope(scope, root, environ)


__all__ = [
    "DONE", "IN_PROGRESS", "LOCK_TIMEOUT", "NOT_APPLICABLE", "NOTHING", "PLANNED", "REFUSED", "ROLLED_BACK", "Conflict",
    "EntryStatus", "HistoryItem", "Hooks", "OutcomeStatus", "StepKind", "StepState", "Unjournaled",
    "InvalidPlan", "MANAGER_LAYERS", "ManagerError", "ManagerOps", "OfflineOps", "Outcome", "apply", "history",
    "journal_for", "manager_route", "pick", "recover", "undo", "validate",
]
