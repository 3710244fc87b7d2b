"""Calendar events (``OnCalendar=``): whether systemd 252 accepts one, and its normalized form.

Implements ``calendar_spec_from_string`` (calendarspec.c, v252; systemd.time(7) "CALENDAR EVENTS"), the
parser that ``config_parse_timer`` (load-fragment.c) runs on every ``OnCalendar=`` value after specifier
expansion; a value it refuses is logged ("Failed to parse calendar specification, ignoring: …") and
dropped. The grammar, read in this order:

- a time zone suffix, removed first: `` UTC`` (any case); else one of the two names of the local zone
  (``tzname[]`` after ``tzset()``, e.g. ``CET``/``CEST``) after a space; else the word after the last
  space if ``timezone_is_valid()`` accepts it (a name of ``[A-Za-z0-9_+/-]`` without ``//``, a leading
  or trailing ``/``, naming a regular file with the ``TZif`` magic under ``/usr/share/zoneinfo``);
- a shorthand (any case): ``minutely hourly daily monthly weekly yearly annually anually quarterly
  semiannually semi-annually biannually bi-annually``; or
- ``[WEEKDAYS] [DATE] [TIME]``: weekdays ``Mon``/``Monday``… (any case) joined by ``,``, ranges by ``..``
  or ``-``; a date ``[YEAR-]MONTH-DAY`` or ``@EPOCH`` (seconds, read by ``strtoul``: nothing may follow);
  ``~`` before the day counts from the end of the month; a time ``HOUR:MINUTE[:SECOND]`` (no time:
  00:00:00); each field ``*`` or a ``,`` list (at most 241 items) of ``N``, ``N..M``, ``N/R`` or
  ``N..M/R``; seconds may carry up to six decimals (a seventh rounds).

Then the chains are normalized (two-digit years are 19xx/20xx, ranges shortened to a whole number of
repeats, duplicates dropped, sorted) and checked against their bounds (years 1970–2199, ``~`` days up
to 28). The result is the value systemd would keep, and the text ``systemd-analyze calendar`` prints
as "Normalized form".

The time zone is what the parser asks of the system. ``TimeZones`` carries it: the local names (from
the root's ``/etc/localtime``) and a lookup of zone files; when either is not known (a root without
``/usr/share/zoneinfo``) and the answer depends on it, the result says so instead of guessing.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .records import dataclass, field

USEC_PER_SEC = 1_000_000
INT_MAX = 2**31 - 1
ULONG_MAX = 2**64 - 1
MIN_YEAR, MAX_YEAR = 1970, 2199
#: CALENDARSPEC_COMPONENTS_MAX: a ``,`` list holds at most this many items after the first.
COMPONENTS_MAX = 240
ALL_WEEKDAYS = 127

#: strerror() of the errnos the parser returns, as ``systemd-analyze calendar`` prints them.
STRERROR = {"EINVAL": "Invalid argument", "ERANGE": "Numerical result out of range",
            "ENOBUFS": "No buffer space available"}

_WEEKDAYS = (("monday", 0), ("mon", 0), ("tuesday", 1), ("tue", 1), ("wednesday", 2), ("wed", 2),
             ("thursday", 3), ("thu", 3), ("friday", 4), ("fri", 4), ("saturday", 5), ("sat", 5),
             ("sunday", 6), ("sun", 6))
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DIGITS = "0123456789"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(s: str) -> str:
    """ASCII-only lower case, as ``strcaseeq``/``startswith_no_case`` compare."""
    return s.translate(_ASCII_LOWER)

_C_SPACE = " \t\n\v\f\r"

#: The shorthands: fields fixed as (weekday bits, months, day, hour, minute); the others stay ``*``.
_SHORTHANDS: dict[str, tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "minutely": (-1, (), (), (), ()),
    "hourly": (-1, (), (), (), (0,)),
    "daily": (-1, (), (), (0,), (0,)),
    "monthly": (-1, (), (1,), (0,), (0,)),
    "weekly": (1, (), (), (0,), (0,)),
    "yearly": (-1, (1,), (1,), (0,), (0,)),
    "quarterly": (-1, (1, 4, 7, 10), (1,), (0,), (0,)),
    "semiannually": (-1, (1, 7), (1,), (0,), (0,)),
}
for _alias, _same in (("annually", "yearly"), ("anually", "yearly"), ("semi-annually", "semiannually"),
                      ("biannually", "semiannually"), ("bi-annually", "semiannually")):
    _SHORTHANDS[_alias] = _SHORTHANDS[_same]


def zone_name_is_valid(name: str) -> bool:
    """Whether ``name`` passes ``verify_timezone``'s syntax checks (time-util.c, v252) before the file is opened:
    not empty, not absolute, only ASCII letters, digits and ``-_+/``, no ``//``, no trailing ``/``."""
    if not name or name[0] == "/" or "//" in name or name.endswith("/") or len(name) >= 4096:
        return False
    return all(c.isascii() and (c.isalnum() or c in "-_+/") for c in name)


