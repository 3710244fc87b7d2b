"""Fuzzed units for the loadability differential (issue 13): services, sockets, timers and paths built
from lines that matter to whether a unit loads (types, commands, listeners, triggers, their resets), the
hostile syntax the fuzz campaign found (open quotes, trailing backslashes, long components, specifiers,
``[ Unit ]``, control bytes, invalid UTF-8), and drop-ins of the same lines. Seeded: ``units(n, seed)``
gives the same units on every run. No unit names another generated unit, so each one's load state is
its own.
"""

from __future__ import annotations

import random

import test_calendar
import test_timespan

UNIT_LINES = (
    "Description=fuzzed", "Requires=nope.service", "After=nope.service", "Wants=%n.other",
    "Documentation=man:x(1)", "ConditionPathExists=/nope", "ConditionPathExists=relative", "Requires=%i.service",
    "StopWhenUnneeded=maybe", "JobTimeoutSec=garbage", "Frobnicate=1", "X-Local=1", "Foo", "OnFailure=a b.service",
    "SuccessAction=reboot", "SuccessAction=bogus", "FailureAction=none", "RefuseManualStart=yes",
)
EXEC = (
    "/bin/true", "-/bin/false", "@/bin/true argv0", ":/bin/true", "+/bin/true", "!/bin/true", "!!/bin/true",
    "-@/bin/true x", "true", "/bin/echo %{", "/bin/echo %Z", "-/bin/echo %Z", "/bin/echo 100%", "/bin/true\\\\",
    '/bin/echo "unterminated', '-/bin/echo "unterminated', '"/bin/echo', "/bin/" + "a" * 300, "/bin/tr'ue'x",
    "", "/bin/", "-/bin/", "./bin/true", "/bin/echo %n %i %%", "/bin/true ; /bin/false", "/bin/sh -c 'echo hi'",
    "/bin/echo \\x41", "/bin/echo \\q", "-", "@", "/bin/echo \x01", "/bin/\x01true", "/bin/true \\", "%n",
    "/bin/echo '%'", "/usr/bin/env FOO=1 true", "-/nope/%{", "/" + "/".join(["a"] * 2100), "@/bin/true",
    "-@/bin/true", "%i", "-%i",
)
SERVICE_LINES = (
    "Type=simple", "Type=oneshot", "Type=oneshot", "Type=forking", "Type=notify", "Type=dbus", "Type=idle",
    "Type=exec", "Type=notify-reload", "Type=bogus", "Type=", "RemainAfterExit=yes", "RemainAfterExit=no",
    "RemainAfterExit=maybe", "Restart=always", "Restart=on-success", "Restart=on-failure", "Restart=no",
    "Restart=bogus", "Restart=", "BusName=org.example.%N", "BusName=", "BusName=not a name", "PIDFile=relative.pid",
    "KillMode=bogus", "TimeoutSec=garbage", 'Environment="A=b c"', "User=", "Slice=foo bar.slice",
    "Slice=user-%i.slice", "Slice=nosuffix", "Sockets=a b.socket", "WorkingDirectory=relative",
    "WorkingDirectory=-relative", "WorkingDirectory=~", "WorkingDirectory=/x/../y", "WorkingDirectory=%h",
    "PAMName=login", "PAMName=", "KillMode=process", "KillMode=mixed", "BusName=:1.%N", "BusName=org.1a.b",
    "Type=oneshot", "RemainAfterExit=yes", "DynamicUser=", "DynamicUser=yes", "DynamicUser=maybe", "User=-",
    "User=nobody", "User=%i", "Group=a:b", "SupplementaryGroups=a b/c", "RootDirectory=relative",
    "RootDirectory=/srv/x", "SELinuxContext=%Z", "SELinuxContext=-%Z", "PIDFile=x/../y", "PIDFile=/run/x.pid",
)
EXEC_KEYS = ("ExecStart", "ExecStart", "ExecStart", "ExecStartPre", "ExecStop", "ExecStopPost", "ExecReload",
             "ExecCondition")
