"""``why`` on every unit of real systems never crashes: a stock Debian root built from the archive
(tests/debroots.py) and this machine's own ``/`` (read-only, offline, as ``--root=/``).

"Every unit" is every name ``list-unit-files`` shows (unit files, aliases, templates), an instance of each template
(its ``DefaultInstance=`` and ``0``), and, transitively, every name a loaded unit's dependencies name. Each report
is rendered as ``why --json`` renders it and validated against schema/why.schema.json. The names walked, and what
the verdicts were, are printed at the end of the module (``pytest -s`` or ``-rA`` shows them).
"""

from __future__ import annotations

import collections
import contextlib
import json
import pathlib
import traceback

import pytest
from tests import debroots

from unitdoctor import install, names
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.render import json as render_json
from unitdoctor.report import why
from unitdoctor.sources import EvidenceSources

REPO = pathlib.Path(__file__).resolve().parent.parent
#: Names that still crash, each with the issue part that fixes it; checked strictly (a fixed one fails the
#: ``test_known_crash`` below until it is removed here).
KNOWN_CRASHES: dict[str, str] = {}
WALKED: dict[str, collections.Counter] = {}


def _validator():
    try:
        from jsonschema import Draft202012Validator
    except ImportError:  # pragma: no cover - the schema tests say how to install it
        return None
    return Draft202012Validator(json.loads((REPO / "schema/why.schema.json").read_text()))


def _names(cat, mgr: Manager) -> list[str]:
    start = [r.name for r in install.list_unit_files(cat)]
    for n in list(start):
        if names.kind_of(n) is names.NameKind.TEMPLATE:
            default = mgr.load(n).last("Install", "DefaultInstance")
            for inst in {"0", default.value if default is not None else "0"}:
                with contextlib.suppress(names.InvalidUnitName):
                    start.append(names.with_instance(n, inst))
    return start


def walk(root: str) -> tuple[list[str], dict[str, str]]:
    """Run ``why`` on every unit reachable in ``root``; return the names walked and {name: traceback}."""
    cat = open_catalog(root, Scope.SYSTEM, {})
    mgr = Manager(cat)
    src = EvidenceSources.for_root(cat.root)
    validator = _validator()
    todo = _names(cat, mgr)
    seen: list[str] = []
    crashes: dict[str, str] = {}
    verdicts: collections.Counter = collections.Counter()
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.append(name)
        try:
            r = why(cat, name, manager=mgr, sources=src)
            doc = render_json.report(cat, r)
            json.dumps(doc)
            if validator is not None:
                errors = [e.message for e in validator.iter_errors([doc])]
                assert not errors, f"{name}: JSON does not follow why.schema.json: {errors[:3]}"
            todo.extend(d.target for d in r.loaded.dependencies)
            verdicts["can start" if r.start.ok else f"cannot start: {r.start.blocker.reason}"] += 1
            verdicts[f"load state {r.loaded.load_state.value}"] += 1
        except Exception:  # noqa: BLE001 - the test's point: any exception is a crash to report
            crashes[name] = traceback.format_exc(limit=-3)
    WALKED[root] = verdicts
    return seen, crashes


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    for root, verdicts in WALKED.items():
        print(f"\nwalk of {root}: {sum(v for k, v in verdicts.items() if k.startswith('load state'))} units")
        for what, count in sorted(verdicts.items()):
            print(f"  {count:5}  {what}")


@pytest.fixture(scope="module")
def debian_walk() -> tuple[list[str], dict[str, str]]:
    return walk(str(debroots.root()))


@pytest.fixture(scope="module")
def host_walk() -> tuple[list[str], dict[str, str]]:
    if not pathlib.Path("/usr/lib/systemd/system").is_dir() and not pathlib.Path("/lib/systemd/system").is_dir():
        pytest.skip("this machine has no systemd unit files")
    return walk("/")


def _check(walked: tuple[list[str], dict[str, str]], expect_units: int) -> None:
    seen, crashes = walked
    print(f"\nwalked {len(seen)} units: {' '.join(seen)}")
    assert len(seen) >= expect_units
    unexpected = {n: tb for n, tb in crashes.items() if n not in KNOWN_CRASHES}
    assert not unexpected, "why crashed on:\n" + "\n".join(f"{n}:\n{tb}" for n, tb in unexpected.items())


def test_why_on_every_unit_of_a_stock_debian_root_never_crashes(debian_walk) -> None:
    _check(debian_walk, expect_units=200)
    seen, _ = debian_walk
    assert {"ssh.service", "sshd.service", "cron.service", "getty@0.service", "multi-user.target"} <= set(seen)


def test_why_on_every_unit_of_this_machines_root_never_crashes(host_walk) -> None:
    _check(host_walk, expect_units=1)


@pytest.mark.parametrize("name", sorted(KNOWN_CRASHES))
def test_known_crash(name: str, debian_walk) -> None:
    seen, crashes = debian_walk
    if name in crashes:
        pytest.xfail(f"{KNOWN_CRASHES[name]}:\n{crashes[name]}")
    pytest.fail(f"{name} no longer crashes (walked: {name in seen}): remove it from KNOWN_CRASHES")
