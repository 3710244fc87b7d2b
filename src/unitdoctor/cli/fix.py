"""Command line for ``fix``, ``history`` and ``undo``: argparse → plan/fix/journal → render/fix → exit status.

Exit status: 0 done and every unit fine (``undo``: restored); 1 something is still wrong, an action was
refused, or a fix was interrupted earlier and must be recovered first; 2 bad input (an invalid unit name,
an unknown journal entry, or asked to act on a non-terminal without ``--yes``).

Interrupted fixes (a crash, kill -9, power loss) are found on the next run: ``fix`` refuses to start another
one and names the two ways out, ``unitdoctor fix --recover`` (complete it) or ``unitdoctor undo ID`` (roll it
back). ``history`` shows them as ``interrupted``.

Only argparse is imported at module level; the engine, the journal and the bus are imported when a command
runs, so ``unitdoctor --version`` loads none of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from .common import (
    EXIT_NOPERMISSION,
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_USAGE,
    UsageError,
    add_common,
    emit_json,
    mangle,
    open_catalog,
)

if TYPE_CHECKING:
    from ..fix import ManagerOps, Outcome
    from ..journal import Entry, Journal
    from ..rootfs import Root


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``fix``, ``history`` and ``undo`` to the subparsers ``sub``."""
    common = add_common
    fx = sub.add_parser("fix", help="repair what why found: print the plan, ask, act (journaled, undoable)")
    common(fx, suppress=True)
    fx.add_argument("units", nargs="*", metavar="UNIT")
    fx.add_argument("--dry-run", action="store_true", help="print the plan and change nothing at all")
    fx.add_argument("--yes", "-y", action="store_true",
                    help="act without asking (required when stdin is not a terminal)")
    fx.add_argument("--no-start", action="store_true", help="live: do not start the units afterwards")
    fx.add_argument("--runtime-only", action="store_true",
                    help="change only runtime layers (/run): masks there, enable --runtime; gone at reboot")
    fx.add_argument("--recover", action="store_true",
                    help="complete fixes that were interrupted (crash, kill); `undo ID` rolls one back instead")
    hi = sub.add_parser("history", help="the fixes recorded in the journal")
    common(hi, suppress=True)
    un = sub.add_parser("undo", help="restore exactly what a fix changed (default: the latest fix)")
    common(un, suppress=True)
    un.add_argument("entry", nargs="?", metavar="ID", help="journal entry (see history); a unique prefix will do")
    un.add_argument("--dry-run", action="store_true", help="print what undo would restore and change nothing")
    un.add_argument("--yes", "-y", action="store_true",
                    help="act without asking (required when stdin is not a terminal)")
    return {"fix": run, "history": run, "undo": run}


