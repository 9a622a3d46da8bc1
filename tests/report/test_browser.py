"""The report in a real headless Chromium: clean load, no network, working controls, no-JS view."""

from __future__ import annotations

import re

import pytest
import reconcile
from browser import assert_not_blank, contrast, open_report
from playwright.sync_api import expect
from report_fixtures import Rendered

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture
def context(chromium):
    ctx = chromium.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


@pytest.fixture
def no_js_context(chromium):
    ctx = chromium.new_context(viewport=VIEWPORT, java_script_enabled=False)
    yield ctx
    ctx.close()


def provider_column(page, index: int) -> list[str]:
    return page.evaluate(
        """(i) => Array.from(document.querySelectorAll('#providers-table tbody tr'))
                  .filter(r => !r.hidden).map(r => r.cells[i].textContent.trim())""",
        index,
    )


def money(text: str) -> float:
    return float(text.replace("$", "").replace(",", "")) if text not in ("", "—") else float("-inf")


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_loads_cleanly_offline(which: str, request: pytest.FixtureRequest, context) -> None:
    rendered: Rendered = request.getfixturevalue(which)
    page, log = open_report(context, rendered.path)
    assert log.errors == []
    assert log.requests == []  # no network, not even a favicon
    assert log.dialogs == []  # no script from the data ran
    assert page.evaluate("document.documentElement.classList.contains('js')")
    shot = page.screenshot()
    assert_not_blank(shot)
    page.locator("#providers").scroll_into_view_if_needed()
    assert_not_blank(page.screenshot())


def test_sorting(plain: Rendered, context) -> None:
    page, log = open_report(context, plain.path)
    header = page.locator("#providers-table thead th", has_text="Dollars at risk")
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    values = [money(v) for v in provider_column(page, 6)]
    assert values == sorted(values, reverse=True)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    values = [money(v) for v in provider_column(page, 6)]
    assert values == sorted(values)

    name = page.locator("#providers-table thead th", has_text="Provider")
    name.locator("button").click()
    assert name.get_attribute("aria-sort") == "ascending"
    names = [n.lower() for n in provider_column(page, 0)]
    assert names == sorted(names)

    pvalue = page.locator("#providers-table thead th", has_text="p-value")
    pvalue.locator("button").click()  # smallest p first
    shown = [v for v in provider_column(page, 9) if v != "—"]
    assert shown and shown[0] == "<0.0001"
    assert log.errors == []


def test_filtering(plain: Rendered, context) -> None:
    page, log = open_report(context, plain.path)
    total = len(provider_column(page, 0))
    assert page.is_visible("#providers-controls")
    page.fill("#pf-text", "okafor")
    expect(page.locator("#providers-table-status")).to_have_text(re.compile(r"matching"))
    names = provider_column(page, 0)
    assert 0 < len(names) < total
    assert all("okafor" in n.lower() for n in names)
    status = page.text_content("#providers-table-status")
    assert status == f"Showing {len(names)} of {len(names)} matching providers ({total} in all)"

    page.fill("#pf-text", "")
    page.select_option("#pf-flag", "998")
    flags = provider_column(page, 10)
    assert flags and all(f == "▲ above 99.8%" for f in flags)
    page.select_option("#pf-flag", "")
    page.check("#pf-findings")
    rows = provider_column(page, 4)
    assert rows and all(int(v.replace(",", "")) > 0 for v in rows)
    page.uncheck("#pf-findings")
    assert len(provider_column(page, 0)) == total
    assert log.errors == []


def test_peer_filters_show_exactly_their_providers(plain: Rendered, context) -> None:
    """The "above the 95% or 99.8% limit" and "with at least N audited lines" filters show
    exactly their providers (issue 13: either could be broken with every test green)."""
    groups = reconcile.peer_groups(plain)
    page, log = open_report(context, plain.path)
    every = set(provider_column(page, 1))  # NPIs; the unknown provider has none
    # each filter is told apart from the others and from no filter
    assert groups["998"] and groups["998"] < groups["any"] < groups["eligible"] < every
    for value in ("any", "eligible", "998"):
        page.select_option("#pf-flag", value)
        assert set(provider_column(page, 1)) == groups[value], value
        n = len(groups[value])
        status = page.text_content("#providers-table-status")
        assert status == f"Showing {n} of {n} matching providers ({len(every)} in all)"
    page.select_option("#pf-flag", "")
    assert set(provider_column(page, 1)) == every
    assert log.errors == []


