"""How `sql/review/finding_lifecycle.sql` tells a line that is gone (`not_in_extract`)
from a line that is still there but rejected by validation (`not_audited_now`), on small
tables: the rejected line is matched on its original values' data source, claim id and
line number as the loaded line would be (trimmed; '1.0' is line 1)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from jobs.audit.runner import FINDINGS_COLUMNS
from jobs.resources import sql_dir
from jobs.review.history import create_table
from jobs.review.lifecycle import LIFECYCLE_COLUMNS, finding_id_sql
from jobs.validation.quarantine import create_rejected_rows_table

RULE = "qualifying_dx"


def open_finding(con: duckdb.DuckDBPyConnection, claim_id: str) -> None:
    values = {c: None for c, _ in LIFECYCLE_COLUMNS}
    values.update(rule_id=RULE, data_source="acme", claim_id=claim_id, claim_line_number=1,
                  state="open", times_reopened=0)  # fmt: skip
    ((fid,),) = con.execute(
        f"select {finding_id_sql('t')} from (select 'acme' as data_source, ? as claim_id, "
        f"1 as claim_line_number, '{RULE}' as rule_id) as t",
        [claim_id],
    ).fetchall()
    values["finding_id"] = fid
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    con.execute(
        f"insert into _previous_lifecycle ({names}) values ({marks})", list(values.values())
    )


def resolutions(rejected: list[dict]) -> dict[str, str]:
    """Resolve two open findings (claims C1 and C2, line 1) that this run does not flag,
    with `rejected` as the medical_claim rows' original values and no ESI line left."""
    con = duckdb.connect()
    create_table(con, "_previous_lifecycle", LIFECYCLE_COLUMNS, temp=True)
    create_table(con, "findings", FINDINGS_COLUMNS)
    con.execute("create temp table _current_findings as select '' as finding_id, * from findings")
    create_table(
        con, "_rule_fingerprints", (("rule_id", "varchar"), ("rule_fingerprint", "varchar"))
    )
    con.execute(
        "create table mart_esi_lines (data_source varchar, claim_id varchar, "
        "claim_line_number integer, exclusion_reason varchar)"
    )
    con.execute(
        "create table mart_guidance_lines (data_source varchar, claim_id varchar, "
        "claim_line_number integer, is_audited boolean)"
    )
    create_rejected_rows_table(con)
    for i, values in enumerate(rejected, start=1):
        con.execute(
            "insert into rejected_rows values ('r', 'medical_claim', 'f.csv', ?, "
            "'missing_person_id:person_id', 'd', ?)",
            [i, json.dumps(values)],
        )
    open_finding(con, "C1")
    open_finding(con, "C2")
    sql = (sql_dir() / "review" / "finding_lifecycle.sql").read_text(encoding="utf-8")
    rows = con.execute(
        f"select claim_id, resolution from ({sql}) order by claim_id",
        {"run_id": "r", "run_date": date(2026, 1, 1)},
    ).fetchall()
    con.close()
    return dict(rows)


@pytest.mark.parametrize(
    "line",
    [
        {"data_source": "acme", "claim_id": "C1", "claim_line_number": "1"},
        {"data_source": " acme ", "claim_id": " C1 ", "claim_line_number": "1.0"},
    ],
)
def test_a_rejected_line_is_not_audited_now_and_a_gone_one_not_in_extract(line):
    assert resolutions([line]) == {"C1": "not_audited_now", "C2": "not_in_extract"}


def test_rejected_lines_of_other_claims_or_lines_do_not_count():
    other = [
        {"data_source": "acme", "claim_id": "C1", "claim_line_number": "2"},
        {"data_source": "other", "claim_id": "C1", "claim_line_number": "1"},
        {"data_source": "acme", "claim_id": "C9", "claim_line_number": "1"},
    ]
    assert resolutions(other) == {"C1": "not_in_extract", "C2": "not_in_extract"}
