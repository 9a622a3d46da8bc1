"""The compliance report: one self-contained HTML file.

Numbers are computed in SQL into a plain context dict; the Jinja templates in
``reports/templates`` only present them (autoescape on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from jobs.config import Config
from jobs.resources import reports_dir


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def build_context(
    con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], config: Config
) -> dict[str, Any]:
    by_rule = _rows(
        con,
        """
        select s.rule_id, s.title, s.severity, s.lines_checked, s.lines_exempt,
               count(f.rule_id) as n_findings,
               coalesce(sum(f.paid_amount) filter (where f.status = 'fail'), 0) as fail_amount
        from rule_stats as s
        left join findings as f on f.rule_id = s.rule_id
        group by all
        order by min(s.rowid)
        """,
    )
    by_provider = _rows(
        con,
        """
        with lines as (
            select distinct coalesce(rendering_npi, 'unknown provider') as provider,
                   claim_id, claim_line_number, status, paid_amount
            from findings
        )
        select provider,
               count(distinct (claim_id, claim_line_number)) as n_lines,
               coalesce(sum(paid_amount) filter (where status = 'fail'), 0) as fail_amount
        from lines
        group by provider
        order by fail_amount desc, provider
        limit 50
        """,
    )
    return {
        "manifest": manifest,
        "by_rule": by_rule,
        "by_provider": by_provider,
        "inputs": manifest.get("inputs", []),
        "totals": manifest.get("findings", {}),
    }


def _money(value: Any) -> str:
    return f"${float(value or 0):,.2f}"


def render(context: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(str(reports_dir() / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["count"] = lambda v: f"{int(v or 0):,}"
    return env.get_template("report.html.j2").render(**context)


def write_report(
    con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], config: Config, path: Path
) -> None:
    html = render(build_context(con, manifest, config))
    path.write_text(html, encoding="utf-8")
