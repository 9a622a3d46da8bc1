-- model: int_esi_claim_diagnoses
-- grain: one row per (claim, distinct diagnosis code) for every claim holding a
--        non-reversal ESI line.
-- Diagnoses of a line are diagnosis_code_1..25 of every line of its claim (policy
-- section 1); codes arrive normalized (upper-case, no dots). Reversal lines and the lines
-- they cancel (int_reversal_matches) do not contribute (they are not evidence). dx_rank
-- orders the codes by first appearance (line number, then position, then code) so
-- evidence lists are deterministic.

with

esi_claims as (
    select distinct
        source_key,
        claim_id
    from int_esi_claim_lines
    where not is_reversal
),

medical_reversal_matches as (
    select * from int_reversal_matches
    where table_name = 'medical_claim'
),

claim_lines as (
    select
        esi_claims.source_key,
        medical_claim.claim_id,
        medical_claim.claim_line_number,
        medical_claim.diagnosis_code_1,
        medical_claim.diagnosis_code_2,
        medical_claim.diagnosis_code_3,
        medical_claim.diagnosis_code_4,
        medical_claim.diagnosis_code_5,
        medical_claim.diagnosis_code_6,
        medical_claim.diagnosis_code_7,
        medical_claim.diagnosis_code_8,
        medical_claim.diagnosis_code_9,
        medical_claim.diagnosis_code_10,
        medical_claim.diagnosis_code_11,
        medical_claim.diagnosis_code_12,
        medical_claim.diagnosis_code_13,
        medical_claim.diagnosis_code_14,
        medical_claim.diagnosis_code_15,
        medical_claim.diagnosis_code_16,
        medical_claim.diagnosis_code_17,
        medical_claim.diagnosis_code_18,
        medical_claim.diagnosis_code_19,
        medical_claim.diagnosis_code_20,
        medical_claim.diagnosis_code_21,
        medical_claim.diagnosis_code_22,
        medical_claim.diagnosis_code_23,
        medical_claim.diagnosis_code_24,
        medical_claim.diagnosis_code_25
    from medical_claim
    inner join esi_claims
        on
            coalesce(medical_claim.data_source, '') = esi_claims.source_key
            and medical_claim.claim_id = esi_claims.claim_id
    where
        not coalesce(medical_claim.paid_amount < 0, false)
        and not exists (
            select 1
            from medical_reversal_matches as cancelled
            where
                cancelled.source_key = esi_claims.source_key
                and cancelled.original_claim_id = medical_claim.claim_id
                and cancelled.original_claim_line_number = medical_claim.claim_line_number
        )
),

diagnosis_positions as (
    select diagnosis_position
    -- the alias names the column
    from (
        values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12), (13),
        (14), (15), (16), (17), (18), (19), (20), (21), (22), (23), (24), (25)
    ) as positions (diagnosis_position)  -- noqa: AL05
),

unpivoted as (
    select
        claim_lines.source_key,
        claim_lines.claim_id,
        claim_lines.claim_line_number,
        diagnosis_positions.diagnosis_position,
        case diagnosis_positions.diagnosis_position
            when 1 then claim_lines.diagnosis_code_1
            when 2 then claim_lines.diagnosis_code_2
            when 3 then claim_lines.diagnosis_code_3
            when 4 then claim_lines.diagnosis_code_4
            when 5 then claim_lines.diagnosis_code_5
            when 6 then claim_lines.diagnosis_code_6
            when 7 then claim_lines.diagnosis_code_7
            when 8 then claim_lines.diagnosis_code_8
            when 9 then claim_lines.diagnosis_code_9
            when 10 then claim_lines.diagnosis_code_10
            when 11 then claim_lines.diagnosis_code_11
            when 12 then claim_lines.diagnosis_code_12
            when 13 then claim_lines.diagnosis_code_13
            when 14 then claim_lines.diagnosis_code_14
            when 15 then claim_lines.diagnosis_code_15
            when 16 then claim_lines.diagnosis_code_16
            when 17 then claim_lines.diagnosis_code_17
            when 18 then claim_lines.diagnosis_code_18
            when 19 then claim_lines.diagnosis_code_19
            when 20 then claim_lines.diagnosis_code_20
            when 21 then claim_lines.diagnosis_code_21
            when 22 then claim_lines.diagnosis_code_22
            when 23 then claim_lines.diagnosis_code_23
            when 24 then claim_lines.diagnosis_code_24
            when 25 then claim_lines.diagnosis_code_25
        end as diagnosis_code
    from claim_lines
    cross join diagnosis_positions
),

first_seen as (
    select
        source_key,
        claim_id,
        diagnosis_code,
        min(cast(claim_line_number as bigint) * 100 + diagnosis_position) as first_seen_order
    from unpivoted
    where diagnosis_code is not null
    group by source_key, claim_id, diagnosis_code
),

final as (
    select
        source_key,
        claim_id,
        diagnosis_code,
        row_number() over (
            partition by source_key, claim_id
            order by first_seen_order, diagnosis_code
        ) as dx_rank
    from first_seen
)

select * from final
