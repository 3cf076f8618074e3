-- The calendar every date-grained mart covers: from the earliest to the latest date found in a
-- daily file name or an event date (registration, session, payment, refund, spend, WeChat
-- ref_date / stat_date).
with

landed_files as (

    select * from {{ ref('stg_landing__files') }}

),

-- The mall's events come from the compact daily aggregates (their all-channels rows), not from
-- rescans of the raw events. A recomputed date that lost all its events has a row of zeros
-- there, so the filters below on counts above zero leave it out.
user_aggregates as (

    select * from {{ ref('int_users_aggregated') }}
    where channel_code is null

),

visit_aggregates as (

    select * from {{ ref('int_visits_aggregated') }}
    where channel_code is null

),

order_aggregates as (

    select * from {{ ref('int_orders_aggregated') }}
    where channel_code is null

),

spend as (

    select * from {{ ref('stg_channels__spend') }}

),

user_summaries as (

    select * from {{ ref('stg_wechat_oa__user_summaries') }}

),

user_cumulates as (

    select * from {{ ref('stg_wechat_oa__user_cumulates') }}

),

article_stats as (

    select * from {{ ref('int_article_stats_deduplicated') }}

),

event_dates as (

    select file_date as event_date from landed_files
    where status = 'loaded'
    union all
    select date_day from user_aggregates
    where new_users > 0
    union all
    select date_day from visit_aggregates
    where sessions > 0
    union all
    select date_day from order_aggregates
    where paid_orders > 0 or refunded_orders > 0
    union all
    select spend_date from spend
    union all
    select summary_date from user_summaries
    union all
    select total_date from user_cumulates
    union all
    select publish_date from article_stats
    union all
    select stat_date from article_stats

),

bounds as (

    select
        min(event_date) as first_date,
        max(event_date) as last_date
    from event_dates

),

final as (

    select cast(calendar.generate_series as date) as date_day
    from bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval 1 day) as calendar
    where bounds.first_date is not null

)

select * from final
