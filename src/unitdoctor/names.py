"""Unit-name grammar: validate, classify, split, escape and mangle unit names.

Implements the name rules of systemd 252: ``src/basic/unit-name.c`` (validity, escaping, mangling),
``src/basic/unit-file.c`` (``unit_type_may_alias``, ``unit_type_may_template``,
``unit_validate_alias_symlink_or_warn``, ``unit_symlink_name_compatible``), ``src/shared/install.c``
(``unit_file_verify_alias``) and ``src/shared/dropin.c`` (``unit_file_find_dirs``); fact sheet §5.1–§5.3,
§5.5, §9.3, §9.5. Nothing here touches the filesystem.

Grammar (``unit_name_is_valid``)::

    name     = prefix [ "@" [ instance ] ] "." type        at most UNIT_NAME_MAX (255) characters
    prefix   = 1*( ALPHA / DIGIT / ":" / "-" / "_" / "." / "\\" )
    instance = 1*( ALPHA / DIGIT / ":" / "-" / "_" / "." / "\\" / "@" )
    type     = "service" / "socket" / "target" / "device" / "mount" / "automount"
             / "swap" / "timer" / "path" / "slice" / "scope"

The type is the text after the *last* ``.``; the *first* ``@`` ends the prefix. A name with ``@`` directly
before the type is a template, one with a non-empty instance is an instance, one without ``@`` is plain.

Strings and bytes. systemd works on C strings, byte by byte. Here a ``str`` is turned into bytes with
UTF-8 and ``surrogateescape`` (``os.fsencode`` semantics), so ``ü`` escapes to ``\\xc3\\xbc`` and an
unescaped byte that is not UTF-8 comes back as a surrogate. A C string cannot hold a NUL byte: the escaping
functions refuse one in their input, and ``unescape`` ends its result at a decoded ``\\x00`` as systemd does.

Errors. Bad input at this API edge raises :class:`InvalidUnitName` (a ``ValueError``) for names and
``ValueError`` with systemd-escape's wording for escaping. Where systemd returns an errno as a verdict
(alias checks), the errno's symbol is returned as a value, e.g. ``"EXDEV"``.
"""

from __future__ import annotations

import enum
import functools
from typing import NewType, Optional

from .records import dataclass

__all__ = [
    "UNIT_NAME_MAX",
    "AliasError",
    "InvalidUnitName",
    "NameKind",
    "UnitName",
    "UnitType",
    "alias_error",
    "dropin_names",
    "dropin_prefixes",
    "escape",
    "escape_path",
    "instance_of",
    "is_glob",
    "is_valid",
    "is_valid_instance",
    "is_valid_prefix",
    "kind_of",
    "mangle",
    "may_alias",
    "may_template",
    "prefix_of",
    "split",
    "template_of",
    "unescape",
    "unescape_path",
    "unit_type",
    "validate",
    "verify_alias",
    "verify_install_alias",
    "with_instance",
]

UNIT_NAME_MAX = 255
"""Longest valid unit name, in characters (systemd's ``UNIT_NAME_MAX`` is 256 and counts the NUL)."""

UnitName = NewType("UnitName", str)
"""A string that :func:`validate` has accepted."""

_LETTERS_DIGITS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_VALID_CHARS = frozenset(_LETTERS_DIGITS + ":-_.\\")
_VALID_CHARS_WITH_AT = _VALID_CHARS | {"@"}
_VALID_CHARS_GLOB = _VALID_CHARS_WITH_AT | frozenset("[]!-*?")
_GLOB_CHARS = "*?["
# Bytes that escape() keeps as they are: the valid characters except "-" (it stands for "/") and "\".
_ESCAPE_KEEP = frozenset((_LETTERS_DIGITS + ":_.").encode())
_MANGLE_KEEP = frozenset(ord(ch) for ch in _VALID_CHARS_WITH_AT)

_NAME_MAX = 255  # longest path component, in bytes (Linux NAME_MAX)
_PATH_MAX = 4096  # longest path including its NUL, in bytes (Linux PATH_MAX)

# Key of the SipHash-2-4 that shortens over-long device and mount names (LONG_UNIT_NAME_HASH_KEY).
_LONG_NAME_HASH_KEY = bytes.fromhex("ecf237fb58324a32849f069b0d21eb9a")
_HASH_CHARS = 16

_UNESCAPE_FAILED = "Failed to unescape string: Invalid argument"


