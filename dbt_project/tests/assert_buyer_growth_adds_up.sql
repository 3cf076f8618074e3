-- Reconciliation: every month's buyers are new + retained + resurrected, and the cohorts'
-- month-0 buyers over all cohorts are the distinct buyers.
{{ config(meta={'dagster': {'ref': {'name': 'buyer_growth_accounting'}}}) }}

with

accounting as (

    select * from {{ ref('buyer_growth_accounting') }}

),

cohort_starts as (

    select sum(cohort_buyers) as cohort_buyers
    from {{ ref('buyer_cohorts') }}
    where months_since_first = 0

),

buyers as (

    select count(distinct user_id) as buyers
    from {{ ref('int_paid_orders') }}

)

select cast(month as varchar) as failing
from accounting
where buyers <> new_buyers + retained_buyers + resurrected_buyers
union all
select 'cohort month-0 buyers' as failing
from cohort_starts
cross join buyers
where coalesce(cohort_starts.cohort_buyers, 0) <> buyers.buyers
