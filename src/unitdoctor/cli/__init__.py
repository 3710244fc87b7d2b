"""Command line: argparse → engine → renderer → exit status. No systemd rule lives here.

One module per command group; each has ``register(subparsers)`` which adds its subcommands and returns
``{name: run}``, where ``run(args)`` returns the exit status. Adding a subcommand is one module plus its
name in ``common.COMMANDS``. Shared options, exit statuses and helpers are in ``cli.common``; the line itself
(options anywhere, the default command) in ``cli.line``.

The parser is built in ``cli.parser``; a run builds its own command's parser only (``cli.line`` says
when it needs them all: ``--help`` without a command, an option the shared ones do not explain). Only
argparse is imported at module level in the command modules; the engine is imported when a command
runs. ``unitdoctor --version`` alone is answered before argparse is imported.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from .common import (
    COMMAND_MODULES,
    COMMANDS,
    EXIT_NOPERMISSION,
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_SOFTWARE,
    EXIT_USAGE,
    VERSION,
    NotPermitted,
    UsageError,
    internal_error,
)

if TYPE_CHECKING:
    import argparse

__all__ = ["main", "build_parser", "COMMANDS", "COMMAND_MODULES", "VERSION", "EXIT_OK", "EXIT_PROBLEM", "EXIT_USAGE",
           "EXIT_NOPERMISSION", "EXIT_SOFTWARE"]

def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser (also what the man page and completions are made from)."""
    from .parser import build_parser as build

    return build()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command line; returns the exit status (see ``--help``)."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        # what the parser's --version action does (print, a write error ignored, exit 0), without argparse
        import contextlib

        with contextlib.suppress(AttributeError, OSError):
            sys.stdout.write(VERSION + "\n")
        sys.exit(EXIT_OK)
    from ..render import terminal
    from ..render.escape import SafeStream

    terminal.forget()
    err = sys.stderr
    sys.stderr = SafeStream(err)  # every message: names and paths from a root
    try:
        return _deep(lambda: _main(argv))
    finally:
        sys.stderr = err


#: The stack of the thread a command runs in, and the recursion it may use: the engine follows dependency
#: chains as systemd does (recursively), and a root may hold a chain thousands of units deep.
STACK, RECURSION = 512 << 20, 100_000


def _deep(run: Callable[[], int]) -> int:
    """``run()`` in a thread with a stack deep enough for any chain a root holds (the main thread's is fixed
    at 8 MiB by the shell's ulimit); its exceptions, SystemExit included, are raised here."""
    import threading

    result: list[int] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            result.append(run())
        except BaseException as e:  # raised again in the calling thread
            failure.append(e)

    try:
        old = threading.stack_size(STACK)
    except (ValueError, RuntimeError):  # a platform without it: the usual stack
        return run()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION))
    try:
        t = threading.Thread(target=body, name="unitdoctor", daemon=True)
        t.start()
    except RuntimeError:  # no room for that stack (ulimit -v, a small container): the usual one
        sys.setrecursionlimit(limit)
        return run()
    finally:
        threading.stack_size(old)
    try:
        while t.is_alive():
            t.join(0.5)  # a timed join: Ctrl-C still reaches the main thread
    except KeyboardInterrupt:
        return 130
    finally:
        sys.setrecursionlimit(limit)
    if failure:
        raise failure[0]
    return result[0]


def _main(argv: Optional[Sequence[str]]) -> int:
    from ..render.escape import SafeStream
    from . import line
    from .output import guard_stdout
    from .pager import close_pager
    from .parser import Line

    built = Line()
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
