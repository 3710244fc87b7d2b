"""The collection as built: one copy of the engine, AnsiballZ ships all of it, ansible-doc shows the docs, and
``ansible-test sanity`` passes.

``ansible-test sanity`` makes one virtual environment per test and bootstraps pip in it with a get-pip script
it downloads from ci-files.testing.ansible.com, which is not reachable here; the test puts an offline stand-in
for that script in ansible-test's cache (it runs pip from the pip wheel that ``pip download`` fetched from
PyPI), and the test requirements come from PyPI as usual. The venvs are kept in a cache directory
(``$XDG_CACHE_HOME/unitdoctor/ansible-test``), so only the first run pays for them.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .harness import REPO, _env, host_python

ENGINE = REPO / "src" / "unitdoctor"
#: What the collection leaves out of the engine: the command line (modules call the library).
NOT_SHIPPED = {"cli", "__main__.py"}


def _installed(collections: Path) -> Path:
    return collections / "ansible_collections" / "unitdoctor" / "systemd"


def _engine_files() -> list[str]:
    return sorted(str(p.relative_to(ENGINE)) for p in ENGINE.rglob("*.py")
                  if p.relative_to(ENGINE).parts[0] not in NOT_SHIPPED and "__pycache__" not in p.parts)


def test_engine_code_is_committed_once() -> None:
    """No engine module is kept in ansible/ by hand: the build copies it; a copied block of code fails this."""
    tracked = subprocess.run(["git", "ls-files", "ansible"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked, "ansible/ is not tracked"
    assert not [t for t in tracked if t.startswith("ansible/plugins/module_utils/unitdoctor/")]
    engine_windows = set()
    for p in ENGINE.rglob("*.py"):
        lines = [ln.strip() for ln in p.read_text().splitlines() if len(ln.strip()) > 20]
        engine_windows |= {tuple(lines[i:i + 4]) for i in range(len(lines) - 3)}
    for t in tracked:
        if t.endswith(".py"):
            lines = [ln.strip() for ln in (REPO / t).read_text().splitlines() if len(ln.strip()) > 20]
            copied = [w for w in (tuple(lines[i:i + 4]) for i in range(len(lines) - 3)) if w in engine_windows]
            assert not copied, f"{t} repeats engine code: {copied[0]}"


def test_built_collection_holds_the_engine(collections: Path) -> None:
    coll = _installed(collections)
    shipped = sorted(str(p.relative_to(coll / "plugins/module_utils/unitdoctor"))
                     for p in (coll / "plugins/module_utils/unitdoctor").rglob("*.py"))
    assert shipped == _engine_files()
    manifest = json.loads((coll / "MANIFEST.json").read_text())
    version = re.search(r'__version__ = "([^"]+)"', (ENGINE / "__init__.py").read_text()).group(1)
    assert manifest["collection_info"]["version"] == version


def _reachable(start: Path) -> set[str]:
    """The engine modules (relative paths) that ``start`` imports, directly or not, at module level or lazily."""
    todo, seen = [start], set()
    while todo:
        path = todo.pop()
        pkg = path.parent
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and "module_utils.unitdoctor" in node.module:
                base, rel = ENGINE, node.module.split("module_utils.unitdoctor", 1)[1].strip(".")
            elif isinstance(node, ast.ImportFrom) and node.level and ENGINE in (pkg, *pkg.parents):
                base = pkg
                for _ in range(node.level - 1):
                    base = base.parent
                rel = node.module or ""
            else:
                continue
            mod = base.joinpath(*rel.split(".")) if rel else base
            cands = [mod.with_suffix(".py"), mod / "__init__.py"] + [mod / f"{a.name}.py" for a in node.names]
            cands += [mod / a.name / "__init__.py" for a in node.names]
            for c in cands:
                if c.is_file() and ENGINE in c.parents:
                    for f in (c, *(d / "__init__.py" for d in c.parents if ENGINE in (d, *d.parents))):
                        if f not in seen:
                            seen.add(f)
                            todo.append(f)
    return {str(p.relative_to(ENGINE)) for p in seen}


def test_ansiballz_ships_the_whole_engine(collections: Path, tmp_path: Path) -> None:
    """AnsiballZ's dependency finder follows the engine's relative imports (and the lazy ones inside
    functions): the payload of each module holds every engine module the module can reach."""
    env = _env(tmp_path, collections, {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_PIPELINING": "false",
                                       "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote")})
    for module in ("unit_info", "unit"):
        subprocess.run(["ansible", "localhost", "-c", "local", "-i", "localhost,", "-e",
                        f"ansible_python_interpreter={host_python()}", "-m", f"unitdoctor.systemd.{module}",
                        "-a", "name=x root=/nonexistent"], env=env, capture_output=True, text=True, cwd=tmp_path)
        (wrapper,) = (tmp_path / "remote").rglob(f"AnsiballZ_{module}.py")
        payload = re.search(r"^zip_data='([A-Za-z0-9+/=]+)'", wrapper.read_text(), re.M)
        assert payload, "no zip_data in the AnsiballZ wrapper"
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(payload.group(1)))) as z:
            names = z.namelist()
        prefix = "ansible_collections/unitdoctor/systemd/plugins/module_utils/unitdoctor/"
        found = sorted(n[len(prefix):] for n in names if n.startswith(prefix))
        src = REPO / "ansible" / "plugins" / "modules" / f"{module}.py"
        needed = _reachable(src) | _reachable(REPO / "ansible/plugins/module_utils/fleet.py")
        assert {"plan.py", "fix.py", "report.py", "bus.py", "systemctl.py", "checks/mask.py"} <= needed
        assert sorted(needed - set(found)) == []
        wrapper.unlink()


def test_ansible_doc_shows_the_documentation(collections: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, collections)
    for module, words in (("unit", ("startable", "journal_id", "check mode", "unitdoctor.systemd.unit:")),
                          ("unit_info", ("why --json", "units", "unitdoctor.systemd.unit_info:"))):
        cp = subprocess.run(["ansible-doc", f"unitdoctor.systemd.{module}"], env=env, capture_output=True,
                            text=True)
        assert cp.returncode == 0, cp.stderr
        for w in words:
            assert w in cp.stdout, (module, w)
        js = subprocess.run(["ansible-doc", "--json", f"unitdoctor.systemd.{module}"], env=env,
                            capture_output=True, text=True, check=True)
        doc = json.loads(js.stdout)[f"unitdoctor.systemd.{module}"]
        assert doc["doc"]["options"] and doc["return"] and doc["examples"]


def _offline_get_pip(home: Path) -> None:
    """ansible-test's get-pip script, replaced by one that runs pip from a wheel fetched from PyPI."""
    from ansible_test._internal.python_requirements import get_venv_packages  # noqa: PLC0415

    class _Py:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"

    pip_version = get_venv_packages(_Py())["pip"]  # type: ignore[arg-type]
    cache = home / ".ansible" / "test" / "cache"
    script = cache / f"get_pip_{pip_version.replace('.', '_')}.py"
    if script.exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "-d", str(cache), f"pip=={pip_version}"], check=True, capture_output=True)
    script.write_text(
        '"""Offline stand-in for get-pip.py: pip from the wheel beside this file."""\n'
        "import glob, os, sys\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        f"sys.path.insert(0, glob.glob(os.path.join(here, 'pip-{pip_version}-*.whl'))[0])\n"
        "from pip._internal.cli.main import main\n"
        "sys.exit(main(['install', *[a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]]))\n")


def test_ansible_test_sanity(collections: Path, tmp_path: Path) -> None:
    pytest.importorskip("ansible_test")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "unitdoctor" / "ansible-test"
    _offline_get_pip(cache)
    coll = _installed(collections)
    env = _env(tmp_path, collections, {"HOME": str(cache)})
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    cp = subprocess.run(["ansible-test", "sanity", "--python", py, "--color", "no"], cwd=coll, env=env,
                        capture_output=True, text=True, timeout=1500)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out[-6000:]
    ran = re.findall(r'Running sanity test "([^"]+)"', out)
    assert {"validate-modules", "pylint", "pep8", "import", "compile", "ansible-doc", "yamllint", "ignores"} <= set(ran)
