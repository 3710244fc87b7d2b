"""The command line's habits, as systemctl has them: options anywhere, unknown verbs, -q, exit statuses
(a closed pipe keeps the verdict; a bug is 70 and names the unit; a batch goes on), confirmation and
dry-run for fix and undo, a fix that needs root says what to run. Roots are built in tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests import fixroots as fr

from unitdoctor import cli
from unitdoctor.cli import fix as cli_fix
from unitdoctor.cli import parser as cli_parser
from unitdoctor.cli.common import EXIT_STATUS_TEXT

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", "NO_COLOR": "1"}
ENV.pop("SYSTEMD_COLORS", None)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def proc(*argv: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "unitdoctor", *argv], capture_output=True, text=True,
                          env=kw.pop("env", ENV), stdin=subprocess.DEVNULL, timeout=120, **kw)


# -- options anywhere, the default command, unknown verbs ---------------------------------------------------


def test_options_anywhere_on_the_line_give_the_same_answer(tmp_path, capsys):
    root = str(fr.build(tmp_path, "multi"))
    ref = run(capsys, "--root", root, "why", "--json", "x.service", "foo.service")
    assert ref[0] == 1
    for argv in (["why", "x.service", "--root", root, "foo.service", "--json"],
                 ["--json", "why", "x.service", "foo.service", f"--root={root}"],
                 ["x.service", "--json", "foo.service", "--root", root],
                 ["why", "--system", "x.service", "--root", root, "--json", "--", "foo.service"]):
        assert run(capsys, *argv) == ref, argv


def test_the_command_table_is_the_parsers():
    """cli.COMMANDS (which module registers which command, --help's order) is what the full parser has."""
    _parser, runners, subparsers = cli_parser.build()
    assert list(subparsers) == list(cli.COMMANDS) == list(runners)
    for module in cli.COMMAND_MODULES:
        assert list(cli_parser.build((module,))[2]) == [c for c, m in cli.COMMANDS.items() if m == module]


@pytest.mark.parametrize("argv", [
    ["why", "x.service"], ["x.service", "--root", "R"], ["--ro", "R", "x.service"], ["-qv", "why", "a.service"],
    ["--graph", "g.dot", "why", "a.service"], ["--gr", "g.dot", "a.service"], ["-t", "service", "states"],
    ["states", "--state=masked", "-tservice"], ["--json", "--", "-.mount"], ["fix", "--dry-run", "a.service"],
    ["--dry-run", "fix", "a"], ["undo"], ["history", "--json"], ["scan", "--target", "x.target"],
    ["--target", "x.target", "scan"], ["units"], ["--user", "states", "a*"], ["why", "--", "-x.service"],
])
def test_building_only_the_commands_parser_parses_as_the_whole_parser(argv):
    """A run builds only its command's parser (cli.line.parse): the line must mean the same as with all."""
    from unitdoctor.cli import line

    def only(modules):
        return cli_parser.build(modules)[::2]

    def every(_modules):
        return cli_parser.build()[::2]

    assert line.parse(only, cli.COMMANDS, list(argv)) == line.parse(every, cli.COMMANDS, list(argv))


def test_unknown_verb_is_exit_2_with_did_you_mean_and_touches_no_unit(tmp_path, capsys):
    root = str(fr.build(tmp_path, "persistent"))
    rc, out, err = run(capsys, "--root", root, "stats")
    assert (rc, out) == (2, "")
    assert "Unknown command verb stats." in err and "Did you mean 'states'?" in err
    rc, out, err = run(capsys, "--root", root, "frobnicate", "--json")
    assert (rc, out) == (2, "") and "Unknown command verb frobnicate." in err and "Did you mean" not in err
    assert "unitdoctor why frobnicate" in err


@pytest.mark.parametrize("word", ["x.service", "x", "getty@tty1.service", "x.socket"])
def test_a_unit_name_or_an_existing_bare_name_still_means_why(tmp_path, capsys, word):
    root = str(fr.build(tmp_path, "persistent"))
    rc, out, err = run(capsys, "--root", root, word, "--json")
    assert rc in (0, 1), err
    assert json.loads(out)[0]["unit"].startswith(word.split(".")[0])


def test_explicit_why_asks_about_a_unit_that_does_not_exist(tmp_path, capsys):
    root = str(fr.build(tmp_path, "persistent"))
    rc, out, _err = run(capsys, "--root", root, "why", "frobnicate", "--json")
    assert rc == 1 and json.loads(out)[0]["load_state"] == "not-found"


def test_version_anywhere_and_help_lists_every_exit_status(capsys):
    rc, out, _ = proc("why", "--version").returncode, proc("why", "--version").stdout, None
    assert rc == 0 and out.startswith("unitdoctor ")
    # `--version` alone is answered without the parser: the same as the parser's answer
    alone = proc("--version")
    assert (alone.returncode, alone.stdout, alone.stderr) == (0, out, "")
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    help_text = proc("--help").stdout
    assert "exit status:" in help_text
    for code, _text in EXIT_STATUS_TEXT:
        assert f"\n  {code} " in help_text
    assert {c for c, _ in EXIT_STATUS_TEXT} == {0, 1, 2, 4, 70}


def test_no_command_prints_usage_and_exit_2():
    p = proc()
    assert p.returncode == 2 and p.stderr.startswith("usage:")


# -- quiet ---------------------------------------------------------------------------------------------------


def test_quiet_prints_nothing_and_keeps_the_status(tmp_path, capsys):
    root = str(fr.build(tmp_path, "persistent"))
    assert run(capsys, "--root", root, "-q", "why", "x.service") == (1, "", "")
    assert run(capsys, "--root", root, "states", "x.service", "--quiet") == (1, "", "")
    rc, out, _ = run(capsys, "--root", root, "states", "-q")
    assert rc == 0 and "UNIT FILE" not in out and "listed" not in out and "x.service" in out
    rc, out, err = run(capsys, "--root", root, "-q", "fix", "--yes", "x.service")
    assert rc == 0 and out == "" and err == ""
    assert run(capsys, "--root", root, "why", "x.service", "-q") == (0, "", "")


# -- exit status on a closed pipe -----------------------------------------------------------------------------


@pytest.mark.parametrize("argv,status", [(["why", "x.service"], 1), (["why", "--json", "x.service"], 1),
                                         (["states"], 0), (["states", "nothere.service"], 1)])
def test_a_closed_pipe_keeps_the_exit_status(tmp_path, argv, status):
    """`unitdoctor … | true`: the reader is gone before we write; the verdict's status stays, nothing on stderr."""
    root = str(fr.build(tmp_path, "persistent"))
    r, w = os.pipe()
    os.close(r)  # nobody will ever read: every write fails with EPIPE
    try:
        p = subprocess.run([sys.executable, "-m", "unitdoctor", "--root", root, *argv], stdout=w,
                           stderr=subprocess.PIPE, text=True, env=ENV, timeout=120)
    finally:
        os.close(w)
    assert p.returncode == status, p.stderr
    assert "Broken pipe" not in p.stderr and "Traceback" not in p.stderr and "Exception" not in p.stderr


def test_shell_pipe_into_true_keeps_the_status_under_pipefail(tmp_path):
    root = str(fr.build(tmp_path, "persistent"))
    cmd = f"{sys.executable} -m unitdoctor --root {root} why x.service | true; echo ${{PIPESTATUS[0]}}"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=ENV, timeout=120)
    assert p.stdout.strip() == "1", p.stderr


