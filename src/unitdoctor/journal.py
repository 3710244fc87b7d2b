"""The fix journal: what a fix will change and the exact prior state of every path, durable before the change.

Format: docs/journal.md (versioned JSON, one file per entry). Where it lives:

- ``--root=DIR``: ``DIR/var/lib/unitdoctor/`` (inside the root, reached without following links out of it);
- the live system (``--system``, ``--global``): ``/var/lib/unitdoctor/``;
- ``--user``: ``$XDG_STATE_HOME/unitdoctor/`` (default ``~/.local/state/unitdoctor/``);
- the live system as a user who is not root, changed through the manager: ``$XDG_STATE_HOME/unitdoctor/system/``.

Every write replaces an entry atomically (temporary file, ``fsync``, ``rename``, ``fsync`` of the directory),
so after a crash an entry is either the old version or the new one. ``Journal.locked()`` holds ``flock`` on
``lock`` in the journal directory; only the holder writes, so an entry still ``in-progress`` or
``rolling-back`` that the holder finds was interrupted.

This module also holds the confined directory access ``fix`` uses (``open_dir``): a path is resolved inside
the root, then walked component by component with ``O_NOFOLLOW`` from a descriptor of the root, so a link
swapped in later cannot lead outside it.
"""

from __future__ import annotations

import ctypes
import datetime
import errno
import fcntl
import json
import os
import posixpath
import re
import secrets
import stat
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional

from .records import StrEnum
from .rootfs import Root

FORMAT = "unitdoctor-journal"
#: The format written. 2: ``plan`` holds each action's record (kind, risk, fields) instead of its effect in
#: words. Entries of version 1 are still read, undone and recovered, and keep their version when rewritten.
VERSION = 2
LOCK_NAME = "lock"
#: The largest entry read (an entry is a few KiB; a bigger file is not one of ours).
ENTRY_MAX = 16 << 20
#: The journal's quarantine directory, and the hidden one next to a path on another filesystem.
QUARANTINE_NAME, LOCAL_QUARANTINE = "quarantine", ".unitdoctor-quarantine"


class EntryStatus(StrEnum):
    """An entry's ``status`` (docs/journal.md, "States"). ``in-progress`` and ``rolling-back`` found under the
    lock mean: interrupted."""

    IN_PROGRESS = "in-progress"
    ROLLING_BACK = "rolling-back"
    DONE = "done"
    ROLLED_BACK = "rolled-back"
    UNDONE = "undone"
    CONFLICT = "conflict"


class StepKind(StrEnum):
    """What a step does (docs/journal.md, "Steps"): a ``file`` changes a path itself; ``unmask``/``mask`` and
    ``enable``/``disable`` ask the manager to change unit files; ``daemon-reload`` and ``start`` drive the manager."""

    FILE = "file"
    UNMASK = "unmask"
    MASK = "mask"
    ENABLE = "enable"
    DISABLE = "disable"
    DAEMON_RELOAD = "daemon-reload"
    START = "start"


class StepState(StrEnum):
    """A step's ``state``: ``planned`` → ``done``, or ``skipped``, ``failed``, ``rolled-back``, ``kept``."""

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    KEPT = "kept"


IN_PROGRESS, ROLLING_BACK, DONE, ROLLED_BACK, UNDONE, CONFLICT = EntryStatus
INTERRUPTED = (IN_PROGRESS, ROLLING_BACK)

_O_PATH = getattr(os, "O_PATH", 0)
_DIR_FLAGS = os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class JournalError(Exception):
    """The journal cannot be read or written (message names the path and the reason)."""


class LockBusy(JournalError):
    """Another fix holds the journal lock."""


# -- confined directory access ------------------------------------------------------------------------


