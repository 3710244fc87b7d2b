"""The human report: colour on a terminal, plain text through a pipe or with NO_COLOR (no-color.org)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "roots" / "admin-mask")
ESC = b"\x1b["


def _run(*, tty: bool, env_extra: dict[str, str]) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(PYTHONPATH=str(ROOT / "src"), **env_extra)
    cmd = [sys.executable, "-m", "unitdoctor", "--root", EXAMPLE, "why", "nginx.service"]
    if not tty:
        return subprocess.run(cmd, capture_output=True, env=env, timeout=60).stdout
    leader, follower = pty.openpty()
    try:
        p = subprocess.Popen(cmd, stdout=follower, stderr=subprocess.DEVNULL, env=env)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=60)
        return out
    finally:
        os.close(leader)


def test_terminal_gets_colour() -> None:
    pytest.importorskip("rich", reason="rich (the 'pretty' extra) draws colour")
    out = _run(tty=True, env_extra={})
    assert ESC in out
    assert b"nginx.service cannot start: Unit nginx.service is masked." in out


def test_no_color_on_a_terminal_gives_plain_text() -> None:
    out = _run(tty=True, env_extra={"NO_COLOR": "1"})
    assert ESC not in out
    assert b"nginx.service cannot start" in out


def test_pipe_gives_plain_text() -> None:
    out = _run(tty=False, env_extra={})
    assert ESC not in out
    assert out.splitlines()[0] == "✗ nginx.service cannot start: Unit nginx.service is masked.".encode()


def test_wrap_keeps_indent_labels_and_commands() -> None:
    from unitdoctor.render.text import wrap

    long = "/very/long/" + "x" * 80 + ".service"
    assert wrap(f"  fragment: {long}", 40) == [f"  fragment: {long}"]
    cmd = "systemctl --root=/some/where/rather/long unmask some-unit.service"
    assert wrap(f"      fix: {cmd}", 40) == [f"      fix: {cmd}"]
    got = wrap(f"      fix: {cmd}  # a comment that is long enough to be wrapped at forty", 40)
    assert got[0] == f"      fix: {cmd}" and got[1].startswith(" " * 11 + "# a comment")
    assert all(g.startswith(" " * 11) for g in got[1:])
    got = wrap("  [error] masked: " + "word " * 20, 40)
    assert got[0].startswith("  [error] masked: word") and all(g.startswith(" " * 18 + "word") for g in got[1:])
    assert all(len(g) <= 40 for g in got)
    got = wrap("  1. [medium] remove the mask " + "/a/path " * 8, 40)
    assert got[0].startswith("  1. [medium] remove") and all(g.startswith(" " * 14 + "/a/path") for g in got[1:])
    edit = "      fix: edit /etc/x.service:3: delete the line that says something long"
    assert len(wrap(edit, 40)) > 1  # an edit is prose: it wraps
