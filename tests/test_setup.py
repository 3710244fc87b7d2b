"""The README's two commands, as a new user runs them: on a fresh clone, with the distribution's
/usr/bin/python3 (externally managed, PEP 668). Slow (a venv and PyPI installs): runs under CI=true or
UNITDOCTOR_SETUP_TEST=1, skipped otherwise."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = os.environ.get("CI") == "true" or os.environ.get("UNITDOCTOR_SETUP_TEST") == "1"
pytestmark = pytest.mark.skipif(not RUN, reason="slow: set UNITDOCTOR_SETUP_TEST=1 (always runs under CI=true)")


def readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_commands_and_ci_runs_the_second():
    cmds = readme_commands()
    assert len(cmds) == 2 and cmds[1] == "scripts/test"
    assert "scripts/test" in (REPO / ".ci/run").read_text()


def test_readme_commands_on_a_fresh_clone_with_the_distributions_python(tmp_path):
    if not Path("/usr/bin/python3").exists() or shutil.which("git") is None:
        pytest.skip("no /usr/bin/python3 or git")
    clone = tmp_path / "clone"
    # the committed tree (what a user clones), not the working copy
    subprocess.run(["git", "clone", "-q", "--no-local", str(REPO), str(clone)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYENV"))}
    env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"  # python3 is the distribution's
    first, second = readme_commands()
    p = subprocess.run(["bash", "-c", first], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 1, p.stdout + p.stderr  # the example's units cannot start: status 1
    assert "app.service cannot start: Unit db.service is masked." in p.stdout
    assert "web.service cannot start" in p.stdout
    # the second command; a few tests stand for the suite (the suite itself is what CI runs)
    p = subprocess.run(["bash", "-c", f"{second} -q -p no:cacheprovider tests/test_api.py tests/test_names.py"],
                       cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert " passed" in p.stdout
