"""Tests for unitdoctor.install: unit-file states as ``systemctl is-enabled``/``list-unit-files`` give them.

Three groups, each on roots built in ``tmp_path``:

- the state parts of systemd's ``src/test/test-install-root.c`` (fact sheet §9.1 A-L): the test's
  enable/mask/link steps are done by writing the symlinks systemctl would create, and the states are
  checked after each step, as the original does;
- the verified ``--root`` matrix (§3.5) and the surprising cases (§3.3, §2.3), asserting state, errno
  and path;
- one regression test per rule the engine once got wrong, named after the rule.

Every root is also asked of ``systemctl --root`` when it is installed (always under ``CI=true``), so a
wrong expectation here cannot hide a wrong engine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import pytest
from tests.differential.systemctl import our_list, our_states, systemctl_path, their_list, their_states

from unitdoctor import install, specifiers
from unitdoctor.catalog import open_catalog
from unitdoctor.install import StateResult, UnitFileState
from unitdoctor.lookup import Scope
from unitdoctor.preset import Presets

U = "usr/lib/systemd/system"
E = "etc/systemd/system"
RUN = "run/systemd/system"
W = "[Install]\nWantedBy=multi-user.target\n"
MUW = "multi-user.target.wants"


class Tree:
    """A root being built: files, symlinks and removals, all below ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def file(self, rel: str, content: Union[str, bytes] = "") -> Tree:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return self

    def link(self, rel: str, target: str) -> Tree:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink() or p.exists():
            p.unlink()
        p.symlink_to(target)
        return self

    def mkdir(self, rel: str) -> Tree:
        (self.path / rel).mkdir(parents=True, exist_ok=True)
        return self

    def rm(self, rel: str) -> Tree:
        (self.path / rel).unlink()
        return self


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "root")


@pytest.fixture
def fixture_root(tmp_path: Path) -> Tree:
    """test-install-root.c's fixture: the usual dirs, and multi-user/graphical targets "pretty much empty"."""
    t = Tree(tmp_path / "root")
    for d in (U, E, RUN, "opt", "usr/lib/systemd/system-preset"):
        t.mkdir(d)
    t.file(f"{U}/multi-user.target", "# pretty much empty")
    t.file(f"{U}/graphical.target", "# pretty much empty")
    return t


def lookup(t: Tree, name: str, *, scope: Scope = Scope.SYSTEM, environ: Optional[dict] = None) -> StateResult:
    return install.lookup_state(open_catalog(str(t.path), scope, environ or {}), name)


def cross_check(t: Tree, names: list[str], *, scope: str = "system", environ: Optional[dict] = None) -> None:
    """Ask ``systemctl --root`` the same questions; without systemctl skip this part (fail under CI)."""
    if systemctl_path() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemctl is missing, and CI=true requires the cross-check")
        return
    env = environ or {}
    ours = our_states(t.path, names, scope=scope, environ=env)
    theirs = their_states(t.path, names, scope=scope, environ=env)
    assert ours == theirs, "engine and systemctl --root disagree"
    assert our_list(t.path, scope=scope, environ=env) == their_list(t.path, scope=scope, environ=env)


def expect(t: Tree, expected: dict[str, str], *, scope: Scope = Scope.SYSTEM,
           environ: Optional[dict] = None) -> dict[str, StateResult]:
    """Assert each name's state (``"enabled"``) or error (``"ENOENT"``), then cross-check with systemctl.

    A missing unit is state ``not-found``; any other error is ``bad`` (list-unit-files' word for it).
    """
    results = {}
    for name, want in expected.items():
        r = lookup(t, name, scope=scope, environ=environ)
        results[name] = r
        if want.startswith("E"):
            assert r.error is not None and r.error.errno == want, (name, r)
            assert r.state in (UnitFileState.NOT_FOUND, UnitFileState.BAD), (name, r)
        else:
            assert r.error is None and r.state.value == want, (name, r)
    cross_check(t, list(expected), scope=scope.value, environ=environ)
    return results


# -- test-install-root.c ----------------------------------------------------------------------------


def test_basic_mask_and_enable(fixture_root: Tree) -> None:
    """test-install-root.c: basic_mask_and_enable (§9.1 A)."""
    t = fixture_root
    expect(t, {f"{c}.service": "ENOENT" for c in "abcdef"})
    t.file(f"{U}/a.service", W)
    expect(t, {"a.service": "disabled"})
    t.link(f"{U}/b.service", "a.service")
    t.link(f"{U}/c.service", "/usr/lib/systemd/system/a.service")
    t.link(f"{U}/d.service", "c.service")
    expect(t, {"a.service": "disabled", "b.service": "alias", "c.service": "alias", "d.service": "alias"})
    # mask a
    t.link(f"{E}/a.service", "/dev/null")
    r = expect(t, {n: "masked" for n in ("a.service", "b.service", "c.service", "d.service")})
    assert r["a.service"].path == "/etc/systemd/system/a.service"
    # unmask a; enable a
    t.rm(f"{E}/a.service")
    t.link(f"{E}/{MUW}/a.service", "/usr/lib/systemd/system/a.service")
    r = expect(t, {"a.service": "enabled", "b.service": "alias", "c.service": "alias", "d.service": "alias"})
    assert r["a.service"].path == "/usr/lib/systemd/system/a.service"
    # disable a
    t.rm(f"{E}/{MUW}/a.service")
    expect(t, {"a.service": "disabled"})
    # enable d (and reenable b) write the same link, to a.service
    t.link(f"{E}/{MUW}/a.service", "/usr/lib/systemd/system/a.service")
    expect(t, {"a.service": "enabled", "d.service": "alias"})
    # masks spelled as relative and as ../-laden absolute links
    t.link(f"{U}/e.service", "../../../../../../dev/null")
    expect(t, {"e.service": "masked"})
    t.link(f"{U}/e.service", "/usr/../dev/null")
    expect(t, {"e.service": "masked"})
    t.rm(f"{U}/e.service")
    expect(t, {"e.service": "ENOENT"})
    # f is wanted by a target that does not exist
    t.file(f"{U}/f.service", "[Install]\nWantedBy=x.target\n")
    expect(t, {"f.service": "disabled"})
    t.link(f"{E}/x.target.wants/f.service", "/usr/lib/systemd/system/f.service")
    expect(t, {"f.service": "enabled"})


