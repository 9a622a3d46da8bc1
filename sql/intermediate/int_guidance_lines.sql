-- model: int_guidance_lines
-- grain: one row per live 77003/77012 medical_claim line (value set guidance_fluoro_ct)
--        of a person with ESI lines, any claim type, any modifier: neither a reversal nor a
--        line a reversal cancels (int_person_claim_lines, policy 1.1).
-- Used by imaging_guidance (guidance billed the same day, any claim) and
-- guidance_unbundled (keyed on these lines).

with

person_claim_lines as (
    select * from int_person_claim_lines
),

guidance_codes as (
    select code
    from value_sets
    where value_set = 'guidance_fluoro_ct'
),

final as (
    select
        person_claim_lines.source_key,
        person_claim_lines.data_source,
        person_claim_lines.claim_id,
        person_claim_lines.claim_line_number,
        person_claim_lines.person_id,
        person_claim_lines.claim_type,
        person_claim_lines.service_date,
        person_claim_lines.hcpcs_code,
        person_claim_lines.rendering_npi,
        person_claim_lines.paid_amount
    from person_claim_lines
    inner join guidance_codes
        on person_claim_lines.hcpcs_code = guidance_codes.code
)

select * from final
