-- Every buyer with RFM scores and a lifecycle stage as of the calendar's last date, by the
-- thresholds of the editable seed segment_thresholds.
with

buyers as (

    select * from {{ ref('int_buyers') }}

),

months as (

    select * from {{ ref('int_calendar_months') }}

),

thresholds_listed as (

    select * from {{ ref('segment_thresholds') }}

),

thresholds as (

    -- one row: a column per threshold
    select
        max(t.value) filter (
            where t.threshold = 'r_score_5_max_recency_days'
        ) as r_score_5_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'r_score_4_max_recency_days'
        ) as r_score_4_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'r_score_3_max_recency_days'
        ) as r_score_3_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'r_score_2_max_recency_days'
        ) as r_score_2_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'f_score_5_min_paid_orders'
        ) as f_score_5_min_paid_orders,
        max(t.value) filter (
            where t.threshold = 'f_score_4_min_paid_orders'
        ) as f_score_4_min_paid_orders,
        max(t.value) filter (
            where t.threshold = 'f_score_3_min_paid_orders'
        ) as f_score_3_min_paid_orders,
        max(t.value) filter (
            where t.threshold = 'f_score_2_min_paid_orders'
        ) as f_score_2_min_paid_orders,
        max(t.value) filter (
            where t.threshold = 'm_score_5_min_net_spend'
        ) as m_score_5_min_net_spend,
        max(t.value) filter (
            where t.threshold = 'm_score_4_min_net_spend'
        ) as m_score_4_min_net_spend,
        max(t.value) filter (
            where t.threshold = 'm_score_3_min_net_spend'
        ) as m_score_3_min_net_spend,
        max(t.value) filter (
            where t.threshold = 'm_score_2_min_net_spend'
        ) as m_score_2_min_net_spend,
        max(t.value) filter (
            where t.threshold = 'vip_max_recency_days'
        ) as vip_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'vip_min_paid_orders'
        ) as vip_min_paid_orders,
        max(t.value) filter (
            where t.threshold = 'vip_min_net_spend'
        ) as vip_min_net_spend,
        max(t.value) filter (
            where t.threshold = 'new_max_paid_orders'
        ) as new_max_paid_orders,
        max(t.value) filter (
            where t.threshold = 'new_max_recency_days'
        ) as new_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'active_max_recency_days'
        ) as active_max_recency_days,
        max(t.value) filter (
            where t.threshold = 'at_risk_max_recency_days'
        ) as at_risk_max_recency_days
    from thresholds_listed as t

),

as_of as (

    select max(calendar_last_date) as as_of_date from months

),

figures as (

    select
        as_of.as_of_date,
        buyers.user_id,
        buyers.channel_code,
        buyers.first_paid_date,
        buyers.last_paid_date,
        buyers.paid_orders,
        {{ round_money('buyers.gmv') }} as gmv,
        {{ round_money('buyers.refunds') }} as refunds,
        cast(buyers.gmv - buyers.refunds as decimal(18, 2)) as net_spend,
        {{ divide_money('buyers.gmv', 'buyers.paid_orders') }} as average_order_value,
        cast(as_of.as_of_date - buyers.last_paid_date as bigint) as recency_days
    from buyers
    cross join as_of

),

final as (

    select
        figures.as_of_date,
        figures.user_id,
        figures.channel_code,
        figures.first_paid_date,
        figures.last_paid_date,
        figures.paid_orders,
        figures.gmv,
        figures.refunds,
        figures.net_spend,
        figures.average_order_value,
        figures.recency_days,
        {{ score_from_ladder('figures.recency_days', 't', 'r', 'max_recency_days', '<=') }}
            as r_score,
        {{ score_from_ladder('figures.paid_orders', 't', 'f', 'min_paid_orders', '>=') }}
            as f_score,
        {{ score_from_ladder('figures.net_spend', 't', 'm', 'min_net_spend', '>=') }}
            as m_score,
        case
            when
                figures.recency_days <= t.vip_max_recency_days
                and (
                    figures.paid_orders >= t.vip_min_paid_orders
                    or figures.net_spend >= t.vip_min_net_spend
                )
                then 'vip'
            when
                figures.paid_orders <= t.new_max_paid_orders
                and figures.recency_days <= t.new_max_recency_days
                then 'new'
            when figures.recency_days <= t.active_max_recency_days then 'active'
            when figures.recency_days <= t.at_risk_max_recency_days then 'at_risk'
            else 'lapsed'
        end as lifecycle_stage
    from figures
    cross join thresholds as t

)

select * from final
