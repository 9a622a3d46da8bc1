-- model: int_person_claim_lines
-- grain: one row per non-reversal medical_claim line of a person in int_esi_persons
--        (the history that evidence, guidance lines and sessions are read from).
-- Reversal lines (negative paid amount) are never evidence (policy section 1).

with

esi_persons as (
    select * from int_esi_persons
),

person_claim_lines as (
    -- keys first
    select  -- noqa: ST06
        coalesce(medical_claim.data_source, '') as source_key,
        medical_claim.data_source,
        medical_claim.claim_id,
        medical_claim.claim_line_number,
        medical_claim.person_id,
        medical_claim.claim_type,
        medical_claim.service_date,
        medical_claim.hcpcs_code,
        medical_claim.hcpcs_modifier_1,
        medical_claim.hcpcs_modifier_2,
        medical_claim.hcpcs_modifier_3,
        medical_claim.hcpcs_modifier_4,
        medical_claim.hcpcs_modifier_5,
        medical_claim.revenue_center_code,
        medical_claim.rendering_npi,
        medical_claim.paid_amount
    from medical_claim
    inner join esi_persons
        on medical_claim.person_id = esi_persons.person_id
),

final as (
    select *
    from person_claim_lines
    where not coalesce(paid_amount < 0, false)
)

select * from final