def open_dir(root: Root, path: str, *, create: bool = False, mode: int = 0o755,
             made: Optional[list[str]] = None) -> int:
    """Return an ``O_RDONLY`` descriptor of the directory ``path`` (root-relative), confined to ``root``.

    ``path`` is first resolved inside the root (``Root.chase``: links re-rooted, ``..`` clamped), then
    opened one component at a time with ``O_NOFOLLOW|O_DIRECTORY`` relative to a descriptor of the root,
    so a component that became a symlink since (a swap) fails with ENOTDIR or ELOOP instead of being
    followed. With ``create`` missing components are made with ``mode`` and listed in ``made``.
    Raises OSError.
    """
    real = root.chase(path, missing_ok=create)
    comps = [c for c in real.split("/") if c]
    fd = os.open(root.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, c in enumerate(comps):
            try:
                nfd = os.open(c, _O_PATH | _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(c, mode, dir_fd=fd)
                except FileExistsError:
                    pass  # made meanwhile by another fix (two at once): theirs is as good as ours
                else:
                    _fsync_dir(fd)
                    if made is not None:
                        made.append("/" + "/".join(comps[: i + 1]))
                nfd = os.open(c, _O_PATH | _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nfd
        out = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)
    return out


def _fsync_dir(fd: int) -> None:
    """fsync a directory given by any descriptor (an ``O_PATH`` one cannot be fsync'd itself)."""
    rfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
    try:
        os.fsync(rfd)
    finally:
        os.close(rfd)


@contextmanager
def dir_fd(root: Root, path: str, *, create: bool = False) -> Iterator[int]:
    fd = open_dir(root, path, create=create)
    try:
        yield fd
    finally:
        os.close(fd)


# -- atomic moves ----------------------------------------------------------------------------------------

#: ``renameat2`` flag: fail with EEXIST instead of replacing the destination (linux/fs.h).
RENAME_NOREPLACE = 1
#: ``fcntl`` commands for leases (linux/fcntl.h: F_LINUX_SPECIFIC_BASE + 0); not all Pythons name them.
_F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)
_renameat2_fn: Any = None


def _renameat2() -> Any:
    """glibc's ``renameat2`` (2.28+) through ctypes, or None where the C library has none."""
    global _renameat2_fn
    if _renameat2_fn is None:
        try:
            fn = ctypes.CDLL(None, use_errno=True).renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _renameat2_fn = fn
        except (OSError, AttributeError):
            _renameat2_fn = False
    return _renameat2_fn or None


def move_out(src_dfd: int, src: str, dst_dfd: int, dst: str) -> None:
    """Move ``src`` to ``dst`` (a fresh name in a directory only the lock holder writes) in one step.

    The point is the *source*: ``rename(2)`` takes whatever object is at ``src`` at that instant, whole,
    so nothing that appears at ``src`` before or after is touched, and the object can be examined at its
    new name at leisure. ``renameat2(RENAME_NOREPLACE)`` is used where the C library and the filesystem
    have it, so a leftover at ``dst`` is never replaced; otherwise plain ``renameat``, which is equally
    atomic for the source (``dst`` is checked to be free first; only the lock holder creates names
    there). ``link`` + ``unlink`` is *not* an option for this direction: the ``unlink`` would take
    whatever is at ``src`` by then. Raises OSError (EXDEV: another filesystem).
    """
    if _rename_noreplace(src_dfd, src, dst_dfd, dst):
        return
    try:
        os.lstat(dst, dir_fd=dst_dfd)
    except FileNotFoundError:
        os.rename(src, dst, src_dir_fd=src_dfd, dst_dir_fd=dst_dfd)
        return
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst)


def move_noreplace(src_dfd: int, src: str, dst_dfd: int, dst: str) -> None:
    """Move ``src`` (a name only the lock holder uses) to ``dst`` unless ``dst`` exists (FileExistsError).

    ``renameat2(RENAME_NOREPLACE)`` where available; else ``linkat`` (which never replaces: EEXIST) then
    ``unlinkat`` of the private source name. Both leave exactly one object at ``dst`` and never replace
    one that appeared there meanwhile. Raises OSError (EXDEV: another filesystem).
    """
    if _rename_noreplace(src_dfd, src, dst_dfd, dst):
        return
    os.link(src, dst, src_dir_fd=src_dfd, dst_dir_fd=dst_dfd, follow_symlinks=False)
    os.unlink(src, dir_fd=src_dfd)


