"""Unit-file state as systemctl computes it: ``is-enabled`` and ``list-unit-files``.

Implements the install logic of systemd 252 (src/shared/install.c): ``install_info_traverse``,
``unit_file_search``, ``unit_file_load_or_readlink``, ``find_symlinks_in_scope`` and
``unit_file_lookup_state``. Fact sheet §3. Pure functions over a ``Catalog``; the only reads are
the unit files and drop-ins themselves, through ``rootfs``.
"""

from __future__ import annotations

import enum
import errno as _errno
import os
import posixpath
from dataclasses import dataclass, field
from typing import Optional

from . import names, specifiers, unitfile
from .catalog import Catalog, Entry, hidden_or_backup
from .lookup import Scope
from .origin import Origin
from .rootfs import errno_name, normalize_link

#: install.c UNIT_FILE_FOLLOW_SYMLINK_MAX
FOLLOW_MAX = 64

_INSTALL_SECTIONS = ("Install", "Unit", "Automount", "Device", "Mount", "Path", "Scope", "Service",
                     "Slice", "Socket", "Swap", "Target", "Timer")


class UnitFileState(str, enum.Enum):
    """``UnitFileState`` with systemctl's strings (install.c ``unit_file_state_table``)."""

    ENABLED = "enabled"
    ENABLED_RUNTIME = "enabled-runtime"
    LINKED = "linked"
    LINKED_RUNTIME = "linked-runtime"
    ALIAS = "alias"
    MASKED = "masked"
    MASKED_RUNTIME = "masked-runtime"
    STATIC = "static"
    DISABLED = "disabled"
    INDIRECT = "indirect"
    GENERATED = "generated"
    TRANSIENT = "transient"
    BAD = "bad"
    NOT_FOUND = "not-found"

    @property
    def is_enabled_rc0(self) -> bool:
        """``is-enabled`` exits 0 for these states (systemctl-is-enabled.c)."""
        return self in (UnitFileState.ENABLED, UnitFileState.ENABLED_RUNTIME, UnitFileState.STATIC,
                        UnitFileState.ALIAS, UnitFileState.INDIRECT, UnitFileState.GENERATED)


class Mode(enum.Enum):
    """``InstallMode``: what the file found for a name is."""

    REGULAR = "regular"
    MASKED = "masked"
    ALIAS = "alias"
    LINKED = "linked"


@dataclass(frozen=True)
class InstallError:
    """Why the state lookup failed, as systemctl reports it: errno symbol, strerror text, where."""

    errno: str
    message: str
    path: Optional[str] = None

    @classmethod
    def of(cls, code: str, path: Optional[str] = None) -> InstallError:
        num = getattr(_errno, code, 0)
        return cls(code, os.strerror(num) if num else code, path)


class _Fail(Exception):
    def __init__(self, code: str, path: Optional[str] = None) -> None:
        super().__init__(code)
        self.code = code
        self.path = path


