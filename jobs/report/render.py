"""The compliance report: one self-contained HTML file.

`build_context` (jobs/report/context/) computes every number in SQL into a plain data
context; the Jinja templates in ``reports/templates`` only present it, with formatting
done by the filters below and autoescape on for every template. CSS and JavaScript
(``reports/assets``) are inlined, and a Content-Security-Policy allows only those two
blocks (by hash) and no network at all.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from jobs.config import Config
from jobs.report.context import build_context
from jobs.resources import reports_dir

DASH = "—"
# C0/C1 controls (but tab and newline) and bidirectional overrides/isolates: never
# meaningful in claims data, and bidi controls can make text display as something else.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _clean(value: Any) -> Any:
    """Jinja finalize: every `{{ ... }}` output passes here before escaping."""
    kind = type(value)
    if kind is str:
        return _UNSAFE_CHARS.sub("\ufffd", value) if _UNSAFE_CHARS.search(value) else value
    if value is None:
        return ""
    if kind is not Markup and isinstance(value, str):
        return _UNSAFE_CHARS.sub("\ufffd", value)
    return value


def money(value: Any) -> str:
    if value is None:
        return DASH
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def count(value: Any) -> str:
    if value is None:
        return DASH
    return f"{int(value):,}"


def pct(value: Any, digits: int = 1) -> str:
    if value is None:
        return DASH
    return f"{float(value) * 100:.{digits}f}%"


def percentile(value: Any) -> str:
    if value is None:
        return DASH
    return f"{float(value):.0f}"


def pvalue(value: Any) -> str:
    if value is None:
        return DASH
    v = float(value)
    if v < 0.0001:
        return "<0.0001"
    return f"{v:.2g}" if v < 0.01 else f"{v:.3f}"


def expected(value: Any) -> str:
    """An expected count in words: "about 4.5", "fewer than one"."""
    v = float(value or 0)
    if v < 1:
        return "fewer than one"
    return f"about {v:,.1f}" if v < 10 else f"about {v:,.0f}"


def sortnum(value: Any) -> str:
    """A plain number for a data-v sort key (empty for missing)."""
    if value is None:
        return ""
    v = float(value)
    if math.isnan(v):
        return ""
    return f"{v:.6g}"


def date(value: Any) -> str:
    if value is None:
        return DASH
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def status_label(value: str | None) -> str:
    return (value or "").replace("_", " ")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(reports_dir() / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_clean,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        money=money,
        count=count,
        pct=pct,
        percentile=percentile,
        pvalue=pvalue,
        sortnum=sortnum,
        expected=expected,
        date=date,
        status_label=status_label,
    )
    return env


def render(context: dict[str, Any]) -> str:
    return environment().get_template("report.html.j2").render(**context)


def write_report(
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    config: Config,
    path: Path,
    *,
    member_key: bytes | None = None,
    generated_at: str | None = None,
) -> None:
    """Write the report of the run in `con` to `path`.

    member_key: the HMAC key for member pseudonyms; by default CLAIMS_AUDIT_MEMBER_KEY,
    else the key file beside the database named by manifest['db'].
    """
    context = build_context(con, manifest, config, member_key=member_key, generated_at=generated_at)
    Path(path).write_text(render(context), encoding="utf-8")
