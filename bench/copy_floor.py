"""What copying the contract's medical-claim columns costs, without the audit.

The contract asks the audit database to keep the loaded columns, so every run
writes each line's contract columns once. This script times that copy alone,
four ways, on the same Parquet file and DuckDB settings as the job (its default
[engine] settings), each in a fresh connection:

- read:    one pass reading the columns (no write);
- memory:  CREATE TABLE AS into an in-memory database;
- file:    CREATE TABLE AS into a database file (what the job's load does,
           without normalization, conversion or lineage);
- parquet: COPY to a Parquet file (snappy), the alternative store.

    python bench/copy_floor.py DATA_DIR [WORK_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jobs.config import Config  # noqa: E402
from jobs.ingest.schema import MEDICAL_CLAIM  # noqa: E402


def main(data: Path, work: Path) -> None:
    source = f"read_parquet('{data / 'medical_claim.parquet'}')"
    names = [c.name for c in MEDICAL_CLAIM.columns]
    columns = ", ".join(f'"{n}"' for n in names)
    maxima = ", ".join(f'max("{n}")' for n in names)
    db, pq = work / "copy_floor.duckdb", work / "copy_floor.parquet"
    settings = Config().engine_settings(work / "spill")
    ways = {
        "read": (":memory:", f"select count(*), {maxima} from (select {columns} from {source})"),
        "memory": (":memory:", f"create table t as select {columns} from {source}"),
        "file": (str(db), f"create table t as select {columns} from {source}"),
        "parquet": (
            ":memory:",
            f"copy (select {columns} from {source}) to '{pq}' (format parquet, compression snappy)",
        ),
    }
    for way, (target, sql) in ways.items():
        for p in (db, pq, Path(f"{db}.wal")):
            p.unlink(missing_ok=True)
        con = duckdb.connect(target, config=settings)
        start = time.perf_counter()
        con.execute(sql)
        con.close()  # the file's checkpoint is part of the write
        took = time.perf_counter() - start
        size = next((p.stat().st_size for p in (db, pq) if p.exists()), 0)
        print(f"{way:8} {len(names)} columns: {took:6.1f} s  {size / 2**20:8.0f} MB", flush=True)
    for p in (db, pq):
        p.unlink(missing_ok=True)


if __name__ == "__main__":
    data_dir = Path(sys.argv[1])
    with tempfile.TemporaryDirectory(dir=sys.argv[2] if len(sys.argv) > 2 else None) as tmp:
        main(data_dir, Path(tmp))
