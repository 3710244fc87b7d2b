"""Time spans (``OnBootSec=5min 30s``, ``TimeoutSec=``…): systemd 252's ``parse_sec``.

Implements ``parse_time(text, USEC_PER_SEC)`` (time-util.c, v252; systemd.time(7) "PARSING TIME SPANS"):
``infinity`` alone (spaces around it allowed), or one or more numbers, each with an optional fraction
and an optional unit after optional spaces (``us usec µs μs ms msec s sec second seconds m min minute
minutes h hr hour hours d day days w week weeks M month months y year years``, case-sensitive, the first
of systemd's table that is a prefix wins; no unit is seconds). A minus anywhere a number starts is
ERANGE; a unit must follow a fraction directly or after spaces (``12.34.56`` is refused); the sum must
stay below ``USEC_INFINITY``.
"""

from __future__ import annotations

from typing import Optional

USEC_INFINITY = 2**64 - 1
_WHITESPACE = " \t\n\r"
_C_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789"
_SEC, _MIN, _HOUR, _DAY = 10**6, 60 * 10**6, 3600 * 10**6, 86400 * 10**6
_MONTH, _YEAR = 2629800 * 10**6, 31557600 * 10**6
#: extract_multiplier()'s table, in its order (the first prefix wins: "ms" before "m", "min" before "m").
_UNITS = (("seconds", _SEC), ("second", _SEC), ("sec", _SEC), ("s", _SEC), ("minutes", _MIN), ("minute", _MIN),
          ("min", _MIN), ("months", _MONTH), ("month", _MONTH), ("M", _MONTH), ("msec", 1000), ("ms", 1000),
          ("m", _MIN), ("hours", _HOUR), ("hour", _HOUR), ("hr", _HOUR), ("h", _HOUR), ("days", _DAY),
          ("day", _DAY), ("d", _DAY), ("weeks", 7 * _DAY), ("week", 7 * _DAY), ("w", 7 * _DAY),
          ("years", _YEAR), ("year", _YEAR), ("y", _YEAR), ("usec", 1), ("us", 1), ("\u03bcs", 1),
          ("\u00b5s", 1))


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _strtoll(text: str, i: int) -> tuple[int, int, str]:
    """``strtoll(text + i, &end, 10)`` → (value, end, errno); end == i when nothing was converted."""
    j = _skip(text, i, _C_SPACE)
    sign = -1 if j < len(text) and text[j] == "-" else 1
    if j < len(text) and text[j] in "+-":
        j += 1
    k = _skip(text, j, _DIGITS)
    if k == j:
        return 0, i, ""
    # Saturating: 30 significant digits are out of range already (int() refuses huge digit strings).
    value = sign * int(text[j:k].lstrip("0")[:30] or "0")
    if not -(2**63) <= value < 2**63:
        return 0, k, "ERANGE"
    return value, k, ""


def parse_sec(text: str) -> tuple[Optional[int], str]:
    """(microseconds, "") if ``parse_sec`` accepts ``text``, else (None, errno)."""
    p = _skip(text, 0, _WHITESPACE)
    if text.startswith("infinity", p):
        rest = text[p + len("infinity"):]
        return (USEC_INFINITY, "") if all(c in _WHITESPACE for c in rest) else (None, "EINVAL")
    total, something = 0, False
    while True:
        p = _skip(text, p, _WHITESPACE)
        if p == len(text):
            return (total, "") if something else (None, "EINVAL")
        if text[p] == "-":  # no "-0"
            return None, "ERANGE"
        value, e, err = _strtoll(text, p)
        if err:
            return None, err
        if value < 0:
            return None, "ERANGE"
        fraction = e < len(text) and text[e] == "."
        if fraction:
            p = _skip(text, e + 1, _DIGITS)
        elif e == p:
            return None, "EINVAL"
        else:
            p = e
        q = _skip(text, p, _WHITESPACE)
        multiplier, s = _SEC, q
        for suffix, usec in _UNITS:
            if text.startswith(suffix, q):
                multiplier, s = usec, q + len(suffix)
                break
        # "12.34.56" is refused, "12.34 .56" and "12.34s.56" are not.
        if s == p and s != len(text):
            return None, "EINVAL"
        p = s
        if value >= USEC_INFINITY // multiplier:
            return None, "ERANGE"
        k = value * multiplier
        if k >= USEC_INFINITY - total:
            return None, "ERANGE"
        total += k
        something = True
        if fraction:
            m, b = multiplier // 10, e + 1
            while b < len(text) and text[b] in _DIGITS:
                k = int(text[b]) * m
                if k >= USEC_INFINITY - total:
                    return None, "ERANGE"
                total += k
                b, m = b + 1, m // 10
            # No "0.-0", "3.+1", "3. 1", "3.sec".
            if b == e + 1:
                return None, "EINVAL"
