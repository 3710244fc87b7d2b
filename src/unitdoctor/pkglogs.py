"""Package-manager logs and the journal, read bounded and only on demand.

Sources and their formats:

- apt: ``/var/log/apt/history.log`` and its logrotate rotations (``history.log.1.gz`` …): stanzas of
  ``Start-Date:``, ``Commandline:``, ``Install:``/``Upgrade:``/``Remove:``/``Purge:``/…, ``End-Date:``;
  times are local time of the root (``/etc/localtime``, UTC when absent), as apt writes them.
- dpkg: ``/var/log/dpkg.log`` (+ ``.1``, ``.N.gz``): ``YYYY-MM-DD HH:MM:SS TYPE …`` lines; a
  ``startup`` line begins each dpkg run, which we take as one transaction.
- dnf (4): ``/var/log/dnf.log`` and ``dnf.rpm.log`` (+ ``.N``): ``ISO-8601+ZONE LEVEL message``; a run
  starts at ``--- logging initialized ---``, its ``Command:`` line names it. And the history database
  ``/var/lib/dnf/history.sqlite`` (libdnf's ``trans``, ``trans_item``, ``rpm`` tables; ``dt_begin`` and
  ``dt_end`` are Unix times; the command line is ``trans.cmdline``), opened read-only through a
  ``file:…?mode=ro`` URI (``immutable=1`` for an offline root, so nothing is written next to it).
- the journal: ``journalctl -o json --since @T --until @T`` (live), or the root's
  ``/var/log/journal`` files passed one by one with ``--file`` (only regular files found inside the
  root, so a symlink in the journal directory cannot lead outside it).

Bounds: a plain log is read from its end, at most ``TAIL_MAX`` bytes (earlier lines are not seen, and
lines of a file read from the end have no line numbers); a ``.gz`` is streamed, at most ``GZ_MAX``
bytes of output; newest files are read first and older rotations only while they can still hold the
time asked about. A file that is not what its name says (not gzip, not a database, NUL bytes) gives
a warning and is skipped. Nothing here raises for bad data.
"""

from __future__ import annotations

import datetime
import errno
import functools
import io
import math
import os
import re
import stat
import zlib
from typing import Callable, Iterable, Optional, TypedDict, Union

from .records import dataclass, field
from .rootfs import Root

#: A plain log is read from its end, at most this much.
TAIL_MAX = 8 * 1024 * 1024
#: A compressed rotation is decompressed up to this much output.
GZ_MAX = 32 * 1024 * 1024
#: logrotate keeps 12 rotations of apt's and dpkg's logs; we look at no more than this.
ROTATIONS_MAX = 14
JOURNAL_TIMEOUT = 20
JOURNAL_FILES_MAX = 256
JOURNAL_LINES_MAX = 2000

APT_HISTORY = "/var/log/apt/history.log"
DPKG_LOG = "/var/log/dpkg.log"
DNF_LOG = "/var/log/dnf.log"
DNF_RPM_LOG = "/var/log/dnf.rpm.log"
DNF_HISTORY = "/var/lib/dnf/history.sqlite"
JOURNAL_DIR = "/var/log/journal"

UTC = datetime.timezone.utc


def iso(t: Optional[float]) -> Optional[str]:
    """``2024-03-01T10:15:02Z`` for a Unix time, None for None."""
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Transaction:
    """One package-manager run: what kind of log, where it is recorded, its window and what it did.

    An apt stanza keeps its raw fields (``raw``) and spells out ``packages`` and ``text`` only when
    asked: a year of history has tens of thousands of stanzas and only a few are ever shown.
    """

    kind: str  # apt-history, dpkg-log, dnf-history, dnf-log
    path: str
    line: Optional[int]
    start: float
    end: float
    command: str
    packages_: tuple[tuple[str, str], ...] = ()  # (action, package name without architecture)
    text_: str = ""
    raw: Optional[tuple[tuple[str, str], ...]] = field(default=None, compare=False)

    @functools.cached_property
    def packages(self) -> tuple[tuple[str, str], ...]:
        if self.raw is None:
            return self.packages_
        cur = dict(self.raw)
        pkg = re.compile(_APT_PKG)
        return tuple((action.lower(), m.group(1).split(":")[0])
                     for action in _APT_ACTIONS for m in pkg.finditer(cur.get(action, "")))

    @functools.cached_property
    def text(self) -> str:
        if self.raw is None:
            return self.text_
        cur = dict(self.raw)
        parts = [f"{k}: {cur[k]}" for k in ("Start-Date", "End-Date", "Commandline") if k in cur]
        parts += [f"{a}: {_short(cur[a])}" for a in (*_APT_ACTIONS, "Error") if a in cur]
        return "; ".join(parts)

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def touches(self, pkg: str) -> list[str]:
        """The actions this run did to ``pkg``."""
        return [a for a, p in self.packages if p == pkg]


