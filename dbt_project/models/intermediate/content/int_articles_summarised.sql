-- One row per article at its latest detail: the greatest stat_date within the source's window
-- (publish_date + 6 for article_total, + 29 for article_detail). Details are cumulative, so the
-- latest one is the article's total; never sum across days. An article found in both sources
-- takes its figures from article_detail.
with

article_stats as (

    select * from {{ ref('int_article_stats_deduplicated') }}

),

within_window as (

    select
        *,
        case source_api when 'article_detail' then 29 else 6 end as window_days
    from article_stats

),

ranked as (

    select
        *,
        row_number() over (
            partition by msgid
            order by source_api = 'article_detail' desc, stat_date desc
        ) as detail_rank
    from within_window
    where stat_date between publish_date and publish_date + cast(window_days as integer)

),

final as (

    select
        msgid,
        title,
        publish_date,
        source_api,
        stat_date as latest_stat_date,
        stat_days,
        delivered,
        readers as reads,
        sharers as shares,
        favoriters as favorites,
        likers as likes,
        comments,
        followers_after_read as follows_after_read,
        wechat_open_rate
    from ranked
    where detail_rank = 1

)

select * from final
