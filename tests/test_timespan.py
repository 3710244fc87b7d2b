"""timespan.parse_sec against systemd 252's parse_sec: a table that runs anywhere (answers from
``systemd-analyze timespan`` 252.39) and a seeded generator compared with the installed
``systemd-analyze timespan`` (the value in µs, or the errno). ``UD_TIMESPAN_LONG=N`` asks N."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

from unitdoctor.timespan import USEC_INFINITY, parse_sec

TABLE = [
    ("5min 30s", 330_000_000), ("garbage", "EINVAL"), (".5", 500_000), ("infinity", USEC_INFINITY),
    ("infinity x", "EINVAL"), ("1.5.5", "EINVAL"), ("1.5 .5", 2_000_000), ("1.5s.5", 2_000_000), ("+5", 5_000_000),
    ("0", 0), (" 5", 5_000_000), ("", "EINVAL"), ("-0", "ERANGE"), ("5 -1", "ERANGE"), ("3.", "EINVAL"),
    ("3.sec", "EINVAL"), ("5mo", "EINVAL"), ("1M", 2_629_800_000_000), ("2y", 63_115_200_000_000),
    ("1 \u00b5s", 1), ("10ms", 10_000), ("9223372036854775808", "ERANGE"), ("18446744073709", "ERANGE"),
]


@pytest.mark.parametrize("text, expected", TABLE)
def test_table_matches_systemd_analyze_timespan(text, expected):
    usec, errno = parse_sec(text)
    assert (usec if errno == "" else errno) == expected


_PIECES = ("0", "1", "5", "30", "1.5", ".5", "3.", "12.34", "18446744073709", "9223372036854775807", "+2", "-1",
           "99999999999999999999")
_UNITS = ("", "", "s", "sec", "seconds", "m", "min", "minutes", "ms", "msec", "us", "\u00b5s", "\u03bcs", "h",
          "hr", "d", "days", "w", "weeks", "M", "months", "y", "years", "x", "mo", "S", "Min")


def generated(n: int, seed: int = 252) -> list[str]:
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < n:
        if rng.random() < 0.05:
            s = rng.choice(("infinity", "infinity ", " infinity", "infinityx", "inf"))
        else:
            s = "".join(rng.choice(_PIECES) + rng.choice(("", "", " ")) + rng.choice(_UNITS)
                        + rng.choice(("", " ", " ", ".", "\t"))
                        for _ in range(rng.choice((1, 1, 2, 3))))
        if rng.random() < 0.1 and s:
            i = rng.randrange(len(s))
            s = s[:i] + rng.choice(".- +x9") + s[i + 1:]
        s = s.strip(" \t")
        if s and not s.startswith("-"):
            seen[s] = None
    return list(seen)


def systemd_analyze_timespan(exprs: list[str]) -> dict[str, object]:
    """expression → µs or strerror text; systemd-analyze stops at the first refusal, so it is asked again
    from the next one."""
    out: dict[str, object] = {}
    k = 0
    while k < len(exprs):
        batch = exprs[k:k + 300]
        p = subprocess.run(["systemd-analyze", "timespan", "--", *batch], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "LC_ALL": "C.UTF-8", "SYSTEMD_LOG_COLOR": "0"})
        values = [int(line.split(":", 1)[1]) for line in p.stdout.splitlines() if line.startswith("      \u03bcs:")]
        out.update(zip(batch, values))
        k += len(values)
        if p.returncode != 0:
            failed = [line for line in p.stderr.splitlines() if line.startswith("Failed to parse time span '")]
            out[exprs[k]] = failed[0].rpartition("': ")[2]
            k += 1
        else:
            assert len(values) == len(batch), p.stderr
    return out


_STRERROR = {"EINVAL": "Invalid argument", "ERANGE": "Numerical result out of range"}


def test_generated_spans_match_systemd_analyze_timespan():
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    exprs = generated(int(os.environ.get("UD_TIMESPAN_LONG", "300")))
    theirs = systemd_analyze_timespan(exprs)
    mismatches = []
    for e in exprs:
        usec, errno = parse_sec(e)
        ours = usec if not errno else _STRERROR[errno]
        if theirs.get(e) != ours:
            mismatches.append((e, ours, theirs.get(e)))
    accepted = sum(isinstance(v, int) for v in theirs.values())
    print(f"{len(exprs)} spans, {accepted} accepted, {len(mismatches)} disagreements")
    assert not mismatches, mismatches[:20]
    assert len(exprs) // 5 < accepted < len(exprs) * 4 // 5


def test_huge_numbers_are_out_of_range_not_a_crash():
    assert parse_sec("1" * 5000) == (None, "ERANGE")
    assert parse_sec("0" * 5000 + "5") == (5_000_000, "")