def _rename_noreplace(src_dfd: int, src: str, dst_dfd: int, dst: str) -> bool:
    """``renameat2(…, RENAME_NOREPLACE)``: True when done; False when the system lacks it (ENOSYS, EINVAL)."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(src_dfd, os.fsencode(src), dst_dfd, os.fsencode(dst), RENAME_NOREPLACE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), dst if err == errno.EEXIST else src)


def unlink_if_unopened(dfd: int, name: str) -> bool:
    """Unlink the regular file ``name`` only if it is empty and no one else has it open; return whether.

    An empty file can be given content through a descriptor opened before it was moved aside (``echo x >
    mask`` racing the fix). A write lease (``F_SETLEASE F_WRLCK``) is granted only when no other open file
    description of the file exists, and while held any new ``open`` waits for us; so size 0 under the lease
    is final. Filesystems without leases (EINVAL, ENOLCK: NFS, some FUSE) fall back to the size check.
    """
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        try:
            fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_WRLCK)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EBUSY, errno.EWOULDBLOCK):
                return False  # open elsewhere: a writer may still add content
            if e.errno not in (errno.EINVAL, errno.ENOLCK, errno.EACCES, errno.EPERM):
                raise
        if os.fstat(fd).st_size != 0:
            return False
        os.unlink(name, dir_fd=dfd)
        return True
    finally:
        os.close(fd)  # releases the lease


# -- file states --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileState:
    """What is at a path: ``absent``, a ``symlink`` (its text), an empty ``file``, a ``dir``, or ``other``.

    ``mode`` (permission bits), ``uid``, ``gid``, ``mtime_ns`` and ``atime_ns`` are what undo restores;
    ``ino``/``dev``/``ctime_ns`` identify the object within one run (a swap between check and act changes
    them: a freed inode number is often reused at once, the change time is not). They are not journaled.
    ``size`` is recorded for regular files: only an empty one (a mask) is ever removed or recreated.
    """

    type: str
    target: Optional[str] = None
    size: Optional[int] = None
    mode: Optional[int] = None
    uid: Optional[int] = None
    gid: Optional[int] = None
    mtime_ns: Optional[int] = None
    atime_ns: Optional[int] = None
    ino: Optional[int] = field(default=None, compare=False)
    dev: Optional[int] = field(default=None, compare=False)
    ctime_ns: Optional[int] = field(default=None, compare=False)

    def matches(self, other: FileState) -> bool:
        """Same kind of object: type, link text, and (for files) size. Metadata is not compared."""
        if self.type != other.type:
            return False
        if self.type == "symlink":
            return self.target == other.target
        if self.type == "file":
            return self.size == other.size
        return self.type != "other"

    def same_object(self, other: FileState) -> bool:
        """Whether both were recorded from the same inode (unknown → True)."""
        if self.ino is None or other.ino is None:
            return True
        if self.type == "dir":  # a directory's change time moves with every entry added or removed
            return (self.ino, self.dev) == (other.ino, other.dev)
        return (self.ino, self.dev, self.ctime_ns) == (other.ino, other.dev, other.ctime_ns)

    def describe(self) -> str:
        if self.type == "absent":
            return "nothing"
        if self.type == "symlink":
            return f"a symlink to {self.target}"
        if self.type == "file":
            return "an empty file" if self.size == 0 else f"a regular file with content ({self.size} bytes)"
        if self.type == "dir":
            return "a directory"
        return "a special file"

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        for k in ("target", "size", "mode", "uid", "gid", "mtime_ns", "atime_ns"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FileState:
        return cls(d["type"], d.get("target"), d.get("size"), d.get("mode"), d.get("uid"), d.get("gid"),
                   d.get("mtime_ns"), d.get("atime_ns"))


ABSENT = FileState("absent")


def state_at(dfd: int, name: str) -> FileState:
    """The ``FileState`` of ``name`` in the directory ``dfd`` (lstat; the link text for a symlink)."""
    try:
        st = os.lstat(name, dir_fd=dfd)
    except FileNotFoundError:
        return ABSENT
    m = st.st_mode
    if stat.S_ISLNK(m):
        kind, target, size, mode = "symlink", os.readlink(name, dir_fd=dfd), None, None
    elif stat.S_ISREG(m):
        kind, target, size, mode = "file", None, st.st_size, stat.S_IMODE(m)
    else:
        kind, target, size, mode = ("dir" if stat.S_ISDIR(m) else "other"), None, None, stat.S_IMODE(m)
    return FileState(kind, target, size, mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_atime_ns,
                     ino=st.st_ino, dev=st.st_dev, ctime_ns=st.st_ctime_ns)


# -- entries ------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One change and its progress. Mutable: the journal records it moving ``planned`` → ``done``.

    ``kind`` ``file``: the object at ``path`` goes from ``before`` to ``after`` (undo swaps them).
    ``kind`` ``unmask``/``mask``: the same, made by the manager (``UnmaskUnitFiles``/``MaskUnitFiles`` of ``unit``
    in the runtime layer if ``runtime``), for a user polkit lets ask (docs/journal.md, "Through the manager").
    ``kind`` ``daemon-reload``, ``start`` (``unit``; ``result`` is its ActiveState) and ``enable``
    (live: the manager creates the links and ``created`` records them, as file states) are manager steps.
    ``state``: ``planned``, ``done``, ``skipped`` (nothing to do), ``failed``, ``rolled-back``, ``kept``.
    """

    kind: StepKind
    action: int  # index of the plan action this step carries out (-1: none)
    path: Optional[str] = None
    before: Optional[FileState] = None
    after: Optional[FileState] = None
    unit: Optional[str] = None
    runtime: bool = False
    state: StepState = StepState.PLANNED
    message: str = ""
    result: Optional[str] = None
    created: list[tuple[str, FileState]] = field(default_factory=list)
    #: ``file`` steps: the directory (root-relative) where the object waits while it is moved (docs/journal.md).
    quarantine: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind.value, "action": self.action, "state": self.state.value}
        if self.path is not None:
            d["path"] = self.path
        if self.before is not None:
            d["before"] = self.before.to_json()
        if self.after is not None:
            d["after"] = self.after.to_json()
        if self.unit is not None:
            d["unit"] = self.unit
        if self.kind in (StepKind.ENABLE, StepKind.DISABLE, StepKind.UNMASK, StepKind.MASK):
            d["runtime"] = self.runtime
        if self.kind in (StepKind.ENABLE, StepKind.DISABLE):
            d["created"] = [{"path": p, "state": s.to_json()} for p, s in self.created]
        if self.message:
            d["message"] = self.message
        if self.result is not None:
            d["result"] = self.result
        if self.quarantine is not None:
            d["quarantine"] = self.quarantine
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Step:
        return cls(
            StepKind(d["kind"]), d.get("action", -1), d.get("path"),
            FileState.from_json(d["before"]) if "before" in d else None,
            FileState.from_json(d["after"]) if "after" in d else None,
            d.get("unit"), bool(d.get("runtime", False)), StepState(d.get("state", "planned")), d.get("message", ""),
            d.get("result"), [(c["path"], FileState.from_json(c["state"])) for c in d.get("created", ())],
            d.get("quarantine"),
        )


