"""The man page ``unitdoctor(8)`` and the bash, zsh and fish completions, made from the argparse parser.

``python -m unitdoctor.cli.generate man|bash|zsh|fish`` prints one; the copies shipped in the package
(``unitdoctor/man/unitdoctor.8``, ``unitdoctor/completion/``) are these outputs, and a test fails when
they differ (regenerate with ``scripts/generate``). Commands, options, their arguments and help come from
the parser, so a new subcommand or option appears everywhere at once. The completions complete unit names
from the catalog by asking ``unitdoctor states`` (with the ``--root``/``--user``/``--global`` already on
the line), as systemctl's completion asks ``systemctl list-unit-files``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Optional

from .. import __version__
from .common import EXIT_STATUS_TEXT


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    metavar: Optional[str]  # None: a flag without a value
    help: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    positional: Optional[str]  # metavar of the words it takes (UNIT, ID …), None when none
    positional_choices: tuple[str, ...] = ()


def _options(p: argparse.ArgumentParser, skip: frozenset[str] = frozenset()) -> tuple[Option, ...]:
    out = []
    for a in p._actions:  # argparse has no public list of its actions
        if not a.option_strings or a.help == argparse.SUPPRESS or set(a.option_strings) & skip:
            continue
        metavar = None
        if a.nargs != 0:
            metavar = a.metavar if isinstance(a.metavar, str) else a.dest.upper()
        out.append(Option(tuple(sorted(a.option_strings, key=len)), metavar, (a.help or "") % {"default": a.default},
                          tuple(str(c) for c in a.choices or ())))
    return tuple(out)


def model(parser: argparse.ArgumentParser) -> tuple[tuple[Option, ...], tuple[Command, ...]]:
    """(common options, commands) as the parser has them."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help or "" for c in sub._choices_actions}
    common = _options(parser)
    common_flags = frozenset(f for o in common for f in o.flags)
    commands = []
    for name, p in sub.choices.items():
        pos = [a for a in p._actions if not a.option_strings]
        metavar = None
        choices: tuple[str, ...] = ()
        if pos:
            metavar = pos[0].metavar if isinstance(pos[0].metavar, str) else pos[0].dest.upper()
            choices = tuple(str(c) for c in pos[0].choices or ())
        commands.append(Command(name, helps.get(name, ""), _options(p, common_flags | {"-h", "--help"}),
                                metavar, choices))
    return common, tuple(commands)


# -- man page --------------------------------------------------------------------------------------------------


def _roff(s: str) -> str:
    # groff's ASCII output (man in the C locale) has no glyph for an ellipsis: write three dots
    s = s.replace("\\", "\\e").replace("-", "\\-").replace("\u2026", "...")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in s.split("\n"))


def _flag_line(o: Option) -> str:
    flags = ", ".join(f"\\fB{_roff(f)}\\fR" for f in o.flags)
    return flags + (f"=\\fI{_roff(o.metavar)}\\fR" if o.metavar else "")


ENVIRONMENT = (
    ("SYSTEMD_PAGER", "Pager to use when --no-pager is not given; overrides PAGER. Empty or \"cat\": no pager. "
                      "Without either, pager, less and more are tried in turn."),
    ("PAGER", "Pager to use when SYSTEMD_PAGER is not set."),
    ("SYSTEMD_LESS", "Options for less (the LESS variable the pager gets); default FRSXMK."),
    ("SYSTEMD_LESSCHARSET", "LESSCHARSET for less; default utf-8 when the locale is UTF-8."),
    ("SYSTEMD_PAGERSECURE", "When true (default: when the effective user does not own the login session, e.g. "
                            "under sudo) only less is used, with LESSSECURE=1."),
    ("SYSTEMD_COLORS", "A boolean (or 16, 256): colour output even when not on a terminal, or never."),
    ("NO_COLOR", "When set (and SYSTEMD_COLORS is not), no colour."),
    ("COLUMNS", "The width text is wrapped to; default: the terminal's."),
    ("SYSTEMD_LOG_LEVEL", "debug: an internal error also prints its traceback (for a bug report)."),
    ("SYSTEMD_UNIT_PATH", "The unit search path, as systemd reads it (a trailing colon appends the default "
                          "path)."),
    ("HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_DIRS, XDG_DATA_DIRS",
     "The user's unit search path for --user, as systemd --user builds it."),
    ("XDG_STATE_HOME", "For --user, the journal is in $XDG_STATE_HOME/unitdoctor (default ~/.local/state)."),
)

