with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

user_sources as (

    select * from {{ ref('int_user_sources_enumerated') }}

),

user_summaries as (

    select * from {{ ref('stg_wechat_oa__user_summaries') }}

),

daily_changes as (

    select
        summary_date as date_day,
        user_source,
        sum(new_followers) as new_followers,
        sum(lost_followers) as lost_followers
    from user_summaries
    group by all

),

final as (

    select
        calendar.date_day as date,
        user_sources.user_source,
        user_sources.source_name,
        cast(coalesce(daily_changes.new_followers, 0) as bigint) as new_followers,
        cast(coalesce(daily_changes.lost_followers, 0) as bigint) as lost_followers,
        cast(
            coalesce(daily_changes.new_followers, 0) - coalesce(daily_changes.lost_followers, 0)
            as bigint
        ) as net_followers
    from calendar
    cross join user_sources
    left join daily_changes
        on
            calendar.date_day = daily_changes.date_day
            and user_sources.user_source = daily_changes.user_source

)

select * from final
