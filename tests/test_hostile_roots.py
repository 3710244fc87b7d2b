"""Hostile roots: nothing outside --root is read, nothing crashes, every oddity becomes an answer.

Each test builds a real tree in tmp_path; a canary file outside the root must never be opened
(checked through its atime being untouched is unreliable, so the canary is a FIFO: opening it for
reading would block, and reading it through a regular path would hang the test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from unitdoctor import install
from unitdoctor.catalog import open_catalog
from unitdoctor.cli import main
from unitdoctor.lookup import Scope
from unitdoctor.manager import LoadState
from unitdoctor.report import why

UNIT = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    for d in ("etc/systemd/system", "usr/lib/systemd/system", "run/systemd/system", "lib"):
        (r / d).mkdir(parents=True)
    (r / "usr/lib/systemd/system/sysinit.target").write_text("[Unit]\n")
    return r


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A FIFO outside the root: any attempt to open it for reading would block forever."""
    c = tmp_path / "outside" / "canary.service"
    c.parent.mkdir()
    os.mkfifo(c)
    return c


def states(root: Path, *names: str) -> dict[str, install.StateResult]:
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    return {n: install.lookup_state(cat, n) for n in names}


def test_absolute_link_to_outside_is_rerooted_not_followed(root: Path, canary: Path) -> None:
    etc = root / "etc/systemd/system"
    (etc / "esc.service").symlink_to(canary)  # absolute host path: must be looked up inside the root
    (etc / "esc2.service").symlink_to("../../../../../../../../" + str(canary))
    r = states(root, "esc.service", "esc2.service")
    assert r["esc.service"].state is install.UnitFileState.BAD
    assert r["esc.service"].error is not None and r["esc.service"].error.errno == "ENOENT"
    assert r["esc2.service"].error is not None and r["esc2.service"].error.errno == "ENOENT"
    rep = why(open_catalog(str(root), Scope.SYSTEM, {}), "esc.service")
    assert rep.loaded.load_state is LoadState.NOT_FOUND


def test_symlinked_search_dir_escaping_root_is_confined(root: Path, canary: Path) -> None:
    (root / "lib").rmdir()
    (root / "lib").symlink_to(canary.parent)  # /lib -> host dir holding the canary
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    names_seen = {r.name for r in install.list_unit_files(cat)}
    assert "canary.service" not in names_seen


def test_dotdot_in_link_is_clamped_at_root(root: Path) -> None:
    (root / "usr/lib/systemd/system/real.service").write_text(UNIT)
    (root / "etc/systemd/system/up.service").symlink_to("../../../../../../usr/lib/systemd/system/real.service")
    r = states(root, "up.service")["up.service"]
    assert r.state is install.UnitFileState.ALIAS


def test_symlink_loop_is_an_error_not_a_crash(root: Path) -> None:
    etc = root / "etc/systemd/system"
    (etc / "l1.service").symlink_to("/opt/l2.service")
    (root / "opt").mkdir()
    (root / "opt/l2.service").symlink_to("/opt/l1.service")
    (root / "opt/l1.service").symlink_to("/opt/l2.service")
    r = states(root, "l1.service")["l1.service"]
    assert r.state is install.UnitFileState.BAD
    assert r.error is not None and r.error.errno == "ELOOP"
    assert why(open_catalog(str(root), Scope.SYSTEM, {}), "l1.service").loaded.load_state in (
        LoadState.ERROR, LoadState.NOT_FOUND)


def test_fifo_with_unit_name_does_not_block(root: Path) -> None:
    os.mkfifo(root / "etc/systemd/system/fifo.service")
    r = states(root, "fifo.service")["fifo.service"]
    assert r.error is not None and r.error.errno == "ENOTTY"
    rep = why(open_catalog(str(root), Scope.SYSTEM, {}), "fifo.service")
    assert rep.loaded.load_state is LoadState.NOT_FOUND


def test_directory_with_unit_name(root: Path) -> None:
    (root / "etc/systemd/system/dir.service").mkdir()
    r = states(root, "dir.service")["dir.service"]
    assert r.error is not None and r.error.errno == "EISDIR"


def test_huge_sparse_file_is_reported_not_read(root: Path) -> None:
    big = root / "etc/systemd/system/big.service"
    with open(big, "wb") as f:
        f.truncate(1 << 30)
    r = states(root, "big.service")["big.service"]
    assert r.state is install.UnitFileState.BAD
    assert r.error is not None and r.error.errno == "EFBIG"
    rep = why(open_catalog(str(root), Scope.SYSTEM, {}), "big.service")
    assert rep.loaded.load_state is LoadState.ERROR


def test_invalid_utf8_makes_state_bad_and_load_error(root: Path) -> None:
    data = b"[Unit]\nDescription=\xff\xfe\n[Service]\nExecStart=/bin/true\n"
    (root / "etc/systemd/system/u8.service").write_bytes(data)
    r = states(root, "u8.service")["u8.service"]
    assert r.state is install.UnitFileState.BAD and r.error is not None and r.error.errno == "EINVAL"
    rep = why(open_catalog(str(root), Scope.SYSTEM, {}), "u8.service")
    assert rep.loaded.load_state is LoadState.ERROR
    assert rep.start.blocker is not None
    assert rep.start.blocker.message.endswith("Invalid argument")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another uid")
def test_unreadable_file_as_unprivileged_user(root: Path, tmp_path: Path) -> None:
    f = root / "etc/systemd/system/secret.service"
    f.write_text(UNIT)
    f.chmod(0)
    for p in [tmp_path, *tmp_path.parents]:
        if p == Path("/"):
            break
        p.chmod(p.stat().st_mode | 0o005)
    src = str(Path(__file__).parents[1] / "src")
    code = (
        f"import os,sys; os.setgid(65534); os.setuid(65534); sys.path.insert(0, {src!r});"
        "from unitdoctor.cli import main;"
        f"sys.exit(main(['--root', {str(root)!r}, 'states', 'secret.service', '--json']))"
    )
    # The unprivileged user cannot read a per-user interpreter (pyenv under /root): use the system one.
    py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    p = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in p.stderr
    assert p.returncode in (0, 1)
    assert '"unit": "secret.service"' in p.stdout


def test_invalid_unit_name_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    assert main(["--root", str(root), "states", "a" * 300]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_root_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--root", str(tmp_path / "nope"), "states"]) == 2
    err = capsys.readouterr().err
    assert "Failed to initialize unit search paths for root directory" in err
    assert err.count("\n") == 1


def test_user_with_root_is_refused(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    assert main(["--root", str(root), "--user", "states"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