def run(args: argparse.Namespace) -> int:
    from ..fix import InvalidPlan
    from ..journal import JournalError

    _opened.clear()
    try:
        if args.command == "fix":
            return _recover(args) if args.recover else _fix(args)
        if args.command == "history":
            return _history(args)
        if args.command == "undo":
            return _undo(args)
    except InvalidPlan as e:
        print(f"unitdoctor: {e}", file=sys.stderr)
        return EXIT_USAGE
    except JournalError as e:
        print(f"unitdoctor: {e}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        if not getattr(args, "json", False) or args.command != "history":
            _note_unreadable()
    raise AssertionError(args.command)


# -- shared -------------------------------------------------------------------------------------------


def _cmd(args: argparse.Namespace, verb: str) -> str:
    """The unitdoctor command line that addresses the same journal: ``unitdoctor --root=R VERB``."""
    flags = []
    if getattr(args, "root", None):
        flags.append(f"--root={args.root}")
    if getattr(args, "scope", None) in ("user", "global"):
        flags.append(f"--{args.scope}")
    return " ".join(["unitdoctor", *flags, verb])


def _root(args: argparse.Namespace) -> Root:
    from ..rootfs import Root

    try:
        return Root(args.root or "/")
    except OSError as e:
        raise UsageError(f"Failed to initialize unit search paths for root directory {args.root}: "
                         f"{e.strerror}") from None


def _journal(args: argparse.Namespace, root: Root) -> Journal:
    from ..journal import Journal

    journal = Journal.for_scope(args.scope or "system", root, dict(os.environ))
    _opened.append(journal)
    return journal


def _manager_journal(args: argparse.Namespace, root: Root, *, existing: bool = False) -> Optional[Journal]:
    """An unprivileged user's journal of the live system's fixes made through the manager (polkit):
    ``$XDG_STATE_HOME/unitdoctor/system/``. None for root, another scope or root directory, and (``existing``)
    when it was never made."""
    from ..journal import Journal

    if os.geteuid() == 0 or (args.scope or "system") != "system" or not root.is_host:
        return None
    journal = Journal.for_manager(root, dict(os.environ))
    if existing and not journal.exists():
        return None
    _opened.append(journal)
    return journal


#: The journals this command read: entries they could not use are noted once, at the end (``run``).
_opened: list[Journal] = []


def _note_unreadable() -> None:
    """One line per journal entry that was skipped (malformed, not a regular file…): never a stop."""
    seen: set[str] = set()
    for j in _opened:
        for msg in j.unreadable:
            if msg not in seen:
                seen.add(msg)
                print(f"Note: skipped a journal entry: {msg}", file=sys.stderr)
    _opened.clear()


def _manager_ops(args: argparse.Namespace, root: Root) -> tuple[ManagerOps, bool, Optional[str], Callable[[], None]]:
    """(ops, live, note, close): the running manager for the host, else ``OfflineOps`` and why."""
    from ..fix import OfflineOps
    from ..live import ManagerError

    def nothing() -> None:
        return None

    scope = args.scope or "system"
    if not root.is_host:
        return OfflineOps(), False, None, nothing
    if args.offline:
        return OfflineOps(), False, "--offline: files only, nothing is reloaded or started", nothing
    if scope == "global":
        return OfflineOps(), False, "--global: no single manager runs these unit files; files only", nothing
    from .. import bus

    try:
        mb = bus.connect(scope, os.environ)
    except ImportError:  # jeepney, imported by bus.py only when connecting
        return (OfflineOps(), False, "no D-Bus support (pip install 'unitdoctor[live]'): files only, nothing is "
                "reloaded or started", nothing)
    except bus.PermissionDenied as e:
        hint = f"; as root: {e.command}" if e.command else ""
        return OfflineOps(), False, f"{e}{hint}: files only, nothing is reloaded or started", nothing
    except ManagerError as e:
        return OfflineOps(), False, f"{e}: files only, nothing is reloaded or started", nothing
    return bus.LiveOps(mb), True, None, mb.close  # bus errors are fix.ManagerError (live.py)


def _stuck_note(args: argparse.Namespace, journal: Journal) -> tuple[list[Entry], Optional[str]]:
    """Interrupted entries (read only; nothing is created) and the note that names the ways out.

    A journal we may not read (root's, for a user) hides nothing the plan needs: the note says so.
    """
    from ..journal import JournalError

    if not journal.exists() or journal.busy():
        return [], None
    try:
        stuck = journal.interrupted()
    except JournalError as e:
        return [], f"{e}; interrupted fixes were not looked for (as root: `{_sudo(args)}`)"
    if not stuck:
        return [], None
    ids = ", ".join(e.id for e in stuck)
    return stuck, (f"an interrupted fix is in the journal ({ids}): run `{_cmd(args, 'fix --recover')}` to "
                   f"complete it, or `{_cmd(args, 'undo ' + stuck[-1].id)}` to roll it back")


def _print(lines: list[str]) -> None:
    """Text lines as ``why`` prints them: escaped one by one (a newline in a path from the root is shown as
    ``\\n``), wrapped at a terminal's width under a hanging indent, whole into a pipe."""
    from ..render.text import write

    write([("", line) for line in lines], sys.stdout)


def _sudo(args: argparse.Namespace) -> str:
    """This command line, as root would run it: ``sudo unitdoctor fix --yes x.service``."""
    words = [args.command]
    if args.command == "fix":
        words += ["--yes"] + (["--recover"] if args.recover else list(args.units))
        words += [f for f, on in (("--no-start", args.no_start), ("--runtime-only", args.runtime_only)) if on]
    elif args.command == "undo":
        words += ["--yes"] + ([args.entry] if args.entry else [])
    import shlex

    return "sudo " + _cmd(args, " ".join(shlex.quote(w) for w in words))


def _unwritable(root: Root, paths: list[str]) -> Optional[str]:
    """The first of ``paths`` (root-relative) whose nearest existing directory we may not write, if any."""
    if os.geteuid() == 0:
        return None
    import posixpath

    for p in paths:
        d = posixpath.dirname(p)
        while d not in ("", "/") and not os.path.isdir(root.host(d)):
            d = posixpath.dirname(d)
        if not os.access(root.host(d or "/"), os.W_OK):
            return root.display(p)
    return None


def _route(args: argparse.Namespace, root: Root, plan: Any) -> Optional[str]:
    """Why this unprivileged fix cannot be asked of the system manager over the bus (polkit deciding), or None."""
    from .. import fix

    if (args.scope or "system") != "system" or not root.is_host:
        return "only the live system's manager can be asked"  # not said: --root and --user have no such route
    if not plan.live:
        return "there is no system manager to ask"
    return fix.manager_route(plan, root)


def _polkit_refuses(ops: ManagerOps, *, files: bool, start: bool) -> Optional[str]:
    """What polkit refuses of the calls a fix through the manager makes (asked as the manager asks, without
    interaction), or None. A password prompt counts as a refusal unless stdin is a terminal."""
    from .. import bus

    mb = getattr(ops, "bus", None)
    if not isinstance(mb, bus.ManagerBus):
        return "no connection to the system bus"
    mb.interactive = _interactive()  # like systemctl: ask for a password only where someone can type it
    for action in (*((bus.MANAGE_UNIT_FILES,) if files else ()), *((bus.MANAGE_UNITS,) if start else ())):
        answer = mb.authorization(action)
        if answer == "no" or (answer == "challenge" and not mb.interactive):
            return f"polkit refused {action}" + (" without a password (stdin is not a terminal)"
                                                  if answer == "challenge" else "")
    return None


@contextlib.contextmanager
def _password_agent(ops: ManagerOps) -> Iterator[None]:
    """systemctl's ``polkit_agent_open()``: when calls may be interactive (stdin is a terminal), run
    ``pkttyagent --notify-fd N --fallback`` for the time of the calls, so that polkit can ask for a password on
    this terminal; wait until it says it is registered. Without pkttyagent, polkit asks the session's own agent,
    if any."""
    import select
    import shutil
    import subprocess

    mb = getattr(ops, "bus", None)
    exe = shutil.which("pkttyagent") if mb is not None and getattr(mb, "interactive", False) else None
    proc = None
    if exe is not None:
        r, w = os.pipe()
        try:
            proc = subprocess.Popen([exe, "--notify-fd", str(w), "--fallback"], pass_fds=(w,))
        except OSError:
            proc = None
        finally:
            os.close(w)
        if proc is not None:
            select.select([r], [], [], 10.0)  # readable (a byte, or EOF) once it registered or gave up
        os.close(r)
    try:
        yield
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:  # a hung agent is killed, never waited for forever
                proc.kill()
                proc.wait()


def _needs_root(what: str, args: argparse.Namespace, why: str = "") -> int:
    print(f"unitdoctor: changing {what} needs root; nothing was changed{f' ({why})' if why else ''}. "
          f"Run: {_sudo(args)}", file=sys.stderr)
    return EXIT_NOPERMISSION


def _plan_paths(plan: Any, journal: Journal) -> list[str]:
    from ..plan import DropMaskedDropIn, EnableUnit, RemoveMask

    paths = []
    for a in plan.changes:
        if isinstance(a, (RemoveMask, DropMaskedDropIn)):
            paths.append(a.path)
        elif isinstance(a, EnableUnit) and not plan.live:
            paths.extend(lk.path for lk in a.links)
    return paths + [journal.directory + "/lock"]  # the unit files first: they are what the fix is about


def _ask(args: argparse.Namespace, question: str, what: str) -> Optional[int]:
    """The confirmation rule of ``fix`` and ``undo``: None to go ahead, else the exit status to stop with.

    ``--yes`` goes ahead; otherwise a terminal is asked (anything but y/yes is no: exit 1, nothing
    changed) and a non-terminal stdin is refused (exit 2), never taken as consent.
    """
    if args.yes:
        return None
    if not _interactive():
        print(f"unitdoctor: not acting without confirmation: stdin is not a terminal. Pass --yes to apply "
              f"{what}, or --dry-run to only print it.", file=sys.stderr)
        return EXIT_USAGE
    if not _confirm(question):
        if not args.json:
            print("Nothing was changed.")
        return EXIT_PROBLEM
    return None


def _confirm(question: str = "Apply this plan?") -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


# -- fix ----------------------------------------------------------------------------------------------


def _fix(args: argparse.Namespace) -> int:
    if not args.units:
        raise UsageError("fix needs at least one UNIT (or --recover)")
    units = mangle(args.units)
    cat = open_catalog(args)

    from .. import fix
    from ..manager import Manager
    from ..plan import plan_fix
    from ..render import fix as render
    from ..report import why
    from ..sources import EvidenceSources

    ops, live, note, close = _manager_ops(args, cat.root)
    try:
        journal = _journal(args, cat.root)
        stuck, stuck_note = _stuck_note(args, journal)
        mgr, src = Manager(cat), EvidenceSources.for_root(cat.root)
        plan = plan_fix([why(cat, u, manager=mgr, sources=src) for u in units], catalog=cat, start=not args.no_start,
                        runtime_only=args.runtime_only, live=live)
        # Not root, and the plan touches files we may not write: root's command, or the manager (polkit decides).
        denied = _unwritable(cat.root, _plan_paths(plan, journal)) if plan.changes else None
        why_not = _route(args, cat.root, plan) if denied is not None else None
        mjournal = _manager_journal(args, cat.root) if denied is not None and why_not is None else None
        route_note = None
        if denied is not None and mjournal is not None:
            calls = {"remove-mask": "UnmaskUnitFiles", "enable": "EnableUnitFiles", "daemon-reload": "Reload",
                     "start": "StartUnit"}
            asked = ", ".join(dict.fromkeys(calls[a.action] for a in plan.changes if a.action in calls))
            route_note = (f"as uid {os.geteuid()}, this fix asks the system manager over the system bus ({asked}) "
                          f"and polkit decides; it is journaled in {mjournal.display}")
        elif denied is not None:
            why_not = why_not if cat.root.is_host and (args.scope or "system") == "system" else None
            route_note = f"changing {denied} needs root: `{_sudo(args)}`" + \
                (f" (not through the manager: {why_not})" if why_not else "")
        notes = [n for n in (note, stuck_note, route_note if args.dry_run else None) if n]
        # -q keeps the plan only where it is asked about
        quiet = args.quiet and (args.yes or args.dry_run or not plan.changes)
        if not args.json and not quiet:
            _print(render.plan_lines(plan, cat.root))
            for n in notes:
                print(f"Note: {n}", file=sys.stderr)

        def done(code: int, outcomes: tuple[Outcome, ...] = ()) -> int:
            if args.json:
                emit_json(render.document("fix", cat.root, plan=plan, dry_run=args.dry_run, outcomes=outcomes,
                                           ok=code == EXIT_OK, notes=notes))
            return code

        if args.dry_run:
            return done(EXIT_OK if plan.ok else EXIT_PROBLEM)
        if stuck:
            return done(EXIT_PROBLEM)
        if not plan.changes:
            if not args.json and not args.quiet:
                print("Nothing to change." if plan.ok else "Nothing unitdoctor can change; see the advice above.")
            return done(EXIT_OK if plan.ok else EXIT_PROBLEM)
        if denied is not None and mjournal is None:
            if not args.json and why_not:
                print(f"Note: not through the manager: {why_not}", file=sys.stderr)
            return done(_needs_root(denied, args))
        if denied is not None and mjournal is not None:
            refused = _polkit_refuses(ops, files=any(a.action in ("remove-mask", "enable") for a in plan.changes),
                                      start=any(a.action == "start" for a in plan.changes))
            if refused:
                return done(_needs_root(denied, args, refused))
            journal = mjournal
            stuck, stuck_note = _stuck_note(args, journal)
            if stuck:
                print(f"Note: {stuck_note}", file=sys.stderr)
                return done(EXIT_PROBLEM)
        code = _ask(args, "Apply this plan?", "the plan above")
        if code is not None:
            return done(code)
        with _password_agent(ops) if mjournal is not None else contextlib.nullcontext():
            outcome = fix.apply(plan, root=cat.root, journal=journal, ops=ops, recheck=lambda: open_catalog(args),
                                via_manager=mjournal is not None)
        from ..journal import ROLLED_BACK

        refusal = getattr(ops, "denied", None)
        if mjournal is not None and refusal is not None and outcome.status == ROLLED_BACK and denied:
            return done(_needs_root(denied, args, f"the manager refused: {refusal}"), (outcome,))
        if not args.json and not args.quiet:
            hint = f"undo with `{_cmd(args, 'undo ' + outcome.entry)}`" if outcome.entry else ""
            _print(render.outcome_lines(outcome, hint=hint))
            if outcome.interrupted:
                print(f"Note: {_stuck_note(args, journal)[1]}", file=sys.stderr)
        return done(EXIT_OK if outcome.ok else EXIT_PROBLEM, (outcome,))
    finally:
        close()


def _recover(args: argparse.Namespace) -> int:
    if args.units:
        raise UsageError("fix --recover takes no UNIT: it completes the interrupted fixes in the journal")
    from .. import fix
    from ..render import fix as render

    root = _root(args)
    journal = _manager_journal(args, root, existing=True) or _journal(args, root)
    if not journal.exists() or not journal.interrupted():
        if args.json:
            emit_json(render.document("recover", root, outcomes=(), ok=True))
        else:
            print("No interrupted fix in the journal.")
        return EXIT_OK
    ops, _live, note, close = _manager_ops(args, root)
    try:
        outcomes = fix.recover(root=root, journal=journal, ops=ops, recheck=lambda: open_catalog(args))
    finally:
        close()
    ok = all(o.ok for o in outcomes)
    if args.json:
        emit_json(render.document("recover", root, outcomes=outcomes, ok=ok, notes=[note] if note else []))
    else:
        for o in outcomes:
            _print(render.outcome_lines(o, hint=f"undo with `{_cmd(args, 'undo ' + (o.entry or ''))}`"))
    return EXIT_OK if ok else EXIT_PROBLEM


# -- history, undo ------------------------------------------------------------------------------------


def _history(args: argparse.Namespace) -> int:
    from .. import fix
    from ..render import fix as render

    root = _root(args)
    journal = _manager_journal(args, root, existing=True) or _journal(args, root)
    items = fix.history(journal)
    if not args.json and not args.quiet:
        from .pager import open_pager

        open_pager(args)
    if args.json:
        doc = render.history_json(items, journal.display)
        doc["unreadable"] = list(journal.unreadable)
        emit_json(doc)
    elif not args.quiet:
        _print(render.history_lines(items, journal.display))
        if any(h.interrupted for h in items):
            print(f"Note: {_stuck_note(args, journal)[1]}", file=sys.stderr)
    return EXIT_OK


def _undo(args: argparse.Namespace) -> int:
    from .. import fix
    from ..render import fix as render

    root = _root(args)
    # not root: the fixes this user made through the manager, once there are any
    mjournal = _manager_journal(args, root, existing=True)
    journal = mjournal or _journal(args, root)
    if not journal.exists():
        raise UsageError(f"no journal at {journal.display}: nothing to undo")

    def unknown() -> UsageError:
        return UsageError(f"no fix {args.entry!r} in {journal.display} (see `{_cmd(args, 'history')}`)"
                          if args.entry else f"no fix to undo in {journal.display}")

    # What undo would do, read without the lock: printed first, and all of it with --dry-run.
    try:
        preview = fix.preview_undo(args.entry, root=root, journal=journal)
    except LookupError:
        raise unknown() from None
    quiet = args.quiet and (args.yes or args.dry_run)
    if not args.json and not quiet:
        _print(render.undo_preview_lines(preview, root))
    if args.dry_run or preview.status is not fix.PLANNED:
        ok = preview.status in (fix.PLANNED, fix.NOTHING)
        if args.json:
            emit_json(render.document("undo", root, outcomes=(preview,), ok=ok, dry_run=args.dry_run))
        return EXIT_OK if ok else EXIT_PROBLEM
    by_manager = [s.path or s.unit or "" for s in preview.steps
                  if s.kind in (fix.StepKind.MASK, fix.StepKind.UNMASK, fix.StepKind.DISABLE)]
    denied = _unwritable(root, [journal.directory + "/lock",
                                *(s.path for s in preview.steps if s.path and s.kind is fix.StepKind.FILE)])
    if denied is not None:
        return _needs_root(denied, args)
    code = _ask(args, "Undo this fix?", "the undo above")
    if code is not None:
        if args.json:
            emit_json(render.document("undo", root, outcomes=(preview,), ok=False))
        return code
    ops, _live, note, close = _manager_ops(args, root)
    try:
        if by_manager and os.geteuid() != 0:
            refused = _polkit_refuses(ops, files=True, start=False)
            if refused:
                return _needs_root(by_manager[0], args, refused)
        with _password_agent(ops) if by_manager and os.geteuid() != 0 else contextlib.nullcontext():
            outcome = fix.undo(args.entry, root=root, journal=journal, ops=ops, recheck=lambda: open_catalog(args))
    except LookupError:
        raise unknown() from None
    finally:
        close()
    refusal = getattr(ops, "denied", None)
    if by_manager and refusal is not None and outcome.status is fix.ROLLED_BACK:
        return _needs_root(by_manager[0], args, f"the manager refused: {refusal}")
    ok = outcome.status in (fix.DONE, fix.ROLLED_BACK, fix.NOTHING) and not outcome.failed
    if args.json:
        emit_json(render.document("undo", root, outcomes=(outcome,), ok=ok, notes=[note] if note else []))
    elif not args.quiet:
        _print(render.outcome_lines(outcome))
    return EXIT_OK if ok else EXIT_PROBLEM
