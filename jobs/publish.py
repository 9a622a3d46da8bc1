"""Atomic publication of the audit database and the output files.

The run builds a new database beside the published one and writes every
output under a temporary name; only a run that succeeded renames them into
place. Readers of the old database (read-only) keep their open file; a failed
or killed run leaves the last good database and outputs untouched.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs.errors import LockedError


def building_path(db: Path, run_id: str) -> Path:
    return db.parent / f".{db.name}.building-{run_id}"


def temp_output(path: Path, run_id: str) -> Path:
    return path.parent / f".{path.name}.tmp-{run_id}"


def history_path(db: Path) -> Path:
    """The run history journal: one manifest per line, every run, failed ones too."""
    return db.with_name(db.stem + ".runs.jsonl")


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


def remove_build(db: Path, run_id: str) -> None:
    path = building_path(db, run_id)
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def publish(db: Path, run_id: str, outputs: list[Path]) -> None:
    """Rename the built database and each temporary output into place."""
    os.replace(building_path(db, run_id), db)
    for final in outputs:
        os.replace(temp_output(final, run_id), final)
    _fsync_dir(db.parent)
    for final in outputs:
        _fsync_dir(final.parent)


def discard_outputs(run_id: str, outputs: list[Path]) -> None:
    for final in outputs:
        temp_output(final, run_id).unlink(missing_ok=True)


def append_history(db: Path, manifest: dict) -> None:
    path = history_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(manifest, sort_keys=True, default=str)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_history(db: Path) -> list[dict]:
    path = history_path(db)
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a crash; the rest of the journal stays usable
    return runs


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
