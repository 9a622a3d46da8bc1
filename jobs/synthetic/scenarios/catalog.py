"""The catalog: every scenario, section by section in a fixed order, finished and
checked; and its flat form for the generator's SQL templates."""

from __future__ import annotations

from datetime import date, timedelta

from jobs.synthetic.scenarios import (
    combined,
    compliant,
    conservative_care,
    guidance_unbundled,
    history_completeness,
    imaging_guidance,
    interlaminar_levels,
    myelopathy_review,
    policy_1_1,
    prior_imaging,
    qualifying_dx,
    session_frequency,
    transforaminal_levels,
)
from jobs.synthetic.scenarios.model import (
    ADDON_PRIMARY,
    ESI_CODES,
    GUIDANCE_CODES,
    NEUTRAL,
    OTHER_DX,
    PAID,
    RULES,
    STATUSES,
    Claim,
    L,
    Scenario,
    Span,
)

# The policy's order; the order is part of the seed contract (same seed, same bytes).
SECTIONS = (
    compliant,
    qualifying_dx,
    conservative_care,
    history_completeness,
    prior_imaging,
    imaging_guidance,
    guidance_unbundled,
    myelopathy_review,
    interlaminar_levels,
    transforaminal_levels,
    session_frequency,
    combined,
    policy_1_1,
)


def catalog() -> list[Scenario]:
    """Every scenario, in a fixed order (the order is part of the seed contract)."""
    out = [sc for section in SECTIONS for sc in section.scenarios()]
    for sc in out:
        _finish(sc)
    return out


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
        line = sc.resolved(claim, claim.lines[n - 1])
        codes = set(line.options())
        if claim.reversal or line.reversal:
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


def origin(sc: Scenario, claim: Claim, n: int) -> tuple[Claim, int]:
    """The claim and line number a line's random draws come from: the line a copy
    repeats (through chains of copies), else the line itself."""
    line = claim.lines[n - 1]
    if line.copy is None:
        return claim, n
    return origin(sc, sc.source_of(claim), line.copy)


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
            lines = [sc.resolved(c, x) for x in c.lines]
            deltas = [x.delta for x in lines]
            source = c
            while source.src:
                source = sc.source_of(source)
            t["claim"].append(
                dict(
                    scenario=s,
                    claim_key=k,
                    src_key=keys[source.label],
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
            for n, x in enumerate(lines, start=1):
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
                        src_line=origin(sc, c, n)[1],
                        sign=-1 if c.reversal or x.reversal else 1,
                        cents=x.cents,
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
