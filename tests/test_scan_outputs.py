"""scan's other outputs: Prometheus textfile metrics (official parser, atomic replace, kill -9 mid-write), the
DOT/SVG graphs of ``scan`` and ``why`` (rendered by the real ``dot``), and the shipped service and timer
(``unitdoctor units``; checked by ``systemd-analyze verify`` and by unitdoctor itself)."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest
from tests.test_scan import S, enable, link, put, svc, system_root

from unitdoctor import cli, shipped
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.render import metrics
from unitdoctor.scan import scan

REPO = pathlib.Path(__file__).resolve().parent.parent
CI = os.environ.get("CI") == "true"

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover
    if CI:
        raise
    text_string_to_metric_families = None


def broken_root(r: pathlib.Path) -> pathlib.Path:
    system_root(r)
    link(r, f"{S}/m.service", "/dev/null")
    put(r, f"{S}/a.service", svc("Requires=m.service\nAfter=m.service"))
    enable(r, "a.service")
    put(r, f"{S}/x.service", svc("After=y.service"))
    put(r, f"{S}/y.service", svc("After=x.service"))
    enable(r, "x.service")
    enable(r, "y.service")
    put(r, f"{S}/weird\\\"name.service", svc())  # not a valid unit name: never a label
    link(r, "usr/lib/systemd/system/hw.service", "/dev/null")  # shipped masked by a package: intended
    put(r, "var/lib/dpkg/status", "Package: hwpkg\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n")
    put(r, "var/lib/dpkg/info/hwpkg.list", "/usr/lib/systemd/system/hw.service\n")
    return r


# -- metrics ------------------------------------------------------------------------------------------


@pytest.fixture
def parse():
    if text_string_to_metric_families is None:
        pytest.skip("prometheus-client is not installed (the test extra has it)")
    return lambda text: {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_parse_with_the_official_parser(tmp_path, parse):
    r = broken_root(tmp_path / "root")
    prom = tmp_path / "out" / "unitdoctor.prom"
    prom.parent.mkdir()
    assert cli.main(["scan", "--root", str(r), "--prometheus", str(prom)]) == 1
    fams = parse(prom.read_text())
    assert stat.S_IMODE(prom.stat().st_mode) == 0o644
    assert os.listdir(prom.parent) == ["unitdoctor.prom"]  # no temp file left
    assert fams["unitdoctor_scan_success"].samples[0].value == 1
    assert fams["unitdoctor_scan_timestamp_seconds"].samples[0].value > 1.6e9
    assert fams["unitdoctor_scan_duration_seconds"].samples[0].value >= 0
    masked = {s.labels["unit"]: s.labels for s in fams["unitdoctor_unit_masked"].samples}
    assert masked["m.service"]["layer"] == "etc" and masked["m.service"]["intended"] == "false"
    assert masked["hw.service"]["layer"] == "vendor" and masked["hw.service"]["intended"] == "true"
    outcome = {s.labels["unit"]: s.labels for s in fams["unitdoctor_boot_outcome"].samples}
    assert outcome["m.service"]["outcome"] == "not-started" and outcome["m.service"]["reason"] == "masked"
    assert {"x.service", "y.service"} & set(outcome)  # the cycle's deleted job
    assert "a.service" not in outcome and "multi-user.target" not in outcome  # healthy units: no series
    units = {s.labels["outcome"]: s.value for s in fams["unitdoctor_boot_units"].samples}
    assert set(units) == {"active", "skipped", "failed", "dependency-failed", "not-started"}
    ids = {(s.labels["severity"], s.labels["id"]) for s in fams["unitdoctor_findings"].samples}
    assert ("error", "boot-ordering-cycle") in ids
    for f in fams.values():
        assert f.name.startswith("unitdoctor_") and f.documentation and f.type == "gauge"


def test_metric_label_values_are_escaped(tmp_path, parse):
    from unitdoctor.boot import BootPrediction, Outcome, UnitOutcome
    from unitdoctor.scan import ScanResult

    odd = 'a\\b"c\nd'
    boot = BootPrediction("default.target", "default.target", True, None, False,
                          (UnitOutcome("x.service", Outcome.FAILED, "exec-failed", "m", odd, ()),), ())
    r = ScanResult("system", "/", boot, (), (), 0)
    fams = parse(metrics.exposition(r))
    (s,) = fams["unitdoctor_boot_outcome"].samples
    assert s.labels["blocker"] == odd


def test_metrics_write_is_atomic_against_kill_9(tmp_path):
    """A writer killed mid-write (after part of the data, before the rename) leaves the old file intact."""
    prom = tmp_path / "unitdoctor.prom"
    prom.write_text("# old\nunitdoctor_scan_success 1\n")
    ready = tmp_path / "ready"
    child = f"""
import os, sys, time
sys.path.insert(0, {str(REPO / 'src')!r})
from unitdoctor.render import metrics
real_write = os.write
def slow_write(fd, data):
    n = real_write(fd, data[:1000])
    open({str(ready)!r}, "w").close()
    time.sleep(60)
    return n
