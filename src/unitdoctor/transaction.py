"""Would ``systemctl start UNIT`` succeed? A model of the job transaction (transaction.c, v252).

Fact sheet §4.3. A start job pulls in start jobs for Requires=/BindsTo= (their failure fails the
anchor), verify jobs for Requisite= (must be loaded, and active when the job runs unless a start
job for the same unit joins the transaction and absorbs the verify job), and start jobs
for Wants=/Upholds= whose failure is only logged. Conflicts= adds stop jobs, which never check the
load state but contradict a start job for the same unit. Ordering cycles that contain only jobs
that matter to the anchor cannot be broken. When several dependencies are broken, which one a real
manager names depends on its hash-table order; every blocker is reported, the first in file order
is the verdict's.
"""

from __future__ import annotations

from typing import Any, Optional

from . import names
from .manager import Dep, Dependency, LoadState, Manager, Unit
from .origin import Origin
from .records import dataclass, field

PULL_IN_START = (Dep.REQUIRES, Dep.BINDS_TO, Dep.SLICE)
PULL_IN_IGNORED = (Dep.WANTS, Dep.UPHOLDS)
PULL_IN_VERIFY = (Dep.REQUISITE,)

REASON_BY_STATE = {
    LoadState.MASKED: "masked",
    LoadState.NOT_FOUND: "not-found",
    LoadState.BAD_SETTING: "bad-setting",
    LoadState.ERROR: "load-error",
}


@dataclass(frozen=True)
class Edge:
    """One step of a chain: ``source`` --dependency--> ``target``, declared at ``origin``."""

    source: str
    dependency: str
    target: str
    origin: Origin

    @classmethod
    def of(cls, d: Dependency) -> Edge:
        kind = "Requires" if d.kind is Dep.SLICE else d.kind.value
        return cls(d.source, kind, d.target, d.origin)


@dataclass(frozen=True)
class Blocker:
    """A unit that makes the start job fail, why, the message systemctl prints, and how it is reached."""

    unit: str
    reason: str
    message: str
    chain: tuple[Edge, ...]
    certain: bool = True  # False: depends on runtime state (e.g. Requisite= on a unit not yet active)
    #: The line that causes it when it is a setting of the unit itself (a condition, an Exec*= line…).
    origin: Optional[Origin] = None
    #: What was found, e.g. "/etc/rc.local does not exist" or "Command /usr/sbin/nginx is not executable: …".
    detail: str = ""


@dataclass(frozen=True)
class StartPrediction:
    anchor: str
    ok: bool
    blocker: Optional[Blocker]
    blockers: tuple[Blocker, ...]
    jobs: tuple[str, ...]  # units that would get a start job
    notes: tuple[str, ...] = field(default=())
    #: When ``ok``: the first thing that still goes wrong once the job has run (the unit is skipped by a
    #: condition, or fails after a Type=simple fork), or what cannot be decided offline; else None.
    problem: Optional[Blocker] = None


@dataclass(frozen=True)
class RunOutcome:
    """What a unit's start job meets when it runs (``unit_start``: conditions, then asserts, then the
    unit type's start, here a service's processes).

    ``effect``: ``skipped`` (a condition failed; the job is done, the unit stays inactive),
    ``assert`` (the job fails at once), ``job-fails`` (a process fails and so does the job),
    ``unit-fails`` (the job is done at fork, then the unit fails), ``ok``. ``reason`` is the JSON
    reason (``condition-failed``, ``assert-failed``, ``exec-failed``, ``condition-undecidable``,
    ``assert-undecidable``, ``exec-undecidable``); ``certain`` False when something before it cannot be
    decided offline (then ``effect`` is what happens if the undecidable parts hold)."""

    effect: str
    reason: str
    detail: str
    origin: Optional[Origin]
    certain: bool = True
    result: str = ""  # the unit's Result= after a failure: exit-code, resources
    status: str = ""  # the main process's exit status after an exec failure: 203/EXEC…
    setting: str = ""  # the line that decides, as the manager's log prints it: ConditionPathExists=/x
    process: str = ""  # the failing process: "Main" (ExecStart=) or "Control" (the others)


def run_outcome(mgr: Manager, u: Unit) -> Optional[RunOutcome]:
    """The first thing that goes wrong when ``u``'s start job runs, or None; cached per manager."""
    if u.id in mgr.run_outcomes:
        return mgr.run_outcomes[u.id]
    out = _run_outcome(mgr, u)
    mgr.run_outcomes[u.id] = out
    return out


