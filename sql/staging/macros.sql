-- Macros shared by staging and validation. Created once in every audit
-- database, so analysts can use them too.
--   ca_parse_date(text)  -> DATE: YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY; NULL when
--                           missing or not a real calendar date (2023-02-30;
--                           year 0000, which the calendar does not have and
--                           Spark cannot return).
--   ca_npi_is_valid(text) -> BOOLEAN: 10 digits whose last is the Luhn check
--                           digit over "80840" + the first nine (CMS NPI rule).
--   ca_ndc11(text)       -> VARCHAR: an NDC as 11 digits (dashed 4-4-2, 5-3-2
--                           and 5-4-1 forms padded the standard way); the
--                           trimmed input when it is none of the known forms.
--   ca_loose_date(text)  -> DATE: the date ca_parse_date gives for every text it
--                           accepts, without its regular expressions (DuckDB's
--                           cast, then the two other layouts); it may also give
--                           a date for a text ca_parse_date rejects. For rows
--                           already known valid, and for the validation scan's
--                           row checks (jobs/validation/scan.py).

create or replace macro ca_parse_date(value) as (
    case
        when value like '0000%' or value like '%/0000' then null
        when regexp_full_match(value, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}')
            then cast(try_strptime(value, '%Y-%m-%d') as date)
        when regexp_full_match(value, '[0-9]{8}')
            then cast(try_strptime(value, '%Y%m%d') as date)
        when regexp_full_match(value, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}')
            then cast(try_strptime(value, '%m/%d/%Y') as date)
    end
);

-- The CASE guards the casts: DuckDB evaluates both sides of AND, and a value
-- shorter than 10 digits must give false, not a conversion error.
create or replace macro ca_npi_is_valid(n) as (
    case when not regexp_full_match(n, '[0-9]{10}') then false else (
        24
        + (2 * cast(substr(n, 1, 1) as integer)) // 10 + (2 * cast(substr(n, 1, 1) as integer)) % 10
        + cast(substr(n, 2, 1) as integer)
        + (2 * cast(substr(n, 3, 1) as integer)) // 10 + (2 * cast(substr(n, 3, 1) as integer)) % 10
        + cast(substr(n, 4, 1) as integer)
        + (2 * cast(substr(n, 5, 1) as integer)) // 10 + (2 * cast(substr(n, 5, 1) as integer)) % 10
        + cast(substr(n, 6, 1) as integer)
        + (2 * cast(substr(n, 7, 1) as integer)) // 10 + (2 * cast(substr(n, 7, 1) as integer)) % 10
        + cast(substr(n, 8, 1) as integer)
        + (2 * cast(substr(n, 9, 1) as integer)) // 10 + (2 * cast(substr(n, 9, 1) as integer)) % 10
        + cast(substr(n, 10, 1) as integer)
    ) % 10 = 0 end
);

create or replace macro ca_ndc11(value) as (
    case
        when regexp_full_match(value, '[0-9]{11}') then value
        when regexp_full_match(value, '[0-9]{5}-[0-9]{4}-[0-9]{2}') then replace(value, '-', '')
        when regexp_full_match(value, '[0-9]{4}-[0-9]{4}-[0-9]{2}') then '0' || replace(value, '-', '')
        when regexp_full_match(value, '[0-9]{5}-[0-9]{3}-[0-9]{2}')
            then substr(value, 1, 5) || '0' || substr(value, 7, 3) || substr(value, 11, 2)
        when regexp_full_match(value, '[0-9]{5}-[0-9]{4}-[0-9]{1}')
            then substr(value, 1, 5) || substr(value, 7, 4) || '0' || substr(value, 12, 1)
        else value
    end
);

create or replace macro ca_loose_date(value) as (
    coalesce(
        try_cast(value as date),
        cast(try_strptime(trim(value), '%Y%m%d') as date),
        cast(try_strptime(trim(value), '%m/%d/%Y') as date)
    )
);
