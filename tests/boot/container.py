"""Boot systemd 252 as PID 1 with our own unit files laid into the root first, and read every unit's outcome.

The shared ``pid1-container.sh`` (../shared/tools, or /work/shared/tools) boots a throw-away overlay over its base
root. It has no hook for files of our own, so a copy of it, changed in two places, runs here: before the overlay is
mounted it copies ``PID1_OVERLAY`` into the upper layer, and at teardown it keeps the console log in
``PID1_CONSOLE`` (the cycle messages systemd prints before journald runs are only there). The shared script itself
is never modified.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
_UPPER_LINE = 'mkdir -p "$RUN/upper" "$RUN/work" "$RUN/merged"'
_CONSOLE_LINE = '[[ -f $RUN/console.log ]] && cp "$RUN/console.log" "$DIR/last-console.log"'
#: Properties read from every unit after boot.
PROPS = ("Id", "LoadState", "ActiveState", "SubState", "Result", "ConditionResult", "AssertResult",
         "ConditionTimestampMonotonic", "AssertTimestampMonotonic")


def script() -> Optional[Path]:
    for base in (REPO.parent / "shared" / "tools", Path("/work/shared/tools")):
        p = base / "pid1-container.sh"
        if p.is_file():
            return p
    return None


def unavailable() -> Optional[str]:
    """Why a boot cannot run here, or None."""
    if os.geteuid() != 0:
        return "booting a container needs root"
    if script() is None:
        return "pid1-container.sh not found in ../shared/tools or /work/shared/tools"
    for tool in ("systemd-nspawn", "nsenter", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} missing (apt-get install systemd-container util-linux)"
    base = Path(os.environ.get("PID1_DIR", "/tmp/pid1-container")) / "root" / ".pid1-complete"
    if not base.exists() and shutil.which("mmdebstrap") is None:
        return "no base root and no mmdebstrap to build it"
    return None


def require() -> None:
    """Skip the calling test module where a boot cannot run; under ``CI=true`` fail instead (CI must boot)."""
    import pytest

    why = unavailable()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"real-boot tests must run in CI: {why}")
        pytest.skip(why)


def _patched(work: Path) -> Path:
    src = script()
    assert src is not None
    text = src.read_text()
    assert _UPPER_LINE in text and _CONSOLE_LINE in text, "pid1-container.sh changed: update tests/boot/container.py"
    text = text.replace(_UPPER_LINE, _UPPER_LINE
                        + '\n[[ -n ${PID1_OVERLAY:-} ]] && cp -a "$PID1_OVERLAY"/. "$RUN/upper"/')
    text = text.replace(_CONSOLE_LINE, _CONSOLE_LINE + '\n  [[ -n ${PID1_CONSOLE:-} && -f $RUN/console.log ]] && '
                        'cp "$RUN/console.log" "$PID1_CONSOLE"')
    out = work / "pid1-container.sh"
    out.write_text(text)
    out.chmod(0o755)
    return out


def base_root() -> Path:
    return Path(os.environ.get("PID1_DIR", "/tmp/pid1-container")) / "root"


@dataclass(frozen=True)
class Boot:
    """What one boot gave: every unit's properties, the console log, the exit status and the command's output."""

    units: dict[str, dict[str, str]]
    console: str
    rc: int
    output: str
    stderr: str

    def console_units(self, what: str) -> set[str]:
        """Units named on console lines of one kind: ``depend`` ("Dependency failed for U."), ``failed``
        ("Failed to start U." / "Failed to listen on U."). Units without Description= are shown by name."""
        plain = re.sub(r"\x1b\[[0-9;]*m", "", self.console)
        pat = {"depend": r"\[DEPEND\] Dependency failed for (\S+?)\.$",
               "failed": r"\[FAILED\] Failed to (?:start|listen on) (\S+?)\.$"}[what]
        return set(re.findall(pat, plain, re.M))

    def deleted_jobs(self) -> list[tuple[str, str]]:
        """(unit whose job systemd deleted to break an ordering cycle, the unit it was started for) from the console."""
        out = []
        plain = re.sub(r"\x1b\[[0-9;]*m", "", self.console)
        for m in re.finditer(r"Job ([^\s/]+)/start deleted to break ordering cycle starting with ([^\s/]+)/start",
                             plain):
            out.append((m.group(1), m.group(2)))
        return out


_DUMP = r"""
systemctl is-system-running --wait >/dev/null 2>&1 || true
sleep 0.3
for u in $(systemctl list-units --all --plain --no-legend --no-pager | awk '{print $1}') $EXTRA; do
  echo "@@ $u"
  systemctl show PROPS -- "$u"
done
"""


def boot(files: dict[str, object], *, extra_units: tuple[str, ...] = (), command: Optional[str] = None,
         timeout: int = 30, args: tuple[str, ...] = ()) -> Boot:
    """Lay ``files`` (path in the root → text, or ``("symlink", target)``) into the overlay, boot, dump every unit.

    ``command`` (a shell script) replaces the dump; ``extra_units`` are shown too even if the manager did not load
    them on its own (masked or not-found units that nothing references appear only when asked).
    """
    with tempfile.TemporaryDirectory(prefix="ud-h9-boot-") as tmp:
        work = Path(tmp)
        upper = work / "upper"
        upper.mkdir()
        for path, content in files.items():
            p = upper / path.lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, tuple) and content[0] == "symlink":
                os.symlink(content[1], p)
            else:
                p.write_text(str(content))
        console = work / "console.log"
        env = dict(os.environ, PID1_OVERLAY=str(upper), PID1_CONSOLE=str(console))
        script_text = command if command is not None else _DUMP.replace("$EXTRA", " ".join(extra_units)).replace(
            "PROPS", " ".join(f"-p {p}" for p in PROPS))
        cmd = [str(_patched(work)), "--timeout", str(timeout), *args, "--", "bash", "-s"]
        p = subprocess.run(cmd, input=script_text, capture_output=True, text=True, env=env, timeout=timeout + 120)
        text = console.read_text(errors="replace") if console.exists() else ""
        return Boot(_parse(p.stdout) if command is None else {}, text, p.returncode, p.stdout, p.stderr)


def _parse(out: str) -> dict[str, dict[str, str]]:
    units: dict[str, dict[str, str]] = {}
    cur: Optional[dict[str, str]] = None
    for line in out.splitlines():
        if line.startswith("@@ "):
            cur = units.setdefault(line[3:].strip(), {})
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[k] = v
    return units
