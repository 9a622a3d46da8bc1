"""The report on paper: print it with headless Chromium, read the PDF back with poppler.

`print_pdf` prints a report as a reader does (Playwright's `page.pdf()`: Chromium's print
to PDF, default page size, portrait, with or without JavaScript). `read_pdf` reads each
page back with Debian's poppler-utils: its text in the order Chromium drew it
(`pdftotext -raw`: a table's cells, row by row) and its words with their boxes
(`pdftotext -bbox`). The checks hold what a printed report must show: every table's header row
and every row of every table whole on one page, the header row again on each page a
table continues on, every number of the page's text, and nothing outside the printable
area.
A missing tool is a failure, not a skip: CI installs poppler-utils.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser import png_pixels
from html_tree import Node, headers

MM = 72 / 25.4  # PDF points per millimetre
SIDE_MARGIN = 12 * MM  # report.css: @page { margin: 16mm 12mm 15mm }
SLACK = 1.5  # points: glyph boxes overhang their layout box a little


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: install the Debian package poppler-utils")
    return found


def squeeze(text: str) -> str:
    """Text without any whitespace, compatibility-normalized: how a cell's text is found
    again in a PDF whatever the line breaks inside the cell."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Page:
    number: int  # 1-based
    width: float
    height: float
    words: list[Word]
    text: str  # in drawing order
    squeezed: str = field(init=False)

    def __post_init__(self) -> None:
        self.squeezed = squeeze(self.text)

    @property
    def landscape(self) -> bool:
        return self.width > self.height


@dataclass
class Printed:
    path: Path
    pages: list[Page]
    seconds: float  # from the loaded page to the PDF's bytes

    def holding(self, text: str) -> list[Page]:
        """The pages whose text holds `text` (whitespace ignored)."""
        wanted = squeeze(text)
        return [p for p in self.pages if wanted in p.squeezed]


def print_pdf(browser, report: Path, pdf: Path, *, scripts: bool = True, **options) -> Printed:  # noqa: ANN001
    """Print `report` to `pdf` in a fresh browser context, as a reader would."""
    context = browser.new_context(java_script_enabled=scripts)
    try:
        page = context.new_page()
        page.goto(report.resolve().as_uri(), wait_until="load")
        started = time.perf_counter()
        pdf.write_bytes(page.pdf(**options))
        seconds = time.perf_counter() - started
    finally:
        context.close()
    return Printed(pdf, read_pdf(pdf), seconds)


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(
    r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>'
)


def _pdftotext(pdf: Path, mode: str) -> str:
    command = [tool("pdftotext"), mode, "-enc", "UTF-8", str(pdf), "-"]
    return subprocess.run(command, capture_output=True, check=True, text=True).stdout


def read_pdf(pdf: Path) -> list[Page]:
    """Each page's size, words with their boxes, and text in drawing order."""
    texts = _pdftotext(pdf, "-raw").split("\f")
    boxes = _pdftotext(pdf, "-bbox")
    pages = []
    for i, (width, height, body) in enumerate(_PAGE.findall(boxes)):
        words = [
            Word(html.unescape(t), float(a), float(b), float(c), float(d))
            for a, b, c, d, t in _WORD.findall(body)
        ]
        pages.append(Page(i + 1, float(width), float(height), words, texts[i]))
    return pages


def page_png(pdf: Path, number: int, dpi: int = 72) -> bytes:
    """Page `number` of `pdf` as a PNG (pdftoppm), 1 pixel per point at 72 dpi."""
    return subprocess.run(
        [tool("pdftoppm"), "-png", "-r", str(dpi), "-f", str(number), "-l", str(number), str(pdf)],
        capture_output=True,
        check=True,
    ).stdout