def test_keyboard_reaches_sort_buttons_and_filters(plain: Rendered, context) -> None:
    page, _ = open_report(context, plain.path)
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => { const a = document.activeElement;
                       if (a.id) return a.id;
                       const th = a.closest('#providers-table th');
                       return th ? 'sort:' + th.textContent.trim() : a.tagName; }"""
        )
        reached.add(where)
        if where == "sort:Lines audited":
            page.keyboard.press("Enter")
            break
    assert {"pf-text", "pf-flag", "pf-findings"} <= reached
    header = page.locator("#providers-table thead th", has_text="Lines audited")
    assert header.get_attribute("aria-sort") == "descending"


def test_provider_link_opens_its_lines(plain: Rendered, context) -> None:
    page, _ = open_report(context, plain.path)
    link = page.locator("#providers-table tbody tr a").first
    target = link.get_attribute("href")[1:]
    assert page.get_attribute(f"#{target}", "open") is None
    link.click()
    expect(page.locator(f"#{target}")).to_have_attribute("open", "")
    assert page.is_visible(f"#{target} table.lines")


def test_without_javascript_summary_and_providers_are_readable(plain: Rendered, no_js_context):
    page, log = open_report(no_js_context, plain.path, scripts=False)
    assert log.errors == [] and log.requests == []
    assert "js" not in (page.get_attribute("html", "class") or "")
    for key in ("lines_audited", "findings", "dollars_at_risk", "providers_with_findings"):
        assert page.is_visible(f"[data-k={key}]")
    assert page.text_content("[data-k=dollars_at_risk]").startswith("$")
    rows = page.locator("#providers-table tbody tr")
    assert rows.count() == len(plain.doc.by_id("providers-table").find("tbody").find_all("tr"))
    page.locator("#providers-table").scroll_into_view_if_needed()
    assert rows.first.is_visible() and rows.last.is_visible()
    assert page.is_hidden("#providers-controls")  # the enhancements need the script
    assert_not_blank(page.screenshot())
    # Drill-down sections open natively.
    page.locator("details.prov summary").first.click()
    assert page.locator("details.prov table.lines").first.is_visible()


def _colour(css: str) -> tuple[float, float, float, float]:
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    return (parts + [1.0])[:4] if len(parts) >= 3 else (0, 0, 0, 0)


def test_text_contrast_is_readable(plain: Rendered, context) -> None:
    page, _ = open_report(context, plain.path)
    page.evaluate("document.querySelector('details.prov').open = true")
    samples = page.evaluate(
        """(selectors) => selectors.map(sel => {
              const el = document.querySelector(sel);
              if (!el) return [sel, null, null];
              let bg = 'rgba(0, 0, 0, 0)', node = el;
              while (node && /rgba\\(.*, 0\\)$/.test(bg)) {
                  bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
              }
              if (/rgba\\(.*, 0\\)$/.test(bg)) bg = 'rgb(255, 255, 255)';
              return [sel, getComputedStyle(el).color, bg];
           })""",
        [
            "body",
            "p",
            ".muted",
            "a",
            "caption",
            "thead th",
            "td",
            ".card .k",
            ".card .v",
            ".status-fail",
            ".status-insufficient_history",
            ".status-review",
            ".flag",
            "b.sf",
            "b.si",
            "details.prov summary",
            ".new",
            "figcaption",
            "dl.facts dt",
        ],
    )
    for selector, fg, bg in samples:
        assert fg is not None, f"{selector} not in the report"
        ratio = contrast(_colour(fg)[:3], _colour(bg)[:3])
        assert ratio >= 4.5, f"{selector}: {fg} on {bg} = {ratio:.2f}"


def test_print_stylesheet(plain: Rendered, context) -> None:
    page, _ = open_report(context, plain.path)
    page.emulate_media(media="print")
    assert page.is_hidden("nav.toc")
    assert page.is_hidden("#providers-controls")
    assert page.is_visible("#providers-table")
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_large_provider_table_sorts_and_shows(many_providers: Rendered, context) -> None:
    page, log = open_report(context, many_providers.path)
    assert log.errors == [] and log.requests == []
    assert "lazy" in page.get_attribute("#providers-wrap", "class")
    page.locator("#providers-table").scroll_into_view_if_needed()
    assert_not_blank(page.screenshot())
    # With the script, 300 rows show at a time; the others wait behind "show all".
    assert len(provider_column(page, 0)) == 300
    status = page.text_content("#providers-table-status")
    assert re.fullmatch(r"Showing 300 of \d+ providers", status) and int(status.split()[3]) > 500
    header = page.locator("#providers-table thead th", has_text="Lines audited")
    header.locator("button").click()
    values = [int(v.replace(",", "")) for v in provider_column(page, 3)]
    assert len(values) == 300 and values == sorted(values, reverse=True)
    page.click("#pf-all")
    values = [int(v.replace(",", "")) for v in provider_column(page, 3)]
    assert len(values) > 500 and values == sorted(values, reverse=True)
    assert page.is_hidden("#pf-all")
    # Printing shows every row; the screen view comes back afterwards.
    page.fill("#pf-text", "")
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert len(provider_column(page, 0)) > 500
