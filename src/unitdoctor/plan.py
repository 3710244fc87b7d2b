"""Fix plans: typed actions, each with its risk and its exact effect. Decides; never does.

``plan_fix(reports, catalog=…)`` turns ``why`` reports into a ``Plan``. ``--dry-run`` prints that plan and
``fix.apply`` executes the same objects (style §4.4), so nothing here touches the filesystem except to read
the root through the catalog, as ``why`` does.

The rules, in the order they are applied:

1. **Masks, every layer.** For each unit to fix, and for each unit its start job needs that is masked
   (``Requires=``/``BindsTo=``/``Requisite=`` at any depth, or the unit a socket/timer/path triggers), the
   mask is looked up by name, then by template (an instance masked through ``t@.service``), then by the
   alias target the manager merges into. Every mask from the top of the search path down to the first
   real file is removed, because the next one would win once the first is gone (fact sheet §2.3): an
   ``/etc`` mask over a ``/run`` mask needs both removed, which ``systemctl unmask`` never does. Masks
   below a real file have no effect and are left alone. A removable mask under one we do not remove
   (rule 2) is still removed: it would take over once the person has followed the advice.
2. **What we never remove** (``Advice`` instead, fact sheet §2.6, §2.8): anything under ``/usr`` or split-usr
   ``/lib`` (vendor masks: the package masked it on purpose; we offer an ``/etc`` override), generator
   output (``systemd.mask=`` on the kernel command line, or another generator: it is written again at every
   reload), portable, transient and ``SYSTEMD_UNIT_PATH`` dirs (someone else owns them), character devices,
   and, with ``--runtime-only``, persistent masks.
3. **Hidden masks.** Removing a mask can reveal the next problem (the real file of a masked dependency has
   its own masked dependency). The plan is therefore computed to a fixed point: after each round the
   catalog is re-read *as if* the planned masks were gone (``simulate``) and ``why`` runs again.
4. **Drop-in masks** (``NAME.d/X.conf`` → ``/dev/null`` or empty, §2.4) are removed only where they block:
   the mask hides a same-named drop-in in a lower directory, and without the mask the unit (or the
   dependency that fails it) loads and starts where it did not. A drop-in mask that hides nothing, or whose
   removal changes no verdict, is an admin's choice we keep.
5. **Activation.** A service that a .socket/.timer/.path triggers is started through that unit
   (fact sheet §7): the trigger is fixed like any other unit, enabled if it is ``disabled`` (the links its
   ``[Install]`` names, as ``systemctl enable`` would create them), and started instead of the service.
6. **The manager.** Live only: one ``daemon-reload`` after the file changes, then ``start`` of each unit
   (or its trigger) that the simulation says can start. Offline (``--root``) there is no manager; the
   change takes effect when that system boots.
7. **Whatever is left** (a missing unit, a syntax error, a mask we do not remove) becomes ``Advice`` with
   the finding's own text; the plan's ``outlook`` says which units will still not start.
"""

from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Union

from . import install, names
from .catalog import Catalog, DirListing, Entry, SubDir
from .checks.activation import ENABLED, conflict
from .checks.mask import Layer, MaskOwner, layers, mask_owner
from .checks.mask import is_vendor_path as is_vendor_path  # fix.py's guard asks the same rule
from .findings import Severity
from .manager import LoadState, Manager, is_null
from .records import StrEnum
from .report import Report, why
from .sources import EvidenceSources
from .transaction import Blocker

#: Rounds of "remove, re-read, look again" before giving up on finding more (rule 3).
MAX_ROUNDS = 16

class ActionKind(StrEnum):
    """What an action does; the value is its name in ``fix --json`` and in the journal."""

    REMOVE_MASK = "remove-mask"
    DROP_MASKED_DROP_IN = "drop-masked-drop-in"
    ENABLE = "enable"
    DAEMON_RELOAD = "daemon-reload"
    START = "start"
    ADVICE = "advice"


class Risk(StrEnum):
    """How much an action can change: ``none`` (advice, never run) to ``high`` (runs the unit's code)."""

    NONE = "none"
    LOW = "low"  # gone at the next reboot, or only re-reads configuration
    MEDIUM = "medium"  # a persistent configuration change (undoable from the journal)
    HIGH = "high"  # starts processes now


