"""schema/why.schema.json and schema/states.schema.json describe what ``--json`` prints.

Every example root's output, and a few edge cases, must validate; the schemas must be valid draft
2020-12 schemas, strict enough to reject a mangled report, and their enums must match the engine's.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SRC = REPO / "src"
ROOTS = REPO / "examples" / "roots"
SCHEMA = REPO / "schema"

try:
    import unitdoctor  # noqa: F401
except ImportError:  # pragma: no cover - not installed: use the source tree
    sys.path.insert(0, str(SRC))

from unitdoctor import cli  # noqa: E402

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI") == "true":
        raise  # CI must run the schema tests: install the `test` extra (jsonschema>=4)
    pytest.skip("jsonschema is not installed (pip install 'jsonschema>=4', or the `test` extra); "
                "the schema tests need it", allow_module_level=True)

#: The units each example is about (the README commands name the same ones).
EXAMPLE_UNITS = {
    "admin-mask": ["nginx.service"],
    "masked-dependency": ["app.service", "web.service", "db.service"],
    "missing-dependency": ["report.service", "postgresql.service"],
    "corrupt-unit": ["broken.service", "latin1.service"],
    "bad-setting": ["worker.service"],
    "socket-activated": ["foo.service", "foo.socket"],
    "runtime-mask": ["x.service"],
    "kernel-cmdline-mask": ["x.service"],
    "vendor-mask": ["x.service"],
    "template-mask": ["getty@tty1.service", "getty@.service"],
    "package-removed-mask": ["chrony.service", "multi-user.target"],
}


def _load(name: str) -> dict:
    return json.loads((SCHEMA / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def why_validator() -> Draft202012Validator:
    return Draft202012Validator(_load("why"), format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def states_validator() -> Draft202012Validator:
    return Draft202012Validator(_load("states"), format_checker=Draft202012Validator.FORMAT_CHECKER)


def run_json(capsys, *argv: str) -> tuple[int, list]:
    capsys.readouterr()
    rc = cli.main([*argv, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def assert_valid(validator: Draft202012Validator, doc) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


# -- the schema files ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["why", "states"])
def test_schema_is_valid_draft_2020_12(name):
    schema = _load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert jsonschema.validators.validator_for(schema) is Draft202012Validator


def test_schema_enums_match_the_engine():
    from unitdoctor.install import UnitFileState
    from unitdoctor.lookup import Scope
    from unitdoctor.manager import Dep, LoadState
    from unitdoctor.transaction import REASON_BY_STATE

    why = _load("why")
    report = why["$defs"]["report"]["properties"]
    assert set(report["load_state"]["enum"]) == {s.value for s in LoadState}
    assert set(report["unit_file_state"]["enum"]) == {s.value for s in UnitFileState}
    assert set(report["scope"]["enum"]) == {s.value for s in Scope}
    # Edge.of prints the implicit Slice= edge as Requires.
    assert set(why["$defs"]["edge"]["properties"]["dependency"]["enum"]) == {d.value for d in Dep} - {"Slice"}
    reasons = set(why["$defs"]["reason"]["enum"])
    assert set(REASON_BY_STATE.values()) <= reasons
    assert {"trigger-" + r for r in REASON_BY_STATE.values()} <= reasons
    states = _load("states")
    assert set(states["items"]["properties"]["state"]["enum"]) == {s.value for s in UnitFileState}


# -- why --json -------------------------------------------------------------------------------------

def test_example_table_covers_every_root():
    assert set(EXAMPLE_UNITS) == {p.name for p in ROOTS.iterdir() if p.is_dir()}


@pytest.mark.parametrize("name", sorted(EXAMPLE_UNITS))
def test_why_output_of_every_example_validates(name, capsys, why_validator):
    root = str(ROOTS / name)
    for unit in EXAMPLE_UNITS[name]:
        rc, doc = run_json(capsys, "--root", root, "why", unit)
        assert rc in (0, 1)
        assert len(doc) == 1 and doc[0]["unit"] == unit
        assert_valid(why_validator, doc)


def test_several_units_in_one_call_validate(capsys, why_validator):
    rc, doc = run_json(capsys, "--root", str(ROOTS / "masked-dependency"), "why",
                       "app.service", "web.service", "db.service", "nope.service")
    assert rc == 1
    assert [r["unit"] for r in doc] == ["app.service", "web.service", "db.service", "nope.service"]
    assert_valid(why_validator, doc)


def test_ok_unit_validates_and_omits_the_blocker_keys(capsys, why_validator):
    rc, doc = run_json(capsys, "--root", str(ROOTS / "socket-activated"), "why", "foo.service")
    assert rc == 0
    assert doc[0]["start"] == {"ok": True, "blockers": []}
    assert_valid(why_validator, doc)


def test_not_found_unit_validates(capsys, why_validator):
    rc, doc = run_json(capsys, "--root", str(ROOTS / "admin-mask"), "why", "does-not-exist.service")
    assert rc == 1
    r = doc[0]
    assert (r["load_state"], r["unit_file_state"], r["fragment_path"]) == ("not-found", "not-found", None)
    assert r["unit_file_error"] == {"errno": "ENOENT", "message": "No such file or directory"}
    assert r["start"]["reason"] == "not-found" and r["start"]["chain"] == []
    assert r["findings"][0]["id"] == "not-found"
    assert_valid(why_validator, doc)


def test_unmangled_name_validates(capsys, why_validator):
    """`why nginx` means nginx.service (systemctl's mangling)."""
    rc, doc = run_json(capsys, "--root", str(ROOTS / "admin-mask"), "why", "nginx")
    assert rc == 1
    assert doc[0]["unit"] == "nginx.service"
    assert_valid(why_validator, doc)


def test_template_name_validates(capsys, why_validator):
    rc, doc = run_json(capsys, "--root", str(ROOTS / "template-mask"), "why", "getty@.service")
    assert rc == 1
    assert_valid(why_validator, doc)


def test_implicit_dependency_chain_validates(tmp_path, capsys, why_validator):
    """A root without sysinit.target: the chain's source is a pseudo-location, not a file."""
    d = tmp_path / "usr/lib/systemd/system"
    d.mkdir(parents=True)
    (d / "a.service").write_text("[Service]\nExecStart=/bin/true\n")
    (d / "b.service").write_text("[Unit]\nWants=nope.service\nRequisite=a.service\n[Service]\nExecStart=/bin/true\n")
    rc, doc = run_json(capsys, "--root", str(tmp_path), "why", "a.service", "b.service")
    assert rc == 1
    assert doc[0]["start"]["blocker"] == "sysinit.target"
    assert_valid(why_validator, doc)


def test_user_and_global_scope_validate(tmp_path, capsys, why_validator, monkeypatch):
    (tmp_path / "etc/systemd/user").mkdir(parents=True)
    os.symlink("/dev/null", tmp_path / "etc/systemd/user/pulse.service")
    rc, doc = run_json(capsys, "--root", str(tmp_path), "--global", "why", "pulse.service")
    assert rc == 1
    assert doc[0]["scope"] == "global"
    assert_valid(why_validator, doc)


# -- the schema is strict -------------------------------------------------------------------------

@pytest.fixture
def sample(capsys) -> list:
    _, doc = run_json(capsys, "--root", str(ROOTS / "masked-dependency"), "why", "web.service")
    return doc


@pytest.mark.parametrize("mutate", [
    lambda d: d[0].pop("unit"),
    lambda d: d[0].update(extra=1),
    lambda d: d[0].update(scope="session"),
    lambda d: d[0].update(load_state="broken"),
    lambda d: d[0].update(unit_file_state="enabled-ish"),
    lambda d: d[0]["start"].pop("chain"),
    lambda d: d[0]["start"].pop("blocker"),
    lambda d: d[0]["start"].update(ok=True),
    lambda d: d[0]["start"]["chain"][0].pop("source"),
    lambda d: d[0]["start"]["chain"][0].update(dependency="Needs"),
    lambda d: d[0]["findings"][0].update(severity="fatal"),
    lambda d: d[0]["findings"][0].pop("fix"),
    lambda d: d[0]["findings"][0]["evidence"][0].pop("time"),
    lambda d: d[0]["findings"][0]["fix"].append(3),
    lambda d: d[0]["enable"].update(message="x"),
], ids=lambda f: "")
def test_why_schema_rejects_a_mangled_report(sample, mutate, why_validator):
    assert_valid(why_validator, sample)
    bad = copy.deepcopy(sample)
    mutate(bad)
    assert list(why_validator.iter_errors(bad)), "the schema accepted a mangled report"


# -- states --json --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXAMPLE_UNITS))
def test_states_output_of_every_example_validates(name, capsys, states_validator):
    root = str(ROOTS / name)
    rc, doc = run_json(capsys, "--root", root, "states")
    assert rc == 0 and doc
    assert_valid(states_validator, doc)
    rc, doc = run_json(capsys, "--root", root, "states", *EXAMPLE_UNITS[name])
    assert [d["unit"] for d in doc] == EXAMPLE_UNITS[name]
    assert_valid(states_validator, doc)


def test_states_not_found_and_several_units_validate(capsys, states_validator):
    rc, doc = run_json(capsys, "--root", str(ROOTS / "template-mask"), "states",
                       "getty@tty1.service", "nope.service", "sysinit.target")
    assert rc == 1  # a name whose state cannot be looked up fails the call, as with is-enabled
    assert [d["state"] for d in doc] == ["masked", "not-found", "static"]
    assert doc[1]["error"] == {"errno": "ENOENT", "message": "No such file or directory"}
    assert "error" not in doc[0]
    assert_valid(states_validator, doc)


@pytest.mark.parametrize("mutate", [
    lambda d: d[0].pop("path"),
    lambda d: d[0].update(state="on"),
    lambda d: d[0].update(preset="maybe"),
    lambda d: d[0].update(error={"errno": "ENOENT"}),
    lambda d: d[0].update(other=None),
], ids=lambda f: "")
def test_states_schema_rejects_a_mangled_entry(mutate, capsys, states_validator):
    _, doc = run_json(capsys, "--root", str(ROOTS / "admin-mask"), "states", "nginx.service")
    assert_valid(states_validator, doc)
    mutate(doc)
    assert list(states_validator.iter_errors(doc)), "the schema accepted a mangled entry"
