"""Conditions, asserts and exec problems per Type=: our prediction against a real ``systemd --user``.

Each hypothesis example writes a pool of services (``a``..``e``) whose [Unit] carries Condition*=/Assert*= lines
(path, glob, file and directory states, user, group, environment, host, architecture, os-release; negated with
``!``, triggering with ``|``, an empty line that resets the list; in the fragment or a drop-in), whose [Service]
has a Type= (simple, exec, oneshot, idle) and at most two exec problems (a missing ExecStart=/ExecStartPre=/
ExecStartPost= binary with or without ``-``, a missing WorkingDirectory= or EnvironmentFile= with or without ``-``,
an unknown User= or Group=, a command found or not by the PATH search), and Requires=/Wants=/BindsTo= between
them with or without After=. The paths point into a fixture directory both sides see. Then every unit is started,
in order, in a fresh manager, and the manager's answer must equal ours:

- ``systemctl start``'s exit status and message (``disagreement`` of test_why_vs_manager: ok ⇔ rc 0, else the
  message is one of our blockers');
- for a start we predict ok, the outcome the manager reports: skipped by a condition ⇔ its log says
  ``U was skipped because of an unmet condition check (…)`` with the condition we name; failing after the fork
  (Type=simple/idle) ⇔ ActiveState=failed with ``Main process exited, code=exited, status=203/EXEC`` (or the
  status we name); otherwise the unit is active.

The counts per category are printed at the end (``-s`` not needed). ``UNITDOCTOR_LIVE_EXAMPLES=N`` runs N random
examples instead of the fixed 25.
"""

from __future__ import annotations

import collections
import os
import pathlib
import time
from typing import Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitdoctor.transaction import predict_start

from .manager import LiveManager
from .test_why_vs_manager import Layout, Node, Scenario, active_units, disagreement

pytestmark = pytest.mark.live

POOL = tuple(f"{c}.service" for c in "abcde")
FX = "fx"  # fixture directory under the manager's base_dir
#: Fixture entries: name -> kind.
FIXTURE = {"file": "file", "empty": "empty", "exe": "exe", "dir-empty": "dir", "dir-full": "dir-full",
           "dir-hidden": "dir-hidden", "link": "link", "dangling": "dangling"}
PATHS = tuple(FIXTURE) + ("missing",)
PATH_TYPES = ("PathExists", "PathIsDirectory", "PathIsSymbolicLink", "DirectoryNotEmpty", "FileNotEmpty",
              "FileIsExecutable")


def _fixture(base: pathlib.Path) -> pathlib.Path:
    fx = base / FX
    if fx.exists():
        return fx
    fx.mkdir()
    (fx / "file").write_text("x\n")
    (fx / "empty").write_text("")
    (fx / "exe").write_text("#!/bin/sh\nexit 0\n")
    (fx / "exe").chmod(0o755)
    (fx / "dir-empty").mkdir()
    (fx / "dir-full").mkdir()
    (fx / "dir-full" / "x").write_text("x")
    (fx / "dir-hidden").mkdir()
    (fx / "dir-hidden" / ".x").write_text("x")
    (fx / "link").symlink_to("file")
    (fx / "dangling").symlink_to("nothing-here")
    return fx


@st.composite
def condition_lines(draw: st.DrawFn, fx: str) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("Condition",) * 3 + ("Assert",)))
        prefix = draw(st.sampled_from(("", "", "", "!", "|", "|!")))
        what = draw(st.integers(0, 9))
        if what < 5:
            t = draw(st.sampled_from(PATH_TYPES))
            value = f"{fx}/{draw(st.sampled_from(PATHS))}"
        elif what == 5:
            t, value = "PathExistsGlob", f"{fx}/{draw(st.sampled_from(('fi*', 'dir-*', 'nomatch*', 'e?e')))}"
        elif what == 6:
            t, value = draw(st.sampled_from((("User", "root"), ("User", "0"), ("User", "nobody"), ("User", "@system"),
                                             ("Group", "root"), ("Group", "0"), ("Group", "nogroup"))))
        elif what == 7:
            t, value = "Environment", draw(st.sampled_from(("HOME", "NOPE", "LANG=C.UTF-8", "LANG=x")))
        elif what == 8:
            t, value = draw(st.sampled_from((("Host", os.uname().nodename), ("Host", "other-host"),
                                             ("Architecture", "native"), ("Architecture", "s390"),
                                             ("OSRelease", "ID=debian"), ("OSRelease", "ID!=debian"))))
        else:
            t, value = "PathIsMountPoint", draw(st.sampled_from(("/", f"{fx}/dir-full", f"{fx}/missing")))
        lines.append(f"{kind}{t}={prefix}{value}")
        if draw(st.integers(0, 9)) == 0:
            lines.append(f"{kind}{t}=")  # resets every line of that list so far
    return lines


EXEC_PROBLEMS = ("start-missing", "start-missing-dash", "pre-missing", "pre-missing-dash", "post-missing",
                 "wd-missing", "wd-missing-dash", "envfile-missing", "envfile-missing-dash", "user-unknown",
                 "group-unknown", "path-search-ok", "path-search-missing")


