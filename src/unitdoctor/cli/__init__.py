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
from typing import Callable, NoReturn, Optional, Sequence

from .. import __version__
from .common import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, UsageError, add_common

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_PROBLEM", "EXIT_USAGE", "UsageError"]

#: The command modules, in the order ``--help`` lists their commands.
COMMAND_MODULES = ("states", "why", "fix", "scan")

Runner = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (escaped: the bad word may hold anything), exit status 2."""

    def error(self, message: str) -> NoReturn:
        from ..render.escape import escape

        self.exit(EXIT_USAGE, f"{self.prog}: {escape(message)} (see '{self.prog} --help')\n")


def _build() -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    parser = _Parser(
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
    from ..render.escape import SafeStream

    out, err = sys.stdout, sys.stderr
    sys.stderr = SafeStream(err)  # type: ignore[assignment]  # every message: names and paths from a root
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_usage(sys.stderr)
            return EXIT_USAGE
        if not getattr(args, "json", False):
            sys.stdout = SafeStream(out)  # type: ignore[assignment]  # text output; JSON escapes by itself
        try:
            return runners[args.command](args)
        except UsageError as e:
            print(f"unitdoctor: {e}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            return EXIT_OK
    finally:
        sys.stdout, sys.stderr = out, err


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
        if a == "--":  # `unitdoctor -- UNIT`: the command goes before the `--`
            return i if i + 1 < len(argv) else None
        if a.startswith("-"):
            continue
        return i
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
