-- model: int_reversal_matches
-- grain: one row per reversal line that cancels a line: (table_name, the reversal line,
--        the line it cancels), over the medical and pharmacy claims of int_esi_persons.
-- Policy section 1 (since 1.1): a reversal (negative paid amount) cancels the line it
-- reverses: a non-reversal line of the same data_source and person, the same service date,
-- HCPCS code and rendering NPI, whose paid amount is the reversal's with the sign flipped
-- (to the cent: amounts are loaded exact, so both sides are rounded to the cent here).
-- Among several candidates, one on the reversal's own claim first, then the lowest
-- (claim_id, claim_line_number); a reversal cancels at most one line, a line is cancelled
-- at most once, and reversals are paired in (claim_id, claim_line_number) order.
-- Readings where the policy is silent: a missing HCPCS code matches a missing one, as a
-- missing NPI does; pharmacy fills are paired the same way (dispensing_date, ndc_code,
-- prescribing_provider_npi), so a reversed fill is no evidence either.
--
-- How the greedy pairing is computed without a loop. Every reversal of a match group (same
-- table, source, person, date, code, NPI and amount) is a candidate for every original of
-- the group, so only the group's claims matter. Walk the claims in claim_id order: a
-- claim's reversals first take its own originals (lowest line first), and the reversals
-- left over take the lowest remaining original of the group, which is a leftover original
-- of an earlier claim if there is one, else the first original of a later claim (taken
-- ahead of that claim's own reversals). Before claim c, the group's balance (originals
-- minus reversals of the earlier claims) is exactly the number of leftover originals when
-- positive, or minus the number of originals taken ahead from claims >= c when negative
-- (both are never positive at once). So claim c loses
-- n_taken_ahead = least(n_originals, greatest(-balance, 0)) originals (its first lines),
-- keeps n_available = greatest(n_originals + least(balance, 0), 0), and pairs
-- n_own_pairs = least(n_reversals, n_available) reversals with its next originals (the
-- k-th reversal with original n_taken_ahead + k). The lines left unpaired by their own claim, in
-- (claim_id, claim_line_number) order, pair rank by rank: the reversals that take from
-- the group take, in turn, the lowest original no reversal has taken.
-- tests/audit/test_reversals.py checks this against the policy's greedy loop on random
-- worlds.

with

esi_persons as (
    select * from int_esi_persons
),

money_lines as (
    select
        'medical_claim' as table_name,
        coalesce(medical_claim.data_source, '') as source_key,
        medical_claim.data_source,
        medical_claim.claim_id,
        medical_claim.claim_line_number,
        medical_claim.person_id,
        medical_claim.service_date as line_date,
        coalesce(medical_claim.hcpcs_code, '') as item_code,
        coalesce(medical_claim.rendering_npi, '') as provider_key,
        medical_claim.paid_amount,
        round(medical_claim.paid_amount, 2) as paid_cents
    from medical_claim
    inner join esi_persons
        on medical_claim.person_id = esi_persons.person_id
    where medical_claim.paid_amount <> 0

    union all

    select
        'pharmacy_claim' as table_name,
        coalesce(pharmacy_claim.data_source, '') as source_key,
        pharmacy_claim.data_source,
        pharmacy_claim.claim_id,
        pharmacy_claim.claim_line_number,
        pharmacy_claim.person_id,
        pharmacy_claim.dispensing_date as line_date,
        coalesce(pharmacy_claim.ndc_code, '') as item_code,
        coalesce(pharmacy_claim.prescribing_provider_npi, '') as provider_key,
        pharmacy_claim.paid_amount,
        round(pharmacy_claim.paid_amount, 2) as paid_cents
    from pharmacy_claim
    inner join esi_persons
        on pharmacy_claim.person_id = esi_persons.person_id
    where pharmacy_claim.paid_amount <> 0
),

-- match groups: what a reversal and the line it cancels share; numbered per person
reversal_groups as (
    select
        *,
        row_number() over (
            partition by person_id
            order by table_name, source_key, line_date, item_code, provider_key, amount
        ) as group_number
    from (
        select distinct
            table_name,
            source_key,
            person_id,
            line_date,
            item_code,
            provider_key,
            -paid_cents as amount
        from money_lines
        where paid_amount < 0
    ) as reversal_keys
),

-- the reversals and the lines they could cancel, by match group (person_id, group_number)
candidate_lines as (
    select
        money_lines.table_name,
        money_lines.source_key,
        money_lines.data_source,
        money_lines.person_id,
        reversal_groups.group_number,
        money_lines.claim_id,
        money_lines.claim_line_number,
        money_lines.paid_amount < 0 as is_reversal
    from money_lines
    inner join reversal_groups
        on
            money_lines.table_name = reversal_groups.table_name
            and money_lines.source_key = reversal_groups.source_key
            and money_lines.person_id = reversal_groups.person_id
            and money_lines.line_date = reversal_groups.line_date
            and money_lines.item_code = reversal_groups.item_code
            and money_lines.provider_key = reversal_groups.provider_key
            and abs(money_lines.paid_cents) = reversal_groups.amount
),

claim_counts as (
    select
        person_id,
        group_number,
        claim_id,
        count(case when not is_reversal then 1 end) as n_originals,
        count(case when is_reversal then 1 end) as n_reversals,
        sum(case when is_reversal then -1 else 1 end) as n_net_originals
    from candidate_lines
    group by person_id, group_number, claim_id
),

-- originals left over (positive) or taken ahead (negative) by the group's earlier claims
claim_balances as (
    select
        *,
        coalesce(
            sum(n_net_originals) over (
                partition by person_id, group_number
                order by claim_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as balance_before
    from claim_counts
),

claim_plans as (
    select
        *,
        least(n_originals, greatest(-balance_before, 0)) as n_taken_ahead,
        least(n_reversals, greatest(n_originals + least(balance_before, 0), 0)) as n_own_pairs
    from claim_balances
),

ranked_lines as (
    select
        candidate_lines.*,
        claim_plans.n_taken_ahead,
        claim_plans.n_own_pairs,
        row_number() over (
            partition by
                candidate_lines.person_id,
                candidate_lines.group_number,
                candidate_lines.claim_id,
                candidate_lines.is_reversal
            order by candidate_lines.claim_line_number
        ) as claim_rank
    from candidate_lines
    inner join claim_plans
        on
            candidate_lines.person_id = claim_plans.person_id
            and candidate_lines.group_number = claim_plans.group_number
            and candidate_lines.claim_id = claim_plans.claim_id
),

-- is_own_pair: the line is paired within its own claim
own_claim_slots as (
    select
        *,
        case
            when is_reversal then claim_rank <= n_own_pairs
            else claim_rank > n_taken_ahead and claim_rank <= n_taken_ahead + n_own_pairs
        end as is_own_pair
    from ranked_lines
),

-- pair_claim_id: the claim a line pairs within ('' = the lines their own claims left
-- unpaired, paired through the group); pair_rank: the k-th reversal pairs with the k-th
-- original there, by line within a claim, by (claim_id, line) through the group
pair_ranks as (
    select
        *,
        row_number() over (
            partition by person_id, group_number, is_reversal, pair_claim_id
            order by claim_id, claim_line_number
        ) as pair_rank
    from (
        select
            *,
            case when is_own_pair then claim_id else '' end as pair_claim_id
        from own_claim_slots
    ) as slotted
),

final as (
    select
        reversals.table_name,
        reversals.source_key,
        reversals.data_source,
        reversals.person_id,
        reversals.claim_id as reversal_claim_id,
        reversals.claim_line_number as reversal_claim_line_number,
        originals.claim_id as original_claim_id,
        originals.claim_line_number as original_claim_line_number
    from pair_ranks as reversals
    inner join pair_ranks as originals
        on
            reversals.person_id = originals.person_id
            and reversals.group_number = originals.group_number
            and reversals.pair_claim_id = originals.pair_claim_id
            and reversals.pair_rank = originals.pair_rank
    where reversals.is_reversal and not originals.is_reversal
)

select * from final
