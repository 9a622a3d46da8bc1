"""The report stands alone, is deterministic, and says what it must in every situation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import synthetic
from html_tree import headers
from report_fixtures import GENERATED_AT, Rendered, render

SECTIONS = ("summary", "rules", "providers", "drilldown", "quality", "method", "scope")


def test_one_self_contained_file(plain: Rendered) -> None:
    html = plain.html
    assert not re.search(r"https?://", html)
    assert not re.search(r"\b(src|srcset|action|formaction|poster|data)\s*=", html, re.I)
    assert "@import" not in html and "url(" not in html and "@font-face" not in html
    tags = {n.tag for n in plain.doc.iter()}
    assert not tags & {"link", "img", "iframe", "object", "embed", "base", "form"}
    assert all(a.attrs["href"].startswith("#") for a in plain.doc.find_all("a"))
    anchors = {n.attrs["id"] for n in plain.doc.iter() if "id" in n.attrs}
    for a in plain.doc.find_all("a"):
        assert a.attrs["href"][1:] in anchors, a.attrs["href"]  # no dangling links
    assert "@media print" in plain.doc.find("style").text()


def test_sections_and_real_table_headers(plain: Rendered) -> None:
    doc = plain.doc
    assert doc.find("html").attrs.get("lang") == "en"
    for section in SECTIONS:
        node = doc.by_id(section)
        assert node.tag == "section" and node.find("h2")
    for table in doc.find_all("table"):
        assert table.find("thead").find_all("th"), table.attrs
    for table_id in ("providers-table", "rules-table", "status-table", "inputs-table"):
        ths = doc.by_id(table_id).find("thead").find_all("th")
        assert all(th.attrs.get("scope") == "col" for th in ths), table_id
    assert headers(doc.by_id("providers-table"))[:8] == [
        "Provider",
        "NPI",
        "Specialty",
        "Lines audited",
        "Lines with findings",
        "Lines failed",
        "Dollars at risk",
        "Fail rate",
    ]
    for control in ("pf-text", "pf-flag", "pf-findings"):
        assert doc.find("label", lambda n, c=control: n.attrs.get("for") == c)
    assert "hidden" in doc.by_id("providers-controls").attrs  # shown by the script only


def test_header_says_what_was_audited(plain: Rendered) -> None:
    header = plain.doc.find("header").clean_text()
    assert "data through 2025-01-15" in header.lower()  # the latest medical-claim service date
    assert "2023-01-" in header and "2024-12-" in header  # ESI service dates covered
    assert synthetic.RUN_ID in header and "claims-audit 0.1.0" in header
    assert "conservative_min_days = 42" in header
    assert "L39240" in header and "A58993" in header and "A-07-21-00618" in header
    assert "section" in header


def test_method_names_the_test_and_the_limits(plain: Rendered) -> None:
    method = plain.doc.by_id("method").clean_text()
    assert "exact one-sided binomial" in method
    assert "99.8%" in method and "95%" in method
    assert "potential exception" in method.lower() and "record review" in method
    assert "pain" in method.lower() and "documentation" in method.lower()


def test_flagged_provider_is_marked(plain: Rendered) -> None:
    rows = plain.doc.by_id("providers-table").find("tbody").find_all("tr")
    flagged = [r for r in rows if r.attrs.get("data-flag") == "99.8%"]
    # the synthetic outlier (provider 0, the largest) and only it is above 99.8%
    assert [r.find_all("td")[1].clean_text() for r in flagged] == [plain.built.npis[0]]
    assert "above 99.8%" in flagged[0].clean_text()


def test_same_database_same_report_except_time_stamps(plain: Rendered, tmp_path: Path) -> None:
    again = render(plain.built, name="report-again.html")
    assert again.html == plain.html
    import duckdb

    from jobs.config import Config
    from jobs.report import render as report

    con = duckdb.connect(str(plain.built.db_path), read_only=True)
    try:
        other = tmp_path / "later.html"
        report.write_report(con, plain.manifest, Config(), other, member_key=b"report-tests-key")
    finally:
        con.close()
    later = other.read_text()
    assert later != plain.html
    stamp = re.compile(r"report generated [0-9T:+-]+")
    assert stamp.sub("", later) == stamp.sub("", plain.html)
    assert GENERATED_AT in plain.html


@pytest.fixture(scope="module")
def sparse(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """A first run, without practitioner or eligibility extracts."""
    built = synthetic.build(
        tmp_path_factory.mktemp("sparse"),
        n_providers=8,
        n_lines=300,
        previous_run=False,
        practitioner=False,
        eligibility=False,
    )
    return render(built)


def test_first_run_has_nothing_to_compare(sparse: Rendered) -> None:
    assert "first successful run" in sparse.doc.by_id("summary").clean_text()


def test_without_practitioner_extract(sparse: Rendered) -> None:
    text = sparse.doc.by_id("providers").clean_text()
    assert "no practitioner extract" in text
    rows = sparse.doc.by_id("providers-table").find("tbody").find_all("tr")
    labels = [r.find("td").clean_text() for r in rows]
    assert all(label.startswith("NPI ") or label == "unknown provider" for label in labels)


def test_without_eligibility_history_is_assumed_complete(sparse: Rendered) -> None:
    assert "history was assumed complete" in sparse.doc.find("header").clean_text()
    assert "history was assumed complete" in sparse.doc.by_id("method").clean_text()
    rows = sparse.doc.by_id("status-table").find("tbody").find_all("tr")
    row = next(r for r in rows if r.find("th").clean_text() == "insufficient history")
    assert [td.clean_text() for td in row.find_all("td")][:2] == ["0", "0"]


def test_a_run_without_findings_or_lines(tmp_path: Path) -> None:
    built = synthetic.build(tmp_path / "empty", n_providers=3, n_lines=50, previous_run=False)
    import duckdb

    con = duckdb.connect(str(built.db_path))
    try:
        con.execute("delete from findings")
        con.execute("delete from findings_history")
        con.execute("delete from mart_esi_lines")
    finally:
        con.close()
    rendered = render(built)
    text = rendered.doc.by_id("drilldown").clean_text()
    assert "No findings in this run" in text
    findings = rendered.doc.find("span", lambda n: n.attrs.get("data-k") == "findings")
    assert findings.clean_text() == "0"
    assert (
        "No provider has 10 or more audited lines" in rendered.doc.by_id("providers").clean_text()
    )
    # the manifest still counts the deleted findings: the report says the totals differ
    assert "Totals differ" in rendered.doc.by_id("summary").clean_text()


def test_printed_pages_margins_name_the_run_and_its_data(plain: Rendered) -> None:
    """Issue 19: every printed page says which run and data it comes from, and how member
    ids are shown; without medical claims the date says so."""
    import datetime as dt

    from jobs.report.context.header import css_string, page_margins

    style = plain.doc.find("style").text()
    assert css_string(f"Cervical ESI claims audit, run {synthetic.RUN_ID}") in style
    assert css_string("Data through 2025-01-15") in style
    assert css_string("Member ids are pseudonyms (keyed hash)") in style
    assert 'counter(page) " of " counter(pages)' in style
    raw = page_margins("r1", None, raw_member_ids=True)
    assert css_string("Data through not available") in raw
    assert css_string("INTERNAL USE ONLY: raw member ids") in raw
    assert css_string("Data through 2024-12-31") in page_margins("r1", dt.date(2024, 12, 31), False)
