"""condition.py on roots built in tmp_path: systemd 252's rules for Condition*=/Assert*= (condition.c), as a table.

The live manager checks the same rules in tests/live/test_conditions_vs_manager.py and the booted container in
tests/test_conditions_container.py; this table runs anywhere and pins the offline-only sources (the root's boot
configuration for ConditionKernelCommandLine=) and the three-valued answer (undecidable is never "met").
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest
from tests.test_transaction import build

from unitdoctor.transaction import predict_start

CMDLINE = "root=/dev/vda1 quiet foo=bar\n"


@pytest.mark.parametrize("lines,cmdline,reason", [
    # ConditionKernelCommandLine=: a word, or "KEY" matching "KEY" and "KEY=…" (condition_test_kernel_command_line)
    ("ConditionKernelCommandLine=foo", CMDLINE, None),
    ("ConditionKernelCommandLine=foo=bar", CMDLINE, None),
    ("ConditionKernelCommandLine=foo=baz", CMDLINE, "condition-failed"),
    ("ConditionKernelCommandLine=fo", CMDLINE, "condition-failed"),  # a prefix of a key is not the key
    ("ConditionKernelCommandLine=!quiet", CMDLINE, "condition-failed"),
    ("ConditionKernelCommandLine=foo", None, "condition-undecidable"),  # no boot configuration in the root
    ("AssertKernelCommandLine=foo=baz", CMDLINE, "assert-failed"),
    # paths: "!" negates, "|" makes a condition triggering (one of them must hold), an empty value resets the list
    ("ConditionPathExists=/etc/kernel/cmdline", CMDLINE, None),
    ("ConditionPathExists=!/etc/kernel/cmdline", CMDLINE, "condition-failed"),
    ("ConditionPathExists=|/nonexistent\nConditionPathExists=|/etc/kernel/cmdline", CMDLINE, None),
    ("ConditionPathExists=|/nonexistent\nConditionPathExists=|/nonexistent2", CMDLINE, "condition-failed"),
    ("ConditionPathExists=/nonexistent\nConditionPathExists=", CMDLINE, None),
    ("AssertPathExists=/nonexistent", CMDLINE, "assert-failed"),
])
def test_condition_outcomes(tmp_path: Path, lines: str, cmdline: Optional[str], reason: Optional[str]) -> None:
    if cmdline is not None:
        (tmp_path / "etc/kernel").mkdir(parents=True)
        (tmp_path / "etc/kernel/cmdline").write_text(cmdline)
    p = predict_start(build(tmp_path, {"x.service": lines}), "x.service")
    if reason == "assert-failed":
        # an assert fails the start job ("Assertion failed on job for x.service.")
        assert not p.ok and p.blocker is not None and p.blocker.reason == reason
        assert p.blocker.message == "Assertion failed on job for x.service."
        return
    # a condition never fails the job: the unit is skipped (or, undecidable, may be)
    assert p.ok
    got = p.problem.reason if p.problem is not None else None
    assert got == reason
    if p.problem is not None:
        assert p.problem.origin is not None and p.problem.origin.path == "/etc/systemd/system/x.service"
