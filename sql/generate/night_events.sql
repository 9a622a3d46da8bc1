-- What one night (getvariable('nk_night') = k) does to the data, besides its new ESI
-- persons and ordinary claims (jobs/synthetic/nights.py runs this file once a night).
--
-- Reads: nk_persons, nk_planted, nk_scn_medical (every batch so far; batch 0 is the
-- history), tpl_night (which scenarios an event_kind may touch), nk_events (earlier nights).
-- Variables: nk_night, nk_n_late, nk_n_reversal, nk_n_withdrawn, nk_event_first (the
-- first free person index e for the events' own claims).
--
-- Events, each on persons no other event_kind touches:
--   late_evidence  a history person of a `simple` scenario whose line fails
--                  conservative_care or prior_imaging gets a physical-therapy visit 100
--                  days and a cervical MRI 30 days before the injection: both criteria
--                  pass now (policy 2.2, 2.3);
--   reversal       a history person of a `simple` scenario gets a reversal of the flagged
--                  line (same person, data source, date, code, NPI, amount negated) on
--                  a claim of its own: the line is cancelled (policy 1.1);
--   withdrawn      night k-1's new person of a `simple` scenario loses its injection
--                  claim: the file of night k-1 is re-issued without it (k >= 2);
--   redelivered    the first claim withdrawn by night k-1 comes back (k >= 3).

-- History persons that an event_kind may touch, split once into two pools.
create or replace temp table nk_pool as
with simple_persons as (
    select
        p.e,
        p.q,
        t.has_care_or_imaging,
        gen_pct(p.e, 802) < 50 as in_late_pool
    from nk_persons as p
    inner join tpl_night as t on p.scenario = t.scenario
    where p.batch = 0 and t.is_simple
)

select
    e,
    q,
    case when in_late_pool and has_care_or_imaging then 'late_evidence' else 'reversal' end
        as pool,
    row_number() over (
        partition by case when in_late_pool and has_care_or_imaging then 1 else 0 end
        order by gen_rnd(e, 803), e
    ) as pool_rank
from simple_persons
order by e;

-- The flagged line of a simple person (its only ESI line) and its canonical row.
create or replace temp view nk_simple_line as
select distinct
    p.batch,
    p.e,
    p.q,
    p.claim_id,
    p.claim_line_number
from nk_planted as p
inner join tpl_night as t on p.scenario = t.scenario
where t.is_simple;

insert into nk_events
select
    getvariable('nk_night') as night,
    nk_pool.pool as event_kind,
    nk_pool.e,
    nk_pool.q,
    l.claim_id,
    l.claim_line_number
from nk_pool
inner join nk_simple_line as l on nk_pool.e = l.e and l.batch = 0
where
    (
        nk_pool.pool = 'late_evidence'
        and nk_pool.pool_rank > (getvariable('nk_night') - 1) * getvariable('nk_n_late')
        and nk_pool.pool_rank <= getvariable('nk_night') * getvariable('nk_n_late')
    )
    or (
        nk_pool.pool = 'reversal'
        and nk_pool.pool_rank > (getvariable('nk_night') - 1) * getvariable('nk_n_reversal')
        and nk_pool.pool_rank <= getvariable('nk_night') * getvariable('nk_n_reversal')
    );

-- Withdrawn: injection claims of night k-1's new simple persons.
insert into nk_events
select
    getvariable('nk_night') as night,
    'withdrawn' as event_kind,
    l.e,
    l.q,
    l.claim_id,
    l.claim_line_number
from nk_simple_line as l
where
    getvariable('nk_night') >= 2
    and l.batch = getvariable('nk_night') - 1
qualify row_number() over (order by gen_rnd(l.e, 804), l.e) <= getvariable('nk_n_withdrawn');

-- Redelivered: the first claim night k-1 withdrew.
insert into nk_events
select
    getvariable('nk_night') as night,
    'redelivered' as event_kind,
    w.e,
    w.q,
    w.claim_id,
    w.claim_line_number
from nk_events as w
where w.night = getvariable('nk_night') - 1 and w.event_kind = 'withdrawn'
qualify row_number() over (order by gen_rnd(w.e, 804), w.e) = 1;

-- The events' medical lines, as canonical rows (the columns of gen_scn_medical).
create or replace temp table nk_event_medical as
with tonight as (
    select
        ev.*,
        row_number() over (order by ev.event_kind, ev.e) - 1 as k
    from nk_events as ev
    where ev.night = getvariable('nk_night') and ev.event_kind in ('late_evidence', 'reversal')
),

target as (
    select
        tonight.event_kind,
        tonight.k,
        m.*
    from tonight
    inner join nk_scn_medical as m
        on tonight.claim_id = m.claim_id and tonight.claim_line_number = m.claim_line_number
),

late as (
    -- physical therapy 100 days before (claim key 0), an MRI 30 days before (claim key 1)
    select
        target.*,
        x.claim_key,
        x.days_before,
        x.code,
        x.modifier,
        x.role,
        x.paid,
        gen_scn_index(getvariable('nk_event_first') + target.k, x.claim_key) as ck
    from target
    cross join (
        values (0, 100, '97161', 'GP', 'pt', 95.0), (1, 30, '72141', '26', 'radiology', 310.0)
    ) as x (claim_key, days_before, code, modifier, role, paid)
    where target.event_kind = 'late_evidence'
),

late_rows as (
    select
        q,
        gen_claim_id(ck) as claim_id,
        1 as claim_line_number,
        'professional' as claim_type,
        ck as claim_seed,
        coalesce(line_start, claim_start) - days_before as claim_start,
        coalesce(line_start, claim_start) - days_before as claim_end,
        coalesce(line_start, claim_start) - days_before as line_start,
        coalesce(line_start, claim_start) - days_before as line_end,
        cast(null as date) as admission_date,
        cast(null as date) as discharge_date,
        '11' as pos,
        cast(null as varchar) as bill_type,
        cast(null as varchar) as drg,
        cast(null as varchar) as revenue,
        '1' as units,
        code as hcpcs,
        modifier as mod1,
        cast(null as varchar) as mod2,
        gen_prac(role, ck, 716) as rendering_k,
        gen_prac(role, ck, 716) as billing_k,
        cast(null as bigint) as facility_k,
        paid as paid_amount,
        round(paid * 1.25, 2) as allowed_amount,
        round(paid * 2.6, 2) as charge_amount,
        'M5412' as dx1,
        'M542' as dx2,
        cast(null as varchar) as dx3,
        cast(null as varchar) as dx4,
        cast(null as varchar) as dx5,
        cast(null as varchar) as dx6,
        cast(null as varchar) as dx7,
        cast(null as varchar) as dx8,
        gen_rnd(ck * 64 + 1, 730) as m,
        cast(null as varchar) as defect,
        0 as defect_arg,
        cast(null as varchar) as warning,
        false as alt_source
    from late
),

reversal_rows as (
    -- the flagged line itself, on a claim of its own, its amounts negated
    select
        q,
        gen_claim_id(gen_scn_index(getvariable('nk_event_first') + k, 2)) as claim_id,
        1 as claim_line_number,
        claim_type,
        gen_scn_index(getvariable('nk_event_first') + k, 2) as claim_seed,
        coalesce(line_start, claim_start) as claim_start,
        coalesce(line_start, claim_start) as claim_end,
        coalesce(line_start, claim_start) as line_start,
        coalesce(line_start, claim_start) as line_end,
        admission_date,
        discharge_date,
        pos,
        bill_type,
        drg,
        revenue,
        units,
        hcpcs,
        mod1,
        mod2,
        rendering_k,
        billing_k,
        facility_k,
        -paid_amount as paid_amount,
        -allowed_amount as allowed_amount,
        -charge_amount as charge_amount,
        dx1,
        dx2,
        dx3,
        dx4,
        dx5,
        dx6,
        dx7,
        dx8,
        gen_rnd(gen_scn_index(getvariable('nk_event_first') + k, 2) * 64 + 1, 730) as m,
        defect,
        defect_arg,
        warning,
        alt_source
    from target
    where event_kind = 'reversal'
)

select * from late_rows
union all
select * from reversal_rows;

-- Redelivered lines: the withdrawn claim's canonical rows, exactly as first delivered.
create or replace temp table nk_redelivered_medical as
with redelivered as (
    select distinct claim_id
    from nk_events
    where night = getvariable('nk_night') and event_kind = 'redelivered'
)

select m.* exclude (batch, rec)  -- noqa: AM04, RF02
from nk_scn_medical as m
inner join redelivered on m.claim_id = redelivered.claim_id
order by m.batch, m.rec;
