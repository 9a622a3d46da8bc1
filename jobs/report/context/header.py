"""The report's header and method sections: the run, its parameters, the rule catalog's
labels, the cited sources, the inlined assets and the printed pages' margins."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import string
import tomllib
from pathlib import Path
from typing import Any

from jobs.audit import params as params_module
from jobs.audit.catalog import load_rules
from jobs.config import Config
from jobs.report.context.base import max_drilldown
from jobs.resources import reports_dir


def db_path(manifest: dict[str, Any]) -> Path | None:
    db = manifest.get("db")
    return Path(db) if db else None


def rule_catalog() -> dict[str, dict[str, Any]]:
    texts = tomllib.loads((reports_dir() / "rules.toml").read_text(encoding="utf-8"))
    catalog: dict[str, dict[str, Any]] = {}
    for rule in load_rules():
        text = texts.get(rule.id, {})
        catalog[rule.id] = {
            "title": rule.title,
            "version": rule.version,
            "severity": rule.severity,
            "citation": rule.citation,
            "label": text.get("label", rule.id),
            "meaning": text.get("meaning", rule.title),
        }
    return catalog


def run_section(
    manifest: dict[str, Any],
    config: Config,
    generated_at: str | None,
    raw_ids: bool,
    rules_meta: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    values = manifest.get("parameters") or dict(config.parameters)
    parameters = []
    known = {p.name: p for p in params_module.PARAMETERS}
    for name in list(known) + sorted(set(values) - set(known)):
        if name not in values:
            continue
        spec = known.get(name)
        parameters.append(
            {
                "name": name,
                "value": values[name],
                "default": spec.default if spec else None,
                "is_default": spec is not None and values[name] == spec.default,
                "help": spec.help if spec else "",
            }
        )
    rule_versions = [
        {"id": r.get("id"), "version": r.get("version")} for r in manifest.get("rules") or []
    ] or [{"id": k, "version": v["version"]} for k, v in rules_meta.items()]
    return {
        "run_id": manifest.get("run_id", ""),
        "started_at": manifest.get("started_at", ""),
        "generated_at": generated_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tool_version": manifest.get("tool_version", ""),
        "input_dir": manifest.get("input_dir", ""),
        "eligibility_supplied": bool(manifest.get("eligibility_supplied")),
        "raw_member_ids": raw_ids,
        "parameters": parameters,
        "report_settings": [
            {"name": "min_provider_lines", "value": config.min_provider_lines},
            {"name": "max_lines_per_provider", "value": config.max_lines_per_provider},
            {"name": "max_drilldown_lines", "value": max_drilldown(config)},
            {"name": "member_ids", "value": config.member_ids},
        ],
        "rule_versions": rule_versions,
        "value_sets": sorted((manifest.get("value_sets") or {}).items()),
        "max_rejected_share": manifest.get("max_rejected_share"),
    }


def sources() -> dict[str, Any]:
    return tomllib.loads((reports_dir() / "sources.toml").read_text(encoding="utf-8"))


# Characters written as they are in a CSS string; every other one becomes a hex escape.
_CSS_PLAIN = frozenset(string.ascii_letters + string.digits + " .,:-_()+")


def css_string(text: str) -> str:
    """`text` as a quoted CSS string that no value can end early (nor the rule, nor the
    style element): characters outside a small plain set are written as 6-digit hex
    escapes; control and bidirectional-formatting characters show as U+FFFD."""
    shown = (c if c.isprintable() else "\ufffd" for c in text)
    return '"' + "".join(c if c in _CSS_PLAIN else f"\\{ord(c):06x}" for c in shown) + '"'


def page_margins(run_id: str, data_through: dt.date | None, raw_member_ids: bool) -> str:
    """The printed pages' margin boxes (report.css styles them): the run id, the
    data-through date and a member-id note on every page, so a page that travels alone
    still says where it comes from; report.css adds "Page n of N"."""
    through = "not available" if data_through is None else str(data_through)  # a date: ISO
    members = (
        "INTERNAL USE ONLY: raw member ids"
        if raw_member_ids
        else "Member ids are pseudonyms (keyed hash)"
    )
    return (
        "@page {"
        f" @top-left {{ content: {css_string('Cervical ESI claims audit, run ' + run_id)}; }}"
        f" @top-right {{ content: {css_string('Data through ' + through)}; }}"
        f" @bottom-left {{ content: {css_string(members)}; }}"
        " }\n"
    )


def assets(n_providers: int, page_css: str = "") -> dict[str, str]:
    """The inlined CSS (report.css, then the run's `page_css`) and JavaScript, and the
    Content-Security-Policy that allows exactly those two blocks."""
    folder = reports_dir() / "assets"
    css = (folder / "report.css").read_text(encoding="utf-8")
    # The provider table is laid out only when scrolled into view (content-visibility):
    # its placeholder height, estimated from the number of rows, keeps the scroll bar honest.
    css += f"#providers-wrap {{ contain-intrinsic-size: auto {28 * n_providers + 60}px; }}\n"
    css += page_css
    js = (folder / "report.js").read_text(encoding="utf-8")
    return {"css": css, "js": js, "csp": inline_policy(css, js)}


def inline_policy(css: str, js: str | None = None) -> str:
    """The Content-Security-Policy of a self-contained page: only the inlined style (and
    script, if any) blocks, by hash; no network at all."""
    if "</style" in css.lower() or (js is not None and "</script" in js.lower()):
        raise ValueError("report assets must not contain closing script/style tags")

    def digest(text: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()

    script = f"'{digest(js)}'" if js is not None else "'none'"
    return (
        "default-src 'none'; "
        f"style-src '{digest(css)}'; script-src {script}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
