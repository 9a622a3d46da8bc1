-- ESI persons and their planted histories, from the scenario templates
-- (jobs/synthetic/scenarios/catalog.py registers tpl_scenario, tpl_claim, tpl_line,
-- tpl_fill, tpl_ehr, tpl_span, tpl_finding). Small tables, materialized, in a
-- fixed order. Variables: gen_esi_target (candidates), gen_esi_budget (most
-- medical lines they may take), gen_esi_first (the first person index e),
-- gen_n_persons, gen_ndc_oral, gen_ndc_topical, gen_ndc_injectable.

-- ESI person e (from gen_esi_first: 0 for a data set, later for a night's new
-- persons): the first n_scenarios candidates take every scenario once, in a
-- seed-dependent order; later candidates draw a scenario by weight. Persons are
-- kept while their lines fit the budget.
create or replace temp table gen_esi_person as
with scen as (
    select
        scenario,
        n_lines,
        cast(anchor_lo as date) as anchor_lo,
        cast(anchor_hi as date) as anchor_hi,
        row_number() over (order by gen_rnd(scenario, 700), scenario) - 1 as perm_rank,
        sum(weight) over (order by scenario) - weight as w_lo,
        sum(weight) over (order by scenario) as w_hi,
        sum(weight) over () as w_total,
        count(*) over () as n_scen
    from tpl_scenario
),

assigned as (
    select
        c.e,
        s.scenario,
        s.n_lines,
        s.anchor_lo,
        s.anchor_hi
    from
        range(
            getvariable('gen_esi_first'), getvariable('gen_esi_first') + getvariable('gen_esi_target')
        ) as c (e)
    inner join scen as s
        on
            (
                c.e - getvariable('gen_esi_first') < s.n_scen
                and c.e - getvariable('gen_esi_first') = s.perm_rank
            )
            or (
                c.e - getvariable('gen_esi_first') >= s.n_scen
                and gen_pick(c.e, 701, s.w_total) >= s.w_lo
                and gen_pick(c.e, 701, s.w_total) < s.w_hi
            )
),

budgeted as (
    select
        *,
        sum(n_lines) over (order by e) as cum_lines
    from assigned
)

select
    e,
    getvariable('gen_n_persons') + e as q,
    scenario,
    anchor_lo + cast(gen_pick(e, 702, date_diff('day', anchor_lo, anchor_hi) + 1) as integer) as anchor
from budgeted
where cum_lines <= getvariable('gen_esi_budget')
order by e;

-- The demo profile's outlier: the first injector renders every injection of this share
-- (gen_outlier_pct, 0 by default: nobody) of the persons whose scenario expects a `fail`
-- finding, so the report's peer comparison has a provider to flag.
create or replace temp table gen_outlier_person as
select p.e
from gen_esi_person as p
where
    gen_pct(p.e, 719) < getvariable('gen_outlier_pct')
    and exists (
        select 1 from tpl_finding as f
        where f.scenario = p.scenario and f.status = 'fail'
    )
order by p.e;

-- The index of an ESI person's claim, fill or EHR row (its key < 64) lives
-- above every filler index (< 2^36): ids derived from it never collide.
create or replace macro gen_scn_index(e, key) as 68719476736 + e * 64 + key;

-- A claim that repeats another (a reversal or a rebill, src_key) draws its date and
-- renderer from that claim's index (src_ck), so it falls on the same day with the same
-- NPI (unless its role differs); every other claim has src_key = claim_key.
create or replace temp table gen_scn_claim as
select
    p.e,
    p.q,
    p.scenario,
    c.claim_key,
    gen_scn_index(p.e, c.claim_key) as ck,
    gen_scn_index(p.e, c.src_key) as src_ck,
    p.anchor + c.day_lo
    + cast(gen_pick(gen_scn_index(p.e, c.src_key), 710, c.day_hi - c.day_lo + 1) as integer)
        as claim_date,
    c.min_delta,
    c.max_delta,
    c.multi_date,
    c.claim_type,
    c.role,
    c.pos,
    c.bill_type,
    c.dx,
    c.reversal
from gen_esi_person as p
inner join tpl_claim as c on p.scenario = c.scenario;

