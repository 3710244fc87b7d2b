"""Command line: argparse → engine → renderer → exit status. No systemd rule lives here.

One module per command group; each has ``register(subparsers)`` which adds its subcommands and returns
``{name: run}``, where ``run(args)`` returns the exit status. Adding a subcommand is one module plus its
name in ``COMMAND_MODULES``. Shared options, exit statuses and helpers are in ``cli.common``.

Exit status: 0 fine (``states``: like ``is-enabled``), 1 a problem was found, 2 bad input.

Only argparse is imported at module level here and in the command modules; the engine is imported when a
command runs, so ``unitdoctor --version`` loads none of it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Optional, Sequence

from .. import __version__
from .common import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, UsageError, add_common

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_PROBLEM", "EXIT_USAGE", "UsageError"]

#: The command modules, in the order ``--help`` lists their commands.
COMMAND_MODULES = ("states", "why", "fix")

Runner = Callable[[argparse.Namespace], int]


def _build() -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    parser = argparse.ArgumentParser(
        prog="unitdoctor",
        description="Say why a systemd unit cannot start or be enabled, with evidence.",
    )
    parser.add_argument("--version", action="version", version=f"unitdoctor {__version__}")
    add_common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    runners: dict[str, Runner] = {}
    for name in COMMAND_MODULES:
        runners.update(importlib.import_module(f"{__name__}.{name}").register(sub))
    return parser, runners


def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser (also what the man page and completions are made from)."""
    return _build()[0]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser, runners = _build()
    # `unitdoctor UNIT…` means `unitdoctor why UNIT…`.
    idx = _first_positional(args_list)
    if idx is not None and args_list[idx] not in runners:
        args_list.insert(idx, "why")
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return runners[args.command](args)
    except UsageError as e:
        print(f"unitdoctor: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