def service_body(stype: str, problems: list[str], fx: str) -> str:
    main = "/bin/true" if stype == "oneshot" else "/bin/sleep 60"
    lines = [f"Type={stype}"] + (["RemainAfterExit=yes"] if stype == "oneshot" else [])
    for p in problems:
        if p == "start-missing":
            main = f"{fx}/missing-bin"
        elif p == "start-missing-dash":
            main = f"-{fx}/missing-bin"
        elif p == "path-search-ok":
            main = "true" if stype == "oneshot" else "sleep 60"
        elif p == "path-search-missing":
            main = "no-such-command-xyz"
        elif p.startswith("pre-"):
            lines.append(f"ExecStartPre={'-' if p.endswith('dash') else ''}{fx}/missing-pre")
        elif p == "post-missing":
            lines.append(f"ExecStartPost={fx}/missing-post")
        elif p.startswith("wd-"):
            lines.append(f"WorkingDirectory={'-' if p.endswith('dash') else ''}{fx}/missing-dir")
        elif p.startswith("envfile-"):
            lines.append(f"EnvironmentFile={'-' if p.endswith('dash') else ''}{fx}/missing-env")
        elif p == "user-unknown":
            lines.append("User=no-such-user-xyz")
        elif p == "group-unknown":
            lines.append("Group=no-such-group-xyz")
    return "[Service]\n" + "\n".join(lines + [f"ExecStart={main}"]) + "\n"


@st.composite
def scenarios(draw: st.DrawFn, fx: str) -> Scenario:
    nodes = []
    for name in POOL:
        unit_lines = draw(condition_lines(fx))
        dropin_lines = draw(condition_lines(fx)) if draw(st.integers(0, 3)) == 0 else []
        for _ in range(draw(st.integers(0, 1))):
            dst = draw(st.sampled_from(POOL))
            if dst != name:
                kind = draw(st.sampled_from(("Requires", "Requires", "Wants", "BindsTo")))
                unit_lines.append(f"{kind}={dst}")
                if draw(st.booleans()):
                    unit_lines.append(f"After={dst}")
        stype = draw(st.sampled_from(("simple", "exec", "oneshot", "idle")))
        problems = draw(st.lists(st.sampled_from(EXEC_PROBLEMS), max_size=2, unique=True)) if draw(
            st.integers(0, 2)) else []
        head = "[Unit]\n" + "".join(line + "\n" for line in unit_lines) if unit_lines else ""
        nodes.append(Node("config", name, "file", (head + service_body(stype, problems, fx)).encode()))
        if dropin_lines:
            text = "[Unit]\n" + "".join(line + "\n" for line in dropin_lines)
            nodes.append(Node("config", f"{name}.d/50-cond.conf", "file", text.encode()))
    return Scenario(tuple(nodes), ())


STATS: collections.Counter = collections.Counter()


def _wait_state(m: LiveManager, unit: str, want: str, timeout: float = 3.0) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = m.show(unit, "ActiveState").get("ActiveState", "")
        if state == want:
            return state
        time.sleep(0.05)
    return state


def outcome_disagreement(m: LiveManager, mgr, unit: str, p, logs_before: int) -> Optional[str]:
    """For a start that succeeded: does what happened next match our ``problem``?"""
    prob = p.problem
    if prob is not None and not prob.certain:
        STATS["undecidable (not compared)"] += 1
        return None
    if prob is not None and prob.reason == "condition-failed":
        STATS["skipped by a condition"] += 1
        time.sleep(0.05)
        logs = m.log_messages()[logs_before:]
        if prob.message not in logs:
            return f"we say {prob.message!r}; the manager logged {[x for x in logs if unit in x][:6]}"
        return None
    if prob is not None and prob.reason == "exec-failed":
        STATS["fails after the fork"] += 1
        state = _wait_state(m, unit, "failed")
        if state != "failed":
            return f"we say it fails after the fork ({prob.detail}); ActiveState={state}"
        time.sleep(0.05)
        logs = m.log_messages()[logs_before:]
        if prob.message not in logs:
            return f"we say {prob.message!r}; the manager logged {[x for x in logs if unit in x][-6:]}"
        return None
    STATS["runs"] += 1
    state = _wait_state(m, unit, "active", timeout=1.0)
    ignored = [x for x in mgr.exec_checker().problems(mgr.load(unit)) if x.effect == "ignored"]
    if ignored and state == "inactive":
        return None  # ExecStart=-/missing: the failure is ignored and the unit ends inactive
    if state != "active":
        return f"we say it runs; ActiveState={state}"
    return None


def run(layout: Layout, scenario: Scenario) -> None:
    layout.reset(scenario)
    mgr = layout.catalog_manager()
    m = layout.m
    problems = []
    for unit in POOL:
        active = active_units(m)
        p = predict_start(mgr, unit, active=active)
        before = len(m.log_messages())
        res = m.start_unit(unit)
        why = disagreement(unit, p, res)
        STATS["starts compared"] += 1
        STATS["start ok" if p.ok else f"start fails: {p.blocker.reason}"] += 1  # type: ignore[union-attr]
        if why is None and p.ok and unit not in active:
            binds = any(b"BindsTo=" in n.data for n in scenario.nodes if isinstance(n.data, bytes))
            why = None if binds else outcome_disagreement(m, mgr, unit, p, before)
        if why is not None:
            problems.append(f"{unit}: {why}")
    assert not problems, "\n".join(problems) + "\n--- tree:\n" + scenario.show()


_HUNT = os.environ.get("UNITDOCTOR_LIVE_EXAMPLES")
_SETTINGS = settings(max_examples=int(_HUNT or "25"), deadline=None, derandomize=not _HUNT, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_conditions_asserts_and_exec_agree_with_manager(live_manager: LiveManager, capsys) -> None:
    fx = str(_fixture(live_manager.base_dir))
    layout = Layout(live_manager)
    STATS.clear()

    @_SETTINGS
    @given(scenarios(fx))
    def check(scenario: Scenario) -> None:
        run(layout, scenario)

    try:
        check()
    finally:
        with capsys.disabled():
            print("\nconditions/asserts/exec vs the live manager: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(STATS.items())))
