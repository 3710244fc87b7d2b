"""``why UNIT --graph FILE`` and ``scan --graph FILE``: the dependency graph in Graphviz DOT, or SVG through ``dot``.

Nodes are units (failing ones filled red, skipped grey, the blocker outlined bold red); edges are dependencies
labelled with their type (Requires, Wants, BindsTo, Requisite; After/Before only where they make an ordering
cycle), with the file:line that declares them as the tooltip. The blocker path is drawn bold red.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Iterable, Optional

from ..boot import Outcome
from ..manager import Dep, Manager
from ..report import Report
from ..scan import ScanResult
from ..transaction import Edge

PULL = (Dep.REQUIRES, Dep.WANTS, Dep.BINDS_TO, Dep.REQUISITE, Dep.SLICE)


class GraphError(Exception):
    """The graph cannot be written (no ``dot`` for SVG, or ``dot`` failed)."""


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _where(e: Edge) -> str:
    return e.origin.path + (f":{e.origin.line}" if e.origin.line else "")


class _Dot:
    def __init__(self, title: str) -> None:
        self.title = title
        self.nodes: dict[str, dict[str, str]] = {}
        self.edges: dict[tuple[str, str, str], dict[str, str]] = {}

    def node(self, unit: str, **attrs: str) -> None:
        self.nodes.setdefault(unit, {}).update(attrs)

    def edge(self, e: Edge, **attrs: str) -> None:
        key = (e.source, e.target, e.dependency)
        a = self.edges.setdefault(key, {"label": e.dependency, "tooltip": _where(e)})
        a.update(attrs)
        self.node(e.source)
        self.node(e.target)

    def text(self) -> str:
        out = [f"digraph {_q(self.title)} {{", "  rankdir=LR;",
               '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="sans-serif", fontsize=10];',
               '  edge [fontname="sans-serif", fontsize=8];']
        for n, a in sorted(self.nodes.items()):
            attrs = ", ".join(f"{k}={_q(v)}" for k, v in sorted(a.items()))
            out.append(f"  {_q(n)}" + (f" [{attrs}]" if attrs else "") + ";")
        for (s, t, _d), a in sorted(self.edges.items()):
            attrs = ", ".join(f"{k}={_q(v)}" for k, v in sorted(a.items()))
            out.append(f"  {_q(s)} -> {_q(t)} [{attrs}];")
        out.append("}")
        return "\n".join(out) + "\n"


def _mark_blocker(g: _Dot, unit: str, chain: Iterable[Edge], why: str) -> None:
    for e in chain:
        g.edge(e, color="red", penwidth="2", fontcolor="red")
    g.node(unit, color="red", penwidth="3", fillcolor="#f4cccc", tooltip=f"blocker: {why}",
           xlabel="blocker")


def why_dot(mgr: Manager, reports: list[Report]) -> str:
    """The start transaction of each ``why`` report: the units it pulls in, the blocker's path marked."""
    g = _Dot("unitdoctor why")
    for r in reports:
        start = r.start
        g.node(start.anchor, penwidth="2")
        for uid in start.jobs:
            u = mgr.load(uid)
            for d in u.dependencies:
                if d.kind in PULL:
                    g.edge(Edge.of(d))
        for b in start.blockers:
            _mark_blocker(g, b.unit, b.chain, f"{b.reason}: {b.message}")
        if not start.ok and start.blocker is not None:
            g.node(start.anchor, fillcolor="#f4cccc", tooltip=f"cannot start: {start.blocker.message}")
    return g.text()


_FILL = {Outcome.FAILED: "#f4cccc", Outcome.DEPENDENCY_FAILED: "#fce5cd", Outcome.NOT_STARTED: "#eeeeee",
         Outcome.SKIPPED: "#d9d9d9", Outcome.ACTIVE: "#d9ead3"}


def scan_dot(mgr: Manager, result: ScanResult) -> str:
    """The boot transaction: every unit the boot pulls in with its predicted outcome; failing units, blockers
    and cycle edges marked."""
    b = result.boot
    g = _Dot(f"unitdoctor scan: boot of {b.target}")
    g.node(b.target, penwidth="2")
    units = {u.unit: u for u in b.units}
    for u in b.units:
        g.node(u.unit, fillcolor=_FILL[u.outcome], tooltip=f"{u.outcome.value}: {u.message}")
        for e in u.chain:
            g.edge(e)
    for name in list(units):
        unit = mgr.load(name)
        for d in unit.dependencies:
            if d.kind in PULL and mgr.load(d.target).id in units:
                g.edge(Edge.of(d))
    for u in b.units:
        if u.outcome in (Outcome.FAILED, Outcome.DEPENDENCY_FAILED) or (
                u.outcome is Outcome.NOT_STARTED and u.reason not in ("not-pulled-in",)):
            if u.blocker and u.blocker == u.unit:
                _mark_blocker(g, u.unit, u.chain, f"{u.reason}: {u.message}")
            elif u.blocker:
                g.node(u.blocker, color="red", penwidth="3", xlabel="blocker")
    if b.error is not None:
        _mark_blocker(g, b.error.unit, b.error.chain, f"{b.error.reason}: {b.error.message}")
        g.node(b.target, fillcolor="#f4cccc", tooltip=f"the boot fails: {b.error.message}")
    for c in b.cycles:
        for e in c.edges:
            g.edge(e, color="red", style="dashed", fontcolor="red")
    return g.text()


def write(path: str, dot_text: str, *, dot: Optional[str] = None) -> None:
    """DOT into ``path``, or SVG when ``path`` ends in ``.svg`` (needs Graphviz's ``dot``)."""
    if path.endswith(".svg"):
        exe = dot or shutil.which("dot")
        if exe is None:
            raise GraphError("SVG needs Graphviz's dot (apt-get install graphviz); write .dot instead")
        try:
            p = subprocess.run([exe, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise GraphError(f"dot failed: {e}") from None
        if p.returncode != 0:
            raise GraphError(f"dot failed: {p.stderr.decode(errors='replace').strip()[:500]}")
        data = p.stdout
    else:
        data = dot_text.encode()
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise GraphError(f"cannot write {path}: {e.strerror}") from None
