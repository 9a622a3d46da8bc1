-- model: int_esi_sessions
-- grain: one row per session = (person_id, service_date) with at least one audited
--        ESI line (policy sections 1 and 3: the unit Medicare and OIG count).

with

esi_lines as (
    select * from int_esi_lines
),

final as (
    select
        person_id,
        service_date,
        count(*) as n_audited_lines
    from esi_lines
    where exclusion_reason is null
    group by person_id, service_date
)

select * from final
