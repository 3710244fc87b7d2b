"""Fuzzing the parser and the whole engine in-process (issue 13), with hypothesis.

Unit files are generated from fragments of the syntax (sections, continuations, quotes, specifiers,
control bytes, NULs, invalid UTF-8, CR line ends) and put, with drop-ins and links, in a root on disk;
``unitfile.parse`` must never raise, and ``why`` → ``plan_fix`` → text and JSON rendering must never
raise, on every name; the same roots through the command line (a process each) end with an answer.
Derandomized (the same examples every run); ``UNITDOCTOR_FUZZ_EXAMPLES`` sets the in-process count (default
150; ``scripts/fuzz --long``: 100,000), ``UNITDOCTOR_CLI_FUZZ_EXAMPLES`` the command line's (default 12;
long: 2,000).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fuzz import hostile

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.plan import plan_fix
from unitdoctor.render import json as render_json
from unitdoctor.render import text as render_text
from unitdoctor.render.fix import plan_lines
from unitdoctor.report import why
from unitdoctor.unitfile import parse

EXAMPLES = int(os.environ.get("UNITDOCTOR_FUZZ_EXAMPLES", "150"))
CLI_EXAMPLES = int(os.environ.get("UNITDOCTOR_CLI_FUZZ_EXAMPLES", "12"))
ENV = {**os.environ, "PYTHONPATH": f"{Path(__file__).resolve().parents[2] / 'src'}"}
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

PIECES = [b"[Unit]", b"[Service]", b"[Socket]", b"[Timer]", b"[Install]", b"[ Unit ]", b"[X-a]", b"[Unit",
          b"Description=", b"Requires=", b"Wants=", b"After=", b"BindsTo=", b"Requisite=", b"PartOf=",
          b"ExecStart=", b"ExecStart=/bin/true", b"ExecStart=/bin/echo %{", b"Type=", b"oneshot", b"simple",
          b"Restart=always", b"WantedBy=", b"RequiredBy=", b"Alias=", b"Also=", b"DefaultInstance=",
          b"ListenStream=/run/s", b"Symlinks=/run/l", b"OnCalendar=garbage", b"OnBootSec=5", b"Slice=",
          b"user-%i.slice", b"foo bar.slice", b"nosuffix", b"Condition", b"PathExists=/x", b"Environment=",
          b"a.service", b"b.service", b"t@.service", b"t@x.service", b"%i", b"%n", b"%", b"%%", b"\\",
          b"\\\\", b"\"", b"'", b"=", b" ", b"\t", b"#", b";", b"\0", b"\r", b"\n", b"\r\n", b"\xff",
          b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\x1b[2J", b"x" * 300, b"-", b"+", b"@", b"!", b"|", b"~",
          b"[Mount]", b"What=", b"Where=/m", b"[Path]", b"PathChanged=", b"Unit=", b"[Slice]", b"[Swap]",
          b"User=", b"Group=", b"nobody", b"%u", b"%h", b"%j", b"%H", b"\\x2d", b"\\u00e9", b"OnFailure=",
          b"Conflicts=", b"Before=", b"Upholds=", b"Accept=yes", b"Service=", b"EnvironmentFile=",
          b"WorkingDirectory=~", b".include /etc/x", b"DefaultDependencies=no", b"m.mount", b"p.path", b"-.mount",
          b"x.slice", b"ConditionKernelCommandLine=", b"AssertPathExists=", b"RemainAfterExit=yes"]
NAMES = ["a.service", "b.service", "t@.service", "t@x.service", "s.socket", "a.timer", "d.target", "m.mount",
         "p.path", "x.slice"]

fragment = st.lists(st.sampled_from(PIECES), max_size=12).map(b"".join)
unit_file = st.lists(fragment, max_size=25).map(lambda ls: b"\n".join(ls))
_count = itertools.count()


@FUZZ
@given(unit_file)
def test_parse_never_raises(data):
    for sections in (None, frozenset({"Unit", "Service", "Install"})):
        parsed = parse(data, "/etc/systemd/system/a.service", sections=sections)
        assert all(a.origin.line >= 1 for a in parsed.assignments)


@st.composite
def roots(draw):
    files = {}
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True)):
        layer = draw(st.sampled_from(["etc", "usr", "run"]))
        files[(layer, name)] = draw(st.one_of(unit_file, st.just(b""), st.just(None)))
        if draw(st.booleans()):
            files[("dropin", name)] = draw(unit_file)
    return files


def _write_root(tmp: Path, files: dict) -> None:
    dirs = {"etc": "etc/systemd/system", "usr": "usr/lib/systemd/system", "run": "run/systemd/system"}
    for d in dirs.values():
        (tmp / d).mkdir(parents=True)
    for (layer, name), data in files.items():
        if layer == "dropin":
            p = tmp / dirs["etc"] / f"{name}.d" / "x.conf"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(data)
        elif data is None:
            (tmp / dirs[layer] / name).symlink_to("/dev/null")
        else:
            (tmp / dirs[layer] / name).write_bytes(data)


@FUZZ
@given(roots())
def test_the_whole_engine_never_raises(files):
    tmp = Path(tempfile.mkdtemp(prefix=f"ud-fuzz-{next(_count)}-"))
    try:
        _write_root(tmp, files)
        cat = open_catalog(str(tmp), Scope.SYSTEM, {})
        mgr = Manager(cat)
        reports = [why(cat, n, manager=mgr) for n in NAMES]
        for r in reports:
            render_text.lines(cat, r, verbose=True)
            render_json.report(cat, r, verbose=True)
        plan = plan_fix(reports, catalog=cat)
        plan_lines(plan, cat.root)
    finally:
        shutil.rmtree(tmp)


@settings(FUZZ, max_examples=CLI_EXAMPLES)
@given(roots())
def test_the_command_line_answers_every_fuzzed_root(files):
    """The same roots through the real command line, a process each, under a CPU budget: ``why -v`` (or
    ``why --json``, or ``states``, or ``fix --dry-run``) on every name ends with an answer (``hostile.judge``)."""
    i = next(_count)
    tmp = Path(tempfile.mkdtemp(prefix=f"ud-fuzz-cli-{i}-"))
    try:
        _write_root(tmp, files)
        argv = (["why", "-v", *NAMES], ["why", "--json", *NAMES], ["states"], ["fix", "--dry-run", *NAMES])[i % 4]
        p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", str(tmp), *argv], env=ENV,
                           capture_output=True, stdin=subprocess.DEVNULL, preexec_fn=hostile.limited(30), timeout=600)
        problems = hostile.judge(" ".join(argv[:2]), p, json_out="--json" in argv)
        assert problems == [], (files, problems)
    finally:
        shutil.rmtree(tmp)
