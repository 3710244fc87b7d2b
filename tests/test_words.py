"""render/words.py: the engine hands over records, the renderer words them; one sentence per kind of record.

The plan's actions carry no text of their own (``plan.py`` decides, ``render/`` words): every ``ActionKind``
has its effect sentence here, pinned word for word, and the text and JSON renderers of ``fix`` use it.
"""

from __future__ import annotations

import pytest

from unitdoctor import plan as P
from unitdoctor.checks.mask import MaskOwner
from unitdoctor.render import fix as render_fix
from unitdoctor.render.words import advice, effect, outlook, plan_notes, reason
from unitdoctor.rootfs import Root
from unitdoctor.transaction import Blocker

ETC = "/etc/systemd/system"

R = P.Reason(P.Because.MASKED, "x.service")

#: One record of each kind and its effect in words.
EFFECTS = [
    (P.RemoveMask("x.service", f"{ETC}/x.service", "persistent config", False, "symlink", "/dev/null", R,
                  "/usr/lib/systemd/system/x.service"),
     "delete /etc/systemd/system/x.service (symlink to /dev/null, persistent config): x.service is unmasked "
     "persistently; /usr/lib/systemd/system/x.service takes effect"),
    (P.RemoveMask("x.service", "/run/systemd/system/x.service", "runtime config", True, "empty-file", None,
                  R, None),
     "delete /run/systemd/system/x.service (empty file, runtime config): x.service is unmasked until reboot "
     "(runtime layer); no other file carries the name"),
    (P.RemoveMask("getty@.service", f"{ETC}/getty@.service", "persistent config", False, "symlink", "/dev/null",
                  R, "/usr/lib/systemd/system/getty@.service"),
     "delete /etc/systemd/system/getty@.service (symlink to /dev/null, persistent config): getty@.service is "
     "unmasked persistently; /usr/lib/systemd/system/getty@.service takes effect; this unmasks every instance "
     "of getty@.service without its own mask"),
    (P.DropMaskedDropIn("x.service", f"{ETC}/x.service.d/10-exec.conf", "persistent config", False, "symlink",
                        "/dev/null", "/usr/lib/systemd/system/x.service.d/10-exec.conf", R),
     "delete /etc/systemd/system/x.service.d/10-exec.conf (symlink to /dev/null, persistent config): "
     "/usr/lib/systemd/system/x.service.d/10-exec.conf applies to x.service again"),
    (P.EnableUnit("foo.socket", False, (P.Link(f"{ETC}/sockets.target.wants/foo.socket",
                                               "/usr/lib/systemd/system/foo.socket"),),
                  (f"{ETC}/sockets.target.wants",), R),
     "create /etc/systemd/system/sockets.target.wants/foo.socket → /usr/lib/systemd/system/foo.socket: "
     "foo.socket is pulled in at every boot"),
    (P.EnableUnit("foo.socket", True, (P.Link("/run/systemd/system/sockets.target.wants/foo.socket",
                                              "/usr/lib/systemd/system/foo.socket"),), (), R),
     "create /run/systemd/system/sockets.target.wants/foo.socket → /usr/lib/systemd/system/foo.socket: "
     "foo.socket is pulled in until reboot"),
    (P.DaemonReload(R),
     "the manager re-reads all unit files, including other pending edits"),
    (P.StartUnit("foo.socket", R),
     "start foo.socket now (and the units it pulls in)"),
    (P.Advice("x.service", P.AdviceAbout.FINDING, "x.service has a bad setting. Fix: edit /etc/x:3"),
     "none: unitdoctor does not do this"),
]


def test_every_action_kind_is_worded():
    assert {a.action for a, _ in EFFECTS} == set(P.ActionKind)


@pytest.mark.parametrize("action,words", EFFECTS, ids=[f"{a.action.value}-{i}" for i, (a, _) in enumerate(EFFECTS)])
def test_effect_words(action, words):
    assert effect(action) == words


