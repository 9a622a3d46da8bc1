-- table: worklist (written as worklist.csv)
-- grain: one row per open finding (flagged by this run) without a current decision:
-- review_state new or open (an expired waiver is open again). The reviewers' queue:
-- oldest first (first_seen_on), then the largest paid amount, then finding_id.
-- age_days: days from first_seen_on to the run's date; is_new: first seen in this run.

with

this_run as (
    select
        $run_id as run_id,  -- noqa: AL09
        cast($run_date as date) as run_date
),

queue as (
    select *
    from finding_lifecycle
    where state = 'open' and review_state in ('new', 'open')
),

providers as (
    select
        npi,
        min(
            nullif(
                trim(concat_ws(' ', nullif(trim(first_name), ''), nullif(trim(last_name), ''))),
                ''
            )
        ) as provider_name,
        min(nullif(trim(practice_affiliation), '')) as affiliation,
        min(nullif(trim(specialty), '')) as specialty
    from practitioner
    where npi is not null
    group by npi
),

final as (
    select  -- noqa: ST06
        row_number() over (
            order by queue.first_seen_on asc, queue.paid_amount desc nulls last, queue.finding_id asc
        ) as queue_position,
        this_run.run_id,
        queue.finding_id,
        queue.first_seen_on,
        date_diff('day', queue.first_seen_on, this_run.run_date) as age_days,
        queue.first_seen_run_id = this_run.run_id as is_new,
        queue.times_reopened,
        queue.rule_id,
        queue.status,
        queue.severity,
        queue.data_source,
        queue.claim_id,
        queue.claim_line_number,
        queue.service_date,
        queue.hcpcs_code,
        queue.paid_amount,
        queue.person_id,
        queue.rendering_npi,
        coalesce(providers.provider_name, providers.affiliation) as provider_name,
        providers.specialty as provider_specialty,
        queue.evidence
    from queue
    left join providers on queue.rendering_npi = providers.npi
    cross join this_run
)

select * from final
order by queue_position
