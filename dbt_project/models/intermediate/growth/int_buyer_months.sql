{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['user_id', 'month_start'],
        pre_hook="{{ delete_recomputed_users(pending_owners('mall_orders')) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- Per buyer and month: paid orders and GMV by paid month, refunds of the buyer's paid orders by
-- refund month. A month with only a refund has a row with 0 paid orders. A refresh recomputes
-- the buyers of changed orders only.
with

paid_orders as (

    select * from {{ ref('int_paid_orders') }}
    {% if is_incremental() %}
        where user_id in ({{ pending_owners('mall_orders') }})
    {% endif %}

),

paid as (

    select
        user_id,
        paid_month as month_start,
        count(*) as paid_orders,
        sum(paid_amount) as gmv
    from paid_orders
    group by user_id, paid_month

),

refunded as (

    select
        user_id,
        refunded_month as month_start,
        sum(refund_amount) as refunds
    from paid_orders
    where refunded_month is not null
    group by user_id, refunded_month

),

final as (

    select
        coalesce(paid.user_id, refunded.user_id) as user_id,
        coalesce(paid.month_start, refunded.month_start) as month_start,
        cast(coalesce(paid.paid_orders, 0) as bigint) as paid_orders,
        coalesce(paid.gmv, 0) as gmv,
        coalesce(refunded.refunds, 0) as refunds
    from paid
    full outer join refunded
        on paid.user_id = refunded.user_id and paid.month_start = refunded.month_start

)

select * from final
