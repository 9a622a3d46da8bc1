-- model: int_person_claim_lines
-- grain: one row per live medical_claim line of a person in int_esi_persons (the history
--        that evidence, guidance lines and sessions are read from).
-- Live: neither a reversal (negative paid amount) nor a line a reversal cancels
-- (int_reversal_matches): neither is evidence (policy section 1).

with

esi_persons as (
    select * from int_esi_persons
),

medical_reversal_matches as (
    select * from int_reversal_matches
    where table_name = 'medical_claim'
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
    where
        not coalesce(paid_amount < 0, false)
        and not exists (
            select 1
            from medical_reversal_matches as cancelled
            where
                cancelled.source_key = person_claim_lines.source_key
                and cancelled.original_claim_id = person_claim_lines.claim_id
                and cancelled.original_claim_line_number = person_claim_lines.claim_line_number
        )
)

select * from final
