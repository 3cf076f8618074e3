with

commission_lines as (

    select * from {{ ref('int_commission_lines_computed') }}

),

states as (

    select * from {{ ref('int_distributor_states_ranged') }}

),

sales as (

    select
        earner_id as distributor_id,
        cast(date_trunc('month', paid_date) as date) as settlement_month,
        count(*) filter (where commission_level = 1) as direct_orders,
        sum(paid_amount) filter (where commission_level = 1) as direct_sales,
        sum(commission) filter (where commission_level = 1) as direct_commission,
        sum(paid_amount) filter (where commission_level = 2) as override_sales,
        sum(commission) filter (where commission_level = 2) as override_commission
    from commission_lines
    where earner_id is not null
    group by all

),

clawbacks as (

    select
        earner_id as distributor_id,
        cast(date_trunc('month', refunded_date) as date) as settlement_month,
        sum(clawback) as clawback
    from commission_lines
    where earner_id is not null and clawback > 0
    group by all

),

monthly as (

    select
        coalesce(sales.distributor_id, clawbacks.distributor_id) as distributor_id,
        coalesce(sales.settlement_month, clawbacks.settlement_month) as settlement_month,
        cast(coalesce(sales.direct_orders, 0) as bigint) as direct_orders,
        {{ round_money('coalesce(sales.direct_sales, 0)') }} as direct_sales,
        {{ round_money('coalesce(sales.direct_commission, 0)') }} as direct_commission,
        {{ round_money('coalesce(sales.override_sales, 0)') }} as override_sales,
        {{ round_money('coalesce(sales.override_commission, 0)') }} as override_commission,
        {{ round_money('coalesce(clawbacks.clawback, 0)') }} as clawback
    from sales
    full outer join clawbacks
        on
            sales.distributor_id = clawbacks.distributor_id
            and sales.settlement_month = clawbacks.settlement_month

),

month_end_states as (

    select
        monthly.distributor_id,
        monthly.settlement_month,
        states.distributor_name,
        states.tier
    from monthly
    left join states
        on
            monthly.distributor_id = states.distributor_id
            and cast(monthly.settlement_month + interval 1 month - interval 1 day as date)
            between states.valid_from and states.valid_to

),

final as (

    select
        monthly.settlement_month,
        monthly.distributor_id,
        month_end_states.distributor_name,
        month_end_states.tier,
        monthly.direct_orders,
        monthly.direct_sales,
        monthly.direct_commission,
        monthly.override_sales,
        monthly.override_commission,
        monthly.clawback,
        cast(
            monthly.direct_commission + monthly.override_commission - monthly.clawback
            as decimal(18, 2)
        ) as net_commission
    from monthly
    left join month_end_states
        on
            monthly.distributor_id = month_end_states.distributor_id
            and monthly.settlement_month = month_end_states.settlement_month
    where
        monthly.direct_orders <> 0
        or monthly.direct_sales <> 0
        or monthly.direct_commission <> 0
        or monthly.override_sales <> 0
        or monthly.override_commission <> 0
        or monthly.clawback <> 0

)

select * from final
