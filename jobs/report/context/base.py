"""What every section of the report context shares: the database reader, status
vocabulary and the drill-down budget."""

from __future__ import annotations

from typing import Any

import duckdb

from jobs.audit.catalog import referenced_parameters
from jobs.config import Config
from jobs.resources import sql_dir

STATUS_ORDER = ("fail", "insufficient_history", "review")


STATUS_CSS = {"fail": "sf", "insufficient_history": "si", "review": "sr"}


class Db:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            name
            for (name,) in con.execute(
                "select distinct table_name from information_schema.tables"
            ).fetchall()
        }

    def has(self, name: str) -> bool:
        return name in self.tables

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or {})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        found = self.rows(sql, params)
        return found[0] if found else {}

    def model(self, name: str, **params: Any) -> list[dict[str, Any]]:
        sql = (sql_dir() / "marts" / f"{name}.sql").read_text(encoding="utf-8")
        bound = {k: params[k] for k in referenced_parameters(sql)}
        return self.rows(sql, bound)


def max_drilldown(config: Config) -> int:
    return int(config.max_drilldown_lines)
