-- model: int_esi_claim_lines
-- grain: one row per medical_claim line whose hcpcs_code is in esi_cervical_thoracic,
--        reversals included (flagged), with the code's attributes.
-- A claim is (data_source, claim_id); source_key = coalesce(data_source, '') treats a
-- missing data_source as one source (the loader turns empty strings into NULL, so ''
-- never collides with a real source).

with

esi_codes as (
    select * from int_esi_codes
),

esi_claim_lines as (
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
        medical_claim.service_unit_quantity,
        medical_claim.rendering_npi,
        medical_claim.paid_amount,
        esi_codes.kind,
        esi_codes.is_addon,
        esi_codes.addon_primary_code,
        esi_codes.guidance,
        esi_codes.guidance_built_in_from,
        esi_codes.bundles_guidance_from,
        esi_codes.level_group
    from medical_claim
    inner join esi_codes
        on medical_claim.hcpcs_code = esi_codes.hcpcs_code
),

final as (
    select
        *,
        -- policy section 3: missing or zero units count as one
        case
            when service_unit_quantity is null or service_unit_quantity <= 0 then 1.0
            else service_unit_quantity
        end as n_units,
        -- policy section 1: a negative paid amount is a reversal
        coalesce(paid_amount < 0, false) as is_reversal,
        -- policy section 3: professional, or claim type missing
        (claim_type = 'professional' or claim_type is null) as is_professional
    from esi_claim_lines
)

select * from final
