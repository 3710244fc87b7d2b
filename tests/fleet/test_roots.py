"""unitdoctor.systemd against offline roots (``root:``), in one real ansible-playbook run of the built collection.

Each root is one scenario from tests/fixroots.py. Afterwards the trees are checked file by file and with
``systemctl --root is-enabled`` (the oracle), and the journal the module wrote is undone with the CLI: the
module and ``unitdoctor fix`` share plan, journal and undo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.fixroots import (
    ETC,
    RUN,
    USR,
    base,
    both,
    cmdline,
    dependency,
    link,
    persistent,
    runtime,
    snapshot,
    socket,
    vendor,
    write,
)
from tests.fixroots import diff as tree_diff
from tests.test_provenance import _removed_root

from .harness import REPO, host_python, run_playbook

PLAYBOOK = """
- hosts: target
  gather_facts: false
  tasks:
    - name: info runtime
      unitdoctor.systemd.unit_info: {name: x, root: "{{ roots.runtime }}"}
    - name: unit runtime
      unitdoctor.systemd.unit: {name: x, root: "{{ roots.runtime }}"}
    - name: unit both
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.both }}"}
    - name: unit both again
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.both }}"}
    - name: unit dependency
      unitdoctor.systemd.unit: {name: web.service, root: "{{ roots.dependency }}"}
    - name: unit socket
      unitdoctor.systemd.unit: {name: foo.service, root: "{{ roots.socket }}", enabled: true}
    - name: unit socket again
      unitdoctor.systemd.unit: {name: foo.service, root: "{{ roots.socket }}", enabled: true}
    - name: unit enable
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.enable }}", enabled: true}
    - name: unit enable again
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.enable }}", enabled: true}
    - name: unit vendor
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.vendor }}"}
      ignore_errors: true
    - name: unit cmdline
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.cmdline }}"}
      ignore_errors: true
    - name: unit removed package
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.removed }}"}
      ignore_errors: true
    - name: unit runtime only
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.persistent }}", runtime_only: true}
      ignore_errors: true
    - name: unit hidden
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.hidden }}"}
    - name: unit check
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.check }}", enabled: true}
      check_mode: true
      diff: true
    - name: info check
      unitdoctor.systemd.unit_info: {name: x.service, root: "{{ roots.check }}"}
      check_mode: true
    - name: unit diff
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.diff }}"}
      diff: true
    - name: info without name
      unitdoctor.systemd.unit_info: {root: "{{ roots.vendor }}"}
    - name: unit bad name
      unitdoctor.systemd.unit: {name: "", root: "{{ roots.runtime }}"}
      ignore_errors: true
    - name: unit started offline
      unitdoctor.systemd.unit: {name: x.service, root: "{{ roots.hidden }}", started: true}
      ignore_errors: true
"""


def hidden(r: Path) -> None:
    """A vendor mask hidden by the admin's real unit file in /etc: the unit is fine, nothing to remove."""
    link(r, f"{USR}/x.service", "/dev/null")
    write(r, f"{ETC}/x.service", "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n")


def removed(r: Path) -> None:
    """x.service masked by deb-systemd-helper when its package was removed (not purged): no unit file left."""
    _removed_root(r)


BUILDERS = {"removed": removed, "persistent": persistent,
            "runtime": runtime, "both": both, "dependency": dependency, "socket": socket, "enable": persistent,
            "vendor": vendor, "cmdline": cmdline, "hidden": hidden, "check": both, "diff": both}


def is_enabled(root: Path, *units: str) -> list[str]:
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl not found")
    cp = subprocess.run(["systemctl", f"--root={root}", "is-enabled", *units], capture_output=True, text=True,
                        env=dict(os.environ, SYSTEMCTL_SKIP_SYSV="1"))
    return cp.stdout.split()


