"""The acceptance scenarios against a real manager, each run through ansible.builtin.systemd_service beside
unitdoctor.systemd.unit, in one playbook (``PLAYBOOK``) for any scope.

``build(layers, scope)`` writes the unit files: ``layers`` maps ``config`` (``/etc/systemd/system`` or
``~/.config/systemd/user``), ``runtime`` (``/run/systemd/system``, ``$XDG_RUNTIME_DIR/systemd/user``) and
``vendor`` (``/usr/lib/systemd/system``, a ``$XDG_DATA_DIRS`` dir) to host paths. Every scenario exists twice:
``NAME-b`` for the builtin module and ``NAME-u`` for ours, so neither sees the other's changes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

ONESHOT = "[Unit]\nDescription={d}\n{unit}[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n{install}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _mask(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("/dev/null", path)


def build(layers: Mapping[str, Path], scope: str) -> None:
    cfg, run, ven = layers["config"], layers["runtime"], layers["vendor"]
    wanted = "default.target" if scope == "user" else "multi-user.target"
    install = f"[Install]\nWantedBy={wanted}\n"
    sock_dir = "%t" if scope == "user" else "/run"
    for t in ("b", "u"):
        # masked-runtime
        _write(ven / f"ud-rt-{t}.service", ONESHOT.format(d="rt", unit="", install=install))
        _mask(run / f"ud-rt-{t}.service")
        # masked in /etc and /run
        _write(ven / f"ud-both-{t}.service", ONESHOT.format(d="both", unit="", install=install))
        _mask(cfg / f"ud-both-{t}.service")
        _mask(run / f"ud-both-{t}.service")
        # vendor mask
        _mask(ven / f"ud-ven-{t}.service")
        # a vendor mask hidden by the admin's real file in /etc
        _mask(ven / f"ud-hid-{t}.service")
        _write(cfg / f"ud-hid-{t}.service", ONESHOT.format(d="hidden", unit="", install=install))
        # a masked dependency two levels down: top → mid → bot
        _write(ven / f"ud-top-{t}.service", ONESHOT.format(
            d="top", unit=f"Requires=ud-mid-{t}.service\nAfter=ud-mid-{t}.service\n", install=""))
        _write(ven / f"ud-mid-{t}.service", ONESHOT.format(
            d="mid", unit=f"Requires=ud-bot-{t}.service\nAfter=ud-bot-{t}.service\n", install=""))
        _write(ven / f"ud-bot-{t}.service", ONESHOT.format(d="bot", unit="", install=""))
        _mask(cfg / f"ud-bot-{t}.service")
        # a socket-activated service, itself masked; the socket is disabled
        _write(ven / f"ud-sock-{t}.service", "[Unit]\nDescription=sock\n[Service]\nExecStart=/bin/cat\n"
                                             "StandardInput=socket\n")
        _mask(cfg / f"ud-sock-{t}.service")
        _write(ven / f"ud-sock-{t}.socket", f"[Unit]\nDescription=sock\n[Socket]\nListenStream={sock_dir}/ud-sock-{t}"
                                            ".sock\n[Install]\nWantedBy=sockets.target\n")
        # mask + enable in one task (masked in /etc and /run, as after `mask` and `mask --runtime`)
        _write(ven / f"ud-en-{t}.service", ONESHOT.format(d="en", unit="", install=install))
        _mask(cfg / f"ud-en-{t}.service")
        _mask(run / f"ud-en-{t}.service")
        # check mode
        _write(ven / f"ud-ck-{t}.service", ONESHOT.format(d="ck", unit="", install=install))
        _mask(cfg / f"ud-ck-{t}.service")
        _mask(run / f"ud-ck-{t}.service")


def build_fleet(layers: Mapping[str, Path], scope: str) -> list[str]:
    """Units for the README's fleet playbook: one fixable (masked in /etc and /run), one vendor mask, one fine."""
    cfg, run, ven = layers["config"], layers["runtime"], layers["vendor"]
    install = f"[Install]\nWantedBy={'default.target' if scope == 'user' else 'multi-user.target'}\n"
    _write(ven / "ud-fleet-fix.service", ONESHOT.format(d="fleet", unit="", install=install))
    _mask(cfg / "ud-fleet-fix.service")
    _mask(run / "ud-fleet-fix.service")
    _mask(ven / "ud-fleet-vendor.service")
    _write(ven / "ud-fleet-fine.service", ONESHOT.format(d="fine", unit="", install=install))
    return ["ud-fleet-fix.service", "ud-fleet-vendor.service", "ud-fleet-fine.service"]


