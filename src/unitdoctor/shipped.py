"""Files shipped inside the package (package data), read through ``importlib.resources`` so they are found
from a wheel, a zip or a source checkout alike:

- the unit files ``unitdoctor-scan.service`` and ``unitdoctor-scan.timer`` (``data/``);
- the JSON schemas of ``--json`` (``schema/NAME.schema.json``);
- the man page ``man/unitdoctor.8`` and the shell completions ``completion/``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

NAMES = ("unitdoctor-scan.service", "unitdoctor-scan.timer")
#: The schemas, by the document they describe.
SCHEMAS = ("why", "states", "fix", "history", "journal-entry", "scan", "units")


def text(path: str) -> str:
    """The shipped file ``path`` (relative to the package, ``/``-separated) as text."""
    node = resources.files(__package__)
    for part in path.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def units() -> list[tuple[str, str]]:
    """(name, text) of each shipped unit file, service first."""
    return [(n, text(f"data/{n}")) for n in NAMES]


def schema(name: str) -> dict[str, Any]:
    """The JSON schema of the document ``name`` (one of ``SCHEMAS``)."""
    if name not in SCHEMAS:
        raise KeyError(name)
    doc: dict[str, Any] = json.loads(text(f"schema/{name}.schema.json"))
    return doc
