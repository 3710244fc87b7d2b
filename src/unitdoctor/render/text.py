"""Human report for ``why``: verdict first, then the chain as a tree, then findings with evidence and fixes.

Plain text when stdout is not a terminal or NO_COLOR is set; colour (rich, imported here only) on a
terminal, with lines wrapped at its width under a hanging indent. Every line is escaped for the terminal
(``render.escape``) before it is written, either way.
"""

from __future__ import annotations

import os
from typing import Optional, TextIO

from ..catalog import Catalog
from ..origin import Origin
from ..report import Report
from ..transaction import Blocker
from .escape import escape, raw_stream
from .words import enable_message


def use_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def lines(cat: Catalog, r: Report, verbose: bool = False) -> list[tuple[str, str]]:
    """(style, text) lines; style is '', 'ok', 'bad', 'warn', 'dim' or 'head'."""
    out: list[tuple[str, str]] = []
    s = r.start
    u = r.loaded
    if s.ok and s.problem is not None:
        out.append(_after_start(cat, r.unit, s.problem))
    elif s.ok:
        out.append(("ok", f"✓ {r.unit} can start."))
    else:
        b = s.blocker
        assert b is not None
        head = f"✗ {r.unit} cannot start: {b.message}"
        if not b.certain:
            head = f"? {r.unit} may not start: {b.message}"
        out.append(("bad", head))
        if b.detail:
            out.append(("bad", f"  because: {b.detail}" + _at(cat, b.origin)))
    out.append(("dim", f"  load state: {u.load_state.value}"
                       + (f" ({u.load_error.message})" if u.load_error else "")
                       + f"; unit file state: {r.state.state.value}"
                       + (" (SysV script: systemctl asks systemd-sysv-install)" if r.state.sysv is not None else "")
                       + (f" ({r.state.error.message})" if r.state.error else "")))
    if r.live is not None:
        out.extend(live_lines(r))
    if u.fragment:
        out.append(("dim", f"  fragment: {cat.root.display(u.fragment)}"))
    for d in u.dropins:
        out.append(("dim", f"  drop-in: {cat.root.display(d.path)}" + (" (masked)" if d.masked else "")))
    if r.enable is not None:
        out.append(("dim", f"  enable: {enable_message(r.enable)}"))
    if s.blocker is not None and s.blocker.chain:
        out.append(("", ""))
        out.append(("head", "Chain:"))
        out.append(("", f"  {s.blocker.chain[0].source}"))
        for i, e in enumerate(s.blocker.chain):
            src = e.origin.path
            src = cat.root.display(src) if src.startswith("/") else src
            if e.origin.line:
                src += f":{e.origin.line}"
            pad = "    " * (i + 1)
            tail = f" ✗ {s.blocker.reason}" if i == len(s.blocker.chain) - 1 else ""
            out.append(("bad" if tail else "", f"{pad[:-2]}└─ {e.dependency}= {e.target}{tail}   [{src}]"))
    if r.findings:
        out.append(("", ""))
        out.append(("head", "Findings:"))
        for f in r.findings:
            style = {"error": "bad", "warning": "warn", "info": "dim"}[f.severity.value]
            out.append((style, f"  [{f.severity.value}] {f.id}: {f.summary}"))
            for ev in f.evidence:
                out.append(("dim", f"      {ev.kind}: {ev.source}  {ev.text}"))
            for fx in f.fix:
                out.append(("", f"      fix: {fx}"))
    if verbose and r.sources:
        out.append(("", ""))
        out.append(("head", "Sources:"))
        for n in r.sources:
            out.append(("dim", f"  {n.status}: {n.source}" + (f"  ({n.text})" if n.text else "")))
    return out


def _at(cat: Catalog, origin: Optional[Origin]) -> str:
    if origin is None:
        return ""
    p = origin.path
    p = cat.root.display(p) if p.startswith("/") else p
    return f"   [{p}:{origin.line}]" if origin.line else f"   [{p}]"


#: The verdict line when the start job succeeds but something still goes wrong, by reason.
_AFTER_START = {
    "condition-failed": ("warn", "○ {unit} is skipped: its start job succeeds, but a condition is not met"),
    "exec-failed": ("bad", "✗ {unit} fails right after it starts (systemctl start returns 0)"),
    "condition-undecidable": ("warn", "? {unit} can be started; whether a condition lets it run cannot be "
                                      "decided from the files"),
    "assert-undecidable": ("warn", "? {unit} may not start: an assert cannot be decided from the files"),
    "exec-undecidable": ("warn", "? {unit} can be started; whether its processes run cannot be decided from "
                                 "the files"),
}