def _run_outcome(mgr: Manager, u: Unit) -> Optional[RunOutcome]:
    from . import condition

    env = mgr.condition_environment()
    undecided: Optional[RunOutcome] = None
    for kind, items in (("condition", u.conditions), ("assert", u.asserts)):
        if not items:
            continue
        v = condition.test_list(items, env)
        if v.ok is False:
            what = ", ".join(f"{c.condition.setting} ({c.why})" for c in v.culprits)
            effect = "skipped" if kind == "condition" else "assert"
            first = v.culprits[0].condition
            return RunOutcome(effect, f"{kind}-failed", what, first.origin, undecided is None,
                              setting="" if first.trigger else first.setting)
        if v.ok is None and undecided is None:
            what = ", ".join(f"{c.condition.setting} ({c.why})" for c in v.culprits)
            undecided = RunOutcome("ok", f"{kind}-undecidable", what, v.culprits[0].condition.origin, False)
    for p in mgr.exec_checker().problems(u):
        if p.effect in ("none", "ignored"):
            continue
        if not p.certain and undecided is None:
            undecided = RunOutcome("ok", "exec-undecidable", f"{p.setting}: {p.detail}", p.origin, False)
            continue
        effect = {"skipped": "skipped", "job-fails": "job-fails", "unit-fails": "unit-fails"}[p.effect]
        reason = "condition-failed" if effect == "skipped" else "exec-failed"
        return RunOutcome(effect, reason, f"{p.setting}: {p.detail}", p.origin, undecided is None, p.result,
                          p.status, p.setting, "Main" if p.key == "ExecStart" else "Control")
    return undecided


