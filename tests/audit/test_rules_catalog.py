"""The rule catalog (headers, binding) and the value-set files."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from rule_harness import Audit

from jobs.audit import params as audit_params
from jobs.audit.catalog import (
    RULE_ORDER,
    RuleHeaderError,
    bind_sql,
    get_rule,
    load_rule,
    load_rules,
    referenced_parameters,
    sql_literal,
)
from jobs.audit.reference import (
    VALUE_SET_COLUMNS,
    read_value_sets,
    value_set_versions,
    value_sets_dir,
)
from jobs.audit.runner import INTERMEDIATE_MODELS, MART_MODELS
from jobs.resources import sql_dir

GOOD_HEADER = """-- rule_id: {rule_id}
-- version: 1.0.0
-- title: A test rule
-- severity: {severity}
-- statuses: fail
-- grain: one row per line
-- value_sets: esi_cervical_thoracic
-- parameters: {parameters}
-- citation: Policy section 1;
--   continued citation
select $conservative_min_days as x
"""


def strip_comments_and_strings(sql: str) -> str:
    sql = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def test_rules_load_in_policy_order() -> None:
    assert [r.id for r in load_rules()] == list(RULE_ORDER)


def test_every_header_is_complete_and_consistent() -> None:
    versions = value_set_versions()
    for rule in load_rules():
        assert re.match(r"^\d+\.\d+\.\d+$", rule.version)
        assert rule.citation.startswith("Policy section"), rule.id
        assert set(rule.value_sets) <= versions.keys(), rule.id
        assert set(rule.parameters) == set(referenced_parameters(rule.sql)), rule.id
        assert rule.path.name == f"{rule.id}.sql"


def test_multi_line_citation_is_joined() -> None:
    assert "A58993" in get_rule("conservative_care").citation
    assert "eviCore" in get_rule("conservative_care").citation


@pytest.mark.parametrize(
    ("rule_id", "severity", "parameters", "problem"),
    [
        ("other_name", "high", "conservative_min_days", "does not match the file name"),
        ("test_rule", "critical", "conservative_min_days", "severity 'critical'"),
        ("test_rule", "high", "", "differ from those the SQL uses"),
        ("test_rule", "high", "conservative_min_days, no_such", "unknown parameter"),
    ],
)
def test_malformed_header_fails_clearly(
    tmp_path: Path, rule_id: str, severity: str, parameters: str, problem: str
) -> None:
    path = tmp_path / "test_rule.sql"
    path.write_text(GOOD_HEADER.format(rule_id=rule_id, severity=severity, parameters=parameters))
    with pytest.raises(RuleHeaderError, match=problem) as error:
        load_rule(path)
    assert str(path) in str(error.value)


def test_missing_header_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "test_rule.sql"
    path.write_text("-- rule_id: test_rule\n-- version: 1.0.0\nselect 1\n")
    with pytest.raises(RuleHeaderError, match="missing title, severity, statuses, grain"):
        load_rule(path)


def test_good_header_parses(tmp_path: Path) -> None:
    path = tmp_path / "test_rule.sql"
    path.write_text(
        GOOD_HEADER.format(
            rule_id="test_rule", severity="medium", parameters="conservative_min_days"
        )
    )
    rule = load_rule(path)
    assert (rule.id, rule.severity, rule.statuses, rule.parameters) == (
        "test_rule",
        "medium",
        ("fail",),
        ("conservative_min_days",),
    )
    assert rule.citation == "Policy section 1; continued citation"


def test_unknown_rule() -> None:
    with pytest.raises(KeyError, match="unknown rule"):
        get_rule("no_such_rule")


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (True, "true"),
        (False, "false"),
        (42, "42"),
        ("O'Brien", "'O''Brien'"),
        (dt.date(2026, 1, 2), "date '2026-01-02'"),
        (None, "null"),
    ],
)
def test_sql_literal(value: object, literal: str) -> None:
    assert sql_literal(value) == literal


def test_bind_sql_leaves_comments_and_strings_alone() -> None:
    sql = "-- uses $a\nselect $a, '$a', \"$a\", $b_2 /* $a */"
    assert referenced_parameters(sql) == ["a", "b_2"]
    assert (
        bind_sql(sql, {"a": 5, "b_2": True}) == "-- uses $a\nselect 5, '$a', \"$a\", true /* $a */"
    )
    with pytest.raises(KeyError, match=r"\$b_2"):
        bind_sql(sql, {"a": 5})


def test_bound_rule_sql_runs_as_printed() -> None:
    """`claims-audit rules --show` output pasted into DuckDB gives the rule's findings."""
    world = Audit()
    world.esi("62321", dx=("M542",))
    world.run(eligibility_supplied=True)
    values = {**audit_params.DEFAULTS, "eligibility_supplied": True}
    for rule in load_rules():
        pasted = world.con.execute(bind_sql(rule.sql, values)).fetchall()
        stored = world.con.execute(
            "select claim_id, claim_line_number, status, evidence from findings where rule_id = $r",
            {"r": rule.id},
        ).fetchall()
        assert sorted((r[4], r[5], r[1], r[11]) for r in pasted) == sorted(stored), rule.id


