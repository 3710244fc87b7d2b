"""What the service manager would load: load state, names, fragment, drop-ins and dependency edges.

Models the manager's code path of systemd 252, which differs from the install logic at the edges
(fact sheet §5.6): ``unit_file_build_name_map`` and ``unit_file_find_fragment`` (unit-file.c),
``unit_load_fragment`` (load-fragment.c), ``unit_load`` (unit.c), drop-in collection (dropin.c); the
``config_parse_*`` replays and ``*_verify`` checks that turn a unit into ``bad-setting`` are in
``loadfragment.py``. Every dependency edge keeps the file and line, or the link, it comes from.

Work stays proportional to the question (issue 11): a ``why`` loads only the units its start
transaction reaches (``Manager.load`` is called by the transaction walk, ~0.1 ms per unit), and
"who triggers this" asks the trigger units a per-catalog index names (``TriggerHints``), not every
socket/timer/path. To add a per-unit fact (conditions, exec checks, a run-queue order…): compute it
in a method that takes the loaded ``Unit`` and is called for the units that need it (the anchor, a
blocker, the jobs of the transaction), not in ``_load`` for every unit of the closure; keep an index
over the whole search path with ``Catalog.derived(key, build)`` (built once per catalog, from the
scan and cheap reads); import a heavy module inside the function that needs it. ``bench/why.py``
(``--profile``) shows the cost beside ``systemd-analyze verify``.
"""

from __future__ import annotations

import enum
import posixpath
import re
import stat
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Protocol, Sequence

from . import condition, execute, names, specifiers, unitfile
from .catalog import Catalog, SubDir, hidden_or_backup
from .directives_data import DIRECTIVES
from .loadfragment import (
    bus_name,
    exec_lists,
    ignored_settings,
    parse_failure,
    path_specs,
    root_time_zones,
    settled_type,
    socket_values,
    timer_values,
    verify,
)
from .lookup import Scope
from .origin import Origin
from .records import dataclass, replace
from .rootfs import normalize_link

if TYPE_CHECKING:  # calendar and timespan: imported by the functions that read a timer
    from . import calendar
    from .transaction import RunOutcome

#: unit-file.c FOLLOW_MAX for alias chains in the name map.
ALIAS_FOLLOW_MAX = 8

#: Sections each unit type parses (UNIT_VTABLE(u)->sections).
TYPE_SECTIONS: dict[str, tuple[str, ...]] = {
    t: ("Unit", t.capitalize() if t != "automount" else "Automount", "Install")
    for t in ("service", "socket", "mount", "automount", "swap", "timer", "path", "slice", "scope")
}
TYPE_SECTIONS["target"] = ("Unit", "Install")
TYPE_SECTIONS["device"] = ("Unit", "Install")

#: Types that fail with not-found without a fragment (unit_load_fragment_and_dropin vs _optional).
NEEDS_FRAGMENT = frozenset(("service", "socket", "target", "timer", "path", "automount", "mount", "swap"))
#: Units the manager never lets be masked.
PERPETUAL = frozenset(("-.slice", "init.scope", "-.mount"))


class LoadState(str, enum.Enum):
    """``UnitLoadState`` with systemd's strings."""

    STUB = "stub"
    LOADED = "loaded"
    NOT_FOUND = "not-found"
    BAD_SETTING = "bad-setting"
    ERROR = "error"
    MERGED = "merged"
    MASKED = "masked"


class Dep(str, enum.Enum):
    """Dependency settings, as written in unit files."""

    REQUIRES = "Requires"
    REQUISITE = "Requisite"
    WANTS = "Wants"
    BINDS_TO = "BindsTo"
    UPHOLDS = "Upholds"
    PART_OF = "PartOf"
    CONFLICTS = "Conflicts"
    BEFORE = "Before"
    AFTER = "After"
    ON_FAILURE = "OnFailure"
    ON_SUCCESS = "OnSuccess"
    PROPAGATES_RELOAD_TO = "PropagatesReloadTo"
    RELOAD_PROPAGATED_FROM = "ReloadPropagatedFrom"
    PROPAGATES_STOP_TO = "PropagatesStopTo"
    STOP_PROPAGATED_FROM = "StopPropagatedFrom"
    JOINS_NAMESPACE_OF = "JoinsNamespaceOf"
    TRIGGERS = "Triggers"
    SLICE = "Slice"


_PLAIN_OR_INSTANCE = names.NameKind.PLAIN | names.NameKind.INSTANCE

#: Alternative spellings the parser accepts for the same dependency.
DEP_ALIASES = {"BindTo": Dep.BINDS_TO, "PropagateReloadTo": Dep.PROPAGATES_RELOAD_TO,
               "PropagateReloadFrom": Dep.RELOAD_PROPAGATED_FROM}
_DEP_KEYS: dict[str, Dep] = {d.value: d for d in Dep if d not in (Dep.TRIGGERS, Dep.SLICE)}
_DEP_KEYS.update(DEP_ALIASES)
#: Link directories and the dependency each creates (load-dropin.c ``unit_load_dropin``; 252 has no
#: ``.upholds/``, which came later).
LINK_DIRS = {".wants": Dep.WANTS, ".requires": Dep.REQUIRES}


@dataclass(frozen=True)
class Dependency:
    """One edge: ``source`` depends on ``target`` through ``kind``, declared at ``origin``."""

    kind: Dep
    source: str
    target: str
    origin: Origin
    via: str  # "fragment" | "drop-in" | "link" | "default" | "implicit"


@dataclass(frozen=True)
class LoadError:
    """A unit's load failure as D-Bus ``LoadError`` would say it."""

    errno: str
    bus_error: str
    message: str
    origin: Optional[Origin] = None


