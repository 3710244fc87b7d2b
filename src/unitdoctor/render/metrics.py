"""``scan --prometheus FILE``: the scan as Prometheus metrics, in node_exporter's textfile-collector format.

The text exposition format (version 0.0.4) is written here directly: it is a few lines of code and exact (HELP
and TYPE once per family, label values escaped as the format says), and it needs no third-party import. The tests
read it back with prometheus_client's own parser.

Label cardinality is bounded: one series per masked unit and per unit the boot does not start, never one per
healthy unit; the rest are counts by a small fixed set of labels.

``write_textfile`` replaces FILE atomically: a temporary file in the same directory (named so the collector,
which reads ``*.prom``, ignores it), fsync'd, mode 0644, then rename(2) over FILE. A process killed at any point
leaves the old FILE as it was.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Mapping, Optional, Sequence

from ..boot import Outcome
from ..scan import ScanResult

PREFIX = "unitdoctor_"
#: Outcomes that get no series of their own: a refused boot transaction (one series for the target instead), and a
#: unit that does not exist but is only wanted (graphical.target's display-manager.service on a server: systemd
#: ignores it, and so does the alert).
_NOT_A_PROBLEM = ("boot-transaction-failed", "not-found")


def _escape_label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


class _Families:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: Sequence[tuple[Mapping[str, str], float]]) -> None:
        full = PREFIX + name
        self.lines.append(f"# HELP {full} {_escape_help(help_text)}")
        self.lines.append(f"# TYPE {full} {kind}")
        for labels, value in samples:
            lab = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{full}{{{lab}}} {_num(value)}" if lab else f"{full} {_num(value)}")


def _num(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def exposition(r: ScanResult, started: Optional[float] = None) -> str:
    """The metrics of one scan as exposition text (ends with a newline)."""
    f = _Families()
    now = time.time()
    f.family("scan_success", "gauge", "1 if the scan ran to the end (0 is never written: a failed scan leaves the "
             "previous file)", [({}, 1)])
    f.family("scan_timestamp_seconds", "gauge", "When the scan finished, seconds since the epoch", [({}, now)])
    f.family("scan_duration_seconds", "gauge", "How long the scan took",
             [({}, round(now - started if started is not None else r.duration, 6))])
    f.family("unit_files", "gauge", "Unit files in the search path (as list-unit-files)", [({}, r.unit_files)])
    f.family("unit_masked", "gauge", "1 per masked unit, with the layer of the mask, who made it, and whether the "
             "distribution ships it masked on purpose",
             [({"unit": m.unit, "layer": m.layer, "origin": m.origin or "unknown",
                "intended": "true" if m.intended else "false"}, 1) for m in r.masks])
    b = r.boot
    counts = {o.value: 0 for o in Outcome}
    for u in b.units:
        counts[u.outcome.value] += 1
    f.family("boot_units", "gauge", "Units the next boot pulls in (and enabled units it does not), by predicted "
             "outcome", [({"outcome": k}, v) for k, v in counts.items()])
    f.family("boot_outcome", "gauge", "1 per unit the next boot will not start as it should: its predicted "
             "outcome, the reason and the unit that blocks it",
             [({"unit": u.unit, "outcome": u.outcome.value, "reason": u.reason, "blocker": u.blocker or ""}, 1)
              for u in b.units if u.outcome is not Outcome.ACTIVE and u.reason not in _NOT_A_PROBLEM]
             # A refused boot transaction starts nothing: one series for the target, not one per unit.
             + ([({"unit": b.target, "outcome": Outcome.NOT_STARTED.value, "reason": "boot-transaction-failed",
                   "blocker": b.error.unit}, 1)] if b.error is not None else []))
    f.family("boot_transaction_ok", "gauge", "1 if systemd would accept the boot transaction for the default "
             "target (0: the boot fails)", [({"target": b.target}, 1 if b.ok else 0)])
    f.family("boot_ordering_cycles", "gauge", "Ordering cycles in the boot transaction", [({}, len(b.cycles))])
    by: dict[tuple[str, str], int] = {}
    for x in r.findings:
        k = (x.severity.value, x.id)
        by[k] = by.get(k, 0) + 1
    f.family("findings", "gauge", "Findings of the scan, by severity and finding id",
             [({"severity": s, "id": i}, n) for (s, i), n in sorted(by.items())])
    return "\n".join(f.lines) + "\n"


def write_textfile(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temp file in the same directory, fsync, 0644, rename)."""
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:
            n = os.write(fd, view[:65536])
            view = view[n:]
        os.fchmod(fd, 0o644)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.rename(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