#: Journal fields that name a unit: the unit a message is about or comes from (systemd.journal-fields(7)).
UNIT_FIELDS = ("UNIT", "_SYSTEMD_UNIT", "USER_UNIT", "_SYSTEMD_USER_UNIT", "OBJECT_SYSTEMD_UNIT")


@dataclass(frozen=True)
class JournalEntry:
    time: float
    ident: str
    message: str
    #: (field, unit) for every ``UNIT_FIELDS`` field the entry carries
    units: tuple[tuple[str, str], ...] = ()


# -- bounded reading -------------------------------------------------------------------------

def _open_regular(root: Root, path: str) -> tuple[int, os.stat_result]:
    """An fd for a regular file of the root, its symlinks followed inside the root (``Root.chase``).

    ``Root.read`` returns whole files only; logs need a tail or a stream, so the descriptor is opened
    here the same way (``O_NOFOLLOW`` on the chased path, non-blocking, regular files only).
    """
    real = root.chase(path)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(root.host(real), flags)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise OSError(errno.ENOTTY, "not a regular file", path)
    return fd, st


def read_tail(root: Root, path: str, limit: int = TAIL_MAX) -> tuple[bytes, bool]:
    """The last ``limit`` bytes of a file, starting at a line boundary; (data, whether cut)."""
    fd, st = _open_regular(root, path)
    try:
        start = max(0, st.st_size - limit)
        os.lseek(fd, start, os.SEEK_SET)
        chunks, total = [], 0
        while total < limit:
            b = os.read(fd, min(1 << 20, limit - total))
            if not b:
                break
            chunks.append(b)
            total += len(b)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if start > 0:
        nl = data.find(b"\n")
        data = data[nl + 1:] if nl >= 0 else data  # no line break at all: binary, judged by decode_log
    return data, start > 0


def read_gz(root: Root, path: str, limit: int = GZ_MAX) -> tuple[bytes, Optional[str]]:
    """A gzip file decompressed up to ``limit`` bytes: (data, problem or None). Raises OSError.

    Streamed through ``zlib`` so that what precedes a corrupt or truncated part is kept; members
    after the first (``cat a.gz b.gz``) are read too.
    """
    fd, _st = _open_regular(root, path)
    chunks: list[bytes] = []
    total = 0
    d = zlib.decompressobj(wbits=31)
    fed = False  # the current member has started
    problem: Optional[str] = None
    try:
        while total < limit and problem is None:
            raw = os.read(fd, 1 << 16)
            if not raw:
                if fed and not d.eof:
                    problem = "gzip data ends early (truncated)"
                break
            while raw and total < limit:
                fed = True
                try:
                    out = d.decompress(raw, limit - total)
                except zlib.error as e:
                    problem = f"gzip data is corrupt ({e})"
                    break
                chunks.append(out)
                total += len(out)
                raw = d.unconsumed_tail
                if d.eof:
                    raw = d.unused_data + raw
                    d = zlib.decompressobj(wbits=31)
                    fed = False
                    raw = raw if raw.strip(b"\0") else b""
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if problem and not data:
        return b"", f"not a readable gzip file ({problem})"
    if problem:
        return data, f"{problem}; used the first {len(data)} bytes"
    if total >= limit:
        return data, f"more than {limit} bytes uncompressed; used the first {limit}"
    return data, None


