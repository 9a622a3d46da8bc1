-- model: report_provider_rules
-- grain: one row per (rendering provider, rule id) with findings; provider_key '' when the
-- NPI is missing. n_findings counts (line, rule) rows, as in exceptions.csv.

with

findings as (
    select * from findings
),

final as (
    select
        rule_id,
        coalesce(rendering_npi, '') as provider_key,
        count(*) as n_findings
    from findings
    group by coalesce(rendering_npi, ''), rule_id
)

select * from final
order by provider_key, rule_id
