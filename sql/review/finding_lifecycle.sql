-- table: finding_lifecycle
-- grain: one row per finding ever seen (finding_id), after this run.
-- Inputs: _previous_lifecycle (the published database's finding_lifecycle, empty on the
-- first run), _current_findings (this run's findings with finding_id),
-- _rule_fingerprints (rule_id, rule_fingerprint: the rule's version and the values of
-- the parameters its header lists), mart_esi_lines, mart_guidance_lines, rejected_rows.
-- A finding flagged now is open (reopened when it was resolved: times_reopened + 1); an
-- open finding not flagged now is resolved by this run, with the first resolution that
-- holds, in this order:
--   not_in_extract   its line is neither an ESI line, nor a 77003/77012 line, nor a
--                    rejected medical_claim row any more: the line is gone;
--   not_audited_now  its line is there but not audited (reversed, excluded, folded,
--                    rejected by validation);
--   rule_changed     the line is audited and the rule's version or a parameter it
--                    reads differs from when the finding was last seen;
--   passes_now       the line is audited, the rule unchanged, and it passes now.
-- A resolved finding not flagged now keeps its resolution. The latest values (status,
-- evidence, amount, ...) are those of the last run that flagged it.

with

this_run as (
    select
        $run_id as run_id,  -- noqa: AL09
        cast($run_date as date) as run_date
),

previous_lifecycle as (
    select * from _previous_lifecycle
),

current_findings as (
    select * from _current_findings
),

rule_fingerprints as (
    select * from _rule_fingerprints
),

esi_lines as (
    select
        data_source,
        claim_id,
        claim_line_number,
        exclusion_reason is null as is_audited
    from mart_esi_lines
),

guidance_lines as (
    select
        data_source,
        claim_id,
        claim_line_number,
        is_audited
    from mart_guidance_lines
),

lines_now as (
    select
        data_source,
        claim_id,
        claim_line_number,
        bool_or(is_audited) as is_audited
    from (
        select * from esi_lines
        union all
        select * from guidance_lines
    ) as known_lines
    group by data_source, claim_id, claim_line_number
),

rejected_lines as (
    select distinct
        nullif(trim(json_extract_string(original_values, '$.data_source')), '') as data_source,
        nullif(trim(json_extract_string(original_values, '$.claim_id')), '') as claim_id,
        try_cast(
            try_cast(
                trim(json_extract_string(original_values, '$.claim_line_number')) as decimal(18, 3)
            ) as integer
        ) as claim_line_number
    from rejected_rows
    where table_name = 'medical_claim'
),

no_longer_flagged as (
    select previous_lifecycle.*
    from previous_lifecycle
    where
        previous_lifecycle.state = 'open'
        and not exists (
            select 1
            from current_findings
            where current_findings.finding_id = previous_lifecycle.finding_id
        )
),

classified as (
    select
        no_longer_flagged.finding_id,
        case
            when lines_now.claim_id is null and rejected_lines.claim_id is null then 'not_in_extract'
            when not coalesce(lines_now.is_audited, false) then 'not_audited_now'
            when
                coalesce(no_longer_flagged.rule_fingerprint, '')
                <> coalesce(rule_fingerprints.rule_fingerprint, '')
                then 'rule_changed'
            else 'passes_now'
        end as resolution
    from no_longer_flagged
    left join lines_now
        on
            no_longer_flagged.claim_id = lines_now.claim_id
            and no_longer_flagged.claim_line_number = lines_now.claim_line_number
            and coalesce(no_longer_flagged.data_source, '') = coalesce(lines_now.data_source, '')
    left join rejected_lines
        on
            no_longer_flagged.claim_id = rejected_lines.claim_id
            and no_longer_flagged.claim_line_number = rejected_lines.claim_line_number
            and coalesce(no_longer_flagged.data_source, '') = coalesce(rejected_lines.data_source, '')
    left join rule_fingerprints
        on no_longer_flagged.rule_id = rule_fingerprints.rule_id
),

final as (
    select  -- noqa: ST06
        -- is_flagged and current_fingerprint are used below (DuckDB's lateral aliases)
        current_findings.finding_id is not null as is_flagged,
        rule_fingerprints.rule_fingerprint as current_fingerprint,
        coalesce(current_findings.finding_id, previous_lifecycle.finding_id) as finding_id,
        coalesce(current_findings.rule_id, previous_lifecycle.rule_id) as rule_id,
        case
            when is_flagged then current_findings.data_source
            else previous_lifecycle.data_source
        end as data_source,
        coalesce(current_findings.claim_id, previous_lifecycle.claim_id) as claim_id,
        coalesce(current_findings.claim_line_number, previous_lifecycle.claim_line_number)
            as claim_line_number,
        case
            when is_flagged then 'open'
            when previous_lifecycle.state = 'open' then 'resolved'
            else previous_lifecycle.state
        end as state,
        case
            when is_flagged then null
            when previous_lifecycle.state = 'open' then classified.resolution
            else previous_lifecycle.resolution
        end as resolution,
        coalesce(previous_lifecycle.first_seen_run_id, this_run.run_id) as first_seen_run_id,
        coalesce(previous_lifecycle.first_seen_on, this_run.run_date) as first_seen_on,
        case
            when is_flagged then this_run.run_id else previous_lifecycle.last_seen_run_id
        end as last_seen_run_id,
        case
            when is_flagged then this_run.run_date else previous_lifecycle.last_seen_on
        end as last_seen_on,
        case
            when is_flagged then null
            when previous_lifecycle.state = 'open' then this_run.run_id
            else previous_lifecycle.resolved_run_id
        end as resolved_run_id,
        case
            when is_flagged then null
            when previous_lifecycle.state = 'open' then this_run.run_date
            else previous_lifecycle.resolved_on
        end as resolved_on,
        coalesce(previous_lifecycle.times_reopened, 0)
        + case when is_flagged and previous_lifecycle.state = 'resolved' then 1 else 0 end
            as times_reopened,
        case
            when is_flagged then current_findings.rule_version
            else previous_lifecycle.rule_version
        end as rule_version,
        case
            when is_flagged then current_findings.status else previous_lifecycle.status
        end as status,
        case
            when is_flagged then current_findings.severity else previous_lifecycle.severity
        end as severity,
        case
            when is_flagged then current_findings.person_id else previous_lifecycle.person_id
        end as person_id,
        case
            when is_flagged then current_findings.rendering_npi
            else previous_lifecycle.rendering_npi
        end as rendering_npi,
        case
            when is_flagged then current_findings.service_date
            else previous_lifecycle.service_date
        end as service_date,
        case
            when is_flagged then current_findings.hcpcs_code else previous_lifecycle.hcpcs_code
        end as hcpcs_code,
        case
            when is_flagged then current_findings.paid_amount
            else previous_lifecycle.paid_amount
        end as paid_amount,
        case
            when is_flagged then current_findings.evidence else previous_lifecycle.evidence
        end as evidence,
        case
            when is_flagged then current_fingerprint else previous_lifecycle.rule_fingerprint
        end as rule_fingerprint
    from current_findings
    full outer join previous_lifecycle
        on current_findings.finding_id = previous_lifecycle.finding_id
    left join classified
        on previous_lifecycle.finding_id = classified.finding_id
    left join rule_fingerprints
        on current_findings.rule_id = rule_fingerprints.rule_id
    cross join this_run
)

select * exclude (is_flagged, current_fingerprint) from final
order by first_seen_on, rule_id, claim_id, claim_line_number, data_source, finding_id
