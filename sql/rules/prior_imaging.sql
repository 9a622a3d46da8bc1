-- rule_id: prior_imaging
-- version: 1.1.0
-- title: A prior MRI or CT of the cervical spine
-- severity: high
-- statuses: fail, insufficient_history
-- grain: one row per audited ESI line (a folded add-on reported on its primary)
--   without cervical imaging in the look-back
-- value_sets: imaging_cervical_spine, emg_ncs, imaging_spine_radiograph
-- parameters: imaging_lookback_days, imaging_accepts_emg, eligibility_supplied
-- citation: Policy section 2.3 and 4; LCD L39240/A58993 (radiculopathy confirmed by imaging);
--   eviCore CMM-200 (24 months), Carelon (18 months)
--
-- Readings:
-- - Window [service_date - imaging_lookback_days, service_date]: a study on the
--   injection day counts, one after it does not (730 days before counts, 731 does not).
-- - Medical claims and the EHR procedure extract both count (int_person_evidence,
--   evidence_kind imaging; emg and radiograph as below). A reversed study (cancelled by a
--   reversal, policy 1.1) and the reversal itself are no evidence.
-- - EMG/NCS counts only when imaging_accepts_emg; spine radiographs never count. Both
--   appear in the evidence as "latest spine imaging" (latest on or before the injection
--   day; ties broken by evidence_label, then code), so a reviewer sees what was found.
-- - insufficient_history when an eligibility extract was supplied and no merged
--   enrollment span covers the window through the injection day (section 4).

with

audited_lines as (
    select
        *,
        cast(service_date - interval ($imaging_lookback_days) day as date) as window_start_date
    from int_esi_lines
    where exclusion_reason is null
),

spine_imaging_events as (
    select
        *,
        (
            evidence_kind = 'imaging'
            or (evidence_kind = 'emg' and $imaging_accepts_emg)
        ) as is_qualifying_study
    from int_person_evidence
    where evidence_kind in ('imaging', 'emg', 'radiograph')
),

enrollment_spans as (
    select * from int_enrollment_spans
),

qualifying_studies as (
    select distinct
        audited_lines.source_key,
        audited_lines.claim_id,
        audited_lines.claim_line_number
    from audited_lines
    inner join spine_imaging_events
        on audited_lines.person_id = spine_imaging_events.person_id
    where
        spine_imaging_events.is_qualifying_study
        and spine_imaging_events.event_date >= audited_lines.window_start_date
        and spine_imaging_events.event_date <= audited_lines.service_date
),

ranked_latest_imaging as (
    select
        audited_lines.source_key,
        audited_lines.claim_id,
        audited_lines.claim_line_number,
        spine_imaging_events.event_date,
        spine_imaging_events.evidence_label,
        spine_imaging_events.code_display,
        row_number() over (
            partition by audited_lines.source_key, audited_lines.claim_id, audited_lines.claim_line_number
            order by
                spine_imaging_events.event_date desc,
                spine_imaging_events.evidence_label asc,
                spine_imaging_events.code_display asc
        ) as event_rank
    from audited_lines
    inner join spine_imaging_events
        on audited_lines.person_id = spine_imaging_events.person_id
    where spine_imaging_events.event_date <= audited_lines.service_date
),

latest_imaging as (
    select *
    from ranked_latest_imaging
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
        and enrollment_spans.span_end_date >= audited_lines.service_date
    group by audited_lines.source_key, audited_lines.claim_id, audited_lines.claim_line_number
),

assessed as (
    select
        audited_lines.*,
        latest_imaging.event_date as latest_imaging_date,
        latest_imaging.evidence_label as latest_imaging_label,
        latest_imaging.code_display as latest_imaging_code,
        $eligibility_supplied and covering_spans.n_covering_spans is null as is_history_incomplete  -- noqa: RF02
    from audited_lines
    left join qualifying_studies
        on
            audited_lines.source_key = qualifying_studies.source_key
            and audited_lines.claim_id = qualifying_studies.claim_id
            and audited_lines.claim_line_number = qualifying_studies.claim_line_number
    left join latest_imaging
        on
            audited_lines.source_key = latest_imaging.source_key
            and audited_lines.claim_id = latest_imaging.claim_id
            and audited_lines.claim_line_number = latest_imaging.claim_line_number
    left join covering_spans
        on
            audited_lines.source_key = covering_spans.source_key
            and audited_lines.claim_id = covering_spans.claim_id
            and audited_lines.claim_line_number = covering_spans.claim_line_number
    where qualifying_studies.claim_id is null
),

final as (
    -- the contract's column order
    select  -- noqa: ST06
        'prior_imaging' as rule_id,
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
        'no cervical MRI/CT/myelogram'
        || case when $imaging_accepts_emg then ' or EMG/NCS ' else ' ' end
        || cast(window_start_date as varchar) || '..' || cast(service_date as varchar)
        || '; latest spine imaging: '
        || case
            when latest_imaging_date is null then 'none'
            else
                cast(latest_imaging_date as varchar) || ' (' || latest_imaging_label
                || ' ' || latest_imaging_code || ')'
        end
        || case
            when is_history_incomplete
                then
                    '; not continuously enrolled ' || cast(window_start_date as varchar)
                    || '..' || cast(service_date as varchar)
            else ''
        end as evidence
    from assessed
)

select * from final
