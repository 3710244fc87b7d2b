"""``states`` against ``systemctl --root list-unit-files`` on one large generated root, byte for byte.

The hypothesis roots of test_states_vs_systemctl.py hold a few units each; the speed work on ``states``
(indexes built once per scan, the quick [Install] reader, presets matched once per name) only pays, and
could only go wrong, across thousands. This root is bench/roots.py's with ``variety``: 2,000 units in every
shape the install logic tells apart (enabled, at runtime, through an alias or a .requires link, linked
from outside the search path, overridden, chained and dangling aliases, masks by link and by empty file,
templates with DefaultInstance= and instances, generated and transient units, drop-ins with [Install],
files only the full parser reads, bad files) and a preset policy with globs, templates and ``disable *``.
systemctl's listing is quadratic: about 20 s of CPU here.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from .systemctl import clean_env, our_states, require_systemctl, their_states

pytestmark = pytest.mark.differential

BENCH = Path(__file__).resolve().parents[2] / "bench"
SRC = Path(__file__).resolve().parents[2] / "src"
UNITS = 2000


@pytest.fixture(scope="module")
def big_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(BENCH))
    try:
        from roots import build
    finally:
        sys.path.remove(str(BENCH))
    return build(tmp_path_factory.mktemp("scale") / "root", UNITS, variety=True)


def test_states_lists_a_large_root_as_list_unit_files_does(big_root: Path) -> None:
    """The whole table (header, rows, PRESET column, count line) and the exit status are the same."""
    env = clean_env()
    theirs = subprocess.run([require_systemctl(), f"--root={big_root}", "--no-pager", "list-unit-files", "--full"],
                            env=env, capture_output=True, text=True, timeout=1800, check=False)
    env["PYTHONPATH"] = str(SRC)
    ours = subprocess.run([sys.executable, "-m", "unitdoctor", f"--root={big_root}", "states"], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == theirs.returncode
    a, b = ours.stdout.splitlines(), theirs.stdout.splitlines()
    diff = [(x, y) for x, y in zip(a, b) if x != y][:5]
    same = ours.stdout == theirs.stdout  # compared here: pytest's own diff of two long texts takes minutes
    assert same, f"first differences (ours, systemctl): {diff}; lines {len(a)} {len(b)}"
    states = {line.split()[1] for line in b[1:-2] if line}
    # The root holds every state list-unit-files can print for a root (a sanity check of the generator).
    assert states >= {"enabled", "enabled-runtime", "linked", "linked-runtime", "alias", "masked",
                      "masked-runtime", "static", "disabled", "indirect", "generated", "transient", "bad"}, states


def test_is_enabled_answers_the_same_for_a_sample_of_a_large_root(big_root: Path) -> None:
    """``is-enabled`` for 300 names of the listing, instances of its templates and missing names."""
    listed = sorted(n for d in ("etc/systemd/system", "usr/lib/systemd/system", "run/systemd/system")
                    for n in os.listdir(big_root / d) if "." in n and not n.endswith((".d", ".wants", ".requires")))
    rnd = random.Random(UNITS)
    names = rnd.sample(listed, 250)
    names += [n.replace("@.", "@z.") for n in listed if n.endswith("@.service")][:40]
    names += [f"missing{i}.service" for i in range(10)]
    theirs = their_states(big_root, names)
    ours = our_states(big_root, names)
    diff = {n: (ours[n], theirs[n]) for n in names if ours[n] != theirs[n]}
    assert not diff, f"is-enabled differs (ours, systemctl): {diff}"
