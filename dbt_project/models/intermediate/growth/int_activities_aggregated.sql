{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'activity_code'],
        pre_hook="{{ delete_recomputed_dates(activity_dates()) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- Orders per date and marketing activity (`none` without one): orders created, paid orders and
-- their sales and new buyers by paid date, refunds by refund date. A refresh recomputes the
-- orders' changed dates and the paid dates of their buyers' other orders (the first paid order
-- of a buyer can move); the pre-hook removes those dates' rows first.
with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

paid_orders as (

    select * from {{ ref('int_paid_orders') }}

),

buyers as (

    select * from {{ ref('int_buyers') }}

),

recomputed_dates as (

    {% if is_incremental() -%}
        {{ activity_dates() }}
    {%- else -%}
        select created_date as date_day from orders
        union
        select paid_date as date_day from orders
        where is_paid
        union
        select refunded_date as date_day from orders
        where refunded_date is not null
    {%- endif %}

),

created_by_day as (

    select
        orders.created_date as date_day,
        coalesce(orders.activity_code, 'none') as activity_code,
        count(*) as created_orders
    from orders
    inner join recomputed_dates on orders.created_date = recomputed_dates.date_day
    group by 1, 2

),

paid_by_day as (

    select
        paid_orders.paid_date as date_day,
        paid_orders.activity_code,
        count(*) as paid_orders,
        count(distinct paid_orders.user_id) as buyers,
        sum(paid_orders.item_count) as units,
        sum(paid_orders.paid_amount) as gmv,
        sum(paid_orders.gross_amount) as gross_sales,
        sum(paid_orders.discount_amount) as discounts,
        count(distinct buyers.user_id) as new_buyers
    from paid_orders
    inner join recomputed_dates on paid_orders.paid_date = recomputed_dates.date_day
    left join buyers on paid_orders.order_id = buyers.first_order_id
    group by 1, 2

),

refunds_by_day as (

    select
        orders.refunded_date as date_day,
        coalesce(orders.activity_code, 'none') as activity_code,
        sum(orders.refund_amount) as refunds
    from orders
    inner join recomputed_dates on orders.refunded_date = recomputed_dates.date_day
    group by 1, 2

),

grain as (

    select
        date_day,
        activity_code
    from created_by_day
    union
    select
        date_day,
        activity_code
    from paid_by_day
    union
    select
        date_day,
        activity_code
    from refunds_by_day

),

final as (

    select
        grain.date_day,
        grain.activity_code,
        cast(coalesce(created_by_day.created_orders, 0) as bigint) as created_orders,
        cast(coalesce(paid_by_day.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(paid_by_day.buyers, 0) as bigint) as buyers,
        cast(coalesce(paid_by_day.units, 0) as bigint) as units,
        coalesce(paid_by_day.gmv, 0) as gmv,
        coalesce(paid_by_day.gross_sales, 0) as gross_sales,
        coalesce(paid_by_day.discounts, 0) as discounts,
        cast(coalesce(paid_by_day.new_buyers, 0) as bigint) as new_buyers,
        coalesce(refunds_by_day.refunds, 0) as refunds
    from grain
    left join created_by_day
        on
            grain.date_day = created_by_day.date_day
            and grain.activity_code = created_by_day.activity_code
    left join paid_by_day
        on
            grain.date_day = paid_by_day.date_day
            and grain.activity_code = paid_by_day.activity_code
    left join refunds_by_day
        on
            grain.date_day = refunds_by_day.date_day
            and grain.activity_code = refunds_by_day.activity_code

)

select * from final
