-- Reconciliation: per day, channels add up to the whole business for registrations, actives,
-- paid orders and gmv (distinct visitors and buyers do not add up, by design).
{{ config(meta={'dagster': {'ref': {'name': 'channel_performance'}}}) }}

with

channel_days as (

    select
        date,
        sum(paid_orders) as paid_orders,
        sum(gmv) as gmv,
    from {{ ref('channel_performance') }}
    group by date

),

active_by_channel as (

    select
        date,
        sum(registered_users) as registered_users,
        sum(active_users) as active_users,
    from {{ ref('daily_active_rate_by_channel') }}
    group by date

)

select orders.date
from {{ ref('average_order_value') }} as orders
inner join channel_days on orders.date = channel_days.date
inner join {{ ref('daily_active_rate') }} as active on orders.date = active.date
inner join active_by_channel on orders.date = active_by_channel.date
where
    orders.paid_orders <> channel_days.paid_orders
    or orders.gmv <> channel_days.gmv
    or active.registered_users <> active_by_channel.registered_users
    or active.active_users <> active_by_channel.active_users
