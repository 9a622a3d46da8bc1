-- model: report_row_warnings
-- grain: one row per (table, reason) of warning-level row issues: rows kept and audited,
-- but worth knowing about (e.g. a missing rendering NPI sends findings to "unknown provider").

with

issues as (
    select * from row_issues
    where level = 'warning'
),

warned_rows as (
    select distinct
        table_name,
        reason,
        source_file,
        record_number
    from issues
),

descriptions as (
    select
        table_name,
        reason,
        min(description) as description
    from issues
    group by table_name, reason
),

final as (
    select
        warned_rows.table_name,
        warned_rows.reason,
        descriptions.description,
        count(*) as n_rows
    from warned_rows
    inner join descriptions
        on
            warned_rows.table_name = descriptions.table_name
            and warned_rows.reason = descriptions.reason
    group by warned_rows.table_name, warned_rows.reason, descriptions.description
)

select * from final
order by n_rows desc, table_name asc, reason asc
