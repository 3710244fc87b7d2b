"""calendar.py against systemd 252's calendar_spec_from_string.

Two parts: a table of expressions with the answer ``systemd-analyze calendar`` (252.39) gave, which runs
anywhere; and a differential over a few hundred generated expressions (a seeded generator, so every run
asks the same ones) compared with the installed ``systemd-analyze calendar``: accepted or refused, the
errno, and the normalized form. ``UD_CALENDAR_LONG=N`` asks N expressions instead.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

from unitdoctor import calendar
from unitdoctor.calendar import TimeZones, parse

ZONEINFO = "/usr/share/zoneinfo"


def _host_zone_file(name: str) -> bool:
    """timezone_is_valid()'s file test on this host's zone database (what systemd-analyze reads)."""
    path = os.path.join(ZONEINFO, name)
    try:
        with open(path, "rb") as f:
            return os.fstat(f.fileno()).st_mode & 0o170000 == 0o100000 and f.read(4) == b"TZif"
    except OSError:
        return False


UTC = TimeZones(("UTC", "UTC"), _host_zone_file)
BERLIN = TimeZones(("CET", "CEST"), _host_zone_file)

# (expression, normalized form or "!ERRNO"), as systemd-analyze calendar 252.39 answered in UTC.
TABLE = [
    ("daily", "*-*-* 00:00:00"),
    ("MINUTELY", "*-*-* *:*:00"),
    ("hourly", "*-*-* *:00:00"),
    ("weekly", "Mon *-*-* 00:00:00"),
    ("monthly", "*-*-01 00:00:00"),
    ("anually", "*-01-01 00:00:00"),
    ("quarterly", "*-01,04,07,10-01 00:00:00"),
    ("bi-annually", "*-01,07-01 00:00:00"),
    ("garbage", "!EINVAL"),
    ("", "!EINVAL"),
    ("*/2:00", "!EINVAL"),
    ("*:0/15", "*-*-* *:00/15:00"),
    ("0/0:00", "!ERANGE"),
    ("Mon @0", "Mon 1970-01-01 00:00:00 UTC"),
    ("@ 5", "1970-01-01 00:00:05 UTC"),
    ("@ +5", "1970-01-01 00:00:05 UTC"),
    ("@-1", "!EINVAL"),
    ("@-60000000000", "2068-09-03 13:20:00 UTC"),
    ("@-62167219200", "2000-01-01 00:00:00 UTC"),
    ("@7258118399", "2199-12-31 23:59:59 UTC"),
    ("@7258118400", "!EINVAL"),
    ("@9223372036854775807", "!ERANGE"),
    ("@99999999999999999999", "!ERANGE"),
    ("*:*:1.5", "*-*-* *:*:01.500000"),
    ("*-*-* 1:2:3.1234565", "*-*-* 01:02:03.123457"),
    ("*-*-* 1:2:3.", "!EINVAL"),
    ("*:*:5..5", "!EINVAL"),
    ("*:*:5..5/1", "*-*-* *:*:05"),
    ("00:00:1..2.5", "*-*-* 00:00:01..02"),
    ("00:00:1.5..2", "!EINVAL"),
    ("*-*-* 00:00:60", "!EINVAL"),
    ("Mon,", "Mon *-*-* 00:00:00"),
    ("Mon, 1:00", "Mon *-*-* 01:00:00"),
    ("Mon-", "!EINVAL"),
    ("Mon..Sun", "*-*-* 00:00:00"),
    ("Sun..Mon", "!EINVAL"),
    ("MONDAY", "Mon *-*-* 00:00:00"),
    ("mond", "!EINVAL"),
    ("Mon.Tue", "!EINVAL"),
    ("Sat,Sun,Mon", "Mon,Sat,Sun *-*-* 00:00:00"),
    ("Mon..Wed 1", "!EINVAL"),
    ("*~1", "*-*~01 00:00:00"),
    ("*~29", "!EINVAL"),
    ("*-*~28", "*-*~28 00:00:00"),
    ("2023-02~01/2", "!EINVAL"),
    ("1..2-3", "*-01..02-03 00:00:00"),
    ("23..1:00", "!EINVAL"),
    ("daily utc", "*-*-* 00:00:00 UTC"),
    ("daily  UTC", "!EINVAL"),
    ("daily Etc/GMT+5", "*-*-* 00:00:00 Etc/GMT+5"),
    ("daily posix/Europe/Berlin", "*-*-* 00:00:00 posix/Europe/Berlin"),
    ("daily Europe//Berlin", "!EINVAL"),
    ("daily Europe", "!EINVAL"),  # a directory
    ("daily leapseconds", "!EINVAL"),  # no TZif magic
    ("daily /UTC", "!EINVAL"),
    ("daily Foo", "!EINVAL"),
    (",".join(["1"] * 241) + "-1", "*-01-01 00:00:00"),
    (",".join(["1"] * 242) + "-1", "!ENOBUFS"),
]


def _answer(c: calendar.Calendar) -> str:
    return c.normalized if c.valid else f"!{c.errno}"


@pytest.mark.parametrize("text, expected", TABLE)
def test_table_matches_systemd_analyze_calendar(text, expected):
    zone_case = "/" in expected.split(" ")[-1] or text.endswith(("leapseconds", "Europe", "Foo"))
    if zone_case and not os.path.isdir(ZONEINFO):
        pytest.skip("no zone database on this host")
    assert _answer(parse(text, UTC)) == expected


def test_local_zone_names_are_stripped_and_printed():
    assert _answer(parse("daily CET", BERLIN)) == "*-*-* 00:00:00 CET"
    assert _answer(parse("daily cest", BERLIN)) == "*-*-* 00:00:00 CEST"
    assert _answer(parse("daily  CET", BERLIN)) == "!EINVAL"


def test_unknown_zone_database_is_unknown_only_when_it_matters():
    offline = TimeZones(("UTC", "UTC"))
    assert parse("daily Europe/Berlin", offline).valid is None
    assert "Europe/Berlin" in parse("daily Europe/Berlin", offline).unknown
    # Refused however the last word is read.
    assert parse("garbage Europe/Berlin", offline).valid is False
    assert parse("daily", offline).valid is True
    # A last word that cannot be a zone name is never looked up.
    assert parse("Mon *-*-* 00:00", offline).valid is True
    no_local = TimeZones(None, _host_zone_file)
    assert parse("daily XYZ", no_local).valid is None
    assert parse("daily", no_local).valid is True
    assert parse("daily UTC", no_local).valid is True


# -- the differential ----------------------------------------------------------------------------

_NUMBERS = (0, 1, 2, 5, 7, 9, 10, 12, 13, 15, 23, 24, 28, 29, 30, 31, 32, 59, 60, 61, 69, 70, 99, 100, 1969,
            1970, 2000, 2023, 2199, 2200, 2147483647, 2147483648, 99999999999999999999)
_ZONES = ("", "", "", " UTC", " utc", " Europe/Berlin", " CET", " Foo/Bar", " Etc/GMT+5", " EST", "  UTC",
          " America/New_York", " Europe//Paris", " UTC0")
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "monday", "FRIDAY", "Sunday", "Mo", "Wednes")
_SHORT = ("minutely", "hourly", "daily", "monthly", "weekly", "yearly", "annually", "anually", "quarterly",
          "semiannually", "semi-annually", "biannually", "bi-annually", "Daily", "WEEKLY", "fortnightly")
_NOISE = "-:,./~*@ 0123456789aM"


def _number(rng: random.Random, lo: int, hi: int) -> str:
    n = rng.choice(_NUMBERS) if rng.random() < 0.12 else rng.randint(lo, hi)
    return f"{n:02d}" if rng.random() < 0.3 else str(n)


def _item(rng: random.Random, lo: int, hi: int, seconds: bool = False) -> str:
    s = _number(rng, lo, hi)
    if seconds and rng.random() < 0.3:
        s += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 8)))
    if rng.random() < 0.2:
        s += ".." + _number(rng, min(int(float(s)), hi), hi)
    if rng.random() < 0.2:
        s += "/" + _number(rng, 0, max(1, (hi - lo) // 4))
    return s


def _field(rng: random.Random, lo: int, hi: int, seconds: bool = False) -> str:
    if rng.random() < 0.4:
        return "*"
    return ",".join(_item(rng, lo, hi, seconds) for _ in range(rng.choice((1, 1, 1, 1, 2, 3))))


def _weekdays(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        d = rng.choice(_WEEKDAY_NAMES)
        if rng.random() < 0.3:
            d += rng.choice(("..", "-", ".")) + rng.choice(_WEEKDAY_NAMES)
        parts.append(d)
    return ",".join(parts) + ("," if rng.random() < 0.1 else "")


def _expression(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        s = rng.choice(_SHORT)
    elif r < 0.15:
        s = "@" + rng.choice(("", " ", "-", "+")) + str(rng.choice((0, 1, 86399, 7258118399, 7258118400,
                                                                     -60000000000, rng.randint(0, 2**40))))
    else:
        out = []
        if rng.random() < 0.3:
            out.append(_weekdays(rng))
        if rng.random() < 0.7:
            date = [_field(rng, 1, 12), _field(rng, 1, 31)]
            if rng.random() < 0.6:
                date.insert(0, _field(rng, 1970, 2199))
            seps = [rng.choice("---~") for _ in date[1:]]
            out.append(date[0] + "".join(sep + f for sep, f in zip(seps, date[1:])))
        if rng.random() < 0.8:
            t = [_field(rng, 0, 23), _field(rng, 0, 59)]
            if rng.random() < 0.6:
                t.append(_field(rng, 0, 59, seconds=True))
            out.append(":".join(t))
        s = " ".join(out) or "*"
    s += rng.choice(_ZONES)
    for _ in range(rng.choice((0, 0, 0, 0, 1, 2))):
        i = rng.randint(0, len(s))
        op = rng.random()
        if op < 0.4:
            s = s[:i] + rng.choice(_NOISE) + s[i:]
        elif op < 0.7:
            s = s[:i] + s[i + 1:]
        else:
            s = s[:i] + rng.choice(_NOISE) + s[i + 1:]
    return s


def generated(n: int, seed: int = 252) -> list[str]:
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < n:
        e = _expression(rng)
        if e.strip() == e and "\n" not in e and "'" not in e:
            seen[e] = None
    return list(seen)


def systemd_analyze_calendar(exprs: list[str], tz: str) -> dict[str, str]:
    """expression → normalized form, "!" + strerror text, or "?" (accepted, form not shown), from
    ``systemd-analyze calendar``."""
    out: dict[str, str] = {}
    for k in range(0, len(exprs), 200):
        batch = exprs[k:k + 200]
        p = subprocess.run(["systemd-analyze", "calendar", "--", *batch], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "TZ": tz, "LC_ALL": "C", "SYSTEMD_LOG_COLOR": "0"})
        prefix = "Failed to parse calendar specification '"
        failed = {}
        for line in p.stderr.splitlines():
            if line.startswith(prefix):
                text, _, err = line[len(prefix):].rpartition("': ")
                failed[text] = "!" + err
        # Accepted, but the next elapse could not be computed: no normalized form is printed.
        prefix = "Failed to determine next elapse for '"
        no_next = {line[len(prefix):].rpartition("': ")[0] for line in p.stderr.splitlines()
                   if line.startswith(prefix)}
        # One "Normalized form" line per accepted expression, in order (after an "Original form" line
        # only when that differs; a failure to compute the next elapse does not refuse the expression).
        normalized = [line[len("Normalized form: "):] for line in p.stdout.splitlines()
                      if line.startswith("Normalized form: ")]
        accepted = [e for e in batch if e not in failed and e not in no_next]
        assert len(normalized) == len(accepted), p.stderr
        out.update(zip(accepted, normalized))
        out.update(failed)
        out.update(dict.fromkeys(no_next, "?"))
    return out


@pytest.mark.parametrize("tz, zones", [("UTC", UTC), ("Europe/Berlin", BERLIN)], ids=["UTC", "Berlin"])
def test_generated_expressions_match_systemd_analyze_calendar(tz, zones):
    if shutil.which("systemd-analyze") is None or not os.path.isdir(ZONEINFO):
        pytest.skip("systemd-analyze or the zone database is not installed")
    n = int(os.environ.get("UD_CALENDAR_LONG", "400"))
    exprs = generated(n, seed=252 if tz == "UTC" else 253)
    theirs = systemd_analyze_calendar(exprs, tz)
    mismatches = []
    accepted = 0
    for e in exprs:
        c = parse(e, zones)
        ours = c.normalized if c.valid else "!" + calendar.STRERROR[c.errno]
        accepted += bool(c.valid)
        if theirs.get(e) != ours and not (theirs.get(e) == "?" and c.valid):
            mismatches.append((e, ours, theirs.get(e)))
    print(f"{len(exprs)} expressions, {accepted} accepted, {len(mismatches)} disagreements")
    assert not mismatches, mismatches[:20]
    # The generator reaches both answers often enough for the comparison to mean something.
    assert len(exprs) // 5 < accepted < len(exprs) * 4 // 5


@pytest.mark.parametrize("text, expected", [("1" * 5000 + "-1", "!ERANGE"), ("@" + "1" * 5000, "!ERANGE"),
                                            ("@-" + "1" * 5000, "!ERANGE"), ("*:*:" + "9" * 5000, "!ERANGE"),
                                            ("0" * 5000 + "1-1", "*-01-01 00:00:00")])
def test_huge_numbers_are_out_of_range_not_a_crash(text, expected):
    """strtoul saturates; Python's int() refuses strings over 4,300 digits, so the parser must not call it on
    them (systemd-analyze calendar refuses the first ones; its message is cut at the line limit)."""
    assert _answer(parse(text, UTC)) == expected
