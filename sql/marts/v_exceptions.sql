-- v_exceptions: the findings of the latest successful run, with the provider's
-- name when a practitioner extract was supplied.
-- grain: one row per (audited line, failed rule); for guidance_unbundled the
-- line is the 77003/77012 line.
with

findings as (
    select * from findings
),

practitioner as (
    select
        npi,
        min(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))) as provider_name,
        min(specialty) as specialty
    from practitioner
    group by npi
),

final as (
    -- every column of findings, whatever it holds, then the provider's name
    select
        f.*,
        p.provider_name,
        p.specialty
    from findings as f
    left join practitioner as p on f.rendering_npi = p.npi
)

select * from final  -- noqa: AM04
