"""journal.py: the format (docs/journal.md, schema/journal-entry.schema.json), location, durability, locking and
confinement."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest
from tests import fixroots as fr

from unitdoctor import fix
from unitdoctor.journal import (
    ABSENT,
    FORMAT,
    VERSION,
    Entry,
    EntryStatus,
    FileState,
    Journal,
    JournalError,
    LockBusy,
    Step,
    StepKind,
    StepState,
    open_dir,
    state_at,
)
from unitdoctor.plan import plan_fix
from unitdoctor.report import why
from unitdoctor.rootfs import Root

REPO = Path(__file__).resolve().parents[1]


def jr(root: Path) -> Journal:
    return Journal.for_scope("system", Root(str(root)), {})


def do_fix(root: Path, *units: str, **kw) -> fix.Outcome:
    cat = fr.catalog(root)
    plan = plan_fix([why(cat, u) for u in units], catalog=cat)
    return fix.apply(plan, root=cat.root, journal=jr(root), ops=fix.OfflineOps(), **kw)


# -- location -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope,env,expected", [
    ("system", {}, "/var/lib/unitdoctor"),
    ("global", {}, "/var/lib/unitdoctor"),
    ("user", {"XDG_STATE_HOME": "/home/u/state", "HOME": "/home/u"}, "/home/u/state/unitdoctor"),
    ("user", {"HOME": "/home/u"}, "/home/u/.local/state/unitdoctor"),
    ("user", {"XDG_STATE_HOME": "relative/ignored", "HOME": "/home/u"}, "/home/u/.local/state/unitdoctor"),
])
def test_journal_location_on_the_host(scope, env, expected):
    j = Journal.for_scope(scope, Root("/"), env)
    assert j.directory == expected and j.display == expected


def test_journal_of_a_root_is_inside_it_and_made_only_by_a_fix_that_changes_something(tmp_path):
    root = fr.build(tmp_path, "persistent")
    j = jr(root)
    assert j.display == f"{root}/var/lib/unitdoctor"
    assert j.entries() == [] and not j.busy() and not j.exists()
    assert not (root / "var").exists()  # reading created nothing
    assert do_fix(root, "x.service").ok
    d = root / "var/lib/unitdoctor"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "lock").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "var/lib").stat().st_mode) == 0o755 & ~_umask()


# -- format -------------------------------------------------------------------------------------------------


def test_file_state_json_round_trip_drops_the_identity_fields():
    st = FileState("symlink", target="../../dev/null", uid=1, gid=2, mtime_ns=3, atime_ns=4, ino=5, dev=6,
                   ctime_ns=7)
    d = st.to_json()
    assert d == {"type": "symlink", "target": "../../dev/null", "uid": 1, "gid": 2, "mtime_ns": 3, "atime_ns": 4}
    back = FileState.from_json(d)
    assert back == st and back.ino is None


@pytest.mark.parametrize("a,b,same", [
    (FileState("symlink", target="/dev/null"), FileState("symlink", target="/dev/null", uid=7), True),
    (FileState("symlink", target="/dev/null"), FileState("symlink", target="../../../dev/null"), False),
    (FileState("file", size=0), FileState("file", size=0, mode=0o600), True),
    (FileState("file", size=0), FileState("file", size=12), False),
    (FileState("file", size=0), FileState("symlink", target="/dev/null"), False),
    (ABSENT, FileState("absent"), True),
    (FileState("dir", mode=0o755), FileState("dir", mode=0o700), True),
    (FileState("other"), FileState("other"), False),
])
def test_file_states_match_by_kind_link_text_and_emptiness(a, b, same):
    assert a.matches(b) is same


def test_state_at_reads_links_files_dirs_and_absence(tmp_path):
    (tmp_path / "l").symlink_to("../x")
    (tmp_path / "e").write_text("")
    os.chmod(tmp_path / "e", 0o640)
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "f")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert state_at(fd, "l").target == "../x"
        e = state_at(fd, "e")
        assert (e.type, e.size, e.mode) == ("file", 0, 0o640)
        assert state_at(fd, "d").type == "dir"
        assert state_at(fd, "f").type == "other"
        assert state_at(fd, "nope") == ABSENT
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def entry_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "schema/journal-entry.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _validate_dir(v, root: Path) -> list[dict]:
    docs = []
    for f in sorted((root / "var/lib/unitdoctor").glob("*.json")):
        doc = json.loads(f.read_text())
        errors = list(v.iter_errors(doc))
        assert not errors, [e.message for e in errors]
        assert f.name == doc["id"] + ".json"
        docs.append(doc)
    return docs


def test_every_entry_written_validates_against_the_documented_schema(tmp_path, entry_validator):
    root = fr.build(tmp_path, "multi")
    assert do_fix(root, "x.service", "foo.service").ok
    r = Root(str(root))
    assert fix.undo(None, root=r, journal=jr(root), ops=fix.OfflineOps()).status == "done"
    docs = _validate_dir(entry_validator, root)
    assert [(d["command"], d["status"], d["seq"]) for d in docs] == [("fix", "undone", 1), ("undo", "done", 2)]
    assert docs[0]["format"] == FORMAT and docs[0]["version"] == VERSION == 2
    assert docs[1]["undoes"] == docs[0]["id"] and docs[0]["undone_by"] == docs[1]["id"]
    removed = docs[0]["steps"][0]
    assert removed["before"]["type"] == "symlink" and removed["before"]["target"] == "../../../dev/null"
    assert removed["after"] == {"type": "absent"}


def test_a_rolled_back_entry_validates_and_records_why(tmp_path, entry_validator):
    root = fr.build(tmp_path, "both")

    def swap(step) -> None:
        if step.path.startswith("/run"):
            (root / fr.RUN / "x.service").write_text("x")

    assert do_fix(root, "x.service", before_act=swap).status == "rolled-back"
    (doc,) = _validate_dir(entry_validator, root)
    assert doc["status"] == "rolled-back"
    assert [s["state"] for s in doc["steps"]] == ["rolled-back", "failed"]
    assert "found a regular file with content" in doc["steps"][1]["message"]


def _write_raw(root: Path, name: str, data: dict) -> None:
    d = root / "var/lib/unitdoctor"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(json.dumps(data))


def _entry_json(**over) -> dict:
    e = Entry("20250101T000000Z-0001-abcd", 1, "2025-01-01T00:00:00+00:00", "fix", "system", None, False,
              ["x.service"], EntryStatus.DONE, [Step(StepKind.FILE, 0, "/etc/systemd/system/x.service",
                                                      FileState("symlink", target="/dev/null"), ABSENT,
                                                      state=StepState.DONE)])
    d = e.to_json()
    d.update(over)
    return d


def test_a_newer_format_version_is_refused_not_guessed(tmp_path):
    root = fr.base(tmp_path / "root")
    _write_raw(root, "20250101T000000Z-0001-abcd.json", _entry_json(version=VERSION + 1))
    j = jr(root)
    assert j.entries() == []  # skipped, and said: it is never acted on
    (msg,) = j.unreadable
    assert f"version {VERSION + 1} is newer than this unitdoctor reads" in msg


def test_unknown_keys_are_ignored_and_a_foreign_file_is_skipped_and_named(tmp_path):
    root = fr.base(tmp_path / "root")
    _write_raw(root, "20250101T000000Z-0001-abcd.json", _entry_json(future_key=[1, 2]))
    (e,) = jr(root).entries()
    assert e.steps[0].before == FileState("symlink", target="/dev/null")
    _write_raw(root, "other.json", {"hello": 1})
    j = jr(root)
    assert len(j.entries()) == 1
    assert [m.endswith("other.json: not a unitdoctor journal entry") for m in j.unreadable] == [True]


def test_a_corrupt_entry_names_its_file(tmp_path):
    root = fr.base(tmp_path / "root")
    d = root / "var/lib/unitdoctor"
    d.mkdir(parents=True)
    (d / "bad.json").write_text("{ not json")
    j = jr(root)
    assert j.entries() == []
    assert j.unreadable[0].startswith(f"{d}/bad.json: cannot read")


# -- durability ---------------------------------------------------------------------------------------------


def test_entry_is_fsynced_file_then_directory_before_the_first_change(tmp_path, monkeypatch):
    """The journal entry (tmp file fsync, rename, directory fsync) is durable before the mask is unlinked."""
    root = fr.build(tmp_path, "persistent")
    events: list[str] = []
    real_fsync, real_rename, real_unlink = os.fsync, os.rename, os.unlink

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def rename(src, dst, **kw) -> None:
        events.append(f"rename {dst}")
        real_rename(src, dst, **kw)

    def unlink(path, **kw) -> None:
        events.append(f"unlink {path}")
        real_unlink(path, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "unlink", unlink)
    out = do_fix(root, "x.service")
    assert out.ok
    first = events.index(f"unlink {out.entry}-0")  # the mask is removed in quarantine, where it was moved
    name = f"rename {out.entry}.json"
    journaled = events.index(name)
    assert events[journaled - 1] == "fsync-file" and events[journaled + 1] == "fsync-dir"
    assert journaled < first
    # the removal itself is made durable (quarantine, then the unit directory) before it is recorded
    assert events[first + 1:first + 6] == ["fsync-dir", "fsync-dir", "fsync-file", name, "fsync-dir"]


def test_a_temporary_file_left_by_a_crash_is_ignored_then_swept(tmp_path):
    root = fr.build(tmp_path, "persistent")
    assert do_fix(root, "x.service").ok
    d = root / "var/lib/unitdoctor"
    (d / ".20990101T000000Z-0002-ffff.json.tmp").write_text('{"half": ')
    assert len(jr(root).entries()) == 1
    with jr(root).locked():
        pass
    assert sorted(p.name for p in d.iterdir()) == sorted([next(d.glob("*.json")).name, "lock", "quarantine"])
    assert list((d / "quarantine").iterdir()) == []


def test_save_outside_the_lock_is_a_programming_error(tmp_path):
    root = fr.base(tmp_path / "root")
    with pytest.raises(RuntimeError):
        jr(root).save(Entry.from_json(_entry_json(), "x"))


# -- locking ------------------------------------------------------------------------------------------------


def test_lock_is_exclusive_between_descriptors_and_busy_says_so(tmp_path):
    root = fr.base(tmp_path / "root")
    j1, j2 = jr(root), jr(root)
    with j1.locked():
        assert j2.busy()
        with pytest.raises(LockBusy, match=f"another unitdoctor fix holds {root}/var/lib/unitdoctor/lock"), \
                j2.locked(timeout=0.1):
            pass
    assert not j2.busy()
    with j2.locked():
        pass


def test_an_in_progress_entry_is_interrupted_only_when_nobody_holds_the_lock(tmp_path):
    root = fr.base(tmp_path / "root")
    j = jr(root)
    with j.locked():
        e = j.create(command="fix", scope="system", live=False, units=["x.service"], steps=[], plan=[])
        assert [x.id for x in j.interrupted()] == [e.id]
        assert [h.interrupted for h in fix.history(jr(root))] == [False]  # held: it is running
    assert [h.interrupted for h in fix.history(jr(root))] == [True]


def test_an_unwritable_journal_is_a_journal_error_and_nothing_changes(tmp_path):
    root = fr.build(tmp_path, "persistent")
    (root / "var").write_text("a file where /var should be\n")
    before = fr.snapshot(root, skip=None)
    with pytest.raises(JournalError, match=f"cannot use the journal directory {root}/var/lib/unitdoctor"):
        do_fix(root, "x.service")
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


# -- confinement --------------------------------------------------------------------------------------------


class RacyRoot(Root):
    """A root whose resolution ran before a swap: ``chase`` returns the path as it was checked."""

    def chase(self, path: str, *, follow_last: bool = True, missing_ok: bool = False) -> str:
        return path


def test_open_dir_never_follows_a_component_that_became_a_symlink(tmp_path):
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rename(root / "etc/systemd", root / "etc/systemd.old")
    (root / "etc/systemd").symlink_to(outside)
    with pytest.raises(OSError) as e:
        open_dir(RacyRoot(str(root)), "/etc/systemd/system")
    assert e.value.errno in (errno.ENOTDIR, errno.ELOOP)


def test_open_dir_resolves_links_inside_the_root_and_creates_missing_components(tmp_path):
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "var").symlink_to("/real")  # absolute: re-rooted, not the host's /real
    made: list[str] = []
    fd = open_dir(Root(str(root)), "/var/lib/unitdoctor", create=True, mode=0o750, made=made)
    os.close(fd)
    assert made == ["/real/lib", "/real/lib/unitdoctor"]
    assert (root / "real/lib/unitdoctor").is_dir()
    assert stat.S_IMODE((root / "real/lib").stat().st_mode) == 0o750 & ~_umask()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


# -- format version 1 (plan effects in words) ------------------------------------------------------------------

#: A real entry written by unitdoctor before format version 2 (`fix --yes x.service foo.service` on the "multi"
#: root of fixroots.py, made in /tmp/ud-effects-gen/root): its plan holds each action's effect in words.
V1_ENTRY = REPO / "tests/data/journal-v1-entry.json"
V1_ROOT = "/tmp/ud-effects-gen/root"


def _as_fixed_by_v1(tmp_path: Path, *, interrupted: bool = False) -> tuple[Path, dict, fr.Snap]:
    """The "multi" root as that fix left it, with its version-1 entry in the journal (``interrupted``: the fix
    stopped before its last step, the socket's link), and the tree before the fix."""
    root = fr.build(tmp_path, "multi")
    before = fr.snapshot(root, times=False)
    for rel in (f"{fr.ETC}/x.service", f"{fr.RUN}/x.service", f"{fr.RUN}/foo.service"):
        os.unlink(root / rel)
    (root / fr.ETC / "sockets.target.wants").mkdir()
    doc = json.loads(V1_ENTRY.read_text().replace(V1_ROOT, str(root)))
    assert doc["version"] == 1 and all("effect" in p for p in doc["plan"])
    if interrupted:
        doc["status"] = "in-progress"
        last = doc["steps"][-1]
        last["state"] = "planned"
        del last["message"]
    else:
        os.symlink("/usr/lib/systemd/system/foo.socket", root / fr.ETC / "sockets.target.wants/foo.socket")
    _write_raw(root, doc["id"] + ".json", doc)
    return root, doc, before


def _cli(root: Path, *argv: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"}
    p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", str(root), *argv], env=env,
                       capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def test_a_version_1_entry_is_listed_and_undone_exactly(tmp_path, entry_validator):
    root, doc, before = _as_fixed_by_v1(tmp_path)
    (e,) = jr(root).entries()
    assert (e.version, e.status, e.plan) == (1, "done", doc["plan"])

    rc, out, err = _cli(root, "history")
    assert rc == 0 and not err, err
    assert f"{doc['id']}" in out and "fix   done" in out and "x.service foo.service" in out
    assert f'Removed "{root}/etc/systemd/system/x.service".' in out
    rc, out, err = _cli(root, "history", "--json")
    (h,) = json.loads(out)["entries"]
    assert (h["id"], h["status"], len(h["changes"])) == (doc["id"], "done", 5)

    rc, out, err = _cli(root, "undo", "--yes")
    assert rc == 0, out + err
    assert fr.diff(fr.snapshot(root, times=False), before) == []
    old, new = _validate_dir(entry_validator, root)
    # rewritten in its own format: the plan in words stays a version-1 entry; the undo is version 2
    assert (old["version"], old["status"], old["plan"]) == (1, "undone", doc["plan"])
    assert (new["version"], new["command"], new["plan"]) == (
        VERSION, "undo", [{"action": "undo", "risk": "medium", "entry": doc["id"]}])


def test_an_interrupted_version_1_entry_is_recovered_in_its_own_format(tmp_path, entry_validator):
    root, doc, _before = _as_fixed_by_v1(tmp_path, interrupted=True)
    rc, out, err = _cli(root, "fix", "--dry-run", "x.service")
    assert "an interrupted fix is in the journal" in err and doc["id"] in err
    rc, out, err = _cli(root, "fix", "--recover")
    assert rc == 0, out + err
    assert os.readlink(root / fr.ETC / "sockets.target.wants/foo.socket") == "/usr/lib/systemd/system/foo.socket"
    (e,) = _validate_dir(entry_validator, root)
    assert (e["version"], e["status"], e["plan"]) == (1, "done", doc["plan"])


def test_the_schema_records_every_action_kind_without_words():
    from unitdoctor.plan import ActionKind

    schema = json.loads((REPO / "schema/journal-entry.schema.json").read_text())
    kinds = {a["properties"]["action"]["const"] for a in schema["$defs"]["action"]["oneOf"]}
    assert kinds == {k.value for k in ActionKind} | {"undo"}
    assert not any("effect" in a["properties"] for a in schema["$defs"]["action"]["oneOf"])
    assert schema["properties"]["version"]["enum"] == [1, VERSION]
    from unitdoctor.plan import Because

    fix_schema = json.loads((REPO / "schema/fix.schema.json").read_text())
    for sch in (schema, fix_schema):  # the journal keeps the reason as data; fix --json has it beside the words
        assert sch["$defs"]["reason"]["properties"]["because"]["enum"] == [b.value for b in Because]


def test_states_are_enums_read_and_written_as_their_names(tmp_path):
    """Entry status and step state are enums in memory, systemd-style names on disk (docs/journal.md, "States")."""
    root = fr.base(tmp_path / "root")
    _write_raw(root, "20250101T000000Z-0001-abcd.json", _entry_json())
    (e,) = jr(root).entries()
    assert e.status is EntryStatus.DONE and e.steps[0].state is StepState.DONE and e.steps[0].kind is StepKind.FILE
    d = e.to_json()
    assert (d["status"], d["steps"][0]["state"], d["steps"][0]["kind"]) == ("done", "done", "file")
    assert json.loads(json.dumps(d)) == d
    # printed as written, on every Python (3.11 would print EntryStatus.ROLLED_BACK for a plain str mixin)
    assert str(EntryStatus.ROLLED_BACK) == f"{StepState.ROLLED_BACK}" == "rolled-back"
    assert f"{fix.ROLLED_BACK:<12}|" == "rolled-back |"
    assert str(fix.NOTHING) == "nothing-to-do"
    schema = json.loads((REPO / "schema/journal-entry.schema.json").read_text())
    assert {s.value for s in EntryStatus} == set(schema["properties"]["status"]["enum"])
    step = schema["properties"]["steps"]["items"]["properties"]
    assert ({k.value for k in StepKind}, {s.value for s in StepState}) == (set(step["kind"]["enum"]),
                                                                           set(step["state"]["enum"]))
