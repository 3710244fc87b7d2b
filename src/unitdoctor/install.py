"""Unit-file state as systemctl computes it: ``is-enabled`` and ``list-unit-files``.

Implements the install logic of systemd 252 (src/shared/install.c): ``install_info_traverse``,
``unit_file_search``, ``unit_file_load_or_readlink``, ``find_symlinks_in_scope`` and
``unit_file_lookup_state``. Fact sheet §3. Pure functions over a ``Catalog``; the only reads are
the unit files and drop-ins themselves, through ``rootfs``.
"""

from __future__ import annotations

import enum
import errno as _errno
import functools
import os
import posixpath
import re
import stat
from typing import Any, Optional

from . import extract, names, specifiers, unitfile
from .catalog import Catalog, Entry, hidden_or_backup
from .lookup import Scope
from .origin import Origin
from .records import dataclass, field
from .rootfs import errno_name

# Name grammar, memoised: a listing asks about the same few thousand names again and again.
_kind = functools.lru_cache(maxsize=1 << 16)(names.kind_of)
_type = functools.lru_cache(maxsize=1 << 16)(names.unit_type)
_template = functools.lru_cache(maxsize=1 << 16)(names.template_of)

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
    def is_masked(self) -> bool:
        """``masked`` or ``masked-runtime``."""
        return self in (UnitFileState.MASKED, UnitFileState.MASKED_RUNTIME)

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
    #: systemctl handed the name to systemd-sysv-install (a ``sysv.HandOver``): ``state`` is its answer.
    sysv: Optional[Any] = field(default=None, compare=False)


# -- discovery ----------------------------------------------------------------------------------


class _Context:
    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self.infos: dict[str, InstallInfo] = {}

    def add(self, name: str) -> InstallInfo:
        if _kind(name) is None:
            raise _Fail("EINVAL")
        info = self.infos.get(name)
        if info is None:
            info = self.infos[name] = InstallInfo(name)
        return info


@functools.lru_cache(maxsize=1 << 16)
def _type_allows(name: str) -> bool:
    """Whether ``name`` passes ``unit_file_load``'s first check: a type, templated only where the type may be."""
    t = _type(name)
    return t is not None and (_kind(name) is names.NameKind.PLAIN or names.may_template(t))


def _check_type(info: InstallInfo, directory: str, filename: Optional[str] = None) -> None:
    """``unit_file_load``'s first check: EINVAL for a template or instance of a type that cannot be one.

    The error names the path being loaded, ``directory``/``filename`` (default: the unit's name).
    """
    if not _type_allows(info.name):
        raise _Fail("EINVAL", posixpath.join(directory, filename or info.name))


def _load_entry(ctx: _Context, info: InstallInfo, e: Entry) -> None:
    """``unit_file_load_or_readlink`` for an entry directly in a search dir (SEARCH_LOAD)."""
    if not _type_allows(info.name):
        _check_type(info, e.parent, e.name)
    mode = e.mode
    if stat.S_ISREG(mode):
        # unit_file_load() opens DIR/NAME with O_NOFOLLOW and fstat()s it: an empty file is a mask.
        # The scanned dir's resolved path will do, and the read tells the size (no extra lstat).
        empty = _parse(ctx, info, e.path, real=ctx.cat.listings[e.dir.index].real_path(e.name)
                       if e.parent == e.dir.path else None)
        info.mode = Mode.MASKED if empty else Mode.REGULAR
    elif stat.S_ISLNK(mode):
        _readlink(ctx, info, e.path, e.target)
    elif stat.S_ISCHR(mode):
        info.mode = Mode.MASKED
    elif stat.S_ISDIR(mode):
        raise _Fail("EISDIR", e.path)
    else:
        # Opening a FIFO would block systemctl; its existence check (lstat) reports ENOTTY first.
        raise _Fail("ENOTTY", e.path)


