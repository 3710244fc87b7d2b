"""``unitdoctor states [UNIT...]``: unit-file states as ``systemctl list-unit-files`` / ``is-enabled`` compute them.

Exit status as ``is-enabled``: 0 when a named unit is enabled (or the list is not empty), else 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .common import EXIT_OK, EXIT_PROBLEM, add_common, emit_json, mangle, open_catalog


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    st = sub.add_parser("states", help="unit-file states, like list-unit-files / is-enabled")
    add_common(st, suppress=True)
    st.add_argument("units", nargs="*", metavar="UNIT")
    return {"states": run}


def run(args: argparse.Namespace) -> int:
    from .. import install, sysv
    from ..preset import Presets
    from ..render import states as render

    cat = open_catalog(args)
    if args.units:
        results = []
        for u in mangle(args.units):
            results.append(sysv.is_enabled(cat, u, os.environ))
            h = results[-1].sysv
            if h is not None and not args.json:
                # systemctl's notice on stderr; the answer goes to stdout like any other state.
                where = "" if cat.root.is_host else f"--root={cat.root.arg} "
                print(f"{u} is not a native service, redirecting to systemd-sysv-install.\n"
                      f"Executing: {sysv.SYSV_INSTALL} {where}is-enabled {h.script.rsplit('/', 1)[-1]}",
                      file=sys.stderr)
            if results[-1].error is not None and not args.json:
                break  # is-enabled stops at the first name it cannot look up
    else:
        failed = install.list_error(cat)
        if failed is not None:
            print(f"Failed to get unit file list: {failed.message}", file=sys.stderr)
            return EXIT_PROBLEM
        results = install.list_unit_files(cat)
    presets_db = Presets.load(cat.root, cat.lookup.scope)
    presets = {r.name: (presets_db.query(r.name) if render.preset_shown(r) else None) for r in results}
    if args.json:
        emit_json(render.to_json(results, presets, cat.root.display), ensure_ascii=True)
    elif args.units:
        for r in results:
            if r.error is not None:
                print(f"Failed to get unit file state for {r.name}: {r.error.message}", file=sys.stderr)
            else:
                print(r.state.value)
    else:
        render.table(results, presets, sys.stdout)
    if not args.units:
        return EXIT_OK if results else EXIT_PROBLEM
    if any(r.error is not None for r in results):
        return EXIT_PROBLEM
    return EXIT_OK if any(r.state.is_enabled_rc0 for r in results) else EXIT_PROBLEM
