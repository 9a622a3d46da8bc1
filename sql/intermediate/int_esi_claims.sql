-- model: int_esi_claims
-- grain: one row per claim (source_key, claim_id) holding an ESI line.
-- Claim-level diagnosis facts every rule shares: region (policy section 1),
-- qualifying / stenosis / radicular diagnoses (2.1, 6), exemptions (2.1, 2.2),
-- myelopathy (3), and a deterministic diagnosis list for evidence text.

with

esi_claims as (
    select distinct
        source_key,
        claim_id
    from int_esi_claim_lines
),

claim_diagnoses as (
    select * from int_esi_claim_diagnoses
),

dx_matches as (
    select * from int_esi_claim_dx_matches
),

-- one row per (claim, diagnosis): which value sets the code falls in
diagnosis_facts as (
    select
        source_key,
        claim_id,
        diagnosis_code,
        dx_rank,
        max(case when value_set = 'spine_region_cervical' then 1 else 0 end) as is_cervical,
        max(case when value_set = 'spine_region_thoracic' then 1 else 0 end) as is_thoracic,
        max(case when value_set = 'dx_cervical_qualifying' then 1 else 0 end) as is_qualifying,
        max(case when value_set = 'dx_cervical_stenosis' then 1 else 0 end) as is_stenosis,
        max(case when value_set = 'dx_radicular' then 1 else 0 end) as is_radicular,
        max(case when value_set = 'dx_exempt_postprocedural' then 1 else 0 end) as is_postprocedural,
        max(case when value_set = 'dx_exempt_herpes_zoster' then 1 else 0 end) as is_herpes_zoster,
        max(case when value_set = 'dx_myelopathy' then 1 else 0 end) as is_myelopathy,
        max(case when value_set = 'dx_neck_pain_nonradicular' then 1 else 0 end) as is_neck_pain
    from dx_matches
    group by source_key, claim_id, diagnosis_code, dx_rank
),

-- the first code (by dx_rank) of each kind, for evidence text
ranked_facts as (
    select
        *,
        row_number() over (
            partition by source_key, claim_id, is_stenosis order by dx_rank
        ) as stenosis_rank,
        row_number() over (
            partition by source_key, claim_id, is_myelopathy order by dx_rank
        ) as myelopathy_rank,
        row_number() over (
            partition by source_key, claim_id, is_neck_pain order by dx_rank
        ) as neck_pain_rank
    from diagnosis_facts
),

claim_flags as (
    select
        source_key,
        claim_id,
        max(is_cervical) = 1 as has_cervical_dx,
        max(is_thoracic) = 1 as has_thoracic_dx,
        max(case when is_qualifying = 1 and is_stenosis = 0 then 1 else 0 end) = 1
            as has_qualifying_non_stenosis_dx,
        max(case when is_qualifying = 1 and is_stenosis = 1 then 1 else 0 end) = 1 as has_stenosis_dx,
        max(is_radicular) = 1 as has_radicular_dx,
        max(is_postprocedural) = 1 as is_exempt_postprocedural,
        max(is_herpes_zoster) = 1 as is_exempt_herpes_zoster,
        max(is_myelopathy) = 1 as has_myelopathy_dx,
        max(case when is_stenosis = 1 and stenosis_rank = 1 then diagnosis_code end) as first_stenosis_code,
        max(case when is_myelopathy = 1 and myelopathy_rank = 1 then diagnosis_code end) as first_myelopathy_code,
        max(case when is_neck_pain = 1 and neck_pain_rank = 1 then diagnosis_code end) as first_neck_pain_code
    from ranked_facts
    group by source_key, claim_id
),

diagnosis_lists as (
    select
        source_key,
        claim_id,
        count(*) as n_diagnoses,
        concat_ws(
            ', ',
            max(case when dx_rank = 1 then diagnosis_code end),
            max(case when dx_rank = 2 then diagnosis_code end),
            max(case when dx_rank = 3 then diagnosis_code end),
            max(case when dx_rank = 4 then diagnosis_code end),
            max(case when dx_rank = 5 then diagnosis_code end),
            max(case when dx_rank = 6 then diagnosis_code end)
        ) as first_diagnoses
    from claim_diagnoses
    group by source_key, claim_id
),

final as (
    -- keys first
    select  -- noqa: ST06
        esi_claims.source_key,
        esi_claims.claim_id,
        coalesce(claim_flags.has_cervical_dx, false) as has_cervical_dx,
        coalesce(claim_flags.has_thoracic_dx, false) as has_thoracic_dx,
        -- policy section 1: thoracic = at least one thoracic and no cervical spine diagnosis
        coalesce(claim_flags.has_thoracic_dx and not claim_flags.has_cervical_dx, false) as is_thoracic_only,
        coalesce(claim_flags.has_qualifying_non_stenosis_dx, false) as has_qualifying_non_stenosis_dx,
        coalesce(claim_flags.has_stenosis_dx, false) as has_stenosis_dx,
        coalesce(claim_flags.has_radicular_dx, false) as has_radicular_dx,
        coalesce(claim_flags.is_exempt_postprocedural, false) as is_exempt_postprocedural,
        coalesce(claim_flags.is_exempt_herpes_zoster, false) as is_exempt_herpes_zoster,
        coalesce(claim_flags.has_myelopathy_dx, false) as has_myelopathy_dx,
        claim_flags.first_stenosis_code,
        claim_flags.first_myelopathy_code,
        claim_flags.first_neck_pain_code,
        coalesce(diagnosis_lists.n_diagnoses, 0) as n_diagnoses,
        case
            when diagnosis_lists.n_diagnoses is null then 'none'
            when diagnosis_lists.n_diagnoses > 6
                then
                    diagnosis_lists.first_diagnoses
                    || ' (+' || cast(diagnosis_lists.n_diagnoses - 6 as varchar) || ' more)'
            else diagnosis_lists.first_diagnoses
        end as diagnosis_list
    from esi_claims
    left join claim_flags
        on
            esi_claims.source_key = claim_flags.source_key
            and esi_claims.claim_id = claim_flags.claim_id
    left join diagnosis_lists
        on
            esi_claims.source_key = diagnosis_lists.source_key
            and esi_claims.claim_id = diagnosis_lists.claim_id
)

select * from final
