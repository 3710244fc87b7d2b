"""``Presets.match`` (one regex for all rules) finds the rule ``query_presets`` finds: the first in file order
whose pattern ``fnmatch``-es the name (install.c, v252), for patterns with every glob construct."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from unitdoctor.origin import Origin
from unitdoctor.preset import PresetRule, Presets, fnmatch

PIECES = st.sampled_from(["a", "b", "x", ".", "-", "@", "*", "?", "[", "]", "!", "^", "[ab]", "[!a]", "[^b]", "[a-c]",
                          "[c-a]", "[]a]", "[[:digit:]]", "[[:alpha:]]", "[!]]", "\\", "service", "1"])
PATTERNS = st.lists(PIECES, min_size=1, max_size=6).map("".join)
NAMES = st.lists(st.sampled_from(["a", "b", "c", "x", "1", ".", "-", "@", "]", "[", "!", "^", "\\", "service"]),
                 max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["enable", "disable"]), PATTERNS), min_size=1, max_size=12),
       st.lists(NAMES, min_size=1, max_size=10))
def test_first_matching_rule_wins(rules: list[tuple[str, str]], names: list[str]) -> None:
    presets = Presets(tuple(PresetRule(a, p, Origin("/usr/lib/systemd/system-preset/50-x.preset", i))
                            for i, (a, p) in enumerate(rules, 1)))
    for name in names:
        want = next((r for r in presets.rules if fnmatch(r.pattern, name)), None)
        assert presets.match(name) is want, (name, [r.pattern for r in presets.rules])
        assert presets.query(name) == ("disabled" if want is not None and want.action == "disable" else "enabled")


def test_no_rules_enable_everything() -> None:
    assert Presets(()).match("a.service") is None
    assert Presets(()).query("a.service") == "enabled"