os.write = slow_write
metrics.write_textfile({str(prom)!r}, "x" * 1000000)
"""
    p = subprocess.Popen([sys.executable, "-c", child])
    try:
        for _ in range(300):
            if ready.exists():
                break
            time.sleep(0.05)
        assert ready.exists(), "the writer never started writing"
        temps = [n for n in os.listdir(tmp_path) if n.startswith(".unitdoctor.prom.")]
        assert temps and os.path.getsize(tmp_path / temps[0]) == 1000  # mid-write, really
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    assert prom.read_text() == "# old\nunitdoctor_scan_success 1\n"
    # The leftover temp file is not *.prom: node_exporter's textfile collector ignores it.
    assert all(not n.endswith(".prom") or n == "unitdoctor.prom" for n in os.listdir(tmp_path))
    metrics.write_textfile(str(prom), "unitdoctor_scan_success 1\n")
    assert prom.read_text() == "unitdoctor_scan_success 1\n"


def test_metrics_into_missing_directory_is_exit_2(tmp_path, capsys):
    r = broken_root(tmp_path / "root")
    assert cli.main(["scan", "--root", str(r), "--prometheus", str(tmp_path / "nope" / "x.prom")]) == 2
    assert "cannot write" in capsys.readouterr().err


# -- graphs -------------------------------------------------------------------------------------------


def test_scan_graph_dot_marks_blocker_and_cycle(tmp_path):
    r = broken_root(tmp_path / "root")
    out = tmp_path / "boot.dot"
    cli.main(["scan", "--root", str(r), "--graph", str(out)])
    dot = out.read_text()
    assert dot.startswith("digraph")
    assert '"a.service" -> "m.service"' in dot and 'label="Requires"' in dot
    assert 'xlabel="blocker"' in dot and 'tooltip="/etc/systemd/system/a.service:2"' in dot
    assert 'style="dashed"' in dot  # the ordering cycle's edges


def test_why_graph_dot_names_the_blocker_path(tmp_path):
    root = REPO / "examples" / "roots" / "masked-dependency"
    out = tmp_path / "why.dot"
    assert cli.main(["--root", str(root), "why", "app.service", "--graph", str(out)]) == 1
    dot = out.read_text()
    assert '"app.service" -> "db.service"' in dot
    line = next(x for x in dot.splitlines() if x.strip().startswith('"db.service" ['))
    assert "blocker" in line and "red" in line


@pytest.mark.skipif(shutil.which("dot") is None and not CI, reason="graphviz (dot) is not installed")
def test_svg_rendered_by_real_dot_names_the_blocker(tmp_path):
    root = REPO / "examples" / "roots" / "masked-dependency"
    svg = tmp_path / "why.svg"
    assert cli.main(["--root", str(root), "why", "app.service", "--graph", str(svg)]) == 1
    text = svg.read_text()
    assert text.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE")) and "</svg>" in text
    assert "db.service" in text and "blocker" in text
    r = broken_root(tmp_path / "root")
    svg2 = tmp_path / "boot.svg"
    cli.main(["scan", "--root", str(r), "--graph", str(svg2)])
    t2 = svg2.read_text()
    assert "m.service" in t2 and "blocker" in t2


def test_svg_without_dot_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    root = REPO / "examples" / "roots" / "masked-dependency"
    assert cli.main(["--root", str(root), "why", "app.service", "--graph", str(tmp_path / "x.svg")]) == 2
    assert "graphviz" in capsys.readouterr().err


# -- the shipped service and timer --------------------------------------------------------------------


def test_units_command_prints_both(capsys):
    assert cli.main(["units"]) == 0
    out = capsys.readouterr().out
    assert "# unitdoctor-scan.service" in out and "# unitdoctor-scan.timer" in out
    assert cli.main(["units", "unitdoctor-scan.timer"]) == 0
    assert capsys.readouterr().out == dict(shipped.units())["unitdoctor-scan.timer"]


def _install_units(root: pathlib.Path) -> None:
    system_root(root)
    put(root, "usr/lib/systemd/system/timers.target", "[Unit]\n")
    link(root, "usr/lib/systemd/system/basic.target.wants/timers.target", "../timers.target")
    for name, text in shipped.units():
        put(root, f"{S}/{name}", text)


def test_shipped_units_pass_unitdoctor_itself(tmp_path):
    root = tmp_path / "root"
    _install_units(root)
    link(root, f"{S}/timers.target.wants/unitdoctor-scan.timer", f"/{S}/unitdoctor-scan.timer")
    cat = open_catalog(str(root), Scope.SYSTEM, {})
    from unitdoctor.report import why

    for name in shipped.NAMES:
        rep = why(cat, name)
        assert rep.start.ok, rep.start.blocker
        assert not [f for f in rep.findings if f.severity.value in ("error", "warning")], rep.findings
    res = scan(cat)
    assert not [f for f in res.findings if f.unit.startswith("unitdoctor-scan")]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None or not pathlib.Path("/lib/systemd/system").is_dir(),
                    reason="systemd-analyze or systemd's own units missing")
def test_shipped_units_pass_systemd_analyze_verify(tmp_path):
    """``systemd-analyze verify --root``: a root with systemd's units, ours in /etc, unitdoctor where pip puts it
    (ExecStart=unitdoctor is looked up in systemd's fixed PATH, /usr/local/bin first)."""
    root = tmp_path / "root"
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for name, text in shipped.units():
        put(root, f"{S}/{name}", text)
    put(root, "usr/local/bin/unitdoctor", "#!/bin/sh\n")
    (root / "usr/local/bin/unitdoctor").chmod(0o755)
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="notice")
    p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *shipped.NAMES],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    # and it does check: without the executable, verify refuses the service
    (root / "usr/local/bin/unitdoctor").unlink()
    p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *shipped.NAMES],
                       capture_output=True, text=True, env=env)
    assert p.returncode != 0 and "unitdoctor is not executable" in p.stderr