LISTEN = (
    "/run/a.sock", "/run/b.sock", "127.0.0.1:99", "99", "[::]:80", "@abstract", "garbage", "", "/run/%n", "0",
    "65536", "vsock:2:1234", "relative.sock", "/run/" + "a" * 300, "eth0", "%Z", "@" + "a" * 107, "1.2.3.4:5%%lo",
)
SOCKET_LINES = (
    "Symlinks=/run/l", "Symlinks=/run/l /run/m", "Symlinks=relative", "Symlinks=", "Accept=yes", "Accept=no",
    "Accept=maybe", "Service=x.service", "Service=bad name", "Service=x.socket", "Service=", "Service=%Z.service",
    "ListenFIFO=/run/fifo", "ListenFIFO=relative", "ListenSpecial=/dev/x", "ListenSpecial=rel",
    "ListenSequentialPacket=/run/seq", "ListenNetlink=route 1", "ListenNetlink=bogus", "ListenMessageQueue=/mq",
    "ListenMessageQueue=mq", "ListenUSBFunction=/dev/usb", "Backlog=garbage", "SocketMode=999", "BindIPv6Only=x",
    "PAMName=login", "KillMode=mixed", "KillMode=control-group", "ListenNetlink=1", "ListenStream=vsock::5",
    "ListenStream=@", "ListenStream=/", "ListenStream=+5", "ListenStream=1.2.3.4", "ListenStream=01.2.3.4:5",
    "ListenStream=[::1]:5", "ListenStream=::1:5", "ListenStream=/var/run/x.sock", "ListenFIFO=/run/a/../b",
    "ListenSequentialPacket=127.0.0.1:5", "ListenNetlink=route 5 6", "ExecStartPre=!", "ExecStartPre=/bin/true",
    "ExecStopPost=-@/bin/true", "SocketUser=-", "SocketGroup=ok",
)
TIMER_KEYS = ("OnBootSec", "OnActiveSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec")
TIMER_LINES = (
    "OnClockChange=yes", "OnClockChange=no", "OnClockChange=maybe", "OnTimezoneChange=yes", "OnTimezoneChange=",
    "Unit=x.service", "Unit=bad name", "Unit=x.timer", "Unit=%Z.service", "Unit=", "Persistent=yes",
    "AccuracySec=garbage", "RandomizedDelaySec=1h", "OnCalendar=", "OnBootSec=", "OnCalendar=%Z daily",
    "OnCalendar=daily %n", "OnBootSec=%n",
)
PATH_KEYS = ("PathExists", "PathExistsGlob", "PathChanged", "PathModified", "DirectoryNotEmpty")
PATH_VALUES = ("/x", "relative", "", "/x/%n", "/x y", "/x/%Z", "/" + "a" * 300, "/x/../y", "//x", "/x\\", "/%i")
PATH_LINES = ("Unit=x.service", "Unit=bad name", "Unit=x.path", "Unit=", "MakeDirectory=yes", "DirectoryMode=0755",
              "DirectoryMode=bogus", "TriggerLimitBurst=x")
INSTALL_LINES = ("WantedBy=multi-user.target", "Alias=other.service", "Also=", "DefaultInstance=x")
HOSTILE = (
    "[ Unit ]", "[Unit", "[X-Extra]", "# comment", "; comment", "", "Description=a \\", "\\", "Description=\x00nul",
    "Description=\udcff\udcfe", "\ufeffDescription=bom", "Description=x\r", "  Description=indented", "=value",
)
TYPES = ("service", "service", "socket", "timer", "path")


def _lines(rng: random.Random, utype: str) -> list[str]:
    """Lines of the type's section, in no particular order."""
    out: list[str] = []
    for _ in range(rng.randint(0, 6)):
        if utype == "service":
            out.append(f"{rng.choice(EXEC_KEYS)}={rng.choice(EXEC)}" if rng.random() < 0.6
                       else rng.choice(SERVICE_LINES))
        elif utype == "socket":
            out.append(f"{rng.choice(('ListenStream', 'ListenStream', 'ListenDatagram'))}={rng.choice(LISTEN)}"
                       if rng.random() < 0.5 else rng.choice(SOCKET_LINES))
        elif utype == "timer":
            r = rng.random()
            if r < 0.4:
                out.append("OnCalendar=" + rng.choice(CALENDARS))
            elif r < 0.65:
                out.append(f"{rng.choice(TIMER_KEYS)}={rng.choice(SPANS)}")
            else:
                out.append(rng.choice(TIMER_LINES))
        else:
            out.append(f"{rng.choice(PATH_KEYS)}={rng.choice(PATH_VALUES)}" if rng.random() < 0.5
                       else rng.choice(PATH_LINES))
    return out


def _section(rng: random.Random, utype: str, first: bool) -> str:
    own = utype.capitalize()
    lines: list[str] = []
    if rng.random() < 0.4:
        lines += ["[Unit]"] + [rng.choice(UNIT_LINES) for _ in range(rng.randint(1, 3))]
    if first or rng.random() < 0.9:
        lines.append(f"[{own}]")
    lines += _lines(rng, utype)
    if rng.random() < 0.15:
        lines.insert(rng.randint(0, len(lines)), rng.choice(HOSTILE))
    if first and rng.random() < 0.2:
        lines += ["[Install]", rng.choice(INSTALL_LINES)]
    return "\n".join(lines) + ("\n" if rng.random() < 0.95 else "")


CALENDARS = tuple(test_calendar.generated(300, seed=7))
SPANS = tuple(test_timespan.generated(100, seed=7))


def units(n: int, seed: int = 13) -> list[tuple[str, str, list[str]]]:
    """``n`` units: (name, fragment text, drop-in texts), named ``fNNNNN.TYPE``."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        utype = rng.choice(TYPES)
        dropins = [_section(rng, utype, False) for _ in range(rng.choice((0, 0, 0, 1, 1, 2)))]
        out.append((f"f{k:05d}.{utype}", _section(rng, utype, True), dropins))
    return out
