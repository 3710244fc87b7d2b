"""``unitdoctor why`` against a real ``systemd --user``: does our offline start prediction match the manager's?

Each hypothesis example lays out a small unit tree in three layers of the user search path (fact sheet §1.2),
highest priority first: ``config`` (``$XDG_CONFIG_HOME/systemd/user``), ``runtime`` (``$XDG_RUNTIME_DIR/systemd/user``)
and ``data`` (``$XDG_DATA_HOME/systemd/user``).  It then restarts the manager (a fresh process, a fresh hash seed, an
empty ``/run``), writes the runtime layer, and for every unit in the pool compares ``predict_start`` with what
``systemctl --user start`` really did:

- we say ok ⇔ systemctl exits 0;
- otherwise the manager's message (after ``Failed to start U: ``) must be the message of one of our blockers.  With
  several broken dependencies the manager names whichever its hash table yields first (§4.3), so any of
  ``p.blockers`` may match.

The shapes follow the fact sheet: masks by symlink or empty file in every layer (§2.1-2.3), aliases followed by
target name (§2.3, §5.4), templates and instances (§2.3), drop-ins merged by basename and masked by a same-named
``/dev/null`` link (§2.4, §5.5), ``.wants/`` and ``.requires/`` links, masked ones ignored (§2.4), load errors and bad
settings (§4.1, §6), dependency pull-in (§4.3) and socket/timer triggers (§7).

The offline engine reads the runtime layer from a mirror on the host: the manager's runtime dir is only reachable as
``/proc/PID/root/run/user/0``, and ``rootfs`` resolves the ``/proc/PID/root`` magic link like any other symlink (to
``/``), so it would read the host's ``/run`` instead.  Symlinks are written so that they mean the same in the
namespace and in the mirror: into the runtime layer only relatively and from inside it, into the other layers by
absolute path (those paths are the same inside and outside the namespace).

Set ``UNITDOCTOR_LIVE_STATS=FILE`` to append one JSON line per compared start (for agreement rates), and
``UNITDOCTOR_LIVE_EXAMPLES=N`` for more examples.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from dataclasses import dataclass
from typing import Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager
from unitdoctor.transaction import StartPrediction, predict_start

from .manager import LiveManager, LiveManagerError, StartResult

pytestmark = pytest.mark.live

# -- the pool --------------------------------------------------------------------------------------------------------

LAYERS = ("config", "xdg-config", "runtime", "data", "xdg-data")
"""Search-path layers in priority order (§1.2: 5, 6, 8, 11, 12)."""
ELSEWHERE = "elsewhere"
"""Not a search dir: targets of linked unit files (§5.4)."""

SERVICES = tuple(f"{c}.service" for c in "abcdefmx")
TEMPLATE = "t@.service"
INSTANCES = ("t@1.service", "t@2.service")
SOCKET, SOCKET_SERVICE = "s.socket", "s.service"
TIMER, TIMER_SERVICE = "r.timer", "r.service"
#: Units that take part in dependencies (as source or target).
DEP_POOL = SERVICES + INSTANCES
#: Every unit a test starts, in the order it is started; the trigger units first, before anything can make their
#: service active (``Socket service X already active, refusing.`` is runtime state, §7).
#: Not started: ``u@1.service`` (``u@.service`` -> ``t@.service``).  Once ``t@1.service`` is loaded from its own file,
#: loading ``u@1.service`` must merge the name ``t@1.service`` into a unit that is already loaded, which fails with
#: EEXIST (``merge_by_names``, load-fragment.c); which units a manager has loaded is runtime state.
START_ORDER = (SOCKET, TIMER) + DEP_POOL + (TEMPLATE,)

ONESHOT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
#: Service bodies: what goes after the [Unit] section.  §4.1, §6.1.
BODIES = {
    "regular": ONESHOT.encode(),
    "no-exec": b"[Service]\nType=oneshot\nRemainAfterExit=yes\n",  # bad-setting: no ExecStart=
    "rel-exec": b"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=bin/true\n",  # bad-setting
    "bad-specifier": b"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/echo %Z\n",  # bad-setting
    "bad-header": b"[Service\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",  # error: Bad message
    "bad-utf8": b"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\nX-Note=\xff\xfe\n",  # EINVAL
}
#: Drop-ins carrying one dependency line (DEP); a failing drop-in keeps the lines before the failure and the unit
#: still loads (§2.4, §6).
DROPINS = {
    "ok": b"[Unit]\nDEP\n",
    "dep-then-bad-header": b"[Unit]\nDEP\n[Service\nExecStart=/bin/true\n",
    "bad-exec-then-dep": b"[Service]\nExecStart=bin/true\n[Unit]\nDEP\n",
    "bad-utf8-then-dep": b"[Unit]\nDescription=\xff\nDEP\n",
}
DROPIN_KINDS = ("ok",) * 5 + tuple(k for k in DROPINS if k != "ok")
SOCKET_BODY = b"[Socket]\nListenStream=%t/s.sock\n"
TIMER_BODY = b"[Timer]\nOnActiveSec=1h\n"

#: Body kinds, weighted towards units that load.
BODY_KINDS = ("regular",) * 6 + ("absent",) * 2 + tuple(k for k in BODIES if k != "regular")
DEP_KINDS = ("Requires",) * 3 + ("Wants",) * 2 + ("BindsTo", "Requisite", "Requisite-bare", "Conflicts")
#: Extra edges: the bare Requisite= only (see ``dep_lines``).
EXTRA_KINDS = tuple(k for k in DEP_KINDS if k != "Requisite") + ("OnFailure", "PartOf", "After", "Before")
VIAS = ("fragment", "dropin", "link")
LINK_DIR = {"Requires": ".requires", "Wants": ".wants"}


# -- scenario description --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One file in a layer: ``path`` relative to the layer's unit dir.

    ``kind`` is ``"file"`` (``data`` its bytes; ``b""`` is an empty file, a mask) or ``"symlink"`` (``data`` is
    ``("/dev/null",)`` or ``(layer, name)``: a link to ``name`` in ``layer``'s unit dir, made relative or absolute
    so that it means the same inside and outside the manager's namespace).
    """

    layer: str
    path: str
    kind: str
    data: object

    def show(self) -> str:
        if self.kind == "file":
            text = self.data.decode("utf-8", "backslashreplace").replace("\n", "\\n")  # type: ignore[union-attr]
            return f"{self.layer}/{self.path} = {text!r}"
        return f"{self.layer}/{self.path} -> {'/'.join(self.data)}"  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scenario:
    nodes: tuple[Node, ...]
    heads: tuple[str, ...]
    """Chain heads, started first (after the trigger units)."""

    def order(self) -> tuple[str, ...]:
        rest = [u for u in START_ORDER if u not in self.heads]
        return tuple(rest[:2]) + self.heads + tuple(rest[2:])

    def show(self) -> str:
        order = LAYERS + (ELSEWHERE,)
        return "\n".join(n.show() for n in sorted(self.nodes, key=lambda n: (order.index(n.layer), n.path)))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A unit tree: bodies, masks, aliases, dependency chains (fragment, drop-in, link), sockets and timers."""
    files: dict[tuple[str, str], Node] = {}
    bodies: dict[str, tuple[str, str]] = {}  # name -> (layer, body kind)
    unit_lines: dict[str, list[str]] = {}

    # Fragments.
    for name in SERVICES + (TEMPLATE, SOCKET_SERVICE, TIMER_SERVICE):
        kind = draw(st.sampled_from(BODY_KINDS))
        if kind != "absent":
            bodies[name] = (draw(st.sampled_from(LAYERS)), kind)
    for name in INSTANCES:  # an instance file beats the template in any layer (§2.3)
        if draw(st.integers(0, 5)) == 0:
            bodies[name] = (draw(st.sampled_from(LAYERS)), draw(st.sampled_from(("regular", "no-exec"))))
    # Linked unit files: NAME -> ELSEWHERE/FILE, loaded under the link's name whatever FILE is called (§5.4).
    linked = {name: draw(st.sampled_from((name, name + ".txt")))
              for name in draw(st.lists(st.sampled_from(sorted(bodies)), max_size=2, unique=True))}
    # Sockets and timers trigger NAME.service, or Service=/Unit= (§7); they are started before anything else.
    for name, body, key in ((SOCKET, SOCKET_BODY, b"Service"), (TIMER, TIMER_BODY, b"Unit")):
        if draw(st.integers(0, 4)) > 0:
            layer = draw(st.sampled_from(LAYERS))
            if draw(st.integers(0, 3)) == 0:
                body += key + b"=" + draw(st.sampled_from(DEP_POOL)).encode() + b"\n"
            files[(layer, name)] = Node(layer, name, "file", body)

    # Dependency chains of depth 1-4, and a few extra edges.
    edges: list[tuple[str, str, str, str]] = []  # (source, kind, target, via)
    heads: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        depth = draw(st.integers(1, 4))
        chain = draw(st.lists(st.sampled_from(DEP_POOL), min_size=depth + 1, max_size=depth + 1, unique=True))
        if chain[0] not in heads:
            heads.append(chain[0])
        for src, dst in zip(chain, chain[1:]):
            edges.append((src, draw(st.sampled_from(DEP_KINDS)), dst, draw(st.sampled_from(VIAS))))
    if draw(st.integers(0, 3)) == 0:  # an ordering loop over two units of a chain (transaction_verify_order)
        one, two = draw(st.lists(st.sampled_from(chain), min_size=2, max_size=2, unique=True))
        edges += [(one, "After", two, "dropin"), (two, "After", one, draw(st.sampled_from(("fragment", "dropin"))))]
    for _ in range(draw(st.integers(0, 2))):
        src = draw(st.sampled_from(DEP_POOL + (TEMPLATE,)))
        dst = draw(st.sampled_from(DEP_POOL + (SOCKET, TIMER)))
        if src != dst:
            edges.append((src, draw(st.sampled_from(EXTRA_KINDS)), dst, draw(st.sampled_from(VIAS))))

    dropin_no = 10
    for src, kind, dst, via in edges:
        if via == "link" and kind not in LINK_DIR:
            via = "dropin"
        if via == "fragment" and src not in bodies:
            via = "dropin"
        if via == "fragment":
            unit_lines.setdefault(src, []).extend(dep_lines(kind, dst))
        elif via == "dropin":
            layer = draw(st.sampled_from(LAYERS))
            dropin_no += 1
            conf = f"{src}.d/{dropin_no}-dep.conf"
            lines = "\n".join(dep_lines(kind, dst)).encode()
            text = DROPINS[draw(st.sampled_from(DROPIN_KINDS))].replace(b"DEP", lines)
            files[(layer, conf)] = Node(layer, conf, "file", text)
            if draw(st.integers(0, 4)) == 0:  # a same-named mask: wins only from a higher layer (§2.4)
                mlayer = draw(st.sampled_from(LAYERS))
                if mlayer != layer:
                    files[(mlayer, conf)] = _mask_node(mlayer, conf, draw(st.booleans()))
        else:
            layer = draw(st.sampled_from(LAYERS))
            link = f"{src}{LINK_DIR[kind]}/{dst}"
            target = draw(st.sampled_from(("unit", "unit", "null", "dangling")))
            if target == "null":  # a masked link is ignored (§2.4)
                files[(layer, link)] = Node(layer, link, "symlink", ("/dev/null",))
            elif target == "unit" and dst in bodies and _can_link(layer, bodies[dst][0]):
                files[(layer, link)] = Node(layer, link, "symlink", (bodies[dst][0], dst))
            else:  # dangling, or pointing where the unit is not: systemd uses only the link's name
                files[(layer, link)] = Node(layer, link, "symlink", ("config" if layer != "runtime" else layer, dst))

    for name, (layer, kind) in bodies.items():
        lines = unit_lines.get(name, [])
        head = ("[Unit]\n" + "".join(line + "\n" for line in lines)).encode() if lines else b""
        if name in linked:
            files[(ELSEWHERE, linked[name])] = Node(ELSEWHERE, linked[name], "file", head + BODIES[kind])
            files.setdefault((layer, name), Node(layer, name, "symlink", (ELSEWHERE, linked[name])))
        else:
            files.setdefault((layer, name), Node(layer, name, "file", head + BODIES[kind]))
    if draw(st.integers(0, 7)) == 0:  # a type drop-in: applies to every service (§5.5)
        layer, kind = draw(st.sampled_from(LAYERS)), draw(st.sampled_from(("Wants", "Requires", "After")))
        conf = "service.d/50-all.conf"
        files[(layer, conf)] = Node(layer, conf, "file", f"[Unit]\n{kind}={draw(st.sampled_from(DEP_POOL))}\n".encode())

    # Aliases: b.service -> a.service (§2.3, §5.4); only where the alias name has no file in that layer.
    for _ in range(draw(st.integers(0, 3))):  # two can make a chain or a loop
        alias, real = draw(st.lists(st.sampled_from(SERVICES), min_size=2, max_size=2, unique=True))
        layer = draw(st.sampled_from(LAYERS))
        tlayer = bodies[real][0] if real in bodies else draw(st.sampled_from(LAYERS))
        if not _can_link(layer, tlayer):
            tlayer = layer
        files.setdefault((layer, alias), Node(layer, alias, "symlink", (tlayer, real)))
    lower = [n for n, (layer, _) in bodies.items() if layer not in ("config", "runtime") and n not in linked]
    if lower and draw(st.integers(0, 4)) == 0:  # a self-alias: NAME in a higher layer -> the lower NAME (§3.3)
        name = draw(st.sampled_from(sorted(lower)))
        layer = LAYERS[draw(st.integers(0, LAYERS.index(bodies[name][0]) - 1))]
        if _can_link(layer, bodies[name][0]):
            files.setdefault((layer, name), Node(layer, name, "symlink", (bodies[name][0], name)))
    if draw(st.integers(0, 4)) == 0:  # a template alias
        layer = draw(st.sampled_from(LAYERS))
        tlayer = bodies[TEMPLATE][0] if TEMPLATE in bodies and _can_link(layer, bodies[TEMPLATE][0]) else layer
        files.setdefault((layer, "u@.service"), Node(layer, "u@.service", "symlink", (tlayer, TEMPLATE)))

    # Masks: persistent or runtime, symlink or empty file, over real files in lower layers (§2.1-2.3).
    maskable = SERVICES + (TEMPLATE,) + INSTANCES + (SOCKET_SERVICE, TIMER_SERVICE)
    for name in draw(st.lists(st.sampled_from(maskable), max_size=3, unique=True)):
        layer = draw(st.sampled_from(LAYERS))
        files[(layer, name)] = _mask_node(layer, name, draw(st.booleans()))
    # A masked drop-in dir entry of a type dir is too broad for this pool; masked drop-ins are drawn above.
    return Scenario(tuple(files.values()), tuple(heads))


def dep_lines(kind: str, dst: str) -> list[str]:
    """``Requisite=`` comes with ``After=``, as systemd.unit(5) advises; ``Requisite-bare`` is one without.

    Without it the verify job and the start job run in parallel: a failed transaction can leave the unit active
    (its process was spawned before the verify job failed), and a later start of an active unit may finish at once,
    before the verify job runs (the run queue's order decides; ``transaction._anchor_fails_at_runtime``).
    """
    if kind == "Requisite":
        return [f"Requisite={dst}", f"After={dst}"]
    return ["Requisite=" + dst] if kind == "Requisite-bare" else [f"{kind}={dst}"]


def _mask_node(layer: str, path: str, empty_file: bool) -> Node:
    return Node(layer, path, "file", b"") if empty_file else Node(layer, path, "symlink", ("/dev/null",))


def _can_link(from_layer: str, to_layer: str) -> bool:
    """Into the runtime layer only from inside it (see the module docstring)."""
    return to_layer != "runtime" or from_layer == "runtime"


# -- laying it out -----------------------------------------------------------------------------------------------------


class Layout:
    """The layer dirs of one manager, and the host mirror of its runtime layer that the offline engine reads."""

    def __init__(self, m: LiveManager) -> None:
        self.m = m
        self.mirror = m.base_dir / "runtime-mirror"
        self.environ = dict(m.environ, XDG_RUNTIME_DIR=str(self.mirror))

    def dirs(self, layer: str) -> list[pathlib.Path]:
        """Where a layer's files go: both the manager's runtime dir and its mirror for ``runtime``."""
        if layer == "config":
            return [self.m.config_home / "systemd" / "user"]
        if layer == "xdg-config":
            return [self.m.config_dirs[0] / "systemd" / "user"]
        if layer == "data":
            return [self.m.data_home / "systemd" / "user"]
        if layer == "xdg-data":
            return [self.m.data_dirs[0] / "systemd" / "user"]
        if layer == ELSEWHERE:
            return [self.m.base_dir / ELSEWHERE]
        return [self.m.runtime_dir_host / "systemd" / "user", self.mirror / "systemd" / "user"]

    def link_text(self, node: Node) -> str:
        if node.data == ("/dev/null",):
            return "/dev/null"
        layer, name = node.data  # type: ignore[misc]
        if layer == "runtime":
            assert node.layer == "runtime"
            return "../" * node.path.count("/") + name
        return str(self.dirs(layer)[0] / name)

    def write(self, node: Node) -> None:
        for d in self.dirs(node.layer):
            p = d / node.path
            p.parent.mkdir(parents=True, exist_ok=True)
            if node.kind == "file":
                p.write_bytes(node.data)  # type: ignore[arg-type]
            else:
                p.symlink_to(self.link_text(node))

    def reset(self, scenario: Scenario) -> None:
        """Write ``scenario`` into a fresh manager: persistent layers, restart, runtime layer, reload."""
        for d in [self.dirs(layer)[0] for layer in LAYERS + (ELSEWHERE,) if layer != "runtime"] + [self.mirror]:
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        for n in scenario.nodes:
            if n.layer != "runtime":
                self.write(n)
        _restart(self.m)
        for n in scenario.nodes:
            if n.layer == "runtime":
                self.write(n)
        self.m.daemon_reload()

    def catalog_manager(self) -> Manager:
        return Manager(open_catalog(None, Scope.USER, self.environ))


def _restart(m: LiveManager) -> None:
    """A fresh manager; one retry, as a launch can be killed by a neighbour's clean-up."""
    try:
        m.restart()
    except LiveManagerError:
        m.restart()


# -- comparing ---------------------------------------------------------------------------------------------------------


def active_units(m: LiveManager) -> frozenset[str]:
    cp = m.systemctl("list-units", "--all", "--plain", "--no-legend", "--state=active")
    return frozenset(line.split()[0] for line in cp.stdout.splitlines() if line.split())


def live_message(unit: str, res: StartResult) -> str:
    """What systemctl said after ``Failed to start U: ``, or its first line when it has no such prefix.

    ``Warning: The unit file, source configuration file or drop-ins of U changed on disk.`` lines come first
    for units that were loaded before (§4.4, §4.5) and are skipped.
    """
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("Warning: ")]
    first = lines[0] if lines else ""
    prefix = f"Failed to start {unit}: "
    return first[len(prefix):] if first.startswith(prefix) else first


