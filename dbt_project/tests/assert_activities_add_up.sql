-- Reconciliation: per date, activities add up to average_order_value for paid orders, units,
-- GMV and refunds (distinct buyers do not add up: one buyer may use two activities a day).
{{ config(meta={'dagster': {'ref': {'name': 'activity_performance'}}}) }}

with

activity_days as (

    select
        date,
        sum(paid_orders) as paid_orders,
        sum(units) as units,
        sum(gmv) as gmv,
        sum(refunds) as refunds
    from {{ ref('activity_performance') }}
    group by date

)

select orders.date
from {{ ref('average_order_value') }} as orders
full outer join activity_days on orders.date = activity_days.date
where
    orders.date is null
    or activity_days.date is null
    or orders.paid_orders <> activity_days.paid_orders
    or orders.units <> activity_days.units
    or orders.gmv <> activity_days.gmv
    or orders.refunds <> activity_days.refunds
