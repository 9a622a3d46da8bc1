-- rule_id: transforaminal_levels
-- version: 1.0.0
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
--   non-reversal, non-thoracic 64479/64480 line of the session (person, date), across
--   claims, folded add-ons included, each line with its own modifiers and units
--   (missing or zero = one): RT counts right, LT left; the bilateral modifier, no side
--   modifier, or both RT and LT count on both sides. A bilateral single level is one
--   level per side.
-- - 0228T/0229T do not count and are not flagged here (imaging_guidance fails them).
-- - Over the limit when either side has more than two levels; then every audited
--   transforaminal line of the session is flagged (on its primary for folded add-ons).

with

level_lines as (
    select
        *,
        not has_right_modifier and not has_left_modifier as has_no_side
    from int_esi_lines
    where
        (exclusion_reason is null or exclusion_reason = 'folded_addon')
        and is_professional
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

final as (
    select
        'transforaminal_levels' as rule_id,
        'fail' as status,
        'medium' as severity,
        level_lines.data_source,
        level_lines.claim_id,
        level_lines.claim_line_number,
        level_lines.person_id,
        level_lines.rendering_npi,
        level_lines.service_date,
        level_lines.hcpcs_code,
        level_lines.audited_paid_amount as paid_amount,
        'transforaminal levels in the session on ' || cast(level_lines.service_date as varchar)
        || ': right ' || over_limit_sessions.right_text || ', left ' || over_limit_sessions.left_text
        || '; at most 2 per side' as evidence
    from level_lines
    inner join over_limit_sessions
        on
            level_lines.person_id = over_limit_sessions.person_id
            and level_lines.service_date = over_limit_sessions.service_date
    where level_lines.exclusion_reason is null
)

select * from final
