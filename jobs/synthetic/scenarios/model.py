"""Building blocks of the scenarios: code pools, eras, claim lines, claims, fills, EHR
procedures, enrollment spans, and the Scenario with its answer key."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

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
    """One claim line: code options, side/other modifiers, units, date offset.

    A copy (`copy` = n) repeats line n of its claim's source claim (the claim itself, or
    the claim a reversal or rebill repeats): the same drawn code, modifiers, units, date
    and amount; `reversal` negates the amount, `cents` moves it by that many cents.
    """

    code: str | list[str | None] | None
    side: str | list[str | None] | None = None  # RT, LT, 50 (or options) -> first modifier
    units: str | None = "1"
    mod: list[str | None] | str | None = None  # second modifier (options)
    delta: int = 0  # line date = claim date + delta
    revenue: str | None = None
    paid: float | None = None
    copy: int | None = None  # line number of the source claim this line repeats
    reversal: bool = False  # a reversal line (negative amount) on an ordinary claim
    cents: int = 0

    def options(self) -> list[str | None]:
        return self.code if isinstance(self.code, list) else [self.code]


def rev(line: int, cents: int = 0) -> L:
    """A reversal line of line `line` of the same claim (policy 1.1: it cancels it)."""
    return L(None, copy=line, reversal=True, cents=cents)


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
    src: str | None = None  # label of the claim it repeats (its date, NPI and lines)


@dataclass
class Fill:
    day: tuple[int, int]
    kind: str  # oral, topical (an NSAID), injectable: drugs.py's lists; unlisted: no crosswalk
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

    def reverse(
        self,
        label: str,
        of: str | None = None,
        lines: list[int] | None = None,
        *,
        role: str | None = None,
        cents: int = 0,
        rebill: bool = False,
    ) -> Scenario:
        """A reversal claim of claim `of` (default: the last claim): its lines (all, or
        `lines`) with the same date, codes, modifiers, units and NPI and the amount negated,
        so it cancels them (policy 1.1). `role`: another renderer pool, so another NPI;
        `cents`: amounts off by that many cents; `rebill`: the amounts as they were."""
        source = self.claims[-1] if of is None else self.line_of(of)[0]
        picked = lines or list(range(1, len(source.lines) + 1))
        copies = [
            replace(self.resolved(source, source.lines[n - 1]), copy=n, reversal=False, cents=cents)
            for n in picked
        ]
        self.claim(
            label,
            source.day,
            copies,
            role=role or source.role,
            claim_type=source.claim_type,
            dx=source.dx,
            pos=source.pos,
            bill_type=source.bill_type,
            reversal=not rebill,
        )
        self.claims[-1].src = source.label
        return self

    def source_of(self, claim: Claim) -> Claim:
        """The claim whose lines `claim`'s copies repeat: its `src`, else itself."""
        return self.line_of(claim.src)[0] if claim.src else claim

    def resolved(self, claim: Claim, line: L) -> L:
        """A line with a copy's code, modifiers, units, date offset and price filled in
        from the line it repeats (its own copy, reversal and cents kept)."""
        if line.copy is None:
            return line
        origin = self.resolved(self.source_of(claim), self.source_of(claim).lines[line.copy - 1])
        return replace(origin, copy=line.copy, reversal=line.reversal, cents=line.cents)

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
            c.day[1] + x.delta
            for c in self.claims
            for x in (self.resolved(c, y) for y in c.lines)
            if set(x.options()) & ESI_CODES
        ]


def sessions_of(sc: Scenario, code: str, days: list[int], **kw) -> Scenario:
    """Professional injections of `code` on `days`, each preceded by a PT course
    that starts 60 days before (so every session has its own six weeks)."""
    for n, d in enumerate(days):
        sc.pt(d - 60, d - 50)
        sc.esi(f"s{n + 1}", d, [L(code, **kw)])
    return sc.imaging(-100)
