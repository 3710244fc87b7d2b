"""Our unit-file states against ``systemctl --root`` (systemd 252) on generated roots.

For every root from ``tests/property/strategies.py`` both tools answer ``list-unit-files`` (set and
order of unit, state, preset) and ``is-enabled`` for every name in the pool plus instances and missing
names (state, or the exact error text). Scopes: system, ``--global``, and ``SYSTEMD_UNIT_PATH`` with
and without a trailing ``:``. Fact sheet §1-§3; systemd's ``test-install.c`` asks the same question of
the live host ("either the lookup fails and the listed state is bad, or the listed state matches").
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.property.strategies import QUERY_NAMES, RootDesc, global_roots, materialize, system_roots, unit_path_roots

from .systemctl import (
    clean_env,
    cli_json,
    our_list,
    our_states,
    require_systemctl,
    run_systemctl,
    their_list,
    their_states,
)

pytestmark = pytest.mark.differential

CI = os.environ.get("CI") == "true"
#: Examples per test; about 150 in all. UNITDOCTOR_DIFF_SCALE=N runs N times as many (a longer hunt).
_SCALE = int(os.environ.get("UNITDOCTOR_DIFF_SCALE", "1"))
EXAMPLES = {"system": 80 * _SCALE, "global": 30 * _SCALE, "unit_path": 40 * _SCALE}

STATS = {"roots": 0, "listed": 0, "names": 0}
#: How often systemctl gave each state or error text, to see what the generated roots exercise.
SEEN: Counter[str] = Counter()

_SETTINGS = dict(deadline=None, derandomize=CI, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])


def _describe(desc: RootDesc, made: list) -> str:
    lines = [f"scope={desc.scope} SYSTEMD_UNIT_PATH={desc.unit_path!r} lib={desc.lib} "
             f"dev_null={desc.dev_null}"]
    for n in made:
        payload = n.payload if n.kind != "file" else n.payload[:120]
        lines.append(f"  {n.kind:7} {n.path}  {payload!r}")
    return "\n".join(lines)


def check_root(desc: RootDesc) -> None:
    """Build ``desc`` and compare both answers of both tools; the message shows the root on failure."""
    with tempfile.TemporaryDirectory(prefix="ud-diff-") as tmp:
        root = os.path.join(tmp, "root")
        made = materialize(desc, root)
        where = _describe(desc, made)
        theirs = their_list(root, scope=desc.scope, environ=desc.environ)
        ours = our_list(root, scope=desc.scope, environ=desc.environ)
        assert ours == theirs, f"list-unit-files differs on\n{where}"
        names = list(QUERY_NAMES) + [u for u, _, _ in theirs if u not in QUERY_NAMES and u != "<error>"]
        theirs_st = their_states(root, names, scope=desc.scope, environ=desc.environ)
        ours_st = our_states(root, names, scope=desc.scope, environ=desc.environ)
        diff = {n: (ours_st[n], theirs_st[n]) for n in names if ours_st[n] != theirs_st[n]}
        assert not diff, f"is-enabled differs (ours, systemctl): {diff}\non\n{where}"
        SEEN.update(f"list:{s}" for _, s, _ in theirs)
        SEEN.update(f"is-enabled:{v}" for _, v in theirs_st.values())
        STATS["roots"] += 1
        STATS["listed"] += len(theirs)
        STATS["names"] += len(names)


@pytest.fixture(scope="module", autouse=True)
def _report() -> object:
    require_systemctl()
    yield
    print(f"\ndifferential: {STATS['roots']} roots, {STATS['listed']} listed unit files, "
          f"{STATS['names']} is-enabled names agreed with systemctl")
    for what, count in sorted(SEEN.items()):
        print(f"  {count:6}  {what}")


@settings(max_examples=EXAMPLES["system"], **_SETTINGS)
@given(system_roots())
def test_system_scope_matches_systemctl(desc: RootDesc) -> None:
    check_root(desc)


@settings(max_examples=EXAMPLES["global"], **_SETTINGS)
@given(global_roots())
def test_global_scope_matches_systemctl(desc: RootDesc) -> None:
    check_root(desc)


@settings(max_examples=EXAMPLES["unit_path"], **_SETTINGS)
@given(unit_path_roots())
def test_systemd_unit_path_matches_systemctl(desc: RootDesc) -> None:
    check_root(desc)


@settings(max_examples=5, **_SETTINGS)
@given(system_roots(), st.sampled_from(["info", "debug"]))
def test_log_level_does_not_change_what_systemctl_answers(desc: RootDesc, level: str) -> None:
    """SYSTEMD_LOG_LEVEL=err (used above to keep stderr short) changes no state and no error line."""
    with tempfile.TemporaryDirectory(prefix="ud-diff-") as tmp:
        root = os.path.join(tmp, "root")
        materialize(desc, root)
        for args in (["list-unit-files", "--no-legend", "--full"], ["is-enabled", *QUERY_NAMES]):
            quiet = run_systemctl(root, args, log_level="err")
            loud = run_systemctl(root, args, log_level=level)
            assert quiet.stdout == loud.stdout
            assert quiet.returncode == loud.returncode
            # At "err" only errors are printed, and every one of them is printed at the louder level too.
            assert set(quiet.stderr.splitlines()) <= set(loud.stderr.splitlines())
            assert [ln for ln in quiet.stderr.splitlines() if ln.startswith("Failed to get unit file")] == \
                [ln for ln in loud.stderr.splitlines() if ln.startswith("Failed to get unit file")]


def test_clean_env_drops_the_callers_systemd_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEMD_UNIT_PATH", "/leak")
    env = clean_env()
    assert not any(k.startswith("SYSTEMD_") and k != "SYSTEMD_LOG_LEVEL" for k in env)


@settings(max_examples=6, **_SETTINGS)
@given(st.one_of(system_roots(max_nodes=20), global_roots(max_nodes=15), unit_path_roots(max_nodes=15)))
def test_cli_states_json_matches_systemctl(desc: RootDesc) -> None:
    """The CLI end to end (a subprocess, environment passed as-is): ``states --json`` is list-unit-files,
    ``states NAME… --json`` is is-enabled per name (``not-found``/``bad`` plus the error text)."""
    with tempfile.TemporaryDirectory(prefix="ud-diff-") as tmp:
        root = os.path.join(tmp, "root")
        materialize(desc, root)
        listed = cli_json(root, scope=desc.scope, environ=desc.environ)
        if isinstance(listed, str):
            ours = [("<error>", listed, "-")]
        else:
            ours = [(o["unit"], o["state"], o["preset"] or "-") for o in listed]
        assert ours == their_list(root, scope=desc.scope, environ=desc.environ)
        names = list(QUERY_NAMES)
        theirs = their_states(root, names, scope=desc.scope, environ=desc.environ)
        per_unit = cli_json(root, names, scope=desc.scope, environ=desc.environ)
        assert not isinstance(per_unit, str)
        assert [o["unit"] for o in per_unit] == names
        for o in per_unit:
            got = ("error", o["error"]["message"]) if "error" in o else ("state", o["state"])
            assert got == theirs[o["unit"]], o
            if "error" in o:
                assert o["state"] == "bad" or (o["state"] == "not-found" and o["error"]["errno"] == "ENOENT")


_FILTERS = [
    [],
    ["--no-legend"],
    ["--state=enabled,masked", "--state=static"],
    ["--type=service,socket"],
    ["-t", "target", "--state=disabled,indirect"],
    ["*.service"],
    ["[a-m]*", "x*", "--no-legend"],
    ["--state=masked"],  # often nothing: "0 unit files listed." and status 1
    ["-t", "masked"],  # a load state given to -t filters the unit-file state, as systemctl does
]


@settings(max_examples=6, **_SETTINGS)
@given(system_roots(max_nodes=20), st.sampled_from(_FILTERS), st.booleans())
def test_cli_states_filters_and_colours_match_list_unit_files(desc: RootDesc, filters: list, colour: bool) -> None:
    """``states PATTERN… --state= --type= --no-legend`` prints exactly what ``list-unit-files`` prints with the
    same arguments, byte for byte, with systemd's colours (SYSTEMD_COLORS=1) or without, and exits the same."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory(prefix="ud-diff-") as tmp:
        root = os.path.join(tmp, "root")
        materialize(desc, root)
        env = clean_env(desc.environ, log_level="err")
        env["SYSTEMD_COLORS"] = "1" if colour else "0"
        theirs = subprocess.run([require_systemctl(), f"--root={root}", "--no-pager", "list-unit-files", "--full",
                                 *filters], env=env, capture_output=True, text=True, timeout=60)
        env["PYTHONPATH"] = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "src")
        ours = subprocess.run([sys.executable, "-m", "unitdoctor", f"--root={root}", "states", *filters], env=env,
                              capture_output=True, text=True, timeout=120)
        assert ours.stdout == theirs.stdout, _describe(desc, [])
        assert ours.returncode == theirs.returncode
