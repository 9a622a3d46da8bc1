-- eligibility: enrollment spans of ESI persons (gen_scn_eligibility) and of
-- general persons (1-3 spans each, see gen_span_start/gen_span_end), with the
-- member direct identifiers real extracts carry. All of them are fake: names
-- from short lists, SSN-like values in the never-issued 9xx area, 555-01xx
-- phone numbers, example.com e-mail addresses.

create or replace temp view gen_eligibility_lines as
select
    q,
    span_start,
    span_end
from gen_scn_eligibility
union all
select
    r // 3 as q,
    gen_span_start(r // 3, r % 3) as span_start,
    gen_span_end(r // 3, r % 3) as span_end
-- the alias names the column
from range(getvariable('gen_n_persons') * 3) as t (r)  -- noqa: AL05
where r % 3 < gen_n_spans(r // 3);

create or replace temp view gen_eligibility_out as
with x as (
    select
        *,
        gen_rnd(q, 80) as m,
        gen_window(gen_rnd(q, 81), 3) as f,
        gen_choose([
            'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda',
            'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph',
            'Jessica', 'Thomas', 'Sarah', 'Carlos', 'Karen', 'Daniel', 'Lisa', 'Wei',
            'Nancy', 'Ahmed', 'Maria', 'Kevin', 'Sandra', 'Hiroshi', 'Ashley'
        ], q, 82)
            as first_name,
        gen_choose([
            'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis',
            'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson',
            'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson',
            'White', 'Harris', 'Sanchez', 'Clark', 'Nguyen', 'Chen', 'Okafor'
        ], q, 83)
            as last_name,
        gen_pick(q, 84, 8) as city_k
    from gen_eligibility_lines
)

-- columns in the Tuva layout's order, as a reader of the extract sees them
select  -- noqa: ST06
    cast(null as bigint) as rec,
    cast(null as varchar) as defect,
    cast(null as varchar) as warning,
    gen_person_id(q) as person_id,
    gen_person_id(q) as member_id,
    gen_person_id(q) as subscriber_id,
    gen_choose(['female', 'male'], q, 85) as gender,
    gen_choose(
        ['white', 'white', 'white', 'black or african american', 'asian', 'other', 'unknown'],
        q, 86
    ) as race,
    gen_fmt_date(
        case
            when gen_is_medicare(q) then date '1935-01-01' + cast(gen_pick(q, 87, 8400) as integer)
            else date '1960-01-01' + cast(gen_pick(q, 87, 16000) as integer)
        end, f
    ) as birth_date,
    '0' as death_flag,
    gen_fmt_date(span_start, f) as enrollment_start_date,
    gen_fmt_date(span_end, f) as enrollment_end_date,
    gen_payer(q) as payer,
    case when gen_is_medicare(q) then 'medicare' else 'commercial' end as payer_type,
    gen_plan(q) as plan,
    case when gen_is_medicare(q) then '0' end as original_reason_entitlement_code,
    case when gen_is_medicare(q) then gen_choose(['NA', '02', '04'], q, 88) end as dual_status_code,
    case when gen_is_medicare(q) then '10' end as medicare_status_code,
    lpad(cast(gen_pick(q, 89, 900) + 100 as varchar), 6, 'G00') as group_id,
    gen_choose([
        'Acme Manufacturing', 'Riverside Schools', 'City of Springfield', 'Northwind Traders',
        'Individual'
    ], q, 90) as group_name,
    first_name,
    gen_choose(['A', 'B', 'C', 'J', 'L', 'M', null, null], q, 91) as middle_name,
    last_name,
    '9' || lpad(cast(gen_pick(q, 92, 100) as varchar), 2, '0') || '-'
    || lpad(cast(1 + gen_pick(q, 93, 99) as varchar), 2, '0') || '-'
    || lpad(cast(1 + gen_pick(q, 94, 9999) as varchar), 4, '0') as social_security_number,
    'self' as subscriber_relation,
    cast(100 + gen_pick(q, 95, 9800) as varchar) || ' '
    || gen_choose([
        'Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Park Blvd', 'Lake Rd',
        'Hill St', 'Pine Ct', 'Washington Ave'
    ], q, 96)
    || case when gen_pct(q, 97) < 20 then ', Apt ' || cast(1 + gen_pick(q, 98, 40) as varchar) else '' end
        as address,
    ['Springfield', 'Riverton', 'Fairview', 'Madison', 'Georgetown', 'Salem', 'Franklin', 'Clinton'][
        1 + city_k
    ] as city,
    ['IL', 'WY', 'TN', 'WI', 'TX', 'OR', 'PA', 'IA'][1 + city_k] as state,
    ['62701', '82501', '37064', '53703', '78626', '97301', '16323', '52732'][1 + city_k] as zip_code,
    gen_choose(['217', '307', '615', '608', '512', '503', '814', '563'], q, 99)
    || '-555-01' || lpad(cast(gen_pick(q, 100, 100) as varchar), 2, '0') as phone,
    lower(first_name) || '.' || lower(last_name) || cast(gen_pick(q, 101, 100) as varchar)
    || '@example.com' as email,
    gen_choose(['not hispanic or latino', 'hispanic or latino', 'unknown'], q, 102) as ethnicity,
    gen_data_source(q) as data_source,
    'synthetic_eligibility' as file_name,
    gen_fmt_date(span_start, 0) as file_date,
    '2026-01-15 02:00:00' as ingest_datetime,
    case when gen_is_medicare(q) then 'aged' end as enrollment_status,
    '0' as hospice_flag,
    '0' as institutional_snp_flag,
    '0' as long_term_institutional_flag
from x;
