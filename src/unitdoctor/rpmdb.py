"""An rpm database read directly, without the ``rpm`` command: ``rpmdb.sqlite`` (rpm ≥ 4.16's default).

Used when host programs are forbidden (``--no-host-tools``, docs/host-tools.md) or ``rpm`` is not
installed. Only what ``rpm -q --path`` answers is read: which package owns a path.

``rpmdb.sqlite`` keeps each installed package's header as a blob in ``Packages(hnum, blob)`` and an index
``Basenames(key, hnum, idx)``: the file name (without its directory) → the header and the file's index in
it. A header blob (rpm's ``hdrblob``, big-endian) is::

    il (uint32) dl (uint32) il × (tag int32, type uint32, offset int32, count uint32) data[dl]

Tags read: NAME 1000, VERSION 1001, RELEASE 1002, EPOCH 1003 (INT32), DIRINDEXES 1116 (INT32[]),
BASENAMES 1117 and DIRNAMES 1118 (STRING_ARRAY: NUL-terminated strings). A file's path is
``DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]``. The Berkeley DB (``Packages``) and ndb (``Packages.db``)
formats are not read: they need the rpm command.

The database is opened read-only and ``immutable`` (no locks, no journal written next to it); every blob is
bounded and every parse tolerates junk (``RpmHeaderError``).
"""

from __future__ import annotations

import struct
import urllib.parse
from typing import Any, Optional

from .records import dataclass

SQLITE_NAME = "rpmdb.sqlite"
#: A package header is at most a few MiB (kernel packages: ~2 MiB).
HEADER_MAX = 64 << 20
NAME, VERSION, RELEASE, EPOCH, DIRINDEXES, BASENAMES, DIRNAMES = 1000, 1001, 1002, 1003, 1116, 1117, 1118
_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9


class RpmHeaderError(ValueError):
    """A header blob that is not one."""


@dataclass(frozen=True)
class Header:
    """The tags of one header that ``owner`` needs."""

    name: str
    evr: str
    dirnames: tuple[str, ...]
    dirindexes: tuple[int, ...]
    basenames: tuple[str, ...]

    def path(self, i: int) -> Optional[str]:
        if not (0 <= i < len(self.basenames) and i < len(self.dirindexes)):
            return None
        d = self.dirindexes[i]
        return self.dirnames[d] + self.basenames[i] if 0 <= d < len(self.dirnames) else None


def parse_header(blob: bytes) -> Header:
    """The ``Header`` in an ``hdrblob``; raises ``RpmHeaderError`` for anything malformed."""
    if len(blob) < 8 or len(blob) > HEADER_MAX:
        raise RpmHeaderError("too short or too long")
    il, dl = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * il
    if il > 1_000_000 or start + dl > len(blob):
        raise RpmHeaderError("index or data beyond the blob")
    data = blob[start:start + dl]
    tags: dict[int, Any] = {}
    for k in range(il):
        tag, typ, off, count = struct.unpack_from(">iIiI", blob, 8 + 16 * k)
        if tag not in (NAME, VERSION, RELEASE, EPOCH, DIRINDEXES, BASENAMES, DIRNAMES):
            continue
        if off < 0 or off > dl:
            raise RpmHeaderError(f"tag {tag}: offset {off} beyond the data")
        if typ == _INT32:
            if off + 4 * count > dl:
                raise RpmHeaderError(f"tag {tag}: beyond the data")
            tags[tag] = struct.unpack_from(f">{count}i", data, off)
        elif typ in (_STRING, _STRING_ARRAY, _I18NSTRING):
            n = 1 if typ != _STRING_ARRAY else count
            out, pos = [], off
            for _ in range(n):
                end = data.find(b"\0", pos)
                if end < 0:
                    raise RpmHeaderError(f"tag {tag}: unterminated string")
                out.append(data[pos:end].decode("utf-8", "surrogateescape"))
                pos = end + 1
            tags[tag] = tuple(out)
    try:
        name, version, release = tags[NAME][0], tags[VERSION][0], tags[RELEASE][0]
    except (KeyError, IndexError):
        raise RpmHeaderError("no name, version or release") from None
    epoch = tags.get(EPOCH, (0,))[0]
    evr = (f"{epoch}:" if epoch else "") + f"{version}-{release}"
    return Header(name, evr, tags.get(DIRNAMES, ()), tags.get(DIRINDEXES, ()), tags.get(BASENAMES, ()))


class SqliteRpmDb:
    """``rpmdb.sqlite`` at ``host_path`` (already resolved inside the root), read-only."""

    def __init__(self, host_path: str) -> None:
        import sqlite3

        uri = "file:" + urllib.parse.quote(host_path) + "?mode=ro&immutable=1"
        self._con = sqlite3.connect(uri, uri=True, timeout=1)
        self._con.execute("PRAGMA query_only = 1")
        self._headers: dict[int, Optional[Header]] = {}
        self.warnings: list[str] = []

    def _header(self, hnum: int) -> Optional[Header]:
        if hnum not in self._headers:
            row = self._con.execute("SELECT blob FROM Packages WHERE hnum = ?", (hnum,)).fetchone()
            try:
                self._headers[hnum] = parse_header(bytes(row[0])) if row else None
            except RpmHeaderError as e:
                self.warnings.append(f"package header {hnum}: {e}, skipped")
                self._headers[hnum] = None
        return self._headers[hnum]

    def owners(self, path: str) -> list[tuple[str, str]]:
        """(name, evr) of every package that owns ``path`` (as recorded: no link is resolved)."""
        base = path.rpartition("/")[2]
        out = []
        for hnum, idx in self._con.execute("SELECT hnum, idx FROM Basenames WHERE key = ? LIMIT 1000", (base,)):
            h = self._header(int(hnum))
            if h is not None and h.path(int(idx)) == path and (h.name, h.evr) not in out:
                out.append((h.name, h.evr))
        return out

    def close(self) -> None:
        self._con.close()
