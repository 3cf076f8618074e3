-- Orders by marketing activity (拼团, 秒杀, coupons...) per paid date: sales, discounts, the new
-- buyers each activity brings and refunds by refund date. `none` holds orders without one.
with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

paid_orders as (

    select * from {{ ref('int_paid_orders') }}

),

activities as (

    select distinct coalesce(activity_code, 'none') as activity_code from orders
    union
    select 'none' as activity_code

),

paid_by_day as (

    select
        paid_date as date_day,
        activity_code,
        count(*) as paid_orders,
        count(distinct user_id) as buyers,
        sum(item_count) as units,
        sum(paid_amount) as gmv,
        sum(gross_amount) as gross_sales,
        sum(discount_amount) as discounts,
        count(distinct user_id) filter (where is_first_paid_order) as new_buyers
    from paid_orders
    group by paid_date, activity_code

),

refunded_orders as (

    select
        refunded_date as date_day,
        coalesce(activity_code, 'none') as activity_code,
        refund_amount
    from orders
    where refunded_date is not null

),

refunds_by_day as (

    select
        date_day,
        activity_code,
        sum(refund_amount) as refunds
    from refunded_orders
    group by date_day, activity_code

),

daily as (

    select
        calendar.date_day,
        activities.activity_code,
        cast(coalesce(paid_by_day.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(paid_by_day.buyers, 0) as bigint) as buyers,
        cast(coalesce(paid_by_day.units, 0) as bigint) as units,
        {{ round_money('coalesce(paid_by_day.gmv, 0)') }} as gmv,
        {{ round_money('coalesce(paid_by_day.gross_sales, 0)') }} as gross_sales,
        {{ round_money('coalesce(paid_by_day.discounts, 0)') }} as discounts,
        cast(coalesce(paid_by_day.new_buyers, 0) as bigint) as new_buyers,
        {{ round_money('coalesce(refunds_by_day.refunds, 0)') }} as refunds
    from calendar
    cross join activities
    left join paid_by_day
        on
            calendar.date_day = paid_by_day.date_day
            and activities.activity_code = paid_by_day.activity_code
    left join refunds_by_day
        on
            calendar.date_day = refunds_by_day.date_day
            and activities.activity_code = refunds_by_day.activity_code

),

final as (

    select
        date_day as date,
        activity_code,
        paid_orders,
        buyers,
        units,
        gmv,
        gross_sales,
        discounts,
        {{ divide_rate('discounts', 'gross_sales') }} as discount_rate,
        new_buyers,
        {{ divide_rate('new_buyers', 'buyers') }} as new_buyer_share,
        refunds,
        cast(gmv - refunds as decimal(18, 2)) as net_revenue,
        {{ divide_money('gmv', 'paid_orders') }} as average_order_value
    from daily

)

select * from final
