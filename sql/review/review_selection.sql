-- model: review_selection
-- grain: one row per frame line of a new sample (the rows of review_sample_frames).
-- Each line falls in the stratum whose paid-amount bounds hold it (lower inclusive,
-- upper exclusive, in cents; the last stratum has no upper bound). Within a stratum the
-- lines are ranked by random_key (ties, which SHA-256 makes practically impossible, by
-- the line's keys) and the n_sample first are drawn: a simple random sample without
-- replacement. sample_item numbers the drawn lines by stratum, then key.

with

frame as (
    select * from _review_frame
),

strata as (
    select * from _review_strata
),

stratified as (
    select
        frame.*,
        strata.stratum,
        strata.n_sample
    from frame
    inner join strata
        on
            frame.paid_cents >= strata.lower_cents
            and (strata.upper_cents is null or frame.paid_cents < strata.upper_cents)
),

ranked as (
    select
        *,
        row_number() over (
            partition by stratum
            order by random_key, data_source, claim_id, claim_line_number
        ) as selection_rank
    from stratified
),

drawn as (
    select
        *,
        selection_rank <= n_sample as is_sampled
    from ranked
),

final as (
    select
        $sample_id as sample_id,  -- noqa: AL09
        stratum,
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        service_date,
        hcpcs_code,
        rendering_npi,
        paid_amount,
        is_flagged,
        findings,
        evidence,
        random_key,
        selection_rank,
        is_sampled,
        case
            when is_sampled
                then
                    row_number() over (
                        partition by is_sampled
                        order by stratum, data_source, claim_id, claim_line_number
                    )
        end as sample_item
    from drawn
)

select * from final
order by stratum, data_source, claim_id, claim_line_number
