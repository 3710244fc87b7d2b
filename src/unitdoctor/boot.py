"""What the next boot does: the transaction systemd 252 builds for the default target, and each unit's outcome.

At boot PID 1 loads ``default.target`` (falling back to ``rescue.target`` when it cannot be loaded) and queues a
start job for it in isolate mode (main.c ``do_queue_default_job``). The transaction is the one ``systemctl start``
builds (``transaction.predict_start``'s walk): Requires=/BindsTo= pull in jobs that matter to the anchor, Wants= jobs
that do not. Rules learnt from real boots (tests/boot compares every unit's outcome with a booted container):

- A unit that cannot be loaded (masked, not found, bad setting) gets no job. If a job that matters to the anchor
  needs it, the whole transaction fails: "Failed to isolate default target", nothing starts. If only a Wants= chain
  reaches it, the job that needed it stays and its unit starts anyway (252 does not delete it).
- Ordering cycles: ``transaction_verify_order_one`` walks After= edges from each job (in hash-table order) and, on
  finding a cycle, deletes the first job walking back along the path that does not matter to the anchor, then every
  job that required it (``transaction_unlink_job``), then jobs nothing pulls in any more. Which job it deletes
  depends on where the walk entered the cycle, so every job on the cycle that does not matter is a candidate ("one
  of …"); a cycle of jobs that all matter fails the transaction.
- When the jobs run (run queue, ``job_is_runnable`` waits for jobs the unit is ordered after): a failing condition
  finishes the job as done (the unit is skipped; units requiring it still start); a failing assert fails the job;
  a missing executable fails the unit, and the job too unless ``Type=simple`` (the job of a simple service is done
  at fork). A failed job fails the waiting jobs of units that require, bind to or are requisite of it
  (``job_fail_dependencies``): dependency-failed.
- An enabled unit that no job reaches is not started.
"""

from __future__ import annotations

import enum
from typing import Optional

from . import install, names
from .manager import Dep, LoadState, Manager, Unit
from .origin import Origin
from .records import dataclass
from .transaction import REASON_BY_STATE, Blocker, Edge, _sccs, _Walk

RESCUE = "rescue.target"


class Outcome(str, enum.Enum):
    ACTIVE = "active"  # started (a oneshot without RemainAfterExit= ran and is inactive again)
    SKIPPED = "skipped"  # a Condition*= failed: the job is done, the unit stays inactive
    FAILED = "failed"  # an Assert*= failed, the executable is missing, a bad setting, the process failed
    DEPENDENCY_FAILED = "dependency-failed"  # a unit it requires failed (or its job was cancelled by that)
    NOT_STARTED = "not-started"  # no job: masked/not found and only wanted, deleted for a cycle, or not pulled in


@dataclass(frozen=True)
class UnitOutcome:
    unit: str
    outcome: Outcome
    reason: str  # machine word: masked, not-found, bad-setting, condition-failed, assert-failed, exec-failed, …
    message: str  # one line for a human
    blocker: Optional[str]  # the unit that makes it fail (itself for its own failure), or None
    chain: tuple[Edge, ...]  # how the boot reaches it, from the anchor
    #: When systemd's choice varies between boots (which job it deletes for a cycle): every unit it may pick.
    one_of: tuple[str, ...] = ()
    certain: bool = True


@dataclass(frozen=True)
class Cycle:
    """An ordering cycle among the boot's jobs; ``deleted`` is one of ``candidates`` (empty: unbreakable)."""

    units: tuple[str, ...]
    edges: tuple[Edge, ...]
    candidates: tuple[str, ...]
    deleted_with: tuple[str, ...]  # jobs deleted because they required a candidate (for the first candidate)

    @property
    def breakable(self) -> bool:
        return bool(self.candidates)


@dataclass(frozen=True)
class BootPrediction:
    requested: str  # default.target or --target
    target: str  # the unit the anchor job is for (default.target's alias target; rescue.target on fallback)
    ok: bool  # the transaction is accepted (otherwise nothing starts)
    error: Optional[Blocker]  # why the transaction (or loading the target) fails
    fallback: bool  # the requested target could not be loaded, rescue.target was used
    units: tuple[UnitOutcome, ...]
    cycles: tuple[Cycle, ...]
    #: False when the root has neither the requested target nor rescue.target (a bare collection of units, not
    #: a system that boots): then nothing is predicted.
    applicable: bool = True

    def problems(self) -> tuple[UnitOutcome, ...]:
        return tuple(u for u in self.units if u.outcome is not Outcome.ACTIVE)


