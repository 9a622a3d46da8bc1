-- rule_id: transforaminal_levels
-- version: 1.1.0
-- title: More than two transforaminal levels on one side in a session
-- severity: medium
-- statuses: fail
-- grain: one row per audited professional transforaminal line (64479, or 64480 audited alone) of an over-limit session
-- value_sets: esi_cervical_thoracic, modifier_bilateral, modifier_side_right, modifier_side_left
-- parameters:
-- citation: Policy section 3; LCD L39240/A58993 (level limits)
--
-- Readings:
-- - Levels are counted per side over every professional (or claim type missing),
--   audited or folded, 64479/64480 line of the session (person, date), across claims,
--   each line with its own modifiers and units (missing or zero = one): RT counts right,
--   LT left; the bilateral modifier, no side modifier, or both RT and LT count on both
--   sides. A bilateral single level is one level per side. Reversal lines, lines they
--   cancel and thoracic lines take no part (int_esi_session_lines).
-- - A folded add-on counts in the session of its own service date (policy 1.1), even when
--   its primary is on another date; a finding it takes part in is written on its primary.
-- - A reversal of an add-on cancels the add-on alone (policy silent): its levels no longer
--   count, and it folds into nothing (int_esi_lines).
-- - 0228T/0229T do not count and are not flagged here (imaging_guidance fails them).
-- - Over the limit when either side has more than two levels; then every audited
--   transforaminal line of the session is flagged (on its primary for folded add-ons), once
--   per line: the evidence names the line's own session when that is over the limit, else
--   the earliest session of its folded add-ons that is.

with

level_lines as (
    select
        *,
        not has_right_modifier and not has_left_modifier as has_no_side
    from int_esi_session_lines
    where
        is_professional
        and level_group = 'transforaminal'
),

session_levels as (
    select
        person_id,
        service_date,
        sum(
            case when has_right_modifier or has_bilateral_modifier or has_no_side then n_units else 0 end
        ) as n_right_levels,
        sum(
            case when has_left_modifier or has_bilateral_modifier or has_no_side then n_units else 0 end
        ) as n_left_levels
    from level_lines
    group by person_id, service_date
),

over_limit_sessions as (
    select
        *,
        cast(cast(n_right_levels as bigint) as varchar) as right_text,
        cast(cast(n_left_levels as bigint) as varchar) as left_text
    from session_levels
    where n_right_levels > 2 or n_left_levels > 2
),

flagged_lines as (
    select
        level_lines.*,
        over_limit_sessions.right_text,
        over_limit_sessions.left_text,
        row_number() over (
            partition by level_lines.source_key, level_lines.claim_id, level_lines.reported_line_number
            order by
                case when level_lines.service_date = level_lines.reported_service_date then 0 else 1 end,
                level_lines.service_date,
                level_lines.claim_line_number
        ) as session_rank
    from level_lines
    inner join over_limit_sessions
        on
            level_lines.person_id = over_limit_sessions.person_id
            and level_lines.service_date = over_limit_sessions.service_date
),

final as (
    select
        'transforaminal_levels' as rule_id,
        'fail' as status,
        'medium' as severity,
        data_source,
        claim_id,
        reported_line_number as claim_line_number,
        person_id,
        reported_rendering_npi as rendering_npi,
        reported_service_date as service_date,
        reported_hcpcs_code as hcpcs_code,
        reported_paid_amount as paid_amount,
        'transforaminal levels in the session on ' || cast(service_date as varchar)
        || ': right ' || right_text || ', left ' || left_text
        || '; at most 2 per side'
        || addon_note as evidence
    from flagged_lines
    where session_rank = 1
)

select * from final
