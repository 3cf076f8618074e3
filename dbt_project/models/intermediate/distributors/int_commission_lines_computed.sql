{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['order_id', 'commission_level'],
        pre_hook="{{ delete_commission_lines_to_recompute() }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- depends_on: {{ ref('stg_distributors__roster') }}
-- One line per (paid order, level) for orders credited to a distributor: level 1 earns the
-- seller, level 2 the seller's parent on the paid date. The rate is the rule for the earner's
-- tier on the paid date; an earner not active on the paid date, or with no rule, earns nothing.
-- Refunds claw back refund_amount x the rate applied, in the month of refunded_at.
-- A refresh recomputes the orders the change log names and, when a roster snapshot or the
-- rules changed, every order paid on or after the first day they apply to.
with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

states as (

    select * from {{ ref('int_distributor_states_ranged') }}

),

rules as (

    select * from {{ ref('stg_distributors__commission_rules') }}

),

credited_orders as (

    select
        order_id,
        distributor_id,
        paid_date,
        paid_amount,
        refund_amount,
        refunded_date
    from orders
    where
        is_paid
        and distributor_id is not null
        and ({{ commission_lines_to_recompute() }})

),

seller_lines as (

    select
        credited_orders.order_id,
        1 as commission_level,
        credited_orders.distributor_id as earner_id,
        credited_orders.distributor_id as seller_id,
        seller.parent_distributor_id as seller_parent_id,
        seller.tier as earner_tier,
        seller.status as earner_status,
        credited_orders.paid_date,
        credited_orders.paid_amount,
        credited_orders.refund_amount,
        credited_orders.refunded_date
    from credited_orders
    left join states as seller
        on
            credited_orders.distributor_id = seller.distributor_id
            and credited_orders.paid_date between seller.valid_from and seller.valid_to

),

parent_lines as (

    select
        seller_lines.order_id,
        2 as commission_level,
        seller_lines.seller_parent_id as earner_id,
        seller_lines.seller_id,
        seller_lines.seller_parent_id,
        parent.tier as earner_tier,
        parent.status as earner_status,
        seller_lines.paid_date,
        seller_lines.paid_amount,
        seller_lines.refund_amount,
        seller_lines.refunded_date
    from seller_lines
    left join states as parent
        on
            seller_lines.seller_parent_id = parent.distributor_id
            and seller_lines.paid_date between parent.valid_from and parent.valid_to
    where seller_lines.seller_parent_id is not null

),

lines as (

    select * from seller_lines
    union all
    select * from parent_lines

),

matched as (

    select
        lines.*,
        rules.rate as rule_rate,
        rules.tier is not null as has_rule,
        coalesce(lines.earner_status = 'active', false) as is_earning_status
    from lines
    left join rules
        on
            lines.earner_tier = rules.tier
            and lines.commission_level = rules.commission_level
            and lines.paid_date between rules.effective_from and rules.effective_to

),

rated as (

    -- an earner not active on the paid date, or with no rule, earns at a rate of 0
    select
        *,
        case when is_earning_status and has_rule then rule_rate else 0 end as applied_rate
    from matched

),

final as (

    select
        order_id,
        commission_level,
        earner_id,
        seller_id,
        earner_tier,
        earner_status,
        has_rule,
        paid_date,
        paid_amount,
        refund_amount,
        refunded_date,
        applied_rate,
        paid_amount * applied_rate as commission,
        case
            when refunded_date is not null and refund_amount > 0
                then refund_amount * applied_rate
            else 0
        end as clawback
    from rated

)

select * from final
