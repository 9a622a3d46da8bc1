"""The writer lock: one run at a time per audit database (a second writer exits 1 at once).

The lock file ``<db>.lock`` also says which run holds it: the run writes its
`RunInfo` there when it takes the lock and empties the file when it has recorded its
end. The kernel drops the lock of a process that dies, but not the file's text: the
next run to take the lock finds the dead run there (jobs.publish.recovery).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from jobs.errors import LockedError


@dataclass(frozen=True)
class RunInfo:
    """What the next run needs to find and clean up after this one if it dies."""

    run_id: str
    started_at: str
    db: str
    out_dir: str
    spill_dir: str
    pid: int = 0
    host: str = ""

    @classmethod
    def from_text(cls, text: str) -> RunInfo | None:
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, TypeError):
            return None


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


class WriterLock:
    """The held lock: `previous` is the run that held it last and did not record its end."""

    def __init__(self, fh: IO[str], previous: RunInfo | None) -> None:
        self._fh = fh
        self.previous = previous

    def claim(self, info: RunInfo) -> None:
        """Name this run in the lock file (after the previous one is dealt with: a run
        killed while recovering leaves the previous name for the next run)."""
        self._write(json.dumps({**asdict(info), "pid": os.getpid(), "host": socket.gethostname()}))

    def released_cleanly(self) -> None:
        """This run has recorded its end: the next run has nothing to recover."""
        self._write("")

    def _write(self, text: str) -> None:
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())


@contextmanager
def writer_lock(db: Path) -> Iterator[WriterLock]:
    """Hold an exclusive lock for the run; a second writer fails at once (exit 1)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(db)
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"database {db} is locked by another claims-audit run (lock file {path})"
            ) from None
        fh.seek(0)
        previous = RunInfo.from_text(fh.read()) if path.stat().st_size else None
        yield WriterLock(fh, previous)
    finally:
        fh.close()
