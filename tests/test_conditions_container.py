"""System-scope conditions, asserts, exec checks and User=/Group= lookups against systemd 252 as PID 1
(../shared/tools/pid1-container.sh), the user manager's twin in tests/live/test_conditions_vs_manager.py.

The units are laid into a copy of the container's base root; ``predict_start`` reads that copy (its passwd, group and
programs), the booted container starts each unit with ``systemctl start`` and shows what became of it.
"""

from __future__ import annotations

import collections
import pathlib
import subprocess

from tests import debroots
from tests.test_sysv_container import PID1_DIR, _require_container
from tests.test_sysv_debian import _boot

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.transaction import predict_start

#: RemainAfterExit=: a oneshot that went inactive is unloaded at once, and a unit loaded again shows reset results.
ONESHOT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
#: name -> (unit file text, what we must predict: (systemctl start succeeds, the first problem's reason or None)).
UNITS: dict[str, tuple[str, tuple[bool, object]]] = {
    "ud-user-missing.service": ("[Service]\nType=oneshot\nUser=ud-nosuchuser\nExecStart=/bin/true\n",
                                (False, "exec-failed")),
    "ud-user-ok.service": ("[Service]\nType=oneshot\nRemainAfterExit=yes\nUser=ud\nExecStart=/bin/true\n",
                           (True, None)),
    "ud-group-missing.service": ("[Service]\nType=oneshot\nGroup=ud-nosuchgroup\nExecStart=/bin/true\n",
                                 (False, "exec-failed")),
    "ud-condition.service": ("[Unit]\nConditionPathExists=/etc/ud-nonexistent\n" + ONESHOT,
                             (True, "condition-failed")),
    "ud-condition-met.service": ("[Unit]\nConditionPathExists=/etc/hostname\nConditionUser=root\n" + ONESHOT,
                                 (True, None)),
    "ud-assert.service": ("[Unit]\nAssertPathExists=/etc/ud-nonexistent\n" + ONESHOT, (False, "assert-failed")),
    "ud-needs-assert.service": ("[Unit]\nRequires=ud-assert.service\nAfter=ud-assert.service\n" + ONESHOT,
                                (False, None)),
    "ud-exec-missing.service": ("[Service]\nType=exec\nExecStart=/usr/bin/ud-missing\n", (False, "exec-failed")),
    "ud-simple-missing.service": ("[Service]\nType=simple\nExecStart=/usr/bin/ud-missing\n", (True, "exec-failed")),
}
STATS: collections.Counter = collections.Counter()


def test_system_scope_conditions_asserts_and_exec_checks_match_a_booted_systemd(tmp_path: pathlib.Path) -> None:
    script = _require_container()
    base = PID1_DIR / "root"
    if not (base / ".pid1-complete").exists():  # the script builds its base root on first use
        subprocess.run([str(script), "--", "true"], capture_output=True, timeout=900, check=False)
    assert base.is_dir(), "pid1-container.sh could not build its base root"
    with debroots.copy_of(base, tmp_path / "root") as root:
        etc = root / "etc/systemd/system"
        for name, (text, _) in UNITS.items():
            (etc / name).write_text(text)
        mgr = Manager(open_catalog(str(root), Scope.SYSTEM, {}))
        ours = {name: predict_start(mgr, name) for name in UNITS}
        command = "; ".join(
            f"systemctl start {n} >/dev/null 2>&1; echo {n} rc=$?; sleep 0.2; "
            f"echo {n} $(systemctl show -p ActiveState,Result,ConditionResult,AssertResult {n} | tr '\\n' ' ')"
            for n in UNITS)
        out = _boot(script, root, tmp_path / "pid1", command)
    theirs: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        name, _, rest = line.partition(" ")
        if name in UNITS:
            if rest.startswith("rc="):
                theirs.setdefault(name, {})["rc"] = rest[3:]
            else:
                props = dict(kv.partition("=")[::2] for kv in rest.split())
                theirs.setdefault(name, {}).update(active=props["ActiveState"], result=props["Result"],
                                                   cond=props["ConditionResult"], asserted=props["AssertResult"])
    for name, (_, (want_ok, want_reason)) in UNITS.items():
        t = theirs[name]
        p = ours[name]
        # systemd's answer first: the table says what 252 does, the boot must agree with it …
        assert (t["rc"] == "0") is want_ok, f"{name}: systemctl start exit {t['rc']} ({t})"
        if want_reason == "condition-failed":
            assert t["cond"] == "no" and t["active"] == "inactive", (name, t)
        if want_reason == "assert-failed":
            assert t["asserted"] == "no", (name, t)
        if want_ok and want_reason == "exec-failed":
            assert t["active"] == "failed", (name, t)
        if want_ok and want_reason is None:
            assert (t["active"], t["cond"], t["result"]) == ("active", "yes", "success"), (name, t)
        # … and so must ours.
        assert p.ok is want_ok, f"{name}: predicted ok={p.ok}, systemctl start exit {t['rc']}"
        reason = p.problem.reason if p.ok and p.problem is not None else (
            p.blocker.reason if not p.ok and p.blocker is not None and p.blocker.unit == name else None)
        if want_reason is not None:
            assert reason == want_reason, f"{name}: predicted {reason}, systemd {t}"
        elif want_ok:
            assert p.problem is None, f"{name}: predicted problem {p.problem}"
        STATS[f"start {'ok' if want_ok else 'fails'}: {want_reason or ('clean' if want_ok else 'dependency')}"] += 1
    print("\nsystem-scope conditions/asserts/exec vs a booted systemd 252:", dict(STATS))

