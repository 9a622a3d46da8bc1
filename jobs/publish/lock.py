"""The writer lock: one run at a time per audit database (a second writer exits 1 at once)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs.errors import LockedError


@contextmanager
def writer_lock(db: Path) -> Iterator[None]:
    """Hold an exclusive lock for the run; a second writer fails at once (exit 1)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db.with_name(db.name + ".lock")
    fh = open(lock_path, "a+")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"database {db} is locked by another claims-audit run (lock file {lock_path})"
            ) from None
        _remove_stale_builds(db)
        yield
    finally:
        fh.close()


def _remove_stale_builds(db: Path) -> None:
    """Remove half-built databases of killed runs (we hold the lock, so none is live)."""
    for stale in db.parent.glob(f".{db.name}.building-*"):
        stale.unlink(missing_ok=True)