class UnitType(str, enum.Enum):
    """A unit type; the value is systemd's name for it and the unit-name suffix without the dot."""

    SERVICE = "service"
    SOCKET = "socket"
    TARGET = "target"
    DEVICE = "device"
    MOUNT = "mount"
    AUTOMOUNT = "automount"
    SWAP = "swap"
    TIMER = "timer"
    PATH = "path"
    SLICE = "slice"
    SCOPE = "scope"

    def __str__(self) -> str:
        return self.value


_TYPES_BY_NAME = {t.value: t for t in UnitType}


class NameKind(enum.Flag):
    """Which shapes of unit name are meant; values as systemd's ``UnitNameFlags``."""

    PLAIN = 1
    TEMPLATE = 2
    INSTANCE = 4
    ANY = PLAIN | TEMPLATE | INSTANCE


class InvalidUnitName(ValueError):
    """A string that is not a unit name (of the kind asked for) was given where one was required."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason

    def __str__(self) -> str:
        return f'Invalid unit name "{_one_line(self.name)}": {self.reason}'


@dataclass(frozen=True)
class AliasError:
    """Why an alias symlink is rejected: the errno symbol and the manager's notice for it."""

    errno: str
    message: str


# --- validity ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _diagnose(name: str) -> tuple[Optional[NameKind], str]:
    """Return the kind of ``name``, or None and the reason it is invalid (memoised: the engine asks often).

    Implements ``unit_name_is_valid`` (unit-name.c, v252) in its order of checks; fact sheet §5.1.
    """
    # Nothing is a unit name if it is empty.
    if not name:
        return None, "empty name"
    # The name including its suffix has at most 255 characters.
    if len(name) > UNIT_NAME_MAX:
        return None, f"longer than {UNIT_NAME_MAX} characters"
    # The type is the text after the last dot, and something must come before that dot.
    dot = name.rfind(".")
    if dot < 0:
        return None, "no unit type suffix"
    if dot == 0:
        return None, "nothing before the unit type suffix"
    if name[dot + 1 :] not in _TYPES_BY_NAME:
        return None, f'unknown unit type "{_one_line(name[dot + 1 :])}"'
    # Before the type, only the valid characters and "@" may appear.
    if not _VALID_CHARS_WITH_AT.issuperset(name[:dot]):
        for ch in name[:dot]:
            if ch not in _VALID_CHARS_WITH_AT:
                return None, f"invalid character {_one_line(repr(ch))}"
    # The first "@" ends the prefix, which may not be empty.
    at = name.find("@")
    if at == 0:
        return None, 'empty prefix before "@"'
    if at < 0:
        return NameKind.PLAIN, ""
    return (NameKind.INSTANCE if dot > at + 1 else NameKind.TEMPLATE), ""


def is_valid(name: str, kinds: NameKind = NameKind.ANY) -> bool:
    """Return whether ``name`` is a valid unit name of one of ``kinds``.

    Implements ``unit_name_is_valid`` (unit-name.c, v252); fact sheet §5.1, §9.5.
    """
    kind = _diagnose(name)[0]
    if kind is None:
        return False
    return kinds is NameKind.ANY or kind is kinds or bool(kind & kinds)


def validate(name: str, kinds: NameKind = NameKind.ANY) -> UnitName:
    """Return ``name`` as a :data:`UnitName`; raise :class:`InvalidUnitName` saying why it is not one."""
    kind, reason = _diagnose(name)
    if kind is None:
        raise InvalidUnitName(name, reason)
    if kinds is not NameKind.ANY and kind is not kinds and not kind & kinds:
        raise InvalidUnitName(name, f"{_kind_word(kind)} name not allowed here")
    return UnitName(name)


def kind_of(name: str) -> Optional[NameKind]:
    """Return PLAIN, TEMPLATE or INSTANCE for a valid name, None for an invalid one.

    Implements ``unit_name_classify`` (unit-name.h, v252).
    """
    return _diagnose(name)[0]


def unit_type(name: str) -> Optional[UnitType]:
    """Return the type of a valid unit name, None for an invalid one (``unit_name_to_type``)."""
    if kind_of(name) is None:
        return None
    return _TYPES_BY_NAME[name[name.rfind(".") + 1 :]]


def is_valid_prefix(prefix: str) -> bool:
    """Return whether ``prefix`` can be the part before ``@``/suffix (``unit_prefix_is_valid``)."""
    return bool(prefix) and all(ch in _VALID_CHARS for ch in prefix)


def is_valid_instance(instance: str) -> bool:
    """Return whether ``instance`` can be an instance string, e.g. a DefaultInstance= value.

    Implements ``unit_instance_is_valid``: non-empty, valid characters, further ``@`` allowed. The length
    limit depends on the whole name and is checked where a name is built (:func:`with_instance`).
    """
    return bool(instance) and all(ch in _VALID_CHARS_WITH_AT for ch in instance)


