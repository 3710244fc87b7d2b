"""``unitdoctor scan`` and ``unitdoctor units``: argparse → ``scan.scan`` → renderers → exit status.

Exit status: 0 nothing wrong, 1 something is (an error or warning finding), 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .common import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, UsageError, add_common, open_catalog


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    sc = sub.add_parser("scan", help="every mask, every unit that cannot start, and what the next boot does")
    add_common(sc, suppress=True)
    sc.add_argument("--target", metavar="UNIT", help="the boot's target (default: default.target)")
    sc.add_argument("--prometheus", metavar="FILE",
                    help="also write the metrics in node_exporter's textfile format to FILE (atomically)")
    sc.add_argument("--graph", metavar="FILE",
                    help="also write the boot's dependency graph: Graphviz DOT, or SVG when FILE ends in .svg")
    un = sub.add_parser("units", help="print the unitdoctor-scan.service and .timer that run scan periodically")
    add_common(un, suppress=True)  # accepted anywhere on the line, as systemctl does; not used
    un.add_argument("name", nargs="?", choices=("unitdoctor-scan.service", "unitdoctor-scan.timer"),
                    help="print only this one")
    return {"scan": run_scan, "units": run_units}


def run_units(args: argparse.Namespace) -> int:
    from .. import shipped

    if args.json:
        from ..render import SCHEMA_VERSION
        from .common import emit_json

        emit_json({"schema_version": SCHEMA_VERSION,
                    "units": [{"name": n, "text": t} for n, t in shipped.units() if args.name in (None, n)]})
        return EXIT_OK
    for i, (name, text) in enumerate(shipped.units()):
        if args.name and name != args.name:
            continue
        if not args.name:
            sys.stdout.write(("\n" if i else "") + f"# {name}\n")
        sys.stdout.write(text)
    return EXIT_OK


def run_scan(args: argparse.Namespace) -> int:
    import time

    from .. import names
    from ..scan import scan

    t0 = time.time()
    cat = open_catalog(args)
    target = None
    if args.target:
        try:
            target, notice = names.mangle(args.target)
        except names.InvalidUnitName as e:
            raise UsageError(str(e)) from None
        if notice:
            print(notice, file=sys.stderr)
        if names.kind_of(target) is names.NameKind.TEMPLATE:
            raise UsageError(f"Unit name {target} is missing the instance name.")
    live: list[Any] = []
    asked = False
    if args.root is None and not args.offline and cat.lookup.scope.value != "global":
        from .. import bus
        from ..live import ManagerError

        try:
            live = bus.fetch_problem_units(cat.lookup.scope.value, os.environ)
            asked = True
        except ManagerError as e:
            print(f"unitdoctor: {e}; offline scan of /", file=sys.stderr)
    from ..manager import Manager

    mgr = Manager(cat)
    result = scan(cat, target=target, live=live, live_asked=asked, manager=mgr)
    if args.prometheus:
        from ..render import metrics

        try:
            metrics.write_textfile(args.prometheus, metrics.exposition(result, t0))
        except OSError as e:
            print(f"unitdoctor: cannot write {args.prometheus}: {e.strerror}", file=sys.stderr)
            return EXIT_USAGE
    if args.graph:
        from ..render import graph

        try:
            graph.write(args.graph, graph.scan_dot(mgr, result))
        except graph.GraphError as e:
            print(f"unitdoctor: {e}", file=sys.stderr)
            return EXIT_USAGE
    from ..render import scan as render

    if args.json:
        import json

        # One write: the document of a large root has hundreds of thousands of tokens.
        sys.stdout.write(json.dumps(render.to_json(result), indent=2, ensure_ascii=False) + "\n")
    elif not args.quiet:
        from .pager import open_pager

        open_pager(args)  # a report, like list-units: paged on a terminal (fix and undo ask, so they do not page)
        render.render(result, sys.stdout)
    return EXIT_OK if result.ok else EXIT_PROBLEM
