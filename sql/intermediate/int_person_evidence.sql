-- model: int_person_evidence
-- grain: one row per (evidence event, value set it matches) of a person with ESI lines.
-- Events: conservative care (policy 2.2), cervical imaging, EMG/NCS and spine
-- radiographs (2.3), from three places:
--   medical_claim   hcpcs_code (CPT/HCPCS entries), any hcpcs_modifier_1..5 (modifier
--                   entries: GP, GO) and revenue_center_code (revenue entries: 042x),
--                   live lines only (int_person_claim_lines: no reversal, no line a
--                   reversal cancels), dated by service_date;
--   procedure (EHR) source_code or normalized_code (CPT/HCPCS entries) and modifier_1..5,
--                   dated by procedure_date;
--   pharmacy_claim  NDC -> ndc_crosswalk -> (ingredient, route) pairs that count: every
--                   ingredient of drug_conservative_care by a route of
--                   drug_route_conservative_care (oral), and the NSAIDs of drug_nsaid also
--                   by a route of drug_route_nsaid (topical) (policy 1.1). A crosswalk route
--                   lists one or more routes joined by '; ' (jobs/audit/reference.py
--                   normalizes it); the fill counts when any of them counts. Only listed
--                   NDCs count; fills that are reversals or that a reversal cancels do not
--                   (int_reversal_matches); dated by dispensing_date.
-- Which value sets are evidence, of which kind (evidence_kind: conservative_care, imaging,
-- emg, radiograph) and under which label is read from ref_value_set_labels, the one place
-- that names them; the rules select events by evidence_kind.
-- code_display and evidence_label make the evidence sentence ("PT 97110", "PT 97799-GP",
-- "PT GP" for a GP line without a code, "PT rev 0420", "Rx gabapentin 65862019801"); every
-- part is present or replaced, so the text is never empty (policy section 5).

with

person_claim_lines as (
    select * from int_person_claim_lines
),

esi_persons as (
    select * from int_esi_persons
),

evidence_labels as (
    select
        value_set,
        evidence_kind,
        coalesce(evidence_label, value_set) as evidence_label
    from ref_value_set_labels
    where evidence_kind is not null
),

evidence_value_sets as (
    select
        value_sets.value_set,
        value_sets.code,
        value_sets.code_system,
        evidence_labels.evidence_kind,
        evidence_labels.evidence_label
    from value_sets
    inner join evidence_labels
        on value_sets.value_set = evidence_labels.value_set
),

procedure_value_sets as (
    select *
    from evidence_value_sets
    where code_system in ('CPT', 'HCPCS')
),

modifier_value_sets as (
    select *
    from evidence_value_sets
    where code_system = 'modifier'
),

revenue_value_sets as (
    select *
    from evidence_value_sets
    where code_system = 'revenue'
),

person_procedures as (
    -- keys first
    select  -- noqa: ST06
        procedure.person_id,
        procedure.procedure_date,
        coalesce(procedure.normalized_code, procedure.source_code) as procedure_code,
        procedure.source_code,
        procedure.normalized_code,
        procedure.modifier_1,
        procedure.modifier_2,
        procedure.modifier_3,
        procedure.modifier_4,
        procedure.modifier_5
    from procedure
    inner join esi_persons
        on procedure.person_id = esi_persons.person_id
),

cancelled_fills as (
    select
        source_key,
        original_claim_id as claim_id,
        original_claim_line_number as claim_line_number
    from int_reversal_matches
    where table_name = 'pharmacy_claim'
),

person_fills as (
    select
        pharmacy_claim.person_id,
        pharmacy_claim.dispensing_date,
        pharmacy_claim.ndc_code
    from pharmacy_claim
    inner join esi_persons
        on pharmacy_claim.person_id = esi_persons.person_id
    where
        not coalesce(pharmacy_claim.paid_amount < 0, false)
        and not exists (
            select 1
            from cancelled_fills
            where
                cancelled_fills.source_key = coalesce(pharmacy_claim.data_source, '')
                and cancelled_fills.claim_id = pharmacy_claim.claim_id
                and cancelled_fills.claim_line_number = pharmacy_claim.claim_line_number
        )
),

-- (ingredient, route) pairs that count: each ingredient list with its route list
counting_drug_routes as (
    select
        ingredients.code as ingredient,
        routes.code as route
    from value_sets as ingredients
    inner join value_sets as routes
        on
            ingredients.value_set = 'drug_conservative_care'
            and routes.value_set = 'drug_route_conservative_care'

    union all

    select
        ingredients.code as ingredient,
        routes.code as route
    from value_sets as ingredients
    inner join value_sets as routes
        on
            ingredients.value_set = 'drug_nsaid'
            and routes.value_set = 'drug_route_nsaid'
),

medical_code_events as (
    select
        person_claim_lines.person_id,
        person_claim_lines.service_date as event_date,
        procedure_value_sets.value_set,
        procedure_value_sets.evidence_kind,
        procedure_value_sets.evidence_label,
        procedure_value_sets.code as code_display,
        'medical_claim' as evidence_source
    from person_claim_lines
    inner join procedure_value_sets
        on person_claim_lines.hcpcs_code = procedure_value_sets.code
),

