"""The wheel and the sdist, built by flit_core's PEP 517 backend (what pip and `python -m build` call) and
opened: license, metadata, schemas, man page, completions, py.typed, and in the sdist tests, examples, docs."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shipped_schemas() -> list[str]:
    """Every schema in the source tree: the wheel must carry each one."""
    return sorted(p.name[: -len(".schema.json")] for p in (REPO / "src/unitdoctor/schema").glob("*.schema.json"))


CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    try:
        import flit_core  # noqa: F401
    except ImportError:
        if CI:
            pytest.fail("flit_core is not installed (the test extra has it)")
        pytest.skip("flit_core is not installed")
    out = tmp_path_factory.mktemp("dist")
    code = ("import sys; from flit_core import buildapi; "
            "print(buildapi.build_wheel(sys.argv[1])); print(buildapi.build_sdist(sys.argv[1]))")
    p = subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return out


def test_wheel_has_license_metadata_and_package_data(dist):
    (wheel,) = dist.glob("unitdoctor-*.whl")
    z = zipfile.ZipFile(wheel)
    names = set(z.namelist())
    meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta.splitlines()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "unitdoctor/py.typed" in names
    for s in shipped_schemas():
        assert f"unitdoctor/schema/{s}.schema.json" in names
    assert {"unitdoctor/man/unitdoctor.8", "unitdoctor/completion/unitdoctor.bash",
            "unitdoctor/completion/_unitdoctor", "unitdoctor/completion/unitdoctor.fish"} <= names
    # the same files under the install prefix, where man, bash-completion, zsh and fish look
    data = next(n for n in names if n.endswith(".data/data/share/man/man8/unitdoctor.8")).split("share/")[0]
    for shared, packaged in (("share/man/man8/unitdoctor.8", "man/unitdoctor.8"),
                             ("share/bash-completion/completions/unitdoctor", "completion/unitdoctor.bash"),
                             ("share/zsh/site-functions/_unitdoctor", "completion/_unitdoctor"),
                             ("share/fish/vendor_completions.d/unitdoctor.fish", "completion/unitdoctor.fish")):
        assert z.read(data + shared) == z.read(f"unitdoctor/{packaged}"), shared
    entry = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "unitdoctor=unitdoctor.cli:main" in entry.replace(" ", "")
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_wheel_runs_and_reads_its_schemas_through_importlib_resources(dist, tmp_path):
    (wheel,) = dist.glob("unitdoctor-*.whl")
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = ("import unitdoctor.shipped as s, sys; print(s.schema('why')['title']); "
            "print(s.text('man/unitdoctor.8').splitlines()[0]); "
            "from unitdoctor.cli import main; sys.exit(main(['--root', sys.argv[1], 'states', '-q']))")
    p = subprocess.run([sys.executable, "-c", code, str(REPO / "examples/roots/admin-mask")], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(tmp_path / "site")}, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[:2] == ["unitdoctor why --json", '.TH UNITDOCTOR 8 "" "unitdoctor 0.1.0" "unitdoctor"']


def test_sdist_holds_the_project(dist):
    (sdist,) = dist.glob("unitdoctor-*.tar.gz")
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for must in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "docs/journal.md", "scripts/test",
                 "src/unitdoctor/py.typed", "src/unitdoctor/schema/why.schema.json", "src/unitdoctor/man/unitdoctor.8",
                 "tests/test_cli.py", "examples/roots/admin-mask/README.md", "data/share/man/man8/unitdoctor.8"):
        assert must in names, must
    assert not any("__pycache__" in n for n in names)
