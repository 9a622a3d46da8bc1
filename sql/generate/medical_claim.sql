-- medical_claim: canonical lines (clean values, one row per line) and their
-- rendering into the Tuva layout with the noise real extracts carry.
--
-- gen_filler_index (a view with column i) says which filler lines to build:
-- all of range(n_filler) for the extract, or only the planted defects for
-- expected_rejections.csv. Filler line i is written at record
-- gen_n_scn_lines + i + 1, after the ESI persons' lines (gen_scn_medical).

create or replace temp view gen_filler_medical as
with base as (
    select
        i,
        gen_filler_claim(gen_key_line(i)) as c,
        gen_filler_line_number(gen_key_line(i)) as n,
        gen_filler_is_inst(gen_key_line(i)) as is_inst
    from gen_filler_index
),

person as (
    select
        *,
        gen_pick(c, 2, getvariable('gen_n_persons')) as q,
        case when is_inst then gen_inst_kind(c) else gen_prof_kind(c) end as kind
    from base
),

dated as (
    select
        *,
        gen_claims_from(q)
        + cast(gen_pick(c, 3, date_diff('day', gen_claims_from(q), gen_cov_end(q)) + 1) as integer)
            as claim_date,
        case when is_inst then gen_inst_los(kind, c) else 0 end as los,
        case
            when is_inst and kind = 6 then 1 + (n - 1) % 4
            when is_inst then 1 + gen_pick(i, 20, len(gen_inst_revenue()[kind + 1]))
            when gen_prof_positional(kind) then 1 + (n - 1) % len(gen_prof_codes()[kind + 1])
            else 1 + gen_pick(i, 20, len(gen_prof_codes()[kind + 1]))
        end as slot,
        case when is_inst then 2 + gen_pick(c, 24, 7) else 1 + gen_pick(c, 24, 4) end as n_dx,
        case when is_inst then gen_inst_dx_pool()[kind + 1] else gen_prof_dx_pool()[kind + 1] end
            as dx_pool
    from person
),

coded as (
    select
        *,
        case when is_inst then gen_inst_codes()[kind + 1][slot] else gen_prof_codes()[kind + 1][slot] end
            as hcpcs,
        case when is_inst then gen_inst_revenue()[kind + 1][slot] end as revenue,
        -- one claim in 100 is reversed (every line negative, warning rows excepted)
        gen_pct(c, 8) < 1 and gen_warning(i) is null as is_reversal
    from dated
),

priced as (
    select
        *,
        round(gen_base_price(coalesce(hcpcs, revenue)) * (0.6 + gen_pct(i, 21) / 250.0), 2) as base_paid
    from coded
),

amounts as (
    select
        *,
        round(base_paid * (1.05 + gen_pct(i, 22) / 400.0), 2) as base_allowed
    from priced
)

