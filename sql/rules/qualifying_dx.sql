-- rule_id: qualifying_dx
-- version: 1.1.0
-- title: A qualifying cervical radicular diagnosis is on the claim
-- severity: high
-- statuses: fail
-- grain: one row per audited ESI line (a folded add-on reported on its primary)
--   whose claim has no qualifying diagnosis
-- value_sets: dx_cervical_qualifying, dx_cervical_stenosis, dx_radicular, dx_exempt_postprocedural,
--   dx_neck_pain_nonradicular
-- parameters: stenosis_requires_radicular_dx
-- citation: Policy section 2.1 and 6; LCD L39240/A58993, L39036/A58745, L39015/A58731, L33906/A56651,
--   L36920/A56681, L38994/A58695, L39054/A58777 (indications: radiculopathy)
--
-- Readings:
-- - Audited lines only: reversal lines and the lines they cancel are not audited (policy
--   1.1). Diagnoses are those of every live line of the claim (int_esi_claims): a reversal
--   line and a line a reversal cancels contribute none.
-- - Exempt: G89.12 / G89.18 anywhere on the claim: the line passes and is counted exempt.
-- - Stenosis codes (M48.01-M48.03, M99.21-M99.71 cervical) qualify alone unless
--   stenosis_requires_radicular_dx; then they need a radicular code on the claim, read
--   as written in policy section 6 (M50.1x, M47.2x, M54.1x, G54.2, G55 - any level).
-- - Non-radicular neck pain codes never qualify; the evidence names the first one found.

with

audited_lines as (
    select *
    from int_esi_lines
    where exclusion_reason is null
),

assessed as (
    select
        *,
        (
            has_qualifying_non_stenosis_dx
            or (has_stenosis_dx and (not $stenosis_requires_radicular_dx or has_radicular_dx))
        ) as is_qualified
    from audited_lines
    where not is_exempt_postprocedural
),

final as (
    select
        'qualifying_dx' as rule_id,
        'fail' as status,
        'high' as severity,
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        rendering_npi,
        service_date,
        hcpcs_code,
        audited_paid_amount as paid_amount,
        case
            when has_stenosis_dx
                then
                    'stenosis ' || first_stenosis_code
                    || ' without a radicular diagnosis on the claim (stenosis_requires_radicular_dx)'
            when first_neck_pain_code is not null
                then
                    'only non-radicular neck pain (' || first_neck_pain_code
                    || '), no qualifying radicular diagnosis on the claim'
            else 'no qualifying cervical radicular diagnosis on the claim'
        end || '; claim diagnoses: ' || diagnosis_list as evidence
    from assessed
    where not is_qualified
)

select * from final
