"""A real ``systemd --user`` manager in a private mount namespace, for tests.

``LiveManager.start(base_dir)`` runs one ``unshare --mount --propagation private`` process that mounts a
tmpfs on ``/run``, hides the host's user configuration and execs ``/usr/lib/systemd/systemd --user``.  The
directories the manager writes (``XDG_RUNTIME_DIR=/run/user/0``) live in that tmpfs; the directories a test
writes (``HOME``, ``XDG_CONFIG_HOME``, ``XDG_DATA_HOME``, ``XDG_CONFIG_DIRS``, ``XDG_DATA_DIRS``) live under
``base_dir``.  ``systemctl --user`` runs through ``nsenter --mount`` with the same environment.  No pytest.

What the host still contributes (fact sheet §1.2): ``/usr/{local/,}{lib,share}/systemd/user``, which hold
``default.target``, ``basic.target``, ``exit.target`` and the packaged units; the manager needs them.  At
start-up ``default.target`` pulls in ``basic.target`` and ``sockets.target``, which starts ``dbus.socket``
through ``/usr/lib/systemd/user/sockets.target.wants/`` (it listens on ``/run/user/0/bus`` in the namespace).
The user generators (``systemd-xdg-autostart-generator``) and environment generators run too; they find
nothing, because ``XDG_CONFIG_DIRS`` is a scratch dir.  Hidden inside the namespace: ``/etc/systemd/user`` (an
empty dir is bind-mounted over it; on Debian it holds ``sockets.target.wants/gpg-agent*.socket`` links),
``/etc/systemd/user.conf`` and ``user.conf.d`` (``/dev/null`` and an empty dir, so the manager runs with its
compiled-in defaults) and ``/run/systemd/user`` (an empty tmpfs).

Pitfalls this module works around:

- **The manager would write to the host's ``/dev/console``.**  With no journal socket, a user manager's
  default log target ``auto`` means console, and a user manager always reopens ``/dev/console`` (never its
  stderr); ``--log-target=console`` does the same.  ``kmsg`` would write to the host's kernel log and drop
  all but 200 messages per 5 s.  So the manager gets ``--log-target=journal``: a datagram socket of ours is
  bind-mounted on ``/run/systemd/journal/socket`` (see :meth:`LiveManager.log_records`; a copy goes to
  ``base_dir/manager.log``), and ``/dev/null`` is bind-mounted over ``/dev/console`` should that fail.
  Generators write to the manager's stderr, ``base_dir/manager.stderr``.
- **Managers would share cgroups.**  A user manager takes its own cgroup minus a trailing ``/init.scope`` as
  its root.  In a container whose processes sit in ``/init.scope`` that is the root cgroup, so every manager,
  other people's included, would run ``NAME.service`` in ``/app.slice/NAME.service``, and stopping it in one
  manager would kill it in the other.  The launcher therefore moves itself into a fresh
  ``<own cgroup>/unitdoctor-live-<hex>`` in the process-tracking hierarchies (cgroup2 and v1
  ``name=systemd``), and :meth:`LiveManager.stop` removes that subtree from every hierarchy.  If the cgroup
  file system is not writable, the manager runs where it was started and ``cgroup`` is None.
- **Services get no journal.**  Each service start logs ``Failed to connect stdout to the journal socket,
  ignoring`` and the output goes to ``/dev/null``.  The manager logs ``Failed to connect to system bus`` once.
- **Inactive units do not stay loaded.**  An inactive, unreferenced unit is unloaded after each call and read
  from disk again on the next, so ``NeedDaemonReload`` and "needs daemon-reload" facts need an active unit.

Measured on this machine (systemd 252.38, 2 vCPU VM), medians of 20-40 runs:

- ``start()``: 95 ms (private socket after ~65 ms, then ``is-system-running --wait`` until ``default.target``
  is reached); ``stop()``: 33 ms (``SIGTERM`` makes a user manager run ``exit.target`` and exit);
  a start+stop cycle: 120 ms.
- ``systemctl --user start`` of a ``Type=oneshot`` unit: 22 ms; a failing start of a masked unit: 7 ms;
  ``show``: 9 ms; ``nsenter ... systemctl --version`` alone: 6 ms.
"""

from __future__ import annotations

