"""One owner table: ``why``'s fix command, ``scan``'s finding and ``fix``'s plan agree on who may remove a mask, in
every layer."""

from __future__ import annotations

import pytest

import fixroots as fr
from unitdoctor import plan as P
from unitdoctor.checks.mask import MaskOwner, layers, mask_owner, unmask_command
from unitdoctor.lookup import LookupPaths, Scope
from unitdoctor.report import why
from unitdoctor.scan import scan

SYSTEM_DIRS = [d.path for d in LookupPaths.for_scope(Scope.SYSTEM, rooted=True).search_path]


@pytest.mark.parametrize("directory", SYSTEM_DIRS)
def test_why_and_fix_agree_on_who_removes_a_mask(directory, tmp_path):
    root = fr.base(tmp_path / "root")
    fr.link(root, directory.lstrip("/") + "/x.service", "/dev/null")
    cat = fr.catalog(root)
    top = layers(cat, "x.service")[0]
    assert top.is_mask and top.entry.dir.path == directory
    owner = mask_owner(cat, top.entry)
    ours = unmask_command(cat, top.entry, "x.service", "") is not None
    assert ours == (owner is MaskOwner.ADMIN) == (P.refusal(cat, top.entry, runtime_only=False) is None)
    plan = P.plan_fix([why(cat, "x.service")], catalog=cat)
    assert bool([a for a in plan.changes if isinstance(a, P.RemoveMask)]) == ours
    f = next(f for f in why(cat, "x.service").findings if "mask" in f.id)
    assert f.fix, f  # a command, or the owner's way out, for every layer
    seen = [g for g in scan(cat).findings if g.unit == "x.service" and "mask" in g.id]
    assert seen and all(g.fix == f.fix for g in seen), (seen, f.fix)  # scan says what why says
    assert not any(x.startswith("rm ") for x in f.fix) or owner in (MaskOwner.ADMIN, MaskOwner.UNIT_PATH) \
        or f.origin == "admin"


def test_a_transient_mask_is_the_managers(tmp_path):
    root = fr.base(tmp_path / "root")
    fr.write(root, f"{fr.USR}/x.service", fr.SERVICE.format(d="x"))
    fr.link(root, "run/systemd/transient/x.service", "/dev/null")
    cat = fr.catalog(root)
    (f,) = [f for f in why(cat, "x.service").findings if "mask" in f.id]
    assert f.fix[0].startswith(f"systemctl --root={root} stop x.service")
    assert P.plan_fix([why(cat, "x.service")], catalog=cat).changes == ()
