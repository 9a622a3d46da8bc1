-- Macros of the synthetic data generator (`claims-audit generate`).
--
-- Everything is a pure function of an integer index and the run's seed, so a
-- table of any size streams out of `range()` and the same seed gives the same
-- bytes. Variables set by jobs/generate.py before this file runs:
--   gen_seed_key   BIGINT     the seed (48 bits) folded into every draw
--   gen_n_persons  BIGINT     general (non-ESI) persons
--   gen_n_prac     BIGINT     practitioners (NPIs)
--   gen_n_esi_prac BIGINT     injectors who bill ESIs (40; fewer in the demo profile)
--   gen_labelers   VARCHAR[]  NDC labelers the crosswalk does not use
-- (the table files use more: sizes, crosswalk NDC lists; see generate.py).
--
-- Pseudo-randomness: gen_rnd(x, stream) hashes ONE value that folds the index,
-- the stream number and the seed together. (DuckDB's hash(x, seed, k) with
-- extra arguments does not give independent streams.) x < 2^52, stream < 1024,
-- so the folded value stays inside BIGINT; each purpose has its own stream.

create or replace macro gen_rnd(x, stream) as
hash(x * 1024 + stream + getvariable('gen_seed_key'));

-- uniform integer in [0, n)
-- (UBIGINT % UBIGINT: a signed divisor would make DuckDB compute in HUGEINT, slowly)
create or replace macro gen_pick(x, stream, n) as
cast(gen_rnd(x, stream) % cast(greatest(n, 1) as ubigint) as bigint);

-- uniform percentage 0..99
create or replace macro gen_pct(x, stream) as
cast(gen_rnd(x, stream) % cast(100 as ubigint) as integer);

-- one element of a list, chosen by hash
create or replace macro gen_choose(lst, x, stream) as
lst[1 + gen_pick(x, stream, len(lst))];

-- ------------------------------------------------------------ identifiers
-- Bijective permutations of the index space, so ids look arbitrary, never
-- collide, and keep leading zeros (they are strings).

create or replace macro gen_person_id(q) as
lpad(cast((q * 387420489 + getvariable('gen_seed_key') % 1000000000) % 1000000000 as varchar), 9, '0');

create or replace macro gen_claim_id(c) as
lpad(cast((c * 40353607 + getvariable('gen_seed_key') % 1000000000000) % 1000000000000 as varchar), 12, '0');

create or replace macro gen_rx_claim_id(c) as
'RX' || lpad(cast((c * 5764801 + getvariable('gen_seed_key') % 1000000000000) % 1000000000000 as varchar), 12, '0');

create or replace macro gen_procedure_id(r) as
'PRC' || lpad(cast((r * 823543 + getvariable('gen_seed_key') % 1000000000000) % 1000000000000 as varchar), 12, '0');

create or replace macro gen_encounter_id(r) as
'ENC' || lpad(cast((r * 117649 + getvariable('gen_seed_key') % 1000000000000) % 1000000000000 as varchar), 12, '0');

create or replace macro gen_practitioner_id(k) as 'PRAC' || lpad(cast(k as varchar), 6, '0');

-- ------------------------------------------------------------ NPIs
-- A practitioner index k -> a 10-digit NPI: nine digits starting with 1, then
-- the Luhn check digit computed over "80840" + those nine (the prefix adds 24).

create or replace macro gen_npi_base(k) as 100000000 + (k * 48271 + 7777) % 100000000;

create or replace macro gen_luhn_double(d) as 2 * d - 9 * cast(d >= 5 as integer);

