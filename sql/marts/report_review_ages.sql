-- model: report_review_ages
-- grain: one row per age band (0-7, 8-30, 31-90, over 90 days since first seen) of this
-- run's findings (every finding of the run is open): findings, those without a current
-- decision (the worklist), and the lines they sit on. $run_date is the run's date.

with

open_findings as (
    select
        data_source,
        claim_id,
        claim_line_number,
        review_state,
        date_diff('day', first_seen_on, cast($run_date as date)) as age_days
    from findings
),

banded as (
    select
        *,
        case
            when age_days <= 7 then 1
            when age_days <= 30 then 2
            when age_days <= 90 then 3
            else 4
        end as band
    from open_findings
),

band_findings as (
    select
        band,
        count(*) as n_findings,
        count(*) filter (where review_state in ('new', 'open')) as n_undecided
    from banded
    group by band
),

distinct_lines as (
    select distinct
        band,
        data_source,
        claim_id,
        claim_line_number
    from banded
),

band_lines as (
    select
        band,
        count(*) as n_lines
    from distinct_lines
    group by band
),

bands as (
    select
        band_list.band,
        band_list.label
    from (values (1, '0-7'), (2, '8-30'), (3, '31-90'), (4, 'over 90')) as band_list (band, label)
),

final as (
    select
        bands.band,
        bands.label,
        coalesce(band_findings.n_findings, 0) as n_findings,
        coalesce(band_findings.n_undecided, 0) as n_undecided,
        coalesce(band_lines.n_lines, 0) as n_lines
    from bands
    left join band_findings on bands.band = band_findings.band
    left join band_lines on bands.band = band_lines.band
)

select * from final
order by band