FILES = (
    ("/var/lib/unitdoctor/", "The fix journal: one ID.json entry per fix or undo, written before the first "
                             "change (history, undo and fix --recover read it). Under --root=DIR it is "
                             "DIR/var/lib/unitdoctor/."),
    ("/var/lib/unitdoctor/lock", "Held (flock) by a fix, undo or recovery from its first read of the state "
                                 "to its last journal write; concurrent fixes run one after the other."),
    ("~/.local/state/unitdoctor/", "The journal of --user fixes ($XDG_STATE_HOME/unitdoctor)."),
    ("~/.local/state/unitdoctor/system/", "Not root: the journal of the live system's fixes the manager made for "
                                          "you over the system bus, where polkit allowed it (UnmaskUnitFiles, "
                                          "EnableUnitFiles; undo asks MaskUnitFiles, DisableUnitFiles). history, "
                                          "undo and fix --recover use it once it exists."),
    ("unitdoctor/schema/*.schema.json", "The JSON schemas of --json output, in the installed package."),
)

EXAMPLES = (
    ("unitdoctor nginx.service", "Why nginx.service cannot start or be enabled, with evidence and fixes."),
    ("unitdoctor --root=/mnt/image why app.service web.service --json",
     "The same for two units of an offline root, as JSON."),
    ("unitdoctor fix --dry-run nginx.service", "The plan, changing nothing."),
    ("sudo unitdoctor fix nginx.service", "Print the plan, ask, then act (journaled); `unitdoctor undo` reverts."),
    ("unitdoctor states --state=masked,masked-runtime --type=service",
     "Every masked service, like systemctl list-unit-files."),
    ("unitdoctor --user why pipewire.service", "A unit of the calling user's manager."),
)


def man_page(parser: argparse.ArgumentParser) -> str:
    common, commands = model(parser)
    out = [f'.TH UNITDOCTOR 8 "" "unitdoctor {__version__}" "unitdoctor"',
           ".SH NAME", "unitdoctor \\- say why a systemd unit cannot start or be enabled, and fix it safely",
           ".SH SYNOPSIS",
           ".B unitdoctor", "[\\fIOPTIONS\\fR...] \\fICOMMAND\\fR [\\fIARGS\\fR...]", ".br",
           ".B unitdoctor", "[\\fIOPTIONS\\fR...] \\fIUNIT\\fR...",
           ".SH DESCRIPTION",
           _roff("unitdoctor does the hunt an admin does by hand when a unit will not start: every layer of the "
                 "search path, the dependency chain, drop-ins, masks and who made them (admin, package removal, "
                 "package transaction, vendor, kernel command line), package state and logs. It says why, with "
                 "the file and line of each piece of evidence, and fixes it: it shows the plan, a dry run changes "
                 "nothing, every change is journaled before it is made and can be undone."),
           ".PP",
           _roff("A UNIT without a command means \"why UNIT\". Options may stand anywhere on the line, as with "
                 "systemctl; \"--\" ends them. Output goes through a pager on a terminal (see ENVIRONMENT)."),
           ".SH COMMANDS"]
    for c in commands:
        out += [".TP", f"\\fB{_roff(c.name)}\\fR" + (f" \\fI{_roff(c.positional)}\\fR..." if c.positional else ""),
                _roff(c.help)]
        for o in c.options:
            out += [".RS", ".TP", _flag_line(o), _roff(o.help), ".RE"]
    out.append(".SH OPTIONS")
    out.append(_roff("These are accepted by every command."))
    for o in common:
        out += [".TP", _flag_line(o), _roff(o.help)]
    out.append(".SH EXIT STATUS")
    for code, text in EXIT_STATUS_TEXT:
        out += [".TP", f".B {code}", _roff(text[0].upper() + text[1:] + ".")]
    out.append(".SH ENVIRONMENT")
    for name, text in ENVIRONMENT:
        out += [".TP", f"\\fB{_roff(name)}\\fR", _roff(text)]
    out.append(".SH FILES")
    for name, text in FILES:
        out += [".TP", f"\\fI{_roff(name)}\\fR", _roff(text)]
    out.append(".SH EXAMPLES")
    for cmd, text in EXAMPLES:
        out += [".TP", f"\\fB{_roff(cmd)}\\fR", _roff(text)]
    out += [".SH SEE ALSO", "\\fBsystemctl\\fR(1), \\fBsystemd.unit\\fR(5), \\fBsystemd-analyze\\fR(1)", ""]
    return "\n".join(out)


# -- completions -----------------------------------------------------------------------------------------------

#: Commands whose words are unit names (completed from the catalog).
UNIT_WORDS = frozenset(("UNIT", "PATTERN|UNIT"))


def _sh_words(words: list[str]) -> str:
    return " ".join(words)


