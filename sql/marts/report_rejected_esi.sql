-- model: report_rejected_esi
-- grain: one row per reason set of rejected medical_claim rows whose raw HCPCS code is a
-- cervical/thoracic ESI code ($esi_codes): lines the audit never saw.
-- Parsed rows carry their original values as JSON; a CSV record that could not be parsed
-- keeps its raw text, and counts when an ESI code appears in it as a separate field.

with

rejected as (
    select *
    from rejected_rows
    where table_name = 'medical_claim'
),

raw_codes as (
    select
        reasons,
        case
            when json_valid(original_values)
                then upper(replace(trim(json_extract_string(original_values, '$.hcpcs_code')), '.', ''))
        end as hcpcs_code,
        case
            when json_valid(original_values)
                then try_cast(trim(json_extract_string(original_values, '$.paid_amount')) as decimal(18, 2))
        end as paid_amount,
        case
            when not json_valid(original_values)
                then list_has_any(
                    regexp_split_to_array(upper(coalesce(original_values, '')), '[^A-Z0-9]+'), $esi_codes
                )
        end as is_esi_raw_line
    from rejected
),

esi_rejected as (
    select *
    from raw_codes
    where list_contains($esi_codes, hcpcs_code) or is_esi_raw_line
),

final as (
    select
        reasons,
        count(*) as n_rows,
        sum(paid_amount) as paid_amount
    from esi_rejected
    group by reasons
)

select * from final
order by n_rows desc, reasons asc
