"""Test helper: run a fix (or an undo) on ROOT and SIGKILL ourselves at its Nth durable checkpoint.

``python -m tests.fixkill fix|undo ROOT N UNIT...``. The checkpoints are ``fix.apply``'s test-only hook
(``journal-written``, ``step-I-acted``, ``step-I-recorded``, ``done``); no environment variable or other test
switch exists in the product. Exits 0 if the run finished before checkpoint N (N is past the last one), and
prints the checkpoints passed.
"""

from __future__ import annotations

import os
import signal
import sys

from unitdoctor import fix
from unitdoctor.catalog import open_catalog
from unitdoctor.journal import Journal
from unitdoctor.lookup import Scope
from unitdoctor.plan import plan_fix
from unitdoctor.report import why


def main(argv: list[str]) -> int:
    command, root, n, units = argv[0], argv[1], int(argv[2]), argv[3:]
    seen: list[str] = []

    def checkpoint(name: str) -> None:
        seen.append(name)
        print(name, flush=True)
        if len(seen) == n:
            os.kill(os.getpid(), signal.SIGKILL)

    cat = open_catalog(root, Scope.SYSTEM, {})
    journal = Journal.for_scope("system", cat.root, {})
    if command == "undo":
        out = fix.undo(None, root=cat.root, journal=journal, ops=fix.OfflineOps(), checkpoint=checkpoint)
    else:
        plan = plan_fix([why(cat, u) for u in units], catalog=cat)
        out = fix.apply(plan, root=cat.root, journal=journal, ops=fix.OfflineOps(), checkpoint=checkpoint)
    print("status", out.status, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