@dataclass(frozen=True)
class TimeZones:
    """What ``calendar_spec_from_string`` asks of the system it runs on.

    ``local``: ``tzname[0]``/``tzname[1]`` (standard and daylight names of the local zone); None when not
    known. ``zone_file``: whether ``/usr/share/zoneinfo/NAME`` is a regular file starting with ``TZif``,
    None when not known; called only for names that pass ``zone_name_is_valid``. The default is a
    system in UTC whose zone database is not known.
    """

    local: Optional[tuple[str, str]] = ("UTC", "UTC")
    zone_file: Callable[[str], Optional[bool]] = field(default=lambda name: None)


@dataclass(frozen=True)
class Calendar:
    """The outcome of parsing one calendar event.

    ``valid`` is True (accepted; ``normalized`` is the form systemd prints), False (refused with
    ``errno``) or None (it depends on a time zone fact that is not known: ``unknown`` says which).
    """

    text: str
    valid: Optional[bool]
    normalized: str = ""
    errno: str = ""
    unknown: str = ""


class _Refused(Exception):
    def __init__(self, errno: str) -> None:
        super().__init__(errno)
        self.errno = errno


# A chain is a list of [start, stop, repeat] (stop -1: none); None is "*" (every value).
_Chain = Optional[list[list[int]]]


@dataclass
class _Spec:
    weekdays: int = 0
    year: _Chain = None
    month: _Chain = None
    day: _Chain = None
    hour: _Chain = None
    minute: _Chain = None
    usec: _Chain = None
    end_of_month: bool = False
    utc: bool = False
    timezone: str = ""
    dst: int = -1


def parse(text: str, zones: Optional[TimeZones] = None) -> Calendar:
    """What ``calendar_spec_from_string(text)`` returns on a system described by ``zones`` (default: a
    system in UTC whose zone database is not known).

    The time zone suffix is decided first (the only place the system is asked); if what it strips
    is not known, both readings are parsed and the answer is given only when they agree.
    """
    if _lower(text).endswith(" utc"):
        return _outcome(text, text[:-4], utc=True)
    if zones is None:
        zones = TimeZones()
    head, sep, word = text.rpartition(" ")
    local = zones.local
    if local is not None:
        for j, name in enumerate(local):
            if name and len(text) > len(name) and _lower(text).endswith(_lower(name)) \
                    and text[-len(name) - 1] == " ":
                return _outcome(text, text[:-len(name) - 1], dst=j, zone_name=name)
    # tzname[] unknown: the last word may be one of its names.
    local_maybe = local is None and bool(sep and word)
    zone = (zone_name_is_valid(word) and zones.zone_file(word)) if sep else False
    if zone and not local_maybe:
        return _outcome(text, head, timezone=word)
    readings: list[tuple[str, dict[str, Any]]] = [(head, {"dst": 0, "zone_name": word})] if local_maybe else []
    if zone is not False:
        readings.append((head, {"timezone": word}))
    if not zone:
        readings.append((text, {}))
    outcomes = [_outcome(text, body, **kw) for body, kw in readings]
    if len({o.valid for o in outcomes}) == 1:
        return outcomes[-1]
    what = ("the names of the local time zone (/etc/localtime)" if local_maybe
            else f"whether time zone {word!r} exists (/usr/share/zoneinfo)")
    return Calendar(text, None, unknown=f"depends on {what}, which is not known")


