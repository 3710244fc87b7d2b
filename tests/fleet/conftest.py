"""Fixtures for the collection tests: the collection built from this checkout and installed once per session.

Without ansible-core the tests are skipped with the reason; under ``CI=true`` they fail instead (scripts/test
installs the ``ansible`` extra).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import ansible_missing, build_and_install


def require_ansible() -> None:
    reason = ansible_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Ansible collection tests cannot run, and CI=true requires them: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collections path holding unitdoctor.systemd, built by scripts/build-collection and installed."""
    require_ansible()
    return build_and_install(tmp_path_factory.mktemp("collection"))
