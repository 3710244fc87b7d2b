"""The command line as systemctl reads it: options anywhere, then the command, then its arguments.

systemctl parses with getopt_long, which moves every option in front of the words (so ``systemctl
status -l foo`` and ``systemctl -l status foo`` are the same) and stops at ``--``. We do the same
before argparse sees the line: the options go after the command word (every command accepts the common
ones), the words after them, behind a ``--`` when one of them starts with ``-`` (``-.mount``).

The command word: a known command; otherwise the words are units for ``why`` (``unitdoctor
foo.service`` means ``unitdoctor why foo.service``) when the first one names a unit — it has a unit
type suffix, an ``@``, or is a path (mangled as systemctl does) — or is a bare name whose ``.service``
exists in the catalog. Any other word is an unknown command verb (exit status 2, with "Did you mean"),
as systemctl says "Unknown command verb frobnicate."; ``unitdoctor why NAME`` asks about a unit that
does not exist.
"""

from __future__ import annotations

import argparse
from typing import Callable, Mapping, Optional, Sequence

from .common import UsageError

#: The parser with (at least) the commands of the given modules: (parser, {command: its parser}).
Build = Callable[[Sequence[str]], tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]]


def _takes_value(parsers: list[argparse.ArgumentParser]) -> tuple[dict[str, bool], list[str]]:
    """{option string: takes a value} for ``parsers`` and the long options (for unique prefixes)."""
    out: dict[str, bool] = {}
    for p in parsers:
        for opt, action in p._option_string_actions.items():  # argparse keeps no public list
            out[opt] = action.nargs != 0
    return out, [o for o in out if o.startswith("--")]


def split(argv: list[str], options: dict[str, bool], longs: list[str]) -> tuple[list[str], list[str]]:
    """(options with their values, words) as getopt's permutation sees them."""
    opts: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            words.extend(argv[i:])
            break
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in options:
                hits = [o for o in longs if o.startswith(name)]
                name = hits[0] if len(hits) == 1 else name
            opts.append(a)
            if "=" not in a and options.get(name) and i < len(argv):
                opts.append(argv[i])
                i += 1
        elif a.startswith("-") and a != "-":
            opts.append(a)
            # a cluster of short flags; a short option with a value takes the rest or the next word
            for j, ch in enumerate(a[1:], 1):
                if options.get("-" + ch):
                    if j == len(a) - 1 and i < len(argv):
                        opts.append(argv[i])
                        i += 1
                    break
        else:
            words.append(a)
    return opts, words


def _explained(argv: list[str], options: dict[str, bool]) -> bool:
    """Whether every option word of ``argv`` is one of ``options`` exactly (no abbreviation), so that
    ``split`` with them alone cuts the line as it does with every command's options."""
    for a in argv:
        if a == "--":
            return True
        if a.startswith("--"):
            if a.split("=", 1)[0] not in options:
                return False
        elif a.startswith("-") and a != "-" and any("-" + ch not in options for ch in a[1:]):
            return False
    return True


def parse(build: Build, commands: Mapping[str, str], argv: list[str]) -> Optional[argparse.Namespace]:
    """The parsed line, or None when no command and no unit is given (the caller says so in one line).

    ``commands`` maps every command to its module; ``build`` makes the parser with the commands of some
    modules. Only the command's own parser is built, unless the line needs them all (``--help`` alone,
    an option that is not one every command takes).
    """
    every = tuple(dict.fromkeys(commands.values()))
    parser, subparsers = build(())
    options, longs = _takes_value([parser])
    if not _explained(argv, options):
        parser, subparsers = build(every)
        options, longs = _takes_value([parser, *subparsers.values()])
    opts, words = split(argv, options, longs)
    if "--version" in opts:
        parser.parse_args(["--version"])  # prints and exits 0, like systemctl --version anywhere
    if not words:
        if any(o in ("-h", "--help") for o in opts):
            build(every)[0].parse_args(["--help"])
        parser.parse_args(opts)  # an option that is not one is reported as such (one line, exit 2)
        return None
    if words[0] in commands:
        command, rest = words[0], words[1:]
        parser, _ = build((commands[command],))
    else:
        command, rest = "why", words
        parser, _ = build((commands["why"],))
        if not _names_a_unit(parser, opts, words[0]):
            raise UsageError(_unknown_verb(words[0], list(commands)))
    tail = (["--"] if any(w.startswith("-") for w in rest) else []) + rest
    return parser.parse_args([command, *opts, *tail])


def _names_a_unit(parser: argparse.ArgumentParser, opts: list[str], word: str) -> bool:
    """Whether ``word`` (not a command) means a unit: see the module docstring."""
    if "." in word or "@" in word or "/" in word or "\\" in word:
        return True
    from .. import names
    from .common import open_catalog

    try:
        unit, _notice = names.mangle(word)
    except names.InvalidUnitName:
        return False
    args = parser.parse_args(["why", *opts, "--", unit])  # options errors are reported as usual
    try:
        cat = open_catalog(args)
    except UsageError:
        return True  # let `why` report the unusable root
    return cat.first(unit) is not None


def _unknown_verb(word: str, commands: list[str]) -> str:
    import difflib  # only for a word that is no command

    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (f"Unknown command verb {word}.{hint} (No unit {word}.service exists either; "
            f"`unitdoctor why {word}` asks about it anyway. Commands: {', '.join(commands)}.)")
