#!/usr/bin/python
# Copyright: unitdoctor developers
# MIT License (see LICENSE or https://spdx.org/licenses/MIT.html)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: unit
short_description: Make a systemd unit able to start - remove the masks that block it, safely
description:
  - Says why a systemd unit cannot start (the same analysis as C(unitdoctor why)) and repairs what can be
    repaired safely, with the same plan, safety checks, journal and undo as C(unitdoctor fix).
  - With O(startable=true) it removes every mask that blocks the unit, in every layer where it is masked
    (an C(/etc) mask over a C(/run) mask needs both removed, which C(systemctl unmask) never does), and the
    masks of the dependencies it needs (C(Requires=), C(BindsTo=), C(Requisite=) at any depth, and the
    socket, timer or path that activates it), then reloads the manager.
  - Only what is provably a mask in an administrator's layer is removed. Vendor masks (under C(/usr)),
    masks from C(systemd.mask=) on the kernel command line, generator output, missing units, syntax errors
    and package problems are never changed; the task fails with the structured RV(cause) and the advice.
  - Check mode is the dry run (nothing at all is changed); diff mode shows each path's before and after.
  - Every change is written to the journal before it is made and can be undone with C(unitdoctor undo)
    (RV(journal_id)). Running the task again reports C(changed=false).
  - The target needs Python 3.9 or later and systemd; no package has to be installed on it. When the
    Python package C(jeepney) is present the manager is reached over D-Bus as C(unitdoctor fix) does,
    otherwise through C(systemctl).
version_added: 0.1.0
author:
  - unitdoctor developers (!UNKNOWN)