def is_glob(name: str) -> bool:
    """Return whether ``name`` is a glob pattern over unit-name characters.

    ``string_is_glob(name) && in_charset(name, VALID_CHARS_GLOB)`` as in ``unit_name_mangle_with_suffix``.
    Callers that do not accept globs print ``Glob pattern passed to OP, but globs are not supported for
    this.`` before mangling.
    """
    return any(ch in _GLOB_CHARS for ch in name) and all(ch in _VALID_CHARS_GLOB for ch in name)


# --- parts of a name ------------------------------------------------------------------------------


def split(name: str) -> tuple[str, Optional[str], str]:
    """Return ``(prefix, instance, suffix)``: instance is None for a plain name and "" for a template.

    The suffix keeps its dot: ``split("foo@bar.service") == ("foo", "bar", ".service")``.
    Raises :class:`InvalidUnitName` for an invalid name.
    """
    validate(name)
    dot = name.rfind(".")
    at = name.find("@")
    if at < 0:
        return name[:dot], None, name[dot:]
    return name[:at], name[at + 1 : dot], name[dot:]


def prefix_of(name: str) -> str:
    """Return the part before the first ``@`` or the suffix (``unit_name_to_prefix``)."""
    return split(name)[0]


def instance_of(name: str) -> Optional[str]:
    """Return the instance: None for a plain name, "" for a template (``unit_name_to_instance``)."""
    return split(name)[1]


def template_of(name: str) -> str:
    """Return the template of an instance or template name: ``foo@bar.service`` → ``foo@.service``.

    Like ``unit_name_template``, a template is returned unchanged; a plain or invalid name raises
    :class:`InvalidUnitName`.
    """
    prefix, instance, suffix = split(name)
    if instance is None:
        raise InvalidUnitName(name, "not a template or instance name")
    return f"{prefix}@{suffix}"


def with_instance(template: str, instance: str) -> str:
    """Return ``template`` (or an instance name) with its instance set to ``instance``.

    Implements ``unit_name_replace_instance``: ``foo@.service`` + ``waldo`` → ``foo@waldo.service``.
    Raises :class:`InvalidUnitName` if ``template`` is plain or invalid, the instance is invalid, or the
    result is too long.
    """
    prefix, old, suffix = split(template)
    if old is None:
        raise InvalidUnitName(template, "not a template or instance name")
    if not is_valid_instance(instance):
        raise InvalidUnitName(template, f'invalid instance "{_one_line(instance)}"')
    result = f"{prefix}@{instance}{suffix}"
    return validate(result, NameKind.INSTANCE)


def may_template(t: UnitType) -> bool:
    """Return whether units of type ``t`` may be templated (``unit_type_may_template``; §5.1)."""
    return t in (UnitType.SERVICE, UnitType.SOCKET, UnitType.TARGET, UnitType.TIMER, UnitType.PATH)


def may_alias(t: UnitType) -> bool:
    """Return whether units of type ``t`` may have alias symlinks (``unit_type_may_alias``; §5.1)."""
    return t in (
        UnitType.SERVICE,
        UnitType.SOCKET,
        UnitType.TARGET,
        UnitType.DEVICE,
        UnitType.TIMER,
        UnitType.PATH,
    )


# --- escaping --------------------------------------------------------------------------------------


def escape(s: str) -> str:
    """Return ``s`` escaped for use in a unit name, as ``systemd-escape`` does.

    Implements ``unit_name_escape``: ``/`` becomes ``-``; every byte other than ASCII letters, digits,
    ``:``, ``_`` and ``.`` (so also ``-`` and ``\\``) becomes ``\\xNN``; a leading ``.`` is escaped too.
    ``escape("a b/c-d.e") == "a\\\\x20b-c\\\\x2dd.e"`` (§5.2).
    """
    return _escape_bytes(_to_c_bytes(s))


def unescape(s: str) -> str:
    """Return ``s`` with ``-`` turned back into ``/`` and ``\\xNN`` decoded (``unit_name_unescape``).

    Any other backslash sequence raises ``ValueError("Failed to unescape string: Invalid argument")``.
    A decoded NUL ends the result, as it ends systemd's C string.
    """
    return _from_bytes(_unescape_bytes(s))


