-- model: report_providers
-- grain: one row per rendering provider (NPI; '' when the NPI is missing) with audited ESI
-- lines or findings in this run.
-- n_lines_audited: audited ESI lines (mart_esi_lines, exclusion_reason null).
-- n_lines_with_findings: distinct lines with any finding (guidance_unbundled findings sit
--   on the 77003/77012 line, which may be billed by another provider than the injection).
-- n_lines_failed: audited ESI lines with at least one `fail` finding: the numerator of the
--   provider's fail rate, so it never exceeds n_lines_audited.
-- dollars_at_risk: paid amount of the provider's lines with a `fail` finding, each line once,
--   except lines whose `fail` findings are all decided not_an_error or (unexpired) waived.

with

audited_lines as (
    select
        claim_id,
        claim_line_number,
        coalesce(rendering_npi, '') as provider_key
    from mart_esi_lines
    where exclusion_reason is null
),

findings as (
    select
        rule_id,
        status,
        claim_id,
        claim_line_number,
        paid_amount,
        review_state,
        coalesce(rendering_npi, '') as provider_key
    from findings
),

failed_lines as (
    select
        provider_key,
        claim_id,
        claim_line_number,
        paid_amount,
        bool_and(review_state in ('not_an_error', 'waived')) as is_decided
    from findings
    where status = 'fail'
    group by provider_key, claim_id, claim_line_number, paid_amount
),

volume as (
    select
        provider_key,
        count(*) as n_lines_audited
    from audited_lines
    group by provider_key
),

finding_counts as (
    select
        provider_key,
        count(*) as n_findings
    from findings
    group by provider_key
),

flagged_lines as (
    select distinct
        provider_key,
        claim_id,
        claim_line_number
    from findings
),

flagged as (
    select
        finding_counts.provider_key,
        finding_counts.n_findings,
        count(*) as n_lines_with_findings
    from finding_counts
    inner join flagged_lines on finding_counts.provider_key = flagged_lines.provider_key
    group by finding_counts.provider_key, finding_counts.n_findings
),

failed_audited as (
    select
        audited_lines.provider_key,
        count(*) as n_lines_failed
    from audited_lines
    where
        exists (
            select 1
            from failed_lines
            where
                failed_lines.provider_key = audited_lines.provider_key
                and failed_lines.claim_id = audited_lines.claim_id
                and failed_lines.claim_line_number = audited_lines.claim_line_number
        )
    group by audited_lines.provider_key
),

at_risk as (
    select
        provider_key,
        sum(paid_amount) as dollars_at_risk
    from failed_lines
    where not is_decided
    group by provider_key
),

provider_keys as (
    select provider_key from volume
    union
    select provider_key from flagged
),

final as (
    select
        provider_keys.provider_key,
        coalesce(volume.n_lines_audited, 0) as n_lines_audited,
        coalesce(flagged.n_findings, 0) as n_findings,
        coalesce(flagged.n_lines_with_findings, 0) as n_lines_with_findings,
        coalesce(failed_audited.n_lines_failed, 0) as n_lines_failed,
        coalesce(at_risk.dollars_at_risk, 0) as dollars_at_risk
    from provider_keys
    left join volume on provider_keys.provider_key = volume.provider_key
    left join flagged on provider_keys.provider_key = flagged.provider_key
    left join failed_audited on provider_keys.provider_key = failed_audited.provider_key
    left join at_risk on provider_keys.provider_key = at_risk.provider_key
)

select * from final
order by provider_key
