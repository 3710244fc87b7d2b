"""An unprivileged user's ``fix`` on a booted systemd 252 (the container, ../shared/tools/pid1-container.sh) goes
through the manager on the system bus, and polkit decides.

The user is ``ud`` (uid 1000, made in the container's root), entered with ``runuser``: no login session, so
polkit's defaults ask for an administrator's password, which a non-terminal cannot give. Without a rule the fix
is refused (exit 4, nothing changed, the ``sudo unitdoctor fix`` line); with a rules.d file that lets ``ud``
manage unit files and units, the mask is removed by ``UnmaskUnitFiles``, the unit started, the change journaled
in ud's own journal, and ``undo`` puts the mask back through ``MaskUnitFiles``; the same for enabling a socket
(``EnableUnitFiles``, undone by ``DisableUnitFiles``). A mask the manager could not
put back exactly (an empty file) still gets the sudo line. On a terminal, polkit asks for the password through
pkttyagent, as with systemctl.
"""

from __future__ import annotations

import json
import re

import pytest
from tests.boot import container

SCHEMA = container.REPO / "src" / "unitdoctor" / "schema"
U = "ud-pk.service"
E = "ud-pk-empty.service"
S = "ud-pks"  # a masked service whose socket is disabled: unmask the service, enable the socket
LIB = "/usr/local/lib/systemd/system"
RULE = """polkit.addRule(function(action, subject) {
    if ((action.id == "org.freedesktop.systemd1.manage-unit-files" ||
         action.id == "org.freedesktop.systemd1.manage-units") && subject.user == "ud") {
        return polkit.Result.YES;
    }
});
"""


@pytest.fixture(scope="module", autouse=True)
def _need_container():
    container.require()


SCRIPT = f"""
set -u
systemctl daemon-reload
state() {{ echo "@@$1 $(systemctl is-enabled {U}) $(systemctl is-active {U}) $(readlink /etc/systemd/system/{U}) \
$(stat -c %U:%G /etc/systemd/system/{U} 2>/dev/null)"; }}
as_ud() {{ runuser -u ud -- "$@" </dev/null 2>&1; }}
: > /run/systemd/system/{E}  # /run is a tmpfs at boot: made here, not in the overlay
J=/home/ud/.local/state/unitdoctor/system
state start
echo "@@dry"; as_ud unitdoctor fix --dry-run {U}; echo "@@rc $?"
echo "@@journal-after-dry $(test -e $J && echo yes || echo no)"
echo "@@deny"; as_ud unitdoctor fix --yes {U}; echo "@@rc $?"
echo "@@polkitd $(pgrep -x polkitd >/dev/null && echo running || echo absent)"
echo "@@journal-after-deny $(test -e $J && echo yes || echo no)"
state denied
cat > /etc/polkit-1/rules.d/50-unitdoctor-test.rules <<'RULE'
{RULE}RULE
sleep 1
echo "@@allow"; as_ud unitdoctor fix --yes {U}; echo "@@rc $?"
state allowed
echo "@@history"; as_ud unitdoctor history --json; echo "@@rc $?"
echo "@@undo"; as_ud unitdoctor undo --yes; echo "@@rc $?"
state undone
echo "@@empty"; as_ud unitdoctor fix --yes {E}; echo "@@rc $?"
echo "@@empty-state $(systemctl is-enabled {E}) $(stat -c %s /run/systemd/system/{E})"
W=/etc/systemd/system/sockets.target.wants
enabled() {{ systemctl is-enabled {S}.service {S}.socket | tr '\\n' ' '; }}
wants() {{ test -d $W && echo wants-dir || echo no-wants-dir; }}
echo "@@socket-before $(enabled)$(wants)"
echo "@@socket"; as_ud unitdoctor fix --yes {S}.service; echo "@@rc $?"
echo "@@socket-fixed $(enabled)$(systemctl is-active {S}.socket) $(readlink $W/{S}.socket)"
echo "@@socket-undo"; runuser -u ud -- unitdoctor undo --yes --json </dev/null; echo "@@rc $?"
echo "@@socket-undone $(enabled)$(wants)"
echo "@@again"; as_ud unitdoctor fix --yes {S}.service; echo "@@rc $?"
# as if killed right after EnableUnitFiles, before its answer was journaled: unmask done, enable in doubt
J=$J python3 - <<'PY'
import glob, json, os
f = sorted(glob.glob(os.environ["J"] + "/*.json"))[-1]
e = json.load(open(f))
e["status"] = "in-progress"
for s in e["steps"][1:]:
    s["state"] = "planned"
    s.pop("message", None)
    s.pop("result", None)
json.dump(e, open(f, "w"))
PY
echo "@@interrupted"; as_ud unitdoctor undo --yes; echo "@@rc $?"
echo "@@rolled-back $(enabled)$(wants)"
echo "@@entries"
python3 -c "import glob, json; print(json.dumps([json.load(open(f)) for f in sorted(glob.glob('$J/*.json'))]))"
echo "@@rc $?"
"""