def _load_path(ctx: _Context, info: InstallInfo, path: str) -> None:
    """``unit_file_load_or_readlink`` for an arbitrary path (a followed symlink target)."""
    if _kind(info.name) is not names.NameKind.PLAIN:
        _check_type(info, *posixpath.split(path))
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
    """Return (chased target path, is_linked) for the symlink ``link_path``, or raise _Fail.

    Implements ``unit_file_resolve_symlink`` (unit-file.c, v252): the link text is made absolute
    (against the root or the link's directory) and chased inside the root *without* following its
    last component (CHASE_NOFOLLOW|CHASE_NONEXISTENT); a missing tail is kept unless it contains
    ``..`` (ENOENT). A result under a search directory is an alias and must be a valid one (§5.3:
    EINVAL, ELOOP for a self-alias, EXDEV); anything else is a linked unit file. Fact sheet §3.2.
    """
    if target is None:
        raise _Fail("EIO", link_path)
    raw = target if target.startswith("/") else posixpath.join(posixpath.dirname(link_path), target)
    # The catalog is a snapshot: a path chases to the same place every time (every mask link's /dev/null).
    chased: dict[str, str] = cat.derived("install.chased", _new_dict)
    simplified = chased.get(raw)
    if simplified is None:
        try:
            simplified = chased[raw] = cat.root.chase(raw, follow_last=False, missing_ok=True)
        except OSError as err:
            raise _Fail(errno_name(err), link_path) from None
    if cat.first_dir_holding(simplified) >= len(cat.listings):  # path_startswith_strv(…, search_path)
        return simplified, True
    bad = names.verify_alias(link_path, simplified)
    if bad:
        raise _Fail(bad, link_path)
    return simplified, False


def _new_dict(_cat: Catalog) -> dict[Any, Any]:
    """A memo kept with a catalog (``Catalog.derived``), filled as answers are found."""
    return {}


def _readlink(ctx: _Context, info: InstallInfo, path: str, target: Optional[str]) -> None:
    """``unit_file_load_or_readlink`` for a symlink: a mask, an alias or a linked unit file.

    The mask test is ``null_or_empty_path_with_root`` as 252 calls it (``Root.null_or_empty_with_root``):
    under a root only a link chased to ``/dev/null`` itself is a mask; ENOENT means "not a mask".
    """
    simplified, linked = resolve_symlink(ctx.cat, path, target)
    info.symlink_target = simplified
    masks: dict[str, bool] = ctx.cat.derived("install.masks", _new_dict)
    null = masks.get(simplified)
    if null is None:
        try:
            null = ctx.cat.root.null_or_empty_with_root(simplified)
        except OSError as err:
            if err.errno != _errno.ENOENT:
                raise _Fail(errno_name(err), simplified) from None
            null = False
        masks[simplified] = null
    if null:
        info.mode = Mode.MASKED
    else:
        info.mode = Mode.LINKED if linked else Mode.ALIAS


def _search(ctx: _Context, info: InstallInfo) -> None:
    """Find and load ``info.name`` (or its template), then its drop-ins; raise _Fail.

    Implements ``unit_file_search`` with SEARCH_LOAD (install.c, v252); fact sheet §3.2. The first
    search dir holding the name wins; ENOENT, ENOTDIR and EACCES mean "try the next one". An instance
    falls back to its template only when no dir holds the instance. Drop-ins are read for whatever
    was found (a regular file, an alias or a linked file) unless it is a mask.
    """
    if info.mode is not None:
        return
    if info.path is not None:
        _load_path(ctx, info, info.path)
        return
    cat = ctx.cat
    name = info.name
    template = _template(name) if _kind(name) is names.NameKind.INSTANCE else None
    if not _type_allows(name):
        _check_type(info, cat.lookup.search_path[0].path if cat.lookup.search_path else "/")
    found = False
    # A search dir that cannot be opened fails the search when it is reached (ELOOP, …).
    broken = cat.broken_dir()
    for candidate in (name, template) if template is not None else (name,):
        for e in cat.entries(candidate):
            if broken is not None and e.dir.index > broken.dir.index:
                break
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
        if broken is not None:
            assert broken.error is not None
            raise _Fail(broken.error, posixpath.join(broken.dir.path, candidate))
    if not found:
        raise _Fail("ENOENT")
    if info.mode is Mode.MASKED:
        return
    if cat.has_subdir(name + ".d") or (template is not None and cat.has_subdir(template + ".d")):
        real: dict[str, str] = {}
        for dropin in dropin_paths(cat, [name, template] if template is not None else [name], real):
            found_at = real.get(dropin.path)
            if found_at is not None:
                # A regular file in a real NAME.d dir of a search dir: opened where it was listed (an empty
                # one adds nothing, as _load_dropin decides), with no second walk of the path.
                _parse(ctx, info, dropin.path, real=found_at)
            else:
                _load_dropin(ctx, info, dropin.path)


