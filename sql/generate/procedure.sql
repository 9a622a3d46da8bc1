-- procedure (EHR, Tuva clinical layout): the ESI persons' planted EHR
-- evidence (gen_scn_procedure) and ordinary procedures of general persons.
-- A row carries both source and normalized code, or only one of them.
-- gen_proc_index (a view with column r) says which ordinary procedures to build.

create or replace temp view gen_procedure_lines as
select
    rec,
    q,
    pk,
    procedure_date,
    code,
    practitioner_k
from gen_scn_procedure
union all
select
    r as rec,
    q,
    r as pk,
    gen_claims_from(q)
    + cast(gen_pick(r, 3, date_diff('day', gen_claims_from(q), gen_cov_end(q)) + 1) as integer)
        as procedure_date,
    gen_choose([
        '99213', '99214', '97110', '72148', '80053', '85025', '93000', '71046', '45378',
        '20610', '97140', '72141', '99396', '90686', '36415', '99203', '73721', '97161'
    ],
    r, 4) as code,
    gen_prac('general', r, 5) as practitioner_k
from (
    select
        r,
        gen_pick(r, 2, getvariable('gen_n_persons')) as q
    from gen_proc_index
) as filler;

create or replace temp view gen_procedure_out as
with x as (
    select
        *,
        gen_rnd(pk, 110) as m,
        case when regexp_matches(code, '^[0-9]') then 'cpt' else 'hcpcs' end as code_type,
        gen_pct(pk, 111) as which
    from gen_procedure_lines
)

-- columns in the Tuva layout's order, as a reader of the extract sees them
select  -- noqa: ST06
    cast(null as bigint) as rec,
    cast(null as varchar) as defect,
    cast(null as varchar) as warning,
    gen_procedure_id(pk) as procedure_id,
    gen_person_id(q) as person_id,
    gen_person_id(q) as patient_id,
    gen_encounter_id(pk) as encounter_id,
    gen_fmt_date(procedure_date, gen_window(m, 3)) as procedure_date,
    case when which < 85 then code_type end as source_code_type,
    case when which < 85 then gen_mess_hcpcs(code, gen_window(m, 0)) end as source_code,
    case when which < 70 or which >= 85 then code_type end as normalized_code_type,
    case when which < 70 or which >= 85 then code end as normalized_code,
    gen_practitioner_id(practitioner_k) as practitioner_id,
    'acme ehr' as data_source,
    'synthetic_procedure' as file_name,
    '2026-01-15 02:00:00' as ingest_datetime
from x;
