-- The answer key of night getvariable('nk_night') = k: which planted findings the audit
-- must report (nk_expected), and the lifecycle of every finding seen so far (nk_life).
-- Written from the plan (the scenarios' findings and the nights' events), never by
-- running the rules. Reads nk_planted, nk_events, nk_params.

-- The events up to night k, as views both statements below read.
create or replace temp view nk_reversed_lines as
select distinct
    claim_id,
    claim_line_number
from nk_events
where event_kind = 'reversal' and night <= getvariable('nk_night');

create or replace temp view nk_redelivered_claims as
select
    claim_id,
    night
from nk_events
where event_kind = 'redelivered' and night <= getvariable('nk_night');

-- withdrawn by a night up to k and not delivered again since
create or replace temp view nk_withdrawn_claims as
select distinct w.claim_id
from nk_events as w
left join nk_redelivered_claims as r
    on w.claim_id = r.claim_id and w.night < r.night
where
    w.event_kind = 'withdrawn' and w.night <= getvariable('nk_night')
    and r.claim_id is null;

-- A planted finding is expected on night k when its batch has arrived and no event_kind took
-- it away: its line reversed, late evidence for its person (conservative_care and
-- prior_imaging only), its claim withdrawn (and not redelivered since), or, on a night
-- that accepts EMG as imaging, a prior_imaging finding whose person has an EMG study in
-- the look-back window.
insert into nk_expected
with tonight as (
    select accepts_emg
    from nk_params
    where night = getvariable('nk_night')
),

late_evidence as (
    select distinct e
    from nk_events
    where event_kind = 'late_evidence' and night <= getvariable('nk_night')
)

select
    getvariable('nk_night') as night,
    p.*  -- noqa: AM04
from nk_planted as p
cross join tonight
left join nk_reversed_lines as reversed
    on p.claim_id = reversed.claim_id and p.claim_line_number = reversed.claim_line_number
left join late_evidence on p.e = late_evidence.e
left join nk_withdrawn_claims as withdrawn on p.claim_id = withdrawn.claim_id
where
    p.batch <= getvariable('nk_night')
    and reversed.claim_id is null
    and (late_evidence.e is null or p.rule_id not in ('conservative_care', 'prior_imaging'))
    and withdrawn.claim_id is null
    and not (p.rule_id = 'prior_imaging' and p.emg_passes and tonight.accepts_emg);

-- The lifecycle after night k. A finding expected now is open (reopened when it was
-- resolved); an open one no longer expected is resolved by the event_kind that removed it:
-- withdrawn -> not_in_extract, reversal -> not_audited_now, a changed parameter of its
-- rule -> rule_changed, late evidence -> passes_now (the product's precedence).
create or replace temp table nk_life_next as
with now_expected as (
    select *
    from nk_expected
    where night = getvariable('nk_night')
),

params_changed as (
    select coalesce(bool_or(tonight.accepts_emg <> previous_night.accepts_emg), false) as is_changed
    from nk_params as tonight
    inner join nk_params as previous_night
        on tonight.night = getvariable('nk_night') and previous_night.night = tonight.night - 1
),

redelivered_now as (
    select distinct claim_id
    from nk_redelivered_claims
    where night = getvariable('nk_night')
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
),

explained as (
    -- what removed a finding tonight, in the product's order of precedence
    select
        merged.*,
        case
            when gone.claim_id is not null then 'withdrawn'
            when reversed.claim_id is not null then 'reversal'
            when merged.rule_id = 'prior_imaging' and params_changed.is_changed then 'parameter'
            else 'late_evidence'
        end as removed_by,
        redelivered_now.claim_id is not null as is_redelivered
    from merged
    cross join params_changed
    left join nk_withdrawn_claims as gone on merged.claim_id = gone.claim_id
    left join nk_reversed_lines as reversed
        on
            merged.claim_id = reversed.claim_id
            and merged.claim_line_number = reversed.claim_line_number
    left join redelivered_now on merged.claim_id = redelivered_now.claim_id
)

select
    finding_id,
    rule_id,
    data_source,
    claim_id,
    claim_line_number,
    status,
    first_night,
    case when is_expected then 'open' else 'resolved' end as state,
    case
        when is_expected then null
        when previous_state = 'resolved' then previous_resolution
        when removed_by = 'withdrawn' then 'not_in_extract'
        when removed_by = 'reversal' then 'not_audited_now'
        when removed_by = 'parameter' then 'rule_changed'
        else 'passes_now'
    end as resolution,
    times_reopened
    + case when is_expected and previous_state = 'resolved' then 1 else 0 end as times_reopened,
    case
        when is_expected and previous_state = 'resolved' and is_redelivered then 'redelivered'
        when is_expected and previous_state = 'resolved' then 'parameter'
        when is_expected and previous_state is null then 'new'
        when is_expected or previous_state = 'resolved' then previous_cause
        else removed_by
    end as cause
from explained;
