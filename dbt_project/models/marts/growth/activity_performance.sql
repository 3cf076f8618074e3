-- Orders by marketing activity (拼团, 秒杀, coupons...) per paid date: sales, discounts, the new
-- buyers each activity brings and refunds by refund date. `none` holds orders without one.
-- Every date of the calendar for every activity code of the orders' current states.
with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

activities_by_day as (

    select * from {{ ref('int_activities_aggregated') }}

),

activities as (

    select distinct activity_code from activities_by_day
    union
    select 'none' as activity_code

),

daily as (

    select
        calendar.date_day,
        activities.activity_code,
        cast(coalesce(activities_by_day.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(activities_by_day.buyers, 0) as bigint) as buyers,
        cast(coalesce(activities_by_day.units, 0) as bigint) as units,
        {{ round_money('coalesce(activities_by_day.gmv, 0)') }} as gmv,
        {{ round_money('coalesce(activities_by_day.gross_sales, 0)') }} as gross_sales,
        {{ round_money('coalesce(activities_by_day.discounts, 0)') }} as discounts,
        cast(coalesce(activities_by_day.new_buyers, 0) as bigint) as new_buyers,
        {{ round_money('coalesce(activities_by_day.refunds, 0)') }} as refunds
    from calendar
    cross join activities
    left join activities_by_day
        on
            calendar.date_day = activities_by_day.date_day
            and activities.activity_code = activities_by_day.activity_code

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
