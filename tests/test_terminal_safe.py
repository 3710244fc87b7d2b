"""Text output never carries a raw control character from a root (issue 13, "terminal injection").

Every C0 control, DEL and every C1 control is swept through a root's directory name (so every path), a unit
name on the command line and in the root, ``Description=``, an unknown directive's line, ``ExecStart=`` and a
package log line; ``why -v``, ``states`` and ``fix --dry-run`` print it escaped (systemd's ``cescape`` style).
JSON keeps the exact strings (its encoder escapes them). Usage errors are one line.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from unitdoctor import cli
from unitdoctor.render.escape import escape

CONTROLS = [chr(c) for c in list(range(1, 0x20)) + [0x7F] + list(range(0x80, 0xA0))]
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\udc80-\udcff]")


def _root(tmp_path, c: str):
    root = tmp_path / f"root{c}x" if c != "/" else tmp_path / "root"
    usr, etc = root / "usr/lib/systemd/system", root / "etc/systemd/system"
    for d in (usr, etc, root / "var/log"):
        d.mkdir(parents=True)
    (usr / "x.service").write_text(f"[Unit]\nDescription=d{c}d\nRequires=dep{c}.service\nFoo{c}=bar{c}\n"
                                   f"[Service]\nExecStart=/bin/true{c}\n\x00\n")
    (etc / "x.service").symlink_to("/dev/null")
    (etc / f"y{c}.service").symlink_to("/dev/null")
    (root / "var/log/dpkg.log").write_text(f"2024-01-01 10:00:00 status installed x{c}:amd64 1.0\n")
    return root


def _run(capsys, *argv: str) -> str:
    capsys.readouterr()
    cli.main(list(argv))
    out = capsys.readouterr()
    return out.out + out.err


def _assert_safe(text: str, what: str) -> None:
    for line in text.split("\n"):
        bad = UNSAFE.search(line)
        assert bad is None, f"{what}: raw {bad.group()!r} in {line!r}"


@pytest.mark.parametrize("c", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_from_a_root_is_escaped_in_text_output(tmp_path, capsys, c):
    root = str(_root(tmp_path, c))
    for argv in (("why", "-v", "x.service", f"dep{c}.service"), ("states",), ("fix", "--dry-run", "x.service"),
                 ("why", "--", f"z{c}.service")):
        text = _run(capsys, "--root", root, *argv)
        _assert_safe(text, " ".join(argv))
        if "-v" in argv or "--dry-run" in argv:
            assert escape(root) in text  # the paths are there, escaped


def test_json_keeps_the_exact_strings(tmp_path, capsys):
    root = _root(tmp_path, "\x1b")
    doc = json.loads(_run(capsys, "--root", str(root), "states", "--json"))
    assert doc[0]["path"] == f"{root}/etc/systemd/system/x.service"
    raw = _run(capsys, "--root", str(root), "why", "x.service", "--json")
    assert "\x1b" not in raw and "\\u001b" in raw


def test_bytes_that_are_not_utf8_are_shown_as_hex(tmp_path, capsys):
    root = os.fsencode(tmp_path) + b"/r\xff\x1b"
    os.makedirs(root + b"/etc/systemd/system")
    os.symlink("/dev/null", root + b"/etc/systemd/system/x.service")
    text = _run(capsys, "--root", os.fsdecode(root), "why", "x.service")
    _assert_safe(text, "why")
    assert "/r\\xff\\x1b/etc/systemd/system/x.service" in text


@pytest.mark.parametrize("argv", [
    ("--root", "R", "--", "x.service"),  # the default command after --: works
    ("--root", "/nonexistent\nsecond line", "why", "x.service"),
    ("--bogus", "x.service"),
    ("why",),
    ("fix", "--recover", "--no-such\x1b[2J"),
    (),  # no command at all: found by the campaign (argparse's usage took four lines)
    ("--root", "R", "-.mount", "x"),  # '-.mount' is a cluster of short options, -t taking 'x': no words left
    ("--root", "R", "--root"),
])
def test_usage_errors_and_bad_roots_are_one_line(tmp_path, capsys, argv):
    argv = tuple(str(tmp_path) if a == "R" else a for a in argv)
    capsys.readouterr()
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    if argv[2:3] == ("--",):
        assert rc == 1 and "x.service" in out.out  # not found, analysed: the command went before the --
        return
    assert rc == 2
    assert out.err.count("\n") == 1 and out.err.startswith(("unitdoctor", "usage: unitdoctor")), out.err
    _assert_safe(out.err, "error")
