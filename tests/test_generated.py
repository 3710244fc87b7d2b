"""The man page and the shell completions are made from the parser: the shipped copies equal a fresh run,
every command and option of the parser is in each, and bash completion really completes (run in bash)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from unitdoctor import shipped
from unitdoctor.cli import build_parser
from unitdoctor.cli.common import EXIT_STATUS_TEXT
from unitdoctor.cli.generate import GENERATORS, SHIPPED, model

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_shipped_copy_is_what_the_parser_makes(kind):
    fresh = GENERATORS[kind](build_parser())
    assert shipped.text(SHIPPED[kind]) == fresh, f"run scripts/generate: {SHIPPED[kind]} is out of date"


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_every_command_and_option_is_in_it(kind):
    common, commands = model(build_parser())
    text = GENERATORS[kind](build_parser())
    unescape = text.replace("\\-", "-") if kind == "man" else text
    assert {c.name for c in commands} >= {"why", "states", "fix", "history", "undo"}
    for c in commands:
        assert c.name in unescape
        for o in (*common, *c.options):
            for f in o.flags:
                word = f.lstrip("-") if kind == "fish" else f
                assert word in unescape, (kind, c.name, f)


def test_man_page_sections():
    text = shipped.text("man/unitdoctor.8")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES",
                    "EXAMPLES", "SEE ALSO"):
        assert f".SH {section}\n" in text
    for code, _ in EXIT_STATUS_TEXT:
        assert f".B {code}\n" in text
    for word in ("/var/lib/unitdoctor/lock", "SYSTEMD_PAGER", "SYSTEMD_COLORS", "NO_COLOR"):
        assert word.replace("-", "\\-") in text
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", "-"], input=text, capture_output=True, text=True,
                           env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0"})
        plain = re.sub(".\b", "", p.stdout)  # overstrike bold/underline
        assert p.returncode == 0 and "EXIT STATUS" in plain and "unitdoctor states" in plain, p.stderr
        # the C locale (groff's ASCII device) too: no glyph it lacks
        p = subprocess.run(["man", "-l", "-"], input=text, capture_output=True, text=True,
                           env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MANWIDTH": "80", "LC_ALL": "C"})
        assert p.returncode == 0 and p.stderr == "", p.stderr


def _complete(words: list[str]) -> list[str]:
    """COMPREPLY of the shipped bash completion for the command line ``words`` (the last one is completed)."""
    script = (REPO / "src/unitdoctor/completion/unitdoctor.bash").read_text()
    words_q = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    prog = (f"{script}\n"
            f"unitdoctor() {{ PYTHONPATH={REPO / 'src'} python3 -m unitdoctor \"$@\"; }}\n"
            f"COMP_WORDS=({words_q}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); _unitdoctor\n"
            "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True, text=True, cwd=REPO,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.splitlines() if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is missing")
def test_bash_completion_completes_commands_options_values_and_units_from_the_catalog():
    root = "examples/roots/masked-dependency"
    assert _complete(["unitdoctor", "st"]) == ["states"]
    assert _complete(["unitdoctor", "fix", "--dr"]) == ["--dry-run"]
    assert _complete(["unitdoctor", "undo", "--dr"]) == ["--dry-run"]
    assert "masked-runtime" in _complete(["unitdoctor", "states", "--state", "masked"])
    assert _complete(["unitdoctor", "states", "-t", "soc"]) == ["socket"]
    units = _complete(["unitdoctor", "--root", root, "why", ""])
    assert {"app.service", "db.service", "web.service"} <= set(units)
    assert _complete(["unitdoctor", f"--root={root}", "we"]) == ["web.service"]
    assert _complete(["unitdoctor", "--root", root, "fix", "--yes", "d"]) == ["db.service"]


@pytest.mark.parametrize("shell,check", [("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])])
def test_zsh_and_fish_completions_parse(shell, check):
    if shutil.which(check[0]) is None:
        pytest.skip(f"{shell} is not installed")
    path = REPO / "src/unitdoctor" / SHIPPED[shell]
    p = subprocess.run([*check, str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_completion_descriptions_end_at_a_word():
    """zsh and fish show a short help: whole words of the option's help, never cut inside a word or a path."""
    from unitdoctor.cli.generate import _short

    common, commands = model(build_parser())
    helps = [o.help for o in (*common, *(o for c in commands for o in c.options)) if o.help]
    assert len(helps) > 15
    for h in helps:
        short = _short(h)
        assert h.startswith(short) and len(short) <= 70, (h, short)
        rest = h[len(short):]
        assert not rest or not (short[-1:].isalnum() and rest[0].isalnum()), (h, short)
    fish = shipped.text(SHIPPED["fish"])
    assert "-d 'list only units of these types'" in fish and "default.target" in fish
