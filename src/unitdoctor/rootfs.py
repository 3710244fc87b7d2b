"""The only reads of a root directory: every path is resolved *inside* the root.

A root is an untrusted tree (an image, a chroot, a broken host). Symlinks are resolved component by
component: absolute targets are re-rooted and ``..`` never climbs above the root, as systemd's
``chase_symlinks(…, root, …)`` does. Nothing outside the root is ever opened, not even through a
symlinked search directory. Errors are ``OSError`` with the errno systemd would see; callers turn
them into findings. This module knows nothing about units.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from typing import Mapping, Optional, Union

#: systemd follows at most this many symlinks while chasing one path (CHASE_SYMLINKS_MAX).
CHASE_SYMLINKS_MAX = 32
#: We read at most this much of one unit or drop-in file. systemd reads lines of up to 1 MiB each
#: (LONG_LINE_MAX) and has no total limit; a larger file is reported rather than read.
READ_MAX = 16 * 1024 * 1024


#: How ``Root.read`` opens a file: never through a final symlink, never blocking, never a controlling tty.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


def _err(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


class Symlink(str):
    """The text of an in-memory symlink given to ``Root.with_files``."""


def _fake_stat(mode: int, size: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, 0, 0, size, 0, 0, 0))


class Listing:
    """One directory entry as scanned: name, file type bits (``stat.S_IFMT``), link text; size and mtime on demand.

    The type comes from the directory entry itself (``d_type``), so listing a directory costs no
    per-entry syscall; only a type ``d_type`` does not give (or ``DT_UNKNOWN``) is lstat'ed. Size and
    mtime are read by one ``lstat`` of the entry (never following it) the first time either is asked;
    an entry that vanished since the listing reads as size 0, mtime 0.
    """

    __slots__ = ("name", "mode", "target", "_host", "_st")

    def __init__(self, name: str, mode: int, target: Optional[str] = None, host: str = "",
                 st: Optional[os.stat_result] = None) -> None:
        self.name = name
        self.mode = mode
        self.target = target
        self._host = host  # host path of the entry, for the deferred lstat
        self._st = st

    def _stat(self) -> tuple[int, float]:
        st = self._st
        if st is None:
            try:
                st = self._st = os.lstat(self._host)
            except OSError:
                return 0, 0.0
        return st.st_size, st.st_mtime

    @property
    def size(self) -> int:
        return self._stat()[0]

    @property
    def mtime(self) -> float:
        return self._stat()[1]

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def is_reg(self) -> bool:
        return stat.S_ISREG(self.mode)

    def __repr__(self) -> str:
        return f"Listing(name={self.name!r}, mode={self.mode:#o}, target={self.target!r})"


class Root:
    """A directory tree seen as ``/``. ``Root("/")`` is the live host."""

    def __init__(self, path: str = "/") -> None:
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            code = errno.ENOENT if not os.path.exists(real) else errno.ENOTDIR
            raise _err(code, path)
        self.path = real
        self.given = path
        # The root as systemctl holds it (``--root`` made absolute and simplified, links kept).
        self.arg = posixpath.normpath(os.path.abspath(path))
        self.is_host = real == "/"
        self._dirs: dict[str, str] = {"/": "/"}
        # In-memory entries (``with_files``): root-relative path -> (stat, data, link text); directories implied.
        self._virtual: dict[str, tuple[os.stat_result, bytes, Optional[str]]] = {}
        self._vdirs: dict[str, dict[str, int]] = {}

    def with_files(self, files: Mapping[str, Union[bytes, Symlink]]) -> Root:
        """This root plus in-memory files and symlinks, as if written below it (what generators write to /run).

        Keys are root-relative absolute paths; the directories above them exist (in memory if not on disk),
        and an in-memory entry hides a real one of the same path. The real tree is still only read.
        """
        new = object.__new__(Root)
        new.__dict__.update(self.__dict__)
        new._dirs = {"/": "/"}
        new._virtual = dict(self._virtual)
        new._vdirs = {d: dict(v) for d, v in self._vdirs.items()}
        for path, content in files.items():
            if isinstance(content, Symlink):
                new._virtual[path] = (_fake_stat(stat.S_IFLNK | 0o777, len(content)), b"", str(content))
            else:
                new._virtual[path] = (_fake_stat(stat.S_IFREG | 0o644, len(content)), bytes(content), None)
            child = path
            while child != "/":
                parent, name = posixpath.split(child)
                new._vdirs.setdefault(parent, {})[name] = stat.S_IFMT(
                    new._virtual[child][0].st_mode) if child in new._virtual else stat.S_IFDIR
                child = parent
        return new

    def holds_files_in(self, directory: str) -> bool:
        """Whether ``directory`` (root-relative, as given) holds in-memory entries of ``with_files``."""
        return bool(self._vdirs) and directory in self._vdirs

    def _vlstat(self, path: str) -> Optional[os.stat_result]:
        found = self._virtual.get(path)
        if found is not None:
            return found[0]
        if path in self._vdirs:
            return _fake_stat(stat.S_IFDIR | 0o755, 0)
        return None

    def host(self, path: str) -> str:
        """The host path of a root-relative path that is already resolved."""
        return path if self.is_host else self.path + path if path != "/" else self.path

    def display(self, path: str) -> str:
        """A path as the user passed the root: ``ROOT/etc/…`` for ``--root``, plain for the host."""
        return path if self.is_host else self.given.rstrip("/") + path

    # -- resolution ---------------------------------------------------------------------------

    def chase(self, path: str, *, follow_last: bool = True, missing_ok: bool = False) -> str:
        """Return the root-relative real path of ``path``, following symlinks inside the root.

        Implements ``chase_symlinks`` (chase-symlinks.c, v252) for a root: absolute link targets
        restart at the root, ``..`` stops at the root, and at most 31 links are followed (ELOOP).
        With ``missing_ok`` the missing tail is kept as it is (CHASE_NONEXISTENT), unless it contains
        ``..`` (ENOENT). Without ``follow_last`` a link in the last component is kept (CHASE_NOFOLLOW).
        Raises OSError (ENOENT, ENOTDIR, ELOOP, EACCES…).
        """
        todo = [c for c in path.split("/") if c and c != "."]
        todo.reverse()
        done = "/"
        hops = 0
        while todo:
            comp = todo.pop()
            if comp == "..":
                done = posixpath.dirname(done) if done != "/" else "/"
                continue
            cand = done + "/" + comp if done != "/" else "/" + comp
            last = not todo
            cached = self._dirs.get(cand)
            if cached is not None and not last:
                done = cached
                continue
            try:
                st = (self._virtual and self._vlstat(cand)) or os.lstat(self.host(cand))
            except OSError as e:
                # CHASE_NONEXISTENT keeps a missing tail, but only a tail without "..".
                if missing_ok and e.errno == errno.ENOENT and ".." not in todo:
                    return posixpath.join(done, comp, *reversed(todo))
                raise _err(e.errno or errno.EIO, cand) from None
            if stat.S_ISLNK(st.st_mode) and (follow_last or not last):
                # chase_symlinks counts down from CHASE_SYMLINKS_MAX and fails when it reaches 0.
                hops += 1
                if hops >= CHASE_SYMLINKS_MAX:
                    raise _err(errno.ELOOP, path)
                target = self._virtual[cand][2] if cand in self._virtual else os.readlink(self.host(cand))
                assert target is not None
                parts = [c for c in target.split("/") if c and c != "."]
                todo.extend(reversed(parts))
                if target.startswith("/"):
                    done = "/"
                continue
            if not last and not stat.S_ISDIR(st.st_mode):
                raise _err(errno.ENOTDIR, cand)
            if stat.S_ISDIR(st.st_mode):
                self._dirs[cand] = cand
            done = cand
        return done

    def lstat(self, path: str) -> os.stat_result:
        """lstat of the last component; the directories above it are chased inside the root."""
        parent, name = posixpath.split(path)
        real_parent = self.chase(parent)
        v = self._virtual and self._vlstat(posixpath.join(real_parent, name))
        if v:
            return v
        try:
            return os.lstat(self.host(posixpath.join(real_parent, name)))
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None

    def stat(self, path: str) -> os.stat_result:
        real = self.chase(path)
        v = self._virtual and self._vlstat(real)
        if v:
            return v
        try:
            return os.stat(self.host(real))
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None

    def readlink(self, path: str) -> str:
        parent, name = posixpath.split(path)
        if self._virtual:
            found = self._virtual.get(posixpath.join(self.chase(parent), name))
            if found is not None:
                if found[2] is None:
                    raise _err(errno.EINVAL, path)
                return found[2]
        try:
            return os.readlink(self.host(posixpath.join(self.chase(parent), name)))
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None

    # -- reading ------------------------------------------------------------------------------

    def scandir(self, path: str) -> list[Listing]:
        """List a directory (chased inside the root): every entry with its type and link text.

        The type is taken from ``d_type`` without a syscall; an entry whose type it does not tell
        is lstat'ed (and skipped if that fails, as before). Nothing is followed: a symlink is
        reported as one, with its text read by ``readlink``.
        """
        real = self.chase(path)
        if real in self._vdirs:
            return self._scandir_virtual(real, path)
        out: list[Listing] = []
        try:
            it = os.scandir(self.host(real))
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None
        append = out.append
        readlink = os.readlink
        with it:
            for de in it:
                try:
                    if de.is_symlink():
                        try:
                            target: Optional[str] = readlink(de.path)
                        except OSError:
                            target = None
                        append(Listing(de.name, stat.S_IFLNK, target, de.path))
                    elif de.is_file(follow_symlinks=False):
                        append(Listing(de.name, stat.S_IFREG, None, de.path))
                    elif de.is_dir(follow_symlinks=False):
                        append(Listing(de.name, stat.S_IFDIR, None, de.path))
                    else:
                        st = de.stat(follow_symlinks=False)
                        append(Listing(de.name, stat.S_IFMT(st.st_mode), None, de.path, st))
                except OSError:
                    continue
        return out

    def _scandir_virtual(self, real: str, path: str) -> list[Listing]:
        """A directory with in-memory entries: the real entries (if it exists on disk), then the in-memory ones."""
        vnames = self._vdirs[real]
        out = []
        if real not in self._virtual:
            try:
                out = [li for li in self._scandir_real(real, path) if li.name not in vnames]
            except OSError as e:
                if e.errno not in (errno.ENOENT, errno.ENOTDIR):
                    raise
        for name in vnames:
            child = posixpath.join(real, name)
            st = self._vlstat(child)
            assert st is not None
            target = self._virtual[child][2] if child in self._virtual else None
            out.append(Listing(name, stat.S_IFMT(st.st_mode), target, "", st))
        return out

    def _scandir_real(self, real: str, path: str) -> list[Listing]:
        saved, self._vdirs = self._vdirs, {}
        try:
            return self.scandir(real)
        finally:
            self._vdirs = saved

    def read(self, path: str, limit: int = READ_MAX, *, resolved: bool = False) -> bytes:
        """Read a regular file (chased inside the root) without blocking on FIFOs or devices.

        ``resolved``: ``path`` is already chased (e.g. a catalog entry), so it is opened as it is,
        with O_NOFOLLOW, as systemd opens a unit file it found in a search dir.
        Raises OSError: EISDIR for a directory, ENOTTY for other non-regular files, EFBIG past ``limit``.
        """
        real = path if resolved else self.chase(path)
        if real in self._virtual:
            st, data, target = self._virtual[real]
            if target is not None:
                raise _err(errno.ELOOP, path)
            return data
        if real in self._vdirs:
            raise _err(errno.EISDIR, path)
        try:
            fd = os.open(self.host(real), _READ_FLAGS)
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise _err(errno.EISDIR, path)
            if not stat.S_ISREG(st.st_mode):
                raise _err(errno.ENOTTY, path)
            if st.st_size > limit:
                raise _err(errno.EFBIG, path)
            # A regular file usually comes back whole in one read of its size + 1 bytes; a short
            # read is the end of file. Files that grow while read fall through to the loop.
            try:
                first = os.read(fd, st.st_size + 1)
            except OSError as e:
                raise _err(e.errno or errno.EIO, path) from None
            if len(first) <= st.st_size:
                return first
            chunks = [first]
            total = len(first)
            while True:
                try:
                    b = os.read(fd, 1 << 20)
                except OSError as e:
                    raise _err(e.errno or errno.EIO, path) from None
                if not b:
                    break
                total += len(b)
                if total > limit:
                    raise _err(errno.EFBIG, path)
                chunks.append(b)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def is_null_or_empty(self, path: str) -> bool:
        """``null_or_empty_path_with_root``: ``/dev/null`` literally, or resolves to an empty file or char device.

        Raises OSError for other failures (ENOENT for a dangling target, ELOOP…).
        """
        if posixpath.normpath(path) == "/dev/null":
            return True
        real = self.chase(path, missing_ok=True)
        if real == "/dev/null":
            return True
        v = self._virtual and self._vlstat(real)
        if v:
            return stat.S_ISREG(v.st_mode) and v.st_size <= 0
        try:
            st = os.stat(self.host(real))
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None
        return (stat.S_ISREG(st.st_mode) and st.st_size <= 0) or stat.S_ISCHR(st.st_mode)

    def null_or_empty_with_root(self, path: str) -> bool:
        """Whether the install logic takes a symlink target to be a mask, as systemd 252 decides it.

        Implements ``null_or_empty_path_with_root(ROOT + path, ROOT)`` (stat-util.c, v252) as
        ``unit_file_load_or_readlink`` calls it: true if ``path`` (already chased, root-relative) is
        literally ``/dev/null``. Otherwise 252 stats it with CHASE_PREFIX_ROOT although the path
        already carries the root, so under a root it looks up ``ROOT/ROOT/path``, which hardly ever
        exists: a link to an empty file or to ``/dev/zero`` is *not* a mask there (it is followed,
        and the empty file it reaches is). On the host it is a plain stat. Fact sheet §1.4, §2.1.
        Raises OSError (ENOENT when the doubled path is missing).
        """
        if path == "/dev/null":
            return True
        if self.is_host:
            target = path
        else:
            # The root string is prefixed a second time, then the whole is chased inside the root.
            target = self.chase(self.arg + path)
        try:
            st = os.stat(self.host(target))
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None
        return (stat.S_ISREG(st.st_mode) and st.st_size <= 0) or stat.S_ISCHR(st.st_mode)


def errno_name(e: OSError) -> str:
    """The errno symbol of an OSError (``ENOENT``), as systemctl names it."""
    return errno.errorcode.get(e.errno or 0, "EIO")


def normalize_link(directory: str, target: str) -> str:
    """A symlink target made absolute against its directory and normalised, without following links."""
    p = posixpath.normpath(posixpath.join(directory, target))
    return "/" + p.lstrip("/") if p.startswith("//") else p
