"""Findings: what is wrong, how sure we are, the evidence, and the commands that fix it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


class Severity(str, enum.Enum):
    ERROR = "error"  # the unit cannot start or be enabled because of this
    WARNING = "warning"  # likely to bite, or ignored by systemd with a warning
    INFO = "info"  # context an admin wants to know


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: what kind, where (``path[:line]``), what it says, and when if known.

    Provenance and package kinds: ``dpkg-status``, ``dpkg-log``, ``apt-history``, ``dnf-history``,
    ``dnf-log``, ``dsh-marker``, ``kernel-cmdline``, ``journal``, ``mtime``, ``rpm``. A source that is
    broken or too large gives evidence of its own kind whose text starts with ``warning: ``. ``time``
    is ISO-8601 UTC (``2024-03-01T10:15:00Z``) or None.
    """

    kind: str
    source: str
    text: str
    time: Optional[str] = None


@dataclass(frozen=True)
class Finding:
    id: str
    severity: Severity
    unit: str
    summary: str
    evidence: tuple[Evidence, ...] = ()
    fix: tuple[str, ...] = ()
    origin: Optional[str] = None  # where a mask came from (issue: provenance), when known
