"""Headless Chromium for the report tests: the Debian package, driven by Playwright.

Launch arguments: Debian's chromium, headless, no sandbox, no background networking;
no `playwright install` is needed.
A missing browser is a failure, not a skip: CI installs it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright):  # noqa: ANN001, ANN201 - Playwright types
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


@dataclass
class PageLog:
    """What a page did while loading: console errors, requests, dialogs."""

    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page) -> None:  # noqa: ANN001
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: r.url != self.url and self.requests.append(r.url))

        def on_dialog(d) -> None:  # noqa: ANN001
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)


def open_report(context, path: Path, *, scripts: bool = True):  # noqa: ANN001, ANN201
    """A new page with the report loaded and painted, and the log of what it did."""
    url = path.resolve().as_uri()
    page = context.new_page()
    log = PageLog(url)
    log.attach(page)
    page.goto(url, wait_until="load")
    if scripts:  # with scripts disabled, a page-side promise would never settle
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
    return page, log


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and pixel rows (RGB or RGBA bytes) of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6), header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [r if bpp == 3 else bytes(_drop_alpha(r)) for r in rows]


def _drop_alpha(row: bytes) -> bytearray:
    out = bytearray()
    for x in range(0, len(row), 4):
        out += row[x : x + 3]
    return out


def assert_not_blank(png: bytes) -> None:
    """The screenshot shows something: many colours, and not almost all white."""
    width, height, rows = png_pixels(png)
    colours: set[bytes] = set()
    ink = 0
    total = 0
    for row in rows[::4]:
        for x in range(0, len(row), 12):
            pixel = row[x : x + 3]
            colours.add(pixel)
            total += 1
            if sum(pixel) < 600:
                ink += 1
    assert width > 100 and height > 100
    assert len(colours) > 16, f"{len(colours)} colours: blank page?"
    assert ink / total > 0.01, f"{ink / total:.2%} ink: blank page?"


def luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
