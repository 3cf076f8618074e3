-- buyer_cohorts per acquisition channel, for every channel of the channel grain, with the
-- channel's spend in the cohort month and the return on it so far.
with

months as (

    select * from {{ ref('int_calendar_months') }}

),

channels as (

    select * from {{ ref('int_channels_enumerated') }}

),

buyers as (

    select * from {{ ref('int_buyers') }}

),

buyer_months as (

    select * from {{ ref('int_buyer_months') }}

),

channel_days as (

    -- the channels' daily spend, as channel_performance reports it
    select * from {{ ref('channel_performance') }}

),

cohort_months as (

    select distinct cohort_month from buyers

),

cohort_sizes as (

    select
        cohort_month,
        channel_code,
        count(*) as cohort_buyers
    from buyers
    group by cohort_month, channel_code

),

channel_months as (

    select
        cast(date_trunc('month', date) as date) as cohort_month,
        channel_code,
        spend
    from channel_days

),

cohort_spend as (

    select
        cohort_month,
        channel_code,
        sum(spend) as cohort_spend
    from channel_months
    group by cohort_month, channel_code

),

cohort_rows as (

    select
        cohort_months.cohort_month,
        channels.channel_code,
        months.month_start,
        months.month_number - first_month.month_number as months_since_first
    from cohort_months
    cross join channels
    inner join months as first_month on cohort_months.cohort_month = first_month.month_start
    inner join months on cohort_months.cohort_month <= months.month_start

),

activity as (

    select
        buyers.cohort_month,
        buyers.channel_code,
        buyer_months.month_start,
        count(*) filter (where buyer_months.paid_orders > 0) as active_buyers,
        sum(buyer_months.paid_orders) as paid_orders,
        sum(buyer_months.gmv) as gmv,
        sum(buyer_months.refunds) as refunds
    from buyer_months
    inner join buyers on buyer_months.user_id = buyers.user_id
    group by buyers.cohort_month, buyers.channel_code, buyer_months.month_start

),

monthly as (

    select
        cohort_rows.cohort_month,
        cohort_rows.channel_code,
        cohort_rows.months_since_first,
        cast(coalesce(cohort_sizes.cohort_buyers, 0) as bigint) as cohort_buyers,
        cast(coalesce(activity.active_buyers, 0) as bigint) as active_buyers,
        cast(coalesce(activity.paid_orders, 0) as bigint) as paid_orders,
        {{ round_money('coalesce(activity.gmv, 0)') }} as gmv,
        {{ round_money('coalesce(activity.refunds, 0)') }} as refunds,
        {{ round_money('coalesce(cohort_spend.cohort_spend, 0)') }} as cohort_spend
    from cohort_rows
    left join cohort_sizes
        on
            cohort_rows.cohort_month = cohort_sizes.cohort_month
            and cohort_rows.channel_code = cohort_sizes.channel_code
    left join activity
        on
            cohort_rows.cohort_month = activity.cohort_month
            and cohort_rows.channel_code = activity.channel_code
            and cohort_rows.month_start = activity.month_start
    left join cohort_spend
        on
            cohort_rows.cohort_month = cohort_spend.cohort_month
            and cohort_rows.channel_code = cohort_spend.channel_code

),

cumulative as (

    select
        *,
        cast(
            sum(gmv - refunds) over (
                partition by cohort_month, channel_code
                order by months_since_first
                rows between unbounded preceding and current row
            ) as decimal(18, 2)
        ) as cumulative_net_revenue
    from monthly

),

final as (

    select
        cohort_month,
        channel_code,
        months_since_first,
        cohort_buyers,
        active_buyers,
        {{ divide_rate('active_buyers', 'cohort_buyers') }} as retention_rate,
        paid_orders,
        gmv,
        refunds,
        cumulative_net_revenue,
        {{ divide_money('cumulative_net_revenue', 'cohort_buyers') }} as ltv,
        cohort_spend,
        {{ divide_rate('cumulative_net_revenue', 'cohort_spend') }} as return_on_cohort_spend
    from cumulative

)

select * from final