def test_linked_units(fixture_root: Tree) -> None:
    """test-install-root.c: linked_units (§9.1 B)."""
    t = fixture_root
    for n in ("linked", "linked2", "linked3"):
        t.file(f"opt/{n}.service", W)
    expect(t, {"linked.service": "ENOENT", "linked2.service": "ENOENT", "linked3.service": "ENOENT"})
    t.link(f"{U}/linked2.service", "/opt/linked2.service")
    t.link(f"{E}/linked3.service", "/opt/linked3.service")
    r = expect(t, {"linked.service": "ENOENT", "linked2.service": "disabled", "linked3.service": "linked"})
    assert r["linked3.service"].path == "/opt/linked3.service"
    # link /opt/linked.service, then disable it
    t.link(f"{E}/linked.service", "/opt/linked.service")
    expect(t, {"linked.service": "linked"})
    t.rm(f"{E}/linked.service")
    expect(t, {"linked.service": "ENOENT"})
    # enable /opt/linked.service: the link and the .wants link, both to /opt
    t.link(f"{E}/{MUW}/linked.service", "/opt/linked.service")
    t.link(f"{E}/linked.service", "/opt/linked.service")
    expect(t, {"linked.service": "enabled"})
    t.rm(f"{E}/{MUW}/linked.service").rm(f"{E}/linked.service")
    expect(t, {"linked.service": "ENOENT"})
    # enable linked2.service (vendor link to /opt): systemctl links both, to the final /opt path
    t.link(f"{E}/{MUW}/linked2.service", "/opt/linked2.service")
    t.link(f"{E}/linked2.service", "/opt/linked2.service")
    expect(t, {"linked2.service": "enabled"})
    # enable linked3.service: only the .wants link is new
    t.link(f"{E}/{MUW}/linked3.service", "/opt/linked3.service")
    expect(t, {"linked3.service": "enabled"})


def test_default(fixture_root: Tree) -> None:
    """test-install-root.c: default (§9.1 C): default.target is an alias, its target becomes indirect."""
    t = fixture_root
    t.file(f"{U}/test-default-real.target", "# pretty much empty")
    t.link(f"{U}/test-default.target", "test-default-real.target")
    expect(t, {"default.target": "ENOENT", "test-default-real.target": "static",
               "test-default.target": "alias"})
    # set-default test-default.target links the real target
    t.link(f"{E}/default.target", "/usr/lib/systemd/system/test-default-real.target")
    expect(t, {"default.target": "alias", "test-default-real.target": "indirect",
               "test-default.target": "alias"})


def test_add_dependency(fixture_root: Tree) -> None:
    """test-install-root.c: add_dependency (§9.1 D): add-wants links the real names."""
    t = fixture_root
    t.file(f"{U}/real-add-dependency-test-target.target", "# pretty much empty")
    t.link(f"{U}/add-dependency-test-target.target", "real-add-dependency-test-target.target")
    t.file(f"{U}/real-add-dependency-test-service.service", "# pretty much empty")
    t.link(f"{U}/add-dependency-test-service.service", "real-add-dependency-test-service.service")
    expect(t, {"real-add-dependency-test-service.service": "static"})
    t.link(f"{E}/real-add-dependency-test-target.target.wants/real-add-dependency-test-service.service",
           "/usr/lib/systemd/system/real-add-dependency-test-service.service")
    expect(t, {"real-add-dependency-test-service.service": "enabled",
               "add-dependency-test-service.service": "alias"})


def test_template_enable(fixture_root: Tree) -> None:
    """test-install-root.c: template_enable (§9.1 E)."""
    t = fixture_root
    expect(t, {"template@.service": "ENOENT", "template@def.service": "ENOENT",
               "template@foo.service": "ENOENT", "template-symlink@foo.service": "ENOENT"})
    t.file(f"{U}/template@.service", "[Install]\nDefaultInstance=def\nWantedBy=multi-user.target\n")
    t.link(f"{U}/template-symlink@.service", "template@.service")
    initial = {"template@.service": "disabled", "template@def.service": "disabled",
               "template@foo.service": "disabled", "template-symlink@.service": "alias",
               "template-symlink@def.service": "disabled", "template-symlink@foo.service": "disabled"}
    expect(t, initial)
    # enable template@.service: the DefaultInstance link
    t.link(f"{E}/{MUW}/template@def.service", "/usr/lib/systemd/system/template@.service")
    expect(t, {"template@.service": "enabled", "template@def.service": "enabled",
               "template@foo.service": "disabled", "template-symlink@.service": "alias",
               "template-symlink@def.service": "enabled", "template-symlink@foo.service": "disabled"})
    t.rm(f"{E}/{MUW}/template@def.service")
    expect(t, initial)
    # enable template@foo.service: the template is only indirectly enabled
    t.link(f"{E}/{MUW}/template@foo.service", "/usr/lib/systemd/system/template@.service")
    expect(t, {"template@.service": "indirect", "template@def.service": "disabled",
               "template@foo.service": "enabled", "template-symlink@foo.service": "enabled",
               "template-symlink@def.service": "disabled"})
    t.rm(f"{E}/{MUW}/template@foo.service")
    expect(t, {**initial, "template@quux.service": "disabled", "template-symlink@quux.service": "disabled"})
    # enable template-symlink@quux.service links the real template name
    t.link(f"{E}/{MUW}/template@quux.service", "/usr/lib/systemd/system/template@.service")
    expect(t, {"template@.service": "indirect", "template@def.service": "disabled",
               "template@foo.service": "disabled", "template@quux.service": "enabled",
               "template-symlink@.service": "alias", "template-symlink@def.service": "disabled",
               "template-symlink@foo.service": "disabled", "template-symlink@quux.service": "enabled"})


