"""Linters as tests: ruff (target py39), the 3.9 floor (vermin), and the engine's stdlib-only rule.

Skipped locally when a tool is missing, enforced under CI=true (scripts/test installs them).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "unitdoctor"
CI = os.environ.get("CI") == "true"
#: Front ends that may import third-party packages (lazily); everything else is the engine.
FRONT_ENDS = {"cli", "bus.py", "render"}
STDLIB = set(sys.stdlib_module_names)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if CI:
            pytest.fail(f"{name} is not installed (scripts/test installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def test_ruff_clean() -> None:
    ruff = _tool("ruff")
    p = subprocess.run([ruff, "check", "src", "tests", "bench", "tools"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_python_39_floor() -> None:
    vermin = _tool("vermin")
    p = subprocess.run([vermin, "--no-tips", "--target=3.9-", "--violations", "--eval-annotations",
                        "--backport", "typing", "src/unitdoctor"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_strict() -> None:
    """``mypy --strict`` with pyproject.toml's configuration."""
    mypy = _tool("mypy")
    p = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_configuration_checks_every_module() -> None:
    """What ``test_mypy_strict`` runs really is ``--strict`` on the whole package: no module relaxed, no error
    code switched off, no file that opts out, no bare ``type: ignore``."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert config["files"] == ["src/unitdoctor"]
    assert "ignore-without-code" in config["enable_error_code"]
    assert not {k for k in config if k.startswith(("disable", "allow", "ignore", "follow_imports", "exclude"))}
    for override in config.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        # only third-party packages without type information, and nothing but that
        assert set(override) == {"module", "ignore_missing_imports"}, override
        assert not [m for m in modules if m.split(".")[0] == "unitdoctor"], override
    opted_out = [p for p in SRC.rglob("*.py") if "# mypy:" in p.read_text() or "# type: ignore\n" in p.read_text()]
    assert opted_out == []


def test_every_type_ignore_says_why() -> None:
    """A ``# type: ignore[code]`` has a comment with the reason, after it or on the line above."""
    unexplained = []
    for path in SRC.rglob("*.py"):
        lines = path.read_text().splitlines()
        for n, line in enumerate(lines):
            if "# type: ignore" not in line:
                continue
            after = line.split("# type: ignore", 1)[1].partition("]")[2]
            if not (after.strip().startswith("#") or lines[n - 1].strip().startswith("#")):
                unexplained.append(f"{path.relative_to(ROOT)}:{n + 1}: {line.strip()}")
    assert unexplained == []


def _engine_modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py")
            if p.relative_to(SRC).parts[0] not in FRONT_ENDS]


@pytest.mark.parametrize("path", _engine_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_engine_uses_only_the_standard_library(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module]
        else:
            continue
        for m in mods:
            top = m.split(".")[0]
            assert top in STDLIB or top == "unitdoctor", f"{path.name} imports {m}"


def test_version_cold_start_loads_no_front_end_dependencies() -> None:
    code = ("import sys; from unitdoctor.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('rich', 'jeepney', 'prometheus_client', 'json', 'unitdoctor.install') "
            "if m in sys.modules]\nprint(bad)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert p.stdout.strip().endswith("[]"), p.stdout + p.stderr


def test_why_loads_only_what_the_root_has() -> None:
    """``why`` on a root without package databases or a kernel command line (a masked dependency: the mask's
    origin is looked for) imports no package database or boot-configuration reader, and no dataclasses."""
    example = ROOT / "examples/roots/masked-dependency"
    code = ("import sys; from unitdoctor.cli import main\n"
            f"rc = main(['--root', {str(example)!r}, 'why', 'app.service'])\n"
            "bad = [m for m in ('unitdoctor.packages', 'unitdoctor.rpmdb', 'unitdoctor.cmdline', 'dataclasses', "
            "'inspect', 'urllib.parse') if m in sys.modules]\n"
            "print(rc, bad)")
    p = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "SYSTEMD_PAGER": "cat"})
    assert p.stdout.strip().endswith("1 []"), p.stdout + p.stderr


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The unitdoctor modules ``path`` imports, at any depth of the code, except under ``if TYPE_CHECKING:``."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                   for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for a in node.names:
                # `from . import mod` imports the submodule; the parent package is already being imported.
                found.add(f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target)
    return {m for m in found if m in modules and m != me and not me.startswith(m + ".")}


def test_no_import_cycles() -> None:
    """No module imports, directly or through others, a module that imports it (lazy imports count too)."""
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = {m: _imports(p, set(paths)) for m, p in paths.items()}
    cycles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" → ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert cycles == [], "\n".join(sorted(cycles))
