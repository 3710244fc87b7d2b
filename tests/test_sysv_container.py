"""SysV init scripts against a booted systemd 252 (../shared/tools/pid1-container.sh) and ``systemctl --root``.

Each scenario is a set of generated init scripts (LSB headers or chkconfig comments, Provides: aliases and targets,
``$facilities``, X-Start-Before, descriptions over several lines, usage lines with and without reload, pidfiles,
executable or not, ``.sh`` names, rc?.d S and K links, a script beside a native unit or a mask). In the container the
files are written and ``systemctl daemon-reload`` runs the generators again (as at boot). We then compare with what
our offline model predicts for the same files on a copy of the container's base root:

- the files systemd-sysv-generator wrote to /run/systemd/generator.late (unit text byte for byte, alias links,
  ``.wants`` links) with ``sysv.generated_files``;
- ``LoadState``, the unit id and the Wants=/After=/Before= the generated unit gives, for every script name and alias;
- ``systemctl start NAME`` (exit status) with ``predict_start``;
- ``systemctl is-enabled NAME`` with and without ``SYSTEMCTL_SKIP_SYSV`` (in the container and with
  ``systemctl --root`` on the copy) with ``sysv.is_enabled``.

``UD_SYSV_SCENARIOS=N`` runs more scenarios (default 3, one boot each).
"""

from __future__ import annotations

import base64
import collections
import io
import os
import pathlib
import random
import shutil
import subprocess
import tarfile

import pytest
from tests import debroots

from unitdoctor import sysv
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Dep, LoadState, Manager
from unitdoctor.transaction import predict_start

REPO = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = int(os.environ.get("UD_SYSV_SCENARIOS", "3"))
PID1_DIR = pathlib.Path(os.environ.get("PID1_DIR", "/tmp/pid1-container"))
STATS: collections.Counter = collections.Counter()


def _container_script() -> pathlib.Path:
    for d in (REPO.parent / "shared/tools", pathlib.Path("/work/shared/tools")):
        if (d / "pid1-container.sh").is_file():
            return d / "pid1-container.sh"
    pytest.skip("pid1-container.sh not found beside the checkout (../shared/tools)")
    raise AssertionError


def _require_container() -> pathlib.Path:
    missing = [t for t in ("systemd-nspawn", "nsenter", "unshare", "systemctl") if shutil.which(t) is None]
    reason = None
    if os.geteuid() != 0:
        reason = "the booted-systemd container needs root"
    elif missing:
        reason = f"missing {', '.join(missing)} (apt-get install systemd-container)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the container tests: {reason}", pytrace=False)
        pytest.skip(reason)
    return _container_script()


# -- scenarios -----------------------------------------------------------------------------------------------------

FACILITIES = ("$network", "$remote_fs", "$local_fs", "$syslog", "$named", "$portmap", "$time", "$udfac", "$all")
TARGETS_IN_PROVIDES = ("$udprov", "$network")


def scenario(seed: int) -> tuple[dict[str, tuple[bytes, int]], dict[str, str], list[str]]:
    """(files: path -> (content, mode), symlinks: path -> target, names to ask about)."""
    rnd = random.Random(seed)
    files: dict[str, tuple[bytes, int]] = {}
    links: dict[str, str] = {}
    pool = [f"ud{seed}{c}" for c in "abcdefgh"]
    asked: list[str] = []
    for i, n in enumerate(pool):
        fname = n + ".sh" if rnd.random() < 0.2 else n
        lsb = rnd.random() < 0.8
        head = ["#!/bin/sh"]
        others = [o for o in pool if o != n]
        if lsb:
            # Another script's name (the real script wins over the alias) or a name of its own: never one that two
            # scripts provide, as the generator walks a hash table with a random key and the first one wins.
            provides = [n] + rnd.sample([pool[(i + 1) % len(pool)], f"{n}-alias", *TARGETS_IN_PROVIDES],
                                        rnd.randint(0, 2))
            head += ["### BEGIN INIT INFO", f"# Provides:          {' '.join(provides)}"]
            for key in ("Required-Start", "Should-Start", "X-Start-Before", "X-Start-After"):
                if rnd.random() < 0.6:
                    words = rnd.sample([*FACILITIES, *others], rnd.randint(1, 3))
                    head.append(f"# {key}:    {' '.join(words)}")
            head += ["# Default-Start:     2 3 4 5", "# Default-Stop:      0 1 6"]
            if rnd.random() < 0.7:
                head.append(f"# Short-Description: short {n} 100% done")
            if rnd.random() < 0.5:
                head += [f"# Description:       long {n}", "#  continued here", "#\tand here"]
            head.append("### END INIT INFO")
            if rnd.random() < 0.2:
                head.append("# description: chkconfig style, ignored when LSB has one")
        else:
            if rnd.random() < 0.6:
                head += [f"# description: {n} in chkconfig style \\", "#              over two lines"]
        pidfile = rnd.random() < 0.2
        if pidfile:
            head.append(f"# pidfile: /run/{n}.pid")
        usage = "{start|stop|reload}" if rnd.random() < 0.5 else "{start|stop}"
        start = f"sleep 1000 >/dev/null 2>&1 & echo $! > /run/{n}.pid" if pidfile else ":"
        body = [
            'case "$1" in',
            f"  start) {start}; exit 0 ;;",
            "  stop|reload|restart|force-reload|status) exit 0 ;;",
            f'  *) echo "Usage: $0 {usage}" >&2; exit 3 ;;',
            "esac",
        ]
        mode = 0o755 if rnd.random() < 0.85 else 0o644
        files[f"/etc/init.d/{fname}"] = (("\n".join(head + body) + "\n").encode(), mode)
        for rc in ("rcS.d", "rc1.d", "rc2.d", "rc3.d", "rc5.d"):
            if rnd.random() < 0.4:
                kind = "S" if rnd.random() < 0.8 else "K"
                links[f"/etc/{rc}/{kind}{rnd.randint(1, 99):02d}{fname}"] = f"../init.d/{fname}"
        asked += [n + ".service", f"{n}-alias.service"]
        if i == 0:  # a native unit beside the script: not generated
            files[f"/etc/systemd/system/{n}.service"] = (
                b"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n", 0o644)
        if i == 1:  # masked: not generated either (unit_file_exists counts a mask)
            links[f"/etc/systemd/system/{n}.service"] = "/dev/null"
    return files, links, sorted(set(asked))


