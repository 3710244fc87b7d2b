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
FRONT_ENDS = {"cli.py", "bus.py", "render"}
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