def dropin_paths(cat: Catalog, unit_names: list[str], real: Optional[dict[str, str]] = None,
                 ) -> tuple[unitfile.DropIn, ...]:
    """The ``*.conf`` entries of the ``NAME.d`` dirs of ``unit_names``, one per basename, sorted.

    Implements ``conf_files_list_strv(…, ".conf", NULL, 0, dirs)`` as ``unit_file_search`` calls it
    (conf-files.c, install.c, v252): dirs in the order given (every search dir's ``NAME.d``, then every
    ``TEMPLATE.d``), hidden and backup names skipped, the first dir holding a basename wins, entries
    of any type. Flags 0: masks are *not* filtered here; loading one decides (``_load_dropin``).

    ``real``, if given, gets the resolved path of every candidate that is a regular file in a directory
    that is no symlink (keyed by its path).
    """
    candidates = []
    for n in unit_names:
        if not cat.has_subdir(n + ".d"):
            continue
        for sub in cat.subdirs(n + ".d"):
            at = None if real is None or sub.via_symlink else cat.listings[sub.dir.index].real_path(sub.name)
            for name, e in sorted(sub.entries.items()):
                if hidden_or_backup(name) or not name.endswith(".conf"):
                    continue
                candidates.append(unitfile.DropIn(name, e.path, False, sub.dir.role.value))
                if at is not None and real is not None and stat.S_ISREG(e.mode):
                    real[e.path] = at + "/" + name
    return unitfile.merge_dropins(candidates) if candidates else ()


def _load_dropin(ctx: _Context, info: InstallInfo, path: str) -> None:
    """Read one drop-in into ``info``; an empty file or char device adds nothing.

    Implements ``unit_file_load`` with SEARCH_DROPIN (install.c, v252): the file is opened through
    ``chase_symlinks_and_open`` inside the root, so a ``/dev/null`` link there means ``ROOT/dev/null``
    (ENOENT when the root has none, which fails the whole lookup), and a dangling link is ENOENT.
    A directory gives EISDIR, and a parse error fails the lookup too.
    """
    root = ctx.cat.root
    try:
        st = root.stat(path)
    except OSError as err:
        raise _Fail(errno_name(err), path) from None
    if (stat.S_ISREG(st.st_mode) and st.st_size <= 0) or stat.S_ISCHR(st.st_mode):
        return
    if stat.S_ISDIR(st.st_mode):
        raise _Fail("EISDIR", path)
    if not stat.S_ISREG(st.st_mode):
        raise _Fail("EBADFD", path)
    _parse(ctx, info, path)


def _parse(ctx: _Context, info: InstallInfo, path: str, *, real: Optional[str] = None) -> bool:
    """Read ``path`` and apply its [Install] keys to ``info``; raise _Fail if the parse fails.

    Returns whether the file was empty (a mask, when it is the unit file itself).

    ``config_parse`` as ``unit_file_load`` calls it (install.c, v252): [Install] plus the unit sections,
    which are skipped silently. A fatal syntax error (EBADMSG, EINVAL for invalid UTF-8) or a failing
    key parser (``Also=``, ``DefaultInstance=``) fails the lookup. Fact sheet §3.2 step 5, §6.
    """
    root = ctx.cat.root
    try:
        data = root.read(real, resolved=True) if real is not None else root.read(path)
    except OSError as err:
        raise _Fail(errno_name(err), path) from None
    if not data:
        return True
    info.sources.append(path)
    fast = _install_keys(data)
    if fast is not None:
        for key, value, line in fast:
            _apply_install_key(ctx, info, key, value, path, line)
        return False
    parsed = unitfile.parse(data, path, sections=_INSTALL_SECTIONS)
    info.diagnostics.extend(parsed.diagnostics)
    # Keys are applied line by line, so a key parser failing before a syntax error wins.
    for a in parsed.assignments:
        if a.section == "Install":
            _apply_install_key(ctx, info, a.key, a.value, a.origin.path, a.origin.line)
    if parsed.error:
        raise _Fail(parsed.error, path)
    return False


