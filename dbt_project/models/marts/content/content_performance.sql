with

articles as (

    select * from {{ ref('int_articles_summarised') }}

),

targets as (

    select * from {{ ref('kpi_targets') }}

),

open_target as (

    select
        target,
        comparison
    from targets
    where kpi = 'article_open_rate'

),

forward_target as (

    select
        target,
        comparison
    from targets
    where kpi = 'article_forward_rate'

),

rated as (

    select
        msgid,
        title,
        publish_date,
        source_api,
        cast(stat_days as bigint) as stat_days,
        cast(delivered as bigint) as delivered,
        cast(reads as bigint) as reads,
        cast(shares as bigint) as shares,
        cast(favorites as bigint) as favorites,
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(follows_after_read as bigint) as follows_after_read,
        -- article_detail reports no delivered count: its open rate is WeChat's own
        case source_api
            when 'article_detail' then wechat_open_rate
            else {{ divide_rate('reads', 'delivered') }}
        end as open_rate,
        {{ divide_rate('shares', 'reads') }} as forward_rate
    from articles

),

final as (

    select
        rated.*,
        {{ meets_target('rated.open_rate', 'open_target.target', 'open_target.comparison') }}
            as meets_open_target,
        {{ meets_target(
            'rated.forward_rate', 'forward_target.target', 'forward_target.comparison'
        ) }} as meets_forward_target
    from rated
    left join open_target on true
    left join forward_target on true

)

select * from final
