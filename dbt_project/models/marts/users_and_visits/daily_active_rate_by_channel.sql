with

user_activity as (

    select * from {{ ref('int_user_activity_aggregated') }}

),

final as (

    select
        date_day as date,
        channel_code,
        registered_users,
        active_users,
        {{ divide_rate('active_users', 'registered_users') }} as daily_active_rate
    from user_activity

)

select * from final
