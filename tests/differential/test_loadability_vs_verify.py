"""Loadability against ``systemd-analyze verify --root`` (issue 13): the units the fuzz campaign found us
disagreeing on, each written to a root and asked of both. systemd's verdict is read from verify's output
("bad unit file setting" / "failed to load"); ours from ``why --json``'s load state. Disagreements still
open are ``xfail(strict=True)`` with the rule that is missing, so fixing one turns the test red until the
mark goes; the count is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from unitdoctor import cli

ONESHOT_TRUE = "[Service]\nType=oneshot\nExecStart=/bin/true\n"
CASES = {
    "oneshot-restart.service": ("[Service]\nType=oneshot\nRestart=always\nExecStart=/bin/true\n", None),
    "two-listen.socket": ("[Socket]\nListenStream=/run/a.sock\nListenStream=/run/b.sock\nSymlinks=/run/l\n", None),
    "one-listen.socket": ("[Socket]\nListenStream=/run/a.sock\nListenStream=127.0.0.1:99\nSymlinks=/run/l\n",
                          None),
    "garbage.timer": ("[Timer]\nOnCalendar=garbage\n", None),
    "daily.timer": ("[Timer]\nOnCalendar=Mon..Fri *-*~3/2 9:00:1.5 UTC\n", None),
    "eom-list.timer": ("[Timer]\nOnCalendar=*~26,27\n", None),  # 252 lowers the '~' bound per item
    "reset.timer": ("[Timer]\nOnCalendar=daily\nOnBootSec=5min\nOnCalendar=\n", None),
    "reset-then-one.timer": ("[Timer]\nOnCalendar=daily\nOnCalendar=\nOnBootSec=1h 30min\n", None),
    "bad-span.timer": ("[Timer]\nOnBootSec=5 parsecs\nOnUnitActiveSec=12.34.56\n", None),
    "infinity.timer": ("[Timer]\nOnActiveSec=infinity\n", None),
    "clock.timer": ("[Timer]\nOnClockChange=yes\n", None),
    "clock-no.timer": ("[Timer]\nOnClockChange=no\nOnTimezoneChange=maybe\n", None),
    "bad-specifier.timer": ("[Timer]\nOnCalendar=%Z daily\n", None),
    "zone.timer": ("[Timer]\nOnCalendar=daily Europe/Berlin\n", None),
    "no-zone.timer": ("[Timer]\nOnCalendar=daily Europe/Nowhere\n", None),
    "local-zone.timer": ("[Timer]\nOnCalendar=daily UTC\n", None),
    "backslash.service": ("[Service]\nExecStart=/bin/true\\\\\n", None),
    "long-component.service": ("[Service]\nExecStart=/bin/" + "a" * 300 + "\n", None),
    "unterminated.service": ('[Service]\nExecStart=/bin/echo "unterminated\n', None),
    # A quote left open in an argument is fatal unless "-"; in the first word it only drops the line.
    "unterminated-second.service": (ONESHOT_TRUE + 'ExecStart=/bin/echo "unterminated\n', None),
    "unterminated-ignored.service": (ONESHOT_TRUE + 'ExecStart=-/bin/echo "unterminated\n', None),
    "unterminated-first.service": (ONESHOT_TRUE + 'ExecStart="/bin/echo\n', None),
    "quote-in-name.service": ("[Service]\nExecStart=/bin/tr'ue'x\n", None),
    "percent-brace.service": ("[Service]\nExecStart=/bin/echo %{\n", None),
    "percent-end.service": ("[Service]\nExecStart=/bin/echo 100%\n", None),
    "percent-unknown.service": ("[Service]\nExecStart=/bin/echo %Z\n", None),
    "space-in-brackets.service": ("[ Unit ]\nRequires=nope.service\n[Service]\nExecStart=/bin/true\n", None),
}


#: The zone database of the roots: what systemd-analyze reads is the host's (timezone_is_valid opens
#: /usr/share/zoneinfo/NAME outside --root), what we read is the root's; the roots hold the same file.
ZONES = ("Europe/Berlin",)


def _systemd_loads(root, name: str) -> bool:
    p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", name], capture_output=True, text=True,
                       timeout=120)
    return not ("bad unit file setting" in p.stderr or "failed to load" in p.stderr)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loadability_matches_systemd_analyze_verify(tmp_path, capsys, request, name):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    text, gap = CASES[name]
    if gap:
        request.applymarker(pytest.mark.xfail(reason=gap, strict=True))
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    (tmp_path / "etc/systemd/system" / name).write_text(text)
    for zone in ZONES:
        if os.path.exists(f"/usr/share/zoneinfo/{zone}"):
            (tmp_path / "usr/share/zoneinfo" / zone).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f"/usr/share/zoneinfo/{zone}", tmp_path / "usr/share/zoneinfo" / zone)
    capsys.readouterr()
    cli.main(["--root", str(tmp_path), "why", name, "--json"])
    ours = json.loads(capsys.readouterr().out)[0]["load_state"] == "loaded"
    assert ours == _systemd_loads(tmp_path, name)
