"""Command line: argparse → engine → renderer → exit status. No systemd rule lives here.

One module per command group; each has ``register(subparsers)`` which adds its subcommands and returns
``{name: run}``, where ``run(args)`` returns the exit status. Adding a subcommand is one module plus its
name in ``COMMANDS``. Shared options, exit statuses and helpers are in ``cli.common``; the line itself
(options anywhere, the default command) in ``cli.line``.

Only argparse is imported at module level here and in the command modules; the engine is imported when a
command runs, so ``unitdoctor --version`` loads none of it. A run builds the parser of its own command
only (``cli.line`` says when it needs them all: ``--help`` without a command, an option the shared ones
do not explain); ``build_parser()`` (the man page, the completions) has every command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable, NoReturn, Optional, Sequence

from .. import __version__
from .common import (
    EXIT_NOPERMISSION,
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_SOFTWARE,
    EXIT_STATUS_TEXT,
    EXIT_USAGE,
    NotPermitted,
    UsageError,
    add_common,
    internal_error,
)

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_PROBLEM", "EXIT_USAGE", "EXIT_NOPERMISSION", "EXIT_SOFTWARE"]

#: Every command and the module that registers it, in the order ``--help`` lists them.
COMMANDS = {"states": "states", "why": "why", "fix": "fix", "history": "fix", "undo": "fix", "scan": "scan",
            "units": "scan"}
#: The command modules, in that order.
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))

Runner = Callable[[argparse.Namespace], int]


def _epilog() -> str:
    lines = ["A UNIT without a command means `why UNIT`. Options may stand anywhere on the line.", "",
             "exit status:"]
    lines += [f"  {code:<3} {text}" for code, text in EXIT_STATUS_TEXT]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (escaped: the bad word may hold anything), exit status 2."""

    def error(self, message: str) -> NoReturn:
        from ..render.escape import escape

        self.exit(EXIT_USAGE, f"{self.prog}: {escape(message)} (see '{self.prog} --help')\n")


class _Line:
    """The command line's parser, with the commands of the modules asked for so far (``add``)."""

    def __init__(self) -> None:
        self.parser = _Parser(
        prog="unitdoctor",
        description="Say why a systemd unit cannot start or be enabled, with evidence, and fix it safely.",
        epilog=_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self.parser.add_argument("--version", action="version", version=f"unitdoctor {__version__}")
        add_common(self.parser, suppress=False)
        self.sub = self.parser.add_subparsers(dest="command", metavar="COMMAND")
        self.runners: dict[str, Runner] = {}
        self.modules: list[str] = []

    def add(self, modules: Sequence[str]) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
        """The parser with (at least) the commands of ``modules`` added, and {command: its parser}."""
        for name in COMMAND_MODULES:
            if name in modules and name not in self.modules:
                # --help lists the commands in the order they were added
                assert not self.modules or COMMAND_MODULES.index(name) > COMMAND_MODULES.index(self.modules[-1])
                self.runners.update(importlib.import_module(f"{__name__}.{name}").register(self.sub))
                self.modules.append(name)
        return self.parser, dict(self.sub.choices)


def _build(modules: Sequence[str] = COMMAND_MODULES,
           ) -> tuple[argparse.ArgumentParser, dict[str, Runner], dict[str, argparse.ArgumentParser]]:
    """The parser with the commands of ``modules`` (of ``COMMAND_MODULES``), their runners, their parsers."""
    built = _Line()
    parser, subparsers = built.add(modules)
    return parser, built.runners, subparsers


def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser (also what the man page and completions are made from)."""
    return _build()[0]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command line; returns the exit status (see ``--help``)."""
    from ..render import terminal
    from ..render.escape import SafeStream

    terminal.forget()
    err = sys.stderr
    sys.stderr = SafeStream(err)  # every message: names and paths from a root
    try:
        return _main(argv)
    finally:
        sys.stderr = err


def _main(argv: Optional[Sequence[str]]) -> int:
    from ..render.escape import SafeStream
    from . import line
    from .output import guard_stdout
    from .pager import close_pager

    built = _Line()
    try:
        args = line.parse(built.add, COMMANDS, list(sys.argv[1:] if argv is None else argv))
    except UsageError as e:
        print(f"unitdoctor: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args is None:  # one line, as every usage error (argparse's usage would take four)
        print("usage: unitdoctor [OPTIONS...] COMMAND [ARGS...] | UNIT... (see 'unitdoctor --help')", file=sys.stderr)
        return EXIT_USAGE
    from .. import hosttools

    hosttools.forbid(bool(getattr(args, "no_host_tools", False)) or hosttools.from_environment(os.environ))
    with guard_stdout():  # a closed pipe keeps the verdict's exit status
        guarded = sys.stdout
        if not getattr(args, "json", False):  # text output; JSON escapes by itself
            sys.stdout = SafeStream(guarded)
        try:
            return built.runners[args.command](args)
        except UsageError as e:
            print(f"unitdoctor: {e}", file=sys.stderr)
            return EXIT_USAGE
        except NotPermitted as e:
            print(f"unitdoctor: {e}", file=sys.stderr)
            return EXIT_NOPERMISSION
        except KeyboardInterrupt:
            return 130
        except Exception as e:  # a bug: one line that says how to report it, never a bare traceback
            print(internal_error(e), file=sys.stderr)
            return EXIT_SOFTWARE
        finally:
            sys.stdout = guarded
            close_pager()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
