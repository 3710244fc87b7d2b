"""Fixtures for tests against a real ``systemd --user`` (see manager.py).

Without the means to run one (not root, no unshare, no systemd) the tests are skipped with the reason; under
``CI=true`` they fail instead, because CI must run them.
"""

from __future__ import annotations

import os
import pathlib
from typing import Callable, Iterator

import pytest

from .manager import LiveManager, live_available


def require_live() -> None:
    """Skip the calling test if no live manager can run here; fail instead under ``CI=true``."""
    reason = live_available()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"live systemd tests cannot run, and CI=true requires them: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def live_manager(tmp_path: pathlib.Path) -> Iterator[LiveManager]:
    """Yield a fresh ``systemd --user`` with its scratch directories under ``tmp_path / "live"``."""
    require_live()
    with LiveManager.start(tmp_path / "live") as manager:
        yield manager


@pytest.fixture
def start_live_manager(tmp_path: pathlib.Path) -> Iterator[Callable[..., LiveManager]]:
    """Yield ``start(name="live", log_level="info")``, which starts a manager under ``tmp_path / name``.

    For tests that need several managers at once or a debug log.  All are stopped at teardown.
    """
    require_live()
    started: list[LiveManager] = []

    def start(name: str = "live", *, log_level: str = "info") -> LiveManager:
        manager = LiveManager.start(tmp_path / name, log_level=log_level)
        started.append(manager)
        return manager

    try:
        yield start
    finally:
        for manager in reversed(started):
            manager.stop()
