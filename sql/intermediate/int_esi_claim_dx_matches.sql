-- model: int_esi_claim_dx_matches
-- grain: one row per (claim, diagnosis code, ICD-10-CM value set it falls in).
-- A value-set entry covers itself and every code below it (policy section 1): the
-- match is on a prefix of the diagnosis. Each diagnosis is expanded into its
-- prefixes of length 3..7 (ICD-10-CM codes have 3 to 7 characters) and joined on
-- equality, so the join is a hash join however many diagnoses there are.

with

claim_diagnoses as (
    select * from int_esi_claim_diagnoses
),

icd_value_sets as (
    select
        value_set,
        code
    from value_sets
    where code_system = 'ICD-10-CM'
),

prefix_lengths as (
    select prefix_length
    from (values (3), (4), (5), (6), (7)) as lengths (prefix_length)  -- noqa: AL05
),

diagnosis_prefixes as (
    select
        claim_diagnoses.source_key,
        claim_diagnoses.claim_id,
        claim_diagnoses.diagnosis_code,
        claim_diagnoses.dx_rank,
        substr(claim_diagnoses.diagnosis_code, 1, prefix_lengths.prefix_length) as code_prefix
    from claim_diagnoses
    cross join prefix_lengths
    where prefix_lengths.prefix_length <= length(claim_diagnoses.diagnosis_code)
),

final as (
    select distinct
        diagnosis_prefixes.source_key,
        diagnosis_prefixes.claim_id,
        diagnosis_prefixes.diagnosis_code,
        diagnosis_prefixes.dx_rank,
        icd_value_sets.value_set
    from diagnosis_prefixes
    inner join icd_value_sets
        on diagnosis_prefixes.code_prefix = icd_value_sets.code
)

select * from final
