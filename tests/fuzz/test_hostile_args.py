"""Hostile names and arguments on every command (issue 13): each line ends with an answer or a one-line error.

Every command — ``why`` (text, ``-v``, ``--json``), the default command, ``states``, ``scan``, ``fix``
(``--dry-run``, ``--yes``, ``--recover``, ``--json``), ``history``, ``undo``, ``units`` and the man page and
completion generator — is run as a real process, under a CPU budget, on a copy of a small root (a mask to
fix, a fix in the journal to undo, a unit whose name holds an escape sequence), with one hostile word put
somewhere on the line: control characters, newlines, bytes that are not UTF-8, huge names, names that
start with ``-``, globs, ``--`` in odd places, empty strings, options where options are not expected,
unique prefixes of options, paths, specifiers. What it must not do: hang, end in a traceback or an internal
error (exit 70), print a raw control character in text output, print a usage error of several lines, print
JSON that does not parse — or touch anything outside the root (every line carries ``--root`` before any
``--``, and the words never name a path outside it).

Trials are derandomized: trial ``i`` is template ``i mod T`` with word ``i mod W`` at a placement picked by
a seeded generator, so the first T×W trials cover every pair of a command and a word at least once... as far
as the count goes. ``UNITDOCTOR_HOSTILE_ARGS`` sets the count (default 72; ``scripts/fuzz --long``: 600).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from tests import fixroots as fr
from tests.fuzz import hostile

from unitdoctor import fix
from unitdoctor.journal import Journal
from unitdoctor.plan import plan_fix
from unitdoctor.report import why
from unitdoctor.rootfs import Root

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"}
ENV.pop("NO_COLOR", None)
TRIALS = int(os.environ.get("UNITDOCTOR_HOSTILE_ARGS", "72"))
CPU = 30  # seconds of CPU per command: a hang or a runaway loop fails, a slow machine does not

#: The command lines; ``W`` is where the hostile word goes when the placement is "as the argument".
TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("why", "W"), ("why", "-v", "W"), ("why", "--json", "W"), ("W",), ("states",), ("states", "W"),
    ("states", "--json", "W"), ("states", "--state", "W"), ("states", "--type", "W"), ("scan",), ("scan", "--json"),
    ("scan", "--target", "W"), ("fix", "--dry-run", "W"), ("fix", "--dry-run", "--json", "W"), ("fix", "--yes", "W"),
    ("fix", "--yes", "--json", "W"), ("fix", "--recover"), ("fix", "--recover", "--json"), ("history",),
    ("history", "--json"), ("history", "W"), ("undo", "W"), ("undo", "--dry-run", "W"), ("undo", "--yes", "W"),
    ("undo", "--json", "--yes"), ("units", "W"), ("units", "--json"), ("generate", "W"),
)

#: The hostile words (bytes: argv is bytes; some are not UTF-8).
WORDS: tuple[bytes, ...] = (
    b"", b" ", b"\t", b"-", b"--", b"---", b"-x", b"--x", b"--bogus=1", b"-.service", b"--.service", b"-.mount",
    b"-.slice", b"*", b"x*.service", b"[ab].service", b"?.service", b"*.service", b"x.service\n", b"\nx.service",
    b"x\r.service", b"\x1b[2Jx.service", b"\x1b]0;pwned\x07", b"\x7f.service", b"\xc2\x9b31m.service",
    b"\xff\xfe.service", b"\xed\xa0\x80.service", b"\xe2\x80\xae.service", b"a" * 300 + b".service",
    b"a" * 256, b"x" * 100000, b"@.service", b"x@.service", b"x@@.service", b"t@\x1b.service", b"x@\n.service",
    b"/etc/systemd/system/x.service", b"../../../../etc/passwd", b"./x.service", b"x.service/", b"/", b"//",
    b"%i.service", b"%%", b"%", b"\\x2d.service", b"\\", b"a b.service", b"x.SERVICE", b"x.service.service",
    b".service", b"x.", b"=", b"x.service=", b"-h", b"--help", b"--version", b"-v", b"--verbose", b"--json",
    b"--jso", b"--ro", b"--root", b"--user", b"--global", b"--system", b"-q", b"--no-", b"--yes", b"--dry-run",
    b"--recover", b"--state=\x1b", b"--type=", b"--target=", b"x.service", b"y\x1b.service", b"0", b"-1",
    b"20250101T000000Z-0001-abcd", b"../lock", b"man", b"fish", b"unitdoctor-scan.timer",
)

#: Where the word goes: as the argument, before the command, right after it, behind ``--`` (with and
#: without the argument), at the very end, after a second ``--root=`` (the same root), or in the name of the
#: root directory itself (every path printed holds it).
PLACEMENTS = ("arg", "front", "after-command", "after-dashdash", "dashdash-front", "end", "twice", "in-root")


def _root(tmp_path: Path) -> Path:
    """The model root: x.service masked twice over (a fix to do), a finished fix of getty in the journal (one to
    undo), a unit whose name and description hold escape sequences."""
    root = fr.build(tmp_path, "both", "model")
    fr.template(root)
    cat = fr.catalog(root)
    r = Root(str(root))
    plan = plan_fix([why(cat, "getty@tty1.service")], catalog=cat)
    assert fix.apply(plan, root=r, journal=Journal.for_scope("system", r, {}), ops=fix.OfflineOps()).ok
    fr.write(root, f"{fr.USR}/e\x1b[31m.service", "[Unit]\nDescription=\x1b]0;t\x07\n[Service]\nExecStart=/bin/true\n")
    return root


def placement(i: int, rng: random.Random) -> str:
    template, word = TEMPLATES[i % len(TEMPLATES)], WORDS[i % len(WORDS)]
    fits_a_directory = word not in (b"", b".", b"..") and b"/" not in word and len(word) < 200
    return rng.choice([p for p in PLACEMENTS if (p != "arg" or "W" in template)
                       and (p != "in-root" or fits_a_directory)])


def line(i: int, where: str, root: bytes) -> list[bytes]:
    """Trial ``i``'s argv (after ``unitdoctor``), always with ``--root`` before anything else."""
    template = TEMPLATES[i % len(TEMPLATES)]
    word = WORDS[i % len(WORDS)]
    placement = where
    words = [t.encode() for t in template]
    if template[0] == "generate":  # the generator's own command line: python -m unitdoctor.cli.generate KIND
        return [b"generate", word]
    if b"W" in words:
        i_w = words.index(b"W")
        if placement == "arg":
            words[i_w] = word
        else:
            words[i_w] = b"x.service"
    head = [b"--root", root]
    if placement == "front":
        return head + [word] + words
    if placement == "after-command":
        return head + words[:1] + [word] + words[1:]
    if placement == "after-dashdash":
        return head + words + [b"--", word]
    if placement == "dashdash-front":
        return head + [b"--"] + words + [word]
    if placement == "twice":  # a second, later --root= that is the same root, then the word
        return head + words + [b"--root=" + root, word]
    if placement == "end":
        return head + words + [word]
    return head + words