import array
import contextlib
import dataclasses
import functools
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import BinaryIO

SYSTEMD = "/usr/lib/systemd/systemd"
RUNTIME_DIR = "/run/user/0"
"""``XDG_RUNTIME_DIR`` of the manager, as seen inside its namespace."""

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
LOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DATAGRAM_MAX = 1 << 18  # above the default net.core.wmem_max, the most a sender can put in one datagram

# Runs in the new mount namespace as: sh -c _LAUNCHER sh EMPTY_DIR JOURNAL_SOCKET LOG_LEVEL CGROUP_PROCS...
# $$ is the shell's pid, which `exec` hands on to systemd.
_LAUNCHER = r"""
set -eu
empty=$1 journal=$2 level=$3
shift 3
for procs in "$@"; do echo $$ > "$procs"; done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/system /run/systemd/journal /run/user/0
chmod 0700 /run/user/0
: > /run/systemd/journal/socket
mount --bind "$journal" /run/systemd/journal/socket
if [ -e /dev/console ]; then mount --bind /dev/null /dev/console; fi
if [ -d /etc/systemd/user ]; then mount --bind "$empty" /etc/systemd/user; fi
if [ -d /etc/systemd/user.conf.d ]; then mount --bind "$empty" /etc/systemd/user.conf.d; fi
if [ -e /etc/systemd/user.conf ]; then mount --bind /dev/null /etc/systemd/user.conf; fi
unset PWD
exec /usr/lib/systemd/systemd --user --log-target=journal --log-level="$level"
"""


class LiveManagerError(RuntimeError):
    """The manager could not be started, queried or stopped cleanly."""


@dataclasses.dataclass(frozen=True)
class StartResult:
    """Exit status and stderr of ``systemctl --user start UNIT``."""

    rc: int
    stderr: str


@functools.cache
def live_available() -> str | None:
    """Return None if a live manager can run here, else the reason it cannot."""
    if not sys.platform.startswith("linux"):
        return "live systemd tests need Linux"
    if os.geteuid() != 0:
        return "live systemd tests need root (mount namespace, tmpfs on /run)"
    for tool in ("unshare", "nsenter", "systemctl", "mount", "sh"):
        if shutil.which(tool) is None:
            return f"{tool} not found on PATH"
    if not os.access(SYSTEMD, os.X_OK):
        return f"{SYSTEMD} not found"
    try:
        probe = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "--", "mount", "-t", "tmpfs", "tmpfs", "/run"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare --mount failed: {e}"
    if probe.returncode != 0:
        return f"unshare --mount failed (rc {probe.returncode}): {probe.stderr.strip()}"
    return None


