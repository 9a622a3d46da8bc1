-- model: int_esi_lines
-- grain: one row per ESI medical_claim line (every line of int_esi_claim_lines).
-- exclusion_reason says why a line is not audited (NULL = audited), first match wins:
--   'reversal'      negative paid amount (policy section 1)
--   'reversed'      cancelled by a reversal (section 1, since 1.1; int_reversal_matches),
--                   whatever its claim's region or add-on status
--   'thoracic'      its claim has a thoracic and no cervical spine diagnosis (section 1)
--   'folded_addon'  an add-on (64480, 0229T) folded into the primary line of its claim
--                   (section 1): its amount adds to the primary's, its units count toward
--                   the session's levels, and it is reported on the primary's line.
-- paired_claim_id / paired_claim_line_number: for a 'reversed' line, the reversal that
-- cancels it; for a 'reversal' line, the line it cancels (NULL: it matches nothing).
-- Folding: the primary is a live line (neither reversal nor reversed) of the same claim with
-- the add-on's primary code; with several, the one on the add-on's service date with the
-- lowest line number, else the lowest line number. An add-on with no primary on its claim
-- is audited alone; a reversed add-on is not folded (its amount and units are gone).
-- For audited lines, audited_paid_amount = own amount + amounts of folded add-ons (NULL
-- only when all are missing) and n_levels = own units + folded add-ons' units.

with

esi_claim_lines as (
    select * from int_esi_claim_lines
),

esi_claims as (
    select * from int_esi_claims
),

medical_reversal_matches as (
    select * from int_reversal_matches
    where table_name = 'medical_claim'
),

modifier_value_sets as (
    select
        value_set,
        code
    from value_sets
    where code_system = 'modifier'
),

line_modifiers as (
    select
        source_key,
        claim_id,
        claim_line_number,
        hcpcs_modifier_1 as modifier
    from esi_claim_lines
    where hcpcs_modifier_1 is not null

    union all

    select
        source_key,
        claim_id,
        claim_line_number,
        hcpcs_modifier_2 as modifier
    from esi_claim_lines
    where hcpcs_modifier_2 is not null

    union all

    select
        source_key,
        claim_id,
        claim_line_number,
        hcpcs_modifier_3 as modifier
    from esi_claim_lines
    where hcpcs_modifier_3 is not null

    union all

    select
        source_key,
        claim_id,
        claim_line_number,
        hcpcs_modifier_4 as modifier
    from esi_claim_lines
    where hcpcs_modifier_4 is not null

    union all

    select
        source_key,
        claim_id,
        claim_line_number,
        hcpcs_modifier_5 as modifier
    from esi_claim_lines
    where hcpcs_modifier_5 is not null
),

modifier_flags as (
    select
        line_modifiers.source_key,
        line_modifiers.claim_id,
        line_modifiers.claim_line_number,
        max(case when modifier_value_sets.value_set = 'modifier_bilateral' then 1 else 0 end) = 1
            as has_bilateral_modifier,
        max(case when modifier_value_sets.value_set = 'modifier_side_right' then 1 else 0 end) = 1
            as has_right_modifier,
        max(case when modifier_value_sets.value_set = 'modifier_side_left' then 1 else 0 end) = 1
            as has_left_modifier
    from line_modifiers
    inner join modifier_value_sets
        on line_modifiers.modifier = modifier_value_sets.code
    group by line_modifiers.source_key, line_modifiers.claim_id, line_modifiers.claim_line_number
),

reversal_pairs as (
    select
        esi_claim_lines.source_key,
        esi_claim_lines.claim_id,
        esi_claim_lines.claim_line_number,
        cancelling.reversal_claim_id as reversed_by_claim_id,
        cancelling.reversal_claim_line_number as reversed_by_line_number,
        cancelled.original_claim_id as reverses_claim_id,
        cancelled.original_claim_line_number as reverses_line_number
    from esi_claim_lines
    left join medical_reversal_matches as cancelling
        on
            esi_claim_lines.source_key = cancelling.source_key
            and esi_claim_lines.claim_id = cancelling.original_claim_id
            and esi_claim_lines.claim_line_number = cancelling.original_claim_line_number
    left join medical_reversal_matches as cancelled
        on
            esi_claim_lines.source_key = cancelled.source_key
            and esi_claim_lines.claim_id = cancelled.reversal_claim_id
            and esi_claim_lines.claim_line_number = cancelled.reversal_claim_line_number
    where cancelling.original_claim_id is not null or cancelled.reversal_claim_id is not null
),

live_lines as (
    select *
    from esi_claim_lines
    where
        not is_reversal
        and not exists (
            select 1
            from reversal_pairs
            where
                reversal_pairs.reversed_by_claim_id is not null
                and reversal_pairs.source_key = esi_claim_lines.source_key
                and reversal_pairs.claim_id = esi_claim_lines.claim_id
                and reversal_pairs.claim_line_number = esi_claim_lines.claim_line_number
        )
),