@dataclass
class InstallInfo:
    """``InstallInfo``: one name being resolved, and what its [Install] says."""

    name: str
    path: Optional[str] = None
    mode: Optional[Mode] = None
    symlink_target: Optional[str] = None
    aliases: list[str] = field(default_factory=list)
    wanted_by: list[str] = field(default_factory=list)
    required_by: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    default_instance: Optional[str] = None
    sources: list[str] = field(default_factory=list)  # fragment and drop-ins that were parsed
    diagnostics: list[unitfile.Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class StateResult:
    """The unit-file state of one name, or the error systemctl fails with; ``path`` is the file found."""

    name: str
    state: UnitFileState
    path: Optional[str] = None
    error: Optional[InstallError] = None
    info: Optional[InstallInfo] = field(default=None, compare=False, repr=False)


# -- discovery ----------------------------------------------------------------------------------


class _Context:
    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self.infos: dict[str, InstallInfo] = {}

    def add(self, name: str) -> InstallInfo:
        if not names.is_valid(name):
            raise _Fail("EINVAL")
        info = self.infos.get(name)
        if info is None:
            info = self.infos[name] = InstallInfo(name)
        return info


def _check_type(info: InstallInfo, path: str) -> None:
    t = names.unit_type(info.name)
    if t is None:
        raise _Fail("EINVAL", path)
    kind = names.kind_of(info.name)
    if kind is not names.NameKind.PLAIN and not names.may_template(t):
        raise _Fail("EINVAL", path)


def _load_entry(ctx: _Context, info: InstallInfo, e: Entry) -> None:
    """``unit_file_load_or_readlink`` for an entry directly in a search dir (SEARCH_LOAD)."""
    _check_type(info, e.path)
    if e.is_symlink:
        _readlink(ctx, info, e.path, e.target)
    elif e.is_empty_or_chardev:
        info.mode = Mode.MASKED
    elif e.is_dir:
        raise _Fail("EISDIR", e.path)
    elif e.is_reg:
        _parse(ctx, info, e.path)
        info.mode = Mode.REGULAR
    else:
        # Opening a FIFO would block systemctl; its existence check (lstat) reports ENOTTY first.
        raise _Fail("ENOTTY", e.path)


def _load_path(ctx: _Context, info: InstallInfo, path: str) -> None:
    """``unit_file_load_or_readlink`` for an arbitrary path (a followed symlink target)."""
    _check_type(info, path)
    e = ctx.cat.entry_at(path)
    if e is not None:
        _load_entry(ctx, info, e)
        return
    root = ctx.cat.root
    try:
        st = root.lstat(path)
    except OSError as err:
        raise _Fail(errno_name(err), path) from None
    import stat as _stat

    if _stat.S_ISLNK(st.st_mode):
        try:
            target = root.readlink(path)
        except OSError as err:
            raise _Fail(errno_name(err), path) from None
        _readlink(ctx, info, path, target)
    elif (_stat.S_ISREG(st.st_mode) and st.st_size <= 0) or _stat.S_ISCHR(st.st_mode):
        info.mode = Mode.MASKED
    elif _stat.S_ISDIR(st.st_mode):
        raise _Fail("EISDIR", path)
    elif _stat.S_ISREG(st.st_mode):
        _parse(ctx, info, path)
        info.mode = Mode.REGULAR
    else:
        raise _Fail("ENOTTY", path)


def resolve_symlink(cat: Catalog, link_path: str, target: Optional[str]) -> tuple[str, bool]:
    """``unit_file_resolve_symlink``: (chased target path, is_linked) or _Fail.

    The target is made absolute (against the root or the link's directory), ``..`` removed and
    intermediate links chased inside the root. Under a search directory it is an alias and must be
    a valid one (§5.3); elsewhere it is a linked unit file.
    """
    if target is None:
        raise _Fail("EIO", link_path)
    directory = posixpath.dirname(link_path)
    try:
        simplified = cat.root.chase(normalize_link(directory, target), follow_last=False, missing_ok=True)
    except OSError as err:
        raise _Fail(errno_name(err), link_path) from None
    tail = _under_search_path(cat, simplified)
    if tail is None:
        return simplified, True
    src, dst = posixpath.basename(link_path), posixpath.basename(simplified)
    if not names.is_valid(src):
        raise _Fail("EINVAL", link_path)
    t = names.unit_type(src)
    if t is None or not names.may_alias(t):
        raise _Fail("EINVAL", link_path)
    if names.kind_of(src) is not names.NameKind.PLAIN and not names.may_template(t):
        raise _Fail("EINVAL", link_path)
    if src == dst:
        raise _Fail("ELOOP", link_path)
    bad = names.verify_alias(src, dst)
    if bad:
        raise _Fail(bad, link_path)
    return simplified, False


def _under_search_path(cat: Catalog, path: str) -> Optional[str]:
    for d in cat.lookup.search_path:
        p = d.path
        if path == p:
            return ""
        if path.startswith(p.rstrip("/") + "/"):
            return path[len(p.rstrip("/")) + 1:]
    return None


def _readlink(ctx: _Context, info: InstallInfo, path: str, target: Optional[str]) -> None:
    simplified, linked = resolve_symlink(ctx.cat, path, target)
    info.symlink_target = simplified
    try:
        null = ctx.cat.root.is_null_or_empty(simplified)
    except OSError as err:
        if err.errno != _errno.ENOENT:
            raise _Fail(errno_name(err), simplified) from None
        null = False
    if null:
        info.mode = Mode.MASKED
    else:
        info.mode = Mode.LINKED if linked else Mode.ALIAS


def _search(ctx: _Context, info: InstallInfo) -> None:
    """``unit_file_search`` with SEARCH_LOAD: find and load ``info.name`` (or its template), then drop-ins."""
    if info.mode is not None:
        return
    if info.path is not None:
        _load_path(ctx, info, info.path)
        return
    template = names.template_of(info.name) if names.kind_of(info.name) is names.NameKind.INSTANCE else None
    first_dir = ctx.cat.lookup.search_path[0].path if ctx.cat.lookup.search_path else "/"
    _check_type(info, posixpath.join(first_dir, info.name))
    found = False
    for candidate in (info.name, template):
        if candidate is None:
            continue
        for e in ctx.cat.entries(candidate):
            try:
                _load_entry(ctx, info, e)
            except _Fail as f:
                if f.code in ("ENOENT", "ENOTDIR", "EACCES"):
                    continue
                raise
            info.path = e.path
            found = True
            break
        if found:
            break
    if not found:
        raise _Fail("ENOENT")
    if info.mode is Mode.MASKED:
        return
    # Drop-ins: NAME.d and TEMPLATE.d of every search dir, merged by basename (conf_files_list).
    for dropin in dropin_paths(ctx.cat, [info.name] + ([template] if template else [])):
        if dropin.masked:
            continue
        _parse(ctx, info, dropin.path, dropin=True)


def dropin_paths(cat: Catalog, unit_names: list[str]) -> tuple[unitfile.DropIn, ...]:
    """The ``.conf`` drop-ins of ``NAME.d`` dirs for ``unit_names``, as conf_files_list merges them."""
    candidates = []
    for n in unit_names:
        for sub in cat.subdirs(n + ".d"):
            for name, e in sorted(sub.entries.items()):
                if hidden_or_backup(name) or not name.endswith(".conf"):
                    continue
                candidates.append(unitfile.DropIn(name, e.path, _dropin_is_mask(cat, e), sub.dir.role.value))
    # conf_files_list collects dir by dir in the order given: all NAME.d dirs, then TEMPLATE.d dirs.
    return unitfile.merge_dropins(candidates)


def _dropin_is_mask(cat: Catalog, e: Entry) -> bool:
    if e.is_symlink:
        try:
            return cat.root.is_null_or_empty(normalize_link(e.parent, e.target or ""))
        except OSError:
            return False
    return e.is_empty_or_chardev


def _parse(ctx: _Context, info: InstallInfo, path: str, *, dropin: bool = False) -> None:
    """Read ``path`` and apply its [Install] keys to ``info`` (``unit_file_load``'s config_parse)."""
    root = ctx.cat.root
    try:
        data = root.read(path)
    except OSError as err:
        code = errno_name(err)
        if dropin and code == "ENOENT":
            raise _Fail("ENOENT", path) from None
        raise _Fail(code, path) from None
    if not data:
        return
    parsed = unitfile.parse(data, path, sections=_INSTALL_SECTIONS)
    info.sources.append(path)
    info.diagnostics.extend(parsed.diagnostics)
    if parsed.error:
        raise _Fail(parsed.error, path)
    for a in parsed.assignments:
        if a.section != "Install":
            continue
        _apply_install_key(ctx, info, a)


def _split_words(value: str) -> list[str]:
    return value.split()


def _apply_install_key(ctx: _Context, info: InstallInfo, a: unitfile.Assignment) -> None:
    key, value = a.key, a.value
    if key == "Alias":
        t = names.unit_type(info.name)
        if t is None or not names.may_alias(t):
            return
        if not value:
            info.aliases = []
        else:
            info.aliases.extend(_unquote_words(value))
    elif key in ("WantedBy", "RequiredBy"):
        lst = info.wanted_by if key == "WantedBy" else info.required_by
        if not value:
            lst.clear()
        else:
            lst.extend(_unquote_words(value))
    elif key == "DefaultInstance":
        if names.kind_of(info.name) is names.NameKind.INSTANCE:
            return
        if names.kind_of(info.name) is not names.NameKind.TEMPLATE:
            return
        try:
            printed = specifiers.install_printf(info.name, value)
        except specifiers.SpecifierError as e:
            raise _Fail(e.errno, str(a.origin)) from None
        if printed and not names.is_valid(names.with_instance(info.name, printed)):
            raise _Fail("EINVAL", str(a.origin))
        info.default_instance = printed or None
    elif key == "Also":
        for word in _split_words(value):
            try:
                printed = specifiers.install_printf(info.name, word)
            except specifiers.SpecifierError as e:
                raise _Fail(e.errno, str(a.origin)) from None
            ctx.add(printed)
            info.also.append(printed)


def _unquote_words(value: str) -> list[str]:
    """``extract_first_word(EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE)`` closely enough for state decisions."""
    import shlex

    try:
        lex = shlex.shlex(value, posix=True)
        lex.whitespace_split = True
        lex.escape = ""
        return list(lex)
    except ValueError:
        return []


def traverse(cat: Catalog, name: str) -> tuple[InstallInfo, _Context]:
    """``install_info_traverse``: follow aliases and links from ``name`` to a regular file or mask."""
    ctx = _Context(cat)
    info = ctx.add(name)
    _search(ctx, info)
    hops = 0
    while info.mode in (Mode.ALIAS, Mode.LINKED):
        hops += 1
        if hops > FOLLOW_MAX:
            raise _Fail("ELOOP", info.path)
        assert info.symlink_target is not None
        target_name = posixpath.basename(info.symlink_target)
        if info.mode is Mode.LINKED or target_name == info.name:
            info.path, info.mode = info.symlink_target, None
            _load_path(ctx, info, info.path)
            continue
        bn = target_name
        if names.kind_of(info.name) is names.NameKind.INSTANCE and names.kind_of(bn) is names.NameKind.TEMPLATE:
            filled = names.with_instance(bn, names.instance_of(info.name) or "")
            if filled == info.name:
                info.path, info.mode = info.symlink_target, None
                _load_path(ctx, info, info.path)
                continue
            bn = filled
        info = ctx.add(bn)
        try:
            _search(ctx, info)
        except _Fail as f:
            if f.code == "ENOENT":
                raise _Fail("ENOLINK", f.path) from None
            raise
    return info, ctx


# -- state --------------------------------------------------------------------------------------


def _known_name(info: InstallInfo, link: str) -> bool:
    """``is_symlink_with_known_name``: the unit's own name, an Alias= name, or tmpl@DefaultInstance."""
    if link == info.name or link in info.aliases:
        return True
    if info.default_instance and names.kind_of(info.name) is names.NameKind.TEMPLATE:
        try:
            return link == names.with_instance(info.name, info.default_instance)
        except ValueError:
            return False
    return False


def _path_startswith(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def find_symlinks_in_scope(cat: Catalog, info: InstallInfo, match_name: bool) -> Optional[UnitFileState]:
    """``find_symlinks_in_scope``: where links name the unit decides enabled / enabled-runtime / linked."""
    lp = cat.lookup
    by_dir_wants: dict[int, list[tuple[str, bool]]] = {}
    for di, link, inst in cat.link_dir_hits(info.name):
        by_dir_wants.setdefault(di, []).append((link, inst))
    by_dir_alias: dict[int, list[str]] = {}
    for di, link in cat.alias_link_hits(info.name):
        by_dir_alias.setdefault(di, []).append(link)

    same_config = same_runtime = in_runtime = at_all = False
    ignore_same_name = False
    for li in cat.listings:
        d = li.dir
        matched = same_name = False
        for link, _inst in by_dir_wants.get(d.index, ()):
            if not match_name or _known_name(info, link):
                matched = True
                break
        if not matched:
            # Links directly in the directory: target basename == unit (found_dest) and, above the
            # unit file, a link called like the unit (found_path).
            cands = set(by_dir_alias.get(d.index, ()))
            own = li.entries.get(info.name)
            if not ignore_same_name and own is not None and own.is_symlink and not own.hidden:
                cands.add(info.name)
            for link in cands:
                e = li.entries[link]
                found_dest = posixpath.basename(e.target or "") == info.name
                found_path = not ignore_same_name and link == info.name
                if found_path and found_dest:
                    same_name = True
                elif found_path or found_dest:
                    if not match_name or _known_name(info, link):
                        matched = True
                        break
        if matched:
            if d.path == lp.persistent_config:
                return UnitFileState.ENABLED
            if lp.scope is Scope.USER and lp.is_user_config_dir(d.path):
                return UnitFileState.ENABLED
            if lp.is_runtime(d.path):
                in_runtime = True
            else:
                at_all = True
        elif same_name:
            if d.path == lp.persistent_config:
                same_config = True
            elif lp.is_runtime(d.path):
                same_runtime = True
        if not ignore_same_name and info.path and _path_startswith(info.path, d.path):
            ignore_same_name = True

    if in_runtime:
        return UnitFileState.ENABLED_RUNTIME
    if at_all and names.kind_of(info.name) is names.NameKind.INSTANCE:
        return UnitFileState.STATIC
    if same_config:
        return UnitFileState.LINKED
    if same_runtime:
        return UnitFileState.LINKED_RUNTIME
    return None


def lookup_state(cat: Catalog, name: str) -> StateResult:
    """The unit-file state of ``name``, or the error ``systemctl is-enabled`` fails with.

    Implements ``unit_file_lookup_state`` (install.c, v252); fact sheet §3.3. A missing unit is
    ``not-found`` with ENOENT (newer systemctl prints ``not-found``; 252 fails with ENOENT).
    """
    if not names.is_valid(name):
        return StateResult(name, UnitFileState.BAD, None, InstallError.of("EINVAL"))
    try:
        info, _ctx = traverse(cat, name)
    except _Fail as f:
        # not-found only when no file at all carries the name (or its template); a dangling
        # linked file is present, so it is bad like in list-unit-files.
        absent = f.code == "ENOENT" and not cat.entries(name) and not (
            names.kind_of(name) is names.NameKind.INSTANCE and cat.entries(names.template_of(name)))
        state = UnitFileState.NOT_FOUND if absent else UnitFileState.BAD
        return StateResult(name, state, f.path, InstallError.of(f.code, f.path))
    assert info.path is not None
    if info.mode is Mode.MASKED:
        d = posixpath.dirname(info.path)
        runtime = cat.lookup.is_runtime(d) or info.path.startswith("/run/")
        st = UnitFileState.MASKED_RUNTIME if runtime else UnitFileState.MASKED
        return StateResult(name, st, info.path, info=info)
    return StateResult(name, _regular_state(cat, name, info), info.path, info=info)


def _regular_state(cat: Catalog, name: str, info: InstallInfo) -> UnitFileState:
    # The queried name is an alias of the file it reached (instances excepted).
    if name != posixpath.basename(info.path or "") and names.kind_of(info.name) is not names.NameKind.INSTANCE:
        return UnitFileState.ALIAS
    parent = posixpath.dirname(info.path or "")
    if cat.lookup.is_generator(parent):
        return UnitFileState.GENERATED
    if cat.lookup.is_transient(parent):
        return UnitFileState.TRANSIENT
    # Pass 1: links under names [Install] would create.
    st = find_symlinks_in_scope(cat, info, True)
    if st is not None:
        return st
    # Pass 2: any link at all.
    if find_symlinks_in_scope(cat, info, False) is not None:
        return UnitFileState.INDIRECT
    if info.aliases or info.wanted_by or info.required_by:
        return UnitFileState.DISABLED
    if info.also:
        return UnitFileState.INDIRECT
    return UnitFileState.STATIC


def list_unit_files(cat: Catalog) -> list[StateResult]:
    """``list-unit-files``: every regular file or symlink with a unit name, first occurrence, sorted.

    A failed lookup is listed as ``bad`` (``unit_file_get_list``). Order: by suffix, then name,
    case-insensitively (systemctl ``compare_unit_file_list``).
    """
    seen: dict[str, str] = {}
    for li in cat.listings:
        for n, e in li.entries.items():
            if n in seen or e.hidden or not (e.is_reg or e.is_symlink) or not names.is_valid(n):
                continue
            seen[n] = e.path
    out = []
    for n, path in seen.items():
        r = lookup_state(cat, n)
        if r.error is not None:
            r = StateResult(n, UnitFileState.BAD, path, r.error)
        else:
            r = StateResult(n, r.state, path, None, r.info)
        out.append(r)
    out.sort(key=_list_order)
    return out


def _list_order(r: StateResult) -> tuple[str, str]:
    dot = r.name.rfind(".")
    return (r.name[dot:].lower(), r.name.lower())


def origin_of(result: StateResult) -> Optional[Origin]:
    """Where the state comes from (the file or mask found), with the layer of its search directory."""
    if result.path is None:
        return None
    return Origin(result.path)