def disagreement(unit: str, p: StartPrediction, res: StartResult) -> Optional[str]:
    """Why ``p`` does not match ``res``, or None if it does."""
    if p.ok:
        return None if res.rc == 0 else f"we say ok, systemd rc {res.rc}: {res.stderr.strip()!r}"
    ours = [b.message for b in p.blockers]
    if res.rc == 0:
        return f"systemd started it, we say {p.blocker.reason} {p.blocker.unit}: {ours}"  # type: ignore[union-attr]
    msg = live_message(unit, res)
    if msg not in ours:
        return f"systemd says {msg!r} (rc {res.rc}), we say {ours}"
    return None


def compare(m: LiveManager, mgr: Manager, unit: str) -> Optional[str]:
    active = active_units(m)
    p = predict_start(mgr, unit, active=active)
    res = m.start_unit(unit)
    problem = disagreement(unit, p, res)
    stats = os.environ.get("UNITDOCTOR_LIVE_STATS")
    if stats:
        with open(stats, "a") as f:
            f.write(json.dumps({"unit": unit, "ok": p.ok, "rc": res.rc, "agree": problem is None,
                                "problem": problem}) + "\n")
    return problem


def run_scenario(layout: Layout, scenario: Scenario, units: tuple[str, ...]) -> None:
    layout.reset(scenario)
    mgr = layout.catalog_manager()
    problems = [f"{u}: {why}" for u in units if (why := compare(layout.m, mgr, u)) is not None]
    assert not problems, "\n".join(problems) + "\n--- tree:\n" + scenario.show()