class _Walk:
    def __init__(self, mgr: Manager, active: frozenset[str]) -> None:
        self.mgr = mgr
        self.active = active
        self.jobs: dict[str, bool] = {}  # unit id -> matters to the anchor
        self.stops: dict[str, tuple[tuple[Edge, ...], bool]] = {}  # unit id -> chain, matters
        self.blockers: list[Blocker] = []
        self.ignored: list[Blocker] = []
        self.failed: dict[str, Blocker] = {}
        self.requisites: list[tuple[Blocker, bool]] = []  # verify jobs on inactive units, and if they matter
        self.anchor: Optional[str] = None
        self.refused: list[tuple[str, Blocker, bool]] = []  # start jobs socket_start() & co. refuse
        self.outcomes: dict[str, RunOutcome] = {}  # unit id -> what its start job meets (inactive units)
        self.canceled = False  # the replay ends with the anchor's job canceled (a stop job replaced it)
        #: Job links as ``job_dependency_new`` records them: (subject unit id, object unit id, matters, edge);
        #: the first chain that reached each job (for a boot's report).
        self.links: list[tuple[str, str, bool, Edge]] = []
        self.chains: dict[str, tuple[Edge, ...]] = {}

    def start(self, name: str, chain: tuple[Edge, ...], matters: bool) -> Optional[Blocker]:
        """Add a start job for ``name``; return the blocker that fails it, if any."""
        u = self.mgr.load(name)
        b = self._validate(u, chain)
        if b is not None:
            return b
        if self.anchor is None:
            self.anchor = u.id
        if chain:
            self.links.append((self.mgr.load(chain[-1].source).id, u.id, matters, chain[-1]))
        self.chains.setdefault(u.id, chain)
        if u.id in self.jobs:
            self.jobs[u.id] = self.jobs[u.id] or matters
            return self.failed.get(u.id)
        self.jobs[u.id] = matters
        if u.id not in self.active:
            refused = _trigger_failure(self.mgr, u, chain)
            if refused is not None:
                self.refused.append((u.id, refused, matters))
            outcome = run_outcome(self.mgr, u)
            if outcome is not None:
                self.outcomes[u.id] = outcome
        first: Optional[Blocker] = None
        for d in u.dependencies:
            edge = Edge.of(d)
            if d.kind in PULL_IN_START:
                sub = self.start(d.target, chain + (edge,), matters)
                if sub is not None:
                    self.blockers.append(sub) if matters else self.ignored.append(sub)
                    first = first or sub
            elif d.kind in PULL_IN_VERIFY:
                sub = self.verify(d.target, chain + (edge,), matters)
                if sub is not None:
                    self.blockers.append(sub) if matters else self.ignored.append(sub)
                    first = first or sub
            elif d.kind in PULL_IN_IGNORED:
                sub = self.start(d.target, chain + (edge,), False)
                if sub is not None and sub not in self.ignored and sub not in self.blockers:
                    self.ignored.append(sub)
            elif d.kind is Dep.CONFLICTS:
                t = self.mgr.load(d.target)
                old = self.stops.get(t.id)
                if old is None or (matters and not old[1]):
                    self.stops[t.id] = (chain + (edge,), matters)
        if first is not None:
            self.failed[u.id] = first
        return first

    def verify(self, name: str, chain: tuple[Edge, ...], matters: bool) -> Optional[Blocker]:
        """Add a verify-active job for ``name``; return the blocker that fails the transaction, if any.

        A unit that is not loaded fails the transaction at once (``bus_unit_validate_load_state``). A
        verify job on an inactive unit fails only when it runs, and only if no start job for the same
        unit joins the transaction: ``transaction_merge_jobs`` merges verify-active into start
        (``job_type_lookup_merge``, job.c). That is decided after the walk (``unmet_requisites``).
        """
        u = self.mgr.load(name)
        b = self._validate(u, chain)
        if b is not None:
            return b
        if u.id not in self.active:
            anchor = chain[0].source if chain else name
            self.requisites.append((Blocker(
                u.id, "dependency", f"A dependency job for {anchor} failed. See 'journalctl -xe' for details.",
                chain, certain=False), matters))
        return None

    def unmet_requisites(self) -> list[Blocker]:
        """Verify jobs on inactive units that no start job in the transaction absorbs, those that matter
        to the anchor first."""
        unmet = [(b, m) for b, m in self.requisites if b.unit not in self.jobs]
        return _unique([b for b, m in unmet if m] + [b for b, m in unmet if not m])

    def refused_starts(self) -> list[tuple[str, Blocker]]:
        """Start jobs that fail when they run because the unit a socket/timer/path triggers is not
        loaded, as (unit id, blocker), those that matter to the anchor first."""
        return ([(u, b) for u, b, m in self.refused if m and self.jobs.get(u)]
                + [(u, b) for u, b, m in self.refused if not (m and self.jobs.get(u))])

    def installed(self) -> dict[str, bool]:
        """The jobs left after ``transaction_merge_jobs`` and ``transaction_drop_redundant``: unit id →
        whether it matters to the anchor. A start job on an active unit is dropped unless it is the
        anchor's, a verify job on an active unit is dropped, one on an inactive unit stays unless a
        start job absorbed it."""
        out = {u: m for u, m in self.jobs.items() if u == self.anchor or u not in self.active}
        for b, m in self.requisites:
            if b.unit not in self.jobs:
                out[b.unit] = out.get(b.unit, False) or m
        return out

    def _validate(self, u: Unit, chain: tuple[Edge, ...]) -> Optional[Blocker]:
        if u.load_state in (LoadState.LOADED, LoadState.MERGED):
            return None
        reason = REASON_BY_STATE.get(u.load_state, "load-error")
        msg = u.load_error.message if u.load_error else f"Unit {u.id} is not loaded properly."
        return Blocker(u.id, reason, msg, chain)


