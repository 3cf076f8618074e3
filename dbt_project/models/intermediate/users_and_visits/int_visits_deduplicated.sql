{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='session_id',
        pre_hook="{{ delete_pending_entities('mall_visits', 'session_id') }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- One row per session: the first occurrence wins (earlier file, then earlier row). Exact
-- duplicates collapse here; conflicting ones were quarantined by the loader.
with

visits as (

    select * from {{ ref('stg_mall__visits') }}
    {% if is_incremental() %}
        -- only the visits the change log names; the pre-hook removed their old rows
        where session_id in ({{ pending_entities('mall_visits') }})
    {% endif %}

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
