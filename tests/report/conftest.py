"""Fixtures of the report tests: synthetic audit databases and their rendered reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402
from browser import launch  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from report_fixtures import Rendered, render  # noqa: E402

from jobs.config import Config  # noqa: E402


@pytest.fixture(scope="session")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """A realistic run: 40 providers, 2,000 ESI lines, a previous successful run."""
    built = synthetic.build(tmp_path_factory.mktemp("plain"), n_providers=40, n_lines=2_000)
    return render(built)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """A run whose every text field that reaches the report carries markup or script."""
    built = synthetic.build(
        tmp_path_factory.mktemp("hostile"), n_providers=12, n_lines=600, hostile=True
    )
    return render(built)


@pytest.fixture(scope="session")
def hostile_raw(hostile: Rendered) -> Rendered:
    """The hostile run with raw member ids (internal use)."""
    return render(hostile.built, Config(member_ids="raw"), name="report-raw.html")


@pytest.fixture(scope="session")
def many_providers(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Enough providers for the lazily laid-out provider table (over 500 rows)."""
    built = synthetic.build(tmp_path_factory.mktemp("many"), n_providers=700, n_lines=9_000)
    return render(built)


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian chromium through Playwright (tests/report/browser.py)."""
    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()