@dataclass
class Entry:
    """One fix (or undo): written before its first change, then updated after each step."""

    id: str
    seq: int
    created: str
    command: str  # "fix" | "undo"
    scope: str
    root: Optional[str]
    live: bool
    units: list[str]
    status: EntryStatus
    steps: list[Step]
    plan: list[dict[str, Any]] = field(default_factory=list)
    undoes: Optional[str] = None
    undone_by: Optional[str] = None
    updated: str = ""
    version: int = VERSION  # the format it was written in (an old entry is rewritten in its own)
    #: ``"manager"``: every change was made by the manager for a user polkit let ask (undone the same way).
    via: Optional[str] = None

    @property
    def interrupted(self) -> bool:
        return self.status in INTERRUPTED

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": self.version, "id": self.id, "seq": self.seq, "created": self.created,
            "updated": self.updated or self.created, "command": self.command, "scope": self.scope,
            "root": self.root, "live": self.live, "units": list(self.units), "status": self.status.value,
            "undoes": self.undoes, "undone_by": self.undone_by, "plan": self.plan,
            "steps": [s.to_json() for s in self.steps],
            **({"via": self.via} if self.via else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any], where: str) -> Entry:
        try:
            validate_entry(d)
        except ValueError as e:
            raise JournalError(f"{where}: {e}") from None
        if d["version"] > VERSION:
            raise JournalError(f"{where}: journal format version {d.get('version')!r} is newer than this "
                               f"unitdoctor reads ({VERSION}); use a newer unitdoctor")
        return cls(d["id"], int(d.get("seq", 0)), d["created"], d["command"], d["scope"], d.get("root"),
                   bool(d.get("live")), list(d.get("units", ())), EntryStatus(d["status"]),
                   [Step.from_json(s) for s in d.get("steps", ())], list(d.get("plan", ())),
                   d.get("undoes"), d.get("undone_by"), d.get("updated", ""), d["version"], d.get("via"))


# -- validation -------------------------------------------------------------------------------------

_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9]{4,}-[0-9a-f]{4}")
_STATUSES = tuple(s.value for s in EntryStatus)
_STEP_KINDS = tuple(k.value for k in StepKind)
_STEP_STATES = tuple(s.value for s in StepState)
_FILE_TYPES = ("absent", "symlink", "file", "dir", "other")


