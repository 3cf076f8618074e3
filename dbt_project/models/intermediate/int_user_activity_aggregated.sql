-- Registered and active users per (date, acquisition channel). A user belongs to the channel
-- of their (latest) users row; they count as registered from the end of their registration day
-- and as active on a day with a session started that day.
with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

channels as (

    select * from {{ ref('int_channels_enumerated') }}

),

users as (

    select * from {{ ref('int_users_deduplicated') }}

),

visits as (

    select * from {{ ref('int_visits_deduplicated') }}

),

registrations as (

    select
        registered_date as date_day,
        channel_code,
        count(*) as new_users
    from users
    group by all

),

active_users as (

    select
        visits.started_date as date_day,
        users.channel_code,
        count(distinct visits.user_id) as active_users
    from visits
    inner join users on visits.user_id = users.user_id
    where users.registered_date <= visits.started_date
    group by all

),

spine as (

    select
        calendar.date_day,
        channels.channel_code
    from calendar
    cross join channels

),

final as (

    select
        spine.date_day,
        spine.channel_code,
        cast(coalesce(registrations.new_users, 0) as bigint) as new_users,
        cast(
            sum(coalesce(registrations.new_users, 0)) over (
                partition by spine.channel_code
                order by spine.date_day
                rows between unbounded preceding and current row
            ) as bigint
        ) as registered_users,
        cast(coalesce(active_users.active_users, 0) as bigint) as active_users
    from spine
    left join registrations
        on
            spine.date_day = registrations.date_day
            and spine.channel_code = registrations.channel_code
    left join active_users
        on
            spine.date_day = active_users.date_day
            and spine.channel_code = active_users.channel_code

)

select * from final
