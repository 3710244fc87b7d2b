"""Tests for unitdoctor.unitfile: conf-parser syntax (fact sheet §6) and drop-in merging (§2.4, §5.5).

Expected messages and line numbers were checked against ``systemd-analyze verify --man=no`` of
systemd 252; ``test_matches_systemd_analyze_*`` repeat that check on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitdoctor.origin import Origin
from unitdoctor.unitfile import (
    LONG_LINE_MAX,
    Assignment,
    Diagnostic,
    DropIn,
    ParsedFile,
    merge_dropins,
    parse,
)

SERVICE_SECTIONS = ("Unit", "Service", "Install")
PATH = "/etc/systemd/system/t.service"
OUTSIDE = "Assignment outside of section. Ignoring."
NO_EQUALS = "Missing '=', ignoring line."
NO_KEY = "Missing key name before '=', ignoring line."


def unit(data: bytes, sections=SERVICE_SECTIONS) -> ParsedFile:
    return parse(data, PATH, sections=sections)


def diags(result: ParsedFile) -> list[tuple[int | None, str]]:
    return [(d.origin.line, d.message) for d in result.diagnostics]


def values(result: ParsedFile) -> list[tuple[str, str, str, int | None]]:
    return [(a.section, a.key, a.value, a.origin.line) for a in result.assignments]


# --- comments, keys and values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"[Unit]\nDescription=a # b\n", [("Unit", "Description", "a # b", 2)], id="hash"),
        pytest.param(b"[Unit]\nDescription=a ; b\n", [("Unit", "Description", "a ; b", 2)], id="semicolon"),
        pytest.param(b"[Unit]\nDescription=#x\n", [("Unit", "Description", "#x", 2)], id="value-starts-hash"),
    ],
)
def test_trailing_hash_is_part_of_value(data, expected):
    result = unit(data)
    assert values(result) == expected
    assert diags(result) == []


@pytest.mark.parametrize(
    "line",
    [b"# c", b"; c", b"   # indented", b"\t; tab", b"#", b";", b"# Key=v", b"; [Broken", b"# \xff not utf-8"],
)
def test_comment_when_first_non_blank_is_hash_or_semicolon(line):
    result = unit(b"[Unit]\n" + line + b"\nA=1\n")
    assert values(result) == [("Unit", "A", "1", 3)]
    assert (diags(result), result.error) == ([], None)


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        (b"A=b", "A", "b"),
        (b"  A  =  b  ", "A", "b"),
        (b"\tA\t=\tb\t", "A", "b"),
        (b"A==b", "A", "=b"),
        (b"A = b = c", "A", "b = c"),
        (b"Foo Bar=1", "Foo Bar", "1"),
        (b"A=", "A", ""),
        (b"A=   ", "A", ""),
        (b"A=\x0cb\x0b", "A", "\x0cb\x0b"),
        (b"A=\xc2\xa0b\xc2\xa0", "A", "\xa0b\xa0"),
        (b"A=b\\\\", "A", "b\\\\"),
        (b"A=b\\ ", "A", "b\\"),
        (b"A=\"quoted\" 'x'", "A", "\"quoted\" 'x'"),
        (b"A=\xe2\x80\xa8b\xc2\x85c", "A", "\u2028b\x85c"),
        (b"A=\xef\xbb\xbfb", "A", "\ufeffb"),
    ],
)
def test_key_ends_at_first_equals_and_both_sides_are_trimmed(line, key, value):
    result = unit(b"[Unit]\n" + line + b"\n")
    assert (values(result), diags(result)) == ([("Unit", key, value, 2)], [])


def test_empty_value_is_kept_as_assignment():
    result = unit(b"[Service]\nExecStart=/bin/a\nExecStart=\nExecStart=/bin/b\n")
    assert [a.value for a in result.get("Service", "ExecStart")] == ["/bin/a", "", "/bin/b"]


def test_keys_and_sections_are_case_sensitive():
    result = unit(b"[Unit]\nDescription=a\ndescription=b\n[unit]\nDescription=c\n")
    assert values(result) == [("Unit", "Description", "a", 2), ("Unit", "description", "b", 3)]
    assert diags(result) == [(4, "Unknown section 'unit'. Ignoring.")]
    assert result.get("Unit", "description")[0].value == "b"
    assert result.get("unit", "Description") == ()


# --- continuation lines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"[Unit]\nA=one \\\n   two\\\n# c\n; c\n   three\n",
            [("Unit", "A", "one     two    three", 6)],
            id="fact-sheet-example",
        ),
        pytest.param(b"[Unit]\nA=1\\\n2\\\n3\n", [("Unit", "A", "1 2 3", 4)], id="last-line-numbers-it"),
        pytest.param(b"[Unit]\nA=1\\\\\n2\n", [("Unit", "A", "1\\\\", 2)], id="even"),
        pytest.param(b"[Unit]\nA=1\\\\\\\n\\\\2\n", [("Unit", "A", "1\\\\ \\\\2", 3)], id="odd-three"),
        pytest.param(
            b"[Unit]\nA=1\\\n\nB=2\n", [("Unit", "A", "1", 3), ("Unit", "B", "2", 4)], id="empty-ends"
        ),
        pytest.param(
            b"[Unit]\nA=1\\\n   \nB=2\n", [("Unit", "A", "1", 3), ("Unit", "B", "2", 4)], id="blank-ends"
        ),
        pytest.param(b"[Unit]\nA=1\\\n#x\\\n2\n", [("Unit", "A", "1 2", 4)], id="comment-backslash-skipped"),
        pytest.param(b"[Unit]\n#x\\\nA=1\n", [("Unit", "A", "1", 3)], id="comment-never-continues"),
        pytest.param(b"[Unit]\nA=1\\\n", [("Unit", "A", "1", 3)], id="open-at-eof-is-next-line"),
        pytest.param(b"[Unit]\nA=1\\", [("Unit", "A", "1", 3)], id="open-at-eof-no-newline"),
        pytest.param(b"[Unit]\nA=1\\\n# c\n", [("Unit", "A", "1", 4)], id="open-at-eof-after-comment"),
        pytest.param(b"[Unit]\nA=1\\\n2\\\n", [("Unit", "A", "1 2", 4)], id="trailing-backslash-at-eof"),
        pytest.param(b"[Unit]\n  \\\nA=1\n", [("Unit", "A", "1", 3)], id="backslash-only-line"),
        pytest.param(b"[Unit]\nA\\\n=1\n", [("Unit", "A", "1", 3)], id="key-split"),
        pytest.param(b"[Un\\\nit]\nA=1\n", [], id="header-split-is-unknown"),
        pytest.param(b"[Unit]\nA=x\\\n  y  \n", [("Unit", "A", "x   y", 3)], id="leading-blanks-verbatim"),
        pytest.param(
            b"[Unit]\nA=x \\ \nB=y\n", [("Unit", "A", "x \\", 2), ("Unit", "B", "y", 3)], id="blank-after"
        ),
    ],
)
def test_continuation_joins_lines_with_systemd_rules(data, expected):
    assert values(unit(data)) == expected


def test_continued_header_is_checked_as_one_line():
    assert diags(unit(b"[Un\\\nit]\nA=1\n")) == [(2, "Unknown section 'Un it'. Ignoring.")]


def test_continued_bad_line_is_reported_at_its_last_line():
    result = unit(b"[Unit]\nfoo \\\n# c\nbar\n")
    assert diags(result) == [(4, NO_EQUALS)]


def test_continued_bad_line_open_at_eof_is_reported_one_past_the_end():
    result = unit(b"[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nfoo \\\n# c\n")
    assert diags(result) == [(7, NO_EQUALS)]


# --- line ends -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"[Unit]\r\nA=1\r\nB=2", [("A", 2), ("B", 3)], id="crlf"),
        pytest.param(b"[Unit]\rA=1\rB=2\r", [("A", 2), ("B", 3)], id="cr"),
        pytest.param(b"[Unit]\n\rA=1\n\rB=2", [("A", 2), ("B", 3)], id="lfcr"),
        pytest.param(b"[Unit]\r\rA=1", [("A", 3)], id="cr-cr-is-two"),
        pytest.param(b"[Unit]\n\nA=1", [("A", 3)], id="lf-lf-is-two"),
        pytest.param(b"[Unit]\r\n\rA=1", [("A", 3)], id="crlf-cr-is-two"),
        pytest.param(b"[Unit]\n\r\nA=1", [("A", 3)], id="lfcr-lf-is-two"),
        pytest.param(b"[Unit]\0A=1\0B=2", [("A", 2), ("B", 3)], id="nul"),
        pytest.param(b"[Unit]\r\n\0A=1", [("A", 2)], id="crlf-nul-is-one"),
        pytest.param(b"[Unit]\0\nA=1", [("A", 3)], id="nul-lf-is-two"),
        pytest.param(b"[Unit]\nA=1\0B=2\n", [("A", 2), ("B", 3)], id="nul-splits-line"),
    ],
)
def test_line_ends_follow_read_line(data, expected):
    assert [(a.key, a.origin.line) for a in unit(data).assignments] == expected


def test_nul_in_a_line_starts_a_new_line():
    result = unit(b"[Unit]\nFoo\0Bar=1\n")
    assert diags(result) == [(2, NO_EQUALS)]
    assert values(result) == [("Unit", "Bar", "1", 3)]


# --- byte order mark -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected_values", "expected_diags"),
    [
        pytest.param(b"\xef\xbb\xbf[Unit]\nA=1\n", [("Unit", "A", "1", 2)], [], id="at-start"),
        pytest.param(
            b"\xef\xbb\xbf# c\n[Unit]\n",
            [],
            [(1, OUTSIDE)],
            id="bom-hides-comment",
        ),
        pytest.param(b"[Unit]\n\xef\xbb\xbf# c\n", [], [(2, NO_EQUALS)], id="first-bom-on-later-line"),
        pytest.param(
            b"\xef\xbb\xbf[Unit]\n\xef\xbb\xbfA=1\n",
            [("Unit", "\ufeffA", "1", 2)],
            [],
            id="only-the-first-bom-is-dropped",
        ),
        pytest.param(
            b"[Unit]\n\xef\xbb\xbfA=1\n\xef\xbb\xbfB=2\n",
            [("Unit", "A", "1", 2), ("Unit", "\ufeffB", "2", 3)],
            [],
            id="first-bom-dropped-even-on-line-2",
        ),
        pytest.param(b" \xef\xbb\xbf[Unit]\n", [], [(1, OUTSIDE)], id="not-first"),
    ],
)
def test_bom_is_dropped_once_after_the_comment_test(data, expected_values, expected_diags):
    result = unit(data)
    assert (values(result), diags(result), result.error) == (expected_values, expected_diags, None)


# --- diagnostics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected", "error"),
    [
        pytest.param(b"A=1\n[Unit]\n", [(1, "warning", OUTSIDE)], None, id="outside"),
        pytest.param(b"garbage\n", [(1, "warning", OUTSIDE)], None, id="outside2"),
        pytest.param(b"=x\n", [(1, "warning", OUTSIDE)], None, id="outside3"),
        pytest.param(b"[Unit]\ngarbage\n", [(2, "warning", NO_EQUALS)], None, id="missing-eq"),
        pytest.param(b"[Unit]\n  = v\n", [(2, "warning", NO_KEY)], None, id="no-key"),
        pytest.param(b"[Unit]\n=\n", [(2, "warning", NO_KEY)], None, id="eq"),
        pytest.param(
            b"[Foo]\nA=1\nx\n", [(1, "warning", "Unknown section 'Foo'. Ignoring.")], None, id="unknown"
        ),
        pytest.param(b"[]\nA=1\n", [(1, "warning", "Unknown section ''. Ignoring.")], None, id="empty-name"),
        pytest.param(
            b"[ Unit ]\n", [(1, "warning", "Unknown section ' Unit '. Ignoring.")], None, id="blanks"
        ),
        pytest.param(b"[X-Foo]\nA=1\nx\n", [], None, id="x-section-silent"),
        pytest.param(
            b"[Unit]\n[Service\nA=1\n",
            [(2, "error", "Invalid section header '[Service'")],
            "EBADMSG",
            id="no-]",
        ),
        pytest.param(b"[\n", [(1, "error", "Invalid section header '['")], "EBADMSG", id="lone-bracket"),
        pytest.param(b"[A=b\n", [(1, "error", "Invalid section header '[A=b'")], "EBADMSG", id="bracket-key"),
        pytest.param(
            b"[Unit] # c\n",
            [(1, "error", "Invalid section header '[Unit] # c'")],
            "EBADMSG",
            id="header-comment",
        ),
        pytest.param(
            b'[Fo"o]\n', [(1, "error", "Bad characters in section header '[Fo\"o]'")], "EBADMSG", id="quote"
        ),
        pytest.param(
            b"[Fo'o]\n", [(1, "error", "Bad characters in section header '[Fo'o]'")], "EBADMSG", id="apos"
        ),
        pytest.param(
            b"[Fo\\o]\n",
            [(1, "error", "Bad characters in section header '[Fo\\o]'")],
            "EBADMSG",
            id="backslash",
        ),
        pytest.param(
            b"[Fo\to]\n", [(1, "error", "Bad characters in section header '[Fo\to]'")], "EBADMSG", id="tab"
        ),
        pytest.param(
            b"[Fo\x7fo]\n",
            [(1, "error", "Bad characters in section header '[Fo\x7fo]'")],
            "EBADMSG",
            id="del",
        ),
        pytest.param(
            b"[F]o]\n", [(1, "warning", "Unknown section 'F]o'. Ignoring.")], None, id="inner-bracket"
        ),
        pytest.param(
            b"[F\xc3\xa9]\n", [(1, "warning", "Unknown section 'F\xe9'. Ignoring.")], None, id="non-ascii"
        ),
        pytest.param(
            b"[Unit]\nA=\xff\n",
            [(2, "warning", "String is not UTF-8 clean, ignoring assignment: A=\ufffd")],
            "EINVAL",
            id="utf8",
        ),
        pytest.param(
            b"[Foo]\nA=\xff\n",
            [
                (1, "warning", "Unknown section 'Foo'. Ignoring."),
                (2, "warning", "String is not UTF-8 clean, ignoring assignment: A=\ufffd"),
            ],
            "EINVAL",
            id="utf8-in-ignored-section",
        ),
        pytest.param(
            b"\xff\n",
            [(1, "warning", "String is not UTF-8 clean, ignoring assignment: \ufffd")],
            "EINVAL",
            id="utf8-before-section",
        ),
        pytest.param(
            b"[\xff]\n",
            [(1, "warning", "String is not UTF-8 clean, ignoring assignment: [\ufffd]")],
            "EINVAL",
            id="utf8-in-header",
        ),
    ],
)
def test_diagnostic_message_line_and_error(data, expected, error):
    result = unit(data)
    assert [(d.origin.line, d.severity, d.message) for d in result.diagnostics] == expected
    assert result.error == error


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        pytest.param(b"A=a\xe2\x82b\xf0\x9f", "A=a\ufffd\ufffdb\ufffd\ufffd", id="truncated"),
        pytest.param(b"A=\xef\xbf\xbe", "A=\ufffd\ufffd\ufffd", id="U+FFFE"),
        pytest.param(b"A=\xef\xbf\xbf", "A=\ufffd\ufffd\ufffd", id="U+FFFF"),
        pytest.param(b"A=\xef\xb7\x90", "A=\ufffd\ufffd\ufffd", id="U+FDD0"),
        pytest.param(b"A=\xf4\x8f\xbf\xbf", "A=\ufffd\ufffd\ufffd\ufffd", id="U+10FFFF"),
        pytest.param(b"A=\xf0\x9f\xbf\xbe", "A=\ufffd\ufffd\ufffd\ufffd", id="U+1FFFE"),
        pytest.param(b"A=\xc0\x80", "A=\ufffd\ufffd", id="overlong"),
        pytest.param(b"A=\xed\xa0\x80", "A=\ufffd\ufffd\ufffd", id="surrogate"),
        pytest.param(b"A=\xf8\x88\x80\x80\x80", "A=\ufffd\ufffd\ufffd\ufffd\ufffd", id="five-bytes"),
        pytest.param(b"A=\x80\xc3\xa9", "A=\ufffd\xe9", id="stray-continuation"),
        pytest.param(b"A=\xf4\x90\x80\x80", "A=\ufffd\ufffd\ufffd\ufffd", id="above-10FFFF"),
    ],
)
def test_invalid_utf8_fails_with_one_replacement_per_bad_byte(data, shown):
    result = unit(b"[Unit]\n" + data + b"\n")
    assert diags(result) == [(2, f"String is not UTF-8 clean, ignoring assignment: {shown}")]
    assert result.error == "EINVAL"


@pytest.mark.parametrize(
    "data", [b"A=\xef\xbb\xbf", b"A=\xf0\x90\x80\x80", b"A=\xef\xb7\x8f\xef\xb7\xb0", b"A=\xf4\x8f\xbf\xbd"]
)
def test_valid_utf8_edge_characters_are_accepted(data):
    result = unit(b"[Unit]\n" + data + b"\n")
    assert (result.error, diags(result), len(result.assignments)) == (None, [], 1)


def test_fatal_error_stops_the_parse_and_keeps_earlier_assignments():
    result = unit(b"[Unit]\nA=1\nbad\n[Service\nB=2\nworse\n")
    assert values(result) == [("Unit", "A", "1", 2)]
    assert diags(result) == [(3, NO_EQUALS), (4, "Invalid section header '[Service'")]
    assert result.error == "EBADMSG"


# --- sections ------------------------------------------------------------------------------------


def test_unknown_section_keys_and_bad_lines_are_skipped_silently():
    result = unit(b"[Foo]\nA=1\ngarbage\n=x\n[Unit]\nB=2\n")
    assert values(result) == [("Unit", "B", "2", 6)]
    assert diags(result) == [(1, "Unknown section 'Foo'. Ignoring.")]


def test_dash_listed_section_is_ignored_silently():
    """test-conf-parser.c: config_parse, file 17 ("-NoWarnSection")."""
    result = parse(
        b"[Section]\nA=1\n[NoWarnSection]\nA=2\n[WarnSection]\nA=3\n[X-S]\nA=4\n",
        "f",
        sections=("Section", "-NoWarnSection"),
    )
    assert values(result) == [("Section", "A", "1", 2)]
    assert diags(result) == [(5, "Unknown section 'WarnSection'. Ignoring.")]


def test_without_sections_every_header_is_accepted():
    result = parse(b"A=0\n[Foo]\nB=1\n[X-Bar]\nC=2\n[]\nD=3\n", "f")
    assert values(result) == [
        ("", "A", "0", 1),
        ("Foo", "B", "1", 3),
        ("X-Bar", "C", "2", 5),
        ("", "D", "3", 7),
    ]
    assert diags(result) == []
    assert result.sections == ("Foo", "X-Bar", "")


def test_without_sections_header_checks_still_apply():
    result = parse(b"[Foo]\ngarbage\n[Bar\n", "f")
    assert diags(result) == [(2, NO_EQUALS), (3, "Invalid section header '[Bar'")]
    assert result.error == "EBADMSG"


def test_sections_given_as_a_string_is_a_programming_error():
    with pytest.raises(TypeError):
        parse(b"", "f", sections="Unit")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b".include /etc/foo.conf\n[Unit]\n", [(1, OUTSIDE)], id="top"),
        pytest.param(b"[Unit]\n.include /etc/foo.conf\n", [(2, NO_EQUALS)], id="in-section"),
    ],
)
def test_include_is_an_ordinary_bad_line(data, expected):
    assert diags(unit(data)) == expected


def test_get_and_has_section():
    result = unit(b"[Unit]\nA=1\n[Install]\n[Service]\nA=2\n[Unit]\nA=3\n[Foo]\nA=4\n")
    assert [a.value for a in result.get("Unit", "A")] == ["1", "3"]
    assert result.get("Service", "A") == (Assignment("Service", "A", "2", Origin(PATH, 5)),)
    assert result.has_section("Install")
    assert not result.has_section("Foo")
    assert not result.has_section("unit")
    assert result.sections == ("Unit", "Install", "Service")


# --- line length ---------------------------------------------------------------------------------


def _line_of(length: int, key: bytes = b"Description=") -> bytes:
    return key + b"a" * (length - len(key))


@pytest.mark.parametrize(
    ("data", "expected", "error"),
    [
        pytest.param(b"[Unit]\n" + _line_of(LONG_LINE_MAX - 1) + b"\n", [], None, id="longest-line"),
        pytest.param(
            b"[Unit]\n" + _line_of(LONG_LINE_MAX) + b"\nbad\n",
            [(2, "error", "Line too long")],
            "ENOBUFS",
            id="limit-reached",
        ),
        pytest.param(
            b"[Unit]\n" + _line_of(LONG_LINE_MAX, b"# ") + b"\n",
            [(2, "error", "Line too long")],
            "ENOBUFS",
            id="long-comment",
        ),
        pytest.param(
            b"[Unit]\n" + _line_of(LONG_LINE_MAX), [(2, "error", "Line too long")], "ENOBUFS", id="at-eof"
        ),
        pytest.param(
            b"[Unit]\n" + _line_of(LONG_LINE_MAX - 1)[:-1] + b"\\\n" + b"b\n",
            [],
            None,
            id="continuation-exactly-at-limit",
        ),
        pytest.param(
            b"[Unit]\n" + _line_of(LONG_LINE_MAX - 1)[:-1] + b"\\\n# c\n" + b"bb\n",
            [(4, "error", "Continuation line too long")],
            "ENOBUFS",
            id="continuation-over-limit",
        ),
    ],
)
def test_line_length_limit(data, expected, error):
    result = unit(data)
    assert [(d.origin.line, d.severity, d.message) for d in result.diagnostics] == expected
    assert result.error == error


# --- ported systemd cases ------------------------------------------------------------------------

_X1000_ABCD = b"ABCD" * 1000
_OVER_LIMIT = b"x" * 1000 * 1000 + b"abcde" * 10 * 1000


@pytest.mark.parametrize(
    ("data", "value", "error"),
    [
        (b"[Section]\nsetting1=1\n", "1", None),
        (b"[Section]\nsetting1=1", "1", None),
        (b"\n\n\n\n[Section]\n\n\nsetting1=1", "1", None),
        (b"[Section]\n[Section]\nsetting1=1\nsetting1=    2 \t\nsetting1=    1\n", "1", None),
        (b"[Section]\n[Section]\nsetting1=1\nsetting1=2\\\n   \nsetting1=1\n", "1", None),
        (b"[Section]\nsetting1=1\\\n2\\\n3\n", "1 2 3", None),
        (b"[Section]\n#hogehoge\\\nsetting1=1\\\n2\\\n3\n", "1 2 3", None),
        (b"[Section]\nsetting1=1\\\n#hogehoge\\\n2\\\n3\n", "1 2 3", None),
        (b"[Section]\n   #hogehoge\\\n   setting1=1\\\n2\\\n3\n", "1 2 3", None),
        (b"[Section]\n   setting1=1\\\n   #hogehoge\\\n2\\\n3\n", "1 2 3", None),
        (b"[Section]\nsetting1=1\\\n2\\\n3\\\n", "1 2 3", None),
        (b"[Section]\nsetting1=1\\\\\\\n\\\\2\n", "1\\\\ \\\\2", None),
        (b"\n[Section]\n\nsetting1=" + _X1000_ABCD + b"\n", _X1000_ABCD.decode(), None),
        (b"[Section]\nsetting1=" + _X1000_ABCD + b"\\\nfoobar", _X1000_ABCD.decode() + " foobar", None),
        (b"[Section]\nsetting1=" + _X1000_ABCD + b"\\\nfoobar\\\n", _X1000_ABCD.decode() + " foobar", None),
        (b"[Section]\nsetting1=" + _OVER_LIMIT + b"\n", None, "ENOBUFS"),
        (b"[Section]\nsetting1=" + (b"x" * 1000 + b"abcde" * 10 + b"\\\n") * 1000 + b"xxx", None, "ENOBUFS"),
        (
            b"[Section]\nsetting1=2\n[NoWarnSection]\nsetting1=3\n[WarnSection]\nsetting1=3\n[X-Section]\nsetting1=3\n",
            "2",
            None,
        ),
    ],
    ids=[f"file{i}" for i in range(18)],
)
def test_config_parse_cases_from_systemd(data, value, error):
    """test-conf-parser.c: config_parse (systemd 252): the last ``setting1`` wins."""
    result = parse(data, "/tmp/test-conf-parser", sections=("Section", "-NoWarnSection"))
    found = result.get("Section", "setting1")
    assert (found[-1].value if found else None, result.error) == (value, error)


# --- records -------------------------------------------------------------------------------------


def test_diagnostic_str_is_path_line_message():
    result = parse(
        b"[Unit]\nbad\n", "/etc/systemd/system/a.service", layer="config", sections=SERVICE_SECTIONS
    )
    assert result.diagnostics == (
        Diagnostic("warning", NO_EQUALS, Origin("/etc/systemd/system/a.service", 2, "config")),
    )
    assert str(result.diagnostics[0]) == "/etc/systemd/system/a.service:2: Missing '=', ignoring line."


def test_assignment_origin_carries_path_line_and_layer():
    result = parse(
        b"[Unit]\nA=1\n", "/run/systemd/system/a.service", layer="runtime", sections=SERVICE_SECTIONS
    )
    assert result.assignments == (
        Assignment("Unit", "A", "1", Origin("/run/systemd/system/a.service", 2, "runtime")),
    )
    assert result.path == "/run/systemd/system/a.service"


def test_empty_file_parses_to_nothing():
    assert parse(b"", "f", sections=SERVICE_SECTIONS) == ParsedFile("f", (), (), None, ())


# --- drop-ins ------------------------------------------------------------------------------------


def _d(name: str, where: str, masked: bool = False) -> DropIn:
    return DropIn(name, f"{where}/a.service.d/{name}", masked, where.rsplit("/", 1)[-1])


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        pytest.param([], [], id="none"),
        pytest.param(
            [_d("10-a.conf", "/etc"), _d("10-a.conf", "/usr/lib")], [_d("10-a.conf", "/etc")], id="first-wins"
        ),
        pytest.param(
            [_d("10-a.conf", "/etc", masked=True), _d("10-a.conf", "/usr/lib")],
            [_d("10-a.conf", "/etc", masked=True)],
            id="mask-wins-and-is-kept",
        ),
        pytest.param(
            [_d("b.conf", "/etc"), _d("a.conf", "/usr/lib"), _d("10.conf", "/run")],
            [_d("10.conf", "/run"), _d("a.conf", "/usr/lib"), _d("b.conf", "/etc")],
            id="sorted-by-basename",
        ),
        pytest.param(
            [_d("a.conf", "/etc"), _d("Z.conf", "/etc"), _d("\xe9.conf", "/etc"), _d("z.conf", "/etc")],
            [_d("Z.conf", "/etc"), _d("a.conf", "/etc"), _d("z.conf", "/etc"), _d("\xe9.conf", "/etc")],
            id="strcmp-order",
        ),
        pytest.param(
            [
                _d("a.txt", "/etc"),
                _d("a.conf~", "/etc"),
                _d("a.conf.bak", "/etc"),
                _d(".a.conf", "/etc"),
                _d(".conf", "/etc"),
                _d("a.CONF", "/etc"),
                _d("a.conf", "/usr/lib"),
            ],
            [_d("a.conf", "/usr/lib")],
            id="only-visible-conf-files",
        ),
    ],
)
def test_merge_dropins_keeps_first_of_each_basename_sorted(candidates, expected):
    assert merge_dropins(iter(candidates)) == tuple(expected)


# --- properties ----------------------------------------------------------------------------------

_TEXT_CHARS = st.one_of(
    st.characters(blacklist_categories=("Cs", "Cn", "Cc"), blacklist_characters="\ufeff"),
    st.sampled_from("\t\x0b\x0c\x85\u2028 =#;[]\\"),
)
_SECTION_CHARS = st.one_of(
    st.characters(blacklist_categories=("Cs", "Cn", "Cc"), blacklist_characters="\ufeff\"'\\"),
    st.sampled_from("\x85 []#=;"),
)


def _is_key(text: str) -> bool:
    head = text.lstrip(" \t")
    return bool(text.strip(" \t")) and "=" not in text and head[:1] not in ("#", ";", "[")


_KEYS = st.text(_TEXT_CHARS, min_size=1, max_size=12).filter(_is_key)
_VALUES = st.text(_TEXT_CHARS, max_size=20).map(lambda v: v.strip(" \t").rstrip(" \t\\"))
_SECTIONS = st.text(_SECTION_CHARS, max_size=10)
_PADDING = st.sampled_from(["", " ", "\t", "  \t "])


@st.composite
def documents(draw):
    """A unit file with its expected assignments (section, key, value, line)."""
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines: list[str] = []
    expected: list[tuple[str, str, str, int]] = []
    for section in draw(st.lists(_SECTIONS, max_size=4)):
        lines.append(draw(_PADDING) + f"[{section}]" + draw(_PADDING))
        for key, value in draw(st.lists(st.tuples(_KEYS, _VALUES), max_size=5)):
            if draw(st.booleans()):
                lines.append(draw(st.sampled_from(["# c", "; c =", "  # x\\", ""])))
            left = draw(_PADDING) + key + draw(_PADDING) + "=" + draw(_PADDING)
            cut = draw(st.integers(0, len(value)))
            head, tail = value[:cut], value[cut:]
            continues = (len(head) - len(head.rstrip("\\"))) % 2 == 0
            if draw(st.booleans()) and continues and tail.lstrip(" \t")[:1] not in ("#", ";"):
                lines += [left + head + "\\", tail]
                value = (head + " " + tail).strip(" \t")
            else:
                lines.append(left + value + draw(_PADDING))
            expected.append((section, key.strip(" \t"), value, len(lines)))
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + eol.join(lines) + eol).encode(), expected


@given(documents())
def test_valid_documents_round_trip(document):
    data, expected = document
    result = parse(data, "f")
    assert (values(result), result.diagnostics, result.error) == (expected, (), None)


_NOISE = st.lists(
    st.sampled_from(
        [
            b"[Unit]",
            b"[Foo]",
            b"[Bar",
            b"A=1",
            b"=",
            b"x",
            b"\\",
            b"#",
            b"\xff",
            b"\xef\xbb\xbf",
            b"\r",
            b"\n",
            b"\0",
            b" ",
            b"\t",
            b'["]',
            b"\xc3\xa9",
        ]
    ),
    max_size=30,
).map(b"".join)


@given(st.one_of(st.binary(max_size=200), _NOISE))
def test_any_bytes_parse_to_well_formed_result(data):
    result = unit(data)
    last_line = data.count(b"\n") + data.count(b"\r") + data.count(b"\0") + 2
    for item in (*result.assignments, *result.diagnostics):
        assert item.origin.line is not None and 1 <= item.origin.line <= last_line
    assert result.error in (None, "EBADMSG", "EINVAL")
    if result.error is not None:
        assert result.diagnostics, "a fatal error always comes with its message"


# --- differential: systemd-analyze verify --------------------------------------------------------

_ANALYZE = shutil.which("systemd-analyze")
_SYNTAX_KINDS = (
    "Assignment outside of section.",
    "Missing '='",
    "Missing key name",
    "Invalid section header",
    "Bad characters in section header",
    "Unknown section",
    "String is not UTF-8 clean",
)
_LOG_LINE = re.compile(r"^.*?:(\d+): (.*)$")

needs_analyze = pytest.mark.skipif(_ANALYZE is None, reason="systemd-analyze is not installed")


def systemd_syntax_messages(path: Path) -> list[tuple[int, str]]:
    """Run ``systemd-analyze verify`` on ``path``; return its syntax messages as (line, text)."""
    env = {**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_LOG_LOCATION": "0", "SYSTEMD_LOG_TIME": "0"}
    run = subprocess.run(
        [_ANALYZE, "verify", "--man=no", str(path)], capture_output=True, env=env, timeout=60, check=False
    )
    found = []
    for text in run.stderr.decode("utf-8", "replace").splitlines():
        match = _LOG_LINE.match(text)
        if match and match.group(2).startswith(_SYNTAX_KINDS):
            found.append((int(match.group(1)), match.group(2)))
    return found


def ours(path: Path) -> list[tuple[int | None, str]]:
    return diags(parse(path.read_bytes(), str(path), sections=SERVICE_SECTIONS))


@needs_analyze
@pytest.mark.differential
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"[Unit]\nfoo \\\n# c\nbar\n", id="continued"),
        pytest.param(b"[Service]\nExecStart=/bin/true\n[Unit]\nfoo \\\n# c\n", id="open-at-eof"),
        pytest.param(b"[Service]\nExecStart=/bin/true\n[Unit]\nfoo \\", id="open-at-eof-no-newline"),
        pytest.param(b"\xef\xbb\xbf# c\n[Unit]\n", id="bom-comment"),
        pytest.param(b"[Unit]\n\xef\xbb\xbf# c\n", id="later-bom"),
        pytest.param(b"[Unit]\r\nFoo\r\n\r\rBar\n", id="cr"),
        pytest.param(b"[Unit]\nFoo\0Bar\n", id="nul"),
        pytest.param(b"[Unit]\nfoo\n\rbar\n\r\nbaz\0\nqux\r\0x\n", id="line-end-runs"),
        pytest.param(b"[Unit]\nfoo \\ \nbar\nbaz \\\\\nqux\n", id="backslash-not-last-or-even"),
        pytest.param(b"[Unit]\n[Fo\\\no]\nx\n", id="continued-header"),
        pytest.param(b"[Unit]\n[]\nA\n[X-Foo]\nB\n[unit]\nC\n", id="sections"),
        pytest.param(b"[Unit]\nA=a\xe2\x82b\xef\xbf\xbe\n", id="utf8"),
        pytest.param(b'[Unit]\n[Fo"o]\n', id="bad-chars"),
        pytest.param(b"[Unit]\n[Foo] # x\n", id="header-comment"),
        pytest.param(b".include /x\n[Unit]\n.include /y\n =v\n", id="include"),
    ],
)
def test_matches_systemd_analyze_on_fixed_files(tmp_path, data):
    path = tmp_path / "t.service"
    path.write_bytes(data if b"ExecStart=" in data else data + b"\n[Service]\nExecStart=/bin/true\n")
    assert ours(path) == systemd_syntax_messages(path)


_CHUNKS = st.sampled_from(
    [
        b"# comment",
        b"; comment",
        b"   # indented \\",
        b"",
        b"   ",
        b"Description=a # b",
        b"X-Foo=bar",
        b"FooBar=baz",
        b"garbage",
        b"  garbage with spaces  ",
        b"=value",
        b"  = value",
        b".include /etc/a.conf",
        b"[Foo]",
        b"[X-Extra]",
        b"[unit]",
        b"[Unit ]",
        b"[Unit]",
        b"Description=a \\",
        b"garbage \\",
        b"\\",
        b"Description=even \\\\",
        b"Description=odd \\\\\\",
        b"[Fo \\",
        b"o]",
        b"\xef\xbb\xbf# bom",
        b"\t;x",
    ]
)
_RARE = st.sampled_from([b"[Service", b"[Fo'o]", b"Description=\xff", b"[Foo] ; no"])
_EOLS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def messy_units(draw):
    def block():
        chunks = draw(st.lists(_CHUNKS, max_size=10))
        if draw(st.integers(0, 7)) == 0:  # a fatal or rare line now and then; fatal ones end the parse
            chunks.insert(draw(st.integers(0, len(chunks))), draw(_RARE))
        return b"".join(chunk + draw(_EOLS) for chunk in chunks)

    prefix = block() + b"\n" if draw(st.booleans()) else b""
    return prefix + b"[Unit]\n" + block() + b"\n[Service]\nExecStart=/bin/true\n" + block()


@needs_analyze
@pytest.mark.differential
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messy_units())
def test_matches_systemd_analyze_on_generated_units(tmp_path, data):
    path = tmp_path / "t.service"
    path.write_bytes(data)
    assert ours(path) == systemd_syntax_messages(path)


# -- the plain-text fast path gives the same result as the byte-wise walk ---------------------------

_PIECES = st.sampled_from([
    "[Unit]", "[Service]", "[X-Foo]", "[Bad", "[A\"B]", "[ Unit ]", "Requires=", "After=a.service", "Key", "=v",
    " ", "\t", "#", ";", "\\", "\n", "\n\n", "é", "\ufdd0", "\ufeff", "\r", "\0", "x", "=", "  Key = value  ",
])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join), st.sampled_from([None, ("Unit", "Service"), ("Unit", "-Service")]))
def test_plain_text_path_matches_the_bytewise_walk(text, sections):
    """``parse`` takes ``_walk_plain`` for plain text; the general walk must give the identical result."""
    from unitdoctor import unitfile

    data = text.encode("utf-8", "surrogatepass")
    fast = unitfile.parse(data, "/x.service", sections=sections)
    slow_parser = unitfile._Parser("/x.service", None, None if sections is None else frozenset(sections))
    slow_error = slow_parser._walk(data)
    assert (fast.assignments, fast.diagnostics, fast.error, fast.sections) == (
        tuple(slow_parser.assignments), tuple(slow_parser.diagnostics), slow_error, tuple(slow_parser.seen_sections))
