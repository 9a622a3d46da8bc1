"""Open CSV files the way a spreadsheet does: LibreOffice Calc, headless, imports each one
(comma, double quote, UTF-8, formulas evaluated as Calc does by default) and saves it as
flat ODF, whose cells say what the spreadsheet made of each CSV field: text, a number,
or a formula it ran.

A missing LibreOffice is a failure, not a skip: .ci/run installs it
(Debian: libreoffice-calc-nogui).
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

# LibreOffice's CSV import options (token: meaning): 1 separator 44 (,), 2 text delimiter
# 34 ("), 3 charset 76 (UTF-8), 4 first line 1, 5 column formats (standard), 6 language
# (default), 7 quoted fields as text false, 8 detect special numbers true, 9-12 export
# only, 13 evaluate formulas true: a cell that begins with = becomes a formula.
CSV_IMPORT = "CSV:44,34,76,1,,0,false,true,false,false,false,0,true"
NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


@dataclass(frozen=True)
class Cell:
    kind: str  # ODF value type: "string", "float", "date", ...; "" for an empty cell
    text: str  # what the cell shows
    value: str | None  # the number of a float cell
    formula: str | None  # set when the spreadsheet made the field a formula


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.fail("LibreOffice is missing: apt-get install libreoffice-calc-nogui (.ci/run does)")
    return found


def open_as_spreadsheet(paths: list[Path], work: Path) -> dict[Path, list[list[Cell]]]:
    """Each CSV file as the rows of cells a spreadsheet reads (header row included)."""
    work.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in paths]
    assert len(set(names)) == len(names), "one output per file name"
    subprocess.run(
        [
            soffice(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            f"--infilter={CSV_IMPORT}",
            "--convert-to",
            "fods",
            "--outdir",
            str(work),
            *map(str, paths),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {p: _rows(work / f"{p.stem}.fods") for p in paths}


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _rows(path: Path) -> list[list[Cell]]:
    sheet = ET.parse(path).getroot().find(".//table:table", NS)
    assert sheet is not None, f"no sheet in {path}"
    rows: list[list[Cell]] = []
    for row in sheet.iter(_q("table", "table-row")):
        cells: list[Cell] = []
        for cell in row:
            if cell.tag not in (_q("table", "table-cell"), _q("table", "covered-table-cell")):
                continue
            repeat = int(cell.get(_q("table", "number-columns-repeated"), "1"))
            paragraphs = ["".join(_text(p)) for p in cell.findall("text:p", NS)]
            one = Cell(
                kind=cell.get(_q("office", "value-type"), ""),
                text="\n".join(paragraphs),
                value=cell.get(_q("office", "value")),
                formula=cell.get(_q("table", "formula")),
            )
            cells.extend([one] * min(repeat, 1024))
        while cells and cells[-1].kind == "":  # the sheet's empty filler
            cells.pop()
        repeat = int(row.get(_q("table", "number-rows-repeated"), "1"))
        rows.extend([cells] * min(repeat, 1024))
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _text(element: ET.Element) -> list[str]:
    """The text of an ODF paragraph: spaces, tabs and line breaks are elements there."""
    out = [element.text or ""]
    for child in element:
        if child.tag == _q("text", "s"):
            out.append(" " * int(child.get(_q("text", "c"), "1")))
        elif child.tag == _q("text", "tab"):
            out.append("\t")
        elif child.tag == _q("text", "line-break"):
            out.append("\n")
        else:
            out.extend(_text(child))
        out.append(child.tail or "")
    return out
