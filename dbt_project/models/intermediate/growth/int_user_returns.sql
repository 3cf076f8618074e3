{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_id',
        pre_hook="{{ delete_recomputed_users(changed_returning_users()) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- One row per registered user: the registration date and whether the user started a session
-- exactly 1, 7 and 30 days later. A refresh recomputes the changed users and the users of
-- changed sessions only.
with

users as (

    select * from {{ ref('int_users_deduplicated') }}
    {% if is_incremental() %}
        where user_id in ({{ changed_returning_users() }})
    {% endif %}

),

visits as (

    select * from {{ ref('int_visits_deduplicated') }}
    {% if is_incremental() %}
        where user_id in ({{ changed_returning_users() }})
    {% endif %}

),

returns as (

    select
        users.user_id,
        visits.started_date - users.registered_date as days_after
    from users
    inner join visits
        on
            users.user_id = visits.user_id
            and visits.started_date - users.registered_date in (1, 7, 30)

),

returned as (

    select
        user_id,
        bool_or(days_after = 1) as returned_d1,
        bool_or(days_after = 7) as returned_d7,
        bool_or(days_after = 30) as returned_d30
    from returns
    group by user_id

),

final as (

    select
        users.user_id,
        users.registered_date,
        coalesce(returned.returned_d1, false) as returned_d1,
        coalesce(returned.returned_d7, false) as returned_d7,
        coalesce(returned.returned_d30, false) as returned_d30
    from users
    left join returned on users.user_id = returned.user_id

)

select * from final
