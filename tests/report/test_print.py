"""The report on paper (issue 19): printed to PDF by the real headless Chromium, read back
with poppler's pdftotext, with and without JavaScript.

A printed copy loses nothing: every column of every table is on the page, header rows
repeat and rows do not split, the flagged lines print expanded within the report's cap
(with the count of the others), and every page carries the run id, the data-through date
and its page number.
"""

from __future__ import annotations

import re

import pytest
import synthetic
from browser import assert_not_blank
from html_tree import Node, headers, parse
from paper import (
    SIDE_MARGIN,
    Printed,
    check_inside_printable_area,
    check_numbers,
    check_tables,
    ink_in,
    page_png,
    print_pdf,
    read_pdf,
    row_texts,
    squeeze,
)
from report_fixtures import Rendered

pytestmark = pytest.mark.browser

MODES = ["js", "nojs"]
# A 700-provider report (9,000 ESI lines, 2,899 flagged lines detailed) prints as about
# 200 Letter pages here (30 of them the provider table); the bound leaves room for a few
# more columns, not for a regression.
MAX_PAGES_700 = 240
MAX_SECONDS_700 = 60


def _print(rendered: Rendered, browser, mode: str, tmp_path_factory, **options) -> Printed:  # noqa: ANN001
    folder = tmp_path_factory.mktemp("pdf")
    return print_pdf(
        browser, rendered.path, folder / f"report-{mode}.pdf", scripts=mode == "js", **options
    )


@pytest.fixture(scope="module", params=MODES)
def printed(request: pytest.FixtureRequest, plain: Rendered, chromium, tmp_path_factory) -> Printed:  # noqa: ANN001
    """The 40-provider report (a previous run, a provider over the per-provider cap)."""
    return _print(plain, chromium, request.param, tmp_path_factory)


def _drilldown_sections(doc: Node) -> list[Node]:
    return doc.by_id("drilldown").find_all("details")


def test_every_table_prints_whole(printed: Printed, plain: Rendered) -> None:
    """Every column header and every row of every table, no row split, headers repeated;
    every number of the text."""
    n_rows = check_tables(printed, plain.doc)
    check_inside_printable_area(printed)
    assert check_numbers(printed, plain.doc) > 500
    n_providers = len(row_texts(plain.doc.by_id("providers-table")))
    assert n_providers == 40 + 1  # unknown provider included: each row checked whole
    assert n_rows > n_providers
    # The rules table, the widest in portrait, keeps its right-most column.
    assert printed.holding("Paid at risk (fail)") and printed.holding("Resolved")


def test_every_providers_dollars_at_risk_prints(printed: Printed, plain: Rendered) -> None:
    table = plain.doc.by_id("providers-table")
    column = headers(table).index("Dollars at risk")
    for row in table.find("tbody").find_all("tr"):
        cells = row.find_all(pred=lambda n: n.tag == "td")
        npi, dollars = cells[1].clean_text(), cells[column].clean_text()
        assert dollars.startswith("$")
        # NPI, specialty, counts and dollars in a row, on one page
        run = squeeze(" ".join(c.clean_text() for c in cells[1 : column + 1]))
        assert printed.holding(run), f"provider {npi}: {dollars} not printed in its row"


def test_flagged_lines_print_expanded_within_the_cap(printed: Printed, plain: Rendered) -> None:
    sections = _drilldown_sections(plain.doc)
    assert sections
    n_lines = 0
    for details in sections:
        summary = details.find("summary").clean_text()
        table = details.find("table")
        rows = row_texts(table)
        n_lines += len(rows)
        # The summary stays with its table's header row and first line.
        opening = squeeze(summary + header_and_first(table))
        assert printed.holding(opening), f"{summary[:60]}: its lines do not follow it"
        for text in rows:
            assert printed.holding(text), f"{summary[:40]}: line not printed: {text[:80]}"
        more = details.find_all("p")
        for p in more:  # "N more lines of this provider in exceptions.csv"
            assert "exceptions.csv" in p.clean_text() and printed.holding(p.clean_text())
    shown = re.search(r"([\d,]+) lines are shown here and ([\d,]+) more", plain.doc.text())
    assert shown and int(shown.group(1).replace(",", "")) == n_lines
    assert int(shown.group(2).replace(",", "")) > 0  # the cap is reached in this run...
    capped = [d for d in sections if d.find_all("p")]
    assert capped  # ... and the provider over it says how many more are in exceptions.csv
    assert printed.holding(shown.group(0))
    assert not printed.holding("to print a provider's lines, open it first")


def header_and_first(table: Node) -> str:
    return " ".join(headers(table)) + " " + row_texts(table)[0]


def test_page_furniture_on_every_page(printed: Printed) -> None:
    n = len(printed.pages)
    assert n > 3
    for page in printed.pages:
        text = page.squeezed
        assert squeeze(f"Cervical ESI claims audit, run {synthetic.RUN_ID}") in text, page.number
        assert squeeze("Data through 2025-01-15") in text, page.number
        assert squeeze(f"Page {page.number} of {n}") in text, page.number
        assert squeeze("Member ids are pseudonyms (keyed hash)") in text, page.number
    first = printed.pages[0].squeezed
    assert squeeze("Member identifiers pseudonymized: a keyed hash") in first


