"""Run ``systemctl --root`` on a built root, and our engine on the same root, in comparable shapes.

Both sides answer the same two questions:

- ``list-unit-files``: the ordered list of ``(unit, state, preset)``; ``preset`` is ``-`` where
  systemctl leaves the column empty (``show_preset_for_state``) and ``n/a`` where it cannot read the
  preset files.
- ``is-enabled NAME``: the state, or ``("error", TEXT)`` where systemctl prints
  ``Failed to get unit file state for NAME: TEXT``.

systemctl runs with a clean environment (only PATH, LC_ALL, the variables a test passes, and
SYSTEMCTL_SKIP_SYSV=1 so Debian's SysV hook stays out of it), so nothing from the calling shell, such
as a stray ``SYSTEMD_UNIT_PATH``, leaks into the comparison.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Mapping, Optional, Sequence, Union

import pytest

from unitdoctor import install
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.preset import Presets
from unitdoctor.render.states import preset_shown

Answer = tuple[str, str]  # ("state", "enabled") or ("error", "Link has been severed")

_FAILED = re.compile(r"^Failed to get unit file state for (\S+): (.*)$", re.M)


def systemctl_path() -> Optional[str]:
    return shutil.which("systemctl", path=os.environ.get("PATH", "") + ":/usr/bin:/bin:/usr/sbin:/sbin")


def require_systemctl() -> str:
    """Return systemctl's path; skip the test without it, or fail under ``CI=true``."""
    path = systemctl_path()
    if path is not None:
        return path
    reason = "systemctl is not installed: differential tests need systemd 252's systemctl --root"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true requires them", pytrace=False)
    pytest.skip(reason)


def clean_env(extra: Mapping[str, str] = (), *, log_level: Optional[str] = "err") -> dict[str, str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "SYSTEMCTL_SKIP_SYSV": "1"}
    if log_level is not None:
        env["SYSTEMD_LOG_LEVEL"] = log_level
    env.update(dict(extra))
    return env


def run_systemctl(root: Union[str, os.PathLike], args: Sequence[str], *, scope: str = "system",
                  environ: Mapping[str, str] = (), log_level: Optional[str] = "err",
                  ) -> subprocess.CompletedProcess:
    cmd = [require_systemctl(), f"--root={os.fspath(root)}", "--no-pager"]
    if scope == "global":
        cmd.append("--global")
    cmd.extend(args)
    return subprocess.run(cmd, env=clean_env(environ, log_level=log_level), capture_output=True, text=True,
                          errors="surrogateescape", timeout=60, check=False)


def their_list(root: Union[str, os.PathLike], *, scope: str = "system",
               environ: Mapping[str, str] = ()) -> list[tuple[str, str, str]]:
    """``systemctl list-unit-files`` as (unit, state, preset); an empty list when nothing is listed.

    When the listing itself fails, the one row ``("<error>", TEXT, "-")`` holds the text of
    ``Failed to get unit file list: TEXT``.
    """
    proc = run_systemctl(root, ["list-unit-files", "--no-legend", "--full"], scope=scope, environ=environ)
    failed = re.search(r"^Failed to get unit file list: (.*)$", proc.stderr, re.M)
    if failed:
        return [("<error>", failed.group(1), "-")]
    rows = []
    for line in proc.stdout.splitlines():
        fields = line.split()
        if not fields:
            continue
        assert len(fields) == 3, f"unexpected list-unit-files line {line!r}"
        rows.append((fields[0], fields[1], fields[2]))
    # systemctl exits 1 when it lists nothing (and on errors, which then print to stderr).
    assert proc.returncode == 0 or (not rows and "Failed" not in proc.stderr), proc.stderr
    return rows


def their_states(root: Union[str, os.PathLike], unit_names: Sequence[str], *, scope: str = "system",
                 environ: Mapping[str, str] = ()) -> dict[str, Answer]:
    """``systemctl is-enabled`` for each name, as few processes as possible.

    is-enabled prints one state per name and stops at the first failure, so the names after a failed
    one are asked again in the next run.
    """
    out: dict[str, Answer] = {}
    todo = list(unit_names)
    while todo:
        proc = run_systemctl(root, ["is-enabled", *todo], scope=scope, environ=environ)
        states = proc.stdout.splitlines()
        for n, s in zip(todo, states):
            out[n] = ("state", s)
        todo = todo[len(states):]
        if not todo:
            break
        m = _FAILED.search(proc.stderr)
        assert m is not None and m.group(1) == todo[0], (todo[0], proc.returncode, proc.stderr)
        out[todo[0]] = ("error", m.group(2))
        todo = todo[1:]
    return out


def _preset_column(presets: Presets, r: install.StateResult) -> str:
    return presets.query(r.name) if preset_shown(r) else "-"


def our_list(root: Union[str, os.PathLike], *, scope: str = "system",
             environ: Mapping[str, str] = ()) -> list[tuple[str, str, str]]:
    cat = open_catalog(os.fspath(root), Scope(scope), dict(environ))
    failed = install.list_error(cat)
    if failed is not None:
        return [("<error>", failed.message, "-")]
    presets = Presets.load(cat.root, cat.lookup.scope)
    return [(r.name, r.state.value, _preset_column(presets, r)) for r in install.list_unit_files(cat)]


def our_states(root: Union[str, os.PathLike], unit_names: Sequence[str], *, scope: str = "system",
               environ: Mapping[str, str] = ()) -> dict[str, Answer]:
    cat = open_catalog(os.fspath(root), Scope(scope), dict(environ))
    out: dict[str, Answer] = {}
    for n in unit_names:
        r = install.lookup_state(cat, n)
        out[n] = ("error", r.error.message) if r.error is not None else ("state", r.state.value)
    return out


def cli_json(root: Union[str, os.PathLike], unit_names: Sequence[str] = (), *, scope: str = "system",
             environ: Mapping[str, str] = ()) -> Union[list[dict], str]:
    """``python -m unitdoctor --root DIR states [UNIT…] --json`` in a clean environment.

    When the listing fails (nothing on stdout), the text of ``Failed to get unit file list: TEXT``.
    """
    import json
    import sys

    src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
    cmd = [sys.executable, "-m", "unitdoctor", "--root", os.fspath(root)]
    if scope == "global":
        cmd.append("--global")
    cmd += ["states", *unit_names, "--json"]
    env = clean_env(environ, log_level=None)
    env["PYTHONPATH"] = src
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    failed = re.search(r"^Failed to get unit file list: (.*)$", proc.stderr, re.M)
    if failed and not proc.stdout:
        assert proc.returncode == 1
        return failed.group(1)
    return json.loads(proc.stdout)
