"""``unitdoctor why UNIT...`` (also plain ``unitdoctor UNIT...``): the verdict, the chain, findings and fixes.

Exit status: 0 every unit can start, 1 a problem was found, 70 the analysis of a unit failed with a bug
(the other units of the batch still get their answers, in text and in JSON).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .common import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_SOFTWARE,
    EXIT_USAGE,
    add_common,
    emit_json,
    internal_error,
    mangle,
    open_catalog,
)


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    why = sub.add_parser("why", help="why a unit cannot start or be enabled (the default command)")
    add_common(why, suppress=True)
    why.add_argument("units", nargs="+", metavar="UNIT")
    why.add_argument("--verbose", "-v", action="store_true",
                     help="also list the evidence sources read, missing or skipped (package database, logs…)")
    why.add_argument("--graph", metavar="FILE",
                     help="also write the dependency graph (blocker path marked): Graphviz DOT, or SVG for *.svg")
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
        from ..live import ManagerError

        try:
            live = bus.fetch_units(cat.lookup.scope.value, os.environ, units)
        except ManagerError as e:
            print(f"unitdoctor: {e}; offline analysis of /", file=sys.stderr)
    status = EXIT_OK
    docs: list[Any] = []
    reports: list[Any] = []
    if not args.json and not args.quiet:
        from .pager import open_pager

        open_pager(args)
    printed = 0
    for u in units:
        # One unit's bug must not cost the others their answers: report it and go on.
        try:
            r = why(cat, u, manager=mgr, live=live.get(u), sources=src, environ=os.environ)
            reports.append(r)
            if args.json:
                from ..render import json as render_json

                doc: Any = render_json.report(cat, r, verbose=args.verbose)
            elif not args.quiet:
                from ..render import text

                doc = text.render_lines(cat, r, verbose=args.verbose)
        except Exception as e:
            message = internal_error(e, u)
            print(message, file=sys.stderr)
            status = EXIT_SOFTWARE
            if args.json:
                from ..render import json as render_json

                docs.append(render_json.internal_error(u, message.splitlines()[0]))
            continue
        if not r.ok and status == EXIT_OK:
            status = EXIT_PROBLEM
        if args.json:
            docs.append(doc)
        elif not args.quiet:
            from ..render import text

            text.write(doc, sys.stdout, separate=printed > 0)
            printed += 1
    if args.json and not args.quiet:
        emit_json(docs, ensure_ascii=True)
    if getattr(args, "graph", None):
        from ..render import graph

        try:
            graph.write(args.graph, graph.why_dot(mgr, reports))
        except graph.GraphError as e:
            print(f"unitdoctor: {e}", file=sys.stderr)
            return EXIT_USAGE
    return status
