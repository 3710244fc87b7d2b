"""Unit-file specifiers (``%n``, ``%i``…): which exist, and their expansion where the install logic needs it.

systemd.unit(5) "Specifiers"; install-printf.c and unit-printf.c (v252). Fact sheet §6.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

from . import names

#: Every specifier a unit file may use in the manager (unit-printf.c, v252).
UNIT_SPECIFIERS = frozenset("nNpPiIjJfyYaAbBHlqmMowWvCELSTtVdgGuUhs%")
#: The specifiers the install logic accepts in [Install] values (install-printf.c, v252).
INSTALL_SPECIFIERS = frozenset("ijnNpaAbBHlqmMovwWgGuU")


class SpecifierError(ValueError):
    """An unknown specifier (EBADSLT) or one that cannot be resolved on this root."""

    def __init__(self, errno: str, text: str) -> None:
        super().__init__(f"Failed to resolve specifiers in {text}")
        self.errno = errno
        self.text = text


def unknown_specifiers(text: str, allowed: frozenset = UNIT_SPECIFIERS) -> list[str]:
    """The ``%X`` sequences in ``text`` that are not specifiers (``%%`` is a literal percent)."""
    bad = []
    i = 0
    while i < len(text):
        if text[i] == "%":
            if i + 1 >= len(text):
                bad.append("%")
                break
            c = text[i + 1]
            if c not in allowed:
                bad.append("%" + c)
            i += 2
        else:
            i += 1
    return bad


def name_values(unit: str) -> dict[str, str]:
    """The name-derived specifiers of ``unit`` that install-printf.c resolves."""
    prefix, instance, suffix = names.split(unit)
    dash = prefix.rfind("-")
    j = prefix[dash + 1:] if dash >= 0 else prefix
    return {
        "n": unit,
        "N": unit[: -len(suffix)],
        "p": prefix,
        "i": instance or "",
        "j": j,
    }


def install_printf(unit: str, text: str, host: Optional[Mapping[str, Callable[[], str]]] = None) -> str:
    """Expand ``text`` as an [Install] value of ``unit``; SpecifierError as systemd fails.

    ``host`` maps system specifiers (``m``, ``H``, ``o``…) to functions that return their value or
    raise SpecifierError; name specifiers are computed here.
    """
    values = name_values(unit)
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            raise SpecifierError("EBADSLT", text)
        c = text[i + 1]
        i += 2
        if c not in INSTALL_SPECIFIERS:
            raise SpecifierError("EBADSLT", text)
        if c in values:
            out.append(values[c])
        elif host is not None and c in host:
            out.append(host[c]())
        else:
            out.append("")
    return "".join(out)