def bash(parser: argparse.ArgumentParser) -> str:
    common, commands = model(parser)
    flags = [f for o in common for f in o.flags]
    valued = [f for o in common for f in o.flags if o.metavar]
    lines = [
        "# bash completion for unitdoctor (generated from its parser: python -m unitdoctor.cli.generate bash)",
        "_unitdoctor_units() {",
        "    # unit names from the catalog of the --root/--user/--global already on the line",
        "    local i w scope=()",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        "        w=${COMP_WORDS[i]}",
        "        case $w in",
        "            --user|--global|--system) scope+=(\"$w\") ;;",
        "            --root=*) scope+=(\"$w\") ;;",
        "            --root) scope+=(\"--root=${COMP_WORDS[i+1]}\") ;;",
        "        esac",
        "    done",
        "    command unitdoctor states --no-pager --no-legend \"${scope[@]}\" 2>/dev/null | while read -r u _; do"
        " printf '%s\\n' \"$u\"; done",
        "}",
        "_unitdoctor() {",
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i w",
        f"    local commands='{_sh_words([c.name for c in commands])}'",
        f"    local common='{_sh_words(flags)}'",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        "        w=${COMP_WORDS[i]}",
        f"        case $w in {'|'.join(valued) or '--'}) ((i++)); continue ;; -*) continue ;; esac",
        "        cmd=$w; break",
        "    done",
        "    case $prev in",
        "        --root) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;",
    ]
    for o in common + tuple(o for c in commands for o in c.options):
        if o.metavar and "--root" not in o.flags:
            values = list(o.choices)
            if "--state" in o.flags:
                from ..install import UnitFileState

                values = [s.value for s in UnitFileState if s.value != "not-found"] + ["help"]
            elif "--type" in o.flags:
                from .states import LOAD_STATES, TYPES

                values = [*TYPES, *LOAD_STATES, "help"]
            lines.append(f"        {'|'.join(o.flags)}) COMPREPLY=($(compgen -W '{_sh_words(values)}' -- \"$cur\"));"
                         " return ;;")
    lines += [
        "    esac",
        "    local opts=$common",
        "    case $cmd in",
    ]
    for c in commands:
        own = [f for o in c.options for f in o.flags]
        lines.append(f"        {c.name}) opts=\"$common {_sh_words(own)}\" ;;")
    lines += [
        "    esac",
        "    if [[ $cur == -* ]]; then",
        "        COMPREPLY=($(compgen -W \"$opts --help\" -- \"$cur\")); return",
        "    fi",
        "    case $cmd in",
        "        '') COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\")",
        "                $(compgen -W \"$(_unitdoctor_units)\" -- \"$cur\")) ;;",
    ]
    for c in commands:
        if c.positional in UNIT_WORDS:
            lines.append(f"        {c.name}) COMPREPLY=($(compgen -W \"$(_unitdoctor_units)\" -- \"$cur\")) ;;")
        elif c.positional_choices:
            lines.append(f"        {c.name}) COMPREPLY=($(compgen -W '{_sh_words(list(c.positional_choices))}' "
                         "-- \"$cur\")) ;;")
    lines += [
        "    esac",
        "}",
        "complete -F _unitdoctor unitdoctor",
        "",
    ]
    return "\n".join(lines)


def _short(help_text: str, width: int = 70) -> str:
    """An option's help as a completion shows it: the first sentence, cut before a parenthesis or at a word."""
    text = help_text.split(". ")[0].rstrip(".")
    if len(text) <= width:
        return text
    cut = text[:width]
    for mark in (" (", "; ", ", ", " "):
        if mark in cut:
            return cut[: cut.rindex(mark)].rstrip(",;")
    return cut


def _zsh_quote(s: str) -> str:
    return s.replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def _zsh_spec(o: Option) -> list[str]:
    arg = ""
    if o.metavar:
        action = "_files -/" if "--root" in o.flags else (f"({' '.join(o.choices)})" if o.choices else " ")
        arg = f":{o.metavar.lower()}:{action}"
    text = _zsh_quote(_short(o.help))
    if len(o.flags) == 1:
        f = o.flags[0]
        return [f"'{f}{'=' if o.metavar and f.startswith('--') else ''}[{text}]{arg}'"]
    excl = " ".join(o.flags)
    return [f"'({excl})'{{{','.join(o.flags)}}}'[{text}]{arg}'"]


