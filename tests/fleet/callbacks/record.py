"""An Ansible callback for the tests: every task's result by task name, written as JSON when the run ends.

Enabled with ANSIBLE_CALLBACK_PLUGINS=<this dir> ANSIBLE_CALLBACKS_ENABLED=record; the file is $UD_RECORD.
A task name seen twice (a loop of plays) keeps the last result; tests give every task a unique name.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[str, dict] = {}

    def _record(self, result, status: str) -> None:
        task = getattr(result, "task", None) or result._task
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        self.results[task.get_name()] = {"_status": status, **dict(data)}

    def v2_runner_on_ok(self, result) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result) -> None:
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats) -> None:
        with open(os.environ["UD_RECORD"], "w") as f:
            json.dump(self.results, f, indent=1, default=str)
