"""Publishing a run in one step: the audit database, the outputs and the run history.

A run builds its database beside the published one (``.<db>.building-<run_id>``),
writes every output under a temporary name (``.<name>.tmp-<run_id>``) and spills to
its own directory (`spill_path`). Publishing then has one commit point:

1. every built file is flushed to disk (fsync);
2. **commit**: the run's record (status ``succeeded``) is appended to the run journal
   and fsynced (jobs.publish.journal). Before this line the run has not happened;
   after it, it has;
3. the database, then each output (``manifest.json`` last), is renamed into place
   (`finish`), each rename atomic, and the directories are fsynced.

Signals are ignored from the commit on: the renames are not interrupted. A run that
dies before the commit leaves the previous run's database, outputs and history whole;
the next run records it as ``killed`` and removes its files (jobs.publish.recovery).
A run that dies after the commit is rolled forward by the next run, which finishes
its renames (`finish` again: each step is skipped once done). So the database, the
outputs and the history describe the same run once any run has started after a crash.
Readers of the old database (read-only) keep their open file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

from jobs import faults


def building_path(db: Path, run_id: str) -> Path:
    """The database a run builds before publishing it."""
    return db.parent / f".{db.name}.building-{run_id}"


def temp_output(path: Path, run_id: str) -> Path:
    """An output file while the run writes it."""
    return path.parent / f".{path.name}.tmp-{run_id}"


def spill_path(db: Path, run_id: str, configured: Path | None) -> Path:
    """The run's own spill directory: under `configured` ([engine] temp_directory) when
    set, else beside the database. Only this run writes there; it is removed at the end
    (and by the next run when this one is killed)."""
    if configured is not None:
        return Path(configured) / f"claims-audit-{run_id}"
    return db.parent / f".{db.name}.spill-{run_id}"


def remove_build(db: Path, run_id: str) -> None:
    path = building_path(db, run_id)
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def discard_outputs(run_id: str, outputs: list[Path]) -> None:
    for final in outputs:
        temp_output(final, run_id).unlink(missing_ok=True)


def remove_run_folder(path: Path, run_id: str) -> None:
    """Remove a folder that belongs to one run (its spill directory, its partial failure
    folder): only when its name carries the run id, so a wrong path removes nothing."""
    if run_id and run_id in Path(path).name:
        shutil.rmtree(path, ignore_errors=True)


def publish(db: Path, run_id: str, outputs: list[Path], commit: Callable[[], None]) -> None:
    """Publish a built run: flush its files, `commit` (append its journal record), then
    move everything into place (`finish`). Raises before the commit leave nothing
    published; from the commit on, signals are ignored until the files are in place."""
    build = building_path(db, run_id)
    for path in (build, *(temp_output(final, run_id) for final in outputs)):
        _fsync_file(path)
    faults.at("publish:before-commit")
    with _signals_ignored():
        commit()
        faults.at("publish:committed")
        finish(db, run_id, outputs)


def finish(db: Path, run_id: str, outputs: list[Path]) -> None:
    """Move a committed run's database and outputs into place. Idempotent: a step whose
    temporary file is gone was done (the next run calls this for a run killed half-way)."""
    build = building_path(db, run_id)
    if build.exists():
        os.replace(build, db)
        Path(str(build) + ".wal").unlink(missing_ok=True)
        _fsync_dir(db.parent)
    faults.at("publish:database")
    for final in outputs:
        temp = temp_output(final, run_id)
        if temp.exists():
            os.replace(temp, final)
        faults.at(f"publish:{final.name}")
    for folder in dict.fromkeys(final.parent for final in outputs):
        _fsync_dir(folder)
    faults.at("publish:done")


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """SIGTERM and SIGINT ignored inside (main thread only; elsewhere nothing changes)."""
    saved = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            saved[sig] = signal.signal(sig, signal.SIG_IGN)
        except ValueError:  # not the main thread
            break
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _fsync_file(path: Path) -> None:
    if not path.exists():
        return
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


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