class Because(StrEnum):
    """Why an action is in the plan (``Reason.because``); the value is its name in JSON and the journal."""

    MASKED = "masked"  # ``unit`` is masked
    NEEDED = "needed"  # ``unit`` needs ``other``, which is masked, through ``chain``
    HIDES = "hides"  # the drop-in mask hides ``other``; without it ``unit`` can start, or loads (``loads``)
    TRIGGER = "trigger"  # ``other`` (a socket, timer or path) starts ``unit``, so it is enabled instead
    ASKED = "asked"  # enabling ``unit`` was asked for
    RELOAD = "reload"  # the manager still holds the old unit files
    START = "start"  # ``unit`` is started (through ``other``, its trigger)


@dataclass(frozen=True)
class Reason:
    """Why an action is in the plan, as data; ``render.words.reason`` says it in words."""

    because: Because
    unit: Optional[str] = None  # the unit the plan is for
    other: Optional[str] = None  # the unit or drop-in the reason is about (see ``Because``)
    #: ``needed``: the hops from ``unit`` to ``other``, each (the dependency, the unit it reaches)
    chain: tuple[tuple[str, str], ...] = ()
    loads: Optional[str] = None  # ``hides``: the load state reached, when the unit still cannot start

    def to_json(self) -> dict[str, Any]:
        """The reason as JSON data (keys that are not set are left out)."""
        d: dict[str, Any] = {"because": self.because.value}
        for k in ("unit", "other", "loads"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.chain:
            d["chain"] = [{"dependency": dep, "unit": u} for dep, u in self.chain]
        return d


# -- actions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoveMask:
    """Remove the mask at ``path``: a symlink whose text is ``link_target``, or an empty regular file.

    The effect, as data: ``path`` is deleted; ``unit`` is unmasked in ``layer``, until reboot when
    ``runtime``, else persistently; ``then`` is what the name resolves to once every mask the plan removes
    for it is gone (a path, or None when nothing carries the name); for a template (``every_instance``)
    every instance without its own mask is unmasked too. ``render.words.effect`` says it in words.
    """

    unit: str
    path: str
    layer: str
    runtime: bool
    kind: str  # "symlink" | "empty-file"
    link_target: Optional[str]
    reason: Reason
    then: Optional[str] = None

    action = ActionKind.REMOVE_MASK

    @property
    def risk(self) -> Risk:
        return Risk.LOW if self.runtime else Risk.MEDIUM

    @property
    def every_instance(self) -> bool:
        """Whether this unmasks a template, and with it every instance that has no mask of its own."""
        return names.kind_of(self.unit) is names.NameKind.TEMPLATE


@dataclass(frozen=True)
class DropMaskedDropIn:
    """Remove the drop-in mask at ``path`` so the drop-in it hides (``hides``) applies to ``unit`` again."""

    unit: str
    path: str
    layer: str
    runtime: bool
    kind: str  # "symlink" | "empty-file"
    link_target: Optional[str]
    hides: str
    reason: Reason

    action = ActionKind.DROP_MASKED_DROP_IN

    @property
    def risk(self) -> Risk:
        return Risk.LOW if self.runtime else Risk.MEDIUM


@dataclass(frozen=True)
class Link:
    """A symlink ``path`` → ``target`` that enabling creates (both root-relative)."""

    path: str
    target: str


@dataclass(frozen=True)
class EnableUnit:
    """Enable ``name`` as ``systemctl enable [--runtime]`` would: create ``links`` (and ``dirs`` first).

    Offline the links are created by ``fix`` itself; live, the manager creates them (EnableUnitFiles)
    and the journal records what it reports. The unit is then pulled in at every boot, or until reboot
    when ``runtime``.
    """

    name: str
    runtime: bool
    links: tuple[Link, ...]
    dirs: tuple[str, ...]
    reason: Reason

    action = ActionKind.ENABLE

    @property
    def risk(self) -> Risk:
        return Risk.LOW if self.runtime else Risk.MEDIUM


@dataclass(frozen=True)
class DaemonReload:
    """Make the manager re-read every unit file (``systemctl daemon-reload``), other pending edits too."""

    reason: Reason
    action = ActionKind.DAEMON_RELOAD

    @property
    def risk(self) -> Risk:
        return Risk.LOW


@dataclass(frozen=True)
class StartUnit:
    """Start ``name`` now, with the units it pulls in, and wait for its job (``systemctl start``)."""

    name: str
    reason: Reason
    action = ActionKind.START

    @property
    def risk(self) -> Risk:
        return Risk.HIGH


class AdviceAbout(StrEnum):
    """What an advice is about (``Advice.about``)."""

    MASK = "mask"  # a mask fix does not remove (``mask_advice``)
    ENABLE = "enable"  # a unit fix does not enable (``enable_action``)
    FINDING = "finding"  # an error the plan does not fix: the finding's summary and fix


class KeptMask(StrEnum):
    """Why ``fix`` keeps a mask that is the admin's (``refusal``)."""

    SPECIAL_FILE = "special file"  # not a link or an empty file
    PERSISTENT = "persistent"  # --runtime-only, and the mask is in a persistent layer


#: Why ``fix`` does not remove a mask: who manages it, or why an admin's is kept.
Refusal = Union[MaskOwner, KeptMask]


@dataclass(frozen=True)
class MaskAdvice:
    """A mask ``fix`` does not remove, as data for the advice about it (``render.words.mask_advice``)."""

    name: str  # the masked name
    path: str  # the mask on top of the search path
    layer: str
    role: str  # the role of its directory (``lookup.Role``)
    refusal: Optional[Refusal]  # why fix leaves it (None: nothing says; someone else manages it)
    #: kernel command line: the files (as shown) whose command line masks it
    found_in: tuple[str, ...] = ()
    real: Optional[str] = None  # vendor: the real unit file below the mask
    override: str = ""  # vendor: where a unit file overrides the vendor mask

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data (the keys of another kind of refusal are left out)."""
        d: dict[str, Any] = {"name": self.name, "path": self.path, "layer": self.layer, "role": self.role,
                             "refusal": self.refusal.value if self.refusal is not None else None}
        if self.refusal is MaskOwner.KERNEL_COMMAND_LINE:
            d["found_in"] = list(self.found_in)
        if self.refusal is MaskOwner.VENDOR:
            d.update(real=self.real, override=self.override)
        return d


@dataclass(frozen=True)
class Advice:
    """Something only a person should do; never executed (no effect). ``mask``: the mask advice as data;
    otherwise ``text`` is in words (a finding's summary and fix, from checks/, or why enabling is refused).
    ``render.words.advice`` gives the words of either."""

    unit: str
    about: AdviceAbout
    text: str = ""
    mask: Optional[MaskAdvice] = None
    action = ActionKind.ADVICE

    @property
    def risk(self) -> Risk:
        return Risk.NONE


FileAction = Union[RemoveMask, DropMaskedDropIn, EnableUnit]
Action = Union[RemoveMask, DropMaskedDropIn, EnableUnit, DaemonReload, StartUnit, Advice]


@dataclass(frozen=True)
class Outlook:
    """What ``why`` will say of a unit the plan is for, once the plan has run (predicted offline)."""

    unit: str
    ok: bool
    via: tuple[str, ...] = ()  # the triggers that start it instead, if any
    #: what still makes its start fail (None when ``ok``, or when only other findings are left)
    blocker: Optional[Blocker] = None


@dataclass(frozen=True)
class Plan:
    """The actions for ``units``, in execution order, and what they should achieve."""

    units: tuple[str, ...]
    scope: str
    root: Optional[str]  # the --root as given, None for the host
    live: bool
    runtime_only: bool
    actions: tuple[Action, ...]
    outlook: tuple[Outlook, ...]

    @property
    def changes(self) -> tuple[Action, ...]:
        """The actions that change something (everything but advice)."""
        return tuple(a for a in self.actions if not isinstance(a, Advice))

    @property
    def advice(self) -> tuple[Advice, ...]:
        return tuple(a for a in self.actions if isinstance(a, Advice))

    @property
    def ok(self) -> bool:
        """Whether every unit is predicted to be fine afterwards."""
        return all(o.ok for o in self.outlook)


def action_record(a: Action) -> dict[str, Any]:
    """Return ``a`` as JSON data: its kind, risk and fields, paths root-relative, no words.

    ``why`` is the reason as data (``Reason.to_json``). The journal keeps the plan in this form (docs/journal.md,
    format version 2); ``fix --json`` shows the same keys with paths as the user gave the root, and the effect
    and the reason in words (render/fix.py).
    """
    d: dict[str, Any] = {"action": a.action.value, "risk": a.risk.value}
    if isinstance(a, (RemoveMask, DropMaskedDropIn)):
        d.update(unit=a.unit, path=a.path, layer=a.layer, runtime=a.runtime, kind=a.kind,
                 link_target=a.link_target, why=a.reason.to_json())
        if isinstance(a, RemoveMask):
            d.update(then=a.then, every_instance=a.every_instance)
        else:
            d["hides"] = a.hides
    elif isinstance(a, EnableUnit):
        d.update(unit=a.name, runtime=a.runtime, why=a.reason.to_json(), dirs=list(a.dirs),
                 links=[{"path": lk.path, "target": lk.target} for lk in a.links])
    elif isinstance(a, DaemonReload):
        d["why"] = a.reason.to_json()
    elif isinstance(a, StartUnit):
        d.update(unit=a.name, why=a.reason.to_json())
    else:
        d.update(unit=a.unit, about=a.about.value)
        if a.mask is not None:
            d["mask"] = a.mask.to_json()
        else:
            d["text"] = a.text
    return d


# -- planning -----------------------------------------------------------------------------------------


class _Planner:
    def __init__(self, cat: Catalog, runtime_only: bool) -> None:
        self.base = cat
        self.cat = cat
        self.runtime_only = runtime_only
        self.removals: dict[str, Union[RemoveMask, DropMaskedDropIn]] = {}
        self.triggers: dict[str, list[str]] = {}  # service -> triggers that start it
        self.mgr = Manager(cat)
        #: package database, logs, boot files: read once for every ``why`` of the plan (they do not change)
        self.sources = EvidenceSources.for_root(cat.root)

    def resimulate(self) -> None:
        self.cat = simulate(self.base, self.removals)
        self.mgr = Manager(self.cat)

    def report(self, name: str) -> Report:
        return why(self.cat, name, manager=self.mgr, sources=self.sources)

    # rule 1 and 2
    def masks_of(self, name: str, reason: Reason) -> bool:
        """Plan removing the masks that make ``name`` masked; return whether anything new was planned."""
        new = False
        for cand in mask_candidates(self.mgr, name):
            ls = layers(self.cat, cand)
            if not ls or not ls[0].is_mask:
                continue
            stack = _mask_stack(ls)
            then = _then(ls, len(stack))
            for lay in stack:
                if self._refusal(lay) is not None:
                    continue
                p = lay.entry.path
                if p not in self.removals:
                    self.removals[p] = _remove_mask(self.cat, lay.entry, cand, reason, then)
                    new = True
            break
        return new

    def _refusal(self, lay: Layer) -> Optional[str]:
        return refusal(self.cat, lay.entry, runtime_only=self.runtime_only)

    # rule 4
    def dropin_masks_of(self, target: str, rep: Report) -> bool:
        suspects = [rep.loaded] + [self.mgr.load(b.unit) for b in rep.start.blockers
                                   if b.reason in ("bad-setting", "load-error") and b.unit != rep.loaded.id]
        new = False
        for unit in suspects:
            for d in unit.dropins:
                if not d.masked or d.path in self.removals:
                    continue
                e = _entry_at(self.cat, d.path)
                if e is None or refusal(self.cat, e, runtime_only=self.runtime_only) is not None:
                    continue
                hidden = _hidden_twin(self.cat, self.mgr, unit.id, unit.names, e)
                if hidden is None:
                    continue  # hides nothing: an admin's no-op, not a blocker
                trial = dict(self.removals)
                trial[d.path] = _drop_dropin(self.cat, e, unit.id, hidden, Reason(Because.HIDES, target, hidden))
                after = why(simulate(self.base, trial), target, sources=self.sources)
                if _better(rep, after):
                    loads = None if after.start.ok else after.loaded.load_state.value
                    reason = Reason(Because.HIDES, target, hidden, loads=loads)
                    self.removals[d.path] = _drop_dropin(self.cat, e, unit.id, hidden, reason)
                    new = True
        return new

    # rule 5
    def triggers_of(self, rep: Report) -> list[str]:
        u = rep.loaded
        if u.type != "service" or u.load_state is not LoadState.LOADED:
            return []
        own = rep.state.state if u.id == u.name else install.lookup_state(self.cat, u.id).state
        if own in ENABLED:
            return []  # it starts at boot by itself; switching it to its trigger is advice (checks.activation)
        found = []
        for unit, _how in self.mgr.triggered_by(u.name):
            if unit not in found and conflict(self.mgr, unit, u.name) is None:
                found.append(unit)
        for cand in _trigger_names(u.name):
            if cand not in found and self._masked_trigger(u.name, cand):
                found.append(cand)
        return found

    def _masked_trigger(self, service: str, cand: str) -> bool:
        """Whether ``cand`` is masked and, with its masks gone, triggers ``service`` (and does not conflict with it).

        A masked unit has no ``Triggers=`` (it is not loaded), so ``Manager.triggered_by`` cannot see it; the
        same question is asked of a catalog where its removable masks are gone.
        """
        ls = layers(self.cat, cand)
        if not ls or not ls[0].is_mask:
            return False
        gone = [lay.entry.path for lay in _mask_stack(ls) if self._refusal(lay) is None]
        if not gone:
            return False
        trial = Manager(simulate(self.base, [*self.removals, *gone]))
        return (any(unit == cand for unit, _how in trial.triggered_by(service))
                and conflict(trial, cand, service) is None)


def plan_fix(reports: Sequence[Report], *, catalog: Catalog, start: bool = True, runtime_only: bool = False,
             live: bool = False, enable: bool = False) -> Plan:
    """Return the plan that fixes the units of ``reports`` (``why`` results on ``catalog``).

    ``start``: live, start each unit (or its trigger) afterwards. ``runtime_only``: touch only runtime
    layers (masks in /run, ``enable --runtime``). ``live``: a manager runs these unit files, so the plan
    reloads and starts; offline it only changes files. ``enable``: also enable each requested unit that is
    ``disabled`` once its masks are gone, as ``systemctl enable`` would (a unit started through a trigger
    has its trigger enabled instead, rule 5). See the module docstring for the rules.
    """
    p = _Planner(catalog, runtime_only)
    targets = _unique(r.unit for r in reports)
    given = {r.unit: r for r in reports}
    # A unit that can already start is not changed (rule 5: a switch to its trigger is advice, not a fix).
    broken = {r.unit for r in reports if not r.start.ok}
    for _round in range(MAX_ROUNDS):
        new = False
        for t in list(targets):
            rep = given.pop(t, None) or p.report(t)
            if rep.loaded.load_state is LoadState.MASKED or rep.state.state.is_masked:
                new |= p.masks_of(t, Reason(Because.MASKED, t))
            for b in rep.start.blockers:
                if b.reason in ("masked", "trigger-masked"):
                    chain = tuple((e.dependency, e.target) for e in b.chain)
                    new |= p.masks_of(b.unit, Reason(Because.NEEDED, t, b.unit, chain))
            new |= p.dropin_masks_of(t, rep)
            for trig in (p.triggers_of(rep) if t in broken else ()):
                p.triggers.setdefault(t, [])
                if trig not in p.triggers[t]:
                    p.triggers[t].append(trig)
                if trig not in targets:
                    targets.append(trig)
                    new = True
        if not new:
            break
        p.resimulate()
        given = {}
    return _assemble(p, targets, tuple(r.unit for r in reports), start=start, live=live, enable=enable)


def _assemble(p: _Planner, targets: list[str], requested: tuple[str, ...], *, start: bool, live: bool,
              enable: bool = False) -> Plan:
    cat = p.cat
    finals = {t: p.report(t) for t in targets}
    actions: list[Action] = list(p.removals.values())
    advice: list[Advice] = []
    enabled: list[str] = []
    for svc, trigs in p.triggers.items():
        for trig in trigs:
            act, why_not = enable_action(cat, trig, runtime=p.runtime_only,
                                         reason=Reason(Because.TRIGGER, svc, trig))
            if act is not None and act.name not in enabled:
                enabled.append(act.name)
                actions.append(act)
            elif why_not:
                advice.append(Advice(trig, AdviceAbout.ENABLE, why_not))
    for u in requested if enable else ():
        if p.triggers.get(u) or u in enabled:
            continue
        act, why_not = enable_action(cat, u, runtime=p.runtime_only, reason=Reason(Because.ASKED, u))
        if act is not None:
            enabled.append(act.name)
            actions.append(act)
        elif why_not:
            advice.append(Advice(u, AdviceAbout.ENABLE, why_not))
    for t in targets:
        advice.extend(_leftover_advice(cat, p.mgr, finals[t], runtime_only=p.runtime_only))
    changed = bool(actions)
    if live and changed:
        actions.append(DaemonReload(Reason(Because.RELOAD)))
    outlook = []
    for u in requested:
        via = p.triggers.get(u, [])
        rep = finals[u]
        ok = rep.ok and all(finals[v].ok for v in via)
        outlook.append(Outlook(u, ok, tuple(via), None if ok else rep.start.blocker))
        if not (live and start and ok):
            continue
        for s in via or [u]:
            if names.kind_of(s) is names.NameKind.TEMPLATE:
                continue  # a template cannot be started; its instances can
            if not any(isinstance(a, StartUnit) and a.name == s for a in actions):
                actions.append(StartUnit(s, Reason(Because.START, u, s if s != u else None)))
    seen: set[tuple[str, str]] = set()
    for a in advice:
        if (a.unit, a.text) not in seen:
            seen.add((a.unit, a.text))
            actions.append(a)
    return Plan(requested, cat.lookup.scope.value, None if cat.root.is_host else cat.root.given, live,
                p.runtime_only, tuple(actions), tuple(outlook))


# -- masks --------------------------------------------------------------------------------------------


def _trigger_names(service: str) -> list[str]:
    """The units that would trigger ``service`` by name alone (fact sheet §7): same name, or the
    ``Accept=yes`` socket of a template."""
    base = service.rsplit(".", 1)[0]
    out = [f"{base}.{t}" for t in ("socket", "timer", "path")]
    if names.kind_of(service) is names.NameKind.TEMPLATE:
        out.append(names.prefix_of(service) + ".socket")
    return out


def mask_candidates(mgr: Manager, name: str) -> list[str]:
    """The names whose mask makes ``name`` masked: itself, its template, the unit it is merged into."""
    out = [name]
    if names.kind_of(name) is names.NameKind.INSTANCE:
        out.append(names.template_of(name))
    try:
        uid = mgr.load(name).id
    except ValueError:
        uid = name
    if uid not in out:
        out.insert(0, uid)
    return out


def _mask_stack(ls: list[Layer]) -> list[Layer]:
    """The masks from the top of the search path down to the first entry that is not one."""
    out = []
    for lay in ls:
        if not lay.is_mask:
            break
        out.append(lay)
    return out


def _then(ls: list[Layer], skip: int) -> Optional[str]:
    return ls[skip].entry.path if len(ls) > skip else None


def refusal(cat: Catalog, e: Entry, *, runtime_only: bool) -> Optional[Refusal]:
    """Why ``fix`` will not remove the mask ``e`` (who manages it, or why the admin's is kept), or None if it may.

    We remove only a provable mask (a symlink that resolves to /dev/null or an empty file, or an empty
    regular file) in an admin's configuration layer; never under /usr, never generator output.
    """
    owner = mask_owner(cat, e)
    if owner is not MaskOwner.ADMIN:
        return owner
    if not (e.is_symlink or (e.is_reg and e.size == 0)):
        return KeptMask.SPECIAL_FILE
    if runtime_only and not cat.lookup.is_runtime(e.dir.path):
        return KeptMask.PERSISTENT
    return None


def _kind(e: Entry) -> tuple[str, Optional[str]]:
    return ("symlink", e.target) if e.is_symlink else ("empty-file", None)


def _remove_mask(cat: Catalog, e: Entry, unit: str, reason: Reason, then: Optional[str]) -> RemoveMask:
    kind, target = _kind(e)
    return RemoveMask(unit, e.path, e.dir.layer, cat.lookup.is_runtime(e.dir.path), kind, target, reason, then)


def _drop_dropin(cat: Catalog, e: Entry, unit: str, hides: str, reason: Reason) -> DropMaskedDropIn:
    kind, target = _kind(e)
    return DropMaskedDropIn(unit, e.path, e.dir.layer, cat.lookup.is_runtime(e.dir.path), kind, target, hides,
                            reason)


def _entry_at(cat: Catalog, path: str) -> Optional[Entry]:
    """The scanned entry at ``path``, directly in a search dir or in one of its subdirectories."""
    e = cat.entry_at(path)
    if e is not None:
        return e
    parent, name = posixpath.split(path)
    top, sub = posixpath.split(parent)
    li = cat.listing_for(top)
    if li is None or sub not in li.subdirs:
        return None
    return li.subdirs[sub].entries.get(name)


def _hidden_twin(cat: Catalog, mgr: Manager, unit_id: str, unit_names: tuple[str, ...], mask: Entry,
                 ) -> Optional[str]:
    """The drop-in with the mask's basename that the mask hides (in a lower dir), if any (§2.4, §5.5)."""
    dir_names = mgr.dropin_dir_names(unit_id, unit_names, ".d") + [unit_id.rsplit(".", 1)[-1] + ".d"]
    seen_mask = False
    for dn in dir_names:
        for li in cat.listings:
            sub = li.subdirs.get(dn)
            if sub is None:
                continue
            e = sub.entries.get(mask.name)
            if e is None:
                continue
            if e.path == mask.path:
                seen_mask = True
                continue
            if seen_mask and not is_null(cat, e.path):
                return e.path
    return None


def _better(before: Report, after: Report) -> bool:
    """Whether ``after`` is a strictly better verdict: it starts where it did not, or it now loads."""
    if after.start.ok and not before.start.ok:
        return True
    return before.loaded.load_state is not LoadState.LOADED and after.loaded.load_state is LoadState.LOADED


# -- enabling -----------------------------------------------------------------------------------------


def enable_action(cat: Catalog, name: str, *, runtime: bool, reason: Reason,
                  ) -> tuple[Optional[EnableUnit], Optional[str]]:
    """The links ``systemctl enable [--runtime] name`` creates, or why we cannot (advice text).

    Implements the link part of ``install_info_apply`` (install.c, v252): ``Alias=`` → CONFIG/ALIAS,
    ``WantedBy=T`` → CONFIG/T.wants/NAME, ``RequiredBy=T`` → CONFIG/T.requires/NAME, every link pointing
    at the unit file found (``info->path``); ``Also=`` units are enabled too; a template uses its
    ``DefaultInstance=``. Returns (None, None) when the unit is not ``disabled`` (nothing to do).
    """
    res = install.lookup_state(cat, name)
    if res.state is not install.UnitFileState.DISABLED or res.info is None:
        return None, None
    lp = cat.lookup
    config = lp.runtime_config if runtime else lp.persistent_config
    if config is None:
        return None, f"{name} cannot be enabled: this scope has no {'runtime' if runtime else 'persistent'} " \
                     "config directory"
    links: list[Link] = []
    problems: list[str] = []
    todo = [res.info]
    done: set[str] = set()
    while todo:
        info = todo.pop(0)
        if info.name in done:
            continue
        done.add(info.name)
        _links_of(cat, info, config, links, problems)
        for also in info.also:
            r = install.lookup_state(cat, also)
            if r.state is install.UnitFileState.DISABLED and r.info is not None:
                todo.append(r.info)
    if problems:
        return None, f"{name} is not enabled by unitdoctor: " + "; ".join(problems) + \
            f" (systemctl {'--runtime ' if runtime else ''}enable {name} decides)"
    taken = [lk.path for lk in links if _link_state(cat, lk) == "other"]
    if taken:
        return None, (f"{name} cannot be enabled: {', '.join(taken)} already exists (systemctl enable fails "
                      "with EEXIST); look at what it is before replacing it")
    links = [lk for lk in links if _link_state(cat, lk) == "absent"]
    if not links:
        return None, None
    dirs = _missing_dirs(cat, [posixpath.dirname(lk.path) for lk in links])
    return EnableUnit(name, runtime, tuple(links), tuple(dirs), reason), None


def _links_of(cat: Catalog, info: install.InstallInfo, config: str, links: list[Link], problems: list[str]) -> None:
    unit = info.name
    if names.kind_of(unit) is names.NameKind.TEMPLATE:
        if not info.default_instance:
            problems.append(f"{unit} is a template without DefaultInstance=")
            return
        unit = names.with_instance(unit, info.default_instance)
    if info.path is None:
        problems.append(f"{unit} has no unit file")
        return
    target = info.path
    for words, suffix in ((info.wanted_by, ".wants"), (info.required_by, ".requires")):
        for t in words:
            if "%" in t or not names.is_valid(t):
                problems.append(f"[Install] names {t!r}")
                continue
            links.append(Link(posixpath.join(config, t + suffix, unit), target))
    for a in info.aliases:
        bad, rewritten = (("EINVAL", None) if "%" in a or "/" in a
                          else names.verify_install_alias(a, unit, info.default_instance))
        if bad:
            problems.append(f"Alias={a} ({bad})")
            continue
        links.append(Link(posixpath.join(config, rewritten or a), target))


def _link_state(cat: Catalog, lk: Link) -> str:
    """``absent``, ``same`` (the link is already there) or ``other`` (another file holds the path: EEXIST)."""
    try:
        st = cat.root.lstat(lk.path)
    except OSError:
        return "absent"
    if stat.S_ISLNK(st.st_mode) and cat.root.readlink(lk.path) == lk.target:
        return "same"
    return "other"


def _missing_dirs(cat: Catalog, parents: Iterable[str]) -> list[str]:
    out: list[str] = []
    for parent in parents:
        chain = []
        d = parent
        while d not in ("/", ""):
            try:
                cat.root.lstat(d)
                break
            except OSError:
                chain.append(d)
                d = posixpath.dirname(d)
        for c in reversed(chain):
            if c not in out:
                out.append(c)
    return out


# -- what is left -------------------------------------------------------------------------------------


def _leftover_advice(cat: Catalog, mgr: Manager, rep: Report, *, runtime_only: bool) -> list[Advice]:
    """Advice for what the plan cannot fix in ``rep`` (computed on the simulated catalog)."""
    out: list[Advice] = []
    masked = []
    if rep.loaded.load_state is LoadState.MASKED or rep.state.state.is_masked:
        masked.append(rep.unit)
    masked += [b.unit for b in rep.start.blockers if b.reason in ("masked", "trigger-masked")]
    for name in _unique(masked):
        for cand in mask_candidates(mgr, name):
            ls = layers(cat, cand)
            if ls and ls[0].is_mask:
                out.append(Advice(rep.unit, AdviceAbout.MASK,
                                  mask=mask_advice(cat, ls, cand, runtime_only=runtime_only)))
                break
    for f in rep.findings:
        if f.severity is not Severity.ERROR or f.is_mask:
            continue
        text = f.summary.rstrip(".") + ("" if not f.fix else ". Fix: " + "; ".join(f.fix))
        out.append(Advice(rep.unit, AdviceAbout.FINDING, text))
    return out


def mask_advice(cat: Catalog, ls: list[Layer], name: str, *, runtime_only: bool) -> MaskAdvice:
    """The facts a person needs about the mask on top of ``ls``, which ``fix`` does not remove: who manages
    it, and for a kernel command line mask where that line is, for a vendor mask the real file below it and
    where a unit file overrides it."""
    e = ls[0].entry
    why_not = refusal(cat, e, runtime_only=runtime_only)
    found_in: tuple[str, ...] = ()
    real, override = None, ""
    if why_not is MaskOwner.KERNEL_COMMAND_LINE:
        found_in = tuple(kernel_cmdline_sources(cat, name))
    elif why_not is MaskOwner.VENDOR:
        real = next((lay.entry.path for lay in ls[1:] if not lay.is_mask), None)
        override = posixpath.join(cat.lookup.persistent_config or "/etc/systemd/system", name)
    return MaskAdvice(name, e.path, e.dir.layer, e.dir.role.value, why_not, found_in, real, override)


def kernel_cmdline_sources(cat: Catalog, name: str) -> list[str]:
    """Files inside the root whose kernel command line masks ``name`` (``systemd.mask=``/``rd.systemd.mask=``
    as systemd-debug-generator reads them: ``cmdline``'s one reader of the boot sources)."""
    from . import cmdline

    out: list[str] = []
    found = list(cmdline.boot_cmdlines(cat.root, live=False).cmdlines)
    if cat.root.is_host:
        found += cmdline.boot_cmdlines(cat.root, live=True).cmdlines
    for cmd in found:
        shown = cat.root.display(cmd.path)
        if shown not in out and any(o.unit == name for o in cmdline.mask_options(cmd)):
            out.append(shown)
    return out


# -- simulation ---------------------------------------------------------------------------------------


def simulate(cat: Catalog, removed: Iterable[str]) -> Catalog:
    """A catalog like ``cat`` without the entries at the ``removed`` paths (no I/O beyond chasing dirs).

    A path is matched by its real directory, so a directory seen under two search paths (``/lib`` →
    ``usr/lib``) loses the entry under both.
    """
    real: dict[str, str] = {}

    def real_dir(p: str) -> str:
        if p not in real:
            try:
                real[p] = cat.root.chase(p)
            except OSError:
                real[p] = p
        return real[p]

    gone = {(real_dir(posixpath.dirname(p)), posixpath.basename(p)) for p in removed}
    if not gone:
        return cat
    listings = []
    for li in cat.listings:
        rd = real_dir(li.dir.path)
        entries = {n: e for n, e in li.entries.items() if (rd, n) not in gone}
        subdirs = {}
        for sn, sub in li.subdirs.items():
            rs = real_dir(sub.path)
            kept = {n: e for n, e in sub.entries.items() if (rs, n) not in gone}
            subdirs[sn] = sub if len(kept) == len(sub.entries) else SubDir(
                sub.name, sub.dir, sub.path, kept, sub.via_symlink, sub.error)
        listings.append(DirListing(li.dir, entries, subdirs, li.error))
    return Catalog(root=cat.root, lookup=cat.lookup, listings=tuple(listings), environ=cat.environ)


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out
