-- rule_id: session_frequency
-- version: 1.1.0
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
--   A date holding only a folded add-on (billed on another date than its primary) is no
--   session: the add-on is not audited on its own (policy section 1), and counting it would
--   make one injection two sessions. Reversal lines and the lines they cancel are not
--   audited, so an original, its reversal and its rebill are one session.
-- - The window is the 365 days ending on the session's date (date - 364 through date):
--   a session 364 days earlier counts, one 365 days earlier does not.
-- - The session is flagged when the window holds more than max_sessions_per_12_months
--   sessions (itself included); flagged sessions still count toward later windows.
-- - Every audited line of a flagged session is flagged, and so is the primary of a folded
--   add-on whose own date is a flagged session (policy 1.1: the add-on keeps its date), once
--   per line: the evidence names the line's own session when it is flagged, else the
--   earliest flagged session of its folded add-ons.

with

sessions as (
    select * from int_esi_sessions
),

session_lines as (
    select * from int_esi_session_lines
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

flagged_lines as (
    select
        session_lines.*,
        over_limit_sessions.n_sessions_in_window,
        over_limit_sessions.first_session_in_window,
        row_number() over (
            partition by session_lines.source_key, session_lines.claim_id, session_lines.reported_line_number
            order by
                case when session_lines.service_date = session_lines.reported_service_date then 0 else 1 end,
                session_lines.service_date,
                session_lines.claim_line_number
        ) as session_rank
    from session_lines
    inner join over_limit_sessions
        on
            session_lines.person_id = over_limit_sessions.person_id
            and session_lines.service_date = over_limit_sessions.service_date
),

final as (
    select
        'session_frequency' as rule_id,
        'fail' as status,
        'high' as severity,
        data_source,
        claim_id,
        reported_line_number as claim_line_number,
        person_id,
        reported_rendering_npi as rendering_npi,
        reported_service_date as service_date,
        reported_hcpcs_code as hcpcs_code,
        reported_paid_amount as paid_amount,
        'session ' || cast(service_date as varchar) || ' is number '
        || cast(n_sessions_in_window as varchar) || ' in the 365 days '
        || cast(cast(service_date - interval 364 day as date) as varchar)
        || '..' || cast(service_date as varchar)
        || ' (first ' || cast(first_session_in_window as varchar)
        || '); limit ' || cast($max_sessions_per_12_months as varchar)  -- noqa: RF02
        || addon_note as evidence
    from flagged_lines
    where session_rank = 1
)

select * from final