_KNOWN_SECTIONS = frozenset(_INSTALL_SECTIONS)
_UNSAFE_IN_HEADER = frozenset("\"'\\\x7f") | frozenset(chr(c) for c in range(32))
# Line ends other than "\n" (read_line also ends lines at "\r" and NUL) and other control characters.
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
#: A file every line of which the shortcut takes without a question, matched in one go (no loop over the
#: lines): ASCII without control characters; comments and blank lines, then known sections holding only
#: ``key=value`` lines (first character no blank, comment, header or ``=``; an ``=``), or ``X-`` sections
#: holding anything but header lines. A file it rejects goes through the line loop of ``_install_keys``.
_PLAIN_FILE = re.compile(
    rb"(?:[ \t]*(?:[#;][^\x00-\x08\x0a-\x1f\x7f-\xff]*)?\n)*"
    rb"(?:[ \t]*\[(?:" + b"|".join(n.encode() for n in _INSTALL_SECTIONS) + rb")\][ \t]*\n"
    rb"(?:[ \t]*(?:[#;][^\x00-\x08\x0a-\x1f\x7f-\xff]*"
    rb"|[^\x00-\x20#;\[=\x7f-\xff][^\x00-\x08\x0a-\x1f=\x7f-\xff]*=[^\x00-\x08\x0a-\x1f\x7f-\xff]*)?\n)*"
    rb"|[ \t]*\[X-[^\x00-\x1f\"'\\\x7f-\xff]*\][ \t]*\n"
    rb"(?:[ \t]*(?:[^\x00-\x20\[\x7f-\xff][^\x00-\x08\x0a-\x1f\x7f-\xff]*)?\n)*)*")


def install_assignments_fast(data: bytes, path: str) -> Optional[tuple[unitfile.Assignment, ...]]:
    """The [Install] assignments of a plain unit file, or None where ``unitfile.parse`` must decide.

    A shortcut for the one thing the install logic needs from most files, giving exactly what
    ``unitfile.parse(data, path, sections=…)`` gives, and with no diagnostics. It answers only for
    files where the full grammar (§6) has nothing to say: ASCII without control characters, under
    1 MiB, lines ending in ``\\n``, no continuation, nothing before the first header but comments,
    every header a known section (or ``X-``), every other line ``key=value``. Anything else (a warning
    to give, a fatal error, an unknown section) is None. About 7x faster than the full parser.
    """
    keys = _install_keys(data)
    if keys is None:
        return None
    return tuple(unitfile.Assignment("Install", k, v, Origin(path, n)) for k, v, n in keys)


def _install_keys(data: bytes) -> Optional[list[tuple[str, str, int]]]:
    """``install_assignments_fast`` as (key, value, line number) triples."""
    if len(data) >= unitfile.LONG_LINE_MAX or b"\\\n" in data or data.endswith(b"\\"):
        return None
    text = data if data.endswith(b"\n") else data + b"\n"
    if _PLAIN_FILE.fullmatch(text) is not None:
        return _install_section_keys(text)
    if not data.isascii() or _CONTROL.search(data):
        return None
    out: list[tuple[str, str, int]] = []
    section: Optional[str] = None
    skipping = False  # inside an X- section, whose lines are dropped without a word
    for number, raw in enumerate(data.decode("ascii").split("\n"), 1):
        line = raw.strip(" \t")
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            name = line[1:-1]
            if line[-1] != "]" or len(line) < 2 or not _UNSAFE_IN_HEADER.isdisjoint(name):
                return None
            if name in _KNOWN_SECTIONS:
                section, skipping = name, False
            elif name.startswith("X-"):
                section, skipping = None, True
            else:
                return None
            continue
        if section is None:
            if skipping:
                continue
            return None  # "Assignment outside of section."
        key, equals, value = line.partition("=")
        if not equals or not key:
            return None  # "Missing '='" / "Missing key name before '='"
        if section == "Install":
            out.append((key.strip(" \t"), value.strip(" \t"), number))
    return out


def _install_section_keys(text: bytes) -> list[tuple[str, str, int]]:
    """The [Install] keys of a file ``_PLAIN_FILE`` accepted (``text`` ends with a newline).

    Every line of such a file whose first non-blank character is ``[`` is a section header, so the lines
    from the first ``[Install]`` header on are enough: a header line switches in or out of [Install].
    """
    at = text.find(b"[Install]")
    while at >= 0:
        start = text.rfind(b"\n", 0, at) + 1
        end = text.index(b"\n", at)
        if not text[start:at].strip(b" \t") and not text[at + 9:end].strip(b" \t"):
            break  # a header line, not a value that mentions [Install]
        at = text.find(b"[Install]", end)
    else:
        return []
    out: list[tuple[str, str, int]] = []
    number = text.count(b"\n", 0, start)
    inside = False
    for raw in text[start:].decode("ascii").split("\n"):
        number += 1
        line = raw.strip(" \t")
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            inside = line == "[Install]"
        elif inside:
            key, _eq, value = line.partition("=")
            out.append((key.rstrip(" \t"), value.lstrip(" \t"), number))
    return out