def _section(out: str, name: str) -> str:
    return out.split(f"@@{name}\n", 1)[1].split("\n@@rc ", 1)[0]


def _rc(out: str, name: str) -> int:
    return int(out.split(f"@@{name}\n", 1)[1].split("\n@@rc ", 1)[1].split()[0])


def _state(out: str, name: str) -> str:
    m = re.search(rf"^@@{name} (.*)$", out, re.M)
    assert m, out
    return m.group(1).strip()


def test_non_root_fix_through_the_manager_is_what_polkit_allows():
    body = "[Unit]\nDescription=polkit route\n[Service]\nExecStart=/bin/sleep 1000\n"
    files: dict[str, object] = {
        f"{LIB}/{U}": body,
        f"/etc/systemd/system/{U}": ("symlink", "/dev/null"),
        f"{LIB}/{E}": body,
        f"{LIB}/{S}.service": body,
        f"{LIB}/{S}.socket": f"[Socket]\nListenStream=/run/{S}.sock\n[Install]\nWantedBy=sockets.target\n",
        f"/etc/systemd/system/{S}.service": ("symlink", "/dev/null"),
    }
    b = container.boot(files, command=SCRIPT, args=("--src", str(container.REPO)), timeout=60)
    out = b.output
    assert b.rc == 0, b.stderr[-3000:] + out[-3000:]
    assert _state(out, "start") == "masked inactive /dev/null root:root", out

    # --dry-run names the route and changes nothing, not even ud's journal directory
    assert _rc(out, "dry") == 0
    assert "this fix asks the system manager over the system bus" in _section(out, "dry")
    assert _state(out, "journal-after-dry") == "no"

    # (a) no rule: polkit wants an administrator's password, nobody can type it: exit 4, nothing changed
    deny = _section(out, "deny")
    assert _rc(out, "deny") == 4, deny
    assert _state(out, "polkitd") == "running", "polkit never answered: the refusal did not come from polkit"
    line = [ln for ln in deny.splitlines() if ln.startswith("unitdoctor: ")]
    assert len(line) == 1, deny
    assert f"changing /etc/systemd/system/{U} needs root; nothing was changed" in line[0]
    assert "polkit refused org.freedesktop.systemd1.manage-unit-files" in line[0]
    assert line[0].endswith(f"Run: sudo unitdoctor fix --yes {U}")
    assert _state(out, "denied") == "masked inactive /dev/null root:root"
    assert _state(out, "journal-after-deny") == "no"

    # (b) a rule lets ud manage unit files and units: unmasked by the manager, started, journaled
    allow = _section(out, "allow")
    assert _rc(out, "allow") == 0, allow
    assert f'Removed "/etc/systemd/system/{U}".' in allow and f"Started {U}: active." in allow
    assert _state(out, "allowed") == "static active", out
    m = re.search(r"undo with `unitdoctor undo (\S+)`", allow)
    assert m, allow
    entry_id = m.group(1)
    hist = json.loads(_section(out, "history"))
    assert hist["journal"] == "/home/ud/.local/state/unitdoctor/system"
    entry = next(e for e in hist["entries"] if e["id"] == entry_id)
    assert entry["status"] == "done"

    # undo puts the mask back through MaskUnitFiles: the same link, in /etc, root's
    undo = _section(out, "undo")
    assert _rc(out, "undo") == 0, undo
    assert f"Created symlink /etc/systemd/system/{U} → /dev/null." in undo
    assert _state(out, "undone").startswith("masked ") and _state(out, "undone").endswith("/dev/null root:root")

    # an empty-file mask could not be put back exactly by the manager: the sudo line, nothing changed
    empty = _section(out, "empty")
    assert _rc(out, "empty") == 4, empty
    assert "not through the manager" in empty and f"Run: sudo unitdoctor fix --yes {E}" in empty
    assert _state(out, "empty-state") == "masked-runtime 0"

    # enabling through the manager (EnableUnitFiles), undone by DisableUnitFiles: the links and the directory
    # the fix made go, nothing else
    before = _state(out, "socket-before").split()
    assert before[:2] == ["masked", "disabled"], before
    sock = _section(out, "socket")
    assert _rc(out, "socket") == 0, sock
    assert f"Created symlink /etc/systemd/system/sockets.target.wants/{S}.socket" in sock
    fixed = _state(out, "socket-fixed").split()
    assert fixed[:3] == ["static", "enabled", "active"], fixed
    undo = json.loads(_section(out, "socket-undo"))
    assert _rc(out, "socket-undo") == 0, undo
    assert _state(out, "socket-undone").split() == before
    kinds = [s["kind"] for o in undo["outcomes"] for s in o["steps"]]
    assert kinds == ["disable", "mask", "daemon-reload"], undo

    # what --json printed and what the journal holds follow the schemas, new step kinds included
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(undo, json.loads((SCHEMA / "fix.schema.json").read_text()))
    jsonschema.validate(hist, json.loads((SCHEMA / "history.schema.json").read_text()))
    entries = json.loads(_section(out, "entries"))
    assert [e.get("via") for e in entries] == ["manager"] * 5, entries
    assert {s["kind"] for e in entries for s in e["steps"]} == {"unmask", "mask", "enable", "disable",
                                                                   "daemon-reload", "start"}
    entry_schema = json.loads((SCHEMA / "journal-entry.schema.json").read_text())
    for e in entries:
        jsonschema.validate(e, entry_schema)

    # an interrupted fix through the manager is rolled back through it: the enable in doubt (its links are
    # there) by DisableUnitFiles, the unmask by MaskUnitFiles
    assert _rc(out, "again") == 0, _section(out, "again")
    rolled = _section(out, "interrupted")
    assert _rc(out, "interrupted") == 0, rolled
    assert "Rolled back the interrupted fix" in rolled, rolled
    assert _state(out, "rolled-back").split() == before
    assert entries[-1]["status"] == "rolled-back"
    assert [s["state"] for s in entries[-1]["steps"]][:4] == ["rolled-back", "rolled-back", "skipped", "skipped"]


