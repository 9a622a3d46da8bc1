"""The report's data context: every number the compliance report shows.

Numbers come from SQL (sql/marts/report_*.sql and a few one-line queries here) and the
run manifest; this module only assembles them into plain dicts, lists, strings, numbers,
dates and Decimals. The templates format and lay them out; nothing here writes markup.

Tables read (never written): findings, rule_stats, mart_esi_lines, findings_history,
run_history (required); input_coverage, practitioner, rejected_rows, validation_results,
row_issues, value_sets, finding_lifecycle, decisions (optional: a section says so when one
is missing).
"""

from __future__ import annotations

from typing import Any

import duckdb

from jobs.config import Config
from jobs.report import charts, member_ids
from jobs.report.context.base import Db
from jobs.report.context.drilldown import drilldown_section
from jobs.report.context.header import (
    assets,
    db_path,
    page_margins,
    rule_catalog,
    run_section,
    sources,
)
from jobs.report.context.providers import providers_section
from jobs.report.context.quality import quality_section
from jobs.report.context.review import rejected_decisions, review_section, run_date
from jobs.report.context.rules import rules_section
from jobs.report.context.summary import (
    changes_section,
    coverage_section,
    esi_section,
    totals_section,
)

REQUIRED_TABLES = ("findings", "rule_stats", "mart_esi_lines", "findings_history", "run_history")


class ReportDataError(RuntimeError):
    """The database lacks a table the report needs."""


def build_context(
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    config: Config,
    *,
    member_key: bytes | None = None,
    generated_at: str | None = None,
) -> dict[str, Any]:
    db = Db(con)
    missing = [t for t in REQUIRED_TABLES if not db.has(t)]
    if missing:
        raise ReportDataError(f"report: the database lacks table(s) {', '.join(missing)}")

    raw_ids = config.member_ids == "raw"
    if raw_ids:
        member = lambda value: value or ""  # noqa: E731
    else:
        key = member_key or member_ids.member_key(db_path(manifest))
        member = member_ids.hasher(key)

    rules_meta = rule_catalog()
    run = run_section(manifest, config, generated_at, raw_ids, rules_meta)
    esi = esi_section(db)
    totals = totals_section(db, manifest)
    review = review_section(db, manifest)
    previous = changes_section(db, manifest)
    rules = rules_section(db, rules_meta, esi["n_audited"], manifest, previous)
    providers, peer = providers_section(db, config, rules)
    drilldown = drilldown_section(
        db, config, providers, rules, previous, member, run_date(manifest)
    )
    quality = quality_section(db, manifest, raw_ids)
    quality["rejected_decisions"] = rejected_decisions(db)
    coverage = coverage_section(db, esi)
    return {
        "run": run,
        "coverage": coverage,
        "esi": esi,
        "totals": totals,
        "changes": previous,
        "review": review,
        "rules": rules,
        "providers": providers,
        "peer": peer,
        "drilldown": drilldown,
        "quality": quality,
        "charts": {
            "rules": charts.rule_bars(rules),
            "funnel": charts.funnel(
                [
                    {
                        "n": p["n_lines_audited"],
                        "x": p["n_lines_failed"],
                        "flag": p["flag"],
                        "anchor": p["anchor"],
                        "label": p["label"],
                    }
                    for p in providers
                    if p["eligible"]
                ],
                peer["p0"],
            ),
        },
        "sources": sources(),
        "assets": assets(
            len(providers), page_margins(run["run_id"], coverage["data_through"], raw_ids)
        ),
    }