def _apply_install_key(ctx: Optional[_Context], info: InstallInfo, key: str, value: str, path: str,
                       line: Optional[int]) -> None:
    """Apply ``key=value`` (line ``line`` of ``path``), as the ``items[]`` table of ``unit_file_load`` does
    (install.c, v252).

    ``Alias=``, ``WantedBy=``, ``RequiredBy=``: ``config_parse_strv`` (an empty value resets; bad quoting
    keeps the words before it). ``DefaultInstance=``: only for templates; a bad specifier or instance fails
    the parse. ``Also=``: words split without unquoting, expanded, and each must be a valid unit name, or
    the parse fails. Other keys are ignored (with a warning in systemd).
    """
    if key == "Alias":
        t = _type(info.name)
        if t is None or not names.may_alias(t):
            return
        _strv(info.aliases, value)
    elif key == "WantedBy":
        _strv(info.wanted_by, value)
    elif key == "RequiredBy":
        _strv(info.required_by, value)
    elif key == "DefaultInstance":
        # An instance silently ignores it; a plain unit warns and ignores it.
        if _kind(info.name) is not names.NameKind.TEMPLATE:
            return
        try:
            printed = install_name_printf(info, value)
        except specifiers.SpecifierError as e:
            raise _Fail(e.errno, _where(path, line)) from None
        if printed and not names.is_valid_instance(printed):
            raise _Fail("EINVAL", _where(path, line))
        info.default_instance = printed or None
    elif key == "Also":
        assert ctx is not None
        words, bad = split_words(value, unquote=False, retain_escape=False)
        for word in words:
            try:
                printed = install_name_printf(info, word)
            except specifiers.SpecifierError as e:
                raise _Fail(e.errno, _where(path, line)) from None
            ctx.add(printed)
            info.also.append(printed)
        if bad is not None:
            raise _Fail(bad, _where(path, line))


def _where(path: str, line: Optional[int]) -> str:
    """Where a failing key is, as an error names it (``str(Origin(path, line))``)."""
    return f"{path}:{line}" if line is not None else path


def install_name_printf(info: InstallInfo, text: str) -> str:
    """``text`` with its specifiers expanded for ``info``, as an [Install] value; SpecifierError on failure.

    Implements ``install_name_printf`` and ``specifier_printf`` (install-printf.c, specifier.c, v252):
    the name specifiers see the unit's DefaultInstance= *as parsed so far*, so for a template ``%i`` is
    the default instance, ``%n`` the default instance's name and ``%N`` its name without suffix
    (``DefaultInstance=%i`` in a drop-in keeps the template's value). ``%%`` is ``%``; ``%`` before a
    character that is not a letter or digit, and a trailing ``%``, stay as they are; an unknown letter
    is EBADSLT; a result over 255 characters is ENAMETOOLONG. Other specifiers come from
    ``specifiers.install_printf``.
    """
    result = specifiers.walk(text, lambda c: _name_specifier(info, c) if c in "ijnNp"
                             else specifiers.install_printf(info.name, "%" + c))
    if len(result) > names.UNIT_NAME_MAX:
        raise specifiers.SpecifierError("ENAMETOOLONG", text)
    return result


def _name_specifier(info: InstallInfo, c: str) -> str:
    """%i %j %n %N %p of install-printf.c for ``info`` (its DefaultInstance= filled into a template)."""
    prefix, instance, suffix = names.split(info.name)
    default = info.default_instance
    if c == "i":
        return instance or default or ""
    if c == "p":
        return prefix
    if c == "j":
        return prefix.rsplit("-", 1)[-1]
    if c == "N":
        base = info.name[: -len(suffix)]
        return base + default if base.endswith("@") and default else base
    if _kind(info.name) is names.NameKind.TEMPLATE and default:
        try:
            return names.with_instance(info.name, default)
        except names.InvalidUnitName:
            raise specifiers.SpecifierError("EINVAL", info.name) from None
    return info.name


def _strv(lst: list[str], value: str) -> None:
    """``config_parse_strv``: an empty value empties the list; otherwise append the words."""
    if not value:
        lst.clear()
        return
    if "'" not in value and '"' not in value:
        # Without quotes, EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE words are the runs between separators.
        lst.extend(_UNQUOTED_WORD.findall(value))
        return
    words, _bad = split_words(value)
    lst.extend(words)