class _Bad(ValueError):
    pass


def _int(v: Any, what: str, lo: Optional[int] = None, hi: Optional[int] = None) -> None:
    if type(v) is not int or (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _Bad(f"{what} is not an integer{'' if lo is None else f' ≥ {lo}'}: {v!r:.40}")


def _str(v: Any, what: str, *, null: bool = False, path: bool = False) -> None:
    if v is None and null:
        return
    if not isinstance(v, str):
        raise _Bad(f"{what} is not a string: {v!r:.40}")
    if "\0" in v:
        raise _Bad(f"{what} contains a NUL character")
    if path and not v.startswith("/"):
        raise _Bad(f"{what} is not an absolute path: {v!r:.60}")


def _file_state(d: Any, what: str) -> None:
    if not isinstance(d, dict):
        raise _Bad(f"{what} is not an object")
    if d.get("type") not in _FILE_TYPES:
        raise _Bad(f"{what}.type is not one of {', '.join(_FILE_TYPES)}")
    if "target" in d or d["type"] == "symlink":
        _str(d.get("target"), f"{what}.target")
    for k, lo, hi in (("size", 0, None), ("mode", 0, 0o7777), ("uid", 0, None), ("gid", 0, None),
                      ("mtime_ns", None, None), ("atime_ns", None, None)):
        if k in d:
            _int(d[k], f"{what}.{k}", lo, hi)


def validate_entry(d: Any) -> None:
    """Raise ``ValueError`` (its message says what) unless ``d`` has the shape of a journal entry
    (schema/journal-entry.schema.json): every key ``Entry.from_json`` uses, with its type; no NUL in a
    string; paths absolute; the id in its pattern (it names files). Unknown keys are allowed."""
    if not isinstance(d, dict):
        raise _Bad(f"not a JSON object but {type(d).__name__}")
    if d.get("format") != FORMAT:
        raise _Bad("not a unitdoctor journal entry")
    _int(d.get("version"), "version", 1)
    if not isinstance(d.get("id"), str) or not _ID.fullmatch(d["id"]):
        raise _Bad(f"id is not an entry id: {d.get('id')!r:.40}")
    _int(d.get("seq", 0), "seq", 0)
    for k in ("created", "command", "scope", "status"):
        _str(d.get(k), k)
    if "updated" in d:
        _str(d["updated"], "updated")
    if d["command"] not in ("fix", "undo"):
        raise _Bad(f"command is not fix or undo: {d['command']!r:.20}")
    if d["status"] not in _STATUSES:
        raise _Bad(f"status is not one of {', '.join(_STATUSES)}")
    _str(d.get("root"), "root", null=True)
    for k in ("undoes", "undone_by"):
        _str(d.get(k), k, null=True)
    if d.get("via") not in (None, "manager"):
        raise _Bad("via is not \"manager\"")
    if not isinstance(d.get("live", False), bool):
        raise _Bad("live is not a boolean")
    for k in ("units", "plan", "steps"):
        if not isinstance(d.get(k, []), list):
            raise _Bad(f"{k} is not a list")
    for u in d.get("units", ()):
        _str(u, "units[]")
    if not all(isinstance(p, dict) for p in d.get("plan", ())):
        raise _Bad("plan[] is not an object")
    for i, st in enumerate(d.get("steps", ())):
        w = f"steps[{i}]"
        if not isinstance(st, dict):
            raise _Bad(f"{w} is not an object")
        if st.get("kind") not in _STEP_KINDS:
            raise _Bad(f"{w}.kind is not one of {', '.join(_STEP_KINDS)}")
        _int(st.get("action", -1), f"{w}.action", -1)
        if st.get("state", "planned") not in _STEP_STATES:
            raise _Bad(f"{w}.state is not one of {', '.join(_STEP_STATES)}")
        for k in ("path", "quarantine"):
            if k in st:
                _str(st[k], f"{w}.{k}", path=True)
        for k in ("unit", "message", "result"):
            if k in st:
                _str(st[k], f"{w}.{k}")
        for k in ("before", "after"):
            if k in st:
                _file_state(st[k], f"{w}.{k}")
        if st["kind"] in ("file", "unmask", "mask") and not all(k in st for k in ("path", "before", "after")):
            raise _Bad(f"{w}: a {st['kind']} step without path, before and after")
        if st["kind"] in ("unmask", "mask") and "unit" not in st:
            raise _Bad(f"{w}: a {st['kind']} step without unit")
        if not isinstance(st.get("runtime", False), bool):
            raise _Bad(f"{w}.runtime is not a boolean")
        created = st.get("created", [])
        if not isinstance(created, list):
            raise _Bad(f"{w}.created is not a list")
        for j, c in enumerate(created):
            if not isinstance(c, dict):
                raise _Bad(f"{w}.created[{j}] is not an object")
            _str(c.get("path"), f"{w}.created[{j}].path", path=True)
            _file_state(c.get("state"), f"{w}.created[{j}].state")


def _open_lock(dfd: int, flags: int) -> int:
    """The lock file, opened without following a link or waiting (a FIFO there would block an open);
    anything but a regular file is refused (ENOLCK: "not a regular file")."""
    fd = os.open(LOCK_NAME, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600, dir_fd=dfd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.ENOLCK, "not a regular file")
    return fd


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


# -- the journal --------------------------------------------------------------------------------------


class Journal:
    """The journal directory ``directory`` (root-relative) inside ``root``."""

    def __init__(self, root: Root, directory: str) -> None:
        self.root = root
        self.directory = directory
        self._fd: Optional[int] = None
        #: Entries the last read could not use, one line each ("PATH: cannot read: …", "PATH: seq is …").
        self.unreadable: list[str] = []

    @classmethod
    def for_scope(cls, scope: str, root: Root, environ: Mapping[str, str]) -> Journal:
        """Where fixes of ``scope`` under ``root`` are journaled (module docstring)."""
        if scope == "user" and root.is_host:
            state = environ.get("XDG_STATE_HOME") or ""
            if not state.startswith("/"):
                home = environ.get("HOME") or os.path.expanduser("~")
                state = posixpath.join(home, ".local/state")
            return cls(root, posixpath.join(state, "unitdoctor"))
        return cls(root, "/var/lib/unitdoctor")

    @classmethod
    def for_manager(cls, root: Root, environ: Mapping[str, str]) -> Journal:
        """Where an unprivileged user's fixes of the live system made through the manager (polkit) are journaled:
        ``$XDG_STATE_HOME/unitdoctor/system/`` (the user may not write ``/var/lib/unitdoctor``)."""
        return cls(root, posixpath.join(cls.for_scope("user", root, environ).directory, "system"))

    @property
    def display(self) -> str:
        return self.root.display(self.directory)

    @property
    def quarantine(self) -> str:
        """Where a fix moves an object aside before removing it, or builds one before putting it in place."""
        return posixpath.join(self.directory, QUARANTINE_NAME)

    def exists(self) -> bool:
        try:
            st = self.root.stat(self.directory)
        except OSError:
            return False
        return stat.S_ISDIR(st.st_mode)

    # -- locking ----------------------------------------------------------------------------------

    @contextmanager
    def locked(self, timeout: float = 30.0) -> Iterator[Journal]:
        """Hold the journal lock (creating the directory), waiting up to ``timeout`` seconds.

        Raises ``LockBusy`` when another fix keeps it, ``JournalError`` when the directory cannot be made
        or opened (read-only root, permissions).
        """
        made: list[str] = []
        try:
            dfd = open_dir(self.root, self.directory, create=True, mode=0o755, made=made)
        except OSError as e:
            raise JournalError(f"cannot use the journal directory {self.display}: {e.strerror}") from None
        try:
            if made and posixpath.basename(made[-1]) == posixpath.basename(self.directory):
                os.chmod(dfd, 0o700)  # new: only its owner reads what was fixed
            lfd = _open_lock(dfd, os.O_RDWR | os.O_CREAT)
        except OSError as e:
            os.close(dfd)
            raise JournalError(f"cannot open the journal lock {self.display}/{LOCK_NAME}: {e.strerror}") from None
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(lfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockBusy(f"another unitdoctor fix holds {self.display}/{LOCK_NAME}; "
                                       "try again when it has finished") from None
                    time.sleep(0.05)
            self._fd = dfd
            self._sweep()
            yield self
        finally:
            self._fd = None
            os.close(lfd)  # closing the descriptor releases the flock
            os.close(dfd)

    def busy(self) -> bool:
        """Whether a fix holds the lock right now (without creating anything)."""
        if not self.exists():
            return False
        try:
            with dir_fd(self.root, self.directory) as dfd:
                lfd = _open_lock(dfd, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(lfd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(lfd)

    def _sweep(self) -> None:
        """Remove temporary files a crash left behind (the entries themselves are intact)."""
        assert self._fd is not None
        for name in os.listdir(self._fd):
            if name.startswith(".") and name.endswith(".tmp"):
                with suppress(OSError):
                    os.unlink(name, dir_fd=self._fd)

    # -- reading ----------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every entry, oldest first. Reads only; an absent journal has none."""
        if self._fd is not None:
            return self._read_all(self._fd)
        if not self.exists():
            return []
        try:
            with dir_fd(self.root, self.directory) as dfd:
                return self._read_all(dfd)
        except OSError as e:
            raise JournalError(f"cannot read the journal {self.display}: {e.strerror}") from None

    def _read_all(self, dfd: int) -> list[Entry]:
        """The readable entries, oldest first; the others are kept in ``unreadable`` (one line each)."""
        out = []
        self.unreadable = []
        for name in os.listdir(dfd):
            if name.endswith(".json") and not name.startswith("."):
                try:
                    out.append(self._read(dfd, name))
                except JournalError as e:
                    self.unreadable.append(str(e))
        out.sort(key=lambda e: (e.seq, e.created, e.id))
        self.unreadable.sort()
        return out

    def _read(self, dfd: int, name: str) -> Entry:
        """One entry: a regular file (never a FIFO, device or link: looked at before it is opened, and
        opened with O_NOFOLLOW|O_NONBLOCK), at most ``ENTRY_MAX`` bytes, UTF-8 JSON of the entry's shape, named
        after the entry's id."""
        where = f"{self.display}/{name}"
        try:
            st = os.lstat(name, dir_fd=dfd)
            if not stat.S_ISREG(st.st_mode):
                raise JournalError(f"{where}: cannot read: not a regular file")
            if st.st_size > ENTRY_MAX:
                raise JournalError(f"{where}: cannot read: larger than {ENTRY_MAX >> 20} MiB")
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the lstat
                    raise JournalError(f"{where}: cannot read: not a regular file")
                data = json.loads(f.read(ENTRY_MAX + 1).decode("utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise JournalError(f"{where}: cannot read: {e}") from None
        entry = Entry.from_json(data, where)
        if name != f"{entry.id}.json":
            # saved under its id, this copy would stay behind as it is: an interrupted one would block for ever
            raise JournalError(f"{where}: cannot read: it holds entry {entry.id}, which is not its file name")
        return entry

    def load(self, entry_id: str) -> Optional[Entry]:
        for e in self.entries():
            if e.id == entry_id:
                return e
        return None

    def interrupted(self) -> list[Entry]:
        """Entries left ``in-progress``/``rolling-back``: interrupted if no fix holds the lock."""
        return [e for e in self.entries() if e.interrupted]

    # -- writing (under the lock) -----------------------------------------------------------------

    def create(self, *, command: str, scope: str, live: bool, units: list[str], steps: list[Step],
               plan: list[dict[str, Any]], undoes: Optional[str] = None, via: Optional[str] = None) -> Entry:
        """Write a new ``in-progress`` entry, durably, and return it."""
        existing = self.entries()
        seq = max((e.seq for e in existing), default=0) + 1
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        entry = Entry(f"{stamp}-{seq:04d}-{secrets.token_hex(2)}", seq, _now(), command, scope,
                      None if self.root.is_host else self.root.path, live, units, IN_PROGRESS, steps, plan, undoes,
                      via=via)
        for s in steps:
            if s.kind is StepKind.FILE and s.state is StepState.PLANNED:
                s.quarantine = self.quarantine
        self.save(entry)
        return entry

    def save(self, entry: Entry) -> None:
        """Replace ``entry``'s file atomically and durably (tmp, fsync, rename, fsync of the directory)."""
        if self._fd is None:
            raise RuntimeError("Journal.save outside Journal.locked()")
        entry.updated = _now()
        data = (json.dumps(entry.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        name = f"{entry.id}.json"
        tmp = f".{name}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=self._fd)
            try:
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
            os.fsync(self._fd)
        except OSError as e:
            raise JournalError(f"cannot write the journal entry {self.display}/{name}: "
                               f"{e.strerror or errno.errorcode.get(e.errno or 0, e)}") from None
