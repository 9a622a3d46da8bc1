"""The report's header and method sections: the run, its parameters, the rule catalog's
labels, the cited sources and the inlined assets."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
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


def assets(n_providers: int) -> dict[str, str]:
    folder = reports_dir() / "assets"
    css = (folder / "report.css").read_text(encoding="utf-8")
    # The provider table is laid out only when scrolled into view (content-visibility):
    # its placeholder height, estimated from the number of rows, keeps the scroll bar honest.
    css += f"#providers-wrap {{ contain-intrinsic-size: auto {28 * n_providers + 60}px; }}\n"
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