-- Canonical medical lines (same columns as the filler's, see medical_claim.sql).
-- A line's code, modifiers and amount are drawn from dk, the index of the line it repeats
-- (src_line of the claim src_ck: a reversal repeats its original exactly), else its own;
-- sign and cents make a reversal (-1) and a partial one (cents off).
create or replace temp table gen_scn_medical as
with lines as (
    select
        c.*,
        l.line_number,
        l.delta,
        l.hcpcs,
        l.mod1,
        l.mod2,
        l.units,
        l.revenue,
        l.paid,
        l.sign,
        l.cents,
        c.ck * 64 + l.line_number as lk,
        c.src_ck * 64 + l.src_line as dk
    from gen_scn_claim as c
    inner join tpl_line as l on c.scenario = l.scenario and c.claim_key = l.claim_key
),

priced as (
    select
        *,
        round(paid * (0.9 + gen_pct(dk, 740) / 500.0), 2) * sign + cents / 100.0 as paid_amount,
        case
            when role = 'none' then null
            when role = 'esi' and e in (select o.e from gen_outlier_person as o)
                then gen_prac_start('esi')
            else gen_prac(role, src_ck, 716)
        end as rendering_k
    from lines
)

select
    row_number() over (order by e, claim_key, line_number) - 1 as rec,
    q,
    gen_claim_id(ck) as claim_id,
    line_number as claim_line_number,
    claim_type,
    ck as claim_seed,
    claim_date + min_delta as claim_start,
    claim_date + max_delta as claim_end,
    case when claim_type = 'institutional' and not multi_date then null else claim_date + delta end
        as line_start,
    case when claim_type = 'institutional' and not multi_date then null else claim_date + delta end
        as line_end,
    cast(null as date) as admission_date,
    cast(null as date) as discharge_date,
    gen_choose(pos, ck, 711) as pos,
    gen_choose(bill_type, ck, 712) as bill_type,
    cast(null as varchar) as drg,
    revenue,
    units,
    gen_choose(hcpcs, dk, 713) as hcpcs,
    gen_choose(mod1, dk, 714) as mod1,
    gen_choose(mod2, dk, 715) as mod2,
    rendering_k,
    case when claim_type = 'institutional' then gen_prac('facility', ck, 717) else rendering_k end
        as billing_k,
    case when claim_type = 'institutional' then gen_prac('facility', ck, 717) end as facility_k,
    paid_amount,
    round(paid_amount * 1.25, 2) as allowed_amount,
    round(paid_amount * 2.6, 2) as charge_amount,
    gen_choose(dx[1], ck, 721) as dx1,
    gen_choose(dx[2], ck, 722) as dx2,
    gen_choose(dx[3], ck, 723) as dx3,
    gen_choose(dx[4], ck, 724) as dx4,
    cast(null as varchar) as dx5,
    cast(null as varchar) as dx6,
    cast(null as varchar) as dx7,
    cast(null as varchar) as dx8,
    gen_rnd(lk, 730) as m,
    cast(null as varchar) as defect,
    0 as defect_arg,
    case when role = 'none' then 'missing_rendering_npi' end as warning,
    false as alt_source
from priced
order by rec;

-- Pharmacy fills: oral / injectable crosswalk NDCs, or NDCs outside the crosswalk.
create or replace temp table gen_scn_pharmacy as
with fills as (
    select
        p.e,
        p.q,
        f.fill_key,
        f.kind,
        f.dashed,
        gen_scn_index(p.e, f.fill_key) as fk,
        f.day_lo,
        f.day_hi,
        p.anchor
    from gen_esi_person as p
    inner join tpl_fill as f on p.scenario = f.scenario
)

select
    row_number() over (order by e, fill_key) - 1 as rec,
    q,
    gen_rx_claim_id(fk) as claim_id,
    1 as claim_line_number,
    anchor + day_lo + cast(gen_pick(fk, 750, day_hi - day_lo + 1) as integer) as dispensing_date,
    case kind
        when 'oral' then gen_choose(getvariable('gen_ndc_oral'), fk, 751)
        when 'topical' then gen_choose(getvariable('gen_ndc_topical'), fk, 751)
        when 'injectable' then gen_choose(getvariable('gen_ndc_injectable'), fk, 751)
        else gen_unlisted_ndc(gen_pick(fk, 751, 400))
    end as ndc,
    dashed,
    gen_prac('general', fk, 752) as prescriber_k,
    case when kind = 'injectable' then 1 else 30 end as days_supply,
    gen_rnd(fk, 753) as m,
    cast(null as varchar) as defect,
    0 as defect_arg
from fills
order by rec;

-- EHR procedures: source and normalized code both filled, or only one of them.
create or replace temp table gen_scn_procedure as
with rows as (
    select
        p.e,
        p.q,
        p.anchor,
        x.ehr_key,
        x.day_lo,
        x.day_hi,
        x.codes,
        gen_scn_index(p.e, x.ehr_key) as pk
    from gen_esi_person as p
    inner join tpl_ehr as x on p.scenario = x.scenario
)

select
    row_number() over (order by e, ehr_key) - 1 as rec,
    q,
    pk,
    anchor + day_lo + cast(gen_pick(pk, 760, day_hi - day_lo + 1) as integer) as procedure_date,
    gen_choose(codes, pk, 761) as code,
    gen_prac(case when codes[1] like '97%' then 'pt' else 'radiology' end, pk, 762) as practitioner_k
from rows
order by rec;

-- Enrollment spans relative to the anchor; an end may be left blank (open).
create or replace temp table gen_scn_eligibility as
select
    row_number() over (order by p.e, s.span_key) - 1 as rec,
    p.q,
    p.anchor + s.start_lo
    + cast(gen_pick(p.e * 16 + s.span_key, 770, s.start_hi - s.start_lo + 1) as integer) as span_start,
    case
        when gen_pct(p.e * 16 + s.span_key, 771) < s.open_pct then null
        else
            p.anchor + s.end_lo
            + cast(gen_pick(p.e * 16 + s.span_key, 772, s.end_hi - s.end_lo + 1) as integer)
    end as span_end
from gen_esi_person as p
inner join tpl_span as s on p.scenario = s.scenario
order by rec;

-- The answer key.
create or replace temp view gen_expected_findings as
-- the answer key's columns in the contract's order
select  -- noqa: ST06
    gen_claim_id(gen_scn_index(p.e, f.claim_key)) as claim_id,
    f.line_number as claim_line_number,
    f.rule_id,
    f.status
from gen_esi_person as p
inner join tpl_finding as f on p.scenario = f.scenario
order by claim_id, claim_line_number, f.rule_id;
