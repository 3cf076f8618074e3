-- Reconciliation: net = new − lost on every row, and the sources add up to the daily totals.
{{ config(meta={'dagster': {'ref': {'name': 'follower_growth'}}}) }}

with

daily as (

    select * from {{ ref('follower_growth') }}

),

by_source as (

    select
        date,
        sum(new_followers) as new_followers,
        sum(lost_followers) as lost_followers,
        sum(net_followers) as net_followers,
        count(*) filter (
            where net_followers <> new_followers - lost_followers
        ) as inconsistent_rows,
    from {{ ref('follower_growth_by_source') }}
    group by date

)

select
    daily.date,
    daily.net_followers,
    by_source.net_followers as net_by_source,
from daily
inner join by_source on daily.date = by_source.date
where
    daily.net_followers <> daily.new_followers - daily.lost_followers
    or daily.new_followers <> by_source.new_followers
    or daily.lost_followers <> by_source.lost_followers
    or by_source.inconsistent_rows > 0
