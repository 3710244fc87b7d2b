"""One mask predicate with one error policy: ``why``, ``scan`` and ``fix`` take the same entries for masks
(``/dev/null``, a chain of links ending there, an empty file, a link to an empty file) and the same entries
for *not* masks (a dangling link, a link loop: nothing proves they are masks, so nothing removes them), and
``systemctl --root is-enabled`` agrees."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from tests import fixroots as fr

from unitdoctor import plan as P
from unitdoctor.report import why
from unitdoctor.scan import scan

MASKS = {"null": "/dev/null", "chain": "/etc/alt/to-null", "empty": None, "to-empty": "/etc/alt/empty"}
NOT_MASKS = {"dangling": "/etc/alt/nothing-here", "loop": "/etc/alt/loop-a"}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = fr.base(tmp_path_factory.mktemp("mask-predicate") / "root")
    fr.link(root, "etc/alt/to-null", "/dev/null")
    fr.empty(root, "etc/alt/empty")
    fr.link(root, "etc/alt/loop-a", "/etc/alt/loop-b")
    fr.link(root, "etc/alt/loop-b", "/etc/alt/loop-a")
    for kind, target in {**MASKS, **NOT_MASKS}.items():
        fr.write(root, f"{fr.USR}/{kind}.service", fr.SERVICE.format(d=kind))
        if target is None:
            fr.empty(root, f"{fr.ETC}/{kind}.service")
        else:
            fr.link(root, f"{fr.ETC}/{kind}.service", target)
    return root


@pytest.mark.parametrize("kind", sorted({**MASKS, **NOT_MASKS}))
def test_why_scan_and_fix_agree_on_what_is_a_mask(root, kind):
    cat = fr.catalog(root)
    unit = f"{kind}.service"
    rep = why(cat, unit)
    by_why = any(f.is_mask for f in rep.findings)
    by_scan = unit in {m.unit for m in scan(cat).masks}
    plan = P.plan_fix([rep], catalog=cat)
    by_fix = any(isinstance(a, P.RemoveMask) and a.path.endswith(f"/{unit}") for a in plan.changes)
    expected = kind in MASKS
    assert (by_why, by_scan, by_fix) == (expected, expected, expected)
    if not expected:
        assert os.path.islink(root / fr.ETC / unit)  # nothing removed what is not provably a mask


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl is missing")
def test_systemctl_agrees(root):
    def state(unit: str) -> str:
        p = subprocess.run(["systemctl", f"--root={root}", "is-enabled", unit], capture_output=True, text=True)
        return p.stdout.strip() or p.stderr.strip()

    got = {k: state(f"{k}.service") for k in {**MASKS, **NOT_MASKS}}
    assert {k for k, s in got.items() if s == "masked"} == set(MASKS), got