def test_indirect(fixture_root: Tree) -> None:
    """test-install-root.c: indirect (§9.1 F)."""
    t = fixture_root
    t.file(f"{U}/indirecta.service", "[Install]\nAlso=indirectb.service\n")
    t.file(f"{U}/indirectb.service", W)
    t.link(f"{U}/indirectc.service", "indirecta.service")
    expect(t, {"indirecta.service": "indirect", "indirectb.service": "disabled", "indirectc.service": "alias"})
    t.link(f"{E}/{MUW}/indirectb.service", "/usr/lib/systemd/system/indirectb.service")
    expect(t, {"indirecta.service": "indirect", "indirectb.service": "enabled", "indirectc.service": "alias"})


def test_preset_and_list(fixture_root: Tree) -> None:
    """test-install-root.c: preset_and_list (§9.1 G): states and the PRESET column."""
    t = fixture_root
    t.file(f"{U}/preset-yes.service", W)
    t.file(f"{U}/preset-no.service", W)
    t.file("usr/lib/systemd/system-preset/test.preset", "enable *-yes.*\ndisable *\n")
    expect(t, {"preset-yes.service": "disabled", "preset-no.service": "disabled"})
    presets = Presets.load(open_catalog(str(t.path), Scope.SYSTEM, {}).root, Scope.SYSTEM)
    assert presets.query("preset-yes.service") == "enabled"
    assert presets.query("preset-no.service") == "disabled"
    # preset-all: only preset-yes gets its link
    t.link(f"{E}/{MUW}/preset-yes.service", "/usr/lib/systemd/system/preset-yes.service")
    expect(t, {"preset-yes.service": "enabled", "preset-no.service": "disabled"})
    # get_list: every listed state equals the lookup
    cat = open_catalog(str(t.path), Scope.SYSTEM, {})
    for r in install.list_unit_files(cat):
        single = install.lookup_state(cat, r.name)
        assert r.state is (UnitFileState.BAD if single.error else single.state)
        assert r.state in (UnitFileState.ENABLED, UnitFileState.DISABLED, UnitFileState.STATIC,
                           UnitFileState.INDIRECT, UnitFileState.ALIAS)
    assert ("preset-no.service", "disabled", "disabled") in our_list(t.path)
    assert ("preset-yes.service", "enabled", "enabled") in our_list(t.path)


def test_revert(fixture_root: Tree) -> None:
    """test-install-root.c: revert (§9.1 H): overrides and drop-ins do not change a static state."""
    t = fixture_root
    expect(t, {"xx.service": "ENOENT", "yy.service": "ENOENT"})
    t.file(f"{U}/xx.service", "# Empty\n")
    expect(t, {"xx.service": "static"})
    t.file(f"{E}/xx.service", "# Empty override\n")
    r = expect(t, {"xx.service": "static"})
    assert r["xx.service"].path == "/etc/systemd/system/xx.service"
    t.file(f"{E}/xx.service.d/dropin.conf", "# Empty dropin\n")
    expect(t, {"xx.service": "static"})


def test_preset_order(fixture_root: Tree) -> None:
    """test-install-root.c: preset_order (§9.1 I): the first matching preset line wins."""
    t = fixture_root
    t.file(f"{U}/prefix-1.service", W)
    t.file(f"{U}/prefix-2.service", W)
    t.file("usr/lib/systemd/system-preset/test.preset",
           "enable prefix-1.service\ndisable prefix-*.service\nenable prefix-2.service\n")
    presets = Presets.load(open_catalog(str(t.path), Scope.SYSTEM, {}).root, Scope.SYSTEM)
    assert presets.query("prefix-1.service") == "enabled"
    assert presets.query("prefix-2.service") == "disabled"
    t.link(f"{E}/{MUW}/prefix-1.service", "/usr/lib/systemd/system/prefix-1.service")
    expect(t, {"prefix-1.service": "enabled", "prefix-2.service": "disabled"})


def test_static_instance(fixture_root: Tree) -> None:
    """test-install-root.c: static_instance (§9.1 J): a vendor instance link makes the instance static."""
    t = fixture_root
    t.file(f"{U}/static-instance@.service", W)
    expect(t, {"static-instance@.service": "disabled", "static-instance@foo.service": "disabled"})
    t.link(f"{U}/static-instance@foo.service", "static-instance@.service")
    r = expect(t, {"static-instance@.service": "disabled", "static-instance@foo.service": "static"})
    assert r["static-instance@foo.service"].path == "/usr/lib/systemd/system/static-instance@.service"


def test_with_dropin(fixture_root: Tree) -> None:
    """test-install-root.c: with_dropin (§9.1 K): drop-ins in either dir add [Install] lines."""
    t = fixture_root
    graphical = "[Install]\nWantedBy=graphical.target\n"
    t.file(f"{U}/with-dropin-1.service", W).file(f"{U}/with-dropin-1.service.d/dropin.conf", graphical)
    t.file(f"{E}/with-dropin-2.service", W).file(f"{U}/with-dropin-2.service.d/dropin.conf", graphical)
    t.file(f"{U}/with-dropin-3.service", W).file(f"{E}/with-dropin-3.service.d/dropin.conf", graphical)
    t.file(f"{U}/with-dropin-4a.service", W)
    t.file(f"{E}/with-dropin-4a.service.d/dropin.conf", "[Install]\nAlso=with-dropin-4b.service\n")
    t.file(f"{U}/with-dropin-4b.service", W)
    names = ["with-dropin-1.service", "with-dropin-2.service", "with-dropin-3.service",
             "with-dropin-4a.service", "with-dropin-4b.service"]
    expect(t, {n: "disabled" for n in names})
    r = lookup(t, "with-dropin-4a.service")
    assert r.info is not None and r.info.also == ["with-dropin-4b.service"]
    for n in ("with-dropin-1", "with-dropin-3", "with-dropin-4a", "with-dropin-4b"):
        t.link(f"{E}/{MUW}/{n}.service", f"/usr/lib/systemd/system/{n}.service")
    t.link(f"{E}/{MUW}/with-dropin-2.service", "/etc/systemd/system/with-dropin-2.service")
    for n in ("with-dropin-1", "with-dropin-2", "with-dropin-3"):
        t.link(f"{E}/graphical.target.wants/{n}.service", f"/usr/lib/systemd/system/{n}.service")
    expect(t, {n: "enabled" for n in names})


