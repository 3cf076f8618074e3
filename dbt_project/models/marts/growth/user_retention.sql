-- New users per registration date and how many of them came back exactly 1, 7 and 30 days
-- later (a session started on that day), from the per-user flags of int_user_returns. NULL
-- while that day is after the calendar's last date.
with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

returns as (

    select * from {{ ref('int_user_returns') }}

),

last_date as (

    select max(date_day) as calendar_last_date from calendar

),

cohorts as (

    select
        registered_date as cohort_date,
        count(*) as new_users,
        count(*) filter (where returned_d1) as returned_d1,
        count(*) filter (where returned_d7) as returned_d7,
        count(*) filter (where returned_d30) as returned_d30
    from returns
    group by registered_date

),

daily as (

    select
        calendar.date_day as cohort_date,
        cast(coalesce(cohorts.new_users, 0) as bigint) as new_users,
        case
            when calendar.date_day + 1 <= last_date.calendar_last_date
                then cast(coalesce(cohorts.returned_d1, 0) as bigint)
        end as retained_d1,
        case
            when calendar.date_day + 7 <= last_date.calendar_last_date
                then cast(coalesce(cohorts.returned_d7, 0) as bigint)
        end as retained_d7,
        case
            when calendar.date_day + 30 <= last_date.calendar_last_date
                then cast(coalesce(cohorts.returned_d30, 0) as bigint)
        end as retained_d30
    from calendar
    cross join last_date
    left join cohorts on calendar.date_day = cohorts.cohort_date

),

final as (

    select
        cohort_date,
        new_users,
        retained_d1,
        retained_d7,
        retained_d30,
        {{ divide_rate('retained_d1', 'new_users') }} as retention_rate_d1,
        {{ divide_rate('retained_d7', 'new_users') }} as retention_rate_d7,
        {{ divide_rate('retained_d30', 'new_users') }} as retention_rate_d30
    from daily

)

select * from final