def decode_log(data: bytes) -> tuple[str, Optional[str]]:
    """Text of a log, with a problem when it is mostly binary (a sparse file reads as NUL bytes)."""
    nul = data.count(b"\0")
    if data and nul * 2 > len(data):
        return "", f"{nul} of {len(data)} bytes are NUL (sparse or corrupt file); skipped"
    problem = f"{nul} NUL bytes ignored" if nul else None
    return data.replace(b"\0", b"").decode("utf-8", errors="replace"), problem


# -- time ------------------------------------------------------------------------------------

def load_timezone(root: Root) -> tuple[datetime.tzinfo, Optional[str]]:
    """The root's local time zone from ``/etc/localtime`` (TZif); UTC, as glibc uses, when absent."""
    try:
        data = root.read("/etc/localtime", limit=1024 * 1024)
    except OSError:
        return UTC, "/etc/localtime not present: log times read as UTC"
    try:
        import zoneinfo

        return zoneinfo.ZoneInfo.from_file(io.BytesIO(data), key="localtime"), None
    except Exception as e:  # noqa: BLE001 - any parse failure of a hostile file
        return UTC, f"/etc/localtime is not a valid TZif file ({type(e).__name__}): log times read as UTC"


#: The patterns of the log lines, compiled (and kept by ``re``) the first time a log is read.
_LOCAL = r"(\d{4})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2})"


def local_time(text: str, tz: datetime.tzinfo) -> Optional[float]:
    m = re.compile(_LOCAL).search(text)
    if not m:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups())
        return datetime.datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp()
    except (ValueError, OverflowError):
        return None


# -- parsers ---------------------------------------------------------------------------------

_APT_PKG = r"([^\s,()]+) \(([^)]*)\)"
_APT_ACTIONS = ("Install", "Reinstall", "Upgrade", "Downgrade", "Remove", "Purge")


def parse_apt_history(text: str, path: str, tz: datetime.tzinfo, numbered: bool) -> list[Transaction]:
    """Transactions of an apt history log (apt's ``history.log``: one stanza per run)."""
    out: list[Transaction] = []
    cur: dict[str, str] = {}
    start_line: Optional[int] = None

    def flush() -> None:
        if "Start-Date" in cur:
            start = local_time(cur["Start-Date"], tz)
            if start is not None:
                end = local_time(cur.get("End-Date", ""), tz) or start
                out.append(Transaction("apt-history", path, start_line if numbered else None, start,
                                       max(end, start), cur.get("Commandline", "apt"), raw=tuple(cur.items())))
        cur.clear()

    for n, line in enumerate(text.split("\n"), 1):
        key, colon, value = line.partition(": ")
        if key == "Start-Date":
            flush()
            start_line = n
        if colon and key in ("Start-Date", "End-Date", "Commandline", "Requested-By", "Error", *_APT_ACTIONS):
            cur[key] = value.strip()
        if key == "End-Date":
            flush()
    flush()
    return out


def _short(s: str, n: int = 300) -> str:
    return s if len(s) <= n else s[:n] + " …"


_DPKG_LINE = r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (\S+) (.*)$"
_DPKG_ACTIONS = ("install", "upgrade", "remove", "purge", "configure", "trigproc")


class _DpkgRun(TypedDict):
    line: int
    start: float
    end: float
    cmd: str
    pkgs: list[tuple[str, str]]
    lines: list[str]