def ink_in(png: bytes, box: Word, dpi: int = 72) -> int:
    """How many dark pixels the PNG has inside the word's box: the word was painted."""
    _, _, rows = png_pixels(png)
    scale = dpi / 72
    dark = 0
    for y in range(int(box.y0 * scale), int(box.y1 * scale) + 1):
        row = rows[y]
        for x in range(int(box.x0 * scale), int(box.x1 * scale) + 1):
            if sum(row[3 * x : 3 * x + 3]) < 384:
                dark += 1
    return dark


def row_texts(table: Node) -> list[str]:
    """Each body row of `table` as its cells' text, in order."""
    rows = []
    for body in table.find_all("tbody"):
        for row in body.find_all("tr"):
            rows.append(" ".join(c.clean_text() for c in row.find_all(pred=_is_cell)))
    return rows


def _is_cell(node: Node) -> bool:
    return node.tag in ("td", "th")


def header_row(table: Node) -> str:
    return " ".join(headers(table))


def check_inside_printable_area(printed: Printed) -> None:
    """No word lies beyond the side margins: no column was pushed off the page."""
    for page in printed.pages:
        for w in page.words:
            assert w.x0 >= SIDE_MARGIN - SLACK and w.x1 <= page.width - SIDE_MARGIN + SLACK, (
                f"page {page.number}: {w.text!r} at x {w.x0:.0f}-{w.x1:.0f} "
                f"outside the printable width {SIDE_MARGIN:.0f}-{page.width - SIDE_MARGIN:.0f}"
            )


def check_tables(printed: Printed, doc: Node) -> int:
    """Every table of the report prints whole; returns the number of body rows checked.

    Each table's header row is found whole on a page, each body row whole on one page
    (so no column is lost and no row splits), every page that holds a row of the table
    holds the header row before it (header rows repeat), and no page ends on a header
    row whose rows all start on the next.
    """
    n_rows = 0
    with_rows: dict[str, set[int]] = {}  # header row -> pages holding a row under it
    for table in doc.find_all("table"):
        head = squeeze(header_row(table))
        label = header_row(table)[:60]
        assert printed.holding(head), f"header row not printed whole: {label}"
        for text in row_texts(table):
            if not squeeze(text):
                continue
            pages = printed.holding(text)
            assert pages, f"row not printed whole (table {label}): {text[:120]}"
            for page in pages:
                s = page.squeezed
                assert 0 <= s.find(head) < s.find(squeeze(text)), (
                    f"page {page.number}: a row of table {label} without its header row above it"
                )
                with_rows.setdefault(head, set()).add(page.number)
            n_rows += 1
    for head, pages in with_rows.items():
        alone = [p.number for p in printed.holding(head) if p.number not in pages]
        assert not alone, f"pages {alone}: a header row with no row under it ({head[:40]})"
    return n_rows


# Parts of the page that are not for paper: the script's controls, screen-reader text.
SCREEN_ONLY = {"no-print", "js-only", "controls", "visually-hidden"}
NOT_TEXT = {"head", "script", "style", "svg", "button", "select", "option"}
NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?%?")


def shown_text(node: Node) -> str:
    """The text a reader sees of `node`, without screen-only parts and chart labels (the
    charts' numbers are in their tables)."""
    if node.tag in NOT_TEXT or "hidden" in node.attrs:
        return ""
    if SCREEN_ONLY & set((node.attrs.get("class") or "").split()):
        return ""
    return " ".join(c if isinstance(c, str) else shown_text(c) for c in node.children)


def check_numbers(printed: Printed, doc: Node) -> int:
    """Every amount, percentage, date and count of 3 digits or more that the report's text
    shows is in the PDF; returns how many distinct ones were checked."""
    everything = "".join(p.squeezed for p in printed.pages)
    numbers = {
        n
        for n in NUMBER.findall(shown_text(doc))
        if sum(c.isdigit() for c in n) >= 3 or n[-1] == "%" or "$" in n
    }
    missing = sorted(n for n in numbers if n not in everything)
    assert not missing, f"{len(missing)} numbers not printed: {missing[:20]}"
    return len(numbers)
