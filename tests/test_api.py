"""The library API: exactly the names in ``unitdoctor.__all__``, each importable, none loaded by ``import
unitdoctor`` itself (so the CLI's cold start stays cheap), and used end to end on an example root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import unitdoctor

REPO = Path(__file__).resolve().parents[1]

#: The public API. Changing it is a decision: update the README's "Library" section and the CHANGELOG too.
API = {
    "__version__", "InvalidUnitName", "mangle", "Scope", "Catalog", "open_catalog", "UnitFileState", "lookup_state",
    "list_unit_files", "Manager", "LoadState", "EvidenceSources", "why", "Report", "Finding", "Severity",
    "report_json", "SCHEMA_VERSION", "scan", "plan_fix", "Plan", "apply", "undo", "recover", "history", "Outcome",
    "OfflineOps", "Journal", "JournalError", "ManagerError",
}


def test_exported_names_are_pinned():
    assert set(unitdoctor.__all__) == API
    assert len(unitdoctor.__all__) == len(API)


def test_every_exported_name_resolves_and_is_listed_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in unitdoctor.__all__:
        assert getattr(unitdoctor, name) is not None
        assert f"`{name}`" in readme, f"README's Library section does not mention {name}"


def test_import_loads_no_engine_module():
    code = "import sys, unitdoctor; print(sorted(m for m in sys.modules if m.startswith('unitdoctor.')))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert p.stdout.strip() == "[]", p.stdout + p.stderr


def test_the_api_end_to_end_on_an_example_root():
    ud = unitdoctor
    cat = ud.open_catalog(str(REPO / "examples/roots/masked-dependency"), ud.Scope.SYSTEM, {})
    report = ud.why(cat, "app.service")
    assert isinstance(report, ud.Report) and not report.start.ok
    assert report.start.blocker is not None and report.start.blocker.unit == "db.service"
    doc = ud.report_json(cat, report)
    assert doc["schema_version"] == ud.SCHEMA_VERSION and doc["unit"] == "app.service"
    assert ud.lookup_state(cat, "db.service").state is ud.UnitFileState.MASKED
    plan = ud.plan_fix([report], catalog=cat)
    assert isinstance(plan, ud.Plan) and plan.changes