def test_wide_sections_print_landscape_and_not_cut(printed: Printed, plain: Rendered) -> None:
    """The page with the provider table is landscape, and its right-most column header is
    painted on it (a screenshot of the printed page, not only its text)."""
    head = squeeze(" ".join(headers(plain.doc.by_id("providers-table"))))
    pages = [p for p in printed.pages if head in p.squeezed]
    assert pages and all(p.landscape for p in pages)
    assert not printed.pages[0].landscape  # the rest is portrait
    page = pages[0]
    last = headers(plain.doc.by_id("providers-table"))[-1].split()[-1]  # "levels" of TF levels
    words = [w for w in page.words if w.text == last]
    assert words, f"right-most header {last!r} not on page {page.number}"
    word = max(words, key=lambda w: w.x1)
    assert word.x1 <= page.width - SIDE_MARGIN + 1.5
    png = page_png(printed.path, page.number)
    assert_not_blank(png)
    assert ink_in(png, word) > 5, "the right-most header is not painted"


def test_print_opens_details_and_restores_the_screen(plain: Rendered, chromium) -> None:
    """With the script, beforeprint opens every closed <details> and afterprint closes them
    again, leaving open the one the reader had opened."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(plain.path.resolve().as_uri(), wait_until="load")
        count = "() => document.querySelectorAll('details[open]').length"
        page.evaluate("document.querySelector('details.prov').open = true")
        assert page.evaluate(count) == 1
        page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
        assert page.evaluate(count) == page.evaluate("document.querySelectorAll('details').length")
        page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
        assert page.evaluate(count) == 1
        assert page.evaluate("document.querySelector('details.prov').open")
    finally:
        context.close()


@pytest.mark.parametrize("extra", [1, 5])
def test_a_table_with_more_columns_still_fits(
    extra: int,
    plain: Rendered,
    chromium,  # noqa: ANN001
    tmp_path,  # noqa: ANN001
) -> None:
    """Columns added to the provider table later still print whole: it has 23 (with the
    review counts of issue 15), which print with their headers as they are; 24 and 28
    print with the number headers sideways (from 24 columns). The columns are added in
    the page, which is then printed and checked against its own HTML."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(plain.path.resolve().as_uri(), wait_until="load")
        page.evaluate(
            """(extra) => {
                const t = document.getElementById('providers-table');
                for (let i = 1; i <= extra; i++) {
                    const th = document.createElement('th');
                    th.className = 'num';
                    th.textContent = 'Review count ' + i;
                    t.tHead.rows[0].appendChild(th);
                    for (const row of t.tBodies[0].rows) {
                        row.insertCell().textContent = String(row.rowIndex * 7 % 1000);
                    }
                }
            }""",
            extra,
        )
        doc = parse(page.content())
        pdf = tmp_path / "wider.pdf"
        pdf.write_bytes(page.pdf())
    finally:
        context.close()
    assert len(headers(doc.by_id("providers-table"))) == 23 + extra
    printed = Printed(pdf, read_pdf(pdf), 0.0)
    check_tables(printed, doc)
    check_inside_printable_area(printed)


@pytest.mark.parametrize("mode", MODES)
def test_a4_portrait_fits_too(mode: str, plain: Rendered, chromium, tmp_path_factory) -> None:  # noqa: ANN001
    """A4 is narrower than Letter: every table still fits."""
    printed = _print(plain, chromium, mode, tmp_path_factory, format="A4")
    assert abs(printed.pages[0].width - 595) < 2  # A4: 210 mm
    check_tables(printed, plain.doc)
    check_inside_printable_area(printed)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_700_providers_print_in_bounded_pages_and_time(
    mode: str,
    many_providers: Rendered,
    chromium,  # noqa: ANN001
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    printed = _print(many_providers, chromium, mode, tmp_path_factory)
    assert printed.seconds < MAX_SECONDS_700, f"{printed.seconds:.1f} s"
    assert len(printed.pages) < MAX_PAGES_700, f"{len(printed.pages)} pages"
    n_rows = check_tables(printed, many_providers.doc)
    check_inside_printable_area(printed)
    lines = sum(len(row_texts(d.find("table"))) for d in _drilldown_sections(many_providers.doc))
    assert lines > 2_000 and n_rows > 700 + lines


def test_hostile_run_id_prints_as_text(hostile: Rendered, chromium, tmp_path_factory) -> None:  # noqa: ANN001
    printed = _print(hostile, chromium, "js", tmp_path_factory)
    run_id = synthetic.HOSTILE["run_id"]
    assert all(squeeze(f"run {run_id}") in p.squeezed for p in printed.pages)
    check_tables(printed, hostile.doc)


def test_raw_member_ids_are_marked_on_every_page(
    hostile_raw: Rendered,
    chromium,  # noqa: ANN001
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    printed = _print(hostile_raw, chromium, "nojs", tmp_path_factory)
    assert all(squeeze("INTERNAL USE ONLY: raw member ids") in p.squeezed for p in printed.pages)
    assert not printed.holding("Member ids are pseudonyms")
    assert squeeze("INTERNAL USE ONLY") in printed.pages[0].squeezed
