{{ config(materialized='view') }}
-- The paid orders (current state has paid_at; a refund never removes one) with the months of
-- their payment and refund. A view: the per-user and per-day models that read it filter it to
-- the buyers and dates they recompute.
with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    where is_paid

),

final as (

    select
        order_id,
        user_id,
        channel_code,
        distributor_id,
        coalesce(activity_code, 'none') as activity_code,
        item_count,
        gross_amount,
        discount_amount,
        paid_amount,
        refund_amount,
        paid_at,
        paid_date,
        cast(date_trunc('month', paid_date) as date) as paid_month,
        refunded_date,
        cast(date_trunc('month', refunded_date) as date) as refunded_month
    from orders

)

select * from final
