"""Race helper: a separate process that swaps an admin's file in place of a mask at a random moment of a fix.

``python -m tests.fuzz.watcher`` reads one trial per line on stdin: ``ROOT REL DELAY_US HOW TOKEN``. It
busy-waits until a journal entry appears in ``ROOT/var/lib/unitdoctor`` (the fix is about to act), spins
``DELAY_US`` microseconds, and puts a regular file holding ``TOKEN`` at ``ROOT/REL``:

- ``rename``: written beside it and renamed over it (an editor, a package manager);
- ``recreate``: the mask unlinked, then the file created (``rm`` + ``cat >``);
- ``inplace``: opened through the name as it is (``cat >>``), written a moment later: into an empty-file mask
  itself (a symlink mask refuses: O_NOFOLLOW, answered ``failed``).

It answers ``swapped`` (or ``timeout``) and waits for the next line; EOF ends it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time


def _swap(path: str, how: str, token: bytes) -> None:
    if how == "rename":
        tmp = f"{path}.admin~"
        with open(tmp, "wb") as f:
            f.write(token)
        os.rename(tmp, path)
    elif how == "recreate":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        with open(path, "xb") as f:
            f.write(token)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW)
        try:
            time.sleep(0.0005)  # an open descriptor, written a moment later
            os.write(fd, token)
        finally:
            os.close(fd)


def main() -> int:
    for line in sys.stdin:
        root, rel, delay_us, how, token = line.split()
        journal = os.path.join(root, "var/lib/unitdoctor")
        deadline = time.monotonic() + 20
        seen = False
        while time.monotonic() < deadline:
            try:
                if any(n.endswith(".json") for n in os.listdir(journal)):
                    seen = True
                    break
            except FileNotFoundError:
                pass
        if not seen:
            print("timeout", flush=True)
            continue
        end = time.perf_counter() + int(delay_us) / 1e6
        while time.perf_counter() < end:
            pass
        try:
            _swap(os.path.join(root, rel), how, token.encode())
            print("swapped", flush=True)
        except OSError as e:
            print(f"failed {e.errno}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