-- the columns of gen_scn_medical, in its order (gen_medical_lines unions them by position)
select  -- noqa: ST06
    getvariable('gen_n_scn_lines') + i as rec,
    q,
    gen_claim_id(c) as claim_id,
    n as claim_line_number,
    case when is_inst then 'institutional' else 'professional' end as claim_type,
    c as claim_seed,
    claim_date as claim_start,
    case when gen_warning(i) = 'claim_end_before_start' then claim_date - 3 else claim_date + los end
        as claim_end,
    case when is_inst or gen_pct(c, 9) < 5 then null else claim_date end as line_start,
    case when is_inst or gen_pct(c, 9) < 5 then null else claim_date end as line_end,
    case when is_inst and kind = 1 then claim_date end as admission_date,
    case when is_inst and kind = 1 then claim_date + los end as discharge_date,
    case when not is_inst then gen_choose(gen_prof_pos()[kind + 1], c, 11) end as pos,
    case when is_inst then gen_inst_bill_type()[kind + 1] end as bill_type,
    case when is_inst and kind = 1 then gen_choose(['470', '871', '291', '392', '690', '194', '603', '247'], c, 12) end
        as drg,
    revenue,
    case
        when revenue = '0120' then cast(greatest(los, 1) as varchar)
        when hcpcs in ('36415', '85025', '80053', '97110', '97140') and gen_pct(i, 13) < 15 then '2'
        else '1'
    end as units,
    hcpcs,
    case
        when not is_inst then gen_prof_modifier(kind, hcpcs, gen_choose(['RT', 'LT'], c, 14), i)
    end as mod1,
    case when not is_inst and kind = 7 and gen_pct(i, 15) < 5 then '59' end as mod2,
    gen_prac(case when is_inst then 'general' else gen_prof_role()[kind + 1] end, c, 16) as rendering_k,
    case
        when is_inst then gen_prac('facility', c, 18)
        when gen_pct(c, 17) < 40 then gen_prac('general', c, 17)
    end as billing_k,
    case when is_inst then gen_prac('facility', c, 18) end as facility_k,
    case
        when gen_warning(i) = 'paid_exceeds_allowed' then base_allowed + 5
        when is_reversal then -base_paid
        else base_paid
    end as paid_amount,
    case when is_reversal then -base_allowed else base_allowed end as allowed_amount,
    round(
        (case when is_reversal then -1 else 1 end) * base_allowed * (1.4 + gen_pct(i, 23) / 80.0), 2
    ) as charge_amount,
    gen_choose(gen_dx_pools()[dx_pool], c, 31) as dx1,
    case when n_dx >= 2 then gen_choose(gen_dx_pools()[1], c, 32) end as dx2,
    case when n_dx >= 3 then gen_choose(gen_dx_pools()[1], c, 33) end as dx3,
    case when n_dx >= 4 then gen_choose(gen_dx_pools()[1], c, 34) end as dx4,
    case when n_dx >= 5 then gen_choose(gen_dx_pools()[1], c, 35) end as dx5,
    case when n_dx >= 6 then gen_choose(gen_dx_pools()[1], c, 36) end as dx6,
    case when n_dx >= 7 then gen_choose(gen_dx_pools()[1], c, 37) end as dx7,
    case when n_dx >= 8 then gen_choose(gen_dx_pools()[2], c, 38) end as dx8,
    gen_rnd(i, 19) as m,
    gen_defect(i) as defect,
    gen_defect_arg(i) as defect_arg,
    gen_warning(i) as warning,
    gen_alt_source(i) as alt_source
from amounts;

create or replace temp view gen_medical_lines as
-- both halves hold the canonical line columns, in one order
select * from gen_scn_medical  -- noqa: AM04
union all
select * from gen_filler_medical;

