with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

order_aggregates as (

    select * from {{ ref('int_orders_aggregated') }}

),

daily_orders as (

    {{ paid_orders_by_day('order_aggregates') }}

),

daily_refunds as (

    {{ refunds_by_day('order_aggregates') }}

),

daily as (

    select
        calendar.date_day,
        cast(coalesce(daily_orders.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(daily_orders.buyers, 0) as bigint) as buyers,
        cast(coalesce(daily_orders.units, 0) as bigint) as units,
        {{ round_money('coalesce(daily_orders.gmv, 0)') }} as gmv,
        {{ round_money('coalesce(daily_refunds.refunds, 0)') }} as refunds
    from calendar
    left join daily_orders on calendar.date_day = daily_orders.date_day
    left join daily_refunds on calendar.date_day = daily_refunds.date_day

),

final as (

    select
        date_day as date,
        paid_orders,
        buyers,
        units,
        gmv,
        refunds,
        cast(gmv - refunds as decimal(18, 2)) as net_revenue,
        {{ divide_money('gmv', 'paid_orders') }} as average_order_value,
        {{ divide_money('gmv', 'buyers') }} as customer_unit_price,
        {{ divide_money('gmv', 'units') }} as average_unit_price
    from daily

)

select * from final