@dataclass(frozen=True)
class Unit:
    """A unit as the manager would hold it after loading."""

    name: str  # the name that was asked for
    id: str  # the unit it ends up as (after merging an alias)
    names: tuple[str, ...]
    load_state: LoadState
    load_error: Optional[LoadError]
    fragment: Optional[str]
    dropins: tuple[unitfile.DropIn, ...]
    assignments: tuple[unitfile.Assignment, ...]
    diagnostics: tuple[unitfile.Diagnostic, ...]
    dependencies: tuple[Dependency, ...]
    #: Condition*= and Assert*= as parsed (condition.py); evaluated only when a start job needs them.
    conditions: tuple[condition.Condition, ...] = ()
    asserts: tuple[condition.Condition, ...] = ()

    def settings(self, section: str, key: str) -> tuple[unitfile.Assignment, ...]:
        return tuple(a for a in self.assignments if a.section == section and a.key == key)

    def last(self, section: str, key: str) -> Optional[unitfile.Assignment]:
        s = self.settings(section, key)
        return s[-1] if s else None

    @property
    def type(self) -> str:
        return self.id.rsplit(".", 1)[-1]


def load_error_for(state: LoadState, unit_id: str, errno: str = "", origin: Optional[Origin] = None,
                   ) -> Optional[LoadError]:
    """The LoadError the manager reports for a load state (dbus-unit.c ``bus_unit_validate_load_state``)."""
    if state is LoadState.MASKED:
        return LoadError("ERFKILL", "org.freedesktop.systemd1.UnitMasked", f"Unit {unit_id} is masked.", origin)
    if state is LoadState.NOT_FOUND:
        return LoadError(errno or "ENOENT", "org.freedesktop.systemd1.NoSuchUnit",
                         f"Unit {unit_id} not found.", origin)
    if state is LoadState.BAD_SETTING:
        return LoadError("ENOEXEC", "org.freedesktop.systemd1.BadUnitSetting",
                         f"Unit {unit_id} has a bad unit file setting.", origin)
    if state is LoadState.ERROR:
        import errno as _e
        import os

        text = os.strerror(getattr(_e, errno, 0)) if errno else "Unknown error"
        return LoadError(errno, f"System.Error.{errno}",
                         f"Unit {unit_id} failed to load properly, please adjust/correct and reload "
                         f"service manager: {text}", origin)
    return None


# -- the name map ---------------------------------------------------------------------------------


class NameMap:
    """``unit_file_build_name_map``: name → fragment path (absolute) or alias target name.

    systemd builds the whole map at once; a ``why`` asks about a handful of names, so each entry is
    computed on first use from the catalog's indexes, with the same rules, and remembered.

    ``ids(name)``: the first entry called ``name`` in the search path that is a regular file (its
    path), or a symlink that resolves without error: into the search path it is an alias (the
    target's name), out of it a linked unit file or mask (the link's own path) unless it points at
    a directory. Entries that fail (invalid or self-aliases) are skipped, so a lower one may win.

    ``aliases(name)``: every name whose chain ends at a fragment called ``name`` (a template's
    fragment counts for the instance of the same instance) and is not a mask. Candidates are the
    links whose text names ``name`` (or a link already found), so the search stays local.
    """

    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self._ids: dict[str, Optional[str]] = {}
        self._aliases: dict[str, tuple[str, ...]] = {}

    @classmethod
    def build(cls, cat: Catalog) -> NameMap:
        return cls(cat)

    def id_of(self, name: str) -> Optional[str]:
        if name in self._ids:
            return self._ids[name]
        self._ids[name] = value = self._compute_id(name)
        return value

    def _compute_id(self, n: str) -> Optional[str]:
        from .install import _Fail, resolve_symlink

        if not names.is_valid(n):
            return None
        cat = self.cat
        for e in cat.entries(n):
            if e.is_reg:
                return e.path
            if not e.is_symlink:
                continue  # directories, FIFOs… are passed over (d_type is neither REG nor LNK)
            try:
                target, linked = resolve_symlink(cat, e.path, e.target)
            except _Fail:
                continue  # invalid and self-aliases are ignored; a lower entry may win
            if not linked:
                return posixpath.basename(target)
            # A link out of the search path (or a mask): the link itself is the fragment,
            # unless it points at a directory.
            try:
                st = cat.root.stat(target) if target != "/dev/null" else None
            except OSError:
                st = None
            if st is not None and stat.S_ISDIR(st.st_mode):
                continue
            return e.path
        return None

    def _key(self, src: str) -> Optional[str]:
        """The name ``src`` is filed under in the alias map, or None (unresolved or masked)."""
        dst = self.fragment_of(src)
        if dst is None or is_null(self.cat, dst):
            return None
        base = posixpath.basename(dst)
        if names.kind_of(base) is names.NameKind.TEMPLATE and names.kind_of(src) is names.NameKind.INSTANCE:
            base = names.with_instance(base, names.instance_of(src) or "")
        return base

    def _linkers(self, target: str) -> list[str]:
        """Names of symlinks (any search dir, hidden ones too) whose link text ends in ``target``."""
        return [n for _, n in self.cat.link_target_hits(target)]

    def aliases(self, name: str) -> tuple[str, ...]:
        cached = self._aliases.get(name)
        if cached is not None:
            return cached
        found: list[str] = []
        if self._key(name) == name:
            found.append(name)
        frontier = [name]
        if names.kind_of(name) is names.NameKind.INSTANCE:
            frontier.append(names.template_of(name))
        seen = set(frontier)
        while frontier:
            x = frontier.pop()
            for src in self._linkers(x):
                if src in seen:
                    continue
                seen.add(src)
                frontier.append(src)
                if self._key(src) == name and src not in found:
                    found.append(src)
        # systemd files the names in search-path order; keep that order for stable output.
        order = self.cat.scan_order()
        found.sort(key=lambda n: order.get(n, len(order)))
        self._aliases[name] = result = tuple(found)
        return result

    def fragment_of(self, name: str) -> Optional[str]:
        """``unit_ids_map_get``: follow aliases to an absolute path; an instance hop may use its template."""
        cur: Optional[str] = None
        for _ in range(ALIAS_FOLLOW_MAX):
            t = self.id_of(cur or name)
            if t is None:
                if cur is None:
                    return None
                if names.kind_of(cur) is not names.NameKind.INSTANCE:
                    return None
                t = self.id_of(names.template_of(cur))
                if t is None:
                    return None
            if t.startswith("/"):
                return t
            cur = t
        return None

    def find_fragment(self, name: str) -> tuple[Optional[str], tuple[str, ...]]:
        """``unit_file_find_fragment``: the fragment for ``name`` and the set of its names."""
        kind = names.kind_of(name)
        instance = names.instance_of(name) if kind is names.NameKind.INSTANCE else None
        found: list[str] = []
        self._add_names(found, name, None, kind, instance, name)
        fragment = self.fragment_of(name)
        if fragment is None and kind is names.NameKind.INSTANCE:
            fragment = self.fragment_of(names.template_of(name))
        if fragment is not None:
            base = posixpath.basename(fragment)
            if base != name:
                self._add_names(found, name, base, kind, instance, base)
        return fragment, tuple(found)

    def _add_names(self, out: list[str], unit: str, fragment_base: Optional[str],
                   kind: Optional[names.NameKind], instance: Optional[str], name: str) -> None:
        def add(n: str) -> None:
            if n not in out:
                out.append(n)

        if kind is not names.NameKind.TEMPLATE:
            add(name)
        for alias in self.aliases(name):
            if kind is names.NameKind.INSTANCE and names.kind_of(alias) is names.NameKind.TEMPLATE:
                inst = names.with_instance(alias, instance or "")
                frag = self.fragment_of(inst)
                if frag is not None and fragment_base and posixpath.basename(frag) != fragment_base:
                    continue
                add(inst)
            else:
                add(alias)


