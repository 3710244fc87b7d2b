"""What every command shares: exit statuses, the options every command takes, bad input, the catalog.

Nothing heavy is imported at module level (argparse when options are added, the engine when a command runs).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Optional, Sequence

from .. import __version__

if TYPE_CHECKING:
    import argparse

    from ..catalog import Catalog

#: Every command and the module that registers it, in the order ``--help`` lists them.
COMMANDS = {"states": "states", "why": "why", "fix": "fix", "history": "fix", "undo": "fix", "scan": "scan",
            "units": "scan"}
#: The command modules, in that order.
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))
#: What ``--version`` prints.
VERSION = f"unitdoctor {__version__}"


#: Exit statuses. 0, 1, 2 and 4 as systemctl uses them (LSB: 4 is "insufficient privilege"); 70 is
#: EX_SOFTWARE from sysexits.h (systemd.exec(5) lists it as "SOFTWARE"), for a bug in unitdoctor.
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_NOPERMISSION, EXIT_SOFTWARE = 0, 1, 2, 4, 70

#: What ``--help`` and the man page say about them.
EXIT_STATUS_TEXT = (
    (EXIT_OK, "every unit can start (why); a named unit is enabled or units are listed (states, like "
              "is-enabled / list-unit-files); the fix or undo is done"),
    (EXIT_PROBLEM, "a problem was found, or a fix, undo or recovery could not do everything"),
    (EXIT_USAGE, "bad input: an unknown command or option, an invalid unit name, an unusable --root, "
                 "acting without confirmation"),
    (EXIT_NOPERMISSION, "not permitted: the action needs root (the message names the command to run with sudo) "
                        "or the manager refused it"),
    (EXIT_SOFTWARE, "internal error: a bug in unitdoctor (the message names the unit and how to report it); "
                    "in a batch the other units still get their answers"),
)


#: Where bugs are reported (also [project.urls] in pyproject.toml).
ISSUES = "https://github.com/unitdoctor/unitdoctor/issues"


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


class NotPermitted(Exception):
    """The action needs privileges we do not have: printed as one line (with what to run), exit status 4."""


def add_common(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every command takes, on ``p`` (``suppress``: a subcommand's copy, default not set).

    Like systemctl's, they may stand anywhere on the line; a command ignores the ones that do not concern
    it (``--offline`` for ``states``, which never asks the manager).
    """
    import argparse

    d = argparse.SUPPRESS if suppress else None
    p.add_argument("--root", metavar="DIR", default=d, help="operate on the unit files below DIR")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--user", dest="scope", action="store_const", const="user", default=d,
                       help="the calling user's units (paths from HOME, XDG_* as systemd --user builds them)")
    scope.add_argument("--global", dest="scope", action="store_const", const="global", default=d,
                       help="units enabled for all users (/etc/systemd/user…)")
    scope.add_argument("--system", dest="scope", action="store_const", const="system", default=d,
                       help="system units (default)")
    flag = argparse.SUPPRESS if suppress else False
    p.add_argument("--json", action="store_true", default=flag,
                   help="print JSON (schemas: unitdoctor/schema/*.schema.json in the package)")
    p.add_argument("--offline", action="store_true", default=flag,
                   help="do not ask the running manager: no live facts, fix changes files only; implied by --root")
    p.add_argument("--no-pager", action="store_true", default=flag, help="do not pipe output into a pager")
    p.add_argument("--no-host-tools", action="store_true", default=flag,
                   help="run no program of the host (rpm, journalctl) to read the root: the rpm database is read "
                        "directly where possible, the journal is skipped (also UNITDOCTOR_NO_HOST_TOOLS=1)")
    p.add_argument("--no-legend", action="store_true", default=flag,
                   help="no column headers and footer (states, history)")
    p.add_argument("-q", "--quiet", action="store_true", default=flag,
                   help="print no results, only errors; the exit status says it")


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


def internal_error(exc: BaseException, unit: Optional[str] = None) -> str:
    """The one line (and a hint) for a bug: what failed, on which unit, and how to report it."""
    import traceback

    where = ""
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})"
    what = f"while examining {unit}" if unit else "in unitdoctor"
    text = (f"unitdoctor: internal error {what}: {type(exc).__name__}: {exc}{where}\n"
            f"unitdoctor: this is a bug in unitdoctor {__version__}; please report it at {ISSUES} with "
            f"the command line and the traceback that SYSTEMD_LOG_LEVEL=debug prints.")
    if os.environ.get("SYSTEMD_LOG_LEVEL", "").strip().lower() in ("debug", "7"):
        text += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return text


def emit_json(doc: Any, *, ensure_ascii: bool = False) -> None:
    """``doc`` as indented JSON on stdout."""
    import json

    json.dump(doc, sys.stdout, indent=2, ensure_ascii=ensure_ascii)
    sys.stdout.write("\n")
