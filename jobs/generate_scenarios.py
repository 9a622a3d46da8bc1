"""The catalog of ESI person scenarios planted by the synthetic data generator.

Each ESI person of a generated data set lives exactly one scenario: a small
claims history (injection claims, physical therapy, imaging, drug fills, EHR
procedures, enrollment spans) laid out in days relative to the person's first
injection (day 0, the anchor). A scenario is compliant with the audit policy
(cervical-esi.md, default parameters of its section 6) except for what it
plants, and it states the findings the audit must produce. Those statements are
the answer key (`expected_findings.csv`); they are written here from the policy
text, never computed by running the rules. (tests/test_generate.py checks them
against a separate executable reading of the policy.)

Day offsets are exact where a boundary is tested; elsewhere they are ranges
(lo, hi) that every draw within keeps the outcome unchanged. Code choices are
option lists of equivalent codes, drawn per person.

Conventions the expectations rely on (policy section in brackets):
- conservative care passes iff some evidence lies in [day-180, day-42] [2.2]
  (evidence in the window [day-180, day) whose earliest is >= 42 days before);
- imaging passes iff a cervical MRI/CT/myelogram lies in [day-730, day] [2.3];
- persons are continuously enrolled over every look-back window unless the
  scenario says otherwise, so failures are `fail`, not `insufficient_history` [4];
- claims of one scenario never interact with another person's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

RULES = (
    "qualifying_dx",
    "conservative_care",
    "prior_imaging",
    "imaging_guidance",
    "session_frequency",
    "guidance_unbundled",
    "myelopathy_review",
    "interlaminar_levels",
    "transforaminal_levels",
)
STATUSES = ("fail", "insufficient_history", "review")

ESI_CODES = {
    "62320",
    "62321",
    "62324",
    "62325",
    "64479",
    "64480",
    "0228T",
    "0229T",
    "62310",
    "62318",
}
ADDON_PRIMARY = {"64480": "64479", "0229T": "0228T"}
GUIDANCE_CODES = {"77003", "77012"}

# ------------------------------------------------------------ code pools


def _codes(text: str) -> list[str]:
    return text.split()


# Diagnoses are ICD-10-CM without dots (the renderer adds dots, case, padding).

# radicular: qualify [2.1], cervical region [1]
QUAL_DX = _codes("M5412 M5413 M5411 M50121 M50122 M50123 M5011 M5013 M4722 M4723 G542")
STENOSIS_DX = _codes("M4802 M4803 M4801 M9921 M9931 M9941 M9951 M9961 M9971")
# non-radicular neck pain: never qualifies [2.1]; cervical region or none
NECK_PAIN_DX = _codes(
    "M542 M47812 M47813 M47892 M5020 M50221 M5030 M50320 M5080 M5090 M530 M531 M5382 G4486"
)
# myelopathy_review [3]
MYELOPATHY_DX = _codes("M5000 M5001 M50020 M50021 M50023 M5003 M4711 M4712 M4713 G9520 G9529 G992")
MYELOPATHY_CERVICAL_DX = _codes("M5000 M5001 M50021 M4712 M4713")
# spine_region_thoracic, none of them cervical [1]
THORACIC_DX = _codes("M5414 M5415 M546 M5114 M5124 M5134 M47814 M4724 M4804 G543 S233XXA")
# cervicothoracic: cervical region [1] and qualifying [2.1]
CERVICOTHORACIC_DX = _codes("M5013 M5413 M4723")
HERPES_QUAL_DX = _codes("B0221 B0222 B0223 B0224 B0229 B028 B029")
# under B02 (care exempt [2.2]) but not in the qualifying list [2.1]
HERPES_NONQUAL_DX = _codes("B0230 B0239 B021")
POSTPROC_DX = _codes("G8912 G8918")
LUMBAR_DX = _codes("M5416 M5417 M5126 M5127 M4806 M48062 M4316")
OTHER_DX = ["I10", "E119", "E785", "Z79899", "F419", None, None, None]  # None: no 2nd dx
NECK_CONTEXT_DX = _codes("M542 M5412 M50121 M4722")  # dx of PT and imaging claims

# Procedures (HCPCS/CPT)
PT_EVAL = _codes("97161 97162 97163 97164")
PT_VISIT = _codes(
    "97110 97112 97140 97530 97113 97116 97535 97150 97012 97014 97032 97033 97035 G0283"
)
CHIRO = _codes("98940 98941 98942 98943")
OTHER_CC = _codes(
    "97165 97166 97167 97168 98925 98926 98927 98928 98929 E0840 E0849 E0850 E0855 E0856 E0860"
    " L0120 L0130 L0140 L0150 L0160 L0170 L0172 L0174 L0180 L0190 L0200 98975 98977 98980 98981"
)
UNLISTED_THERAPY = _codes("97799 G0151")  # in no list: evidence only through GP/GO
MRI = _codes("72141 72142 72156")
CT_MYELO = _codes("72125 72126 72127 72240 62302 62305")
RADIOGRAPH = _codes("72020 72040 72050 72052")
EMG = _codes("95885 95886 95887 95907 95908 95909 95910 95911 95912 95913 95860 95861 95863 95864")
NEUTRAL = _codes(
    "99213 99214 99212 99203 80053 85025 83036 80061 36415 93000 71046 90686 G0439 99395"
    " 73030 76700 77067 81001"
)
STEROID = _codes("J1030 J1040 J3301 J1100")

# paid amount of a professional line (a facility line pays 4 times as much)
PAID = {
    "62320": 150, "62321": 190, "62324": 160, "62325": 205, "64479": 215, "64480": 95,
    "0228T": 230, "0229T": 110, "62310": 170, "62318": 180, "77003": 65, "77012": 85,
    "62322": 175, "62323": 185, "64483": 210, "64484": 90,
}  # fmt: skip

BULK = (date(2023, 3, 1), date(2025, 12, 15))
PRE2017 = (date(2013, 1, 1), date(2016, 12, 31))
PRE2011 = (date(2008, 6, 1), date(2010, 12, 31))


def on(day: date) -> tuple[date, date]:
    """An era of one day: the anchor is that date for every person."""
    return day, day


Day = int | tuple[int, int]


def _rng(d: Day) -> tuple[int, int]:
    return (d, d) if isinstance(d, int) else d


# ------------------------------------------------------------ building blocks


@dataclass
class L:
    """One claim line: code options, side/other modifiers, units, date offset."""

    code: str | list[str | None] | None
    side: str | list[str | None] | None = None  # RT, LT, 50 (or options) -> first modifier
    units: str | None = "1"
    mod: list[str | None] | str | None = None  # second modifier (options)
    delta: int = 0  # line date = claim date + delta
    revenue: str | None = None
    paid: float | None = None

    def options(self) -> list[str | None]:
        return self.code if isinstance(self.code, list) else [self.code]


@dataclass
class Claim:
    label: str
    day: tuple[int, int]
    claim_type: str | None  # professional / institutional / None (missing)
    role: str  # renderer pool: esi, pt, chiro, radiology, general, none (no NPI)
    pos: list[str | None]
    bill_type: list[str | None]
    dx: list[list[str | None]]
    lines: list[L]
    reversal: bool = False


@dataclass
class Fill:
    day: tuple[int, int]
    kind: str  # oral (crosswalk, oral) / injectable (crosswalk, injectable) / unlisted
    dashed: bool = False


@dataclass
class Ehr:
    day: tuple[int, int]
    codes: list[str]


@dataclass
class Span:
    start: tuple[int, int]
    end: tuple[int, int] | None  # None: no end date (still enrolled)
    open_pct: int = 0  # chance the end date is left blank anyway


@dataclass
class Scenario:
    name: str
    description: str
    clause: str
    era: tuple[date, date] = BULK
    weight: int = 1
    claims: list[Claim] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    ehr: list[Ehr] = field(default_factory=list)
    spans: list[Span] | None = None  # None: default continuous enrollment
    expected: list[tuple[str, str, str]] = field(default_factory=list)  # (line ref, rule, status)

    # ---- claims
    def claim(
        self,
        label: str,
        day: Day,
        lines: list[L],
        *,
        role: str = "general",
        claim_type: str | None = "professional",
        dx: list[list[str | None]] | None = None,
        pos: list[str | None] | None = None,
        bill_type: list[str | None] | None = None,
        reversal: bool = False,
    ) -> Scenario:
        if any(c.label == label for c in self.claims):
            raise ValueError(f"{self.name}: duplicate claim label {label}")
        inst = claim_type == "institutional"
        self.claims.append(
            Claim(
                label,
                _rng(day),
                claim_type,
                role,
                pos if pos is not None else ([None] if inst else ["11"]),
                bill_type if bill_type is not None else (["131"] if inst else [None]),
                dx if dx is not None else [NECK_CONTEXT_DX],
                lines,
                reversal,
            )
        )
        return self

    def esi(
        self,
        label: str,
        day: Day,
        lines: list[L],
        *,
        dx: list[list[str | None]] | None = None,
        claim_type: str | None = "professional",
        steroid: bool = True,
        role: str = "esi",
        reversal: bool = False,
    ) -> Scenario:
        """A professional injection claim: the ESI lines, then the steroid J-code."""
        extra = [L(STEROID, paid=12)] if steroid else []
        return self.claim(
            label,
            day,
            lines + extra,
            role=role,
            claim_type=claim_type,
            dx=dx or [QUAL_DX, OTHER_DX],
            pos=["22", "24", "11"],
            reversal=reversal,
        )

    def facility(
        self, label: str, day: Day, lines: list[L], *, dx: list[list[str | None]] | None = None
    ) -> Scenario:
        """The facility (institutional) claim of the same injection."""
        fac = [
            L(
                x.code,
                x.side,
                x.units,
                x.mod,
                x.delta,
                x.revenue or "0360",
                (x.paid or PAID.get(x.options()[0] or "", 150)) * 4,
            )
            for x in lines
        ]
        return self.claim(
            label,
            day,
            fac + [L(STEROID, revenue="0636", paid=20)],
            role="esi",
            claim_type="institutional",
            dx=dx or [QUAL_DX, OTHER_DX],
            bill_type=["831", "131"],
        )

    def guidance(
        self,
        label: str,
        day: Day,
        code: str = "77003",
        mod: str | None = "26",
        claim_type: str = "professional",
    ) -> Scenario:
        inst = claim_type == "institutional"
        return self.claim(
            label,
            day,
            [L(code, mod, revenue="0320" if inst else None)],
            role="radiology",
            claim_type=claim_type,
            pos=None if inst else ["22", "24"],
        )

    # ---- evidence
    def pt(self, *days: Day, reversal: bool = False) -> Scenario:
        """Physical therapy visits (first one an evaluation), one claim each."""
        for n, d in enumerate(days):
            codes = PT_EVAL if n == 0 else PT_VISIT
            self.claim(
                f"pt{len(self.claims)}", d, [L(codes, ["GP", None])], role="pt", reversal=reversal
            )
        return self

    def cc(self, day: Day, codes: list[str], role: str = "pt") -> Scenario:
        return self.claim(f"cc{len(self.claims)}", day, [L(codes)], role=role, pos=["11", "12"])

    def imaging(self, day: Day, codes: list[str] = MRI, reversal: bool = False) -> Scenario:
        return self.claim(
            f"img{len(self.claims)}",
            day,
            [L(codes, mod=["26", None])],
            role="radiology",
            pos=["22", "11"],
            reversal=reversal,
        )

    def drug(self, day: Day, kind: str = "oral", dashed: bool = False) -> Scenario:
        self.fills.append(Fill(_rng(day), kind, dashed))
        return self

    def ehr_proc(self, day: Day, codes: list[str]) -> Scenario:
        self.ehr.append(Ehr(_rng(day), codes))
        return self

    def history(self) -> Scenario:
        """The compliant baseline: PT starting 45-170 days before, MRI within two years."""
        return self.pt((-170, -45), (-40, -30), (-25, -10)).imaging((-700, -5))

    # ---- enrollment
    def enrolled(self, *spans: Span) -> Scenario:
        self.spans = list(spans)
        return self

    def not_enrolled(self) -> Scenario:
        self.spans = []
        return self

    # ---- answer key
    def expect(self, ref: str | list[str], rule: str, status: str = "fail") -> Scenario:
        for r in [ref] if isinstance(ref, str) else ref:
            self.expected.append((r, rule, status))
        return self

    # ---- derived
    def line_of(self, ref: str) -> tuple[Claim, int]:
        label, _, n = ref.partition(":")
        for c in self.claims:
            if c.label == label:
                return c, int(n or 1)
        raise KeyError(f"{self.name}: no claim {label}")

    def esi_days(self) -> list[int]:
        return [
            c.day[1] + x.delta for c in self.claims for x in c.lines if set(x.options()) & ESI_CODES
        ]


def _sessions(sc: Scenario, code: str, days: list[int], **kw) -> Scenario:
    """Professional injections of `code` on `days`, each preceded by a PT course
    that starts 60 days before (so every session has its own six weeks)."""
    for n, d in enumerate(days):
        sc.pt(d - 60, d - 50)
        sc.esi(f"s{n + 1}", d, [L(code, **kw)])
    return sc.imaging(-100)


# ------------------------------------------------------------ the catalog


# The catalog reads as a table: one parenthesized chain per scenario, kept as
# written (fmt: off).
# fmt: off
def catalog() -> list[Scenario]:
    """Every scenario, in a fixed order (the order is part of the seed contract)."""
    out: list[Scenario] = []

    def add(name: str, description: str, clause: str, **kw) -> Scenario:
        sc = Scenario(name, description, clause, **kw)
        out.append(sc)
        return sc

    # ---------------- compliant: no findings at all
    (
        add("ok_interlaminar", "guided interlaminar 62321 after PT and MRI", "2, 3", weight=12)
        .history()
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_catheter", "guided catheter 62325 after PT and MRI", "2, 3", weight=4)
        .history()
        .esi("inj", 0, [L("62325")])
    )
    (
        add("ok_tf_one_level", "transforaminal 64479 one level, one side", "2, 3", weight=10)
        .history()
        .esi("inj", 0, [L("64479", ["RT", "LT"])])
    )
    (
        add("ok_tf_two_levels", "64479 LT + 64480 LT: two levels, the limit", "3", weight=6)
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT")])
    )
    (
        add("ok_tf_bilateral_2_2", "64479+64480 on both sides: two levels per side", "3", weight=2)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT"), L("64479", "LT"), L("64480", "LT")])
    )
    (
        add("ok_tf_bilateral_mod50", "64479-50: bilateral single level = 1", "3", weight=2)
        .history()
        .esi("inj", 0, [L("64479", "50")])
    )
    (
        add("ok_with_facility", "62321 and its facility claim", "1, 3", weight=6)
        .history()
        .esi("inj", 0, [L("62321")])
        .facility("fac", 0, [L("62321")])
    )
    (
        add("ok_facility_units_not_levels", "the facility claim repeats 62321 with units 2",
            "3 (level rules: professional lines only)", weight=2)
        .history()
        .esi("inj", 0, [L("62321")])
        .facility("fac", 0, [L("62321", units="2")])
    )
    (
        add("ok_tf_facility_not_counted", "2 right levels, repeated on a facility claim",
            "3 (level rules: professional lines only)", weight=2)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT")])
        .facility("fac", 0, [L("64479", "RT"), L("64480", "RT")])
    )
    _sessions(
        add("ok_four_sessions_in_year", "4 sessions in 270 days: at the limit", "3", weight=3),
        "62321", [0, 90, 180, 270],
    )
    _sessions(
        add("ok_fifth_session_365_days_after_first",
            "5 sessions, the 5th 365 days after the 1st: its window holds 4", "3 boundary"),
        "62321", [0, 91, 182, 273, 365],
    )
    (
        add("ok_ehr_only_evidence", "PT and MRI only in the EHR procedure extract", "2.2, 2.3",
            weight=2)
        .ehr_proc((-170, -45), PT_EVAL)
        .ehr_proc((-40, -10), PT_VISIT)
        .ehr_proc((-700, -5), MRI)
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_oral_drug_only", "the only conservative care: an oral crosswalk drug", "2.2",
            weight=2)
        .drug((-170, -45))
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "LT")])
    )
    (
        add("ok_dashed_ndc_fill", "the only fill carries a 10-digit dashed NDC", "2.2; NDCs")
        .drug((-170, -45), dashed=True)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_chiropractic", "chiropractic manipulation as the conservative care", "2.2",
            weight=2)
        .cc((-170, -45), CHIRO, "chiro")
        .cc((-30, -10), CHIRO, "chiro")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_other_conservative_care", "OT, osteopathic, traction, collar or RTM", "2.2")
        .cc((-170, -45), OTHER_CC)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62325")])
    )
    (
        add("ok_pt_revenue_code_only", "outpatient PT known only by revenue codes 042x", "2.2")
        .claim("ptrev", (-170, -45), [L(None, revenue="0420"), L(None, revenue="0424")],
               role="pt", claim_type="institutional")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_pt_modifier_only", "an unlisted therapy code billed with GP or GO", "2.2")
        .claim("ptmod", (-170, -45), [L(UNLISTED_THERAPY, ["GP", "GO"])], role="pt")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT")])
    )
    (
        add("ok_cc_exactly_42_days", "PT starts exactly 42 days before", "2.2 boundary")
        .pt(-42, -35, -28)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_cc_exactly_180_days", "the only care is 180 days before (window start)",
            "2.2 boundary")
        .pt(-180)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_imaging_exactly_730_days", "the only MRI is 730 days before", "2.3 boundary")
        .pt((-170, -45))
        .imaging(-730)
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_imaging_on_injection_day", "the only MRI is on the injection day", "2.3 boundary")
        .pt((-170, -45))
        .imaging(0)
        .esi("inj", 0, [L("64479", "LT")])
    )
    (
        add("ok_ct_or_myelography", "cervical CT or myelography instead of MRI", "2.3")
        .pt((-170, -45))
        .imaging((-700, -5), CT_MYELO)
        .esi("inj", 0, [L("62321")])
    )
    (
        add("ok_herpes_zoster_no_cc", "acute zoster, neuro involvement: no care needed",
            "2.1, 2.2 (exempt)")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")], dx=[HERPES_QUAL_DX, OTHER_DX])
    )
    (
        add("ok_postprocedural_exempt", "G89.12/G89.18 with only non-radicular neck pain",
            "2.1 (exempt)")
        .history()
        .esi("inj", 0, [L("62321")], dx=[POSTPROC_DX, NECK_PAIN_DX])
    )
    (
        add("ok_stenosis_dx", "a cervical stenosis code alone qualifies by default", "2.1, 6")
        .history()
        .esi("inj", 0, [L("62321")], dx=[STENOSIS_DX])
    )
    (
        add("ok_cervicothoracic", "cervicothoracic radicular dx beside a thoracic dx: audited",
            "1 (region)")
        .history()
        .esi("inj", 0, [L("62321")], dx=[CERVICOTHORACIC_DX, THORACIC_DX])
    )
    (
        add("ok_legacy_62310_with_77003", "62310 before 2017 with a 77003 line that day",
            "2.4, 3", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310"), L("77003", mod=["26", None])])
    )
    (
        add("ok_legacy_62318_with_77012", "62318 before 2017; 77012 on another claim that day",
            "2.4, 3", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62318")])
        .guidance("rad", 0, "77012")
    )
    (
        add("ok_tf_pre2011_with_guidance", "64479+64480 in 2008-2010 with 77003 or 77012",
            "2.4, 3", era=PRE2011)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT"), L(["77003", "77012"])])
    )
    (
        add("ok_tf_2010_12_31_with_77003", "64479 on 2010-12-31 needs guidance: 77003 present",
            "2.4, 3 boundary", era=on(date(2010, 12, 31)))
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("77003")])
    )
    (
        add("ok_tf_2011_01_01_unguided", "64479 on 2011-01-01 without 77003: guidance built in",
            "2.4 boundary", era=on(date(2011, 1, 1)))
        .history()
        .esi("inj", 0, [L("64479", "RT")])
    )
    (
        add("ok_62321_2016_12_31_with_77003", "62321 with 77003 on 2016-12-31: before bundling",
            "2.4, 3 boundary", era=on(date(2016, 12, 31)))
        .history()
        .esi("inj", 0, [L("62321"), L("77003")])
    )
    (
        _sessions(
            add("ok_reversal_not_a_session",
                "4 sessions + a reversed-only 62321 (and a 77003) on a 5th date", "1, 3"),
            "62321", [0, 90, 180, 270],
        )
        .esi("rev", 300, [L("62321")], reversal=True)
        .guidance("revrad", 300)
    )
    (
        add("ok_reversal_only_violating", "an unguided 62320 units 2 known only as a reversal",
            "1 (reversals)")
        .esi("rev", 0, [L("62320", units="2")], dx=[NECK_PAIN_DX], reversal=True)
    )
    (
        add("ok_thoracic_only", "thoracic-only dx: unguided, 2 lines, units 2, 77003, no history",
            "1 (region)", weight=2)
        .esi("inj", 0, [L("62320", "50", units="2"), L("62321"), L("77003")],
             dx=[THORACIC_DX, THORACIC_DX, ["G9529", None]])
    )
    (
        add("ok_lumbar_esi", "lumbar ESIs (out of scope) with 77003, no history", "1 (scope)",
            weight=2)
        .claim("lum", 0, [L("62322", units="2"), L("64483", "RT"), L("64484", "RT", "2"),
                          L("77003")], role="esi", dx=[LUMBAR_DX], pos=["24"])
        .claim("lum2", 30, [L("62323"), L("77003")], role="esi", dx=[LUMBAR_DX], pos=["24"])
    )
    (
        _sessions(
            add("ok_four_cervical_plus_lumbar_and_thoracic",
                "4 cervical sessions; lumbar and thoracic sessions do not count", "1, 3"),
            "64479", [0, 90, 180, 270], side="RT",
        )
        .claim("lum", 300, [L("64483", "LT"), L("64484", "LT")], role="esi", dx=[LUMBAR_DX])
        .esi("tho", 330, [L("62321")], dx=[THORACIC_DX])
    )
    (
        add("ok_legacy_62310_after_2016_with_77003", "62310 in 2023+ with 77003: audited alike",
            "1 (legacy codes), 2.4, 3")
        .history()
        .esi("inj", 0, [L("62310"), L("77003", mod=["26", None])])
    )
    (
        add("ok_gap_in_windows_but_passing", "enrollment gaps in both windows; both pass", "4")
        .history()
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-500, -480)), Span((-440, -420), (-130, -120)),
                  Span((-90, -80), (400, 600), 50))
    )

    # ---------------- 2.1 qualifying diagnosis
    (
        add("dx_neck_pain_only", "only non-radicular neck pain codes on the claim", "2.1",
            weight=3)
        .history()
        .esi("inj", 0, [L("62321")], dx=[NECK_PAIN_DX, OTHER_DX])
        .expect("inj", "qualifying_dx")
    )
    (
        add("dx_fail_with_facility", "non-qualifying dx on professional and facility claims",
            "2.1")
        .history()
        .esi("inj", 0, [L("64479", "RT")], dx=[NECK_PAIN_DX])
        .facility("fac", 0, [L("64479", "RT")], dx=[NECK_PAIN_DX])
        .expect(["inj", "fac"], "qualifying_dx")
    )
    (
        add("dx_herpes_non_qualifying", "zoster outside the list (B02.1, B02.3x) + M54.2, no care",
            "2.1, 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")], dx=[HERPES_NONQUAL_DX, ["M542"]])
        .expect("inj", "qualifying_dx")
    )

    # ---------------- 2.2 conservative care
    (
        add("cc_starts_41_days", "PT starts 41 days before", "2.2 boundary", weight=2)
        .pt(-41, -34, -27)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_none", "no conservative care at all", "2.2", weight=3)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62325")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_only_181_days", "the only care is 181 days before (outside the window)",
            "2.2 boundary")
        .pt(-181)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_same_day_only", "PT only on the injection day", "2.2 boundary")
        .pt(0)
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "LT")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_injectable_drug_only", "the only fill is injectable dexamethasone",
            "2.2 (route)")
        .drug((-170, -45), "injectable")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_drug_not_in_crosswalk", "the only fill's NDC is not in the crosswalk", "2.2")
        .drug((-170, -45), "unlisted")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_ehr_pt_too_late", "EHR PT starts 30 days before", "2.2")
        .ehr_proc(-30, PT_EVAL)
        .ehr_proc(-23, PT_VISIT)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_reversed_evidence_only", "PT and MRI exist only as reversal lines",
            "1 (reversals), 2.2, 2.3")
        .pt((-170, -45), reversal=True)
        .imaging((-700, -5), reversal=True)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
        .expect("inj", "prior_imaging")
    )
    (
        add("cc_fail_with_addon_folded", "no care; 64479+64480 on one claim: primary flagged",
            "1 (add-ons), 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT")])
        .expect("inj", "conservative_care")
    )
    (
        add("cc_fail_addon_without_primary", "no care; 64479 on a claim, 64480 alone on another",
            "1 (add-ons), 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT")])
        .esi("add", 0, [L("64480", "RT")], steroid=False)
        .expect(["inj", "add"], "conservative_care")
    )
    (
        add("cc_fail_cervicothoracic", "cervicothoracic + thoracic dx, no care: audited",
            "1 (region), 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")], dx=[CERVICOTHORACIC_DX, THORACIC_DX])
        .expect("inj", "conservative_care")
    )

    # ---------------- 4 history completeness
    (
        add("cc_fail_gap_in_window", "no care; an enrollment gap inside the care window", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-130, -121)), Span((-90, -80), (300, 500), 50))
        .expect("inj", "conservative_care", "insufficient_history")
    )
    (
        add("cc_fail_not_in_eligibility", "no care; the person is absent from eligibility", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT")])
        .not_enrolled()
        .expect("inj", "conservative_care", "insufficient_history")
    )
    (
        add("cc_fail_adjacent_spans", "no care; spans meet day after day: continuous", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-100, -100)), Span((-99, -99), (300, 500), 50))
        .expect("inj", "conservative_care")
    )
    (
        add("cc_fail_overlapping_spans", "no care; overlapping spans cover the window", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-60, -50)), Span((-200, -190), (300, 500), 50))
        .expect("inj", "conservative_care")
    )
    (
        add("cc_fail_open_end", "no care; one span without an end date", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), None))
        .expect("inj", "conservative_care")
    )
    (
        add("cc_fail_gap_outside_window", "no care; the gap lies in the imaging window only",
            "4")
        .imaging((-250, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-400, -400)), Span((-300, -300), (300, 500), 50))
        .expect("inj", "conservative_care")
    )
    (
        add("gap_on_injection_day", "no care, no imaging; not enrolled on the injection day",
            "4 boundary")
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-1, -1)), Span((1, 1), (300, 500), 50))
        .expect("inj", "conservative_care")
        .expect("inj", "prior_imaging", "insufficient_history")
    )
    (
        add("both_fail_not_in_eligibility", "absent from eligibility; no care, no imaging, 62320",
            "4, 2.4")
        .esi("inj", 0, [L("62320")])
        .not_enrolled()
        .expect("inj", "conservative_care", "insufficient_history")
        .expect("inj", "prior_imaging", "insufficient_history")
        .expect("inj", "imaging_guidance")
    )

    # ---------------- 2.3 prior imaging
    (
        add("img_none", "no imaging at all", "2.3", weight=3)
        .pt((-170, -45))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging")
    )
    (
        add("img_731_days", "the only MRI is 731 days before", "2.3 boundary")
        .pt((-170, -45))
        .imaging(-731)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging")
    )
    (
        add("img_only_after", "the only MRI is 10 days after the injection", "2.3")
        .pt((-170, -45))
        .imaging(10)
        .esi("inj", 0, [L("64479", "RT")])
        .expect("inj", "prior_imaging")
    )
    (
        add("img_radiographs_only", "only plain cervical radiographs", "2.3")
        .pt((-170, -45))
        .imaging((-700, -5), RADIOGRAPH)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging")
    )
    (
        add("img_emg_only", "only EMG / nerve conduction (not accepted by default)", "2.3, 6")
        .pt((-170, -45))
        .imaging((-700, -5), EMG)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging")
    )
    (
        add("img_ehr_too_old", "the only MRI is in the EHR, 800 days before", "2.3")
        .pt((-170, -45))
        .ehr_proc(-800, MRI)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging")
    )
    (
        add("img_fail_gap", "no imaging; an enrollment gap inside the imaging window", "4")
        .pt((-170, -45))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-500, -480)), Span((-420, -400), (300, 500), 50))
        .expect("inj", "prior_imaging", "insufficient_history")
    )
    (
        add("img_fail_late_enrollment", "no imaging; enrolled only from 300 days before", "4")
        .pt((-170, -45))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-310, -300), (300, 500), 50))
        .expect("inj", "prior_imaging", "insufficient_history")
    )
    (
        add("herpes_no_imaging", "zoster: care exempt, but no imaging", "2.2, 2.3")
        .esi("inj", 0, [L("62321")], dx=[HERPES_QUAL_DX])
        .expect("inj", "prior_imaging")
    )

    # ---------------- 2.4 imaging guidance
    (
        add("guid_62320", "interlaminar without imaging guidance", "2.4", weight=3)
        .history()
        .esi("inj", 0, [L("62320")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_62324", "catheter without imaging guidance", "2.4")
        .history()
        .esi("inj", 0, [L("62324")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_0228T_0229T", "ultrasound transforaminal with its add-on (folded)", "2.4, 1")
        .history()
        .esi("inj", 0, [L("0228T"), L("0229T")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_0228T_with_77003", "ultrasound transforaminal; a 77003 does not rescue it",
            "2.4, 3")
        .history()
        .esi("inj", 0, [L("0228T"), L("77003")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_62320_with_77003", "62320 with 77003: still fails, no unbundling", "2.4, 3")
        .history()
        .esi("inj", 0, [L("62320"), L("77003")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_legacy_62310_none", "62310 before 2017 without guidance", "2.4", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_legacy_62318_none", "62318 before 2017 without guidance", "2.4", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62318")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_legacy_77003_next_day", "62310 before 2017; the 77003 is the next day", "2.4",
            era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310")])
        .guidance("rad", 1)
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_tf_pre2011_none", "64479+64480 before 2011 without guidance", "2.4",
            era=PRE2011)
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_legacy_after_2016_none", "62310 in 2023+ without guidance: audited alike",
            "1 (legacy codes), 2.4")
        .history()
        .esi("inj", 0, [L("62310")])
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_missing_npi", "unguided 62320 without rendering NPI (unknown provider)",
            "2.4; contract warnings")
        .history()
        .esi("inj", 0, [L("62320")], role="none")
        .expect("inj", "imaging_guidance")
    )
    (
        add("guid_postprocedural", "G89.1x exempts the dx rule; unguided 62324 still fails",
            "2.1, 2.4")
        .history()
        .esi("inj", 0, [L("62324")], dx=[POSTPROC_DX, ["M542"]])
        .expect("inj", "imaging_guidance")
    )

    # ---------------- guidance_unbundled
    (
        add("unb_77003_62321", "77003 on the 62321 claim", "3 (guidance_unbundled)", weight=3)
        .history()
        .esi("inj", 0, [L("62321"), L("77003", mod=["26", None])])
        .expect("inj:2", "guidance_unbundled")
    )
    (
        add("unb_77012_26_tc_64479", "64479; 77012-26 and 77012-TC on two other claims",
            "3 (guidance_unbundled)")
        .history()
        .esi("inj", 0, [L("64479", "RT")])
        .guidance("rad", 0, "77012", "26")
        .guidance("fac", 0, "77012", "TC", "institutional")
        .expect(["rad", "fac"], "guidance_unbundled")
    )
    (
        add("unb_77003_62325", "77003 with the guided catheter 62325", "3 (guidance_unbundled)")
        .history()
        .esi("inj", 0, [L("62325")])
        .guidance("rad", 0)
        .expect("rad", "guidance_unbundled")
    )
    (
        add("unb_tf_2011_01_01", "64479 with 77003 on 2011-01-01: guidance now included",
            "2.4, 3 boundary", era=on(date(2011, 1, 1)))
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("77003")])
        .expect("inj:2", "guidance_unbundled")
    )
    (
        add("unb_62321_2017_01_01", "62321 with 77003 on 2017-01-01", "3 boundary",
            era=on(date(2017, 1, 1)))
        .history()
        .esi("inj", 0, [L("62321"), L("77003", mod=["26", None])])
        .expect("inj:2", "guidance_unbundled")
    )
    (
        add("unb_lone_64480", "a 64480 with no primary anywhere, and a 77003", "1, 3")
        .history()
        .esi("inj", 0, [L("64480", "LT"), L("77003")])
        .expect("inj:2", "guidance_unbundled")
    )

    # ---------------- myelopathy_review
    (
        add("myelopathy_with_radicular", "myelopathy dx beside a radicular dx; facility claim too",
            "3 (myelopathy_review)", weight=2)
        .history()
        .esi("inj", 0, [L("62321")], dx=[QUAL_DX, MYELOPATHY_DX])
        .facility("fac", 0, [L("62321")], dx=[QUAL_DX, MYELOPATHY_DX])
        .expect(["inj", "fac"], "myelopathy_review", "review")
    )
    (
        add("myelopathy_only", "myelopathy dx alone: review, and no qualifying dx", "2.1, 3")
        .history()
        .esi("inj", 0, [L("64479", "LT")], dx=[MYELOPATHY_CERVICAL_DX])
        .expect("inj", "myelopathy_review", "review")
        .expect("inj", "qualifying_dx")
    )

    # ---------------- interlaminar_levels
    (
        add("il_units_2", "62321 with units 2", "3 (interlaminar_levels)", weight=2)
        .history()
        .esi("inj", 0, [L("62321", units="2")])
        .expect("inj", "interlaminar_levels")
    )
    (
        add("il_units_3_claim_type_missing", "62321 units 3 on a claim without claim_type",
            "3 (level rules)")
        .history()
        .esi("inj", 0, [L("62321", units="3")], claim_type=None)
        .expect("inj", "interlaminar_levels")
    )
    (
        add("il_modifier_50", "62321 with modifier 50", "3 (interlaminar_levels)")
        .history()
        .esi("inj", 0, [L("62321", "50")])
        .expect("inj", "interlaminar_levels")
    )
    (
        add("il_two_lines", "two 62321 lines on one claim", "3 (interlaminar_levels)")
        .history()
        .esi("inj", 0, [L("62321"), L("62321")])
        .expect(["inj:1", "inj:2"], "interlaminar_levels")
    )
    (
        add("il_two_claims", "62320 and 62321 on two claims the same day", "3, 2.4")
        .history()
        .esi("a", 0, [L("62320")])
        .esi("b", 0, [L("62321")])
        .expect(["a", "b"], "interlaminar_levels")
        .expect("a", "imaging_guidance")
    )
    (
        add("il_legacy_units_2", "62310 units 2 with 77003, before 2017", "3", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310", units="2"), L("77003")])
        .expect("inj", "interlaminar_levels")
    )

    # ---------------- transforaminal_levels
    (
        add("tf_three_right", "64479 RT + 64480 RT units 2", "3 (transforaminal_levels)",
            weight=2)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT", "2")])
        .expect("inj", "transforaminal_levels")
    )
    (
        add("tf_three_mod50", "64479-50 + 64480-50 units 2: three per side", "3")
        .history()
        .esi("inj", 0, [L("64479", "50"), L("64480", "50", "2")])
        .expect("inj", "transforaminal_levels")
    )
    (
        add("tf_three_no_side", "64479 + 64480 units 2 without side: both sides", "3")
        .history()
        .esi("inj", 0, [L("64479"), L("64480", units="2")])
        .expect("inj", "transforaminal_levels")
    )
    (
        add("tf_missing_zero_units", "64479 RT units missing, 64480 RT units 0 and 1", "3")
        .history()
        .esi("inj", 0, [L("64479", "RT", None), L("64480", "RT", "0"), L("64480", "RT", "1")])
        .expect("inj", "transforaminal_levels")
    )
    (
        add("tf_across_claims", "64479 RT on a claim, a lone 64480 RT units 2 on another",
            "1, 3")
        .history()
        .esi("a", 0, [L("64479", "RT")])
        .esi("b", 0, [L("64480", "RT", "2")], steroid=False)
        .expect(["a", "b"], "transforaminal_levels")
    )
    (
        add("tf_three_with_facility", "3 left levels; the facility claim is not flagged", "3")
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT", "2")])
        .facility("fac", 0, [L("64479", "LT"), L("64480", "LT", "2")])
        .expect("inj", "transforaminal_levels")
    )
    (
        add("tf_left_three_right_one", "64479 RT; 64479 LT + 64480 LT units 2: both primaries",
            "3")
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64479", "LT"), L("64480", "LT", "2")])
        .expect(["inj:1", "inj:2"], "transforaminal_levels")
    )
    (
        add("tf_multi_date_claim", "one claim: 64479 RT day 0; 64479 RT + 64480 RT x2 day 14",
            "1 (add-on folds on its date), 3")
        .pt((-150, -45))
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT"), L("64479", "RT", delta=14),
                        L("64480", "RT", "2", delta=14)])
        .expect("inj:2", "transforaminal_levels")
    )

    # ---------------- session_frequency
    _sessions(
        add("freq_fifth_at_364_days", "5 sessions, the 5th 364 days after the 1st",
            "3 (session_frequency) boundary", weight=2),
        "62321", [0, 91, 182, 273, 364],
    ).expect("s5", "session_frequency")
    (
        _sessions(
            add("freq_six_with_facility", "6 sessions in 350 days; facility claims on the 5th, 6th",
                "3 (session_frequency)"),
            "64479", [0, 70, 140, 210, 280, 350], side="LT",
        )
        .facility("f5", 280, [L("64479", "LT")])
        .facility("f6", 350, [L("64479", "LT")])
        .expect(["s5", "f5", "s6", "f6"], "session_frequency")
    )
    sc = add("freq_mixed_codes", "5 sessions of different kinds; the 5th is 64479+64480",
             "3 (session_frequency)")
    kinds = [[L("62321")], [L("62325")], [L("64479", "50")], [L("62321")],
             [L("64479", "RT"), L("64480", "RT")]]
    for n, lines in enumerate(kinds):
        sc.pt(60 * n - 60, 60 * n - 50).esi(f"s{n + 1}", 60 * n, lines)
    sc.imaging(-100).expect("s5", "session_frequency")

    # ---------------- several at once
    (
        add("reversed_original_flagged_once", "unguided 62320 and its reversal: the original only",
            "1 (reversals), 2.4")
        .history()
        .esi("orig", 0, [L("62320")])
        .esi("rev", 0, [L("62320")], reversal=True)
        .expect("orig", "imaging_guidance")
    )
    (
        add("everything_wrong", "62320-50 units 2, neck pain + myelopathy, no care, no imaging",
            "2, 3")
        .esi("inj", 0, [L("62320", "50", "2")], dx=[["M542"], MYELOPATHY_CERVICAL_DX])
        .expect("inj", "qualifying_dx")
        .expect("inj", "conservative_care")
        .expect("inj", "prior_imaging")
        .expect("inj", "imaging_guidance")
        .expect("inj", "myelopathy_review", "review")
        .expect("inj", "interlaminar_levels")
    )

    for sc in out:
        _finish(sc)
    return out
# fmt: on


# ------------------------------------------------------------ derived data


def _finish(sc: Scenario) -> None:
    """Ordinary claims and fills around the story, default enrollment, checks."""
    for n, d in enumerate([(-600, -200), (-150, -50), (20, 200)]):
        sc.claim(f"n{n}", d, [L(NEUTRAL)], dx=[OTHER_DX[:5], OTHER_DX])
    sc.drug((-300, -10), "unlisted").drug((10, 150), "unlisted")
    last = max(sc.esi_days() or [0])
    if sc.spans is None:
        sc.spans = [Span((-1060, -1000), (last + 300, last + 500), 50)]
    check(sc)


def check(sc: Scenario) -> None:
    """The expectations must name lines the policy can flag at all."""
    if sc.name.startswith("ok_") == bool(sc.expected):
        raise ValueError(f"{sc.name}: 'ok_' scenarios, and only they, expect no findings")
    for ref, rule, status in sc.expected:
        claim, n = sc.line_of(ref)
        if rule not in RULES or status not in STATUSES:
            raise ValueError(f"{sc.name}: bad rule/status {rule}/{status}")
        if (status == "review") != (rule == "myelopathy_review"):
            raise ValueError(f"{sc.name}: {rule} cannot have status {status}")
        if not 1 <= n <= len(claim.lines):
            raise ValueError(f"{sc.name}: {ref} has no line {n}")
        codes = set(claim.lines[n - 1].options())
        if claim.reversal:
            raise ValueError(f"{sc.name}: {ref} is a reversal line")
        if rule == "guidance_unbundled":
            if not codes <= GUIDANCE_CODES:
                raise ValueError(f"{sc.name}: {ref} is not a 77003/77012 line")
            continue
        if not codes <= ESI_CODES:
            raise ValueError(f"{sc.name}: {ref} is not an ESI line")
        addon = next(iter(codes)) in ADDON_PRIMARY
        if addon and any(ADDON_PRIMARY[next(iter(codes))] in x.options() for x in claim.lines):
            raise ValueError(f"{sc.name}: {ref} is an add-on folded into its primary")
        if rule in ("interlaminar_levels", "transforaminal_levels") and claim.claim_type not in (
            "professional",
            None,
        ):
            raise ValueError(f"{sc.name}: level rules read professional lines only ({ref})")


def anchor_range(sc: Scenario) -> tuple[date, date]:
    """First and last possible anchor (day 0) so every injection stays in the era."""
    lo, hi = sc.era
    if lo == hi:
        return lo, hi
    return lo, hi - timedelta(days=max(sc.esi_days() or [0]))


def template_rows(scenarios: list[Scenario]) -> dict[str, list[dict]]:
    """The catalog as flat rows, one list per template table (see sql/generate)."""
    t: dict[str, list[dict]] = {
        k: [] for k in ("scenario", "claim", "line", "fill", "ehr", "span", "finding")
    }
    for s, sc in enumerate(scenarios):
        lo, hi = anchor_range(sc)
        keys = {c.label: k for k, c in enumerate(sc.claims)}
        n_lines = sum(len(c.lines) for c in sc.claims)
        t["scenario"].append(
            dict(
                scenario=s,
                name=sc.name,
                description=sc.description,
                clause=sc.clause,
                anchor_lo=lo.isoformat(),
                anchor_hi=hi.isoformat(),
                weight=sc.weight,
                n_lines=n_lines,
                n_findings=len(sc.expected),
            )
        )
        for k, c in enumerate(sc.claims):
            deltas = [x.delta for x in c.lines]
            t["claim"].append(
                dict(
                    scenario=s,
                    claim_key=k,
                    label=c.label,
                    day_lo=c.day[0],
                    day_hi=c.day[1],
                    min_delta=min(deltas),
                    max_delta=max(deltas),
                    claim_type=c.claim_type,
                    role=c.role,
                    pos=c.pos,
                    bill_type=c.bill_type,
                    dx=c.dx,
                    reversal=c.reversal,
                    multi_date=min(deltas) != max(deltas),
                )
            )
            for n, x in enumerate(c.lines, start=1):
                mod = x.mod if isinstance(x.mod, list) else [x.mod]
                side = x.side if isinstance(x.side, list) else [x.side]
                paid = x.paid if x.paid is not None else PAID.get(x.options()[0] or "", 60)
                t["line"].append(
                    dict(
                        scenario=s,
                        claim_key=k,
                        line_number=n,
                        hcpcs=x.options(),
                        mod1=side,
                        mod2=mod,
                        units=x.units,
                        revenue=x.revenue,
                        paid=float(paid),
                        delta=x.delta,
                    )
                )
        for k, f in enumerate(sc.fills):
            t["fill"].append(
                dict(
                    scenario=s,
                    fill_key=k,
                    day_lo=f.day[0],
                    day_hi=f.day[1],
                    kind=f.kind,
                    dashed=f.dashed,
                )
            )
        for k, e in enumerate(sc.ehr):
            t["ehr"].append(
                dict(scenario=s, ehr_key=k, day_lo=e.day[0], day_hi=e.day[1], codes=e.codes)
            )
        for k, sp in enumerate(sc.spans or []):
            t["span"].append(
                dict(
                    scenario=s,
                    span_key=k,
                    start_lo=sp.start[0],
                    start_hi=sp.start[1],
                    end_lo=sp.end[0] if sp.end else None,
                    end_hi=sp.end[1] if sp.end else None,
                    open_pct=100 if sp.end is None else sp.open_pct,
                )
            )
        for ref, rule, status in sc.expected:
            c, n = sc.line_of(ref)
            t["finding"].append(
                dict(
                    scenario=s, claim_key=keys[c.label], line_number=n, rule_id=rule, status=status
                )
            )
    return t