# -- the single place where unit-level start checks come in ------------------------------------------------------
# Conditions, asserts and exec checks are h8-conditions' (condition.py, execute.py), applied by
# ``transaction.run_outcome``. Until that exists on main this answers "no problem known" for every unit; the boot
# model asks nothing else about them.


@dataclass(frozen=True)
class StartCheck:
    """What the start job of one loaded unit meets when it runs (``transaction.run_outcome``'s answer).

    ``effect``: ``ok``, ``skipped`` (a condition failed: the job is done, the unit stays inactive), ``assert``
    (the job fails at once), ``job-fails`` (a process fails, and the job with it), ``unit-fails`` (the job is done
    at fork, then the unit fails: dependents still start). ``certain`` is False when something could not be
    decided offline.
    """

    effect: str = "ok"
    reason: str = "started"
    detail: str = ""
    certain: bool = True


_OK = StartCheck()


def start_check(mgr: Manager, unit: Unit, *, host: bool) -> StartCheck:
    """How ``unit``'s own start goes: conditions, asserts and executables (``transaction.run_outcome``)."""
    from . import transaction

    run_outcome = getattr(transaction, "run_outcome", None)
    if run_outcome is None:  # pragma: no cover - until h8-conditions lands
        return _OK
    ro = run_outcome(mgr, unit)
    if ro is None:
        return _OK
    detail = ro.detail + (f" [{ro.origin.path}:{ro.origin.line}]" if ro.origin is not None and ro.origin.line
                          else "")
    return StartCheck(ro.effect, ro.reason if ro.effect != "ok" else "started", detail, ro.certain)


# -- the prediction ---------------------------------------------------------------------------------------------


def default_dependencies(mgr: Manager, unit: Unit) -> list[Edge]:
    """The After= edges systemd adds by itself that order a boot (DefaultDependencies=yes, system scope).

    Services, sockets, timers and paths: After=sysinit.target, services and timers also After=basic.target
    (sockets Before=sockets.target, timers Before=timers.target, paths Before=paths.target); a target is ordered
    After= every unit it Wants=/Requires= that has default dependencies itself (``target_add_default_dependencies``).
    Only edges between units that exist matter here; the caller filters by job.
    """
    out: list[Edge] = []
    if not _has_default_deps(unit):
        return out
    o = _default_origin(unit.id)
    t = unit.type
    for target in _default_after(unit):
        out.append(Edge(unit.id, "After", target, o))
    ordered_target = {"socket": "sockets.target", "timer": "timers.target", "path": "paths.target"}.get(t)
    if ordered_target:
        out.append(Edge(ordered_target, "After", unit.id, o))
    if t == "target":
        before = {mgr.load(d.target).id for d in unit.dependencies if d.kind is Dep.BEFORE}
        for d in unit.dependencies:
            if d.kind in (Dep.WANTS, Dep.REQUIRES, Dep.BINDS_TO, Dep.REQUISITE):
                other = mgr.load(d.target)
                if (other.load_state is LoadState.LOADED and _has_default_deps(other) and other.id != unit.id
                        and other.id not in before and not _after(mgr, other, unit.id)):
                    out.append(Edge(unit.id, "After", other.id, o))
    return out


def _after(mgr: Manager, other: Unit, target: str) -> bool:
    """Whether ``other`` is ordered after ``target`` by its own After= or its own default After= (then
    ``unit_add_default_target_dependency`` adds nothing, so as not to make a loop)."""
    if any(d.kind is Dep.AFTER and mgr.load(d.target).id == target for d in other.dependencies):
        return True
    return _has_default_deps(other) and target in _default_after(other)


def _default_after(unit: Unit) -> tuple[str, ...]:
    """The targets a unit with default dependencies is ordered after by its type (service.c, socket.c, timer.c,
    path.c ``*_add_default_dependencies``, system scope)."""
    t = unit.type
    if t in ("service", "timer"):
        return ("sysinit.target", "basic.target")
    if t in ("socket", "path"):
        return ("sysinit.target",)
    return ()


def _default_origin(uid: str) -> Origin:
    return Origin(f"(default dependencies of {uid})")


