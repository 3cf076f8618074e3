-- The calendar every date-grained mart covers: from the earliest to the latest date found in a
-- daily file name or an event date (registration, session, payment, refund, spend, WeChat
-- ref_date / stat_date).
with

landed_files as (

    select * from {{ ref('stg_landing__files') }}

),

users as (

    select * from {{ ref('stg_mall__users') }}

),

visits as (

    select * from {{ ref('stg_mall__visits') }}

),

orders as (

    select * from {{ ref('stg_mall__orders') }}

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

article_totals as (

    select * from {{ ref('stg_wechat_oa__article_totals') }}

),

event_dates as (

    select file_date as event_date from landed_files
    where status = 'loaded'
    union all
    select registered_date from users
    union all
    select started_date from visits
    union all
    select paid_date from orders
    union all
    select refunded_date from orders
    union all
    select spend_date from spend
    union all
    select summary_date from user_summaries
    union all
    select total_date from user_cumulates
    union all
    select publish_date from article_totals
    union all
    select stat_date from article_totals

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