def _outcome(text: str, body: str, *, utc: bool = False, dst: int = -1, zone_name: str = "",
             timezone: str = "") -> Calendar:
    spec = _Spec(utc=utc, dst=dst, timezone=timezone)
    try:
        _parse_body(body, spec)
        _normalize(spec)
        if not _valid(spec):
            raise _Refused("EINVAL")
    except _Refused as e:
        return Calendar(text, False, errno=e.errno)
    return Calendar(text, True, normalized=_format(spec, zone_name))


def _parse_body(p: str, c: _Spec) -> None:
    if not p:
        raise _Refused("EINVAL")
    short = _SHORTHANDS.get(_lower(p))
    if short is not None:
        bits, months, days, hours, minutes = short
        c.weekdays = bits if bits > 0 else 0
        c.month = [[m, -1, 0] for m in months] or None
        c.day = [[d, -1, 0] for d in days] or None
        c.hour = [[h, -1, 0] for h in hours] or None
        c.minute = [[m, -1, 0] for m in minutes] or None
        c.usec = [[0, -1, 0]]
        return
    i = _parse_weekdays(p, 0, c)
    i, done = _parse_date(p, i, c)
    if not done:
        i = _parse_time(p, i, c)
    if i != len(p):
        raise _Refused("EINVAL")


def _at(p: str, i: int) -> str:
    """The character at ``i``, or "" at the end (C's NUL)."""
    return p[i] if i < len(p) else ""


def _skip_spaces(p: str, i: int) -> int:
    while _at(p, i) == " ":
        i += 1
    return i


def _parse_weekdays(p: str, i: int, c: _Spec) -> int:
    """``parse_weekdays``: a list of weekday names and ranges, or nothing (then ``i`` is returned)."""
    first, last = True, -1
    while True:
        low = _lower(p[i:i + 9])
        match = next(((name, nr) for name, nr in _WEEKDAYS if low.startswith(name)), None)
        if match is None:
            # No weekday here: there was none at all (fine), or a list ended in a separator.
            if first:
                return i
            raise _Refused("EINVAL")
        name, nr = match
        i += len(name)
        if _at(p, i) not in ("", "-", ".", ",", " "):
            raise _Refused("EINVAL")
        c.weekdays |= 1 << nr
        if last >= 0:
            if last > nr:
                raise _Refused("EINVAL")
            for j in range(last + 1, nr):
                c.weekdays |= 1 << j
        ch = _at(p, i)
        if ch == "":
            return i
        if ch == " ":
            return _skip_spaces(p, i)
        if ch == ".":
            if last >= 0 or _at(p, i + 1) != ".":
                raise _Refused("EINVAL")
            last, i = nr, i + 2
        elif ch == "-":
            # "-" is a range too, for backwards compatibility.
            if last >= 0:
                raise _Refused("EINVAL")
            last, i = nr, i + 1
        elif ch == ",":
            last, i = -1, i + 1
        # A trailing comma is fine, an open range is not.
        if _at(p, i) in ("", " "):
            if last >= 0:
                raise _Refused("EINVAL")
            return _skip_spaces(p, i)
        first = False


def _strtoul(p: str, i: int) -> tuple[int, int]:
    """``strtoul(p + i, &end, 10)`` → (value, end); spaces and a sign first, wrapping negatives like C."""
    j = i
    while _at(p, j) in tuple(_C_SPACE):
        j += 1
    neg = _at(p, j) == "-"
    if _at(p, j) in ("+", "-"):
        j += 1
    k = j
    while _at(p, k) in tuple(_DIGITS):
        k += 1
    if k == j:
        raise _Refused("EINVAL")
    # Saturating: past 30 significant digits the value is out of every range anyway (and int() of a huge
    # digit string is refused by Python).
    value = int(p[j:k].lstrip("0")[:30] or "0")
    if value > ULONG_MAX:
        raise _Refused("ERANGE")
    return ((-value) % 2**64 if neg else value), k


