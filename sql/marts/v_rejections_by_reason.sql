-- v_rejections_by_reason: rejected input rows of the latest successful run by
-- table and reason set.
-- grain: one row per (table_name, reasons).
with

rejected as (
    select * from rejected_rows
),

final as (
    select
        table_name,
        reasons,
        count(*) as n_rows
    from rejected
    group by table_name, reasons
)

select * from final
order by table_name asc, n_rows desc, reasons asc
