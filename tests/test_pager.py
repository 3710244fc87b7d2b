"""The pager and the terminal, through a real pty: systemctl's pager rules (pager.c) and text wrapped at the
terminal's width with a hanging indent. The "pager" is a small shell script that records its environment and
what it was given."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from tests import fixroots as fr

REPO = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SYSTEMD_", "LESS")) and k not in ("PAGER", "NO_COLOR", "COLUMNS")}
    env.update(PYTHONPATH=str(REPO / "src"), TERM="xterm", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               SYSTEMD_PAGERSECURE="0", COLUMNS="60")
    env.update(extra)
    return env


def _pager(tmp_path: Path) -> str:
    script = tmp_path / "pager.sh"
    script.write_text(f"#!/bin/sh\nenv > {tmp_path}/pager.env\necho \"$@\" > {tmp_path}/pager.args\n"
                      f"cat > {tmp_path}/pager.out\n")
    script.chmod(0o755)
    return f"{script} --flag"


def run_in_pty(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout and stderr on a pty; (status, what the terminal got)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 200, 60, 0, 0))  # 200 rows: less -F quits at once
    p = subprocess.Popen([sys.executable, "-m", "unitdoctor", *argv], stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            p.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the pty
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return p.wait(timeout=60), b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def root(tmp_path) -> str:
    return str(fr.build(tmp_path, "persistent"))


def test_on_a_terminal_output_goes_through_the_pager_with_systemds_less_settings(tmp_path, root):
    rc, term = run_in_pty(["--root", root, "why", "x.service"], _env(tmp_path, SYSTEMD_PAGER=_pager(tmp_path)))
    assert rc == 1  # the verdict's status, pager or not
    out = re.sub(r"\x1b\[[0-9;]*m", "", (tmp_path / "pager.out").read_text())  # colour stays on: less -R shows it
    assert "x.service cannot start" in out and "x.service cannot start" not in term
    env = dict(line.split("=", 1) for line in (tmp_path / "pager.env").read_text().splitlines() if "=" in line)
    assert env["LESS"] == "FRSXMK" and env["LESSCHARSET"] == "utf-8" and "LESSSECURE" not in env
    assert (tmp_path / "pager.args").read_text().strip() == "--flag"  # the command is split into words
    # wrapped at the terminal's width (COLUMNS=60) with a hanging indent, because the terminal is what it pages to
    lines = out.splitlines()
    assert max(len(line) for line in lines if "/" not in line) <= 60
    i = next(i for i, line in enumerate(lines) if line.startswith("  [error] masked: "))
    assert lines[i + 1].startswith(" " * len("  [error] masked: ")) and lines[i + 1].strip()
    # a fix's command stays on one line (it is copied from there); a label keeps the path that follows it
    assert f"      fix: systemctl --root={root} unmask x.service" in lines
    assert f"  fragment: {root}/etc/systemd/system/x.service" in lines


def test_pager_variables_pager_less_and_charset(tmp_path, root):
    env = _env(tmp_path, PAGER=_pager(tmp_path), SYSTEMD_LESS="XR", SYSTEMD_LESSCHARSET="latin1")
    run_in_pty(["--root", root, "states"], env)
    got = (tmp_path / "pager.env").read_text()
    assert "LESS=XR\n" in got and "LESSCHARSET=latin1\n" in got
    assert "x.service" in (tmp_path / "pager.out").read_text()


def test_secure_mode_sets_lesssecure_and_uses_only_less(tmp_path, root):
    """SYSTEMD_PAGERSECURE=1: the configured pager is not trusted; less (here a recording stand-in) gets
    LESSSECURE=1."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "less").write_text(f"#!/bin/sh\nenv > {tmp_path}/less.env\ncat > {tmp_path}/less.out\n")
    (bindir / "less").chmod(0o755)
    env = _env(tmp_path, SYSTEMD_PAGER=_pager(tmp_path), SYSTEMD_PAGERSECURE="1",
               PATH=f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    rc, _term = run_in_pty(["--root", root, "why", "x.service"], env)
    assert rc == 1
    assert not (tmp_path / "pager.out").exists()
    assert "x.service cannot start" in (tmp_path / "less.out").read_text()
    assert "LESSSECURE=1\n" in (tmp_path / "less.env").read_text()


@pytest.mark.parametrize("how", ["--no-pager", "SYSTEMD_PAGER=cat", "SYSTEMD_PAGER=", "--json", "-q", "TERM=dumb"])
def test_no_pager(tmp_path, root, how):
    env = _env(tmp_path, SYSTEMD_PAGER=_pager(tmp_path))
    argv = ["--root", root, "why", "x.service"]
    if how.startswith("-"):
        argv.append(how)
    else:
        k, v = how.split("=", 1)
        env[k] = v
    rc, term = run_in_pty(argv, env)
    assert rc == 1 and not (tmp_path / "pager.out").exists()
    if how not in ("-q",):
        assert "x.service" in term


def test_never_when_piped(tmp_path, root):
    env = _env(tmp_path, SYSTEMD_PAGER=_pager(tmp_path))
    p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", root, "why", "x.service"], env=env,
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 1 and not (tmp_path / "pager.out").exists()
    long_line = next(line for line in p.stdout.splitlines() if line.startswith("  [error] masked: "))
    assert len(long_line) > 60  # into a pipe nothing is wrapped


def test_states_colour_on_a_terminal_and_not_with_no_color(tmp_path, root):
    rc, term = run_in_pty(["--root", root, "states", "--no-pager"], _env(tmp_path))
    assert rc == 0 and "\x1b[0;4mUNIT FILE" in term
    rc, term = run_in_pty(["--root", root, "states", "--no-pager"], _env(tmp_path, NO_COLOR="1"))
    assert rc == 0 and "\x1b[" not in term and "UNIT FILE" in term


def _hangs(out: str, starts: tuple[str, ...]) -> None:
    lines = out.splitlines()
    assert lines and max(len(line) for line in lines if "/" not in line) <= 60, out
    long = [i for i, line in enumerate(lines) if line.startswith(starts)]
    assert long and lines[long[0] + 1].startswith("   "), out  # the continuation hangs under its line


def test_scan_is_paged_and_wrapped_like_why(tmp_path, root):
    rc, term = run_in_pty(["--root", root, "scan"], _env(tmp_path, SYSTEMD_PAGER=_pager(tmp_path)))
    assert rc == 1 and "x.service" not in term
    _hangs(re.sub(r"\x1b\[[0-9;]*m", "", (tmp_path / "pager.out").read_text()), ("  [warning] masked: ",))


def test_fix_is_wrapped_but_not_paged(tmp_path, root):
    """fix (and undo) may ask a question on the terminal: like systemctl's verbs that act, they do not page."""
    rc, term = run_in_pty(["--root", root, "fix", "--dry-run", "x.service"],
                          _env(tmp_path, SYSTEMD_PAGER=_pager(tmp_path)))
    assert rc == 0 and not (tmp_path / "pager.out").exists()
    _hangs(re.sub(r"\x1b\[[0-9;]*m", "", term), ("  1. ",))
