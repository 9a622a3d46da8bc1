-- model: mart_rule_coverage
-- grain: one row per rule id
-- lines_checked: lines in the rule's scope (audited ESI lines, folded add-ons counted on
--   their primary; for the level rules the professional lines of their kind; for
--   guidance_unbundled the 77003/77012 lines on a day with an audited ESI line or a
--   folded add-on of the same person). lines_exempt: the part of lines_checked the policy exempts
--   (G89.12/G89.18 for qualifying_dx, B02 for conservative_care); exempt lines pass.

with

audited_lines as (
    select *
    from int_esi_lines
    where exclusion_reason is null
),

guidance_lines as (
    select * from int_guidance_lines
),

session_days as (
    select distinct
        person_id,
        service_date
    from int_esi_session_lines
),

guidance_lines_checked as (
    select guidance_lines.claim_id
    from guidance_lines
    inner join session_days
        on
            guidance_lines.person_id = session_days.person_id
            and guidance_lines.service_date = session_days.service_date
),

coverage as (
    select
        'qualifying_dx' as rule_id,
        count(*) as lines_checked,
        count(case when is_exempt_postprocedural then 1 end) as lines_exempt
    from audited_lines

    union all

    select
        'conservative_care' as rule_id,
        count(*) as lines_checked,
        count(case when is_exempt_herpes_zoster then 1 end) as lines_exempt
    from audited_lines

    union all

    select
        'prior_imaging' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from audited_lines

    union all

    select
        'imaging_guidance' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from audited_lines

    union all

    select
        'session_frequency' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from audited_lines

    union all

    select
        'guidance_unbundled' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from guidance_lines_checked

    union all

    select
        'myelopathy_review' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from audited_lines

    union all

    select
        'interlaminar_levels' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from audited_lines
    where is_professional and level_group = 'interlaminar'

    union all

    select
        'transforaminal_levels' as rule_id,
        count(*) as lines_checked,
        0 as lines_exempt
    from audited_lines
    where is_professional and level_group = 'transforaminal'
),

final as (
    select
        $run_id as run_id,  -- noqa: AL09
        rule_id,
        cast(lines_checked as bigint) as lines_checked,
        cast(lines_exempt as bigint) as lines_exempt
    from coverage
)

select * from final