def parse_dpkg_log(text: str, path: str, tz: datetime.tzinfo, numbered: bool) -> list[Transaction]:
    """dpkg runs of a dpkg log: from one ``startup`` line to the last line before the next."""
    out: list[Transaction] = []
    run: Optional[_DpkgRun] = None
    last_stamp, last_t = "", None  # consecutive lines share their second: convert each stamp once

    def flush() -> None:
        if run is not None and run["pkgs"]:
            lines = run["lines"]
            text = "; ".join(lines[:6]) + (f"; … ({len(lines) - 6} more lines)" if len(lines) > 6 else "")
            out.append(Transaction("dpkg-log", path, run["line"] if numbered else None, run["start"],
                                   run["end"], run["cmd"], tuple(run["pkgs"]), text))

    dpkg_line = re.compile(_DPKG_LINE)
    for n, line in enumerate(text.split("\n"), 1):
        m = dpkg_line.match(line)
        if not m:
            continue
        if m.group(1) != last_stamp:
            last_stamp, last_t = m.group(1), local_time(m.group(1), tz)
        t = last_t
        if t is None:
            continue
        kind, rest = m.group(2), m.group(3)
        if kind == "startup" or run is None:
            flush()
            run = {"line": n, "start": t, "end": t, "cmd": f"dpkg ({rest})" if kind == "startup" else "dpkg",
                   "pkgs": [], "lines": []}
        run["end"] = max(run["end"], t)
        if kind in _DPKG_ACTIONS:
            run["pkgs"].append((kind, rest.split()[0].split(":")[0] if rest.split() else ""))
            run["lines"].append(f"{m.group(1)} {kind} {rest}")
    flush()
    return out


_DNF_LINE = r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:?\d{2}) (\S+) (.*)$"
_DNF_VERBS = {"install", "in", "remove", "rm", "erase", "upgrade", "up", "update", "reinstall", "rei", "downgrade",
              "dg", "autoremove", "swap", "distro-sync", "dsync", "group", "module", "history", "localinstall"}
_DNF_RPM_ACTIONS = {"Installed": "install", "Erase": "remove", "Erased": "remove", "Upgrade": "upgrade",
                    "Upgraded": "upgrade", "Reinstall": "reinstall", "Reinstalled": "reinstall",
                    "Downgrade": "downgrade", "Downgraded": "downgrade"}


def _dnf_time(date: str, zone: str) -> Optional[float]:
    z = "+00:00" if zone == "Z" else (zone if ":" in zone else zone[:3] + ":" + zone[3:])
    try:
        return datetime.datetime.fromisoformat(date + z).timestamp()
    except ValueError:
        return None


def nevra_name(nevra: str) -> str:
    """``nginx-1:1.24.0-1.fc38.x86_64`` → ``nginx``."""
    base = nevra.rsplit(".", 1)[0] if "." in nevra else nevra
    parts = base.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else base


class _DnfRun(TypedDict):
    line: int
    start: float
    end: float
    cmd: Optional[str]


def parse_dnf_log(text: str, path: str, rpm_lines: Iterable[tuple[float, str, str]],
                  numbered: bool) -> list[Transaction]:
    """dnf runs that changed packages: ``Command:`` of each run, its window, the rpm actions in it."""
    out: list[Transaction] = []
    runs: list[_DnfRun] = []
    dnf_line = re.compile(_DNF_LINE)
    for n, line in enumerate(text.split("\n"), 1):
        m = dnf_line.match(line)
        if not m:
            continue
        t = _dnf_time(m.group(1), m.group(2))
        if t is None:
            continue
        msg = m.group(4)
        if "--- logging initialized ---" in msg or not runs:
            runs.append({"line": n, "start": t, "end": t, "cmd": None})
        runs[-1]["end"] = max(runs[-1]["end"], t)
        if msg.startswith("Command:") and runs[-1]["cmd"] is None:
            runs[-1]["cmd"] = msg[len("Command:"):].strip()
            runs[-1]["line"] = n
    rpm = sorted(rpm_lines)
    for r in runs:
        cmd = r["cmd"]
        words = (cmd or "").split()
        if cmd is None or not words or not (set(words[1:]) & _DNF_VERBS):
            continue
        pkgs = tuple((a, p) for t, a, p in rpm if r["start"] - 1 <= t <= r["end"] + 1)
        out.append(Transaction("dnf-log", path, r["line"] if numbered else None, r["start"], r["end"], cmd,
                               pkgs, f"Command: {cmd}" + (f"; {len(pkgs)} rpm actions" if pkgs else "")))
    return out


