"""The runner: tables written, statistics, determinism, crosswalk validation, the Tuva sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rule_harness import Audit, days_before, load_tuva_sample, new_connection

from jobs.audit import reference
from jobs.audit.catalog import RULE_ORDER
from jobs.audit.reference import read_ndc_crosswalk, value_set_versions
from jobs.audit.runner import RuleStats, run_audit

FINDINGS_COLUMNS = [
    "run_id",
    "rule_id",
    "rule_version",
    "status",
    "severity",
    "data_source",
    "claim_id",
    "claim_line_number",
    "person_id",
    "rendering_npi",
    "service_date",
    "hcpcs_code",
    "paid_amount",
    "evidence",
]


def busy_world() -> Audit:
    """A world where every rule finds something."""
    world = Audit()
    world.enrolled(days_before(400), None)
    for d in (300, 250, 200, 150):
        world.esi("62321", day=days_before(d))
    world.esi("62321", dx=("M542", "M4712"), service_unit_quantity=2)
    claim = world.esi("64479", hcpcs_modifier_1="RT")
    world.esi("64480", claim_id=claim, line=2, hcpcs_modifier_1="RT", service_unit_quantity=2)
    world.line("77003")
    world.esi("0228T")
    return world


def test_findings_and_rule_stats_tables() -> None:
    world = busy_world()
    stats = world.run(eligibility_supplied=True)
    assert [s.rule_id for s in stats] == list(RULE_ORDER)
    assert all(isinstance(s, RuleStats) and s.run_id == "run-test" for s in stats)
    columns = [r[0] for r in world.con.execute("describe findings").fetchall()]
    assert columns == FINDINGS_COLUMNS
    by_rule = dict(
        world.con.execute("select rule_id, count(*) from findings group by 1").fetchall()
    )
    assert by_rule.keys() == set(RULE_ORDER)
    assert {s.rule_id: s.findings for s in stats} == by_rule
    table = world.con.execute("select * from rule_stats order by rule_id").fetchall()
    assert (
        sorted(
            (
                s.run_id,
                s.rule_id,
                s.rule_version,
                s.title,
                s.severity,
                s.lines_checked,
                s.lines_exempt,
                s.findings,
            )
            for s in stats
        )
        == table
    )
    checked = {s.rule_id: s.lines_checked for s in stats}
    assert checked["qualifying_dx"] == 7  # five 62321, the 64479 (its 64480 folded), the 0228T
    assert checked["guidance_unbundled"] == 1
    assert checked["interlaminar_levels"] == 5
    assert checked["transforaminal_levels"] == 1


def test_findings_are_deterministic_and_ordered() -> None:
    first, second = busy_world(), busy_world()
    first.run(eligibility_supplied=True)
    second.run(eligibility_supplied=True)
    query = "select * from findings"
    assert first.con.execute(query).fetchall() == second.con.execute(query).fetchall()
    second.run(eligibility_supplied=True)  # re-running on the same database gives the same rows
    assert first.con.execute(query).fetchall() == second.con.execute(query).fetchall()
    order = [
        RULE_ORDER.index(r[0]) for r in first.con.execute("select rule_id from findings").fetchall()
    ]
    assert order == sorted(order)


def test_every_rule_severity_matches_its_header() -> None:
    from jobs.audit.catalog import load_rules

    world = busy_world()
    world.run(eligibility_supplied=True)
    for rule in load_rules():
        rows = world.con.execute(
            "select distinct severity, status from findings where rule_id = $r", {"r": rule.id}
        ).fetchall()
        assert rows, f"{rule.id} found nothing in the busy world"
        assert {severity for severity, _ in rows} == {rule.severity}
        assert {status for _, status in rows} <= set(rule.statuses)


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        Audit().run(conservative_days=3)


def test_tuva_sample_outcome() -> None:
    """Person 10007, 2018-08-27: 62321, 64479, 64479-LT and four 77003-TC lines, dx M48.02.

    - qualifying_dx: M48.02 (cervical stenosis) qualifies (stenosis_requires_radicular_dx off).
    - conservative_care: no PT/chiro/OT, no listed NDC; enrollment has gaps (Dec 2016,
      Mar 2017, Apr 2018) so the window 2018-02-28..2018-08-26 is not covered:
      insufficient_history on each of the three ESI lines.
    - prior_imaging: no cervical MRI/CT in 2016-08-27..2018-08-27 (only an EMG 95885 on
      2017-12-30, not accepted by default); enrollment gaps: insufficient_history x3.
    - imaging_guidance: 62321 and 64479 (after 2011) include guidance: pass.
    - guidance_unbundled: each 77003 line on the day of an audited 62321/64479: fail x4.
    - session_frequency: one session; myelopathy: none; interlaminar: one line, one unit;
      transforaminal: right 1 (unsided 64479), left 2 (64479-LT plus the unsided one): pass.
    """
    con = new_connection()
    load_tuva_sample(con)
    run_audit(con, {}, "tuva", eligibility_supplied=True)
    found = set(
        con.execute("select claim_id, claim_line_number, rule_id, status from findings").fetchall()
    )
    esi = [("316380", 1), ("626673", 1), ("729096", 1)]
    expected = {
        (c, n, rule, "insufficient_history")
        for c, n in esi
        for rule in ("conservative_care", "prior_imaging")
    }
    expected |= {("815784", n, "guidance_unbundled", "fail") for n in (1, 2, 3, 4)}
    assert found == expected


def test_tuva_sample_without_eligibility_and_with_emg(tmp_path: Path) -> None:
    con = new_connection()
    load_tuva_sample(con)
    run_audit(con, {"imaging_accepts_emg": True}, "tuva", eligibility_supplied=False)
    found = set(
        con.execute("select rule_id, status, count(*) from findings group by 1, 2").fetchall()
    )
    assert found == {("conservative_care", "fail", 3), ("guidance_unbundled", "fail", 4)}


def test_tuva_sample_history_models_stay_on_esi_persons() -> None:
    con = new_connection()
    load_tuva_sample(con)
    run_audit(con, {}, "tuva", eligibility_supplied=True)
    persons = con.execute("select distinct person_id from int_person_claim_lines").fetchall()
    assert persons == [("10007",)]
    spans = con.execute(
        "select span_start_date, span_end_date from int_enrollment_spans order by 1"
    ).fetchall()
    assert spans == [
        (dt.date(2016, 1, 1), dt.date(2016, 11, 30)),
        (dt.date(2017, 1, 1), dt.date(2017, 2, 28)),
        (dt.date(2017, 4, 1), dt.date(2018, 3, 31)),
        (dt.date(2018, 5, 1), dt.date(2018, 8, 31)),
    ]


# --- NDC crosswalk -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("ndc,ingredient,route\n12345678901,naproxen,oral\n", "header lacks column"),
        (
            "ndc,ingredient,drug_class,route\n1234-5678-90,naproxen,nsaid,oral\n",
            "line 2: ndc '1234-5678-90' is not 11 digits",
        ),
        (
            "ndc,ingredient,drug_class,route\n12345678901,naproxen,nsaid,oral\n1234567890,x,y,oral\n",
            "line 3: ndc",
        ),
        (
            "ndc,ingredient,drug_class,route\n12345678901,,nsaid,oral\n",
            "line 2: ingredient is empty",
        ),
        (
            "ndc,ingredient,drug_class,route\n12345678901,naproxen,nsaid,\n",
            "line 2: route is empty",
        ),
        (
            "ndc,ingredient,drug_class,route\n12345678901,naproxen,nsaid,oral\n12345678901,naproxen,nsaid,topical\n",
            "line 3: ndc 12345678901 is listed twice",
        ),
    ],
)
def test_bad_crosswalk_raises_one_line_naming_file_and_line(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "my_crosswalk.csv"
    path.write_text(content)
    with pytest.raises(ValueError) as error:
        Audit().run(ndc_crosswalk=path)
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message and problem in message


def test_missing_crosswalk_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing.csv: cannot read"):
        read_ndc_crosswalk(tmp_path / "nothing.csv")


def test_starter_crosswalk_is_valid_and_covers_the_policy_classes() -> None:
    rows = read_ndc_crosswalk(reference.value_sets_dir() / reference.STARTER_CROSSWALK)
    assert 20 <= len(rows) <= 40
    routes = {r["route"] for r in rows}
    assert "oral" in routes and "topical" in routes
    assert sum(1 for r in rows if "intramuscular" in (r["route"] or "")) >= 2
    classes = {r["drug_class"] for r in rows if r["route"] == "oral"}
    assert {"nsaid", "corticosteroid", "gabapentinoid", "muscle_relaxant", "snri"} <= classes


def test_value_set_versions() -> None:
    versions = value_set_versions()
    assert versions["esi_cervical_thoracic"] == "2026.11.0"
    assert "ref_esi_codes" in versions and "ndc_crosswalk_starter" not in versions