@pytest.mark.parametrize("action,words", EFFECTS, ids=[f"{a.action.value}-{i}" for i, (a, _) in enumerate(EFFECTS)])
def test_fix_json_and_text_carry_the_words_and_the_record(tmp_path, action, words):
    root = Root(str(tmp_path))
    d = render_fix.action_json(action, root)
    record = P.action_record(action)
    assert "effect" not in record and d["effect"] == words
    assert (d["action"], d["risk"]) == (action.action.value, action.risk.value)
    if "path" in record:  # paths shown as the user gave the root
        assert d["path"] == str(tmp_path) + record["path"]
    plan = P.Plan(("x.service",), "system", str(tmp_path), False, False, (action,),
                  (P.Outlook("x.service", True),))
    lines = render_fix.plan_lines(plan, root)
    if isinstance(action, P.Advice):
        assert f"  - x.service: {action.text}" in lines and d["text"] == action.text
        assert "reason" not in d and "why" not in d
    else:
        assert f"       effect: {words}" in lines and "       why: x.service is masked" in lines
        assert (d["reason"], d["why"]) == ("x.service is masked", {"because": "masked", "unit": "x.service"})
        assert record["why"] == d["why"] and "reason" not in record


MASKED = Blocker("x.service", "masked", "Unit x.service is masked.", ())


@pytest.mark.parametrize("o,words", [
    (P.Outlook("x.service", True), "x.service can start"),
    (P.Outlook("foo.service", True, ("foo.socket", "foo.path")),
     "foo.service can start (through foo.socket, foo.path)"),
    (P.Outlook("x.service", False, (), MASKED), "x.service will still not start: Unit x.service is masked."),
    (P.Outlook("x.service", False), "x.service will still have problems"),
])
def test_outlook_words(o, words):
    assert outlook(o) == words


@pytest.mark.parametrize("live", [False, True])
def test_plan_notes_and_json_outlook(tmp_path, live):
    plan = P.Plan(("foo.service",), "system", None, live, False, (),
                  (P.Outlook("foo.service", True, ("foo.socket",)),))
    assert bool(plan_notes(plan)) is not live and all("offline" in n for n in plan_notes(plan))
    doc = render_fix.plan_json(plan, Root(str(tmp_path)))
    assert doc["notes"] == plan_notes(plan)
    assert doc["outlook"] == [{"unit": "foo.service", "ok": True,
                               "summary": "foo.service can start (through foo.socket)", "started_via": "foo.socket"}]


#: One reason of each kind and its words.
REASONS = [
    (P.Reason(P.Because.MASKED, "x.service"), "x.service is masked"),
    (P.Reason(P.Because.NEEDED, "web.service", "db.service", (("Requires", "app.service"), ("BindsTo", "db.service"))),
     "web.service needs db.service: web.service → app.service (Requires=) → db.service (BindsTo=)"),
    (P.Reason(P.Because.HIDES, "x.service", "/usr/lib/systemd/system/x.service.d/10-exec.conf"),
     "it hides /usr/lib/systemd/system/x.service.d/10-exec.conf; without it x.service can start"),
    (P.Reason(P.Because.HIDES, "x.service", "/usr/lib/systemd/system/x.service.d/10-exec.conf", loads="loaded"),
     "it hides /usr/lib/systemd/system/x.service.d/10-exec.conf; without it x.service loads (loaded)"),
    (P.Reason(P.Because.TRIGGER, "foo.service", "foo.socket"),
     "foo.socket starts foo.service: enable the socket instead of the service"),
    (P.Reason(P.Because.ASKED, "foo.service"), "enabling foo.service was asked for"),
    (P.Reason(P.Because.RELOAD), "the manager still holds the old unit files"),
    (P.Reason(P.Because.START, "foo.service"), "start foo.service"),
    (P.Reason(P.Because.START, "foo.service", "foo.timer"), "start foo.service through foo.timer"),
]


def test_every_reason_is_worded():
    assert {r.because for r, _ in REASONS} == set(P.Because)


@pytest.mark.parametrize("r,words", REASONS, ids=[f"{r.because.value}-{i}" for i, (r, _) in enumerate(REASONS)])
def test_reason_words_and_record(r, words):
    assert reason(r) == words
    d = r.to_json()
    assert d["because"] == r.because.value and all(v not in (None, [], ()) for v in d.values())


ETC_MASK = "/etc/systemd/system/x.service"
EARLY = "/run/systemd/generator.early/x.service"


def _mask(refusal, path=ETC_MASK, **kw):
    return P.MaskAdvice("x.service", path, "persistent config", "config", refusal, **kw)


