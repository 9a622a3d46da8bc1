-- rule_id: myelopathy_review
-- version: 1.1.0
-- title: Myelopathy diagnosis on the injection claim
-- severity: review
-- statuses: review
-- grain: one row per audited ESI line (a folded add-on reported on its primary) whose claim has a myelopathy diagnosis
-- value_sets: dx_myelopathy
-- parameters:
-- citation: Policy section 3; seed clinical summary (no myelopathy); LCD L39240/A58993 contraindications
--
-- Readings: audited lines only (a line a reversal cancels is not audited, policy 1.1);
-- diagnoses of every live line of the claim (no reversal line, no cancelled line); the
-- evidence names the first myelopathy code in claim order.

with

audited_lines as (
    select *
    from int_esi_lines
    where exclusion_reason is null
),

final as (
    select
        'myelopathy_review' as rule_id,
        'review' as status,
        'review' as severity,
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        rendering_npi,
        service_date,
        hcpcs_code,
        audited_paid_amount as paid_amount,
        'myelopathy diagnosis ' || first_myelopathy_code
        || ' on the claim: cord compression calls for surgical evaluation, not injection' as evidence
    from audited_lines
    where has_myelopathy_dx
)

select * from final