def predict_start(mgr: Manager, name: str, *, active: frozenset[str] = frozenset()) -> StartPrediction:
    """Predict ``systemctl start name``; ``active`` lists units known to be running (live only)."""
    if names.kind_of(name) is names.NameKind.TEMPLATE:
        b = Blocker(name, "invalid-name", f"Unit name {name} is missing the instance name.", ())
        return StartPrediction(name, False, b, (b,), ())
    walk = _Walk(mgr, active)
    top = walk.start(name, (), True)
    failed = _load_order_failures(mgr, name, walk)
    if failed:
        mgr = mgr.with_load_failures(failed)
        walk = _Walk(mgr, active)
        top = walk.start(name, (), True)
    blockers = tuple(_unique(walk.blockers + ([top] if top and top not in walk.blockers else [])))
    notes: list[str] = []
    if top is None:
        conflicts = _conflicts(walk)
        if conflicts:
            blockers = tuple(conflicts)
            top = conflicts[0]
    if top is None:
        cycle = _cycle(walk)
        if cycle is not None:
            blockers = (cycle,)
            top = cycle
    problem: Optional[Blocker] = None
    if top is None and walk.anchor is not None:
        # Only an accepted transaction runs its jobs. Then a verify job on an inactive unit, the start
        # job of a socket/timer/path whose unit is not loaded, an assert or a process that fails, may
        # fail the anchor.
        unmet = walk.unmet_requisites()
        refused = walk.refused_starts()
        refused_ids = {u for u, _ in refused}
        cause = _anchor_fails_at_runtime(walk, walk.anchor, unmet, refused_ids)
        if cause is not None and (cause in refused_ids or cause in {b.unit for b in unmet}):
            runtime = _unique([b for _, b in refused] + unmet)
            top, blockers = runtime[0], tuple(runtime)
        elif cause is not None:
            top = _outcome_blocker(walk, cause)
            blockers = (top,)
        else:
            problem = _own_problem(walk)
    if top is not None:
        certain = [b for b in blockers if b.certain]
        top = certain[0] if certain else blockers[0]
    return StartPrediction(name, top is None, top, blockers, tuple(walk.jobs), tuple(notes), problem)


def _job_failed_message(unit: str, result: str) -> str:
    """What systemctl prints when a start job ends in ``failed`` (systemctl's job result wording)."""
    if result == "resources":
        return f"Job for {unit} failed because of unavailable resources or another system error."
    return f"Job for {unit} failed because the control process exited with error code."


def _outcome_blocker(walk: _Walk, cause: str) -> Blocker:
    """The blocker for a start job that fails when it runs because of ``cause``'s own outcome."""
    o = walk.outcomes[cause]
    anchor = walk.anchor
    if walk.canceled:
        return Blocker(cause, o.reason, f"Job for {anchor} canceled.", walk.chains.get(cause, ()), o.certain,
                       o.origin, o.detail)
    if cause == anchor:
        if o.effect == "assert":
            msg = f"Assertion failed on job for {anchor}."
        elif o.effect == "skipped":  # a unit bound (BindsTo= + After=) to it: see _anchor_fails_at_runtime
            msg = f"A dependency job for {anchor} failed. See 'journalctl -xe' for details."
        else:
            msg = _job_failed_message(cause, o.result)
        return Blocker(cause, o.reason, msg, (), o.certain, o.origin, o.detail)
    return Blocker(cause, o.reason, f"A dependency job for {anchor} failed. See 'journalctl -xe' for details.",
                   walk.chains.get(cause, ()), o.certain, o.origin, o.detail)


def _own_problem(walk: _Walk) -> Optional[Blocker]:
    """What still goes wrong for the anchor after a successful start job: it is skipped, its main
    process fails after the fork, or something about it cannot be decided offline."""
    anchor = walk.anchor
    assert anchor is not None
    o = walk.outcomes.get(anchor)
    if o is None:
        return None
    if o.effect == "skipped":
        # job.c's status line: the first failed condition, or "no trigger …" when only triggers failed.
        msg = (f"{anchor} was skipped because of an unmet condition check ({o.setting})." if o.setting
               else f"{anchor} was skipped because no trigger condition checks were met.")
    elif o.effect == "unit-fails":
        msg = f"{anchor}: {o.process} process exited, code=exited, status={o.status}"
    else:
        msg = o.detail
    return Blocker(anchor, o.reason, msg, (), o.certain, o.origin, o.detail)


