"""The unit's own file: not found (with close names), syntax problems, bad settings, load errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .. import names
from ..findings import Evidence, Finding, Severity
from ..lookup import LookupPaths, Scope
from ..manager import LoadState, Unit
from ..origin import Origin
from ..unitfile import Diagnostic

if TYPE_CHECKING:
    from . import Context


def _fatal(d: Diagnostic) -> bool:
    """Diagnostics that fail the whole parse: bad headers (errors) and invalid UTF-8 (logged as a warning)."""
    return d.severity == "error" or d.message.startswith("String is not UTF-8 clean")


def suggestions(ctx: Context, name: str) -> list[str]:
    """Close names: typos of the same type, the template to instantiate, the same name with another type."""
    cat = ctx.catalog
    stem, _, suffix = name.rpartition(".")
    by_stem: dict[str, list[str]] = {}
    for n in cat.names():
        if names.is_valid(n):
            st, _, sx = n.rpartition(".")
            by_stem.setdefault(st, []).append(n)
    out: list[str] = []
    if names.kind_of(name) is names.NameKind.PLAIN and f"{stem}@.{suffix}" in by_stem.get(f"{stem}@", []):
        out.append(f"{stem}@INSTANCE.{suffix} (an instance of {stem}@.{suffix})")
    out.extend(sorted(n for n in by_stem.get(stem, []) if n != name))
    same_type = [st for st, ns in by_stem.items() if any(n.endswith("." + suffix) for n in ns) and st != stem]
    import difflib

    for st in difflib.get_close_matches(stem, same_type, n=3, cutoff=0.8):
        out.append(f"{st}.{suffix}")
    # a name that does not load (a dangling alias, a broken link) is not worth suggesting
    return [x for i, x in enumerate(out) if x not in out[:i] and (" " in x or _loads(ctx, x))]


def _loads(ctx: Context, name: str) -> bool:
    try:
        return ctx.manager.load(name).load_state is not LoadState.NOT_FOUND
    except ValueError:
        return False


def other_scope(ctx: Context, name: str) -> list[str]:
    cat = ctx.catalog
    scope = cat.lookup.scope
    if scope is Scope.SYSTEM:
        other = LookupPaths.for_scope(Scope.GLOBAL, rooted=True)
        label = "user"
    else:
        other = LookupPaths.for_scope(Scope.SYSTEM, rooted=True)
        label = "system"
    hits = []
    for d in other.search_path:
        try:
            cat.root.lstat(f"{d.path}/{name}")
        except OSError:
            continue
        hits.append(f"{label} unit at {cat.root.display(d.path + '/' + name)}")
    return hits


def _located(ctx: Context, u: Unit, origin: Origin) -> str:
    """``origin`` as evidence shows it; a whole-unit origin (``verify``'s, no file) is the unit's fragment."""
    if not origin.path.startswith("/") and u.fragment:
        return ctx.catalog.root.display(u.fragment)
    return ctx.where(origin)


def setting_problems(ctx: Context, u: Unit) -> tuple[tuple[Evidence, ...], tuple[str, ...]]:
    """Evidence (file:line) and concrete edits for a unit that is ``bad-setting`` or fails to load.

    Each fatal diagnostic gives ``edit FILE:LINE: what systemd says``. A missing ``ExecStart=`` is traced to
    the line that emptied it (``ExecStart=`` with no value resets the list, typically in a drop-in): that line
    is named, and the edit is to delete it or to add a command after it.
    """
    fatal = [d for d in u.diagnostics if (d.severity == "error" if u.load_state is LoadState.BAD_SETTING
                                          else _fatal(d))]
    kind = "setting" if u.load_state is LoadState.BAD_SETTING else "syntax"
    ev = [Evidence(kind, _located(ctx, u, d.origin), d.message) for d in fatal]
    if not ev and u.load_error and u.load_error.origin:
        ev = [Evidence("file", _located(ctx, u, u.load_error.origin), u.load_error.message)]
    fixes: list[str] = []
    for d in fatal:
        if "has no ExecStart=" in d.message:
            starts = u.settings("Service", "ExecStart")
            reset = next((a for a in reversed(starts) if not a.value.strip()), None)
            if reset is not None and reset is starts[-1]:
                where = ctx.where(reset.origin)
                ev.append(Evidence("setting", where, "ExecStart= with no value empties the list: every ExecStart= "
                                                     "before it is dropped, and none follows"))
                fixes.append(f"edit {where}: delete the empty 'ExecStart=' line, or add 'ExecStart=COMMAND' after it")
            else:
                fixes.append(f"edit {_located(ctx, u, d.origin)}: add 'ExecStart=COMMAND' to the [Service] section")
        else:
            fixes.append(f"edit {_located(ctx, u, d.origin)}: {d.message.rstrip('.')}")
    if not fixes and ev:
        fixes.append(f"edit {ev[0].source}: {ev[0].text.rstrip('.')}")
    if fixes and ctx.live:
        fixes.append(f"systemctl {ctx.scope_flag}daemon-reload  # after the edit")
    return tuple(ev), tuple(dict.fromkeys(fixes))


def check(ctx: Context) -> Iterator[Finding]:
    u = ctx.unit
    if u.load_state is LoadState.NOT_FOUND:
        found: list[Evidence] = []
        if u.fragment:
            found.append(Evidence("link", ctx.catalog.root.display(u.fragment),
                                  "dangling: the file it names is missing"))
        sug = suggestions(ctx, u.name)
        found.extend(Evidence("suggestion", s, "a unit with a similar name exists") for s in sug)
        elsewhere = other_scope(ctx, u.name)
        found.extend(Evidence("scope", s, "exists in the other scope") for s in elsewhere)
        advice = [f"did you mean {s}?" for s in sug]
        if elsewhere:
            other = "--user" if ctx.catalog.lookup.scope is Scope.SYSTEM else "--system"
            root = "" if ctx.catalog.root.is_host else f"--root={ctx.catalog.root.given} "
            advice.append(f"unitdoctor {root}{other} why {u.name}")
        if not advice and not u.fragment:
            advice.append(f"install the package that ships {u.name}")
        yield Finding("not-found", Severity.ERROR, u.name, f"Unit {u.name} could not be found.", tuple(found),
                      tuple(advice))
    elif u.load_state is LoadState.BAD_SETTING:
        ev, fixes = setting_problems(ctx, u)
        yield Finding("bad-setting", Severity.ERROR, u.name, f"Unit {u.id} has a bad unit file setting.", ev, fixes)
    elif u.load_state is LoadState.ERROR:
        ev, fixes = setting_problems(ctx, u)
        yield Finding("load-error", Severity.ERROR, u.name, u.load_error.message if u.load_error else "load error",
                      ev, fixes)
    for d in u.diagnostics:
        if d.severity == "unknown":
            # The load state hangs on a fact the root does not give (loadfragment.verify says which).
            yield Finding("load-state-unknown", Severity.WARNING, u.name, d.message,
                          (Evidence("setting", ctx.where(d.origin), d.message),))
        elif d.severity == "warning" and not (u.load_state is LoadState.ERROR and _fatal(d)):
            yield Finding("syntax-warning", Severity.WARNING, u.name, f"{d.message} (systemd ignores it)",
                          (Evidence("syntax", ctx.where(d.origin), d.message),))
