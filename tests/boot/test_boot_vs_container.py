"""Boot prediction against real boots: systemd 252 as PID 1 in a container, every unit's outcome compared.

A seeded generator lays groups of units into the container's root (enabled units, masked, missing and bad
dependencies, Requires=/Requisite=/BindsTo=/Wants= with and without ordering, sockets without their service,
conditions, asserts, missing executables, ordering cycles, units enabled for a target nothing pulls in), boots it,
and compares each generated unit's real outcome (ActiveState, Result, ConditionResult/AssertResult and their
timestamps, the console's DEPEND/FAILED lines, the jobs deleted to break cycles) with ``boot.predict_boot`` on the
same files (the container's base root + the overlay, read offline). Several groups share a boot to keep CI cost low;
``UD_BOOT_ROUNDS=N`` boots N times (default 2). Where systemd's choice varies (the job it deletes to break a cycle)
the test accepts any candidate the prediction lists, and compares the rest given the one it deleted.
"""

from __future__ import annotations

import collections
import os
import random
import subprocess
import tempfile
from pathlib import Path

import pytest
from tests.boot import container

from unitdoctor.boot import Outcome, predict_boot
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import Manager

S = "/etc/systemd/system"
ROUNDS = int(os.environ.get("UD_BOOT_ROUNDS", "2"))

try:
    from unitdoctor import condition as _condition  # noqa: F401  (h8-conditions)
    HAVE_CONDITIONS = True
except ImportError:
    HAVE_CONDITIONS = False

#: Seen over all boots of the session: outcome → count (printed at the end; every category must occur).
SEEN: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _need_container():
    container.require()


def svc(unit: str = "", body: str = "ExecStart=/bin/sleep infinity", typ: str = "simple") -> str:
    return f"[Unit]\n{unit}\n[Service]\nType={typ}\n{body}\n"


