-- model: report_esi_lines
-- grain: one row per line status of the run's ESI lines: 'audited', or the exclusion
-- reason of mart_esi_lines ('thoracic', 'reversal', 'folded_addon').
-- What the report's summary counts as audited and excluded. Sessions are distinct
-- (person, service date) of audited lines; paid_amount is each line's own amount.

with

esi_lines as (
    select * from mart_esi_lines
),

final as (
    select
        coalesce(exclusion_reason, 'audited') as line_status,
        count(*) as n_lines,
        count(distinct case when exclusion_reason is null then person_id || '|' || cast(service_date as varchar) end)
            as n_sessions,
        count(distinct case when exclusion_reason is null then rendering_npi end) as n_providers,
        sum(paid_amount) as paid_amount,
        min(service_date) as first_service_date,
        max(service_date) as last_service_date
    from esi_lines
    group by coalesce(exclusion_reason, 'audited')
)

select * from final
order by line_status