def test_with_dropin_template(fixture_root: Tree) -> None:
    """test-install-root.c: with_dropin_template (§9.1 L): template and instance drop-ins."""
    t = fixture_root
    graphical = "[Install]\nWantedBy=graphical.target\n"
    t.file(f"{U}/with-dropin-1@.service", W).file(f"{U}/with-dropin-1@.service.d/dropin.conf", graphical)
    t.file(f"{U}/with-dropin-2@.service", W)
    t.file(f"{U}/with-dropin-2@instance-1.service.d/dropin.conf", graphical)
    t.file(f"{U}/with-dropin-3@.service", "[Install]\nDefaultInstance=instance-1\nWantedBy=multi-user.target\n")
    t.file(f"{U}/with-dropin-3@.service.d/dropin.conf", "[Install]\nDefaultInstance=instance-2\n")
    expect(t, {"with-dropin-1@.service": "disabled", "with-dropin-2@.service": "disabled",
               "with-dropin-3@.service": "disabled"})
    # The drop-in's DefaultInstance= wins over the template's.
    r = lookup(t, "with-dropin-3@.service")
    assert r.info is not None and r.info.default_instance == "instance-2"
    for name, dirs in (("with-dropin-1@instance-1", (MUW, "graphical.target.wants")),
                       ("with-dropin-2@instance-1", (MUW, "graphical.target.wants")),
                       ("with-dropin-2@instance-2", (MUW,)),
                       ("with-dropin-3@instance-2", (MUW,))):
        template = name.split("@")[0] + "@.service"
        for d in dirs:
            t.link(f"{E}/{d}/{name}.service", f"/usr/lib/systemd/system/{template}")
    expect(t, {"with-dropin-1@instance-1.service": "enabled", "with-dropin-2@instance-1.service": "enabled",
               "with-dropin-2@instance-2.service": "enabled", "with-dropin-3@instance-1.service": "disabled",
               "with-dropin-3@instance-2.service": "enabled", "with-dropin-3@.service": "enabled"})


# -- the verified --root matrix (fact sheet §3.5) -------------------------------------------------------


MATRIX = [
    # (state or errno, builder, name, path of the result)
    ("enabled", lambda t: t.file(f"{U}/x.service", W).link(f"{E}/{MUW}/x.service", f"/{U}/x.service"),
     "x.service", f"/{U}/x.service"),
    ("enabled-runtime", lambda t: t.file(f"{U}/x.service", W).link(f"{RUN}/{MUW}/x.service", f"/{U}/x.service"),
     "x.service", f"/{U}/x.service"),
    ("static", lambda t: t.file(f"{U}/x.service", "[Service]\nExecStart=/bin/true\n"), "x.service", f"/{U}/x.service"),
    ("indirect", lambda t: t.file(f"{U}/x.service", "[Install]\nAlso=y.service\n"), "x.service", f"/{U}/x.service"),
    ("alias", lambda t: t.file(f"{U}/en.service", W).link(f"{U}/al.service", "en.service"),
     "al.service", f"/{U}/en.service"),
    ("generated", lambda t: t.file("run/systemd/generator/x.service", W), "x.service",
     "/run/systemd/generator/x.service"),
    ("generated", lambda t: t.file("run/systemd/generator.early/x.service", W), "x.service",
     "/run/systemd/generator.early/x.service"),
    ("generated", lambda t: t.file("run/systemd/generator.late/x.service", W), "x.service",
     "/run/systemd/generator.late/x.service"),
    ("disabled", lambda t: t.file(f"{U}/x.service", W), "x.service", f"/{U}/x.service"),
    ("linked", lambda t: t.file("opt/x.service", W).link(f"{E}/x.service", "/opt/x.service"),
     "x.service", "/opt/x.service"),
    ("linked-runtime", lambda t: t.file("opt/x.service", W).link(f"{RUN}/x.service", "/opt/x.service"),
     "x.service", "/opt/x.service"),
    ("masked", lambda t: t.file(f"{U}/x.service", W).link(f"{E}/x.service", "/dev/null"), "x.service",
     f"/{E}/x.service"),
    ("masked", lambda t: t.file(f"{U}/x.service", W).file(f"{E}/x.service", ""), "x.service", f"/{E}/x.service"),
    ("masked-runtime", lambda t: t.file(f"{U}/x.service", W).link(f"{RUN}/x.service", "/dev/null"), "x.service",
     f"/{RUN}/x.service"),
    ("transient", lambda t: t.file("run/systemd/transient/x.service", "[Service]\nExecStart=/bin/true\n"),
     "x.service", "/run/systemd/transient/x.service"),
    ("ENOENT", lambda t: t.mkdir(U), "x.service", None),
    ("ENOLINK", lambda t: t.link(f"{U}/x.service", "gone.service"), "x.service", f"/{U}/x.service"),
    ("ENOENT", lambda t: t.link(f"{E}/x.service", "/opt/gone.service"), "x.service", "/opt/gone.service"),
    ("EXDEV", lambda t: t.file(f"{U}/en.socket", W).link(f"{U}/x.service", "en.socket"), "x.service",
     f"/{U}/x.service"),
    ("ELOOP", lambda t: t.link(f"{U}/x.service", "y.service").link(f"{U}/y.service", "x.service"), "x.service",
     f"/{U}/x.service"),
    ("EISDIR", lambda t: t.mkdir(f"{E}/x.service"), "x.service", f"/{E}/x.service"),
    ("EINVAL", lambda t: t.file(f"{U}/tm@.mount", "[Mount]\n"), "tm@.mount", "/etc/systemd/system.control/tm@.mount"),
]


