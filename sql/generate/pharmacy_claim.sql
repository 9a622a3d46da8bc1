-- pharmacy_claim: canonical fills and their rendering into the Tuva layout.
-- gen_rx_index (a view with column i) says which filler fills to build; fill i
-- is written at record gen_n_scn_fills + i + 1, after the ESI persons' fills.
-- General persons refill a few drugs of their own (NDCs outside the crosswalk)
-- and now and then a crosswalk drug.

create or replace temp view gen_filler_pharmacy as
with base as (
    select
        i,
        gen_rx_claim(i) as c,
        gen_rx_line_number(i) as n
    from gen_rx_index
),

person as (
    select
        *,
        gen_pick(c, 2, getvariable('gen_n_persons')) as q
    from base
)

-- the columns of gen_scn_pharmacy, in its order (gen_pharmacy_lines unions them by position)
select  -- noqa: ST06
    getvariable('gen_n_scn_fills') + i as rec,
    q,
    gen_rx_claim_id(c) as claim_id,
    n as claim_line_number,
    gen_claims_from(q)
    + cast(gen_pick(c, 3, date_diff('day', gen_claims_from(q), gen_cov_end(q)) + 1) as integer)
        as dispensing_date,
    case
        when gen_pct(i, 26) < 12 then gen_choose(getvariable('gen_ndc_all'), i, 27)
        else gen_unlisted_ndc(gen_pick(q * 4 + gen_pick(i, 21, 3), 22, 400))
    end as ndc,
    false as dashed,
    gen_prac('general', c, 16) as prescriber_k,
    gen_choose([30, 30, 30, 90, 14, 7], i, 28) as days_supply,
    gen_rnd(i, 19) as m,
    case when i % gen_stride() = 17 then 'malformed_ndc_code' end as defect,
    cast(i // gen_stride() as integer) as defect_arg
from person;

create or replace temp view gen_pharmacy_lines as
-- both halves hold the canonical fill columns, in one order
select * from gen_scn_pharmacy  -- noqa: AM04
union all
select * from gen_filler_pharmacy;

create or replace temp view gen_pharmacy_claim_out as
with x as (
    select
        *,
        gen_window(m, 3) as f,
        round((4 + hash(ndc) % 250) * days_supply / 30.0 * (0.9 + gen_window(m, 4) / 640.0), 2) as allowed
    from gen_pharmacy_lines
)

-- columns in the Tuva layout's order, as a reader of the extract sees them
select  -- noqa: ST06
    rec,
    defect,
    cast(null as varchar) as warning,
    claim_id,
    cast(claim_line_number as varchar) as claim_line_number,
    gen_person_id(q) as person_id,
    gen_person_id(q) as member_id,
    gen_payer(q) as payer,
    gen_plan(q) as plan,
    gen_npi(prescriber_k) as prescribing_provider_npi,
    gen_npi(gen_prac('facility', q, 63)) as dispensing_provider_npi,
    gen_fmt_date(dispensing_date, f) as dispensing_date,
    case
        when defect = 'malformed_ndc_code' then gen_bad_ndc(defect_arg)
        when dashed then gen_dashed_ndc(ndc)
        else gen_mess_ndc(ndc, gen_window(m, 0))
    end as ndc_code,
    cast(days_supply * (1 + gen_window(m, 1) % 2) as varchar) as quantity,
    cast(days_supply as varchar) as days_supply,
    cast(gen_window(m, 2) % 6 as varchar) as refills,
    gen_fmt_date(dispensing_date, f) as paid_date,
    gen_amount(round(allowed * 0.85, 2)) as paid_amount,
    gen_amount(allowed) as allowed_amount,
    gen_amount(round(allowed * 1.3, 2)) as charge_amount,
    gen_amount(round(allowed * 0.15, 2)) as copayment_amount,
    '1' as in_network_flag,
    gen_data_source(q) as data_source,
    'synthetic_pharmacy_claim' as file_name,
    cast(cast(date_trunc('month', dispensing_date) as date) as varchar) as file_date,
    '2026-01-15 02:00:00' as ingest_datetime
from x;
