"""The report of a generated run, made by the real command line, checked in headless Chromium.

`claims-audit generate` writes extracts with planted violations; `claims-audit run` audits
them twice against one database (the second run compares with the first). The report must
equal the run's exceptions.parquet and manifest, load offline without errors, sort and
filter, and show its summary and provider table with JavaScript disabled; printed to PDF,
with and without JavaScript, it shows every number the screen shows (issue 19).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import reconcile
import synthetic
from browser import assert_not_blank, open_report
from paper import check_inside_printable_area, check_numbers, check_tables, print_pdf
from playwright.sync_api import expect
from report_fixtures import Rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def claims_audit(*args: str | Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "claims-audit"
    found = str(script) if script.exists() else shutil.which("claims-audit")
    command = [found] if found else [sys.executable, "-m", "jobs.cli"]
    env = {k: v for k, v in os.environ.items() if k != "CLAIMS_AUDIT_MEMBER_KEY"}
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=900, env=env
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    base = tmp_path_factory.mktemp("e2e")
    data, out = base / "in", base / "out"
    done = claims_audit("generate", "--out", data, "--lines", "5000", "--seed", "5")
    assert done.returncode == 0, done.stderr
    config = base / "audit.toml"
    # The generated population is small: compare providers from 3 audited lines.
    config.write_text("[report]\nmin_provider_lines = 3\n", encoding="utf-8")
    for _ in range(2):
        done = claims_audit("run", "--input", data, "--out", out, "--config", config)
        assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    built = synthetic.Built(db_path=out / "audit.duckdb", out_dir=out, manifest=manifest)
    html = (out / "report.html").read_text(encoding="utf-8")
    from jobs.config import Config

    return Rendered(built, html, out / "report.html", Config(min_provider_lines=3))


def test_numbers_equal_exceptions_and_manifest(generated: Rendered) -> None:
    reconcile.check_totals(generated)
    reconcile.check_statuses(generated)
    reconcile.check_rules(generated)
    reconcile.check_shares(generated)
    reconcile.check_providers(generated)
    reconcile.check_provider_rates(generated)


def test_comparison_with_the_previous_run(generated: Rendered) -> None:
    summary = generated.doc.by_id("summary").clean_text()
    assert "Compared with the previous successful run" in summary
    (n,) = reconcile.q(generated, "select count(*) from x")[0]
    assert reconcile.k(generated, "new") == "0" and reconcile.k(generated, "resolved") == "0"
    assert reconcile.number(reconcile.k(generated, "persisting")) == n  # same data twice


def test_no_raw_member_ids(generated: Rendered) -> None:
    con = duckdb.connect(str(generated.built.db_path), read_only=True)
    try:
        members = [r[0] for r in con.execute("select distinct person_id from findings").fetchall()]
    finally:
        con.close()
    for member in members:
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(member)}(?![0-9A-Za-z])", generated.html)
    key = generated.built.out_dir / "audit.member-key"
    assert key.exists() and key.read_text().strip() not in generated.html
    # every flagged member is shown, as its keyed hash (README: HMAC-SHA256, m- + 12 hex)
    secret = key.read_text().strip().encode("ascii")
    hashed = {"m-" + hmac.new(secret, m.encode(), hashlib.sha256).hexdigest()[:12] for m in members}
    assert set(re.findall(r"\bm-[0-9a-f]{12}\b", generated.html)) == hashed
    assert len(hashed) == len(members) > 10


def test_in_chromium(generated: Rendered, chromium) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, log = open_report(context, generated.path)
        assert log.errors == [] and log.requests == [] and log.dialogs == []
        assert_not_blank(page.screenshot())

        header = page.locator("#providers-table thead th", has_text="Dollars at risk")
        header.locator("button").click()
        cells = page.locator("#providers-table tbody tr td:nth-child(7)").all_text_contents()
        values = [float(c.replace("$", "").replace(",", "")) for c in cells]
        assert values == sorted(values, reverse=True)

        npi = page.locator("#providers-table tbody tr td:nth-child(2)").first.text_content()
        page.fill("#pf-text", npi)
        expect(page.locator("#providers-table-status")).to_have_text(
            re.compile(r"^Showing 1 of 1 matching providers \(\d+ in all\)$")
        )
        page.locator("#providers").scroll_into_view_if_needed()
        assert_not_blank(page.screenshot())
        assert log.errors == [] and log.requests == []
    finally:
        context.close()


def test_in_chromium_without_javascript(generated: Rendered, chromium) -> None:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    try:
        page, log = open_report(context, generated.path, scripts=False)
        assert log.errors == [] and log.requests == []
        assert page.is_visible("#summary") and page.is_visible("[data-k=dollars_at_risk]")
        expected = reconcile.k(generated, "dollars_at_risk")
        assert page.text_content("[data-k=dollars_at_risk]").strip() == expected
        rows = page.locator("#providers-table tbody tr")
        assert rows.count() > 10
        page.locator("#providers-table").scroll_into_view_if_needed()
        assert rows.first.is_visible()
        assert page.is_hidden("#providers-controls")
        assert_not_blank(page.screenshot())
    finally:
        context.close()


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "nojs"])
def test_printed_to_pdf_it_loses_nothing(
    generated: Rendered,
    chromium,  # noqa: ANN001
    tmp_path: Path,
    scripts: bool,
) -> None:
    """Issue 19: the generated report printed to PDF by Chromium (default page size) shows
    every table whole, every flagged line within the cap and every number of the text."""
    printed = print_pdf(chromium, generated.path, tmp_path / "report.pdf", scripts=scripts)
    n_rows = check_tables(printed, generated.doc)
    check_inside_printable_area(printed)
    assert check_numbers(printed, generated.doc) > 100
    lines = generated.doc.by_id("drilldown").find_all("table")
    assert lines and n_rows > sum(len(t.find("tbody").find_all("tr")) for t in lines)
    run_id = generated.manifest["run_id"]
    assert all(run_id in p.text for p in printed.pages)