# -- internal errors: own status, the unit named, the batch goes on -------------------------------------------


def test_internal_error_names_the_unit_and_the_batch_goes_on(tmp_path, capsys, monkeypatch):
    import unitdoctor.report as report

    real = report.why

    def flaky(cat, name, **kw):
        if name == "foo.service":
            raise KeyError("boom")
        return real(cat, name, **kw)

    monkeypatch.setattr(report, "why", flaky)
    root = str(fr.build(tmp_path, "multi"))
    rc, out, err = run(capsys, "--root", root, "why", "x.service", "foo.service", "x.service")
    assert rc == 70
    assert "internal error while examining foo.service: KeyError: 'boom'" in err
    assert "github.com/unitdoctor/unitdoctor/issues" in err and "Traceback" not in err
    assert out.count("x.service cannot start") == 2  # the units before and after still answered

    rc, out, err = run(capsys, "--root", root, "why", "x.service", "foo.service", "--json")
    assert rc == 70
    doc = json.loads(out)
    assert [d["unit"] for d in doc] == ["x.service", "foo.service"]
    assert "start" in doc[0] and doc[1]["internal_error"].startswith("unitdoctor: internal error while examining")
    _validate("why", doc)


def test_internal_error_traceback_with_systemd_log_level_debug(tmp_path, capsys, monkeypatch):
    import unitdoctor.report as report

    monkeypatch.setattr(report, "why", lambda *a, **k: 1 / 0)
    monkeypatch.setenv("SYSTEMD_LOG_LEVEL", "debug")
    root = str(fr.build(tmp_path, "persistent"))
    rc, _out, err = run(capsys, "--root", root, "why", "x.service")
    assert rc == 70 and "ZeroDivisionError" in err and "Traceback (most recent call last)" in err


