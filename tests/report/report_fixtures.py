"""Rendering a synthetic run for the report tests (imported by conftest.py and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import html_tree
import synthetic

from jobs.config import Config
from jobs.report import render as report

MEMBER_KEY = b"report-tests-key"
GENERATED_AT = "2025-01-02T02:10:00+00:00"


@dataclass
class Rendered:
    built: synthetic.Built
    html: str
    path: Path
    config: Config
    doc: html_tree.Node = field(init=False)

    def __post_init__(self) -> None:
        self.doc = html_tree.parse(self.html)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.built.manifest

    @property
    def exceptions(self) -> Path:
        return self.built.out_dir / "exceptions.parquet"


def render(
    built: synthetic.Built, config: Config | None = None, name: str = "report.html"
) -> Rendered:
    config = config or Config()
    path = built.out_dir / name
    con = duckdb.connect(str(built.db_path), read_only=True)
    try:
        report.write_report(
            con, built.manifest, config, path, member_key=MEMBER_KEY, generated_at=GENERATED_AT
        )
    finally:
        con.close()
    return Rendered(built, path.read_text(encoding="utf-8"), path, config)
