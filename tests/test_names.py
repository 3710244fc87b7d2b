"""Tests for unitdoctor.names: the unit-name grammar of systemd 252.

Tables port systemd's own cases (``src/test/test-unit-name.c``, ``test-unit-file.c`` and the ``verify_alias``
test of ``test-install-root.c``; fact sheet §5.1, §5.2, §5.3, §9.1 N, §9.3, §9.5). The differential tests at
the end compare our answers with the ``systemd-escape`` on this machine and are skipped where it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Callable, Optional

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from unitdoctor import names
from unitdoctor.names import (
    UNIT_NAME_MAX,
    AliasError,
    InvalidUnitName,
    NameKind,
    UnitType,
    alias_error,
    dropin_names,
    dropin_prefixes,
    escape,
    escape_path,
    instance_of,
    is_glob,
    is_valid,
    is_valid_instance,
    is_valid_prefix,
    kind_of,
    mangle,
    may_alias,
    may_template,
    prefix_of,
    split,
    template_of,
    unescape,
    unescape_path,
    unit_type,
    validate,
    verify_alias,
    verify_install_alias,
    with_instance,
)

P, T, INST, ANY = NameKind.PLAIN, NameKind.TEMPLATE, NameKind.INSTANCE, NameKind.ANY
UNESCAPE_FAILED = "Failed to unescape string: Invalid argument"


def test_exported_members_exist():
    assert sorted(names.__all__) == sorted(set(names.__all__))
    for member in names.__all__:
        assert hasattr(names, member), member


# --- validity: §5.1, §9.5 ---------------------------------------------------------------------------

# test-unit-name.c: unit_name_is_valid, one row per (name, kinds) it checks.
VALIDITY = [
    ("foo.service", ANY, True),
    ("foo.service", P, True),
    ("foo.service", INST, False),
    ("foo.service", T, False),
    ("foo.service", INST | T, False),
    ("foo@bar.service", ANY, True),
    ("foo@bar.service", P, False),
    ("foo@bar.service", INST, True),
    ("foo@bar.service", T, False),
    ("foo@bar.service", INST | T, True),
    ("foo@bar@bar.service", ANY, True),
    ("foo@bar@bar.service", P, False),
    ("foo@bar@bar.service", INST, True),
    ("foo@bar@bar.service", T, False),
    ("foo@bar@bar.service", INST | T, True),
    ("foo@.service", ANY, True),
    ("foo@.service", P, False),
    ("foo@.service", INST, False),
    ("foo@.service", T, True),
    ("foo@.service", INST | T, True),
    (".test.service", P, True),
    (".test@.service", T, True),
    ("_strange::::.service", ANY, True),
    (".service", ANY, False),
    ("", ANY, False),
    ("foo.waldo", ANY, False),
    ("@.service", ANY, False),
    ("@piep.service", ANY, False),
    ("user@1000.slice", ANY, True),
    ("user@1000.slice", INST, True),
    ("user@1000.slice", T, False),
    ("foo@%i.service", ANY, False),
    ("foo@%i.service", INST, False),
    ("foo@%%i.service", INST, False),
    ("foo@%%i%f.service", INST, False),
    ("foo@%F.service", INST, False),
    ("foo.target.wants/plain.service", ANY, False),
    ("foo.target.conf/foo.conf", ANY, False),
    ("foo.target.requires/plain.socket", ANY, False),
    # §5.1 beyond systemd's table.
    ("foo.service", NameKind(0), False),
    ("foo.Service", ANY, False),  # the type is case-sensitive
    ("foo.service.waldo", ANY, False),  # the type is after the last dot
    ("foo.waldo.service", P, True),
    ("foo@a.b.service", INST, True),  # dots in the instance
    ("a\\x20b-c:d_e.mount", P, True),  # escapes, dashes, colons
    ("foo@bar/baz.service", ANY, False),
    ("foo bar.service", ANY, False),
    ("föo.service", ANY, False),
    ("foo\0.service", ANY, False),
    ("foo", ANY, False),
    ("foo.", ANY, False),
    ("foo@", ANY, False),
    ("-.mount", P, True),
    ("-.slice", P, True),
]


@pytest.mark.parametrize(("name", "kinds", "expected"), VALIDITY)
def test_is_valid(name, kinds, expected):
    assert is_valid(name, kinds) is expected


@pytest.mark.parametrize("type_name", [t.value for t in UnitType])
def test_every_unit_type_is_a_valid_suffix(type_name):
    assert unit_type(f"foo.{type_name}") is UnitType(type_name)


def test_unit_type_values_are_systemds_table():
    assert [t.value for t in UnitType] == [
        "service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice",
        "scope",
    ]  # fmt: skip
    assert str(UnitType.SERVICE) == "service"


@pytest.mark.parametrize(
    ("length", "expected"),
    [(UNIT_NAME_MAX - 1, True), (UNIT_NAME_MAX, True), (UNIT_NAME_MAX + 1, False)],
)
def test_length_limit_counts_the_suffix(length, expected):
    name = "a" * (length - len(".service")) + ".service"
    assert len(name) == length
    assert is_valid(name) is expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("foo.service", P),
        ("foo@.service", T),
        ("foo@bar.service", INST),
        ("foo@bar@bar.service", INST),
        (".test@.service", T),
        ("foo@.socketx", None),
        ("", None),
    ],
)
def test_kind_of(name, kind):
    assert kind_of(name) is kind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("foo.service", UnitType.SERVICE),
        ("foo@bar.socket", UnitType.SOCKET),
        ("dev-sda.device", UnitType.DEVICE),
        ("user@1000.slice", UnitType.SLICE),
        ("foo.service.d", None),
        ("foo.waldo", None),
        ("@x.service", None),
    ],
)
def test_unit_type(name, expected):
    assert unit_type(name) is expected


@pytest.mark.parametrize(
    ("name", "kinds", "message"),
    [
        ("", ANY, 'Invalid unit name "": empty name'),
        ("a" * 248 + ".service", ANY, f'Invalid unit name "{"a" * 248}.service": longer than 255 characters'),
        ("foobar", ANY, 'Invalid unit name "foobar": no unit type suffix'),
        (".service", ANY, 'Invalid unit name ".service": nothing before the unit type suffix'),
        ("foo.waldo", ANY, 'Invalid unit name "foo.waldo": unknown unit type "waldo"'),
        ("foo bar.service", ANY, "Invalid unit name \"foo bar.service\": invalid character ' '"),
        ("foo@%i.service", ANY, "Invalid unit name \"foo@%i.service\": invalid character '%'"),
        ("a\nb.service", ANY, "Invalid unit name \"a\\nb.service\": invalid character '\\n'"),
        ("@piep.service", ANY, 'Invalid unit name "@piep.service": empty prefix before "@"'),
        ("foo@.service", P | INST, 'Invalid unit name "foo@.service": template name not allowed here'),
        ("foo.service", T, 'Invalid unit name "foo.service": plain name not allowed here'),
    ],
)
def test_error_when_validating_an_invalid_name(name, kinds, message):
    with pytest.raises(InvalidUnitName) as info:
        validate(name, kinds)
    assert str(info.value) == message
    assert info.value.name == name
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_validate_returns_the_name():
    assert validate("foo@bar.service", INST) == "foo@bar.service"


# test-unit-name.c: unit_instance_is_valid, unit_prefix_is_valid
@pytest.mark.parametrize(
    ("text", "instance", "prefix"),
    [
        ("fooBar", True, True),
        ("foo-bar", True, True),
        ("foo.stUff", True, True),
        ("fOo123.stuff", True, True),
        ("@f_oo123.Stuff", True, False),
        ("$¢£", False, False),
        ("", False, False),
        ("foo bar", False, False),
        ("foo/bar", False, False),
    ],
)
def test_instance_and_prefix_validity(text, instance, prefix):
    assert is_valid_instance(text) is instance
    assert is_valid_prefix(text) is prefix


# --- type limits: §5.1 ------------------------------------------------------------------------------

TYPE_LIMITS = {
    UnitType.SERVICE: (True, True),
    UnitType.SOCKET: (True, True),
    UnitType.TARGET: (True, True),
    UnitType.DEVICE: (False, True),
    UnitType.MOUNT: (False, False),
    UnitType.AUTOMOUNT: (False, False),
    UnitType.SWAP: (False, False),
    UnitType.TIMER: (True, True),
    UnitType.PATH: (True, True),
    UnitType.SLICE: (False, False),
    UnitType.SCOPE: (False, False),
}


@pytest.mark.parametrize(("t", "limits"), TYPE_LIMITS.items())
def test_may_template_and_may_alias(t, limits):
    assert (may_template(t), may_alias(t)) == limits


def test_type_limits_cover_every_type():
    assert set(TYPE_LIMITS) == set(UnitType)


# --- parts of a name --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("foo.service", ("foo", None, ".service")),
        ("foo@.service", ("foo", "", ".service")),
        ("foo@bar.service", ("foo", "bar", ".service")),
        ("foo@bar@baz.service", ("foo", "bar@baz", ".service")),
        ("foo@a.b.socket", ("foo", "a.b", ".socket")),
        ("foo.bar.mount", ("foo.bar", None, ".mount")),
        (".test@.service", (".test", "", ".service")),
        ("fo0-stUff_b@b.service", ("fo0-stUff_b", "b", ".service")),
        ("quux-@.mount", ("quux-", "", ".mount")),
    ],
)
def test_split(name, parts):
    assert split(name) == parts
    assert prefix_of(name) == parts[0]
    assert instance_of(name) == parts[1]


# test-unit-name.c: unit_name_to_prefix, unit_name_to_instance (failures)
@pytest.mark.parametrize("name", ["", "foobar", ".service", "quux.quux", "@.mount", "fooj@unk", "foo@"])
def test_error_when_splitting_an_invalid_name(name):
    with pytest.raises(InvalidUnitName):
        split(name)
    with pytest.raises(InvalidUnitName):
        prefix_of(name)
    with pytest.raises(InvalidUnitName):
        instance_of(name)


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("foo@bar.service", "foo@.service"),
        ("foo@bar@baz.socket", "foo@.socket"),
        ("foo@.service", "foo@.service"),  # unit_name_template returns a template unchanged
    ],
)
def test_template_of(name, template):
    assert template_of(name) == template


@pytest.mark.parametrize("name", ["foo.mount", "foo.service", "", "@bar.service"])
def test_error_when_template_of_a_plain_or_invalid_name(name):
    with pytest.raises(InvalidUnitName):
        template_of(name)


def test_error_message_when_template_of_a_plain_name():
    with pytest.raises(InvalidUnitName, match=r'^Invalid unit name "foo.mount": not a template or instance name$'):
        template_of("foo.mount")


# test-unit-name.c: unit_name_replace_instance
@pytest.mark.parametrize(
    ("name", "instance", "expected"),
    [
        ("foo@.service", "waldo", "foo@waldo.service"),
        ("foo@xyz.service", "waldo", "foo@waldo.service"),
        ("foo@.service", "a@b", "foo@a@b.service"),
        ("xyz", "waldo", None),
        ("", "waldo", None),
        ("foo.service", "waldo", None),
        (".service", "waldo", None),
        ("foo@", "waldo", None),
        ("@bar", "waldo", None),
        ("foo@.service", "", None),
        ("foo@.service", "a/b", None),
        ("foo@.service", "%i", None),
        ("foo@.service", "x" * (UNIT_NAME_MAX - len("foo@.service")), "foo@" + "x" * 243 + ".service"),
        ("foo@.service", "x" * (UNIT_NAME_MAX - len("foo@.service") + 1), None),
    ],
)
def test_with_instance(name, instance, expected):
    if expected is None:
        with pytest.raises(InvalidUnitName):
            with_instance(name, instance)
    else:
        assert with_instance(name, instance) == expected


# --- escaping: §5.2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a b/c-d.e", "a\\x20b-c\\x2dd.e"),
        ("ü", "\\xc3\\xbc"),
        ("ab+-c.a/bc@foo.service", "ab\\x2b\\x2dc.a-bc\\x40foo.service"),
        (".dotdir", "\\x2edotdir"),
        ("a.b", "a.b"),
        ("/", "-"),
        ("//a/", "--a-"),
        ("back\\slash", "back\\x5cslash"),
        (":_.", ":_."),
        ("", ""),
        ("Ab9", "Ab9"),
        ("\udcff", "\\xff"),  # a non-UTF-8 byte, as os.fsdecode gives it
    ],
)
def test_escape(text, escaped):
    assert escape(text) == escaped
    assert unescape(escaped) == text


@pytest.mark.parametrize(
    ("text", "unescaped"),
    [
        ("a-b", "a/b"),
        ("\\x2d", "-"),
        ("\\x2D", "-"),  # upper-case hex digits are accepted
        ("\\xc3\\xbc", "ü"),
        ("foo\\x20bar", "foo bar"),
        ("a\\x00b-c", "a"),  # systemd's C string ends at the decoded NUL
        ("plain", "plain"),
    ],
)
def test_unescape(text, unescaped):
    assert unescape(text) == unescaped


@pytest.mark.parametrize("text", ["\\", "\\x", "\\x2", "\\xg0", "\\y20", "a\\x00\\q", "\\\\x20"])
def test_error_when_unescaping_a_bad_sequence(text):
    with pytest.raises(ValueError, match=f"^{UNESCAPE_FAILED}$"):
        unescape(text)


def test_error_when_escaping_a_nul():
    with pytest.raises(ValueError, match="NUL"):
        escape("a\0b")
    with pytest.raises(ValueError, match="NUL"):
        escape_path("/a\0b")


@pytest.mark.parametrize(
    ("path", "escaped"),
    [
        ("/foo//bar/baz/", "foo-bar-baz"),
        ("/", "-"),
        ("///", "-"),
        ("/./", "-"),
        ("", "-"),
        ("/waldo", "waldo"),
        ("/waldo/quuix/", "waldo-quuix"),
        ("/foo/./bar", "foo-bar"),
        ("/home/lennart", "home-lennart"),
        ("/--", "\\x2d\\x2d"),
        ("/.dotdir/x", "\\x2edotdir-x"),
        ("/a b", "a\\x20b"),
        ("foo/bar", "foo-bar"),  # relative paths are escaped too (systemd-escape warns)
        ("/" + "x" * 255, "x" * 255),
    ],
)
def test_escape_path(path, escaped):
    assert escape_path(path) == escaped


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a/../b", "Input 'a/../b' is not an absolute file system path, failed to escape."),
        ("/a/../b", "Input '/a/../b' is not a normalized file system path, failed to escape."),
        ("/..", "Input '/..' is not a normalized file system path, failed to escape."),
        ("..", "Input '..' is not an absolute file system path, failed to escape."),
        (".", "Input '.' is not an absolute file system path, failed to escape."),
        ("/" + "x" * 256, f"Input '/{'x' * 256}' is not a valid file system path, failed to escape."),
        ("/a" * 2048, f"Input '{'/a' * 2048}' is not a valid file system path, failed to escape."),
    ],
)
def test_error_when_escaping_a_path(path, message):
    with pytest.raises(ValueError) as info:
        escape_path(path)
    assert str(info.value) == message


# test-unit-name.c: unit_name_path_unescape, unit_name_to_path
@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("foo", "/foo"),
        ("foo-bar", "/foo/bar"),
        ("foo-.bar", "/foo/.bar"),
        ("foo-bar-baz", "/foo/bar/baz"),
        ("-", "/"),
        ("home-lennart", "/home/lennart"),
        ("foo\\x2dbar", "/foo-bar"),
        ("\\x2edotdir", "/.dotdir"),
        ("--", None),
        ("-foo-bar", None),
        ("foo--bar", None),
        ("foo-bar-", None),
        (".-bar", None),
        ("foo-..", None),
        ("home-..-lennart", None),
        ("", None),
        ("foo\\x", None),
        ("a\\x2fb", "/a/b"),  # an escaped slash is still a slash
        ("a\\x2f", None),
    ],
)
def test_unescape_path(text, path):
    if path is None:
        with pytest.raises(ValueError, match=f"^{UNESCAPE_FAILED}$"):
            unescape_path(text)
    else:
        assert unescape_path(text) == path


# --- mangling: §2.5, §5.2 ---------------------------------------------------------------------------

WALDO = "/waldo" + "a" * 246  # test-unit-name.c: unit_name_from_path, the hashed case
WALDO_HASHED = "waldo" + "a" * 227 + "_7736d9ed33c2ec55.mount"


def _escaped_notice(name: str, escaped: str) -> str:
    return f'Invalid unit name "{name}" escaped as "{escaped}" (maybe you should use systemd-escape?).'


@pytest.mark.parametrize(
    ("name", "suffix", "expected", "notice"),
    [
        # test-unit-name.c: unit_name_mangle without globs
        ("foo.service", ".service", "foo.service", None),
        ("/home", ".service", "home.mount", None),
        ("/dev/sda", ".service", "dev-sda.device", None),
        (
            "üxknürz.service",
            ".service",
            "\\xc3\\xbcxkn\\xc3\\xbcrz.service",
            _escaped_notice("üxknürz.service", "\\xc3\\xbcxkn\\xc3\\xbcrz.service"),
        ),
        ("foobar-meh...waldi.service", ".service", "foobar-meh...waldi.service", None),
        (
            "_____####----.....service",
            ".service",
            "_____\\x23\\x23\\x23\\x23----.....service",
            _escaped_notice("_____####----.....service", "_____\\x23\\x23\\x23\\x23----.....service"),
        ),
        (
            "_____##@;;;,,,##----.....service",
            ".service",
            "_____\\x23\\x23@\\x3b\\x3b\\x3b\\x2c\\x2c\\x2c\\x23\\x23----.....service",
            _escaped_notice(
                "_____##@;;;,,,##----.....service",
                "_____\\x23\\x23@\\x3b\\x3b\\x3b\\x2c\\x2c\\x2c\\x23\\x23----.....service",
            ),
        ),
        (
            "xxx@@@@/////\\\\\\\\\\yyy.service",
            ".service",
            "xxx@@@@-----\\\\\\\\\\yyy.service",
            _escaped_notice("xxx@@@@/////\\\\\\\\\\yyy.service", "xxx@@@@-----\\\\\\\\\\yyy.service"),
        ),
        # §2.5 and §5.2
        ("foo", ".service", "foo.service", None),
        ("foo@.socketx", ".service", "foo@.socketx.service", None),
        ("foo bar", ".service", "foo\\x20bar.service", _escaped_notice("foo bar", "foo\\x20bar")),
        ("a/b", ".service", "a-b.service", _escaped_notice("a/b", "a-b")),
        ("foo", ".socket", "foo.socket", None),
        ("foo.service", ".socket", "foo.service", None),
        (".foo", ".service", ".foo.service", None),
        ("foo.service/", ".service", "foo.service-.service", _escaped_notice("foo.service/", "foo.service-")),
        # absolute paths
        ("/", ".service", "-.mount", None),
        ("/home/./x//", ".service", "home-x.mount", None),
        ("/dev", ".service", "dev.mount", None),  # nothing after /dev/: not a device path
        ("/dev/", ".service", "dev.mount", None),
        ("/./dev/foo", ".service", "dev-foo.device", None),
        ("/sys/class", ".service", "sys-class.device", None),
        ("/dev/disk/by-id/a b", ".service", "dev-disk-by\\x2did-a\\x20b.device", None),
        ("/foo/../bar", ".service", "-foo-..-bar.service", _escaped_notice("/foo/../bar", "-foo-..-bar")),
        ("/dev/../x", ".service", "-dev-..-x.service", _escaped_notice("/dev/../x", "-dev-..-x")),
        (WALDO, ".service", WALDO_HASHED, None),
        # globs are escaped too, without the hint
        ("foo*", ".service", "foo\\x2a.service", 'Invalid unit name "foo*" escaped as "foo\\x2a".'),
        (
            "f[ab]?",
            ".service",
            "f\\x5bab\\x5d\\x3f.service",
            'Invalid unit name "f[ab]?" escaped as "f\\x5bab\\x5d\\x3f".',
        ),
        ("ü*", ".service", "\\xc3\\xbc\\x2a.service", _escaped_notice("ü*", "\\xc3\\xbc\\x2a")),
    ],
)
def test_mangle(name, suffix, expected, notice):
    assert mangle(name, suffix) == (expected, notice)


def test_mangle_of_long_device_path_is_hashed():
    result, notice = mangle("/dev/" + "x" * 250)
    assert notice is None
    assert len(result) == UNIT_NAME_MAX
    assert result.startswith("dev-" + "x" * 200)
    assert result.endswith(".device")
    assert result[-len(".device") - 17] == "_"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", 'Invalid unit name "": empty name'),
        (
            "a" * 256,
            f'Invalid unit name "{"a" * 256}": mangled to "{"a" * 256}.service", which is invalid: '
            "longer than 255 characters",
        ),
        (
            "@foo.service",
            'Invalid unit name "@foo.service": mangled to "@foo.service.service", which is invalid: '
            'empty prefix before "@"',
        ),
        ("a\0b", 'Invalid unit name "a\\x00b": contains a NUL byte'),
    ],
)
def test_error_when_mangling(name, message):
    with pytest.raises(InvalidUnitName) as info:
        mangle(name)
    assert str(info.value) == message


def test_mangle_at_the_length_limit():
    assert mangle("a" * 247) == ("a" * 247 + ".service", None)
    with pytest.raises(InvalidUnitName):
        mangle("a" * 248)


def test_error_when_mangling_with_a_bad_suffix():
    with pytest.raises(ValueError, match="not a unit name suffix"):
        mangle("foo", ".waldo")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("foo*", True),
        ("foo?.service", True),
        ("[ab].service", True),
        ("foo.service", False),
        ("foo *", False),
    ],
)
def test_is_glob(name, expected):
    assert is_glob(name) is expected


# --- drop-in names: §5.5 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("foo.service", ("foo.service",)),
        ("foo-bar-baz.service", ("foo-bar-baz.service", "foo-bar-.service", "foo-.service")),
        ("foo-.service", ("foo-.service",)),  # the trailing dash is chopped, then no dash is left
        ("foo-bar-.service", ("foo-bar-.service", "foo-.service")),
        ("a--b.service", ("a--b.service", "a--.service", "a-.service")),
        ("a--.service", ("a--.service", "a-.service")),  # chopped once only
        ("-foo.service", ("-foo.service",)),  # a leading dash stops
        ("-foo-bar.service", ("-foo-bar.service", "-foo-.service")),
        ("foo@i.service", ("foo@i.service", "foo@.service")),
        (
            "foo-bar@i.service",
            ("foo-bar@i.service", "foo-bar@.service", "foo-.service", "foo-@i.service", "foo-@.service"),
        ),
        ("foo-bar@.service", ("foo-bar@.service", "foo-.service")),  # a template's prefixes are plain
        ("foo@a-b.service", ("foo@a-b.service", "foo@.service")),  # dashes in the instance do not count
        ("a--b@i.service", ("a--b@i.service", "a--b@.service", "a--.service", "a-.service", "a--@i.service",
                            "a--@.service", "a-@i.service", "a-@.service")),  # a-.service is visited twice
        ("dev-disk-by\\x2did-x.device", ("dev-disk-by\\x2did-x.device", "dev-disk-by\\x2did-.device",
                                          "dev-disk-.device", "dev-.device")),
    ],
)  # fmt: skip
def test_dropin_names(name, expected):
    assert dropin_names(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("foo-bar-baz.service", ("foo-bar-.service", "foo-.service")),
        ("foo.service", ()),
        ("foo@i.service", ()),
        ("foo-bar@i.service", ("foo-.service", "foo-@i.service", "foo-@.service")),
        ("foo-bar@.service", ("foo-.service",)),
    ],
)
def test_dropin_prefixes(name, expected):
    assert dropin_prefixes(name) == expected


def test_error_when_dropin_names_of_an_invalid_name():
    with pytest.raises(InvalidUnitName):
        dropin_names("service")
    with pytest.raises(InvalidUnitName):
        dropin_prefixes("foo-bar")


# --- aliases: §5.3, §9.3 item 1 ---------------------------------------------------------------------

# test-unit-file.c: unit_validate_alias_symlink_or_warn
ALIASES = [
    ("a.service", "b.service", None),
    ("a@.service", "b@.service", None),
    ("a@XXX.service", "b@XXX.service", None),
    ("a@XXX.service", "b@.service", None),
    ("a.service", "b.socket", "EXDEV"),
    ("a.service", "b.foobar", "EXDEV"),
    ("a@.service", "b@.socket", "EXDEV"),
    ("a@XXX.service", "b@YYY.service", "EXDEV"),
    ("a@XXX.service", "b@YYY.socket", "EXDEV"),
    ("a@.service", "b@YYY.service", "EXDEV"),
    ("a@.service", "b.service", "EXDEV"),
    ("a.service", "b@.service", "EXDEV"),
    ("a@.slice", "b.slice", "EINVAL"),
    ("a.slice", "b.slice", "EINVAL"),
    # beyond systemd's table
    ("a.service", "a.service", "ELOOP"),
    ("/etc/systemd/system/a.service", "/usr/lib/systemd/system/a.service", "ELOOP"),
    ("/etc/systemd/system/a.service", "../lib/b.service", None),
    ("a.waldo", "b.service", "EINVAL"),
    ("a.mount", "b.mount", "EINVAL"),
    ("a.device", "b.device", None),
    ("a@x.device", "b@x.device", "EINVAL"),
    ("a@x.timer", "a@.timer", None),
]


@pytest.mark.parametrize(("src", "dst", "expected"), ALIASES)
def test_verify_alias(src, dst, expected):
    assert verify_alias(src, dst) == expected


@pytest.mark.parametrize(
    ("filename", "target", "expected"),
    [
        (
            "/etc/x/a.waldo",
            "b.service",
            AliasError("EINVAL", '/etc/x/a.waldo: not a valid unit name "a.waldo": Invalid argument'),
        ),
        (
            "/etc/x/a.slice",
            "b.slice",
            AliasError("EINVAL", "/etc/x/a.slice: symlinks are not allowed for units of this type, rejecting."),
        ),
        (
            "/etc/x/a@.device",
            "b@.device",
            AliasError("EINVAL", "/etc/x/a@.device: templates not allowed for device units, rejecting."),
        ),
        (
            "/etc/x/a.service",
            "/usr/a.service",
            AliasError("ELOOP", "/etc/x/a.service: unit self-alias: a.service → a.service, ignoring."),
        ),
        (
            "/etc/x/a.service",
            "/opt/b.txt",
            AliasError(
                "EXDEV",
                '/etc/x/a.service points to "b.txt" which is not a valid unit name: Invalid cross-device link',
            ),
        ),
        (
            "/etc/x/a@.service",
            "b@i.service",
            AliasError(
                "EXDEV",
                '/etc/x/a@.service: symlink target name type "b@i.service" does not match source, rejecting.',
            ),
        ),
        (
            "/etc/x/a@i.service",
            "b@j.service",
            AliasError(
                "EXDEV",
                '/etc/x/a@i.service: unit symlink target "b@j.service" instance name doesn\'t match, rejecting.',
            ),
        ),
        (
            "/etc/x/a.service",
            "b.socket",
            AliasError("EXDEV", '/etc/x/a.service: symlink target "b.socket" has incompatible suffix, rejecting.'),
        ),
        ("/etc/x/a@i.service", "/usr/b@.service", None),
    ],
)
def test_alias_error_messages(filename, target, expected):
    assert alias_error(filename, target) == expected


# --- install aliases: §9.1 N ------------------------------------------------------------------------

# test-install-root.c: verify_alias, every call, as (unit, DefaultInstance=, Alias=, errno, rewritten).
INSTALL_ALIASES = [
    ("plain.service", None, "alias.service", None, None),
    ("plain.service", None, "alias.socket", "EXDEV", None),
    ("plain.service", None, "alias@.service", "EXDEV", None),
    ("plain.service", None, "alias@inst.service", "EXDEV", None),
    ("plain.service", None, "foo.target.wants/plain.service", None, None),
    ("plain.service", None, "foo.target.wants/plain.socket", "EXDEV", None),
    ("plain.service", None, "foo.target.wants/plain@.service", "EXDEV", None),
    ("plain.service", None, "foo.target.wants/service", "EXDEV", None),
    ("plain.service", None, "foo.target.requires/plain.service", None, None),
    ("plain.service", None, "foo.target.requires/plain.socket", "EXDEV", None),
    ("plain.service", None, "foo.target.requires/plain@.service", "EXDEV", None),
    ("plain.service", None, "foo.target.requires/service", "EXDEV", None),
    ("plain.service", None, "foo.target.conf/plain.service", "EXDEV", None),
    ("plain.service", None, "foo.service/plain.service", "EXDEV", None),
    ("plain.service", None, "asdf.requires/plain.service", "EXDEV", None),
    ("template1@.service", None, "alias.service", "EXDEV", None),
    ("template1@.service", None, "alias.socket", "EXDEV", None),
    ("template1@.service", None, "alias@.socket", "EXDEV", None),
    ("template1@.service", None, "alias@inst.socket", "EXDEV", None),
    ("template1@.service", None, "alias@.service", None, None),
    ("template1@.service", None, "alias@inst.service", None, None),
    ("template1@.service", None, "foo.target.wants/plain.service", "EXDEV", None),
    ("template1@.service", None, "foo.target.wants/plain.socket", "EXDEV", None),
    ("template1@.service", None, "foo.target.wants/plain@.service", "EXDEV", None),
    ("template1@.service", None, "foo.target.wants/plain@foo.service", "EXDEV", None),
    ("template1@.service", None, "foo.target.wants/template1@foo.service", None, None),
    ("template1@.service", None, "foo.target.wants/service", "EXDEV", None),
    ("template1@.service", None, "foo.target.requires/plain.service", "EXDEV", None),
    ("template1@.service", None, "foo.target.requires/plain.socket", "EXDEV", None),
    ("template1@.service", None, "foo.target.requires/plain@.service", "EXDEV", None),
    ("template1@.service", None, "foo.target.requires/template1@inst.service", None, None),
    ("template1@.service", None, "foo.target.requires/service", "EXDEV", None),
    ("template1@.service", None, "foo.target.conf/plain.service", "EXDEV", None),
    ("template1@.service", None, "FOO@.target.requires/plain@.service", "EXDEV", None),
    ("template1@.service", None, "FOO@inst.target.requires/plain@.service", "EXDEV", None),
    ("template1@.service", None, "FOO@inst.target.requires/plain@inst.service", "EXDEV", None),
    ("template1@.service", None, "FOO@.target.requires/template1@.service", None, None),
    ("template1@.service", None, "FOO@inst.target.requires/template1@.service", "EXDEV", None),
    ("template1@.service", None, "FOO@inst.target.requires/template1@inst.service", None, None),
    ("template2@.service", "di", "alias.service", "EXDEV", None),
    ("template2@.service", "di", "alias.socket", "EXDEV", None),
    ("template2@.service", "di", "alias@.socket", "EXDEV", None),
    ("template2@.service", "di", "alias@inst.socket", "EXDEV", None),
    ("template2@.service", "di", "alias@inst.service", None, None),
    ("template2@.service", "di", "alias@.service", None, None),
    ("template2@.service", "di", "alias@di.service", None, None),
    ("template2@.service", "di", "foo.target.wants/plain.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.wants/plain.socket", "EXDEV", None),
    ("template2@.service", "di", "foo.target.wants/plain@.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.wants/plain@di.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.wants/template2@di.service", None, None),
    ("template2@.service", "di", "foo.target.wants/service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/plain.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/plain.socket", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/plain@.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/plain@di.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/plain@foo.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/template2@.service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.requires/template2@di.service", None, None),
    ("template2@.service", "di", "foo.target.requires/service", "EXDEV", None),
    ("template2@.service", "di", "foo.target.conf/plain.service", "EXDEV", None),
    ("template3@inst.service", None, "alias.service", "EXDEV", None),
    ("template3@inst.service", None, "alias.socket", "EXDEV", None),
    ("template3@inst.service", None, "alias@.socket", "EXDEV", None),
    ("template3@inst.service", None, "alias@inst.socket", "EXDEV", None),
    ("template3@inst.service", None, "alias@inst.service", None, None),
    ("template3@inst.service", None, "alias@.service", None, "alias@inst.service"),
    ("template3@inst.service", None, "alias@di.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/plain.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/plain.socket", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/plain@.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/plain@di.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/plain@inst.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/template3@foo.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.wants/template3@inst.service", None, None),
    ("template3@inst.service", None, "bar.target.wants/service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/plain.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/plain.socket", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/plain@.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/plain@di.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/plain@inst.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/template3@foo.service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.requires/template3@inst.service", None, None),
    ("template3@inst.service", None, "bar.target.requires/service", "EXDEV", None),
    ("template3@inst.service", None, "bar.target.conf/plain.service", "EXDEV", None),
    ("template3@inst.service", None, "BAR@.target.requires/plain@.service", "EXDEV", None),
    ("template3@inst.service", None, "BAR@inst.target.requires/plain@.service", "EXDEV", None),
    ("template3@inst.service", None, "BAR@inst.target.requires/plain@inst.service", "EXDEV", None),
    ("template3@inst.service", None, "BAR@.target.requires/template3@.service", "EXDEV", None),
    ("template3@inst.service", None, "BAR@inst.target.requires/template3@.service", "EXDEV", None),
    ("template3@inst.service", None, "BAR@inst.target.requires/template3@inst.service", None, None),
    ("template3@inst.service", None, "BAR@inst.target.requires/template3@ins2.service", "EXDEV", None),
    ("template4@inst.service", "di", "alias.service", "EXDEV", None),
    ("template4@inst.service", "di", "alias.socket", "EXDEV", None),
    ("template4@inst.service", "di", "alias@.socket", "EXDEV", None),
    ("template4@inst.service", "di", "alias@inst.socket", "EXDEV", None),
    ("template4@inst.service", "di", "alias@inst.service", None, None),
    ("template4@inst.service", "di", "alias@.service", None, "alias@inst.service"),
    ("template4@inst.service", "di", "alias@di.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/plain.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/plain.socket", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/plain@.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/plain@di.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/template4@foo.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/template4@inst.service", None, None),
    ("template4@inst.service", "di", "goo.target.wants/template4@di.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.wants/service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/plain.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/plain.socket", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/plain@.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/plain@di.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/plain@inst.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/template4@foo.service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.requires/template4@inst.service", None, None),
    ("template4@inst.service", "di", "goo.target.requires/service", "EXDEV", None),
    ("template4@inst.service", "di", "goo.target.conf/plain.service", "EXDEV", None),
]


@pytest.mark.parametrize(("unit", "default_instance", "dst", "errno", "rewritten"), INSTALL_ALIASES)
def test_verify_install_alias(unit, default_instance, dst, errno, rewritten):
    assert verify_install_alias(dst, unit, default_instance) == (errno, rewritten)


def test_install_alias_table_is_complete():
    assert len(INSTALL_ALIASES) == 116
    rewritten = [row for row in INSTALL_ALIASES if row[4] is not None]
    assert [(row[0], row[2]) for row in rewritten] == [
        ("template3@inst.service", "alias@.service"),
        ("template4@inst.service", "alias@.service"),
    ]


@pytest.mark.parametrize(
    ("dst", "unit", "expected"),
    [
        ("plain.service", "plain.service", ("ELOOP", None)),  # self-alias, quietly ignored by enable
        ("alias@.service", "bad name", ("EUCLEAN", None)),
        ("alias.slice", "plain.slice", ("EXDEV", None)),  # EINVAL from the alias check becomes EXDEV
        ("a.mount", "b.mount", ("EXDEV", None)),
        ("foo.target.wants/", "plain.service", ("EDESTADDRREQ", None)),
        ("foo.target.wants/.", "plain.service", ("EDESTADDRREQ", None)),
        ("foo.target.wants/..", "plain.service", ("EINVAL", None)),
        ("/", "plain.service", ("EADDRNOTAVAIL", None)),
        ("/plain.service", "plain.service", ("EXDEV", None)),
        ("foo.target.wants//plain.service", "plain.service", (None, None)),
        ("./foo.target.wants/plain.service", "plain.service", (None, None)),
        ("x/foo.target.wants/plain.service", "plain.service", ("EXDEV", None)),
        (".wants/plain.service", "plain.service", ("EXDEV", None)),
        ("alias@.service", "t@" + "i" * 245 + ".service", ("EINVAL", None)),  # the rewritten name is too long
    ],
)
def test_verify_install_alias_edges(dst, unit, expected):
    assert verify_install_alias(dst, unit) == expected


# --- properties -------------------------------------------------------------------------------------

NAME_CHARS = "abcAB09:-_.\\@"
SUFFIXES = [f".{t.value}" for t in UnitType] + [".waldo", "", ".", ".Service"]

c_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=40)
TOKENS = [*"ab/.-\\x@ :_%*?[ü\n", "\\x2d", "\\x00", "\\xff", "/./", "/../", ".."]
tricky_text = st.lists(st.sampled_from(TOKENS), max_size=20).map("".join)
any_text = st.one_of(c_text, tricky_text)
name_like = st.builds(lambda body, suffix: body + suffix, st.text(st.sampled_from(NAME_CHARS), max_size=20),
                      st.sampled_from(SUFFIXES))  # fmt: skip
component = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\0/"), min_size=1, max_size=12
).filter(lambda c: c not in (".", ".."))
normalized_path = st.lists(component, max_size=6).map(lambda parts: "/" + "/".join(parts))


@given(any_text)
@example("")
@example(".a")
@example("a\\x")
def test_unescape_inverts_escape(s):
    assert unescape(escape(s)) == s


@given(any_text)
def test_escape_gives_only_name_characters(s):
    escaped = escape(s)
    assert set(escaped) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.\\-x")
    assert not escaped.startswith(".")


@given(normalized_path)
@example("/")
@example("/.a")
@example("/a-b/c")
def test_unescape_path_inverts_escape_path(path):
    if len(path.encode()) >= 4096 or any(len(c.encode()) > 255 for c in path.split("/")):
        return
    assert unescape_path(escape_path(path)) == path


@given(st.lists(st.sampled_from(["a", "b", ".", "", "x y"]), max_size=6), st.booleans())
def test_escape_path_ignores_duplicate_slashes_and_dots(parts, trailing):
    messy = "/" + "//".join(parts) + ("/" if trailing else "")
    clean = "/" + "/".join(p for p in parts if p not in ("", "."))
    assert escape_path(messy) == escape_path(clean)


@given(st.one_of(name_like, any_text))
def test_split_rebuilds_a_valid_name(name):
    if not is_valid(name):
        assert kind_of(name) is None and unit_type(name) is None
        return
    prefix, instance, suffix = split(name)
    assert prefix + ("" if instance is None else "@" + instance) + suffix == name
    assert kind_of(name) is (P if instance is None else T if instance == "" else INST)
    assert is_valid_prefix(prefix)
    assert unit_type(name) is UnitType(suffix[1:])


@given(st.one_of(name_like, any_text).filter(lambda s: s and "\0" not in s))
def test_mangle_gives_a_valid_name_or_raises(name):
    try:
        result, notice = mangle(name)
    except InvalidUnitName:
        return
    assert is_valid(result)
    if not name.startswith("/") and _needs_escaping(name):
        assert notice is not None
    if notice is None and not name.startswith("/"):
        assert result in (name, name + ".service")


def _needs_escaping(name: str) -> bool:
    return any(ch not in set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") for ch in name)


@given(st.text(st.sampled_from(NAME_CHARS), min_size=1, max_size=10), st.sampled_from(["a", "a@b", "x-y.z"]))
def test_with_instance_then_instance_of(prefix, instance):
    template = prefix + "@.service"
    if not is_valid(template, T):
        return
    instantiated = with_instance(template, instance)
    assert instance_of(instantiated) == instance
    assert template_of(instantiated) == template


@given(name_like)
def test_dropin_names_are_valid_and_start_with_the_name(name):
    if not is_valid(name):
        return
    found = dropin_names(name)
    assert found[0] == name
    assert all(is_valid(n) and unit_type(n) is unit_type(name) for n in found)
    assert len(set(found)) == len(found)


# --- differential: systemd-escape on this machine ---------------------------------------------------

SYSTEMD_ESCAPE = shutil.which("systemd-escape")
differential = pytest.mark.skipif(SYSTEMD_ESCAPE is None, reason="systemd-escape is not installed")
tool_settings = settings(max_examples=150, deadline=None)


def _systemd_escape(*args: str) -> tuple[Optional[str], str]:
    """Run systemd-escape; return (stdout without the newline, or None on failure; stderr)."""
    assert SYSTEMD_ESCAPE is not None
    done = subprocess.run([SYSTEMD_ESCAPE, *args], capture_output=True, check=False)
    err = done.stderr.decode("utf-8", "surrogateescape")
    if done.returncode != 0:
        return None, err
    out = done.stdout.decode("utf-8", "surrogateescape")
    assert out.endswith("\n")
    return out[:-1], err


def _ours(fn: Callable[[str], str], arg: str) -> tuple[Optional[str], Optional[str]]:
    try:
        return fn(arg), None
    except ValueError as e:
        return None, str(e)


@pytest.mark.differential
@differential
@tool_settings
@given(any_text)
def test_escape_matches_systemd_escape(s):
    assert escape(s) == _systemd_escape("--", s)[0]


@pytest.mark.differential
@differential
@tool_settings
@given(st.one_of(any_text, normalized_path, st.sampled_from(["/" + "x" * 256, "/a" * 2048, "/a" * 2047])))
@example("a/../b")
@example("")
def test_escape_path_matches_systemd_escape(p):
    out, err = _systemd_escape("--path", "--", p)
    ours, message = _ours(escape_path, p)
    assert ours == out
    if out is None:
        assert _as_logged(message) == err if len(message) < 2000 else err.startswith(message[:2000])


def _as_logged(message: str) -> str:
    """``message`` as systemd's log prints it: line by line, empty lines dropped.

    (It also cuts a message at LINE_MAX, 2048 bytes, which the caller allows for.)
    """
    return "".join(line + "\n" for line in message.split("\n") if line)


@pytest.mark.differential
@differential
@tool_settings
@given(any_text)
@example("a\\x00\\q")
def test_unescape_matches_systemd_escape(s):
    assert _ours(unescape, s)[0] == _systemd_escape("--unescape", "--", s)[0]


@pytest.mark.differential
@differential
@tool_settings
@given(st.one_of(any_text, normalized_path.map(escape_path)))
def test_unescape_path_matches_systemd_escape(s):
    assert _ours(unescape_path, s)[0] == _systemd_escape("--unescape", "--path", "--", s)[0]


@pytest.mark.differential
@differential
@tool_settings
@given(
    st.one_of(
        any_text,
        name_like,
        normalized_path,
        st.integers(240, 270).map(lambda n: "a" * n),
        st.integers(240, 300).map(lambda n: "/dev/" + "d" * 100 + "/" + "e" * (n - 106)),
    ).filter(lambda s: s != "")
)
def test_mangle_matches_systemd_escape(name):
    expected = _systemd_escape("--mangle", "--", name)[0]
    try:
        ours: Optional[str] = mangle(name)[0]
    except InvalidUnitName:
        ours = None
    assert ours == expected