# -- generated scenarios -----------------------------------------------------------------------------------------------

#: 30 fixed examples per generated test (``derandomize``: the same trees on every run, so a known divergence that
#: depends on which units a manager happens to have loaded cannot make CI flaky); ``UNITDOCTOR_LIVE_EXAMPLES=N``
#: runs N random ones instead (bug hunts).
_HUNT = os.environ.get("UNITDOCTOR_LIVE_EXAMPLES")
_SETTINGS = settings(max_examples=int(_HUNT or "30"), deadline=None, derandomize=not _HUNT, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_chain_heads_agree_with_manager(live_manager: LiveManager) -> None:
    """Start only the chain heads (and the socket and timer) of each generated tree."""
    layout = Layout(live_manager)

    @_SETTINGS
    @given(scenarios())
    def check(scenario: Scenario) -> None:
        run_scenario(layout, scenario, (SOCKET, TIMER) + scenario.heads)

    check()


def test_every_unit_agrees_with_manager(live_manager: LiveManager) -> None:
    """Start every unit of the pool, heads first, in one manager per tree; passes live active units on."""
    layout = Layout(live_manager)

    @_SETTINGS
    @given(scenarios())
    def check(scenario: Scenario) -> None:
        run_scenario(layout, scenario, scenario.order())

    check()


# -- hand-written cases from the fact sheet (§2.3, §4.3) ---------------------------------------------------------------


def _tree(m: LiveManager, *nodes: Node) -> tuple[Layout, Manager]:
    layout = Layout(m)
    layout.reset(Scenario(nodes, ()))
    return layout, layout.catalog_manager()


def _file(layer: str, path: str, text: str = ONESHOT) -> Node:
    return Node(layer, path, "file", text.encode())


def _link(layer: str, path: str, to: tuple[str, ...]) -> Node:
    return Node(layer, path, "symlink", to)


def test_masked_alias_is_merged_and_message_names_real_unit(live_manager: LiveManager) -> None:
    """§2.3: data/b.service → a.service, config/a.service → /dev/null; start b names a."""
    layout, mgr = _tree(live_manager, _file("data", "a.service"), _link("data", "b.service", ("data", "a.service")),
                        _link("config", "a.service", ("/dev/null",)))
    p = predict_start(mgr, "b.service")
    assert (p.ok, p.blocker.unit, p.blocker.reason) == (False, "a.service", "masked")  # type: ignore[union-attr]
    assert p.blocker.message == "Unit a.service is masked."  # type: ignore[union-attr]
    assert live_manager.start_unit("b.service") == StartResult(
        1, "Failed to start b.service: Unit a.service is masked.\n")


def test_template_mask_covers_instance(live_manager: LiveManager) -> None:
    """§2.3: masking t@.service masks every instance without its own file."""
    layout, mgr = _tree(live_manager, _file("data", "t@.service"), _link("runtime", "t@.service", ("/dev/null",)))
    p = predict_start(mgr, "t@1.service")
    assert (p.ok, p.blocker.unit, p.blocker.message) == (  # type: ignore[union-attr]
        False, "t@1.service", "Unit t@1.service is masked.")
    assert live_manager.start_unit("t@1.service") == StartResult(
        1, "Failed to start t@1.service: Unit t@1.service is masked.\n")


def test_instance_file_beats_template_mask(live_manager: LiveManager) -> None:
    """§2.3: the exact name is looked up in all dirs before the template."""
    layout, mgr = _tree(live_manager, _file("data", "t@1.service"), _link("config", "t@.service", ("/dev/null",)))
    assert predict_start(mgr, "t@1.service").ok
    assert live_manager.start_unit("t@1.service").rc == 0
    assert not predict_start(mgr, "t@2.service").ok
    assert live_manager.start_unit("t@2.service").rc != 0


def test_wants_on_masked_unit_starts(live_manager: LiveManager) -> None:
    """§4.3: Wants= on a masked unit is skipped."""
    layout, mgr = _tree(live_manager, _file("config", "a.service", "[Unit]\nWants=m.service\n" + ONESHOT),
                        _link("config", "m.service", ("/dev/null",)))
    assert predict_start(mgr, "a.service").ok
    assert live_manager.start_unit("a.service") == StartResult(0, "")


def test_masked_slice_fails_the_service_through_its_implicit_requires(live_manager: LiveManager) -> None:
    """unit_add_slice_dependencies(): After= and Requires= on the slice (default app.slice for a user
    service, or Slice=). systemd-analyze verify's test-run manager does not show this; the live one does."""
    layout, mgr = _tree(live_manager, _file("config", "a.service"),
                        _file("config", "b.service", ONESHOT + "Slice=my.slice\n"),
                        _link("config", "app.slice", ("/dev/null",)), _link("config", "my.slice", ("/dev/null",)))
    for unit, sl in (("a.service", "app.slice"), ("b.service", "my.slice")):
        p = predict_start(mgr, unit)
        assert (p.ok, p.blocker.unit, p.blocker.reason) == (False, sl, "masked")  # type: ignore[union-attr]
        assert live_manager.start_unit(unit) == StartResult(1, f"Failed to start {unit}: Unit {sl} is masked.\n")


def test_requires_link_to_masked_unit_fails(live_manager: LiveManager) -> None:
    """§4.3: a link in a.service.requires/ pulls m in like Requires=; m is masked."""
    layout, mgr = _tree(live_manager, _file("data", "a.service"), _file("data", "m.service"),
                        _link("data", "a.service.requires/m.service", ("data", "m.service")),
                        Node("config", "m.service", "file", b""))
    p = predict_start(mgr, "a.service")
    assert (p.ok, p.blocker.unit, p.blocker.reason) == (False, "m.service", "masked")  # type: ignore[union-attr]
    assert p.blocker.chain[0].origin.path.endswith("a.service.requires/m.service")  # type: ignore[union-attr]
    assert live_manager.start_unit("a.service") == StartResult(
        1, "Failed to start a.service: Unit m.service is masked.\n")


def test_masked_requires_link_is_ignored(live_manager: LiveManager) -> None:
    """§2.4: a .requires/ entry that resolves to /dev/null is skipped, even for a unit that does not exist."""
    layout, mgr = _tree(live_manager, _file("data", "a.service"),
                        _link("runtime", "a.service.requires/x.service", ("/dev/null",)))
    assert predict_start(mgr, "a.service").ok
    assert live_manager.start_unit("a.service") == StartResult(0, "")


def test_on_failure_on_masked_unit_starts(live_manager: LiveManager) -> None:
    """§4.3: OnFailure= is not a pull-in; a starts normally."""
    layout, mgr = _tree(live_manager, _file("config", "a.service", "[Unit]\nOnFailure=m.service\n" + ONESHOT),
                        _link("data", "m.service", ("/dev/null",)))
    assert predict_start(mgr, "a.service").ok
    assert live_manager.start_unit("a.service") == StartResult(0, "")


def test_requires_missing_unit_fails_not_found(live_manager: LiveManager) -> None:
    """§4.3: Requires= on a unit that does not exist fails with rc 5."""
    layout, mgr = _tree(live_manager, _file("config", "a.service", "[Unit]\nRequires=x.service\n" + ONESHOT))
    p = predict_start(mgr, "a.service")
    assert (p.ok, p.blocker.message) == (False, "Unit x.service not found.")  # type: ignore[union-attr]
    assert live_manager.start_unit("a.service") == StartResult(
        5, "Failed to start a.service: Unit x.service not found.\n")


def test_socket_whose_service_is_masked_fails(live_manager: LiveManager) -> None:
    """§7: socket_start refuses when the service it triggers is not loaded."""
    layout, mgr = _tree(live_manager, Node("data", SOCKET, "file", SOCKET_BODY),
                        _link("config", SOCKET_SERVICE, ("/dev/null",)))
    p = predict_start(mgr, SOCKET)
    assert (p.ok, p.blocker.unit, p.blocker.reason) == (  # type: ignore[union-attr]
        False, SOCKET_SERVICE, "trigger-masked")
    res = live_manager.start_unit(SOCKET)
    assert res.rc != 0
    assert live_message(SOCKET, res) == p.blocker.message  # type: ignore[union-attr]


# -- engine rules found by the generated scenarios ---------------------------------------------------------------------


def test_alias_to_unit_that_fails_to_parse_is_not_merged(live_manager: LiveManager) -> None:
    """load-fragment.c ``unit_load_fragment``: config_parse() fails before ``merge_by_names``, so the alias keeps
    its own name; a post-parse failure (``service_verify``) names the real unit."""
    layout, mgr = _tree(live_manager,
                        Node("data", "c.service", "file", BODIES["rel-exec"]),
                        _link("data", "d.service", ("data", "c.service")),
                        Node("data", "e.service", "file", BODIES["no-exec"]),
                        _link("data", "f.service", ("data", "e.service")))
    for alias, named in (("d.service", "d.service"), ("f.service", "e.service")):
        p = predict_start(mgr, alias)
        assert p.blocker is not None
        assert p.blocker.message == f"Unit {named} has a bad unit file setting."
        assert live_message(alias, live_manager.start_unit(alias)) == p.blocker.message


def test_failing_dropin_is_skipped_from_the_failing_line(live_manager: LiveManager) -> None:
    """load-dropin.c ``unit_load_dropin`` ignores config_parse()'s result: lines before the failure apply."""
    layout, mgr = _tree(live_manager, _file("data", "a.service"), _link("config", "m.service", ("/dev/null",)),
                        Node("data", "a.service.d/10-x.conf", "file", DROPINS["dep-then-bad-header"].replace(
                            b"DEP", b"Requires=m.service")),
                        _file("data", "b.service"),
                        Node("data", "b.service.d/10-x.conf", "file", DROPINS["bad-exec-then-dep"].replace(
                            b"DEP", b"Requires=m.service")))
    p = predict_start(mgr, "a.service")
    assert (p.ok, p.blocker.message) == (False, "Unit m.service is masked.")  # type: ignore[union-attr]
    assert live_manager.start_unit("a.service").rc == 1
    assert predict_start(mgr, "b.service").ok
    # 252 also warns that b.service "changed on disk": the failed drop-in's mtime is never recorded (§4.5 d).
    assert live_manager.start_unit("b.service").rc == 0


def test_requisite_verify_job_merges_into_start_job(live_manager: LiveManager) -> None:
    """transaction.c ``transaction_merge_jobs``: verify-active + start on one unit is a start job."""
    layout, mgr = _tree(live_manager, _file("config", "a.service", "[Unit]\nRequires=b.service\nRequisite=b.service\n"
                                            + ONESHOT), _file("config", "b.service"),
                        _file("config", "c.service", "[Unit]\nRequisite=b.service\nAfter=b.service\n" + ONESHOT))
    p = predict_start(mgr, "c.service")
    assert (p.ok, p.blocker.reason) == (False, "dependency")  # type: ignore[union-attr]
    assert live_manager.start_unit("c.service") == StartResult(
        1, "A dependency job for c.service failed. See 'journalctl -xe' for details.\n")
    assert predict_start(mgr, "a.service").ok
    assert live_manager.start_unit("a.service") == StartResult(0, "")


def test_required_socket_whose_service_is_broken_fails_the_anchor(live_manager: LiveManager) -> None:
    """socket.c ``socket_start`` refuses a service that is not loaded; job.c ``job_fail_dependencies`` fails the
    job of the unit that requires the socket."""
    layout, mgr = _tree(live_manager, Node("data", SOCKET, "file", SOCKET_BODY),
                        Node("data", SOCKET_SERVICE, "file", BODIES["no-exec"]),
                        _file("config", "a.service", f"[Unit]\nRequires={SOCKET}\n" + ONESHOT),
                        _file("config", "b.service", f"[Unit]\nWants={SOCKET}\n" + ONESHOT))
    p = predict_start(mgr, "a.service")
    assert (p.ok, p.blocker.unit, p.blocker.reason) == (  # type: ignore[union-attr]
        False, SOCKET_SERVICE, "trigger-bad-setting")
    assert live_manager.start_unit("a.service") == StartResult(
        1, "A dependency job for a.service failed. See 'journalctl -xe' for details.\n")
    assert predict_start(mgr, "b.service").ok
    assert live_manager.start_unit("b.service") == StartResult(0, "")


def loaded_units(m: LiveManager) -> frozenset[str]:
    cp = m.systemctl("list-units", "--all", "--plain", "--no-legend")
    return frozenset(line.split()[0] for line in cp.stdout.splitlines() if line.split())


def test_alias_instance_of_already_loaded_instance_fails_with_file_exists(live_manager: LiveManager) -> None:
    """u@.service -> t@.service; t@1.service has its own file and is loaded first; u@1.service then fails.

    ``merge_by_names`` (load-fragment.c): t@1.service, loaded from its own file, does not carry the name u@1.service,
    and a loaded unit is never merged into (EEXIST). Which units are loaded is the running manager's state
    (``Manager(loaded=…)``, from ``list-units --all``); with nothing loaded the merge succeeds.
    """
    layout, mgr = _tree(live_manager, _file("config", "t@.service"), _file("config", "t@1.service"),
                        _link("config", "u@.service", ("config", "t@.service")))
    assert predict_start(mgr, "u@1.service").ok  # nothing loaded yet
    assert live_manager.start_unit("t@1.service").rc == 0
    res = live_manager.start_unit("u@1.service")
    message = "Unit u@1.service failed to load properly, please adjust/correct and reload service manager: File exists"
    assert live_message("u@1.service", res) == message
    loaded = Manager(mgr.cat, loaded=loaded_units(live_manager))
    p = predict_start(loaded, "u@1.service")
    assert (p.ok, p.blocker.reason, p.blocker.message) == (False, "load-error", message)  # type: ignore[union-attr]
    assert predict_start(loaded, "t@1.service").ok


@pytest.mark.parametrize("lines", [
    ("Requires=t@1.service u@1.service",), ("Requires=u@1.service t@1.service",),
    ("Requires=u@1.service", "Requires=t@1.service"), ("Requires=t@1.service", "Requires=u@1.service"),
    ("Wants=t@1.service", "Requires=u@1.service"), ("Requires=u@1.service", "After=t@1.service"),
    ("After=u@1.service", "Requires=t@1.service"), ("Requires=v.service", "Requires=u@1.service"),
])
def test_load_order_within_one_transaction_decides_merge_or_file_exists(live_manager: LiveManager,
                                                                       lines: tuple[str, ...]) -> None:
    """u@.service -> t@.service, t@1.service has its own file; x.service names both instances (v.service
    Requires=t@1.service). The manager's load queue is a stack: the last-named dependency is loaded first. If u@1 comes
    first, t@1's stub merges into it (and t@1.service's own file is never read); if t@1 comes first, it is loaded
    from its own file, and u@1 then fails with EEXIST. Nothing is loaded before (a fresh manager)."""
    body = "[Unit]\n" + "\n".join(lines) + "\n" + ONESHOT
    layout, mgr = _tree(live_manager, _file("config", "t@.service"), _file("config", "t@1.service"),
                        _link("config", "u@.service", ("config", "t@.service")), _file("config", "x.service", body),
                        _file("config", "v.service", "[Unit]\nRequires=t@1.service\n" + ONESHOT))
    p = predict_start(mgr, "x.service")
    res = live_manager.start_unit("x.service")
    assert disagreement("x.service", p, res) is None, (lines, p, res)


def test_alias_of_a_masked_unit_names_the_unit_unless_it_is_loaded(live_manager: LiveManager) -> None:
    """The blocker's name through aliases (checked on Debian's ssh.service/sshd.service in the booted container too):
    config/c.service -> data/b.service, config/d.service -> config/c.service, b masked in config. Starting an alias
    at any depth merges it into b.service and the manager names b.service; a unit that Requires= the alias too.
    When b.service is already loaded (here: a loaded unit Wants= it), the masked b.service does not carry its alias
    names, and loading c.service fails with EEXIST instead."""
    layout, mgr = _tree(live_manager, _file("data", "b.service"), _link("config", "c.service", ("data", "b.service")),
                        _link("config", "d.service", ("config", "c.service")),
                        _link("config", "b.service", ("/dev/null",)),
                        _file("config", "x.service", "[Unit]\nRequires=d.service\n" + ONESHOT),
                        _file("config", "z.service", "[Unit]\nRequires=x.service\n" + ONESHOT))
    for unit in ("b.service", "c.service", "d.service", "x.service", "z.service"):
        p = predict_start(mgr, unit)
        assert p.blocker is not None and p.blocker.message == "Unit b.service is masked."
        assert live_message(unit, live_manager.start_unit(unit)) == p.blocker.message, unit
    holder = layout.dirs("config")[0] / "w.service"
    holder.write_text("[Unit]\nWants=b.service\n[Service]\nExecStart=/bin/sleep 300\n")
    live_manager.daemon_reload()
    assert live_manager.start_unit("w.service").rc == 0
    loaded = Manager(layout.catalog_manager().cat, loaded=loaded_units(live_manager))
    for unit, named in (("c.service", "c.service"), ("x.service", "d.service")):
        p = predict_start(loaded, unit)
        assert p.blocker is not None
        assert live_message(unit, live_manager.start_unit(unit)) == p.blocker.message, unit
        assert p.blocker.message.endswith("File exists") and p.blocker.unit == named


def test_conflict_with_a_wanted_unit_drops_the_start_job(live_manager: LiveManager) -> None:
    """transaction.c ``delete_one_unmergeable_job``: of a start and a stop job for one unit, the one that does not
    matter to the anchor is deleted; only two that both matter fail the transaction."""
    layout, mgr = _tree(live_manager,
                        _file("config", "a.service", "[Unit]\nWants=b.service\nConflicts=b.service\n" + ONESHOT),
                        _file("config", "b.service"),
                        _file("config", "c.service", "[Unit]\nRequires=b.service\nConflicts=b.service\n" + ONESHOT))
    assert predict_start(mgr, "a.service").ok
    assert live_manager.start_unit("a.service") == StartResult(0, "")
    # The stop job for b propagates to c, which requires b: both conflict, and the hash seed picks the one named.
    p = predict_start(mgr, "c.service")
    assert (p.ok, sorted(b.unit for b in p.blockers)) == (False, ["b.service", "c.service"])
    assert live_message("c.service", live_manager.start_unit("c.service")) in {b.message for b in p.blockers}


# -- Requisite= without After=: the run queue decides (transaction._anchor_fails_at_runtime) -------------------------

#: Bodies of the unit that has the bare Requisite=, by how its start job ends (``transaction.completes_at_once``).
REQUISITE_ANCHORS = {
    "simple": "[Service]\nExecStart=/bin/sleep 300\n",  # Type= defaults to simple: done at fork
    "idle": "[Service]\nType=idle\nExecStart=/bin/sleep 300\n",
    "simple-pre": "[Service]\nExecStartPre=/bin/true\nExecStart=/bin/sleep 300\n",  # waits for the pre command
    "simple-post": "[Service]\nExecStart=/bin/sleep 300\nExecStartPost=/bin/true\n",
    "exec": "[Service]\nType=exec\nExecStart=/bin/sleep 300\n",  # waits for execve()
    "oneshot": ONESHOT,  # waits for the process to exit
    "target": "",  # a target is active at once
}
REQUISITE_STATS: dict[str, int] = {}


def requisite_scenarios() -> list[tuple[str, str, str, str, str]]:
    """(anchor, anchor body kind, requisite, ordering, pulled in how): every body kind with no ordering, the anchor's
    id sorting before and after the requisite's, directly and through a unit the anchor Requires=; with After= and
    Before= one id order each."""
    out = []
    for kind in sorted(REQUISITE_ANCHORS):
        suffix = ".target" if kind == "target" else ".service"
        for via in ("direct", "required"):
            for anchor, req in (("a", "y"), ("z", "b")):
                out.append((anchor + suffix, kind, req + ".service", "", via))
            for order in ("After", "Before"):
                out.append(("m" + suffix, kind, "n.service", order, via))
    return out


def _check_requisite(live_manager: LiveManager, scenario: tuple[str, str, str, str, str]) -> None:
    anchor, kind, req, order, via = scenario
    holder = anchor if via == "direct" else "h" + anchor[1:]
    lines = [f"Requisite={req}"] + ([f"{order}={req}"] if order else [])
    body = REQUISITE_ANCHORS[kind]
    nodes = [_file("config", req)]
    if via == "direct":
        nodes.append(_file("config", anchor, "[Unit]\n" + "\n".join(lines) + "\n" + body))
    else:
        nodes.append(_file("config", holder, "[Unit]\n" + "\n".join(lines) + "\n" + REQUISITE_ANCHORS["simple"]))
        nodes.append(_file("config", anchor, f"[Unit]\nRequires={holder}\n" + body))
    layout, mgr = _tree(live_manager, *nodes)
    p = predict_start(mgr, anchor, active=active_units(live_manager))
    res = live_manager.start_unit(anchor)
    problem = disagreement(anchor, p, res)
    assert problem is None, f"{problem}\n{scenario}"
    first = "anchor's id first" if anchor < req else "requisite's id first"
    key = f"{kind}, {order or 'no'} ordering, {via}, {first}: {'started' if res.rc == 0 else 'failed'}"
    REQUISITE_STATS[key] = REQUISITE_STATS.get(key, 0) + 1


def test_requisite_without_after_follows_the_run_queue(live_manager: LiveManager) -> None:
    """Requisite= on an inactive unit: the verify job fails when it runs, and fails the jobs of the units that need
    it only if they are still running then. A start job that completes inside ``unit_start`` (Type=simple at fork,
    a target) and runs first (the run queue's order: unit type, then id) is done before; one that waits for a
    process, or is ordered after the requisite, fails."""
    REQUISITE_STATS.clear()
    for scenario in requisite_scenarios():
        _check_requisite(live_manager, scenario)
    print(f"\nRequisite= run-queue comparisons with the live manager: {sum(REQUISITE_STATS.values())}")
    for what, n in sorted(REQUISITE_STATS.items()):
        print(f"  {n:4}  {what}")
    assert any(k.endswith("started") for k in REQUISITE_STATS) and any(k.endswith("failed") for k in REQUISITE_STATS)