def zsh(parser: argparse.ArgumentParser) -> str:
    common, commands = model(parser)
    lines = [
        "#compdef unitdoctor",
        "# zsh completion for unitdoctor (generated from its parser: python -m unitdoctor.cli.generate zsh)",
        "_unitdoctor_units() {",
        "    local -a scope units",
        "    local i",
        "    for ((i = 2; i < CURRENT; i++)); do",
        "        case ${words[i]} in",
        "            --user|--global|--system|--root=*) scope+=(${words[i]}) ;;",
        "            --root) scope+=(--root=${words[i+1]}) ;;",
        "        esac",
        "    done",
        "    units=(${(f)\"$(_call_program units unitdoctor states --no-pager --no-legend $scope 2>/dev/null"
        " | cut -d' ' -f1)\"})",
        "    _describe -t units 'unit' units",
        "}",
        "_unitdoctor() {",
        "    local -a common commands",
        "    common=(",
    ]
    for o in common:
        lines += [f"        {s}" for s in _zsh_spec(o)]
    lines += ["    )", "    commands=("]
    for c in commands:
        lines.append(f"        '{c.name}:{_zsh_quote(c.help)}'")
    lines += [
        "    )",
        "    local cmd i",
        "    for ((i = 2; i < CURRENT; i++)); do",
        "        case ${words[i]} in --root) ((i++)) ;; -*) ;; *) cmd=${words[i]}; break ;; esac",
        "    done",
        "    case $cmd in",
        "        '') _arguments -s $common '*::command or unit:->first' && return",
        "            _describe -t commands 'command' commands; _unitdoctor_units ;;",
    ]
    for c in commands:
        specs = " ".join(s for o in c.options for s in _zsh_spec(o))
        rest = ""
        if c.positional in UNIT_WORDS:
            rest = " '*:unit:_unitdoctor_units'"
        elif c.positional_choices:
            rest = f" '*:{c.positional.lower() if c.positional else 'arg'}:({' '.join(c.positional_choices)})'"
        lines.append(f"        {c.name}) _arguments -s $common {specs}{rest} ;;")
    lines += ["    esac", "}", "_unitdoctor \"$@\"", ""]
    return "\n".join(lines)


def _fish_quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(parser: argparse.ArgumentParser) -> str:
    common, commands = model(parser)
    names = " ".join(c.name for c in commands)
    lines = [
        "# fish completion for unitdoctor (generated from its parser: python -m unitdoctor.cli.generate fish)",
        "function __unitdoctor_units",
        "    set -l scope",
        "    set -l words (commandline -opc)",
        "    for i in (seq (count $words))",
        "        switch $words[$i]",
        "            case --user --global --system '--root=*'",
        "                set scope $scope $words[$i]",
        "            case --root",
        "                set -l j (math $i + 1)",
        "                set scope $scope --root=$words[$j]",
        "        end",
        "    end",
        "    command unitdoctor states --no-pager --no-legend $scope 2>/dev/null | string replace -r ' .*' ''",
        "end",
        "complete -c unitdoctor -f",
        f"complete -c unitdoctor -n 'not __fish_seen_subcommand_from {names}' -a '(__unitdoctor_units)'",
    ]
    for c in commands:
        lines.append(f"complete -c unitdoctor -n 'not __fish_seen_subcommand_from {names}' -a {c.name} "
                     f"-d {_fish_quote(c.help)}")

    def opt(o: Option, cond: str) -> str:
        parts = ["complete -c unitdoctor"]
        if cond:
            parts.append(f"-n {_fish_quote(cond)}")
        for f in o.flags:
            parts.append(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}")
        if o.metavar:
            parts.append("-r" + (" -a '(__fish_complete_directories)'" if "--root" in o.flags else ""))
            if o.choices:
                parts.append(f"-a {_fish_quote(' '.join(o.choices))}")
        parts.append(f"-d {_fish_quote(_short(o.help))}")
        return " ".join(parts)

    lines += [opt(o, "") for o in common]
    for c in commands:
        lines += [opt(o, f"__fish_seen_subcommand_from {c.name}") for o in c.options]
        if c.positional in UNIT_WORDS:
            lines.append(f"complete -c unitdoctor -n '__fish_seen_subcommand_from {c.name}' -a '(__unitdoctor_units)'")
        elif c.positional_choices:
            lines.append(f"complete -c unitdoctor -n '__fish_seen_subcommand_from {c.name}' "
                         f"-a {_fish_quote(' '.join(c.positional_choices))}")
    lines.append("")
    return "\n".join(lines)


GENERATORS = {"man": man_page, "bash": bash, "zsh": zsh, "fish": fish}
#: Where each output is shipped, relative to the package.
SHIPPED = {"man": "man/unitdoctor.8", "bash": "completion/unitdoctor.bash", "zsh": "completion/_unitdoctor",
           "fish": "completion/unitdoctor.fish"}


def main(argv: Optional[list[str]] = None) -> int:
    from . import build_parser

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in GENERATORS:
        print(f"usage: python -m unitdoctor.cli.generate {{{'|'.join(GENERATORS)}}}", file=sys.stderr)
        return 2
    sys.stdout.write(GENERATORS[args[0]](build_parser()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