def escape_path(p: str) -> str:
    """Return the escaped form of path ``p``, as ``systemd-escape --path`` does.

    Implements ``unit_name_path_escape``: the path is simplified (duplicate slashes and ``.`` dropped), the
    root (or "") becomes ``-``, otherwise leading and trailing slashes are removed and the rest escaped:
    ``/foo//bar/baz/`` → ``foo-bar-baz``. A path that is not normalized after simplification (``..``, a
    component over 255 bytes, 4096 bytes or more) raises ``ValueError`` with systemd-escape's message, e.g.
    ``Input 'a/../b' is not an absolute file system path, failed to escape.``
    """
    raw = _to_c_bytes(p)
    escaped = _path_escape_bytes(raw)
    if escaped is None:
        raise ValueError(_path_escape_error(p, raw))
    return escaped


def unescape_path(s: str) -> str:
    """Return the absolute path that ``s`` stands for, as ``systemd-escape --unescape --path`` does.

    Implements ``unit_name_path_unescape``: ``-`` is ``/``; otherwise the unescaped string may not start or
    end with ``/``, gets a leading ``/`` and must be a normalized path. Failures raise
    ``ValueError("Failed to unescape string: Invalid argument")``.
    """
    if not s:
        raise ValueError(_UNESCAPE_FAILED)
    if s == "-":
        return "/"
    inner = _unescape_bytes(s)
    if inner.startswith(b"/") or inner.endswith(b"/"):
        raise ValueError(_UNESCAPE_FAILED)
    path = b"/" + inner
    if not _path_is_normalized(path):
        raise ValueError(_UNESCAPE_FAILED)
    return _from_bytes(path)


# --- mangling --------------------------------------------------------------------------------------


def mangle(name: str, suffix: str = ".service") -> tuple[str, Optional[str]]:
    """Return ``(unit name, notice or None)`` for a name typed on the command line.

    Implements ``unit_name_mangle_with_suffix`` (unit-name.c, v252) without globbing, as systemctl's
    ``mask``/``enable`` use it and ``systemd-escape --mangle`` prints it (§2.5, §5.2):

    - a valid name is kept;
    - ``/dev/…`` and ``/sys/…`` become ``.device`` names, any other absolute path a ``.mount`` name (names
      over 255 characters are shortened with a hash, as systemd does); no notice;
    - otherwise ``/`` becomes ``-``, characters outside the unit-name set are escaped with the notice
      ``Invalid unit name "foo bar" escaped as "foo\\x20bar" (maybe you should use systemd-escape?).``
      (without the parenthesis when the input :func:`is_glob`), and ``suffix`` is appended unless the
      result is already a valid name.

    Raises :class:`InvalidUnitName` for "" or if the result is still invalid, e.g. longer than 255
    characters (systemctl: ``Failed to mangle unit name or path 'N': Invalid argument``).
    """
    if not name:
        raise InvalidUnitName(name, "empty name")
    if "\0" in name:
        raise InvalidUnitName(name, "contains a NUL byte")
    if not _suffix_is_valid(suffix):
        raise ValueError(f"not a unit name suffix: {suffix!r}")
    # Already a valid unit name: nothing to do.
    if is_valid(name):
        return name, None
    # A glob pattern is escaped like anything else, but the notice does not suggest systemd-escape.
    suggest_escape = not is_glob(name)
    raw = _to_c_bytes(name)
    # A path below /dev or /sys names a device unit.
    if _is_device_path(raw):
        device = _name_from_path(raw, ".device")
        if device is not None:
            return device, None
    # Any other absolute path names a mount unit.
    if raw.startswith(b"/"):
        mount = _name_from_path(raw, ".mount")
        if mount is not None:
            return mount, None
    # Otherwise escape what cannot appear in a unit name, and add the suffix if there is no valid one.
    escaped = _mangle_escape(raw)
    notice = None
    if escaped != name:
        hint = " (maybe you should use systemd-escape?)" if suggest_escape else ""
        notice = f'Invalid unit name "{name}" escaped as "{escaped}"{hint}.'
    result = escaped if is_valid(escaped) else escaped + suffix
    kind, reason = _diagnose(result)
    if kind is None:
        raise InvalidUnitName(name, f'mangled to "{_one_line(result)}", which is invalid: {reason}')
    return result, notice


