{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'channel_code'],
        pre_hook="{{ delete_recomputed_dates(user_activity_dates()) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- New and active users per date and acquisition channel, and for all channels (channel_code
-- NULL). A user belongs to the channel of their latest users row and counts as active on a day
-- with a session started that day, once registered. A user's channel applies to every date, so
-- a refresh recomputes the dates the change log names for users and visits, and every date on
-- which a changed user had a session.
with

users as (

    select * from {{ ref('int_users_deduplicated') }}

),

visits as (

    select * from {{ ref('int_visits_deduplicated') }}

),

recomputed_dates as (

    {% if is_incremental() -%}
        {{ user_activity_dates() }}
    {%- else -%}
        select registered_date as date_day from users
        union
        select started_date as date_day from visits
    {%- endif %}

),

registrations as (

    select
        users.registered_date as date_day,
        users.channel_code,
        users.user_id
    from users
    inner join recomputed_dates on users.registered_date = recomputed_dates.date_day

),

active_users as (

    select distinct
        visits.started_date as date_day,
        users.channel_code,
        visits.user_id
    from visits
    inner join recomputed_dates on visits.started_date = recomputed_dates.date_day
    inner join users on visits.user_id = users.user_id
    where users.registered_date <= visits.started_date

),

registrations_by_day as (

    select
        date_day,
        channel_code,
        count(*) as new_users
    from registrations
    group by rollup(date_day, channel_code)
    having date_day is not null  -- not the grand total

),

active_by_day as (

    select
        date_day,
        channel_code,
        count(*) as active_users
    from active_users
    group by rollup(date_day, channel_code)
    having date_day is not null  -- not the grand total

),

grain as (

    select
        date_day,
        channel_code
    from registrations_by_day
    union
    select
        date_day,
        channel_code
    from active_by_day
    union
    select
        date_day,
        cast(null as varchar) as channel_code
    from recomputed_dates

),

final as (

    select
        grain.date_day,
        grain.channel_code,
        cast(coalesce(registrations_by_day.new_users, 0) as bigint) as new_users,
        cast(coalesce(active_by_day.active_users, 0) as bigint) as active_users
    from grain
    left join registrations_by_day
        on
            grain.date_day = registrations_by_day.date_day
            and grain.channel_code is not distinct from registrations_by_day.channel_code
    left join active_by_day
        on
            grain.date_day = active_by_day.date_day
            and grain.channel_code is not distinct from active_by_day.channel_code

)

select * from final