_UNQUOTED_WORD = re.compile("[^" + extract.WHITESPACE + "]+")


def split_words(value: str, *, unquote: bool = True, retain_escape: bool = True,
                ) -> tuple[list[str], Optional[str]]:
    """Return the words of ``value`` and the errno symbol that stopped the split, or None.

    ``extract_first_word`` (``extract.words``) with the two flag sets the install logic uses:
    EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE (``config_parse_strv``) and no flags (``Also=``).
    """
    return extract.words(value, unquote=unquote, retain_escape=retain_escape)


def _unquote_words(value: str) -> list[str]:
    """The words ``config_parse_strv`` keeps from ``value`` (see ``split_words``)."""
    return split_words(value)[0]


def traverse(cat: Catalog, name: str) -> tuple[InstallInfo, _Context]:
    """``install_info_traverse``: follow aliases and links from ``name`` to a regular file or mask."""
    ctx = _Context(cat)
    info = ctx.add(name)
    _search(ctx, info)
    hops = 0
    while info.mode is Mode.ALIAS or info.mode is Mode.LINKED:
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
        if _kind(info.name) is names.NameKind.INSTANCE and _kind(bn) is names.NameKind.TEMPLATE:
            try:
                filled = names.with_instance(bn, names.instance_of(info.name) or "")
            except names.InvalidUnitName:
                raise _Fail("EINVAL", info.path) from None  # unit_name_replace_instance()
            if filled == info.name:
                info.path, info.mode = info.symlink_target, None
                _load_path(ctx, info, info.path)
                continue
            bn = filled
        link = info.path
        info = ctx.add(bn)
        try:
            _search(ctx, info)
        except _Fail as f:
            # The alias points at a name no search dir holds: "Link has been severed", at the link.
            if f.code == "ENOENT":
                raise _Fail("ENOLINK", f.path or link) from None
            raise
    return info, ctx


# -- state --------------------------------------------------------------------------------------


def _known_name(info: InstallInfo, link: str) -> bool:
    """``is_symlink_with_known_name``: the unit's own name, an Alias= name, or tmpl@DefaultInstance."""
    if link == info.name or link in info.aliases:
        return True
    if info.default_instance and _kind(info.name) is names.NameKind.TEMPLATE:
        try:
            return link == names.with_instance(info.name, info.default_instance)
        except ValueError:
            return False
    return False


@dataclass(frozen=True)
class _LinkSites:
    """Where links may name a unit: the catalog's answers for it, gathered once for both passes."""

    dirs: tuple[int, ...]  # search dir indexes with a candidate, in priority order
    wants: dict[int, list[str]]  # .wants/.requires link names (the unit or an instance of it)
    aliases: dict[int, list[str]]  # links in the dir whose text ends in the unit's name
    own: frozenset[int]  # dirs holding a symlink called like the unit
    holder: int  # the first dir the unit file lies under


def _link_sites(cat: Catalog, info: InstallInfo) -> _LinkSites:
    wants: dict[int, list[str]] = {}
    for di, link, _inst in cat.link_dir_hits(info.name):
        wants.setdefault(di, []).append(link)
    aliases: dict[int, list[str]] = {}
    for di, link in cat.alias_link_hits(info.name):
        aliases.setdefault(di, []).append(link)
    own = frozenset(e.dir.index for e in cat.entries(info.name) if e.is_symlink and not e.hidden)
    holder = cat.first_dir_holding(info.path) if info.path else len(cat.listings)
    return _LinkSites(tuple(sorted(wants.keys() | aliases.keys() | own)), wants, aliases, own, holder)