# --- drop-in names ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 14)
def dropin_names(name: str) -> tuple[str, ...]:
    """Return every name whose ``NAME.d`` directory a search directory is asked for, in systemd's order.

    Implements the recursion of ``unit_file_find_dirs`` (dropin.c, v252; §5.5) for one unit name: the name
    itself; for an instance, everything its template yields; then the name's dash prefix (the prefix cut
    after its last ``-``, a trailing ``-`` chopped once first, nothing if the ``-`` is leading), rebuilt
    with the same instance and type, and everything that yields. The type directory (``service.d``) is
    not included. systemd may visit a name twice (``a--b@i.service`` reaches ``a-.service`` through its
    template and through ``a--.service``); only the first visit is kept, which changes nothing because
    the first directory wins. The template's prefixes are built without an instance, so they are plain::

        foo-bar-baz.service  → foo-bar-baz.service, foo-bar-.service, foo-.service
        foo-bar@i.service    → foo-bar@i.service, foo-bar@.service, foo-.service,
                               foo-@i.service, foo-@.service
    """
    validate(name)
    found: list[str] = []
    _collect_dropin_names(name, found)
    return tuple(dict.fromkeys(found))


def dropin_prefixes(name: str) -> tuple[str, ...]:
    """Return the dash-prefix names of :func:`dropin_names`, i.e. without the name and its template.

    In systemd's order, which is longest first for a plain name: ``foo-bar-baz.service`` →
    ``("foo-bar-.service", "foo-.service")``. For an instance the template's (plain) prefixes come first:
    ``foo-bar@i.service`` → ``("foo-.service", "foo-@i.service", "foo-@.service")``.
    """
    own = {name}
    if kind_of(name) is NameKind.INSTANCE:
        own.add(template_of(name))
    return tuple(n for n in dropin_names(name) if n not in own)


def _collect_dropin_names(name: str, found: list[str]) -> None:
    found.append(name)
    kind = kind_of(name)
    prefix, instance, suffix = split(name)
    # An instance also uses its template's directories.
    if kind is NameKind.INSTANCE:
        _collect_dropin_names(template_of(name), found)
    # Cut the prefix after its last dash; a trailing dash is chopped once first; a leading dash stops.
    chopped = False
    while True:
        dash = prefix.rfind("-")
        if dash <= 0:
            return
        if dash + 1 < len(prefix) or chopped:
            prefix = prefix[: dash + 1]
            break
        prefix = prefix[:dash]
        chopped = True
    # The prefix name keeps the instance of an instance name; templates and plain names give plain names.
    if kind is NameKind.INSTANCE:
        _collect_dropin_names(f"{prefix}@{instance}{suffix}", found)
    else:
        _collect_dropin_names(f"{prefix}{suffix}", found)


# --- aliases ---------------------------------------------------------------------------------------


def alias_error(filename: str, target: str) -> Optional[AliasError]:
    """Return why the alias symlink ``filename`` → ``target`` is rejected, or None if it is valid.

    Implements ``unit_validate_alias_symlink_or_warn`` (unit-file.c, v252; §5.3): only the basenames
    count. EINVAL: the link's own name is invalid, its type may not alias, or it is a template/instance of
    a type that may not be templated. ELOOP: a self-alias (ignored by the manager). EXDEV: the target is
    invalid, of another kind (an instance may point at a template), another instance, or another type.
    The message is the manager's notice, with ``%m`` spelled as strerror.
    """
    src = filename.rsplit("/", 1)[-1]
    dst = target.rsplit("/", 1)[-1]
    # The link itself must be a valid unit name.
    src_kind = kind_of(src)
    if src_kind is None:
        return AliasError("EINVAL", f'{filename}: not a valid unit name "{src}": Invalid argument')
    src_type = _TYPES_BY_NAME[src[src.rfind(".") + 1 :]]
    # Only some unit types may have aliases.
    if not may_alias(src_type):
        return AliasError(
            "EINVAL", f"{filename}: symlinks are not allowed for units of this type, rejecting."
        )
    # Template and instance links only for types that may be templated.
    if src_kind is not NameKind.PLAIN and not may_template(src_type):
        return AliasError(
            "EINVAL", f"{filename}: templates not allowed for {src_type.value} units, rejecting."
        )
    # A link to its own name is a self-alias.
    if src == dst:
        return AliasError("ELOOP", f"{filename}: unit self-alias: {src} → {dst}, ignoring.")
    # The target must be a valid unit name.
    dst_kind = kind_of(dst)
    if dst_kind is None:
        return AliasError(
            "EXDEV",
            f'{filename} points to "{dst}" which is not a valid unit name: Invalid cross-device link',
        )
    # Same kind of name, except that an instance may point at a template.
    if not (dst_kind is src_kind or (src_kind is NameKind.INSTANCE and dst_kind is NameKind.TEMPLATE)):
        return AliasError(
            "EXDEV", f'{filename}: symlink target name type "{dst}" does not match source, rejecting.'
        )
    # An instance may only point at the same instance.
    if dst_kind is NameKind.INSTANCE and instance_of(src) != instance_of(dst):
        return AliasError(
            "EXDEV",
            f'{filename}: unit symlink target "{dst}" instance name doesn\'t match, rejecting.',
        )
    # The type must be the same.
    if unit_type(dst) is not src_type:
        return AliasError("EXDEV", f'{filename}: symlink target "{dst}" has incompatible suffix, rejecting.')
    return None


