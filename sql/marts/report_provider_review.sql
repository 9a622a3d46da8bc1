-- model: report_provider_review
-- grain: one row per rendering provider ('' = missing NPI) with findings in this run:
-- n_open (findings without a current decision: new or open), n_new (first seen in this
-- run), n_decided (findings with a current decision: confirmed, not_an_error, education,
-- waived; an expired waiver is open again).

with

findings as (
    select
        review_state,
        coalesce(rendering_npi, '') as provider_key
    from findings
),

final as (
    select
        provider_key,
        count(*) filter (where review_state in ('new', 'open')) as n_open,
        count(*) filter (where review_state = 'new') as n_new,
        count(*) filter (where review_state not in ('new', 'open')) as n_decided
    from findings
    group by provider_key
)

select * from final
order by provider_key