def find_symlinks_in_scope(cat: Catalog, info: InstallInfo, match_name: bool,
                           sites: Optional[_LinkSites] = None) -> Optional[UnitFileState]:
    """Where links name the unit: ``enabled``, ``enabled-runtime``, ``static``, ``linked*`` or None.

    Implements ``find_symlinks_in_scope`` and ``find_symlinks`` (install.c, v252); fact sheet §3.3 pass 1
    (``match_name``: only names [Install] would create) and pass 2 (any name). Search dirs are visited in
    priority order, but only those the catalog's indexes say hold a candidate: a ``.wants``/``.requires``
    link named like the unit (or an instance of it), a link whose text ends in the unit's name, or a link
    called like the unit. A link called like the unit counts only in dirs at or above the unit file's;
    one that is also *aimed* at that name is a same-name link (``linked``), not a match.
    """
    lp = cat.lookup
    if sites is None:
        sites = _link_sites(cat, info)
    # find_symlinks() opens every search dir in turn: one that cannot be opened fails the lookup.
    broken = cat.broken_dir()
    same_config = same_runtime = in_runtime = at_all = False
    for index in sites.dirs + ((broken.dir.index,) if broken is not None else ()):
        if broken is not None and index >= broken.dir.index:
            assert broken.error is not None
            raise _Fail(broken.error, broken.dir.path)
        li = cat.listings[index]
        d = li.dir
        ignore_same_name = sites.holder < index
        matched = same_name = False
        # First the .wants/.requires subdirs: link names only.
        for link in sites.wants.get(index, ()):
            if not match_name or _known_name(info, link):
                matched = True
                break
        if not matched:
            # Then the links in the dir itself: found_dest (text ends in the unit's name) and, at or
            # above the unit file, found_path (called like the unit).
            cands = set(sites.aliases.get(index, ()))
            if not ignore_same_name and index in sites.own:
                cands.add(info.name)
            for link in cands:
                e = li.entries[link]
                found_dest = posixpath.basename(e.target or "") == info.name
                found_path = not ignore_same_name and link == info.name
                if found_path and found_dest:
                    same_name = True
                elif (found_path or found_dest) and (not match_name or _known_name(info, link)):
                    matched = True
                    break
        if matched:
            # Enabled in the persistent config dir: the best answer, at once.
            if d.path == lp.persistent_config:
                return UnitFileState.ENABLED
            # User scope: /etc/systemd/user enables for everyone.
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

    if in_runtime:
        return UnitFileState.ENABLED_RUNTIME
    # An instance linked from outside config and runtime dirs is statically enabled.
    if at_all and _kind(info.name) is names.NameKind.INSTANCE:
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
    return StateResult(name, *_lookup(cat, name))


def _lookup(cat: Catalog, name: str,
            ) -> tuple[UnitFileState, Optional[str], Optional[InstallError], Optional[InstallInfo]]:
    """``lookup_state`` as (state, path, error, info)."""
    if _kind(name) is None:
        return UnitFileState.BAD, None, InstallError.of("EINVAL"), None
    try:
        info, _ctx = traverse(cat, name)
    except _Fail as f:
        # not-found only when no file at all carries the name (or its template); a dangling
        # linked file is present, so it is bad like in list-unit-files.
        absent = f.code == "ENOENT" and not cat.entries(name) and not (
            _kind(name) is names.NameKind.INSTANCE and cat.entries(_template(name)))
        state = UnitFileState.NOT_FOUND if absent else UnitFileState.BAD
        return state, f.path, InstallError.of(f.code, f.path), None
    assert info.path is not None
    if info.mode is Mode.MASKED:
        d = posixpath.dirname(info.path)
        runtime = cat.lookup.is_runtime(d) or info.path.startswith("/run/")
        return UnitFileState.MASKED_RUNTIME if runtime else UnitFileState.MASKED, info.path, None, info
    try:
        state = _regular_state(cat, name, info)
    except _Fail as f:
        return UnitFileState.BAD, f.path, InstallError.of(f.code, f.path), None
    return state, info.path, None, info


def _regular_state(cat: Catalog, name: str, info: InstallInfo) -> UnitFileState:
    # The queried name is an alias of the file it reached (instances excepted).
    path = info.path or ""
    if name != path[path.rfind("/") + 1:] and _kind(info.name) is not names.NameKind.INSTANCE:
        return UnitFileState.ALIAS
    special = cat.derived("install.special_dirs", _special_dirs).get(posixpath.dirname(path))
    if special is not None:
        return special
    return _link_state(cat, info)


def _link_state(cat: Catalog, info: InstallInfo) -> UnitFileState:
    """The state of a unit file that is not an alias, generated or transient: what links and [Install] say."""
    # Both passes look only where the catalog's indexes say a link names the unit (or at a broken dir).
    if cat.may_be_linked(info.name) or cat.broken_dir() is not None:
        sites = _link_sites(cat, info)
        # Pass 1: links under names [Install] would create.
        st = find_symlinks_in_scope(cat, info, True, sites)
        if st is not None:
            return st
        # Pass 2: any link at all.
        if find_symlinks_in_scope(cat, info, False, sites) is not None:
            return UnitFileState.INDIRECT
    if info.aliases or info.wanted_by or info.required_by:
        return UnitFileState.DISABLED
    if info.also:
        return UnitFileState.INDIRECT
    return UnitFileState.STATIC


