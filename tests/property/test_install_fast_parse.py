"""The install logic's shortcut parser answers exactly as the full conf-parser, or not at all.

``install.install_assignments_fast`` must give the [Install] assignments ``unitfile.parse`` gives (same
keys, values, line numbers) for every file it accepts, and accept only files on which the full parser
reports nothing (no diagnostic, no error). Fact sheet §6.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.property.strategies import unit_contents

from unitdoctor.install import _INSTALL_SECTIONS, install_assignments_fast
from unitdoctor.unitfile import parse

GOOD = st.sampled_from([
    "[Install]", "[Unit]", "[Service]", "[X-Foo]", "WantedBy=a.target", "  WantedBy = b.target c.target  ",
    "Alias=", "# comment", "; comment", "", "Key=va=lue", "A=\t1\t", "RequiredBy=x.target",
    "Description=see [Install]", "X=[Install] ", "#[Install]", " \t[Install]\t",
])
ODD = st.sampled_from([
    "[Install]", "[Unit]", "[Service]", "[X-Foo]", "[Foo]", "[Install", "[]", "  [Install]  ", "[Inst\"all]",
    "WantedBy=a.target", "  WantedBy = b.target c.target  ", "Alias=", "=nokey", "nokey", "# comment",
    "; comment", "", "   ", "\t", "Key=va=lue", "Description=x \\", "\\", "ExecStart=/bin/echo a\\;",
    "\x0cWantedBy=x", "\x0bjunk", "W\x01=1", "\ufeffWantedBy=x", "WantedBy=\xe9", "A=\t1\t",
])


@st.composite
def texts(draw: st.DrawFn) -> bytes:
    lines = ["[Install]"] + draw(st.lists(st.one_of(GOOD, GOOD, GOOD, GOOD, GOOD, GOOD, ODD), max_size=12))
    if draw(st.booleans()):
        lines = lines[1:]
    ending = draw(st.sampled_from(["\n", "\n", "\n", "\n", "\r\n", "\r"]))
    text = ending.join(lines) + draw(st.sampled_from(["", ending]))
    return text.encode("utf-8")


def _check(data: bytes) -> None:
    fast = install_assignments_fast(data, "/u/x.service")
    if fast is None:
        return
    full = parse(data, "/u/x.service", sections=_INSTALL_SECTIONS)
    assert full.error is None and not full.diagnostics, (data, full.diagnostics)
    assert fast == tuple(a for a in full.assignments if a.section == "Install"), data


@settings(max_examples=400, deadline=None)
@given(texts())
def test_shortcut_agrees_with_the_full_parser_on_line_soup(data: bytes) -> None:
    _check(data)


@settings(max_examples=200, deadline=None)
@given(unit_contents())
def test_shortcut_agrees_with_the_full_parser_on_generated_units(data: bytes) -> None:
    _check(data)


def test_shortcut_takes_the_common_case() -> None:
    data = b"[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n"
    got = install_assignments_fast(data, "/u/x.service")
    assert got is not None and [(a.key, a.value, a.origin.line) for a in got] == [
        ("WantedBy", "multi-user.target", 8)]
