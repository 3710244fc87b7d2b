"""unitdoctor.systemd beside ansible.builtin.systemd_service on a real ``systemd --user`` manager (``scope: user``).

The manager runs in a private mount namespace (tests/live/manager.py); ansible-playbook runs on the host with
the local connection, and the target's Python is entered into that namespace by the interpreter wrapper, with
the manager's environment. The Python used is this test's, which has jeepney: the module reaches the manager
over D-Bus, as ``unitdoctor fix`` does (the container test covers the systemctl path).
"""

from __future__ import annotations

from pathlib import Path

from tests.live.conftest import require_live
from tests.live.manager import LiveManager

from . import scenarios
from .harness import host_python, run_playbook, wrapper
from .test_system_manager import check_scenarios


def test_user_manager_scenarios(collections: Path, tmp_path: Path) -> None:
    require_live()
    with LiveManager.start(tmp_path / "live") as m:
        layers = {"config": m.config_home / "systemd" / "user",
                  "runtime": m.runtime_dir_host / "systemd" / "user",
                  "vendor": m.data_dirs[0] / "systemd" / "user"}
        scenarios.build(layers, "user")
        m.daemon_reload()
        python = wrapper(tmp_path / "python", ["nsenter", f"--target={m.pid}", "--mount", "--"], m.environ,
                         python=host_python())

        def systemctl(*args: str) -> str:
            return m.systemctl(*args).stdout

        res, out = run_playbook(collections, tmp_path / "run", scenarios.PLAYBOOK, interpreter=python,
                                extra_vars={"scope": "user"})
        check_scenarios(res, out, systemctl, layers, via="D-Bus")