def _load_order_failures(mgr: Manager, anchor: str, walk: _Walk) -> frozenset[str]:
    """Names that fail to load with EEXIST when ``systemctl start anchor`` makes the manager load them.

    Only where merging depends on order (``Manager.merge_partners``: a masked unit, or an instance with its own
    file, does not carry the alias names that merge into it). The manager loads the anchor, then every unit a
    loaded unit names in any dependency, from one queue that is a stack (``unit_add_to_load_queue`` prepends,
    ``manager_dispatch_load_queue`` pops the head): a unit's last-named dependency is loaded first, a name already
    queued keeps its place. A name whose unit is created as a stub and then merged into another unit's load is
    never loaded on its own; a unit loaded from its own file holds only its own names, and loading another name
    that would merge into it fails (``merge_by_names``/``unit_merge``, load-fragment.c and unit.c, v252).
    Units the running manager already holds (``Manager.loaded``) are loaded before everything else.
    """
    named = {anchor, *walk.jobs, *(d.target for u in walk.jobs for d in mgr.load(u).dependencies)}
    if not any(mgr.merge_partners(n) for n in sorted(named)):
        return frozenset()
    owner: dict[str, str] = {}  # name -> the unit (by the name it was loaded under) that holds it
    names_of: dict[str, set[str]] = {}
    done: set[str] = set()
    failed: set[str] = set()

    def load(n: str) -> list[str]:
        u = mgr.load(n)
        mine = {n, *u.names, u.id}
        if any(x != n and owner.get(x) in done and n not in names_of[owner[x]] for x in mine):
            failed.add(n)
            owner[n], names_of[n] = n, {n}
            done.add(n)
            return []
        for x in mine:
            if owner.get(x) not in done:
                owner[x] = n
        names_of[n] = mine
        done.add(n)
        return [d.target for d in u.dependencies]

    for held in sorted(mgr.loaded):
        load(held)
    stack = [anchor]
    while stack:
        n = stack.pop()
        if owner.get(n) in done:
            continue  # loaded, or merged into a unit that was
        for t in load(n):
            if t not in owner:
                owner[t] = t  # a stub in the queue
                stack.append(t)
    return frozenset(failed)


def _unique(items: list[Blocker]) -> list[Blocker]:
    """``items`` without repeats, in order, in time linear in their chains: a blocker deep in a chain is
    appended once per level, and a walk makes each edge once (a chain is compared by its edges' identity,
    never by hashing every edge again)."""
    seen: set[int] = set()
    keys: set[tuple[Any, ...]] = set()
    out: list[Blocker] = []
    for b in items:
        if id(b) in seen:
            continue
        seen.add(id(b))
        key = (b.unit, b.reason, b.message, b.certain, b.origin, b.detail, tuple(map(id, b.chain)))
        if key not in keys:
            keys.add(key)
            out.append(b)
    return out


#: A stop job pulls in stop jobs for the units that require, bind to, are requisite of or part of
#: the stopped unit (UNIT_ATOM_PROPAGATE_STOP on RequiredBy=, BoundBy=, RequisiteOf=, ConsistsOf=).
_PROPAGATE_STOP = (Dep.REQUIRES, Dep.BINDS_TO, Dep.REQUISITE, Dep.PART_OF)


def _conflicts(walk: _Walk) -> list[Blocker]:
    """Units with a start and a stop job that both matter to the anchor.

    Stop jobs come from Conflicts= and propagate to the units with a start job that require the
    stopped unit (``transaction_add_job_and_dependencies``, with ``matters``). ``transaction_merge_jobs``
    cannot merge start and stop; ``delete_one_unmergeable_job`` deletes whichever of the two does not
    matter to the anchor, and fails only if both do. Which unit systemd names first depends on its
    hash-table order, so every one is returned.
    """
    mgr = walk.mgr
    stops = dict(walk.stops)
    queue = sorted(stops)
    while queue:
        stopped = queue.pop(0)
        chain, matters = stops[stopped]
        for uid in walk.jobs:
            for d in mgr.load(uid).dependencies:
                if d.kind not in _PROPAGATE_STOP or mgr.load(d.target).id != stopped:
                    continue
                old = stops.get(uid)
                if old is None or (matters and not old[1]):
                    stops[uid] = (chain + (Edge.of(d),), matters)
                    queue.append(uid)
    return [Blocker(unit, "conflict", f"Transaction contains conflicting jobs 'stop' and 'start' for {unit}. "
                    "Probably contradicting requirement dependencies configured.", chain)
            for unit, (chain, matters) in stops.items() if matters and walk.jobs.get(unit)]


#: What a target with default dependencies is ordered after (UNIT_ATOM_ADD_DEFAULT_TARGET_DEPENDENCY_QUEUE).
_TARGET_ORDERS_AFTER = (Dep.REQUIRES, Dep.REQUISITE, Dep.WANTS, Dep.BINDS_TO, Dep.UPHOLDS)


def _default_dependencies(u: Unit) -> bool:
    dd = u.last("Unit", "DefaultDependencies")
    return dd is None or dd.value.strip().lower() not in ("0", "no", "n", "false", "f", "off")


