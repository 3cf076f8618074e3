{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'channel_code'],
        pre_hook="{{ delete_recomputed_dates(pending_dates(['mall_visits'])) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- Sessions and visitors (distinct users) by start date, per session channel and for all
-- channels (channel_code NULL: visitors do not add up across channels). A refresh recomputes
-- the dates the change log names (the pre-hook removes their rows first); every recomputed date
-- gets its all-channels row back.
with

visits as (

    select * from {{ ref('int_visits_deduplicated') }}

),

recomputed_dates as (

    {% if is_incremental() -%}
        {{ pending_dates(['mall_visits']) }}
    {%- else -%}
        select distinct started_date as date_day from visits
    {%- endif %}

),

visits_on_dates as (

    select
        visits.started_date as date_day,
        visits.channel_code,
        visits.user_id
    from visits
    inner join recomputed_dates on visits.started_date = recomputed_dates.date_day

),

visits_by_day as (

    select
        date_day,
        channel_code,
        count(*) as sessions,
        count(distinct user_id) as visitors
    from visits_on_dates
    group by rollup(date_day, channel_code)
    having date_day is not null  -- not the grand total

),

grain as (

    select
        date_day,
        channel_code
    from visits_by_day
    union
    select
        date_day,
        cast(null as varchar) as channel_code
    from recomputed_dates

),

final as (

    select
        grain.date_day,
        grain.channel_code,
        cast(coalesce(visits_by_day.sessions, 0) as bigint) as sessions,
        cast(coalesce(visits_by_day.visitors, 0) as bigint) as visitors
    from grain
    left join visits_by_day
        on
            grain.date_day = visits_by_day.date_day
            and grain.channel_code is not distinct from visits_by_day.channel_code

)

select * from final
