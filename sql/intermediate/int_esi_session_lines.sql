-- model: int_esi_session_lines
-- grain: one row per ESI line that takes part in a session: every audited line and every
--        folded add-on, each on its own service date.
-- Policy section 3 (since 1.1): a folded add-on keeps its own service date for the
-- session-level rules. Its levels count in the session of that date
-- (transforaminal_levels), a folded 64480 triggers guidance_unbundled for a 77003/77012 on
-- that date, and it belongs to that date's session for session_frequency; a finding it
-- causes is written on its primary, the line the exceptions carry for it. A date holding
-- only folded add-ons is no session of its own (int_esi_sessions: a session has an
-- audited line).
-- Columns: the line's own (service_date, hcpcs_code, units, modifiers, claim type,
-- level_group, bundles_guidance_from) and the reported line's (reported_*: the line
-- itself, or the primary a folded add-on is folded into; its amount includes the add-ons).
-- addon_note ends the evidence of a finding a folded add-on causes on another date than
-- its primary's ('' otherwise).

with

esi_lines as (
    select * from int_esi_lines
),

session_lines as (
    select *
    from esi_lines
    where exclusion_reason is null or exclusion_reason = 'folded_addon'
),

reported_lines as (
    select *
    from esi_lines
    where exclusion_reason is null
),

final as (
    -- keys first
    select  -- noqa: ST06
        session_lines.source_key,
        session_lines.data_source,
        session_lines.claim_id,
        session_lines.claim_line_number,
        session_lines.person_id,
        session_lines.service_date,
        session_lines.hcpcs_code,
        session_lines.is_professional,
        session_lines.level_group,
        session_lines.bundles_guidance_from,
        session_lines.n_units,
        session_lines.has_bilateral_modifier,
        session_lines.has_right_modifier,
        session_lines.has_left_modifier,
        session_lines.exclusion_reason is not null as is_folded_addon,
        reported_lines.claim_line_number as reported_line_number,
        reported_lines.service_date as reported_service_date,
        reported_lines.hcpcs_code as reported_hcpcs_code,
        reported_lines.rendering_npi as reported_rendering_npi,
        reported_lines.audited_paid_amount as reported_paid_amount,
        case
            when session_lines.service_date <> reported_lines.service_date
                then
                    '; its add-on ' || session_lines.hcpcs_code || ' (line '
                    || cast(session_lines.claim_line_number as varchar) || ') is on that date'
            else ''
        end as addon_note
    from session_lines
    inner join reported_lines
        on
            session_lines.source_key = reported_lines.source_key
            and session_lines.claim_id = reported_lines.claim_id
            and coalesce(session_lines.folded_into_line_number, session_lines.claim_line_number)
            = reported_lines.claim_line_number
)

select * from final
