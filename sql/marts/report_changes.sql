-- model: report_changes
-- grain: one row per (rule_id, change_kind) since the previous successful run $previous_run_id:
-- change_kind 'new' (flagged now, not then), 'resolved' (flagged then, not now: the line passed
-- or is no longer in the extract) or 'persisting' (flagged in both). A finding is matched
-- on (rule_id, claim_id, claim_line_number).

with

current_findings as (
    select distinct
        rule_id,
        claim_id,
        claim_line_number
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

matched as (
    select
        coalesce(current_findings.rule_id, previous_findings.rule_id) as rule_id,
        case
            when previous_findings.rule_id is null then 'new'
            when current_findings.rule_id is null then 'resolved'
            else 'persisting'
        end as change_kind
    from current_findings
    full outer join previous_findings
        on
            current_findings.rule_id = previous_findings.rule_id
            and current_findings.claim_id = previous_findings.claim_id
            and current_findings.claim_line_number = previous_findings.claim_line_number
),

final as (
    select
        rule_id,
        change_kind,
        count(*) as n_findings
    from matched
    group by rule_id, change_kind
)

select * from final
order by rule_id, change_kind