#: Drives a terminal session of ud: ``su -l`` opens a logind session, the inner ``script`` gives the command a
#: controlling terminal (``su -c`` runs it without one); the password is typed when polkit's agent asks for it.
TERMINAL = r"""
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("su", ["su", "-l", "ud", "-c", "script -qec 'unitdoctor fix --yes UNIT; echo rc=$?' /dev/null"])
buf, sent, deadline = b"", False, time.monotonic() + 120
while time.monotonic() < deadline:
    if not select.select([fd], [], [], 1)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
    if not sent and b"Password:" in buf:
        time.sleep(0.2)
        os.write(fd, b"secret\n")
        sent = True
os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
print("\n@@sent", sent)
"""

KEEP_RULE = """polkit.addRule(function(action, subject) {
    if ((action.id == "org.freedesktop.systemd1.manage-unit-files" ||
         action.id == "org.freedesktop.systemd1.manage-units") && subject.user == "ud") {
        return polkit.Result.AUTH_SELF_KEEP;
    }
});
"""


def test_on_a_terminal_polkit_asks_for_the_password_like_systemctl():
    """stdin a terminal: the calls allow interactive authorization and pkttyagent runs meanwhile (systemctl's
    habit), so a rule that wants ud's own password gets it typed, and the fix goes through."""
    script = f"""
set -u
systemctl daemon-reload
echo 'ud:secret' | chpasswd
cat > /etc/polkit-1/rules.d/50-unitdoctor-test.rules <<'RULE'
{KEEP_RULE}RULE
sleep 1
python3 - <<'PY'
{TERMINAL.replace("UNIT", U)}
PY
echo "@@state $(systemctl is-enabled {U}) $(systemctl is-active {U})"
"""
    body = "[Unit]\nDescription=polkit route\n[Service]\nExecStart=/bin/sleep 1000\n"
    files: dict[str, object] = {f"{LIB}/{U}": body, f"/etc/systemd/system/{U}": ("symlink", "/dev/null")}
    b = container.boot(files, command=script, args=("--src", str(container.REPO)), timeout=60)
    out = b.output
    assert b.rc == 0, b.stderr[-3000:] + out[-3000:]
    assert "AUTHENTICATING FOR org.freedesktop.systemd1.manage-unit-files" in out, out
    assert _state(out, "sent") == "True", out
    assert f'Removed "/etc/systemd/system/{U}".' in out and f"Started {U}: active." in out, out
    assert re.search(r"^rc=0", out, re.M), out
    assert _state(out, "state") == "static active", out
