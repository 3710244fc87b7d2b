"""The bundled roots in examples/roots: each one pins what ``why`` says about its cause.

Every example is run through the CLI in-process (``unitdoctor.cli.main``), once through a real
``python -m unitdoctor`` subprocess, and ``states`` is cross-checked against the real
``systemctl --root=ROOT list-unit-files`` / ``is-enabled`` for every unit in every root. Where the
fix is a ``systemctl`` command, it is applied with the real systemctl to a copy of the root and
``why`` must then say the unit can start.
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Optional

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SRC = REPO / "src"
ROOTS = REPO / "examples" / "roots"

try:
    import unitdoctor  # noqa: F401
except ImportError:  # pragma: no cover - not installed: use the source tree
    sys.path.insert(0, str(SRC))

from unitdoctor import cli  # noqa: E402

# -- expectations --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """What ``why ROOT UNIT --json`` must say. Paths use ``{R}`` for the root as passed to --root."""

    root: str
    unit: str
    load_state: str
    unit_file_state: str
    ok: bool
    blocker: Optional[str] = None
    reason: Optional[str] = None
    message: Optional[str] = None
    chain: tuple[tuple[str, str, str, str], ...] = ()
    #: (id, severity, fixes, evidence (kind, source) pairs)
    findings: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = ()
    enable: Optional[str] = None
    fragment: Optional[str] = None
    dropins: tuple[str, ...] = ()
    origins: dict = field(default_factory=dict)  # finding id -> "origin" key, where one is emitted

    @property
    def id(self) -> str:
        return f"{self.root}:{self.unit}"


def _masked(unit: str) -> str:
    return f"Unit {unit} is masked."


CASES = [
    Case(
        "admin-mask", "nginx.service", "masked", "masked", False,
        "nginx.service", "masked", _masked("nginx.service"),
        findings=(("masked", "error", ("systemctl --root={R} unmask nginx.service",),
                   (("mask", "{R}/etc/systemd/system/nginx.service"),
                    ("file", "{R}/usr/lib/systemd/system/nginx.service"),
                    ("mtime", "{R}/etc/systemd/system/nginx.service"))),),
        enable="Failed to enable unit, unit {R}/etc/systemd/system/nginx.service is masked.",
        fragment="{R}/etc/systemd/system/nginx.service",
        origins={"masked": "admin"},
    ),
    Case(
        "masked-dependency", "app.service", "loaded", "disabled", False,
        "db.service", "masked", _masked("db.service"),
        chain=(("app.service", "Requires", "db.service", "{R}/etc/systemd/system/app.service.d/10-db.conf:2"),),
        findings=(("dependency-masked", "error", ("systemctl --root={R} unmask db.service",),
                   (("dependency", "{R}/etc/systemd/system/app.service.d/10-db.conf:2"),
                    ("mask", "{R}/etc/systemd/system/db.service"),
                    ("file", "{R}/usr/lib/systemd/system/db.service"),
                    ("mtime", "{R}/etc/systemd/system/db.service"))),),
        origins={"dependency-masked": "admin"},
        fragment="{R}/usr/lib/systemd/system/app.service",
        dropins=("{R}/etc/systemd/system/app.service.d/10-db.conf",),
    ),
    Case(
        "masked-dependency", "web.service", "loaded", "disabled", False,
        "db.service", "masked", _masked("db.service"),
        chain=(("web.service", "Requires", "app.service", "{R}/usr/lib/systemd/system/web.service:3"),
               ("app.service", "Requires", "db.service", "{R}/etc/systemd/system/app.service.d/10-db.conf:2")),
        findings=(("dependency-masked", "error", ("systemctl --root={R} unmask db.service",),
                   (("dependency", "{R}/usr/lib/systemd/system/web.service:3"),
                    ("dependency", "{R}/etc/systemd/system/app.service.d/10-db.conf:2"),
                    ("mask", "{R}/etc/systemd/system/db.service"),
                    ("file", "{R}/usr/lib/systemd/system/db.service"),
                    ("mtime", "{R}/etc/systemd/system/db.service"))),),
        origins={"dependency-masked": "admin"},
        fragment="{R}/usr/lib/systemd/system/web.service",
    ),
    Case(
        "masked-dependency", "db.service", "masked", "masked", False,
        "db.service", "masked", _masked("db.service"),
        findings=(("masked", "error", ("systemctl --root={R} unmask db.service",),
                   (("mask", "{R}/etc/systemd/system/db.service"),
                    ("file", "{R}/usr/lib/systemd/system/db.service"),
                    ("mtime", "{R}/etc/systemd/system/db.service"))),),
        origins={"masked": "admin"},
        enable="Failed to enable unit, unit {R}/etc/systemd/system/db.service is masked.",
        fragment="{R}/etc/systemd/system/db.service",
    ),
    Case(
        "missing-dependency", "report.service", "loaded", "disabled", False,
        "postgresql.service", "not-found", "Unit postgresql.service not found.",
        chain=(("report.service", "Requires", "postgresql.service", "{R}/usr/lib/systemd/system/report.service:3"),),
        findings=(("dependency-missing", "error",
                   ("install the package that ships postgresql.service, or remove the dependency at "
                    "{R}/usr/lib/systemd/system/report.service:3",),
                   (("dependency", "{R}/usr/lib/systemd/system/report.service:3"),)),),
        fragment="{R}/usr/lib/systemd/system/report.service",
    ),
    Case(
        "corrupt-unit", "broken.service", "error", "bad", False,
        "broken.service", "load-error",
        "Unit broken.service failed to load properly, please adjust/correct and reload service manager: "
        "Bad message",
        findings=(("load-error", "error",
                    ("edit {R}/etc/systemd/system/broken.service:4: Invalid section header '[Service'",),
                   (("syntax", "{R}/etc/systemd/system/broken.service:4"),)),),
        enable='Failed to enable unit, file "broken.service": Bad message',
        fragment="{R}/etc/systemd/system/broken.service",
    ),
    Case(
        "corrupt-unit", "latin1.service", "error", "bad", False,
        "latin1.service", "load-error",
        "Unit latin1.service failed to load properly, please adjust/correct and reload service manager: "
        "Invalid argument",
        findings=(("load-error", "error",
                    ("edit {R}/etc/systemd/system/latin1.service:2: String is not UTF-8 clean, ignoring assignment: "
                     "Description=Caf\ufffd menu board",),
                   (("syntax", "{R}/etc/systemd/system/latin1.service:2"),)),),
        enable='Failed to enable unit, file "latin1.service": Invalid argument',
        fragment="{R}/etc/systemd/system/latin1.service",
    ),
    Case(
        "bad-setting", "worker.service", "bad-setting", "disabled", False,
        "worker.service", "bad-setting", "Unit worker.service has a bad unit file setting.",
        findings=(("bad-setting", "error",
                    ("edit {R}/etc/systemd/system/worker.service: add 'ExecStart=COMMAND' to the [Service] section",),
                   (("setting", "{R}/etc/systemd/system/worker.service"),)),),
        fragment="{R}/etc/systemd/system/worker.service",
    ),
    Case(
        "socket-activated", "foo.service", "loaded", "disabled", True,
        findings=(("activated-by", "info", ("systemctl --root={R} enable foo.socket",),
                   (("trigger", "{R}/usr/lib/systemd/system/foo.socket"),)),),
        fragment="{R}/usr/lib/systemd/system/foo.service",
    ),
    Case(
        "socket-activated", "foo.socket", "loaded", "disabled", True,
        fragment="{R}/usr/lib/systemd/system/foo.socket",
    ),
    Case(
        "runtime-mask", "x.service", "masked", "masked-runtime", False,
        "x.service", "masked", _masked("x.service"),
        findings=(("masked-runtime", "error", ("systemctl --root={R} unmask --runtime x.service",),
                   (("mask", "{R}/run/systemd/system/x.service"),
                    ("file", "{R}/usr/lib/systemd/system/x.service"),
                    ("mtime", "{R}/run/systemd/system/x.service"))),),
        origins={"masked-runtime": "admin"},
        enable="Failed to enable unit, unit {R}/run/systemd/system/x.service is masked.",
        fragment="{R}/run/systemd/system/x.service",
    ),
    Case(
        "kernel-cmdline-mask", "x.service", "masked", "masked-runtime", False,
        "x.service", "masked", _masked("x.service"),
        findings=(("masked-kernel-command-line", "error",
                   ("remove systemd.mask=x.service from the kernel command line (boot entry), then reboot",
                    "remove systemd.mask=x.service from {R}/etc/kernel/cmdline, regenerate the boot entry "
                    "(kernel-install add), then reboot"),
                   (("mask", "{R}/run/systemd/generator.early/x.service"),
                    ("file", "{R}/usr/lib/systemd/system/x.service"),
                    ("kernel-cmdline", "{R}/etc/kernel/cmdline:1"))),),
        enable="Failed to enable unit, unit {R}/run/systemd/generator.early/x.service is masked.",
        fragment="{R}/run/systemd/generator.early/x.service",
        origins={"masked-kernel-command-line": "kernel-command-line"},
    ),
    Case(
        "vendor-mask", "x.service", "masked", "masked", False,
        "x.service", "masked", _masked("x.service"),
        findings=(("masked-vendor", "error",
                   ("write the unit file you want at /etc/systemd/system/x.service: a file in "
                    "/etc/systemd/system overrides the vendor mask",),
                   (("mask", "{R}/usr/lib/systemd/system/x.service"),)),),
        enable="Failed to enable unit, unit {R}/usr/lib/systemd/system/x.service is masked.",
        fragment="{R}/usr/lib/systemd/system/x.service",
        origins={"masked-vendor": "vendor"},
    ),
    Case(
        "template-mask", "getty@tty1.service", "masked", "masked", False,
        "getty@tty1.service", "masked", _masked("getty@tty1.service"),
        findings=(("masked-template", "error", ("systemctl --root={R} unmask getty@.service",),
                   (("mask", "{R}/etc/systemd/system/getty@.service"),
                    ("file", "{R}/usr/lib/systemd/system/getty@.service"),
                    ("mtime", "{R}/etc/systemd/system/getty@.service"))),),
        origins={"masked-template": "admin"},
        enable="Failed to enable unit, unit {R}/etc/systemd/system/getty@.service is masked.",
        fragment="{R}/etc/systemd/system/getty@.service",
    ),
]

CASES.append(Case(
    "package-removed-mask", "chrony.service", "masked", "masked", False,
    "chrony.service", "masked", _masked("chrony.service"),
    findings=(("masked", "error",
               ("dpkg --root={R} --purge chrony  # if chrony is no longer wanted: purge runs its postrm, which "
                "unmasks chrony.service",
                "chroot {R} apt-get install chrony  # to get chrony.service back: its postinst unmasks it",
                "systemctl --root={R} unmask chrony.service"),
               (("mask", "{R}/etc/systemd/system/chrony.service"),
                ("dsh-marker", "{R}/var/lib/systemd/deb-systemd-helper-masked/chrony.service"),
                ("dpkg-status", "{R}/var/lib/dpkg/status:12"),
                ("dpkg-status", "{R}/var/lib/dpkg/info/chrony.postrm:6"),
                ("apt-history", "{R}/var/log/apt/history.log:7"),
                ("dpkg-log", "{R}/var/log/dpkg.log:8"))),),
    enable="Failed to enable unit, unit {R}/etc/systemd/system/chrony.service is masked.",
    fragment="{R}/etc/systemd/system/chrony.service",
    origins={"masked": "package-removed"},
))

EXAMPLES = sorted(p.name for p in ROOTS.iterdir() if p.is_dir())


def _root(name: str, base: pathlib.Path = ROOTS) -> str:
    return str(base / name)


def _fmt(s: Optional[str], root: str) -> Optional[str]:
    return None if s is None else s.replace("{R}", root)


def why_json(capsys, root: str, *units: str) -> tuple[int, list]:
    capsys.readouterr()
    rc = cli.main(["--root", root, "why", *units, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def assert_case(case: Case, obj: dict, root: str) -> None:
    f = lambda s: _fmt(s, root)  # noqa: E731
    assert obj["unit"] == case.unit
    assert obj["scope"] == "system"
    assert obj["load_state"] == case.load_state
    assert obj["unit_file_state"] == case.unit_file_state
    assert obj["fragment_path"] == f(case.fragment)
    assert obj["dropin_paths"] == [f(d) for d in case.dropins]
    start = obj["start"]
    assert start["ok"] is case.ok
    if case.ok:
        assert start == {"ok": True, "blockers": []}
    else:
        assert (start["blocker"], start["reason"], start["message"]) == (case.blocker, case.reason, case.message)
        assert start["certain"] is True
        chain = [(e["from"], e["dependency"], e["to"], e["source"]) for e in start["chain"]]
        assert chain == [(a, b, c, f(d)) for a, b, c, d in case.chain]
        # The verdict's blocker is the first (and here the only) entry of the full list.
        assert start["blockers"] == [{"unit": case.blocker, "reason": case.reason, "message": case.message,
                                      "chain": start["chain"]}]
    got = [(x["id"], x["severity"], tuple(x["fix"]), tuple((e["kind"], e["source"]) for e in x["evidence"]))
           for x in obj["findings"]]
    want = [(i, s, tuple(f(x) for x in fx), tuple((k, f(src)) for k, src in ev)) for i, s, fx, ev in case.findings]
    assert got == want
    for x in obj["findings"]:
        assert x.get("origin") == case.origins.get(x["id"])
    assert obj["enable"] == {"ok": case.enable is None, "message": f(case.enable) if case.enable else None}


# -- the examples themselves ---------------------------------------------------------------------

def test_every_example_has_a_case_and_a_readme():
    assert set(EXAMPLES) == {c.root for c in CASES}
    for name in EXAMPLES:
        readme = (ROOTS / name / "README.md").read_text(encoding="utf-8")
        assert f"python -m unitdoctor --root examples/roots/{name} why " in readme, name
        assert (ROOTS / name / "usr/lib/systemd/system/sysinit.target").is_file(), name


def test_no_absolute_symlinks_other_than_dev_null():
    for dirpath, dirnames, filenames in os.walk(ROOTS):
        for n in dirnames + filenames:
            p = pathlib.Path(dirpath) / n
            if p.is_symlink():
                target = os.readlink(p)
                assert target == "/dev/null" or not target.startswith("/"), f"{p} -> {target}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_why_json(case: Case, capsys):
    root = _root(case.root)
    rc, out = why_json(capsys, root, case.unit)
    assert len(out) == 1
    assert_case(case, out[0], root)
    assert rc == (0 if case.ok and not any(s == "error" for _, s, _, _ in case.findings) else 1)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_why_text_headline(case: Case, capsys):
    capsys.readouterr()
    rc = cli.main(["--root", _root(case.root), "why", case.unit])
    lines = capsys.readouterr().out.splitlines()
    if case.ok:
        assert lines[0] == f"✓ {case.unit} can start."
        assert rc == 0
    else:
        assert lines[0] == f"✗ {case.unit} cannot start: {case.message}"
        assert rc == 1
    for fid, sev, fixes, _ in case.findings:
        assert any(line.startswith(f"  [{sev}] {fid}: ") for line in lines), (fid, lines)
        for fx in fixes:
            assert f"      fix: {_fmt(fx, _root(case.root))}" in lines


def test_relative_root_is_displayed_as_given(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    rc, out = why_json(capsys, "examples/roots/admin-mask", "nginx.service")
    assert rc == 1
    assert_case(CASES[0], out[0], "examples/roots/admin-mask")


def test_several_units_in_one_call(capsys):
    root = _root("masked-dependency")
    rc, out = why_json(capsys, root, "app.service", "web.service", "db.service")
    assert rc == 1
    by_unit = {c.unit: c for c in CASES if c.root == "masked-dependency"}
    assert [o["unit"] for o in out] == ["app.service", "web.service", "db.service"]
    for o in out:
        assert_case(by_unit[o["unit"]], o, root)


@pytest.mark.parametrize("name", EXAMPLES)
def test_readme_command_runs_and_reports_a_problem(name, capsys, monkeypatch):
    """The command each README names works from the repository root and agrees with the cases."""
    readme = (ROOTS / name / "README.md").read_text(encoding="utf-8")
    cmd = readme.split("`")[1]
    argv = shlex.split(cmd)
    assert argv[:3] == ["python", "-m", "unitdoctor"]
    monkeypatch.chdir(REPO)
    capsys.readouterr()
    rc = cli.main(argv[3:] + ["--json"])
    out = json.loads(capsys.readouterr().out)
    cases = {c.unit: c for c in CASES if c.root == name}
    units = argv[argv.index("why") + 1:]
    assert [o["unit"] for o in out] == units
    for o in out:
        assert_case(cases[o["unit"]], o, f"examples/roots/{name}")
    assert rc == (0 if all(cases[u].ok and not any(s == "error" for _, s, _, _ in cases[u].findings)
                           for u in units) else 1)


def test_subprocess_matches_in_process(capsys):
    root = _root("masked-dependency")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("NO_COLOR", None)
    p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", root, "why", "web.service", "--json"],
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    assert p.returncode == 1, p.stderr
    sub = json.loads(p.stdout)
    rc, inproc = why_json(capsys, root, "web.service")
    assert rc == 1
    assert sub == inproc
    assert_case(next(c for c in CASES if c.id == "masked-dependency:web.service"), sub[0], root)
    # And the text form through a pipe: plain text, verdict first.
    p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", root, "why", "web.service"],
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    assert p.returncode == 1
    assert p.stdout.splitlines()[0] == "✗ web.service cannot start: Unit db.service is masked."
    assert "\x1b[" not in p.stdout


# -- states against the real systemctl ------------------------------------------------------------

def _systemctl() -> str:
    path = shutil.which("systemctl", path=os.environ.get("PATH", "") + ":/usr/bin:/bin:/usr/sbin:/sbin")
    if path is None:
        reason = "systemctl is not installed: the cross-check needs systemd's systemctl --root"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return path


def _run_systemctl(root: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "SYSTEMCTL_SKIP_SYSV": "1",
           "SYSTEMD_LOG_LEVEL": "err"}
    return subprocess.run([_systemctl(), f"--root={root}", "--no-pager", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


#: Names that are not unit files but that the examples are about: instances, missing dependencies.
EXTRA_NAMES = {
    "template-mask": ["getty@tty1.service", "getty@tty2.service"],
    "missing-dependency": ["postgresql.service", "metrics.service"],
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_states_agree_with_systemctl(name, capsys):
    root = _root(name)
    p = _run_systemctl(root, "list-unit-files", "--no-legend")
    assert p.returncode == 0, p.stderr
    theirs = [tuple(line.split()[:2]) for line in p.stdout.splitlines() if line.strip()]
    capsys.readouterr()
    rc = cli.main(["--root", root, "states", "--json"])
    ours_json = json.loads(capsys.readouterr().out)
    assert rc == 0
    ours = [(o["unit"], o["state"]) for o in ours_json]
    assert sorted(ours) == sorted(theirs)
    # is-enabled, one name at a time: state line (or error line) and exit status.
    for unit in [u for u, _ in theirs] + EXTRA_NAMES.get(name, []):
        p = _run_systemctl(root, "is-enabled", unit)
        capsys.readouterr()
        rc = cli.main(["--root", root, "states", unit])
        cap = capsys.readouterr()
        assert (rc, cap.out.strip()) == (p.returncode, p.stdout.strip()), unit
        if p.returncode != 0 and not p.stdout.strip():
            assert cap.err.strip() == p.stderr.strip().splitlines()[-1], unit


# -- the fixes work --------------------------------------------------------------------------------

def _run_fix(fix: str) -> subprocess.CompletedProcess:
    """Run a ``systemctl ...`` fix exactly as printed, with the real systemctl and a clean environment."""
    argv = shlex.split(fix)
    assert argv[0] == "systemctl", fix
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "SYSTEMCTL_SKIP_SYSV": "1",
           "SYSTEMD_LOG_LEVEL": "err"}
    return subprocess.run([_systemctl(), "--no-pager", *argv[1:]], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


#: (example, unit): the first fix of the first error finding is a systemctl command that makes the unit startable.
FIXES = [
    ("admin-mask", "nginx.service"),
    ("masked-dependency", "web.service"),
    ("masked-dependency", "app.service"),
    ("runtime-mask", "x.service"),
    ("template-mask", "getty@tty1.service"),
]


@pytest.mark.parametrize("name,unit", FIXES, ids=[f"{n}:{u}" for n, u in FIXES])
def test_printed_fix_makes_the_unit_startable(name, unit, tmp_path, capsys):
    copy = tmp_path / name
    shutil.copytree(ROOTS / name, copy, symlinks=True)
    rc, before = why_json(capsys, str(copy), unit)
    assert rc == 1
    fix = next(f for f in before[0]["findings"] if f["severity"] == "error")["fix"][0]
    assert fix.startswith(f"systemctl --root={copy} unmask ")
    p = _run_fix(fix)
    assert p.returncode == 0, p.stderr
    rc, after = why_json(capsys, str(copy), unit)
    assert after[0]["start"] == {"ok": True, "blockers": []}
    assert [f["id"] for f in after[0]["findings"] if f["severity"] == "error"] == []
    assert rc == 0


@pytest.mark.parametrize("name,unit", [("corrupt-unit", "broken.service"), ("bad-setting", "worker.service")])
def test_offline_fix_does_not_suggest_daemon_reload(name, unit, tmp_path, capsys):
    """systemctl refuses daemon-reload with --root, so the offline fix must not print it."""
    copy = tmp_path / name
    shutil.copytree(ROOTS / name, copy, symlinks=True)
    _, doc = why_json(capsys, str(copy), unit)
    fix = doc[0]["findings"][0]["fix"][0]
    assert "daemon-reload" not in fix
    assert fix.startswith(f"edit {copy}/etc/systemd/system/{unit}")  # a concrete edit: file (and line), what


def test_printed_socket_fix_runs(tmp_path, capsys):
    """Offline the socket fix is a plain enable (--now needs a running manager) and runs as printed."""
    copy = tmp_path / "socket-activated"
    shutil.copytree(ROOTS / "socket-activated", copy, symlinks=True)
    _, doc = why_json(capsys, str(copy), "foo.service")
    p = _run_fix(doc[0]["findings"][0]["fix"][0])
    assert p.returncode == 0, p.stderr


def test_socket_fix_enables_the_socket(tmp_path, capsys):
    """What does work of that fix: the enable half links foo.socket into sockets.target.wants."""
    copy = tmp_path / "socket-activated"
    shutil.copytree(ROOTS / "socket-activated", copy, symlinks=True)
    _, doc = why_json(capsys, str(copy), "foo.service")
    fix = doc[0]["findings"][0]["fix"][0]
    assert fix == f"systemctl --root={copy} enable foo.socket"
    _run_fix(fix)
    capsys.readouterr()
    assert cli.main(["--root", str(copy), "states", "foo.socket", "foo.service"]) == 0
    assert capsys.readouterr().out.split() == ["enabled", "disabled"]


@pytest.mark.parametrize("name,args", [("vendor-mask", ["unmask", "x.service"]),
                                       ("kernel-cmdline-mask", ["unmask", "x.service"])])
def test_plain_unmask_does_not_help(name, args, tmp_path, capsys):
    """What the findings say: unmask exits 0 but leaves vendor and generator masks in place."""
    copy = tmp_path / name
    shutil.copytree(ROOTS / name, copy, symlinks=True)
    p = _run_systemctl(str(copy), *args)
    assert p.returncode == 0, p.stderr
    rc, after = why_json(capsys, str(copy), "x.service")
    assert rc == 1
    assert after[0]["load_state"] == "masked"


def test_states_stops_at_the_first_failing_name_like_is_enabled(capsys):
    root = _root("template-mask")
    names = ["getty@tty1.service", "nope.service", "sysinit.target"]
    p = _run_systemctl(root, "is-enabled", *names)
    capsys.readouterr()
    rc = cli.main(["--root", root, "states", *names])
    cap = capsys.readouterr()
    assert (rc, cap.out) == (p.returncode, p.stdout)


@pytest.mark.parametrize("unit", ["broken.service", "latin1.service"])
def test_enable_of_a_bad_unit_is_refused(unit, tmp_path, capsys):
    copy = tmp_path / "corrupt-unit"
    shutil.copytree(ROOTS / "corrupt-unit", copy, symlinks=True)
    p = _run_systemctl(str(copy), "enable", unit)
    assert p.returncode == 1
    _, doc = why_json(capsys, str(copy), unit)
    assert doc[0]["enable"]["ok"] is False


# -- the verdicts against systemd's own loader -------------------------------------------------------

#: systemd-analyze verify runs its manager with private generator directories, so it does not see
#: ROOT/run/systemd/generator.early (the kernel-command-line mask); the booted manager would.
VERIFY_BLIND = {"kernel-cmdline-mask"}


@pytest.mark.parametrize("case", [c for c in CASES if c.root not in VERIFY_BLIND], ids=lambda c: c.id)
def test_verdict_agrees_with_systemd_analyze_verify(case: Case):
    """`systemd-analyze verify --root` loads the unit with systemd's own code and builds its start job."""
    analyze = shutil.which("systemd-analyze", path=os.environ.get("PATH", "") + ":/usr/bin:/bin")
    if analyze is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is not installed, and CI=true requires it", pytrace=False)
        pytest.skip("systemd-analyze is not installed")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "SYSTEMD_LOG_LEVEL": "info"}
    p = subprocess.run([analyze, "verify", "--man=no", f"--root={_root(case.root)}", case.unit],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    out = p.stdout + p.stderr
    # Missing executables are verify's own complaint about the example binaries, not a load problem.
    problems = [line for line in out.splitlines() if "is not executable" not in line]
    if case.ok:
        assert problems == [], out
    elif case.chain:
        assert f"{case.unit}: Failed to create {case.unit}/start: {case.message}" in problems, out
    else:
        assert problems[-1] == case.message, out
