"""The unit files unitdoctor ships (package data): ``unitdoctor-scan.service`` and ``unitdoctor-scan.timer``."""

from __future__ import annotations

from pathlib import Path

NAMES = ("unitdoctor-scan.service", "unitdoctor-scan.timer")
_DATA = Path(__file__).resolve().parent / "data"


def units() -> list[tuple[str, str]]:
    """(name, text) of each shipped unit file, service first."""
    return [(n, (_DATA / n).read_text(encoding="utf-8")) for n in NAMES]
