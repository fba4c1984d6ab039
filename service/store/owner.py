"""One writer for an embedded store: the process that serves it, or one command that writes.

Chroma's embedded store (a folder on disk) belongs to one process: a second process writing to
it is not seen by the first (its catalog, lexical index and counts are its own). So
``factdesk serve`` and the commands that write on the embedded store (``ingest`` without
``--url``, ``doctor --repair``) take an exclusive lock on ``DATA_DIR/owner.lock`` and write
their pid and, for a server, its address there. A second writer is refused with a message that
names the owner and, when it is a server, the ``--url`` to send the writes to instead. The lock
is the operating system's (``fcntl.flock``): it goes with the process, so a killed server
leaves no stale lock behind. With Chroma's server (``FACTDESK_CHROMA_URL``) there is no lock:
the workers follow each other's writes through the store's change records.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO

from service.errors import FactdeskError

LOCK_NAME = "owner.lock"


class StoreInUse(FactdeskError):
    code = "store_in_use"


class StoreOwner:
    """The lock of one embedded data dir, held from ``take`` until ``release`` (or exit)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._file: IO[str] | None = None

    def take(self, role: str, address: str | None = None) -> None:
        """Hold the store as ``role`` ("serve", "ingest"...); StoreInUse when another process
        holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = _read(handle.read())
            handle.close()
            raise StoreInUse(refusal(self.path.parent, holder)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "role": role, "address": address}))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def holder(self) -> dict[str, object] | None:
        """Who holds the store now (pid, role, address), or None when no process does."""
        if not self.path.is_file():
            return None
        with self.path.open("a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                return _read(handle.read()) or {}
            fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def refusal(data_dir: Path, holder: dict[str, object] | None) -> str:
    who = f"pid {holder.get('pid')}" if holder else "another process"
    address = holder.get("address") if holder else None
    if address:
        return (f"the embedded store at {data_dir} is served by {who} at {address}: send "
                f"writes there with --url {address}, or stop that server first")
    role = f" (factdesk {holder.get('role')})" if holder and holder.get("role") else ""
    return (f"the embedded store at {data_dir} is being written by {who}{role}; wait for it "
            "to finish, or serve the store and send writes with --url")


def _read(text: str) -> dict[str, object] | None:
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
