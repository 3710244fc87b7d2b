"""The catalog is a frozen snapshot of the search path: its fields cannot be assigned, its caches live in one
private index that no other module reads, and on a merged-/usr root (``/lib`` → ``usr/lib``) a file seen
through two search directories is reported once, under the directory systemd finds it in first."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from tests import fixroots as fr

from unitdoctor import install
from unitdoctor.catalog import Catalog
from unitdoctor.report import why
from unitdoctor.scan import scan

SRC = Path(__file__).resolve().parents[1] / "src" / "unitdoctor"


def test_fields_cannot_be_assigned_and_the_public_ones_are_few(tmp_path):
    cat = fr.catalog(fr.base(tmp_path / "root"))
    for name in ("root", "lookup", "listings", "environ", "_index"):
        with pytest.raises(AttributeError, match="cannot assign"):  # records' (and dataclasses') FrozenInstanceError
            setattr(cat, name, None)
    public = {n for n in Catalog.__annotations__ if not n.startswith("_")}
    assert public == {"root", "lookup", "listings", "environ"}
    assert isinstance(cat.listings, tuple)
    assert cat != fr.catalog(cat.root.path)  # two scans are two snapshots


def test_no_module_but_catalog_touches_its_private_index():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "catalog.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("_index", "_Index"):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("catalog"):
                offenders += [f"{path.relative_to(SRC)}:{node.lineno}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_answers_do_not_depend_on_what_was_asked_before(tmp_path):
    root = fr.build(tmp_path, "persistent")
    warm = fr.catalog(root)
    first = [why(warm, u).start.ok for u in ("x.service", "multi-user.target")]
    again = [why(warm, u).start.ok for u in ("x.service", "multi-user.target")]
    cold = [why(fr.catalog(root), u).start.ok for u in ("x.service", "multi-user.target")]
    assert first == again == cold


def _merged_usr(tmp_path) -> Path:
    """A merged-/usr root: /lib is a link to usr/lib, so usr/lib/systemd/system is also /lib/systemd/system."""
    root = fr.base(tmp_path / "root")
    os.symlink("usr/lib", root / "lib")
    fr.empty(root, f"{fr.USR}/vendor-masked.service")
    fr.write(root, f"{fr.USR}/admin-masked.service", fr.SERVICE.format(d="admin"))
    fr.link(root, f"{fr.ETC}/admin-masked.service", "/dev/null")
    return root


def test_merged_usr_reports_each_file_once_under_lib(tmp_path):
    root = _merged_usr(tmp_path)
    cat = fr.catalog(root)
    assert "/lib/systemd/system" in [d.path for d in cat.lookup.search_path]  # the layout the test is about
    for unit in ("vendor-masked.service", "admin-masked.service"):
        rep = why(cat, unit)
        sources = [e.source for f in rep.findings for e in f.evidence if e.kind in ("mask", "file")]
        assert not any("/usr/lib/systemd/system/" in s for s in sources), sources
        assert len(sources) == len(set(sources)), sources
    lib = f"{root}/lib/systemd/system"
    (vendor,) = [f for f in why(cat, "vendor-masked.service").findings if f.is_mask]
    assert [e.source for e in vendor.evidence if e.kind == "mask"] == [f"{lib}/vendor-masked.service"]
    (admin,) = [f for f in why(cat, "admin-masked.service").findings if f.is_mask]
    assert [e.source for e in admin.evidence if e.kind == "file"] == [f"{lib}/admin-masked.service"]
    masks = [(m.unit, m.path) for m in scan(cat).masks]
    assert sorted(masks) == [("admin-masked.service", f"{root}/etc/systemd/system/admin-masked.service"),
                             ("vendor-masked.service", f"{root}/lib/systemd/system/vendor-masked.service")]
    listed = [s.name for s in install.list_unit_files(cat)]
    assert len(listed) == len(set(listed))
