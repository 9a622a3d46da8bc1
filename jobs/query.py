"""`claims-audit query`: read-only SQL on the audit database."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import duckdb

from jobs.errors import InputError
from jobs.ingest.schema import TABLES
from jobs.safecsv import safe_relation

BATCH = 10_000  # rows per fetch for --format json


def run_query(db: Path, sql: str, fmt: str, out: TextIO) -> int:
    if not Path(db).exists():
        raise InputError(f"no audit database at {db} (pass --db, or run claims-audit demo first)")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"{db}: cannot be opened read-only ({_first(exc)})") from None
    try:
        if fmt == "csv":
            _csv(con, sql, out)
            con.close()
            return 0
        cur = con.execute(sql)
    except duckdb.Error as exc:
        raise InputError(f"query failed: {_first(exc)}") from None
    if cur.description is None:
        return 0
    names = [d[0] for d in cur.description]
    if fmt == "json":
        out.write("[")
        first = True
        while rows := cur.fetchmany(BATCH):
            for row in rows:
                out.write(
                    ("\n" if first else ",\n")
                    + json.dumps(dict(zip(names, row, strict=True)), default=_json)
                )
                first = False
        out.write("\n]\n")
    else:
        _table(names, cur, out)
    con.close()
    return 0


def _csv(con: duckdb.DuckDBPyConnection, sql: str, out: TextIO) -> None:
    """The result as formula-safe CSV (jobs.safecsv), written by DuckDB like every CSV
    the product writes (same quoting, numbers and dates), then copied to `out`."""
    rel = con.sql(sql)
    if rel is None:  # a statement without a result
        return
    with tempfile.TemporaryDirectory(prefix="claims-audit-query-") as tmp:
        path = Path(tmp) / "result.csv"
        safe_relation(rel).write_csv(str(path), header=True)
        with path.open(encoding="utf-8", newline="") as f:
            shutil.copyfileobj(f, out)


def _table(names: list[str], cur: Any, out: TextIO, limit: int = 1000) -> None:
    rows = cur.fetchmany(limit + 1)
    more = len(rows) > limit
    rows = [["" if v is None else str(v) for v in r] for r in rows[:limit]]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    if more:
        out.write(f"... more than {limit} rows; use --format csv for all of them\n")


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _first(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# ---------------------------------------------------------------- for notebooks

# The audited cohort's tables (contract, "Outputs"): readable by name with `cohort`.
COHORT_TABLES = tuple(TABLES)


class AuditDatabase:
    """The audit database, read-only, for analysts' notebooks: tables as polars DataFrames.

        from jobs.query import AuditDatabase

        with AuditDatabase("audits/audit.duckdb") as audit:
            findings = audit.findings()                 # the latest successful run's
            claims = audit.cohort("medical_claim")      # the audited cohort's lines
            rates = audit.sql("select rule_id, count(*) as n from findings group by all")

    Opening never blocks or breaks the nightly run (it publishes a new file; an open
    connection keeps reading the one it opened).
    """

    def __init__(self, db: str | Path) -> None:
        path = Path(db)
        if not path.exists():
            raise InputError(f"no audit database at {path}")
        try:
            self.con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise InputError(f"{path}: cannot be opened read-only ({_first(exc)})") from None

    def sql(self, query: str, params: dict[str, Any] | list[Any] | None = None) -> Any:
        """The result of one read-only SQL statement as a polars DataFrame (through Arrow,
        without a copy through Python objects)."""
        import polars as pl

        return pl.from_arrow(self.con.sql(query, params=params).to_arrow_table())

    def findings(self) -> Any:
        """``findings`` (= exceptions.csv of the latest successful run), in a stable order."""
        return self.sql(
            "select * from findings order by rule_id, data_source, claim_id, claim_line_number"
        )

    def cohort(self, table: str = "medical_claim") -> Any:
        """One table of the audited cohort (practitioner: whole), in file and record order."""
        if table not in COHORT_TABLES:
            raise ValueError(f"{table!r} is not a cohort table ({', '.join(COHORT_TABLES)})")
        return self.sql(f"select * from {table} order by source_file, record_number")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> AuditDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
