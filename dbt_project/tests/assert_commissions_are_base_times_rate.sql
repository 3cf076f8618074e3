-- Reconciliation: each distributor-month's commissions = Σ base × rate of its lines, rounded at
-- the mart's grain, and net = direct + override − clawback.
{{ config(meta={'dagster': {'ref': {'name': 'distributor_commissions'}}}) }}

with

lines as (

    select * from {{ ref('int_commission_lines_computed') }}

),

expected as (

    select
        earner_id as distributor_id,
        cast(date_trunc('month', paid_date) as date) as settlement_month,
        round(sum(paid_amount * applied_rate) filter (where commission_level = 1), 2)
            as direct_commission,
        round(sum(paid_amount * applied_rate) filter (where commission_level = 2), 2)
            as override_commission,
    from lines
    where earner_id is not null
    group by all

),

mart as (

    select * from {{ ref('distributor_commissions') }}

)

select
    mart.settlement_month,
    mart.distributor_id,
from mart
left join expected
    on
        mart.distributor_id = expected.distributor_id
        and mart.settlement_month = expected.settlement_month
where
    mart.direct_commission <> coalesce(expected.direct_commission, 0)
    or mart.override_commission <> coalesce(expected.override_commission, 0)
    or mart.net_commission
    <> mart.direct_commission + mart.override_commission - mart.clawback