def ordering(mgr: Manager, uid: str) -> list[tuple[Dep, str, Dependency]]:
    """(AFTER or BEFORE, other unit id, the dependency) for every ordering of ``uid``: declared, and the After= a target
    gets on what it pulls in.

    The latter is ``unit_add_default_target_dependency`` (unit.c, v252), run from the target-deps queue once
    both units are loaded: a target with DefaultDependencies=yes is ordered after each unit it Requires=,
    Requisite=, Wants=, BindsTo= or Upholds= that is loaded and has DefaultDependencies=yes, unless the target
    is already ordered before it.
    """
    u = mgr.load(uid)
    out: list[tuple[Dep, str, Dependency]] = []
    for d in u.dependencies:
        if d.kind in (Dep.AFTER, Dep.BEFORE):
            out.append((d.kind, mgr.load(d.target).id, d))
    if u.type == "target" and u.load_state is LoadState.LOADED and _default_dependencies(u):
        before = {t for k, t, _ in out if k is Dep.BEFORE}
        for d in u.dependencies:
            if d.kind not in _TARGET_ORDERS_AFTER:
                continue
            other = mgr.load(d.target)
            if (other.load_state is not LoadState.LOADED or not _default_dependencies(other)
                    or other.id in before or other.id == u.id
                    or any(x.kind is Dep.AFTER and mgr.load(x.target).id == u.id for x in other.dependencies)):
                continue
            out.append((Dep.AFTER, other.id, Dependency(Dep.AFTER, u.id, other.id,
                                                        Origin(f"(default dependencies of {u.id})"), "default")))
    return out


def _cycle(walk: _Walk) -> Optional[Blocker]:
    """An ordering cycle among the transaction's jobs made only of jobs that matter to the anchor.

    ``transaction_verify_order`` runs after ``transaction_drop_redundant``, on start and verify jobs
    alike (``_Walk.installed``); a cycle with a job that does not matter loses that job instead.
    """
    mgr = walk.mgr
    jobs = walk.installed()
    after: dict[str, set[str]] = {u: set() for u in jobs}
    origins: dict[tuple[str, str], Dependency] = {}  # an Edge is made only for a cycle's chain
    for uid in jobs:
        for kind, t, dep in ordering(mgr, uid):
            if t not in after:
                continue
            if kind is Dep.AFTER:
                after[uid].add(t)
                origins[(uid, t)] = dep
            else:
                after[t].add(uid)
                origins[(t, uid)] = dep
    for comp in _sccs(after):
        if len(comp) < 2:
            continue
        if all(jobs[u] for u in comp):
            cyc = sorted(comp)
            chain = tuple(Edge.of(d) for (a, b), d in origins.items() if a in comp and b in comp)
            return Blocker(cyc[0], "ordering-cycle", "Transaction order is cyclic. See system logs for details.",
                           chain)
    return None


