with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

channels as (

    select * from {{ ref('int_channels_enumerated') }}

),

visit_aggregates as (

    select * from {{ ref('int_visits_aggregated') }}

),

order_aggregates as (

    select * from {{ ref('int_orders_aggregated') }}

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
        cast(coalesce(daily_visitors.visitors, 0) as bigint) as visitors,
        cast(coalesce(daily_orders.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(daily_orders.buyers, 0) as bigint) as buyers
    from calendar
    cross join channels
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
        visitors,
        paid_orders,
        buyers,
        {{ divide_rate('paid_orders', 'visitors') }} as order_conversion_rate,
        {{ divide_rate('buyers', 'visitors') }} as buyer_conversion_rate
    from daily

)

select * from final
