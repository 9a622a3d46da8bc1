-- v_runs: every run recorded against this database, failed runs included.
-- grain: one row per run_id.
with

runs as (
    select * from run_history
),

final as (
    select
        run_seq,
        run_id,
        status,
        started_at,
        ended_at,
        exit_code,
        tool_version,
        n_findings,
        manifest ->> '$.error' as error
    from runs
)

select * from final
order by run_seq