class LiveManager:
    """A running ``systemd --user`` in its own mount namespace; see the module docstring.

    Host paths: ``base_dir``, ``home``, ``config_home``, ``data_home``, ``config_dirs``, ``data_dirs``,
    ``runtime_dir_host`` (``/proc/PID/root/run/user/0``: write runtime units here).  Namespace path:
    ``runtime_dir``.  ``environ`` is exactly the environment the manager was started with; give it to the
    offline engine to build the same lookup paths.  Use as a context manager, or call :meth:`stop`.
    """

    def __init__(self, base_dir: pathlib.Path, *, log_level: str = "info") -> None:
        if log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {LOG_LEVELS}, not {log_level!r}")
        self.base_dir = base_dir
        self.log_level = log_level
        self.home = base_dir / "home"
        self.config_home = self.home / ".config"
        self.data_home = self.home / ".local" / "share"
        self.config_dirs = (base_dir / "xdg-config",)
        self.data_dirs = (base_dir / "xdg-data",)
        self.runtime_dir = RUNTIME_DIR
        self.log_path = base_dir / "manager.log"
        self.stderr_path = base_dir / "manager.stderr"
        self.environ = {
            "PATH": _PATH,
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_DATA_HOME": str(self.data_home),
            "XDG_CONFIG_DIRS": ":".join(map(str, self.config_dirs)),
            "XDG_DATA_DIRS": ":".join(map(str, self.data_dirs)),
            "XDG_RUNTIME_DIR": RUNTIME_DIR,
        }
        self._empty_dir = base_dir / "empty"
        self._journal_socket = base_dir / "journal.socket"
        self._proc: subprocess.Popen[bytes] | None = None
        self._mnt_ns: str | None = None
        self._mnt_ns_fd = -1
        """An open ``/proc/PID/ns/mnt`` that pins ``_mnt_ns``: see :meth:`_pin_namespace`."""
        self.cgroup_dirs: list[pathlib.Path] = []
        """Host paths of this manager's cgroup in every hierarchy (removed by :meth:`stop`)."""
        self._log: _JournalLog | None = None
        self.cgroup: str | None = None
        self.pid = 0

    # -- life cycle ------------------------------------------------------------------------------------------

    @classmethod
    def start(cls, base_dir: pathlib.Path, *, log_level: str = "info") -> LiveManager:
        """Return a running manager whose scratch directories are under ``base_dir`` (created if missing)."""
        manager = cls(base_dir, log_level=log_level)
        manager._launch()
        return manager

    def restart(self) -> LiveManager:
        """Stop this manager and start a fresh one on the same directories; return self.

        The new manager has a new pid, a new hash seed and an empty ``/run`` (runtime units are gone).
        """
        self.stop()
        self._launch()
        return self

    def __enter__(self) -> LiveManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _launch(self) -> None:
        for d in (
            self.config_home / "systemd" / "user",
            self.data_home / "systemd" / "user",
            *self.config_dirs,
            *self.data_dirs,
            self._empty_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)
        own_ns = os.readlink("/proc/self/ns/mnt")
        try:
            self._log = _JournalLog(self._journal_socket, self.log_path)
            cgroup_procs = self._make_cgroups()
            with open(self.stderr_path, "ab") as stderr:
                self._proc = subprocess.Popen(
                    [
                        "unshare",
                        "--mount",
                        "--propagation",
                        "private",
                        "--",
                        "sh",
                        "-c",
                        _LAUNCHER,
                        "sh",
                        str(self._empty_dir),
                        str(self._journal_socket),
                        self.log_level,
                        *map(str, cgroup_procs),
                    ],
                    env=self.environ,
                    cwd="/",
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                    start_new_session=True,
                )
            self.pid = self._proc.pid
            self._mnt_ns = self._wait_ready(own_ns)
            self._wait_started()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, own_ns: str) -> str:
        """Return the manager's mount namespace once its private bus socket exists."""
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LiveManagerError(
                    f"systemd --user exited with status {self._proc.returncode} before it was ready; "
                    f"its stderr ({self.stderr_path}):\n{self._read_stderr()}"
                )
            try:
                ns = os.readlink(f"/proc/{self.pid}/ns/mnt")
            except OSError:
                ns = own_ns
            # Before unshare(2) the pid still sees the host's /run, which may hold a real /run/user/0.
            if ns != own_ns and (self.runtime_dir_host / "systemd" / "private").exists():
                self._pin_namespace(ns)
                return ns
            time.sleep(0.002)
        raise LiveManagerError(
            f"systemd --user (pid {self.pid}) did not create {self.runtime_dir}/systemd/private within "
            f"{START_TIMEOUT:g} s; its stderr ({self.stderr_path}):\n{self._read_stderr()}"
        )

    def _wait_started(self) -> None:
        """Wait until the start-up transaction (default.target) is done: tests begin with a quiet manager."""
        cp = self.systemctl("is-system-running", "--wait", timeout=START_TIMEOUT)
        state = cp.stdout.strip()
        if state not in ("running", "degraded"):
            raise LiveManagerError(
                f"systemd --user (pid {self.pid}) is {state or 'unreachable'!r} after start-up: {cp.stderr.strip()}"
            )

    def stop(self) -> None:
        """Stop the manager, kill anything left in its namespace and remove its cgroups.  Idempotent."""
        proc, self._proc = self._proc, None
        problems = []
        try:
            if proc is not None and proc.poll() is None:
                if self._mnt_ns is None:  # start() failed half-way; find the namespace before the pid goes
                    self._mnt_ns = _mount_ns_of(proc.pid, unless=os.readlink("/proc/self/ns/mnt"))
                    if self._mnt_ns is not None:
                        self._pin_namespace(self._mnt_ns)
                # SIGTERM makes a user manager start exit.target: units are stopped, then it exits.
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    problems.append(f"systemd --user did not exit within {STOP_TIMEOUT:g} s of SIGTERM; killed")
                    proc.kill()
                    proc.wait()
            survivors = self._kill_namespace()
            if survivors:
                problems.append(f"processes left in the namespace after SIGKILL: {survivors}")
        finally:
            self._mnt_ns = None
            if self._mnt_ns_fd >= 0:
                os.close(self._mnt_ns_fd)
                self._mnt_ns_fd = -1
            if self._log is not None:
                self._log.close()
                self._log = None
            problems.extend(self._remove_cgroups())
        if problems:
            raise LiveManagerError("; ".join(problems))

    def _pin_namespace(self, ns: str) -> None:
        """Hold the manager's mount namespace open until :meth:`stop` is done with it.

        The kernel gives a freed namespace's inode number to the next new namespace at once, so without a
        reference ``_kill_namespace`` could SIGKILL a manager that another test run (or a parallel session)
        started meanwhile: the symptom was "systemd --user exited with status -9 before it was ready".
        """
        with contextlib.suppress(OSError):
            fd = os.open(f"/proc/{self.pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
            if os.readlink(f"/proc/self/fd/{fd}") == ns and self._mnt_ns_fd < 0:
                self._mnt_ns_fd = fd
            else:
                os.close(fd)

    def _kill_namespace(self) -> list[int]:
        """SIGKILL every process still in the manager's mount namespace; return those that would not go."""
        if self._mnt_ns is None:
            return []
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:
            pids = _pids_in_mount_ns(self._mnt_ns)
            if not pids or time.monotonic() > deadline:
                return pids
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def _make_cgroups(self) -> list[pathlib.Path]:
        """Create this manager's cgroup in each process-tracking hierarchy; return its cgroup.procs files."""
        self.cgroup_dirs = []
        self.cgroup = None
        name = f"unitdoctor-live-{uuid.uuid4().hex[:12]}"
        procs = []
        for mount, own in _tracking_cgroups():
            path = pathlib.Path(mount + own.rstrip("/")) / name
            try:
                path.mkdir()
            except OSError:
                continue
            self.cgroup_dirs.append(path)
            procs.append(path / "cgroup.procs")
            self.cgroup = own.rstrip("/") + "/" + name
        if self.cgroup is not None:
            # systemd creates the same relative path in the controller hierarchies it uses (pids, memory).
            for mount in _cgroup_mounts():
                path = pathlib.Path(mount + self.cgroup)
                if path not in self.cgroup_dirs:
                    self.cgroup_dirs.append(path)
        return procs

    def _remove_cgroups(self) -> list[str]:
        problems = []
        for top in self.cgroup_dirs:
            if not top.exists():
                continue
            for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError as e:
                    problems.append(f"cannot remove cgroup {dirpath}: {e}")
        self.cgroup_dirs = []
        return problems

    def _read_stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-4000:]
        except OSError as e:
            return f"(unreadable: {e})"

    # -- paths -----------------------------------------------------------------------------------------------

    @property
    def runtime_dir_host(self) -> pathlib.Path:
        """Return ``runtime_dir`` as seen from the host, through ``/proc/PID/root``.

        Absolute symlink targets written here are resolved by the manager inside its namespace; do not
        ``resolve()`` them on the host.
        """
        return pathlib.Path(f"/proc/{self.pid}/root{RUNTIME_DIR}")

    @property
    def running(self) -> bool:
        """Return whether the manager process is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- systemctl -------------------------------------------------------------------------------------------

    def systemctl(self, *args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        """Return the result of ``systemctl --user ARGS`` run inside the manager's namespace.

        stdout and stderr are captured as text; the exit status is not checked.  Raises
        ``subprocess.TimeoutExpired`` (after killing systemctl) if it takes longer than ``timeout`` seconds.
        """
        if not self.running:
            raise LiveManagerError("the manager is not running")
        env = dict(self.environ, SYSTEMD_PAGER="cat", SYSTEMD_COLORS="0", SYSTEMD_URLIFY="0")
        try:
            return subprocess.run(
                [
                    "nsenter",
                    f"--target={self.pid}",
                    "--mount",
                    "--",
                    "systemctl",
                    "--user",
                    "--no-pager",
                    *args,
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        finally:
            if self._log is not None:
                self._log.drain()

    def start_unit(self, name: str, *, timeout: float = 10) -> StartResult:
        """Return the outcome of ``systemctl --user start NAME``.

        A plain (blocking) start, not ``--no-block``: systemctl waits until the job finishes, so ``rc`` and
        ``stderr`` are the job's real result, including transaction errors such as a masked ``Requires=``
        dependency.  A unit whose start never finishes (a hanging ``Type=oneshot``) raises
        ``subprocess.TimeoutExpired`` after ``timeout``; its job stays queued until :meth:`stop`.
        """
        cp = self.systemctl("start", "--", name, timeout=timeout)
        return StartResult(cp.returncode, cp.stderr)

    def show(self, name: str, *props: str) -> dict[str, str]:
        """Return ``systemctl --user show`` of ``name`` as a dict; all properties unless ``props`` are named.

        ``name=""`` shows the manager's own properties (``UnitPath``, ``Version``, ...).
        """
        args = ["show"]
        if props:
            args.append("--property=" + ",".join(props))
        if name:
            args += ["--", name]
        cp = self.systemctl(*args)
        if cp.returncode != 0:
            raise LiveManagerError(f"systemctl --user show {name} failed (rc {cp.returncode}): {cp.stderr.strip()}")
        return dict(line.split("=", 1) for line in cp.stdout.splitlines() if "=" in line)

    def daemon_reload(self) -> None:
        """Run ``systemctl --user daemon-reload``; raise LiveManagerError if it fails."""
        cp = self.systemctl("daemon-reload")
        if cp.returncode != 0:
            raise LiveManagerError(f"daemon-reload failed (rc {cp.returncode}): {cp.stderr.strip()}")

    # -- log -------------------------------------------------------------------------------------------------

    def log_messages(self) -> list[str]:
        """Return the MESSAGE of every log record so far, oldest first.

        Everything the manager logged before the last systemctl call returned is included.  The level is the
        ``log_level`` given to :meth:`start` (default ``info``; ``debug`` shows e.g. a skipped ``Wants=``).
        """
        return [r.get("MESSAGE", "") for r in self.log_records()]

    def log_records(self) -> list[dict[str, str]]:
        """Return every log record so far: journal fields such as MESSAGE, PRIORITY, USER_UNIT, CODE_FUNC."""
        if self._log is None:
            return []
        self._log.drain()
        return list(self._log.records)

    def __repr__(self) -> str:
        return f"<LiveManager pid={self.pid} base_dir={self.base_dir} running={self.running}>"


class _JournalLog:
    """A stand-in for journald's ``/run/systemd/journal/socket``: a datagram socket drained into ``records``.

    A thread drains it continuously: the kernel queues only ``net.unix.max_dgram_qlen`` (often 10)
    datagrams, and a user manager then blocks for up to 10 s per message.  :meth:`drain` also runs on the
    caller's thread, so records sent before a systemctl call returned are there when it returns.  Each record
    is copied to ``copy_to`` as one ``<PRIORITY> IDENTIFIER: MESSAGE`` line.
    """

    def __init__(self, path: pathlib.Path, copy_to: pathlib.Path) -> None:
        if path.is_socket():
            path.unlink()
        self._path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dirfd = os.open(path.parent, os.O_PATH | os.O_CLOEXEC)
        try:
            # AF_UNIX paths are limited to 108 bytes; a pytest tmp_path can be longer.
            self._sock.bind(f"/proc/self/fd/{dirfd}/{path.name}")
        finally:
            os.close(dirfd)
        self._sock.setblocking(False)
        self._buf = bytearray(_DATAGRAM_MAX)
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._copy: BinaryIO = open(copy_to, "ab")  # noqa: SIM115 - closed in close()
        self.records: list[dict[str, str]] = []
        self._thread = threading.Thread(target=self._run, name=f"journal {path}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._wake_r not in select.select([self._sock, self._wake_r], [], [])[0]:
            self.drain()

    def drain(self) -> None:
        with self._lock:
            if self._sock.fileno() < 0:
                return
            while True:
                try:
                    n, ancdata, _, _ = self._sock.recvmsg_into([self._buf], socket.CMSG_SPACE(4 * 8))
                except BlockingIOError:
                    break
                data = bytes(self._buf[:n])
                for fd in _received_fds(ancdata):
                    with os.fdopen(fd, "rb") as memfd:  # a record too big for a datagram comes as a memfd
                        memfd.seek(0)
                        data = memfd.read()
                record = _parse_journal_record(data)
                self.records.append(record)
                prefix = f"<{record.get('PRIORITY', '?')}> {record.get('SYSLOG_IDENTIFIER', '?')}: "
                self._copy.write(f"{prefix}{record.get('MESSAGE', '')}\n".encode())
            self._copy.flush()

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join()
        self.drain()
        with self._lock:
            self._sock.close()
            self._copy.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._path.unlink(missing_ok=True)


def _received_fds(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(array.array("i", payload[: len(payload) - len(payload) % 4]))
    return fds


def _parse_journal_record(data: bytes) -> dict[str, str]:
    """Return the fields of one journal datagram (the "Native Journal Protocol" of systemd's docs).

    A field is ``KEY=value\\n``, or ``KEY\\n`` + 64-bit little-endian length + value + ``\\n`` (binary).
    A line that is neither continues the previous value: systemd's log.c sends multi-line messages unescaped.
    """
    fields: dict[str, str] = {}
    key = None
    i = 0
    while i < len(data):
        end = data.find(b"\n", i)
        if end < 0:
            end = len(data)
        line = data[i:end]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            key = k.decode(errors="replace")
            fields[key] = v.decode(errors="replace")
            i = end + 1
            continue
        if line and end + 9 <= len(data):
            size = int.from_bytes(data[end + 1 : end + 9], "little")
            stop = end + 9 + size
            if stop < len(data) and data[stop : stop + 1] == b"\n":
                key = line.decode(errors="replace")
                fields[key] = data[end + 9 : stop].decode(errors="replace")
                i = stop + 1
                continue
        if key is not None:
            fields[key] += "\n" + line.decode(errors="replace")
        i = end + 1
    return fields


def _mountinfo() -> list[tuple[str, str, str, str]]:
    """Return (root, mount point, fstype, super options) for each mount of this process."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(fields) >= 5 and len(rfields) >= 3:
                mounts.append((_unescape(fields[3]), _unescape(fields[4]), rfields[0], rfields[2]))
    return mounts


def _unescape(field: str) -> str:
    """Return a mountinfo field with its octal escapes (``\\040`` for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _cgroup_mounts() -> list[str]:
    """Return the mount points of every cgroup and cgroup2 file system."""
    return [point for root, point, fstype, _ in _mountinfo() if fstype in ("cgroup", "cgroup2") and root == "/"]


def _tracking_cgroups() -> list[tuple[str, str]]:
    """Return (mount point, our cgroup path) for the cgroup2 and v1 ``name=systemd`` hierarchies."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, controllers, path = line.rstrip("\n").split(":", 2)
            if hid == "0":
                own["cgroup2"] = path
            elif "name=systemd" in controllers.split(","):
                own["name=systemd"] = path
    found = []
    for root, point, fstype, options in _mountinfo():
        if root != "/":
            continue  # a container's partial view; our path would not be relative to it
        if fstype == "cgroup2" and "cgroup2" in own:
            found.append((point, own["cgroup2"]))
        elif fstype == "cgroup" and "name=systemd" in options.split(",") and "name=systemd" in own:
            found.append((point, own["name=systemd"]))
    return found


def _mount_ns_of(pid: int, *, unless: str) -> str | None:
    """Return the mount namespace of ``pid``, or None if it is ``unless`` or cannot be read."""
    try:
        ns = os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None
    return None if ns == unless else ns


def _pids_in_mount_ns(ns: str) -> list[int]:
    """Return the live processes whose mount namespace is ``ns`` (zombies have none and are left out)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == ns:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    """Write ``text`` to ``path``, creating its directories (test trees only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def units(m: LiveManager) -> pathlib.Path:
    """The manager's persistent config dir for user units (``$XDG_CONFIG_HOME/systemd/user``), created."""
    d = m.config_home / "systemd" / "user"
    d.mkdir(parents=True, exist_ok=True)
    return d