addon_primary_candidates as (
    select
        addon.source_key,
        addon.claim_id,
        addon.claim_line_number,
        primary_line.claim_line_number as primary_line_number,
        row_number() over (
            partition by addon.source_key, addon.claim_id, addon.claim_line_number
            order by
                case when primary_line.service_date = addon.service_date then 0 else 1 end,
                primary_line.claim_line_number
        ) as candidate_rank
    from live_lines as addon
    inner join live_lines as primary_line
        on
            addon.source_key = primary_line.source_key
            and addon.claim_id = primary_line.claim_id
            and addon.addon_primary_code = primary_line.hcpcs_code
    where addon.is_addon
),

addon_folding as (
    select
        source_key,
        claim_id,
        claim_line_number,
        primary_line_number
    from addon_primary_candidates
    where candidate_rank = 1
),

line_status as (
    select
        esi_claim_lines.*,
        addon_folding.primary_line_number as folded_into_line_number,
        coalesce(reversal_pairs.reversed_by_claim_id, reversal_pairs.reverses_claim_id) as paired_claim_id,
        coalesce(reversal_pairs.reversed_by_line_number, reversal_pairs.reverses_line_number)
            as paired_claim_line_number,
        case
            when esi_claim_lines.is_reversal then 'reversal'
            when reversal_pairs.reversed_by_claim_id is not null then 'reversed'
            when esi_claims.is_thoracic_only then 'thoracic'
            when addon_folding.primary_line_number is not null then 'folded_addon'
        end as exclusion_reason
    from esi_claim_lines
    left join esi_claims
        on
            esi_claim_lines.source_key = esi_claims.source_key
            and esi_claim_lines.claim_id = esi_claims.claim_id
    left join reversal_pairs
        on
            esi_claim_lines.source_key = reversal_pairs.source_key
            and esi_claim_lines.claim_id = reversal_pairs.claim_id
            and esi_claim_lines.claim_line_number = reversal_pairs.claim_line_number
    left join addon_folding
        on
            esi_claim_lines.source_key = addon_folding.source_key
            and esi_claim_lines.claim_id = addon_folding.claim_id
            and esi_claim_lines.claim_line_number = addon_folding.claim_line_number
),

audited_totals as (
    select
        source_key,
        claim_id,
        coalesce(folded_into_line_number, claim_line_number) as claim_line_number,
        sum(paid_amount) as audited_paid_amount,
        sum(n_units) as n_levels,
        count(*) - 1 as n_folded_addons
    from line_status
    where exclusion_reason is null or exclusion_reason = 'folded_addon'
    group by source_key, claim_id, coalesce(folded_into_line_number, claim_line_number)
),

final as (
    -- keys first
    select  -- noqa: ST06
        line_status.source_key,
        line_status.data_source,
        line_status.claim_id,
        line_status.claim_line_number,
        line_status.person_id,
        line_status.claim_type,
        line_status.is_professional,
        line_status.service_date,
        line_status.hcpcs_code,
        line_status.kind,
        line_status.is_addon,
        line_status.guidance,
        line_status.guidance_built_in_from,
        line_status.bundles_guidance_from,
        line_status.level_group,
        line_status.rendering_npi,
        line_status.paid_amount,
        line_status.n_units,
        line_status.is_reversal,
        line_status.exclusion_reason,
        line_status.folded_into_line_number,
        line_status.paired_claim_id,
        line_status.paired_claim_line_number,
        audited_totals.audited_paid_amount,
        audited_totals.n_levels,
        audited_totals.n_folded_addons,
        coalesce(modifier_flags.has_bilateral_modifier, false) as has_bilateral_modifier,
        coalesce(modifier_flags.has_right_modifier, false) as has_right_modifier,
        coalesce(modifier_flags.has_left_modifier, false) as has_left_modifier,
        coalesce(esi_claims.is_thoracic_only, false) as is_thoracic_only,
        coalesce(esi_claims.has_qualifying_non_stenosis_dx, false) as has_qualifying_non_stenosis_dx,
        coalesce(esi_claims.has_stenosis_dx, false) as has_stenosis_dx,
        coalesce(esi_claims.has_radicular_dx, false) as has_radicular_dx,
        coalesce(esi_claims.is_exempt_postprocedural, false) as is_exempt_postprocedural,
        coalesce(esi_claims.is_exempt_herpes_zoster, false) as is_exempt_herpes_zoster,
        coalesce(esi_claims.has_myelopathy_dx, false) as has_myelopathy_dx,
        esi_claims.first_stenosis_code,
        esi_claims.first_myelopathy_code,
        esi_claims.first_neck_pain_code,
        coalesce(esi_claims.diagnosis_list, 'none') as diagnosis_list
    from line_status
    left join esi_claims
        on
            line_status.source_key = esi_claims.source_key
            and line_status.claim_id = esi_claims.claim_id
    left join modifier_flags
        on
            line_status.source_key = modifier_flags.source_key
            and line_status.claim_id = modifier_flags.claim_id
            and line_status.claim_line_number = modifier_flags.claim_line_number
    left join audited_totals
        on
            line_status.exclusion_reason is null
            and line_status.source_key = audited_totals.source_key
            and line_status.claim_id = audited_totals.claim_id
            and line_status.claim_line_number = audited_totals.claim_line_number
)

select * from final