def is_null(cat: Catalog, path: str) -> bool:
    """Whether ``path`` is a mask as the manager sees it: ``null_or_empty_path`` (stat-util.c, v252).

    The one mask predicate of the engine (checks, plan, scan ask this): ``/dev/null``, an empty regular file,
    a character device, or a symlink chain that ends at one. Error policy: a path that cannot be resolved
    (dangling, a loop, escaping) is *not* a mask: nothing proves it is one, and ``fix`` removes only what is
    provably a mask. Answered from the catalog's scan when ``path`` is a scanned entry. The install logic
    (``install._readlink``) keeps 252's ``null_or_empty_path_with_root`` instead, whose doubled root makes
    ``systemctl --root`` see fewer masks; that difference is systemd's, not ours.
    """
    e = cat.entry_at(path)
    if e is not None and not e.is_symlink:
        return e.is_empty_or_chardev
    if e is not None and e.target is not None and normalize_link(e.parent, e.target) == "/dev/null":
        return True
    try:
        return cat.root.is_null_or_empty(path)
    except OSError:
        return False


# -- who triggers what ----------------------------------------------------------------------------

#: Unit types that trigger another unit (``UNIT_ATOM_TRIGGERS``): socket, timer and path.
TRIGGER_SUFFIXES = (".socket", ".timer", ".path")
#: A ``Service=``/``Unit=`` line as conf-parser would split it, when the file has none of the
#: things that make a plain line search wrong (``TriggerHints._values``).
_TARGET_LINE = re.compile(rb"^[ \t]*(?:Service|Unit)[ \t]*=([^\n]*)$", re.M)
_TRIGGER_DROPIN_DIRS = tuple(t[1:] + ".d" for t in TRIGGER_SUFFIXES)  # socket.d, foo.socket.d, foo-.socket.d


@dataclass(frozen=True)
class TriggerHints:
    """For every socket, timer and path unit of a catalog, the names it may trigger: a superset, cheaply.

    A trigger unit triggers ``Service=`` (sockets) or ``Unit=`` (timers, paths) if set, else the
    unit of the same name with ``.service``, named as its id (fact sheet §7). The same-name rule
    needs only the name; the explicit keys need one read of the fragment and a line search, no
    parse. ``targets[n]`` holds the same-name service and every ``Service=``/``Unit=`` value in
    ``n``'s fragment (whatever its section). ``unsure`` lists triggers this cannot vouch for
    (an alias, linked or masked entry, whose id may be another name; a file with a line
    continuation, ``\\r``, NUL or byte order mark, a specifier in a value, or that cannot be
    read): they are always
    loaded. A ``Service=``/``Unit=`` in any socket/timer/path drop-in is in ``dropin_targets``.
    A trigger unit that is not a file of its own (an instance of a template trigger) is found by
    ``Manager._instance_triggers``, not here.
    Built once per catalog (``Catalog.derived``); ``Manager.triggered_by`` loads only the
    candidates and then asks each one exactly.
    """

    all: tuple[str, ...]  # every socket/timer/path name in the search path, templates excepted, sorted
    targets: Mapping[str, tuple[str, ...]]
    unsure: frozenset[str]
    dropin_targets: tuple[str, ...]
    dropins_unsure: bool

    def dropins_name(self, pred: Callable[[str], bool]) -> bool:
        """Whether a drop-in of some trigger unit may name a unit ``pred`` accepts."""
        return self.dropins_unsure or any(pred(t) for t in self.dropin_targets)

    @classmethod
    def build(cls, cat: Catalog) -> TriggerHints:
        found: list[str] = []
        targets: dict[str, tuple[str, ...]] = {}
        unsure: set[str] = set()
        for n in cat.names():
            if not n.endswith(TRIGGER_SUFFIXES):
                continue
            kind = names.kind_of(n)
            if kind is None or kind is names.NameKind.TEMPLATE:
                continue
            found.append(n)
            entries = cat.entries(n)
            if any(e.is_symlink for e in entries):
                unsure.add(n)
                targets[n] = ()
                continue
            own = [_swap_suffix(n, "service")]
            e = next((e for e in entries if e.is_reg), None)
            if e is not None:
                real = cat.real_path(e)
                values = cls._values(cat, real, resolved=True) if real is not None else None
                if values is None:
                    unsure.add(n)
                else:
                    own.extend(values)
            targets[n] = tuple(own)
        dropin_targets: list[str] = []
        dropins_unsure = False
        for dn in cat.subdir_names():
            if not dn.endswith(_TRIGGER_DROPIN_DIRS):
                continue
            for sub in cat.subdirs(dn):
                for cn, ce in sub.entries.items():
                    if not cn.endswith(".conf"):
                        continue
                    if ce.is_symlink and normalize_link(ce.parent, ce.target or "") == "/dev/null":
                        continue  # a masked drop-in sets nothing
                    values = cls._values(cat, ce.path, resolved=False)
                    if values is None:
                        dropins_unsure = True
                    else:
                        dropin_targets.extend(values)
        found.sort()
        return cls(tuple(found), targets, frozenset(unsure), tuple(dropin_targets), dropins_unsure)

    @staticmethod
    def _values(cat: Catalog, path: str, *, resolved: bool) -> Optional[list[str]]:
        """Every ``Service=``/``Unit=`` value of one file as conf-parser would read it, or None if unsure."""
        try:
            data = cat.root.read(path, resolved=resolved)
        except OSError:
            return None
        if b"\\\n" in data or data.endswith(b"\\") or b"\r" in data or b"\0" in data or b"\xef\xbb\xbf" in data:
            return None
        out = []
        for m in _TARGET_LINE.finditer(data):
            value = m.group(1).strip(b" \t")
            if b"%" in value:
                return None  # a specifier: the name is known only once expanded for the unit
            try:
                out.append(value.decode("utf-8"))
            except UnicodeDecodeError:
                return None
        return out


