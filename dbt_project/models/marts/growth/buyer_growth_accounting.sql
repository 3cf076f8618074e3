-- Buyers per calendar month split into new, retained and resurrected, with the churned buyers
-- of the previous month, repeat buyers and the quick ratio.
with

months as (

    select * from {{ ref('int_calendar_months') }}

),

buyers as (

    select * from {{ ref('int_buyers') }}

),

buyer_months as (

    select * from {{ ref('int_buyer_months') }}
    where paid_orders > 0

),

classified as (

    select
        buyer_months.month_start,
        buyer_months.user_id,
        buyer_months.paid_orders,
        buyers.cohort_month = buyer_months.month_start as is_new,
        previous.user_id is not null as bought_previous_month
    from buyer_months
    inner join buyers on buyer_months.user_id = buyers.user_id
    left join buyer_months as previous
        on
            buyer_months.user_id = previous.user_id
            and previous.month_start = cast(buyer_months.month_start - interval 1 month as date)

),

lost as (

    -- buyers of a month with no paid order in the next one, counted in the next month
    select cast(buyer_months.month_start + interval 1 month as date) as month_start
    from buyer_months
    left join buyer_months as next_month
        on
            buyer_months.user_id = next_month.user_id
            and cast(buyer_months.month_start + interval 1 month as date) = next_month.month_start
    where next_month.user_id is null

),

churned as (

    select
        month_start,
        count(*) as churned_buyers
    from lost
    group by month_start

),

monthly as (

    select
        month_start,
        count(*) as buyers,
        count(*) filter (where is_new) as new_buyers,
        count(*) filter (where not is_new and bought_previous_month) as retained_buyers,
        count(*) filter (where not is_new and not bought_previous_month) as resurrected_buyers,
        count(*) filter (where paid_orders >= 2) as repeat_buyers
    from classified
    group by month_start

),

final as (

    select
        months.month_start as month,
        cast(coalesce(monthly.buyers, 0) as bigint) as buyers,
        cast(coalesce(monthly.new_buyers, 0) as bigint) as new_buyers,
        cast(coalesce(monthly.retained_buyers, 0) as bigint) as retained_buyers,
        cast(coalesce(monthly.resurrected_buyers, 0) as bigint) as resurrected_buyers,
        cast(coalesce(churned.churned_buyers, 0) as bigint) as churned_buyers,
        cast(coalesce(monthly.repeat_buyers, 0) as bigint) as repeat_buyers,
        {{ divide_rate('monthly.repeat_buyers', 'monthly.buyers') }} as repeat_purchase_rate,
        {{ divide_rate(
            'coalesce(monthly.new_buyers, 0) + coalesce(monthly.resurrected_buyers, 0)',
            'churned.churned_buyers'
        ) }} as quick_ratio
    from months
    left join monthly on months.month_start = monthly.month_start
    left join churned on months.month_start = churned.month_start

)

select * from final
