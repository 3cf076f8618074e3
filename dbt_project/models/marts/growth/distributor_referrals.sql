-- Fission (裂变) through distributors, per month: the users each distributor referred (by the
-- referrer on the user's latest users row), the referred users who bought and what they paid.
with

users as (

    select * from {{ ref('int_users_deduplicated') }}
    where referrer_distributor_id is not null

),

buyers as (

    select * from {{ ref('int_buyers') }}

),

buyer_months as (

    select * from {{ ref('int_buyer_months') }}
    where paid_orders > 0

),

states as (

    select * from {{ ref('int_distributor_states_ranged') }}

),

referred as (

    select
        referrer_distributor_id as distributor_id,
        cast(date_trunc('month', registered_date) as date) as month_start,
        count(*) as referred_users
    from users
    group by 1, 2

),

referred_buying as (

    select
        users.referrer_distributor_id as distributor_id,
        buyer_months.month_start,
        count(*) as referred_buyers,
        count(*) filter (where buyers.cohort_month = buyer_months.month_start)
            as first_time_buyers,
        sum(buyer_months.gmv) as referred_gmv
    from buyer_months
    inner join users on buyer_months.user_id = users.user_id
    inner join buyers on buyer_months.user_id = buyers.user_id
    group by 1, 2

),

monthly as (

    select
        coalesce(referred.distributor_id, referred_buying.distributor_id) as distributor_id,
        coalesce(referred.month_start, referred_buying.month_start) as month_start,
        cast(coalesce(referred.referred_users, 0) as bigint) as referred_users,
        cast(coalesce(referred_buying.referred_buyers, 0) as bigint) as referred_buyers,
        cast(coalesce(referred_buying.first_time_buyers, 0) as bigint) as first_time_buyers,
        {{ round_money('coalesce(referred_buying.referred_gmv, 0)') }} as referred_gmv
    from referred
    full outer join referred_buying
        on
            referred.distributor_id = referred_buying.distributor_id
            and referred.month_start = referred_buying.month_start

),

final as (

    select
        monthly.month_start as month,
        monthly.distributor_id,
        -- the roster snapshot that applies on the month's last day (the latest known)
        states.distributor_name,
        states.tier,
        monthly.referred_users,
        monthly.referred_buyers,
        monthly.first_time_buyers,
        monthly.referred_gmv
    from monthly
    left join states
        on
            monthly.distributor_id = states.distributor_id
            and cast(monthly.month_start + interval 1 month - interval 1 day as date)
            between states.valid_from and states.valid_to
    where
        monthly.referred_users > 0
        or monthly.referred_buyers > 0
        or monthly.referred_gmv <> 0

)

select * from final
