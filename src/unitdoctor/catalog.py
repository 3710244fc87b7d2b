"""One scan of the unit search path into an immutable snapshot.

Every search directory is listed once with ``os.scandir`` (through ``rootfs``), together with its
``*.wants``, ``*.requires``, ``*.upholds`` and ``*.d`` subdirectories. Every later question (which
file wins for a name, which links name a unit, which drop-ins exist) is answered from the indexes
built here; nothing rescans per unit, so answering for all units is linear in the number of entries.
Two search directories that are the same directory (``/lib`` → ``usr/lib``) are read once.
"""

from __future__ import annotations

import posixpath
import stat
from typing import Callable, Iterable, Iterator, Mapping, Optional, TypeVar

from .lookup import LookupPaths, Scope, SearchDir
from .records import dataclass, field
from .rootfs import Listing, Root, errno_name

#: Subdirectories of a search directory that the install logic and the manager read.
LINK_DIR_SUFFIXES = (".wants", ".requires", ".upholds")
DROPIN_DIR_SUFFIX = ".d"

T = TypeVar("T")

_BACKUP_SUFFIXES = frozenset((
    "rpmnew", "rpmsave", "rpmorig", "dpkg-old", "dpkg-new", "dpkg-tmp", "dpkg-dist", "dpkg-bak",
    "dpkg-backup", "dpkg-remove", "ucf-new", "ucf-old", "ucf-dist", "swp", "bak", "old", "new",
))


def hidden_or_backup(name: str) -> bool:
    """``hidden_or_backup_file`` (path-util.c): names systemd's directory loops skip."""
    if name.startswith(".") or name in ("lost+found", "aquota.user", "aquota.group") or name.endswith("~"):
        return True
    dot = name.rfind(".")
    return dot >= 0 and name[dot + 1:] in _BACKUP_SUFFIXES


class Entry:
    """A directory entry in the search path (or in one of its subdirectories).

    Type and link text come from the scan; size and mtime are read from the scanned entry on first
    use (``rootfs.Listing``), so scanning a search directory costs no syscall per regular file.
    The same scanned entry backs both names of a directory seen twice (``/lib`` → ``usr/lib``).
    Not to be modified; equal when every field is.
    """

    __slots__ = ("name", "dir", "parent", "mode", "target", "_listing")

    def __init__(self, listing: Listing, dir: SearchDir, parent: str) -> None:
        self.name = listing.name
        self.dir = dir
        self.parent = parent  # root-relative directory that holds the entry
        self.mode = listing.mode
        self.target = listing.target  # symlink text as read; None for anything but a symlink
        self._listing = listing

    @property
    def size(self) -> int:
        return self._listing.size

    @property
    def mtime(self) -> float:
        return self._listing.mtime

    @property
    def path(self) -> str:
        return self.parent + "/" + self.name if self.parent != "/" else "/" + self.name

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)

    @property
    def is_reg(self) -> bool:
        return stat.S_ISREG(self.mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def is_empty_or_chardev(self) -> bool:
        return (self.is_reg and self.size <= 0) or stat.S_ISCHR(self.mode)

    @property
    def hidden(self) -> bool:
        return hidden_or_backup(self.name)

    def _key(self) -> tuple[object, ...]:
        return (self.name, self.dir, self.parent, self.mode, self.target, self.size, self.mtime)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.name, self.dir, self.parent, self.mode, self.target))

    def __repr__(self) -> str:
        return (f"Entry(name={self.name!r}, dir={self.dir!r}, parent={self.parent!r}, "
                f"mode={self.mode:#o}, target={self.target!r})")


@dataclass(frozen=True)
class SubDir:
    """A ``NAME.wants``/``.requires``/``.upholds``/``.d`` directory of one search directory."""

    name: str
    dir: SearchDir
    path: str
    entries: dict[str, Entry]
    via_symlink: bool  # the subdirectory itself is a symlink (install's find_symlinks skips those)
    error: Optional[str] = None


@dataclass(frozen=True)
class DirListing:
    dir: SearchDir
    entries: dict[str, Entry]
    subdirs: Mapping[str, SubDir]  # read on first use: a `why` needs a handful of the .d dirs
    error: Optional[str] = None  # errno symbol when the directory exists but cannot be read
    real: Optional[str] = None  # the directory's path with symlinks resolved inside the root

    def real_path(self, name: str) -> Optional[str]:
        """The resolved root-relative path of entry ``name`` (its last component not followed)."""
        if self.real is None:
            return None
        return self.real + "/" + name if self.real != "/" else "/" + name


