"""What every command shares: exit statuses, the options every command takes, bad input, the catalog.

Only argparse is imported at module level; the engine is imported when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from ..catalog import Catalog

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


def add_common(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    """``--root``, the scope and ``--json`` on ``p`` (``suppress``: a subcommand's copy, default not set)."""
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


def open_catalog(args: argparse.Namespace) -> Catalog:
    """The catalog for ``--root`` and the scope; a bad root or scope is a ``UsageError``."""
    from ..catalog import open_catalog as _open
    from ..lookup import LookupError_, Scope

    scope = Scope(args.scope or "system")
    try:
        return _open(args.root, scope, dict(os.environ))
    except LookupError_ as e:
        raise UsageError(f"--{scope.value} cannot be used with --root: {e}") from None
    except OSError as e:
        raise UsageError(
            f"Failed to initialize unit search paths for root directory {args.root}: {e.strerror}") from None


def mangle(units: Sequence[str]) -> list[str]:
    """Unit names as systemctl mangles them (notice on stderr); an invalid one is a ``UsageError``."""
    from .. import names

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


def emit_json(doc: Any, *, ensure_ascii: bool = False) -> None:
    """``doc`` as indented JSON on stdout."""
    import json

    json.dump(doc, sys.stdout, indent=2, ensure_ascii=ensure_ascii)
    sys.stdout.write("\n")