def _validate(name: str, doc) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "schema" / f"{name}.schema.json").read_text())
    jsonschema.validate(doc, schema)


# -- schema_version ---------------------------------------------------------------------------------------------


def test_every_json_document_and_schema_has_schema_version(tmp_path, capsys):
    from unitdoctor.render import SCHEMA_VERSION

    root = str(fr.build(tmp_path, "persistent"))
    docs = {
        "why": json.loads(run(capsys, "--root", root, "why", "x.service", "--json")[1]),
        "states": json.loads(run(capsys, "--root", root, "states", "--json")[1]),
        "fix": json.loads(run(capsys, "--root", root, "fix", "--dry-run", "x.service", "--json")[1]),
        "history": json.loads(run(capsys, "--root", root, "history", "--json")[1]),
        "scan": json.loads(run(capsys, "--root", root, "scan", "--json")[1]),
        "units": json.loads(run(capsys, "units", "--json")[1]),
    }
    for name, doc in docs.items():
        items = doc if isinstance(doc, list) else [doc]
        assert items and all(d["schema_version"] == SCHEMA_VERSION for d in items), name
        _validate(name, doc)
    from unitdoctor import shipped

    assert sorted(shipped.SCHEMAS) == sorted(p.name[: -len(".schema.json")] for p in (REPO / "schema").glob("*.json"))
    assert [d["name"] for d in docs["units"]["units"]] == list(shipped.NAMES)
    assert [d["text"] for d in docs["units"]["units"]] == [t for _n, t in shipped.units()]
    for path in (REPO / "schema").glob("*.schema.json"):
        if path.name == "journal-entry.schema.json":
            continue  # a file format of its own: "format" and "version" (docs/journal.md)
        assert '"schema_version"' in path.read_text(), path.name


# -- fix and undo: dry-run, confirmation, root --------------------------------------------------------------------


def test_undo_dry_run_changes_nothing_and_says_what_it_would_restore(tmp_path, capsys):
    root = fr.build(tmp_path, "persistent")
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    before = fr.snapshot(root, skip=None)
    rc, out, _ = run(capsys, "--root", str(root), "undo", "--dry-run")
    assert rc == 0 and "would do" in out and "Created symlink" in out and "x.service → /dev/null" in out
    rc, out, _ = run(capsys, "--root", str(root), "undo", "--dry-run", "--json")
    doc = json.loads(out)
    assert doc["dry_run"] is True and doc["outcomes"][0]["status"] == "planned"
    _validate("fix", doc)
    assert fr.diff(fr.snapshot(root, skip=None), before) == []


