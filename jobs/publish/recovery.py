"""What the next run does about a run that died (kill -9, power loss, a crash).

Called once the writer lock is held, before any work. The lock file names the last
run that held it without recording its end (jobs.publish.lock); the run journal
says whether it committed (jobs.publish.atomic):

* committed (its record says ``succeeded``): roll forward, finishing its renames;
* not committed: record it in the journal as ``killed`` (so it appears in the next
  database's ``run_history``) and remove what it left: its database build, its
  temporary outputs, its spill directory, its partial failed-run files.

Build files and spill directories beside the database whose run is neither live nor
committed (older crashes) are removed too, and their runs recorded as ``killed``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs.log import Log
from jobs.publish import atomic, journal
from jobs.publish.lock import RunInfo
from jobs.publish.outputs import OUTPUT_NAMES


def recover(db: Path, dead: RunInfo | None, run_id: str, out_dir: Path, log: Log) -> list[str]:
    """Roll a dead run forward or back and remove its litter; returns the run ids
    recorded as killed. `run_id` and `out_dir` are the current run's."""
    statuses = journal.statuses(db)
    killed: list[str] = []
    if dead is not None and dead.run_id != run_id:
        outputs = [Path(dead.out_dir) / name for name in OUTPUT_NAMES]
        if statuses.get(dead.run_id) == "succeeded":
            atomic.finish(db, dead.run_id, outputs)
            log.warning("finished publishing a run that stopped after its commit", run=dead.run_id)
        else:
            atomic.remove_build(db, dead.run_id)
            atomic.discard_outputs(dead.run_id, outputs)
            _remove_partial_failure(Path(dead.out_dir), dead.run_id)
            if dead.run_id not in statuses:
                journal.append_history(db, killed_record(dead, run_id))
                statuses[dead.run_id] = "killed"
                killed.append(dead.run_id)
                log.warning("recorded a run that was killed", run=dead.run_id)
        atomic.remove_run_folder(Path(dead.spill_dir), dead.run_id)
    for other in _litter_ids(db, out_dir) - {run_id, dead.run_id if dead else ""}:
        atomic.remove_build(db, other)
        atomic.discard_outputs(other, [out_dir / name for name in OUTPUT_NAMES])
        atomic.remove_run_folder(atomic.spill_path(db, other, None), other)
        if other not in statuses:
            info = RunInfo(other, "", str(db), str(out_dir), "")
            journal.append_history(db, killed_record(info, run_id))
            statuses[other] = "killed"
            killed.append(other)
            log.warning("recorded a run that was killed", run=other)
    return killed


def killed_record(dead: RunInfo, found_by: str) -> dict[str, Any]:
    """The journal record of a run that died without recording its end."""
    return {
        "run_id": dead.run_id,
        "status": "killed",
        "started_at": dead.started_at or None,
        "ended_at": None,
        "exit_code": None,
        "db": dead.db,
        "out_dir": dead.out_dir,
        "pid": dead.pid or None,
        "found_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "found_by": found_by,
        "error": (
            "the run stopped without recording its end (killed, power loss or a crash); "
            f"run {found_by} found it and removed its temporary files"
        ),
    }


_ID = r"(\d{8}T\d{6}Z-[0-9a-f]+)"


def _litter_ids(db: Path, out_dir: Path) -> set[str]:
    """Run ids named by build files and spill directories beside the database and by
    temporary outputs in `out_dir`."""
    patterns = [
        (db.parent, re.compile(rf"^\.{re.escape(db.name)}\.(?:building|spill)-{_ID}(?:\.wal)?$")),
    ]
    names = "|".join(re.escape(n) for n in OUTPUT_NAMES)
    patterns.append((out_dir, re.compile(rf"^\.(?:{names})\.tmp-{_ID}$")))
    found: set[str] = set()
    for folder, pattern in patterns:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            match = pattern.match(entry.name)
            if match:
                found.add(match.group(1))
    return found


def _remove_partial_failure(out_dir: Path, run_id: str) -> None:
    """A killed run's ``failed/<run_id>/`` folder (rejected rows staged while it was
    stopping); a folder with a manifest is a recorded failure and stays."""
    folder = out_dir / "failed" / run_id
    if folder.is_dir() and not (folder / "manifest.json").exists():
        atomic.remove_run_folder(folder, run_id)