create or replace macro gen_npi_check(x) as (
    10 - (
        24
        + gen_luhn_double(x // 100000000 % 10) + x // 10000000 % 10
        + gen_luhn_double(x // 1000000 % 10) + x // 100000 % 10
        + gen_luhn_double(x // 10000 % 10) + x // 1000 % 10
        + gen_luhn_double(x // 100 % 10) + x // 10 % 10
        + gen_luhn_double(x % 10)
    ) % 10
) % 10;

create or replace macro gen_npi(k) as
cast(gen_npi_base(k) as varchar) || cast(gen_npi_check(gen_npi_base(k)) as varchar);

-- the same NPI with a wrong check digit (a planted invalid row)
create or replace macro gen_bad_npi(k) as
cast(gen_npi_base(k) as varchar) || cast((gen_npi_check(gen_npi_base(k)) + 3) % 10 as varchar);

-- Practitioner index ranges by role (the practitioner table follows them).
create or replace macro gen_prac_start(role) as case role
    when 'esi' then 0 when 'pt' then 40 when 'chiro' then 80 when 'radiology' then 95
    when 'facility' then 130 else 160
end;

-- (gen_n_esi_prac: injectors actually billing, at most the 40 of the range; the demo
-- profile uses fewer so each reaches the report's peer comparison)
create or replace macro gen_prac_count(role) as case role
    when 'esi' then getvariable('gen_n_esi_prac') when 'pt' then 40 when 'chiro' then 15 when 'radiology' then 35
    when 'facility' then 30 else getvariable('gen_n_prac') - 160
end;

create or replace macro gen_prac(role, x, stream) as
gen_prac_start(role) + gen_pick(x, stream, gen_prac_count(role));

-- ------------------------------------------------------------ messy values
-- `m` is one hash per row; each column takes its own 7-bit window of it.

create or replace macro gen_window(m, k) as cast((m >> (7 * k)) & 127 as integer);

create or replace macro gen_dotted(c) as
case when length(c) > 3 then substr(c, 1, 3) || '.' || substr(c, 4) else c end;

-- ICD-10-CM as extracts carry it: plain, dotted, lower-case, padded
create or replace macro gen_mess_dx(c, f) as case
    when c is null then null
    when f < 70 then c
    when f < 92 then gen_dotted(c)
    when f < 104 then lower(c)
    when f < 114 then ' ' || c || '  '
    when f < 122 then lower(gen_dotted(c))
    else gen_dotted(c) || ' '
end;

-- HCPCS/CPT: mostly clean, some lower-case or padded with spaces
create or replace macro gen_mess_hcpcs(c, f) as case
    when c is null then null
    when f < 116 then c
    when f < 121 then lower(c)
    when f < 125 then ' ' || c
    else c || ' '
end;

create or replace macro gen_mess_modifier(c, f) as
case when c is not null and f >= 124 then lower(c) else c end;

-- Dates: YYYY-MM-DD mostly, some YYYYMMDD and MM/DD/YYYY (one format per row)
create or replace macro gen_fmt_date(d, f) as case
    when d is null then null
    when f < 118 then cast(d as varchar)
    when f < 124 then strftime(d, '%Y%m%d')
    else strftime(d, '%m/%d/%Y')
end;

-- An NDC (11 digits): mostly as is; a few in a dashed form that pads back to
-- the same 11 digits (4-4-2, 5-3-2 or 5-4-1 when a segment has its padding
-- zero, else 5-4-2 with dashes).
create or replace macro gen_dashed_ndc(n) as case
    when substr(n, 1, 1) = '0' then substr(n, 2, 4) || '-' || substr(n, 6, 4) || '-' || substr(n, 10, 2)
    when substr(n, 6, 1) = '0' then substr(n, 1, 5) || '-' || substr(n, 7, 3) || '-' || substr(n, 10, 2)
    when substr(n, 10, 1) = '0' then substr(n, 1, 5) || '-' || substr(n, 6, 4) || '-' || substr(n, 11, 1)
    else substr(n, 1, 5) || '-' || substr(n, 6, 4) || '-' || substr(n, 10, 2)
end;

create or replace macro gen_mess_ndc(n, f) as
case when n is not null and f >= 121 then gen_dashed_ndc(n) else n end;

create or replace macro gen_amount(x) as cast(cast(x as decimal(18, 2)) as varchar);

-- Price of a code: fixed per code, so the same service costs about the same.
create or replace macro gen_base_price(code) as 12 + cast(hash(coalesce(code, 'rev')) % 380 as integer);

-- An NDC outside the crosswalk: labelers the crosswalk does not use
-- (gen_labelers), product and package from the drug index d.
create or replace macro gen_unlisted_ndc(d) as
gen_choose(getvariable('gen_labelers'), d, 90)
|| lpad(cast(gen_pick(d, 91, 10000) as varchar), 4, '0')
|| lpad(cast(gen_pick(d, 92, 100) as varchar), 2, '0');

-- ------------------------------------------------------------ persons
-- A person is a global index q: general persons 0 .. n_persons-1, ESI persons
-- after them. Everything about a person is a function of q.

create or replace macro gen_is_medicare(q) as gen_pct(q, 40) < 22;

create or replace macro gen_data_source(q) as
case when gen_is_medicare(q) then 'acme medicare advantage' else 'acme commercial' end;

create or replace macro gen_other_data_source(q) as
case when gen_is_medicare(q) then 'acme commercial' else 'acme medicare advantage' end;

create or replace macro gen_payer(q) as 'acme health';

create or replace macro gen_plan(q) as case
    when gen_is_medicare(q) then gen_choose(['acme advantage hmo', 'acme advantage ppo'], q, 41)
    else gen_choose(['acme ppo gold', 'acme hmo silver', 'acme hdhp bronze', 'acme epo'], q, 41)
end;

-- Enrollment of a general person: coverage [start0, end] (end NULL = still
-- enrolled, treated as 2025-12-31 for claim dates), cut into 1-3 spans with
-- gaps (or adjacent spans, as a plan change gives).
create or replace macro gen_cov_open(q) as gen_pct(q, 50) < 45;

create or replace macro gen_cov_end(q) as
case
    when gen_cov_open(q) then date '2025-12-31'
    else date '2023-06-30' + cast(gen_pick(q, 51, 914) as integer)
end;

create or replace macro gen_cov_start(q) as
date '2020-01-01' + cast(gen_pick(q, 52, date_diff('day', date '2020-01-01', gen_cov_end(q)) - 365) as integer);

create or replace macro gen_n_spans(q) as
1 + cast(gen_pct(q, 53) >= 50 as integer) + cast(gen_pct(q, 54) >= 70 as integer);

-- cut point j (1 .. n_spans - 1) between spans
create or replace macro gen_cut(q, j) as
gen_cov_start(q)
+ cast(date_diff('day', gen_cov_start(q), gen_cov_end(q)) * j // gen_n_spans(q) as integer)
- 15 + cast(gen_pick(q, 55 + j, 31) as integer);

-- days between span j-1 and span j: none half the time, else 15-74
create or replace macro gen_gap(q, j) as
case when gen_pct(q, 60 + j) < 50 then 0 else 15 + cast(gen_pick(q, 65 + j, 60) as integer) end;

create or replace macro gen_span_start(q, s) as
case when s = 0 then gen_cov_start(q) else gen_cut(q, s) + 1 + gen_gap(q, s) end;

create or replace macro gen_span_end(q, s) as
case
    when s < gen_n_spans(q) - 1 then gen_cut(q, s + 1)
    when gen_cov_open(q) then null
    else gen_cov_end(q)
end;

-- first date a general person's claims may fall on
create or replace macro gen_claims_from(q) as greatest(gen_cov_start(q), date '2023-01-01');
