"""A user session analysed offline, as an admin runs ``unitdoctor --user`` from a shell without
``$XDG_RUNTIME_DIR`` (``su -``, ssh without pam_systemd): ``%t`` is then unknown offline, but the user manager
always knows it. Sockets and path units whose addresses use it (gpg-agent.socket, dbus.socket on every
Debian/Ubuntu desktop) are not "bad-setting": the value is kept, not judged. A value that is wrong whatever
the specifiers say still is."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope
from unitdoctor.manager import LoadState
from unitdoctor.report import why


def _home(tmp_path: Path) -> Path:
    d = tmp_path / "home/.config/systemd/user"
    d.mkdir(parents=True)
    (d / "agent.socket").write_text("[Socket]\nListenStream=%t/agent/S.agent\nFileDescriptorName=std\n")
    (d / "agent.service").write_text("[Service]\nExecStart=/bin/true\n")
    (d / "flag.path").write_text("[Path]\nPathExists=%t/flag\n")
    (d / "flag.service").write_text("[Service]\nExecStart=/bin/true\n")
    (d / "bad.socket").write_text("[Socket]\nListenStream=relative/S.bad\n")
    (d / "bad.service").write_text("[Service]\nExecStart=/bin/true\n")
    return tmp_path / "home"


@pytest.mark.parametrize("runtime", [None, "/run/user/4242"])
def test_a_runtime_dir_socket_or_path_loads_with_or_without_xdg_runtime_dir(tmp_path, runtime):
    env = {"HOME": str(_home(tmp_path)), "PWD": "/"}
    if runtime:
        env["XDG_RUNTIME_DIR"] = runtime
    cat = open_catalog(None, Scope.USER, env)
    for unit in ("agent.socket", "flag.path", "agent.service"):
        rep = why(cat, unit)
        assert rep.loaded.load_state is LoadState.LOADED, (unit, [f.summary for f in rep.findings])
        assert not [f.id for f in rep.findings if f.severity.value == "error"], unit
    bad = why(cat, "bad.socket")
    assert bad.loaded.load_state is LoadState.BAD_SETTING  # not an address whatever %t is
