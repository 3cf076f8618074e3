-- Reconciliation: Σ gmv over average_order_value = Σ paid_amount of the paid orders (current
-- state) whose paid date is in the calendar; the by-channel mart adds up to the same figures.
{{ config(meta={'dagster': {'ref': {'name': 'average_order_value'}}}) }}

with

daily as (

    -- zeros, not NULLs, when there is no order at all (a brand with only WeChat data so far)
    select
        coalesce(sum(gmv), 0) as gmv,
        coalesce(sum(paid_orders), 0) as paid_orders,
        coalesce(sum(refunds), 0) as refunds,
    from {{ ref('average_order_value') }}

),

by_channel as (

    select
        coalesce(sum(gmv), 0) as gmv,
        coalesce(sum(paid_orders), 0) as paid_orders,
        coalesce(sum(refunds), 0) as refunds,
    from {{ ref('average_order_value_by_channel') }}

),

orders as (

    select
        coalesce(sum(paid_amount) filter (where is_paid), 0) as gmv,
        count(*) filter (where is_paid) as paid_orders,
        coalesce(sum(refund_amount) filter (where refunded_date is not null), 0) as refunds,
    from {{ ref('int_orders_deduplicated') }}

)

select
    daily.gmv as mart_gmv,
    orders.gmv as order_gmv,
    by_channel.gmv as by_channel_gmv,
from daily
cross join by_channel
cross join orders
where
    daily.gmv is distinct from orders.gmv
    or by_channel.gmv is distinct from orders.gmv
    or daily.paid_orders is distinct from orders.paid_orders
    or by_channel.paid_orders is distinct from orders.paid_orders
    or daily.refunds is distinct from orders.refunds
    or by_channel.refunds is distinct from orders.refunds
