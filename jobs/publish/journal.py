"""The run history: a journal beside the database (one manifest per line, every run, failed
ones too) and the ``run_history`` table each published database carries."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import duckdb


def history_path(db: Path) -> Path:
    """The run history journal: one manifest per line, every run, failed ones too."""
    return db.with_name(db.stem + ".runs.jsonl")


def append_history(db: Path, manifest: dict) -> None:
    """Append one run's record and fsync it (for a succeeded run this is the commit point
    of its publication: jobs.publish.atomic)."""
    path = history_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    line = json.dumps(manifest, sort_keys=True, default=str)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if new:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


def statuses(db: Path) -> dict[str, str]:
    """Each recorded run's status (succeeded, failed, killed) by run id."""
    return {m["run_id"]: m.get("status", "") for m in read_history(db) if m.get("run_id")}


def last_succeeded(db: Path) -> dict | None:
    """The manifest of the latest successful run, or None."""
    runs = [m for m in read_history(db) if m.get("status") == "succeeded"]
    return runs[-1] if runs else None


def write_run_history(con: duckdb.DuckDBPyConnection, db: Path, manifest: dict[str, Any]) -> None:
    """Table ``run_history``: every earlier run from the journal, plus this one.

    ``run_seq`` is the run's position in the journal (1 = oldest). Runs of one database
    are serialized by the writer lock, so it orders runs exactly; ``started_at`` has
    one-second resolution and a run that fails at once can share its second with the next.
    """
    history = read_history(db) + [manifest]
    con.execute(
        """
        create or replace table run_history (
            run_id varchar, status varchar, started_at varchar, ended_at varchar,
            exit_code integer, tool_version varchar, n_findings bigint, manifest json,
            run_seq integer
        )
        """
    )
    con.executemany(
        "insert into run_history values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.get("run_id"),
                m.get("status"),
                m.get("started_at"),
                m.get("ended_at"),
                m.get("exit_code"),
                m.get("tool_version"),
                (m.get("findings") or {}).get("total"),
                json.dumps(m, sort_keys=True, default=str),
                seq,
            )
            for seq, m in enumerate(history, start=1)
        ],
    )


def update_run(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> None:
    """Record this run's final manifest (end time, stage timings) in ``run_history``."""
    con.execute(
        "update run_history set ended_at = ?, manifest = ? where run_id = ?",
        [
            manifest["ended_at"],
            json.dumps(manifest, sort_keys=True, default=str),
            manifest["run_id"],
        ],
    )
