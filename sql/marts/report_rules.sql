-- model: report_rules
-- grain: one row per rule id with findings or statistics in this run.
-- Counts follow the contract: a finding is one (line, rule) row; a rule's paid amounts
-- count each of its lines once, `fail` apart from the other statuses. A line failing two
-- rules counts under both, so rule amounts do not add up to the dollars at risk.
-- n_audited_lines: the rule's lines that are audited ESI lines (guidance_unbundled flags
-- the 77003/77012 line instead, which is not an ESI line).

with

findings as (
    select * from findings
),

stats as (
    select * from rule_stats
),

audited_lines as (
    select distinct
        claim_id,
        claim_line_number
    from mart_esi_lines
    where exclusion_reason is null
),

rule_lines as (
    select distinct
        rule_id,
        status,
        claim_id,
        claim_line_number,
        paid_amount
    from findings
),

rule_line_counts as (
    select
        rule_id,
        count(*) as n_lines
    from (
        select distinct
            rule_id,
            claim_id,
            claim_line_number
        from findings
    ) as rule_line_keys
    group by rule_id
),

per_rule as (
    select
        rule_id,
        count(*) as n_findings,
        count(*) filter (where status = 'fail') as n_fail,
        count(*) filter (where status = 'insufficient_history') as n_insufficient_history,
        count(*) filter (where status = 'review') as n_review
    from findings
    group by rule_id
),

audited_flagged as (
    select
        rule_id,
        count(*) as n_audited_lines
    from (
        select distinct
            rule_id,
            claim_id,
            claim_line_number
        from findings
    ) as rule_line_keys
    where
        exists (
            select 1
            from audited_lines
            where
                audited_lines.claim_id = rule_line_keys.claim_id
                and audited_lines.claim_line_number = rule_line_keys.claim_line_number
        )
    group by rule_id
),

amounts as (
    select
        rule_id,
        coalesce(sum(paid_amount) filter (where status = 'fail'), 0) as fail_paid_amount,
        coalesce(sum(paid_amount) filter (where status = 'insufficient_history'), 0)
            as insufficient_history_paid_amount,
        coalesce(sum(paid_amount) filter (where status = 'review'), 0) as review_paid_amount
    from rule_lines
    group by rule_id
),

rule_ids as (
    select rule_id from stats
    union
    select rule_id from per_rule
),

final as (
    select
        rule_ids.rule_id,
        stats.rule_version,
        stats.title,
        stats.severity,
        stats.lines_checked,
        stats.lines_exempt,
        coalesce(per_rule.n_findings, 0) as n_findings,
        coalesce(rule_line_counts.n_lines, 0) as n_lines,
        coalesce(audited_flagged.n_audited_lines, 0) as n_audited_lines,
        coalesce(per_rule.n_fail, 0) as n_fail,
        coalesce(per_rule.n_insufficient_history, 0) as n_insufficient_history,
        coalesce(per_rule.n_review, 0) as n_review,
        coalesce(amounts.fail_paid_amount, 0) as fail_paid_amount,
        coalesce(amounts.insufficient_history_paid_amount, 0) as insufficient_history_paid_amount,
        coalesce(amounts.review_paid_amount, 0) as review_paid_amount
    from rule_ids
    left join stats on rule_ids.rule_id = stats.rule_id
    left join per_rule on rule_ids.rule_id = per_rule.rule_id
    left join rule_line_counts on rule_ids.rule_id = rule_line_counts.rule_id
    left join audited_flagged on rule_ids.rule_id = audited_flagged.rule_id
    left join amounts on rule_ids.rule_id = amounts.rule_id
)

select * from final
order by rule_id
