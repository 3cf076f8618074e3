with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

channels as (

    select * from {{ ref('int_channels_enumerated') }}

),

spend as (

    select * from {{ ref('stg_channels__spend') }}

),

user_activity as (

    select * from {{ ref('int_user_activity_aggregated') }}

),

visit_aggregates as (

    select * from {{ ref('int_visits_aggregated') }}

),

order_aggregates as (

    select * from {{ ref('int_orders_aggregated') }}

),

daily_spend as (

    -- (date, channel_code) is unique: conflicting rows were quarantined, exact copies collapse
    select distinct on (spend_date, channel_code)
        spend_date as date_day,
        channel_code,
        spend,
        impressions,
        clicks
    from spend
    order by spend_date, channel_code, file_date, source_file, source_row_number

),

daily_visitors as (

    {{ visitors_by_day('visit_aggregates', by_channel=true) }}

),

daily_orders as (

    {{ paid_orders_by_day('order_aggregates', by_channel=true) }}

),

daily as (

    select
        calendar.date_day,
        channels.channel_code,
        channels.channel_name,
        channels.platform,
        {{ round_money('coalesce(daily_spend.spend, 0)') }} as spend,
        cast(coalesce(daily_spend.impressions, 0) as bigint) as impressions,
        cast(coalesce(daily_spend.clicks, 0) as bigint) as clicks,
        coalesce(user_activity.new_users, 0) as new_users,
        cast(coalesce(daily_visitors.visitors, 0) as bigint) as visitors,
        cast(coalesce(daily_orders.paid_orders, 0) as bigint) as paid_orders,
        {{ round_money('coalesce(daily_orders.gmv, 0)') }} as gmv
    from calendar
    cross join channels
    left join daily_spend
        on
            calendar.date_day = daily_spend.date_day
            and channels.channel_code = daily_spend.channel_code
    left join user_activity
        on
            calendar.date_day = user_activity.date_day
            and channels.channel_code = user_activity.channel_code
    left join daily_visitors
        on
            calendar.date_day = daily_visitors.date_day
            and channels.channel_code = daily_visitors.channel_code
    left join daily_orders
        on
            calendar.date_day = daily_orders.date_day
            and channels.channel_code = daily_orders.channel_code

),

final as (

    select
        date_day as date,
        channel_code,
        channel_name,
        platform,
        spend,
        impressions,
        clicks,
        {{ divide_rate('clicks', 'impressions') }} as click_through_rate,
        new_users,
        visitors,
        paid_orders,
        gmv,
        {{ divide_money('spend', 'new_users') }} as customer_acquisition_cost,
        {{ divide_rate('gmv', 'spend') }} as return_on_spend
    from daily

)

select * from final
