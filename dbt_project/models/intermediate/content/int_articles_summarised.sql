-- One row per article at its latest detail (greatest stat_date, at most publish_date + 6).
-- Details are cumulative, so the latest one is the article's total; never sum across days.
with

article_stats as (

    select * from {{ ref('int_article_stats_deduplicated') }}

),

ranked as (

    select
        *,
        row_number() over (partition by msgid order by stat_date desc) as detail_rank
    from article_stats
    where stat_date between publish_date and publish_date + interval 6 day

),

final as (

    select
        msgid,
        title,
        publish_date,
        stat_date as latest_stat_date,
        stat_days,
        delivered,
        readers as reads,
        sharers as shares,
        favoriters as favorites
    from ranked
    where detail_rank = 1

)

select * from final
