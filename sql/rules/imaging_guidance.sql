-- rule_id: imaging_guidance
-- version: 1.1.0
-- title: Fluoroscopic or CT guidance is billed
-- severity: high
-- statuses: fail
-- grain: one row per audited ESI line (a folded add-on reported on its primary) without qualifying imaging guidance
-- value_sets: esi_cervical_thoracic, guidance_fluoro_ct
-- parameters:
-- citation: Policy section 2.4; LCD L39240/A58993 (fluoroscopic guidance required);
--   CPT definitions (62321/62325 and 64479/64480 include imaging guidance)
--
-- Readings (per line, by its code's attributes in ref_esi_codes):
-- - guidance built in (62321, 62325 always; 64479/64480 from 2011-01-01): pass.
-- - guidance billed apart (62310, 62318; 64479/64480 before 2011-01-01): pass only when
--   the person has a live 77003/77012 line on the same service date, any claim: a
--   reversal line, and a line a reversal cancels, supply no guidance (policy 1.1).
-- - no imaging (62320, 62324) or ultrasound (0228T, 0229T): fail whatever else the
--   session holds.
-- - A folded primary is judged by its own code (64480 folds into 64479) on its own date.
-- - Lines a reversal cancels are not audited (policy 1.1).

with

audited_lines as (
    select *
    from int_esi_lines
    where exclusion_reason is null
),

guidance_days as (
    select distinct
        person_id,
        service_date
    from int_guidance_lines
),

assessed as (
    select
        audited_lines.*,
        case
            when
                audited_lines.guidance = 'built_in'
                and (
                    audited_lines.guidance_built_in_from is null
                    or audited_lines.service_date >= audited_lines.guidance_built_in_from
                )
                then 'included'
            when audited_lines.guidance in ('built_in', 'separate') then 'billed_apart'
            else 'not_qualifying'
        end as guidance_requirement,
        guidance_days.person_id is not null as has_guidance_line
    from audited_lines
    left join guidance_days
        on
            audited_lines.person_id = guidance_days.person_id
            and audited_lines.service_date = guidance_days.service_date
),

final as (
    select
        'imaging_guidance' as rule_id,
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
            when guidance_requirement = 'billed_apart'
                then
                    hcpcs_code || ' on ' || cast(service_date as varchar)
                    || ' does not include guidance and no fluoroscopic/CT guidance line'
                    || ' was billed for the person that day'
            when guidance = 'ultrasound'
                then hcpcs_code || ' uses ultrasound guidance, which does not qualify'
            else hcpcs_code || ' is an injection without imaging guidance'
        end as evidence
    from assessed
    where
        guidance_requirement = 'not_qualifying'
        or (guidance_requirement = 'billed_apart' and not has_guidance_line)
)

select * from final
