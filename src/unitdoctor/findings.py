"""Findings: what is wrong, how sure we are, the evidence, and the commands that fix it."""

from __future__ import annotations

import enum
from typing import Optional

from .records import dataclass


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

    @property
    def is_mask(self) -> bool:
        """Whether the finding is about a mask that blocks the unit or a unit it needs (``MASK_FINDINGS``)."""
        return self.id in MASK_FINDINGS


#: The ids of the findings ``checks.mask`` makes for a mask that blocks the unit or a unit it needs: one list,
#: so that no caller tests ids by their spelling ("masked" in id).
MASK_FINDINGS = frozenset(
    prefix + base
    for base in ("masked", "masked-runtime", "masked-vendor", "masked-generator", "masked-kernel-command-line",
                 "masked-intended")
    for prefix in ("", "dependency-")
) | {"masked-template", "alias-to-masked"}

