{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'channel_code'],
        pre_hook="{{ delete_recomputed_dates(pending_dates(['mall_orders'])) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- Paid orders by paid date and refunds by refund date, per order channel and for all channels
-- (channel_code NULL: buyers are distinct users and do not add up across channels). A refresh
-- recomputes the dates the change log names: old and new paid and refund dates of every changed
-- order, so a late refund leaves its earlier date. The pre-hook removes the recomputed dates'
-- rows first; every recomputed date gets its all-channels row back, even at zero.
with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

recomputed_dates as (

    {% if is_incremental() -%}
        {{ pending_dates(['mall_orders']) }}
    {%- else -%}
        select paid_date as date_day from orders
        where is_paid
        union
        select refunded_date as date_day from orders
        where refunded_date is not null
    {%- endif %}

),

paid_orders as (

    select
        orders.paid_date as date_day,
        orders.channel_code,
        orders.user_id,
        orders.item_count,
        orders.paid_amount
    from orders
    inner join recomputed_dates on orders.paid_date = recomputed_dates.date_day
    where orders.is_paid

),

refunded_orders as (

    select
        orders.refunded_date as date_day,
        orders.channel_code,
        orders.refund_amount
    from orders
    inner join recomputed_dates on orders.refunded_date = recomputed_dates.date_day

),

paid_by_day as (

    select
        date_day,
        channel_code,
        count(*) as paid_orders,
        count(distinct user_id) as buyers,
        sum(item_count) as units,
        sum(paid_amount) as gmv
    from paid_orders
    group by rollup(date_day, channel_code)
    having date_day is not null  -- not the grand total

),

refunds_by_day as (

    select
        date_day,
        channel_code,
        count(*) as refunded_orders,
        sum(refund_amount) as refunds
    from refunded_orders
    group by rollup(date_day, channel_code)
    having date_day is not null  -- not the grand total

),

grain as (

    select
        date_day,
        channel_code
    from paid_by_day
    union
    select
        date_day,
        channel_code
    from refunds_by_day
    union
    select
        date_day,
        cast(null as varchar) as channel_code
    from recomputed_dates

),

final as (

    select
        grain.date_day,
        grain.channel_code,
        cast(coalesce(paid_by_day.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(paid_by_day.buyers, 0) as bigint) as buyers,
        cast(coalesce(paid_by_day.units, 0) as bigint) as units,
        coalesce(paid_by_day.gmv, 0) as gmv,
        cast(coalesce(refunds_by_day.refunded_orders, 0) as bigint) as refunded_orders,
        coalesce(refunds_by_day.refunds, 0) as refunds
    from grain
    left join paid_by_day
        on
            grain.date_day = paid_by_day.date_day
            and grain.channel_code is not distinct from paid_by_day.channel_code
    left join refunds_by_day
        on
            grain.date_day = refunds_by_day.date_day
            and grain.channel_code is not distinct from refunds_by_day.channel_code

)

select * from final