def _special_dirs(cat: Catalog) -> dict[str, UnitFileState]:
    """The directories whose unit files are ``generated`` or ``transient`` whatever links say."""
    lp = cat.lookup
    out = {d: UnitFileState.TRANSIENT for d in (lp.transient,) if d is not None}
    out.update((d, UnitFileState.GENERATED) for d in (lp.generator, lp.generator_early, lp.generator_late)
               if d is not None)
    return out


def list_error(cat: Catalog) -> Optional[InstallError]:
    """Why ``systemctl list-unit-files`` fails on this catalog, or None.

    ``unit_file_get_list`` (install.c, v252) opens every search dir; an error other than ENOENT,
    ENOTDIR and EACCES fails the whole listing (``Failed to get unit file list: …``).
    """
    broken = cat.broken_dir()
    if broken is None or broken.error is None:
        return None
    return InstallError.of(broken.error, broken.dir.path)


def list_unit_files(cat: Catalog) -> list[StateResult]:
    """``list-unit-files``: every regular file or symlink with a unit name, first occurrence, sorted.

    A failed lookup is listed as ``bad`` (``unit_file_get_list``). Order: by suffix, then name,
    case-insensitively (systemctl ``compare_unit_file_list``). Empty when the listing itself fails
    (see ``list_error``).
    """
    if list_error(cat) is not None:
        return []
    seen: dict[str, Entry] = {}
    for li in cat.listings:
        for n, e in li.entries.items():
            if n in seen or not (stat.S_ISREG(e.mode) or stat.S_ISLNK(e.mode)) or hidden_or_backup(n) \
                    or _kind(n) is None:
                continue
            seen[n] = e
    out = []
    bad = UnitFileState.BAD
    for n, e in seen.items():
        path = e.path
        # The lookup tries the first entry called n (which is not hidden either: the name decides that).
        quick = _listed_regular(cat, n, cat.first(n) or e)
        if quick is not None:
            out.append(StateResult(n, quick[0], path, None, quick[1]))
            continue
        state, _found, error, info = _lookup(cat, n)
        out.append(StateResult(n, state, path, None, info) if error is None else StateResult(n, bad, path, error))
    out.sort(key=_list_order)
    return out


#: [Install] keys whose parsing may fail or needs the whole lookup (``_apply_install_key``).
_HARD_KEYS = frozenset(("Also", "DefaultInstance"))


def _listed_regular(cat: Catalog, name: str, e: Entry) -> Optional[tuple[UnitFileState, InstallInfo]]:
    """``_lookup`` of a listed name in the case most names of a listing are, or None where it must decide.

    The case: ``e``, the first entry called ``name``, is a non-empty regular file directly in a search dir
    that reads without error, a plain unit or template of a type that may be one (an instance looks for
    its template first), with no ``NAME.d`` dir anywhere, whose [Install] the quick reader takes and holds
    no ``Also=`` or ``DefaultInstance=``. Then ``traverse`` would load just that file (no alias to follow,
    no drop-in) and the state is what ``_regular_state`` says of it, computed here the same way without
    the lookup's general machinery. No search dir is broken (``list_unit_files`` checked).
    """
    if e.parent != e.dir.path or not stat.S_ISREG(e.mode) or _kind(name) is names.NameKind.INSTANCE \
            or not _type_allows(name) or cat.has_subdir(name + ".d"):
        return None
    real = cat.listings[e.dir.index].real_path(name)
    if real is None:
        return None
    try:
        data = cat.root.read(real, resolved=True)
    except OSError:
        return None
    keys = _install_keys(data) if data else None
    if keys is None:
        return None
    path = e.path
    info = InstallInfo(name, path, Mode.REGULAR, sources=[path])
    for key, value, line in keys:
        if key in _HARD_KEYS:
            return None
        _apply_install_key(None, info, key, value, path, line)  # no Also=: no context needed
    special = cat.derived("install.special_dirs", _special_dirs).get(e.parent)
    return (special if special is not None else _link_state(cat, info)), info


def _list_order(r: StateResult) -> tuple[str, str]:
    dot = r.name.rfind(".")
    return (r.name[dot:].lower(), r.name.lower())
