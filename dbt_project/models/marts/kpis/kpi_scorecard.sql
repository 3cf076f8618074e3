with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

daily_active_rate as (

    select * from {{ ref('daily_active_rate') }}

),

order_conversion as (

    select * from {{ ref('order_conversion') }}

),

average_order_value as (

    select * from {{ ref('average_order_value') }}

),

follower_growth as (

    select * from {{ ref('follower_growth') }}

),

articles as (

    select * from {{ ref('content_performance') }}

),

targets as (

    select * from {{ ref('kpi_targets') }}

),

-- Over the articles published that day, each at its latest detail. The open rate is a ratio of
-- sums (reads / delivered) over article_total articles; on a day with any article_detail
-- article, which reports no delivered count, it is the mean of those articles' own open rates
-- (WeChat's rate and reads / delivered are never mixed). The forward rate is a ratio of sums
-- over all of the day's articles: both sources count reads and shares alike.
daily_articles as (

    select
        publish_date as date_day,
        case
            when count(*) filter (where source_api = 'article_detail') > 0
                then avg(open_rate) filter (where source_api = 'article_detail')
            else {{ divide_rate('sum(reads)', 'sum(delivered)') }}
        end as article_open_rate,
        {{ divide_rate('sum(shares)', 'sum(reads)') }} as article_forward_rate
    from articles
    group by publish_date

),

kpi_values as (

    select
        date as date_day,
        'daily_active_rate' as kpi,
        daily_active_rate as value
    from daily_active_rate
    union all
    select
        date as date_day,
        'order_conversion_rate' as kpi,
        order_conversion_rate as value
    from order_conversion
    union all
    select
        date as date_day,
        'average_order_value' as kpi,
        cast(average_order_value as double) as value
    from average_order_value
    union all
    select
        date as date_day,
        'follower_growth_rate' as kpi,
        growth_rate as value
    from follower_growth
    union all
    select
        calendar.date_day,
        'article_open_rate' as kpi,
        daily_articles.article_open_rate as value
    from calendar
    left join daily_articles on calendar.date_day = daily_articles.date_day
    union all
    select
        calendar.date_day,
        'article_forward_rate' as kpi,
        daily_articles.article_forward_rate as value
    from calendar
    left join daily_articles on calendar.date_day = daily_articles.date_day

),

final as (

    select
        kpi_values.date_day as date,
        kpi_values.kpi,
        kpi_values.value,
        targets.target,
        coalesce(targets.comparison, '>=') as comparison,
        {{ meets_target(
            'kpi_values.value', 'targets.target', "coalesce(targets.comparison, '>=')"
        ) }} as met
    from kpi_values
    left join targets on kpi_values.kpi = targets.kpi

)

select * from final