def verify_alias(src: str, dst: str) -> Optional[str]:
    """Return None if ``src`` may be an alias symlink pointing at ``dst``, else "EINVAL", "EXDEV" or "ELOOP".

    The errno of :func:`alias_error`; ``test-unit-file.c`` (§9.3 item 1).
    """
    error = alias_error(src, dst)
    return None if error is None else error.errno


def verify_install_alias(
    dst_path_or_name: str, unit_name: str, default_instance: Optional[str] = None
) -> tuple[Optional[str], Optional[str]]:
    """Return ``(errno or None, rewritten name or None)`` for installing ``dst_path_or_name`` for a unit.

    Implements ``unit_file_verify_alias`` (install.c, v252; §9.1 N). ``dst_path_or_name`` is an Alias=
    value, which may be a legacy ``foo.target.wants/NAME`` or ``.requires/NAME`` path; ``unit_name`` is
    the unit being installed (a template, or an instance for ``enable tmpl@inst``).

    - With a ``/``: the directory must end in ``.wants`` or ``.requires`` after a valid unit name, and
      NAME must equal ``unit_name``, or be an instance of the template ``unit_name``, or (in a template's
      directory) be the template ``unit_name`` itself ("instance propagation"); otherwise EXDEV. A path
      whose directory cannot be extracted gives that error (EINVAL, EDESTADDRREQ, EADDRNOTAVAIL).
    - Without: a template alias for an instance unit is first rewritten to that instance
      (``alias@.service`` → ``alias@inst.service``, the only case that returns a name); then
      :func:`alias_error` decides, with EINVAL reported as EXDEV and ELOOP (self-alias) passed through.
      An invalid ``unit_name`` gives EUCLEAN.

    ``default_instance`` is accepted for symmetry with ``InstallInfo``; systemd 252 does not consult it
    here (``test-install-root.c`` gives the same results with and without one).
    """
    del default_instance  # not part of the v252 rule, see above
    dst = dst_path_or_name
    slash = dst.rfind("/")
    if slash >= 0:
        # Legacy form: DIR.wants/NAME or DIR.requires/NAME.
        link_name = dst[slash + 1 :]
        errno, directory = _extract_directory(dst)
        if errno is not None:
            return errno, None
        for ending in (".wants", ".requires"):
            if directory.endswith(ending):
                owner = directory[: -len(ending)]
                break
        else:
            return "EXDEV", None
        owner_kind = kind_of(owner)
        if owner_kind is None:
            return "EXDEV", None
        if not _symlink_name_compatible(link_name, unit_name, owner_kind is NameKind.TEMPLATE):
            return "EXDEV", None
        return None, None
    # A template alias of an instance is instantiated with the unit's instance.
    updated = None
    if is_valid(dst, NameKind.TEMPLATE):
        kind = kind_of(unit_name)
        if kind is None:
            return "EUCLEAN", None
        if kind is NameKind.INSTANCE:
            try:
                updated = with_instance(dst, instance_of(unit_name) or "")
            except InvalidUnitName:
                return "EINVAL", None
    errno = verify_alias(updated or dst, unit_name)
    if errno is not None:
        return ("EXDEV" if errno == "EINVAL" else errno), None
    return None, updated


def _symlink_name_compatible(symlink: str, target: str, instance_propagation: bool) -> bool:
    """Return whether a ``.wants``/``.requires`` link named ``symlink`` may point at unit ``target``.

    Implements ``unit_symlink_name_compatible`` (unit-file.c, v252).
    """
    symlink_kind = kind_of(symlink)
    # The link has the unit's own (plain or instance) name.
    if symlink == target and symlink_kind in (NameKind.PLAIN, NameKind.INSTANCE):
        return True
    if symlink_kind not in (NameKind.TEMPLATE, NameKind.INSTANCE):
        return False
    template = template_of(symlink)
    target_kind = kind_of(target)
    # An instance link points at its template.
    if symlink_kind is NameKind.INSTANCE and target_kind is NameKind.TEMPLATE and template == target:
        return True
    # foo@.target.requires/bar@.service: the instance of foo@ will be propagated to bar@.
    return (
        instance_propagation
        and symlink_kind is NameKind.TEMPLATE
        and target_kind is NameKind.TEMPLATE
        and template == target
    )


