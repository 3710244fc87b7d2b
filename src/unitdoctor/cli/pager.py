"""The pager, as systemctl starts it (pager.c, systemd 252).

No pager with ``--no-pager``, for ``--json`` and ``-q``, or when stdout or stderr is not a terminal or
``$TERM`` is unset or ``dumb``. The command is ``$SYSTEMD_PAGER``, else ``$PAGER`` (split into words
by extract_first_word; an empty value or ``cat`` means no pager), else ``pager``, ``less``, ``more`` in turn.
It gets ``LESS=$SYSTEMD_LESS`` (default ``FRSXMK``: quit if one screen, raw colours, chop long lines,
no init, long prompt, Ctrl-C quits) and ``LESSCHARSET=$SYSTEMD_LESSCHARSET`` (default ``utf-8`` when
the locale is UTF-8). In secure mode (``$SYSTEMD_PAGERSECURE`` true, or unset and our effective user is
not the owner of the login session, e.g. under sudo) only ``less`` is used, with ``LESSSECURE=1``.
Our stdout (and stderr, when it is the same terminal) go into the pager; we wait for it at exit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Callable, Optional

from ..render import terminal

_TRUE = ("1", "yes", "y", "true", "t", "on")
_FALSE = ("0", "no", "n", "false", "f", "off")


def _session_owner() -> Optional[int]:
    """The uid that owns our login session, from the cgroup path (``user-UID.slice``), as sd_pid_get_owner_uid."""
    import re

    try:
        with open("/proc/self/cgroup", encoding="utf-8", errors="replace") as f:
            m = re.search(r"/user-(\d+)\.slice/", f.read())
    except OSError:
        return None
    return int(m.group(1)) if m else None


def secure_mode() -> bool:
    v = os.environ.get("SYSTEMD_PAGERSECURE", "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    owner = _session_owner()
    return owner is None or owner != os.geteuid()


def pager_command() -> Optional[list[str]]:
    """The pager's argv, or None for none (an explicit empty or ``cat``); [] for the built-in list."""
    pager = os.environ.get("SYSTEMD_PAGER")
    if pager is None:
        pager = os.environ.get("PAGER")
    if pager is None:
        return []
    if not pager.strip() or pager.strip() == "cat":
        return None
    from ..extract import words

    return words(pager, unquote=True, relax=True)[0]  # pager.c: strv_split_full(…, EXTRACT_UNQUOTE|EXTRACT_RELAX)


def pager_environment() -> dict[str, str]:
    import locale

    env = dict(os.environ)
    env["LESS"] = os.environ.get("SYSTEMD_LESS", "FRSXMK")
    charset = os.environ.get("SYSTEMD_LESSCHARSET")
    if charset is None and (locale.getpreferredencoding(False) or "").lower().replace("-", "") == "utf8":
        charset = "utf-8"
    if charset is not None:
        env["LESSCHARSET"] = charset
    return env


def wanted(args: argparse.Namespace) -> bool:
    return not (getattr(args, "no_pager", False) or getattr(args, "json", False) or getattr(args, "quiet", False))


def open_pager(args: argparse.Namespace) -> bool:
    """Start the pager for the rest of this command's output if it is wanted; True when one runs."""
    if not wanted(args) or terminal.terminal_is_dumb():
        return False
    cmd = pager_command()
    if cmd is None:
        return False
    import shutil
    import subprocess

    # decide colour and width for the terminal now, before stdout becomes a pipe
    terminal.stdout_is_tty()
    terminal.colours_enabled()
    terminal.columns()
    env = pager_environment()
    secure = secure_mode()
    if secure:
        env["LESSSECURE"] = "1"
    else:
        env.pop("LESSSECURE", None)
    candidates = [cmd] if cmd else []
    candidates += [[name] for name in ("pager", "less", "more")]
    for argv in candidates:
        exe = shutil.which(argv[0]) if argv else None
        # only less implements secure mode (LESSSECURE), so nothing else is run in it, as pager.c does
        if exe is None or (secure and os.path.basename(argv[0]) != "less"):
            continue
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
        except OSError:
            continue
        break
    else:
        return False
    assert proc.stdin is not None
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out = os.dup(1)
    os.dup2(proc.stdin.fileno(), 1)
    saved_err = None
    if os.isatty(2):
        saved_err = os.dup(2)
        os.dup2(proc.stdin.fileno(), 2)
    proc.stdin.close()

    def close() -> None:
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.close(saved_out)
        if saved_err is not None:
            os.dup2(saved_err, 2)
            os.close(saved_err)
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.wait()

    _open.append(close)
    return True


_open: list[Callable[[], None]] = []


def close_pager() -> None:
    """Hand the terminal back and wait for the pager (``main`` does it when the command is done)."""
    while _open:
        _open.pop()()
