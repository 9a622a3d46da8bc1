"""Atomic publication of the audit database and the output files.

The run builds a new database beside the published one and writes every
output under a temporary name; only a run that succeeded renames them into
place. Readers of the old database (read-only) keep their open file; a failed
or killed run leaves the last good database and outputs untouched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def building_path(db: Path, run_id: str) -> Path:
    return db.parent / f".{db.name}.building-{run_id}"


def temp_output(path: Path, run_id: str) -> Path:
    return path.parent / f".{path.name}.tmp-{run_id}"


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


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_published(db: Path, work_id: str) -> Path:
    """Copy the published database to a build path, for a command that changes it (the
    review sample and estimate): the copy is changed and then published like a run's
    build, so readers of the published file are never blocked and a failure changes
    nothing. The caller holds the writer lock, so nothing writes the published file."""
    build = building_path(db, work_id)
    shutil.copyfile(db, build)
    wal = Path(str(db) + ".wal")
    if wal.exists():  # never left by claims-audit (it checkpoints); copied to be faithful
        shutil.copyfile(wal, Path(str(build) + ".wal"))
    return build