# --- helpers: bytes, paths, hashing ----------------------------------------------------------------


def _kind_word(kind: NameKind) -> str:
    return {NameKind.PLAIN: "plain", NameKind.TEMPLATE: "template", NameKind.INSTANCE: "instance"}[kind]


def _one_line(s: str) -> str:
    """Return ``s`` with control characters shown as escapes, so a message stays on one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in s)


def _suffix_is_valid(suffix: str) -> bool:
    return suffix.startswith(".") and suffix[1:] in _TYPES_BY_NAME


def _to_c_bytes(s: str) -> bytes:
    raw = s.encode("utf-8", "surrogateescape")
    if b"\0" in raw:
        raise ValueError(f"{_one_line(repr(s))} contains a NUL byte, which systemd cannot represent")
    return raw


def _from_bytes(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _escape_byte(byte: int) -> str:
    return f"\\x{byte:02x}"


def _escape_bytes(raw: bytes) -> str:
    """``do_escape``: "/" → "-", a leading "." and every byte outside ``_ESCAPE_KEEP`` → ``\\xNN``."""
    out = []
    if raw.startswith(b"."):
        out.append(_escape_byte(raw[0]))
        raw = raw[1:]
    for byte in raw:
        if byte == 0x2F:
            out.append("-")
        elif byte in _ESCAPE_KEEP:
            out.append(chr(byte))
        else:
            out.append(_escape_byte(byte))
    return "".join(out)


def _mangle_escape(raw: bytes) -> str:
    """``do_escape_mangle`` without globs: "/" → "-", bytes outside the name characters → ``\\xNN``."""
    out = []
    for byte in raw:
        if byte == 0x2F:
            out.append("-")
        elif byte in _MANGLE_KEEP:
            out.append(chr(byte))
        else:
            out.append(_escape_byte(byte))
    return "".join(out)


def _unescape_bytes(s: str) -> bytes:
    """``unit_name_unescape`` on bytes; the result ends at the first decoded NUL."""
    raw = s.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x2D:  # "-"
            out.append(0x2F)
        elif byte == 0x5C:  # "\"
            digits = raw[i + 2 : i + 4]
            if raw[i + 1 : i + 2] != b"x" or len(digits) != 2 or not _is_hex(digits):
                raise ValueError(_UNESCAPE_FAILED)
            out.append(int(digits, 16))
            i += 3
        else:
            out.append(byte)
        i += 1
    end = out.find(0)
    return bytes(out if end < 0 else out[:end])


def _is_hex(digits: bytes) -> bool:
    return all(d in b"0123456789abcdefABCDEF" for d in digits)


def _components(path: bytes) -> list[bytes]:
    """The components of ``path`` without empty and ``.`` ones (``path_find_first_component``)."""
    return [c for c in path.split(b"/") if c not in (b"", b".")]


def _path_is_valid(path: bytes, accept_dot_dot: bool = True) -> bool:
    """``path_is_valid_full``: non-empty, components of at most 255 bytes, under 4096 bytes."""
    if not path or len(path) >= _PATH_MAX:
        return False
    return all(len(c) <= _NAME_MAX and (accept_dot_dot or c != b"..") for c in _components(path))


def _path_is_normalized(path: bytes) -> bool:
    """``path_is_normalized``: valid, no ``..`` or ``.`` components, no ``//``."""
    if not _path_is_valid(path, accept_dot_dot=False):
        return False
    if path == b"." or path.startswith(b"./") or path.endswith(b"/.") or b"/./" in path:
        return False
    return b"//" not in path


def _path_simplify(path: bytes) -> Optional[bytes]:
    """``path_simplify``; None where systemd gives up on a component over 255 bytes."""
    if not path:
        return path
    parts = _components(path)
    if any(len(c) > _NAME_MAX for c in parts):
        return None
    if path.startswith(b"/"):
        return b"/" + b"/".join(parts)
    return b"/".join(parts) or b"."


def _path_escape_bytes(raw: bytes) -> Optional[str]:
    """``unit_name_path_escape``; None for systemd's EINVAL."""
    simple = _path_simplify(raw)
    if simple is None:
        return None
    # The empty path and the root become "-".
    if simple in (b"", b"/"):
        return "-"
    if not _path_is_normalized(simple):
        return None
    return _escape_bytes(simple.strip(b"/"))