def _tarball(files: dict[str, tuple[bytes, int]], links: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p, (data, mode) in files.items():
            ti = tarfile.TarInfo(p.lstrip("/"))
            ti.size, ti.mode = len(data), mode
            tar.addfile(ti, io.BytesIO(data))
        for p, target in links.items():
            ti = tarfile.TarInfo(p.lstrip("/"))
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            tar.addfile(ti)
    return buf.getvalue()


def _materialize(root: pathlib.Path, files: dict[str, tuple[bytes, int]], links: dict[str, str]) -> None:
    for p, (data, mode) in files.items():
        f = root / p.lstrip("/")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        f.chmod(mode)
    for p, target in links.items():
        f = root / p.lstrip("/")
        f.parent.mkdir(parents=True, exist_ok=True)
        if f.is_symlink() or f.exists():
            f.unlink()
        os.symlink(target, f)


PROPS = "Id,LoadState,ActiveState,Wants,After,Before,SourcePath"


def _in_container(script: pathlib.Path, tarball: bytes, asked: list[str]) -> dict:
    names = " ".join(asked)
    sh = f"""
set -u
echo '{base64.b64encode(tarball).decode()}' | base64 -d | tar -xzf - -C /
systemctl daemon-reload
echo "@@tree"
find /run/systemd/generator.late -mindepth 1 \\( -type f -o -type l \\) -printf '%P\\t%y\\t%l\\n' | sort
for f in $(find /run/systemd/generator.late -maxdepth 1 -type f -name '*.service' | sort); do
  echo "@@file ${{f##*/}}"; cat "$f"; echo "@@end"
done
for n in {names}; do
  echo "@@show $n"; systemctl show -p {PROPS} "$n"
done
for n in {names}; do
  e=$(systemctl is-enabled "$n" 2>/dev/null); rc=$?
  s=$(SYSTEMCTL_SKIP_SYSV=1 systemctl is-enabled "$n" 2>/dev/null); src=$?
  echo "@@enabled $n|$e|$rc|$s|$src"
done
for n in {names}; do
  timeout 30 systemctl start "$n" >/dev/null 2>&1; echo "@@start $n $?"
done
"""
    done = subprocess.run([str(script), "--", "bash", "-s"], input=sh, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, f"container run failed ({done.returncode}): {done.stderr[-2000:]}"
    out: dict = {"tree": {}, "files": {}, "show": {}, "enabled": {}, "start": {}}
    section, cur, buf = None, None, []
    for line in done.stdout.split("\n"):
        if section == "file" and line != "@@end":
            buf.append(line)
            continue
        if line == "@@end":
            out["files"][cur] = "\n".join(buf) + "\n"
            section, buf = None, []
        elif line == "@@tree":
            section = "tree"
        elif line.startswith("@@file "):
            section, cur = "file", line[7:]
        elif line.startswith("@@show "):
            section, cur = "show", line[7:]
            out["show"][cur] = {}
        elif line.startswith("@@enabled "):
            n, e, rc, s, src = line[10:].split("|")
            out["enabled"][n] = ((e, int(rc)), (s, int(src)))
        elif line.startswith("@@start "):
            n, rc = line[8:].rsplit(" ", 1)
            out["start"][n] = int(rc)
        elif section == "tree" and line:
            p, kind, target = line.split("\t")
            out["tree"][p] = target if kind == "l" else None
        elif section == "show" and "=" in line:
            k, v = line.split("=", 1)
            out["show"][cur][k] = v
    return out


def _their_is_enabled(root: pathlib.Path, name: str, skip: bool) -> tuple[str, int]:
    env = {**os.environ, "SYSTEMCTL_SKIP_SYSV": "1"} if skip else {
        k: v for k, v in os.environ.items() if k != "SYSTEMCTL_SKIP_SYSV"}
    p = subprocess.run(["systemctl", f"--root={root}", "is-enabled", name], capture_output=True, text=True,
                       env=env, check=False)
    return p.stdout.strip(), p.returncode


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if STATS:
        print("\nsysv vs a booted systemd 252 and systemctl --root:")
        for what, count in sorted(STATS.items()):
            print(f"  {count:5}  {what}")


@pytest.mark.parametrize("seed", range(SCENARIOS))
def test_sysv_generator_and_hand_over_match_a_booted_systemd(seed: int, tmp_path: pathlib.Path) -> None:
    script = _require_container()
    files, links, asked = scenario(seed)
    theirs = _in_container(script, _tarball(files, links), asked)
    base = PID1_DIR / "root"
    assert base.is_dir(), "the container script builds its base root on first use"
    with debroots.copy_of(base, tmp_path / "root") as root:
        _materialize(root, files, links)
        cat = open_catalog(str(root), Scope.SYSTEM, {})
        mgr = Manager(cat)
        found = sysv.scripts(cat)
        ours_files = sysv.generated_files(cat, found)
        late = "/run/systemd/generator.late/"
        # 1. What the generator wrote: every entry, unit text byte for byte.
        ours_tree = {p[len(late):]: (str(v) if isinstance(v, sysv.Symlink) else None) for p, v in ours_files.items()}
        theirs_tree = {p: t for p, t in theirs["tree"].items() if any(n in p for n in (f"ud{seed}",))}
        assert ours_tree == theirs_tree, "generator.late differs (ours, systemd)"
        for name, text in theirs["files"].items():
            if f"ud{seed}" in name:
                ours_text = ours_files[late + name].decode()
                if ours_text == text:
                    STATS["generated unit files equal byte for byte"] += 1
                else:
                    # fix_order() appends in hash-table order (random per boot): only the order may differ.
                    assert sorted(ours_text.split("\n")) == sorted(text.split("\n")), \
                        f"{name}: generated unit differs:\n{text}"
                    STATS["generated unit files equal up to fix_order's hash order"] += 1
        STATS["generator.late entries equal"] += len(theirs_tree)
        # 2. Load state, id and the generated unit's dependencies.
        for name in asked:
            show = theirs["show"][name]
            u = mgr.load(name)
            assert u.load_state.value == show["LoadState"], f"{name}: load state"
            STATS[f"load state {show['LoadState']}"] += 1
            if u.load_state is LoadState.LOADED:
                assert u.id == show["Id"], f"{name}: id"
                for dep, prop in ((Dep.WANTS, "Wants"), (Dep.AFTER, "After"), (Dep.BEFORE, "Before")):
                    ours_deps = {d.target for d in u.dependencies if d.kind is dep and d.origin.path.startswith(late)}
                    assert ours_deps <= set(show[prop].split()), f"{name}: {prop}= missing in systemd"
                    STATS["dependencies compared"] += len(ours_deps)
            # 3. start
            ok = predict_start(mgr, name).ok
            assert ok == (theirs["start"][name] == 0), f"{name}: start (systemctl exit {theirs['start'][name]})"
            STATS["start compared"] += 1
            # 4. is-enabled with and without SYSTEMCTL_SKIP_SYSV: offline (systemctl --root on the copy, where no
            # generator ran) and in the container (where the generated files are in generator.late).
            for skip, (word, rc) in zip((False, True), theirs["enabled"][name]):
                env = {"SYSTEMCTL_SKIP_SYSV": "1"} if skip else {}
                offline = _their_is_enabled(root, name, skip)
                for where, c, (their_word, their_rc) in (("systemctl --root", cat, offline),
                                                         ("container", mgr.cat, (word, rc))):
                    r = sysv.is_enabled(c, name, env)
                    # 252 fails a missing unit with ENOENT: nothing on stdout.
                    ours_word = "" if r.error is not None or r.state.value == "not-found" else r.state.value
                    assert ours_word == their_word, f"{name} is-enabled (skip={skip}) vs {where}: ours " \
                                                    f"{ours_word!r}, theirs {their_word!r}"
                    assert (their_rc == 0) == (r.error is None and r.state.is_enabled_rc0)
                    STATS[f"is-enabled vs {where}{' SYSTEMCTL_SKIP_SYSV=1' if skip else ''}: "
                          f"{their_word or 'error'}"] += 1