def _after_start(cat: Catalog, unit: str, b: Blocker) -> tuple[str, str]:
    style, text = _AFTER_START.get(b.reason, ("warn", "? {unit} can be started, then: " + b.reason))
    return style, text.format(unit=unit) + f": {b.detail}" + _at(cat, b.origin)


def live_lines(r: Report) -> list[tuple[str, str]]:
    """The running manager's view of the unit, under the file analysis's load-state line."""
    v = r.live
    assert v is not None
    state = v.load_state.value + (f" ({v.load_error.message})" if v.load_error else "")
    active = f"{v.active_state} ({v.sub_state})" + (f", result: {v.result}" if v.result else "")
    out = [("dim", f"  live: load state {state}; active: {active}")]
    if v.need_daemon_reload:
        out.append(("warn", "  live: needs daemon-reload"))
    if v.triggered_by:
        out.append(("dim", f"  live: triggered by {', '.join(v.triggered_by)}"))
    return out


def render_lines(cat: Catalog, r: Report, verbose: bool = False) -> list[tuple[str, str]]:
    """One report's (style, text) lines, ready for ``write``."""
    return lines(cat, r, verbose)


def render(cat: Catalog, reports: list[Report], out: TextIO, verbose: bool = False) -> None:
    """All reports, a blank line between two."""
    for i, r in enumerate(reports):
        write(lines(cat, r, verbose), out, separate=i > 0)


def wrap(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces to ``width`` columns with a hanging indent: continuation lines start under
    the text after the line's indent and its label (``[error] id: ``, ``fix: ``, ``mask: ``…). Words are
    never broken (a long path stays whole and may overflow), a label keeps its first word beside it, and the
    command of a ``fix:`` line stays on one line, so it can be copied (its ``# comment`` wraps)."""
    if len(text) <= width:
        return [text]
    import re
    import textwrap

    m = re.match(r"( *)((?:\[[a-z]+\] [\w.@-]+: |[a-z][\w -]{0,20}: |\d+\. (?:\[[a-z]+\] )?|└─ |[-✓✗?] )?)", text)
    indent = len(m.group(1)) if m else 0
    label = m.group(2) if m else ""
    hang = indent + (len(label) if label else 2)
    if hang > width // 2:
        hang = indent + 2
    glue = "\x00"  # not whitespace: textwrap keeps what it joins on one line
    head, body = text[: indent + len(label)], text[indent + len(label):]
    if label.strip() == "fix:" and not body.startswith(("edit ", "install ", "write ", "remove ", "did you ")):
        command, sep, comment = body.partition("  # ")
        body = command.replace(" ", glue) + sep + comment
    first, space, rest = body.partition(" ")
    head = head.replace(" ", glue) + first  # the indent too: textwrap would drop it before a long word
    out = textwrap.wrap(head + space + rest, width=width, subsequent_indent=" " * hang, break_long_words=False,
                        break_on_hyphens=False, drop_whitespace=True) or [text]
    return [line.replace(glue, " ") for line in out]


def write(all_lines: list[tuple[str, str]], out: TextIO, *, separate: bool = False) -> None:
    """``all_lines`` on ``out``: coloured on a terminal, plain otherwise; a blank line first with ``separate``.

    On a terminal (also through the pager started for one) lines are wrapped at its width with a hanging
    indent; into a pipe or file each line stays whole, for grep.
    """
    import sys

    from . import terminal

    if separate:
        all_lines = [("", ""), *all_lines]
    # The one point where report lines meet the terminal: names, paths, file content and log lines from
    # the root are escaped here (render.escape), a line at a time, so a newline in them cannot forge a line.
    all_lines = [(style, escape(text)) for style, text in all_lines]
    to_terminal = out is sys.stdout and terminal.stdout_is_tty()
    colour = terminal.colours_enabled() if out is sys.stdout else use_colour(out)
    if to_terminal:
        width = terminal.columns()
        all_lines = [(style, part) for style, text in all_lines for part in wrap(text, width)]
    if colour:
        try:
            from rich.console import Console
            from rich.text import Text
        except ImportError:
            colour = False
    out = raw_stream(out)
    if not colour:
        for _style, text in all_lines:
            out.write(text + "\n")
        return
    styles = {"ok": "bold green", "bad": "bold red", "warn": "yellow", "dim": "dim", "head": "bold", "": ""}
    # lines are wrapped above; rich must not wrap again, and keeps colour when stdout is the pager's pipe
    console = Console(file=out, highlight=False, soft_wrap=True, force_terminal=True)
    for style, text in all_lines:
        console.print(Text(text, style=styles[style]))
