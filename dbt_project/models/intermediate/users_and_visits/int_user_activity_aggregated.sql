-- Registered, new and active users per (date, acquisition channel) on the whole calendar, from
-- the compact daily aggregates: registered users are the running sum of new users.
with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

channels as (

    select * from {{ ref('int_channels_enumerated') }}

),

users_by_day as (

    select * from {{ ref('int_users_aggregated') }}
    where channel_code is not null

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
        cast(coalesce(users_by_day.new_users, 0) as bigint) as new_users,
        cast(
            sum(coalesce(users_by_day.new_users, 0)) over (
                partition by spine.channel_code
                order by spine.date_day
                rows between unbounded preceding and current row
            ) as bigint
        ) as registered_users,
        cast(coalesce(users_by_day.active_users, 0) as bigint) as active_users
    from spine
    left join users_by_day
        on
            spine.date_day = users_by_day.date_day
            and spine.channel_code = users_by_day.channel_code

)

select * from final