@pytest.mark.parametrize(("want", "build", "name", "path"), MATRIX,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MATRIX)])
def test_matrix_row(tree: Tree, want: str, build, name: str, path: Optional[str]) -> None:
    """Fact sheet §3.5: one row of the verified --root matrix: state (or errno) and path."""
    build(tree)
    r = expect(tree, {name: want})[name]
    assert r.path == path
    if want == "ENOENT" and path is None:
        assert r.state is UnitFileState.NOT_FOUND
        assert r.error is not None and r.error.message == "No such file or directory"
    elif want.startswith("E"):
        assert r.state is UnitFileState.BAD
    if want == "ENOLINK":
        assert r.error is not None and r.error.message == "Link has been severed"


def test_fifo_named_like_a_unit_is_enotty(tree: Tree) -> None:
    """§3.2: a FIFO gives ENOTTY. Not cross-checked: with the SysV hook off systemctl blocks opening it;
    with the hook on it prints ``Failed to look up unit file state: Inappropriate ioctl for device``."""
    tree.mkdir(E)
    os.mkfifo(tree.path / E / "x.service")
    r = lookup(tree, "x.service")
    assert r.state is UnitFileState.BAD and r.error is not None
    assert (r.error.errno, r.error.message, r.path) == ("ENOTTY", "Inappropriate ioctl for device", f"/{E}/x.service")


# -- surprising cases (fact sheet §3.3, §2.3, §1.4) -------------------------------------------------------


def test_vendor_wants_link_leaves_a_unit_with_install_disabled(tree: Tree) -> None:
    """§3.3: a unit with [Install] whose only link is a vendor .wants link is disabled."""
    tree.file(f"{U}/x.service", W).link(f"{U}/{MUW}/x.service", "../x.service")
    expect(tree, {"x.service": "disabled"})


def test_manual_wants_link_enables_a_unit_without_install(tree: Tree) -> None:
    """§3.3: a unit with no [Install] but a manual /etc .wants link is enabled."""
    tree.file(f"{U}/x.service", "[Unit]\nDescription=x\n").link(f"{E}/{MUW}/x.service", f"/{U}/x.service")
    expect(tree, {"x.service": "enabled"})


def test_template_indirect_until_its_default_instance_is_linked(tree: Tree) -> None:
    """§3.3: a template is indirect when only instances are enabled, enabled once DefaultInstance is."""
    tree.file(f"{U}/t@.service", "[Install]\nWantedBy=multi-user.target\nDefaultInstance=d\n")
    tree.link(f"{E}/{MUW}/t@a.service", f"/{U}/t@.service")
    expect(tree, {"t@.service": "indirect", "t@a.service": "enabled", "t@d.service": "disabled"})
    tree.link(f"{E}/{MUW}/t@d.service", f"/{U}/t@.service")
    expect(tree, {"t@.service": "enabled", "t@d.service": "enabled"})


def test_etc_link_to_the_vendor_file_of_the_same_name_is_a_self_alias(tree: Tree) -> None:
    """§3.3: /etc/X → /usr/lib/…/X is ELOOP ("Too many levels of symbolic links"); listed as bad."""
    tree.file(f"{U}/x.service", W).link(f"{E}/x.service", f"/{U}/x.service")
    r = expect(tree, {"x.service": "ELOOP"})["x.service"]
    assert r.error is not None and r.error.message == "Too many levels of symbolic links"
    assert r.path == f"/{E}/x.service"
    assert ("x.service", "bad", "enabled") in our_list(tree.path)


def test_wants_link_counts_by_name_whatever_it_points_to(tree: Tree) -> None:
    """§3.3 [V]: /etc/…/multi-user.target.wants/wantsname.service → other.service enables wantsname."""
    tree.file(f"{U}/wantsname.service", W).file(f"{U}/other.service", W)
    tree.link(f"{E}/{MUW}/wantsname.service", "other.service")
    expect(tree, {"wantsname.service": "enabled", "other.service": "disabled"})


def test_vendor_instance_link_makes_the_instance_static(tree: Tree) -> None:
    """§3.3 [V]: /usr/lib/…/getty.target.wants/g@tty1.service makes g@tty1 static, g@ stays disabled."""
    tree.file(f"{U}/g@.service", "[Install]\nWantedBy=getty.target\n")
    tree.link(f"{U}/getty.target.wants/g@tty1.service", "../g@.service")
    expect(tree, {"g@tty1.service": "static", "g@.service": "disabled", "g@tty2.service": "disabled"})


def test_unlisted_alias_makes_its_target_indirect(tree: Tree) -> None:
    """§3.3 [V]: /etc/randomname.service → other.service makes other.service indirect."""
    tree.file(f"{U}/other.service", W).link(f"{E}/randomname.service", f"/{U}/other.service")
    expect(tree, {"other.service": "indirect", "randomname.service": "alias"})


def test_alias_listed_in_install_and_linked_in_etc_is_enabled(tree: Tree) -> None:
    """§3.3 pass 1b: an Alias= link in /etc enables the unit; the same link in /usr/lib does not."""
    tree.file(f"{U}/real.service", "[Install]\nAlias=nick.service\n")
    tree.link(f"{U}/nick.service", "real.service")
    expect(tree, {"real.service": "disabled", "nick.service": "alias"})
    tree.link(f"{E}/nick.service", f"/{U}/real.service")
    expect(tree, {"real.service": "enabled", "nick.service": "alias"})