def _has_default_deps(unit: Unit) -> bool:
    dd = unit.last("Unit", "DefaultDependencies")
    return dd is None or dd.value.strip().lower() not in ("0", "no", "n", "false", "f", "off")


def predict_boot(mgr: Manager, target: Optional[str] = None, *, host: bool = False,
                 prefer: frozenset[str] = frozenset(),
                 states: Optional[list[install.StateResult]] = None) -> BootPrediction:
    """The outcome of every unit the next boot pulls in, anchored at ``target`` (default: default.target).

    ``host``: the root is the running machine (conditions about the host may be evaluated). ``prefer``: units
    whose job to delete when a cycle can lose one of several (what a real boot did; otherwise the first by name).
    ``states``: ``install.list_unit_files`` of the catalog when the caller has it already.
    """
    requested = target or "default.target"
    anchor_unit = mgr.load(requested)
    fallback = False
    if anchor_unit.load_state is not LoadState.LOADED:
        # manager_load_startable_unit_or_warn failed: "Falling back to rescue target".
        fallback = True
        anchor_unit = mgr.load(RESCUE)
        if anchor_unit.load_state is not LoadState.LOADED:
            if not mgr.cat.entries(requested) and not mgr.cat.entries(RESCUE):
                return BootPrediction(requested, requested, True, None, False, (), (), applicable=False)
            b = Blocker(anchor_unit.id, REASON_BY_STATE.get(anchor_unit.load_state, "load-error"),
                        "Failed to load rescue target, freezing.", ())
            return BootPrediction(requested, anchor_unit.id, False, b, True, (), ())
    walk = _Walk(mgr, frozenset())
    top = walk.start(anchor_unit.id, (), True)
    enabled = _enabled_units(mgr, states)
    if top is not None:
        # "Failed to isolate default target: …": the manager freezes; nothing is started.
        outs = [UnitOutcome(u, Outcome.NOT_STARTED, "boot-transaction-failed",
                            f"the boot transaction fails: {top.message}", top.unit, walk.chains.get(u, ()))
                for u in walk.jobs]
        return BootPrediction(requested, anchor_unit.id, False, top, fallback, tuple(outs), ())
    return _Boot(mgr, walk, anchor_unit.id, host, prefer).predict(requested, fallback, enabled)


def _enabled_units(mgr: Manager, states: Optional[list[install.StateResult]]) -> list[str]:
    """Unit files whose state is enabled or enabled-runtime (``list-unit-files`` of the catalog)."""
    return [r.name for r in (states if states is not None else install.list_unit_files(mgr.cat))
            if r.state in (install.UnitFileState.ENABLED, install.UnitFileState.ENABLED_RUNTIME)
            and names.kind_of(r.name) is not names.NameKind.TEMPLATE]


_REQUIRING = (Dep.REQUIRES, Dep.BINDS_TO, Dep.REQUISITE, Dep.SLICE)


