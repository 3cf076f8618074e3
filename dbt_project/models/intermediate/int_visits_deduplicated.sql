-- One row per session: the first occurrence wins (earlier file, then earlier row). Exact
-- duplicates collapse here; conflicting ones were quarantined by the loader.
with

visits as (

    select * from {{ ref('stg_mall__visits') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by session_id
            order by file_date, source_file, source_row_number
        ) as occurrence
    from visits

),

final as (

    select
        session_id,
        user_id,
        started_at,
        started_date,
        channel_code,
        page_views
    from ranked
    where occurrence = 1

)

select * from final
