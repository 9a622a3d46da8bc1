-- The answer key of night getvariable('nk_night') = k: which planted findings the audit
-- must report (nk_expected), and the lifecycle of every finding seen so far (nk_life).
-- Written from the plan (the scenarios' findings and the nights' events), never by
-- running the rules. Reads nk_planted, nk_events, nk_params.

-- A planted finding is expected on night k when its batch has arrived and no event took
-- it away: its line reversed, late evidence for its person (conservative_care and
-- prior_imaging only), its claim withdrawn (and not redelivered since), or, on a night
-- that accepts EMG as imaging, a prior_imaging finding whose person has an EMG study in
-- the look-back window.
insert into nk_expected
with params as (
    select accepts_emg from nk_params where night = getvariable('nk_night')
)

select
    getvariable('nk_night') as night,
    p.*
from nk_planted as p
where
    p.batch <= getvariable('nk_night')
    and not exists (
        select 1 from nk_events as ev
        where
            ev.event = 'reversal' and ev.night <= getvariable('nk_night')
            and ev.claim_id = p.claim_id and ev.claim_line_number = p.claim_line_number
    )
    and not (
        p.rule_id in ('conservative_care', 'prior_imaging')
        and exists (
            select 1 from nk_events as ev
            where ev.event = 'late_evidence' and ev.night <= getvariable('nk_night') and ev.e = p.e
        )
    )
    and not exists (
        select 1 from nk_events as w
        where
            w.event = 'withdrawn' and w.night <= getvariable('nk_night')
            and w.claim_id = p.claim_id
            and not exists (
                select 1 from nk_events as r
                where
                    r.event = 'redelivered' and r.claim_id = w.claim_id
                    and r.night > w.night and r.night <= getvariable('nk_night')
            )
    )
    and not (p.rule_id = 'prior_imaging' and p.emg_passes and (select accepts_emg from params));

-- The lifecycle after night k. A finding expected now is open (reopened when it was
-- resolved); an open one no longer expected is resolved by the event that removed it:
-- withdrawn -> not_in_extract, reversal -> not_audited_now, a changed parameter of its
-- rule -> rule_changed, late evidence -> passes_now (the product's precedence).
create or replace temp table nk_life_next as
with now_expected as (
    select * from nk_expected where night = getvariable('nk_night')
),

params_changed as (
    select coalesce(bool_or(a.accepts_emg <> b.accepts_emg), false) as changed
    from nk_params as a
    inner join nk_params as b on a.night = getvariable('nk_night') and b.night = a.night - 1
),

gone as (
    select distinct w.claim_id
    from nk_events as w
    where
        w.event = 'withdrawn' and w.night <= getvariable('nk_night')
        and not exists (
            select 1 from nk_events as r
            where
                r.event = 'redelivered' and r.claim_id = w.claim_id
                and r.night > w.night and r.night <= getvariable('nk_night')
        )
),

reversed as (
    select distinct claim_id, claim_line_number
    from nk_events
    where event = 'reversal' and night <= getvariable('nk_night')
),

redelivered_now as (
    select distinct claim_id from nk_events
    where event = 'redelivered' and night = getvariable('nk_night')
),

merged as (
    select
        coalesce(n.finding_id, l.finding_id) as finding_id,
        coalesce(n.rule_id, l.rule_id) as rule_id,
        coalesce(n.data_source, l.data_source) as data_source,
        coalesce(n.claim_id, l.claim_id) as claim_id,
        coalesce(n.claim_line_number, l.claim_line_number) as claim_line_number,
        coalesce(n.status, l.status) as status,
        n.finding_id is not null as is_expected,
        l.state as previous_state,
        coalesce(l.first_night, getvariable('nk_night')) as first_night,
        coalesce(l.times_reopened, 0) as times_reopened,
        l.resolution as previous_resolution,
        l.cause as previous_cause
    from now_expected as n
    full outer join nk_life as l on n.finding_id = l.finding_id
)

select
    m.finding_id,
    m.rule_id,
    m.data_source,
    m.claim_id,
    m.claim_line_number,
    m.status,
    case when m.is_expected then 'open' else 'resolved' end as state,
    case
        when m.is_expected then null
        when m.previous_state = 'resolved' then m.previous_resolution
        when g.claim_id is not null then 'not_in_extract'
        when r.claim_id is not null then 'not_audited_now'
        when m.rule_id = 'prior_imaging' and (select changed from params_changed) then 'rule_changed'
        else 'passes_now'
    end as resolution,
    m.times_reopened
    + case when m.is_expected and m.previous_state = 'resolved' then 1 else 0 end
        as times_reopened,
    m.first_night,
    case
        when m.is_expected and m.previous_state = 'resolved' and d.claim_id is not null
            then 'redelivered'
        when m.is_expected and m.previous_state = 'resolved' then 'parameter'
        when m.is_expected and m.previous_state is null then 'new'
        when m.is_expected then m.previous_cause
        when m.previous_state = 'resolved' then m.previous_cause
        when g.claim_id is not null then 'withdrawn'
        when r.claim_id is not null then 'reversal'
        when m.rule_id = 'prior_imaging' and (select changed from params_changed) then 'parameter'
        else 'late_evidence'
    end as cause
from merged as m
left join gone as g on m.claim_id = g.claim_id
left join reversed as r on m.claim_id = r.claim_id and m.claim_line_number = r.claim_line_number
left join redelivered_now as d on m.claim_id = d.claim_id;
