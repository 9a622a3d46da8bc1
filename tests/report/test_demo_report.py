"""The first report a newcomer sees (issue 13): `claims-audit demo` shows every section of
the report with something in it: a peer comparison with its funnel plot and a provider
above the limit, every rule firing, every status, the comparison with a previous run
(the demo audits an earlier extract of the same data first), exclusions, out-of-scope
lines and data quality. Its numbers reconcile with its own outputs like any run's.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import reconcile
import synthetic
from browser import open_report
from html_tree import number
from report_fixtures import Rendered

from jobs.config import Config
from tests.conftest import run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RULE_IDS = {
    "qualifying_dx", "conservative_care", "prior_imaging", "imaging_guidance",
    "session_frequency", "guidance_unbundled", "myelopathy_review", "interlaminar_levels",
    "transforaminal_levels",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rendered, str]:
    out = tmp_path_factory.mktemp("demo") / "claims-audit-demo"
    res = run_cli("demo", "--out", out)
    assert res.returncode == 0, res.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    built = synthetic.Built(db_path=out / "audit.duckdb", out_dir=out, manifest=manifest)
    html = (out / "report.html").read_text(encoding="utf-8")
    return Rendered(built, html, out / "report.html", Config()), res.stdout


def db(rendered: Rendered, sql: str) -> list[tuple]:
    return reconcile.db(rendered, sql)


def test_prints_the_summary_with_the_report(demo) -> None:
    rendered, stdout = demo
    assert "audit complete" in stdout
    assert f"report:     {rendered.path}" in stdout


def test_numbers_equal_the_outputs(demo) -> None:
    rendered, _ = demo
    reconcile.check_totals(rendered)
    reconcile.check_statuses(rendered)
    reconcile.check_rules(rendered)
    reconcile.check_providers(rendered)
    reconcile.check_provider_rates(rendered)


def test_every_rule_fires_with_every_status(demo) -> None:
    rendered, _ = demo
    assert {r["id"] for r in rendered.manifest["rules"] if r["findings"] > 0} == RULE_IDS
    statuses = {s for (s,) in db(rendered, "select distinct status from findings")}
    assert statuses == {"fail", "insufficient_history", "review"}


def test_peer_comparison_draws_the_funnel_and_flags_a_provider(demo) -> None:
    rendered, _ = demo
    providers = rendered.doc.by_id("providers")
    assert "No provider has" not in providers.clean_text()
    charts = [svg.attrs.get("aria-labelledby") for svg in providers.find_all("svg")]
    assert charts.count("chart-funnel-title") == 1
    groups = reconcile.peer_groups(rendered)
    assert len(groups["eligible"]) >= 10  # a funnel worth the name
    assert groups["998"]  # an outlier above the 99.8% limit
    flagged = {
        row.find_all("td")[1].clean_text(): row.attrs["data-flag"]
        for row in rendered.doc.by_id("providers-table").find("tbody").find_all("tr")
        if row.attrs.get("data-flag")
    }
    assert set(flagged) == groups["any"]
    assert {npi for npi, flag in flagged.items() if flag == "99.8%"} == groups["998"]


def test_compares_with_a_first_run_on_an_earlier_extract(demo) -> None:
    rendered, _ = demo
    out = rendered.built.out_dir
    runs = db(rendered, "select run_id, status, manifest from run_history order by run_seq")
    assert [status for _, status, _ in runs] == ["succeeded", "succeeded"]
    first, second = (json.loads(m) for _, _, m in runs)
    assert Path(first["input_dir"]) == out / "input-earlier"
    assert Path(second["input_dir"]) == out / "input"
    read = [sum(f["rows_read"] for f in m["inputs"]) for m in (first, second)]
    assert 0 < read[0] < read[1]  # an earlier extract of the same data
    assert (out / "earlier" / "report.html").is_file()
    keys = "rule_id, claim_id, claim_line_number, data_source"
    ids = [run_id for run_id, _, _ in runs]
    before, after = (
        set(db(rendered, f"select {keys} from findings_history where run_id = '{run_id}'"))
        for run_id in ids
    )
    assert "Compared with the previous successful run" in rendered.doc.by_id("summary").text()
    shown = [number(reconcile.k(rendered, k)) for k in ("new", "resolved", "persisting")]
    assert shown == [len(after - before), len(before - after), len(after & before)]
    assert shown[0] > 0 and shown[2] > 0


def test_every_section_has_something_to_show(demo) -> None:
    rendered, _ = demo
    for reason in ("thoracic", "reversal", "folded_addon"):
        assert number(reconcile.k(rendered, f"excluded_{reason}")) > 0, reason
    assert number(reconcile.k(rendered, "out_of_scope")) > 0
    quality = rendered.doc.by_id("quality").clean_text()
    assert "Most frequent rejection reasons" in quality and "No row was rejected" not in quality
    (rejected,) = db(rendered, "select count(*) from rejected_rows")[0]
    (warned,) = db(rendered, "select count(*) from row_issues where level = 'warning'")[0]
    assert rejected > 0 and warned > 0
    drilldown = rendered.doc.by_id("drilldown")
    assert len(drilldown.find_all("details")) == len(
        {npi for (npi,) in db(rendered, "select distinct rendering_npi from findings")}
    )


def test_loads_cleanly_in_chromium(demo, chromium) -> None:
    rendered, _ = demo
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, log = open_report(context, rendered.path)
        assert log.errors == [] and log.requests == [] and log.dialogs == []
    finally:
        context.close()


def test_review_section_shows_old_and_new_findings_and_every_decision(demo) -> None:
    """Issue 15 in the demo: the first run is dated a year before the second, so the review
    section has findings first seen then (over 90 days) beside new ones (0-7); the second
    run reads a decisions file with every kind of decision, an expired waiver and one
    rejected row, and its numbers reconcile with exceptions.parquet and the database."""
    rendered, _ = demo
    first, second = (
        json.loads(m) for (m,) in db(rendered, "select manifest from run_history order by run_seq")
    )
    assert (
        date.fromisoformat(second["run_date"]) - date.fromisoformat(first["run_date"])
    ).days > 360
    reconcile.check_review(rendered, second["run_date"])
    reconcile.check_provider_review(rendered)
    ages = [number(reconcile.k(rendered, f"age_findings_{band}")) for band in (1, 2, 3, 4)]
    assert ages[0] > 0 and ages[3] > 0
    for kind in ("confirmed", "not_an_error", "education", "waived"):
        assert number(reconcile.k(rendered, f"decision_{kind}")) > 0, kind
    assert number(reconcile.k(rendered, "review_recovered_amount")) > 0
    assert number(reconcile.k(rendered, "review_decided_amount")) > 0
    (expired,) = db(rendered, "select count(*) from decisions where decision_status = 'expired'")[0]
    assert expired == 1
    rejected = db(rendered, "select reasons from rejected_rows where table_name = 'decisions'")
    assert rejected == [("unknown_decision:decision",)]
    assert second["decisions_file"]["rows_read"] == 10
    assert second["decisions_file"]["rows_rejected"] == 1
