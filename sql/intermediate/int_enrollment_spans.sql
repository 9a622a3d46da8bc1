-- model: int_enrollment_spans
-- grain: one row per merged enrollment span of a person with ESI lines.
-- Policy section 4: spans are merged when they overlap or when one starts the day
-- after another ends; a missing end date means still enrolled (span_end_date
-- 9999-12-31, is_open_ended). Gaps-and-islands: a span opens a new island when it
-- starts more than one day after the latest end seen so far. Rows whose end date
-- precedes their start date are not enrollment and are ignored.

with

esi_persons as (
    select * from int_esi_persons
),

spans as (
    select
        eligibility.person_id,
        eligibility.enrollment_start_date as start_date,
        coalesce(eligibility.enrollment_end_date, cast('9999-12-31' as date)) as end_date
    from eligibility
    inner join esi_persons
        on eligibility.person_id = esi_persons.person_id
    where
        eligibility.enrollment_end_date is null
        or eligibility.enrollment_end_date >= eligibility.enrollment_start_date
),

with_prior_end as (
    select
        *,
        max(end_date) over (
            partition by person_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as prior_max_end_date
    from spans
),

islands as (
    select
        *,
        sum(
            case
                when prior_max_end_date is null then 1
                when date_diff('day', prior_max_end_date, start_date) > 1 then 1
                else 0
            end
        ) over (
            partition by person_id
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as span_number
    from with_prior_end
),

final as (
    select
        person_id,
        span_number,
        min(start_date) as span_start_date,
        max(end_date) as span_end_date,
        max(end_date) = cast('9999-12-31' as date) as is_open_ended
    from islands
    group by person_id, span_number
)

select * from final