class _Index:
    """The catalog's caches: indexes computed from the snapshot on first use, never invalidated.

    Private to this module; other modules ask ``Catalog``'s methods, and keep indexes of their own
    over the snapshot with ``Catalog.derived``.
    """

    __slots__ = ("by_name", "order", "link_names", "link_targets", "dir_indexes", "holders", "subdir_names",
                 "broken", "broken_known", "at_path", "derived", "linked")

    def __init__(self) -> None:
        self.by_name: Optional[dict[str, list[Entry]]] = None
        self.order: Optional[dict[str, int]] = None
        self.link_names: Optional[dict[str, list[tuple[int, str, bool]]]] = None
        self.link_targets: Optional[dict[str, list[tuple[int, str]]]] = None
        self.dir_indexes: Optional[dict[str, int]] = None
        self.holders: dict[str, int] = {}
        self.subdir_names: Optional[set[str]] = None
        self.broken: Optional[DirListing] = None
        self.broken_known = False
        self.at_path: Optional[dict[str, DirListing]] = None
        self.derived: dict[str, object] = {}
        self.linked: Optional[set[str]] = None


@dataclass(frozen=True, eq=False)
class Catalog:
    """The scanned search path: a snapshot that never changes. Build with ``Catalog.scan(root, lookup)``.

    Everything else (which file wins for a name, which links name a unit, which drop-in dirs exist)
    is answered from indexes over the snapshot, each built on first use and kept in a private
    ``_Index``. A changed tree is a new scan (``plan.simulate`` builds a new catalog from listings).
    Two catalogs are equal only if they are the same object.
    """

    root: Root
    lookup: LookupPaths
    listings: tuple[DirListing, ...]
    #: The environment the manager runs with (user scope: HOME, XDG_*; used for specifiers).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    _index: _Index = field(default_factory=_Index, init=False, repr=False, compare=False)

    @classmethod
    def scan(cls, root: Root, lookup: LookupPaths, environ: Optional[Mapping[str, str]] = None) -> Catalog:
        cache: dict[str, DirListing] = {}
        out = []
        for sd in lookup.search_path:
            try:
                real = root.chase(sd.path)
            except OSError as e:
                out.append(DirListing(sd, {}, {}, None if e.errno in _MISSING else errno_name(e)))
                continue
            known = cache.get(real)
            if known is not None:
                out.append(_rebase(known, sd))
                continue
            listing = _scan_dir(root, sd, real)
            cache[real] = listing
            out.append(listing)
        return cls(root=root, lookup=lookup, listings=tuple(out), environ=dict(environ or {}))

    def derived(self, key: str, build: Callable[[Catalog], T]) -> T:
        """``build(self)``, computed once per catalog and kept: an index another module keeps over the snapshot.

        ``key`` names the index (use the module's name, e.g. ``"manager.triggers"``). The snapshot
        never changes, so the index is never invalidated; ``build`` must read nothing but the
        catalog (and the root's files it lists).
        """
        found = self._index.derived.get(key, _NOTHING)
        if found is _NOTHING:
            found = self._index.derived[key] = build(self)
        # One dict holds every module's index; the one under ``key`` is what ``build`` returned.
        return found  # type: ignore[return-value]

    def with_root(self, root: Root) -> Catalog:
        """This search path seen through ``root``: a view of the same tree with in-memory files (``Root.with_files``).

        Only the search directories that hold in-memory entries are listed again; the others are shared.
        """
        out = []
        for li in self.listings:
            if not root.holds_files_in(li.dir.path):
                out.append(li)
                continue
            try:
                real = root.chase(li.dir.path)
            except OSError as e:
                out.append(DirListing(li.dir, {}, {}, None if e.errno in _MISSING else errno_name(e)))
                continue
            out.append(_scan_dir(root, li.dir, real))
        return Catalog(root=root, lookup=self.lookup, listings=tuple(out), environ=self.environ)

    # -- names --------------------------------------------------------------------------------

    def entries(self, name: str) -> tuple[Entry, ...]:
        """Every entry called ``name`` in the search path, highest priority first."""
        found = self._by_name().get(name)
        return tuple(found) if found is not None else ()

    def _by_name(self) -> dict[str, list[Entry]]:
        by_name = self._index.by_name
        if by_name is None:
            self._build_name_index()
            by_name = self._index.by_name
            assert by_name is not None
        return by_name

    def _build_name_index(self) -> None:
        """One pass over the entries of every search dir: entries by name, symlinks by target basename.

        Both indexes keep search path order (names in the order they are first met).
        """
        by_name: dict[str, list[Entry]] = {}
        targets: dict[str, list[tuple[int, str]]] = {}
        for li in self.listings:
            index = li.dir.index
            for n, e in li.entries.items():
                found = by_name.get(n)
                if found is None:
                    by_name[n] = [e]
                else:
                    found.append(e)
                t = e.target  # set for symlinks only
                if t is not None:
                    base = t.rsplit("/", 1)[-1]
                    hits = targets.get(base)
                    if hits is None:
                        targets[base] = [(index, n)]
                    else:
                        hits.append((index, n))
        self._index.by_name = by_name
        self._index.link_targets = targets

    def scan_order(self) -> dict[str, int]:
        """Name → its rank among the names of the search dirs, in the order a scan meets them."""
        if self._index.order is None:
            self._index.order = {n: i for i, n in enumerate(self._by_name())}
        return self._index.order

    def first(self, name: str) -> Optional[Entry]:
        found = self._by_name().get(name)
        return found[0] if found else None

    def names(self) -> Iterator[str]:
        """Every name present directly in a search directory, in the order a scan meets them."""
        return iter(self._by_name())

    def entry_at(self, path: str) -> Optional[Entry]:
        """The entry at a root-relative path directly inside a search directory, if scanned."""
        parent, name = posixpath.split(path)
        li = self.listing_for(parent)
        return li.entries.get(name) if li is not None else None

    def real_path(self, entry: Entry) -> Optional[str]:
        """The resolved root-relative path of a scanned entry (its last component not followed), if known.

        For a regular file or a symlink directly in a search dir this is where it was listed, so it
        can be opened as it is (``Root.read(…, resolved=True)``) without chasing the path again.
        """
        li = self.listing_for(entry.parent)
        if li is None or li.dir is not entry.dir:
            return None
        return li.real_path(entry.name)

    def broken_dir(self) -> Optional[DirListing]:
        """The first search dir that exists but cannot be opened (e.g. a symlink loop: ELOOP), or None.

        systemd skips a search dir only for ENOENT, ENOTDIR and EACCES (``unit_file_search``,
        ``find_symlinks``, ``unit_file_get_list`` in install.c, v252); any other error there fails
        the lookup or the listing that reaches it.
        """
        ix = self._index
        if not ix.broken_known:
            ix.broken = next((li for li in self.listings if li.error is not None and li.error != "EACCES"), None)
            ix.broken_known = True
        return ix.broken

    def dir_indexes(self) -> dict[str, int]:
        """Search dir path → its (first) index in the search path."""
        if self._index.dir_indexes is None:
            idx: dict[str, int] = {}
            for li in self.listings:
                idx.setdefault(li.dir.path, li.dir.index)
            self._index.dir_indexes = idx
        return self._index.dir_indexes

    def first_dir_holding(self, path: str) -> int:
        """The index of the first search dir that ``path`` is, or lies under; the search path's length if none.

        ``path_startswith(path, dir)`` over the search path (install.c ``find_symlinks_in_scope``),
        answered from the ancestors of ``path``, memoised per directory.
        """
        own = self.dir_indexes().get(path, len(self.listings))
        return min(own, self._holder(posixpath.dirname(path))) if path != "/" else own

    def _holder(self, directory: str) -> int:
        holders = self._index.holders
        found = holders.get(directory)
        if found is None:
            found = self.dir_indexes().get(directory, len(self.listings))
            if directory != "/" and directory:
                found = min(found, self._holder(posixpath.dirname(directory)))
            holders[directory] = found
        return found

    def listing_for(self, directory: str) -> Optional[DirListing]:
        """The (first) listing of the search dir at ``directory``, if it is one."""
        at = self._index.at_path
        if at is None:
            at = {}
            for li in self.listings:
                at.setdefault(li.dir.path, li)
            self._index.at_path = at
        return at.get(directory)

    def has_subdir(self, name: str) -> bool:
        """Whether some search dir has an entry ``name`` that may be a subdirectory (one set lookup, nothing read)."""
        known = self._index.subdir_names
        if known is None:
            known = self._index.subdir_names = {n for li in self.listings for n in _candidates(li.subdirs)}
        return name in known

    def subdirs(self, name: str) -> tuple[SubDir, ...]:
        """Every ``name`` subdirectory (``foo.service.d``, ``bar.target.wants``…), highest priority first."""
        if not self.has_subdir(name):
            return ()
        out = []
        for li in self.listings:
            sub = li.subdirs.get(name)
            if sub is not None:
                out.append(sub)
        return tuple(out)

    def subdir_names(self) -> frozenset[str]:
        """The names of every ``*.wants``/``*.requires``/``*.upholds``/``*.d`` candidate, without reading any."""
        self.has_subdir("")
        assert self._index.subdir_names is not None
        return frozenset(self._index.subdir_names)

    # -- link indexes for the install logic ---------------------------------------------------

    def may_be_linked(self, unit: str) -> bool:
        """Whether some symlink may name ``unit``: ``link_dir_hits`` or ``link_target_hits`` has an answer
        for it, or a symlink directly in a search dir is called ``unit``. False means none of them has one."""
        known = self._index.linked
        if known is None:
            self.link_dir_hits("")
            self.link_target_hits("")
            assert self._index.link_names is not None and self._index.link_targets is not None
            known = self._index.linked = (self._index.link_names.keys() | self._index.link_targets.keys() | {
                n for li in self.listings for n, e in li.entries.items() if e.target is not None or e.is_symlink})
        return unit in known

    def link_dir_hits(self, unit: str) -> list[tuple[int, str, bool]]:
        """Symlinks in ``*.wants``/``*.requires`` dirs whose name is ``unit`` or an instance of it.

        Returns (search dir index, link name, is_instance_of_unit) in search path order. As in
        ``find_symlinks`` (install.c, v252): only real directories count (not symlinks to one), and
        hidden or backup names, of the directory or of the link, are skipped (``FOREACH_DIRENT``).
        """
        if self._index.link_names is None:
            from . import names

            idx: dict[str, list[tuple[int, str, bool]]] = {}
            for li in self.listings:
                for sub_name in _candidates(li.subdirs):
                    if not sub_name.endswith((".wants", ".requires")) or hidden_or_backup(sub_name):
                        continue
                    sub = li.subdirs.get(sub_name)
                    if sub is None or sub.via_symlink:
                        continue
                    for n, e in sub.entries.items():
                        if not e.is_symlink or hidden_or_backup(n):
                            continue
                        idx.setdefault(n, []).append((li.dir.index, n, False))
                        # Only a name with an "@" can be an instance; the full check is for those.
                        if "@" in n and names.kind_of(n) is names.NameKind.INSTANCE:
                            idx.setdefault(names.template_of(n), []).append((li.dir.index, n, True))
            self._index.link_names = idx
        return self._index.link_names.get(unit, [])

    def link_target_hits(self, base: str) -> list[tuple[int, str]]:
        """Symlinks directly in a search dir, hidden ones too, whose link text ends in ``/base`` or is ``base``.

        (dir index, link name) in search path order; the basename is the text after the last ``/``.
        """
        if self._index.link_targets is None:
            self._build_name_index()
            assert self._index.link_targets is not None
        return self._index.link_targets.get(base, [])

    def alias_link_hits(self, unit: str) -> list[tuple[int, str]]:
        """Symlinks directly in a search dir whose target's basename is ``unit``: (dir index, link name).

        The basename is taken from the link text as GNU ``basename()`` does in ``find_symlinks_in_directory``
        (install.c, v252): the text after the last ``/``, so ``b.service/`` names nothing. Hidden or
        backup link names are skipped (``FOREACH_DIRENT``).
        """
        return [(i, n) for i, n in self.link_target_hits(unit) if not hidden_or_backup(n)]


