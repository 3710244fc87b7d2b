"""``list_unit_files`` says of every name what ``lookup_state`` says of it (fact sheet §3.3).

systemctl's ``unit_file_get_list`` calls ``unit_file_lookup_state`` for each listed name; the listing here
answers the most common names (a plain file with no drop-in, alias or hard [Install] key) without the
general lookup, so the two must agree everywhere: the state (``bad`` where the lookup fails), the file
found and what its [Install] says. Roots from tests/property/strategies.py, all three scopes; no systemctl
needed (the differential tests compare both with systemctl).
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.property.strategies import RootDesc, global_roots, materialize, system_roots, unit_path_roots

from unitdoctor import install
from unitdoctor.catalog import open_catalog
from unitdoctor.lookup import Scope


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(system_roots(), global_roots(), unit_path_roots()))
def test_every_listed_state_is_the_lookups(desc: RootDesc) -> None:
    with tempfile.TemporaryDirectory(prefix="ud-list-") as tmp:
        root = os.path.join(tmp, "root")
        materialize(desc, root)
        cat = open_catalog(root, Scope(desc.scope), desc.environ)
        for r in install.list_unit_files(cat):
            single = install.lookup_state(cat, r.name)
            if single.error is not None:
                assert (r.state, r.error) == (install.UnitFileState.BAD, single.error), r.name
                continue
            assert r.state is single.state and r.error is None, r.name
            assert r.info is not None and single.info is not None
            got, want = r.info, single.info
            assert (got.name, got.path, got.mode, got.aliases, got.wanted_by, got.required_by, got.also,
                    got.default_instance, got.sources) == \
                (want.name, want.path, want.mode, want.aliases, want.wanted_by, want.required_by, want.also,
                 want.default_instance, want.sources), r.name
