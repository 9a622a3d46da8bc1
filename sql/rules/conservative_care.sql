-- rule_id: conservative_care
-- version: 1.1.0
-- title: Six weeks of conservative care before the injection
-- severity: high
-- statuses: fail, insufficient_history
-- grain: one row per audited ESI line (a folded add-on reported on its primary)
--   without conservative care begun in time
-- value_sets: conservative_care_pt, conservative_care_ot, conservative_care_chiropractic,
--   conservative_care_osteopathic, conservative_care_cervical_dme, conservative_care_rtm,
--   drug_conservative_care, drug_route_conservative_care, drug_nsaid, drug_route_nsaid,
--   dx_exempt_herpes_zoster
-- parameters: conservative_min_days, conservative_lookback_days, eligibility_supplied
-- citation: Policy section 2.2 and 4; LCD L39240/A58993 (4 weeks of conservative care);
--   eviCore CMM-200, Carelon, BCBS (six weeks)
--
-- Readings:
-- - Window [service_date - conservative_lookback_days, service_date): the injection day
--   itself is not evidence. Passes when the earliest evidence in the window is at least
--   conservative_min_days before the service date (so 42 days passes, 41 fails).
-- - Evidence from medical claims, the EHR procedure extract and pharmacy fills
--   (int_person_evidence, evidence_kind conservative_care: the value sets
--   ref_value_set_labels assigns to it); ties on the earliest date are broken by
--   evidence_label, then code.
-- - Drug fills count by (ingredient, route): every listed ingredient when oral, NSAIDs also
--   when topical (policy 1.1); a crosswalk route of several routes counts when any does.
-- - Reversal lines and fills, and the lines and fills they cancel, are no evidence
--   (policy 1.1); a cancelled injection is not audited.
-- - Exempt: any B02 code on the claim.
-- - insufficient_history when an eligibility extract was supplied and no merged
--   enrollment span covers the window through the day before the injection (section 4).

with

audited_lines as (
    select
        *,
        cast(service_date - interval ($conservative_lookback_days) day as date) as window_start_date,
        cast(service_date - interval 1 day as date) as window_end_date
    from int_esi_lines
    where exclusion_reason is null and not is_exempt_herpes_zoster
),

care_events as (
    select *
    from int_person_evidence
    where evidence_kind = 'conservative_care'
),

enrollment_spans as (
    select * from int_enrollment_spans
),

ranked_care as (
    select
        audited_lines.source_key,
        audited_lines.claim_id,
        audited_lines.claim_line_number,
        care_events.event_date,
        care_events.evidence_label,
        care_events.code_display,
        row_number() over (
            partition by audited_lines.source_key, audited_lines.claim_id, audited_lines.claim_line_number
            order by care_events.event_date, care_events.evidence_label, care_events.code_display
        ) as event_rank
    from audited_lines
    inner join care_events
        on audited_lines.person_id = care_events.person_id
    where
        care_events.event_date >= audited_lines.window_start_date
        and care_events.event_date < audited_lines.service_date
),

first_care as (
    select *
    from ranked_care
    where event_rank = 1
),

covering_spans as (
    select
        audited_lines.source_key,
        audited_lines.claim_id,
        audited_lines.claim_line_number,
        count(*) as n_covering_spans
    from audited_lines
    inner join enrollment_spans
        on audited_lines.person_id = enrollment_spans.person_id
    where
        enrollment_spans.span_start_date <= audited_lines.window_start_date
        and enrollment_spans.span_end_date >= audited_lines.window_end_date
    group by audited_lines.source_key, audited_lines.claim_id, audited_lines.claim_line_number
),

assessed as (
    select
        audited_lines.*,
        first_care.event_date as first_care_date,
        first_care.evidence_label as first_care_label,
        first_care.code_display as first_care_code,
        date_diff('day', first_care.event_date, audited_lines.service_date) as n_care_days,
        $eligibility_supplied and covering_spans.n_covering_spans is null as is_history_incomplete  -- noqa: RF02
    from audited_lines
    left join first_care
        on
            audited_lines.source_key = first_care.source_key
            and audited_lines.claim_id = first_care.claim_id
            and audited_lines.claim_line_number = first_care.claim_line_number
    left join covering_spans
        on
            audited_lines.source_key = covering_spans.source_key
            and audited_lines.claim_id = covering_spans.claim_id
            and audited_lines.claim_line_number = covering_spans.claim_line_number
),

final as (
    -- the contract's column order
    select  -- noqa: ST06
        'conservative_care' as rule_id,
        case when is_history_incomplete then 'insufficient_history' else 'fail' end as status,
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
            when first_care_date is null
                then
                    'no conservative care ' || cast(window_start_date as varchar)
                    || '..' || cast(window_end_date as varchar)
                    || '; ' || cast($conservative_min_days as varchar) || ' days required'
            else
                'first conservative care ' || cast(first_care_date as varchar)
                || ' (' || first_care_label || ' ' || first_care_code || '), '
                || cast(n_care_days as varchar) || ' days before injection; '
                || cast($conservative_min_days as varchar) || ' required'
        end
        || case
            when is_history_incomplete
                then
                    '; not continuously enrolled ' || cast(window_start_date as varchar)
                    || '..' || cast(window_end_date as varchar)
            else ''
        end as evidence
    from assessed
    where first_care_date is null or n_care_days < $conservative_min_days
)

select * from final
