-- model: report_rejection_reasons
-- grain: one row per (table, single reason) of the run's rejected rows; a row rejected
-- for two reasons counts under both ("reason:column" entries of rejected_rows.reasons).

with

rejected as (
    select * from rejected_rows
),

reasons as (
    select
        table_name,
        trim(unnest(string_split(reasons, '; '))) as reason
    from rejected
),

final as (
    select
        table_name,
        reason,
        count(*) as n_rows
    from reasons
    group by table_name, reason
)

select * from final
order by n_rows desc, table_name asc, reason asc