def parse_dnf_rpm_log(text: str) -> list[tuple[float, str, str]]:
    """(time, action, package) of ``dnf.rpm.log`` lines such as ``SUBDEBUG Erase: nginx-1:1.24.0-1.fc38.x86_64``."""
    out = []
    dnf_line = re.compile(_DNF_LINE)
    for line in text.split("\n"):
        m = dnf_line.match(line)
        if not m:
            continue
        word, _, nevra = m.group(4).partition(": ")
        action = _DNF_RPM_ACTIONS.get(word.strip())
        t = _dnf_time(m.group(1), m.group(2))
        if action and nevra and t is not None:
            out.append((t, action, nevra_name(nevra.strip())))
    return out


#: libdnf's TransactionItemAction (libdnf/transaction/Types.hpp).
DNF_ACTIONS = {1: "install", 2: "downgrade", 3: "downgraded", 4: "obsolete", 5: "obsoleted", 6: "upgrade",
               7: "upgraded", 8: "remove", 9: "reinstall", 10: "reinstalled", 11: "reason-change"}


#: A value sqlite3 hands back: the column types of a file we did not write are whatever it holds.
SqlValue = Union[int, float, str, bytes, None]


def _sql_time(value: SqlValue) -> Optional[float]:
    """A time column (libdnf: Unix seconds, INTEGER) as a finite number; None for text, NULL or a blob."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _sql_text(value: SqlValue) -> str:
    """A column as text: a blob decoded (invalid UTF-8 replaced), NULL empty."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def dnf_history(host_path: str, display: str, t0: float, t1: float, *,
                immutable: bool) -> tuple[list[Transaction], Optional[Transaction]]:
    """Transactions of a libdnf history database overlapping [t0, t1], and the one nearest to them.

    Raises sqlite3.Error for a file that is not such a database.
    """
    import sqlite3  # imported on first use (as json and subprocess for the journal): most runs need neither
    import urllib.parse

    uri = "file:" + urllib.parse.quote(host_path) + "?mode=ro" + ("&immutable=1" if immutable else "")
    con = sqlite3.connect(uri, uri=True, timeout=1)
    try:
        con.execute("PRAGMA query_only = 1")
        cols = "id, dt_begin, COALESCE(dt_end, dt_begin), COALESCE(cmdline, ''), user_id"
        rows = con.execute(f"SELECT {cols} FROM trans WHERE dt_begin <= ? AND COALESCE(dt_end, dt_begin) >= ? "
                           "ORDER BY dt_begin LIMIT 20", (t1, t0)).fetchall()
        near = con.execute(f"SELECT {cols} FROM trans ORDER BY ABS(dt_begin - ?) LIMIT 1",
                           ((t0 + t1) / 2,)).fetchall()

        def make(row: tuple[SqlValue, SqlValue, SqlValue, SqlValue, SqlValue]) -> Optional[Transaction]:
            tid_value, begin_value, end_value, cmd_value, uid_value = row
            tid, cmd, uid = _sql_text(tid_value), _sql_text(cmd_value), _sql_text(uid_value)
            begin, end = _sql_time(begin_value), _sql_time(end_value)
            if begin is None or end is None:
                return None  # not a time: a database dnf did not write (dt_begin is INTEGER NOT NULL)
            items = con.execute("SELECT ti.action, r.name FROM trans_item ti JOIN rpm r ON r.item_id = ti.item_id "
                                "WHERE ti.trans_id = ? ORDER BY ti.id LIMIT 200", (tid_value,)).fetchall()
            pkgs = tuple((DNF_ACTIONS.get(a, _sql_text(a)), _sql_text(n)) for a, n in items)
            shown = ", ".join(f"{a} {n}" for a, n in pkgs[:8]) + (" …" if len(pkgs) > 8 else "")
            text = f"transaction {tid}: {cmd or '(no command line)'} by uid {uid}" + (f"; {shown}" if shown else "")
            return Transaction("dnf-history", f"{display}#trans.id={tid}", None, begin, end, cmd, pkgs, text)

        made = [make(r) for r in rows]
        return [x for x in made if x is not None], (make(near[0]) if near else None)
    finally:
        con.close()


