#!/usr/bin/python
# Copyright: unitdoctor developers
# MIT License (see LICENSE or https://spdx.org/licenses/MIT.html)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: unit_info
short_description: Why systemd units cannot start or be enabled, with evidence
description:
  - For each unit in O(name), what C(unitdoctor why --json) says - the verdict (would C(systemctl start)
    succeed, and if not which unit blocks it with systemctl's message), the dependency chain with file and
    line, and findings with evidence (which layer, who masked it and when, the package) and the commands that fix them.
  - Without O(name), what C(unitdoctor scan --json) says for the whole host (or root) - every mask by layer with
    its provenance and whether the distribution meant it, every unit that cannot start, and what the next boot
    does (RV(scan)).
  - Reads only; never changes anything, so it is the same in check mode.
version_added: 0.1.0
author:
  - unitdoctor developers (!UNKNOWN)
options:
  name:
    description:
      - The units. A name without a type suffix gets C(.service), as with systemctl.
    type: list
    elements: str
    aliases: [unit, units]
  root:
    description:
      - Look at the unit files below this directory (an offline image), like C(systemctl --root).
    type: path
  scope:
    description:
      - Which unit files, as C(systemctl --system), C(--user) and C(--global).
    type: str
    choices: [system, user, global]
    default: system
  target:
    description:
      - Without O(name), the boot's target for the scan's boot prediction (default C(default.target)).
    type: str
  verbose:
    description:
      - Also list the evidence sources read, missing or skipped (package database, logs, boot configuration).
    type: bool
    default: false
seealso:
  - module: unitdoctor.systemd.unit
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Never changes anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Why can't nginx start?
  unitdoctor.systemd.unit_info:
    name: nginx.service
  register: why

- name: Show the cause
  ansible.builtin.debug:
    msg: "{{ why.units[0].start.message }} ({{ why.units[0].findings | map(attribute='origin') | select | list }})"
  when: not why.ok

- name: Every mask and every unit that cannot start on the host, and the next boot
  unitdoctor.systemd.unit_info:
  register: scan

- name: Units of an offline image
  unitdoctor.systemd.unit_info:
    name: [sshd, chrony]
    root: /srv/images/web
"""

RETURN = r"""
ok:
  description: Every unit can start and no error was found (without O(name), the scan found no problem).
  returned: always
  type: bool
units:
  description:
    - One C(unitdoctor why --json) document per unit (schema/why.schema.json in the project) - C(unit), C(id),
      C(load_state), C(unit_file_state), C(start) (C(ok), C(blocker), C(reason), C(message), C(chain)),
      C(enable), C(findings) (C(id), C(severity), C(summary), C(origin), C(evidence), C(fix)) and, when the
      manager was asked over D-Bus, C(live).
  returned: when O(name) is given
  type: list
  elements: dict
scan:
  description:
    - The C(unitdoctor scan --json) document (schema/scan.schema.json in the project) - C(masks) (unit, state,
      layer, path, origin, intended, needed_by, finding), C(findings), C(boot) (the next boot's outcome per
      unit), C(counts).
  returned: when O(name) is not given
  type: dict
notes:
  description: How the manager was reached, or why it was not.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.unitdoctor.systemd.plugins.module_utils import fleet
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.manager import Manager as Model
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.render import json as render_json
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.report import why
from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.sources import EvidenceSources


def run(module):
    p = module.params
    env = fleet.environment()
    if not p["name"]:
        return _scan(p, env)
    units = [fleet.mangle(n) for n in p["name"]]
    cat = fleet.catalog(p["root"], p["scope"], env)
    mgr = fleet.Manager(p["root"], p["scope"], env)
    try:
        model, sources = Model(cat), EvidenceSources.for_root(cat.root)
        reports = [why(cat, u, manager=model, live=mgr.facts(u), sources=sources) for u in units]
    finally:
        mgr.close()
    docs = [render_json.report(cat, r, verbose=p["verbose"]) for r in reports]
    return {"changed": False, "ok": all(r.ok for r in reports), "units": docs,
            "notes": [n for n in (mgr.note,) if n]}


def _scan(p, env):
    from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.render import scan as render_scan
    from ansible_collections.unitdoctor.systemd.plugins.module_utils.unitdoctor.scan import scan

    target = fleet.mangle(p["target"]) if p["target"] else None
    cat = fleet.catalog(p["root"], p["scope"], env)
    mgr = fleet.Manager(p["root"], p["scope"], env)
    try:
        live = mgr.problem_units()
    finally:
        mgr.close()
    result = scan(cat, target=target, live=live or (), live_asked=live is not None)
    doc = render_scan.to_json(result)
    return {"changed": False, "ok": doc["ok"], "scan": doc, "notes": [n for n in (mgr.note,) if n]}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", aliases=["unit", "units"]),
            root=dict(type="path"),
            scope=dict(type="str", default="system", choices=["system", "user", "global"]),
            target=dict(type="str"),
            verbose=dict(type="bool", default=False),
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
