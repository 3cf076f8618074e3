with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

user_summaries as (

    select * from {{ ref('stg_wechat_oa__user_summaries') }}

),

user_cumulates as (

    select * from {{ ref('stg_wechat_oa__user_cumulates') }}

),

landed_files as (

    select * from {{ ref('stg_landing__files') }}

),

articles as (

    select * from {{ ref('int_articles_summarised') }}

),

daily_changes as (

    select
        summary_date as date_day,
        sum(new_followers) as new_followers,
        sum(lost_followers) as lost_followers
    from user_summaries
    group by summary_date

),

daily_totals as (

    select
        total_date as date_day,
        arg_max(total_followers, file_date) as total_followers
    from user_cumulates
    group by total_date

),

summary_days as (

    select distinct file_date as date_day
    from landed_files
    where source_name = 'wechat_oa_user_summary' and status = 'loaded'

),

publish_days as (

    select distinct publish_date as date_day from articles

),

daily as (

    select
        calendar.date_day,
        cast(coalesce(daily_changes.new_followers, 0) as bigint) as new_followers,
        cast(coalesce(daily_changes.lost_followers, 0) as bigint) as lost_followers,
        cast(daily_totals.total_followers as bigint) as total_followers,
        publish_days.date_day is not null as has_publication
    from calendar
    left join daily_changes on calendar.date_day = daily_changes.date_day
    left join daily_totals on calendar.date_day = daily_totals.date_day
    left join publish_days on calendar.date_day = publish_days.date_day

),

windowed as (

    select
        daily.*,
        lag(daily.total_followers) over (order by daily.date_day) as previous_total_followers,
        sum(daily.new_followers) over (
            order by daily.date_day rows between current row and 2 following
        ) as new_followers_3_days,
        summary_days.date_day is not null as has_summary_two_days_later
    from daily
    left join summary_days on daily.date_day + interval 2 day = summary_days.date_day

),

final as (

    select
        date_day as date,
        new_followers,
        lost_followers,
        new_followers - lost_followers as net_followers,
        total_followers,
        {{ divide_rate('new_followers - lost_followers', 'previous_total_followers') }}
            as growth_rate,
        case
            when has_publication and has_summary_two_days_later
                then {{ divide_rate('new_followers_3_days', 'previous_total_followers') }}
        end as post_push_growth_rate
    from windowed

)

select * from final