# -- loading --------------------------------------------------------------------------------------


class _LoadResult(Protocol):
    """``_load``'s ``result``: the unit as it stands when loading ends in ``state``."""

    def __call__(self, state: LoadState, errno: str = "", origin: Optional[Origin] = None,
                 dropins: tuple[unitfile.DropIn, ...] = (), deps: tuple[Dependency, ...] = ()) -> Unit: ...


class Manager:
    """Loads units from a catalog as the manager would, caching each unit by name."""

    def __init__(self, cat: Catalog, *, loaded: frozenset[str] = frozenset()) -> None:
        """``loaded``: ids of the units a running manager holds (``list-units --all``; live only).

        Offline nothing is known to be loaded, and every name is loaded as if the manager met it first.
        """
        from . import sysv

        self.loaded = loaded
        #: Names that fail to load with EEXIST because of the order the manager loads them in.
        self.load_failures: frozenset[str] = frozenset()

        # The manager runs its generators before loading anything; offline they did not run, so the
        # units systemd-sysv-generator would write are added in memory (sysv.py).
        self.cat, self.sysv = sysv.with_generated(cat)
        self.scope = cat.lookup.scope
        self.namemap = NameMap.build(self.cat)
        #: Host, user and directory specifier values of this root and scope (read on first use).
        self.host = specifiers.HostFacts(cat.root, self.scope.value, getattr(cat, "environ", None))
        self._units: dict[str, Unit] = {}
        #: What each unit's start job meets when it runs (transaction.run_outcome), by unit id.
        self.run_outcomes: dict[str, Optional[RunOutcome]] = {}
        self._condition_env: Optional[condition.Environment] = None
        self._exec: Optional[execute.Checker] = None
        self._dropin_bases: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        self._zones: Optional[calendar.TimeZones] = None

    def triggered_by(self, name: str) -> list[tuple[str, str]]:
        """(unit, how) for every socket, timer or path unit that would start ``name``.

        Such a unit triggers what its ``Triggers=`` edge names (``Service=``/``Unit=``, else the same
        name with ``.service``); a socket with ``Accept=yes`` starts instances of ``PREFIX@.service``
        (socket.c, timer.c, path.c; fact sheet §7).

        Only the trigger units that may name ``name`` are loaded: ``TriggerHints`` (built once per
        catalog from the scan and a cheap read of the ``Service=``/``Unit=`` lines) gives, for every
        socket/timer/path, the names it may trigger; a candidate is a trigger one of whose names
        loads as the same unit (``_id_of``, no parse). Each candidate is then loaded and asked exactly
        as before, so the answer is the one loading every trigger unit would give.
        """
        key = name if names.kind_of(name) is names.NameKind.TEMPLATE else self.load(name).id
        found: list[tuple[str, str]] = []
        for n in self._trigger_candidates(key):
            t = self.load(n)
            for d in t.dependencies:
                if d.kind is Dep.TRIGGERS and self.load(d.target).id == key:
                    found.append((n, "triggers"))
            accept = t.last("Socket", "Accept") if n.endswith(".socket") else None
            if accept is not None and unitfile.parse_boolean(accept.value) and names.prefix_of(n) + "@.service" == key:
                found.append((n, "accept"))
        found += self._instance_triggers(name)
        out: list[tuple[str, str]] = []
        for unit, how in found:
            text = (f"{unit} triggers {name}" if how == "triggers"
                    else f"{unit} (Accept=yes) starts an instance of {name} per connection")
            if (unit, text) not in out:
                out.append((unit, text))
        return out

    def _instance_triggers(self, name: str) -> list[tuple[str, str]]:
        """(unit, "triggers") for the same instance of a socket/timer/path template that triggers ``name``.

        ``chrony-dnssrv@x.timer`` (from ``chrony-dnssrv@.timer``) triggers ``chrony-dnssrv@x.service``: the
        template's Triggers= target is computed for the instance, so the trigger is named with the instance,
        never with ``%i``.
        """
        if names.kind_of(name) is not names.NameKind.INSTANCE:
            return []
        prefix, inst = names.prefix_of(name), names.instance_of(name)
        uid = self.load(name).id
        out = []
        for t in ("socket", "timer", "path"):
            if not self.cat.entries(f"{prefix}@.{t}"):
                continue
            trig = f"{prefix}@{inst}.{t}"
            u = self.load(trig)
            if any(d.kind is Dep.TRIGGERS and self.load(d.target).id == uid for d in u.dependencies):
                out.append((trig, "triggers"))
        return out

    def _trigger_candidates(self, key: str) -> list[str]:
        """Trigger units (sorted) that may trigger the unit loaded as ``key``: a superset, never fewer."""
        hints = self.cat.derived("manager.triggers", TriggerHints.build)
        if hints.dropins_name(lambda t: self._may_be(t, key)):
            return list(hints.all)  # a drop-in may redirect any trigger: ask every one of them
        found = [n for n in hints.all
                 if n in hints.unsure or any(self._may_be(t, key) for t in hints.targets[n])
                 or (n.endswith(".socket") and names.prefix_of(n) + "@.service" == key)]
        return found

    def _may_be(self, target: str, key: str) -> bool:
        """Whether ``load(target).id`` may be ``key``: it is ``key``, or its name map leads there."""
        return target == key or self._id_of(target) == key

    def _id_of(self, name: str) -> str:
        """The id ``load(name)`` gives when the fragment parses (the first step of ``_load``), without loading."""
        if not names.is_valid(name):
            return name
        fragment = self.namemap.fragment_of(name)
        if fragment is None and names.kind_of(name) is names.NameKind.INSTANCE:
            fragment = self.namemap.fragment_of(names.template_of(name))
        return _unit_id(name, fragment)

    def load(self, name: str) -> Unit:
        u = self._units.get(name)
        if u is None:
            u = self._units[name] = self._load(name)
        return u

    def condition_environment(self) -> condition.Environment:
        """What conditions are tested against (made on first use)."""
        if self._condition_env is None:
            self._condition_env = condition.Environment(self.cat.root, self.host, self.scope.value)
        return self._condition_env

    def time_zones(self) -> calendar.TimeZones:
        """What parsing ``OnCalendar=`` asks of the system, from this root (made on first use)."""
        if self._zones is None:
            self._zones = root_time_zones(self.cat.root)
        return self._zones

    def exec_checker(self) -> execute.Checker:
        """The exec checks of this manager's root (made on first use)."""
        if self._exec is None:
            self._exec = execute.Checker(self)
        return self._exec

    @staticmethod
    def service_type(unit: Unit) -> str:
        """Type= of a loaded service (see ``settled_type``)."""
        start = exec_lists(unit.assignments)["ExecStart"]
        return settled_type(unit.assignments, bus_name(unit.assignments) is not None, bool(start))

    @staticmethod
    def exec_commands(unit: Unit) -> dict[str, list[unitfile.Assignment]]:
        """The commands per Exec*= key that the manager keeps for ``unit`` (see ``exec_lists``)."""
        return exec_lists(list(unit.assignments))

    def expand(self, unit_id: str, fragment: Optional[str], text: str, *,
               table: frozenset[str] = specifiers.FULL_SPECIFIERS,
               max_length: int = specifiers.LINE_MAX) -> specifiers.Expanded:
        """``unit_full_printf`` (or with ``table``, ``unit_name_printf``) of ``text`` for a unit;
        raises SpecifierError as systemd fails."""
        return specifiers.expand(text, specifiers.UnitNames(unit_id, fragment), self.host, table, max_length)

    # The order of this function is the order of unit_load_fragment(), then unit_load().
    def _load(self, name: str) -> Unit:
        utype = name.rsplit(".", 1)[-1]
        if not names.is_valid(name):
            # manager_load_unit_prepare(): "Unit name X is not valid." (callers validate names first).
            return Unit(name, name, (name,), LoadState.ERROR,
                        LoadError("EINVAL", "org.freedesktop.DBus.Error.InvalidArgs",
                                  f"Unit name {name} is not valid."),
                        None, (), (), (), ())
        fragment, unit_names = self.namemap.find_fragment(name)
        unit_id = _unit_id(name, fragment)
        clash = self._merge_clash(name, unit_names + (unit_id,))
        if clash is not None:
            return clash
        diags: list[unitfile.Diagnostic] = []
        assignments: list[unitfile.Assignment] = []
        forigin = Origin(fragment, None, _layer(self.cat, fragment)) if fragment else None

        def result(state: LoadState, errno: str = "", origin: Optional[Origin] = None,
                   dropins: tuple[unitfile.DropIn, ...] = (), deps: tuple[Dependency, ...] = (),
                   ) -> Unit:
            return Unit(name, unit_id, unit_names or (name,), state, load_error_for(state, unit_id, errno, origin),
                        fragment, dropins, tuple(assignments), tuple(diags), deps)

        # No fragment: not-found for types that need one; device, slice, scope load without.
        if fragment is None:
            if utype in NEEDS_FRAGMENT:
                return result(LoadState.NOT_FOUND)
            return self._finish(name, unit_id, unit_names, None, None, assignments, diags, result)
        # A regular file listed in a search dir is read where it was listed (no second chase); any
        # other fragment, or a read that fails, takes the general path below, which says why.
        data = self._read_listed(fragment)
        if data is None:
            # Open the fragment following links inside the root; an empty file or char device is a mask.
            try:
                masked = self.cat.root.is_null_or_empty(fragment)
            except OSError as e:
                import errno as _e

                if e.errno == _e.ENOENT:
                    return result(LoadState.NOT_FOUND, "ENOENT", forigin)
                return result(LoadState.ERROR, _errname(e), forigin)
            if not masked:
                try:
                    data = self.cat.root.read(fragment)
                except OSError as e:
                    return result(LoadState.ERROR, _errname(e), forigin)
        if not data:
            # An empty file (or /dev/null, a char device) masks the unit.
            if unit_id in PERPETUAL:
                return result(LoadState.LOADED)
            # 252 still collects drop-ins of a masked unit (fact sheet §4.4).
            return result(LoadState.MASKED, "", forigin, dropins=self._dropins(unit_id, unit_names))
        sections = TYPE_SECTIONS.get(utype, ("Unit",))
        parsed = unitfile.parse(data, fragment, layer=forigin.layer if forigin else None, sections=sections)
        diags.extend(parsed.diagnostics)
        kept, failure = parse_failure(parsed, diags, lambda text: self.expand(unit_id, fragment, text))
        assignments.extend(kept)
        if failure is not None:
            # config_parse() failed, so unit_load_fragment() returns before merge_by_names(): the unit
            # keeps the name it was asked for and is not merged into the fragment's unit, and
            # unit_load() turns ENOEXEC into bad-setting, anything else into error.
            unit_id, unit_names = name, (name,)
            errno, origin = failure
            state = LoadState.BAD_SETTING if errno == "ENOEXEC" else LoadState.ERROR
            return result(state, errno, origin or forigin)
        return self._finish(name, unit_id, unit_names, fragment, forigin, assignments, diags, result)

    def _merge_clash(self, name: str, unit_names: tuple[str, ...]) -> Optional[Unit]:
        """The unit ``name`` becomes when one of its other names is already a loaded unit that does not carry it.

        ``merge_by_names`` (load-fragment.c, v252) merges only into a unit that is still a stub or not-found
        (``unit_merge``): a name of ours that the running manager already holds as a loaded, masked or
        broken unit without our name among its own fails the load with EEXIST, in both directions. A unit
        loaded from its fragment carries its aliases, so a running ssh.service answers to sshd.service; a
        masked one carries only its own name, and neither does an instance with its own file carry the
        instance names of its template's aliases.
        """
        if name in self.load_failures:
            return self._eexist(name)
        if not self.loaded or name in self.loaded:
            return None
        for other in unit_names:
            if other == name or other not in self.loaded:
                continue
            held = self.load(other)
            if held.load_state is LoadState.NOT_FOUND or name in held.names:
                continue
            return self._eexist(name)
        return None

    @staticmethod
    def _eexist(name: str) -> Unit:
        return Unit(name, name, (name,), LoadState.ERROR, load_error_for(LoadState.ERROR, name, "EEXIST"),
                    None, (), (), (), ())

    def merge_partners(self, name: str) -> tuple[str, ...]:
        """Other names loading ``name`` merges into its unit whose own unit would not carry ``name`` (masked
        units, instances with a file of their own): where the load order decides between merge and EEXIST."""
        u = self.load(name)
        out = []
        for other in dict.fromkeys(u.names + (u.id,)):
            if other != name and name not in self.load(other).names:
                out.append(other)
        return tuple(out)

    def with_load_failures(self, failed: frozenset[str]) -> Manager:
        """This manager, but the names in ``failed`` fail to load with EEXIST (see ``transaction.load_order``)."""
        new = object.__new__(Manager)
        new.__dict__.update(self.__dict__)
        new.load_failures = self.load_failures | failed
        new._units = {}
        return new

    def _finish(self, name: str, unit_id: str, unit_names: tuple[str, ...], fragment: Optional[str],
                forigin: Optional[Origin], assignments: list[unitfile.Assignment], diags: list[unitfile.Diagnostic],
                result: _LoadResult) -> Unit:
        utype = unit_id.rsplit(".", 1)[-1]
        if utype == "slice" and not slice_name_is_valid(unit_id):
            # slice_load() cannot build the parent of a name like "user-.slice" or "a--b.slice": EINVAL.
            return result(LoadState.ERROR, "EINVAL", forigin)
        dropins = self._dropins(unit_id, unit_names)
        sections = TYPE_SECTIONS.get(utype, ("Unit",))
        # unit_load_dropin() ignores what config_parse() returns for a drop-in: a drop-in that cannot
        # be read, or that fails at some line (bad header, invalid UTF-8, a fatal Exec*= setting),
        # contributes the assignments before that line and the unit still loads.
        for d in dropins:
            if d.masked:
                continue
            try:
                data = self.cat.root.read(d.path)
            except OSError as e:
                diags.append(unitfile.Diagnostic("warning", f"Failed to open {d.path}, ignoring: {e.strerror}",
                                                 Origin(d.path)))
                continue
            p = unitfile.parse(data, d.path, layer=d.layer, sections=sections)
            diags.extend(p.diagnostics)
            kept, _failure = parse_failure(p, diags, lambda text: self.expand(unit_id, fragment, text))
            assignments.extend(kept)
        diags.extend(_unknown_keys(assignments, unit_id))
        deps = self._dependencies(unit_id, unit_names, assignments, diags, fragment)
        conds, asserts = condition.parse(
            assignments, lambda text, limit: self.expand(unit_id, fragment, text, max_length=limit), diags)
        timer, socket, paths = None, None, None

        def expand(text: str) -> specifiers.Expanded:
            return self.expand(unit_id, fragment, text)

        if utype == "timer":
            timer = timer_values(assignments, expand, self.time_zones(), diags)
        elif utype == "socket":
            socket = socket_values(assignments, expand,
                                   lambda a: self._trigger_target(unit_id, a, [], fragment) is not None, diags)
        elif utype == "path":
            paths = path_specs(assignments, lambda text: self.expand(unit_id, fragment, text, max_length=4095),
                               diags)
        diags.extend(ignored_settings(assignments))
        bad = verify(unit_id, assignments, diags, timer, socket, paths, expand)
        if bad is not None:
            return result(LoadState.BAD_SETTING, "ENOEXEC", bad, dropins=dropins, deps=tuple(deps))
        return replace(result(LoadState.LOADED, dropins=dropins, deps=tuple(deps)),
                       conditions=conds, asserts=asserts)

    def _read_listed(self, path: str) -> Optional[bytes]:
        """The bytes of ``path`` if the scan listed it as a regular file and it reads; else None."""
        e = self.cat.entry_at(path)
        if e is None or not e.is_reg:
            return None
        real = self.cat.real_path(e)
        if real is None:
            return None
        try:
            return self.cat.root.read(real, resolved=True)
        except OSError:
            return None

    # -- drop-ins and links ------------------------------------------------------------------

    def dropin_dir_names(self, unit_id: str, unit_names: tuple[str, ...], suffix: str) -> list[str]:
        """Directory names in collection order for one search dir (§5.5), type dir excluded."""
        key = (unit_id, unit_names)
        bases = self._dropin_bases.get(key)
        if bases is None:
            found: dict[str, None] = {}
            for n in [unit_id] + [x for x in unit_names if x != unit_id]:
                found.update(dict.fromkeys(names.dropin_names(n)))
            bases = self._dropin_bases[key] = tuple(found)
        return [b + suffix for b in bases]

    def _dropins(self, unit_id: str, unit_names: tuple[str, ...]) -> tuple[unitfile.DropIn, ...]:
        cands: list[unitfile.DropIn] = []
        # Only names some search dir has (one set lookup each); then in collection order.
        dir_names = [dn for dn in self.dropin_dir_names(unit_id, unit_names, ".d") if self.cat.has_subdir(dn)]
        utype = unit_id.rsplit(".", 1)[-1]
        for li in self.cat.listings if dir_names else ():
            for dn in dir_names:
                sub = li.subdirs.get(dn)
                if sub is not None:
                    cands.extend(_conf_files(self.cat, sub))
        for sub in self.cat.subdirs(utype + ".d"):
            cands.extend(_conf_files(self.cat, sub))
        return unitfile.merge_dropins(cands)

    def _link_deps(self, unit_id: str, unit_names: tuple[str, ...],
                   diags: list[unitfile.Diagnostic]) -> list[Dependency]:
        deps = []
        for suffix, kind in LINK_DIRS.items():
            seen: set[str] = set()
            for dn in self.dropin_dir_names(unit_id, unit_names, suffix):
                if not self.cat.has_subdir(dn):
                    continue
                for li in self.cat.listings:
                    sub = li.subdirs.get(dn)
                    if sub is None:
                        continue
                    for n, e in sorted(sub.entries.items()):
                        if hidden_or_backup(n) or n in seen:
                            continue
                        if not names.is_valid(n):
                            continue
                        seen.add(n)
                        if not e.is_symlink:
                            diags.append(unitfile.Diagnostic(
                                "warning", f"{kind.value} dependency dropin {e.path} is not a symlink, ignoring.",
                                Origin(e.path)))
                            continue
                        if is_null(self.cat, normalize_link(e.parent, e.target or "")):
                            diags.append(unitfile.Diagnostic(
                                "info", f"{kind.value} dependency on {n} is masked by {e.path}, ignoring.",
                                Origin(e.path)))
                            continue
                        target = n
                        if (names.kind_of(n) is names.NameKind.TEMPLATE
                                and names.kind_of(unit_id) is names.NameKind.INSTANCE):
                            target = names.with_instance(n, names.instance_of(unit_id) or "")
                        deps.append(Dependency(kind, unit_id, target, Origin(e.path, None, li.dir.role.value),
                                               "link"))
        return deps

    def _name_value(self, unit_id: str, fragment: Optional[str], word: str, a: unitfile.Assignment,
                    diags: list[unitfile.Diagnostic], quote: bool = True) -> Optional[str]:
        """``unit_name_printf`` of one word of a setting that names a unit; None (with systemd's
        warning, or a note that the value is not known offline) when it does not resolve."""
        try:
            e = self.expand(unit_id, fragment, word, table=specifiers.NAME_SPECIFIERS,
                            max_length=specifiers.NAME_MAX)
        except specifiers.SpecifierError as err:
            shown = f"'{word}'" if quote else word
            diags.append(unitfile.Diagnostic(
                "warning", f"Failed to resolve unit specifiers in {shown}, ignoring: {specifiers.strerror(err.errno)}",
                a.origin))
            return None
        if e.unknown:
            diags.append(unitfile.Diagnostic(
                "info", f"{a.key}={word} not followed: " + "; ".join(f"%{c}: {why}" for c, why in e.unknown),
                a.origin))
            return None
        return e.text

    def _dependencies(self, unit_id: str, unit_names: tuple[str, ...], assignments: Sequence[unitfile.Assignment],
                      diags: list[unitfile.Diagnostic], fragment: Optional[str] = None) -> list[Dependency]:
        deps: list[Dependency] = []
        utype = unit_id.rsplit(".", 1)[-1]
        for a in assignments:
            if a.section != "Unit" or a.key not in _DEP_KEYS:
                continue
            kind = _DEP_KEYS[a.key]
            via = "drop-in" if a.origin.path.endswith(".conf") else "fragment"
            for word in _words(a.value):
                target = self._name_value(unit_id, fragment, word, a, diags)
                if target is None:
                    continue
                if not names.is_valid(target, _PLAIN_OR_INSTANCE):
                    diags.append(unitfile.Diagnostic(
                        "warning", f"Failed to add dependency on {target}, ignoring: Invalid argument", a.origin))
                    continue
                deps.append(Dependency(kind, unit_id, target, a.origin, via))
        deps.extend(self._link_deps(unit_id, unit_names, diags))
        deps.extend(self._implicit(unit_id, utype, assignments, diags, fragment))
        return deps

    def _slice(self, unit_id: str, utype: str, assignments: Sequence[unitfile.Assignment],
               diags: list[unitfile.Diagnostic], fragment: Optional[str]) -> Optional[unitfile.Assignment]:
        """The Slice= line in effect and the slice it names, as ``config_parse_unit_slice`` takes them
        (load-fragment.c): each line is expanded and loaded at once; one that fails is ignored with a
        warning and leaves the slice set by an earlier line (or the default)."""
        chosen: Optional[tuple[unitfile.Assignment, str]] = None
        for a in assignments:
            if a.section != utype.capitalize() or a.key != "Slice":
                continue
            name = self._name_value(unit_id, fragment, a.value, a, diags, quote=False)
            if name is None:
                continue
            if not names.is_valid(name):
                diags.append(unitfile.Diagnostic(
                    "warning", f"Failed to load slice unit {name}, ignoring: Unit name {name} is not valid.",
                    a.origin))
                continue
            if names.kind_of(name) is not names.NameKind.PLAIN and name.endswith(".slice"):
                diags.append(unitfile.Diagnostic(
                    "warning", f"Failed to load slice unit {name}, ignoring: Invalid argument", a.origin))
                continue
            if not name.endswith(".slice"):
                diags.append(unitfile.Diagnostic(
                    "warning", f"Failed to assign slice {name} to unit {unit_id}, ignoring: Invalid argument",
                    a.origin))
                continue
            chosen = (a, name)
        if chosen is None:
            return None
        a, name = chosen
        return unitfile.Assignment(a.section, a.key, name, a.origin)

    def _trigger_target(self, unit_id: str, a: unitfile.Assignment, diags: list[unitfile.Diagnostic],
                        fragment: Optional[str]) -> Optional[str]:
        """Service= of a socket, Unit= of a timer or path: expanded, of the right type, or None
        (``config_parse_socket_service``, ``config_parse_trigger_unit``)."""
        name = self._name_value(unit_id, fragment, a.value, a, diags, quote=False)
        if name is None:
            return None
        if a.key == "Service":
            if not names.is_valid(name, _PLAIN_OR_INSTANCE) or not name.endswith(
                    ".service"):
                diags.append(unitfile.Diagnostic("warning", f"Unit must be of type service, ignoring: {name}",
                                                 a.origin))
                return None
            return name
        t = names.unit_type(name) if names.is_valid(name, _PLAIN_OR_INSTANCE) else None
        if t is None:
            diags.append(unitfile.Diagnostic("warning", f"Unit type not valid, ignoring: {name}", a.origin))
            return None
        if name == unit_id:
            diags.append(unitfile.Diagnostic("warning", f"Units cannot trigger themselves, ignoring: {name}",
                                             a.origin))
            return None
        return name

    def _implicit(self, unit_id: str, utype: str, assignments: Sequence[unitfile.Assignment],
                  diags: Optional[list[unitfile.Diagnostic]] = None, fragment: Optional[str] = None,
                  ) -> list[Dependency]:
        """Dependencies systemd adds by itself: triggers, slices, default dependencies."""
        out = []

        def last(section: str, key: str) -> Optional[unitfile.Assignment]:
            for a in reversed(assignments):
                if a.section == section and a.key == key:
                    return a
            return None

        implicit = Origin(f"(implicit: {unit_id})")
        if diags is None:
            diags = []
        if utype == "socket":
            accept = last("Socket", "Accept")
            svc = last("Socket", "Service")
            target = self._trigger_target(unit_id, svc, diags, fragment) if svc and svc.value else None
            if not (accept and unitfile.parse_boolean(accept.value)):
                if svc and target:
                    out.append(Dependency(Dep.TRIGGERS, unit_id, target, svc.origin, "fragment"))
                else:
                    out.append(Dependency(Dep.TRIGGERS, unit_id, _swap_suffix(unit_id, "service"), implicit,
                                          "implicit"))
        elif utype in ("timer", "path"):
            u = last(utype.capitalize(), "Unit")
            target = self._trigger_target(unit_id, u, diags, fragment) if u and u.value else None
            if u and target:
                out.append(Dependency(Dep.TRIGGERS, unit_id, target, u.origin, "fragment"))
            else:
                out.append(Dependency(Dep.TRIGGERS, unit_id, _swap_suffix(unit_id, "service"), implicit,
                                      "implicit"))
        if utype in ("service", "socket", "mount", "swap", "scope", "slice") and unit_id != "-.slice":
            sl = self._slice(unit_id, utype, assignments, diags, fragment)
            if sl is not None:
                out.append(Dependency(Dep.SLICE, unit_id, sl.value, sl.origin, "fragment"))
            elif utype == "slice":
                parent = _parent_slice(unit_id)
                out.append(Dependency(Dep.SLICE, unit_id, parent, implicit, "implicit"))
            elif utype in ("service", "scope") or self.scope is Scope.SYSTEM:
                default = "system.slice" if self.scope is Scope.SYSTEM else "app.slice"
                out.append(Dependency(Dep.SLICE, unit_id, default, implicit, "implicit"))
        dd = last("Unit", "DefaultDependencies")
        if (self.scope is Scope.SYSTEM and (dd is None or unitfile.parse_boolean(dd.value) is not False)
                and utype in ("service", "socket", "timer", "path")):
            out.append(Dependency(Dep.REQUIRES, unit_id, "sysinit.target",
                                  Origin(f"(default dependencies of {unit_id})"), "default"))
        return out


