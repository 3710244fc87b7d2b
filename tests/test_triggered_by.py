"""``Manager.triggered_by``: who starts a service, answered from the trigger index without loading every trigger.

The index (``manager.TriggerHints``) only narrows which socket/timer/path units are loaded; each
answer must be the one loading *every* trigger unit of the root gives (``everything()`` below, the
rule read straight off the loaded units: their ``Triggers=`` edges, and ``Accept=yes`` sockets for
``PREFIX@.service``). Roots are generated with the cases that defeat a plain name match: aliases
and links of trigger units, ``Service=``/``Unit=`` naming an alias, drop-ins that redirect, line
continuations, masks, syntax errors, instances and templates.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitdoctor import names
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Dep, Manager

SERVICES = ("a.service", "b.service", "c-d.service", "t@.service", "t@x.service", "z-b.service")
TRIGGERS = ("a.socket", "b.socket", "a.timer", "c-d.path", "c-d.socket", "t.socket", "t@x.socket", "z.timer",
            "t@.timer")


def everything(m: Manager, name: str) -> list[tuple[str, str]]:
    """The answer from loading every socket, timer and path unit of the root."""
    key = name if names.kind_of(name) is names.NameKind.TEMPLATE else m.load(name).id
    out: list[tuple[str, str]] = []
    for n in sorted(m.cat.names()):
        if not n.endswith((".socket", ".timer", ".path")) or names.kind_of(n) in (None, names.NameKind.TEMPLATE):
            continue
        t = m.load(n)
        hows = [d for d in t.dependencies if d.kind is Dep.TRIGGERS and m.load(d.target).id == key]
        for _ in hows:
            if (n, f"{n} triggers {name}") not in out:
                out.append((n, f"{n} triggers {name}"))
        accept = t.last("Socket", "Accept") if n.endswith(".socket") else None
        if accept is not None and accept.value in ("yes", "true", "1") and names.prefix_of(n) + "@.service" == key:
            out.append((n, f"{n} (Accept=yes) starts an instance of {name} per connection"))
    # An instance of a template trigger has no file of its own: the instance rule covers it.
    for u, _ in m._instance_triggers(name):
        if (u, f"{u} triggers {name}") not in out:
            out.append((u, f"{u} triggers {name}"))
    return out


def _body(kind: str, target: str, how: str) -> str:
    section = {"socket": "Socket", "timer": "Timer", "path": "Path"}[kind]
    key = "Service" if kind == "socket" else "Unit"
    listen = {"socket": "ListenStream=/run/x\n", "timer": "OnCalendar=daily\n", "path": "PathExists=/x\n"}[kind]
    if how == "same-name":
        return f"[{section}]\n{listen}"
    if how == "explicit":
        return f"[{section}]\n{listen}{key}={target}\n"
    if how == "spaced":
        return f"[{section}]\n{listen}  {key} =  {target}  \n"
    if how == "specifier":
        return f"[{section}]\n{listen}{key}=%p-b.service\n"
    if how == "continued":
        return f"[{section}]\n{listen}{key}=\\\n{target}\n"
    if how == "wrong-section":
        return f"[Unit]\n{key}={target}\n[{section}]\n{listen}"
    if how == "accept":
        return f"[{section}]\n{listen}Accept=yes\n"
    if how == "syntax-error":
        return f"[{section}\n{key}={target}\n"
    return ""  # "empty": an empty file masks the unit


trigger_files = st.lists(st.tuples(
    st.sampled_from(TRIGGERS), st.sampled_from(SERVICES + ("alias.service", "t@y.service")),
    st.sampled_from(("same-name", "explicit", "spaced", "specifier", "continued", "wrong-section", "accept",
                     "syntax-error", "empty"))), max_size=6, unique_by=lambda x: x[0])
extras = st.lists(st.sampled_from((
    "alias-link", "socket-alias", "socket-linked", "socket-masked", "dropin-named", "dropin-type", "dropin-prefix",
    "dropin-masked", "service-masked", "service-bad")), max_size=4, unique=True)


def _write(p: pathlib.Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def build(root: pathlib.Path, files: list, extra: list) -> None:
    vendor = root / "usr/lib/systemd/system"
    etc = root / "etc/systemd/system"
    vendor.mkdir(parents=True)
    etc.mkdir(parents=True)
    for s in SERVICES:
        if s != "t@x.service":
            _write(vendor / s, "[Service]\nExecStart=/bin/true\n")
    for name, target, how in files:
        _write(vendor / name, _body(name.rsplit(".", 1)[1], target, how))
    if "alias-link" in extra:
        os.symlink("a.service", vendor / "alias.service")
    if "socket-alias" in extra:
        os.symlink("b.socket", etc / "a.socket")
        _write(vendor / "b.socket", "[Socket]\nListenStream=/run/b\n")
    if "socket-linked" in extra:
        _write(root / "opt/c-d.socket", "[Socket]\nListenStream=/run/c\nService=a.service\n")
        os.symlink("/opt/c-d.socket", etc / "c-d.socket")
    if "socket-masked" in extra:
        os.symlink("/dev/null", etc / "t.socket")
    if "dropin-named" in extra:
        _write(etc / "z.timer.d/10.conf", "[Timer]\nUnit=b.service\n")
    if "dropin-type" in extra:
        _write(etc / "socket.d/10.conf", "[Socket]\nService=c-d.service\n")
    if "dropin-prefix" in extra:
        _write(etc / "c-.path.d/10.conf", "[Path]\nUnit=alias.service\n")
    if "dropin-masked" in extra:
        (etc / "a.timer.d").mkdir(parents=True, exist_ok=True)
        os.symlink("/dev/null", etc / "a.timer.d/10.conf")
    if "service-masked" in extra:
        os.symlink("/dev/null", etc / "b.service")
    if "service-bad" in extra:
        _write(etc / "a.service", "[Service]\nExecStart=relative/path\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trigger_files, extras)
def test_triggered_by_equals_loading_every_trigger(files, extra):
    with tempfile.TemporaryDirectory(prefix="ud-trig-") as tmp:
        root = pathlib.Path(tmp)
        build(root, files, extra)
        cat = open_catalog(str(root), Scope.SYSTEM, {})
        for q in SERVICES + ("alias.service", "t@y.service", "none.service"):
            assert Manager(cat).triggered_by(q) == everything(Manager(cat), q), q


def test_same_name_and_explicit_triggers(tmp_path):
    build(tmp_path, [("a.socket", "a.service", "same-name"), ("z.timer", "alias.service", "explicit"),
                     ("t.socket", "", "accept")], ["alias-link"])
    m = Manager(open_catalog(str(tmp_path), Scope.SYSTEM, {}))
    assert m.triggered_by("a.service") == [("a.socket", "a.socket triggers a.service"),
                                           ("z.timer", "z.timer triggers a.service")]
    assert m.triggered_by("t@.service") == [("t.socket", "t.socket (Accept=yes) starts an instance of t@.service "
                                                         "per connection")]
    assert m.triggered_by("b.service") == []
