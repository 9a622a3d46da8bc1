-- rule_id: interlaminar_levels
-- version: 1.1.0
-- title: Interlaminar injection over one level or billed bilateral
-- severity: medium
-- statuses: fail
-- grain: one row per audited professional interlaminar line (62320, 62321, 62310) breaking the one-level limit
-- value_sets: esi_cervical_thoracic, modifier_bilateral
-- parameters:
-- citation: Policy section 3; LCD L39240/A58993 (level limits)
--
-- Readings:
-- - Professional lines only (claim_type professional or missing): a facility claim for
--   the same injection repeats the code and is not another level.
-- - A line is flagged when its units exceed one (missing or zero = one), when it carries
--   the bilateral modifier on any of hcpcs_modifier_1..5, or when the session (person,
--   date, across claims) has more than one such line - then every one of them.
-- - A line a reversal cancels is not audited (policy 1.1): an original, its reversal and
--   its rebill are one line, not two.

with

interlaminar_lines as (
    select *
    from int_esi_lines
    where
        exclusion_reason is null
        and is_professional
        and level_group = 'interlaminar'
),

session_counts as (
    select
        person_id,
        service_date,
        count(*) as n_session_lines
    from interlaminar_lines
    group by person_id, service_date
),

assessed as (
    select
        interlaminar_lines.*,
        session_counts.n_session_lines,
        case
            when interlaminar_lines.n_units = floor(interlaminar_lines.n_units)
                then cast(cast(interlaminar_lines.n_units as bigint) as varchar)
            else cast(interlaminar_lines.n_units as varchar)
        end as units_text
    from interlaminar_lines
    inner join session_counts
        on
            interlaminar_lines.person_id = session_counts.person_id
            and interlaminar_lines.service_date = session_counts.service_date
),

final as (
    select
        'interlaminar_levels' as rule_id,
        'fail' as status,
        'medium' as severity,
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        rendering_npi,
        service_date,
        hcpcs_code,
        audited_paid_amount as paid_amount,
        concat_ws(
            '; ',
            case when n_units > 1 then units_text || ' units' end,
            case when has_bilateral_modifier then 'bilateral modifier' end,
            case
                when n_session_lines > 1
                    then
                        cast(n_session_lines as varchar) || ' interlaminar lines in the session on '
                        || cast(service_date as varchar)
            end
        ) || ': one interlaminar level per session, not bilateral' as evidence
    from assessed
    where n_units > 1 or has_bilateral_modifier or n_session_lines > 1
)

select * from final
