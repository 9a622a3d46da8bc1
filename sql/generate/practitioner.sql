-- practitioner: every NPI the claims use, by role ranges of gen_prac_start:
-- injectors, physical therapists, chiropractors, radiologists, facilities
-- (organizations: no person name) and general practitioners.

create or replace temp view gen_practitioner_out as
with x as (
    select
        k,
        case
            when k < gen_prac_start('pt') then 'esi'
            when k < gen_prac_start('chiro') then 'pt'
            when k < gen_prac_start('radiology') then 'chiro'
            when k < gen_prac_start('facility') then 'radiology'
            when k < gen_prac_start('general') then 'facility'
            else 'general'
        end as prac_role
    -- the alias names the column
    from range(getvariable('gen_n_prac')) as t (k)  -- noqa: AL05
)

-- columns in the Tuva layout's order, as a reader of the extract sees them
select  -- noqa: ST06
    cast(null as bigint) as rec,
    cast(null as varchar) as defect,
    cast(null as varchar) as warning,
    gen_practitioner_id(k) as practitioner_id,
    gen_npi(k) as npi,
    case
        when prac_role <> 'facility'
            then
                gen_choose([
                    'Alex', 'Priya', 'Samuel', 'Grace', 'Omar', 'Helen', 'Victor', 'Mei', 'Paul',
                    'Rosa', 'Ivan', 'Nora', 'Tariq', 'Julia', 'Ben', 'Aisha'
                ], k, 120)
    end as first_name,
    case
        when prac_role <> 'facility'
            then
                gen_choose([
                    'Alvarez', 'Bennett', 'Cho', 'Dubois', 'Eriksen', 'Fischer', 'Gupta', 'Hughes',
                    'Ito', 'Jensen', 'Kowalski', 'Larsen', 'Mensah', 'Novak', 'Osei', 'Patel'
                ],
                k, 121)
    end as last_name,
    case prac_role
        when 'facility'
            then
                gen_choose([
                    'Lakeside Surgery Center', 'St. Example General Hospital',
                    'Valley Outpatient Center', 'Northside Medical Center'
                ], k, 122)
        else gen_choose([
            'Lakeside Medical Group', 'Valley Spine & Pain', 'Northside Physicians',
            'Riverside Health Partners', 'Independent Practice'
        ], k, 122)
    end as practice_affiliation,
    case prac_role
        when 'esi'
            then
                gen_choose([
                    'Pain Medicine', 'Anesthesiology', 'Physical Medicine & Rehabilitation',
                    'Interventional Radiology'
                ], k, 123)
        when 'pt' then 'Physical Therapist'
        when 'chiro' then 'Chiropractor'
        when 'radiology' then 'Diagnostic Radiology'
        when 'facility' then gen_choose(['Ambulatory Surgical Center', 'General Acute Care Hospital'], k, 123)
        else gen_choose([
            'Family Medicine', 'Internal Medicine', 'Cardiology', 'Orthopaedic Surgery',
            'Emergency Medicine', 'Gastroenterology', 'Psychiatry', 'Dermatology',
            'Nurse Practitioner', 'Pathology'
        ], k, 123)
    end as specialty,
    'acme provider directory' as data_source,
    'synthetic_practitioner' as file_name,
    '2026-01-15 02:00:00' as ingest_datetime
from x;
