-- The paid orders (current state has paid_at; a refund never removes one) with the months of
-- their payment and refund, and which one is each buyer's first: the earliest paid_at instant,
-- ties to the smallest order_id compared as text.
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
        cast(date_trunc('month', refunded_date) as date) as refunded_month,
        row_number() over (
            partition by user_id order by paid_at, cast(order_id as varchar)
        ) = 1 as is_first_paid_order
    from orders

)

select * from final
