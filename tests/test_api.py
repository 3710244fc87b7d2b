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
    "OfflineOps", "Journal", "JournalError", "ManagerError", "SearchPathError", "RemoveMask", "DropMaskedDropIn",
    "EnableUnit", "simulate", "InvalidPlan", "SystemctlOps", "AdviceAbout", "StepState", "StepKind",
}


def test_exported_names_are_pinned():
    assert set(unitdoctor.__all__) == API
    assert len(unitdoctor.__all__) == len(API)


def test_every_exported_name_resolves_and_is_listed_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in unitdoctor.__all__:
        assert getattr(unitdoctor, name) is not None
        assert f"`{name}`" in readme, f"README's Library section does not mention {name}"


def test_an_api_function_stays_itself_when_its_submodule_is_imported_first():
    """``scan`` is a function of the API and a submodule: importing the module (as the command line or a library
    user's ``from unitdoctor.scan import ScanResult`` does) must not turn ``unitdoctor.scan`` into it."""
    code = ("import sys, unitdoctor as ud; from unitdoctor.scan import ScanResult; import unitdoctor.fix; "
            "print(callable(ud.scan), ud.scan is sys.modules['unitdoctor.scan'].scan, callable(ud.apply))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert p.stdout.split() == ["True", "True", "True"], p.stderr


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
    assert [type(a) for a in plan.changes] == [ud.RemoveMask]
    after = ud.simulate(cat, [a.path for a in plan.changes])
    assert ud.why(after, "app.service").start.ok  # what fix predicts, without touching the root
    result = ud.scan(cat)
    assert [m.unit for m in result.masks] == ["db.service"] and not result.ok


def _engine_uses(path: Path) -> list[tuple[str, str]]:
    """(engine module, name) for every engine name ``path`` uses: ``from …unitdoctor.MOD import NAME``, and
    ``ALIAS.ATTR`` where ALIAS is an engine module it imported. Renderers (``render.*``) and the D-Bus client
    (``bus``, jeepney) are front-end code the command line and the modules share, not engine API."""
    import ast

    tree = ast.parse(path.read_text())
    out, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and "unitdoctor" in node.module.split("."):
            parts = node.module.split(".")
            base = ".".join(parts[len(parts) - parts[::-1].index("unitdoctor"):])
            if base.startswith("systemd") or base.split(".")[0] in ("render", "bus"):
                continue  # the collection's own module_utils; renderers and the D-Bus client
            for a in node.names:
                sub = f"{base}.{a.name}".lstrip(".")
                if (SRC / "unitdoctor" / f"{sub.replace('.', '/')}.py").exists() and not base:
                    if sub.split(".")[0] not in ("render", "bus"):
                        modules[a.asname or a.name] = sub
                else:
                    out.append((base, a.name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            out.append((modules[node.value.id], node.attr))
    return out


SRC = REPO / "src"


def test_the_ansible_modules_use_only_the_api():
    """The modules import the engine by module path (AnsiballZ follows imports, not the lazy API), but each
    engine name they use is an exported one: the API is what a front end needs."""
    import importlib

    exported = {id(getattr(unitdoctor, n)) for n in unitdoctor.__all__}
    files = [*sorted((REPO / "ansible/plugins/modules").glob("*.py")), REPO / "ansible/plugins/module_utils/fleet.py"]
    uses = [(f.name, mod, name) for f in files for mod, name in _engine_uses(f)]
    assert len(uses) > 10
    outside = [u for u in uses if id(getattr(importlib.import_module(f"unitdoctor.{u[1]}"), u[2])) not in exported]
    assert outside == [], "\n".join(map(str, outside))
