-- Reconciliation: buyer_cohorts_by_channel sums over channels to buyer_cohorts, row by row.
{{ config(meta={'dagster': {'ref': {'name': 'buyer_cohorts_by_channel'}}}) }}

with

by_channel as (

    select
        cohort_month,
        months_since_first,
        sum(cohort_buyers) as cohort_buyers,
        sum(active_buyers) as active_buyers,
        sum(paid_orders) as paid_orders,
        sum(gmv) as gmv,
        sum(refunds) as refunds,
        sum(cumulative_net_revenue) as cumulative_net_revenue
    from {{ ref('buyer_cohorts_by_channel') }}
    group by cohort_month, months_since_first

)

select cohorts.cohort_month, cohorts.months_since_first
from {{ ref('buyer_cohorts') }} as cohorts
full outer join by_channel
    on
        cohorts.cohort_month = by_channel.cohort_month
        and cohorts.months_since_first = by_channel.months_since_first
where
    cohorts.cohort_month is null
    or by_channel.cohort_month is null
    or cohorts.cohort_buyers <> by_channel.cohort_buyers
    or cohorts.active_buyers <> by_channel.active_buyers
    or cohorts.paid_orders <> by_channel.paid_orders
    or cohorts.gmv <> by_channel.gmv
    or cohorts.refunds <> by_channel.refunds
    or cohorts.cumulative_net_revenue <> by_channel.cumulative_net_revenue