def test_undo_asks_like_fix(tmp_path, capsys, monkeypatch):
    import io

    root = fr.build(tmp_path, "persistent")
    assert run(capsys, "--root", str(root), "fix", "--yes", "x.service")[0] == 0
    before = fr.snapshot(root, skip=None)
    rc, _out, err = run(capsys, "--root", str(root), "undo")  # stdin is not a terminal
    assert rc == 2 and "Pass --yes" in err
    monkeypatch.setattr(cli_fix, "_interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    rc, out, err = run(capsys, "--root", str(root), "undo")
    assert rc == 1 and "Undo this fix? [y/N]" in err and "Nothing was changed." in out
    assert fr.diff(fr.snapshot(root, skip=None), before) == []
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert run(capsys, "--root", str(root), "undo")[0] == 0
    assert (root / fr.ETC / "x.service").is_symlink()


def test_fix_offline_changes_files_only(tmp_path, capsys):
    root = str(fr.build(tmp_path, "persistent"))
    rc, out, _ = run(capsys, "--root", root, "--offline", "fix", "--dry-run", "x.service")
    assert rc == 0 and "Plan for x.service" in out


def _nobody_tree(tmp_path: Path, name: str) -> Path:
    """A root nobody can read (but not write), below a directory nobody can enter."""
    base = Path(f"/tmp/ud-h10-cli-nobody-{os.getpid()}-{tmp_path.name}")
    base.mkdir(mode=0o755)
    root = fr.build(base, name)
    for d, _dirs, _files in os.walk(base):
        os.chmod(d, 0o755)
    return root


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a command as nobody")
def test_non_root_dry_run_shows_the_plan_and_acting_says_what_to_run(tmp_path, capsys):
    """As a user, with root's journal unreadable: --dry-run shows the plan; --yes names `sudo unitdoctor fix`."""
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is missing")
    root = _nobody_tree(tmp_path, "persistent")
    base = root.parent
    assert base.name.startswith("ud-h10-cli-nobody-") and base.parent == Path("/tmp")
    try:
        journal = root / "var/lib/unitdoctor"
        journal.mkdir(parents=True)
        os.chmod(journal, 0o700)  # as root's fix leaves it
        (journal / "lock").touch()
        as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "unitdoctor"]
        env = {**ENV, "PYTHONPATH": f"{REPO / 'src'}"}

        def nobody(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*as_nobody, *argv], capture_output=True, text=True, env=env, cwd="/",
                                  stdin=subprocess.DEVNULL, timeout=120)

        before = fr.snapshot(root, skip=None)
        p = nobody("--root", str(root), "why", "x.service")
        assert p.returncode == 1 and "x.service cannot start" in p.stdout, p.stderr
        p = nobody("--root", str(root), "fix", "--dry-run", "x.service")
        assert p.returncode == 0 and "remove the mask" in p.stdout, p.stderr
        assert "Permission denied" in p.stderr and "Traceback" not in p.stderr
        p = nobody("--root", str(root), "fix", "--yes", "x.service")
        assert p.returncode == 4, p.stdout + p.stderr
        assert f"Run: sudo unitdoctor --root={root} fix --yes x.service" in p.stderr
        assert fr.diff(fr.snapshot(root, skip=None), before) == []
    finally:
        shutil.rmtree(base)


def test_a_small_address_space_still_gets_the_answer():
    """The command thread asks for a deep stack (dependency chains thousands deep); where the address space is
    too small for it (ulimit -v), the command runs on the usual stack instead of dying in a traceback."""
    import resource

    root = str(REPO / "examples" / "roots" / "masked-dependency")
    want = proc("--root", root, "why", "app.service")

    def small() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (400 << 20, 400 << 20))

    got = proc("--root", root, "why", "app.service", preexec_fn=small)
    assert "Traceback" not in got.stderr and "can't start new thread" not in got.stderr
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout) and want.returncode == 1
