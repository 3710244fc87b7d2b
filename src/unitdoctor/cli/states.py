"""``unitdoctor states [PATTERN|UNIT...]``: unit-file states as ``systemctl list-unit-files`` / ``is-enabled``.

With only unit names it answers like ``is-enabled`` (one state per line; exit 0 when one is enabled).
With a glob pattern, ``--state=`` or ``--type=`` it lists like ``list-unit-files PATTERN...``: the units
whose name matches any pattern (fnmatch, no escapes), whose type is one of ``--type`` and whose state is
one of ``--state`` (both comma-separated and repeatable; ``-t`` also takes load-state words, which
systemctl adds to the state filter). Exit 0 when something is listed, else 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .common import EXIT_OK, EXIT_PROBLEM, UsageError, add_common, emit_json, mangle, open_catalog

#: ``systemctl --type=help``'s order (unit_type_table).
TYPES = ("service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path", "slice", "scope")
LOAD_STATES = ("stub", "loaded", "not-found", "bad-setting", "error", "merged", "masked")


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    st = sub.add_parser("states", help="unit-file states, like list-unit-files / is-enabled",
                        description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common(st, suppress=True)
    st.add_argument("units", nargs="*", metavar="PATTERN|UNIT")
    st.add_argument("--state", action="append", default=[], metavar="STATE",
                    help="list only units in these unit-file states (comma-separated; --state=help lists them)")
    st.add_argument("--type", "-t", action="append", default=[], metavar="TYPE",
                    help="list only units of these types (comma-separated; --type=help lists them)")
    return {"states": run}


def _split(values: list[str]) -> list[str]:
    return [v for item in values for v in item.split(",") if v]


def _filters(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(types, states) from ``--type``/``-t`` and ``--state``, as systemctl's parse_argv sorts them."""
    from ..install import UnitFileState

    types: list[str] = []
    states = _split(args.state)
    if "help" in states:
        print("Available unit load states:", *LOAD_STATES, "", "Available unit file states:",
              *(s.value for s in UnitFileState if s is not UnitFileState.NOT_FOUND), sep="\n")
        raise SystemExit(EXIT_OK)
    for t in _split(args.type):
        if t == "help":
            print("Available unit types:", *TYPES, sep="\n")
            raise SystemExit(EXIT_OK)
        if t in TYPES:
            types.append(t)
        elif t in LOAD_STATES:
            states.append(t)
        else:
            raise UsageError(f"Unknown unit type or load state '{t}'. Use -t help to see a list of allowed values.")
    return types, states


def run(args: argparse.Namespace) -> int:
    from .. import install, names, sysv
    from ..preset import Presets
    from ..render import states as render

    types, states = _filters(args)
    listing = not args.units or bool(types or states) or any(names.is_glob(u) for u in args.units)
    cat = open_catalog(args)
    if not listing:
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
        import gc

        # Listing every unit file makes tens of thousands of objects and no reference cycles: the cyclic
        # collector would only walk them again and again (a tenth of the time at 10,000 units).
        collecting = gc.isenabled()
        gc.disable()
        try:
            results = render.select(install.list_unit_files(cat), patterns=args.units, types=types, states=states)
        finally:
            if collecting:
                gc.enable()
    presets_db = Presets.load(cat.root, cat.lookup.scope)
    presets = {r.name: (presets_db.query(r.name) if render.preset_shown(r) else None) for r in results}
    if args.json:
        if not args.quiet:
            emit_json(render.to_json(results, presets, cat.root.display), ensure_ascii=True)
    elif not listing:
        for r in results:
            if r.error is not None:
                print(f"Failed to get unit file state for {r.name}: {r.error.message}", file=sys.stderr)
            elif not args.quiet:
                print(r.state.value)
    else:
        from ..render import terminal
        from .pager import open_pager

        open_pager(args)
        # -q drops the legend, as it does for systemctl list-unit-files
        render.table(results, presets, sys.stdout, legend=not (args.no_legend or args.quiet),
                     colour=terminal.colours_enabled())
    if listing:
        return EXIT_OK if results else EXIT_PROBLEM
    if any(r.error is not None for r in results):
        return EXIT_PROBLEM
    return EXIT_OK if any(r.state.is_enabled_rc0 for r in results) else EXIT_PROBLEM
