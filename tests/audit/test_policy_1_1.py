"""Policy 1.1 besides reversals (issue 13): a folded add-on keeps its own service date for
the session-level rules (section 3), NSAIDs count when oral or topical (2.2), and the
evidence text is never empty (5). Reversals: test_reversals.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rule_harness import INJECTION_DAY, Audit, days_before, supplied_crosswalk

from jobs.audit.catalog import load_rules
from jobs.audit.runner import FINDINGS_COLUMNS, check_rule_rows

NEXT_DAY = INJECTION_DAY + dt.timedelta(days=1)


def addon_claim(audit: Audit, addon_day: dt.date, **addon: object) -> str:
    """A 64479 RT on the injection day with a 64480 RT on `addon_day` on the same claim."""
    claim = audit.esi("64479", hcpcs_modifier_1="RT", claim_line_start_date=INJECTION_DAY)
    audit.esi(
        "64480",
        claim_id=claim,
        line=2,
        hcpcs_modifier_1="RT",
        claim_line_start_date=addon_day,
        **addon,
    )
    return claim


# --- a folded add-on keeps its own date (section 3) ------------------------------------


def test_addon_levels_count_in_the_session_of_its_own_date(audit: Audit) -> None:
    """Two right levels on the injection day (primary 2 units) and one on the next day
    (the add-on): no session holds three; counted on the primary's date it would."""
    claim = audit.esi(
        "64479", hcpcs_modifier_1="RT", service_unit_quantity=2, claim_line_start_date=INJECTION_DAY
    )
    audit.esi(
        "64480", claim_id=claim, line=2, hcpcs_modifier_1="RT", claim_line_start_date=NEXT_DAY
    )
    assert audit.findings("transforaminal_levels") == set()


def test_an_over_limit_session_of_the_addons_date_flags_its_primary(audit: Audit) -> None:
    claim = addon_claim(audit, NEXT_DAY, service_unit_quantity=2)
    other = audit.esi("64479", hcpcs_modifier_1="RT", day=NEXT_DAY)
    assert audit.findings("transforaminal_levels") == {
        (claim, 1, "transforaminal_levels", "fail"),
        (other, 1, "transforaminal_levels", "fail"),
    }
    rows = {r["claim_id"]: r for r in audit.rows("transforaminal_levels")}
    assert rows[claim]["service_date"] == INJECTION_DAY  # the primary's line
    assert rows[claim]["evidence"] == (
        "transforaminal levels in the session on 2026-06-16: right 3, left 0; at most 2 per "
        "side; its add-on 64480 (line 2) is on that date"
    )
    assert rows[other]["evidence"] == (
        "transforaminal levels in the session on 2026-06-16: right 3, left 0; at most 2 per side"
    )


def test_an_addon_alone_on_its_date_can_be_over_the_limit(audit: Audit) -> None:
    claim = addon_claim(audit, NEXT_DAY, service_unit_quantity=3)
    assert audit.findings("transforaminal_levels") == {(claim, 1, "transforaminal_levels", "fail")}


def test_a_folded_64480_unbundles_guidance_on_its_own_date(audit: Audit) -> None:
    claim = addon_claim(audit, NEXT_DAY)
    on_addon_day = audit.line("77003", day=NEXT_DAY, rendering_npi="1000000004")
    audit.line("77003", day=NEXT_DAY + dt.timedelta(days=1))
    assert audit.findings("guidance_unbundled") == {(on_addon_day, 1, "guidance_unbundled", "fail")}
    assert audit.rows("guidance_unbundled")[0]["evidence"] == (
        f"77003 billed on 2026-06-16 with 64480 (claim {claim}), which includes imaging "
        "guidance since 2011-01-01"
    )


@pytest.mark.parametrize(("addon_day", "flagged"), [(dt.date(2010, 12, 31), False),
                                                    (dt.date(2011, 1, 1), True)])  # fmt: skip
def test_a_folded_64480_unbundles_guidance_since_2011(
    audit: Audit, addon_day: dt.date, flagged: bool
) -> None:
    day = dt.date(2010, 12, 30)
    claim = audit.esi("64479", claim_line_start_date=day, claim_start_date=day)
    audit.esi(
        "64480", claim_id=claim, line=2, claim_line_start_date=addon_day, claim_start_date=day
    )
    guidance = audit.line("77003", day=addon_day)
    expected = {(guidance, 1, "guidance_unbundled", "fail")} if flagged else set()
    assert audit.findings("guidance_unbundled") == expected


