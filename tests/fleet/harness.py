"""Real ansible-playbook runs of the built unitdoctor.systemd collection, for the tests. No pytest here.

``build_and_install(workdir)`` runs ``scripts/build-collection`` (the tarball a user gets) and installs the
tarball with ``ansible-galaxy collection install`` into ``workdir/collections``. ``run_playbook`` runs one
playbook against the single host ``target`` with the local connection and pipelining, and returns every
task's result by task name (callbacks/record.py) plus the run's output.

``interpreter`` is the target's Python. A target that lives in another namespace (a ``systemd --user``
manager's mount namespace, a booted container) is reached with a wrapper script as the interpreter, which
enters the namespace and runs that side's ``python3``: with pipelining the module arrives on stdin, so no file
has to be copied into the target (``wrapper``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
CALLBACKS = Path(__file__).resolve().parent / "callbacks"
TOOLS = ("ansible-playbook", "ansible-galaxy")


def _path() -> str:
    """PATH with this interpreter's scripts directory first: ansible-core's commands are installed beside it
    (scripts/test may run the suite with a venv's Python without activating the venv)."""
    return os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)])


def ansible_missing() -> Optional[str]:
    """Why real ansible runs cannot happen here (None: they can)."""
    for t in TOOLS:
        if shutil.which(t, path=_path()) is None:
            return f"{t} not found (pip install '.[ansible]')"
    return None


def build_and_install(workdir: Path) -> Path:
    """Build the collection from this checkout and install it; return the collections path."""
    dist = workdir / "dist"
    subprocess.run([str(REPO / "scripts" / "build-collection"), str(dist)], check=True, capture_output=True,
                   text=True, env=dict(os.environ, PATH=_path(), PYTHON=sys.executable))
    (tarball,) = dist.glob("unitdoctor-systemd-*.tar.gz")
    coll = workdir / "collections"
    subprocess.run(["ansible-galaxy", "collection", "install", "--force", "-p", str(coll), str(tarball)],
                   check=True, capture_output=True, text=True, env=_env(workdir, coll))
    return coll


def _env(workdir: Path, collections: Path, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({
        "PATH": _path(),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "record",
        "ANSIBLE_FORCE_COLOR": "false",
    })
    env.update(extra or {})
    return env


def run_playbook(collections: Path, workdir: Path, playbook: str, *, interpreter: str,
                 extra_vars: Optional[Mapping[str, object]] = None, args: Sequence[str] = (),
                 env: Optional[Mapping[str, str]] = None, timeout: float = 600) -> tuple[dict, str]:
    """Run ``playbook`` (YAML text) against ``target``; return (results by task name, output)."""
    workdir.mkdir(parents=True, exist_ok=True)
    book = workdir / "playbook.yml"
    book.write_text(playbook)
    record = workdir / "record.json"
    record.unlink(missing_ok=True)
    vars_file = workdir / "vars.json"
    vars_file.write_text(json.dumps(dict(extra_vars or {})))
    cmd = ["ansible-playbook", "-i", "target,", "-c", "local", "-e", f"ansible_python_interpreter={interpreter}",
           "-e", f"@{vars_file}", *args, str(book)]
    cp = subprocess.run(cmd, cwd=workdir, env=_env(workdir, collections, {"UD_RECORD": str(record), **(env or {})}),
                        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    output = cp.stdout + cp.stderr
    if not record.exists():
        raise AssertionError(f"ansible-playbook wrote no record (rc {cp.returncode}):\n{output}")
    return json.loads(record.read_text()), output


def wrapper(path: Path, enter: Sequence[str], environ: Mapping[str, str], python: str = "python3") -> str:
    """Write an interpreter script that runs ``python`` inside a namespace (``enter``: the nsenter command)."""
    env = " ".join(shlex.quote(f"{k}={v}") for k, v in environ.items())
    path.write_text(f"#!/bin/sh\nexec {' '.join(map(shlex.quote, enter))} env -i {env} {shlex.quote(python)} \"$@\"\n")
    path.chmod(0o755)
    return str(path)


def host_python() -> str:
    """This interpreter (the test's): the target Python for runs on the host."""
    return sys.executable
