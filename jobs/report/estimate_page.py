"""estimate.html: the overpayment estimate as one self-contained page.

The numbers come ready from `claims-audit estimate` (jobs.review.estimate, as in
estimate.json); this module only presents them with the report's template environment
(autoescape, the same filters) and its inlined style sheet plus the page's own rules,
under a Content-Security-Policy that allows only that style block and no network. The
page has no script.
"""

from __future__ import annotations

from typing import Any

from jobs.report.context.header import inline_policy
from jobs.report.render import environment
from jobs.resources import reports_dir


def render_estimate(document: dict[str, Any]) -> str:
    folder = reports_dir() / "assets"
    css = "".join(
        (folder / name).read_text(encoding="utf-8") for name in ("report.css", "estimate.css")
    )
    assets = {"css": css, "csp": inline_policy(css)}
    return environment().get_template("estimate.html.j2").render(e=document, assets=assets)
