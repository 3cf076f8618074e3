{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_id',
        pre_hook="{{ delete_pending_entities('mall_users', 'user_id') }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- One row per user: the row of the latest users file wins (then the later row); its attributes
-- apply to every date. No history is kept for user attributes.
with

users as (

    select * from {{ ref('stg_mall__users') }}
    {% if is_incremental() %}
        -- only the users the change log names; the pre-hook removed their old rows
        where user_id in ({{ pending_entities('mall_users') }})
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id
            order by file_date desc, source_file desc, source_row_number desc
        ) as recency_rank
    from users

),

final as (

    select
        user_id,
        registered_at,
        registered_date,
        channel_code,
        referrer_distributor_id,
        phone_hash,
        city
    from ranked
    where recency_rank = 1

)

select * from final