def test_linked_file_with_another_basename_is_an_alias(tree: Tree) -> None:
    """§3.3 rule 1 [V]: /etc/x.service → /opt/x.txt and /usr/lib/v.service → /opt/same.service are alias."""
    tree.file("opt/x.txt", W).file("opt/same.service", W)
    tree.link(f"{E}/x.service", "/opt/x.txt").link(f"{U}/v.service", "/opt/same.service")
    r = expect(tree, {"x.service": "alias", "v.service": "alias"})
    assert r["x.service"].path == "/opt/x.txt"


@pytest.mark.parametrize("install", ["[Install]\n", "[Install]\nWantedBy=\n", "[Install]\nDefaultInstance=x\n"],
                         ids=["empty-install", "empty-wantedby", "only-defaultinstance"])
def test_install_without_rules_is_static(tree: Tree, install: str) -> None:
    """§3.3 rule 6 [V]: an empty [Install], an empty WantedBy= or only DefaultInstance= give static."""
    tree.file(f"{U}/t@.service", install)
    expect(tree, {"t@.service": "static", "t@i.service": "static"})


def test_first_directory_wins_for_masks(tree: Tree) -> None:
    """§2.3: a mask in /etc hides a vendor file; a real /etc file hides a vendor mask; generator.early beats /etc."""
    tree.file(f"{U}/a.service", W).link(f"{E}/a.service", "/dev/null")
    tree.link(f"{U}/b.service", "/dev/null").file(f"{E}/b.service", W)
    tree.file(f"{E}/c.service", W).link("run/systemd/generator.early/c.service", "/dev/null")
    r = expect(tree, {"a.service": "masked", "b.service": "disabled", "c.service": "masked-runtime"})
    assert r["c.service"].path == "/run/systemd/generator.early/c.service"


def test_instance_file_beats_template_in_a_higher_directory(tree: Tree) -> None:
    """§2.3: the exact name is looked up in all dirs before the template."""
    tree.file(f"{E}/t@.service", W).file(f"{U}/t@a.service", "[Unit]\n")
    r = expect(tree, {"t@a.service": "static", "t@b.service": "disabled"})
    assert r["t@a.service"].path == f"/{U}/t@a.service"


def test_masking_a_template_masks_instances_without_their_own_file(tree: Tree) -> None:
    """§2.3: masking t@.service masks t@a.service; masking t@b.service masks only that instance."""
    tree.file(f"{U}/t@.service", W).file(f"{U}/t@own.service", W).link(f"{E}/t@.service", "/dev/null")
    expect(tree, {"t@.service": "masked", "t@a.service": "masked", "t@own.service": "disabled"})
    tree.rm(f"{E}/t@.service").link(f"{E}/t@b.service", "/dev/null")
    expect(tree, {"t@.service": "disabled", "t@a.service": "disabled", "t@b.service": "masked"})


def test_aliases_are_followed_by_name_from_the_top(tree: Tree) -> None:
    """§2.3: /usr/lib/b.service → a.service with /etc/a.service → /dev/null: both masked; masking the
    alias name itself masks only the alias."""
    tree.file(f"{U}/a.service", W).link(f"{U}/b.service", "a.service").link(f"{E}/a.service", "/dev/null")
    r = expect(tree, {"a.service": "masked", "b.service": "masked"})
    assert r["b.service"].path == f"/{E}/a.service"
    tree.rm(f"{E}/a.service").link(f"{E}/b.service", "/dev/null")
    expect(tree, {"a.service": "disabled", "b.service": "masked"})


def test_dev_zero_is_not_a_mask_under_root(tree: Tree) -> None:
    """§1.4: a link to /dev/zero is looked up as ROOT/dev/zero → ENOENT (a mask only live)."""
    tree.file(f"{U}/x.service", W).link(f"{E}/x.service", "/dev/zero")
    r = expect(tree, {"x.service": "ENOENT"})["x.service"]
    assert r.state is UnitFileState.BAD and r.path == "/dev/zero"


def test_global_scope_enablement(tree: Tree) -> None:
    """§1.2, §1.5: --global: .wants in /etc/systemd/user is enabled, in /run/systemd/user enabled-runtime;
    /etc/systemd/system means nothing there."""
    ul = "usr/lib/systemd/user"
    tree.file(f"{ul}/a.service", W).file(f"{ul}/b.service", W).file(f"{ul}/c.service", W)
    tree.link(f"etc/systemd/user/{MUW}/a.service", f"/{ul}/a.service")
    tree.link(f"run/systemd/user/{MUW}/b.service", f"/{ul}/b.service")
    tree.link(f"{E}/{MUW}/c.service", f"/{ul}/c.service")
    expect(tree, {"a.service": "enabled", "b.service": "enabled-runtime", "c.service": "disabled"},
           scope=Scope.GLOBAL)


@pytest.mark.parametrize("value", ["/custom", "/custom:"])
def test_systemd_unit_path_replaces_or_extends_the_search_path(tree: Tree, value: str) -> None:
    """§1.3: SYSTEMD_UNIT_PATH replaces the defaults (root-prefixed); a trailing ':' appends them."""
    tree.file("custom/c.service", W).file(f"{U}/v.service", W)
    env = {"SYSTEMD_UNIT_PATH": value}
    expect(tree, {"c.service": "disabled", "v.service": "disabled" if value.endswith(":") else "ENOENT"},
           environ=env)


def test_user_scope_with_a_root_is_refused(tree: Tree) -> None:
    """§1.4: --user --root is EINVAL."""
    from unitdoctor.lookup import LookupError_

    tree.mkdir(E)
    with pytest.raises(LookupError_) as exc:
        open_catalog(str(tree.path), Scope.USER, {})
    assert exc.value.errno == "EINVAL"


# -- rules the engine once got wrong ----------------------------------------------------------------------


