-- rule_id: guidance_unbundled
-- version: 1.1.0
-- title: Fluoroscopic or CT guidance billed apart from an injection code that includes it
-- severity: medium
-- statuses: fail
-- grain: one row per 77003/77012 medical-claim line (the guidance line itself, its own NPI and amount)
-- value_sets: guidance_fluoro_ct, esi_cervical_thoracic
-- parameters:
-- citation: Policy section 3; CPT definitions (2017 interlaminar code set, 64479/64480 include imaging);
--   NCCI bundling of 77003/77012
--
-- Readings:
-- - Every live 77003/77012 line (any claim type, any modifier such as 26 or TC, any
--   amount; neither a reversal nor a line a reversal cancels) of a person who, on that
--   date, has an audited ESI line whose code includes guidance: 62321/62325 on or after
--   2017-01-01, 64479/64480 on or after 2011-01-01 (ref_esi_codes.bundles_guidance_from).
--   Legacy codes, 0228T, lines excluded as thoracic and reversed lines never trigger it.
-- - A folded 64480 is an audited 64480 line on its own service date (policy 1.1), even
--   when its primary 64479 is on another date (int_esi_session_lines).
-- - One finding per guidance line; the evidence names one including ESI line (lowest
--   code, then claim id, then line number).

with

guidance_lines as (
    select * from int_guidance_lines
),

including_lines as (
    select *
    from int_esi_session_lines
    where
        bundles_guidance_from is not null
        and service_date >= bundles_guidance_from
),

matched as (
    select
        guidance_lines.*,
        including_lines.hcpcs_code as including_hcpcs_code,
        including_lines.claim_id as including_claim_id,
        including_lines.bundles_guidance_from,
        row_number() over (
            partition by guidance_lines.source_key, guidance_lines.claim_id, guidance_lines.claim_line_number
            order by including_lines.hcpcs_code, including_lines.claim_id, including_lines.claim_line_number
        ) as match_rank
    from guidance_lines
    inner join including_lines
        on
            guidance_lines.person_id = including_lines.person_id
            and guidance_lines.service_date = including_lines.service_date
),

final as (
    select
        'guidance_unbundled' as rule_id,
        'fail' as status,
        'medium' as severity,
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        rendering_npi,
        service_date,
        hcpcs_code,
        paid_amount,
        hcpcs_code || ' billed on ' || cast(service_date as varchar) || ' with '
        || including_hcpcs_code || ' (claim ' || including_claim_id || '), which includes imaging guidance since '
        || cast(bundles_guidance_from as varchar) as evidence
    from matched
    where match_rank = 1
)

select * from final