class Gen:
    """Groups of unit files under one prefix each; ``files`` is what goes into the overlay."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.files: dict[str, object] = {}
        self.units: list[str] = []
        self.n = 0

    def name(self, kind: str = "service") -> str:
        self.n += 1
        u = f"t{self.n}-{self.r.randrange(100)}.{kind}"
        self.units.append(u)
        return u

    def put(self, unit: str, text: str) -> None:
        self.files[f"{S}/{unit}"] = text

    def enable(self, unit: str, where: str = "multi-user.target.wants") -> None:
        self.files[f"{S}/{where}/{unit}"] = ("symlink", f"{S}/{unit}")

    def mask(self, unit: str) -> None:
        self.files[f"{S}/{unit}"] = ("symlink", "/dev/null")

    # -- the groups ------------------------------------------------------------------------------------------

    def broken_dependency(self) -> None:
        """A wanted unit that needs a unit which is masked, missing, has a bad setting, or is fine."""
        dep = self.name()
        how = self.r.choice(["masked", "missing", "bad-setting", "ok"])
        if how == "masked":
            self.put(dep, svc())
            self.mask(dep)
        elif how == "bad-setting":
            self.put(dep, "[Service]\nType=simple\n")
        elif how == "ok":
            self.put(dep, svc())
        kind = self.r.choice(["Requires", "BindsTo", "Wants", "Requisite"])
        order = self.r.choice(["", f"After={dep}"])
        user = self.name()
        self.put(user, svc(f"{kind}={dep}\n{order}"))
        self.enable(user)

    def runtime_failure(self) -> None:
        """A unit whose own start fails or is skipped, and units that require it (ordered after it or not)."""
        base = self.name()
        how = self.r.choice(["condition", "assert", "exec-simple", "exec-exec", "socket"] if HAVE_CONDITIONS
                            else ["socket"])
        if how == "condition":
            self.put(base, svc("ConditionPathExists=/nonexistent-ud"))
        elif how == "assert":
            self.put(base, svc("AssertPathExists=/nonexistent-ud"))
        elif how == "exec-simple":
            self.put(base, svc("", "ExecStart=/nonexistent-ud/bin"))
        elif how == "exec-exec":
            self.put(base, svc("", "ExecStart=/nonexistent-ud/bin", "exec"))
        else:
            self.units.remove(base)
            base = base.replace(".service", ".socket")
            self.units.append(base)
            self.put(base, f"[Socket]\nListenStream=/run/{base}.sock\n")  # its service does not exist
        self.enable(base)
        for _ in range(self.r.randint(1, 2)):
            user = self.name()
            kind = self.r.choice(["Requires", "BindsTo", "Requisite", "Wants"])
            order = self.r.choice(["", f"After={base}", f"After={base}"])
            self.put(user, svc(f"{kind}={base}\n{order}"))
            self.enable(user)
            base = user if self.r.random() < 0.5 else base

    def requisite_inactive(self) -> None:
        dep = self.name()
        self.put(dep, svc())
        user = self.name()
        self.put(user, svc(f"Requisite={dep}\n" + self.r.choice(["", f"After={dep}"])))
        self.enable(user)

    def cycle(self) -> None:
        """An ordering cycle of 2–3 wanted units, maybe with a unit outside that requires one of them."""
        ring = [self.name() for _ in range(self.r.randint(2, 3))]
        for i, u in enumerate(ring):
            self.put(u, svc(f"After={ring[(i + 1) % len(ring)]}"))
            self.enable(u)
        if self.r.random() < 0.7:
            user = self.name()
            self.put(user, svc(f"Requires={self.r.choice(ring)}"))
            self.enable(user)

    def not_pulled_in(self) -> None:
        u = self.name()
        self.put(u, svc() + "[Install]\nWantedBy=ud-nothing.target\n")
        self.enable(u, "ud-nothing.target.wants")

    def build(self, groups: int) -> None:
        kinds = [self.broken_dependency, self.runtime_failure, self.requisite_inactive, self.cycle,
                 self.not_pulled_in]
        for k in kinds:
            k()
        for _ in range(groups - len(kinds)):
            self.r.choice(kinds)()


def real_outcome(unit: str, props: dict[str, str], boot: container.Boot, deleted: set[str]) -> str:
    """The outcome category of ``unit`` after a real boot."""
    load = props.get("LoadState", "not-found")
    if unit in deleted:
        return "not-started"
    if load in ("masked", "not-found"):
        return "not-started"
    if load == "bad-setting":
        return "failed"
    if unit in boot.console_units("depend"):
        return "dependency-failed"
    if props.get("ActiveState") == "failed" or unit in boot.console_units("failed"):
        return "failed"
    if props.get("AssertTimestampMonotonic", "0") != "0" and props.get("AssertResult") == "no":
        return "failed"
    tested = props.get("ConditionTimestampMonotonic", "0") != "0"
    if tested and props.get("ConditionResult") == "no":
        return "skipped"
    if props.get("ActiveState") in ("active", "activating", "reloading"):
        return "active"
    if tested:
        # Every generated service runs until stopped (sleep infinity): inactive after its start ran and nothing
        # failed means systemd stopped it again, which only BindsTo= on an inactive unit does here.
        return "dependency-failed"
    return "not-started"


def predicted(files: dict[str, object], prefer: frozenset[str]):
    """The prediction on the container's base root with ``files`` laid over it: a hard-linked copy of the whole
    root (exec checks need its programs, conditions its files), each overlay file replacing its link, never
    writing through it."""
    base = container.base_root()
    with tempfile.TemporaryDirectory(prefix="ud-h9-pred-") as tmp:
        root = Path(tmp) / "root"
        subprocess.run(["cp", "-al", str(base), str(root)], check=True)
        for path, content in files.items():
            p = root / path.lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.is_symlink() or p.exists():
                p.unlink()
            if isinstance(content, tuple):
                os.symlink(content[1], p)
            else:
                p.write_text(str(content))
        cat = open_catalog(str(root), Scope.SYSTEM, {})
        return predict_boot(Manager(cat), prefer=prefer)


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_boot_outcomes_match_a_real_boot(seed, capsys):
    g = Gen(seed)
    g.build(groups=12)
    b = container.boot(g.files, extra_units=tuple(g.units))
    assert b.rc == 0, b.stderr[-2000:]
    deleted = {v for v, _ in b.deleted_jobs()}
    pred = predict_boot_for(g, deleted)
    outs = {u.unit: u for u in pred.units}
    cycles_ok = all(not set(c.units) & deleted or set(c.candidates) & deleted for c in pred.cycles)
    assert cycles_ok, (deleted, [(c.units, c.candidates) for c in pred.cycles])
    for v in deleted:
        assert any(v in c.candidates for c in pred.cycles), f"systemd deleted {v}'s job; predicted cycles: " \
                                                           f"{[(c.units, c.candidates) for c in pred.cycles]}"
    mismatches = []
    for u in g.units:
        want = real_outcome(u, b.units.get(u, {}), b, deleted)
        got = outs[u].outcome.value if u in outs else Outcome.NOT_STARTED.value
        SEEN[want] += 1
        if want != got:
            mismatches.append(f"{u}: real {want} {b.units.get(u)}, predicted {got} "
                              f"({outs[u].reason if u in outs else 'absent'}); files: "
                              + repr({k: v for k, v in g.files.items() if u in k}))
    with capsys.disabled():
        print(f"\nboot seed {seed}: {len(g.units)} units compared, outcomes so far {dict(SEEN)}, "
              f"cycle jobs deleted {sorted(deleted)}" + ("" if HAVE_CONDITIONS else
                                                         "; conditions/asserts/exec: condition.py not on main yet"))
    assert not mismatches, "\n".join(mismatches)


def predict_boot_for(g: Gen, deleted: set[str]):
    return predicted(g.files, frozenset(deleted))


def test_masked_requirement_of_the_default_target_fails_the_boot():
    """A masked unit in the Requires= chain of the default target: "Failed to isolate default target", no boot."""
    g = Gen(1000)
    m = g.name()
    g.put(m, svc())
    g.mask(m)
    a = g.name()
    g.put(a, svc(f"Requires={m}"))
    g.enable(a, "multi-user.target.requires")
    pred = predicted(g.files, frozenset())
    assert not pred.ok and pred.error is not None and pred.error.unit == m
    b = container.boot(g.files, timeout=8)
    plain = b.console
    assert b.rc != 0  # the manager never reaches running
    assert "Failed to isolate default target" in plain, plain[-3000:]
    assert m in plain


def test_categories_all_seen():
    """Runs after the boots (file order): every outcome category occurred in a real boot."""
    if not SEEN:
        pytest.skip("no boot ran in this session (run the whole module)")
    need = {o.value for o in Outcome}
    if not HAVE_CONDITIONS:
        need -= {"skipped"}  # needs condition.py (h8-conditions) to be predicted; see runtime_failure()
    missing = need - set(SEEN)
    assert not missing, f"outcome categories not exercised: {missing} (seen {dict(SEEN)})"