def _unit_id(name: str, fragment: Optional[str]) -> str:
    """The id a unit loaded as ``name`` gets from its fragment's name (``unit_load_fragment``'s merge)."""
    if fragment is None:
        return name
    base = posixpath.basename(fragment)
    if names.kind_of(base) is names.NameKind.TEMPLATE and names.kind_of(name) is names.NameKind.INSTANCE:
        base = names.with_instance(base, names.instance_of(name) or "")
    if names.is_valid(base) and base.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1]:
        return base
    return name


def slice_name_is_valid(name: str) -> bool:
    """``slice_name_is_valid`` (unit-name.c): a plain name whose prefix has no leading, trailing or double
    dash; ``-.slice`` is the root slice."""
    if name == "-.slice":
        return True
    if not names.is_valid(name, names.NameKind.PLAIN) or not name.endswith(".slice"):
        return False
    prefix = name[: -len(".slice")]
    return not (prefix.startswith("-") or prefix.endswith("-") or "--" in prefix)


def _parent_slice(name: str) -> str:
    prefix = name[: -len(".slice")]
    if prefix == "-" or "-" not in prefix:
        return "-.slice"
    return prefix.rsplit("-", 1)[0] + ".slice"


def _swap_suffix(name: str, new: str) -> str:
    return name.rsplit(".", 1)[0] + "." + new