def _path_escape_error(p: str, raw: bytes) -> str:
    """systemd-escape's message for a path it cannot escape, checked on the input as given."""
    if not _path_is_valid(raw):
        return f"Input '{p}' is not a valid file system path, failed to escape."
    if not raw.startswith(b"/"):
        return f"Input '{p}' is not an absolute file system path, failed to escape."
    if not _path_is_normalized(raw):
        return f"Input '{p}' is not a normalized file system path, failed to escape."
    return "Failed to escape string: Invalid argument"


def _is_device_path(raw: bytes) -> bool:
    """``is_device_path``: ``/dev/`` or ``/sys/`` followed by at least one more component."""
    if not raw.startswith(b"/"):
        return False
    parts = _components(raw)
    return len(parts) >= 2 and parts[0] in (b"dev", b"sys") and len(parts[1]) <= _NAME_MAX


def _name_from_path(raw: bytes, suffix: str) -> Optional[str]:
    """``unit_name_from_path``: the escaped path plus ``suffix``, hashed if too long; None for EINVAL."""
    escaped = _path_escape_bytes(raw)
    if escaped is None:
        return None
    name = escaped + suffix
    if len(name) > UNIT_NAME_MAX:
        name = _hash_long(name)
    return name if is_valid(name, NameKind.PLAIN) else None


def _hash_long(name: str) -> str:
    """``unit_name_hash_long``: keep a head of the name, then ``_`` + 16 hex digits + the suffix.

    The digits are the SipHash-2-4 of the full name *including its terminating NUL* (``siphash24_string``)
    under ``_LONG_NAME_HASH_KEY``, as little-endian bytes.
    """
    dot = name.rfind(".")
    type_name = name[dot + 1 :]
    digest = _siphash24(name.encode() + b"\0", _LONG_NAME_HASH_KEY).to_bytes(8, "little").hex()
    keep = UNIT_NAME_MAX - len(type_name) - _HASH_CHARS - 2
    return f"{name[:keep]}_{digest}.{type_name}"


def _siphash24(data: bytes, key: bytes) -> int:
    """SipHash-2-4 of ``data`` under the 16-byte ``key`` (Aumasson & Bernstein), as a 64-bit integer."""
    mask = (1 << 64) - 1
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v = [0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1, 0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1]

    def rotl(x: int, b: int) -> int:
        return ((x << b) | (x >> (64 - b))) & mask

    def rounds(n: int) -> None:
        for _ in range(n):
            v[0] = (v[0] + v[1]) & mask
            v[1] = rotl(v[1], 13) ^ v[0]
            v[0] = rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & mask
            v[3] = rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & mask
            v[3] = rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & mask
            v[1] = rotl(v[1], 17) ^ v[2]
            v[2] = rotl(v[2], 32)

    whole = len(data) - len(data) % 8
    blocks = [int.from_bytes(data[i : i + 8], "little") for i in range(0, whole, 8)]
    blocks.append(((len(data) & 0xFF) << 56) | int.from_bytes(data[whole:], "little"))
    for m in blocks:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def _extract_directory(path: str) -> tuple[Optional[str], str]:
    """``path_extract_directory``: ``(errno, "")`` or ``(None, simplified directory)``.

    The last component is found skipping trailing slashes and ``.``; it may not be ``..`` or longer than
    255 bytes (EINVAL). Nothing but a root gives EADDRNOTAVAIL, a bare file name EDESTADDRREQ.
    """
    raw = path.encode("utf-8", "surrogateescape")
    q = _skip_slash_or_dot_backward(raw, len(raw) - 1)
    if q is None or (q == 0 and raw[:1] == b"."):
        return ("EINVAL" if not raw else "EADDRNOTAVAIL"), ""
    last_end = q + 1
    while q is not None and raw[q] != 0x2F:
        q = q - 1 if q > 0 else None
    last_begin = 0 if q is None else q + 1
    last = raw[last_begin:last_end]
    if len(last) > _NAME_MAX or last == b"..":
        return "EINVAL", ""
    before = None if q is None else _skip_slash_or_dot_backward(raw, q)
    if before is None:
        if not raw.startswith(b"/"):
            return "EDESTADDRREQ", ""
        return None, "/"
    directory = _path_simplify(raw[: before + 1])
    if directory is None or not _path_is_valid(directory):
        return "EINVAL", ""
    return None, _from_bytes(directory)


def _skip_slash_or_dot_backward(raw: bytes, q: Optional[int]) -> Optional[int]:
    """Move index ``q`` back over slashes and ``/.`` pairs; None when it runs off the start."""
    while q is not None and q >= 0:
        if raw[q] == 0x2F or (q > 0 and raw[q - 1 : q + 1] == b"/."):
            q = q - 1 if q > 0 else None
            continue
        return q
    return None
