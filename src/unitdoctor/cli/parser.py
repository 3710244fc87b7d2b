"""The command line's argparse parser: the options every command takes, and each command's own.

A run builds its own command's parser only (``Line.add``, asked by ``cli.line.parse``); ``build_parser()``
(the man page, the completions) has every command.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Callable, NoReturn, Sequence

from .common import COMMAND_MODULES, EXIT_STATUS_TEXT, EXIT_USAGE, VERSION, add_common

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


class Line:
    """The command line's parser, with the commands of the modules asked for so far (``add``)."""

    def __init__(self) -> None:
        self.parser = _Parser(
            prog="unitdoctor",
            description="Say why a systemd unit cannot start or be enabled, with evidence, and fix it safely.",
            epilog=_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self.parser.add_argument("--version", action="version", version=VERSION)
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
                self.runners.update(importlib.import_module(f"{__package__}.{name}").register(self.sub))
                self.modules.append(name)
        return self.parser, dict(self.sub.choices)


def build(modules: Sequence[str] = COMMAND_MODULES,
          ) -> tuple[argparse.ArgumentParser, dict[str, Runner], dict[str, argparse.ArgumentParser]]:
    """The parser with the commands of ``modules`` (of ``COMMAND_MODULES``), their runners, their parsers."""
    built = Line()
    parser, subparsers = built.add(modules)
    return parser, built.runners, subparsers


def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser (also what the man page and completions are made from)."""
    return build()[0]