def _words(value: str) -> list[str]:
    from .install import _unquote_words

    return _unquote_words(value)


def _conf_files(cat: Catalog, sub: SubDir) -> list[unitfile.DropIn]:
    out: list[unitfile.DropIn] = []
    for n, e in sorted(sub.entries.items()):
        if hidden_or_backup(n) or not n.endswith(".conf"):
            continue
        masked = (is_null(cat, normalize_link(e.parent, e.target or "")) if e.is_symlink
                  else e.is_empty_or_chardev)
        out.append(unitfile.DropIn(n, e.path, masked, sub.dir.role.value))
    return out


def _layer(cat: Catalog, path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    li = cat.listing_for(posixpath.dirname(path))
    return li.dir.layer if li is not None else None


def _errname(e: OSError) -> str:
    from .rootfs import errno_name

    return errno_name(e)


def _unknown_keys(assignments: Sequence[unitfile.Assignment], unit_id: str) -> list[unitfile.Diagnostic]:
    out = []
    for a in assignments:
        known = DIRECTIVES.get(a.section)
        if known is None or a.key in known or a.key.startswith("X-"):
            continue
        out.append(unitfile.Diagnostic(
            "warning", f"Unknown key '{a.key}' in section [{a.section}], ignoring.", a.origin))
    return out
