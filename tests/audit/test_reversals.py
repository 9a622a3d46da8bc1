"""A reversal cancels the line it reverses (policy 1.1, section 1; issue 13).

The matching: same data_source and person, same service date, HCPCS code and rendering
NPI (both missing = same), paid amount equal with the sign flipped to the cent; among
candidates the reversal's own claim first, then the lowest (claim_id,
claim_line_number); each reversal cancels at most one line and each line is cancelled
at most once, reversals taken in (claim_id, claim_line_number) order. A cancelled line
is neither audited nor evidence anywhere.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from rule_harness import INJECTION_DAY, Audit, days_before, policy_reversal_pairs

NEXT_DAY = INJECTION_DAY + dt.timedelta(days=1)
PAIRS = (
    "select table_name, reversal_claim_id, reversal_claim_line_number, "
    "original_claim_id, original_claim_line_number from int_reversal_matches"
)


def line_status(audit: Audit) -> dict[tuple[str, int], tuple]:
    """{(claim, line): (exclusion_reason, paired_claim_id, paired_claim_line_number)}."""
    rows = audit.con.execute(
        "select claim_id, claim_line_number, exclusion_reason, paired_claim_id, "
        "paired_claim_line_number from mart_esi_lines"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def pairs(audit: Audit, table: str = "medical_claim") -> dict[tuple[str, int], tuple[str, int]]:
    """{reversal line: the line it cancels} of one table, after a run."""
    return {
        (r[1], r[2]): (r[3], r[4]) for r in audit.con.execute(PAIRS).fetchall() if r[0] == table
    }


# --- which line a reversal cancels ---------------------------------------------------


def test_reversal_on_the_same_claim_cancels_the_original(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("62320", paid=150.0)
    audit.esi("62320", claim_id=claim, line=2, paid=-150.0)
    assert audit.findings() == set()
    assert line_status(audit) == {
        (claim, 1): ("reversed", claim, 2),
        (claim, 2): ("reversal", claim, 1),
    }


def test_reversal_on_its_own_claim_cancels_the_original(audit: Audit) -> None:
    audit.clean_history()
    original = audit.esi("62320", paid=150.0)
    reversal = audit.esi("62320", paid=-150.0)
    assert audit.findings() == set()
    assert line_status(audit)[(original, 1)] == ("reversed", reversal, 1)


@pytest.mark.parametrize(
    "reversal",
    [
        {"paid": -149.99},  # a cent less: a partial reversal
        {"paid": -150.01},
        {"rendering_npi": "1000000004"},  # another NPI
        {"rendering_npi": None},  # one NPI missing, the other not
        {"claim_start_date": NEXT_DAY},  # another service date
        {"data_source": "other"},  # another data source
        {"person": "P2"},  # another person
        {"hcpcs_code": "62321"},  # another code
    ],
    ids=["cent_less", "cent_more", "other_npi", "one_npi_missing", "other_day", "other_source",
         "other_person", "other_code"],
)  # fmt: skip
def test_a_reversal_that_differs_cancels_nothing(audit: Audit, reversal: dict) -> None:
    """Partial reversals and near misses cancel nothing: the original stays audited."""
    audit.clean_history()
    original = audit.esi("62320", paid=150.0)
    columns = {"paid": -150.0, **reversal}
    code = columns.pop("hcpcs_code", "62320")
    audit.line(code, **columns)
    assert audit.findings() == {(original, 1, "imaging_guidance", "fail")}
    assert pairs(audit) == {}
    assert line_status(audit)[(original, 1)] == (None, None, None)


@pytest.mark.parametrize(("original", "cancelled"), [("150.004", True), ("150.005", False)])
def test_exact_amounts_are_matched_to_the_cent(audit: Audit, original, cancelled) -> None:
    """Amounts load exact (issue 16: 150.004 is kept, not rounded), and the policy matches
    a reversal to the cent: 150.004 is 150.00 and is reversed by -150.00; 150.005 is
    150.01 (half away from zero) and is not."""
    audit.clean_history()
    claim = audit.esi("62320", paid=Decimal(original))
    audit.esi("62320", claim_id=claim, line=2, paid=Decimal("-150.00"))
    stored = audit.con.execute(
        "select paid_amount from medical_claim where claim_id = ? and claim_line_number = 1",
        [claim],
    ).fetchone()[0]
    assert stored == Decimal(original)
    audit.run()
    assert (pairs(audit) == {(claim, 2): (claim, 1)}) is cancelled


def test_both_npis_missing_count_as_the_same(audit: Audit) -> None:
    audit.clean_history()
    original = audit.esi("62320", paid=150.0, rendering_npi=None)
    reversal = audit.esi("62320", paid=-150.0, rendering_npi=None)
    assert audit.findings() == set()
    assert pairs(audit) == {(reversal, 1): (original, 1)}


def test_both_codes_missing_count_as_the_same(audit: Audit) -> None:
    """A revenue-code-only PT line (no HCPCS) and its reversal: no care evidence left."""
    audit.imaging(100)
    visit = audit.care(60, code=None, revenue_center_code="0420", paid=80.0)
    audit.care(60, code=None, revenue_center_code="0420", paid=-80.0)
    claim = audit.esi("62321")
    assert audit.findings() == {(claim, 1, "conservative_care", "fail")}
    assert list(pairs(audit).values()) == [(visit, 1)]


def test_own_claim_first_then_the_lowest_claim_and_line(audit: Audit) -> None:
    audit.clean_history()
    lowest = audit.esi("62320", claim_id="A1", paid=150.0)
    own = audit.esi("62320", claim_id="B1", line=3, paid=150.0)
    audit.esi("62320", claim_id="B1", line=1, paid=-150.0)
    other = audit.esi("62320", claim_id="B2", line=2, paid=-150.0)
    audit.esi("62320", claim_id="B2", line=1, paid=150.0)
    audit.run()
    assert pairs(audit) == {("B1", 1): (own, 3), (other, 2): ("B2", 1)}
    assert line_status(audit)[(lowest, 1)] == (None, None, None)


def test_without_an_own_candidate_the_lowest_claim_id_then_line_wins(audit: Audit) -> None:
    """Claim ids compare as text: 'C10' comes before 'C9'."""
    audit.clean_history()
    for claim_id, line in (("C9", 1), ("C10", 2), ("C10", 1)):
        audit.esi("62320", claim_id=claim_id, line=line, paid=150.0)
    audit.esi("62320", claim_id="R1", paid=-150.0)
    audit.run()
    assert pairs(audit) == {("R1", 1): ("C10", 1)}


def test_two_reversals_of_one_line_cancel_it_once(audit: Audit) -> None:
    audit.clean_history()
    original = audit.esi("62320", claim_id="C1", paid=150.0)
    audit.esi("62320", claim_id="R1", paid=-150.0)
    audit.esi("62320", claim_id="R2", paid=-150.0)
    assert audit.findings() == set()
    status = line_status(audit)
    assert status[(original, 1)] == ("reversed", "R1", 1)
    assert status[("R1", 1)] == ("reversal", original, 1)
    assert status[("R2", 1)] == ("reversal", None, None)  # matches nothing: only counted


def test_one_reversal_cancels_one_of_two_originals(audit: Audit) -> None:
    """An original, its reversal and its rebill are one injection, not two."""
    audit.clean_history()
    original = audit.esi("62321", claim_id="C1", paid=190.0)
    audit.esi("62321", claim_id="C2", paid=-190.0)
    rebill = audit.esi("62321", claim_id="C3", paid=190.0)
    assert audit.findings() == set()  # no interlaminar_levels for two lines in the session
    status = line_status(audit)
    assert status[(original, 1)][0] == "reversed"
    assert status[(rebill, 1)] == (None, None, None)


def test_an_earlier_reversal_without_own_candidate_takes_the_line_of_a_later_claim(
    audit: Audit,
) -> None:
    """The tricky ordering: reversal A (no original on A) comes first and takes the lowest
    line, B's own original; B's own reversal then has nothing left and matches nothing."""
    audit.clean_history()
    audit.esi("62320", claim_id="A", paid=-150.0)
    audit.esi("62320", claim_id="B", line=1, paid=150.0)
    audit.esi("62320", claim_id="B", line=2, paid=-150.0)
    audit.esi("62320", claim_id="C", paid=150.0)
    assert audit.findings() == set()
    assert pairs(audit) == {("A", 1): ("B", 1), ("B", 2): ("C", 1)}


def test_a_reversed_original_frees_no_session_of_its_rebill(audit: Audit) -> None:
    """Four sessions and a fifth that was billed, reversed and rebilled: still four."""
    for d in (300, 200, 100):
        audit.esi("62321", day=days_before(d))
    audit.esi("62321", claim_id="ORIG", paid=190.0)
    audit.esi("62321", claim_id="REV", paid=-190.0)
    audit.esi("62321", claim_id="REBILL", paid=190.0)
    assert audit.findings("session_frequency") == set()
    fifth = audit.esi("62321", day=NEXT_DAY)
    assert audit.findings("session_frequency") == {(fifth, 1, "session_frequency", "fail")}


def test_transforaminal_levels_of_a_reversed_claim_do_not_count(audit: Audit) -> None:
    audit.clean_history()
    for claim_id, sign in (("ORIG", 1), ("REV", -1), ("REBILL", 1)):
        audit.esi("64479", claim_id=claim_id, paid=sign * 215.0, hcpcs_modifier_1="RT")
        audit.esi("64480", claim_id=claim_id, line=2, paid=sign * 95.0, hcpcs_modifier_1="RT")
    assert audit.findings() == set()
    status = line_status(audit)
    assert status[("ORIG", 1)][0] == status[("ORIG", 2)][0] == "reversed"
    assert status[("REBILL", 2)][0] == "folded_addon"


# --- reversals of add-ons, of thoracic claims, and their diagnoses ------------------


def test_a_reversed_addon_is_not_folded(audit: Audit) -> None:
    """Reversal of an add-on: the add-on is gone, its amount and its level with it."""
    audit.clean_history()
    claim = audit.esi("64479", paid=215.0, hcpcs_modifier_1="RT")
    audit.esi("64480", claim_id=claim, line=2, paid=95.0, hcpcs_modifier_1="RT",
              service_unit_quantity=2)  # fmt: skip
    audit.esi("64480", claim_id=claim, line=3, paid=-95.0, hcpcs_modifier_1="RT",
              service_unit_quantity=2)  # fmt: skip
    assert audit.findings() == set()  # one level, not three
    status = audit.con.execute(
        "select claim_line_number, exclusion_reason, audited_paid_amount from mart_esi_lines "
        "order by 1"
    ).fetchall()
    assert status == [(1, None, Decimal("215.00")), (2, "reversed", None), (3, "reversal", None)]


def test_a_cancelled_primary_absorbs_no_addon(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("64479", paid=215.0, dx=("M542",))
    audit.esi("64480", claim_id=claim, line=2, paid=95.0, dx=("M542",))
    audit.esi("64479", claim_id=claim, line=3, paid=-215.0, dx=("M542",))
    assert audit.findings() == {(claim, 2, "qualifying_dx", "fail")}


def test_reversal_of_a_line_on_a_thoracic_claim(audit: Audit) -> None:
    """The cancelled line counts as reversed (not thoracic); nothing is audited."""
    claim = audit.esi("62320", dx=("M5414",), paid=150.0)
    audit.esi("62320", dx=("M5414",), paid=-150.0)
    assert audit.findings() == set()
    assert line_status(audit)[(claim, 1)][0] == "reversed"


def test_diagnoses_of_a_cancelled_line_do_not_count_for_its_claim(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("62321", dx=("M542",), paid=190.0)
    audit.line("99213", claim_id=claim, line=2, dx=("M5412",), paid=80.0)
    audit.line("99213", dx=("M5412",), paid=-80.0)  # cancels line 2 and its M54.12
    assert audit.findings() == {(claim, 1, "qualifying_dx", "fail")}


def test_a_cancelled_line_makes_no_thoracic_claim_cervical(audit: Audit) -> None:
    claim = audit.esi("62320", dx=("M5414",), paid=150.0)
    audit.line("99213", claim_id=claim, line=2, dx=("M5412",), paid=80.0)
    assert (claim, 1, "imaging_guidance", "fail") in audit.findings()
    audit.line("99213", dx=("M5412",), paid=-80.0)
    assert audit.findings() == set()
    assert line_status(audit)[(claim, 1)][0] == "thoracic"


# --- a cancelled line is no evidence -------------------------------------------------


def test_a_reversed_77003_is_no_unbundled_guidance(audit: Audit) -> None:
    audit.clean_history()
    audit.esi("62321")
    guidance = audit.line("77003", paid=65.0, rendering_npi="1000000004")
    assert audit.findings("guidance_unbundled") == {(guidance, 1, "guidance_unbundled", "fail")}
    audit.line("77003", paid=-65.0, rendering_npi="1000000004")
    assert audit.findings("guidance_unbundled") == set()


def test_a_reversed_77003_supplies_no_guidance(audit: Audit) -> None:
    day = dt.date(2016, 5, 2)
    audit.clean_history(before=day)
    claim = audit.esi("62310", day=day)
    audit.line("77003", day=day, paid=65.0)
    assert audit.findings("imaging_guidance") == set()
    audit.line("77003", day=day, paid=-65.0)
    assert audit.findings("imaging_guidance") == {(claim, 1, "imaging_guidance", "fail")}


def test_a_reversed_care_visit_is_no_conservative_care(audit: Audit) -> None:
    audit.imaging(100)
    audit.care(60, paid=40.0)
    claim = audit.esi("62321")
    assert audit.findings("conservative_care") == set()
    audit.care(60, paid=-40.0)
    assert audit.findings("conservative_care") == {(claim, 1, "conservative_care", "fail")}
    (row,) = audit.rows("conservative_care")
    assert row["evidence"] == "no conservative care 2025-12-17..2026-06-14; 42 days required"


def test_a_reversed_gp_visit_is_no_conservative_care(audit: Audit) -> None:
    audit.imaging(100)
    audit.care(60, code="97799", hcpcs_modifier_1="GP", paid=40.0)
    audit.care(60, code="97799", hcpcs_modifier_1="GP", paid=-40.0)
    claim = audit.esi("62321")
    assert audit.findings("conservative_care") == {(claim, 1, "conservative_care", "fail")}


def test_a_reversed_mri_is_no_prior_imaging(audit: Audit) -> None:
    audit.care(60)
    audit.imaging(100, paid=300.0)
    claim = audit.esi("62321")
    assert audit.findings("prior_imaging") == set()
    audit.imaging(100, paid=-300.0)
    assert audit.findings("prior_imaging") == {(claim, 1, "prior_imaging", "fail")}
    (row,) = audit.rows("prior_imaging")
    assert row["evidence"].endswith("latest spine imaging: none")


def test_a_reversed_fill_is_no_conservative_care(audit: Audit) -> None:
    """Pharmacy (policy silent; decision): a fill reversed by the same data source,
    person, dispensing date, NDC and prescriber with the amount negated is no evidence."""
    audit.imaging(100)
    fill = audit.fill("65862019801", 60, paid=12.5, prescribing_provider_npi="1000000004")
    claim = audit.esi("62321")
    assert audit.findings("conservative_care") == set()
    audit.fill("65862019801", 60, paid=-12.5, prescribing_provider_npi="1000000004")
    assert audit.findings("conservative_care") == {(claim, 1, "conservative_care", "fail")}
    assert list(pairs(audit, "pharmacy_claim").values()) == [(fill, 1)]


def test_a_partial_pharmacy_reversal_cancels_no_fill(audit: Audit) -> None:
    audit.imaging(100)
    audit.fill("65862019801", 60, paid=12.5)
    audit.fill("65862019801", 60, paid=-12.49)
    audit.esi("62321")
    assert audit.findings("conservative_care") == set()


# --- the pairing is the policy's greedy loop ------------------------------------------


def random_lines(rng: random.Random, n_persons: int) -> list[dict]:
    """Lines of 62321 in small match groups: several claims each holding originals and
    reversals in random line order, claim ids that sort differently as text and as
    numbers, and near misses (another NPI, day or amount) inside the same claims."""
    lines: list[dict] = []
    for p in range(n_persons):
        claims = rng.sample(["1", "2", "9", "10", "A", "B"], rng.randint(1, 5))
        next_line = {c: 1 for c in claims}
        for claim in claims:
            n_lines = rng.randint(0, 4)
            for _ in range(n_lines):
                x = {
                    "person": f"P{p:03d}",
                    "claim": f"P{p:03d}-{claim}",
                    "line": next_line[claim],
                    "day": rng.choice([INJECTION_DAY, INJECTION_DAY, NEXT_DAY]),
                    "npi": rng.choice(["1234567893", "1234567893", "1000000004"]),
                    "paid": rng.choice([190.0, 190.0, 190.01]) * rng.choice([1, -1]),
                }
                x["group"] = (x["person"], x["day"], x["npi"], round(abs(x["paid"]) * 100))
                lines.append(x)
                next_line[claim] += 1
    return lines


def test_pairing_equals_the_policys_greedy_loop_on_random_groups(audit: Audit) -> None:
    """The closed form of int_reversal_matches (window passes, no loop) pairs exactly as the
    greedy loop the policy spells out, on 400 random persons (about 3,000 lines)."""
    lines = random_lines(random.Random(13), 400)
    for x in lines:
        audit.esi(
            "62321",
            claim_id=x["claim"],
            line=x["line"],
            person=x["person"],
            day=x["day"],
            rendering_npi=x["npi"],
            paid=x["paid"],
        )
    audit.run()
    expected = policy_reversal_pairs(lines)
    assert len(expected) > 300 and len({o for o in expected.values()}) == len(expected)
    assert pairs(audit) == expected
    status = line_status(audit)
    cancelled = {o: r for r, o in expected.items()}
    for x in lines:
        key = (x["claim"], x["line"])
        if x["paid"] < 0:
            assert status[key] == ("reversal", *expected.get(key, (None, None))), key
        else:
            assert status[key][0] == ("reversed" if key in cancelled else None), key