def _run(argv: list[bytes], cwd: Path) -> subprocess.CompletedProcess:
    if argv[0] == b"generate":
        cmd = [os.fsencode(sys.executable), b"-m", b"unitdoctor.cli.generate", *argv[1:]]
    else:
        cmd = [os.fsencode(sys.executable), b"-m", b"unitdoctor", *argv]
    return subprocess.run(cmd, env=ENV, cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL,
                          preexec_fn=hostile.limited(CPU), timeout=20 * CPU)


def run_trials(tmp_path: Path, trials: int, seed: int = 13) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    model = _root(tmp_path)
    cwd = tmp_path / "cwd"  # relative words (./x.service, ../lock) resolve here, inside the test's directory
    cwd.mkdir()
    problems: list[str] = []
    for i in range(trials):
        where = placement(i, rng)
        name = f"t{i}-".encode() + (WORDS[i % len(WORDS)] if where == "in-root" else b"")
        root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + name))
        shutil.copytree(model, root, symlinks=True)
        argv = line(i, where, os.fsencode(root))
        # nothing may point a command at the host: --root stands before any "--", and no later --root is empty
        assert argv[0] == b"generate" or (argv[:2] == [b"--root", os.fsencode(root)])
        try:
            p = _run(argv, cwd)
        except subprocess.TimeoutExpired:
            problems.append(f"trial {i} {argv!r}: no end within {20 * CPU} s")
            continue
        opts = argv[: argv.index(b"--") if b"--" in argv else len(argv)]
        # --help and --version print their text whatever else is asked, as systemctl's do
        json_out = b"--json" in opts and not {b"-h", b"--help", b"--version"} & set(opts)
        shown = argv if argv[0] == b"generate" else argv[2:]
        found = hostile.judge(f"trial {i} {[a[:80] for a in shown]!r}", p, json_out=json_out)
        problems += found
        if found or i % 100 == 99:
            print(f"hostile arguments: {i + 1} command lines, {len(problems)} problems", *found, sep="\n  ", flush=True)
        shutil.rmtree(root)
    return trials, problems


def test_hostile_names_and_arguments_on_every_command(tmp_path):
    n, problems = run_trials(tmp_path, TRIALS)
    print(f"hostile arguments: {n} command lines ({len(TEMPLATES)} commands × {len(WORDS)} words), "
          f"{len(problems)} problems")
    assert problems == [], "\n".join(problems)