def test_a_date_holding_only_a_folded_addon_is_no_session(audit: Audit) -> None:
    """Decision (policy silent): the add-on is not audited on its own, so its date alone is
    no session for session_frequency; one injection does not become two sessions."""
    for d in (300, 200, 100):
        audit.esi("64479", day=days_before(d))
    addon_claim(audit, NEXT_DAY)
    assert audit.findings("session_frequency") == set()
    (n_sessions,) = audit.con.execute("select count(*) from int_esi_sessions").fetchone()
    assert n_sessions == 4


def test_a_folded_addon_on_an_over_limit_session_flags_its_primary(audit: Audit) -> None:
    for d in (300, 200, 100):
        audit.esi("62321", day=days_before(d))
    claim = addon_claim(audit, NEXT_DAY)  # session 4 on the injection day
    fifth = audit.esi("62321", day=NEXT_DAY)  # session 5, holding the add-on too
    assert audit.findings("session_frequency") == {
        (claim, 1, "session_frequency", "fail"),
        (fifth, 1, "session_frequency", "fail"),
    }
    rows = {r["claim_id"]: r for r in audit.rows("session_frequency")}
    assert rows[claim]["evidence"] == (
        "session 2026-06-16 is number 5 in the 365 days 2025-06-17..2026-06-16 "
        "(first 2025-08-19); limit 4; its add-on 64480 (line 2) is on that date"
    )


def test_a_line_flagged_by_two_sessions_is_written_once(audit: Audit) -> None:
    """Both the primary's own session and its add-on's are over the limit: one finding,
    naming the primary's own session."""
    claim = audit.esi(
        "64479", hcpcs_modifier_1="RT", service_unit_quantity=3, claim_line_start_date=INJECTION_DAY
    )
    audit.esi("64480", claim_id=claim, line=2, hcpcs_modifier_1="RT", service_unit_quantity=3,
              claim_line_start_date=NEXT_DAY)  # fmt: skip
    assert audit.findings("transforaminal_levels") == {(claim, 1, "transforaminal_levels", "fail")}
    assert audit.rows("transforaminal_levels")[0]["evidence"].startswith(
        "transforaminal levels in the session on 2026-06-15: right 3"
    )


# --- NSAIDs count when oral or topical (2.2) -------------------------------------------


@pytest.mark.parametrize(
    ("ndc", "counts"),
    [
        ("65162083366", True),  # diclofenac gel, topical: an NSAID
        ("53002464201", True),  # diclofenac gel, topical
        ("61442012601", True),  # meloxicam tablet, oral
        ("63323016501", False),  # dexamethasone injection: not oral
    ],
)
def test_starter_crosswalk_routes(audit: Audit, ndc: str, counts: bool) -> None:
    audit.imaging(100)
    audit.fill(ndc, 60)
    claim = audit.esi("62321")
    expected = set() if counts else {(claim, 1, "conservative_care", "fail")}
    assert audit.findings("conservative_care") == expected


@pytest.mark.parametrize(
    ("ndc", "counts"),
    [
        ("10000000001", True),  # ibuprofen, topical
        ("10000000002", True),  # naproxen, TOPICAL
        ("10000000003", True),  # diclofenac, "Transdermal; Topical": any route that counts
        ("10000000004", False),  # ibuprofen, transdermal: not a route the value sets list
        ("10000000005", False),  # prednisone, topical: not an NSAID, oral only
        ("10000000006", True),  # methylprednisolone, "intramuscular; oral"
        ("10000000007", False),  # dexamethasone, "intramuscular;intravenous"
        ("10000000008", True),  # gabapentin, "oral;sublingual"
        ("10000000009", False),  # cyclobenzaprine, "oral solution": a route matches whole
    ],
)
def test_routes_that_count_per_ingredient(
    audit: Audit, tmp_path: Path, ndc: str, counts: bool
) -> None:
    crosswalk = supplied_crosswalk(tmp_path)
    audit.imaging(100)
    audit.fill(ndc, 60)
    claim = audit.esi("62321")
    expected = set() if counts else {(claim, 1, "conservative_care", "fail")}
    assert audit.findings("conservative_care", ndc_crosswalk=crosswalk) == expected