def test_unbalanced_quote_keeps_the_words_before_it(tree: Tree) -> None:
    """config_parse_strv: ``WantedBy=a.target "b`` keeps a.target (extract_first_word fails later): disabled."""
    tree.file(f"{U}/x.service", '[Install]\nWantedBy=multi-user.target "broken\n')
    tree.file(f"{U}/y.service", '[Install]\nWantedBy="broken\n')
    tree.file(f"{U}/z.service", '[Install]\nWantedBy=""\n')
    expect(tree, {"x.service": "disabled", "y.service": "static", "z.service": "disabled"})


@pytest.mark.parametrize("also", ["nosuffix", "bad\\", "%Z.service"], ids=["invalid-name", "trailing-backslash",
                                                                          "bad-specifier"])
def test_a_bad_also_word_fails_the_whole_lookup(tree: Tree, also: str) -> None:
    """config_parse_also returns the error of install_info_add/extract_first_word/printf: the parse fails."""
    tree.file(f"{U}/x.service", f"[Install]\nAlso={also}\nWantedBy=multi-user.target\n")
    r = lookup(tree, "x.service")
    assert r.state is UnitFileState.BAD and r.error is not None
    cross_check(tree, ["x.service"])


def test_invalid_default_instance_fails_the_lookup(tree: Tree) -> None:
    """config_parse_default_instance: an invalid instance is a syntax error with EINVAL, so the parse fails."""
    tree.file(f"{U}/t@.service", "[Install]\nWantedBy=multi-user.target\nDefaultInstance=bad/inst\n")
    expect(tree, {"t@.service": "EINVAL", "t@x.service": "disabled"})


def test_dev_null_dropin_under_root_is_enoent(tree: Tree) -> None:
    """unit_file_search loads drop-ins unfiltered (conf_files_list flags 0) and opens each chased inside the
    root: a /dev/null drop-in means ROOT/dev/null, missing here, so the lookup fails with ENOENT."""
    tree.file(f"{U}/x.service", W).link(f"{E}/x.service.d/10-mask.conf", "/dev/null")
    r = expect(tree, {"x.service": "ENOENT"})["x.service"]
    assert r.state is UnitFileState.BAD
    # With an (empty) ROOT/dev/null the drop-in is empty and adds nothing.
    tree.file("dev/null", "")
    expect(tree, {"x.service": "disabled"})


def test_dropin_problems_fail_the_lookup(tree: Tree) -> None:
    """unit_file_load(SEARCH_DROPIN): dangling → ENOENT, a directory → EISDIR, a bad header → EBADMSG,
    invalid UTF-8 → EINVAL; an empty drop-in adds nothing; a hidden one or one not ending in .conf is skipped."""
    tree.file(f"{U}/a.service", W).link(f"{U}/a.service.d/x.conf", "/nowhere.conf")
    tree.file(f"{U}/b.service", W).mkdir(f"{U}/b.service.d/x.conf")
    tree.file(f"{U}/c.service", W).file(f"{U}/c.service.d/x.conf", "[Install\n")
    tree.file(f"{U}/d.service", W).file(f"{U}/d.service.d/x.conf", b"[Install]\nAlias=\xff\n")
    tree.file(f"{U}/e.service", "[Unit]\n").file(f"{U}/e.service.d/x.conf", "")
    tree.file(f"{U}/f.service", "[Unit]\n").file(f"{U}/f.service.d/.x.conf", W).file(f"{U}/f.service.d/x.txt", W)
    expect(tree, {"a.service": "ENOENT", "b.service": "EISDIR", "c.service": "EBADMSG", "d.service": "EINVAL",
                  "e.service": "static", "f.service": "static"})


def test_a_link_to_an_empty_file_is_followed_not_masked_under_root(tree: Tree) -> None:
    """252's null_or_empty_path_with_root stats ROOT/ROOT/path under --root: /run/x.service → /opt/empty is
    followed, and the empty /opt file is the mask, so x is masked, not masked-runtime."""
    tree.file("opt/empty.service", "").link(f"{RUN}/x.service", "/opt/empty.service")
    tree.file(f"{U}/e.service", "").link(f"{RUN}/y.service", f"/{U}/e.service")
    r = expect(tree, {"x.service": "masked", "y.service": "masked"})
    assert r["x.service"].path == "/opt/empty.service"


def test_dotdot_in_a_link_is_resolved_where_the_link_lands(tmp_path: Path) -> None:
    """unit_file_resolve_symlink chases the raw text: with lib → usr/lib, /lib/../usr/lib/… is
    /usr/usr/lib/… (missing), not the lexical /usr/lib/…: a dangling linked file, ENOENT."""
    t = Tree(tmp_path / "root")
    t.mkdir(U)
    os.symlink("usr/lib", t.path / "lib")
    t.file(f"{U}/b.service", W).link(f"{E}/a.service", "/lib/../usr/lib/systemd/system/b.service")
    # b is indirect: the /etc link's text still ends in b.service (pass 2 reads basenames only).
    r = expect(t, {"a.service": "ENOENT", "b.service": "indirect"})["a.service"]
    assert r.path == "/usr/usr/lib/systemd/system/b.service"


def test_missing_dir_then_dotdot_in_a_link_means_try_the_next_directory(tree: Tree) -> None:
    """chase_symlinks(CHASE_NONEXISTENT) refuses a missing tail with '..' (ENOENT), and unit_file_search
    treats ENOENT as "not in this dir": /etc/a.service → nowhere/../b.service yields the vendor a.service.
    That /etc link, named like the unit above its file, then enables it (find_symlinks' found_path), and
    its text ending in b.service makes b indirect."""
    tree.file(f"{U}/a.service", W).file(f"{E}/b.service", W).link(f"{E}/a.service", "nowhere/../b.service")
    r = expect(tree, {"a.service": "enabled", "b.service": "indirect"})["a.service"]
    assert r.path == f"/{U}/a.service"