class _Boot:
    def __init__(self, mgr: Manager, walk: _Walk, anchor: str, host: bool, prefer: frozenset[str]) -> None:
        self.prefer = prefer
        self.mgr = mgr
        self.walk = walk
        self.anchor = anchor
        self.host = host
        self.jobs = set(walk.installed())
        self.outcomes: dict[str, UnitOutcome] = {}
        self.cycles: list[Cycle] = []
        self._ordering: dict[str, list[tuple[str, str, Edge]]] = {}  # unit id -> (waits, for, edge), once each

    # Ordering among the jobs: unit → units it waits for (After= of its own, Before= of the other).
    def _order(self) -> tuple[dict[str, set[str]], dict[tuple[str, str], Edge]]:
        after: dict[str, set[str]] = {u: set() for u in self.jobs}
        origin: dict[tuple[str, str], Edge] = {}
        for uid in self.jobs:
            for a, b, e in self._ordering_of(uid):
                if a in after and b in self.jobs and a != b:
                    after[a].add(b)
                    origin.setdefault((a, b), e)
        return after, origin

    def _ordering_of(self, uid: str) -> list[tuple[str, str, Edge]]:
        """(unit that waits, unit it waits for, edge) for every ordering ``uid``'s file or defaults declare."""
        got = self._ordering.get(uid)
        if got is None:
            u = self.mgr.load(uid)
            edges = [Edge.of(d) for d in u.dependencies if d.kind in (Dep.AFTER, Dep.BEFORE)]
            edges += default_dependencies(self.mgr, u)
            got = []
            for e in edges:
                t = self.mgr.load(e.target).id
                s = self.mgr.load(e.source).id
                got.append((s, t, e) if e.dependency == "After" else (t, s, e))
            self._ordering[uid] = got
        return got

    def _break_cycles(self, deleted: dict[str, tuple[str, ...]]) -> Optional[Blocker]:
        matters = self.walk.installed()
        while True:
            after, origin = self._order()
            comps = [c for c in _sccs(after) if len(c) > 1]
            if not comps:
                return None
            comp = sorted(comps, key=lambda c: sorted(c))[0]
            units = tuple(sorted(comp))
            edges = tuple(e for (a, b), e in sorted(origin.items()) if a in comp and b in comp)
            cands = tuple(u for u in units if not matters.get(u) and u != self.anchor)
            if not cands:
                self.cycles.append(Cycle(units, edges, (), ()))
                return Blocker(units[0], "ordering-cycle", "Transaction order is cyclic. See system logs for details.",
                               edges)
            victim = next((c for c in cands if c in self.prefer), cands[0])
            gone = self._delete(victim)
            self.cycles.append(Cycle(units, edges, cands, tuple(sorted(gone - {victim}))))
            for u in sorted(gone):
                deleted[u] = cands if u == victim else (victim,)

    def _delete(self, victim: str) -> set[str]:
        """Delete ``victim``'s job, every job that required it (recursively), then jobs nothing pulls in."""
        gone = {victim}
        queue = [victim]
        while queue:
            x = queue.pop()
            for subj, obj, _m, edge in self.walk.links:
                if obj == x and subj not in gone and Dep(edge.dependency) in (Dep.REQUIRES, Dep.BINDS_TO) \
                        and subj in self.jobs:
                    gone.add(subj)
                    queue.append(subj)
        self.jobs -= gone
        # transaction_collect_garbage: a job that no remaining job pulls in goes too.
        reach = {self.anchor}
        frontier = [self.anchor]
        while frontier:
            x = frontier.pop()
            for subj, obj, _m, _e in self.walk.links:
                if subj == x and obj in self.jobs and obj not in reach:
                    reach.add(obj)
                    frontier.append(obj)
        dropped = self.jobs - reach
        self.jobs -= dropped
        return gone | dropped

    def predict(self, requested: str, fallback: bool, enabled: list[str]) -> BootPrediction:
        mgr, walk = self.mgr, self.walk
        deleted: dict[str, tuple[str, ...]] = {}
        err = self._break_cycles(deleted)
        chains = walk.chains
        if err is not None:
            outs = tuple(UnitOutcome(u, Outcome.NOT_STARTED, "boot-transaction-failed",
                                     "the boot transaction fails: ordering cycle of required jobs", err.unit,
                                     chains.get(u, ())) for u in sorted(walk.jobs))
            return BootPrediction(requested, self.anchor, False, err, fallback, outs, tuple(self.cycles))
        outcomes: dict[str, UnitOutcome] = {}
        # Units pulled in (by Wants=, or by a unit that is itself only wanted) that cannot be loaded: no job.
        for b in walk.ignored:
            if b.unit in outcomes or b.unit in self.jobs:
                continue
            oc = Outcome.FAILED if b.reason == "bad-setting" else Outcome.NOT_STARTED
            outcomes[b.unit] = UnitOutcome(b.unit, oc, b.reason, b.message, b.unit, b.chain)
        for u, victims in deleted.items():
            if victims and u == victims[0] or (len(victims) > 1 and u in victims):
                msg = "its start job is deleted to break an ordering cycle"
                outcomes[u] = UnitOutcome(u, Outcome.NOT_STARTED, "ordering-cycle", msg, u, chains.get(u, ()),
                                          one_of=victims if len(victims) > 1 else (), certain=len(victims) == 1)
            elif u not in outcomes:
                outcomes[u] = UnitOutcome(u, Outcome.NOT_STARTED, "job-deleted",
                                          f"its start job is deleted with {victims[0]}'s (ordering cycle)",
                                          victims[0], chains.get(u, ()), certain=False)
        outcomes.update(self._run())
        for u in enabled:
            uid = mgr.load(u).id
            if uid not in outcomes and uid not in self.jobs and uid not in walk.jobs:
                outcomes[uid] = UnitOutcome(uid, Outcome.NOT_STARTED, "not-pulled-in",
                                            f"enabled, but no unit the boot starts pulls it in ({u})", None, ())
        order = sorted(outcomes.values(), key=lambda o: (_RANK[o.outcome], o.unit))
        return BootPrediction(requested, self.anchor, True, None, fallback, tuple(order), tuple(self.cycles))

    def _run(self) -> dict[str, UnitOutcome]:
        """Replay the run queue: each job's own result, then failures passed to the jobs that require it."""
        mgr = self.mgr
        after, _ = self._order()
        verify = {b.unit for b, _m in self.walk.requisites if b.unit not in self.walk.jobs}
        kinds = {u: "start" for u in self.jobs if u not in verify}
        for u in verify:
            kinds[u] = "verify"
            after.setdefault(u, set())
        requirers: dict[str, list[tuple[str, Edge]]] = {u: [] for u in kinds}
        for u in kinds:
            if kinds[u] == "verify":
                continue
            for d in mgr.load(u).dependencies:
                t = mgr.load(d.target).id
                if d.kind in _REQUIRING and t in kinds and t != u:
                    requirers[t].append((u, Edge.of(d)))
        checks = {u: start_check(mgr, mgr.load(u), host=self.host) for u in kinds if kinds[u] == "start"}
        # unit_verify_deps() checks a BindsTo= target only when the unit is also ordered after it.
        bound: dict[str, list[str]] = {}
        binds: dict[str, list[str]] = {}
        for u in kinds:
            if kinds[u] != "start":
                continue
            deps = mgr.load(u).dependencies
            ordered = {mgr.load(d.target).id for d in deps if d.kind is Dep.AFTER} | after.get(u, set())
            binds[u] = [mgr.load(d.target).id for d in deps if d.kind is Dep.BINDS_TO]
            bound[u] = [x for x in binds[u] if x in ordered]
        refused = dict(self.walk.refused_starts())
        state = {u: "waiting" for u in kinds}
        settled: list[str] = []  # jobs that finished (done or failed) since the run queue last looked

        def settle(u: str, st: str) -> None:
            state[u] = st
            if st in ("done", "failed"):
                settled.append(u)

        result: dict[str, UnitOutcome] = {}
        chains = self.walk.chains

        def unbound(u: str) -> Optional[str]:
            """The first BindsTo= target of ``u`` that is not active at this moment, if any."""
            for x in bound.get(u, ()):
                if not (state.get(x) == "done" and x in result
                        and result[x].outcome in (Outcome.ACTIVE, Outcome.FAILED)):
                    return x
            return None

        def fail_dependents(u: str, blocker: str, kinds_: tuple[str, ...] = ()) -> None:
            for w, edge in sorted(requirers[u]):
                if kinds_ and edge.dependency not in kinds_:
                    continue
                if state[w] in ("waiting", "running-fails"):
                    settle(w, "failed")
                    result[w] = UnitOutcome(w, Outcome.DEPENDENCY_FAILED, "dependency",
                                            f"{edge.dependency}={u}, which fails", blocker, chains.get(w, ()))
                    fail_dependents(w, blocker)

        def own(u: str) -> None:
            """Run ``u``'s job now."""
            if kinds[u] == "verify":
                settle(u, "failed")
                result[u] = UnitOutcome(u, Outcome.NOT_STARTED, "requisite-inactive",
                                        "a Requisite= on a unit that is not active when its job runs", u,
                                        chains.get(u, ()))
                fail_dependents(u, u)
                return
            c = checks[u]
            if u in refused:
                # socket_start() & co. refuse when the unit they trigger is not loaded (-ENOENT): the job fails.
                b = refused[u]
                settle(u, "failed")
                result[u] = UnitOutcome(u, Outcome.FAILED, b.reason, f"the unit it triggers, {b.unit}, is not loaded",
                                        b.unit, chains.get(u, ()))
                fail_dependents(u, u)
            elif c.effect == "skipped":
                settle(u, "done")
                result[u] = UnitOutcome(u, Outcome.SKIPPED, c.reason, c.detail, u, chains.get(u, ()),
                                        certain=c.certain)
                # A start job that is done while the unit stays inactive fails the waiting jobs of the units
                # that are requisite of or bound to it (job.c: UNIT_ATOM_PROPAGATE_INACTIVE_START_AS_FAILURE).
                fail_dependents(u, u, (Dep.REQUISITE.value, Dep.BINDS_TO.value))
            elif c.effect == "assert":
                settle(u, "failed")
                result[u] = UnitOutcome(u, Outcome.FAILED, c.reason, c.detail, u, chains.get(u, ()),
                                        certain=c.certain)
                fail_dependents(u, u)
            elif unbound(u) is not None:
                # unit_start() → unit_verify_deps(): a unit bound (BindsTo=) to a unit that is not active now
                # cannot start; its job fails as a dependency (learnt from real boots: a masked or bad-setting
                # BindsTo= target, or one a condition skipped).
                x = unbound(u) or u
                settle(u, "failed")
                result[u] = UnitOutcome(u, Outcome.DEPENDENCY_FAILED, "dependency",
                                        f"BindsTo={x}, which is not active when its job runs", x, chains.get(u, ()))
                fail_dependents(u, x)
            elif c.effect in ("job-fails", "unit-fails"):
                result[u] = UnitOutcome(u, Outcome.FAILED, c.reason, c.detail, u, chains.get(u, ()),
                                        certain=c.certain)
                settle(u, "running-fails" if c.effect == "job-fails" else "done")
            else:
                settle(u, "done")
                result[u] = UnitOutcome(u, Outcome.ACTIVE, "started", "starts" if c.certain else
                                        f"starts, unless: {c.detail}", None, chains.get(u, ()), certain=c.certain)

        # The run queue: a job is runnable when no job of a unit it is ordered after is unfinished; among the
        # runnable ones the highest priority runs first. A job whose process fails later ("running-fails") finishes
        # only when nothing else can run.
        import heapq

        unfinished = {u: sum(1 for v in after.get(u, ()) if v in kinds) for u in kinds}
        waiters: dict[str, list[str]] = {u: [] for u in kinds}
        for u in kinds:
            for v in after.get(u, ()):
                if v in kinds:
                    waiters[v].append(u)
        notified: set[str] = set()
        ready = [(_run_priority(u), u) for u in kinds if unfinished[u] == 0]
        heapq.heapify(ready)
        running: list[tuple[tuple[int, str], str]] = []

        def finished(u: str) -> None:
            if u in notified:
                return
            notified.add(u)
            for w in waiters[u]:
                unfinished[w] -= 1
                if unfinished[w] == 0 and state[w] == "waiting":
                    heapq.heappush(ready, (_run_priority(w), w))

        while True:
            if ready:
                _, u = heapq.heappop(ready)
                if state[u] != "waiting":
                    continue
                own(u)
                if state[u] == "running-fails":
                    heapq.heappush(running, (_run_priority(u), u))
            elif running:
                _, u = heapq.heappop(running)
                settle(u, "failed")
                fail_dependents(u, u)
            else:
                break
            while settled:
                finished(settled.pop())
        # unit_check_binds_to(): a unit that started while a unit it is bound to is (or ends up) inactive is
        # stopped right away (learnt from real boots: BindsTo= a masked unit without After=, or a unit that a
        # condition skips or whose process fails after fork).
        changed = True
        while changed:
            changed = False
            for u, targets in binds.items():
                if u not in result or result[u].outcome is not Outcome.ACTIVE:
                    continue
                for x in targets:
                    if x in result and result[x].outcome is Outcome.ACTIVE:
                        continue
                    result[u] = UnitOutcome(u, Outcome.DEPENDENCY_FAILED, "bound-unit-inactive",
                                            f"starts, then is stopped: it is bound (BindsTo=) to {x}, which is not "
                                            "active", x, chains.get(u, ()))
                    changed = True
                    break
        return result


_RANK = {Outcome.FAILED: 0, Outcome.DEPENDENCY_FAILED: 1, Outcome.NOT_STARTED: 2, Outcome.SKIPPED: 3,
         Outcome.ACTIVE: 4}
_TYPE_ENUM = ("service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path", "slice",
              "scope")


def _run_priority(u: str) -> tuple[int, str]:
    """``compare_job_priority`` (cgroup.c): higher unit type first, then the unit id."""
    t = u.rsplit(".", 1)[-1]
    return (-_TYPE_ENUM.index(t) if t in _TYPE_ENUM else 0, u)