_MISSING = (2, 20)  # ENOENT, ENOTDIR
_NOTHING = object()


def _scan_dir(root: Root, sd: SearchDir, real: str) -> DirListing:
    try:
        listed = root.scandir(real)
    except OSError as e:
        return DirListing(sd, {}, {}, None if e.errno in _MISSING else errno_name(e))
    parent = sd.path
    entries: dict[str, Entry] = {}
    candidates: dict[str, bool] = {}
    suffixes = (*LINK_DIR_SUFFIXES, DROPIN_DIR_SUFFIX)
    for li in listed:
        name = li.name
        entries[name] = Entry(li, sd, parent)
        if name.endswith(suffixes) and (li.is_dir or li.is_symlink):
            candidates[name] = li.is_symlink

    def load(name: str, via_symlink: bool) -> Optional[SubDir]:
        return _scan_subdir(root, sd, name, via_symlink=via_symlink)

    return DirListing(sd, entries, _LazySubDirs(load, candidates), real=real)


def _scan_subdir(root: Root, sd: SearchDir, name: str, *, via_symlink: bool) -> Optional[SubDir]:
    path = posixpath.join(sd.path, name)
    try:
        listed = root.scandir(path)
    except OSError as e:
        if via_symlink and e.errno in _MISSING:
            return None
        return SubDir(name, sd, path, {}, via_symlink, errno_name(e))
    return SubDir(name, sd, path, {li.name: Entry(li, sd, path) for li in listed}, via_symlink)


