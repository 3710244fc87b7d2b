"""Provenance of a fact: which file, which line, which layer of the search path."""

from __future__ import annotations

from typing import Optional

from .records import dataclass


@dataclass(frozen=True)
class Origin:
    """Where a fact comes from.

    ``path`` is the path as systemd would print it (root-relative, absolute, e.g.
    ``/etc/systemd/system/a.service``); ``line`` is 1-based or None for a whole file or a link;
    ``layer`` is the role of the search directory (see ``lookup.Role``) or None.
    """

    path: str
    line: Optional[int] = None
    layer: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path