def test_hidden_wants_dir_and_hidden_link_do_not_enable(tree: Tree) -> None:
    """find_symlinks walks with FOREACH_DIRENT: hidden (or backup) dir and link names are skipped."""
    tree.file(f"{U}/a.service", W).link(f"{E}/.multi-user.target.wants/a.service", f"/{U}/a.service")
    tree.file(f"{U}/.h.service", W).link(f"{E}/{MUW}/.h.service", f"/{U}/.h.service")
    expect(tree, {"a.service": "disabled", ".h.service": "disabled"})


def test_symlinked_wants_dir_does_not_enable(tree: Tree) -> None:
    """find_symlinks only enters DT_DIR entries: a .wants dir that is itself a symlink does not count."""
    tree.file(f"{U}/a.service", W).link("opt/wants/a.service", f"/{U}/a.service")
    tree.link(f"{E}/{MUW}", "../../../opt/wants")
    expect(tree, {"a.service": "disabled"})


def test_link_text_with_trailing_slash_names_no_unit(tree: Tree) -> None:
    """find_symlinks_in_directory compares GNU basename(dest): for ``a.service/`` that is empty, so an
    unlisted link spelled that way does not make a.service indirect."""
    tree.file(f"{U}/a.service", W).link(f"{E}/other.service", f"/{U}/a.service/")
    expect(tree, {"a.service": "disabled", "other.service": "alias"})


@pytest.mark.parametrize(("hops", "want"), [(31, "linked"), (32, "ELOOP")])
def test_chase_follows_at_most_31_links(tree: Tree, hops: int, want: str) -> None:
    """chase_symlinks counts down from CHASE_SYMLINKS_MAX (32) and fails at 0: 31 links at most.

    /etc/a.service → /opt/dN/a.service, where dN → … → d0 → real is a chain of ``hops`` dir links."""
    tree.file("opt/real/a.service", W)
    prev = "real"
    for i in range(hops):
        tree.link(f"opt/d{i}", prev)
        prev = f"d{i}"
    tree.link(f"{E}/a.service", f"/opt/{prev}/a.service")
    expect(tree, {"a.service": want})


def test_unreadable_preset_file_shows_n_a(tree: Tree) -> None:
    """read_presets fails on a preset "file" that is a directory; systemctl's PRESET column is n/a."""
    tree.file(f"{U}/a.service", W).mkdir("etc/systemd/system-preset/50-x.preset")
    assert ("a.service", "disabled", "n/a") in our_list(tree.path)
    cross_check(tree, ["a.service"])


def test_preset_patterns_are_glibc_fnmatch(tree: Tree) -> None:
    """fnmatch(FNM_NOESCAPE): ``[^a]`` negates like ``[!a]``; lines may end in \\r."""
    tree.file(f"{U}/a.service", W).file(f"{U}/b.service", W).file(f"{U}/c.service", W)
    tree.file("usr/lib/systemd/system-preset/50-x.preset", b"disable [^ab]*\r\nenable b*\rdisable *\n")
    listed = {u: p for u, _, p in our_list(tree.path)}
    assert listed == {"a.service": "disabled", "b.service": "enabled", "c.service": "disabled"}
    cross_check(tree, ["a.service", "b.service", "c.service"])


def test_name_specifiers_see_the_default_instance_parsed_so_far(tree: Tree) -> None:
    """install_name_printf (install-printf.c): for a template, %i is the DefaultInstance= parsed so far, so a
    drop-in's ``DefaultInstance=%i`` keeps the template's x and t@x's link still enables t@.service."""
    tree.file(f"{E}/t@.service", "[Install]\nWantedBy=multi-user.target\nDefaultInstance=x\n")
    tree.file(f"{E}/t@.service.d/10-a.conf", "[Install]\nDefaultInstance=%i\n")
    tree.link(f"{E}/{MUW}/t@x.service", f"/{E}/t@.service")
    r = expect(tree, {"t@.service": "enabled"})["t@.service"]
    assert r.info is not None and r.info.default_instance == "x"


@pytest.mark.parametrize(("value", "printed"), [
    ("%i", "x"), ("%n", "t@x.service"), ("%N", "t@x"), ("%p", "t"), ("%j", "t"), ("a%%b", "a%b"),
    ("50%", "50%"), ("%-x", "%-x"),
])
def test_install_name_printf(tree: Tree, value: str, printed: str) -> None:
    """specifier_printf (specifier.c, v252): %% is %, a stray or non-alphanumeric % stays, names use DefaultInstance."""
    info = install.InstallInfo("t@.service", default_instance="x")
    assert install.install_name_printf(info, value) == printed


def test_unknown_specifier_in_also_is_ebadslt() -> None:
    info = install.InstallInfo("t@.service")
    with pytest.raises(specifiers.SpecifierError) as exc:
        install.install_name_printf(info, "%Z")
    assert exc.value.errno == "EBADSLT"


def test_a_broken_search_dir_fails_what_reaches_it(tree: Tree) -> None:
    """install.c skips a search dir only for ENOENT, ENOTDIR and EACCES: a self-link (ELOOP) at
    /run/systemd/system fails list-unit-files, and every lookup that reaches it (search or find_symlinks),
    except a unit already enabled in /etc, which find_symlinks_in_scope returns before getting there."""
    tree.file(f"{U}/a.service", W).file(f"{E}/b.service", W).file(f"{E}/c.service", W)
    tree.link(f"{E}/{MUW}/c.service", f"/{E}/c.service").link(f"{E}/m.service", "/dev/null")
    tree.mkdir("run/systemd").link(RUN, "system")
    r = expect(tree, {"a.service": "ELOOP", "b.service": "ELOOP", "c.service": "enabled", "m.service": "masked"})
    assert r["a.service"].path == f"/{RUN}/a.service" and r["b.service"].path == f"/{RUN}"
    cat = open_catalog(str(tree.path), Scope.SYSTEM, {})
    assert install.list_unit_files(cat) == []
    failed = install.list_error(cat)
    assert failed is not None and (failed.errno, failed.message) == ("ELOOP", "Too many levels of symbolic links")