def _rebase(known: DirListing, sd: SearchDir) -> DirListing:
    """The listing of a directory already read under another search path name.

    The scanned entries are shared (no second read, no second stat); each gets an ``Entry`` under
    ``sd``'s path. A subdirectory is read once, through ``known``, and shared the same way.
    """
    parent = sd.path
    entries = {n: Entry(e._listing, sd, parent) for n, e in known.entries.items()}

    def load(name: str, via_symlink: bool) -> Optional[SubDir]:
        s = known.subdirs.get(name)
        if s is None:
            return None
        p = posixpath.join(parent, name)
        return SubDir(name, sd, p, {k: Entry(e._listing, sd, p) for k, e in s.entries.items()},
                      s.via_symlink, s.error)

    return DirListing(sd, entries, _LazySubDirs(load, dict(_candidates_map(known.subdirs))), known.error,
                      known.real)


class _LazySubDirs(Mapping[str, SubDir]):
    """The ``*.wants``/``*.requires``/``*.d`` subdirectories of one search dir, each read once, on first use."""

    def __init__(self, load: Callable[[str, bool], Optional[SubDir]], candidates: dict[str, bool]) -> None:
        self._load = load
        self._candidates = candidates  # name -> the entry is a symlink
        self._read: dict[str, Optional[SubDir]] = {}

    def _get(self, name: str) -> Optional[SubDir]:
        if name not in self._candidates:
            return None
        if name not in self._read:
            self._read[name] = self._load(name, self._candidates[name])
        return self._read[name]

    # Narrower than Mapping.get's overloads (the default is a SubDir or None, as every caller passes).
    def get(self, name: str, default: Optional[SubDir] = None) -> Optional[SubDir]:  # type: ignore[override]
        """``Mapping.get`` without a KeyError for every name that is no subdirectory."""
        sub = self._get(name)
        return default if sub is None else sub

    def __getitem__(self, name: str) -> SubDir:
        sub = self._get(name)
        if sub is None:
            raise KeyError(name)
        return sub

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._candidates if self._get(n) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _candidates(subdirs: Mapping[str, SubDir]) -> Iterable[str]:
    """Names that may be subdirectories, without reading any of them."""
    return subdirs._candidates if isinstance(subdirs, _LazySubDirs) else subdirs.keys()


def _candidates_map(subdirs: Mapping[str, SubDir]) -> Iterable[tuple[str, bool]]:
    if isinstance(subdirs, _LazySubDirs):
        return subdirs._candidates.items()
    return ((n, s.via_symlink) for n, s in subdirs.items())


def open_catalog(root_dir: Optional[str], scope: Scope, environ: Mapping[str, str]) -> Catalog:
    """Build the lookup paths for ``scope`` and scan them under ``root_dir`` (None: the host).

    Raises ``LookupError_`` for an impossible combination (``--user`` with ``--root``) and OSError
    for a root that is missing or not a directory, as systemctl refuses them.
    """
    root = Root(root_dir or "/")
    lookup = LookupPaths.for_scope(scope, environ=environ, rooted=not root.is_host,
                                   cwd=environ.get("PWD", "/"))
    return Catalog.scan(root, lookup, environ)
