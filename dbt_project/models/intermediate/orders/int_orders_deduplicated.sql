{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_id',
        pre_hook="{{ delete_pending_entities('mall_orders', 'order_id') }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- One row per order: its current state is the export with the latest updated_at (compared as
-- instants); ties go to the later file, then the later row.
with

orders as (

    select * from {{ ref('stg_mall__orders') }}
    {% if is_incremental() %}
        -- only the orders the change log names; the pre-hook removed their old rows
        where order_id in ({{ pending_entities('mall_orders') }})
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by updated_at desc, file_date desc, source_file desc, source_row_number desc
        ) as recency_rank
    from orders

),

final as (

    select
        order_id,
        user_id,
        status,
        channel_code,
        distributor_id,
        activity_code,
        item_count,
        gross_amount,
        discount_amount,
        paid_amount,
        refund_amount,
        created_at,
        paid_at,
        refunded_at,
        updated_at,
        created_date,
        paid_date,
        refunded_date,
        is_paid
    from ranked
    where recency_rank = 1

)

select * from final