# -- the set of logs of one root -------------------------------------------------------------

def _rotations(root: Root, base: str) -> list[tuple[int, str]]:
    """(rotation number, path) of ``base``, ``base.1``, ``base.2.gz`` …, newest first."""
    d, _, name = base.rpartition("/")
    try:
        entries = root.scandir(d)
    except OSError:
        return []
    out = []
    for e in entries:
        if e.name == name:
            out.append((0, base))
            continue
        if not e.name.startswith(name + "."):
            continue
        rest = e.name[len(name) + 1:]
        num = rest[:-3] if rest.endswith(".gz") else rest
        if num.isdigit():
            out.append((int(num), f"{d}/{e.name}"))
    return sorted(out)[:ROTATIONS_MAX]


@dataclass
class Logs:
    """The logs of a root, opened lazily; every file read at most once."""

    root: Root
    live: bool
    tz: datetime.tzinfo = UTC
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, path, text)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    read: list[str] = field(default_factory=list)
    _tz_loaded: bool = False
    _files: dict[str, list[Transaction]] = field(default_factory=dict)
    _rpm_lines: Optional[list[tuple[float, str, str]]] = None

    def _timezone(self) -> datetime.tzinfo:
        if not self._tz_loaded:
            self.tz, note = load_timezone(self.root)
            if note:
                self.skipped.append(("/etc/localtime", note))
            self._tz_loaded = True
        return self.tz

    def _text(self, kind: str, path: str) -> Optional[tuple[str, bool]]:
        """(text, has line numbers) of one log file, or None with a warning."""
        try:
            if path.endswith(".gz"):
                data, problem = read_gz(self.root, path)
                whole = True
            else:
                data, cut = read_tail(self.root, path)
                whole = not cut
                problem = f"larger than {TAIL_MAX} bytes: read the last {TAIL_MAX} only" if cut else None
        except OSError as e:
            self.warnings.append((kind, path, f"warning: cannot be read ({e.strerror or e}), skipped"))
            return None
        self.read.append(path)
        if problem:
            self.warnings.append((kind, path, f"warning: {problem}"))
        text, bad = decode_log(data)
        if bad:
            self.warnings.append((kind, path, f"warning: {bad}"))
        return text, whole

    def _parse(self, kind: str, path: str, parser: Callable[[str, str, bool], list[Transaction]]) -> list[Transaction]:
        if path not in self._files:
            got = self._text(kind, path)
            self._files[path] = [] if got is None else parser(got[0], path, got[1])
        return self._files[path]

    def _family(self, kind: str, base: str, parser: Callable[[str, str, bool], list[Transaction]],
                t: float, slack: float) -> list[Transaction]:
        """Transactions of ``base`` and its rotations, newest first, stopping once a file starts before ``t``."""
        rot = _rotations(self.root, base)
        if not rot:
            self.skipped.append((base, "not present"))
            return []
        out: list[Transaction] = []
        for _n, path in rot:
            txs = self._parse(kind, path, parser)
            out.extend(txs)
            if txs and min(x.start for x in txs) <= t - slack:
                break  # older rotations end before this file begins
        return out

    def transactions(self, t: float, slack: float) -> list[Transaction]:
        """Every package transaction in the logs that may lie within ``slack`` of ``t`` (and their neighbours)."""
        tz = self._timezone()
        out = self._family("apt-history", APT_HISTORY, lambda s, p, w: parse_apt_history(s, p, tz, w), t, slack)
        out += self._family("dpkg-log", DPKG_LOG, lambda s, p, w: parse_dpkg_log(s, p, tz, w), t, slack)
        if self._rpm_lines is None:
            self._rpm_lines = []
            for _n, path in _rotations(self.root, DNF_RPM_LOG):
                got = self._text("dnf-log", path)
                if got is not None:
                    self._rpm_lines.extend(parse_dnf_rpm_log(got[0]))
        rpm_lines = self._rpm_lines
        out += self._family("dnf-log", DNF_LOG, lambda s, p, w: parse_dnf_log(s, p, rpm_lines, w), t, slack)
        return out

    def dnf_history(self, t0: float, t1: float) -> tuple[list[Transaction], Optional[Transaction]]:
        try:
            real = self.root.chase(DNF_HISTORY)
            fd, _st = _open_regular(self.root, real)
            os.close(fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                self.skipped.append((DNF_HISTORY, "not present"))
            else:
                self.warnings.append(("dnf-history", DNF_HISTORY, f"warning: cannot be read ({e.strerror}), skipped"))
            return [], None
        import sqlite3

        try:
            got = dnf_history(self.root.host(real), DNF_HISTORY, t0, t1, immutable=not self.live)
        except sqlite3.Error as e:
            self.warnings.append(("dnf-history", DNF_HISTORY, f"warning: not a readable dnf history database ({e}), "
                                                              "skipped"))
            return [], None
        self.read.append(DNF_HISTORY)
        return got

    # -- journal ---------------------------------------------------------------------------

    def journal(self, t0: float, t1: float) -> list[JournalEntry]:
        """Journal entries between two Unix times (live: the host's journal; offline: the root's files)."""
        from . import hosttools

        exe = hosttools.which("journalctl")
        if exe is None:
            self.skipped.append(("journalctl", "host programs are forbidden (--no-host-tools): journal files are "
                                 "read only by journalctl" if hosttools.forbidden() else "not installed"))
            return []
        argv = [exe, "-o", "json", "-q", "--no-pager", f"--since=@{int(t0)}", f"--until=@{int(t1) + 1}",
                f"--lines={JOURNAL_LINES_MAX}"]
        where = "journalctl"
        if not self.live:
            files = self._journal_files()
            if not files:
                self.skipped.append((JOURNAL_DIR, "no journal files"))
                return []
            argv += [f"--file={self.root.host(f)}" for f in files]
            where = JOURNAL_DIR
        import json
        import subprocess

        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "SYSTEMD_PAGER": "cat"}
        try:
            p = subprocess.run(argv, capture_output=True, env=env, timeout=JOURNAL_TIMEOUT, check=False,
                               stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.warnings.append(("journal", where, f"warning: journalctl failed ({e})"))
            return []
        self.read.append(where)
        if p.returncode != 0 and not p.stdout:
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            last = err[-1] if err else f"exit status {p.returncode}"
            self.warnings.append(("journal", where, f"warning: journalctl: {last}"))
            return []
        out = []
        for raw in p.stdout.splitlines()[:JOURNAL_LINES_MAX]:
            try:
                entry = json.loads(raw)
                t = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
            except (ValueError, KeyError, TypeError):
                continue
            msg = entry.get("MESSAGE", "")
            if isinstance(msg, list):  # non-UTF-8 messages are arrays of bytes
                msg = bytes(b for b in msg if isinstance(b, int) and 0 <= b < 256).decode("utf-8", "replace")
            ident = entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM") or "?"
            pid = entry.get("_PID") or entry.get("SYSLOG_PID")
            units = tuple((k, entry[k]) for k in UNIT_FIELDS if isinstance(entry.get(k), str))
            out.append(JournalEntry(t, f"{ident}[{pid}]" if pid else str(ident), str(msg), units))
        return out

    def _journal_files(self) -> list[str]:
        files: list[tuple[float, str]] = []
        try:
            top = self.root.scandir(JOURNAL_DIR)
        except OSError:
            return []
        for e in top:
            if e.is_reg and e.name.endswith((".journal", ".journal~")):
                files.append((e.mtime, f"{JOURNAL_DIR}/{e.name}"))
            elif e.is_dir:
                try:
                    sub = self.root.scandir(f"{JOURNAL_DIR}/{e.name}")
                except OSError:
                    continue
                files += [(s.mtime, f"{JOURNAL_DIR}/{e.name}/{s.name}") for s in sub
                          if s.is_reg and s.name.endswith((".journal", ".journal~"))]
        files.sort(reverse=True)
        return [f for _m, f in files[:JOURNAL_FILES_MAX]]
