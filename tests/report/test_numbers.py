"""The numbers in the report equal those of exceptions.parquet, the manifest and the database.

Every expected value here is computed independently from the run's outputs (the Parquet
file of exceptions, the manifest, the audit database), never from the report's own code.
"""

from __future__ import annotations

from html_tree import Node, number, table_rows
from reconcile import (
    _providers,
    check_provider_rates,
    check_providers,
    check_rules,
    check_shares,
    check_statuses,
    check_totals,
    db,
    k,
    q,
)
from report_fixtures import Rendered, render

from jobs.config import Config


def test_totals_equal_exceptions_and_manifest(plain: Rendered) -> None:
    check_totals(plain)
    (n,) = q(plain, "select count(*) from x")[0]
    assert n > 500  # a run worth checking


def test_findings_by_status(plain: Rendered) -> None:
    check_statuses(plain)


def test_by_rule_equals_exceptions_and_manifest(plain: Rendered) -> None:
    check_rules(plain)


def test_share_of_audited_lines(plain: Rendered) -> None:
    check_shares(plain)


def test_by_provider_equals_exceptions(plain: Rendered) -> None:
    check_providers(plain)


def test_provider_volume_and_rate_equal_database(plain: Rendered) -> None:
    check_provider_rates(plain)


def test_lines_and_sessions_equal_database(plain: Rendered) -> None:
    by_reason = dict(
        db(
            plain,
            "select coalesce(exclusion_reason, 'audited'), count(*) from mart_esi_lines group by 1",
        )
    )
    (sessions,) = db(
        plain,
        "select count(*) from (select distinct person_id, service_date from mart_esi_lines "
        "where exclusion_reason is null)",
    )[0]
    assert number(k(plain, "lines_audited")) == by_reason["audited"]
    assert number(k(plain, "sessions_audited")) == sessions
    for reason in ("thoracic", "reversal", "folded_addon"):
        assert number(k(plain, f"excluded_{reason}")) == by_reason[reason]
    (lumbar,) = db(
        plain, "select count(*) from medical_claim where hcpcs_code in ('62323', '64483')"
    )[0]
    assert number(k(plain, "out_of_scope")) == lumbar
    (rejected_esi,) = db(
        plain,
        "select count(*) from rejected_rows where table_name = 'medical_claim' and ("
        "(json_valid(original_values) "
        "and upper(replace(trim(original_values ->> 'hcpcs_code'), '.', '')) "
        "in ('62320','62321','62324','62325','64479','64480','0228T','0229T','62310','62318')) "
        "or (not json_valid(original_values) and original_values like '%62321%'))",
    )[0]
    assert rejected_esi > 0
    assert number(k(plain, "esi_rejected")) == rejected_esi


def test_changes_since_previous_run(plain: Rendered) -> None:
    previous = "20250101T020000Z-beef01"
    rows = db(
        plain,
        f"""
        with cur as (select distinct rule_id, claim_id, claim_line_number from findings),
        old as (select distinct rule_id, claim_id, claim_line_number from findings_history
                where run_id = '{previous}')
        select
            (select count(*) from cur where (rule_id, claim_id, claim_line_number)
                not in (select * from old)),
            (select count(*) from old where (rule_id, claim_id, claim_line_number)
                not in (select * from cur)),
            (select count(*) from cur where (rule_id, claim_id, claim_line_number)
                in (select * from old))
        """,
    )[0]
    assert rows[0] > 0 and rows[1] > 0 and rows[2] > 0
    assert (
        number(k(plain, "new")),
        number(k(plain, "resolved")),
        number(k(plain, "persisting")),
    ) == rows
    assert (
        previous in plain.doc.by_id("summary").clean_text()
    )  # the latest *successful* earlier run


def test_drilldown_lines_equal_exceptions(plain: Rendered) -> None:
    evidence = {
        (claim, line, rule): (status, text)
        for claim, line, rule, status, text in q(
            plain, "select claim_id, claim_line_number, rule_id, status, evidence from x"
        )
    }
    lines_per_npi = dict(
        q(
            plain,
            "select coalesce(rendering_npi, '(unknown)'), "
            "count(distinct (claim_id, claim_line_number)) from x group by 1",
        )
    )
    sections = plain.doc.find_all("details", lambda n: "prov" in n.attrs.get("class", ""))
    assert len(sections) == len(lines_per_npi)  # every provider fits at this size
    checked = 0
    shown: set[tuple[str, int]] = set()
    for section in sections:
        npi = section.find("summary").find_all("span", lambda n: n.attrs.get("class") == "mono")
        key = npi[0].clean_text() if npi else "(unknown)"
        rows = table_rows(section.find("table"))
        assert len(rows) == min(lines_per_npi[key], 200)
        for cells in rows:
            claim, line = cells[1].clean_text(), int(cells[2].clean_text())
            shown.add((claim, line))
            for rule, status, text in _findings(cells[6]):
                assert evidence[(claim, line, rule)] == (status, text)
                checked += 1
    assert checked == sum(1 for claim, line, _ in evidence if (claim, line) in shown)


def _findings(cell: Node) -> list[tuple[str, str, str]]:
    """(rule, status, evidence) of each finding listed in a drill-down cell."""
    out = []
    parts: list[list] = [[]]
    for child in cell.children:
        if isinstance(child, Node) and child.tag == "br":
            parts.append([])
        else:
            parts[-1].append(child)
    for part in parts:
        rule = next(c for c in part if isinstance(c, Node) and c.tag == "code").text()
        status = (
            next(c for c in part if isinstance(c, Node) and c.tag == "b").text().replace(" ", "_")
        )
        text = "".join(c if isinstance(c, str) else c.text() for c in part)
        evidence = text.split(": ", 1)[1].rstrip("\n")
        out.append((rule, status, evidence))
    return out


def test_drilldown_cap_counts_the_rest(plain: Rendered) -> None:
    capped = render(plain.built, Config(max_lines_per_provider=5), name="report-capped.html")
    lines_per_npi = dict(
        q(
            plain,
            "select coalesce(rendering_npi, '(unknown)'), "
            "count(distinct (claim_id, claim_line_number)) from x group by 1",
        )
    )
    for section in capped.doc.find_all("details", lambda n: "prov" in n.attrs.get("class", "")):
        npi = section.find("summary").find_all("span", lambda n: n.attrs.get("class") == "mono")
        key = npi[0].clean_text() if npi else "(unknown)"
        shown = len(table_rows(section.find("table")))
        assert shown == min(5, lines_per_npi[key])
        if lines_per_npi[key] > 5:
            note = section.find("p").clean_text()
            assert note.startswith(f"{lines_per_npi[key] - 5:,} more line")
            assert "exceptions.csv" in note


def test_drilldown_budget_keeps_counts_exact(plain: Rendered) -> None:
    small = render(plain.built, Config(max_drilldown_lines=60), name="report-budget.html")
    sections = small.doc.find_all("details", lambda n: "prov" in n.attrs.get("class", ""))
    shown = sum(len(table_rows(s.find("table"))) for s in sections)
    assert 0 < len(sections) <= 6 and shown <= 60
    # the totals and the provider table still cover every line
    assert k(small, "findings") == k(plain, "findings")
    assert _providers(small) == _providers(plain)
    text = small.doc.by_id("drilldown").clean_text()
    assert "exceptions.csv" in text and "of the" in text
