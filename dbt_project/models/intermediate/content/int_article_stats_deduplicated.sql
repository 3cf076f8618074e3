-- One row per (source_api, msgid, stat_date) of both article sources, in one shape. Each day's
-- fetch covers the recent publish dates again, so the same detail comes in several files: the
-- file with the latest date wins (for article_detail whatever either file's is_delay says).
with

article_totals as (

    select * from {{ ref('stg_wechat_oa__article_totals') }}

),

article_details as (

    select * from {{ ref('stg_wechat_oa__article_details') }}

),

details as (

    select
        'article_total' as source_api,
        msgid,
        title,
        publish_date,
        stat_date,
        stat_days,
        delivered,
        readers,
        sharers,
        favoriters,
        cast(null as bigint) as likers,
        cast(null as bigint) as comments,
        cast(null as bigint) as followers_after_read,
        cast(null as double) as wechat_open_rate,
        fetch_date,
        source_file,
        source_row_number
    from article_totals
    union all
    select
        'article_detail' as source_api,
        msgid,
        title,
        publish_date,
        stat_date,
        stat_days,
        cast(null as bigint) as delivered,
        readers,
        sharers,
        collectors as favoriters,
        likers,
        comments,
        followers_after_read,
        wechat_open_rate,
        fetch_date,
        source_file,
        source_row_number
    from article_details

),

ranked as (

    select
        *,
        row_number() over (
            partition by source_api, msgid, stat_date
            order by fetch_date desc, source_file desc, source_row_number desc
        ) as fetch_rank
    from details

),

final as (

    select
        source_api,
        msgid,
        title,
        publish_date,
        stat_date,
        stat_days,
        delivered,
        readers,
        sharers,
        favoriters,
        likers,
        comments,
        followers_after_read,
        wechat_open_rate,
        fetch_date
    from ranked
    where fetch_rank = 1

)

select * from final