options:
  name:
    description:
      - The unit. A name without a type suffix gets C(.service), as with systemctl.
    type: str
    required: true
    aliases: [unit]
  startable:
    description:
      - V(true) makes the unit able to start (see the description). V(false) is refused, because this
        module never masks a unit; use M(ansible.builtin.systemd_service) with
        O(ansible.builtin.systemd_service#module:masked=true).
    type: bool
    default: true
  started:
    description:
      - Also start the unit afterwards, or the socket, timer or path that activates it. Needs a running
        manager (not with O(root) or O(scope=global)). A unit that is already active is left alone.
    type: bool
    default: false
  enabled:
    description:
      - Also enable the unit as C(systemctl enable) would, in the same task as the unmasking. A unit that
        a socket, timer or path activates gets that unit enabled instead.
      - V(false) is refused (this module does not disable); leave the option out to keep enablement as it is.
    type: bool
  runtime_only:
    description:
      - Change only runtime layers (masks in C(/run), C(enable --runtime)); gone at the next reboot. A
        persistent mask then fails the task with the advice.
    type: bool
    default: false
  root:
    description:
      - Operate on the unit files below this directory (an offline image), like C(systemctl --root). No
        manager is reloaded or started; the journal is kept inside the root.
    type: path
  scope:
    description:
      - Which unit files, as C(systemctl --system), C(--user) (the connecting user's manager) and C(--global).
    type: str
    choices: [system, user, global]
    default: system
notes:
  - Supports check mode and diff mode.
  - Undo a change with C(unitdoctor undo ID) (or C(unitdoctor --root=DIR undo ID)); the journal is in
    C(/var/lib/unitdoctor), C(DIR/var/lib/unitdoctor) or C(~/.local/state/unitdoctor) for O(scope=user).
seealso:
  - module: unitdoctor.systemd.unit_info
  - module: ansible.builtin.systemd_service
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The plan is computed and returned; nothing at all is changed (no journal entry either).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: One before/after per path the plan removes or creates.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Make nginx startable (unmask it and the masked units it needs) and start it
  unitdoctor.systemd.unit:
    name: nginx.service
    started: true

- name: Unmask and enable in one task
  unitdoctor.systemd.unit:
    name: chrony
    enabled: true
    started: true

- name: Repair an offline image; see what would change first
  unitdoctor.systemd.unit:
    name: sshd.service
    root: /srv/images/web
  check_mode: true
  diff: true

- name: A user unit of the connecting user
  unitdoctor.systemd.unit:
    name: syncthing.service
    scope: user
    started: true
"""

RETURN = r"""
changed:
  description: Whether files were changed or a unit was started (in check mode, whether they would be).
  returned: always
  type: bool
msg:
  description: One line for humans.
  returned: always
  type: str
  sample: "nginx.service can start now: removed /etc/systemd/system/nginx.service (journal 20250101T101500Z-1a2b)"
plan:
  description:
    - The plan, as C(unitdoctor fix --dry-run --json) prints it. C(actions) are in execution order; each has
      C(action) (remove-mask, drop-masked-drop-in, enable, daemon-reload, start, advice), C(risk), C(effect)
      and its details; C(outlook) says what the plan achieves.
  returned: always
  type: dict
before:
  description: The verdict before the task.
  returned: always
  type: dict
  contains:
    unit:
      description: The unit name (mangled).
      type: str
    ok:
      description: It can start and no error was found.
      type: bool
    can_start:
      description: A start job would succeed.
      type: bool
    load_state:
      description: The manager's LoadState (loaded, masked, not-found, bad-setting, error).
      type: str
    unit_file_state:
      description: What C(systemctl is-enabled) says.
      type: str
    blocker:
      description: The unit whose state makes the start fail.
      type: str
    reason:
      description: Why (masked, not-found, bad-setting, trigger-masked, ...).
      type: str
    message:
      description: The message systemctl would print.
      type: str
    active_state:
      description: The manager's ActiveState, when a manager runs the unit files.
      type: str
after:
  description: The verdict after the task (in check mode, predicted from the plan's simulation).
  returned: always
  type: dict
cause:
  description: Why the unit could not start before the task; null when it could.
  returned: always
  type: dict
  contains:
    reason:
      description: The blocker's reason (masked, not-found, ...).
      type: str
    blocker:
      description: The unit that blocks the start (the unit itself or a dependency).
      type: str
    message:
      description: systemctl's message.
      type: str
    chain:
      description: The dependency path to the blocker, each edge with the file and line that declares it.
      type: list
      elements: dict
    origin:
      description: Who or what masked it, when known (admin, vendor, kernel-command-line, package-removed, ...).
      type: str
    finding:
      description: The finding's id.
      type: str
    summary:
      description: The finding in one sentence.
      type: str
    evidence:
      description: Each piece of evidence (kind, source file and line, text, time).
      type: list
      elements: dict
    fix:
      description: The commands that fix it.
      type: list
      elements: str
advice:
  description: What only a person should do (vendor masks, kernel command line, packages, ...).
  returned: always
  type: list
  elements: str
journal_id:
  description:
    - The journal entry of the change (C(unitdoctor undo ID) restores the state before it).
    - Null when nothing changed.
  returned: always
  type: str
steps:
  description: What each journaled step did (as C(unitdoctor fix --json) reports it), with its message.
  returned: when the plan was applied
  type: list
  elements: dict
notes:
  description: How the manager was reached, or why it was not.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.unitdoctor.systemd.plugins.module_utils import fleet
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.fix import InvalidPlan, apply
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.journal import (
    Journal,
    JournalError,
    StepKind,
    StepState,
)
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.manager import Manager as Model
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.plan import AdviceAbout, plan_fix, simulate
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.render import fix as render_fix
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.render import words as render_words
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.report import why
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.sources import EvidenceSources


def _to_start(plan, name, model):
    """The units a start of ``name`` goes through: the triggers the plan starts it by, else the socket, timer or
    path units that trigger it (a service they activate is started by them, as the plan does for a broken
    one), else the unit itself."""
    for o in plan.outlook:
        if o.unit == name and o.via:
            return list(o.via)
    return [u for u, _how in model.triggered_by(name)] or [name]


def _enable_advice(plan, name):
    """What keeps the plan from enabling ``name`` (``plan.enable_action``'s reasons), if anything."""
    return [render_words.advice(a) for a in plan.advice if a.unit == name and a.about is AdviceAbout.ENABLE]


def run(module):
    p = module.params
    if not p["startable"]:
        raise fleet.FleetError("startable=false is not supported: this module never masks a unit "
                               "(ansible.builtin.systemd_service masked=true does)")
    if p["enabled"] is False:
        raise fleet.FleetError("enabled=false is not supported: this module does not disable units; leave "
                               "the option out to keep enablement as it is")
    root, scope = p["root"], p["scope"]
    name = fleet.mangle(p["name"])
    env = fleet.environment()
    cat = fleet.catalog(root, scope, env)
    mgr = fleet.Manager(root, scope, env)
    try:
        return _run(module, cat, mgr, name)
    finally:
        mgr.close()


def _run(module, cat, mgr, name):
    p = module.params
    if p["started"] and not mgr.live:
        raise fleet.FleetError("started=true needs a running manager: " + (mgr.note or "none"))
    result = {"changed": False, "journal_id": None, "notes": [n for n in (mgr.note,) if n]}
    if mgr.via:
        result["notes"].append("manager reached through " + mgr.via)
    model, sources = Model(cat), EvidenceSources.for_root(cat.root)
    rep = why(cat, name, manager=model, live=mgr.facts(name), sources=sources)
    result["before"] = fleet.verdict(rep, mgr.active_state(name))
    result["cause"] = fleet.cause(cat, rep)
    plan = plan_fix([rep], catalog=cat, start=p["started"], runtime_only=p["runtime_only"], live=mgr.live,
                    enable=bool(p["enabled"]))
    result["plan"] = render_fix.plan_json(plan, cat.root)
    result["advice"] = [render_words.advice(a) for a in plan.advice]
    changes = fleet.file_changes(plan)
    if module._diff:
        result["diff"] = fleet.diff(plan, cat.root)
    predicted = why(simulate(cat, [a.path for a in changes if hasattr(a, "path")]), name, sources=sources)
    _refuse_if_blocked(module, result, plan, name, predicted)
    starts = _to_start(plan, name, model) if p["started"] else []
    if module.check_mode:
        pending = [u for u in starts if mgr.active_state(u) not in fleet.RUNNING]
        result["changed"] = bool(changes or pending)
        result["after"] = fleet.verdict(predicted)
        result["msg"] = _msg(name, changes, pending, cat.root, check=True)
        return result
    started = _apply(module, result, plan, cat, mgr) if changes else []
    started += _start(module, result, mgr, [u for u in starts if u not in started])
    after = why(fleet.catalog(p["root"], p["scope"], fleet.environment()), name, live=mgr.facts(name))
    result["after"] = fleet.verdict(after, mgr.active_state(name))
    if not after.start.ok:
        b = after.start.blocker
        result["msg"] = f"{name} still cannot start: {b.message if b else 'see after'}"
        module.fail_json(**result)
    result["msg"] = _msg(name, changes, started, cat.root, journal=result["journal_id"])
    return result


def _refuse_if_blocked(module, result, plan, name, predicted):
    """Fail before anything changes when the plan cannot make ``name`` startable (or enable it as asked):
    vendor and kernel-command-line masks, missing units, syntax errors, package problems. The plan's
    advice says what a person can do."""
    reasons = [render_words.outlook(o) for o in plan.outlook if not o.ok]
    if module.params["enabled"]:
        reasons += _enable_advice(plan, name)
    if not reasons:
        return
    result["after"] = fleet.verdict(predicted)
    cause = result["cause"] or {}
    origin = f" (masked by: {cause['origin']})" if cause.get("origin") else ""
    advice = " | ".join(result["advice"]) or "none"
    result["msg"] = f"{'; '.join(reasons)}{origin}; nothing was changed. Advice: {advice}"
    module.fail_json(**result)


def _apply(module, result, plan, cat, mgr):
    """Run the plan through ``fix.apply`` (journal first, re-checks, rollback); the units it started."""
    journal = Journal.for_scope(cat.lookup.scope.value, cat.root, fleet.environment())
    try:
        outcome = apply(plan, root=cat.root, journal=journal, ops=mgr.ops)
    except (JournalError, InvalidPlan) as e:
        result["msg"] = f"{plan.units[0]}: nothing was changed: {e}"
        module.fail_json(**result)
    result["journal_id"] = outcome.entry
    result["steps"] = [render_fix.step_json(s, cat.root) for s in outcome.steps]
    result["changed"] = any(s.state is StepState.DONE for s in outcome.steps
                            if s.kind in (StepKind.FILE, StepKind.ENABLE))
    problems = list(outcome.messages) if not outcome.completed else \
        [s.message for s in outcome.failed]
    if problems:
        result["msg"] = f"{plan.units[0]}: {outcome.status.value}: {' '.join(problems)}"
        module.fail_json(**result)
    return [u for u, state in outcome.started if state in fleet.RUNNING]


def _start(module, result, mgr, units):
    """Start each of ``units`` that is not running yet; the units started."""
    done = []
    for u in units:
        if mgr.active_state(u) in fleet.RUNNING:
            continue
        try:
            state = mgr.ops.start(u)
        except (fleet.ManagerError, OSError) as e:
            result["msg"] = f"Failed to start {u}: {e}"
            module.fail_json(**result)
        if state not in fleet.RUNNING:
            result["msg"] = f"{u} is {state} after its start job"
            module.fail_json(**result)
        done.append(u)
        result["changed"] = True
    return done


def _msg(name, changes, started, root, check=False, journal=None):
    if not changes and not started:
        return f"{name} can start; nothing to change"
    did = []
    for a in changes:
        if hasattr(a, "path"):
            did.append(f"remove {root.display(a.path)}")
        else:
            did.append(f"enable {a.name}")
    did += [f"start {u}" for u in started]
    line = f"{name}: would {', '.join(did)}" if check else f"{name} can start now: {', '.join(did)}"
    if journal:
        line += f" (journal {journal})"
    return line


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True, aliases=["unit"]),
            startable=dict(type="bool", default=True),
            started=dict(type="bool", default=False),
            enabled=dict(type="bool"),
            runtime_only=dict(type="bool", default=False),
            root=dict(type="path"),
            scope=dict(type="str", default="system", choices=["system", "user", "global"]),
        ),
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except fleet.FleetError as e:
        module.fail_json(msg=str(e), changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
