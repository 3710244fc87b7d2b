"""``unitdoctor why UNIT...`` (also plain ``unitdoctor UNIT...``): the verdict, the chain, findings and fixes.

Exit status: 0 every unit can start, 1 a problem was found.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .common import EXIT_OK, EXIT_PROBLEM, add_common, emit_json, mangle, open_catalog


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    why = sub.add_parser("why", help="why a unit cannot start or be enabled (the default command)")
    add_common(why, suppress=True)
    why.add_argument("units", nargs="+", metavar="UNIT")
    why.add_argument("--verbose", "-v", action="store_true",
                     help="also list the evidence sources read, missing or skipped (package database, logs…)")
    why.add_argument("--offline", action="store_true",
                     help="do not ask the running manager (live facts are skipped); implied by --root")
    return {"why": run}


def run(args: argparse.Namespace) -> int:
    from ..manager import Manager
    from ..report import why
    from ..sources import EvidenceSources

    cat = open_catalog(args)
    units = mangle(args.units)
    mgr = Manager(cat)
    src = EvidenceSources.for_root(cat.root)
    live = {}
    if args.root is None and not args.offline and cat.lookup.scope.value != "global":
        from .. import bus

        try:
            live = bus.fetch_units(cat.lookup.scope.value, os.environ, units)
        except bus.ManagerError as e:
            print(f"unitdoctor: {e}; offline analysis of /", file=sys.stderr)
    reports = [why(cat, u, manager=mgr, live=live.get(u), sources=src, environ=os.environ) for u in units]
    if args.json:
        from ..render import json as render_json

        emit_json([render_json.report(cat, r, verbose=args.verbose) for r in reports], ensure_ascii=True)
    else:
        from ..render import text

        text.render(cat, reports, sys.stdout, verbose=args.verbose)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_PROBLEM
