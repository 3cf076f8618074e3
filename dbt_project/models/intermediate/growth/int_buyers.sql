{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_id',
        pre_hook="{{ delete_recomputed_users(changed_buyers()) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- One row per buyer (a user with at least one paid order): the first paid order (the earliest
-- paid_at instant, ties to the smallest order_id compared as text), the latest paid date,
-- lifetime figures and the acquisition channel (the user's channel in the latest users file;
-- `unknown` when the user is in no users file or the code is empty). A refresh recomputes the
-- buyers of changed orders and the changed users only.
with

paid_orders as (

    select * from {{ ref('int_paid_orders') }}
    {% if is_incremental() %}
        where user_id in ({{ changed_buyers() }})
    {% endif %}

),

users as (

    select * from {{ ref('int_users_deduplicated') }}
    {% if is_incremental() %}
        where user_id in ({{ changed_buyers() }})
    {% endif %}

),

first_orders as (

    select
        user_id,
        order_id as first_order_id,
        paid_date as first_paid_date,
        paid_month as cohort_month
    from paid_orders
    qualify row_number() over (
        partition by user_id order by paid_at, cast(order_id as varchar)
    ) = 1

),

lifetime as (

    select
        user_id,
        max(paid_date) as last_paid_date,
        count(*) as paid_orders,
        sum(paid_amount) as gmv,
        sum(refund_amount) as refunds
    from paid_orders
    group by user_id

),

final as (

    select
        first_orders.user_id,
        first_orders.first_order_id,
        first_orders.first_paid_date,
        first_orders.cohort_month,
        lifetime.last_paid_date,
        cast(lifetime.paid_orders as bigint) as paid_orders,
        lifetime.gmv,
        lifetime.refunds,
        coalesce(users.channel_code, 'unknown') as channel_code,
        users.referrer_distributor_id,
        users.registered_date
    from first_orders
    inner join lifetime on first_orders.user_id = lifetime.user_id
    left join users on first_orders.user_id = users.user_id

)

select * from final
