-- Buyers by the month of their first paid order, followed month by month to the calendar's
-- last month: how many buy again, what they spend and the lifetime value so far.
with

months as (

    select * from {{ ref('int_calendar_months') }}

),

buyers as (

    select * from {{ ref('int_buyers') }}

),

buyer_months as (

    select * from {{ ref('int_buyer_months') }}

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_buyers
    from buyers
    group by cohort_month

),

cohort_rows as (

    -- every cohort month with every later calendar month (months_since_first 0 .. last)
    select
        cohorts.cohort_month,
        cohorts.cohort_buyers,
        months.month_start,
        months.month_number - cohort_months.month_number as months_since_first
    from cohorts
    inner join months as cohort_months on cohorts.cohort_month = cohort_months.month_start
    inner join months on cohorts.cohort_month <= months.month_start

),

activity as (

    select
        buyers.cohort_month,
        buyer_months.month_start,
        count(*) filter (where buyer_months.paid_orders > 0) as active_buyers,
        sum(buyer_months.paid_orders) as paid_orders,
        sum(buyer_months.gmv) as gmv,
        sum(buyer_months.refunds) as refunds
    from buyer_months
    inner join buyers on buyer_months.user_id = buyers.user_id
    group by buyers.cohort_month, buyer_months.month_start

),

monthly as (

    select
        cohort_rows.cohort_month,
        cohort_rows.months_since_first,
        cast(cohort_rows.cohort_buyers as bigint) as cohort_buyers,
        cast(coalesce(activity.active_buyers, 0) as bigint) as active_buyers,
        cast(coalesce(activity.paid_orders, 0) as bigint) as paid_orders,
        {{ round_money('coalesce(activity.gmv, 0)') }} as gmv,
        {{ round_money('coalesce(activity.refunds, 0)') }} as refunds
    from cohort_rows
    left join activity
        on
            cohort_rows.cohort_month = activity.cohort_month
            and cohort_rows.month_start = activity.month_start

),

cumulative as (

    select
        *,
        cast(
            sum(gmv - refunds) over (
                partition by cohort_month
                order by months_since_first
                rows between unbounded preceding and current row
            ) as decimal(18, 2)
        ) as cumulative_net_revenue
    from monthly

),

final as (

    select
        cohort_month,
        months_since_first,
        cohort_buyers,
        active_buyers,
        {{ divide_rate('active_buyers', 'cohort_buyers') }} as retention_rate,
        paid_orders,
        gmv,
        refunds,
        cumulative_net_revenue,
        {{ divide_money('cumulative_net_revenue', 'cohort_buyers') }} as ltv
    from cumulative

)

select * from final