#: The advice on each kind of mask fix leaves, in words.
MASK_ADVICE = [
    (_mask(MaskOwner.KERNEL_COMMAND_LINE, EARLY, found_in=("/r/etc/kernel/cmdline",)),
     "remove systemd.mask=x.service from the kernel command line (found in /r/etc/kernel/cmdline), then reboot: "
     f"systemd-debug-generator writes {EARLY} → /dev/null at every boot and daemon-reload, so deleting that link "
     "would not last, and systemctl unmask refuses it"),
    (_mask(MaskOwner.KERNEL_COMMAND_LINE, EARLY),
     "remove systemd.mask=x.service from the kernel command line (see /etc/kernel/cmdline, GRUB_CMDLINE_LINUX in "
     f"/etc/default/grub, or the boot entry), then reboot: systemd-debug-generator writes {EARLY} → /dev/null at "
     "every boot and daemon-reload, so deleting that link would not last, and systemctl unmask refuses it"),
    (_mask(MaskOwner.GENERATOR, "/run/systemd/generator/x.service"),
     "/run/systemd/generator/x.service is written by a generator at every boot and daemon-reload; find it in "
     "/run/systemd/system-generators, /etc/systemd/system-generators, /usr/local/lib/systemd/system-generators or "
     "/lib/systemd/system-generators and change its input"),
    (_mask(MaskOwner.VENDOR, "/usr/local/lib/systemd/system/x.service", real="/usr/lib/systemd/system/x.service",
           override=ETC_MASK),
     "x.service is masked by its vendor (/usr/local/lib/systemd/system/x.service): the package masks it on purpose "
     "and systemctl unmask skips it. unitdoctor never changes /usr. A unit file at /etc/systemd/system/x.service "
     "overrides the vendor mask: copy the real unit file there (cp /usr/lib/systemd/system/x.service "
     "/etc/systemd/system/x.service; a symlink to it would be a self-alias), and reinstalling the package will not "
     "undo that override"),
    (_mask(MaskOwner.VENDOR, "/usr/lib/systemd/system/x.service", override=ETC_MASK),
     "x.service is masked by its vendor (/usr/lib/systemd/system/x.service): the package masks it on purpose and "
     "systemctl unmask skips it. unitdoctor never changes /usr. A unit file at /etc/systemd/system/x.service "
     "overrides the vendor mask: write the unit file you want there, and reinstalling the package will not undo "
     "that override"),
    (_mask(P.KeptMask.PERSISTENT),
     "/etc/systemd/system/x.service masks x.service persistently (persistent config); --runtime-only keeps it, and "
     "a runtime layer cannot override it: run fix without --runtime-only"),
    (_mask(P.KeptMask.SPECIAL_FILE),
     "/etc/systemd/system/x.service masks x.service but is a special file, not a link or empty file: inspect and "
     "remove it by hand"),
    (_mask(MaskOwner.PORTABLE, "/run/systemd/system.attached/x.service"),
     "/run/systemd/system.attached/x.service masks x.service in persistent config, which portable manages (config); "
     "unitdoctor does not remove it"),
    (_mask(None),
     "/etc/systemd/system/x.service masks x.service in persistent config, which someone else manages (config); "
     "unitdoctor does not remove it"),
]


def test_every_kind_of_kept_mask_is_worded():
    kinds = {m.refusal for m, _ in MASK_ADVICE}
    assert {MaskOwner.KERNEL_COMMAND_LINE, MaskOwner.GENERATOR, MaskOwner.VENDOR, *P.KeptMask} <= kinds


@pytest.mark.parametrize("m,words", MASK_ADVICE, ids=[f"{m.refusal}-{i}" for i, (m, _) in enumerate(MASK_ADVICE)])
def test_mask_advice_words_and_record(tmp_path, m, words):
    a = P.Advice("x.service", P.AdviceAbout.MASK, mask=m)
    assert advice(a) == words
    rec = P.action_record(a)
    assert "text" not in rec and rec["mask"]["refusal"] == (m.refusal.value if m.refusal else None)
    d = render_fix.action_json(a, Root(str(tmp_path)))
    assert d["text"] == words and d["mask"]["path"] == str(tmp_path) + m.path