def readme_playbook(readme: Path) -> str:
    """The fleet playbook of the README (the YAML block after "Find and repair masks across a fleet")."""
    text = readme.read_text()
    after = text[text.index("Find and repair masks across a fleet"):]
    return after[after.index("```yaml\n") + 8:after.index("```", after.index("```yaml\n") + 8)]


PLAYBOOK = """
- hosts: target
  gather_facts: false
  vars:
    sc: {scope: "{{ scope }}"}
  tasks:
    - {name: b rt masked=false, ansible.builtin.systemd_service: {name: ud-rt-b, masked: false, scope: "{{ scope }}"}}
    - {name: b rt started, ansible.builtin.systemd_service: {name: ud-rt-b, state: started, scope: "{{ scope }}"},
       ignore_errors: true}
    - {name: u rt, unitdoctor.systemd.unit: {name: ud-rt-u, started: true, scope: "{{ scope }}"}}

    - {name: b both masked=false, ansible.builtin.systemd_service: {name: ud-both-b, masked: false,
       scope: "{{ scope }}"}}
    - {name: b both started, ansible.builtin.systemd_service: {name: ud-both-b, state: started, scope: "{{ scope }}"},
       ignore_errors: true}
    - {name: u both, unitdoctor.systemd.unit: {name: ud-both-u, started: true, scope: "{{ scope }}"}, diff: true}

    - {name: b ven masked=false, ansible.builtin.systemd_service: {name: ud-ven-b, masked: false,
       scope: "{{ scope }}"}}
    - {name: b ven masked=false again, ansible.builtin.systemd_service: {name: ud-ven-b, masked: false,
       scope: "{{ scope }}"}}
    - {name: u ven, unitdoctor.systemd.unit: {name: ud-ven-u, started: true, scope: "{{ scope }}"},
       ignore_errors: true}

    - {name: b hid masked=false, ansible.builtin.systemd_service: {name: ud-hid-b, masked: false,
       scope: "{{ scope }}"}}
    - {name: b hid masked=true, ansible.builtin.systemd_service: {name: ud-hid-b, masked: true,
       scope: "{{ scope }}"}, ignore_errors: true}
    - {name: u hid, unitdoctor.systemd.unit: {name: ud-hid-u, scope: "{{ scope }}"}}

    - {name: b top started, ansible.builtin.systemd_service: {name: ud-top-b, state: started, scope: "{{ scope }}"},
       ignore_errors: true}
    - {name: u top, unitdoctor.systemd.unit: {name: ud-top-u, started: true, scope: "{{ scope }}"}}

    - {name: b sock enabled started, ansible.builtin.systemd_service: {name: ud-sock-b, enabled: true,
       state: started, scope: "{{ scope }}"}, ignore_errors: true}
    - {name: u sock, unitdoctor.systemd.unit: {name: ud-sock-u, enabled: true, started: true, scope: "{{ scope }}"}}

    - {name: b en unmask+enable, ansible.builtin.systemd_service: {name: ud-en-b, masked: false, enabled: true,
       scope: "{{ scope }}"}, ignore_errors: true}
    - {name: u en, unitdoctor.systemd.unit: {name: ud-en-u, enabled: true, started: true, scope: "{{ scope }}"}}

    - {name: b ck check, ansible.builtin.systemd_service: {name: ud-ck-b, masked: false, state: started,
       scope: "{{ scope }}"}, check_mode: true, ignore_errors: true}
    - {name: u ck check, unitdoctor.systemd.unit: {name: ud-ck-u, started: true, enabled: true,
       scope: "{{ scope }}"}, check_mode: true, diff: true}

    - {name: u rt again, unitdoctor.systemd.unit: {name: ud-rt-u, started: true, scope: "{{ scope }}"}}
    - {name: u both again, unitdoctor.systemd.unit: {name: ud-both-u, started: true, scope: "{{ scope }}"}}
    - {name: u top again, unitdoctor.systemd.unit: {name: ud-top-u, started: true, scope: "{{ scope }}"}}
    - {name: u sock again, unitdoctor.systemd.unit: {name: ud-sock-u, enabled: true, started: true,
       scope: "{{ scope }}"}}
    - {name: u en again, unitdoctor.systemd.unit: {name: ud-en-u, enabled: true, started: true,
       scope: "{{ scope }}"}}
    - {name: info after, unitdoctor.systemd.unit_info: {name: [ud-rt-b, ud-both-b, ud-ven-b, ud-hid-b, ud-top-b,
       ud-sock-b, ud-en-b], scope: "{{ scope }}"}}
"""