def test_the_route_pairs_live_in_value_sets() -> None:
    """Which routes count for which ingredients is data: drug_nsaid and its routes sit in
    value sets, the NSAIDs are conservative-care drugs too, and no rule names a route."""
    from jobs.audit.reference import read_value_sets
    from jobs.resources import sql_dir

    rows = read_value_sets()
    by_set: dict[str, set[str]] = {}
    for r in rows:
        by_set.setdefault(r["value_set"], set()).add(r["code"])
    assert by_set["drug_route_conservative_care"] == {"oral"}
    assert by_set["drug_route_nsaid"] == {"topical"}
    assert by_set["drug_nsaid"] <= by_set["drug_conservative_care"]
    assert len(by_set["drug_nsaid"]) == 7
    for path in (sql_dir() / "rules").glob("*.sql"):
        assert "'oral'" not in path.read_text() and "'topical'" not in path.read_text()


# --- the evidence is never empty (section 5) -------------------------------------------


def test_a_gp_line_without_a_code_is_described_by_its_modifier(audit: Audit) -> None:
    """Regression (issue 13): a GP-modifier care line with no HCPCS code made the
    conservative_care evidence NULL."""
    audit.imaging(100)
    audit.care(19, code=None, hcpcs_modifier_1="GP")
    audit.esi("62321")
    audit.run()
    (row,) = audit.rows("conservative_care")
    assert row["evidence"] == (
        "first conservative care 2026-05-27 (PT GP), 19 days before injection; 42 required"
    )


def test_an_ehr_procedure_without_a_code_is_described_by_its_modifier(audit: Audit) -> None:
    audit.imaging(100)
    audit.procedure(None, 19, modifier_1="GO")
    audit.esi("62321")
    audit.run()
    (row,) = audit.rows("conservative_care")
    assert "(OT GO), 19 days before injection" in row["evidence"]


def sparse_world() -> Audit:
    """Lines that make every rule fire while every optional field is missing: no NPI, no
    data source, no claim type, no amount, no units, no diagnosis, evidence lines without
    codes (only a GP/GO modifier), a guidance line without an amount."""
    world = Audit()
    bare = {"rendering_npi": None, "data_source": None, "claim_type": None, "paid": None}
    for d in (300, 200, 100, 50):
        world.esi("62321", day=days_before(d), dx=(), **bare)
    world.esi("62320", dx=(), hcpcs_modifier_1="50", **bare)
    world.esi("62321", dx=("M5001",), **bare)
    claim = world.esi("64479", dx=(), hcpcs_modifier_1="RT", **bare)
    world.esi("64480", claim_id=claim, line=2, dx=(), hcpcs_modifier_1="RT",
              service_unit_quantity=2, **bare)  # fmt: skip
    world.line("77003", dx=(), **bare)
    world.care(19, code=None, hcpcs_modifier_1="GP", dx=(), **bare)
    world.procedure(None, 10, modifier_1="GO")
    world.imaging(800, code="72040", dx=(), **bare)
    world.esi("62310", person="P2", dx=(), **bare)
    return world


def test_no_rule_writes_an_empty_evidence_cell() -> None:
    world = sparse_world()
    world.run(eligibility_supplied=True)
    rows = world.con.execute("select rule_id, evidence from findings").fetchall()
    assert {r[0] for r in rows} == {rule.id for rule in load_rules()}
    empty = [r for r in rows if r[1] is None or not r[1].strip()]
    assert not empty
    world.run(eligibility_supplied=False)
    evidence = world.con.execute("select evidence from findings").fetchall()
    assert evidence and all(r[0] and r[0].strip() for r in evidence)


def test_a_rule_row_with_empty_evidence_stops_the_audit() -> None:
    """The runner refuses a rule row without evidence (a guard for every world of every
    test, on both engines)."""
    world = Audit()
    columns = ", ".join(f"{n} {t}" for n, t in FINDINGS_COLUMNS)
    world.con.execute(f"create temp table _claims_audit_findings (rule_order integer, {columns})")
    rule = load_rules()[0]
    for evidence in (None, "", "  "):
        world.con.execute("delete from _claims_audit_findings")
        world.con.execute(
            "insert into _claims_audit_findings (rule_order, rule_id, status, severity, evidence) "
            "values (0, ?, 'fail', ?, ?)",
            [rule.id, rule.severity, evidence],
        )
        with pytest.raises(RuntimeError, match="evidence is empty"):
            check_rule_rows(world.con, rule, 0)