medical_line_modifiers as (
    select
        person_id,
        service_date as event_date,
        hcpcs_code,
        hcpcs_modifier_1 as modifier
    from person_claim_lines
    where hcpcs_modifier_1 is not null

    union all

    select
        person_id,
        service_date as event_date,
        hcpcs_code,
        hcpcs_modifier_2 as modifier
    from person_claim_lines
    where hcpcs_modifier_2 is not null

    union all

    select
        person_id,
        service_date as event_date,
        hcpcs_code,
        hcpcs_modifier_3 as modifier
    from person_claim_lines
    where hcpcs_modifier_3 is not null

    union all

    select
        person_id,
        service_date as event_date,
        hcpcs_code,
        hcpcs_modifier_4 as modifier
    from person_claim_lines
    where hcpcs_modifier_4 is not null

    union all

    select
        person_id,
        service_date as event_date,
        hcpcs_code,
        hcpcs_modifier_5 as modifier
    from person_claim_lines
    where hcpcs_modifier_5 is not null
),

medical_modifier_events as (
    select
        medical_line_modifiers.person_id,
        medical_line_modifiers.event_date,
        modifier_value_sets.value_set,
        modifier_value_sets.evidence_kind,
        modifier_value_sets.evidence_label,
        -- a line without a code is described by its modifier (policy section 5)
        coalesce(medical_line_modifiers.hcpcs_code || '-', '') || modifier_value_sets.code as code_display,
        'medical_claim' as evidence_source
    from medical_line_modifiers
    inner join modifier_value_sets
        on medical_line_modifiers.modifier = modifier_value_sets.code
),

medical_revenue_events as (
    select
        person_claim_lines.person_id,
        person_claim_lines.service_date as event_date,
        revenue_value_sets.value_set,
        revenue_value_sets.evidence_kind,
        revenue_value_sets.evidence_label,
        'rev ' || revenue_value_sets.code as code_display,
        'medical_claim' as evidence_source
    from person_claim_lines
    inner join revenue_value_sets
        on person_claim_lines.revenue_center_code = revenue_value_sets.code
),

procedure_code_events as (
    select
        person_procedures.person_id,
        person_procedures.procedure_date as event_date,
        procedure_value_sets.value_set,
        procedure_value_sets.evidence_kind,
        procedure_value_sets.evidence_label,
        procedure_value_sets.code as code_display,
        'procedure' as evidence_source
    from person_procedures
    inner join procedure_value_sets
        on person_procedures.source_code = procedure_value_sets.code

    union all

    select
        person_procedures.person_id,
        person_procedures.procedure_date as event_date,
        procedure_value_sets.value_set,
        procedure_value_sets.evidence_kind,
        procedure_value_sets.evidence_label,
        procedure_value_sets.code as code_display,
        'procedure' as evidence_source
    from person_procedures
    inner join procedure_value_sets
        on person_procedures.normalized_code = procedure_value_sets.code
),

procedure_modifiers as (
    select
        person_id,
        procedure_date as event_date,
        procedure_code,
        modifier_1 as modifier
    from person_procedures
    where modifier_1 is not null

    union all

    select
        person_id,
        procedure_date as event_date,
        procedure_code,
        modifier_2 as modifier
    from person_procedures
    where modifier_2 is not null

    union all

    select
        person_id,
        procedure_date as event_date,
        procedure_code,
        modifier_3 as modifier
    from person_procedures
    where modifier_3 is not null

    union all

    select
        person_id,
        procedure_date as event_date,
        procedure_code,
        modifier_4 as modifier
    from person_procedures
    where modifier_4 is not null

    union all

    select
        person_id,
        procedure_date as event_date,
        procedure_code,
        modifier_5 as modifier
    from person_procedures
    where modifier_5 is not null
),

procedure_modifier_events as (
    select
        procedure_modifiers.person_id,
        procedure_modifiers.event_date,
        modifier_value_sets.value_set,
        modifier_value_sets.evidence_kind,
        modifier_value_sets.evidence_label,
        coalesce(procedure_modifiers.procedure_code || '-', '') || modifier_value_sets.code as code_display,
        'procedure' as evidence_source
    from procedure_modifiers
    inner join modifier_value_sets
        on procedure_modifiers.modifier = modifier_value_sets.code
),

pharmacy_events as (
    select
        person_fills.person_id,
        person_fills.dispensing_date as event_date,
        drug_labels.value_set,
        drug_labels.evidence_kind,
        drug_labels.evidence_label,
        counting_drug_routes.ingredient || ' ' || ndc_crosswalk.ndc as code_display,
        'pharmacy_claim' as evidence_source
    from person_fills
    inner join ndc_crosswalk
        on person_fills.ndc_code = ndc_crosswalk.ndc
    inner join counting_drug_routes
        on ndc_crosswalk.ingredient = counting_drug_routes.ingredient
    inner join evidence_labels as drug_labels
        on drug_labels.value_set = 'drug_conservative_care'
    where ('; ' || ndc_crosswalk.route || '; ') like ('%; ' || counting_drug_routes.route || '; %')
),

all_events as (
    select * from medical_code_events
    union all
    select * from medical_modifier_events
    union all
    select * from medical_revenue_events
    union all
    select * from procedure_code_events
    union all
    select * from procedure_modifier_events
    union all
    select * from pharmacy_events
),

final as (
    select distinct
        person_id,
        event_date,
        value_set,
        evidence_kind,
        evidence_label,
        code_display,
        evidence_source
    from all_events
    where event_date is not null
)

select * from final
