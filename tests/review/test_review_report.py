"""The report's review section (issue 15) on the last generated night: its numbers equal
those computed independently from exceptions.parquet and the database, per provider too,
and it reads in Chromium with and without JavaScript."""

from __future__ import annotations

import sys

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import REPO
from tests.review.conftest import NIGHTS, RUN_DATES, Nights

sys.path.insert(0, str(REPO / "tests" / "report"))

import reconcile  # noqa: E402
import synthetic  # noqa: E402
from browser import launch, open_report  # noqa: E402
from report_fixtures import Rendered  # noqa: E402

from jobs.config import Config  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(nights: Nights) -> Rendered:
    """The last night's report (the database holds the last night's state)."""
    run = nights.runs[NIGHTS]
    built = synthetic.Built(db_path=nights.db, out_dir=run.out, manifest=run.manifest)
    html = (run.out / "report.html").read_text(encoding="utf-8")
    return Rendered(built, html, run.out / "report.html", Config())


def test_review_numbers_reconcile(rendered: Rendered) -> None:
    reconcile.check_review(rendered, RUN_DATES[NIGHTS])
    # the last night holds findings of every age band and decisions of most kinds
    for band in (1, 2, 3, 4):
        assert reconcile.number(reconcile.k(rendered, f"age_findings_{band}")) > 0
    assert reconcile.number(reconcile.k(rendered, "review_recovered_amount")) > 0


def test_other_numbers_still_reconcile_with_decisions(rendered: Rendered) -> None:
    reconcile.check_totals(rendered)
    reconcile.check_statuses(rendered)
    reconcile.check_providers(rendered)
    reconcile.check_provider_review(rendered)


@pytest.mark.browser
@pytest.mark.parametrize("scripts", [True, False], ids=["javascript", "no-javascript"])
def test_review_section_reads_in_chromium(rendered: Rendered, scripts: bool) -> None:
    with sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, java_script_enabled=scripts
            )
            page, log = open_report(context, rendered.path, scripts=scripts)
            section = page.locator("#review")
            assert section.is_visible()
            text = section.inner_text()
            for words in ("Open findings by age", "Resolved by this run", "Decisions", "over 90"):
                assert words in text
            ages = page.locator("#review-ages-table tbody tr")
            assert ages.count() == 4
            assert page.locator("#rejected-decisions-table tbody tr").count() > 0
            page.locator("details.prov summary").first.click()  # native: no script needed
            lines = page.locator("details.prov table.lines").first
            assert "Review" in lines.locator("thead").inner_text()
            first = lines.locator("tbody tr").first.locator("td")
            assert (
                first.nth(7).inner_text()
                in {
                    "new",
                    "open",
                    "confirmed",
                    "not_an_error",
                    "education",
                    "waived",
                }
                or ", " in first.nth(7).inner_text()
            )
            assert first.nth(8).inner_text().isdigit()
            assert not log.errors and not log.requests
        finally:
            browser.close()
