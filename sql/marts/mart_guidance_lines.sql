-- model: mart_guidance_lines
-- grain: one row per 77003/77012 medical-claim line (value set guidance_fluoro_ct) of a
-- person with at least one ESI line (reversals included), reversal lines included.
-- is_audited: the line is one guidance_unbundled checks (it is in int_guidance_lines);
-- a reversal (or a line a reversal cancels) is not. The finding lifecycle reads it to
-- tell a guidance line that passes now from one that is gone or no longer audited.

with

esi_persons as (
    select distinct person_id
    from int_esi_claim_lines
),

guidance_codes as (
    select code
    from value_sets
    where value_set = 'guidance_fluoro_ct'
),

guidance_lines as (
    select
        medical_claim.data_source,
        medical_claim.claim_id,
        medical_claim.claim_line_number,
        medical_claim.person_id,
        medical_claim.service_date,
        medical_claim.hcpcs_code,
        medical_claim.rendering_npi,
        medical_claim.paid_amount
    from medical_claim
    inner join esi_persons
        on medical_claim.person_id = esi_persons.person_id
    inner join guidance_codes
        on medical_claim.hcpcs_code = guidance_codes.code
),

audited_keys as (
    select distinct
        source_key,
        claim_id,
        claim_line_number
    from int_guidance_lines
),

final as (
    select
        $run_id as run_id,  -- noqa: AL09, RF02
        guidance_lines.data_source,
        guidance_lines.claim_id,
        guidance_lines.claim_line_number,
        guidance_lines.person_id,
        guidance_lines.service_date,
        guidance_lines.hcpcs_code,
        guidance_lines.rendering_npi,
        guidance_lines.paid_amount,
        audited_keys.claim_id is not null as is_audited
    from guidance_lines
    left join audited_keys
        on
            guidance_lines.claim_id = audited_keys.claim_id
            and guidance_lines.claim_line_number = audited_keys.claim_line_number
            and coalesce(guidance_lines.data_source, '') = audited_keys.source_key
)

select * from final
