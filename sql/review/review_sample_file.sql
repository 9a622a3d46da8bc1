-- model: review_sample_file
-- grain: one row per sampled line of sample $sample_id: the reviewers' file. It carries
-- what the estimate needs (stratum, its frame size N and sample size n, the paid amount)
-- so that anyone can recompute the estimate from the file alone, and empty columns for
-- the reviewer.

with

frames as (
    select * from review_sample_frames
    where sample_id = $sample_id
),

strata as (
    select
        stratum,
        count(*) as stratum_size,
        count(*) filter (where is_sampled) as stratum_sample_size
    from frames
    group by stratum
),

final as (
    select
        f.sample_id,
        f.sample_item,
        f.stratum,
        s.stratum_size,
        s.stratum_sample_size,
        f.data_source,
        f.claim_id,
        f.claim_line_number,
        f.person_id,
        f.service_date,
        f.hcpcs_code,
        f.rendering_npi,
        f.paid_amount,
        f.findings,
        f.evidence,
        cast(null as varchar) as overpayment_amount,
        cast(null as varchar) as reviewer,
        cast(null as varchar) as note
    from frames as f
    inner join strata as s on f.stratum = s.stratum
    where f.is_sampled
)

select * from final
order by sample_item
