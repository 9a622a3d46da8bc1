-- rule_id: session_frequency
-- version: 1.0.0
-- title: More ESI sessions than allowed in any rolling 365 days
-- severity: high
-- statuses: fail
-- grain: one row per audited ESI line (a folded add-on reported on its primary) of an over-limit session
-- value_sets: esi_cervical_thoracic
-- parameters: max_sessions_per_12_months
-- citation: Policy section 3; LCD L39240/A58993 (frequency limits); OIG A-07-21-00618
--
-- Readings:
-- - A session is (person, service date) with at least one audited line (int_esi_sessions).
-- - The window is the 365 days ending on the session's date (date - 364 through date):
--   a session 364 days earlier counts, one 365 days earlier does not.
-- - The session is flagged when the window holds more than max_sessions_per_12_months
--   sessions (itself included); flagged sessions still count toward later windows.
-- - Every audited line of a flagged session is flagged.

with

sessions as (
    select * from int_esi_sessions
),

audited_lines as (
    select *
    from int_esi_lines
    where exclusion_reason is null
),

window_counts as (
    select
        sessions.person_id,
        sessions.service_date,
        count(*) as n_sessions_in_window,
        min(earlier_sessions.service_date) as first_session_in_window
    from sessions
    inner join sessions as earlier_sessions
        on sessions.person_id = earlier_sessions.person_id
    where
        earlier_sessions.service_date <= sessions.service_date
        and date_diff('day', earlier_sessions.service_date, sessions.service_date) <= 364
    group by sessions.person_id, sessions.service_date
),

over_limit_sessions as (
    select *
    from window_counts
    where n_sessions_in_window > $max_sessions_per_12_months  -- noqa: RF02
),

final as (
    select
        'session_frequency' as rule_id,
        'fail' as status,
        'high' as severity,
        audited_lines.data_source,
        audited_lines.claim_id,
        audited_lines.claim_line_number,
        audited_lines.person_id,
        audited_lines.rendering_npi,
        audited_lines.service_date,
        audited_lines.hcpcs_code,
        audited_lines.audited_paid_amount as paid_amount,
        'session ' || cast(audited_lines.service_date as varchar) || ' is number '
        || cast(over_limit_sessions.n_sessions_in_window as varchar) || ' in the 365 days '
        || cast(cast(audited_lines.service_date - interval 364 day as date) as varchar)
        || '..' || cast(audited_lines.service_date as varchar)
        || ' (first ' || cast(over_limit_sessions.first_session_in_window as varchar)
        || '); limit ' || cast($max_sessions_per_12_months as varchar) as evidence  -- noqa: RF02
    from audited_lines
    inner join over_limit_sessions
        on
            audited_lines.person_id = over_limit_sessions.person_id
            and audited_lines.service_date = over_limit_sessions.service_date
)

select * from final
