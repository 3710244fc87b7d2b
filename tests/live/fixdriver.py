"""Run ``fix``'s library for the user scope inside a LiveManager's namespace; print the outcome as JSON.

``python -m tests.live.fixdriver fix|dry-run|undo [UNIT...]`` with the manager's environment: the same chain the
CLI runs (live ``why`` → ``plan_fix`` → ``fix.apply`` with ``bus.LiveOps``, or ``fix.undo``), so
test_fix_live.py can check the library on a real manager whether or not ``unitdoctor fix`` is in the CLI yet.
"""

from __future__ import annotations

import json
import os
import sys

from unitdoctor import bus, fix
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.plan import plan_fix
from unitdoctor.render.words import effect
from unitdoctor.report import why


def main(argv: list[str]) -> int:
    command, units = argv[0], argv[1:]
    env = dict(os.environ)
    cat = open_catalog(None, Scope.USER, env)
    journal = fix.journal_for("user", cat.root, env)

    def recheck():
        return open_catalog(None, Scope.USER, env)

    with bus.connect("user", env) as b:
        ops = bus.LiveOps(b)
        if command == "undo":
            out = fix.undo(None, root=cat.root, journal=journal, ops=ops, recheck=recheck)
        else:
            reports = [why(cat, u, live=b.unit(u)) for u in units]
            plan = plan_fix(reports, catalog=cat, live=True)
            if command == "dry-run":
                json.dump({"actions": [type(a).__name__ + ": " + effect(a) for a in plan.actions]}, sys.stdout)
                return 0
            out = fix.apply(plan, root=cat.root, journal=journal, ops=ops, recheck=recheck)
    json.dump({"status": out.status, "ok": out.ok, "messages": list(out.messages),
               "started": [list(s) for s in out.started]}, sys.stdout)
    if command == "undo":
        return 0 if out.status == "done" else 1
    return 0 if out.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
