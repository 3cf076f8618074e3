with

user_activity as (

    select * from {{ ref('int_user_activity_aggregated') }}

),

daily as (

    select
        date_day,
        cast(sum(registered_users) as bigint) as registered_users,
        cast(sum(active_users) as bigint) as active_users
    from user_activity
    group by date_day

),

final as (

    select
        date_day as date,
        registered_users,
        active_users,
        {{ divide_rate('active_users', 'registered_users') }} as daily_active_rate
    from daily

)

select * from final