def _parse_decimal(p: str, i: int, usec: bool) -> tuple[int, int]:
    """``parse_component_decimal``: digits (seconds: times 10⁶, plus up to six decimals) → (value, end)."""
    if _at(p, i) not in tuple(_DIGITS):
        raise _Refused("EINVAL")
    value, i = _strtoul(p, i)
    if usec:
        if value * USEC_PER_SEC > ULONG_MAX:
            raise _Refused("ERANGE")
        value *= USEC_PER_SEC
        # One "." is a decimal point, ".." is a range.
        if _at(p, i) == "." and _at(p, i + 1) != ".":
            i += 1
            if _at(p, i) not in tuple(_DIGITS):
                raise _Refused("EINVAL")
            k = i
            while k < i + 6 and _at(p, k) in tuple(_DIGITS):
                k += 1
            add = int(p[i:k].ljust(6, "0"))
            # parse_fractional_part_u rounds on the seventh digit, then skips the rest.
            if "5" <= _at(p, k) <= "9":
                add += 1
            while _at(p, k) in tuple(_DIGITS):
                k += 1
            value += add
            i = k
    if value > INT_MAX:
        raise _Refused("ERANGE")
    return value, i


def _parse_chain(p: str, i: int, usec: bool) -> tuple[_Chain, int]:
    """``parse_chain``: ``*`` or a ``,`` list of ``N[..M][/R]`` → (chain, end)."""
    if _at(p, i) == "*":
        return ([[0, -1, USEC_PER_SEC]] if usec else None), i + 1
    chain: list[list[int]] = []
    while True:
        # prepend_component() recurses once per ",": at most COMPONENTS_MAX levels.
        if len(chain) > COMPONENTS_MAX:
            raise _Refused("ENOBUFS")
        start, i = _parse_decimal(p, i, usec)
        stop, repeat = -1, 0
        if _at(p, i) == "." and _at(p, i + 1) == ".":
            stop, i = _parse_decimal(p, i + 2, usec)
            repeat = USEC_PER_SEC if usec else 1
        if _at(p, i) == "/":
            repeat, i = _parse_decimal(p, i + 1, usec)
            if repeat == 0:
                raise _Refused("ERANGE")
        else:
            if start > INT_MAX - repeat:
                raise _Refused("ERANGE")
            # Without a repeat, a seconds range must span at least the default repeat of 1 s.
            if usec and stop >= 0 and start + repeat > stop:
                raise _Refused("EINVAL")
        if _at(p, i) not in ("", " ", ",", "-", "~", ":"):
            raise _Refused("EINVAL")
        chain.append([start, stop, repeat])
        if _at(p, i) != ",":
            return chain, i
        i += 1


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of ``days`` since 1970-01-01 in the proleptic Gregorian calendar, for any size."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def _from_epoch(c: _Spec, seconds: int) -> None:
    """``calendarspec_from_time_t``: the UTC date and time of ``seconds`` (gmtime_r) as constant chains.

    Years before 100 then get the two-digit treatment like any other (year 68 is 2068)."""
    days, rest = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    # gmtime_r fails when tm_year does not fit an int; 252 then refuses years past INT_MAX.
    if year - 1900 < -INT_MAX - 1 or year > INT_MAX:
        raise _Refused("ERANGE")
    c.utc = True
    c.year, c.month, c.day = [[year, -1, 0]], [[month, -1, 0]], [[day, -1, 0]]
    c.hour, c.minute = [[rest // 3600, -1, 0]], [[rest // 60 % 60, -1, 0]]
    c.usec = [[rest % 60 * USEC_PER_SEC, -1, 0]]


def _parse_date(p: str, i: int, c: _Spec) -> tuple[int, bool]:
    """``parse_date``: ``@EPOCH`` (done: no time may follow), ``MONTH-DAY`` or ``YEAR-MONTH-DAY``, or no date
    (a chain ended by ``:`` or the end is a time; ``i`` is returned unchanged)."""
    if i == len(p):
        return i, False
    if p[i] == "@":
        value, end = _strtoul(p, i + 1)
        _from_epoch(c, value - 2**64 if value >= 2**63 else value)
        return end, True
    first, t = _parse_chain(p, i, False)
    if _at(p, t) in ("", ":"):
        return i, False
    if _at(p, t) == "~":
        c.end_of_month = True
    elif _at(p, t) != "-":
        raise _Refused("EINVAL")
    second, t = _parse_chain(p, t + 1, False)
    if _at(p, t) in ("", " "):
        c.month, c.day = first, second
        return _skip_spaces(p, t), False
    if c.end_of_month:
        raise _Refused("EINVAL")
    if _at(p, t) == "~":
        c.end_of_month = True
    elif _at(p, t) != "-":
        raise _Refused("EINVAL")
    third, t = _parse_chain(p, t + 1, False)
    if _at(p, t) not in ("", " "):
        raise _Refused("EINVAL")
    c.year, c.month, c.day = first, second, third
    return _skip_spaces(p, t), False


def _parse_time(p: str, i: int, c: _Spec) -> int:
    """``parse_calendar_time``: ``HOUR:MINUTE[:SECOND]``; nothing means 00:00:00."""
    if i == len(p):
        c.hour, c.minute, c.usec = [[0, -1, 0]], [[0, -1, 0]], [[0, -1, 0]]
        return i
    c.hour, i = _parse_chain(p, i, False)
    if _at(p, i) != ":":
        raise _Refused("EINVAL")
    c.minute, i = _parse_chain(p, i + 1, False)
    if i == len(p):
        c.usec = [[0, -1, 0]]
        return i
    if _at(p, i) != ":":
        raise _Refused("EINVAL")
    c.usec, i = _parse_chain(p, i + 1, True)
    return i


def _normalize_chain(chain: _Chain) -> _Chain:
    """``normalize_chain``: a range shortened to a whole number of repeats; a repeat that cannot fire, or
    a range of one value, dropped; sorted by (start, stop, repeat) without duplicates."""
    if chain is None:
        return None
    for cc in chain:
        start, stop, repeat = cc
        if stop > start and repeat > 0:
            stop -= (stop - start) % repeat
        if (stop > start and repeat > 0 and start + repeat > stop) or start == stop:
            repeat, stop = 0, -1
        cc[1], cc[2] = stop, repeat
    return [list(t) for t in sorted({tuple(cc) for cc in chain})]


def _normalize(c: _Spec) -> None:
    """``calendar_spec_normalize``."""
    if c.timezone == "UTC":
        c.utc, c.timezone = True, ""
    if c.weekdays <= 0 or c.weekdays >= ALL_WEEKDAYS:
        c.weekdays = -1
    if c.end_of_month and c.day is None:
        c.end_of_month = False
    # Two-digit years: 0–69 are 20xx, 70–99 are 19xx.
    for cc in c.year or ():
        for k in (0, 1):
            if 0 <= cc[k] < 70:
                cc[k] += 2000
            elif 70 <= cc[k] < 100:
                cc[k] += 1900
    c.year, c.month, c.day = _normalize_chain(c.year), _normalize_chain(c.month), _normalize_chain(c.day)
    c.hour, c.minute, c.usec = _normalize_chain(c.hour), _normalize_chain(c.minute), _normalize_chain(c.usec)


def _chain_valid(chain: _Chain, lo: int, hi: int, end_of_month: bool = False) -> bool:
    """``chain_valid``: every item within [lo, hi], its repeat able to fire.

    ``~`` days lose 3 from the top, and 252 takes them off again for every further item of the list
    (the check recurses with the lowered bound): ``*~26,27`` is refused, ``*~27`` is not.
    """
    for start, stop, repeat in chain or ():
        if end_of_month:
            hi -= 3
        if not lo <= start <= hi or repeat > hi - lo:
            return False
        if stop >= 0:
            if not lo <= stop <= hi or start + repeat > stop:
                return False
        elif (start - repeat < lo) if end_of_month else (start + repeat > hi):
            return False
    return True


def _valid(c: _Spec) -> bool:
    """``calendar_spec_valid``."""
    return (_chain_valid(c.year, MIN_YEAR, MAX_YEAR) and _chain_valid(c.month, 1, 12)
            and _chain_valid(c.day, 1, 31, c.end_of_month) and _chain_valid(c.hour, 0, 23)
            and _chain_valid(c.minute, 0, 59) and _chain_valid(c.usec, 0, 60 * USEC_PER_SEC - 1))


def _format_weekdays(bits: int) -> str:
    out: list[str] = []
    run = -1
    for x in range(8):
        on = x < 7 and bits & (1 << x)
        if on and run < 0:
            out.append(("," if out else "") + _DAY_ABBR[x])
            run = x
        elif not on and run >= 0:
            if x > run + 1:
                out.append((".." if x > run + 2 else ",") + _DAY_ABBR[x - 1])
            run = -1
    return "".join(out)


def _format_chain(chain: _Chain, width: int, usec: bool) -> str:
    d = USEC_PER_SEC if usec else 1
    if chain is None or (usec and any(s == 0 and e < 0 and r == USEC_PER_SEC for s, e, r in chain)):
        return "*"
    items = []
    for start, stop, repeat in chain:
        s = f"{start // d:0{width}d}" + (f".{start % d:06d}" if start % d else "")
        if stop > 0:
            s += f"..{stop // d:0{width}d}" + (f".{stop % d:06d}" if stop % d else "")
        if repeat > 0 and not (stop > 0 and repeat == d):
            s += f"/{repeat // d}"
        if repeat % d:
            s += f".{repeat % d:06d}"
        items.append(s)
    return ",".join(items)


def _format(c: _Spec, zone_name: str) -> str:
    """``calendar_spec_to_string``: the normalized form."""
    out = _format_weekdays(c.weekdays) + " " if 0 < c.weekdays <= ALL_WEEKDAYS else ""
    out += (f"{_format_chain(c.year, 4, False)}-{_format_chain(c.month, 2, False)}"
            f"{'~' if c.end_of_month else '-'}{_format_chain(c.day, 2, False)} "
            f"{_format_chain(c.hour, 2, False)}:{_format_chain(c.minute, 2, False)}:{_format_chain(c.usec, 2, True)}")
    if c.utc:
        return out + " UTC"
    if c.timezone:
        return out + " " + c.timezone
    if c.dst in (0, 1) and zone_name:
        return out + " " + zone_name
    return out


def local_names(tzif: bytes) -> Optional[tuple[str, str]]:
    """``tzname[0]``/``tzname[1]`` that glibc's ``tzset()`` leaves for the zone file ``tzif`` (``/etc/localtime``):
    the standard and daylight names of the POSIX TZ string at its end (tzfile(5), version 2 and later),
    the standard name twice when the zone has no daylight time. None when the file is not a zone file
    with such a string (then what glibc would say is not worked out here)."""
    if not tzif.startswith(b"TZif") or tzif[4:5] < b"2" or not tzif.endswith(b"\n"):
        return None
    start = tzif.rfind(b"\n", 0, len(tzif) - 1)
    try:
        footer = tzif[start + 1:-1].decode("ascii")
    except UnicodeDecodeError:
        return None
    names: list[str] = []
    i = 0
    while i < len(footer) and len(names) < 2:
        if footer[i] == "<":
            end = footer.find(">", i)
            if end < 0:
                return None
            names.append(footer[i + 1:end])
            i = end + 1
        elif footer[i].isascii() and footer[i].isalpha():
            j = i
            while j < len(footer) and footer[j].isascii() and footer[j].isalpha():
                j += 1
            names.append(footer[i:j])
            i = j
        elif not names:
            return None
        else:
            # The offset after the standard name; a "," starts the rules, so no daylight name follows.
            while i < len(footer) and footer[i] in "+-0123456789:":
                i += 1
            if i == len(footer) or footer[i] == ",":
                break
    if not names or not names[0]:
        return None
    return names[0], names[1] if len(names) > 1 else names[0]
