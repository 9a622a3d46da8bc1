-- model: mart_esi_lines
-- grain: one row per ESI medical-claim line of the run, audited or not.
-- What the report and analysts read to count audited and excluded lines:
-- exclusion_reason NULL = audited; 'thoracic' lines are the report's "excluded as
-- thoracic"; 'folded_addon' lines are audited on folded_into_line_number;
-- 'reversal' lines are shown, never audited; 'reversed' lines are cancelled by a reversal
-- (policy 1.1 section 1), neither audited nor evidence. paired_claim_id and
-- paired_claim_line_number name the reversal of a 'reversed' line and the line a
-- 'reversal' cancels (NULL: the reversal matches nothing; same data_source).

with

esi_lines as (
    select * from int_esi_lines
),

final as (
    select
        $run_id as run_id,  -- noqa: AL09
        data_source,
        claim_id,
        claim_line_number,
        person_id,
        claim_type,
        service_date,
        hcpcs_code,
        kind,
        is_addon,
        rendering_npi,
        paid_amount,
        n_units,
        exclusion_reason,
        folded_into_line_number,
        paired_claim_id,
        paired_claim_line_number,
        audited_paid_amount,
        n_folded_addons,
        is_exempt_postprocedural,
        is_exempt_herpes_zoster,
        diagnosis_list
    from esi_lines
)

select * from final
