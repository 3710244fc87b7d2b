"""Command line: argparse → engine → renderer → exit status. No systemd rule lives here.

Exit status: 0 fine (``states``: like ``is-enabled``), 1 a problem was found, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from . import __version__, cli_fix

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
COMMANDS = ("states", "why", *cli_fix.COMMANDS)


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


def _common(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else None
    p.add_argument("--root", metavar="DIR", default=d, help="operate on the unit files below DIR")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--user", dest="scope", action="store_const", const="user", default=d,
                       help="the calling user's units (paths from HOME, XDG_* as systemd --user builds them)")
    scope.add_argument("--global", dest="scope", action="store_const", const="global", default=d,
                       help="units enabled for all users (/etc/systemd/user…)")
    scope.add_argument("--system", dest="scope", action="store_const", const="system", default=d,
                       help="system units (default)")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="print JSON (schema in schema/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unitdoctor",
        description="Say why a systemd unit cannot start or be enabled, with evidence.",
    )
    parser.add_argument("--version", action="version", version=f"unitdoctor {__version__}")
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    st = sub.add_parser("states", help="unit-file states, like list-unit-files / is-enabled")
    _common(st, suppress=True)
    st.add_argument("units", nargs="*", metavar="UNIT")
    why = sub.add_parser("why", help="why a unit cannot start or be enabled (the default command)")
    _common(why, suppress=True)
    why.add_argument("units", nargs="+", metavar="UNIT")
    why.add_argument("--verbose", "-v", action="store_true",
                     help="also list the evidence sources read, missing or skipped (package database, logs…)")
    why.add_argument("--offline", action="store_true",
                     help="do not ask the running manager (live facts are skipped); implied by --root")
    cli_fix.add_parsers(sub, _common)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `unitdoctor UNIT…` means `unitdoctor why UNIT…`.
    idx = _first_positional(args_list)
    if idx is not None and args_list[idx] not in COMMANDS:
        args_list.insert(idx, "why")
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "states":
            return _states(args)
        if args.command == "why":
            return _why(args)
        if args.command in cli_fix.COMMANDS:
            return cli_fix.run(args)
    except UsageError as e:
        print(f"unitdoctor: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    raise AssertionError(args.command)


def _first_positional(argv: list[str]) -> Optional[int]:
    """Index of the first word that is not an option or the value of ``--root DIR``."""
    skip = False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == "--root":
            skip = True
            continue
        if a == "--":
            return i + 1 if i + 1 < len(argv) else None
        if a.startswith("-"):
            continue
        return i
    return None


def _catalog(args: argparse.Namespace):
    from .catalog import open_catalog
    from .lookup import LookupError_, Scope

    scope = Scope(args.scope or "system")
    try:
        return open_catalog(args.root, scope, dict(os.environ))
    except LookupError_ as e:
        raise UsageError(f"--{scope.value} cannot be used with --root: {e}") from None
    except OSError as e:
        raise UsageError(
            f"Failed to initialize unit search paths for root directory {args.root}: {e.strerror}") from None


def _mangle(units: Sequence[str]) -> list[str]:
    from . import names

    out = []
    for u in units:
        try:
            mangled, notice = names.mangle(u)
        except names.InvalidUnitName as e:
            raise UsageError(str(e)) from None
        if notice:
            print(notice, file=sys.stderr)
        out.append(mangled)
    return out


def _states(args: argparse.Namespace) -> int:
    from . import install, sysv
    from .preset import Presets
    from .render import states as render

    cat = _catalog(args)
    if args.units:
        results = []
        for u in _mangle(args.units):
            results.append(sysv.is_enabled(cat, u, os.environ))
            h = results[-1].sysv
            if h is not None and not args.json:
                print(f"{u} is not a native service, redirecting to systemd-sysv-install.\n"
                      f"Executing: {h.command}", file=sys.stderr)
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
        import json

        json.dump(render.to_json(results, presets, cat.root.display), sys.stdout, indent=2)
        sys.stdout.write("\n")
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


def _why(args: argparse.Namespace) -> int:
    from .manager import Manager
    from .report import why
    from .sources import EvidenceSources

    cat = _catalog(args)
    units = _mangle(args.units)
    mgr = Manager(cat)
    src = EvidenceSources.for_root(cat.root)
    live = {}
    if args.root is None and not args.offline and cat.lookup.scope.value != "global":
        from . import bus

        try:
            live = bus.fetch_units(cat.lookup.scope.value, os.environ, units)
        except bus.ManagerError as e:
            print(f"unitdoctor: {e}; offline analysis of /", file=sys.stderr)
    reports = [why(cat, u, manager=mgr, live=live.get(u), sources=src, environ=os.environ) for u in units]
    if args.json:
        import json

        from .render import json as render_json

        json.dump([render_json.report(cat, r, verbose=args.verbose) for r in reports], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from .render import text

        text.render(cat, reports, sys.stdout, verbose=args.verbose)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_PROBLEM


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