def _sccs(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        # Iterative Tarjan to stay clear of the recursion limit on deep graphs.
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == node:
                        break
                out.append(comp)

    for v in graph:
        if v not in index:
            strong(v)
    return out


#: ``UnitType`` in enum order (unit-def.h): the run queue runs higher values first.
_TYPE_ENUM = ("service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path", "slice",
              "scope")
#: Dependencies whose failure fails the depending job (UNIT_ATOM_PROPAGATE_START_FAILURE on the
#: inverse RequiredBy=, BoundBy=, RequisiteOf=; a slice is required too).
_PROPAGATE_FAILURE = (Dep.REQUIRES, Dep.BINDS_TO, Dep.REQUISITE, Dep.SLICE)


def _anchor_fails_at_runtime(walk: _Walk, anchor: str, unmet: list[Blocker], refused: set[str]) -> Optional[str]:
    """The unit whose failure fails the anchor's job once the transaction's jobs run, or None.

    Failures come from verify jobs on inactive units (``unmet``), start jobs refused when they run
    (``refused``, unit ids), and what a start job meets when it runs (``walk.outcomes``: an assert
    fails it at once, a process that fails ends it failed when the process exits, a failed condition
    ends it done with the unit inactive).

    Replays the installed jobs as job.c runs them: ``transaction_drop_redundant`` keeps no start job
    for an active unit except the anchor's; the run queue pops by ``compare_job_priority`` (cgroup.c:
    higher unit type first, then unit id, as CPU weight and nice are the defaults); ``job_is_runnable``
    holds a job back while a unit it is ordered after (After=, or the other's Before=) has a job; a
    start job on an active unit finishes at once (``unit_start`` gives -EALREADY), and so does one whose
    unit becomes active inside ``unit_start`` (``completes_at_once``: a target, a Type=simple service at
    fork…; ``_done_at_fork``: any Type=idle service); on another inactive one it
    runs until its process exits, after everything runnable now; a unit bound (BindsTo=) to a unit it
    is ordered after that was skipped fails its job (``unit_start``: -ENOLINK); and
    ``job_fail_dependencies`` fails the jobs of the units that require, bind to or are requisite of a
    failed one, recursively. So an active anchor that nothing orders after is done before a failing
    verify job runs if its id sorts first, and an inactive one is still running when the failure
    arrives.
    """
    outcomes = walk.outcomes
    # An assert fails the job at once; so does a spawn that fails in the manager (EnvironmentFile=:
    # result "resources"); a process that fails, when it exits.
    failing_now = {u for u, o in outcomes.items()
                   if o.effect == "assert" or (o.effect == "job-fails" and o.result == "resources")}
    failing_later = {u for u, o in outcomes.items() if o.effect == "job-fails"} - failing_now
    skipped = {u for u, o in outcomes.items() if o.effect == "skipped"}
    if not (unmet or refused or failing_now or failing_later or skipped):
        return None
    mgr = walk.mgr
    kinds: dict[str, str] = {u: "start" for u in walk.jobs if u == anchor or u not in walk.active}
    for b in unmet:
        kinds.setdefault(b.unit, "verify")
    after: dict[str, set[str]] = {u: set() for u in kinds}
    requirers: dict[str, set[str]] = {u: set() for u in kinds}
    bound: dict[str, set[str]] = {u: set() for u in kinds}
    for u in kinds:
        for kind, t, _dep in ordering(mgr, u):
            if t in kinds and t != u:
                (after[u] if kind is Dep.AFTER else after[t]).add(t if kind is Dep.AFTER else u)
        for d in mgr.load(u).dependencies:
            t = mgr.load(d.target).id
            if t in kinds and t != u and d.kind in _PROPAGATE_FAILURE:
                requirers[t].add(u)
            if d.kind is Dep.BINDS_TO:
                bound[u].add(t)
    order = sorted(kinds, key=lambda u: (-_TYPE_ENUM.index(u.rsplit(".", 1)[-1])
                                        if u.rsplit(".", 1)[-1] in _TYPE_ENUM else 0, u))
    state = {u: "waiting" for u in kinds}
    cause: dict[str, str] = {}

    def fail(u: str, why: str) -> None:
        if state[u] in ("waiting", "running"):
            state[u] = "failed"
            cause[u] = why
            for w in sorted(requirers[u]):
                fail(w, why)

    def dispatch() -> None:
        while True:
            ready = [u for u in order if state[u] == "waiting"
                     and not any(state[v] in ("waiting", "running") for v in after[u])]
            if not ready:
                return
            u = ready[0]
            dead = [b for b in sorted(bound[u] & after[u]) if state[b] == "skipped"]
            # unit_start(): the unit's own conditions, then its asserts, then the units it is bound to,
            # then the type's start (socket_start() refusing an unloaded service…).
            if kinds[u] == "verify":
                fail(u, u)
            elif u in skipped:
                state[u] = "skipped"
            elif u in failing_now and outcomes[u].effect == "assert":
                fail(u, u)
            elif dead:
                fail(u, dead[0])
            elif u in refused or u in failing_now:
                fail(u, u)
            else:
                state[u] = ("done" if u in walk.active or completes_at_once(mgr.load(u)) or _done_at_fork(mgr, u)
                            else "running")

    def stop(u: str, why: str) -> None:
        # A stop job for u: a start job still pending for u is canceled; units that require or are
        # bound to u are stopped too (UNIT_ATOM_PROPAGATE_STOP).
        if state[u] in ("waiting", "running"):
            state[u] = "canceled"
        elif state[u] == "done":
            state[u] = "stopped"
        else:
            return
        cause[u] = why
        for w in sorted(requirers[u]):
            stop(w, why)

    def unbind() -> None:
        # BindsTo= without After= on a unit that was skipped: the unit is stopped once it is active
        # (unit_check_binds_to() runs on its state change), which cancels the jobs of units that
        # require it and are still starting.
        for u in order:
            if state[u] == "done":
                gone = [b for b in sorted(bound[u] - after[u]) if state[b] == "skipped"]
                if gone:
                    stop(u, gone[0])

    def step() -> None:
        dispatch()
        unbind()

    step()
    while state[anchor] in ("waiting", "running"):
        running = [u for u in order if state[u] == "running"]
        if not running:
            break
        u = running[0]
        if u in failing_later:
            fail(u, u)
        else:
            state[u] = "done"
        step()
    if state[anchor] == "canceled":
        walk.canceled = True
        return cause.get(anchor)
    return cause.get(anchor) if state[anchor] == "failed" else None


def _done_at_fork(mgr: Manager, uid: str) -> bool:
    """Whether a start job is done as soon as it runs: a Type=simple service with no ExecCondition=,
    ExecStartPre= or ExecStartPost= (``service_enter_start``: the job completes when the main process
    is forked, before it has done anything), or any Type=idle service."""
    u = mgr.load(uid)
    if u.type != "service" or u.load_state is not LoadState.LOADED:
        return False
    stype = Manager.service_type(u)
    if stype == "idle":
        return True  # service.c maps Type=idle's start-pre/start/start-post states to active
    if stype != "simple":
        return False
    cmds = mgr.exec_commands(u)
    return not (cmds["ExecCondition"] or cmds["ExecStartPre"] or cmds["ExecStartPost"])


#: Unit types whose start makes them active inside ``unit_start`` (target.c, slice.c, timer.c, path.c).
_ACTIVE_AT_ONCE = ("target", "slice", "timer", "path")


def completes_at_once(u: Unit) -> bool:
    """Whether a start job on inactive ``u`` finishes inside the run queue step that runs it.

    ``unit_notify`` finishes the job as soon as the unit is active. Targets, slices, timers and paths get
    there in their start function; a socket too when nothing is spawned first (``socket_enter_start_pre``:
    no ExecStartPre=, no SocketUser=/SocketGroup= chown, no ExecStartPost=); a service of Type=simple or
    idle right after fork (``service_enter_start``) unless ExecCondition=/ExecStartPre= run first or
    ExecStartPost= after. 252's Type= default is simple with ExecStart=, dbus with BusName=, else oneshot.
    """
    from .loadfragment import exec_lists

    t = u.type
    if t in _ACTIVE_AT_ONCE:
        return True
    if t not in ("service", "socket"):
        return False
    section = "Service" if t == "service" else "Socket"
    cmds = exec_lists(list(u.assignments))
    if any(cmds.get(f"Exec{k}") for k in ("Condition", "StartPre", "StartPost")):
        return False
    if t == "socket":
        chown = u.settings("Socket", "SocketUser") + u.settings("Socket", "SocketGroup")
        return not any(a.value.strip() for a in chown)
    typ = u.last(section, "Type")
    kind = typ.value.strip() if typ is not None and typ.value.strip() else None
    if kind is None:
        bus_name = u.last("Service", "BusName")
        if bus_name is not None and bus_name.value.strip():
            kind = "dbus"
        else:
            kind = "simple" if cmds.get("ExecStart") else "oneshot"
    return kind in ("simple", "idle")


def _trigger_failure(mgr: Manager, u: Unit, chain: tuple[Edge, ...]) -> Optional[Blocker]:
    """Why the start job of socket/timer/path ``u`` is refused when it runs: the unit it triggers is
    not loaded (``socket_start``, ``timer_start``, ``path_start`` return -ENOENT). systemctl says
    "Job failed" for the anchor's own job, "A dependency job for ANCHOR failed" when it is pulled in."""
    if u.type not in ("socket", "timer", "path"):
        return None
    for d in u.dependencies:
        if d.kind is Dep.TRIGGERS:
            t = mgr.load(d.target)
            if t.load_state is not LoadState.LOADED:
                reason = REASON_BY_STATE.get(t.load_state, "load-error")
                if not chain:
                    return Blocker(t.id, "trigger-" + reason, 'Job failed. See "journalctl -xe" for details.',
                                   (Edge.of(d),))
                return Blocker(t.id, "trigger-" + reason,
                               f"A dependency job for {chain[0].source} failed. See 'journalctl -xe' for details.",
                               chain + (Edge.of(d),), certain=False)
    return None
