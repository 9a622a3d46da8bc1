-- model: report_drilldown
-- grain: one row per finding on the lines shown in the drill-down: for each provider
-- ('' = missing NPI), its flagged lines ranked (a `fail` first, then the most paid, then
-- date, claim id, line number), at most the number of lines the report allots to it:
-- $provider_keys[i] shows $line_caps[i] lines (providers not listed show none).
-- is_new: the finding was not in the previous successful run $previous_run_id (true for
-- every finding when there is none: the caller ignores it then).
-- review_state and age_days (days since first seen, to the run's date $run_date).

with

findings as (
    select
        *,
        coalesce(rendering_npi, '') as provider_key
    from findings
),

previous_findings as (
    select distinct
        rule_id,
        claim_id,
        claim_line_number
    from findings_history
    where run_id = $previous_run_id
),

flagged_lines as (
    select
        provider_key,
        claim_id,
        claim_line_number,
        max(case when status = 'fail' then 1 else 0 end) as has_fail,
        max(paid_amount) as paid_amount,
        min(service_date) as service_date
    from findings
    group by provider_key, claim_id, claim_line_number
),

line_caps as (
    select
        unnest($provider_keys) as provider_key,
        unnest($line_caps) as max_lines
),

ranked_lines as (
    select
        *,
        row_number() over (
            partition by provider_key
            order by has_fail desc, paid_amount desc nulls last, service_date asc, claim_id asc, claim_line_number asc
        ) as line_rank
    from flagged_lines
),

shown_lines as (
    select ranked_lines.*
    from ranked_lines
    inner join line_caps
        on ranked_lines.provider_key = line_caps.provider_key
    where ranked_lines.line_rank <= line_caps.max_lines
),

final as (
    select
        shown_lines.provider_key,
        shown_lines.line_rank,
        findings.claim_id,
        findings.claim_line_number,
        findings.service_date,
        findings.hcpcs_code,
        findings.person_id,
        findings.paid_amount,
        findings.rule_id,
        findings.status,
        findings.evidence,
        findings.review_state,
        date_diff('day', findings.first_seen_on, cast($run_date as date)) as age_days,  -- noqa: RF02
        previous_findings.rule_id is null as is_new
    from shown_lines
    inner join findings
        on
            shown_lines.provider_key = findings.provider_key
            and shown_lines.claim_id = findings.claim_id
            and shown_lines.claim_line_number = findings.claim_line_number
    left join previous_findings
        on
            findings.rule_id = previous_findings.rule_id
            and findings.claim_id = previous_findings.claim_id
            and findings.claim_line_number = previous_findings.claim_line_number
)

select * from final