# --- value sets ----------------------------------------------------------------------


def value_set_files() -> list[Path]:
    return [
        p
        for p in sorted(value_sets_dir().glob("*.csv"))
        if not p.name.startswith("ref_") and p.name != "ndc_crosswalk_starter.csv"
    ]


def test_value_set_files_are_long_format_and_normalized() -> None:
    for path in value_set_files():
        with path.open(newline="") as f:
            reader = csv.reader(f)
            assert tuple(next(reader)) == VALUE_SET_COLUMNS, path.name
            for row in reader:
                value_set, code, system, description, version, source = row
                assert value_set == path.stem
                assert description and source and re.fullmatch(r"20\d\d\.\d+\.\d+", version)
                if system in ("ingredient", "route"):
                    assert code == code.lower().strip()
                else:
                    assert code == code.upper().strip() and "." not in code, (path.name, code)
                if system == "ICD-10-CM":
                    assert 3 <= len(code) <= 7, code


def test_ranges_are_enumerated() -> None:
    rows = read_value_sets()
    codes = {(r["value_set"], r["code"]) for r in rows}
    collars = [c for vs, c in codes if vs == "conservative_care_cervical_dme" and c.startswith("L")]
    assert sorted(collars) == [f"L{n:04d}" for n in range(120, 201)]
    revenue = sorted(
        c for vs, c in codes if vs == "conservative_care_pt" and len(c) == 4 and c.isdigit()
    )
    assert revenue == [f"042{n}" for n in range(10)]
    emg = sorted(c for vs, c in codes if vs == "emg_ncs")
    assert emg == sorted(
        ["95885", "95886", "95887"]
        + [str(n) for n in range(95907, 95914)]
        + [str(n) for n in range(95860, 95865)]
    )


def test_esi_reference_attributes_cover_the_value_set() -> None:
    esi = {r["code"] for r in read_value_sets() if r["value_set"] == "esi_cervical_thoracic"}
    with (value_sets_dir() / "ref_esi_codes.csv").open() as f:
        ref = {row["code"]: row for row in csv.DictReader(f)}
    assert set(ref) == esi
    for code, row in ref.items():
        assert row["kind"] in ("interlaminar", "transforaminal", "catheter"), code
        assert row["guidance"] in ("built_in", "separate", "none", "ultrasound"), code
        assert (row["is_addon"] == "true") == bool(row["addon_primary_code"]), code
        assert not row["addon_primary_code"] or row["addon_primary_code"] in esi


def test_value_sets_named_in_sql_exist() -> None:
    names = set(value_set_versions())
    pattern = re.compile(
        r"'((?:dx|conservative_care|drug|imaging|emg|guidance|modifier|spine_region|esi)_[a-z_]+)'"
    )
    folders = ("intermediate", "rules", "marts")
    for path in [p for folder in folders for p in sorted((sql_dir() / folder).glob("*.sql"))]:
        body = re.sub(r"--[^\n]*", "", path.read_text())
        for name in set(pattern.findall(body)) - set(RULE_ORDER):
            assert name in names, f"{path.name} names unknown value set {name}"


def test_no_codes_hard_coded_in_rule_bodies() -> None:
    code_literal = re.compile(
        r"'(?:[0-9]{4}[0-9T]|[A-Z][0-9][0-9A-Z]{1,5}|[0-9]{4}|GP|GO|RT|LT|50)'"
    )
    for path in sorted((sql_dir() / "rules").glob("*.sql")):
        body = re.sub(r"--[^\n]*", "", path.read_text())
        assert not code_literal.findall(body), f"{path.name}: {code_literal.findall(body)}"


def test_every_model_file_is_declared() -> None:
    declared = set(INTERMEDIATE_MODELS) | set(MART_MODELS)
    on_disk = {p.stem for p in (sql_dir() / "intermediate").glob("*.sql")}
    on_disk |= {
        p.stem for p in (sql_dir() / "marts").glob("mart_*.sql")
    }  # v_*.sql are analyst views
    assert on_disk == declared
    for name in INTERMEDIATE_MODELS:
        sql = (sql_dir() / "intermediate" / f"{name}.sql").read_text()
        assert sql.startswith(f"-- model: {name}\n")
        later = INTERMEDIATE_MODELS[INTERMEDIATE_MODELS.index(name) :]
        used = set(re.findall(r"\b(int_[a-z_]+)\b", strip_comments_and_strings(sql)))
        assert not (used & set(later)), f"{name} uses a model built after it: {used & set(later)}"
