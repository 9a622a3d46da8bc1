-- model: review_frame
-- grain: one row per line of a review sample's frame: an audited ESI line of the latest
-- successful run (mart_esi_lines, exclusion_reason NULL; a folded add-on is audited on
-- its primary, whose audited_paid_amount includes it) with a positive paid amount.
-- $frame_kind 'flagged' keeps the lines with at least one `fail` finding, 'audited' all.
-- findings / evidence: every finding of the line (any status), by rule id.
-- random_key: the line's random number for the draw, the first 16 hex digits of the
-- SHA-256 of $seed, data_source (missing as empty text), claim_id and claim_line_number
-- joined by U+001F; within a stratum the lines with the smallest keys are drawn.

with

esi_lines as (
    select * from mart_esi_lines
),

findings as (
    select * from findings
),

audited_lines as (
    select
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        service_date,
        hcpcs_code,
        rendering_npi,
        cast(audited_paid_amount as decimal(18, 2)) as paid_amount
    from esi_lines
    where
        exclusion_reason is null
        and audited_paid_amount > 0
),

line_findings as (
    select
        data_source,
        claim_id,
        claim_line_number,
        bool_or(status = 'fail') as is_flagged,
        string_agg(rule_id || ' (' || status || ')', '; ' order by rule_id) as findings,
        string_agg(rule_id || ': ' || coalesce(evidence, ''), ' | ' order by rule_id) as evidence
    from findings
    group by data_source, claim_id, claim_line_number
),

frame as (
    select
        a.data_source,
        a.claim_id,
        a.claim_line_number,
        a.person_id,
        a.service_date,
        a.hcpcs_code,
        a.rendering_npi,
        a.paid_amount,
        f.findings,
        f.evidence,
        coalesce(f.is_flagged, false) as is_flagged
    from audited_lines as a
    left join line_findings as f
        on
            a.data_source is not distinct from f.data_source
            and a.claim_id = f.claim_id
            and a.claim_line_number = f.claim_line_number
),

final as (
    select
        *,
        cast(paid_amount * 100 as bigint) as paid_cents,
        left(
            sha256(
                concat_ws(
                    chr(31),
                    cast($seed as varchar),
                    coalesce(data_source, ''),
                    claim_id,
                    cast(claim_line_number as varchar)
                )
            ),
            16
        ) as random_key
    from frame
    where $frame_kind = 'audited' or is_flagged
)

select * from final
order by data_source, claim_id, claim_line_number
