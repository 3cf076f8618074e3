-- The calendar's months: every month that contains a calendar date, with the calendar's last
-- date (the "as of" date of the growth marts).
with

calendar as (

    select * from {{ ref('int_calendar_dates') }}

),

months as (

    select
        cast(date_trunc('month', date_day) as date) as month_start,
        min(date_day) as first_calendar_date,
        max(date_day) as last_calendar_date
    from calendar
    group by 1

),

final as (

    select
        month_start,
        first_calendar_date,
        last_calendar_date,
        -- months since year 0: differences give whole months between two month starts
        cast(year(month_start) * 12 + month(month_start) - 1 as bigint) as month_number,
        max(last_calendar_date) over () as calendar_last_date
    from months

)

select * from final
