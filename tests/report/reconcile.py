"""Checks that the numbers in a rendered report equal those of the run's outputs.

Every expected value is computed independently from the run's outputs (exceptions.parquet,
the manifest, the audit database), never from the report's own code. Used on synthetic
databases (test_numbers.py) and on a generated end-to-end run (test_e2e_browser.py).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from html_tree import Node, number, table_rows

STATUSES = ("fail", "insufficient_history", "review")


def q(rendered, sql: str) -> list[tuple]:
    """Query the run's exceptions.parquet as table `x`."""
    con = duckdb.connect()
    try:
        con.execute(f"create view x as select * from read_parquet('{rendered.exceptions}')")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def db(rendered, sql: str) -> list[tuple]:
    con = duckdb.connect(str(rendered.built.db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def k(rendered, key: str) -> str:
    """Text of the element marked data-k=key (exactly one)."""
    found = rendered.doc.find_all(pred=lambda n: n.attrs.get("data-k") == key)
    assert len(found) == 1, f"data-k={key}: {len(found)} elements"
    return found[0].clean_text()


def check_totals(rendered) -> None:
    (n, lines, providers) = q(
        rendered,
        "select count(*), count(distinct (claim_id, claim_line_number)), "
        "count(distinct coalesce(rendering_npi, '')) from x",
    )[0]
    # dollars at risk leave out lines whose fail findings are all decided not_an_error or
    # (unexpired) waived (issue 15)
    (dollars,) = q(
        rendered,
        "select sum(paid_amount) from (select claim_id, claim_line_number, paid_amount "
        "from x where status = 'fail' group by all "
        "having not bool_and(review_state in ('not_an_error', 'waived')))",
    )[0]
    totals = rendered.manifest["findings"]
    assert n > 0 and lines > 0 and dollars > 0  # a run worth checking
    assert number(k(rendered, "findings")) == n == totals["total"]
    assert number(k(rendered, "lines_with_findings")) == lines == totals["lines_with_findings"]
    assert number(k(rendered, "dollars_at_risk")) == dollars
    assert Decimal(str(totals["dollars_at_risk"])) == dollars
    assert number(k(rendered, "providers_with_findings")) == providers


def check_statuses(rendered) -> None:
    counts = dict(q(rendered, "select status, count(*) from x group by status"))
    lines = dict(
        q(
            rendered,
            "select status, count(distinct (claim_id, claim_line_number)) from x group by status",
        )
    )
    paid = dict(
        q(
            rendered,
            "select status, sum(paid_amount) from (select distinct status, claim_id, "
            "claim_line_number, paid_amount from x) group by status",
        )
    )
    assert set(counts) <= set(STATUSES) and "fail" in counts
    for status in STATUSES:
        assert number(k(rendered, f"status_findings_{status}")) == counts.get(status, 0)
        assert counts.get(status, 0) == rendered.manifest["findings"]["by_status"].get(status, 0)
        assert number(k(rendered, f"status_lines_{status}")) == lines.get(status, 0)
        assert number(k(rendered, f"status_paid_{status}")) == paid.get(status, Decimal("0"))
        recorded = rendered.manifest["findings"]["paid_amount_by_status"].get(status, 0)
        assert Decimal(str(recorded)).quantize(Decimal("0.01")) == paid.get(status, Decimal("0"))


def _rules_rows(rendered) -> dict[str, Node]:
    table = rendered.doc.by_id("rules-table")
    return {
        row.attrs["data-rule"]: row
        for row in table.find("tbody").children
        if isinstance(row, Node) and row.tag == "tr"
    }


def check_rules(rendered) -> None:
    counts = dict(q(rendered, "select rule_id, count(*) from x group by rule_id"))
    fail_paid = dict(
        q(
            rendered,
            "select rule_id, sum(paid_amount) from (select distinct rule_id, claim_id, "
            "claim_line_number, paid_amount from x where status = 'fail') group by rule_id",
        )
    )
    manifest_counts = {r["id"]: r["findings"] for r in rendered.manifest["rules"]}
    rows = _rules_rows(rendered)
    assert set(rows) == set(manifest_counts)
    for rule_id, row in rows.items():
        cells = {c.attrs.get("data-k"): c.clean_text() for c in row.find_all("td")}
        assert number(cells["rule_findings"]) == counts.get(rule_id, 0) == manifest_counts[rule_id]
        assert number(cells["rule_fail_paid"]) == fail_paid.get(rule_id, Decimal("0"))


def check_shares(rendered) -> None:
    (audited,) = db(rendered, "select count(*) from mart_esi_lines where exclusion_reason is null")[
        0
    ]
    shares = dict(
        db(
            rendered,
            "select f.rule_id, count(distinct (f.claim_id, f.claim_line_number)) from findings f "
            "join mart_esi_lines m on m.claim_id = f.claim_id "
            "and m.claim_line_number = f.claim_line_number and m.exclusion_reason is null "
            "group by f.rule_id",
        )
    )
    for rule_id, row in _rules_rows(rendered).items():
        share_cell = row.find_all("td")[5]
        if (
            rule_id not in shares
        ):  # no audited ESI line flagged (guidance_unbundled flags 77003 lines)
            assert (
                share_cell.clean_text().startswith("n/a") or float(share_cell.attrs["data-v"]) == 0
            )
        else:
            assert float(share_cell.attrs["data-v"]) == pytest.approx(
                shares[rule_id] / audited, rel=1e-5
            )


def _providers(rendered) -> dict[str, list[str]]:
    table = rendered.doc.by_id("providers-table")
    out = {}
    for cells in table_rows(table):
        texts = [c.clean_text() for c in cells]
        key = texts[1] or "(unknown)"
        assert key not in out
        out[key] = texts
    return out


def check_providers(rendered) -> None:
    rules = [r["id"] for r in rendered.manifest["rules"]]
    providers = _providers(rendered)
    expected_lines = dict(
        q(
            rendered,
            "select coalesce(rendering_npi, '(unknown)'), "
            "count(distinct (claim_id, claim_line_number)) from x group by 1",
        )
    )
    expected_dollars = dict(
        q(
            rendered,
            "select coalesce(rendering_npi, '(unknown)'), sum(paid_amount) from (select "
            "rendering_npi, claim_id, claim_line_number, paid_amount from x where status = 'fail' "
            "group by all having not bool_and(review_state in ('not_an_error', 'waived'))) "
            "group by 1",
        )
    )
    per_rule = {
        (npi, rule): n
        for npi, rule, n in q(
            rendered,
            "select coalesce(rendering_npi, '(unknown)'), rule_id, count(*) from x group by 1, 2",
        )
    }
    with_findings = {key for key, row in providers.items() if number(row[4]) > 0}
    assert with_findings == set(expected_lines)
    if "(unknown)" in providers:
        assert providers["(unknown)"][0] == "unknown provider"
    for key, row in providers.items():
        assert number(row[4]) == expected_lines.get(key, 0), key
        assert number(row[6]) == expected_dollars.get(key, Decimal("0")), key
        for i, rule in enumerate(rules):
            cell = row[11 + i]
            assert (int(cell) if cell else 0) == per_rule.get((key, rule), 0), (key, rule)
    assert sum(number(r[6]) for r in providers.values()) == Decimal(
        str(rendered.manifest["findings"]["dollars_at_risk"])
    ).quantize(Decimal("0.01"))


def check_provider_rates(rendered) -> None:
    audited = dict(
        db(
            rendered,
            "select coalesce(rendering_npi, '(unknown)'), count(*) from mart_esi_lines "
            "where exclusion_reason is null group by 1",
        )
    )
    failed = dict(
        db(
            rendered,
            "select coalesce(m.rendering_npi, '(unknown)'), count(*) from mart_esi_lines m "
            "where m.exclusion_reason is null and exists (select 1 from findings f where "
            "f.status = 'fail' and f.claim_id = m.claim_id "
            "and f.claim_line_number = m.claim_line_number) "
            "group by 1",
        )
    )
    for key, row in _providers(rendered).items():
        assert number(row[3]) == audited.get(key, 0), key
        assert number(row[5]) == failed.get(key, 0), key
        if audited.get(key):
            shown = float(row[7].rstrip("%")) / 100
            assert shown == pytest.approx(failed.get(key, 0) / audited[key], abs=0.00051)
    overall = sum(failed.values()) / sum(audited.values())
    assert float(k(rendered, "overall_rate").rstrip("%")) / 100 == pytest.approx(
        overall, abs=0.00005
    )


def check_review(rendered, run_date) -> None:
    """The review section (issue 15), from exceptions.parquet (review_state, first_seen_on,
    paid_amount) and the database's finding_lifecycle and decisions."""
    bands = q(
        rendered,
        f"""
        with a as (
            select *, date_diff('day', first_seen_on, date '{run_date}') as age from x
        )
        select case when age <= 7 then 1 when age <= 30 then 2 when age <= 90 then 3 else 4 end,
               count(*), count(*) filter (where review_state in ('new', 'open')),
               count(distinct (data_source, claim_id, claim_line_number))
        from a group by 1
        """,
    )
    by_band = {b: (n, undecided, lines) for b, n, undecided, lines in bands}
    for band in (1, 2, 3, 4):
        n, undecided, lines = by_band.get(band, (0, 0, 0))
        assert number(k(rendered, f"age_findings_{band}")) == n, band
        assert number(k(rendered, f"age_undecided_{band}")) == undecided, band
        assert number(k(rendered, f"age_lines_{band}")) == lines, band
    (n, undecided) = q(
        rendered, "select count(*), count(*) filter (where review_state in ('new', 'open')) from x"
    )[0]
    assert number(k(rendered, "review_open")) == n
    assert number(k(rendered, "review_worklist")) == undecided
    run_id = rendered.manifest["run_id"]
    (new,) = db(
        rendered,
        f"select count(*) from finding_lifecycle where first_seen_run_id = '{run_id}'",
    )[0]
    assert number(k(rendered, "review_new")) == new
    resolved = dict(
        db(
            rendered,
            "select resolution, count(*) from finding_lifecycle "
            f"where resolved_run_id = '{run_id}' group by 1",
        )
    )
    assert number(k(rendered, "review_resolved")) == sum(resolved.values())
    for kind in ("passes_now", "not_audited_now", "not_in_extract", "rule_changed"):
        assert number(k(rendered, f"resolved_{kind}")) == resolved.get(kind, 0), kind
    decisions = {
        d: (n, n_open)
        for d, n, n_open in db(
            rendered,
            "select d.decision, count(*), count(*) filter (where l.state = 'open') "
            "from decisions d join finding_lifecycle l on l.finding_id = d.finding_id "
            "where d.decision_status = 'current' group by 1",
        )
    }
    for kind in ("confirmed", "not_an_error", "education", "waived"):
        n, n_open = decisions.get(kind, (0, 0))
        assert number(k(rendered, f"decision_{kind}")) == n, kind
        assert number(k(rendered, f"decision_open_{kind}")) == n_open, kind
    # amounts: decided lines (all fail findings not_an_error or waived) apart, the rest at risk
    (at_risk, decided) = q(
        rendered,
        """
        with lines as (
            select data_source, claim_id, claim_line_number, max(paid_amount) as paid,
                   bool_and(review_state in ('not_an_error', 'waived')) as decided
            from x where status = 'fail' group by 1, 2, 3
        )
        select coalesce(sum(paid) filter (where not decided), 0),
               coalesce(sum(paid) filter (where decided), 0)
        from lines
        """,
    )[0]
    assert number(k(rendered, "dollars_at_risk")) == at_risk
    assert number(k(rendered, "review_dollars_at_risk")) == at_risk
    assert number(k(rendered, "review_decided_amount")) == decided
    (confirmed,) = db(
        rendered,
        """
        select coalesce(sum(paid), 0) from (
            select l.data_source, l.claim_id, l.claim_line_number, max(l.paid_amount) as paid
            from finding_lifecycle l join decisions d on d.finding_id = l.finding_id
            where d.decision_status = 'current' and d.decision = 'confirmed'
            group by 1, 2, 3
        )
        """,
    )[0]
    assert number(k(rendered, "review_confirmed_amount")) == confirmed
    (recovered,) = db(
        rendered,
        "select coalesce(sum(recovered_amount), 0) from decisions "
        "where decision_status = 'current' and decision = 'confirmed'",
    )[0]
    assert number(k(rendered, "review_recovered_amount")) == recovered


def check_provider_review(rendered) -> None:
    """Open (no current decision), new and decided findings per provider, from the parquet."""
    counts = {
        npi: (n_open, n_new, n_decided)
        for npi, n_open, n_new, n_decided in q(
            rendered,
            "select coalesce(rendering_npi, '(unknown)'), "
            "count(*) filter (where review_state in ('new', 'open')), "
            "count(*) filter (where review_state = 'new'), "
            "count(*) filter (where review_state not in ('new', 'open')) from x group by 1",
        )
    }
    rules = rendered.manifest["rules"]
    for key, row in _providers(rendered).items():
        cells = row[11 + len(rules) : 14 + len(rules)]
        got = tuple(int(c) if c else 0 for c in cells)
        assert got == counts.get(key, (0, 0, 0)), key


def peer_groups(rendered) -> dict[str, set[str]]:
    """NPIs of the providers compared with their peers ("eligible": at least
    min_provider_lines audited lines) and of those above the 95% limit or higher ("any")
    and above the 99.8% limit ("998"), from the database and SciPy's binomial test."""
    from scipy import stats

    rows = db(
        rendered,
        "select m.rendering_npi, count(*), count(*) filter (where exists (select 1 "
        "from findings f where f.status = 'fail' and f.claim_id = m.claim_id "
        "and f.claim_line_number = m.claim_line_number)) "
        "from mart_esi_lines m where m.exclusion_reason is null group by 1",
    )
    p0 = sum(x for _, _, x in rows) / sum(n for _, n, _ in rows)
    eligible = {
        npi: (n, x)
        for npi, n, x in rows
        if npi not in (None, "") and n >= rendered.config.min_provider_lines
    }
    p_values = {npi: stats.binom.sf(x - 1, n, p0) for npi, (n, x) in eligible.items()}
    return {
        "eligible": set(eligible),
        "any": {npi for npi, p in p_values.items() if p < 0.025},
        "998": {npi for npi, p in p_values.items() if p < 0.001},
    }
