-- model: int_esi_persons
-- grain: one row per person with at least one non-reversal ESI line.
-- Every history model is restricted to these persons, so the audit touches only
-- their lines however large the extract.

with

esi_claim_lines as (
    select * from int_esi_claim_lines
),

final as (
    select distinct person_id
    from esi_claim_lines
    where not is_reversal
)

select * from final