-- The Tuva columns this generator fills (jobs/generate.py adds the empty
-- ones in layout order). `rec`, `defect` and `warning` are not written.
create or replace temp view gen_medical_claim_out as
with x as (
    select
        *,
        gen_window(m, 3) as f,
        case when defect = 'invalid_date' then gen_bad_date(defect_arg // 3) end as bad_date,
        case when defect = 'invalid_date' then defect_arg % 3 end as bad_date_col,
        case when defect = 'malformed_diagnosis_code' then defect_arg % 3 + 1 end as bad_dx_col,
        hash(m) as m2
    from gen_medical_lines
)

-- columns in the Tuva layout's order, as a reader of the extract sees them
select  -- noqa: ST06
    rec,
    defect,
    warning,
    case when defect = 'missing_claim_id' then null else claim_id end as claim_id,
    case when defect = 'missing_claim_line_number' then null else cast(claim_line_number as varchar) end
        as claim_line_number,
    claim_type,
    case when defect = 'missing_person_id' then null else gen_person_id(q) end as person_id,
    gen_person_id(q) as member_id,
    gen_payer(q) as payer,
    gen_plan(q) as plan,
    case when defect = 'missing_service_date' then null else gen_fmt_date(claim_start, f) end
        as claim_start_date,
    case when bad_date_col = 1 then bad_date else gen_fmt_date(claim_end, f) end as claim_end_date,
    case
        when defect = 'missing_service_date' then null
        when bad_date_col = 0 then bad_date
        else gen_fmt_date(line_start, f)
    end as claim_line_start_date,
    case when bad_date_col = 2 then bad_date else gen_fmt_date(line_end, f) end as claim_line_end_date,
    gen_fmt_date(admission_date, f) as admission_date,
    gen_fmt_date(discharge_date, f) as discharge_date,
    case when admission_date is not null then gen_choose(['1', '2', '7'], claim_seed, 60) end
        as admit_source_code,
    case when admission_date is not null then gen_choose(['1', '2', '3'], claim_seed, 61) end
        as admit_type_code,
    case when admission_date is not null then gen_choose(['01', '01', '06', '03'], claim_seed, 62) end
        as discharge_disposition_code,
    pos as place_of_service_code,
    case when bill_type is not null and gen_window(m, 4) < 26 then '0' || bill_type else bill_type end
        as bill_type_code,
    case when drg is not null then 'ms-drg' end as drg_code_type,
    drg as drg_code,
    case when revenue is not null and gen_window(m, 4) >= 121 then substr(revenue, 2) else revenue end
        as revenue_center_code,
    units as service_unit_quantity,
    case
        when defect = 'malformed_hcpcs_code' then gen_bad_hcpcs(defect_arg)
        else gen_mess_hcpcs(hcpcs, gen_window(m, 0))
    end as hcpcs_code,
    gen_mess_modifier(mod1, gen_window(m, 1)) as hcpcs_modifier_1,
    gen_mess_modifier(mod2, gen_window(m, 1)) as hcpcs_modifier_2,
    case
        when warning = 'missing_rendering_npi' then null
        when defect = 'invalid_npi' then gen_bad_npi(rendering_k)
        else gen_npi(rendering_k)
    end as rendering_npi,
    gen_npi(billing_k) as billing_npi,
    gen_npi(facility_k) as facility_npi,
    gen_fmt_date(greatest(claim_start, claim_end) + 14 + cast(gen_window(m, 5) % 30 as integer), f) as paid_date,
    gen_amount(paid_amount) as paid_amount,
    gen_amount(allowed_amount) as allowed_amount,
    gen_amount(charge_amount) as charge_amount,
    case when claim_type = 'professional' and gen_window(m, 2) < 45 then 'icd-10-pcs' else 'icd-10-cm' end
        as diagnosis_code_type,
    case when bad_dx_col = 1 then gen_bad_dx(defect_arg // 3) else gen_mess_dx(dx1, gen_window(m, 6)) end
        as diagnosis_code_1,
    case when bad_dx_col = 2 then gen_bad_dx(defect_arg // 3) else gen_mess_dx(dx2, gen_window(m, 7)) end
        as diagnosis_code_2,
    case when bad_dx_col = 3 then gen_bad_dx(defect_arg // 3) else gen_mess_dx(dx3, gen_window(m, 8)) end
        as diagnosis_code_3,
    gen_mess_dx(dx4, gen_window(m2, 0)) as diagnosis_code_4,
    gen_mess_dx(dx5, gen_window(m2, 1)) as diagnosis_code_5,
    gen_mess_dx(dx6, gen_window(m2, 2)) as diagnosis_code_6,
    gen_mess_dx(dx7, gen_window(m2, 3)) as diagnosis_code_7,
    gen_mess_dx(dx8, gen_window(m2, 4)) as diagnosis_code_8,
    '1' as in_network_flag,
    case when alt_source then gen_other_data_source(q) else gen_data_source(q) end as data_source,
    'synthetic_medical_claim' as file_name,
    cast(cast(date_trunc('month', claim_start) as date) as varchar) as file_date,
    '2026-01-15 02:00:00' as ingest_datetime
from x;