def test_roots(collections: Path, tmp_path: Path) -> None:
    roots = {}
    for name, build in BUILDERS.items():
        roots[name] = base(tmp_path / "roots" / name)
        build(roots[name])
    check_before = snapshot(roots["check"], skip=None)
    res, out = run_playbook(collections, tmp_path / "run", PLAYBOOK, interpreter=host_python(),
                            extra_vars={"roots": {k: str(v) for k, v in roots.items()}}, args=["--diff"])
    # facts: why --json for the unit
    info = res["info runtime"]
    assert info["_status"] == "ok" and info["changed"] is False and info["ok"] is False, out
    (doc,) = info["units"]
    assert doc["unit_file_state"] == "masked-runtime" and doc["start"]["reason"] == "masked"

    # masked-runtime: removed, the unit file in /usr/lib takes effect; the oracle agrees
    r = res["unit runtime"]
    assert r["_status"] == "ok" and r["changed"] is True, out
    assert r["before"]["unit_file_state"] == "masked-runtime" and r["after"]["can_start"] is True
    assert r["cause"]["reason"] == "masked" and r["cause"]["blocker"] == "x.service"
    assert [a["action"] for a in r["plan"]["actions"]] == ["remove-mask"] and r["journal_id"]
    assert not (roots["runtime"] / RUN / "x.service").is_symlink()
    assert is_enabled(roots["runtime"], "x.service") == ["disabled"]

    # masked in /etc and /run: both removed in one task; the second run changes nothing
    r, again = res["unit both"], res["unit both again"]
    assert r["changed"] is True and len([a for a in r["plan"]["actions"] if a["action"] == "remove-mask"]) == 2
    assert again["_status"] == "ok" and again["changed"] is False and again["journal_id"] is None, out
    assert is_enabled(roots["both"], "x.service") == ["disabled"]

    # a masked dependency two levels down (web → app → db, and db's own file needs cache): every mask goes
    r = res["unit dependency"]
    assert r["changed"] is True and r["before"]["blocker"] == "db.service", out
    assert [c["to"] for c in r["cause"]["chain"]] == ["app.service", "db.service"]
    assert sorted(a["unit"] for a in r["plan"]["actions"] if a["action"] == "remove-mask") == \
        ["cache.service", "db.service"]
    assert is_enabled(roots["dependency"], "db.service", "cache.service") == ["static", "static"]

    # socket activation: the service's mask goes and the socket is enabled, not the service
    r, again = res["unit socket"], res["unit socket again"]
    assert r["changed"] is True, out
    enables = [a for a in r["plan"]["actions"] if a["action"] == "enable"]
    assert [a["unit"] for a in enables] == ["foo.socket"]
    assert is_enabled(roots["socket"], "foo.socket", "foo.service") == ["enabled", "static"]
    assert again["changed"] is False

    # mask + enable in one task, idempotent
    r, again = res["unit enable"], res["unit enable again"]
    assert r["changed"] is True and [a["action"] for a in r["plan"]["actions"]] == ["remove-mask", "enable"], out
    assert is_enabled(roots["enable"], "x.service") == ["enabled"]
    assert again["changed"] is False

    # vendor mask and kernel command line: never removed; the task fails with the cause and the advice
    r = res["unit vendor"]
    assert r["_status"] == "failed" and r["changed"] is False and r["journal_id"] is None, out
    assert r["cause"]["origin"] == "vendor" and r["cause"]["reason"] == "masked"
    assert any("/etc/systemd/system/x.service" in a for a in r["advice"]), r["advice"]
    assert (roots["vendor"] / USR / "x.service").is_symlink()
    r = res["unit cmdline"]
    assert r["_status"] == "failed" and r["changed"] is False, out
    assert r["cause"]["origin"] == "kernel-command-line"
    assert any("systemd.mask=x.service" in a and "etc/kernel/cmdline" in a for a in r["advice"]), r["advice"]

    # a package problem: the mask deb-systemd-helper left when the package was removed hides no unit file;
    # removing it would not make the unit startable, so nothing is changed and the cause names the package
    r = res["unit removed package"]
    assert r["_status"] == "failed" and r["changed"] is False and r["journal_id"] is None, out
    assert r["cause"]["origin"] == "package-removed" and "dsh-marker" in [e["kind"] for e in r["cause"]["evidence"]]
    assert r["after"]["reason"] == "not-found" and (roots["removed"] / ETC / "x.service").is_symlink()
    # runtime_only never touches a persistent mask: the advice says so
    r = res["unit runtime only"]
    assert r["_status"] == "failed" and r["changed"] is False, out
    assert any("--runtime-only" in a for a in r["advice"]), r["advice"]
    assert (roots["persistent"] / ETC / "x.service").is_symlink()

    # a mask below a real file in /etc has no effect: the unit can start, nothing is touched
    r = res["unit hidden"]
    assert r["_status"] == "ok" and r["changed"] is False and r["cause"] is None, out
    assert r["before"]["can_start"] is True and (roots["hidden"] / USR / "x.service").is_symlink()

    # check mode: says what it would do (changed, diff) and the whole tree is unchanged, no journal either
    r = res["unit check"]
    assert r["_status"] == "ok" and r["changed"] is True and r["journal_id"] is None, out
    assert r["after"]["can_start"] is True and r["before"]["can_start"] is False
    assert tree_diff(check_before, snapshot(roots["check"], skip=None)) == []
    assert res["info check"]["_status"] == "ok"
    paths = [d["before_header"] for d in r["diff"]]
    assert paths == [f"{roots['check']}/{ETC}/x.service", f"{roots['check']}/{RUN}/x.service",
                     f"{roots['check']}/{ETC}/multi-user.target.wants",
                     f"{roots['check']}/{ETC}/multi-user.target.wants/x.service"]
    assert r["diff"][0]["before"] == "symlink to ../../../dev/null\n" and r["diff"][0]["after"] == "(absent)\n"
    assert r["diff"][3]["after"] == f"symlink to /{USR}/x.service\n"
    # diff mode in a real run shows the same paths, in ansible's own diff output too
    r = res["unit diff"]
    assert [d["before_header"] for d in r["diff"]] == [f"{roots['diff']}/{ETC}/x.service",
                                                       f"{roots['diff']}/{RUN}/x.service"]
    assert f"--- before: {roots['diff']}/{ETC}/x.service" in out

    # scan (no name): every mask of the root, by layer
    # errors are one clear line
    scan = res["info without name"]
    assert scan["_status"] == "ok" and scan["changed"] is False and scan["scan"]["schema_version"], out
    assert [(m["unit"], m["layer"], m["state"]) for m in scan["scan"]["masks"]] == [("x.service", "vendor", "masked")]
    assert res["unit bad name"]["_status"] == "failed" and "Traceback" not in res["unit bad name"]["msg"]
    assert "needs a running manager" in res["unit started offline"]["msg"]

    # the module's journal is unitdoctor's: the CLI undoes it exactly
    before_undo = snapshot(roots["both"])
    cp = subprocess.run([sys.executable, "-m", "unitdoctor", f"--root={roots['both']}", "undo", "--yes",
                         res["unit both"]["journal_id"]], capture_output=True, text=True,
                        env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert before_undo != snapshot(roots["both"])
    assert is_enabled(roots["both"], "x.service") == ["masked"]
    assert (roots["both"] / ETC / "x.service").is_symlink() and (roots["both"] / RUN / "x.service").exists()
